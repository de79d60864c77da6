//! Putting a command in its own process group, and killing the whole group (the command and
//! everything it started).

use std::process::{Child, Command};

/// Makes `command` start in a new process group whose id is the child's pid; on Linux the child
/// is also killed by the kernel if gem dies first (`PR_SET_PDEATHSIG`), even by `kill -9`.
pub fn spawn_in_new_group(command: &mut Command) -> std::io::Result<Child> {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: the closure runs in the forked child before exec and only makes one
        // async-signal-safe system call (prctl); it allocates nothing and takes no lock.
        unsafe {
            command.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                    .map_err(std::io::Error::from)
            });
        }
    }
    command.spawn()
}

/// Sends SIGKILL to every process in the group led by `child` (on Unix); elsewhere kills the
/// child only. Errors (e.g. the group is already gone) are ignored.
pub fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    {
        if let Ok(pgid) = i32::try_from(child.id()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pgid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
    let _ = child.kill();
}
