//! Permission modes and shell allow-rules: what may run without asking.

use globset::{Glob, GlobMatcher};

/// How much the agent may do on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Only reading and searching; edits and shell are denied.
    ReadOnly,
    /// Edits and shell need approval (the interactive default).
    Ask,
    /// Edits run; shell needs approval.
    AutoEdit,
    /// Everything runs.
    FullAuto,
}

impl Mode {
    /// Parses `read-only`, `ask`, `auto-edit` or `full-auto`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "read-only" | "readonly" => Some(Self::ReadOnly),
            "ask" => Some(Self::Ask),
            "auto-edit" => Some(Self::AutoEdit),
            "full-auto" => Some(Self::FullAuto),
            _ => None,
        }
    }

    /// The mode's name as typed.
    pub fn name(self) -> &'static str {
        match self {
            Self::ReadOnly => "read-only",
            Self::Ask => "ask",
            Self::AutoEdit => "auto-edit",
            Self::FullAuto => "full-auto",
        }
    }
}

/// What kind of action a tool call is, for permission purposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Reads and searches.
    Read,
    /// File changes.
    Edit,
    /// Running a command.
    Shell,
}

/// The verdict on one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Run it.
    Allow,
    /// Ask the user (headless frontends treat this as a denial).
    Ask,
    /// Do not run it; the reason goes back to the model.
    Deny(String),
}

/// The mode plus allow-rules for shell commands (`--allow 'cargo test*'`).
#[derive(Debug, Clone)]
pub struct Permissions {
    /// The current mode.
    pub mode: Mode,
    rules: Vec<(String, GlobMatcher)>,
    session_allowed: Vec<Action>,
}

/// A rule that is not a valid pattern.
#[derive(Debug, thiserror::Error)]
#[error("invalid --allow pattern {pattern:?}: {reason}")]
pub struct RuleError {
    /// The pattern.
    pub pattern: String,
    /// Why it is invalid.
    pub reason: String,
}

impl Permissions {
    /// Permissions in `mode` with shell allow-patterns (`*` matches anything, including spaces).
    pub fn new(mode: Mode, allow: &[String]) -> Result<Self, RuleError> {
        let rules = allow
            .iter()
            .map(|pattern| {
                Glob::new(pattern)
                    .map(|g| (pattern.clone(), g.compile_matcher()))
                    .map_err(|e| RuleError {
                        pattern: pattern.clone(),
                        reason: e.to_string(),
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            mode,
            rules,
            session_allowed: Vec::new(),
        })
    }

    /// Remembers "always allow this kind of action in this session".
    pub fn allow_for_session(&mut self, action: Action) {
        if !self.session_allowed.contains(&action) {
            self.session_allowed.push(action);
        }
    }

    /// Decides on an action; `command` is the shell command for [`Action::Shell`].
    pub fn check(&self, action: Action, command: Option<&str>) -> Verdict {
        if action == Action::Read {
            return Verdict::Allow;
        }
        if self.mode == Mode::ReadOnly {
            return Verdict::Deny(format!(
                "denied: the session is in read-only mode, so {} is not allowed",
                if action == Action::Edit {
                    "changing files"
                } else {
                    "running commands"
                }
            ));
        }
        if action == Action::Shell
            && let Some(command) = command
            && self.rules.iter().any(|(_, m)| m.is_match(command.trim()))
        {
            return Verdict::Allow;
        }
        if self.session_allowed.contains(&action) {
            return Verdict::Allow;
        }
        match (self.mode, action) {
            (Mode::FullAuto, _) | (Mode::AutoEdit, Action::Edit) => Verdict::Allow,
            _ => Verdict::Ask,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_gate_edits_and_shell() {
        let ro = Permissions::new(Mode::ReadOnly, &[]).unwrap();
        assert_eq!(ro.check(Action::Read, None), Verdict::Allow);
        assert!(matches!(ro.check(Action::Edit, None), Verdict::Deny(_)));
        let ask = Permissions::new(Mode::Ask, &[]).unwrap();
        assert_eq!(ask.check(Action::Edit, None), Verdict::Ask);
        let auto = Permissions::new(Mode::AutoEdit, &[]).unwrap();
        assert_eq!(auto.check(Action::Edit, None), Verdict::Allow);
        assert_eq!(auto.check(Action::Shell, Some("ls")), Verdict::Ask);
        let full = Permissions::new(Mode::FullAuto, &[]).unwrap();
        assert_eq!(full.check(Action::Shell, Some("rm -rf x")), Verdict::Allow);
    }

    #[test]
    fn allow_rules_match_whole_commands() {
        let p = Permissions::new(Mode::AutoEdit, &["cargo test*".into()]).unwrap();
        assert_eq!(
            p.check(Action::Shell, Some("cargo test --all")),
            Verdict::Allow
        );
        assert_eq!(p.check(Action::Shell, Some("cargo build")), Verdict::Ask);
        assert_eq!(
            p.check(Action::Shell, Some("echo; cargo test")),
            Verdict::Ask
        );
    }

    #[test]
    fn session_approval_sticks() {
        let mut p = Permissions::new(Mode::Ask, &[]).unwrap();
        p.allow_for_session(Action::Shell);
        assert_eq!(p.check(Action::Shell, Some("make")), Verdict::Allow);
        assert_eq!(p.check(Action::Edit, None), Verdict::Ask);
    }
}
