//! gem's end-to-end tests, one binary: each file of this folder is a module. One binary links
//! llama.cpp once instead of once per file (a clean build of one binary per file filled the
//! disk), and the tests that load a model share one lock (`support::model_lock`).
//!
//! Run one file's tests with `cargo test --test all NAME::`, e.g. `cargo test --test all tiny_gemma4::`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails the test on any error"
)]

mod hf_stand_in;
mod mcp_support;
mod support;

mod agent_approvals;
mod agent_sessions;
mod engine_real_weights;
mod file_confinement;
mod gemma4_vocab;
mod hardening_replay;
mod headless_replay;
mod kv_save_held;
mod long_window_bench;
mod mcp;
mod mcp_filesystem;
mod model_pull;
mod models_discovery;
mod plan_mode_replay;
mod session_kv_checkpoint;
mod shell_allow_corpus;
mod steering_replay;
mod tiny_gemma4;
mod tui_tmux;
mod undo_replay;
