//! Which files to keep when the whole project does not fit: a priority order.
//!
//! Tiers, most important first: files named in the user's prompt, `AGENTS.md`, `README*`,
//! entry points and manifests, then everything else by most recent modification. Inside the
//! first four tiers shallower paths win, then the path decides.

use super::render::display_path;
use super::walk::Candidate;
use std::cmp::Reverse;

/// File names that mark an entry point or a project manifest.
const ENTRY_POINT_NAMES: &[&str] = &[
    "main.rs",
    "lib.rs",
    "main.py",
    "__main__.py",
    "app.py",
    "main.go",
    "main.js",
    "main.ts",
    "Cargo.toml",
    "package.json",
    "pyproject.toml",
    "setup.py",
    "go.mod",
];

/// Characters that can be part of a file reference in free text.
fn is_path_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '@' | '\\')
}

/// Words of the prompt that look like file or directory references (contain `.` or `/`).
pub fn path_mentions(prompt: &str) -> Vec<String> {
    prompt
        .split(|c: char| !is_path_char(c))
        .map(|word| word.trim_start_matches('@').trim_start_matches("./"))
        .map(|word| word.trim_end_matches(['.', ',', ':']))
        .filter(|word| word.contains('.') || word.contains('/'))
        .map(|word| word.replace('\\', "/"))
        .filter(|word| !word.is_empty() && word != "/" && !word.chars().all(|c| c == '.'))
        .collect()
}

/// Whether `path` (display form) is what a prompt mention refers to.
pub(super) fn mentioned(path: &str, mentions: &[String]) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    mentions.iter().any(|mention| {
        let dir = mention.trim_end_matches('/');
        path == mention
            || path.ends_with(&format!("/{mention}"))
            || (!mention.contains('/') && name == mention)
            || (!dir.is_empty() && path.starts_with(&format!("{dir}/")))
    })
}

/// The tier of one file: 0 is most important.
fn tier(path: &str, mentions: &[String]) -> u8 {
    let name = path.rsplit('/').next().unwrap_or(path);
    if mentioned(path, mentions) {
        0
    } else if name == "AGENTS.md" {
        1
    } else if name.to_ascii_uppercase().starts_with("README") {
        2
    } else if ENTRY_POINT_NAMES.contains(&name) || is_index_file(name) {
        3
    } else {
        4
    }
}

/// `index.js`, `index.ts`, `index.html`, … — an index file of any extension.
fn is_index_file(name: &str) -> bool {
    name.strip_prefix("index.")
        .is_some_and(|extension| !extension.is_empty())
}

/// Indices into `candidates`, most important first.
pub fn priority_order(candidates: &[Candidate], prompt: &str) -> Vec<usize> {
    let mentions = path_mentions(prompt);
    let mut keyed: Vec<_> = candidates
        .iter()
        .enumerate()
        .map(|(index, candidate)| {
            let path = display_path(&candidate.rel_path);
            let tier = tier(&path, &mentions);
            let depth = path.matches('/').count();
            let recency = if tier == 4 {
                Some(Reverse(candidate.last_change))
            } else {
                None
            };
            ((tier, recency, depth, path), index)
        })
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, index)| index).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::last_change::LastChange;
    use std::path::PathBuf;
    use std::time::{Duration, SystemTime};

    fn candidate(path: &str, age_secs: u64) -> Candidate {
        Candidate {
            rel_path: PathBuf::from(path),
            content: String::new(),
            last_change: LastChange::Uncommitted(
                SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 - age_secs),
            ),
        }
    }

    fn ordered(candidates: &[Candidate], prompt: &str) -> Vec<String> {
        priority_order(candidates, prompt)
            .into_iter()
            .map(|index| display_path(&candidates[index].rel_path))
            .collect()
    }

    #[test]
    fn mentions_are_extracted_from_free_text() {
        assert_eq!(
            path_mentions("Fix `src/parser.rs`, then look at @docs/ and config.toml."),
            ["src/parser.rs", "docs/", "config.toml"]
        );
        assert!(path_mentions("no files here... really").is_empty());
    }

    #[test]
    fn tiers_order_prompt_agents_readme_entry_then_recent() {
        let candidates = [
            candidate("src/old.rs", 500),
            candidate("src/new.rs", 1),
            candidate("src/main.rs", 900),
            candidate("README.md", 900),
            candidate("AGENTS.md", 900),
            candidate("src/deep/parser.rs", 900),
            candidate("Cargo.toml", 900),
        ];
        assert_eq!(
            ordered(&candidates, "why does parser.rs panic?"),
            [
                "src/deep/parser.rs",
                "AGENTS.md",
                "README.md",
                "Cargo.toml",
                "src/main.rs",
                "src/new.rs",
                "src/old.rs",
            ]
        );
    }

    #[test]
    fn directory_mentions_select_everything_below() {
        let candidates = [candidate("a/x.rs", 1), candidate("b/y.rs", 2)];
        assert_eq!(ordered(&candidates, "look in b/"), ["b/y.rs", "a/x.rs"]);
    }
}
