//! Helpers for the tools' tests: a temporary project with a tool context.

use std::path::{Path, PathBuf};

use super::{ToolContext, ToolOutput};

/// A temporary project directory and a context rooted at it.
pub struct Project {
    /// Keeps the directory alive.
    _dir: tempfile::TempDir,
    /// Context rooted at the project.
    pub ctx: ToolContext,
}

impl Project {
    /// An empty project.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ToolContext::new(dir.path());
        Self { _dir: dir, ctx }
    }

    /// The canonical project root.
    pub fn root(&self) -> &Path {
        &self.ctx.root
    }

    /// Absolute path of `rel`.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// Writes `contents` to `rel`, creating parent directories.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    /// Makes a named pipe (FIFO) at `rel`.
    #[cfg(unix)]
    pub fn make_fifo(&self, rel: &str) {
        let path = std::ffi::CString::new(self.path(rel).to_str().unwrap()).unwrap();
        // SAFETY: mkfifo reads a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o644) }, 0);
    }

    /// Reads `rel` as bytes.
    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap()
    }

    /// Runs a builtin tool with JSON arguments.
    pub fn run(&self, tool: &str, args: serde_json::Value) -> ToolOutput {
        super::run_tool(&super::Registry::builtin(), tool, args, &self.ctx)
    }
}
