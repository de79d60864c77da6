//! Finding `old_string` in a file: exactly first, then ignoring trailing whitespace, then
//! ignoring indentation (re-indenting the replacement to the file's indentation).

use std::fmt;

/// How `old_string` was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchStrategy {
    /// Byte-for-byte.
    Exact,
    /// Line by line, ignoring whitespace at line ends.
    IgnoringTrailingWhitespace,
    /// Line by line, ignoring leading and trailing whitespace.
    IgnoringIndentation,
}

impl fmt::Display for MatchStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MatchStrategy::Exact => "exact match",
            MatchStrategy::IgnoringTrailingWhitespace => {
                "no exact match; matched ignoring trailing whitespace"
            }
            MatchStrategy::IgnoringIndentation => {
                "no exact match; matched ignoring indentation (new_string was re-indented to \
                 the file's indentation)"
            }
        })
    }
}

/// The file contents after replacing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaced {
    /// The new contents.
    pub text: String,
    /// How the matches were found.
    pub strategy: MatchStrategy,
    /// How many places were replaced.
    pub count: usize,
}

/// Why nothing was replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchError {
    /// `old_string` is not in the file, even ignoring whitespace.
    NotFound,
    /// `old_string` matches several places and `replace_all` was not set.
    Ambiguous {
        /// How the matches were found.
        strategy: MatchStrategy,
        /// 1-based line numbers where each match starts.
        lines: Vec<usize>,
    },
}

/// Replaces `old` with `new` in `content` (all `\n` line endings); one match is required
/// unless `replace_all`.
pub fn replace(
    content: &str,
    old: &str,
    new: &str,
    replace_all: bool,
) -> Result<Replaced, MatchError> {
    let exact: Vec<(usize, usize)> = content
        .match_indices(old)
        .map(|(start, m)| (start, start + m.len()))
        .collect();
    let found = if exact.is_empty() {
        fuzzy_regions(content, old)
    } else {
        Some((MatchStrategy::Exact, exact))
    };
    let Some((strategy, regions)) = found else {
        return Err(MatchError::NotFound);
    };
    if regions.len() > 1 && !replace_all {
        let lines = regions
            .iter()
            .map(|(start, _)| line_number_at(content, *start))
            .collect();
        return Err(MatchError::Ambiguous { strategy, lines });
    }
    let mut text = content.to_string();
    for (start, end) in regions.iter().rev() {
        let replacement = if strategy == MatchStrategy::IgnoringIndentation {
            reindent(old, new, &content[*start..*end])
        } else {
            new.to_string()
        };
        text.replace_range(*start..*end, &replacement);
    }
    Ok(Replaced {
        text,
        strategy,
        count: regions.len(),
    })
}

/// A line of the file: byte range without and with its `\n`.
struct Line {
    start: usize,
    end: usize,
    end_with_newline: usize,
}

fn split_lines(content: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, _) in content.match_indices('\n') {
        lines.push(Line {
            start,
            end: i,
            end_with_newline: i + 1,
        });
        start = i + 1;
    }
    if start < content.len() {
        lines.push(Line {
            start,
            end: content.len(),
            end_with_newline: content.len(),
        });
    }
    lines
}

/// How a strategy normalises a line before comparing.
type Normalize = fn(&str) -> &str;

/// Byte regions matching `old` line by line, trying each whitespace-tolerant strategy in turn.
fn fuzzy_regions(content: &str, old: &str) -> Option<(MatchStrategy, Vec<(usize, usize)>)> {
    let mut old_lines: Vec<&str> = old.split('\n').collect();
    let old_ends_with_newline = old_lines.len() > 1 && old_lines.last() == Some(&"");
    if old_ends_with_newline {
        old_lines.pop();
    }
    if old_lines.iter().all(|l| l.trim().is_empty()) {
        return None;
    }
    let file_lines = split_lines(content);
    let strategies: [(MatchStrategy, Normalize); 2] = [
        (MatchStrategy::IgnoringTrailingWhitespace, str::trim_end),
        (MatchStrategy::IgnoringIndentation, str::trim),
    ];
    for (strategy, normalize) in strategies {
        let wanted: Vec<&str> = old_lines.iter().map(|l| normalize(l)).collect();
        let mut regions = Vec::new();
        let mut i = 0;
        while i + wanted.len() <= file_lines.len() {
            let window = &file_lines[i..i + wanted.len()];
            let matches = window
                .iter()
                .zip(&wanted)
                .all(|(line, want)| normalize(&content[line.start..line.end]) == *want);
            if matches {
                let last = &window[window.len() - 1];
                let end = if old_ends_with_newline {
                    last.end_with_newline
                } else {
                    last.end
                };
                regions.push((window[0].start, end));
                i += wanted.len();
            } else {
                i += 1;
            }
        }
        if !regions.is_empty() {
            return Some((strategy, regions));
        }
    }
    None
}

/// `new` re-indented the way the file is indented where `old` matched. `matched` holds the
/// file's lines, one for each line of `old`. Each line of `new` takes the indentation change of
/// the `old` line at the same position, else of an `old` line with the same text, else of the
/// previous line.
fn reindent(old: &str, new: &str, matched: &str) -> String {
    // (indent in old_string, indent in the file, trimmed text) per non-blank line of `old`.
    let pairs: Vec<Option<(&str, &str, &str)>> = old
        .split('\n')
        .zip(matched.split('\n'))
        .map(|(o, f)| {
            (!o.trim().is_empty()).then(|| (leading_whitespace(o), leading_whitespace(f), o.trim()))
        })
        .collect();
    let mut current = pairs.iter().flatten().next().copied();
    new.split('\n')
        .enumerate()
        .map(|(j, line)| {
            if line.trim().is_empty() {
                return line.to_string();
            }
            let by_position = pairs.get(j).copied().flatten();
            let by_text = || pairs.iter().flatten().find(|p| p.2 == line.trim()).copied();
            if let Some(pair) = by_position.or_else(by_text) {
                current = Some(pair);
            }
            match current {
                Some((old_indent, file_indent, _)) => match line.strip_prefix(old_indent) {
                    Some(rest) => format!("{file_indent}{rest}"),
                    None => line.to_string(),
                },
                None => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn leading_whitespace(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

fn line_number_at(content: &str, byte: usize) -> usize {
    content[..byte].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_single_match() {
        let r = replace("a b c", "b", "B", false).unwrap();
        assert_eq!(r.text, "a B c");
        assert_eq!(r.strategy, MatchStrategy::Exact);
        assert_eq!(r.count, 1);
    }

    #[test]
    fn ambiguous_reports_lines_unless_replace_all() {
        let content = "x = 1\ny = 2\nx = 1\n";
        let err = replace(content, "x = 1", "x = 3", false).unwrap_err();
        assert_eq!(
            err,
            MatchError::Ambiguous {
                strategy: MatchStrategy::Exact,
                lines: vec![1, 3]
            }
        );
        let r = replace(content, "x = 1", "x = 3", true).unwrap();
        assert_eq!(r.text, "x = 3\ny = 2\nx = 3\n");
        assert_eq!(r.count, 2);
    }

    #[test]
    fn trailing_whitespace_tolerated() {
        let content = "fn a() {   \n    1\n}\n";
        let r = replace(content, "fn a() {\n    1\n}", "fn a() {\n    2\n}", false).unwrap();
        assert_eq!(r.strategy, MatchStrategy::IgnoringTrailingWhitespace);
        assert_eq!(r.text, "fn a() {\n    2\n}\n");
    }

    #[test]
    fn indentation_tolerated_and_reindented() {
        let content = "impl X {\n    fn a() {\n        1\n    }\n}\n";
        let old = "fn a() {\n    1\n}\n";
        let new = "fn a() {\n    2\n\n    3\n}\n";
        let r = replace(content, old, new, false).unwrap();
        assert_eq!(r.strategy, MatchStrategy::IgnoringIndentation);
        assert_eq!(
            r.text,
            "impl X {\n    fn a() {\n        2\n\n        3\n    }\n}\n"
        );
    }

    #[test]
    fn not_found() {
        assert_eq!(replace("abc", "xyz", "q", false), Err(MatchError::NotFound));
        assert_eq!(
            replace("a\n\nb", "\n  \n", "q", false),
            Err(MatchError::NotFound)
        );
    }
}
