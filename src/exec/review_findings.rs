//! `git diff | gem review`: reading the model's review findings out of its answer, printing
//! them as text, JSON or GitHub workflow commands, and deciding whether CI should fail.
//!
//! The model is asked for a JSON array `[{file, line, severity, title, body}]` in a ```json
//! block. Small models drift, so parsing is tolerant: bare arrays, `{"findings": [...]}`,
//! trailing commas, severity synonyms, lines given as strings and missing fields are all
//! accepted.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A bug or something that must be fixed before merging.
    Error,
    /// Likely a problem; worth a look.
    Warning,
    /// A remark or suggestion.
    Info,
}

impl Severity {
    /// Maps the model's wording (`"err"`, `"warn"`, `"nit"`, `"critical"` …) to a severity;
    /// words it does not know become [`Severity::Warning`].
    pub fn from_model_word(word: &str) -> Severity {
        match word.trim().to_ascii_lowercase().as_str() {
            "error" | "err" | "errors" | "critical" | "fatal" | "blocker" | "bug" | "high"
            | "severe" | "major" => Severity::Error,
            "info" | "information" | "note" | "notice" | "nit" | "nitpick" | "minor" | "low"
            | "suggestion" | "style" | "hint" | "trivial" => Severity::Info,
            _ => Severity::Warning,
        }
    }

    /// The lowercase name: `error`, `warning` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One problem the reviewing model found in the diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Path of the file, relative to the repository root; empty for a general remark.
    pub file: String,
    /// 1-based line in the new version of the file, when the model gave one.
    pub line: Option<u32>,
    /// How serious it is.
    pub severity: Severity,
    /// One-line summary.
    pub title: String,
    /// Explanation; may be empty.
    #[serde(default)]
    pub body: String,
}

/// Why the model's answer held no usable findings.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FindingsError {
    /// The answer had no JSON array at all.
    #[error(
        "the model's review contains no JSON findings: expected a ```json block holding an array \
         like [{{\"file\": \"src/x.rs\", \"line\": 3, \"severity\": \"warning\", \"title\": \"…\", \
         \"body\": \"…\"}}], or [] for no findings; run `gem review` again, or try a larger model"
    )]
    NoJson,
    /// JSON was there but was not a list of findings.
    #[error(
        "the model's review has JSON that is not a list of findings ({reason}); expected an \
         array of objects with file, line, severity, title and body; run `gem review` again"
    )]
    NotFindings {
        /// What was wrong with the best candidate.
        reason: String,
    },
}

/// Reads findings out of the model's answer.
///
/// Takes the last fenced ```json (or untagged) block that holds findings, else the first
/// top-level JSON array in the text that does. `[]` means "no findings" and is valid.
/// Entries that are not objects or have neither title nor body are skipped.
pub fn parse_findings(model_text: &str) -> Result<Vec<Finding>, FindingsError> {
    let mut last_reason = None;
    for block in fenced_blocks(model_text).iter().rev() {
        if !block.is_json_candidate() {
            continue;
        }
        match findings_from_json_text(block.body.trim()) {
            Ok(findings) => return Ok(findings),
            Err(reason) => last_reason = Some(reason),
        }
    }
    for (start, _) in model_text.match_indices('[') {
        let mut stream = serde_json::Deserializer::from_str(&model_text[start..]).into_iter();
        if let Some(Ok(value)) = stream.next() {
            match findings_from_value(value) {
                Ok(findings) => return Ok(findings),
                Err(reason) => {
                    last_reason.get_or_insert(reason);
                }
            }
        }
    }
    match last_reason {
        Some(reason) => Err(FindingsError::NotFindings { reason }),
        None => Err(FindingsError::NoJson),
    }
}

/// A fenced code block: its info string (language tag) and contents.
struct FencedBlock<'a> {
    tag: &'a str,
    body: String,
}

impl FencedBlock<'_> {
    /// Whether the block may hold the JSON answer: tagged json/jsonc/json5 or untagged.
    fn is_json_candidate(&self) -> bool {
        let tag = self.tag.to_ascii_lowercase();
        tag.is_empty() || tag.starts_with("json")
    }
}

/// Splits Markdown text into its fenced code blocks (``` or ~~~); an unclosed block runs
/// to the end of the text, as when the model is cut off.
fn fenced_blocks(text: &str) -> Vec<FencedBlock<'_>> {
    let mut blocks = Vec::new();
    let mut open: Option<(&str, FencedBlock<'_>)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        match open.as_mut() {
            None => {
                for fence in ["```", "~~~"] {
                    if let Some(rest) = trimmed.strip_prefix(fence) {
                        let tag = rest.trim_start_matches(&fence[..1]).trim();
                        let tag = tag.split_whitespace().next().unwrap_or("");
                        let block = FencedBlock {
                            tag,
                            body: String::new(),
                        };
                        open = Some((fence, block));
                        break;
                    }
                }
            }
            Some((fence, block)) => {
                if trimmed.starts_with(*fence)
                    && trimmed.trim_start_matches(&fence[..1]).trim().is_empty()
                {
                    if let Some((_, block)) = open.take() {
                        blocks.push(block);
                    }
                } else {
                    block.body.push_str(line);
                    block.body.push('\n');
                }
            }
        }
    }
    if let Some((_, block)) = open {
        blocks.push(block);
    }
    blocks
}

/// Parses JSON text into findings, retrying once without trailing commas.
fn findings_from_json_text(text: &str) -> Result<Vec<Finding>, String> {
    let value = match serde_json::from_str::<Value>(text) {
        Ok(value) => value,
        Err(first) => serde_json::from_str::<Value>(&without_trailing_commas(text))
            .map_err(|_| format!("invalid JSON: {first}"))?,
    };
    findings_from_value(value)
}

/// Removes commas that directly precede `]` or `}` outside strings.
fn without_trailing_commas(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some(']') | Some('}')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Turns a JSON value (an array, or an object with a `findings` array) into findings.
fn findings_from_value(value: Value) -> Result<Vec<Finding>, String> {
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut object) => match object.remove("findings") {
            Some(Value::Array(items)) => items,
            _ => return Err("an object without a \"findings\" array".to_string()),
        },
        other => return Err(format!("a JSON {} instead of an array", json_kind(&other))),
    };
    if !items.is_empty() && !items.iter().any(Value::is_object) {
        return Err("an array without any objects".to_string());
    }
    Ok(items
        .into_iter()
        .filter_map(|item| match item {
            Value::Object(object) => finding_from_object(&object),
            _ => None,
        })
        .collect())
}

/// The name of a JSON value's type, for error messages.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Builds a finding from one object, accepting common alternative key names.
fn finding_from_object(object: &Map<String, Value>) -> Option<Finding> {
    let text_of = |keys: &[&str]| {
        keys.iter()
            .filter_map(|key| object.get(*key))
            .find_map(|value| match value {
                Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_string()),
                _ => None,
            })
    };
    let mut title = text_of(&["title", "summary", "message", "issue"]);
    let body =
        text_of(&["body", "description", "details", "explanation", "comment"]).unwrap_or_default();
    if title.is_none() && !body.is_empty() {
        title = body.lines().next().map(str::to_string);
    }
    let title = title?;
    let body = if body == title { String::new() } else { body };
    let severity = text_of(&["severity", "level", "type", "kind"])
        .map(|word| Severity::from_model_word(&word))
        .unwrap_or(Severity::Warning);
    let line = [
        "line",
        "line_number",
        "lineNumber",
        "start_line",
        "startLine",
    ]
    .iter()
    .filter_map(|key| object.get(*key))
    .find_map(line_number);
    let file = text_of(&["file", "path", "filename", "file_path"]).unwrap_or_default();
    Some(Finding {
        file,
        line,
        severity,
        title,
        body,
    })
}

/// A positive line number from a JSON number or a string like `"12"`, `"L12"` or `"12-15"`.
fn line_number(value: &Value) -> Option<u32> {
    let number = match value {
        Value::Number(number) => number
            .as_u64()
            .or_else(|| number.as_f64().filter(|n| *n >= 1.0).map(|n| n as u64))?,
        Value::String(text) => {
            let text = text.trim().trim_start_matches(['L', 'l']);
            let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()?
        }
        _ => return None,
    };
    u32::try_from(number).ok().filter(|line| *line > 0)
}

/// How `gem review` prints its findings (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReviewFormat {
    /// For people: `file:line: severity: title` and the indented body.
    #[default]
    Text,
    /// A pretty-printed JSON array of findings.
    Json,
    /// GitHub Actions workflow commands (`::error file=…,line=…,title=…::body`), which show
    /// up as annotations on the pull request.
    Github,
}

/// Renders findings in the chosen format; every format ends with a newline.
pub fn format_findings(findings: &[Finding], format: ReviewFormat) -> String {
    match format {
        ReviewFormat::Text => format_text(findings),
        ReviewFormat::Json => {
            // Serialising plain structs of strings and numbers into a String cannot fail.
            let json = serde_json::to_string_pretty(findings).unwrap_or_else(|_| "[]".into());
            json + "\n"
        }
        ReviewFormat::Github => findings.iter().map(github_command).collect(),
    }
}

/// The human-readable listing, with a count at the end.
fn format_text(findings: &[Finding]) -> String {
    let mut out = String::new();
    for finding in findings {
        let location = match (finding.file.as_str(), finding.line) {
            ("", _) => String::new(),
            (file, Some(line)) => format!("{file}:{line}: "),
            (file, None) => format!("{file}: "),
        };
        let _ = writeln!(
            out,
            "{location}{}: {}",
            finding.severity.as_str(),
            finding.title
        );
        for line in finding.body.lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
    out.push_str(&count_line(findings));
    out.push('\n');
    out
}

/// "No findings." or "3 findings: 1 error, 2 warnings, 0 info".
fn count_line(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "No findings.".to_string();
    }
    let count = |severity| findings.iter().filter(|f| f.severity == severity).count();
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    format!(
        "{}: {}, {}, {} info",
        plural(findings.len(), "finding"),
        plural(count(Severity::Error), "error"),
        plural(count(Severity::Warning), "warning"),
        count(Severity::Info)
    )
}

/// One GitHub workflow command line for a finding.
fn github_command(finding: &Finding) -> String {
    let command = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let mut properties = Vec::new();
    if !finding.file.is_empty() {
        properties.push(format!("file={}", escape_github_property(&finding.file)));
        if let Some(line) = finding.line {
            properties.push(format!("line={line}"));
        }
    }
    properties.push(format!("title={}", escape_github_property(&finding.title)));
    let message = if finding.body.is_empty() {
        &finding.title
    } else {
        &finding.body
    };
    format!(
        "::{command} {}::{}\n",
        properties.join(","),
        escape_github_data(message)
    )
}

/// GitHub's escaping for a workflow command's message.
fn escape_github_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub's escaping for a workflow command's property value.
fn escape_github_property(text: &str) -> String {
    escape_github_data(text)
        .replace(':', "%3A")
        .replace(',', "%2C")
}

/// Which findings make `gem review` exit non-zero (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FailOn {
    /// Fail when any finding is an error.
    #[default]
    Error,
    /// Fail when any finding is an error or a warning.
    Warning,
    /// Never fail because of findings.
    Never,
}

/// Whether the findings reach the `fail_on` threshold.
pub fn should_fail(findings: &[Finding], fail_on: FailOn) -> bool {
    let threshold = match fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Never => return false,
    };
    findings.iter().any(|finding| finding.severity <= threshold)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(severity: Severity) -> Finding {
        Finding {
            file: "src/lib.rs".into(),
            line: Some(7),
            severity,
            title: "Off by one".into(),
            body: "The loop skips the last item.".into(),
        }
    }

    #[test]
    fn parses_a_fenced_json_block() {
        let text = "I reviewed the diff.\n\n```json\n[\n  {\"file\": \"src/lib.rs\", \"line\": 7, \"severity\": \"error\", \"title\": \"Off by one\", \"body\": \"The loop skips the last item.\"}\n]\n```\nThat's all.";
        assert_eq!(
            parse_findings(text).unwrap(),
            vec![finding(Severity::Error)]
        );
    }

    #[test]
    fn takes_the_last_fenced_json_block() {
        let text = "Example format:\n```json\n[{\"file\": \"a.rs\", \"title\": \"example\", \"severity\": \"info\"}]\n```\nMy answer:\n```json\n[{\"file\": \"b.rs\", \"title\": \"real\", \"severity\": \"warning\"}]\n```\n";
        let findings = parse_findings(text).unwrap();
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].file, "b.rs");
        assert_eq!(findings[0].title, "real");
    }

    #[test]
    fn skips_non_json_fenced_blocks() {
        let text = "```json\n[{\"file\": \"a.rs\", \"title\": \"kept\"}]\n```\n```rust\nlet x = [1, 2];\n```\n";
        let findings = parse_findings(text).unwrap();
        assert_eq!(findings[0].title, "kept");
    }

    #[test]
    fn parses_a_bare_array_amid_prose() {
        let text = "Looking at line [12] closely.\nFindings: [{\"file\": \"x.py\", \"line\": \"12\", \"severity\": \"warn\", \"title\": \"Unused import\"}] Done.";
        let findings = parse_findings(text).unwrap();
        assert_eq!(
            findings,
            vec![Finding {
                file: "x.py".into(),
                line: Some(12),
                severity: Severity::Warning,
                title: "Unused import".into(),
                body: String::new(),
            }]
        );
    }

    #[test]
    fn empty_array_means_no_findings() {
        assert_eq!(parse_findings("```json\n[]\n```").unwrap(), vec![]);
        assert_eq!(parse_findings("No issues found. []").unwrap(), vec![]);
    }

    #[test]
    fn text_without_json_is_a_clear_error() {
        let error = parse_findings("The change looks good to me!").unwrap_err();
        assert_eq!(error, FindingsError::NoJson);
        assert!(error.to_string().contains("```json"), "{error}");
        assert!(error.to_string().contains("[] for no findings"), "{error}");
    }

    #[test]
    fn json_that_is_not_findings_is_reported() {
        let error = parse_findings("```json\n{\"verdict\": \"ok\"}\n```").unwrap_err();
        assert!(
            matches!(error, FindingsError::NotFindings { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("findings"), "{error}");
    }

    #[test]
    fn maps_severity_words() {
        let cases = [
            ("error", Severity::Error),
            ("ERR", Severity::Error),
            ("critical", Severity::Error),
            ("warning", Severity::Warning),
            ("Warn", Severity::Warning),
            ("medium", Severity::Warning),
            ("something odd", Severity::Warning),
            ("info", Severity::Info),
            ("nit", Severity::Info),
            ("notice", Severity::Info),
        ];
        for (word, expected) in cases {
            assert_eq!(Severity::from_model_word(word), expected, "{word}");
        }
    }

    #[test]
    fn tolerates_drift_in_keys_and_values() {
        let text = r#"```json
{"findings": [
  {"path": "a.rs", "line": "L40-42", "level": "err", "summary": "Panics on empty input"},
  {"file": "b.rs", "line": 3.0, "severity": "nit", "description": "Rename this.\nIt is unclear."},
  {"file": "c.rs", "line": 0, "title": "Line zero is no line"},
  {"file": "d.rs", "line": "top", "title": "Not a number"},
  "stray string",
  {"file": "e.rs"},
]}
```"#;
        let findings = parse_findings(text).unwrap();
        assert_eq!(findings.len(), 4, "{findings:?}");
        assert_eq!(findings[0].file, "a.rs");
        assert_eq!(findings[0].line, Some(40));
        assert_eq!(findings[0].severity, Severity::Error);
        assert_eq!(findings[0].title, "Panics on empty input");
        assert_eq!(findings[1].title, "Rename this.");
        assert_eq!(findings[1].body, "Rename this.\nIt is unclear.");
        assert_eq!(findings[1].line, Some(3));
        assert_eq!(findings[1].severity, Severity::Info);
        assert_eq!(findings[2].line, None);
        assert_eq!(findings[3].line, None);
        assert_eq!(findings[3].severity, Severity::Warning);
    }

    #[test]
    fn unclosed_fence_still_parses() {
        let text = "```json\n[{\"file\": \"a.rs\", \"title\": \"cut off\"}]\n";
        assert_eq!(parse_findings(text).unwrap()[0].title, "cut off");
    }

    #[test]
    fn trailing_comma_removal_leaves_strings_alone() {
        assert_eq!(
            without_trailing_commas(r#"[{"a": "x, ]",}, ]"#),
            r#"[{"a": "x, ]"} ]"#
        );
    }

    #[test]
    fn text_format_lists_findings_and_counts() {
        let mut general = finding(Severity::Info);
        general.file.clear();
        general.line = None;
        general.body = "first\nsecond".into();
        let text = format_findings(&[finding(Severity::Error), general], ReviewFormat::Text);
        assert_eq!(
            text,
            "src/lib.rs:7: error: Off by one\n    The loop skips the last item.\n\
             info: Off by one\n    first\n    second\n\
             2 findings: 1 error, 0 warnings, 1 info\n"
        );
        assert_eq!(format_findings(&[], ReviewFormat::Text), "No findings.\n");
    }

    #[test]
    fn json_format_round_trips() {
        let findings = vec![finding(Severity::Warning), finding(Severity::Info)];
        let json = format_findings(&findings, ReviewFormat::Json);
        assert!(json.contains("\"severity\": \"warning\""), "{json}");
        let back: Vec<Finding> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, findings);
        assert_eq!(parse_findings(&json).unwrap(), findings);
    }

    #[test]
    fn github_format_emits_escaped_workflow_commands() {
        let tricky = Finding {
            file: "src/a,b:c.rs".into(),
            line: Some(3),
            severity: Severity::Warning,
            title: "100% wrong: really, truly".into(),
            body: "line one\r\nline two: 50%".into(),
        };
        let mut no_body = finding(Severity::Info);
        no_body.body.clear();
        no_body.line = None;
        let out = format_findings(
            &[finding(Severity::Error), tricky, no_body],
            ReviewFormat::Github,
        );
        assert_eq!(
            out,
            "::error file=src/lib.rs,line=7,title=Off by one::The loop skips the last item.\n\
             ::warning file=src/a%2Cb%3Ac.rs,line=3,title=100%25 wrong%3A really%2C truly::line one%0D%0Aline two: 50%25\n\
             ::notice file=src/lib.rs,title=Off by one::Off by one\n"
        );
    }

    #[test]
    fn formats_and_levels_parse_from_names() {
        use clap::ValueEnum;
        assert_eq!(
            ReviewFormat::from_str("GitHub", true),
            Ok(ReviewFormat::Github)
        );
        assert_eq!(
            ReviewFormat::from_str("json", false),
            Ok(ReviewFormat::Json)
        );
        assert!(ReviewFormat::from_str("xml", false).is_err());
        assert_eq!(FailOn::from_str("warning", false), Ok(FailOn::Warning));
        assert!(FailOn::from_str("all", false).is_err());
    }

    #[test]
    fn fail_thresholds() {
        let errors = [finding(Severity::Info), finding(Severity::Error)];
        let warnings = [finding(Severity::Warning), finding(Severity::Info)];
        let infos = [finding(Severity::Info)];
        assert!(should_fail(&errors, FailOn::Error));
        assert!(should_fail(&errors, FailOn::Warning));
        assert!(!should_fail(&errors, FailOn::Never));
        assert!(!should_fail(&warnings, FailOn::Error));
        assert!(should_fail(&warnings, FailOn::Warning));
        assert!(!should_fail(&infos, FailOn::Warning));
        assert!(!should_fail(&[], FailOn::Error));
    }
}
