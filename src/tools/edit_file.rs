//! `edit_file`: replace a unique piece of text in a file the model has read, returning the diff.

use schemars::JsonSchema;
use serde::Deserialize;

use super::args::parse_args;
use super::file_state::{
    current_bytes, require_fresh_read, require_unchanged_since_prepare, write_contents,
};
use super::fuzzy_match::{MatchError, MatchStrategy, replace};
use super::paths::{Access, ResolvedPath, resolve};
use super::schema::schema_for;
use super::text::{LineEnding, apply_line_ending, detect_line_ending, is_binary, to_lf};
use super::unified_diff::{diff_stat, unified_diff};
use super::{
    ChangedFile, Prepared, Preview, Tool, ToolContext, ToolError, ToolKind, ToolOutcome, ToolOutput,
};

/// Arguments of `edit_file`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EditFileArgs {
    /// Path of the file, relative to the project root.
    pub path: String,
    /// The exact text to replace, including indentation; must occur once unless replace_all.
    pub old_string: String,
    /// The text to put in its place.
    pub new_string: String,
    /// Replace every occurrence instead of requiring exactly one.
    #[serde(default)]
    pub replace_all: bool,
}

/// Replaces text in an existing file.
#[derive(Debug, Default)]
pub struct EditFileTool;

impl Tool for EditFileTool {
    fn name(&self) -> &'static str {
        "edit_file"
    }

    fn description(&self) -> &'static str {
        include_str!("../../tools/edit_file.md")
    }

    fn parameters_schema(&self) -> serde_json::Value {
        schema_for::<EditFileArgs>()
    }

    fn kind(&self) -> ToolKind {
        ToolKind::Edit
    }

    fn prepare(&self, args: serde_json::Value, ctx: &ToolContext) -> Result<Prepared, ToolError> {
        let args: EditFileArgs = parse_args(self.name(), args)?;
        let path = resolve(ctx, &args.path, Access::Write)?;
        let edit = plan_edit(ctx, &path, &args)?;
        let preview = Some(Preview::Diff(edit.diff.clone()));
        let summary = format!("edit {}", path.display);
        Ok(Prepared::new(
            preview,
            ToolKind::Edit,
            summary,
            move |ctx| apply_edit(ctx, &path, edit),
        ))
    }
}

/// A computed edit waiting for approval.
struct PlannedEdit {
    before: Vec<u8>,
    after: Vec<u8>,
    diff: String,
    strategy: MatchStrategy,
    count: usize,
}

fn plan_edit(
    ctx: &ToolContext,
    path: &ResolvedPath,
    args: &EditFileArgs,
) -> Result<PlannedEdit, ToolError> {
    let shown = &path.display;
    let Some(before) = current_bytes(path)? else {
        return Err(ToolError::Failed(format!(
            "`{shown}` does not exist. Use write_file to create a new file."
        )));
    };
    require_fresh_read(&ctx.read_tracker, path, &before)?;
    if is_binary(&before) {
        return Err(ToolError::Refused(format!(
            "`{shown}` is a binary file; edit_file only edits text."
        )));
    }
    let Ok(text) = std::str::from_utf8(&before) else {
        return Err(ToolError::Refused(format!(
            "`{shown}` is not valid UTF-8, so edit_file cannot change it safely. Use shell \
             (e.g. `iconv` or `sed`) if it really must change."
        )));
    };
    if args.old_string.is_empty() {
        return Err(ToolError::Failed(
            "old_string is empty. Give the exact text to replace (use write_file to replace \
             the whole file)."
                .into(),
        ));
    }
    if args.old_string == args.new_string {
        return Err(ToolError::Failed(
            "old_string and new_string are identical; there is nothing to change.".into(),
        ));
    }

    let ending = detect_line_ending(text);
    let (content, old, new) = match ending {
        LineEnding::Crlf => (
            to_lf(text),
            to_lf(&args.old_string),
            to_lf(&args.new_string),
        ),
        LineEnding::Lf => (
            text.to_string(),
            args.old_string.clone(),
            args.new_string.clone(),
        ),
    };
    let replaced =
        replace(&content, &old, &new, args.replace_all).map_err(|e| match_error(shown, e))?;
    let after_text = apply_line_ending(&replaced.text, ending);
    if after_text == text {
        return Err(ToolError::Failed(format!(
            "The edit would leave `{shown}` unchanged."
        )));
    }
    let diff = unified_diff(shown, Some(text), &after_text);
    Ok(PlannedEdit {
        before,
        after: after_text.into_bytes(),
        diff,
        strategy: replaced.strategy,
        count: replaced.count,
    })
}

fn match_error(shown: &str, error: MatchError) -> ToolError {
    match error {
        MatchError::NotFound => ToolError::Failed(format!(
            "old_string was not found in `{shown}`, not even ignoring whitespace. Read the file \
             again and copy the exact text, including indentation."
        )),
        MatchError::Ambiguous { strategy, lines } => {
            let lines: Vec<String> = lines.iter().map(usize::to_string).collect();
            let how = match strategy {
                MatchStrategy::Exact => String::new(),
                other => format!(" ({other})"),
            };
            ToolError::Failed(format!(
                "old_string matches {} places in `{shown}`{how}, starting at lines {}. Include \
                 more surrounding lines to make it unique, or set replace_all to true to change \
                 every one.",
                lines.len(),
                lines.join(", ")
            ))
        }
    }
}

fn apply_edit(ctx: &ToolContext, path: &ResolvedPath, edit: PlannedEdit) -> ToolOutput {
    let shown = &path.display;
    if let Err(e) = require_unchanged_since_prepare(path, Some(&edit.before)) {
        return ToolOutput::error(e.to_string());
    }
    if let Err(e) = write_contents(path, &edit.after) {
        return ToolOutput::error(e.to_string());
    }
    ctx.read_tracker.record(&path.absolute, &edit.after);
    let (added, removed) = diff_stat(&edit.diff);
    let mut content = format!("Edited `{shown}`: replaced {} occurrence(s).", edit.count);
    if edit.strategy != MatchStrategy::Exact {
        content.push_str(&format!(" Note: {}.", edit.strategy));
    }
    content.push_str("\n\n");
    content.push_str(&edit.diff);
    ToolOutput {
        outcome: ToolOutcome::Ok,
        content,
        summary: format!("edited {shown} (+{added} -{removed})"),
        diff: Some(edit.diff),
        changed_files: vec![ChangedFile {
            path: path.absolute.clone(),
            before: Some(edit.before),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::Registry;
    use crate::tools::test_support::Project;
    use serde_json::json;

    fn read(p: &Project, rel: &str) {
        let out = p.run("read_file", json!({ "path": rel }));
        assert!(!out.is_error(), "{}", out.content);
    }

    fn edit(p: &Project, rel: &str, old: &str, new: &str) -> ToolOutput {
        p.run(
            "edit_file",
            json!({"path": rel, "old_string": old, "new_string": new}),
        )
    }

    #[test]
    fn edits_after_read_and_returns_diff() {
        let p = Project::new();
        p.write("a.rs", "fn main() {\n    println!(\"hi\");\n}\n");
        read(&p, "a.rs");
        let out = edit(&p, "a.rs", "\"hi\"", "\"bye\"");
        assert!(!out.is_error(), "{}", out.content);
        assert_eq!(p.read("a.rs"), b"fn main() {\n    println!(\"bye\");\n}\n");
        let diff = out.diff.unwrap();
        assert!(
            diff.contains("-    println!(\"hi\");\n+    println!(\"bye\");"),
            "{diff}"
        );
        assert!(out.content.contains(&diff));
        assert_eq!(out.summary, "edited a.rs (+1 -1)");
        assert_eq!(
            out.changed_files[0].before.as_deref(),
            Some(&b"fn main() {\n    println!(\"hi\");\n}\n"[..])
        );
        // A second edit works without re-reading: the tracker saw our own write.
        assert!(!edit(&p, "a.rs", "bye", "ciao").is_error());
    }

    #[test]
    fn edit_without_read_is_refused() {
        let p = Project::new();
        p.write("a.txt", "x\n");
        let out = edit(&p, "a.txt", "x", "y");
        assert!(out.is_error());
        assert!(out.content.contains("have not read"), "{}", out.content);
        assert_eq!(p.read("a.txt"), b"x\n");
    }

    #[test]
    fn edit_after_external_change_is_refused() {
        let p = Project::new();
        p.write("a.txt", "x\n");
        read(&p, "a.txt");
        p.write("a.txt", "x changed\n");
        let out = edit(&p, "a.txt", "x", "y");
        assert!(out.is_error());
        assert!(out.content.contains("changed on disk"), "{}", out.content);
    }

    #[test]
    fn change_between_prepare_and_execute_is_not_overwritten() {
        let p = Project::new();
        p.write("a.txt", "x\n");
        read(&p, "a.txt");
        let registry = Registry::builtin();
        let prepared = registry
            .get("edit_file")
            .unwrap()
            .prepare(
                json!({"path": "a.txt", "old_string": "x", "new_string": "y"}),
                &p.ctx,
            )
            .unwrap();
        assert!(matches!(prepared.preview, Some(Preview::Diff(ref d)) if d.contains("+y")));
        assert_eq!(p.read("a.txt"), b"x\n", "prepare writes nothing");
        p.write("a.txt", "someone else\n");
        let out = prepared.execute(&p.ctx);
        assert!(out.is_error());
        assert_eq!(p.read("a.txt"), b"someone else\n");
    }

    #[test]
    fn ambiguous_old_string_is_refused_unless_replace_all() {
        let p = Project::new();
        p.write("a.txt", "v = 1\nw = 2\nv = 1\n");
        read(&p, "a.txt");
        let out = edit(&p, "a.txt", "v = 1", "v = 3");
        assert!(out.is_error());
        assert!(out.content.contains("matches 2 places"), "{}", out.content);
        assert!(out.content.contains("lines 1, 3"), "{}", out.content);
        let out = p.run(
            "edit_file",
            json!({"path": "a.txt", "old_string": "v = 1", "new_string": "v = 3", "replace_all": true}),
        );
        assert!(!out.is_error(), "{}", out.content);
        assert_eq!(p.read("a.txt"), b"v = 3\nw = 2\nv = 3\n");
    }

    #[test]
    fn whitespace_tolerant_match_is_reported() {
        let p = Project::new();
        p.write("a.py", "def f():\n    return 1   \n");
        read(&p, "a.py");
        let out = edit(&p, "a.py", "    return 1\n", "    return 2\n");
        assert!(!out.is_error(), "{}", out.content);
        assert!(
            out.content.contains("trailing whitespace"),
            "{}",
            out.content
        );
        assert_eq!(p.read("a.py"), b"def f():\n    return 2\n");

        let out = edit(&p, "a.py", "return 2", "return 3");
        assert!(!out.content.contains("Note:"), "exact match needs no note");

        let out = edit(&p, "a.py", "def f():\nreturn 3", "def f():\nreturn 4");
        assert!(!out.is_error(), "{}", out.content);
        assert!(
            out.content.contains("ignoring indentation"),
            "{}",
            out.content
        );
        assert_eq!(p.read("a.py"), b"def f():\n    return 4\n");
    }

    #[test]
    fn not_found_tells_the_model_what_to_do() {
        let p = Project::new();
        p.write("a.txt", "abc\n");
        read(&p, "a.txt");
        let out = edit(&p, "a.txt", "xyz", "q");
        assert!(out.is_error());
        assert!(out.content.contains("was not found"), "{}", out.content);
    }

    #[test]
    fn crlf_file_keeps_crlf() {
        let p = Project::new();
        p.write("w.txt", "one\r\ntwo\r\nthree\r\n");
        read(&p, "w.txt");
        let out = edit(&p, "w.txt", "one\ntwo\n", "one\n2\nextra\n");
        assert!(!out.is_error(), "{}", out.content);
        assert_eq!(p.read("w.txt"), b"one\r\n2\r\nextra\r\nthree\r\n");
        assert!(!out.diff.unwrap().contains('\r'));
    }

    #[test]
    fn non_utf8_and_binary_files_are_refused() {
        let p = Project::new();
        p.write("l.txt", b"caf\xe9\n");
        read(&p, "l.txt");
        let out = edit(&p, "l.txt", "caf", "bar");
        assert!(out.is_error());
        assert!(out.content.contains("not valid UTF-8"), "{}", out.content);
        assert_eq!(p.read("l.txt"), b"caf\xe9\n");
    }

    #[cfg(unix)]
    #[test]
    fn permissions_are_kept() {
        use std::os::unix::fs::PermissionsExt;
        let p = Project::new();
        p.write("run.sh", "echo a\n");
        std::fs::set_permissions(p.path("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
        read(&p, "run.sh");
        assert!(!edit(&p, "run.sh", "echo a", "echo b").is_error());
        let mode = std::fs::metadata(p.path("run.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
    }

    #[test]
    fn missing_file_and_identical_strings() {
        let p = Project::new();
        let out = edit(&p, "none.txt", "a", "b");
        assert!(out.content.contains("write_file"), "{}", out.content);
        p.write("a.txt", "a\n");
        read(&p, "a.txt");
        assert!(edit(&p, "a.txt", "a", "a").content.contains("identical"));
        assert!(edit(&p, "a.txt", "", "b").content.contains("empty"));
    }

    #[cfg(unix)]
    #[test]
    fn fifo_is_refused_without_blocking() {
        let p = Project::new();
        p.make_fifo("pipe");
        let out = edit(&p, "pipe", "a", "b");
        assert!(out.is_error());
        assert!(
            out.content
                .contains("named pipe (FIFO), not a regular file"),
            "{}",
            out.content
        );
    }

    #[test]
    fn git_dir_and_escapes_are_refused() {
        let p = Project::new();
        p.write(".git/config", "[core]\n");
        read(&p, ".git/config");
        let out = edit(&p, ".git/config", "core", "x");
        assert!(out.is_error());
        assert!(out.content.contains(".git"), "{}", out.content);
        let out = edit(&p, "../x.txt", "a", "b");
        assert!(out.content.contains("outside"), "{}", out.content);
    }
}
