//! Makes text the model controls (answers, paths, commands, tool output) safe to print to a
//! terminal: escape sequences (clipboard writes with OSC 52, screen clears, window titles) are
//! removed and other control characters dropped, so model output can never drive the terminal.

use std::borrow::Cow;

/// `text` without ANSI/VT escape sequences and without control characters other than `\n` and
/// `\t` (a `\r` would let text overwrite what was printed before it on the line).
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let stripped = strip_ansi_escapes::strip_str(text);
    Cow::Owned(stripped.chars().filter(|c| !is_unsafe(*c)).collect())
}

/// A character a terminal would act on rather than show (C0 and C1 controls, DEL), except the
/// newline and the tab.
fn is_unsafe(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let text = "fn main() {\n\tprintln!(\"hé\");\n}\n";
        assert!(matches!(terminal_safe(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn escape_sequences_and_controls_are_removed() {
        let cases = [
            ("copy \u{1b}]52;c;cm0gLXJmIH4=\u{7}this", "copy this"),
            ("a\u{1b}]52;c;eA==\u{1b}\\b", "ab"),
            ("\u{1b}[2Jcleared", "cleared"),
            ("\u{1b}]0;owned title\u{7}title", "title"),
            ("\u{1b}[31mred\u{1b}[0m", "red"),
            ("over\rwrite", "overwrite"),
            ("bell\u{7}", "bell"),
            ("del\u{7f}", "del"),
            ("keep\ttabs\nand lines", "keep\ttabs\nand lines"),
        ];
        for (input, expected) in cases {
            let out = terminal_safe(input);
            assert_eq!(out, expected, "{input:?}");
            assert!(!out.chars().any(is_unsafe));
        }
        // A C1 control introducer (CSI as one character) never survives, whatever follows it.
        assert!(!terminal_safe("c1 \u{9b}2J csi").contains('\u{9b}'));
    }
}
