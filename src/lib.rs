//! gem: a terminal coding agent running Gemma 4 in-process through llama.cpp.
//!
//! The flow: frontends (`tui`, `exec`) send [`protocol::Op`]s to the [`agent`] core and render
//! the [`protocol::Event`]s it reports; the core renders conversations in Gemma 4's native format
//! ([`gemma`]), runs [`tools`], and drives the [`engine`], which owns llama.cpp on its own
//! thread.

pub mod agent;
pub mod child_reaper;
pub mod cli;
pub mod engine;
pub mod exec;
pub(crate) mod first_line;
pub mod gemma;
#[cfg(test)]
pub(crate) mod git_fixture;
pub mod mcp;
pub mod models;
pub(crate) mod plural;
pub mod protocol;
pub(crate) mod repo;
pub mod session;
pub mod setup;
pub mod terminal_safe;
pub mod tools;
pub mod tui;
