//! `git log --oneline`-like history, optionally only commits touching a path.

use std::path::Path;

use git2::{Commit, Repository, Sort};

use super::diff::unknown_revision;
use super::repo::{git_error, short_id};
use super::time_format::date;
use crate::tools::ToolError;

/// Commits shown when no `max_count` is given.
const DEFAULT_MAX_COUNT: usize = 20;
/// `max_count` is clamped to this.
const MAX_COUNT_LIMIT: usize = 500;

/// One line per commit, newest first: `id date author: summary`.
pub fn log(
    repo: &Repository,
    path: Option<&str>,
    revision: Option<&str>,
    max_count: Option<usize>,
) -> Result<String, ToolError> {
    let max = max_count
        .unwrap_or(DEFAULT_MAX_COUNT)
        .clamp(1, MAX_COUNT_LIMIT);
    let start = match revision {
        Some(rev) => repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| unknown_revision(rev, e))?,
        None => match repo.head().and_then(|h| h.peel_to_commit()) {
            Ok(commit) => commit,
            Err(_) => return Ok("No commits yet.".to_string()),
        },
    };
    let mut walk = repo.revwalk().map_err(git_error)?;
    walk.set_sorting(Sort::TIME).map_err(git_error)?;
    walk.push(start.id()).map_err(git_error)?;

    let mut lines = Vec::new();
    let mut more = false;
    for oid in walk {
        let commit = repo
            .find_commit(oid.map_err(git_error)?)
            .map_err(git_error)?;
        if let Some(path) = path
            && !touches(&commit, Path::new(path))
        {
            continue;
        }
        if lines.len() == max {
            more = true;
            break;
        }
        lines.push(format!(
            "{} {} {}: {}",
            short_id(commit.id()),
            date(commit.time()),
            String::from_utf8_lossy(commit.author().name_bytes()),
            String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default())
        ));
    }
    if lines.is_empty() {
        return Ok(match path {
            Some(path) => format!("No commits touch `{path}`."),
            None => "No commits yet.".to_string(),
        });
    }
    if more {
        lines.push(format!(
            "[more commits not shown; raise max_count (at most {MAX_COUNT_LIMIT}) or start \
             from an older revision]"
        ));
    }
    Ok(lines.join("\n"))
}

/// Whether `commit` changed anything at `path` compared with its first parent.
fn touches(commit: &Commit<'_>, path: &Path) -> bool {
    let entry_id = |c: &Commit<'_>| {
        c.tree()
            .ok()
            .and_then(|t| t.get_path(path).ok())
            .map(|e| e.id())
    };
    let here = entry_id(commit);
    let before = commit.parent(0).ok().and_then(|p| entry_id(&p));
    here != before
}
