//! `git`: repository status, diffs, history and blame through libgit2; commits only when the
//! user allowed them.

mod blame;
mod commit;
mod diff;
mod log;
mod repo;
mod show;
mod status;
mod time_format;

use schemars::JsonSchema;
use serde::Deserialize;

use super::args::parse_args;
use super::schema::schema_for;
use super::{Prepared, Preview, Tool, ToolContext, ToolError, ToolKind, ToolOutput};

/// What the git tool does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GitOperation {
    /// Branch and changed files, like `git status --short`.
    Status,
    /// Changes as a patch: unstaged (default), staged, or the working tree against a revision.
    Diff,
    /// Recent commits, optionally only those touching path.
    Log,
    /// A commit's message and patch (default HEAD), or a file at a revision (`REV:path`).
    Show,
    /// Who last changed each line of path.
    Blame,
    /// Commit staged changes (plus paths or all); only when the user allowed commits.
    Commit,
}

/// Arguments of `git`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitArgs {
    /// The operation.
    pub operation: GitOperation,
    /// File or directory to limit status, diff, log and show to; the file to blame.
    pub path: Option<String>,
    /// Revision (commit id, branch, tag, `HEAD~2`): diff against it, start log there, show
    /// it, or blame as of it.
    pub revision: Option<String>,
    /// diff: show staged changes (index against HEAD) instead of unstaged ones.
    #[serde(default)]
    pub staged: bool,
    /// log: maximum number of commits (default 20).
    pub max_count: Option<usize>,
    /// blame: first line to show (1-based).
    pub start_line: Option<usize>,
    /// blame: last line to show.
    pub end_line: Option<usize>,
    /// commit: the commit message.
    pub message: Option<String>,
    /// commit: files to stage before committing.
    pub paths: Option<Vec<String>>,
    /// commit: stage every change (including new files not ignored) before committing.
    #[serde(default)]
    pub all: bool,
}

/// Reads repository state and, when allowed, commits.
#[derive(Debug, Default)]
pub struct GitTool;

impl Tool for GitTool {
    fn name(&self) -> &'static str {
        "git"
    }

    fn description(&self) -> &'static str {
        include_str!("../../../tools/git.md")
    }

    fn parameters_schema(&self) -> serde_json::Value {
        schema_for::<GitArgs>()
    }

    fn kind(&self) -> ToolKind {
        ToolKind::Git
    }

    fn prepare(&self, args: serde_json::Value, ctx: &ToolContext) -> Result<Prepared, ToolError> {
        let args: GitArgs = parse_args(self.name(), args)?;
        if args.operation == GitOperation::Commit {
            let plan = commit::plan(ctx, &args)?;
            let preview = Some(Preview::Command(plan.describe()));
            let summary = format!("git commit: {}", plan.first_line());
            return Ok(Prepared::new(preview, ToolKind::Git, summary, move |ctx| {
                commit::apply(ctx, plan).unwrap_or_else(|e| ToolOutput::error(e.to_string()))
            }));
        }
        let summary = format!("git {}", operation_name(args.operation));
        Ok(Prepared::new(None, ToolKind::Read, summary, move |ctx| {
            read_operation(ctx, &args).unwrap_or_else(|e| ToolOutput::error(e.to_string()))
        }))
    }
}

fn operation_name(operation: GitOperation) -> &'static str {
    match operation {
        GitOperation::Status => "status",
        GitOperation::Diff => "diff",
        GitOperation::Log => "log",
        GitOperation::Show => "show",
        GitOperation::Blame => "blame",
        GitOperation::Commit => "commit",
    }
}

fn read_operation(ctx: &ToolContext, args: &GitArgs) -> Result<ToolOutput, ToolError> {
    let repo = repo::open(ctx)?;
    let path = args
        .path
        .as_deref()
        .map(|p| repo::repo_relative(ctx, &repo, p))
        .transpose()?
        .filter(|p| !p.is_empty());
    let path = path.as_deref();
    let content = match args.operation {
        GitOperation::Status => status::status(&repo, path)?,
        GitOperation::Diff => diff::diff(&repo, path, args.revision.as_deref(), args.staged)?,
        GitOperation::Log => log::log(&repo, path, args.revision.as_deref(), args.max_count)?,
        GitOperation::Show => show::show(&repo, path, args.revision.as_deref())?,
        GitOperation::Blame => {
            let Some(path) = path else {
                return Err(ToolError::Failed(
                    "blame needs path: the file to blame.".into(),
                ));
            };
            blame::blame(
                &repo,
                path,
                args.revision.as_deref(),
                args.start_line,
                args.end_line,
            )?
        }
        GitOperation::Commit => {
            return Err(ToolError::Failed("commit is prepared separately.".into()));
        }
    };
    let summary = format!("git {}", operation_name(args.operation));
    Ok(ToolOutput::success(repo::cap(content), summary))
}

#[cfg(test)]
mod tests;
