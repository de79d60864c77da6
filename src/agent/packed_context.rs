//! What the agent needs to know about the repository packed into its system prompt.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::repo::PackedRepo;

/// The packed repository as the agent sees it. Its presence means files changed since packing
/// are re-sent with the next user message (the packed prefix itself stays untouched, so its KV
/// state stays valid).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackedContext {
    /// Files packed whole (relative path → SHA-256 hex of the contents packed): the model has
    /// read them, so it may edit them without calling read_file first.
    pub digests: BTreeMap<PathBuf, String>,
    /// Byte offset in the system prompt where the most recently modified packed files begin
    /// (the engine keeps the KV state up to there as well).
    pub recent_offset: Option<usize>,
}

impl PackedContext {
    /// The context of `packed`, placed at byte `repo_offset` of the system prompt.
    pub fn new(repo_offset: usize, packed: &PackedRepo) -> Self {
        PackedContext {
            digests: packed.digests.clone(),
            recent_offset: packed.recent_start.map(|recent| repo_offset + recent),
        }
    }
}
