//! What an editing tool needs to know about a file before changing it: its current bytes, and
//! whether the model has read this exact version.

use super::ToolError;
use super::paths::ResolvedPath;
use super::read_tracker::{Freshness, ReadTracker};

/// The current bytes of an existing file, or `None` when it does not exist.
pub fn current_bytes(path: &ResolvedPath) -> Result<Option<Vec<u8>>, ToolError> {
    let shown = &path.display;
    match std::fs::metadata(&path.absolute) {
        Ok(meta) if meta.is_dir() => Err(ToolError::Failed(format!(
            "`{shown}` is a directory, not a file."
        ))),
        Ok(_) => std::fs::read(&path.absolute)
            .map(Some)
            .map_err(|e| ToolError::Failed(format!("Cannot read `{shown}`: {e}."))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ToolError::Failed(format!("Cannot access `{shown}`: {e}."))),
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
