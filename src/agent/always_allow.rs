//! What "always" on an approval allows from now on, stated before the user answers, and the
//! `/permissions` operations that list and revoke it.
//!
//! For a shell command "always" adds allow rules (see [`super::allow_rule`]), one per simple
//! command of the line: the exact command (`ls -la` allows `ls -la` only), or for the
//! subcommand of a known build tool a prefix (`cargo test --all` → `cargo test *`). It is
//! offered only when every word is known before bash runs it and the rules would let this very
//! line run (so a line that writes a file outside the project gets no "always"). For edits
//! "always" allows every edit in this session.

use super::shell_command::{self, SimpleCommand};
use super::{Action, Agent, Permissions};
use crate::protocol::Event;

/// Tools whose first argument names a subcommand that says what they will do.
const SUBCOMMAND_TOOLS: &[&str] = &[
    "cargo",
    "git",
    "go",
    "npm",
    "pnpm",
    "yarn",
    "bun",
    "make",
    "dotnet",
    "mvn",
    "gradle",
    "./gradlew",
    "uv",
    "poetry",
    "pip",
    "pip3",
    "rustup",
    "docker",
    "kubectl",
    "just",
];
/// Subcommands that run whatever their arguments say, so only the exact command is offered.
const ARBITRARY_RUNNERS: &[&str] = &["exec", "dlx", "x", "run", "-c", "eval", "shell"];
/// Tools whose `run` runs a script named in the project (`npm run test`): the script name
/// is part of the prefix.
const SCRIPT_RUNNERS: &[&str] = &["npm", "pnpm", "yarn", "bun"];
/// Characters that mean something in a pattern, or split it, so a word holding one cannot be
/// written as a pattern word.
const PATTERN_SPECIAL: &[char] = &['*', '?', '[', ']', '{', '}', '\\'];

/// The allow rules "always" would add for `command`, or `None` when no narrow rule fits.
pub fn shell_rules(permissions: &Permissions, command: &str) -> Option<Vec<String>> {
    let line = shell_command::analyze(command).ok()?;
    if line.commands.is_empty() {
        return None;
    }
    let mut rules: Vec<String> = Vec::new();
    for simple in &line.commands {
        let rule = rule_for(simple)?;
        if !rules.contains(&rule) {
            rules.push(rule);
        }
    }
    let mut with_rules = permissions.clone();
    for rule in &rules {
        with_rules.add_rule(rule).ok()?;
    }
    with_rules.allowed_by_rules(command).ok()?;
    Some(rules)
}

/// What the overlay says "always" means, for a call of `action` whose shell rules are `rules`.
pub fn always_label(action: Action, rules: Option<&[String]>) -> Option<String> {
    match action {
        Action::Shell => rules.map(|r| format!("always allow: {}", r.join(", "))),
        Action::Edit => Some("always allow edits in this session".to_string()),
        Action::Read => None,
    }
}

/// One simple command as a rule: a prefix for a known tool's subcommand, else the exact words.
fn rule_for(command: &SimpleCommand) -> Option<String> {
    let mut words = vec![command.name.as_str()];
    for arg in &command.args {
        words.push(arg.literal()?);
    }
    if words
        .iter()
        .any(|w| w.is_empty() || w.contains(PATTERN_SPECIAL) || w.contains(char::is_whitespace))
    {
        return None;
    }
    Some(match prefix_length(&words) {
        Some(n) => format!("{} *", words[..n].join(" ")),
        None => words.join(" "),
    })
}

/// How many leading words form a prefix rule for `words`, when one fits.
fn prefix_length(words: &[&str]) -> Option<usize> {
    let name = *words.first()?;
    if !SUBCOMMAND_TOOLS.contains(&name) {
        return None;
    }
    let sub = *words.get(1)?;
    let plain = |w: &str| {
        !w.starts_with('-')
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':'))
    };
    if !plain(sub) {
        return None;
    }
    if sub == "run" && SCRIPT_RUNNERS.contains(&name) {
        let script = *words.get(2)?;
        return plain(script).then_some(3);
    }
    if ARBITRARY_RUNNERS.contains(&sub) {
        return None;
    }
    Some(2)
}

impl Agent {
    /// Emits the mode and the allow rules in force.
    pub(super) fn report_permissions(&self) {
        self.emit(Event::Permissions {
            mode: self.permissions.mode,
            rules: self.permissions.rules(),
            session_edits: self.permissions.is_allowed_for_session(Action::Edit),
        });
    }

    /// Removes an allow rule and reports what is left (a warning when there was none).
    pub(super) fn revoke_rule(&mut self, rule: &str) {
        if !self.permissions.remove_rule(rule) {
            self.emit(Event::Warning {
                message: format!("no allow rule `{rule}`; /permissions lists them"),
            });
        }
        self.report_permissions();
    }

    /// Asks again before edits and reports what is left.
    pub(super) fn revoke_session_edits(&mut self) {
        self.permissions.revoke_for_session(Action::Edit);
        self.report_permissions();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{Mode, Verdict};

    fn ask() -> Permissions {
        Permissions::new(Mode::Ask, &[]).unwrap()
    }

    fn rules(command: &str) -> Option<Vec<String>> {
        shell_rules(&ask(), command)
    }

    #[test]
    fn a_subcommand_of_a_build_tool_becomes_a_prefix() {
        assert_eq!(rules("cargo test --all"), Some(vec!["cargo test *".into()]));
        assert_eq!(rules("cargo test"), Some(vec!["cargo test *".into()]));
        assert_eq!(
            rules("git log --oneline -5"),
            Some(vec!["git log *".into()])
        );
        assert_eq!(
            rules("npm run lint -- --fix"),
            Some(vec!["npm run lint *".into()])
        );
    }

    #[test]
    fn anything_else_is_the_exact_command() {
        assert_eq!(rules("ls -la"), Some(vec!["ls -la".into()]));
        assert_eq!(rules("rm -rf build"), Some(vec!["rm -rf build".into()]));
        assert_eq!(rules("npm exec foo"), Some(vec!["npm exec foo".into()]));
        assert_eq!(
            rules("git -C x status"),
            Some(vec!["git -C x status".into()])
        );
        assert_eq!(
            rules("cargo test 2>&1 | tail -20"),
            Some(vec!["cargo test *".into(), "tail -20".into()])
        );
    }

    #[test]
    fn no_rule_for_words_known_only_at_run_time_or_unsafe_writes() {
        assert_eq!(rules("ls $HOME"), None);
        assert_eq!(rules("cat *.rs"), None);
        assert_eq!(rules("echo 'a b'"), None);
        assert_eq!(
            rules("echo hi > notes.txt"),
            None,
            "ask mode allows no writes"
        );
        assert_eq!(rules("eval ls"), None);
        assert_eq!(rules("if true; then ls; fi"), None);
    }

    #[test]
    fn the_rules_allow_the_command_and_not_every_command() {
        let mut p = ask();
        for rule in rules("cargo test --all").unwrap() {
            p.add_rule(&rule).unwrap();
        }
        assert_eq!(
            p.check(Action::Shell, Some("cargo test -q")),
            Verdict::Allow
        );
        assert_eq!(p.check(Action::Shell, Some("cargo build")), Verdict::Ask);
        assert_eq!(p.check(Action::Shell, Some("rm -rf /")), Verdict::Ask);
        assert!(p.remove_rule("cargo test *"));
        assert_eq!(p.check(Action::Shell, Some("cargo test -q")), Verdict::Ask);
    }

    #[test]
    fn labels_state_what_always_means() {
        let r = vec!["cargo test *".to_string()];
        assert_eq!(
            always_label(Action::Shell, Some(&r)).as_deref(),
            Some("always allow: cargo test *")
        );
        assert_eq!(always_label(Action::Shell, None), None);
        assert_eq!(
            always_label(Action::Edit, None).as_deref(),
            Some("always allow edits in this session")
        );
    }
}
