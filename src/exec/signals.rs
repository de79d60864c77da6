//! Signals in headless runs: the first Ctrl-C (or SIGTERM, SIGHUP) interrupts the task, a second
//! ends gem at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Sender;

use super::exit_code;
use crate::protocol::Op;

/// Ctrl-C, SIGTERM and SIGHUP interrupt the task (the agent kills the running command and
/// answers with an interrupted turn); a second one ends gem at once, killing what it started.
pub fn forward_interrupts(ops: Sender<Op>) {
    let signals = AtomicUsize::new(0);
    let _ = ctrlc::set_handler(move || {
        if signals.fetch_add(1, Ordering::SeqCst) > 0 {
            crate::child_reaper::end_descendants();
            std::process::exit(exit_code::INTERRUPTED);
        }
        let _ = ops.send(Op::Interrupt);
    });
}
