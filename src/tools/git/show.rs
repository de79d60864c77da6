//! `git show`: a commit's header, message and patch, or an object such as `REV:path`.

use git2::{ObjectType, Repository};

use super::diff::unknown_revision;
use super::repo::{diff_options, git_error, patch_text};
use super::time_format::date_time;
use crate::tools::ToolError;
use crate::tools::text::is_binary;

/// Shows `revision` (default `HEAD`): a commit with its patch against its first parent
/// (limited to `path` when given), a file's contents, or a directory listing.
pub fn show(
    repo: &Repository,
    path: Option<&str>,
    revision: Option<&str>,
) -> Result<String, ToolError> {
    let revision = revision.unwrap_or("HEAD");
    let object = repo
        .revparse_single(revision)
        .map_err(|e| unknown_revision(revision, e))?;
    match object.kind() {
        Some(ObjectType::Blob) => {
            let blob = object.peel_to_blob().map_err(git_error)?;
            if is_binary(blob.content()) {
                Ok(format!(
                    "`{revision}` is a binary file ({} bytes).",
                    blob.size()
                ))
            } else {
                Ok(String::from_utf8_lossy(blob.content()).into_owned())
            }
        }
        Some(ObjectType::Tree) => {
            let tree = object.peel_to_tree().map_err(git_error)?;
            let names: Vec<String> = tree
                .iter()
                .map(|entry| {
                    let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
                    match entry.kind() {
                        Some(ObjectType::Tree) => format!("{name}/"),
                        _ => name,
                    }
                })
                .collect();
            Ok(names.join("\n"))
        }
        _ => {
            let commit = object.peel_to_commit().map_err(git_error)?;
            let author = commit.author();
            let mut out = format!(
                "commit {}\nAuthor: {} <{}>\nDate:   {}\n\n",
                commit.id(),
                String::from_utf8_lossy(author.name_bytes()),
                String::from_utf8_lossy(author.email_bytes()),
                date_time(author.when())
            );
            for line in String::from_utf8_lossy(commit.message_bytes())
                .trim_end()
                .lines()
            {
                out.push_str("    ");
                out.push_str(line);
                out.push('\n');
            }
            let tree = commit.tree().map_err(git_error)?;
            let parent_tree = match commit.parent(0) {
                Ok(parent) => Some(parent.tree().map_err(git_error)?),
                Err(_) => None,
            };
            let mut options = diff_options(path);
            let diff = repo
                .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut options))
                .map_err(git_error)?;
            let patch = patch_text(&diff)?;
            if !patch.is_empty() {
                out.push('\n');
                out.push_str(&patch);
            }
            Ok(out.trim_end().to_string())
        }
    }
}
