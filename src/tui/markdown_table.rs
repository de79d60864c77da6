//! Markdown tables (`| a | b |` rows with a `|---|---|` separator) drawn as aligned boxes.
//!
//! Columns take the width of their widest cell; when the table is wider than the transcript,
//! the widest columns give way and their cells wrap inside the column.

use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::markdown::inline;
use super::theme::{Role, Theme};
use super::wrap::wrap_line;

/// A column never shrinks below this many cells of width.
const MIN_COLUMN: usize = 3;

/// How a column's cells are aligned (from the separator row's colons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Center,
    Right,
}

/// Whether a line (already trimmed at the start) is a table row.
pub fn is_table_row(trimmed: &str) -> bool {
    trimmed.starts_with('|')
}

/// Renders `rows` (raw lines, each a table row) as a table `width` columns wide; `None` when
/// they are not a table (no separator as the second row) or the columns cannot fit, so the
/// caller shows them as typed.
pub fn render_table(rows: &[&str], width: usize, theme: &Theme) -> Option<Vec<Line<'static>>> {
    let header = split_row(rows.first()?);
    let aligns = separator_aligns(rows.get(1)?)?;
    let columns = header.len().max(aligns.len());
    let body: Vec<Vec<String>> = rows[2..].iter().map(|row| split_row(row)).collect();
    let cell_text =
        |cells: &[String], column: usize| cells.get(column).cloned().unwrap_or_default();

    let text_style = theme.style(Role::Text);
    let header_style = text_style.add_modifier(Modifier::BOLD);
    let styled = |text: &str, header: bool| {
        Line::from(inline(
            text,
            if header { header_style } else { text_style },
            theme,
        ))
    };
    let header_lines: Vec<Line<'static>> = (0..columns)
        .map(|c| styled(&cell_text(&header, c), true))
        .collect();
    let body_lines: Vec<Vec<Line<'static>>> = body
        .iter()
        .map(|cells| {
            (0..columns)
                .map(|c| styled(&cell_text(cells, c), false))
                .collect()
        })
        .collect();

    let mut widths: Vec<usize> = (0..columns)
        .map(|c| {
            std::iter::once(&header_lines[c])
                .chain(body_lines.iter().map(|row| &row[c]))
                .map(Line::width)
                .max()
                .unwrap_or(0)
                .max(1)
        })
        .collect();
    let frame = 3 * columns + 1;
    let room = width.checked_sub(frame)?;
    if room < MIN_COLUMN * columns {
        return None;
    }
    while widths.iter().sum::<usize>() > room {
        let widest = (0..columns).max_by_key(|&c| widths[c])?;
        widths[widest] -= 1;
    }

    let border = theme.style(Role::Dim);
    let rule = |left: &str, mid: &str, right: &str| {
        let mut text = String::from(left);
        for (c, w) in widths.iter().enumerate() {
            text.push_str(&"─".repeat(w + 2));
            text.push_str(if c + 1 == columns { right } else { mid });
        }
        Line::from(Span::styled(text, border))
    };
    let mut out = vec![rule("┌", "┬", "┐")];
    out.extend(render_row(&header_lines, &widths, &aligns, border));
    out.push(rule("├", "┼", "┤"));
    for row in &body_lines {
        out.extend(render_row(row, &widths, &aligns, border));
    }
    out.push(rule("└", "┴", "┘"));
    Some(out)
}

/// One table row: each cell wrapped to its column, padded to the row's tallest cell.
fn render_row(
    cells: &[Line<'static>],
    widths: &[usize],
    aligns: &[Align],
    border: ratatui::style::Style,
) -> Vec<Line<'static>> {
    let wrapped: Vec<Vec<Line<'static>>> = cells
        .iter()
        .zip(widths)
        .map(|(cell, &w)| wrap_line(cell, w, 0))
        .collect();
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
    (0..height)
        .map(|index| {
            let mut spans = vec![Span::styled("│", border)];
            for (column, lines) in wrapped.iter().enumerate() {
                let line = lines.get(index).cloned().unwrap_or_default();
                let free = widths[column].saturating_sub(line.width());
                let (before, after) = match aligns.get(column).copied().unwrap_or(Align::Left) {
                    Align::Left => (0, free),
                    Align::Right => (free, 0),
                    Align::Center => (free / 2, free - free / 2),
                };
                spans.push(Span::raw(" ".repeat(before + 1)));
                spans.extend(line.spans);
                spans.push(Span::raw(" ".repeat(after + 1)));
                spans.push(Span::styled("│", border));
            }
            Line::from(spans)
        })
        .collect()
}

/// The cells of a row: split on `|` outside inline code and not escaped, without the outer
/// pipes, trimmed.
fn split_row(row: &str) -> Vec<String> {
    let row = row.trim();
    let row = row.strip_prefix('|').unwrap_or(row);
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut in_code = false;
    let mut chars = row.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '`' => {
                in_code = !in_code;
                cell.push(ch);
            }
            '|' if !in_code => cells.push(std::mem::take(&mut cell).trim().to_string()),
            _ => cell.push(ch),
        }
    }
    if !cell.trim().is_empty() {
        cells.push(cell.trim().to_string());
    }
    cells
}

/// The alignments of a separator row (`|:---|:--:|---:|`); `None` when it is not one.
fn separator_aligns(row: &str) -> Option<Vec<Align>> {
    let cells = split_row(row);
    if cells.is_empty() {
        return None;
    }
    cells
        .iter()
        .map(|cell| {
            let dashes = cell.trim_matches(':');
            if dashes.is_empty() || !dashes.chars().all(|c| c == '-') {
                return None;
            }
            Some(match (cell.starts_with(':'), cell.ends_with(':')) {
                (true, true) => Align::Center,
                (false, true) => Align::Right,
                _ => Align::Left,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn a_table_is_drawn_with_aligned_columns() {
        let theme = Theme::dark();
        let rows = [
            "| Name | Tokens | Note |",
            "|:-----|-------:|:----:|",
            "| `read_file` | 12 | ok |",
            "| grep | 1234 | **fast** |",
        ];
        let lines = render_table(&rows, 80, &theme).unwrap();
        assert_eq!(
            plain(&lines),
            [
                "┌───────────┬────────┬──────┐",
                "│ Name      │ Tokens │ Note │",
                "├───────────┼────────┼──────┤",
                "│ read_file │     12 │  ok  │",
                "│ grep      │   1234 │ fast │",
                "└───────────┴────────┴──────┘",
            ]
        );
    }

    #[test]
    fn a_narrow_width_wraps_the_widest_column() {
        let theme = Theme::dark();
        let rows = [
            "| a | description |",
            "|---|---|",
            "| 1 | a long sentence that cannot fit |",
        ];
        let lines = render_table(&rows, 24, &theme).unwrap();
        assert!(lines.iter().all(|l| l.width() <= 24), "{:?}", plain(&lines));
        let text = plain(&lines).join("\n");
        assert!(text.contains("│ 1 │"), "{text}");
        assert!(text.contains("cannot"), "nothing is cut: {text}");
    }

    #[test]
    fn rows_without_a_separator_are_not_a_table() {
        let theme = Theme::dark();
        assert!(render_table(&["| a | b |", "| c | d |"], 80, &theme).is_none());
        assert!(render_table(&["| a | b |"], 80, &theme).is_none());
    }

    #[test]
    fn escaped_pipes_and_pipes_in_code_stay_in_their_cell() {
        assert_eq!(
            split_row(r"| a \| b | `x|y` | c |"),
            ["a | b", "`x|y`", "c"]
        );
        assert_eq!(split_row("|  | b |"), ["", "b"]);
    }
}
