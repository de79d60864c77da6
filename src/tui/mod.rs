//! The interactive terminal UI: a ratatui app that sends [`crate::protocol::Op`]s and shows
//! [`crate::protocol::Event`]s.
//!
//! State ([`App`]) is separate from drawing ([`render`]); [`run`] owns the terminal and the loop.

pub mod app;
pub mod approval;
pub mod cells;
pub mod commands;
pub mod composer;
pub mod diff;
pub mod files;
pub mod first_run;
pub mod format;
pub mod fuzzy;
pub mod highlight;
pub mod history;
pub mod launch;
pub mod markdown;
pub mod mcp_view;
pub mod mentions;
pub mod model_list;
pub mod picker;
pub mod popup;
pub mod render;
pub mod run;
pub mod sanitize;
pub mod scroll;
pub mod session_list;
pub mod status;
mod terminal;
pub mod theme;
pub mod transcript;
pub mod type_ahead;
pub mod wrap;

#[cfg(test)]
mod view_tests;

pub use app::{Action, App};
pub use render::render;
pub use run::{TuiConfig, run};
pub use terminal::restore_after_signal;
pub use theme::{Role, Theme, ThemeError};
