//! Errors of the session store.

use std::path::PathBuf;

/// What can go wrong while writing, reading or finding sessions.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Neither `GEM_DATA_DIR` nor a platform data directory is available.
    #[error("no data directory: set GEM_DATA_DIR")]
    NoDataDir,
    /// A file or directory operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A record could not be serialised.
    #[error("cannot serialise session record: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The file does not start with a complete session header.
    #[error("{} is not a gem session (missing or damaged header)", .0.display())]
    NotASession(PathBuf),
    /// No session id starts with the given prefix.
    #[error("no session matches `{0}`")]
    NotFound(String),
    /// Several session ids start with the given prefix.
    #[error("`{prefix}` matches several sessions: {}", matches.join(", "))]
    Ambiguous {
        /// The prefix that was looked up.
        prefix: String,
        /// The matching ids, newest first.
        matches: Vec<String>,
    },
}

impl SessionError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SessionError::Io {
            path: path.into(),
            source,
        }
    }
}
