//! A small Markdown renderer: text to wrapped, styled lines.
//!
//! Line based, so it renders partial (streaming) text well: headings, lists, task lists, block
//! quotes, rules, tables (drawn as boxes once their rows are complete), fenced code (highlighted by language), and inline code,
//! bold, italic, strike-through and links.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::highlight::CodeHighlighter;
use super::markdown_table::{is_table_row, render_table};
use super::theme::{Role, Theme};
use super::wrap::{str_width, wrap_line};

/// Renders `text` as Markdown wrapped to `width` columns.
pub fn render_markdown(text: &str, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut stream = MarkdownStream::new(width);
    let mut lines = Vec::new();
    for raw in text.split('\n') {
        stream.push_line(raw, theme, &mut lines);
    }
    stream.finish(theme, &mut lines);
    trim_trailing_blank(&mut lines);
    lines
}

/// Drops trailing blank lines (streamed text often ends with a newline).
pub fn trim_trailing_blank(lines: &mut Vec<Line<'static>>) {
    while lines.last().is_some_and(|l| l.width() == 0) {
        lines.pop();
    }
}

/// Incremental rendering of append-only text: each complete line is rendered once, keeping
/// the state that spans lines (an open code fence and its highlighter, the rows of a table
/// not yet ended).
pub struct MarkdownStream {
    width: usize,
    fence: Option<(String, CodeHighlighter)>,
    table: Vec<String>,
}

impl MarkdownStream {
    /// An empty stream rendering at `width` columns.
    pub fn new(width: usize) -> MarkdownStream {
        MarkdownStream {
            width,
            fence: None,
            table: Vec::new(),
        }
    }

    /// Renders one complete line (without its `\n`), appending its rows to `out`.
    pub fn push_line(&mut self, raw: &str, theme: &Theme, out: &mut Vec<Line<'static>>) {
        let width = self.width;
        if let Some((marker, highlighter)) = self.fence.as_mut() {
            if is_fence_close(raw, marker) {
                out.push(Line::from(Span::styled(
                    raw.trim().to_string(),
                    theme.style(Role::Dim),
                )));
                self.fence = None;
            } else {
                out.extend(wrap_line(&highlighter.line(raw), width, 0));
            }
            return;
        }
        if is_table_row(raw.trim_start()) {
            self.table.push(raw.to_string());
            return;
        }
        self.finish(theme, out);
        if let Some((marker, lang)) = fence_open(raw) {
            out.push(Line::from(Span::styled(
                raw.trim().to_string(),
                theme.style(Role::Dim),
            )));
            self.fence = Some((marker, CodeHighlighter::new(lang, theme)));
            return;
        }
        let (line, hang) = render_block_line(raw, width, theme);
        out.extend(wrap_line(&line, width, hang));
    }

    /// Renders the rows of a table that has not ended yet (call at the end of the text).
    pub fn finish(&mut self, theme: &Theme, out: &mut Vec<Line<'static>>) {
        if !self.table.is_empty() {
            let rows: Vec<&str> = self.table.iter().map(String::as_str).collect();
            out.extend(table_or_typed(&rows, self.width, theme));
            self.table.clear();
        }
    }

    /// Renders an incomplete last line, after the rows of a table not yet ended, without
    /// changing the stream (code stays unhighlighted until its line is complete).
    pub fn render_tail(&self, raw: &str, theme: &Theme) -> Vec<Line<'static>> {
        if self.fence.is_some() {
            let line = Line::from(Span::styled(raw.to_string(), theme.style(Role::Text)));
            return wrap_line(&line, self.width, 0);
        }
        let mut rows: Vec<&str> = self.table.iter().map(String::as_str).collect();
        let tail_is_row = is_table_row(raw.trim_start());
        if tail_is_row {
            rows.push(raw);
        }
        let mut lines = if rows.is_empty() {
            Vec::new()
        } else {
            table_or_typed(&rows, self.width, theme)
        };
        if !tail_is_row {
            let (line, hang) = render_block_line(raw, self.width, theme);
            lines.extend(wrap_line(&line, self.width, hang));
        }
        lines
    }
}

/// Table rows drawn as a table, or as typed when they are not one (or cannot fit).
fn table_or_typed(rows: &[&str], width: usize, theme: &Theme) -> Vec<Line<'static>> {
    render_table(rows, width, theme).unwrap_or_else(|| {
        rows.iter()
            .flat_map(|row| {
                let (line, hang) = render_block_line(row, width, theme);
                wrap_line(&line, width, hang)
            })
            .collect()
    })
}

/// Whether `raw` closes a fence opened with `marker`.
fn is_fence_close(raw: &str, marker: &str) -> bool {
    let trimmed = raw.trim();
    let ch = marker.chars().next().unwrap_or('`');
    trimmed.len() >= marker.len() && trimmed.chars().all(|c| c == ch)
}

/// Recognises an opening code fence, returning its marker and the language.
fn fence_open(raw: &str) -> Option<(String, &str)> {
    let trimmed = raw.trim_start();
    for ch in ['`', '~'] {
        let count = trimmed.chars().take_while(|&c| c == ch).count();
        if count >= 3 {
            let lang = trimmed[count..].split_whitespace().next().unwrap_or("");
            if ch == '`' && lang.contains('`') {
                return None;
            }
            return Some((ch.to_string().repeat(count), lang));
        }
    }
    None
}

/// Renders one line outside code blocks; returns the line and its hanging indent.
fn render_block_line(raw: &str, width: usize, theme: &Theme) -> (Line<'static>, usize) {
    let text_style = theme.style(Role::Text);
    let trimmed = raw.trim_start();
    let indent = raw.len() - trimmed.len();
    if trimmed.is_empty() {
        return (Line::default(), 0);
    }
    if let Some((level, title)) = heading(trimmed) {
        let mut style = theme.style(Role::Heading).add_modifier(Modifier::BOLD);
        if level == 1 {
            style = style.add_modifier(Modifier::UNDERLINED);
        }
        let spans = inline(title, style, theme);
        return (Line::from(spans), 0);
    }
    if is_rule(trimmed) {
        let rule = "─".repeat(width.min(60));
        return (Line::from(Span::styled(rule, theme.style(Role::Dim))), 0);
    }
    if let Some(quoted) = trimmed.strip_prefix('>') {
        let quoted = quoted.strip_prefix(' ').unwrap_or(quoted);
        let mut spans = vec![Span::styled("▌ ", theme.style(Role::Dim))];
        spans.extend(inline(
            quoted,
            theme.style(Role::Dim).add_modifier(Modifier::ITALIC),
            theme,
        ));
        return (Line::from(spans), 2);
    }
    if let Some((marker, rest)) = list_item(trimmed) {
        let pad = " ".repeat(indent.min(12));
        let marker_width = str_width(&marker);
        let mut spans = vec![
            Span::raw(pad),
            Span::styled(marker, theme.style(Role::Accent)),
        ];
        spans.extend(inline(rest, text_style, theme));
        return (Line::from(spans), indent.min(12) + marker_width);
    }
    if trimmed.starts_with('|') {
        let is_separator = trimmed.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '));
        if is_separator {
            return (
                Line::from(Span::styled(raw.to_string(), theme.style(Role::Dim))),
                0,
            );
        }
        return (Line::from(inline(raw, text_style, theme)), 0);
    }
    let mut spans = Vec::new();
    if indent > 0 {
        spans.push(Span::raw(" ".repeat(indent)));
    }
    spans.extend(inline(trimmed, text_style, theme));
    (Line::from(spans), indent.min(12))
}

/// `# Title` → (1, "Title").
fn heading(trimmed: &str) -> Option<(usize, &str)> {
    let level = trimmed.chars().take_while(|&c| c == '#').count();
    if (1..=6).contains(&level) {
        let rest = &trimmed[level..];
        if rest.is_empty() {
            return Some((level, ""));
        }
        if let Some(title) = rest.strip_prefix(' ') {
            return Some((level, title.trim_end_matches(['#', ' '])));
        }
    }
    None
}

/// `---`, `***`, `___` (three or more, spaces allowed).
fn is_rule(trimmed: &str) -> bool {
    let compact: String = trimmed.chars().filter(|c| *c != ' ').collect();
    compact.len() >= 3
        && ['-', '*', '_']
            .iter()
            .any(|&ch| compact.chars().all(|c| c == ch))
}

/// A list item: returns the marker to show (with its trailing space) and the item text.
fn list_item(trimmed: &str) -> Option<(String, &str)> {
    let mut chars = trimmed.chars();
    let first = chars.next()?;
    if matches!(first, '-' | '*' | '+') && trimmed[1..].starts_with(' ') {
        let rest = &trimmed[2..];
        if let Some(task) = rest.strip_prefix("[ ] ") {
            return Some(("☐ ".to_string(), task));
        }
        if let Some(task) = rest
            .strip_prefix("[x] ")
            .or_else(|| rest.strip_prefix("[X] "))
        {
            return Some(("☑ ".to_string(), task));
        }
        return Some(("• ".to_string(), rest));
    }
    let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
    if (1..=9).contains(&digits) {
        let after = &trimmed[digits..];
        if (after.starts_with(". ") || after.starts_with(") ")) && after.len() >= 2 {
            return Some((format!("{} ", &trimmed[..digits + 1]), &after[2..]));
        }
    }
    None
}

/// Renders inline Markdown (code, bold, italic, strike-through, links) on top of `base`.
pub fn inline(text: &str, base: Style, theme: &Theme) -> Vec<Span<'static>> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut buf = String::new();
    let mut bold = false;
    let mut italic = false;
    let mut strike = false;
    let style_of = |bold: bool, italic: bool, strike: bool| {
        let mut style = base;
        if bold {
            style = style.add_modifier(Modifier::BOLD);
        }
        if italic {
            style = style.add_modifier(Modifier::ITALIC);
        }
        if strike {
            style = style.add_modifier(Modifier::CROSSED_OUT);
        }
        style
    };
    let flush = |buf: &mut String, spans: &mut Vec<Span<'static>>, style: Style| {
        if !buf.is_empty() {
            spans.push(Span::styled(std::mem::take(buf), style));
        }
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let prev = text[..i].chars().next_back();
        let next_after = |n: usize| text[i + n..].chars().next();
        match bytes[i] {
            b'\\'
                if rest.len() > 1 && rest[1..].starts_with(|c: char| c.is_ascii_punctuation()) =>
            {
                let ch = rest[1..].chars().next().unwrap_or('\\');
                buf.push(ch);
                i += 1 + ch.len_utf8();
            }
            b'`' => {
                let ticks = rest.chars().take_while(|&c| c == '`').count();
                let marker = &rest[..ticks];
                if let Some(close) = rest[ticks..].find(marker) {
                    flush(&mut buf, &mut spans, style_of(bold, italic, strike));
                    let code = &rest[ticks..ticks + close];
                    let code = if code.len() > 2 && code.starts_with(' ') && code.ends_with(' ') {
                        &code[1..code.len() - 1]
                    } else {
                        code
                    };
                    spans.push(Span::styled(
                        code.to_string(),
                        theme.style(Role::InlineCode),
                    ));
                    i += ticks + close + ticks;
                } else {
                    buf.push_str(marker);
                    i += ticks;
                }
            }
            b'*' | b'_' if rest.starts_with("**") || rest.starts_with("__") => {
                let opening = !bold;
                let ok = if opening {
                    next_after(2).is_some_and(|c| !c.is_whitespace())
                } else {
                    prev.is_some_and(|c| !c.is_whitespace())
                };
                if ok {
                    flush(&mut buf, &mut spans, style_of(bold, italic, strike));
                    bold = !bold;
                } else {
                    buf.push_str(&rest[..2]);
                }
                i += 2;
            }
            b'*' | b'_' => {
                let underscore = bytes[i] == b'_';
                let opening = !italic;
                let intraword = underscore
                    && prev.is_some_and(char::is_alphanumeric)
                    && next_after(1).is_some_and(char::is_alphanumeric);
                let ok = !intraword
                    && if opening {
                        next_after(1).is_some_and(|c| !c.is_whitespace())
                            && !(underscore && prev.is_some_and(char::is_alphanumeric))
                    } else {
                        prev.is_some_and(|c| !c.is_whitespace())
                    };
                if ok {
                    flush(&mut buf, &mut spans, style_of(bold, italic, strike));
                    italic = !italic;
                } else {
                    buf.push(bytes[i] as char);
                }
                i += 1;
            }
            b'~' if rest.starts_with("~~") => {
                flush(&mut buf, &mut spans, style_of(bold, italic, strike));
                strike = !strike;
                i += 2;
            }
            b'[' => {
                if let Some((label, url, used)) = link(rest) {
                    flush(&mut buf, &mut spans, style_of(bold, italic, strike));
                    spans.push(Span::styled(
                        label.to_string(),
                        style_of(bold, italic, strike).patch(theme.style(Role::Link)),
                    ));
                    if url != label {
                        spans.push(Span::styled(format!(" ({url})"), theme.style(Role::Dim)));
                    }
                    i += used;
                } else {
                    buf.push('[');
                    i += 1;
                }
            }
            _ => {
                let ch = rest.chars().next().unwrap_or(' ');
                buf.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    flush(&mut buf, &mut spans, style_of(bold, italic, strike));
    spans
}

/// `[label](url)` at the start of `rest`: returns label, url and the bytes used.
fn link(rest: &str) -> Option<(&str, &str, usize)> {
    let close = rest.find("](")?;
    let label = &rest[1..close];
    if label.contains('[') || label.contains(']') {
        return None;
    }
    let url_start = close + 2;
    let url_len = rest[url_start..].find(')')?;
    let url = &rest[url_start..url_start + url_len];
    if url.contains(' ') {
        return None;
    }
    Some((label, url, url_start + url_len + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn headings_lists_and_quotes() {
        let theme = Theme::monochrome();
        let text = "# Title\n\n- one\n  - nested\n1. first\n- [x] done\n> quoted";
        let lines = render_markdown(text, 40, &theme);
        assert_eq!(
            plain(&lines),
            [
                "Title",
                "",
                "• one",
                "  • nested",
                "1. first",
                "☑ done",
                "▌ quoted"
            ]
        );
        assert!(
            lines[0].spans[0]
                .style
                .add_modifier
                .contains(Modifier::BOLD)
        );
    }

    #[test]
    fn inline_styles() {
        let theme = Theme::monochrome();
        let spans = inline(
            "a **b** *c* `d` ~~e~~ snake_case_name",
            Style::default(),
            &theme,
        );
        let text: String = spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "a b c d e snake_case_name");
        let find = |s: &str| spans.iter().find(|sp| sp.content == s).expect("span").style;
        assert!(find("b").add_modifier.contains(Modifier::BOLD));
        assert!(find("c").add_modifier.contains(Modifier::ITALIC));
        assert!(find("e").add_modifier.contains(Modifier::CROSSED_OUT));
    }

    #[test]
    fn lone_asterisks_and_links() {
        let theme = Theme::monochrome();
        let spans = inline(
            "2 * 3 = 6, see [docs](https://x.y)",
            Style::default(),
            &theme,
        );
        let text: String = spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "2 * 3 = 6, see docs (https://x.y)");
    }

    #[test]
    fn code_blocks_are_highlighted_and_kept_verbatim() {
        let theme = Theme::dark();
        let text = "Look:\n```rust\nfn main() {\n    let x = *y;\n}\n```\nafter *it*";
        let lines = render_markdown(text, 80, &theme);
        assert_eq!(
            plain(&lines),
            [
                "Look:",
                "```rust",
                "fn main() {",
                "    let x = *y;",
                "}",
                "```",
                "after it"
            ]
        );
        assert!(lines[2].spans.len() > 1, "code is highlighted");
    }

    #[test]
    fn unterminated_fence_while_streaming_stays_code() {
        let lines = render_markdown("```\n**not bold**", 80, &Theme::monochrome());
        assert_eq!(plain(&lines), ["```", "**not bold**"]);
    }

    #[test]
    fn streaming_in_pieces_matches_rendering_at_once() {
        let theme = Theme::dark();
        let text = "# T\n\n```rust\nlet x = 1;\n```\n- item **bold**\n";
        let mut stream = MarkdownStream::new(30);
        let (complete, tail) = text.rsplit_once('\n').expect("has a newline");
        let mut lines = Vec::new();
        for line in complete.split('\n') {
            stream.push_line(line, &theme, &mut lines);
        }
        lines.extend(stream.render_tail(tail, &theme));
        trim_trailing_blank(&mut lines);
        assert_eq!(lines, render_markdown(text, 30, &theme));
    }

    #[test]
    fn a_streamed_table_renders_as_the_finished_one_at_every_step() {
        let theme = Theme::dark();
        let text = "Sizes:\n| file | lines |\n|---|--:|\n| a.rs | 10 |\n| b.rs | 200 |\nDone.";
        let whole = render_markdown(text, 40, &theme);
        assert!(
            plain(&whole).contains(&"│ b.rs │   200 │".to_string()),
            "{:?}",
            plain(&whole)
        );
        // Every prefix that ends inside the table shows the rows so far as a table.
        for cut in [
            text.find("| a.rs").unwrap() + 3,
            text.find("Done").unwrap() + 2,
        ] {
            let partial = &text[..cut];
            let mut stream = MarkdownStream::new(40);
            let (complete, tail) = partial.rsplit_once('\n').expect("has a newline");
            let mut lines = Vec::new();
            for line in complete.split('\n') {
                stream.push_line(line, &theme, &mut lines);
            }
            assert!(
                lines.len() == 1,
                "the rows wait for the table to end: {:?}",
                plain(&lines)
            );
            lines.extend(stream.render_tail(tail, &theme));
            let shown = plain(&lines);
            assert!(shown.iter().any(|l| l.starts_with("┌")), "{shown:?}");
            assert!(shown.iter().any(|l| l.starts_with("└")), "{shown:?}");
        }
        // A table at the very end is drawn too.
        let at_end = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |", 40, &theme);
        assert_eq!(plain(&at_end).last().map(String::as_str), Some("└───┴───┘"));
    }

    #[test]
    fn list_items_wrap_under_their_text() {
        let lines = render_markdown("- alpha beta gamma", 12, &Theme::monochrome());
        assert_eq!(plain(&lines), ["• alpha beta", "  gamma"]);
    }
}
