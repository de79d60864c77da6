//! Everything a tool call needs to know about the session it runs in.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::ReadTracker;

/// The session a tool call runs in: project root, extra allowed directories, what the model has
/// read, what the user allowed, and the cancel flag.
#[derive(Debug, Clone)]
pub struct ToolContext {
    /// Project root; file tools refuse paths outside it (and outside `extra_dirs`).
    pub root: PathBuf,
    /// Further directories the user allowed tools to read and write.
    pub extra_dirs: Vec<PathBuf>,
    /// Files the model has read in this session (shared by all clones of the context).
    pub read_tracker: Arc<ReadTracker>,
    /// Whether the user allowed the `git` tool to commit.
    pub allow_git_commit: bool,
    /// Set to stop a running call (shell commands are killed).
    pub cancel: Arc<AtomicBool>,
}

impl ToolContext {
    /// A context for the project at `root` (canonicalised when it exists), with no extra
    /// directories, no commits allowed, an empty read tracker and a fresh cancel flag.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let root = std::fs::canonicalize(&root).unwrap_or(root);
        Self {
            root,
            extra_dirs: Vec::new(),
            read_tracker: Arc::new(ReadTracker::default()),
            allow_git_commit: false,
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Adds directories outside the root that tools may read and write.
    pub fn with_extra_dirs(mut self, dirs: impl IntoIterator<Item = PathBuf>) -> Self {
        self.extra_dirs.extend(
            dirs.into_iter()
                .map(|d| std::fs::canonicalize(&d).unwrap_or(d)),
        );
        self
    }

    /// Sets whether the `git` tool may commit.
    pub fn with_git_commit_allowed(mut self, allowed: bool) -> Self {
        self.allow_git_commit = allowed;
        self
    }

    /// Whether the user asked to stop the running call.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}
