//! The first line of a text, for the one-line summaries the frontends show.

/// The first non-blank line of `text`, trimmed, and whether non-blank text follows it.
pub(crate) fn first_line(text: &str) -> (&str, bool) {
    let mut lines = text.lines().map(str::trim).skip_while(|l| l.is_empty());
    let first = lines.next().unwrap_or("");
    let more = lines.any(|l| !l.is_empty());
    (first, more)
}

#[cfg(test)]
mod tests {
    use super::first_line;

    #[test]
    fn skips_blank_lines_and_says_whether_more_follows() {
        assert_eq!(first_line("\n  \n  cargo test  \n"), ("cargo test", false));
        assert_eq!(first_line("a\n\n b"), ("a", true));
        assert_eq!(first_line("a\n \n"), ("a", false));
        assert_eq!(first_line(""), ("", false));
    }
}
