//! Errors of repository packing.

use std::path::PathBuf;

/// Why a project could not be packed at all (single unreadable files are skipped instead).
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// The project root is missing or not a directory.
    #[error("{} is not a directory", .0.display())]
    NotADirectory(PathBuf),
}
