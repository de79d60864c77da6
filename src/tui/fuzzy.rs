//! Fuzzy matching of a query against paths and titles, with `nucleo-matcher` (the matcher of
//! the helix editor): fzf's scoring, path-aware bonuses, and its query syntax (words match
//! separately; `^prefix`, `suffix$`, `'exact`, `!not`).

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

/// One ranked candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuzzyMatch {
    /// Index of the candidate in the input list.
    pub index: usize,
    /// Higher is better.
    pub score: i64,
    /// Char positions of the matched query characters in the candidate, ascending.
    pub positions: Vec<usize>,
}

/// The best `limit` candidates for `query`, best first (ties: shorter, then alphabetical).
///
/// An empty query keeps the input order.
pub fn fuzzy_rank(query: &str, candidates: &[String], limit: usize) -> Vec<FuzzyMatch> {
    if query.trim().is_empty() {
        return (0..candidates.len().min(limit))
            .map(|index| FuzzyMatch {
                index,
                score: 0,
                positions: Vec::new(),
            })
            .collect();
    }
    let mut config = Config::DEFAULT;
    config.set_match_paths();
    let mut matcher = Matcher::new(config);
    let pattern = Pattern::parse(query, CaseMatching::Smart, Normalization::Smart);
    let (mut chars, mut indices) = (Vec::new(), Vec::new());
    let mut matches: Vec<FuzzyMatch> = candidates
        .iter()
        .enumerate()
        .filter_map(|(index, candidate)| {
            indices.clear();
            let haystack = Utf32Str::new(candidate, &mut chars);
            let score = pattern.indices(haystack, &mut matcher, &mut indices)?;
            indices.sort_unstable();
            indices.dedup();
            Some(FuzzyMatch {
                index,
                score: i64::from(score),
                positions: indices.iter().map(|&i| i as usize).collect(),
            })
        })
        .collect();
    matches.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| candidates[a.index].len().cmp(&candidates[b.index].len()))
            .then_with(|| candidates[a.index].cmp(&candidates[b.index]))
    });
    matches.truncate(limit);
    matches
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn subsequence_required_case_smart() {
        let files = paths(&["src/main.rs", "README.md"]);
        let only = |q: &str| {
            fuzzy_rank(q, &files, 10)
                .iter()
                .map(|m| files[m.index].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(only("mrs"), ["src/main.rs"]);
        assert!(only("xyz").is_empty());
        assert_eq!(only("readme"), ["README.md"], "lower case matches any case");
        assert!(
            only("MAIN").is_empty(),
            "an upper-case query is case-sensitive"
        );
        let ranked = fuzzy_rank("main", &files, 10);
        assert_eq!(ranked[0].positions, [4, 5, 6, 7]);
    }

    #[test]
    fn words_match_separately() {
        let files = paths(&["src/tui/view.rs", "src/agent/turn.rs"]);
        let ranked = fuzzy_rank("view tui", &files, 10);
        assert_eq!(ranked.len(), 1);
        assert_eq!(files[ranked[0].index], "src/tui/view.rs");
    }

    #[test]
    fn file_name_and_contiguous_matches_rank_first() {
        let files = paths(&[
            "src/tui/composer.rs",
            "docs/compose/overview.md",
            "src/cli.rs",
            "tests/comp_test.rs",
        ]);
        let ranked = fuzzy_rank("composer", &files, 10);
        assert_eq!(files[ranked[0].index], "src/tui/composer.rs");
        let ranked = fuzzy_rank("cli", &files, 10);
        assert_eq!(files[ranked[0].index], "src/cli.rs");
    }

    #[test]
    fn empty_query_keeps_order_and_limit() {
        let files = paths(&["b", "a", "c"]);
        let ranked = fuzzy_rank("", &files, 2);
        assert_eq!(ranked.iter().map(|m| m.index).collect::<Vec<_>>(), [0, 1]);
    }
}
