//! The approval overlay: shows what a tool call would do and collects the user's decision.

use std::cell::Cell;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Widget};

use super::composer::Composer;
use super::diff::render_diff;
use super::sanitize::sanitize;
use super::theme::{Role, Theme};
use super::wrap::wrap_lines;
use crate::protocol::ApprovalDecision;

/// A pending approval request and, while the user edits the command, the editor.
#[derive(Debug, Clone)]
pub struct Approval {
    /// The id to answer with.
    pub call_id: String,
    /// Tool name.
    pub name: String,
    /// A diff for edits, the command for shell.
    pub preview: String,
    /// Whether the preview is a command the user may edit.
    pub editable_command: bool,
    /// What `a` allows from now on (`always allow: cargo test *`); without it `a` is not
    /// offered.
    pub always: Option<String>,
    editing: Option<Composer>,
    /// First preview row shown.
    scroll: usize,
    /// The largest useful `scroll` at the last draw.
    max_scroll: Cell<usize>,
}

/// Rows one PgUp/PgDn moves the preview.
const PREVIEW_PAGE: usize = 10;

impl Approval {
    /// A request as received.
    pub fn new(
        call_id: String,
        name: String,
        preview: String,
        editable_command: bool,
        always: Option<String>,
    ) -> Approval {
        Approval {
            call_id,
            name,
            preview,
            editable_command,
            always,
            editing: None,
            scroll: 0,
            max_scroll: Cell::new(usize::MAX),
        }
    }

    /// Scrolls the preview up `n` rows.
    pub fn scroll_up(&mut self, n: usize) {
        self.scroll = self.scroll.min(self.max_scroll.get()).saturating_sub(n);
    }

    /// Scrolls the preview down `n` rows.
    pub fn scroll_down(&mut self, n: usize) {
        self.scroll = self.scroll.saturating_add(n).min(self.max_scroll.get());
    }

    /// The edited command, while the user edits it.
    pub fn edited_command(&self) -> Option<&str> {
        self.editing.as_ref().map(|e| e.text())
    }

    /// Whether the user is editing the command.
    pub fn is_editing(&self) -> bool {
        self.editing.is_some()
    }

    /// Handles a key; returns the decision once the user made one.
    ///
    /// `y`/Enter approve, `n`/Esc deny, `a` approves and allows what [`Approval::always`]
    /// states (only when there is one), `e` edits the command (Enter sends the edited command,
    /// Esc goes back); arrows, PgUp/PgDn, Home/End scroll a long preview.
    pub fn handle_key(&mut self, key: KeyEvent) -> Option<ApprovalDecision> {
        if let Some(editor) = self.editing.as_mut() {
            match key.code {
                KeyCode::Enter
                    if !key
                        .modifiers
                        .intersects(KeyModifiers::SHIFT | KeyModifiers::ALT) =>
                {
                    let command = editor.text().to_string();
                    return Some(ApprovalDecision::ApproveEdited { command });
                }
                KeyCode::Enter => editor.newline(),
                KeyCode::Esc => self.editing = None,
                KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    editor.kill_to_line_start()
                }
                KeyCode::Char('w') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    editor.delete_word_back()
                }
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    editor.insert_char(c)
                }
                KeyCode::Backspace => editor.backspace(),
                KeyCode::Delete => editor.delete(),
                KeyCode::Left => editor.move_left(),
                KeyCode::Right => editor.move_right(),
                KeyCode::Home => editor.move_home(),
                KeyCode::End => editor.move_end(),
                KeyCode::Up => {
                    editor.move_up();
                }
                KeyCode::Down => {
                    editor.move_down();
                }
                _ => {}
            }
            return None;
        }
        match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                Some(ApprovalDecision::Approve)
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => Some(ApprovalDecision::Deny),
            KeyCode::Char('a') | KeyCode::Char('A') if self.always.is_some() => {
                Some(ApprovalDecision::ApproveForSession)
            }
            KeyCode::Up => {
                self.scroll_up(1);
                None
            }
            KeyCode::Down => {
                self.scroll_down(1);
                None
            }
            KeyCode::PageUp => {
                self.scroll_up(PREVIEW_PAGE);
                None
            }
            KeyCode::PageDown => {
                self.scroll_down(PREVIEW_PAGE);
                None
            }
            KeyCode::Home => {
                self.scroll = 0;
                None
            }
            KeyCode::End => {
                self.scroll = self.max_scroll.get();
                None
            }
            KeyCode::Char('e') | KeyCode::Char('E') if self.editable_command => {
                let mut editor = Composer::default();
                editor.insert_str(&self.preview);
                self.editing = Some(editor);
                None
            }
            _ => None,
        }
    }

    /// Inserts pasted text while editing the command.
    pub fn handle_paste(&mut self, text: &str) {
        if let Some(editor) = self.editing.as_mut() {
            editor.insert_str(text);
        }
    }

    /// Draws the overlay across `area`, its bottom at `bottom` (the composer's top) when it fits
    /// above it; returns where the cursor goes while editing.
    pub fn render(
        &self,
        area: Rect,
        bottom: u16,
        buf: &mut Buffer,
        theme: &Theme,
    ) -> Option<Position> {
        if area.width < 10 || area.height < 5 {
            return None;
        }
        let width = area.width;
        let inner_width = usize::from(width.saturating_sub(2));
        let body = self.body_lines(inner_width, theme);
        let footer = self.footer(theme);
        let always = self
            .always
            .as_ref()
            .filter(|_| self.editing.is_none())
            .map(|text| {
                Line::from(vec![
                    Span::styled("a", theme.style(Role::Accent).add_modifier(Modifier::BOLD)),
                    Span::styled(format!(" = {}", sanitize(text)), theme.style(Role::Dim)),
                ])
            });
        let extra = u16::from(always.is_some());
        let wanted = body.len() as u16 + 4 + extra;
        let height = wanted.min(area.height).max(5);
        let bottom = bottom.clamp(area.y, area.bottom());
        let y = if bottom >= area.y + height {
            bottom - height
        } else {
            area.y
        };
        let rect = Rect::new(area.x, y, width, height);
        Clear.render(rect, buf);
        let title = format!(" Allow {}? ", self.name);
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(theme.style(Role::Warning))
            .title(Span::styled(
                title,
                theme.style(Role::Warning).add_modifier(Modifier::BOLD),
            ));
        let inner = block.inner(rect);
        block.render(rect, buf);
        let body_rows = usize::from(inner.height.saturating_sub(2 + extra));
        let mut cursor = None;
        let (shown, rows, overflow) = if let Some(editor) = &self.editing {
            // Keep the cursor's row visible while editing.
            let (_, (cursor_row, cursor_col)) = editor.visual_rows(inner_width.saturating_sub(2));
            let first = (cursor_row + 1).saturating_sub(body_rows);
            cursor = Some(Position::new(
                inner.x + 2 + cursor_col as u16,
                inner.y + (cursor_row - first) as u16,
            ));
            (first, body_rows, false)
        } else {
            // The last row shows where the view is when the preview does not fit.
            let overflow = body.len() > body_rows;
            let rows = if overflow {
                body_rows.saturating_sub(1)
            } else {
                body_rows
            };
            let max_scroll = body.len().saturating_sub(rows);
            self.max_scroll.set(max_scroll);
            (self.scroll.min(max_scroll), rows, overflow)
        };
        for (row, line) in body.iter().skip(shown).take(rows).enumerate() {
            buf.set_line(inner.x, inner.y + row as u16, line, inner.width);
        }
        if overflow && body_rows > 0 {
            let note = Line::styled(
                format!(
                    "lines {}–{} of {} · ↑↓ pgup/pgdn scroll",
                    shown + 1,
                    (shown + rows).min(body.len()),
                    body.len()
                ),
                theme.style(Role::Dim),
            );
            buf.set_line(inner.x, inner.y + body_rows as u16 - 1, &note, inner.width);
        }
        if let Some(always) = &always {
            buf.set_line(inner.x, inner.y + inner.height - 2, always, inner.width);
        }
        buf.set_line(inner.x, inner.y + inner.height - 1, &footer, inner.width);
        cursor
    }

    fn body_lines(&self, width: usize, theme: &Theme) -> Vec<Line<'static>> {
        if let Some(editor) = &self.editing {
            let (rows, _) = editor.visual_rows(width.saturating_sub(2));
            return rows
                .into_iter()
                .enumerate()
                .map(|(i, row)| {
                    let lead = if i == 0 { "$ " } else { "  " };
                    Line::from(vec![
                        Span::styled(lead, theme.style(Role::Accent)),
                        Span::styled(row, theme.style(Role::Text)),
                    ])
                })
                .collect();
        }
        let preview = sanitize(&self.preview);
        if looks_like_diff(&preview) {
            return wrap_lines(
                render_diff(&preview, theme).into_iter().map(|l| (l, 1)),
                width,
            );
        }
        wrap_lines(
            preview.trim_end().split('\n').enumerate().map(|(i, line)| {
                let lead = if !self.editable_command {
                    ""
                } else if i == 0 {
                    "$ "
                } else {
                    "  "
                };
                (
                    Line::from(vec![
                        Span::styled(lead, theme.style(Role::Accent)),
                        Span::styled(line.to_string(), theme.style(Role::Text)),
                    ]),
                    2,
                )
            }),
            width,
        )
    }

    fn footer(&self, theme: &Theme) -> Line<'static> {
        let key = theme.style(Role::Accent).add_modifier(Modifier::BOLD);
        let dim = theme.style(Role::Dim);
        let mut spans = Vec::new();
        let entries: &[(&str, &str)] = if self.editing.is_some() {
            &[("enter", " run edited  "), ("esc", " back")]
        } else {
            match (self.always.is_some(), self.editable_command) {
                (true, true) => &[
                    ("y", " yes  "),
                    ("n", " no  "),
                    ("a", " always  "),
                    ("e", " edit"),
                ],
                (true, false) => &[("y", " yes  "), ("n", " no  "), ("a", " always")],
                (false, true) => &[("y", " yes  "), ("n", " no  "), ("e", " edit")],
                (false, false) => &[("y", " yes  "), ("n", " no")],
            }
        };
        for (k, label) in entries {
            spans.push(Span::styled(*k, key));
            spans.push(Span::styled(*label, dim));
        }
        Line::from(spans)
    }
}

/// Whether a preview is a unified diff.
fn looks_like_diff(preview: &str) -> bool {
    preview.starts_with("--- ")
        || preview.starts_with("diff ")
        || preview.contains("\n@@ ")
        || preview.starts_with("@@ ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn shell() -> Approval {
        Approval::new(
            "c1".into(),
            "shell".into(),
            "rm -rf build".into(),
            true,
            Some("always allow: rm -rf build".into()),
        )
    }

    #[test]
    fn single_key_answers() {
        assert_eq!(
            shell().handle_key(key(KeyCode::Char('y'))),
            Some(ApprovalDecision::Approve)
        );
        assert_eq!(
            shell().handle_key(key(KeyCode::Char('n'))),
            Some(ApprovalDecision::Deny)
        );
        assert_eq!(
            shell().handle_key(key(KeyCode::Esc)),
            Some(ApprovalDecision::Deny)
        );
        assert_eq!(
            shell().handle_key(key(KeyCode::Char('a'))),
            Some(ApprovalDecision::ApproveForSession)
        );
        assert_eq!(shell().handle_key(key(KeyCode::Char('x'))), None);
        let mut unstated = shell();
        unstated.always = None;
        assert_eq!(
            unstated.handle_key(key(KeyCode::Char('a'))),
            None,
            "no always without a stated rule"
        );
    }

    #[test]
    fn arrows_and_pages_scroll_within_the_preview() {
        let mut long = Approval::new(
            "w".into(),
            "write_file".into(),
            "x\n".repeat(50),
            false,
            None,
        );
        long.max_scroll.set(40);
        long.handle_key(key(KeyCode::PageDown));
        long.handle_key(key(KeyCode::Down));
        assert_eq!(long.scroll, 11);
        long.handle_key(key(KeyCode::Up));
        long.handle_key(key(KeyCode::PageUp));
        long.handle_key(key(KeyCode::PageUp));
        assert_eq!(long.scroll, 0);
        long.handle_key(key(KeyCode::End));
        assert_eq!(long.scroll, 40);
        long.scroll_down(5);
        assert_eq!(long.scroll, 40, "never past the end");
    }

    #[test]
    fn edit_then_send_the_edited_command() {
        let mut approval = shell();
        assert_eq!(approval.handle_key(key(KeyCode::Char('e'))), None);
        assert!(approval.is_editing());
        for _ in 0.."build".len() {
            approval.handle_key(key(KeyCode::Backspace));
        }
        approval.handle_paste("target");
        assert_eq!(
            approval.handle_key(key(KeyCode::Char('n'))),
            None,
            "n is text while editing"
        );
        approval.handle_key(key(KeyCode::Backspace));
        assert_eq!(
            approval.handle_key(key(KeyCode::Enter)),
            Some(ApprovalDecision::ApproveEdited {
                command: "rm -rf target".into()
            })
        );
    }

    #[test]
    fn esc_leaves_editing_and_edit_needs_an_editable_command() {
        let mut approval = shell();
        approval.handle_key(key(KeyCode::Char('e')));
        assert_eq!(approval.handle_key(key(KeyCode::Esc)), None);
        assert!(!approval.is_editing());
        let mut edit = Approval::new(
            "c2".into(),
            "edit".into(),
            "--- a\n+++ b\n".into(),
            false,
            None,
        );
        assert_eq!(edit.handle_key(key(KeyCode::Char('e'))), None);
        assert!(!edit.is_editing());
    }
}
