//! Packing throughput numbers for `gem bench --repo PATH`.

use super::error::PackError;
use super::pack::{PackOptions, TokenCounter};
use super::render::render_file_block;
use super::walk::walk_project;
use std::path::Path;
use std::time::Instant;

/// How long walking and tokenizing a whole project takes, with no budget applied.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PackStats {
    /// Files that passed the filters.
    pub files: usize,
    /// Tokens of all their rendered blocks.
    pub tokens: usize,
    /// Files and directories skipped by the filters.
    pub skipped: usize,
    /// Milliseconds spent walking, filtering and reading.
    pub walk_ms: f64,
    /// Milliseconds spent rendering and counting tokens.
    pub tokenize_ms: f64,
    /// Mean tokens per file (0 when there are no files).
    pub tokens_per_file: f64,
}

/// Walks `root` with the default filters and counts every file's tokens with `count_tokens`.
pub fn pack_stats(root: &Path, count_tokens: TokenCounter<'_>) -> Result<PackStats, PackError> {
    let walk_start = Instant::now();
    let walked = walk_project(root, PackOptions::default().max_file_bytes)?;
    let walk_ms = walk_start.elapsed().as_secs_f64() * 1000.0;

    let tokenize_start = Instant::now();
    let tokens: usize = walked
        .candidates
        .iter()
        .map(|c| count_tokens(&render_file_block(&c.rel_path, &c.content)))
        .sum();
    let tokenize_ms = tokenize_start.elapsed().as_secs_f64() * 1000.0;

    let files = walked.candidates.len();
    Ok(PackStats {
        files,
        tokens,
        skipped: walked.skipped.len(),
        walk_ms,
        tokenize_ms,
        tokens_per_file: if files == 0 {
            0.0
        } else {
            tokens as f64 / files as f64
        },
    })
}
