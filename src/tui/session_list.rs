//! `gem --resume` without an id: a full-screen list of this project's sessions to pick from.
//!
//! State and drawing are plain functions (snapshot-tested); [`pick_session`] owns the terminal.

use std::time::{Duration, SystemTime};

use crossterm::event::{self, Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::format::truncate_chars;
use super::fuzzy::fuzzy_rank;
use super::sanitize::sanitize;
use super::terminal::TerminalGuard;
use super::theme::{Role, Theme};
use super::wrap::str_width;
use crate::session::SessionSummary;

/// What the user did with the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListOutcome {
    /// Resume the session with this id.
    Picked(String),
    /// Esc or Ctrl-C: start nothing.
    Cancelled,
}

/// The sessions, the filter typed so far and the highlighted row.
#[derive(Debug, Clone)]
pub struct SessionList {
    sessions: Vec<SessionSummary>,
    /// One searchable line per session: first message and id.
    haystacks: Vec<String>,
    query: String,
    /// Indices into `sessions` that match `query`, best first.
    shown: Vec<usize>,
    selected: usize,
    /// First row of `shown` on screen.
    offset: usize,
}

impl SessionList {
    /// A list of `sessions` (most recent first, as the store returns them).
    pub fn new(sessions: Vec<SessionSummary>) -> SessionList {
        let haystacks = sessions
            .iter()
            .map(|s| format!("{} {}", s.title(), s.id))
            .collect();
        let mut list = SessionList {
            sessions,
            haystacks,
            query: String::new(),
            shown: Vec::new(),
            selected: 0,
            offset: 0,
        };
        list.refilter();
        list
    }

    /// The filter typed so far.
    #[cfg(test)]
    pub fn query(&self) -> &str {
        &self.query
    }

    /// The id of the highlighted session, if any matches the filter.
    pub fn selected_id(&self) -> Option<&str> {
        let index = *self.shown.get(self.selected)?;
        Some(&self.sessions[index].id)
    }

    /// Applies one key; `Some` when the user has decided.
    pub fn handle_key(&mut self, key: KeyEvent) -> Option<ListOutcome> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return Some(ListOutcome::Cancelled),
            KeyCode::Char('c') | KeyCode::Char('d') if ctrl => {
                return Some(ListOutcome::Cancelled);
            }
            KeyCode::Enter => {
                return self
                    .selected_id()
                    .map(|id| ListOutcome::Picked(id.to_string()));
            }
            KeyCode::Up => self.move_by(-1),
            KeyCode::Char('p') if ctrl => self.move_by(-1),
            KeyCode::Down => self.move_by(1),
            KeyCode::Char('n') if ctrl => self.move_by(1),
            KeyCode::PageUp => self.move_by(-10),
            KeyCode::PageDown => self.move_by(10),
            KeyCode::Home => self.selected = 0,
            KeyCode::End => self.selected = self.shown.len().saturating_sub(1),
            KeyCode::Backspace => {
                self.query.pop();
                self.refilter();
            }
            KeyCode::Char(c) if !ctrl => {
                self.query.push(c);
                self.refilter();
            }
            _ => {}
        }
        None
    }

    fn move_by(&mut self, delta: isize) {
        let last = self.shown.len().saturating_sub(1) as isize;
        self.selected = (self.selected as isize + delta).clamp(0, last.max(0)) as usize;
    }

    fn refilter(&mut self) {
        self.shown = if self.query.trim().is_empty() {
            (0..self.sessions.len()).collect()
        } else {
            fuzzy_rank(&self.query, &self.haystacks, self.haystacks.len())
                .into_iter()
                .map(|m| m.index)
                .collect()
        };
        self.selected = 0;
        self.offset = 0;
    }

    /// Keeps the highlighted row within `rows` visible rows.
    fn scroll_to_selection(&mut self, rows: usize) {
        if rows == 0 {
            return;
        }
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + rows {
            self.offset = self.selected + 1 - rows;
        }
    }

    /// Draws the list into `area`; ages are relative to `now`.
    pub fn render(&mut self, area: Rect, buf: &mut Buffer, theme: &Theme, now: SystemTime) {
        if area.height < 4 || area.width < 20 {
            return;
        }
        let width = area.width as usize;
        let mut y = area.y;
        let mut put =
            |line: Line<'static>, y: u16| line.render(Rect::new(area.x, y, area.width, 1), buf);

        let heading = theme.style(Role::Heading).add_modifier(Modifier::BOLD);
        put(
            Line::from(vec![
                Span::styled("Resume a session", heading),
                Span::styled(
                    format!("  {} saved in this project", self.sessions.len()),
                    theme.style(Role::Dim),
                ),
            ]),
            y,
        );
        y += 1;
        put(
            Line::from(vec![
                Span::styled("filter ", theme.style(Role::Dim)),
                Span::styled(format!("> {}", self.query), theme.style(Role::Accent)),
            ]),
            y,
        );
        y += 2;
        let rows = (area.bottom().saturating_sub(y + 1)) as usize;
        self.scroll_to_selection(rows);
        if self.shown.is_empty() {
            put(
                Line::styled("no session matches the filter", theme.style(Role::Dim)),
                y,
            );
        }
        for (row, &index) in self.shown.iter().skip(self.offset).take(rows).enumerate() {
            let session = &self.sessions[index];
            let selected = self.offset + row == self.selected;
            put(
                session_row(session, width, selected, theme, now),
                y + row as u16,
            );
        }
        put(
            Line::styled(
                "↑↓ select · Enter resume · type to filter · Esc cancel",
                theme.style(Role::Dim),
            ),
            area.bottom() - 1,
        );
    }
}

/// One row: marker, age, turns, first message, and the id at the right.
fn session_row(
    session: &SessionSummary,
    width: usize,
    selected: bool,
    theme: &Theme,
    now: SystemTime,
) -> Line<'static> {
    let turns = match session.turns {
        1 => "1 turn".to_string(),
        n => format!("{n} turns"),
    };
    let age = now
        .duration_since(session.modified)
        .map(format_age)
        .unwrap_or_else(|_| "just now".into());
    let marker = if selected { "› " } else { "  " };
    let facts = format!("{age:<12}{turns:>9}  ");
    let id = format!("  {}", session.id);
    let room = width.saturating_sub(str_width(marker) + str_width(&facts) + str_width(&id));
    let text = truncate_chars(&sanitize(session.title()), room);
    let pad = room.saturating_sub(str_width(&text));
    let base = if selected {
        theme.style(Role::Selection)
    } else {
        theme.style(Role::Text)
    };
    let dim = if selected {
        base
    } else {
        theme.style(Role::Dim)
    };
    Line::from(vec![
        Span::styled(marker, base.patch(theme.style(Role::Accent))),
        Span::styled(facts, dim),
        Span::styled(format!("{text}{}", " ".repeat(pad)), base),
        Span::styled(id, dim),
    ])
}

/// "just now", "5 min ago", "3 h ago", "2 days ago".
fn format_age(age: Duration) -> String {
    let secs = age.as_secs();
    match secs {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        86_400..172_800 => "1 day ago".into(),
        _ => format!("{} days ago", secs / 86_400),
    }
}

/// Shows `sessions` full-screen until the user picks one (its id) or cancels (`None`).
pub fn pick_session(
    sessions: Vec<SessionSummary>,
    theme: &Theme,
) -> anyhow::Result<Option<String>> {
    let mut list = SessionList::new(sessions);
    let mut guard = TerminalGuard::enter()?;
    loop {
        let now = SystemTime::now();
        guard
            .terminal
            .draw(|frame| list.render(frame.area(), frame.buffer_mut(), theme, now))?;
        if let TermEvent::Key(key) = event::read()?
            && let Some(outcome) = list.handle_key(key)
        {
            return Ok(match outcome {
                ListOutcome::Picked(id) => Some(id),
                ListOutcome::Cancelled => None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use std::path::PathBuf;

    fn at(minutes_ago: u64) -> SystemTime {
        now() - Duration::from_secs(minutes_ago * 60)
    }

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
    }

    fn session(id: &str, message: Option<&str>, turns: usize, minutes_ago: u64) -> SessionSummary {
        SessionSummary {
            id: id.into(),
            path: PathBuf::from(format!("/tmp/{id}.jsonl")),
            modified: at(minutes_ago),
            created: "2026-11-28T10:00:00Z".into(),
            project_root: "/work/project".into(),
            model: "model.gguf".into(),
            first_user_message: message.map(Into::into),
            turns,
        }
    }

    fn sessions() -> Vec<SessionSummary> {
        vec![
            session(
                "20261128-100000-aaaaaa",
                Some("fix the failing test in parser.rs\nwith details"),
                3,
                2,
            ),
            session(
                "20261127-090000-bbbbbb",
                Some("add a --json flag"),
                1,
                60 * 25,
            ),
            session("20261120-090000-cccccc", None, 0, 60 * 24 * 8),
        ]
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn draw(list: &mut SessionList, width: u16, height: u16) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
        terminal
            .draw(|frame| {
                list.render(
                    frame.area(),
                    frame.buffer_mut(),
                    &Theme::monochrome(),
                    now(),
                )
            })
            .expect("draw");
        terminal
    }

    #[test]
    fn enter_picks_the_highlighted_session() {
        let mut list = SessionList::new(sessions());
        assert_eq!(list.selected_id(), Some("20261128-100000-aaaaaa"));
        assert_eq!(list.handle_key(key(KeyCode::Down)), None);
        assert_eq!(
            list.handle_key(key(KeyCode::Enter)),
            Some(ListOutcome::Picked("20261127-090000-bbbbbb".into()))
        );
        list.handle_key(key(KeyCode::Down));
        list.handle_key(key(KeyCode::Down));
        assert_eq!(
            list.selected_id(),
            Some("20261120-090000-cccccc"),
            "stops at the last row"
        );
        list.handle_key(key(KeyCode::Home));
        assert_eq!(list.selected_id(), Some("20261128-100000-aaaaaa"));
    }

    #[test]
    fn typing_filters_and_escape_cancels() {
        let mut list = SessionList::new(sessions());
        for c in "json".chars() {
            list.handle_key(key(KeyCode::Char(c)));
        }
        assert_eq!(list.query(), "json");
        assert_eq!(list.selected_id(), Some("20261127-090000-bbbbbb"));
        for c in "zzz".chars() {
            list.handle_key(key(KeyCode::Char(c)));
        }
        assert_eq!(list.selected_id(), None);
        assert_eq!(
            list.handle_key(key(KeyCode::Enter)),
            None,
            "nothing to pick"
        );
        for _ in 0..3 {
            list.handle_key(key(KeyCode::Backspace));
        }
        assert_eq!(list.selected_id(), Some("20261127-090000-bbbbbb"));
        assert_eq!(
            list.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(ListOutcome::Cancelled)
        );
        assert_eq!(
            list.handle_key(key(KeyCode::Esc)),
            Some(ListOutcome::Cancelled)
        );
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(format_age(Duration::from_secs(5)), "just now");
        assert_eq!(format_age(Duration::from_secs(5 * 60)), "5 min ago");
        assert_eq!(format_age(Duration::from_secs(3 * 3600 + 5)), "3 h ago");
        assert_eq!(format_age(Duration::from_secs(86_400 + 5)), "1 day ago");
        assert_eq!(format_age(Duration::from_secs(9 * 86_400)), "9 days ago");
    }

    #[test]
    fn list_view() {
        let mut list = SessionList::new(sessions());
        list.handle_key(key(KeyCode::Down));
        insta::assert_snapshot!(draw(&mut list, 80, 9).backend());
    }

    #[test]
    fn list_scrolls_to_keep_the_selection_visible() {
        let many: Vec<SessionSummary> = (0..20)
            .map(|i| {
                session(
                    &format!("20261101-0000{i:02}-abcdef"),
                    Some(&format!("task number {i}")),
                    i,
                    i as u64 * 10,
                )
            })
            .collect();
        let mut list = SessionList::new(many);
        for _ in 0..12 {
            list.handle_key(key(KeyCode::Down));
        }
        let terminal = draw(&mut list, 60, 8);
        let screen = format!("{}", terminal.backend());
        let selected = screen
            .lines()
            .find(|l| l.contains('›'))
            .expect("a highlighted row");
        assert!(selected.contains("20261101-000012-abcdef"), "{screen}");
        assert!(!screen.contains("20261101-000000-abcdef"), "{screen}");
    }
}
