//! A planned tool call: what it would do (for approval) and how to do it.

use std::fmt;

use super::{ToolContext, ToolKind, ToolOutput};

/// What a UI shows before approving a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preview {
    /// Unified diff of the change a file tool would make.
    Diff(String),
    /// The command (or git action) that would run.
    Command(String),
}

type Action = Box<dyn FnOnce(&ToolContext) -> ToolOutput + Send>;

/// A prepared tool call: nothing has been changed yet; [`Prepared::execute`] applies it.
pub struct Prepared {
    /// What the call would do, when that needs showing for approval.
    pub preview: Option<Preview>,
    /// The kind of this particular call (e.g. `git status` is `Read`, `git commit` is `Git`).
    pub kind: ToolKind,
    /// One line describing the planned action, e.g. "edit src/main.rs".
    pub summary: String,
    action: Action,
}

impl Prepared {
    /// Builds a prepared call from its preview, kind, summary and the action that applies it.
    pub fn new(
        preview: Option<Preview>,
        kind: ToolKind,
        summary: impl Into<String>,
        action: impl FnOnce(&ToolContext) -> ToolOutput + Send + 'static,
    ) -> Self {
        Self {
            preview,
            kind,
            summary: summary.into(),
            action: Box::new(action),
        }
    }

    /// Runs the call. May block (shell commands); call it from a worker thread.
    pub fn execute(self, ctx: &ToolContext) -> ToolOutput {
        (self.action)(ctx)
    }
}

impl fmt::Debug for Prepared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prepared")
            .field("preview", &self.preview)
            .field("kind", &self.kind)
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}
