//! `git diff`: unstaged changes, staged changes, or the working tree against a revision.

use git2::Repository;

use super::repo::{diff_options, git_error, head_tree, patch_text};
use crate::tools::ToolError;

/// The patch for unstaged changes (default), staged changes (`staged`), or the working tree
/// including staged changes against `revision`.
pub fn diff(
    repo: &Repository,
    path: Option<&str>,
    revision: Option<&str>,
    staged: bool,
) -> Result<String, ToolError> {
    let mut options = diff_options(path);
    let (diff, what) = match (revision, staged) {
        (Some(revision), _) => {
            let tree = repo
                .revparse_single(revision)
                .and_then(|o| o.peel_to_tree())
                .map_err(|e| unknown_revision(revision, e))?;
            let diff = repo
                .diff_tree_to_workdir_with_index(Some(&tree), Some(&mut options))
                .map_err(git_error)?;
            let what = if staged {
                format!(
                    "No differences between {revision} and the working tree (staged is \
                         ignored when a revision is given)."
                )
            } else {
                format!("No differences between {revision} and the working tree.")
            };
            (diff, what)
        }
        (None, true) => {
            let tree = head_tree(repo)?;
            let diff = repo
                .diff_tree_to_index(tree.as_ref(), None, Some(&mut options))
                .map_err(git_error)?;
            (diff, "No staged changes.".to_string())
        }
        (None, false) => {
            let diff = repo
                .diff_index_to_workdir(None, Some(&mut options))
                .map_err(git_error)?;
            (
                diff,
                "No unstaged changes (new untracked files are listed by status; staged \
                 changes by diff with staged: true)."
                    .to_string(),
            )
        }
    };
    let text = patch_text(&diff)?;
    Ok(if text.is_empty() { what } else { text })
}

/// The message for a revision that does not resolve.
pub fn unknown_revision(revision: &str, error: git2::Error) -> ToolError {
    ToolError::Failed(format!(
        "Unknown revision `{revision}`: {}. Use a commit id, branch, tag or e.g. HEAD~1.",
        error.message()
    ))
}
