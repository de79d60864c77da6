//! Putting a command in its own process group, and killing the whole group (the command and
//! everything it started).

use std::process::{Child, Command};

/// Makes `command` start in a new process group whose id is the child's pid.
pub fn spawn_in_new_group(command: &mut Command) -> std::io::Result<Child> {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    command.spawn()
}

/// Sends SIGKILL to every process in the group led by `child` (on Unix); elsewhere kills the
/// child only. Errors (e.g. the group is already gone) are ignored.
pub fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    {
        if let Ok(pgid) = i32::try_from(child.id()) {
            sys::killpg(pgid, sys::SIGKILL);
        }
    }
    let _ = child.kill();
}

#[cfg(unix)]
mod sys {
    /// SIGKILL has the number 9 on every POSIX system.
    pub const SIGKILL: i32 = 9;

    // `killpg(pid_t, int)` from the C library std already links; `pid_t` is `i32` on all
    // supported Unix targets. It only sends a signal and touches no memory, so it is safe to
    // call with any arguments.
    unsafe extern "C" {
        pub safe fn killpg(pgrp: i32, sig: i32) -> i32;
    }
}
