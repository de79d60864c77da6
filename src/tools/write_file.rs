//! `write_file`: create a file or replace its whole contents, returning the diff.

use schemars::JsonSchema;
use serde::Deserialize;

use super::args::parse_args;
use super::file_state::{
    current_bytes, require_fresh_read, require_unchanged_since_prepare, write_contents,
};
use super::paths::{Access, ResolvedPath, resolve};
use super::schema::schema_for;
use super::text::{LineEnding, apply_line_ending, detect_line_ending};
use super::unified_diff::{diff_stat, unified_diff};
use super::{
    ChangedFile, Prepared, Preview, Tool, ToolContext, ToolError, ToolKind, ToolOutcome, ToolOutput,
};
use crate::plural::plural;

/// Diffs longer than this are not repeated back to the model (the UI still gets them).
const MAX_DIFF_IN_RESULT: usize = 4000;

/// Arguments of `write_file`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteFileArgs {
    /// Path of the file, relative to the project root; parent directories are created.
    pub path: String,
    /// The complete new contents of the file.
    pub content: String,
}

/// Creates or overwrites a file.
#[derive(Debug, Default)]
pub struct WriteFileTool;

impl Tool for WriteFileTool {
    fn name(&self) -> &'static str {
        "write_file"
    }

    fn description(&self) -> &'static str {
        include_str!("../../tools/write_file.md")
    }

    fn parameters_schema(&self) -> serde_json::Value {
        schema_for::<WriteFileArgs>()
    }

    fn kind(&self) -> ToolKind {
        ToolKind::Edit
    }

    fn prepare(&self, args: serde_json::Value, ctx: &ToolContext) -> Result<Prepared, ToolError> {
        let args: WriteFileArgs = parse_args(self.name(), args)?;
        let path = resolve(ctx, &args.path, Access::Write)?;
        let before = current_bytes(&path)?;
        if let Some(before) = &before {
            require_fresh_read(&ctx.read_tracker, &path, before)?;
        }
        let after = keep_crlf(before.as_deref(), args.content);
        let old_text = before.as_deref().map(String::from_utf8_lossy);
        let diff = unified_diff(&path.display, old_text.as_deref(), &after);
        let verb = if before.is_some() {
            "overwrite"
        } else {
            "create"
        };
        let summary = format!("{verb} {}", path.display);
        let write = PlannedWrite {
            before,
            after: after.into_bytes(),
            diff: diff.clone(),
        };
        Ok(Prepared::new(
            Some(Preview::Diff(diff)),
            ToolKind::Edit,
            summary,
            move |ctx| apply_write(ctx, &path, write),
        ))
    }
}

/// A computed write waiting for approval.
struct PlannedWrite {
    before: Option<Vec<u8>>,
    after: Vec<u8>,
    diff: String,
}

/// New contents with `\n` endings get `\r\n` when the file being replaced uses `\r\n`.
fn keep_crlf(before: Option<&[u8]>, content: String) -> String {
    let old_ending = before
        .and_then(|b| std::str::from_utf8(b).ok())
        .map(detect_line_ending);
    if old_ending == Some(LineEnding::Crlf) && !content.contains("\r\n") {
        apply_line_ending(&content, LineEnding::Crlf)
    } else {
        content
    }
}

fn apply_write(ctx: &ToolContext, path: &ResolvedPath, write: PlannedWrite) -> ToolOutput {
    let shown = &path.display;
    if let Err(e) = require_unchanged_since_prepare(path, write.before.as_deref()) {
        return ToolOutput::error(e.to_string());
    }
    if let Err(e) = write_contents(path, &write.after) {
        return ToolOutput::error(e.to_string());
    }
    ctx.read_tracker.record(&path.absolute, &write.after);
    let lines = String::from_utf8_lossy(&write.after).lines().count();
    let (added, removed) = diff_stat(&write.diff);
    let (content, summary) = match &write.before {
        None => (
            format!("Created `{shown}` ({}).", plural(lines, "line", "lines")),
            format!("created {shown} ({})", plural(lines, "line", "lines")),
        ),
        Some(_) => {
            let mut content = format!(
                "Overwrote `{shown}` ({}, +{added} -{removed}).",
                plural(lines, "line", "lines")
            );
            if write.diff.is_empty() {
                content.push_str(" The contents did not change.");
            } else if write.diff.len() <= MAX_DIFF_IN_RESULT {
                content.push_str("\n\n");
                content.push_str(&write.diff);
            }
            (content, format!("wrote {shown} (+{added} -{removed})"))
        }
    };
    ToolOutput {
        outcome: ToolOutcome::Ok,
        content,
        summary,
        diff: Some(write.diff),
        changed_files: vec![ChangedFile {
            path: path.absolute.clone(),
            before: write.before,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::test_support::Project;
    use serde_json::json;
    #[cfg(unix)]
    use std::os::unix::fs::FileTypeExt;

    fn write(p: &Project, rel: &str, content: &str) -> ToolOutput {
        p.run("write_file", json!({"path": rel, "content": content}))
    }

    #[test]
    fn creates_new_file_with_parents() {
        let p = Project::new();
        let out = write(&p, "src/new/mod.rs", "pub fn a() {}\n");
        assert!(!out.is_error(), "{}", out.content);
        assert_eq!(p.read("src/new/mod.rs"), b"pub fn a() {}\n");
        assert_eq!(out.content, "Created `src/new/mod.rs` (1 line).");
        assert!(
            out.diff
                .unwrap()
                .starts_with("--- /dev/null\n+++ b/src/new/mod.rs")
        );
        assert_eq!(out.changed_files[0].before, None);
        // The new file counts as read: it can be edited right away.
        let edit = p.run(
            "edit_file",
            json!({"path": "src/new/mod.rs", "old_string": "a()", "new_string": "b()"}),
        );
        assert!(!edit.is_error(), "{}", edit.content);
    }

    #[test]
    fn overwriting_requires_a_read() {
        let p = Project::new();
        p.write("a.txt", "old\n");
        let out = write(&p, "a.txt", "new\n");
        assert!(out.is_error());
        assert!(out.content.contains("have not read"), "{}", out.content);
        p.run("read_file", json!({"path": "a.txt"}));
        let out = write(&p, "a.txt", "new\n");
        assert!(!out.is_error(), "{}", out.content);
        assert!(out.content.contains("-old\n+new"), "{}", out.content);
        assert_eq!(out.changed_files[0].before.as_deref(), Some(&b"old\n"[..]));
    }

    #[test]
    fn overwriting_keeps_crlf_and_permissions() {
        let p = Project::new();
        p.write("w.bat", "a\r\nb\r\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(p.path("w.bat"), std::fs::Permissions::from_mode(0o700))
                .unwrap();
        }
        p.run("read_file", json!({"path": "w.bat"}));
        assert!(!write(&p, "w.bat", "x\ny\n").is_error());
        assert_eq!(p.read("w.bat"), b"x\r\ny\r\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(p.path("w.bat"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }

    #[test]
    fn refuses_git_dir_directories_and_escapes() {
        let p = Project::new();
        assert!(
            write(&p, ".git/hooks/pre-commit", "x")
                .content
                .contains(".git")
        );
        assert!(!p.path(".git").exists());
        assert!(
            write(&p, "/tmp/gem-escape.txt", "x")
                .content
                .contains("outside")
        );
        std::fs::create_dir(p.path("d")).unwrap();
        assert!(write(&p, "d", "x").content.contains("directory"));
    }

    #[cfg(unix)]
    #[test]
    fn fifo_target_is_refused_without_blocking() {
        let p = Project::new();
        p.make_fifo("pipe");
        let out = write(&p, "pipe", "x");
        assert!(out.is_error());
        assert!(
            out.content.contains("not a regular file"),
            "{}",
            out.content
        );
        assert!(
            std::fs::symlink_metadata(p.path("pipe"))
                .unwrap()
                .file_type()
                .is_fifo()
        );
    }

    #[cfg(unix)]
    #[test]
    fn directory_swapped_for_an_outside_symlink_after_prepare_writes_nothing_outside() {
        let p = Project::new();
        std::fs::create_dir(p.path("d")).unwrap();
        let outside = tempfile::tempdir().unwrap();
        let prepared = crate::tools::Registry::builtin()
            .get("write_file")
            .unwrap()
            .prepare(json!({"path": "d/new.txt", "content": "secret"}), &p.ctx)
            .unwrap();
        std::fs::remove_dir(p.path("d")).unwrap();
        std::os::unix::fs::symlink(outside.path(), p.path("d")).unwrap();
        let out = prepared.execute(&p.ctx);
        assert!(out.is_error(), "{}", out.content);
        assert!(out.content.contains("outside"), "{}", out.content);
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_inside_root_writes_through_to_its_target() {
        let p = Project::new();
        p.write("real.txt", "r\n");
        std::os::unix::fs::symlink(p.path("real.txt"), p.path("alias.txt")).unwrap();
        p.run("read_file", json!({"path": "alias.txt"}));
        assert!(!write(&p, "alias.txt", "changed\n").is_error());
        assert_eq!(p.read("real.txt"), b"changed\n");
        assert!(
            std::fs::symlink_metadata(p.path("alias.txt"))
                .unwrap()
                .is_symlink()
        );
    }
}
