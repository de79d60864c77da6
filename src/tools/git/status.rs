//! `git status --short`-like output with the current branch.

use git2::{Repository, Status, StatusOptions};

use super::repo::git_error;
use crate::tools::ToolError;

/// Branch line followed by `XY path` lines (`??` for untracked files).
pub fn status(repo: &Repository, path: Option<&str>) -> Result<String, ToolError> {
    let mut options = StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .renames_head_to_index(true);
    if let Some(path) = path {
        options.pathspec(path);
    }
    let statuses = repo.statuses(Some(&mut options)).map_err(git_error)?;
    let mut out = format!("## {}\n", branch_description(repo));
    let mut changes = 0;
    for entry in statuses.iter() {
        let status = entry.status();
        if status.contains(Status::IGNORED) {
            continue;
        }
        let name = String::from_utf8_lossy(entry.path_bytes()).into_owned();
        out.push_str(&format!("{} {name}\n", status_code(status)));
        changes += 1;
    }
    if changes == 0 {
        out.push_str("nothing to commit, working tree clean\n");
    }
    Ok(out.trim_end().to_string())
}

/// The branch name, with a note when detached or before the first commit.
pub fn branch_description(repo: &Repository) -> String {
    match repo.head() {
        Ok(head) if head.is_branch() => head.shorthand().unwrap_or("HEAD").to_string(),
        Ok(head) => match head.target() {
            Some(oid) => format!("HEAD (detached at {})", super::repo::short_id(oid)),
            None => "HEAD (detached)".to_string(),
        },
        Err(_) => {
            let branch = repo
                .find_reference("HEAD")
                .ok()
                .and_then(|r| r.symbolic_target().ok().flatten().map(String::from))
                .map(|t| t.trim_start_matches("refs/heads/").to_string())
                .unwrap_or_else(|| "HEAD".to_string());
            format!("{branch} (no commits yet)")
        }
    }
}

/// The two-letter code `git status --short` prints: index state, then working tree state.
fn status_code(status: Status) -> String {
    if status.contains(Status::CONFLICTED) {
        return "UU".to_string();
    }
    if status.contains(Status::WT_NEW) && !status.intersects(index_flags()) {
        return "??".to_string();
    }
    let index = if status.contains(Status::INDEX_NEW) {
        'A'
    } else if status.contains(Status::INDEX_MODIFIED) {
        'M'
    } else if status.contains(Status::INDEX_DELETED) {
        'D'
    } else if status.contains(Status::INDEX_RENAMED) {
        'R'
    } else if status.contains(Status::INDEX_TYPECHANGE) {
        'T'
    } else {
        ' '
    };
    let worktree = if status.contains(Status::WT_MODIFIED) {
        'M'
    } else if status.contains(Status::WT_DELETED) {
        'D'
    } else if status.contains(Status::WT_RENAMED) {
        'R'
    } else if status.contains(Status::WT_TYPECHANGE) {
        'T'
    } else {
        ' '
    };
    format!("{index}{worktree}")
}

fn index_flags() -> Status {
    Status::INDEX_NEW
        | Status::INDEX_MODIFIED
        | Status::INDEX_DELETED
        | Status::INDEX_RENAMED
        | Status::INDEX_TYPECHANGE
}
