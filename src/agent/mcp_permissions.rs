//! Permissions for MCP tools (`mcp__SERVER__TOOL`), kept apart from the built-in tools' rules.
//!
//! * `full-auto`: allowed;
//! * `read-only`: allowed only when the server annotates the tool `readOnlyHint: true`;
//! * otherwise: allowed when an `--allow` pattern matches the tool's name (globs:
//!   `--allow 'mcp__github__*'`), or the user approved it for the session; else the user is
//!   asked (headless: denied).
//!
//! Only the user's patterns and answers widen this; nothing a server says does (the read-only
//! hint only ever applies in read-only mode, where it is the one way in).

use globset::{Glob, GlobMatcher};

use super::{Mode, Verdict};
use crate::mcp::names;

/// `--allow` patterns that name MCP tools, and the tools approved for this session.
#[derive(Debug, Clone, Default)]
pub struct McpRules {
    patterns: Vec<GlobMatcher>,
    session_allowed: Vec<String>,
}

impl McpRules {
    /// The rules from `--allow` patterns; those not starting with `mcp__` are for the shell
    /// and are ignored here, and an invalid glob is ignored too (the shell rules report it).
    pub fn new(allow: &[String]) -> Self {
        let patterns = allow
            .iter()
            .filter(|p| names::is_mcp(p))
            .filter_map(|p| Glob::new(p).ok().map(|g| g.compile_matcher()))
            .collect();
        Self {
            patterns,
            session_allowed: Vec::new(),
        }
    }

    /// The verdict on calling the MCP tool `name` in `mode`.
    pub fn check(&self, mode: Mode, name: &str, read_only: bool) -> Verdict {
        match mode {
            Mode::FullAuto => Verdict::Allow,
            Mode::ReadOnly | Mode::Plan if read_only => Verdict::Allow,
            Mode::ReadOnly | Mode::Plan => Verdict::Deny(format!(
                "denied: the session is in {mode} mode, and the MCP server does not mark \
                 {name} as read-only"
            )),
            Mode::Ask | Mode::AutoEdit => {
                if self.patterns.iter().any(|p| p.is_match(name))
                    || self.session_allowed.iter().any(|n| n == name)
                {
                    Verdict::Allow
                } else {
                    Verdict::Ask
                }
            }
        }
    }

    /// Remembers "always allow this tool in this session".
    pub fn allow_for_session(&mut self, name: &str) {
        if !self.session_allowed.iter().any(|n| n == name) {
            self.session_allowed.push(name.to_string());
        }
    }
}

/// The denial when `name` needs approval and nobody can give it.
pub fn headless_denial(name: &str) -> String {
    format!(
        "denied: calling the MCP tool {name} needs approval and nobody can approve in this mode; \
         the user can allow it with --allow '{name}' (globs work: --allow '{}__*') or --mode full-auto",
        name.rsplit_once("__").map_or(name, |(prefix, _)| prefix)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_patterns_and_hints() {
        let rules = McpRules::new(&[
            "mcp__test__add".into(),
            "mcp__fs__*".into(),
            "cargo *".into(),
        ]);
        assert_eq!(
            rules.check(Mode::Ask, "mcp__test__add", false),
            Verdict::Allow
        );
        assert_eq!(
            rules.check(Mode::AutoEdit, "mcp__fs__read", false),
            Verdict::Allow
        );
        assert_eq!(
            rules.check(Mode::AutoEdit, "mcp__test__echo", false),
            Verdict::Ask
        );
        assert_eq!(
            rules.check(Mode::Ask, "mcp__test__echo", true),
            Verdict::Ask
        );
        assert_eq!(
            rules.check(Mode::FullAuto, "mcp__x__y", false),
            Verdict::Allow
        );
        assert_eq!(
            rules.check(Mode::ReadOnly, "mcp__x__y", true),
            Verdict::Allow
        );
        assert!(matches!(
            rules.check(Mode::ReadOnly, "mcp__test__add", false),
            Verdict::Deny(_)
        ));
    }

    #[test]
    fn session_approval_is_per_tool() {
        let mut rules = McpRules::default();
        rules.allow_for_session("mcp__a__b");
        assert_eq!(rules.check(Mode::Ask, "mcp__a__b", false), Verdict::Allow);
        assert_eq!(rules.check(Mode::Ask, "mcp__a__c", false), Verdict::Ask);
    }

    #[test]
    fn denial_says_how_to_allow() {
        let text = headless_denial("mcp__test__add");
        assert!(text.contains("--allow 'mcp__test__add'"), "{text}");
        assert!(text.contains("--allow 'mcp__test__*'"), "{text}");
    }
}
