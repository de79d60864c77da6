//! Headless frontends: `gem -p`, CI patch mode and `gem review`.

pub mod bench_command;
pub mod debug_command;
pub(crate) mod diff_input;
pub mod exit_code;
pub(crate) mod headless;
pub(crate) mod long_window_bench;
pub(crate) mod patch_workspace;
pub mod print_command;
pub mod review_command;
pub(crate) mod review_findings;
pub(crate) mod signals;
pub(crate) mod stdin_input;
