//! Opening the project's repository, mapping paths into it, and shared output helpers.

use git2::{Diff, DiffFormat, Oid, Repository, Tree};

use crate::tools::paths::{Access, resolve};
use crate::tools::{ToolContext, ToolError};

/// Output longer than this is cut, with a marker.
const MAX_OUTPUT_BYTES: usize = 60_000;

/// The repository containing the project root.
pub fn open(ctx: &ToolContext) -> Result<Repository, ToolError> {
    Repository::discover(&ctx.root).map_err(|_| {
        ToolError::Failed(format!(
            "{} is not inside a git repository.",
            ctx.root.display()
        ))
    })
}

/// `raw` (a project path) as a path relative to the repository's working directory, with `/`
/// separators; empty for the working directory itself.
pub fn repo_relative(ctx: &ToolContext, repo: &Repository, raw: &str) -> Result<String, ToolError> {
    let resolved = resolve(ctx, raw, Access::Read)?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| ToolError::Failed("The repository has no working directory.".into()))?;
    let workdir = std::fs::canonicalize(workdir).unwrap_or_else(|_| workdir.to_path_buf());
    let relative = resolved
        .absolute
        .strip_prefix(&workdir)
        .map_err(|_| ToolError::Failed(format!("`{raw}` is not inside the git repository.")))?;
    Ok(relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/"))
}

/// A libgit2 error as a message for the model.
pub fn git_error(error: git2::Error) -> ToolError {
    ToolError::Failed(format!("git: {}", error.message()))
}

/// `text` cut to the output limit, saying how much was left out.
pub fn cap(mut text: String) -> String {
    if text.len() <= MAX_OUTPUT_BYTES {
        return text;
    }
    let mut cut = MAX_OUTPUT_BYTES;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let left_out = text.len() - cut;
    text.truncate(cut);
    text.push_str(&format!(
        "\n[output truncated: {left_out} more bytes. Limit it with path, or a narrower revision.]"
    ));
    text
}

/// The 7-character abbreviation of a commit id.
pub fn short_id(oid: Oid) -> String {
    oid.to_string().chars().take(7).collect()
}

/// The tree HEAD points at; `None` before the first commit.
pub fn head_tree(repo: &Repository) -> Result<Option<Tree<'_>>, ToolError> {
    match repo.head() {
        Ok(head) => head.peel_to_tree().map(Some).map_err(git_error),
        Err(e) if e.code() == git2::ErrorCode::UnbornBranch => Ok(None),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(git_error(e)),
    }
}

/// A diff as patch text (`diff --git` headers, hunks, `+`/`-`/` ` lines).
pub fn patch_text(diff: &Diff<'_>) -> Result<String, ToolError> {
    let mut out = Vec::new();
    diff.print(DiffFormat::Patch, |_, _, line| {
        if matches!(line.origin(), '+' | '-' | ' ') {
            out.push(line.origin() as u8);
        }
        out.extend_from_slice(line.content());
        true
    })
    .map_err(git_error)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `git2::DiffOptions` limited to `path` when given.
pub fn diff_options(path: Option<&str>) -> git2::DiffOptions {
    let mut options = git2::DiffOptions::new();
    options.context_lines(3);
    if let Some(path) = path {
        options.pathspec(path);
    }
    options
}
