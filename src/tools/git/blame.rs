//! `git blame`: the commit, author and date that last changed each line.

use std::path::Path;

use git2::{BlameOptions, Repository};

use super::diff::unknown_revision;
use super::repo::{git_error, short_id};
use super::time_format::date;
use crate::tools::ToolError;
use crate::tools::text::is_binary;

/// Author names are padded or cut to this width.
const AUTHOR_WIDTH: usize = 16;

/// Blames `path` (repository-relative) as of `revision`, or the working-tree version (with
/// uncommitted lines marked) when no revision is given; only lines `start..=end` when given.
pub fn blame(
    repo: &Repository,
    path: &str,
    revision: Option<&str>,
    start: Option<usize>,
    end: Option<usize>,
) -> Result<String, ToolError> {
    let mut options = BlameOptions::new();
    let content = match revision {
        Some(rev) => {
            let commit = repo
                .revparse_single(rev)
                .and_then(|o| o.peel_to_commit())
                .map_err(|e| unknown_revision(rev, e))?;
            options.newest_commit(commit.id());
            let entry = commit
                .tree()
                .and_then(|t| t.get_path(Path::new(path)))
                .map_err(|_| ToolError::Failed(format!("`{path}` does not exist at {rev}.")))?;
            repo.find_blob(entry.id())
                .map_err(git_error)?
                .content()
                .to_vec()
        }
        None => {
            let workdir = repo.workdir().unwrap_or_else(|| Path::new("."));
            std::fs::read(workdir.join(path))
                .map_err(|e| ToolError::Failed(format!("Cannot read `{path}`: {e}.")))?
        }
    };
    let committed = repo
        .blame_file(Path::new(path), Some(&mut options))
        .map_err(|e| {
            ToolError::Failed(format!(
                "Cannot blame `{path}`: {}. Only files with committed history can be blamed.",
                e.message()
            ))
        })?;
    // Without a revision, blame the working-tree version: uncommitted lines get a zero id.
    let working = match revision {
        None => Some(committed.blame_buffer(&content).map_err(git_error)?),
        Some(_) => None,
    };
    let blame = working.as_ref().unwrap_or(&committed);
    if is_binary(&content) {
        return Err(ToolError::Failed(format!("`{path}` is a binary file.")));
    }
    let text = String::from_utf8_lossy(&content);
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return Ok(format!("`{path}` is empty."));
    }
    let first = start.unwrap_or(1).max(1);
    let last = end.unwrap_or(lines.len()).min(lines.len());
    if first > last {
        return Err(ToolError::Failed(format!(
            "No lines in range {first}-{last}; `{path}` has {} lines.",
            lines.len()
        )));
    }
    let mut out = String::new();
    for number in first..=last {
        let line = lines[number - 1];
        let (id, author, when) = match blame.get_line(number) {
            Some(hunk) if !hunk.final_commit_id().is_zero() => {
                let signature = hunk.final_signature();
                (
                    short_id(hunk.final_commit_id()),
                    signature
                        .as_ref()
                        .map(|s| String::from_utf8_lossy(s.name_bytes()).into_owned())
                        .unwrap_or_default(),
                    signature.map(|s| date(s.when())).unwrap_or_default(),
                )
            }
            _ => (
                "0000000".to_string(),
                "Not committed".to_string(),
                String::new(),
            ),
        };
        let author: String = author.chars().take(AUTHOR_WIDTH).collect();
        out.push_str(&format!(
            "{id} ({author:<AUTHOR_WIDTH$} {when:<10} {number:>4}) {line}\n"
        ));
    }
    Ok(out.trim_end().to_string())
}
