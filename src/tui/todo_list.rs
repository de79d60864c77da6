//! The model's todo list as a checklist: `☐` pending, `◐` in progress, `☑` completed, in the
//! theme's colours. It shows as a transcript cell each time the model changes it, and as a
//! small panel above the composer while a turn runs.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::format::truncate_chars;
use super::sanitize::sanitize;
use super::theme::{Role, Theme};
use crate::tools::todo_write::{TodoItem, TodoStatus};

/// Most rows the panel above the composer takes.
pub const MAX_PANEL_ROWS: usize = 5;

/// The box and the style of an item's text.
fn marker(status: TodoStatus, theme: &Theme) -> (&'static str, Style, Style) {
    match status {
        TodoStatus::Pending => ("☐", theme.style(Role::Dim), theme.style(Role::Text)),
        TodoStatus::InProgress => (
            "◐",
            theme.style(Role::Accent),
            theme.style(Role::Accent).add_modifier(Modifier::BOLD),
        ),
        TodoStatus::Completed => (
            "☑",
            theme.style(Role::Success),
            theme.style(Role::Dim).add_modifier(Modifier::CROSSED_OUT),
        ),
    }
}

/// One item as a line: `☐ Run the tests` (control characters removed).
pub fn item_line(item: &TodoItem, theme: &Theme) -> Line<'static> {
    let (icon, icon_style, text_style) = marker(item.status, theme);
    let text = sanitize(&item.content).replace('\n', " ");
    Line::from(vec![
        Span::styled(icon, icon_style),
        Span::raw(" "),
        Span::styled(text, text_style),
    ])
}

/// The transcript cell's lines: a title, then every item indented.
pub fn checklist_lines(items: &[TodoItem], theme: &Theme) -> Vec<Line<'static>> {
    let done = items
        .iter()
        .filter(|t| t.status == TodoStatus::Completed)
        .count();
    let mut lines = vec![Line::from(Span::styled(
        format!("Todos {done}/{}", items.len()),
        theme.style(Role::Accent).add_modifier(Modifier::BOLD),
    ))];
    if items.is_empty() {
        lines.push(Line::styled("  (cleared)", theme.style(Role::Dim)));
    }
    for item in items {
        let mut line = item_line(item, theme);
        line.spans.insert(0, Span::raw("  "));
        lines.push(line);
    }
    lines
}

/// The items the panel shows in `rows` rows: all of them when they fit, else a window that
/// starts just before the first unfinished item (the last row then says how many more follow).
pub fn panel_items(items: &[TodoItem], rows: usize) -> (&[TodoItem], usize) {
    if items.len() <= rows {
        return (items, 0);
    }
    let shown = rows.saturating_sub(1);
    let first_open = items
        .iter()
        .position(|t| t.status != TodoStatus::Completed)
        .unwrap_or(items.len());
    let start = first_open
        .saturating_sub(1)
        .min(items.len().saturating_sub(shown));
    let window = &items[start..start + shown];
    (window, items.len() - shown)
}

/// Rows the panel needs for `items` (none when there are none).
pub fn panel_height(items: &[TodoItem]) -> usize {
    items.len().min(MAX_PANEL_ROWS)
}

/// Draws the panel above the composer into `area`.
pub fn render_panel(items: &[TodoItem], area: Rect, buf: &mut Buffer, theme: &Theme) {
    let rows = usize::from(area.height);
    let (window, more) = panel_items(items, rows);
    let width = usize::from(area.width.saturating_sub(2));
    for (row, item) in window.iter().enumerate() {
        let (icon, icon_style, text_style) = marker(item.status, theme);
        let text = truncate_chars(
            &sanitize(&item.content).replace('\n', " "),
            width.saturating_sub(4),
        );
        let line = Line::from(vec![
            Span::raw("  "),
            Span::styled(icon, icon_style),
            Span::raw(" "),
            Span::styled(text, text_style),
        ]);
        buf.set_line(area.x, area.y + row as u16, &line, area.width);
    }
    if more > 0 && rows > 0 {
        let line = Line::styled(format!("  … {more} more"), theme.style(Role::Dim));
        buf.set_line(area.x, area.y + (rows - 1) as u16, &line, area.width);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(content: &str, status: TodoStatus) -> TodoItem {
        TodoItem {
            content: content.into(),
            status,
        }
    }

    fn text(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn each_status_has_its_box_and_colour() {
        let theme = Theme::dark();
        let lines = checklist_lines(
            &[
                item("Read lib.rs", TodoStatus::Completed),
                item("Fix the sign", TodoStatus::InProgress),
                item("Run the tests\u{1b}[2J", TodoStatus::Pending),
            ],
            &theme,
        );
        let texts: Vec<String> = lines.iter().map(text).collect();
        assert_eq!(
            texts,
            [
                "Todos 1/3",
                "  ☑ Read lib.rs",
                "  ◐ Fix the sign",
                "  ☐ Run the tests"
            ]
        );
        assert_eq!(lines[1].spans[1].style, theme.style(Role::Success));
        assert!(
            lines[1].spans[3]
                .style
                .add_modifier
                .contains(Modifier::CROSSED_OUT)
        );
        assert_eq!(lines[2].spans[1].style, theme.style(Role::Accent));
        assert_eq!(lines[3].spans[3].style, theme.style(Role::Text));
    }

    #[test]
    fn a_long_list_shows_the_window_around_the_work_in_progress() {
        let items: Vec<TodoItem> = (0..9)
            .map(|i| {
                let status = match i {
                    0..=3 => TodoStatus::Completed,
                    4 => TodoStatus::InProgress,
                    _ => TodoStatus::Pending,
                };
                item(&format!("step {i}"), status)
            })
            .collect();
        let (window, more) = panel_items(&items, 5);
        let names: Vec<&str> = window.iter().map(|t| t.content.as_str()).collect();
        assert_eq!(names, ["step 3", "step 4", "step 5", "step 6"]);
        assert_eq!(more, 5);
        let (all, none) = panel_items(&items[..3], 5);
        assert_eq!((all.len(), none), (3, 0));
        assert_eq!(panel_height(&items), MAX_PANEL_ROWS);
        assert_eq!(panel_height(&[]), 0);
    }
}
