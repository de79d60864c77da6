//! The interactive terminal UI: a ratatui app that sends [`crate::protocol::Op`]s and shows
//! [`crate::protocol::Event`]s.
//!
//! State ([`App`]) is separate from drawing ([`render`]); [`run`] owns the terminal and the loop.

pub(crate) mod app;
pub(crate) mod approval;
pub(crate) mod cells;
pub(crate) mod commands;
pub(crate) mod composer;
pub(crate) mod custom_commands;
pub(crate) mod diff;
pub(crate) mod external_editor;
pub(crate) mod files;
pub(crate) mod first_run;
pub(crate) mod format;
pub(crate) mod fuzzy;
pub(crate) mod highlight;
pub(crate) mod history;
pub(crate) mod input_gate;
pub mod launch;
pub(crate) mod markdown;
mod markdown_table;
pub(crate) mod mcp_view;
pub(crate) mod mentions;
pub(crate) mod mode_cycle;
pub(crate) mod model_list;
pub(crate) mod picker;
pub(crate) mod plan_approval;
pub(crate) mod popup;
pub(crate) mod render;
pub(crate) mod run;
pub(crate) mod sanitize;
pub(crate) mod scroll;
pub(crate) mod session_list;
pub(crate) mod status;
mod terminal;
pub(crate) mod theme;
pub(crate) mod todo_list;
pub(crate) mod transcript;
pub(crate) mod type_ahead;
pub(crate) mod wrap;

#[cfg(test)]
mod mode_and_todo_tests;
#[cfg(test)]
mod view_tests;

pub use app::{Action, App};
pub use render::render;
pub use run::{TuiConfig, run};
pub use terminal::restore_after_signal;
pub use theme::{Role, Theme, ThemeError};
