//! Permission modes and shell allow-rules: what may run without asking.
//!
//! Shell commands are judged on what [`super::shell_command`] reads in them: every simple
//! command must match an `--allow` rule ([`super::allow_rule`] has the pattern semantics),
//! every file a redirection or `tee` writes must be `/dev/null` (or `/dev/stdout`,
//! `/dev/stderr`) or, in `auto-edit`, a path inside the project outside `.git/`, and a line the
//! parser cannot read with certainty is asked about. `read-only` and `plan` run only the
//! commands [`super::read_only_command`] proves read-only; `full-auto` runs everything.

use std::path::{Component, Path};

use super::allow_rule::AllowRule;
use super::read_only_command;
use super::shell_command::{self, CommandLine};
use crate::tools::ToolContext;
use crate::tools::paths::{self, Access};

/// How much the agent may do on its own. The same type from the command line (`--mode`, a
/// clap value enum) and config file (serde) through the agent, the protocol and the TUI.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Only reading and searching; edits are denied, and so are commands not proven
    /// read-only (see [`super::read_only_command`]).
    #[serde(alias = "readonly")]
    #[value(alias = "readonly")]
    ReadOnly,
    /// Planning: the tools are exactly as in `read-only`, and each message tells the model to
    /// investigate and end with a numbered plan for the user to approve (see
    /// [`super::plan_mode`]).
    Plan,
    /// Edits and shell need approval (the interactive default).
    Ask,
    /// Edits run; shell needs approval.
    AutoEdit,
    /// Everything runs.
    FullAuto,
}

impl Mode {
    /// Parses `read-only`, `plan`, `ask`, `auto-edit` or `full-auto`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "read-only" | "readonly" => Some(Self::ReadOnly),
            "plan" => Some(Self::Plan),
            "ask" => Some(Self::Ask),
            "auto-edit" => Some(Self::AutoEdit),
            "full-auto" => Some(Self::FullAuto),
            _ => None,
        }
    }

    /// The mode's name as typed.
    pub const fn name(self) -> &'static str {
        match self {
            Self::ReadOnly => "read-only",
            Self::Plan => "plan",
            Self::Ask => "ask",
            Self::AutoEdit => "auto-edit",
            Self::FullAuto => "full-auto",
        }
    }

    /// Every mode, in order of increasing autonomy (`plan` may do what `read-only` may).
    pub const ALL: [Mode; 5] = [
        Self::ReadOnly,
        Self::Plan,
        Self::Ask,
        Self::AutoEdit,
        Self::FullAuto,
    ];

    /// Whether tools may only read: edits are denied and only commands proven read-only run
    /// (`read-only` and `plan`).
    pub const fn is_read_only(self) -> bool {
        matches!(self, Self::ReadOnly | Self::Plan)
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
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
    rules: Vec<AllowRule>,
    session_allowed: Vec<Action>,
    project: Option<ToolContext>,
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

/// Write targets that are never files.
const HARMLESS_WRITE_TARGETS: &[&str] = &["/dev/null", "/dev/stdout", "/dev/stderr"];
/// Commands that change the directory later relative paths are taken from.
const DIRECTORY_CHANGERS: &[&str] = &["cd", "pushd", "popd"];

impl Permissions {
    /// Permissions in `mode` with shell allow-patterns (semantics in [`super::allow_rule`]).
    pub fn new(mode: Mode, allow: &[String]) -> Result<Self, RuleError> {
        let rules = allow
            .iter()
            .map(|pattern| AllowRule::parse(pattern))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            mode,
            rules,
            session_allowed: Vec::new(),
            project: None,
        })
    }

    /// Sets the project that shell commands run in (their working directory): writes and
    /// `read-only` paths are checked against it. Without it no file write is allowed.
    pub fn set_project(&mut self, project: ToolContext) {
        self.project = Some(project);
    }

    /// Remembers "always allow this kind of action in this session".
    pub fn allow_for_session(&mut self, action: Action) {
        if !self.session_allowed.contains(&action) {
            self.session_allowed.push(action);
        }
    }

    /// Whether "always" allowed every `action` in this session.
    pub fn is_allowed_for_session(&self, action: Action) -> bool {
        self.session_allowed.contains(&action)
    }

    /// Asks again for `action` (undoes [`Self::allow_for_session`]).
    pub fn revoke_for_session(&mut self, action: Action) {
        self.session_allowed.retain(|a| *a != action);
    }

    /// Adds a shell allow rule (same syntax as `--allow`); a rule already present is kept once.
    pub fn add_rule(&mut self, pattern: &str) -> Result<(), RuleError> {
        let rule = AllowRule::parse(pattern)?;
        if !self.rules.iter().any(|r| r.pattern() == pattern) {
            self.rules.push(rule);
        }
        Ok(())
    }

    /// Removes the allow rule written exactly as `pattern`; whether there was one.
    pub fn remove_rule(&mut self, pattern: &str) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r.pattern() != pattern);
        self.rules.len() != before
    }

    /// The shell allow rules in force, as written.
    pub fn rules(&self) -> Vec<String> {
        self.rules.iter().map(|r| r.pattern().to_string()).collect()
    }

    /// Decides on an action; `command` is the shell command for [`Action::Shell`].
    ///
    /// A shell command runs without asking when the mode is `full-auto`, when the user allowed
    /// shell for the session, or when [`shell_command::analyze`] reads it with certainty, every
    /// simple command in it matches an `--allow` rule, and every file it writes is
    /// `/dev/null` or, in `auto-edit`, inside the project. Otherwise the user is asked. In
    /// `read-only` and `plan` only commands on the [`read_only_command`] list run; the rest are
    /// denied.
    pub fn check(&self, action: Action, command: Option<&str>) -> Verdict {
        match action {
            Action::Read => Verdict::Allow,
            Action::Edit => self.check_edit(),
            Action::Shell => self.check_shell(command),
        }
    }

    fn check_edit(&self) -> Verdict {
        match self.mode {
            Mode::ReadOnly => Verdict::Deny(
                "denied: the session is in read-only mode, so changing files is not allowed".into(),
            ),
            Mode::Plan => Verdict::Deny(
                "denied: the session is in plan mode, so changing files is not allowed; finish \
                 with your plan, and the user switches modes to carry it out"
                    .into(),
            ),
            Mode::AutoEdit | Mode::FullAuto => Verdict::Allow,
            Mode::Ask if self.session_allowed.contains(&Action::Edit) => Verdict::Allow,
            Mode::Ask => Verdict::Ask,
        }
    }

    fn check_shell(&self, command: Option<&str>) -> Verdict {
        if self.mode == Mode::FullAuto {
            return Verdict::Allow;
        }
        if self.mode.is_read_only() {
            let mode = self.mode;
            return match command.map(|c| self.read_only_reason(c)) {
                Some(Ok(())) => Verdict::Allow,
                Some(Err(reason)) => Verdict::Deny(format!(
                    "denied: the session is in {mode} mode, which runs only commands that are \
                     known to just read ({reason})"
                )),
                None => Verdict::Deny(format!(
                    "denied: the session is in {mode} mode, so running commands is not allowed"
                )),
            };
        }
        if self.session_allowed.contains(&Action::Shell) {
            return Verdict::Allow;
        }
        match command {
            Some(command) if self.allowed_by_rules(command).is_ok() => Verdict::Allow,
            _ => Verdict::Ask,
        }
    }

    /// Why `command` is not allowed by the `--allow` rules in this mode (`Ok` when it is).
    pub fn allowed_by_rules(&self, command: &str) -> Result<(), String> {
        let line = shell_command::analyze(command).map_err(|e| format!("uncertain: {e}"))?;
        if let Some(unmatched) = line
            .commands
            .iter()
            .find(|c| !self.rules.iter().any(|rule| rule.matches(c)))
        {
            return Err(format!("`{}` matches no --allow rule", unmatched.display()));
        }
        for target in &line.writes {
            if HARMLESS_WRITE_TARGETS.contains(&target.as_str()) {
                continue;
            }
            if !matches!(self.mode, Mode::AutoEdit | Mode::FullAuto) {
                return Err(format!(
                    "it writes `{target}` and this mode does not allow edits"
                ));
            }
            if changes_directory(&line) {
                return Err(format!("it writes `{target}` after changing the directory"));
            }
            if !self.inside_project(target, Access::Write) {
                return Err(format!(
                    "it writes `{target}`, which is not a file inside the project"
                ));
            }
        }
        Ok(())
    }

    /// Why `command` is not provably read-only (`Ok` when it is).
    fn read_only_reason(&self, command: &str) -> Result<(), String> {
        let line = shell_command::analyze(command).map_err(|e| format!("uncertain: {e}"))?;
        if let Some(target) = line
            .writes
            .iter()
            .find(|t| !HARMLESS_WRITE_TARGETS.contains(&t.as_str()))
        {
            return Err(format!("it writes `{target}`"));
        }
        let in_project = |path: &str| self.inside_project(path, Access::Read);
        if let Some(source) = line.reads.iter().find(|r| !in_project(r)) {
            return Err(format!("it reads `{source}`, outside the project"));
        }
        line.commands
            .iter()
            .try_for_each(|c| read_only_command::check(c, &in_project))
    }

    /// Whether `path` (relative to the project root, where shell commands run) stays inside the
    /// project; `..` components are refused outright (the kernel resolves them after symlinks).
    fn inside_project(&self, path: &str, access: Access) -> bool {
        let Some(project) = &self.project else {
            return false;
        };
        let has_parent = Path::new(path)
            .components()
            .any(|c| matches!(c, Component::ParentDir));
        !has_parent && paths::resolve(project, path, access).is_ok()
    }
}

/// Whether a simple command of `line` changes the working directory.
fn changes_directory(line: &CommandLine) -> bool {
    line.commands
        .iter()
        .any(|c| DIRECTORY_CHANGERS.contains(&c.name.as_str()))
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
    fn every_simple_command_must_match_a_rule() {
        let p = Permissions::new(Mode::AutoEdit, &["cargo test*".into(), "echo*".into()]).unwrap();
        for allowed in [
            "cargo test",
            "cargo test --all -- --nocapture",
            "cargo test && echo ok",
            "cargo test 2>&1 | echo done",
            "echo \"a; b\" 'c && d' e\\;f",
            "echo $(echo hi) `echo there`",
        ] {
            assert_eq!(
                p.check(Action::Shell, Some(allowed)),
                Verdict::Allow,
                "{allowed}"
            );
        }
        for chained in [
            "cargo test; curl x | sh",
            "cargo testx",
            "cargo testx; touch P",
            "cargo test && touch P",
            "cargo test || touch P",
            "cargo test & touch P",
            "cargo test\ntouch P",
            "cargo test $(touch P)",
            "cargo test `touch P`",
            "echo \"$(touch P)\"",
            "echo <(touch P)",
            "echo ${x:=$(touch P)}",
            "echo hi | sh -c 'touch P'",
            "(touch P)",
            "{ touch P; }",
            "eval echo hi",
            "X=1 cargo test",
            "$CARGO test",
        ] {
            assert_eq!(
                p.check(Action::Shell, Some(chained)),
                Verdict::Ask,
                "{chained}"
            );
        }
    }

    #[test]
    fn writes_need_an_edit_mode_and_a_target_inside_the_project() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        std::os::unix::fs::symlink("/tmp", dir.path().join("out")).unwrap();
        let project = ToolContext::new(dir.path());
        let rules = ["echo*".to_string(), "tee*".to_string()];
        let mut auto = Permissions::new(Mode::AutoEdit, &rules).unwrap();
        auto.set_project(project.clone());
        let mut ask = Permissions::new(Mode::Ask, &rules).unwrap();
        ask.set_project(project);
        for line in [
            "echo hi > notes.txt",
            "echo hi | tee -a log.txt",
            "echo hi >/dev/null 2>&1",
        ] {
            assert_eq!(
                auto.check(Action::Shell, Some(line)),
                Verdict::Allow,
                "{line}"
            );
        }
        assert_eq!(
            ask.check(Action::Shell, Some("echo hi >/dev/null")),
            Verdict::Allow
        );
        assert_eq!(
            ask.check(Action::Shell, Some("echo hi > notes.txt")),
            Verdict::Ask
        );
        for line in [
            "echo hi > /tmp/x",
            "echo hi > ../x",
            "echo hi >> out/x",
            "echo hi > .git/hooks/pre-commit",
            "echo hi | tee /tmp/x",
            "echo hi > ~/x",
            "echo hi > $F",
        ] {
            assert_eq!(
                auto.check(Action::Shell, Some(line)),
                Verdict::Ask,
                "{line}"
            );
        }
        let unset = Permissions::new(Mode::AutoEdit, &rules).unwrap();
        assert_eq!(
            unset.check(Action::Shell, Some("echo hi > x")),
            Verdict::Ask
        );
    }

    #[test]
    fn read_only_runs_only_commands_proven_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = Permissions::new(Mode::ReadOnly, &["touch*".into()]).unwrap();
        p.set_project(ToolContext::new(dir.path()));
        for line in [
            "ls -la",
            "cat a.txt | grep x | wc -l",
            "git status",
            "echo hi 2>/dev/null",
        ] {
            assert_eq!(p.check(Action::Shell, Some(line)), Verdict::Allow, "{line}");
        }
        for line in [
            "touch P",
            "ls; touch P",
            "echo hi > x",
            "cat /etc/passwd",
            "cat < /etc/passwd",
            "find . -delete",
            "eval ls",
        ] {
            assert!(
                matches!(p.check(Action::Shell, Some(line)), Verdict::Deny(_)),
                "{line}"
            );
        }
        p.allow_for_session(Action::Shell);
        assert!(matches!(
            p.check(Action::Shell, Some("touch P")),
            Verdict::Deny(_)
        ));
    }

    #[test]
    fn plan_mode_decides_every_call_as_read_only_does() {
        let dir = tempfile::tempdir().unwrap();
        let rules = ["touch*".to_string(), "cargo test*".to_string()];
        let mut read_only = Permissions::new(Mode::ReadOnly, &rules).unwrap();
        read_only.set_project(ToolContext::new(dir.path()));
        let mut plan = Permissions::new(Mode::Plan, &rules).unwrap();
        plan.set_project(ToolContext::new(dir.path()));
        for p in [&mut read_only, &mut plan] {
            p.allow_for_session(Action::Edit);
            p.allow_for_session(Action::Shell);
        }
        let allowed = |v: &Verdict| matches!(v, Verdict::Allow);
        for (action, command) in [
            (Action::Read, None),
            (Action::Edit, None),
            (Action::Shell, None),
            (Action::Shell, Some("ls -la")),
            (Action::Shell, Some("git log --oneline -5")),
            (Action::Shell, Some("cat README.md | head")),
            (Action::Shell, Some("touch P")),
            (Action::Shell, Some("cargo test")),
            (Action::Shell, Some("echo hi > notes.txt")),
            (Action::Shell, Some("ls; rm -rf x")),
            (Action::Shell, Some("sed -i s/a/b/ x")),
        ] {
            let expected = read_only.check(action, command);
            let got = plan.check(action, command);
            assert_eq!(allowed(&got), allowed(&expected), "{action:?} {command:?}");
            assert!(!matches!(got, Verdict::Ask), "plan never asks: {command:?}");
        }
        assert_eq!(plan.check(Action::Shell, Some("ls")), Verdict::Allow);
        let Verdict::Deny(reason) = plan.check(Action::Edit, None) else {
            panic!("an edit in plan mode is denied");
        };
        assert!(reason.contains("plan mode"), "{reason}");
    }

    #[test]
    fn every_mode_parses_from_its_name() {
        for mode in Mode::ALL {
            assert_eq!(Mode::parse(mode.name()), Some(mode));
        }
        assert_eq!(Mode::parse("plan"), Some(Mode::Plan));
        assert!(Mode::Plan.is_read_only() && Mode::ReadOnly.is_read_only());
        assert!(!Mode::Ask.is_read_only());
    }

    #[test]
    fn an_invalid_pattern_is_a_rule_error() {
        let error = Permissions::new(Mode::Ask, &["a[b".into()]).unwrap_err();
        assert_eq!(error.pattern, "a[b");
    }

    #[test]
    fn session_approval_sticks() {
        let mut p = Permissions::new(Mode::Ask, &[]).unwrap();
        p.allow_for_session(Action::Shell);
        assert_eq!(p.check(Action::Shell, Some("make")), Verdict::Allow);
        assert_eq!(p.check(Action::Edit, None), Verdict::Ask);
    }
}
