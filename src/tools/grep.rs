//! `grep`: search file contents with ripgrep's engine, respecting `.gitignore`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use grep_regex::RegexMatcherBuilder;
use grep_searcher::{
    BinaryDetection, Searcher, SearcherBuilder, Sink, SinkContext, SinkContextKind, SinkMatch,
};
use ignore::types::TypesBuilder;
use schemars::JsonSchema;
use serde::Deserialize;

use super::args::parse_args;
use super::path_pattern::PathPattern;
use super::paths::{Access, ResolvedPath, canonical_root, display_path, resolve};
use super::regular_file::open_regular;
use super::schema::schema_for;
use super::text::truncate_chars;
use super::walk::project_walker;
use super::{Prepared, Tool, ToolContext, ToolError, ToolKind, ToolOutput};
use crate::plural::plural;

/// Results shown when no `max_results` is given.
const DEFAULT_MAX_RESULTS: usize = 100;
/// `max_results` is clamped to this.
const MAX_RESULTS_LIMIT: usize = 1000;
/// Matching lines are cut to this many characters.
const MAX_LINE_CHARS: usize = 300;
/// Context lines are clamped to this.
const MAX_CONTEXT: usize = 10;

/// Case sensitivity of the search.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseMode {
    /// Exact case.
    #[default]
    Sensitive,
    /// Ignore case.
    Insensitive,
    /// Ignore case unless the pattern has an uppercase letter.
    Smart,
}

/// What the search returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutputMode {
    /// Matching lines as `path:line:text` (context lines as `path-line-text`).
    #[default]
    Content,
    /// Only the paths of files that match.
    FilesWithMatches,
    /// `path:count` of matching lines per file.
    Count,
}

/// Arguments of `grep`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrepArgs {
    /// Regular expression (Rust regex syntax) to search for; plain text when literal is true.
    pub pattern: String,
    /// File or directory to search, relative to the project root (default: the whole project).
    pub path: Option<String>,
    /// Only search files matching this glob, e.g. `*.rs` or `src/**/*.ts`.
    pub glob: Option<String>,
    /// Only search files of this type, e.g. `rust`, `py`, `js`, `ts`, `go`, `md`.
    #[serde(rename = "type")]
    pub file_type: Option<String>,
    /// Treat pattern as plain text, not a regular expression.
    #[serde(default)]
    pub literal: bool,
    /// Case sensitivity (default sensitive).
    #[serde(default)]
    pub case: CaseMode,
    /// What to return (default content).
    #[serde(default)]
    pub output_mode: OutputMode,
    /// Lines of context before and after each match (content mode).
    pub context: Option<usize>,
    /// Lines of context before each match (content mode).
    pub before: Option<usize>,
    /// Lines of context after each match (content mode).
    pub after: Option<usize>,
    /// Let the pattern match across lines (`.` also matches newlines).
    #[serde(default)]
    pub multiline: bool,
    /// Maximum number of lines, files or counts to return (default 100).
    pub max_results: Option<usize>,
}

/// Searches file contents.
#[derive(Debug, Default)]
pub struct GrepTool;

impl Tool for GrepTool {
    fn name(&self) -> &'static str {
        "grep"
    }

    fn description(&self) -> &'static str {
        include_str!("../../tools/grep.md")
    }

    fn parameters_schema(&self) -> serde_json::Value {
        schema_for::<GrepArgs>()
    }

    fn kind(&self) -> ToolKind {
        ToolKind::Read
    }

    fn prepare(&self, args: serde_json::Value, ctx: &ToolContext) -> Result<Prepared, ToolError> {
        let args: GrepArgs = parse_args(self.name(), args)?;
        let base = resolve(ctx, args.path.as_deref().unwrap_or("."), Access::Read)?;
        // Check the pattern, glob and type now so mistakes are reported before running.
        build_matcher(&args)?;
        let pattern = args.glob.as_deref().map(PathPattern::new).transpose()?;
        build_types(args.file_type.as_deref())?;
        let summary = format!("grep `{}` in {}", args.pattern, base.display);
        Ok(Prepared::new(None, ToolKind::Read, summary, move |ctx| {
            search(ctx, &base, pattern.as_ref(), &args)
                .unwrap_or_else(|e| ToolOutput::error(e.to_string()))
        }))
    }
}

fn build_matcher(args: &GrepArgs) -> Result<grep_regex::RegexMatcher, ToolError> {
    let mut builder = RegexMatcherBuilder::new();
    builder
        .fixed_strings(args.literal)
        .case_insensitive(args.case == CaseMode::Insensitive)
        .case_smart(args.case == CaseMode::Smart);
    if args.multiline {
        builder.multi_line(true).dot_matches_new_line(true);
    } else {
        builder.line_terminator(Some(b'\n'));
    }
    builder.build(&args.pattern).map_err(|e| {
        ToolError::Failed(format!(
            "Invalid regular expression `{}`: {e}\nEscape special characters (e.g. `\\(`), or \
             set literal to true to search for the text as is.",
            args.pattern
        ))
    })
}

fn build_types(file_type: Option<&str>) -> Result<ignore::types::Types, ToolError> {
    let mut builder = TypesBuilder::new();
    builder.add_defaults();
    if let Some(name) = file_type {
        builder.select(name);
    }
    builder.build().map_err(|e| {
        ToolError::Failed(format!(
            "{e}. Use a ripgrep type name such as rust, py, js, ts, go, java, c, cpp, md, \
             json, toml, yaml, or use glob instead."
        ))
    })
}

/// What the search found so far.
#[derive(Default)]
struct Findings {
    /// Formatted output lines (content mode).
    lines: Vec<String>,
    /// Matching lines shown (content mode).
    shown: usize,
    /// Matching lines per file, in walk order.
    per_file: BTreeMap<PathBuf, usize>,
    /// Order files were found in.
    files: Vec<PathBuf>,
    /// Whether output is full (content mode).
    full: bool,
}

fn search(
    ctx: &ToolContext,
    resolved: &ResolvedPath,
    pattern: Option<&PathPattern>,
    args: &GrepArgs,
) -> Result<ToolOutput, ToolError> {
    let matcher = build_matcher(args)?;
    let types = build_types(args.file_type.as_deref())?;
    let max = args
        .max_results
        .unwrap_or(DEFAULT_MAX_RESULTS)
        .clamp(1, MAX_RESULTS_LIMIT);
    let content_mode = args.output_mode == OutputMode::Content;
    let context = args.context.unwrap_or(0);
    let before = args.before.unwrap_or(context).min(MAX_CONTEXT);
    let after = args.after.unwrap_or(context).min(MAX_CONTEXT);
    let mut searcher = SearcherBuilder::new()
        .line_number(true)
        .binary_detection(BinaryDetection::quit(0))
        .multi_line(args.multiline)
        .before_context(if content_mode { before } else { 0 })
        .after_context(if content_mode { after } else { 0 })
        .build();

    let root = canonical_root(ctx);
    let base = resolved.absolute.as_path();
    // Files are opened beneath this handle, so nothing outside can be read mid-walk.
    let allowed = resolved
        .open_base()
        .map_err(|e| ToolError::Failed(format!("Cannot search `{}`: {e}.", resolved.display)))?;
    let mut findings = Findings::default();
    let mut walker = project_walker(base);
    walker.types(types);
    for entry in walker.build() {
        if ctx.is_cancelled() {
            return Err(ToolError::Failed("grep was cancelled.".into()));
        }
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        let relative = path.strip_prefix(base).unwrap_or(path);
        if pattern.is_some_and(|p| !p.matches(relative)) && entry.depth() > 0 {
            continue;
        }
        let display = display_path(&root, path);
        let mut sink = Collector {
            display: &display,
            findings: &mut findings,
            max,
            content_mode,
            matched_here: 0,
            last_line: None,
        };
        // Unreadable files are skipped, as ripgrep does; so is anything that is not a regular
        // file once opened (a FIFO would block, a device never end).
        let Ok(below) = path.strip_prefix(&resolved.base) else {
            continue;
        };
        let Ok((file, _)) = open_regular(&allowed, below) else {
            continue;
        };
        if searcher
            .search_file(&matcher, &file.into_std(), &mut sink)
            .is_err()
        {
            continue;
        }
        let matched_here = sink.matched_here;
        if matched_here > 0 {
            findings.files.push(path.to_path_buf());
            findings.per_file.insert(path.to_path_buf(), matched_here);
        }
    }
    Ok(render(&root, args, &findings, max))
}

fn render(root: &Path, args: &GrepArgs, findings: &Findings, max: usize) -> ToolOutput {
    let total_lines: usize = findings.per_file.values().sum();
    let total_files = findings.files.len();
    if total_files == 0 {
        return ToolOutput::success(
            format!("No matches for `{}`.", args.pattern),
            "no matches".to_string(),
        );
    }
    let mut out = String::new();
    let summary = format!(
        "{} in {}",
        plural(total_lines, "matching line", "matching lines"),
        plural(total_files, "file", "files")
    );
    match args.output_mode {
        OutputMode::Content => {
            out.push_str(&findings.lines.join("\n"));
            let left_out = total_lines - findings.shown;
            if left_out > 0 {
                let _ = write!(
                    out,
                    "\n[Showing the first {} matching lines; {left_out} more matching lines \
                     were left out ({total_lines} in {total_files} files). Narrow the search \
                     with path, glob or type, or raise max_results.]",
                    findings.shown
                );
            }
        }
        OutputMode::FilesWithMatches | OutputMode::Count => {
            let count_mode = args.output_mode == OutputMode::Count;
            let shown: Vec<String> = findings
                .files
                .iter()
                .take(max)
                .map(|f| {
                    let name = display_path(root, f);
                    if count_mode {
                        format!("{name}:{}", findings.per_file.get(f).copied().unwrap_or(0))
                    } else {
                        name
                    }
                })
                .collect();
            out.push_str(&shown.join("\n"));
            if total_files > max {
                let _ = write!(
                    out,
                    "\n[{} more files were left out ({total_files} files match). Narrow the \
                     search with path, glob or type, or raise max_results.]",
                    total_files - max
                );
            }
        }
    }
    ToolOutput::success(out, summary)
}

/// Collects matches of one file into the findings.
struct Collector<'a> {
    display: &'a str,
    findings: &'a mut Findings,
    max: usize,
    content_mode: bool,
    matched_here: usize,
    last_line: Option<u64>,
}

impl Collector<'_> {
    fn push_line(&mut self, separator: char, number: u64, bytes: &[u8]) {
        if self.last_line.is_some_and(|last| number > last + 1) {
            self.findings.lines.push("--".to_string());
        }
        self.last_line = Some(number);
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim_end_matches(['\n', '\r']);
        let (kept, cut) = truncate_chars(text, MAX_LINE_CHARS);
        let mut line = format!("{}{separator}{number}{separator}{kept}", self.display);
        if cut > 0 {
            let _ = write!(line, "… [{cut} more characters]");
        }
        self.findings.lines.push(line);
    }
}

impl Sink for Collector<'_> {
    type Error = io::Error;

    fn matched(&mut self, _: &Searcher, mat: &SinkMatch<'_>) -> Result<bool, io::Error> {
        let first = mat.line_number().unwrap_or(0);
        for (offset, line) in mat.lines().enumerate() {
            self.matched_here += 1;
            if !self.content_mode {
                continue;
            }
            if self.findings.shown >= self.max {
                self.findings.full = true;
                continue;
            }
            self.findings.shown += 1;
            self.push_line(':', first + offset as u64, line);
        }
        Ok(true)
    }

    fn context(&mut self, _: &Searcher, context: &SinkContext<'_>) -> Result<bool, io::Error> {
        // Context is shown around shown matches only: before-context while there is room for
        // another match, after-context until the first match that was left out.
        let wanted = self.content_mode
            && match context.kind() {
                SinkContextKind::Before => self.findings.shown < self.max,
                SinkContextKind::After => !self.findings.full,
                SinkContextKind::Other => false,
            };
        if let (true, Some(number)) = (wanted, context.line_number()) {
            self.push_line('-', number, context.bytes());
        }
        Ok(true)
    }

    fn context_break(&mut self, _: &Searcher) -> Result<bool, io::Error> {
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use crate::tools::test_support::Project;
    use serde_json::json;

    fn project() -> Project {
        let p = Project::new();
        p.write(
            "src/main.rs",
            "fn main() {\n    let Answer = 42;\n    println!(\"{}\", answer);\n}\n",
        );
        p.write("src/lib.rs", "pub fn answer() -> u32 {\n    42\n}\n");
        p.write("notes.md", "The answer is 42.\n");
        p
    }

    #[test]
    fn content_mode_shows_path_line_and_text() {
        let p = project();
        let out = p.run("grep", json!({"pattern": "answer", "type": "rust"}));
        assert_eq!(
            out.content,
            "src/lib.rs:1:pub fn answer() -> u32 {\nsrc/main.rs:3:    println!(\"{}\", answer);"
        );
        assert_eq!(out.summary, "2 matching lines in 2 files");
    }

    #[test]
    fn case_modes() {
        let p = project();
        let insensitive = p.run(
            "grep",
            json!({"pattern": "answer", "case": "insensitive", "output_mode": "count"}),
        );
        assert_eq!(
            insensitive.content,
            "notes.md:1\nsrc/lib.rs:1\nsrc/main.rs:2"
        );
        let smart_lower = p.run(
            "grep",
            json!({"pattern": "answer", "case": "smart", "glob": "main.rs"}),
        );
        assert_eq!(smart_lower.content.lines().count(), 2);
        let smart_upper = p.run(
            "grep",
            json!({"pattern": "Answer", "case": "smart", "glob": "main.rs"}),
        );
        assert_eq!(smart_upper.content, "src/main.rs:2:    let Answer = 42;");
    }

    #[test]
    fn literal_and_invalid_regex() {
        let p = project();
        let out = p.run("grep", json!({"pattern": "answer)", "literal": true}));
        assert_eq!(out.content, "src/main.rs:3:    println!(\"{}\", answer);");
        let bad = p.run("grep", json!({"pattern": "answer)"}));
        assert!(bad.is_error());
        assert!(bad.content.contains("literal"), "{}", bad.content);
    }

    #[test]
    fn files_mode_with_glob_and_path() {
        let p = project();
        let out = p.run(
            "grep",
            json!({"pattern": "42", "output_mode": "files_with_matches"}),
        );
        assert_eq!(out.content, "notes.md\nsrc/lib.rs\nsrc/main.rs");
        let out = p.run(
            "grep",
            json!({"pattern": "42", "output_mode": "files_with_matches", "glob": "*.md"}),
        );
        assert_eq!(out.content, "notes.md");
        let out = p.run(
            "grep",
            json!({"pattern": "42", "output_mode": "files_with_matches", "path": "src"}),
        );
        assert_eq!(out.content, "src/lib.rs\nsrc/main.rs");
        let out = p.run("grep", json!({"pattern": "42", "path": "src/lib.rs"}));
        assert_eq!(out.content, "src/lib.rs:2:    42");
    }

    #[test]
    fn context_lines_and_separators() {
        let p = Project::new();
        p.write("a.txt", "1\n2\nhit\n4\n5\n6\n7\nhit\n9\n");
        let out = p.run("grep", json!({"pattern": "hit", "context": 1}));
        assert_eq!(
            out.content,
            "a.txt-2-2\na.txt:3:hit\na.txt-4-4\n--\na.txt-7-7\na.txt:8:hit\na.txt-9-9"
        );
    }

    #[test]
    fn respects_gitignore_and_skips_hidden_and_binary() {
        let p = project();
        p.write(".gitignore", "target/\n*.log\n");
        p.write("target/debug/out.rs", "answer\n");
        p.write("build.log", "answer\n");
        p.write(".hidden/x.rs", "answer\n");
        p.write("data.bin", b"answer\0\x01\x02");
        let out = p.run(
            "grep",
            json!({"pattern": "answer", "output_mode": "files_with_matches"}),
        );
        assert_eq!(out.content, "notes.md\nsrc/lib.rs\nsrc/main.rs");
    }

    #[test]
    fn results_are_capped_with_a_count_of_what_was_left_out() {
        let p = Project::new();
        let text: String = (0..50).map(|i| format!("match {i}\n")).collect();
        p.write("a.txt", &text);
        p.write("b.txt", &text);
        let out = p.run("grep", json!({"pattern": "match", "max_results": 10}));
        assert_eq!(
            out.content
                .lines()
                .filter(|l| l.contains(":match "))
                .count(),
            10
        );
        assert!(
            out.content
                .contains("90 more matching lines were left out (100 in 2 files)"),
            "{}",
            out.content
        );
        let out = p.run(
            "grep",
            json!({"pattern": "match", "max_results": 1, "output_mode": "files_with_matches"}),
        );
        assert_eq!(out.content.lines().next(), Some("a.txt"));
        assert!(
            out.content.contains("1 more files were left out"),
            "{}",
            out.content
        );
    }

    #[test]
    fn multiline_pattern() {
        let p = Project::new();
        p.write("a.txt", "start\nmiddle\nend\n");
        let out = p.run(
            "grep",
            json!({"pattern": "start.middle", "multiline": true}),
        );
        assert_eq!(out.content, "a.txt:1:start\na.txt:2:middle");
        let none = p.run("grep", json!({"pattern": "start.middle"}));
        assert_eq!(none.content, "No matches for `start.middle`.");
    }

    #[test]
    fn unknown_type_and_escape_are_errors() {
        let p = project();
        let out = p.run("grep", json!({"pattern": "x", "type": "klingon"}));
        assert!(out.is_error());
        assert!(out.content.contains("ripgrep type name"), "{}", out.content);
        assert!(
            p.run("grep", json!({"pattern": "x", "path": ".."}))
                .is_error()
        );
    }

    #[cfg(unix)]
    #[test]
    fn fifos_are_skipped_without_blocking() {
        let p = project();
        p.make_fifo("pipe.rs");
        p.make_fifo("src/pipe.md");
        let out = p.run(
            "grep",
            json!({"pattern": "answer", "output_mode": "files_with_matches"}),
        );
        assert!(!out.is_error(), "{}", out.content);
        assert_eq!(out.content, "notes.md\nsrc/lib.rs\nsrc/main.rs");
        let out = p.run("grep", json!({"pattern": "answer", "path": "pipe.rs"}));
        assert!(out.content.starts_with("No matches"), "{}", out.content);
    }
}
