//! Small text helpers shared by the file tools: binary detection, line endings, truncation.

/// How many leading bytes are checked for NUL when deciding whether a file is binary.
const BINARY_SNIFF_BYTES: usize = 8192;

/// Whether `bytes` look like a binary file (a NUL byte near the start, as git and ripgrep do).
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(BINARY_SNIFF_BYTES)].contains(&0)
}

/// The line ending a text file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    /// `\n` (also used for files with mixed endings, which are then handled byte for byte).
    Lf,
    /// `\r\n` on every line.
    Crlf,
}

/// `Crlf` when every newline in `text` is preceded by `\r`, else `Lf`.
pub fn detect_line_ending(text: &str) -> LineEnding {
    let newlines = text.matches('\n').count();
    if newlines > 0 && text.matches("\r\n").count() == newlines {
        LineEnding::Crlf
    } else {
        LineEnding::Lf
    }
}

/// `text` with every `\r\n` turned into `\n`.
pub fn to_lf(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// `text` (with `\n` endings) converted to `ending`.
pub fn apply_line_ending(text: &str, ending: LineEnding) -> String {
    match ending {
        LineEnding::Lf => text.to_string(),
        LineEnding::Crlf => to_lf(text).replace('\n', "\r\n"),
    }
}

/// `line` cut to at most `max_chars` characters; the second value is how many were cut.
pub fn truncate_chars(line: &str, max_chars: usize) -> (&str, usize) {
    match line.char_indices().nth(max_chars) {
        None => (line, 0),
        Some((byte, _)) => (&line[..byte], line[byte..].chars().count()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_is_detected_by_nul() {
        assert!(is_binary(b"abc\0def"));
        assert!(!is_binary("héllo\n".as_bytes()));
    }

    #[test]
    fn line_endings() {
        assert_eq!(detect_line_ending("a\r\nb\r\n"), LineEnding::Crlf);
        assert_eq!(detect_line_ending("a\r\nb\n"), LineEnding::Lf);
        assert_eq!(detect_line_ending("a"), LineEnding::Lf);
        assert_eq!(apply_line_ending("a\nb\n", LineEnding::Crlf), "a\r\nb\r\n");
        assert_eq!(
            apply_line_ending("a\r\nb\n", LineEnding::Crlf),
            "a\r\nb\r\n"
        );
    }

    #[test]
    fn truncation_counts_cut_characters() {
        assert_eq!(truncate_chars("héllo", 2), ("hé", 3));
        assert_eq!(truncate_chars("hi", 5), ("hi", 0));
    }
}
