//! Tests of the git tool on temporary repositories made with git2.

use std::path::Path;

use git2::Repository;
use serde_json::json;

use crate::tools::test_support::Project;
use crate::tools::{Preview, Registry, Tool, ToolKind};

use super::GitTool;
use crate::git_fixture::commit_files;

/// A project with two commits: `a.txt` created, then changed along with a new `b.txt`.
fn repo_project() -> (Project, Repository) {
    let p = Project::new();
    let repo = Repository::init(p.root()).unwrap();
    {
        let mut config = repo.config().unwrap();
        config.set_str("user.name", "Test User").unwrap();
        config.set_str("user.email", "test@example.com").unwrap();
    }
    commit_files(
        &repo,
        &[("a.txt", "one\ntwo\n")],
        "first commit",
        1_700_000_000,
    );
    commit_files(
        &repo,
        &[("a.txt", "one\nTWO\n"), ("docs/b.txt", "bee\n")],
        "second commit\n\nWith a body.",
        1_700_086_400,
    );
    (p, repo)
}

fn git(p: &Project, args: serde_json::Value) -> crate::tools::ToolOutput {
    p.run("git", args)
}

#[test]
fn status_lists_changes_with_codes() {
    let (p, repo) = repo_project();
    let clean = git(&p, json!({"operation": "status"}));
    let branch = repo.head().unwrap().shorthand().unwrap().to_string();
    assert_eq!(
        clean.content,
        format!("## {branch}\nnothing to commit, working tree clean")
    );
    p.write("a.txt", "changed\n");
    p.write("new.txt", "n\n");
    p.write("docs/b.txt", "staged\n");
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("docs/b.txt")).unwrap();
    index.write().unwrap();
    let out = git(&p, json!({"operation": "status"}));
    assert_eq!(
        out.content,
        format!("## {branch}\n M a.txt\nM  docs/b.txt\n?? new.txt")
    );
    let only_docs = git(&p, json!({"operation": "status", "path": "docs"}));
    assert_eq!(only_docs.content, format!("## {branch}\nM  docs/b.txt"));
}

#[test]
fn diff_worktree_staged_and_against_revision() {
    let (p, repo) = repo_project();
    p.write("a.txt", "one\nTWO\nthree\n");
    let out = git(&p, json!({"operation": "diff"}));
    assert!(
        out.content.contains("diff --git a/a.txt b/a.txt"),
        "{}",
        out.content
    );
    assert!(
        out.content
            .contains("@@ -1,2 +1,3 @@\n one\n TWO\n+three\n"),
        "{}",
        out.content
    );

    let staged = git(&p, json!({"operation": "diff", "staged": true}));
    assert_eq!(staged.content, "No staged changes.");
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("a.txt")).unwrap();
    index.write().unwrap();
    let staged = git(&p, json!({"operation": "diff", "staged": true}));
    assert!(staged.content.contains("+three"), "{}", staged.content);
    assert!(
        git(&p, json!({"operation": "diff"}))
            .content
            .starts_with("No unstaged changes")
    );

    let against_first = git(&p, json!({"operation": "diff", "revision": "HEAD~1"}));
    assert!(
        against_first.content.contains("-two\n+TWO\n+three"),
        "{}",
        against_first.content
    );
    assert!(
        against_first.content.contains("docs/b.txt"),
        "{}",
        against_first.content
    );
    let limited = git(
        &p,
        json!({"operation": "diff", "revision": "HEAD~1", "path": "docs"}),
    );
    assert!(!limited.content.contains("a.txt"), "{}", limited.content);

    let bad = git(&p, json!({"operation": "diff", "revision": "nope"}));
    assert!(bad.is_error());
    assert!(
        bad.content.contains("Unknown revision `nope`"),
        "{}",
        bad.content
    );
}

#[test]
fn log_newest_first_and_by_path() {
    let (p, repo) = repo_project();
    let out = git(&p, json!({"operation": "log"}));
    let lines: Vec<&str> = out.content.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.content);
    let head = repo.head().unwrap().target().unwrap().to_string();
    assert_eq!(
        lines[0],
        format!("{} 2023-11-15 Ada Lovelace: second commit", &head[..7])
    );
    assert!(
        lines[1].ends_with("2023-11-14 Ada Lovelace: first commit"),
        "{}",
        lines[1]
    );

    let docs = git(&p, json!({"operation": "log", "path": "docs/b.txt"}));
    assert_eq!(docs.content.lines().count(), 1);
    assert!(docs.content.contains("second commit"));

    let one = git(&p, json!({"operation": "log", "max_count": 1}));
    assert!(
        one.content.contains("[more commits not shown"),
        "{}",
        one.content
    );
}

#[test]
fn show_commit_and_file_at_revision() {
    let (p, _repo) = repo_project();
    let out = git(&p, json!({"operation": "show"}));
    assert!(out.content.starts_with("commit "), "{}", out.content);
    assert!(
        out.content
            .contains("Author: Ada Lovelace <ada@example.com>")
    );
    assert!(
        out.content.contains("Date:   2023-11-15 22:13:20 +0000"),
        "{}",
        out.content
    );
    assert!(
        out.content
            .contains("    second commit\n    \n    With a body."),
        "{}",
        out.content
    );
    assert!(out.content.contains("-two\n+TWO"), "{}", out.content);
    assert!(out.content.contains("+bee"), "{}", out.content);

    let first = git(&p, json!({"operation": "show", "revision": "HEAD~1"}));
    assert!(first.content.contains("new file mode"), "{}", first.content);

    let file = git(&p, json!({"operation": "show", "revision": "HEAD~1:a.txt"}));
    assert_eq!(file.content, "one\ntwo\n");
}

#[test]
fn blame_marks_commits_and_uncommitted_lines() {
    let (p, repo) = repo_project();
    let head = repo.head().unwrap().target().unwrap().to_string();
    let first = repo.revparse_single("HEAD~1").unwrap().id().to_string();
    p.write("a.txt", "one\nTWO\nlocal\n");
    let out = git(&p, json!({"operation": "blame", "path": "a.txt"}));
    let lines: Vec<&str> = out.content.lines().collect();
    assert_eq!(
        lines,
        vec![
            format!("{} (Ada Lovelace     2023-11-14    1) one", &first[..7]),
            format!("{} (Ada Lovelace     2023-11-15    2) TWO", &head[..7]),
            format!(
                "0000000 ({:<16} {:<10} {:>4}) local",
                "Not committed", "", 3
            ),
        ]
    );
    let old = git(
        &p,
        json!({"operation": "blame", "path": "a.txt", "revision": "HEAD~1", "start_line": 2}),
    );
    assert_eq!(
        old.content,
        format!("{} (Ada Lovelace     2023-11-14    2) two", &first[..7])
    );
    let missing = git(&p, json!({"operation": "blame"}));
    assert!(
        missing.content.contains("needs path"),
        "{}",
        missing.content
    );
}

#[test]
fn commit_is_refused_unless_allowed() {
    let (p, repo) = repo_project();
    p.write("a.txt", "new\n");
    let out = git(
        &p,
        json!({"operation": "commit", "message": "x", "all": true}),
    );
    assert!(out.is_error());
    assert!(out.content.contains("not allowed"), "{}", out.content);
    assert_eq!(
        repo.revwalk()
            .map(|mut w| {
                w.push_head().unwrap();
                w.count()
            })
            .unwrap(),
        2
    );
}

#[test]
fn commit_when_allowed_stages_and_commits() {
    let (p, repo) = repo_project();
    let ctx = p.ctx.clone().with_git_commit_allowed(true);
    p.write("a.txt", "new\n");
    p.write("c.txt", "sea\n");
    let prepared = GitTool
        .prepare(
            json!({"operation": "commit", "message": "Add c", "paths": ["c.txt"]}),
            &ctx,
        )
        .unwrap();
    assert_eq!(prepared.kind, ToolKind::Git);
    assert_eq!(
        prepared.preview,
        Some(Preview::Command(
            "git commit (stage c.txt)\n\nAdd c\n".into()
        ))
    );
    let out = prepared.execute(&ctx);
    assert!(!out.is_error(), "{}", out.content);
    assert!(
        out.content.contains("Add c\n1 files changed, +1 -0"),
        "{}",
        out.content
    );
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(head.message().unwrap(), "Add c\n");
    assert_eq!(head.author().name().unwrap(), "Test User");
    // a.txt was not staged, so it is still modified.
    let status = git(&p, json!({"operation": "status"}));
    assert!(status.content.contains(" M a.txt"), "{}", status.content);

    let registry = Registry::builtin();
    let nothing = crate::tools::run_tool(
        &registry,
        "git",
        json!({"operation": "commit", "message": "empty"}),
        &ctx,
    );
    assert!(
        nothing.content.contains("Nothing to commit"),
        "{}",
        nothing.content
    );

    let all = crate::tools::run_tool(
        &registry,
        "git",
        json!({"operation": "commit", "message": "Everything", "all": true}),
        &ctx,
    );
    assert!(!all.is_error(), "{}", all.content);
    assert!(
        git(&p, json!({"operation": "status"}))
            .content
            .contains("working tree clean")
    );
}

#[test]
fn read_operations_are_read_kind_and_paths_are_confined() {
    let (p, _repo) = repo_project();
    let prepared = GitTool
        .prepare(json!({"operation": "status"}), &p.ctx)
        .unwrap();
    assert_eq!(prepared.kind, ToolKind::Read);
    assert_eq!(prepared.preview, None);
    let out = git(&p, json!({"operation": "log", "path": "../elsewhere"}));
    assert!(out.content.contains("outside"), "{}", out.content);
}

#[test]
fn not_a_repository_and_unborn_head() {
    let p = Project::new();
    let out = git(&p, json!({"operation": "status"}));
    assert!(out.is_error());
    assert!(
        out.content.contains("not inside a git repository"),
        "{}",
        out.content
    );
    Repository::init(p.root()).unwrap();
    p.write("x.txt", "x");
    let status = git(&p, json!({"operation": "status"}));
    assert!(
        status.content.contains("(no commits yet)\n?? x.txt"),
        "{}",
        status.content
    );
    assert_eq!(
        git(&p, json!({"operation": "log"})).content,
        "No commits yet."
    );
    let bad = git(&p, json!({"operation": "rebase"}));
    assert!(
        bad.content.contains("unknown variant `rebase`"),
        "{}",
        bad.content
    );
}
