//! `read_file`: a file's lines, numbered like `cat -n`, with explicit markers where output was
//! cut and how to read further.

use std::borrow::Cow;
use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::Deserialize;

use super::args::parse_args;
use super::paths::{Access, ResolvedPath, resolve};
use super::regular_file::{FileAccessError, read_regular};
use super::schema::schema_for;
use super::text::{is_binary, truncate_chars};
use super::{Prepared, Tool, ToolContext, ToolError, ToolKind, ToolOutput};

/// Lines returned when no `limit` is given.
const DEFAULT_LINE_LIMIT: usize = 2000;
/// Longer lines are cut to this many characters.
const MAX_LINE_CHARS: usize = 2000;
/// The output stops growing after this many bytes.
const MAX_OUTPUT_BYTES: usize = 100_000;
/// Larger files are not read at all (the cap also holds while reading).
const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Arguments of `read_file`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadFileArgs {
    /// Path of the file, relative to the project root.
    pub path: String,
    /// 1-based line number to start reading at (default 1).
    pub offset: Option<usize>,
    /// Maximum number of lines to return (default 2000).
    pub limit: Option<usize>,
}

/// Reads a text file with line numbers.
#[derive(Debug, Default)]
pub struct ReadFileTool;

impl Tool for ReadFileTool {
    fn name(&self) -> &'static str {
        "read_file"
    }

    fn description(&self) -> &'static str {
        include_str!("../../tools/read_file.md")
    }

    fn parameters_schema(&self) -> serde_json::Value {
        schema_for::<ReadFileArgs>()
    }

    fn kind(&self) -> ToolKind {
        ToolKind::Read
    }

    fn prepare(&self, args: serde_json::Value, ctx: &ToolContext) -> Result<Prepared, ToolError> {
        let args: ReadFileArgs = parse_args(self.name(), args)?;
        let path = resolve(ctx, &args.path, Access::Read)?;
        let summary = format!("read {}", path.display);
        Ok(Prepared::new(None, ToolKind::Read, summary, move |ctx| {
            read(ctx, &path, args.offset, args.limit)
                .unwrap_or_else(|e| ToolOutput::error(e.to_string()))
        }))
    }
}

fn read(
    ctx: &ToolContext,
    path: &ResolvedPath,
    offset: Option<usize>,
    limit: Option<usize>,
) -> Result<ToolOutput, ToolError> {
    let shown = &path.display;
    let base = path
        .open_base()
        .map_err(|e| ToolError::Failed(format!("Cannot read `{shown}`: {e}.")))?;
    let bytes = read_regular(&base, path.relative_or_dot(), MAX_FILE_BYTES).map_err(|e| match e {
        FileAccessError::NotFound => ToolError::Failed(format!(
            "Cannot read `{shown}`: it does not exist. Use glob to find the right path."
        )),
        FileAccessError::Directory => ToolError::Failed(format!(
            "`{shown}` is a directory, not a file. Use glob (e.g. pattern `{shown}/*`) to list it."
        )),
        FileAccessError::TooLarge { size, .. } => ToolError::Failed(format!(
            "`{shown}` is too large to read ({size} bytes; the limit is {MAX_FILE_BYTES}). Use \
             grep to find what you need, or shell with `sed -n 'START,ENDp'`."
        )),
        other => other.for_model(shown),
    })?;
    if is_binary(&bytes) {
        return Err(ToolError::Failed(format!(
            "`{shown}` is a binary file ({} bytes); its contents are not shown.",
            bytes.len()
        )));
    }
    ctx.read_tracker.record(&path.absolute, &bytes);

    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    let total = lines.len();
    let mut out = String::new();
    if matches!(text, Cow::Owned(_)) {
        out.push_str(
            "[The file is not valid UTF-8: invalid bytes are shown as \u{FFFD}. edit_file \
             cannot change it.]\n",
        );
    }
    if total == 0 {
        out.push_str("[The file is empty.]");
        return Ok(ToolOutput::success(out, format!("read {shown} (empty)")));
    }
    let first = offset.unwrap_or(1).max(1);
    if first > total {
        return Err(ToolError::Failed(format!(
            "offset {first} is past the end of `{shown}`, which has {total} lines."
        )));
    }
    let limit = limit.unwrap_or(DEFAULT_LINE_LIMIT).max(1);
    let mut last = first - 1;
    let mut truncated_lines = 0;
    let mut hit_byte_cap = false;
    for (index, line) in lines.iter().enumerate().skip(first - 1).take(limit) {
        if out.len() >= MAX_OUTPUT_BYTES {
            hit_byte_cap = true;
            break;
        }
        let (kept, cut) = truncate_chars(line, MAX_LINE_CHARS);
        // Writing to a String cannot fail.
        let _ = write!(out, "{:>6}\t{kept}", index + 1);
        if cut > 0 {
            truncated_lines += 1;
            let _ = write!(out, "… [line truncated: {cut} more characters]");
        }
        out.push('\n');
        last = index + 1;
    }
    if truncated_lines > 0 {
        let _ = writeln!(
            out,
            "[{truncated_lines} line(s) were cut at {MAX_LINE_CHARS} characters; use grep or \
             shell to see them in full.]"
        );
    }
    if last < total {
        let why = if hit_byte_cap {
            format!("Output capped at {MAX_OUTPUT_BYTES} bytes. ")
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "[{why}Showing lines {first}-{last} of {total}. To read more, call read_file with \
             offset={}.]",
            last + 1
        );
    }
    let summary = format!("read {shown} (lines {first}-{last} of {total})");
    Ok(ToolOutput::success(out.trim_end().to_string(), summary))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::test_support::Project;
    use serde_json::json;

    #[test]
    fn numbers_lines_and_records_the_read() {
        let p = Project::new();
        p.write("a.txt", "alpha\r\nbeta\r\n");
        let out = p.run("read_file", json!({"path": "a.txt"}));
        assert!(!out.is_error(), "{}", out.content);
        assert_eq!(out.content, "     1\talpha\n     2\tbeta");
        assert_eq!(out.summary, "read a.txt (lines 1-2 of 2)");
        assert!(p.ctx.read_tracker.has_read(&p.path("a.txt")));
    }

    #[test]
    fn offset_and_limit_with_marker_to_read_further() {
        let p = Project::new();
        let text: String = (1..=10).map(|i| format!("line {i}\n")).collect();
        p.write("a.txt", text);
        let out = p.run(
            "read_file",
            json!({"path": "a.txt", "offset": 3, "limit": 2}),
        );
        assert_eq!(
            out.content,
            "     3\tline 3\n     4\tline 4\n[Showing lines 3-4 of 10. To read more, call \
             read_file with offset=5.]"
        );
        let err = p.run("read_file", json!({"path": "a.txt", "offset": 11}));
        assert!(err.is_error());
        assert!(err.content.contains("has 10 lines"), "{}", err.content);
    }

    #[test]
    fn long_file_is_cut_at_default_limit() {
        let p = Project::new();
        let text: String = (1..=2500).map(|i| format!("{i}\n")).collect();
        p.write("big.txt", text);
        let out = p.run("read_file", json!({"path": "big.txt"}));
        assert!(out.content.contains("  2000\t2000\n"));
        assert!(!out.content.contains("\t2001"));
        assert!(out.content.ends_with("offset=2001.]"), "{}", out.content);
    }

    #[test]
    fn huge_output_is_capped_by_bytes() {
        let p = Project::new();
        let line = "x".repeat(1500);
        let text: String = (0..200).map(|_| format!("{line}\n")).collect();
        p.write("wide.txt", text);
        let out = p.run("read_file", json!({"path": "wide.txt"}));
        assert!(out.content.len() < MAX_OUTPUT_BYTES + 2000);
        assert!(
            out.content.contains("Output capped"),
            "{}",
            &out.content[out.content.len() - 200..]
        );
    }

    #[test]
    fn file_over_the_size_limit_is_refused_without_reading() {
        let p = Project::new();
        let file = std::fs::File::create(p.path("huge.log")).unwrap();
        file.set_len(MAX_FILE_BYTES + 1).unwrap(); // sparse: no real disk use
        let out = p.run("read_file", json!({"path": "huge.log"}));
        assert!(out.is_error());
        assert!(out.content.contains("too large to read"), "{}", out.content);
        assert!(!p.ctx.read_tracker.has_read(&p.path("huge.log")));
    }

    #[test]
    fn long_line_is_truncated_with_marker() {
        let p = Project::new();
        p.write(
            "l.txt",
            format!("{}\nshort\n", "y".repeat(MAX_LINE_CHARS + 5)),
        );
        let out = p.run("read_file", json!({"path": "l.txt"}));
        assert!(
            out.content
                .contains("… [line truncated: 5 more characters]")
        );
        assert!(out.content.contains("     2\tshort"));
    }

    #[test]
    fn binary_file_is_refused() {
        let p = Project::new();
        p.write("img.png", b"\x89PNG\r\n\x1a\n\0\0\0");
        let out = p.run("read_file", json!({"path": "img.png"}));
        assert!(out.is_error());
        assert!(out.content.contains("binary file"), "{}", out.content);
    }

    #[test]
    fn non_utf8_is_shown_lossily_with_a_note() {
        let p = Project::new();
        p.write("latin1.txt", b"caf\xe9\n");
        let out = p.run("read_file", json!({"path": "latin1.txt"}));
        assert!(!out.is_error());
        assert!(out.content.contains("not valid UTF-8"));
        assert!(out.content.contains("caf\u{FFFD}"));
    }

    #[test]
    fn missing_directory_and_empty_files() {
        let p = Project::new();
        assert!(p.run("read_file", json!({"path": "nope.txt"})).is_error());
        std::fs::create_dir(p.path("dir")).unwrap();
        let out = p.run("read_file", json!({"path": "dir"}));
        assert!(out.content.contains("is a directory"), "{}", out.content);
        p.write("empty.txt", "");
        assert_eq!(
            p.run("read_file", json!({"path": "empty.txt"})).content,
            "[The file is empty.]"
        );
    }

    #[cfg(unix)]
    #[test]
    fn fifo_and_character_device_are_refused_without_reading() {
        let p = Project::new();
        p.make_fifo("pipe");
        let out = p.run("read_file", json!({"path": "pipe"}));
        assert!(out.is_error());
        assert!(
            out.content
                .contains("is a named pipe (FIFO), not a regular file"),
            "{}",
            out.content
        );
        let zero = p.run("read_file", json!({"path": "/dev/zero"}));
        assert!(zero.content.contains("outside"), "{}", zero.content);
        let ctx = p
            .ctx
            .clone()
            .with_extra_dirs([std::path::PathBuf::from("/dev")]);
        let out = crate::tools::run_tool(
            &crate::tools::Registry::builtin(),
            "read_file",
            json!({"path": "/dev/zero"}),
            &ctx,
        );
        assert!(
            out.content.contains("is a character device"),
            "{}",
            out.content
        );
    }

    #[test]
    fn path_outside_root_is_refused() {
        let p = Project::new();
        let out = p.run("read_file", json!({"path": "../../etc/passwd"}));
        assert!(out.is_error());
        assert!(
            out.content.contains("outside the project root"),
            "{}",
            out.content
        );
    }

    #[test]
    fn missing_path_argument_explains_parameters() {
        let p = Project::new();
        let out = p.run("read_file", json!({"file": "a"}));
        assert!(out.is_error());
        assert!(
            out.content.contains("unknown field `file`"),
            "{}",
            out.content
        );
        assert!(
            out.content.contains("- path (string, required)"),
            "{}",
            out.content
        );
    }
}
