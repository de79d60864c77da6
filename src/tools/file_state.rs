//! What an editing tool needs to know about a file before changing it: its current bytes, and
//! whether the model has read this exact version.

use super::ToolError;
use super::atomic_write::write_atomic;
use super::paths::ResolvedPath;
use super::read_tracker::{Freshness, ReadTracker};
use super::regular_file::{FileAccessError, read_regular};

/// Files larger than this are not edited or overwritten (`read_file` does not show them either).
pub const MAX_EDITABLE_BYTES: u64 = 32 * 1024 * 1024;

/// The current bytes of an existing regular file, or `None` when nothing exists at the path.
/// Opened beneath the allowed directory's handle; a FIFO, a device or a directory is refused.
pub fn current_bytes(path: &ResolvedPath) -> Result<Option<Vec<u8>>, ToolError> {
    let shown = &path.display;
    let base = path
        .open_base()
        .map_err(|e| ToolError::Failed(format!("Cannot open the directory of `{shown}`: {e}.")))?;
    match read_regular(&base, path.relative_or_dot(), MAX_EDITABLE_BYTES) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(FileAccessError::NotFound) => Ok(None),
        Err(e) => Err(e.for_model(shown)),
    }
}

/// Replaces the contents of `path` with `bytes` atomically, beneath the allowed directory's
/// handle, keeping the file's permissions.
pub fn write_contents(path: &ResolvedPath, bytes: &[u8]) -> Result<(), ToolError> {
    let shown = &path.display;
    let written = path
        .open_base()
        .map_err(FileAccessError::from)
        .and_then(|base| write_atomic(&base, &path.relative, bytes));
    match written {
        Ok(()) => Ok(()),
        Err(FileAccessError::Io(e)) => Err(ToolError::Failed(format!(
            "Could not write `{shown}`: {e}."
        ))),
        Err(e) => Err(e.for_model(shown)),
    }
}

/// Refuses unless the model has read exactly these `bytes` of `path` in this session.
pub fn require_fresh_read(
    tracker: &ReadTracker,
    path: &ResolvedPath,
    bytes: &[u8],
) -> Result<(), ToolError> {
    let shown = &path.display;
    match tracker.check(&path.absolute, bytes) {
        Freshness::Fresh => Ok(()),
        Freshness::Unread => Err(ToolError::Refused(format!(
            "You have not read `{shown}` in this session. Call read_file on it first, then \
             retry."
        ))),
        Freshness::Changed => Err(ToolError::Refused(format!(
            "`{shown}` changed on disk since you last read it. Read it again with read_file, \
             then retry."
        ))),
    }
}

/// Fails unless the file still holds `expected` (`None`: still does not exist), so a change
/// prepared for approval is not applied over something written in the meantime.
pub fn require_unchanged_since_prepare(
    path: &ResolvedPath,
    expected: Option<&[u8]>,
) -> Result<(), ToolError> {
    let now = current_bytes(path)?;
    if now.as_deref() == expected {
        Ok(())
    } else {
        Err(ToolError::Refused(format!(
            "`{}` changed on disk after this change was prepared; nothing was written. Read it \
             again and retry.",
            path.display
        )))
    }
}
