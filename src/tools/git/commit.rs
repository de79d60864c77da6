//! `git commit`: stage the requested changes and commit them, only when the user allowed it.

use git2::{IndexAddOption, Repository};

use super::GitArgs;
use super::repo::{git_error, open, repo_relative, short_id};
use super::status::branch_description;
use crate::tools::{ToolContext, ToolError, ToolOutput};

/// A commit waiting for approval.
#[derive(Debug, Clone)]
pub struct CommitPlan {
    message: String,
    /// Repository-relative paths to stage first.
    paths: Vec<String>,
    /// Stage every change first.
    all: bool,
}

impl CommitPlan {
    /// What will happen, for the approval prompt.
    pub fn describe(&self) -> String {
        let staging = if self.all {
            "stage all changes".to_string()
        } else if self.paths.is_empty() {
            "commit what is already staged".to_string()
        } else {
            format!("stage {}", self.paths.join(", "))
        };
        format!("git commit ({staging})\n\n{}", self.message)
    }

    /// The first line of the message.
    pub fn first_line(&self) -> &str {
        self.message.lines().next().unwrap_or_default()
    }
}

/// Checks that commits are allowed and the arguments make sense.
pub fn plan(ctx: &ToolContext, args: &GitArgs) -> Result<CommitPlan, ToolError> {
    if !ctx.allow_git_commit {
        return Err(ToolError::Refused(
            "Committing is not allowed: the user has not permitted git commits in this \
             session. Leave the changes uncommitted and tell the user they are ready."
                .into(),
        ));
    }
    let message = args.message.as_deref().unwrap_or_default().trim();
    if message.is_empty() {
        return Err(ToolError::Failed(
            "commit needs message: the commit message.".into(),
        ));
    }
    let repo = open(ctx)?;
    let paths = args
        .paths
        .iter()
        .flatten()
        .map(|p| repo_relative(ctx, &repo, p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CommitPlan {
        message: format!("{message}\n"),
        paths,
        all: args.all,
    })
}

/// Stages and commits.
pub fn apply(ctx: &ToolContext, plan: CommitPlan) -> Result<ToolOutput, ToolError> {
    let repo = open(ctx)?;
    stage(&repo, &plan)?;
    let mut index = repo.index().map_err(git_error)?;
    let tree_id = index.write_tree().map_err(git_error)?;
    let parent = repo.head().and_then(|h| h.peel_to_commit()).ok();
    let unchanged = match &parent {
        Some(parent) => parent.tree_id() == tree_id,
        None => index.is_empty(),
    };
    if unchanged {
        return Err(ToolError::Failed(
            "Nothing to commit: no staged changes. Pass paths to stage, or all: true.".into(),
        ));
    }
    let signature = repo.signature().map_err(|_| {
        ToolError::Failed(
            "git user.name and user.email are not configured; ask the user to set them.".into(),
        )
    })?;
    let tree = repo.find_tree(tree_id).map_err(git_error)?;
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    let oid = repo
        .commit(
            Some("HEAD"),
            &signature,
            &signature,
            &plan.message,
            &tree,
            &parents,
        )
        .map_err(git_error)?;
    let parent_tree = match &parent {
        Some(parent) => Some(parent.tree().map_err(git_error)?),
        None => None,
    };
    let stats = repo
        .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), None)
        .and_then(|d| d.stats())
        .map_err(git_error)?;
    let content = format!(
        "Committed {} on {}: {}\n{} files changed, +{} -{}",
        short_id(oid),
        branch_description(&repo),
        plan.first_line(),
        stats.files_changed(),
        stats.insertions(),
        stats.deletions()
    );
    Ok(ToolOutput::success(
        content,
        format!("committed {}", short_id(oid)),
    ))
}

fn stage(repo: &Repository, plan: &CommitPlan) -> Result<(), ToolError> {
    let mut specs: Vec<&str> = plan.paths.iter().map(String::as_str).collect();
    if plan.all {
        specs = vec!["*"];
    }
    if specs.is_empty() {
        return Ok(());
    }
    let mut index = repo.index().map_err(git_error)?;
    index
        .add_all(specs.iter(), IndexAddOption::DEFAULT, None)
        .map_err(git_error)?;
    // `add_all` does not record deletions; `update_all` does.
    index.update_all(specs.iter(), None).map_err(git_error)?;
    index.write().map_err(git_error)
}
