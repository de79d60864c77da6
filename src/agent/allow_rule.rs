//! One `--allow` pattern and the simple commands it matches.
//!
//! A pattern is a command name and arguments separated by spaces (no quoting), matched
//! against one simple command's words after quote removal (see [`super::shell_command`]):
//!
//! - each pattern word matches exactly one word of the command, as a glob within that word
//!   (`*`, `?`, `[abc]`, `{a,b}`); a word only known when bash runs it (`$x`, `*.rs`, `$(…)`)
//!   matches no pattern word;
//! - a pattern ending in `*` allows any further arguments, known or not: `cargo test*` (or
//!   `cargo test *`) matches `cargo test` and `cargo test --all`, but not `cargo testx`;
//! - without the trailing `*` the command must have exactly the pattern's words: `make`
//!   matches `make` only;
//! - `*` alone matches any simple command with a literal name.
//!
//! Every simple command of a line must match some pattern (see [`super::permissions`]), so
//! `cargo test*` never lets `cargo test; curl … | sh` run.

use globset::{Glob, GlobMatcher};

use super::permissions::RuleError;
use super::shell_command::{SimpleCommand, Word};

/// A parsed `--allow` pattern.
#[derive(Debug, Clone)]
pub struct AllowRule {
    pattern: String,
    words: Vec<GlobMatcher>,
    any_arguments: bool,
}

impl AllowRule {
    /// Parses `pattern`; an empty pattern or an invalid glob is an error.
    pub fn parse(pattern: &str) -> Result<Self, RuleError> {
        let error = |reason: String| RuleError {
            pattern: pattern.to_string(),
            reason,
        };
        let trimmed = pattern.trim();
        if trimmed.is_empty() {
            return Err(error("the pattern is empty".into()));
        }
        let (body, any_arguments) = match trimmed.strip_suffix('*') {
            Some(body) => (body, true),
            None => (trimmed, false),
        };
        let words = body
            .split_whitespace()
            .map(|word| {
                Glob::new(word)
                    .map(|glob| glob.compile_matcher())
                    .map_err(|e| error(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            pattern: trimmed.to_string(),
            words,
            any_arguments,
        })
    }

    /// The pattern as written (trimmed).
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether `command` is allowed by this pattern.
    pub fn matches(&self, command: &SimpleCommand) -> bool {
        let count = command.args.len() + 1;
        if count < self.words.len() || (!self.any_arguments && count != self.words.len()) {
            return false;
        }
        let name = Word::Literal(command.name.clone());
        std::iter::once(&name)
            .chain(&command.args)
            .zip(&self.words)
            .all(|(word, glob)| word.literal().is_some_and(|text| glob.is_match(text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(name: &str, args: &[Word]) -> SimpleCommand {
        SimpleCommand {
            name: name.into(),
            args: args.to_vec(),
        }
    }

    fn lit(text: &str) -> Word {
        Word::Literal(text.into())
    }

    fn dynamic(text: &str) -> Word {
        Word::Dynamic(text.into())
    }

    #[test]
    fn a_trailing_star_allows_any_arguments_after_whole_words() {
        for pattern in ["cargo test*", "cargo test *", " cargo  test * "] {
            let rule = AllowRule::parse(pattern).unwrap();
            assert!(rule.matches(&command("cargo", &[lit("test")])), "{pattern}");
            assert!(rule.matches(&command("cargo", &[lit("test"), lit("--all")])));
            assert!(rule.matches(&command("cargo", &[lit("test"), dynamic("$X")])));
            assert!(!rule.matches(&command("cargo", &[lit("testx")])));
            assert!(!rule.matches(&command("cargo", &[])));
            assert!(!rule.matches(&command("cargo", &[dynamic("$T")])));
            assert!(!rule.matches(&command("cargox", &[lit("test")])));
        }
    }

    #[test]
    fn without_a_trailing_star_the_words_must_match_exactly() {
        let rule = AllowRule::parse("make").unwrap();
        assert!(rule.matches(&command("make", &[])));
        assert!(!rule.matches(&command("make", &[lit("install")])));
        let rule = AllowRule::parse("git log --oneline").unwrap();
        assert!(rule.matches(&command("git", &[lit("log"), lit("--oneline")])));
        assert!(!rule.matches(&command("git", &[lit("log")])));
    }

    #[test]
    fn globs_match_within_one_word() {
        let rule = AllowRule::parse("npm run lint:? --fix").unwrap();
        assert!(rule.matches(&command("npm", &[lit("run"), lit("lint:a"), lit("--fix")])));
        assert!(!rule.matches(&command("npm", &[lit("run"), lit("lint:ab"), lit("--fix")])));
        let rule = AllowRule::parse("*").unwrap();
        assert!(rule.matches(&command("anything", &[dynamic("$x")])));
    }

    #[test]
    fn invalid_or_empty_patterns_are_errors() {
        assert!(AllowRule::parse("a[b").is_err());
        assert!(AllowRule::parse("  ").is_err());
    }
}
