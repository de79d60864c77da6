//! Word wrapping of styled lines to a width, with a hanging indent for continuation rows.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// One grapheme with its style and display width.
struct Glyph<'a> {
    symbol: &'a str,
    style: Style,
    width: usize,
}

impl Glyph<'_> {
    fn is_space(&self) -> bool {
        self.symbol == " "
    }
}

/// Display width of a string in terminal columns (unicode-width, as ratatui measures it).
pub fn str_width(text: &str) -> usize {
    Span::raw(text).width()
}

/// Converts a line to one that owns its text.
pub fn to_owned_line(line: &Line<'_>) -> Line<'static> {
    Line {
        spans: line
            .spans
            .iter()
            .map(|span| Span::styled(span.content.to_string(), span.style))
            .collect(),
        style: line.style,
        alignment: line.alignment,
    }
}

/// Wraps `line` to `width` columns, breaking at spaces where possible.
///
/// Rows after the first start with `hang` spaces (ignored when it leaves no room).
pub fn wrap_line(line: &Line<'_>, width: usize, hang: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    if line.width() <= width {
        return vec![to_owned_line(line)];
    }
    let hang = if hang + 4 > width { 0 } else { hang };
    let glyphs: Vec<Glyph<'_>> = line
        .spans
        .iter()
        .flat_map(|span| span.styled_graphemes(Style::default()))
        .map(|g| Glyph {
            symbol: g.symbol,
            style: g.style,
            width: str_width(g.symbol),
        })
        .collect();
    let mut rows = Vec::new();
    let mut start = 0;
    let mut first = true;
    while start < glyphs.len() {
        let avail = if first { width } else { width - hang };
        let mut used = 0;
        let mut end = start;
        let mut last_break = None;
        while end < glyphs.len() && used + glyphs[end].width <= avail {
            if glyphs[end].is_space() {
                last_break = Some(end);
            }
            used += glyphs[end].width;
            end += 1;
        }
        if end < glyphs.len() {
            if end == start {
                // A single grapheme wider than the row: put it on a row of its own.
                end = start + 1;
            } else if !glyphs[end].is_space()
                && let Some(at) = last_break.filter(|&at| at > start)
            {
                end = at;
            }
        }
        let mut row_end = end;
        while row_end > start && glyphs[row_end - 1].is_space() {
            row_end -= 1;
        }
        let prefix = if first { 0 } else { hang };
        rows.push(build_row(&glyphs[start..row_end], prefix, line.style));
        start = end;
        while start < glyphs.len() && glyphs[start].is_space() {
            start += 1;
        }
        first = false;
    }
    if rows.is_empty() {
        rows.push(Line::default());
    }
    rows
}

/// Wraps every `(line, hang)` pair and concatenates the rows.
pub fn wrap_lines<'a>(
    lines: impl IntoIterator<Item = (Line<'a>, usize)>,
    width: usize,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for (line, hang) in lines {
        out.extend(wrap_line(&line, width, hang));
    }
    out
}

/// Joins glyphs into spans of equal style, after `indent` spaces.
fn build_row(glyphs: &[Glyph<'_>], indent: usize, line_style: Style) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    if indent > 0 {
        spans.push(Span::raw(" ".repeat(indent)));
    }
    let mut text = String::new();
    let mut style = None;
    for glyph in glyphs {
        if style != Some(glyph.style) {
            if let Some(style) = style
                && !text.is_empty()
            {
                spans.push(Span::styled(std::mem::take(&mut text), style));
            }
            style = Some(glyph.style);
        }
        text.push_str(glyph.symbol);
    }
    if let Some(style) = style
        && !text.is_empty()
    {
        spans.push(Span::styled(text, style));
    }
    Line::from(spans).style(line_style)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Stylize;

    fn texts(rows: &[Line<'_>]) -> Vec<String> {
        rows.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn short_lines_are_unchanged() {
        assert_eq!(texts(&wrap_line(&Line::from("hello"), 10, 0)), ["hello"]);
    }

    #[test]
    fn breaks_at_spaces_with_hanging_indent() {
        let rows = wrap_line(&Line::from("- alpha beta gamma delta"), 12, 2);
        assert_eq!(texts(&rows), ["- alpha beta", "  gamma", "  delta"]);
        assert!(rows.iter().all(|r| r.width() <= 12));
    }

    #[test]
    fn long_words_are_split_hard() {
        let rows = wrap_line(&Line::from("abcdefghij"), 4, 0);
        assert_eq!(texts(&rows), ["abcd", "efgh", "ij"]);
    }

    #[test]
    fn wide_characters_count_two_columns() {
        let rows = wrap_line(&Line::from("日本語のテキスト"), 6, 0);
        assert_eq!(texts(&rows), ["日本語", "のテキ", "スト"]);
        assert!(rows.iter().all(|r| r.width() <= 6));
    }

    #[test]
    fn styles_survive_wrapping() {
        let line = Line::from(vec!["plain ".into(), "bold words here".bold()]);
        let rows = wrap_line(&line, 11, 0);
        assert_eq!(texts(&rows), ["plain bold", "words here"]);
        assert_eq!(rows[1].spans[0].style, Style::default().bold());
    }
}
