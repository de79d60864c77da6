//! Built-in tools the model can call: read, edit, write, grep, glob, shell, git and the todo
//! list.
//!
//! Every tool first *prepares* a call ([`Tool::prepare`]): it checks the arguments, the path
//! confinement and the read tracker, and computes a [`Preview`] (a diff for edits, the command
//! for shell) that a UI can show for approval. Nothing is written until the returned
//! [`Prepared`] is executed. [`run_tool`] does both steps for callers that need no approval.

mod args;
mod atomic_write;
mod capped_output;
mod context;
mod edit_file;
mod error;
mod file_state;
mod fuzzy_match;
mod git;
mod glob;
mod grep;
mod key_argument;
mod output;
mod path_pattern;
pub(crate) mod paths;
mod prepared;
mod process_group;
mod read_file;
mod read_tracker;
mod registry;
mod regular_file;
mod schema;
mod shell;
mod stale_temp;
mod submit_review;
mod text;
pub(crate) mod todo_write;
mod tool;
mod unified_diff;
mod walk;
mod write_file;

#[cfg(test)]
mod test_support;

pub use capped_output::CappedOutput;
pub use context::ToolContext;
pub use error::ToolError;
pub use output::{ChangedFile, ToolOutcome, ToolOutput};
pub use prepared::{Prepared, Preview};
pub use read_tracker::ReadTracker;
pub use registry::{Registry, ToolDeclaration, run_tool};
pub use stale_temp::remove_stale_temp_files;
pub use tool::{Tool, ToolKind};
pub(crate) use unified_diff::unified_diff;
pub(crate) use walk::project_walker;

pub use edit_file::EditFileTool;
pub use git::GitTool;
pub use glob::GlobTool;
pub use grep::GrepTool;
pub use key_argument::key_argument;
pub use read_file::ReadFileTool;
pub use shell::ShellTool;
pub use shell::run_user_command;
pub use submit_review::{SUBMIT_REVIEW, SubmitReviewTool};
pub use todo_write::{TODO_WRITE, TodoWriteTool};
pub use write_file::WriteFileTool;
