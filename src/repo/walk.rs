//! Walks a project and reads every file that may be shown to the model.
//!
//! Honours `.gitignore`, `.ignore` and git excludes (even outside a git checkout), skips hidden
//! files, and sorts out binaries, lockfiles, generated and vendored code and oversized files.

use super::classify::{self, SkipReason};
use super::error::PackError;
use super::last_change::{LastChange, rank_by_git_history};
use ignore::WalkBuilder;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// A text file that passed every filter, with what packing needs to know about it.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Path relative to the project root.
    pub rel_path: PathBuf,
    /// The whole file as UTF-8 text.
    pub content: String,
    /// When it last changed: its last commit in a git work tree, else its modification time
    /// (the Unix epoch when the platform cannot tell).
    pub last_change: LastChange,
}

/// Everything one walk found: the usable files and what was left out.
#[derive(Debug, Default)]
pub struct Walked {
    /// Usable files, sorted by relative path.
    pub candidates: Vec<Candidate>,
    /// Files and directories left out, sorted by path.
    pub skipped: Vec<(PathBuf, SkipReason)>,
}

/// Walks `root` and classifies every file; `max_file_bytes` is the size cap.
pub fn walk_project(root: &Path, max_file_bytes: u64) -> Result<Walked, PackError> {
    if !root.is_dir() {
        return Err(PackError::NotADirectory(root.to_path_buf()));
    }
    let vendored_dirs: Arc<Mutex<Vec<PathBuf>>> = Arc::default();
    let walker = {
        let vendored_dirs = Arc::clone(&vendored_dirs);
        WalkBuilder::new(root)
            .hidden(true)
            .git_ignore(true)
            .git_exclude(true)
            .git_global(true)
            .ignore(true)
            .parents(true)
            .require_git(false)
            .follow_links(false)
            .filter_entry(move |entry| {
                let is_dir = entry.file_type().is_some_and(|kind| kind.is_dir());
                if entry.depth() == 0 || !is_dir {
                    return true;
                }
                let name = classify::file_name(entry.path());
                if !classify::is_vendored_dir(&name) {
                    return true;
                }
                // A poisoned lock only means another walker thread panicked; the list is intact.
                let mut dirs = vendored_dirs
                    .lock()
                    .unwrap_or_else(|poison| poison.into_inner());
                dirs.push(entry.path().to_path_buf());
                false
            })
            .build()
    };

    let mut walked = Walked::default();
    for result in walker {
        let entry = match result {
            Ok(entry) => entry,
            Err(err) => {
                if let Some(path) = error_path(&err) {
                    walked
                        .skipped
                        .push((relative(root, &path), SkipReason::Unreadable));
                }
                continue;
            }
        };
        if !entry.file_type().is_some_and(|kind| kind.is_file()) {
            continue;
        }
        let rel_path = relative(root, entry.path());
        match read_candidate(entry.path(), max_file_bytes) {
            Ok((content, mtime)) => walked.candidates.push(Candidate {
                rel_path,
                content,
                last_change: LastChange::Uncommitted(mtime),
            }),
            Err(reason) => walked.skipped.push((rel_path, reason)),
        }
    }

    let dirs = vendored_dirs
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    walked.skipped.extend(
        dirs.iter()
            .map(|dir| (relative(root, dir), SkipReason::Vendored)),
    );
    walked
        .candidates
        .sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    rank_by_git_history(root, &mut walked.candidates);
    walked.skipped.sort();
    Ok(walked)
}

/// Reads one file, or says why it is not worth showing.
fn read_candidate(path: &Path, max_file_bytes: u64) -> Result<(String, SystemTime), SkipReason> {
    let name = classify::file_name(path);
    if classify::is_lockfile(&name) {
        return Err(SkipReason::Lockfile);
    }
    if classify::has_generated_name(&name) {
        return Err(SkipReason::Generated);
    }
    let metadata = std::fs::metadata(path).map_err(|_| SkipReason::Unreadable)?;
    if metadata.len() > max_file_bytes {
        return Err(SkipReason::TooLarge);
    }
    let bytes = std::fs::read(path).map_err(|_| SkipReason::Unreadable)?;
    if bytes.len() as u64 > max_file_bytes {
        return Err(SkipReason::TooLarge);
    }
    let content = classify::decode_text(bytes).ok_or(SkipReason::Binary)?;
    if classify::has_generated_marker(&content) {
        return Err(SkipReason::Generated);
    }
    let mtime = metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    Ok((content, mtime))
}

/// `path` relative to `root`, or `path` itself when it is not below `root`.
fn relative(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

/// The path an `ignore` walk error is about, if it names one.
fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}
