//! Drawing the whole screen from the [`App`] state: layout, composer, popups, overlay, status.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Widget};

use super::app::App;
use super::format::truncate_chars;
use super::popup::{PopupKind, command_items, render_list_popup};
use super::status::render_status;
use super::theme::Role;

/// Most rows the composer grows to.
const MAX_COMPOSER_ROWS: usize = 8;
/// Most queued messages listed above the composer.
const MAX_QUEUED_ROWS: usize = 3;
/// Columns the composer's border and prompt take.
const COMPOSER_CHROME: u16 = 4;

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// The conversation.
    pub transcript: Rect,
    /// Messages waiting to be sent.
    pub queued: Rect,
    /// The model's todo list while a turn runs.
    pub todos: Rect,
    /// The question whether to carry out a plan.
    pub plan: Rect,
    /// The composer, with its border.
    pub composer: Rect,
    /// The status line.
    pub status: Rect,
}

/// Splits `area` for the current state (the composer grows with its text).
pub fn layout(area: Rect, app: &App) -> Areas {
    let text_width = usize::from(area.width.saturating_sub(COMPOSER_CHROME).max(1));
    let rows = app
        .composer
        .visual_rows(text_width)
        .0
        .len()
        .clamp(1, MAX_COMPOSER_ROWS);
    let status_height = area.height.min(1);
    let composer_height = (rows as u16 + 2).min(area.height.saturating_sub(status_height));
    // Each extra part takes what is left, the transcript keeping at least its share.
    let mut left = area.height.saturating_sub(status_height + composer_height);
    let mut take = |wanted: u16| {
        let got = wanted.min(left);
        left -= got;
        got
    };
    let plan_height = take(if app.plan_approval().is_some() {
        super::plan_approval::HEIGHT
    } else {
        0
    });
    let waiting = app.steering().len() + app.queued().len();
    let queued_height = take(waiting.min(MAX_QUEUED_ROWS) as u16);
    let todos_height = take(super::todo_list::panel_height(app.todo_panel()) as u16);
    let transcript = Rect::new(area.x, area.y, area.width, left);
    let todos = Rect::new(area.x, transcript.bottom(), area.width, todos_height);
    let queued = Rect::new(area.x, todos.bottom(), area.width, queued_height);
    let plan = Rect::new(area.x, queued.bottom(), area.width, plan_height);
    let composer = Rect::new(area.x, plan.bottom(), area.width, composer_height);
    let status = Rect::new(area.x, composer.bottom(), area.width, status_height);
    Areas {
        transcript,
        queued,
        todos,
        plan,
        composer,
        status,
    }
}

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame<'_>) {
    let area = frame.area();
    let areas = layout(area, app);
    let ctx = app.render_ctx();
    let theme = app.theme();
    let buf = frame.buffer_mut();
    app.transcript.render(areas.transcript, buf, &ctx);
    render_queued(app, areas.queued, buf);
    super::todo_list::render_panel(app.todo_panel(), areas.todos, buf, theme);
    if let Some(plan) = app.plan_approval() {
        plan.render(areas.plan, buf, theme);
    }
    let mut cursor = render_composer(app, areas.composer, buf);
    render_status(&app.status, app.now(), areas.status, buf, theme);
    if let Some((popup, selected)) = app.popup() {
        let (title, items) = match &popup {
            PopupKind::Commands { prefix } => (
                "commands",
                command_items(prefix, app.custom_commands(), theme),
            ),
            PopupKind::Files { query, .. } => ("files", app.picker().items(query, theme)),
        };
        render_list_popup(
            title,
            &items,
            selected,
            areas.composer,
            areas.transcript,
            buf,
            theme,
        );
    }
    if let Some(approval) = app.approval() {
        let overlay = Rect::new(
            area.x,
            area.y,
            area.width,
            area.height.saturating_sub(areas.status.height),
        );
        cursor = approval.render(overlay, areas.composer.y, buf, theme);
    }
    if let Some(position) = cursor {
        frame.set_cursor_position(position);
    }
}

fn render_queued(app: &App, area: Rect, buf: &mut Buffer) {
    let style = app.theme().style(Role::Dim);
    let steering = app.steering().iter().map(|text| ("at the next step", text));
    let queued = app.queued().iter().map(|text| ("queued", text));
    for (row, (label, text)) in steering
        .chain(queued)
        .take(usize::from(area.height))
        .enumerate()
    {
        let first = text.lines().next().unwrap_or("");
        let line = Line::from(Span::styled(
            format!(
                "  ↳ {label}: {}",
                truncate_chars(first, usize::from(area.width))
            ),
            style,
        ));
        buf.set_line(area.x, area.y + row as u16, &line, area.width);
    }
}

/// Draws the composer; returns where the terminal cursor goes.
fn render_composer(app: &App, area: Rect, buf: &mut Buffer) -> Option<Position> {
    if area.height < 3 || area.width < COMPOSER_CHROME + 1 {
        return None;
    }
    let theme = app.theme();
    let hint = if app.is_busy() {
        " ctrl-c interrupt "
    } else {
        " ⏎ send · ⇧⏎ newline "
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme.style(Role::Border))
        .title_top(Line::styled(hint, theme.style(Role::Dim)).right_aligned());
    let inner = block.inner(area);
    block.render(area, buf);
    let prompt_style = theme.style(Role::Accent);
    buf.set_line(inner.x, inner.y, &Line::styled("› ", prompt_style), 2);
    let text_area = Rect::new(inner.x + 2, inner.y, inner.width - 2, inner.height);
    if app.composer.is_empty() {
        let placeholder = Line::styled(
            "Ask anything · / commands · @ files · !shell",
            theme.style(Role::Dim),
        );
        buf.set_line(text_area.x, text_area.y, &placeholder, text_area.width);
        return Some(Position::new(text_area.x, text_area.y));
    }
    let (rows, (cursor_row, cursor_col)) = app.composer.visual_rows(usize::from(text_area.width));
    let visible = usize::from(text_area.height);
    let first = (cursor_row + 1).saturating_sub(visible);
    let text_style = theme.style(Role::Text);
    for (i, row) in rows.iter().skip(first).take(visible).enumerate() {
        buf.set_line(
            text_area.x,
            text_area.y + i as u16,
            &Line::styled(row.as_str(), text_style),
            text_area.width,
        );
    }
    Some(Position::new(
        text_area.x + (cursor_col as u16).min(text_area.width.saturating_sub(1)),
        text_area.y + (cursor_row - first) as u16,
    ))
}
