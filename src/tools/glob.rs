//! `glob`: find files by name pattern, newest first, respecting `.gitignore`.

use std::path::PathBuf;
use std::time::SystemTime;

use schemars::JsonSchema;
use serde::Deserialize;

use super::args::parse_args;
use super::path_pattern::PathPattern;
use super::paths::{Access, canonical_root, display_path, resolve};
use super::schema::schema_for;
use super::walk::project_walker;
use super::{Prepared, Tool, ToolContext, ToolError, ToolKind, ToolOutput};
use crate::plural::plural;

/// Paths returned when no `max_results` is given.
const DEFAULT_MAX_RESULTS: usize = 100;
/// `max_results` is clamped to this.
const MAX_RESULTS_LIMIT: usize = 1000;

/// Arguments of `glob`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GlobArgs {
    /// Glob pattern, e.g. `*.rs` (file names at any depth) or `src/**/*.ts` (paths relative
    /// to the searched directory).
    pub pattern: String,
    /// Directory to search, relative to the project root (default: the whole project).
    pub path: Option<String>,
    /// Maximum number of paths to return (default 100).
    pub max_results: Option<usize>,
}

/// Finds files by pattern.
#[derive(Debug, Default)]
pub struct GlobTool;

impl Tool for GlobTool {
    fn name(&self) -> &'static str {
        "glob"
    }

    fn description(&self) -> &'static str {
        include_str!("../../tools/glob.md")
    }

    fn parameters_schema(&self) -> serde_json::Value {
        schema_for::<GlobArgs>()
    }

    fn kind(&self) -> ToolKind {
        ToolKind::Read
    }

    fn prepare(&self, args: serde_json::Value, ctx: &ToolContext) -> Result<Prepared, ToolError> {
        let args: GlobArgs = parse_args(self.name(), args)?;
        let base = resolve(ctx, args.path.as_deref().unwrap_or("."), Access::Read)?;
        let pattern = PathPattern::new(&args.pattern)?;
        let summary = format!("glob `{}` in {}", args.pattern, base.display);
        let max = args
            .max_results
            .unwrap_or(DEFAULT_MAX_RESULTS)
            .clamp(1, MAX_RESULTS_LIMIT);
        Ok(Prepared::new(None, ToolKind::Read, summary, move |ctx| {
            find(
                ctx,
                &base.absolute,
                &base.display,
                &pattern,
                &args.pattern,
                max,
            )
        }))
    }
}

fn find(
    ctx: &ToolContext,
    base: &std::path::Path,
    base_display: &str,
    pattern: &PathPattern,
    raw_pattern: &str,
    max: usize,
) -> ToolOutput {
    if !base.is_dir() {
        return ToolOutput::error(format!(
            "`{base_display}` is not a directory. Give a directory as path."
        ));
    }
    let mut found: Vec<(SystemTime, PathBuf)> = Vec::new();
    for entry in project_walker(base).build() {
        if ctx.is_cancelled() {
            return ToolOutput::error("glob was cancelled.");
        }
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let relative = entry.path().strip_prefix(base).unwrap_or(entry.path());
        if pattern.matches(relative) {
            let modified = entry
                .metadata()
                .ok()
                .and_then(|m| m.modified().ok())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            found.push((modified, entry.into_path()));
        }
    }
    if found.is_empty() {
        return ToolOutput::success(
            format!("No files match `{raw_pattern}` in `{base_display}`."),
            "no files",
        );
    }
    // Newest first; equal times in path order.
    found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let root = canonical_root(ctx);
    let total = found.len();
    let mut content: String = found
        .iter()
        .take(max)
        .map(|(_, path)| display_path(&root, path))
        .collect::<Vec<_>>()
        .join("\n");
    if total > max {
        content.push_str(&format!(
            "\n[{} more files were left out ({total} match). Use a more specific pattern or \
             path, or raise max_results.]",
            total - max
        ));
    }
    ToolOutput::success(content, plural(total, "file", "files"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::test_support::Project;
    use serde_json::json;
    use std::time::Duration;

    fn touch(p: &Project, rel: &str, seconds_ago: u64) {
        p.write(rel, "x");
        let time = SystemTime::now() - Duration::from_secs(seconds_ago);
        std::fs::File::options()
            .write(true)
            .open(p.path(rel))
            .unwrap()
            .set_modified(time)
            .unwrap();
    }

    #[test]
    fn newest_first() {
        let p = Project::new();
        touch(&p, "old.rs", 300);
        touch(&p, "src/newest.rs", 10);
        touch(&p, "src/middle.rs", 100);
        touch(&p, "README.md", 1);
        let out = p.run("glob", json!({"pattern": "*.rs"}));
        assert_eq!(out.content, "src/newest.rs\nsrc/middle.rs\nold.rs");
        assert_eq!(out.summary, "3 files");
    }

    #[cfg(unix)]
    #[test]
    fn fifos_are_not_listed() {
        let p = Project::new();
        touch(&p, "a.rs", 5);
        p.make_fifo("pipe.rs");
        let out = p.run("glob", json!({"pattern": "*.rs"}));
        assert_eq!(out.content, "a.rs");
    }

    #[test]
    fn path_patterns_and_base_directory() {
        let p = Project::new();
        touch(&p, "src/a/b.rs", 5);
        touch(&p, "src/c.rs", 10);
        touch(&p, "tests/t.rs", 1);
        let out = p.run("glob", json!({"pattern": "src/**/*.rs"}));
        assert_eq!(out.content, "src/a/b.rs\nsrc/c.rs");
        let out = p.run("glob", json!({"pattern": "a/*.rs", "path": "src"}));
        assert_eq!(out.content, "src/a/b.rs");
    }

    #[test]
    fn respects_gitignore_and_caps() {
        let p = Project::new();
        p.write(".gitignore", "target/\n");
        for i in 0..5 {
            touch(&p, &format!("f{i}.txt"), 10 * (i + 1));
        }
        touch(&p, "target/x.txt", 0);
        let out = p.run("glob", json!({"pattern": "*.txt", "max_results": 2}));
        assert_eq!(
            out.content,
            "f0.txt\nf1.txt\n[3 more files were left out (5 match). Use a more specific \
             pattern or path, or raise max_results.]"
        );
    }

    #[test]
    fn no_match_and_bad_input() {
        let p = Project::new();
        assert_eq!(
            p.run("glob", json!({"pattern": "*.zig"})).content,
            "No files match `*.zig` in `.`."
        );
        assert!(p.run("glob", json!({"pattern": "[" })).is_error());
        assert!(
            p.run("glob", json!({"pattern": "*", "path": "/"}))
                .is_error()
        );
    }
}
