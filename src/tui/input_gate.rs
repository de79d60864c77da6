//! The terminal's input lent to another program (the user's editor) and handed back: the
//! input thread parks between two reads while it is lent, so no key meant for the editor is
//! taken by the TUI.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// Shared by the TUI thread and the input thread.
#[derive(Debug, Default)]
pub(crate) struct InputGate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct GateState {
    /// The TUI asked the input thread to stop reading.
    lent: bool,
    /// The input thread is parked, not reading.
    parked: bool,
    /// The TUI has ended: the input thread returns.
    stopped: bool,
}

impl InputGate {
    fn state(&self) -> MutexGuard<'_, GateState> {
        // The state is three flags: still meaningful after a panic elsewhere.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// For the input thread, before each read: parks while the input is lent; false once the
    /// TUI has ended.
    pub(crate) fn wait_turn(&self) -> bool {
        let mut state = self.state();
        while state.lent && !state.stopped {
            state.parked = true;
            self.changed.notify_all();
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.parked = false;
        !state.stopped
    }

    /// Asks the input thread to stop reading and waits until it has (at most `limit`, which
    /// must exceed the thread's poll interval); false when it did not park in time (the input
    /// is then not lent).
    pub(crate) fn lend(&self, limit: Duration) -> bool {
        let mut state = self.state();
        state.lent = true;
        let (mut state, _) = self
            .changed
            .wait_timeout_while(state, limit, |s| !s.parked && !s.stopped)
            .unwrap_or_else(|e| e.into_inner());
        if !state.parked {
            state.lent = false;
            return false;
        }
        true
    }

    /// Lets the input thread read again.
    pub(crate) fn give_back(&self) {
        self.state().lent = false;
        self.changed.notify_all();
    }

    /// Ends the input thread at its next check.
    pub(crate) fn stop(&self) {
        self.state().stopped = true;
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn the_reader_parks_while_lent_and_reads_again_after() {
        let gate = Arc::new(InputGate::default());
        let reads = Arc::new(AtomicUsize::new(0));
        let reader = {
            let (gate, reads) = (Arc::clone(&gate), Arc::clone(&reads));
            std::thread::spawn(move || {
                while gate.wait_turn() {
                    reads.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        assert!(gate.lend(Duration::from_secs(10)), "the reader parked");
        let parked_at = reads.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(
            reads.load(Ordering::SeqCst),
            parked_at,
            "no read while lent"
        );
        gate.give_back();
        while reads.load(Ordering::SeqCst) == parked_at {
            std::thread::yield_now();
        }
        gate.stop();
        reader.join().unwrap();
        assert!(!gate.wait_turn(), "stopped");
    }

    #[test]
    fn lending_to_no_reader_gives_up() {
        let gate = InputGate::default();
        assert!(!gate.lend(Duration::from_millis(10)));
        assert!(gate.wait_turn(), "not left lent");
    }
}
