//! Shift-Tab's cycle through the permission modes, as Claude Code's: `ask` → `auto-edit` →
//! `plan` → `ask`. The modes that need a deliberate choice join the cycle only once the user
//! made it: `full-auto` (everything runs) and `read-only` come in, after `plan`, when the
//! session started in them (`--mode`, the config file) or the user chose them with `/mode`.
//! Shift-Tab alone never reaches `full-auto` in a session that did not ask for it.

use crate::agent::Mode;

/// The modes Shift-Tab steps through, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeCycle {
    modes: Vec<Mode>,
}

/// The modes every session cycles through.
const BASE: [Mode; 3] = [Mode::Ask, Mode::AutoEdit, Mode::Plan];
/// The modes that join after the base ones once chosen, in this order.
const OPT_IN: [Mode; 2] = [Mode::FullAuto, Mode::ReadOnly];

impl ModeCycle {
    /// The cycle of a session that started in `start`.
    pub fn new(start: Mode) -> Self {
        let mut cycle = Self {
            modes: BASE.to_vec(),
        };
        cycle.chosen(start);
        cycle
    }

    /// Records that the user chose `mode` deliberately (`/mode`): it joins the cycle.
    pub fn chosen(&mut self, mode: Mode) {
        if self.modes.contains(&mode) {
            return;
        }
        self.modes.push(mode);
        let order = |m: &Mode| {
            BASE.iter()
                .chain(OPT_IN.iter())
                .position(|o| o == m)
                .unwrap_or(usize::MAX)
        };
        self.modes.sort_by_key(order);
    }

    /// The mode after `current` (the first one when `current` is not in the cycle).
    pub fn next(&self, current: Mode) -> Mode {
        let at = self.modes.iter().position(|m| *m == current);
        let next = at.map_or(0, |i| (i + 1) % self.modes.len());
        self.modes.get(next).copied().unwrap_or(Mode::Ask)
    }

    /// The modes in cycle order (for `/help` and `/mode`).
    pub fn modes(&self) -> &[Mode] {
        &self.modes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(cycle: &ModeCycle, from: Mode, steps: usize) -> Vec<Mode> {
        let mut modes = vec![from];
        for _ in 0..steps {
            let next = cycle.next(*modes.last().unwrap());
            modes.push(next);
        }
        modes
    }

    #[test]
    fn ask_auto_edit_plan_and_round_again() {
        let cycle = ModeCycle::new(Mode::Ask);
        assert_eq!(
            walk(&cycle, Mode::Ask, 3),
            [Mode::Ask, Mode::AutoEdit, Mode::Plan, Mode::Ask]
        );
        assert_eq!(ModeCycle::new(Mode::Plan), cycle);
        assert_eq!(ModeCycle::new(Mode::AutoEdit), cycle);
    }

    #[test]
    fn full_auto_and_read_only_join_only_once_chosen() {
        let mut cycle = ModeCycle::new(Mode::Ask);
        assert!(!cycle.modes().contains(&Mode::FullAuto));
        cycle.chosen(Mode::ReadOnly);
        assert_eq!(
            walk(&cycle, Mode::Plan, 2),
            [Mode::Plan, Mode::ReadOnly, Mode::Ask]
        );
        cycle.chosen(Mode::FullAuto);
        cycle.chosen(Mode::FullAuto);
        assert_eq!(
            walk(&cycle, Mode::Ask, 5),
            [
                Mode::Ask,
                Mode::AutoEdit,
                Mode::Plan,
                Mode::FullAuto,
                Mode::ReadOnly,
                Mode::Ask
            ]
        );
        let started = ModeCycle::new(Mode::FullAuto);
        assert_eq!(
            walk(&started, Mode::FullAuto, 4),
            [
                Mode::FullAuto,
                Mode::Ask,
                Mode::AutoEdit,
                Mode::Plan,
                Mode::FullAuto
            ]
        );
    }
}
