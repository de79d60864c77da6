//! The argument that identifies a tool call on one line (`read_file src/lib.rs`,
//! `shell cargo test …`), for the TUI's tool cells and the headless progress lines alike.

use serde_json::Value;

/// Argument names that tell what a call is about, most telling first.
const KEYS: [&str; 11] = [
    "command",
    "cmd",
    "path",
    "file_path",
    "file",
    "pattern",
    "query",
    "url",
    "glob",
    "paths",
    "operation",
];

/// The longest key argument shown, in characters.
const MAX_CHARS: usize = 160;

/// The argument that best identifies a call with `arguments`, on one line: a telling field
/// (command, path, pattern …), else the first string, else the first value; control characters
/// dropped, at most 160 characters, `…` when cut or when more lines follow.
pub fn key_argument(arguments: &Value) -> String {
    let Some(object) = arguments.as_object() else {
        return match arguments {
            Value::String(s) => one_line(s),
            Value::Null => String::new(),
            other => truncate(&other.to_string()),
        };
    };
    let value = KEYS
        .iter()
        .find_map(|key| object.get(*key))
        .or_else(|| object.values().find(|v| v.is_string()))
        .or_else(|| object.values().next());
    match value {
        Some(Value::String(s)) => one_line(s),
        Some(Value::Array(items)) => truncate(
            &items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Some(other) => truncate(&other.to_string()),
        None => String::new(),
    }
}

/// The first line of `text`, with `…` when more follows.
fn one_line(text: &str) -> String {
    match crate::first_line::first_line(text) {
        (first, true) => truncate(&format!("{first} …")),
        (first, false) => truncate(first),
    }
}

/// `text` without control characters (escape sequences included), cut to [`MAX_CHARS`].
fn truncate(text: &str) -> String {
    let clean = crate::terminal_safe::terminal_safe(text);
    let clean: String = clean.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() <= MAX_CHARS {
        return clean;
    }
    let mut out: String = clean.chars().take(MAX_CHARS - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prefers_telling_fields() {
        assert_eq!(
            key_argument(&json!({"path": "src/main.rs", "limit": 20})),
            "src/main.rs"
        );
        assert_eq!(
            key_argument(&json!({"command": "cargo test\ncargo fmt"})),
            "cargo test …"
        );
        assert_eq!(key_argument(&json!({"n": 3})), "3");
        assert_eq!(key_argument(&json!({"operation": "status"})), "status");
        assert_eq!(
            key_argument(&json!({"paths": ["a.rs", "b.rs"]})),
            "a.rs b.rs"
        );
    }

    #[test]
    fn escapes_are_dropped_and_long_values_cut() {
        assert_eq!(key_argument(&json!({"path": "a\u{1b}[2Jb\u{7}"})), "ab");
        let long = key_argument(&json!({"command": "x".repeat(500)}));
        assert_eq!(long.chars().count(), MAX_CHARS);
        assert!(long.ends_with('…'));
    }
}
