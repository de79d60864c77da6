//! Headless frontends: `gem -p`, CI patch mode and `gem review`.

pub mod bench_command;
pub mod debug_command;
pub mod diff_input;
pub mod exit_code;
pub mod headless;
pub mod long_window_bench;
pub mod patch_workspace;
pub mod print_command;
pub mod review_command;
pub mod review_findings;
pub mod signals;
pub mod stdin_input;
