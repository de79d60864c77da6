//! Glob patterns for file paths: a pattern without `/` matches file names at any depth
//! (`*.rs`), one with `/` matches the whole path relative to the searched directory
//! (`src/**/*.rs`).

use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};

use super::ToolError;

/// A compiled path pattern.
#[derive(Debug, Clone)]
pub struct PathPattern {
    matcher: GlobMatcher,
    name_only: bool,
}

impl PathPattern {
    /// Compiles `pattern`; `{a,b}` alternatives are supported, `*` does not cross `/`.
    pub fn new(pattern: &str) -> Result<Self, ToolError> {
        let trimmed = pattern.trim().trim_start_matches("./");
        let glob = GlobBuilder::new(trimmed)
            .literal_separator(true)
            .build()
            .map_err(|e| {
                ToolError::Failed(format!(
                    "Invalid glob pattern `{pattern}`: {e}. Examples: `*.rs`, `src/**/*.ts`, \
                     `**/test_*.py`, `*.{{js,ts}}`."
                ))
            })?;
        Ok(Self {
            matcher: glob.compile_matcher(),
            name_only: !trimmed.contains('/'),
        })
    }

    /// Whether `relative` (a path relative to the searched directory) matches.
    pub fn matches(&self, relative: &Path) -> bool {
        if self.name_only {
            relative
                .file_name()
                .is_some_and(|name| self.matcher.is_match(name))
        } else {
            self.matcher.is_match(relative)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_patterns_match_at_any_depth() {
        let p = PathPattern::new("*.rs").unwrap();
        assert!(p.matches(Path::new("main.rs")));
        assert!(p.matches(Path::new("src/deep/lib.rs")));
        assert!(!p.matches(Path::new("src/lib.rs.bak")));
    }

    #[test]
    fn path_patterns_match_relative_paths() {
        let p = PathPattern::new("src/**/*.{rs,toml}").unwrap();
        assert!(p.matches(Path::new("src/a/b.rs")));
        assert!(p.matches(Path::new("src/c.toml")));
        assert!(!p.matches(Path::new("tests/a.rs")));
        let p = PathPattern::new("src/*.rs").unwrap();
        assert!(!p.matches(Path::new("src/a/b.rs")), "* does not cross /");
    }

    #[test]
    fn invalid_pattern_explains() {
        let err = PathPattern::new("src/[").unwrap_err();
        assert!(err.to_string().contains("Invalid glob pattern"), "{err}");
    }
}
