//! Ctrl-G: the message being written, opened in the user's own editor.
//!
//! The editor is `$VISUAL`, else `$EDITOR`, else `vi`, run through `sh -c` so a value with
//! arguments (`code --wait`) works; it edits a private temporary file holding the message, and
//! what it saved becomes the message.

use std::process::Command;

/// The editor command line the user chose.
pub fn editor_command() -> String {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.trim().is_empty())
        .unwrap_or_else(|| "vi".to_string())
}

/// Runs `editor` on a file holding `text` and returns what it saved (one trailing newline, as
/// editors add, removed), or why not: the message is then left as it was.
pub fn edit_with(editor: &str, text: &str) -> Result<String, String> {
    let file = tempfile::Builder::new()
        .prefix("gem-message-")
        .suffix(".md")
        .tempfile()
        .map_err(|e| format!("could not create a file to edit: {e}"))?;
    std::fs::write(file.path(), text).map_err(|e| format!("could not write the message: {e}"))?;
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("gem-editor")
        .arg(file.path())
        .status()
        .map_err(|e| format!("could not start `{editor}`: {e}"))?;
    if !status.success() {
        return Err(format!(
            "`{editor}` ended with {status}; the message is unchanged"
        ));
    }
    let edited =
        std::fs::read_to_string(file.path()).map_err(|e| format!("could not read it back: {e}"))?;
    Ok(edited
        .strip_suffix('\n')
        .map_or(edited.clone(), str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_editor_edits_the_message_and_a_failure_leaves_it() {
        // An "editor" that appends a line, as a user would type one.
        let edited = edit_with(
            "sh -c 'printf \"second line\\n\" >> \"$0\"'",
            "first line\n",
        );
        assert_eq!(edited.as_deref(), Ok("first line\nsecond line"));
        let failed = edit_with("false", "keep me").unwrap_err();
        assert!(failed.contains("unchanged"), "{failed}");
        let missing = edit_with("/nonexistent/editor", "keep me").unwrap_err();
        assert!(missing.contains("unchanged"), "{missing}");
    }
}
