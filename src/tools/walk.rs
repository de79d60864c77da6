//! Walking project files the way ripgrep does: `.gitignore`, `.ignore` and hidden files are
//! skipped (even outside a git repository), `.git/` is never entered.

use std::path::Path;

use ignore::WalkBuilder;

/// A sorted, single-threaded walker over `base` with the standard ignore rules.
pub fn project_walker(base: &Path) -> WalkBuilder {
    let mut builder = WalkBuilder::new(base);
    builder
        .standard_filters(true)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|entry| entry.file_name() != ".git")
        .sort_by_file_path(|a, b| a.cmp(b));
    builder
}
