//! The result of a tool call, as the model and the UI see it.

use std::path::PathBuf;

pub use crate::protocol::ToolOutcome;

/// A file a tool call changed, with what it held before (for undo and patch mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    /// Absolute path of the file.
    pub path: PathBuf,
    /// Contents before the change; `None` when the call created the file.
    pub before: Option<Vec<u8>>,
}

/// The result of a tool call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolOutput {
    /// What the model sees.
    pub content: String,
    /// Whether the call ran, failed or was denied (the content then says why).
    pub outcome: ToolOutcome,
    /// One line for UIs, e.g. "read 120 lines".
    pub summary: String,
    /// Unified diff of the change, for file edits.
    pub diff: Option<String>,
    /// Files the call changed.
    pub changed_files: Vec<ChangedFile>,
}

impl ToolOutput {
    /// A successful result.
    pub fn success(content: impl Into<String>, summary: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            summary: summary.into(),
            ..Self::default()
        }
    }

    /// A failed result whose content tells the model what went wrong.
    pub fn error(content: impl Into<String>) -> Self {
        let content = content.into();
        let summary = content.lines().next().unwrap_or_default().to_string();
        Self {
            content,
            outcome: ToolOutcome::Error,
            summary,
            ..Self::default()
        }
    }

    /// A call that was not run because it was not allowed; `reason` tells the model why and
    /// how the user could allow it.
    pub fn denied(reason: impl Into<String>) -> Self {
        Self {
            outcome: ToolOutcome::Denied,
            ..Self::error(reason)
        }
    }

    /// Whether the call did not succeed (failed or was denied).
    pub fn is_error(&self) -> bool {
        self.outcome.is_error()
    }
}
