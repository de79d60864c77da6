//! Nothing gem starts outlives it.
//!
//! Shell commands run in their own process group and the group is killed when the command ends
//! (`tools::process_group`), but a command can leave its group (`setsid`, a daemon that
//! double-forks) and gem itself can be ended by a signal. So on Linux:
//! * gem makes itself the *subreaper* of its descendants ([`adopt_orphans`]): a process whose
//!   parent exits is re-parented to gem, not to init, so gem can still find it;
//! * commands get `PR_SET_PDEATHSIG` (`tools::process_group`): the kernel kills them when gem
//!   dies, even by `kill -9`;
//! * at exit, and when SIGTERM/SIGHUP/SIGINT end gem, [`end_descendants`] kills every remaining
//!   child (and its process group), round after round as grandchildren are re-parented to gem.
//!
//! Elsewhere these are no-ops and the process-group kill is what remains.

/// Makes gem the reaper of orphaned descendants (Linux); call once, early in `main`.
pub fn adopt_orphans() {
    #[cfg(target_os = "linux")]
    {
        // Failure only means orphans go to init as before; nothing to report to the user.
        let _ = nix::sys::prctl::set_child_subreaper(true);
    }
}

/// Most rounds of killing [`end_descendants`] makes (each round's grandchildren become the next
/// round's children).
#[cfg(target_os = "linux")]
const MAX_ROUNDS: usize = 32;

/// Kills every process gem started that is still running, with everything in its process group,
/// and reaps it. Returns how many processes were killed. For use when gem is ending.
pub fn end_descendants() -> usize {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::signal::{Signal, kill, killpg};
        use nix::sys::wait::waitpid;
        use nix::unistd::Pid;
        let mut killed = 0;
        for _ in 0..MAX_ROUNDS {
            let children = children_of_this_process();
            if children.is_empty() {
                break;
            }
            for pid in children {
                let pid = Pid::from_raw(pid);
                // A child that leads its own group (every shell command, and anything started
                // with setsid) takes its group with it.
                let _ = killpg(pid, Signal::SIGKILL);
                if kill(pid, Signal::SIGKILL).is_ok() {
                    killed += 1;
                }
                // SIGKILL cannot be caught, so this wait ends; it also reaps zombies.
                let _ = waitpid(pid, None);
            }
        }
        killed
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// The pids of this process's children (all threads'), from `/proc/self/task/*/children`.
#[cfg(target_os = "linux")]
fn children_of_this_process() -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut pids: Vec<i32> = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|pid| pid.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn children_are_listed_and_ended() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = i32::try_from(child.id()).unwrap();
        assert!(children_of_this_process().contains(&pid));
        // Other tests of this binary may have children too; all of them are ended here, which
        // is harmless for short-lived test commands but would be wrong in parallel with a test
        // that waits on its own child, so only this child's fate is asserted.
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
        let status = child.wait().unwrap();
        assert!(!status.success());
        assert!(!children_of_this_process().contains(&pid));
    }
}
