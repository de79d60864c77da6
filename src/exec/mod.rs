//! Headless frontends: `gem -p`, CI patch mode and `gem review`.

pub mod diff_input;
pub mod exit_code;
pub mod headless;
pub mod long_window_bench;
pub mod patch_workspace;
pub mod review_findings;
