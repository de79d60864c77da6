//! Which files the last pack of a project kept whole, and reusing that choice.
//!
//! When a project does not fit its budget, the files kept whole depend on relevance, which
//! follows recency: an edit moves the edited file up, and greedy filling then takes a
//! different set at the budget's edge. The repo map at the front of the pack lists the other
//! files, so a different set changes the very first tokens and no cached prefix survives a
//! restart. Reusing the previous selection while it still fits the same budget keeps the map,
//! and the KV state of everything before the edited file, valid.

use super::pack::{LazyCounts, MapSpace, Selection, render_map};
use super::relevance::{mentioned, path_mentions};
use super::render::display_path;
use super::walk::Candidate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The outcome of one pack's selection, by display path (`/`-separated).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackSelection {
    /// The budget the selection was made for; another budget selects afresh.
    pub budget: usize,
    /// Files kept whole.
    pub whole: BTreeSet<String>,
    /// Files listed in the repo map without their symbols.
    pub bare: BTreeSet<String>,
    /// Files left out of the map (counted in its overflow line).
    pub dropped: BTreeSet<String>,
}

/// How a reused selection treats one file that is not kept whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MapRole {
    /// Listed with its top-level symbols (also a file the previous pack did not know).
    WithSymbols,
    /// Listed by path only.
    Bare,
    /// Not listed.
    Dropped,
}

impl PackSelection {
    /// Whether `path` was kept whole.
    pub(super) fn is_whole(&self, path: &str) -> bool {
        self.whole.contains(path)
    }

    /// The map role `path` had, for a file not kept whole.
    pub(super) fn map_role(&self, path: &str) -> MapRole {
        if self.dropped.contains(path) {
            MapRole::Dropped
        } else if self.bare.contains(path) {
            MapRole::Bare
        } else {
            MapRole::WithSymbols
        }
    }
}

/// The previous selection applied to today's `candidates`, when it still fits `budget`: the
/// same files whole (those that still exist), the others listed, bare or dropped as before.
/// `None` — select afresh — for another budget, when nothing it kept whole exists any more,
/// when the prompt names a file it did not keep whole, or when it no longer fits.
pub(super) fn reuse_selection(
    previous: &PackSelection,
    candidates: &[Candidate],
    block_tokens: &mut LazyCounts<'_>,
    budget: usize,
    prompt: &str,
    map_space: &MapSpace<'_>,
) -> Option<Selection> {
    if previous.budget != budget {
        return None;
    }
    let paths: Vec<String> = candidates
        .iter()
        .map(|candidate| display_path(&candidate.rel_path))
        .collect();
    let mentions = path_mentions(prompt);
    let (included, rest): (Vec<usize>, Vec<usize>) =
        (0..candidates.len()).partition(|&i| previous.is_whole(&paths[i]));
    if included.is_empty() || rest.iter().any(|&i| mentioned(&paths[i], &mentions)) {
        return None;
    }
    let used: usize = included.iter().map(|&i| block_tokens.get(i)).sum();
    if used > budget {
        return None;
    }
    let (dropped, listed): (Vec<usize>, Vec<usize>) = rest
        .into_iter()
        .partition(|&i| previous.map_role(&paths[i]) == MapRole::Dropped);
    let with_symbols: Vec<bool> = listed
        .iter()
        .map(|&i| previous.map_role(&paths[i]) == MapRole::WithSymbols)
        .collect();
    let map = render_map(&listed, &with_symbols, &dropped, map_space);
    (used + map.tokens <= budget).then_some(Selection { included, map })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_follow_the_recorded_sets_and_unknown_files_get_symbols() {
        let selection = PackSelection {
            budget: 100,
            whole: ["a.rs".to_string()].into(),
            bare: ["b.rs".to_string()].into(),
            dropped: ["c.rs".to_string()].into(),
        };
        assert!(selection.is_whole("a.rs"));
        assert!(!selection.is_whole("b.rs"));
        assert_eq!(selection.map_role("b.rs"), MapRole::Bare);
        assert_eq!(selection.map_role("c.rs"), MapRole::Dropped);
        assert_eq!(selection.map_role("new.rs"), MapRole::WithSymbols);
    }

    #[test]
    fn a_selection_survives_a_json_round_trip() {
        let selection = PackSelection {
            budget: 7,
            whole: ["src/x y.rs".to_string()].into(),
            ..PackSelection::default()
        };
        let json = serde_json::to_string(&selection).unwrap();
        assert_eq!(
            serde_json::from_str::<PackSelection>(&json).unwrap(),
            selection
        );
    }
}
