//! Unified diffs as coloured lines.

use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::theme::{Role, Theme};

/// What kind of line of a unified diff this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffLineKind {
    /// `diff --git`, `index`, `---`, `+++` and similar file headers.
    Header,
    /// `@@ -a,b +c,d @@`.
    Hunk,
    /// An added line.
    Add,
    /// A removed line.
    Remove,
    /// An unchanged line.
    Context,
}

/// Classifies one line of a unified diff.
pub fn classify(line: &str) -> DiffLineKind {
    if line.starts_with("+++ ") || line.starts_with("--- ") {
        DiffLineKind::Header
    } else if line.starts_with("@@") {
        DiffLineKind::Hunk
    } else if line.starts_with('+') {
        DiffLineKind::Add
    } else if line.starts_with('-') {
        DiffLineKind::Remove
    } else if line.starts_with("diff ")
        || line.starts_with("index ")
        || line.starts_with("new file")
        || line.starts_with("deleted file")
        || line.starts_with("similarity ")
        || line.starts_with("rename ")
        || line.starts_with("\\ No newline")
    {
        DiffLineKind::Header
    } else {
        DiffLineKind::Context
    }
}

/// Renders a unified diff, one styled line per diff line (not wrapped).
pub fn render_diff(diff: &str, theme: &Theme) -> Vec<Line<'static>> {
    diff.trim_end_matches('\n')
        .split('\n')
        .map(|line| {
            let style = match classify(line) {
                DiffLineKind::Header => theme.style(Role::Dim).add_modifier(Modifier::BOLD),
                DiffLineKind::Hunk => theme.style(Role::DiffHunk),
                DiffLineKind::Add => theme.style(Role::DiffAdd),
                DiffLineKind::Remove => theme.style(Role::DiffRemove),
                DiffLineKind::Context => theme.style(Role::Text),
            };
            Line::from(Span::styled(line.to_string(), style))
        })
        .collect()
}

/// Counts added and removed lines of a unified diff.
pub fn diff_stats(diff: &str) -> (usize, usize) {
    diff.lines()
        .fold((0, 0), |(add, remove), line| match classify(line) {
            DiffLineKind::Add => (add + 1, remove),
            DiffLineKind::Remove => (add, remove + 1),
            _ => (add, remove),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "--- a/x.rs\n+++ b/x.rs\n@@ -1,2 +1,2 @@\n fn a() {}\n-old\n+new\n+more\n";

    #[test]
    fn lines_are_classified_and_counted() {
        assert_eq!(classify("--- a/x.rs"), DiffLineKind::Header);
        assert_eq!(classify("@@ -1 +1 @@"), DiffLineKind::Hunk);
        assert_eq!(classify("-old"), DiffLineKind::Remove);
        assert_eq!(classify("+new"), DiffLineKind::Add);
        assert_eq!(classify(" same"), DiffLineKind::Context);
        assert_eq!(diff_stats(DIFF), (2, 1));
    }

    #[test]
    fn added_and_removed_lines_get_their_colours() {
        let theme = Theme::dark();
        let lines = render_diff(DIFF, &theme);
        assert_eq!(lines.len(), 7);
        assert_eq!(lines[4].spans[0].style.fg, theme.colour(Role::DiffRemove));
        assert_eq!(lines[5].spans[0].style.fg, theme.colour(Role::DiffAdd));
        assert_eq!(lines[2].spans[0].style.fg, theme.colour(Role::DiffHunk));
    }
}
