//! Fuzzy matching of a query against paths: case-insensitive subsequence with simple scoring.

/// One ranked candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuzzyMatch {
    /// Index of the candidate in the input list.
    pub index: usize,
    /// Higher is better.
    pub score: i64,
    /// Char positions of the matched query characters in the candidate.
    pub positions: Vec<usize>,
}

/// Scores `candidate` against `query`; `None` unless every query char appears in order.
///
/// Rewards consecutive matches, matches at the start of a path segment or word, and matches in
/// the file name; penalises gaps and long paths.
pub fn fuzzy_score(query: &str, candidate: &str) -> Option<(i64, Vec<usize>)> {
    let chars: Vec<char> = candidate.chars().collect();
    let name_start = chars.iter().rposition(|&c| c == '/').map_or(0, |i| i + 1);
    let mut positions = Vec::with_capacity(query.len());
    let mut score: i64 = 0;
    let mut next = 0;
    let mut previous: Option<usize> = None;
    for q in query.chars().filter(|c| !c.is_whitespace()) {
        let q = q.to_ascii_lowercase();
        let found = (next..chars.len()).find(|&i| chars[i].to_ascii_lowercase() == q)?;
        score += 16;
        match previous {
            Some(p) if p + 1 == found => score += 15,
            Some(p) => score -= ((found - p - 1) as i64).min(10),
            None => score -= (found as i64).min(10) / 2,
        }
        let at_boundary = found == 0 || matches!(chars[found - 1], '/' | '_' | '-' | ' ');
        if at_boundary {
            score += 10;
        }
        if found >= name_start {
            score += 6;
        }
        positions.push(found);
        previous = Some(found);
        next = found + 1;
    }
    score -= (chars.len() as i64) / 8;
    Some((score, positions))
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
    let mut matches: Vec<FuzzyMatch> = candidates
        .iter()
        .enumerate()
        .filter_map(|(index, candidate)| {
            fuzzy_score(query, candidate).map(|(score, positions)| FuzzyMatch {
                index,
                score,
                positions,
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
    fn subsequence_required() {
        assert!(fuzzy_score("mrs", "src/main.rs").is_some());
        assert!(fuzzy_score("xyz", "src/main.rs").is_none());
        assert_eq!(
            fuzzy_score("MAIN", "src/main.rs").map(|m| m.1),
            Some(vec![4, 5, 6, 7])
        );
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
