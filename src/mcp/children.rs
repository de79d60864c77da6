//! The process groups of the stdio servers gem started, so they can all be ended when gem
//! exits — from `Drop`, from [`super::shutdown`] at the end of `main`, or on Ctrl-C — even when
//! the thread that owns a server never gets to drop it.
//!
//! Each server runs in its own process group (so a Ctrl-C meant for gem's turn does not reach
//! it, and `npx`'s grandchildren go with it); ending it sends SIGKILL to the whole group.

use std::sync::Mutex;

static GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Remembers the process group led by `pid`.
pub fn register(pid: u32) {
    if let Ok(mut groups) = GROUPS.lock() {
        groups.push(pid);
    }
}

/// Kills the group led by `pid` and forgets it.
pub fn kill(pid: u32) {
    if let Ok(mut groups) = GROUPS.lock() {
        groups.retain(|p| *p != pid);
    }
    kill_group(pid);
}

/// Kills every remembered group; returns how many there were.
pub fn kill_all() -> usize {
    let groups = match GROUPS.lock() {
        Ok(mut groups) => std::mem::take(&mut *groups),
        Err(_) => return 0,
    };
    for pid in &groups {
        kill_group(*pid);
    }
    groups.len()
}

/// Whether a process group led by `pid` is remembered (for tests).
pub fn is_registered(pid: u32) -> bool {
    GROUPS.lock().is_ok_and(|g| g.contains(&pid))
}

fn kill_group(pid: u32) {
    #[cfg(unix)]
    if let Ok(pgid) = i32::try_from(pid)
        && pgid > 1
    {
        sys::killpg(pgid, sys::SIGKILL);
    }
    #[cfg(not(unix))]
    let _ = pid;
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
