//! Exit codes of the headless modes, documented in the README; a pipeline can rely on them.

/// The task finished (and, in patch mode, produced a non-empty patch).
pub const SUCCESS: i32 = 0;
/// An error: model failed to load, engine error, bad input.
pub const ERROR: i32 = 1;
/// Wrong command-line usage (clap's own code).
pub const USAGE: i32 = 2;
/// `--max-turns` was reached before the model finished.
pub const MAX_TURNS: i32 = 3;
/// Patch mode finished without changing anything (including because calls were denied).
pub const NO_CHANGE: i32 = 4;
/// The agent stopped a loop (the same call repeated, or degenerate output).
pub const LOOP_DETECTED: i32 = 5;
/// `gem review` reported findings at or above `--fail-on`.
pub const REVIEW_FINDINGS: i32 = 10;
/// Interrupted with Ctrl-C.
pub const INTERRUPTED: i32 = 130;

/// The exit code for how a turn ended.
pub fn for_turn_end(end: &crate::protocol::TurnEnd) -> i32 {
    use crate::protocol::TurnEnd;
    match end {
        TurnEnd::Completed => SUCCESS,
        TurnEnd::MaxTurns => MAX_TURNS,
        TurnEnd::Interrupted => INTERRUPTED,
        TurnEnd::LoopDetected => LOOP_DETECTED,
        TurnEnd::Error => ERROR,
    }
}
