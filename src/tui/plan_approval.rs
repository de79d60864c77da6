//! The question after a turn in plan mode ends with a plan: approve it (switch to the mode the
//! user planned from and carry it out) or keep planning. It sits above the composer so the plan
//! stays readable in the transcript.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Widget};

use super::theme::{Role, Theme};
use crate::agent::Mode;

/// The message sent for the model when the user approves the plan.
pub const CARRY_OUT: &str = "I approve the plan. Carry it out now, step by step, and check the \
                             result as the plan says.";

/// Rows the question takes, with its border.
pub const HEIGHT: u16 = 3;

/// The user's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanAnswer {
    /// Switch modes and carry the plan out.
    Approve,
    /// Stay in plan mode.
    KeepPlanning,
}

/// A plan waiting for the user's approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanApproval {
    /// The mode the plan is carried out in.
    pub target: Mode,
}

impl PlanApproval {
    /// The question for a plan made after working in `previous` (the last mode before plan):
    /// the plan is carried out in that mode, or in `ask` when it was `plan` or `read-only`
    /// (which could not carry out anything).
    pub fn after(previous: Mode) -> Self {
        let target = if previous.is_read_only() {
            Mode::Ask
        } else {
            previous
        };
        Self { target }
    }

    /// The answer `key` gives: `y`/enter approve, `n`/esc keep planning; other keys none.
    pub fn answer(key: &KeyEvent) -> Option<PlanAnswer> {
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return None;
        }
        match key.code {
            KeyCode::Char('y' | 'Y') | KeyCode::Enter => Some(PlanAnswer::Approve),
            KeyCode::Char('n' | 'N') | KeyCode::Esc => Some(PlanAnswer::KeepPlanning),
            _ => None,
        }
    }

    /// The question as one line of text.
    pub fn question(&self) -> String {
        format!(
            "Approve this plan? y: switch to {} and carry it out · n: keep planning",
            self.target
        )
    }

    /// Draws the question into `area` (a bordered box [`HEIGHT`] rows high).
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        if area.height < HEIGHT || area.width < 4 {
            return;
        }
        let block = Block::bordered()
            .border_type(BorderType::Rounded)
            .border_style(theme.style(Role::Accent))
            .title_top(Line::styled(" plan ", theme.style(Role::Accent)));
        let inner = block.inner(area);
        block.render(area, buf);
        let key = theme.style(Role::Accent).add_modifier(Modifier::BOLD);
        let text = theme.style(Role::Text);
        let line = Line::from(vec![
            Span::styled("Approve this plan? ", text.add_modifier(Modifier::BOLD)),
            Span::styled("y", key),
            Span::styled(
                format!(": switch to {} and carry it out · ", self.target),
                text,
            ),
            Span::styled("n", key),
            Span::styled(": keep planning", text),
        ]);
        buf.set_line(inner.x + 1, inner.y, &line, inner.width.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_is_carried_out_in_the_mode_planned_from_else_ask() {
        assert_eq!(PlanApproval::after(Mode::AutoEdit).target, Mode::AutoEdit);
        assert_eq!(PlanApproval::after(Mode::FullAuto).target, Mode::FullAuto);
        assert_eq!(PlanApproval::after(Mode::Plan).target, Mode::Ask);
        assert_eq!(PlanApproval::after(Mode::ReadOnly).target, Mode::Ask);
        assert_eq!(
            PlanApproval::after(Mode::Ask).question(),
            "Approve this plan? y: switch to ask and carry it out · n: keep planning"
        );
    }

    #[test]
    fn y_and_enter_approve_n_and_esc_keep_planning() {
        let key = |code| KeyEvent::new(code, KeyModifiers::NONE);
        assert_eq!(
            PlanApproval::answer(&key(KeyCode::Char('y'))),
            Some(PlanAnswer::Approve)
        );
        assert_eq!(
            PlanApproval::answer(&key(KeyCode::Enter)),
            Some(PlanAnswer::Approve)
        );
        assert_eq!(
            PlanApproval::answer(&key(KeyCode::Char('n'))),
            Some(PlanAnswer::KeepPlanning)
        );
        assert_eq!(
            PlanApproval::answer(&key(KeyCode::Esc)),
            Some(PlanAnswer::KeepPlanning)
        );
        assert_eq!(PlanApproval::answer(&key(KeyCode::Char('x'))), None);
        assert_eq!(
            PlanApproval::answer(&KeyEvent::new(KeyCode::Char('y'), KeyModifiers::CONTROL)),
            None
        );
    }
}
