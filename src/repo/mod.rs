//! Whole-repository packing for the long context window.
//!
//! [`pack`] walks a project, keeps the text files worth reading, and renders them into one
//! block ordered for KV-cache stability (oldest modification first). When the project exceeds
//! the token budget, the most relevant files stay whole and the rest are summarised in a repo
//! map of paths and top-level symbols. Each packed file's digest lets the agent tell which
//! were edited afterwards, so they can be re-sent at the end of the conversation.

mod classify;
mod error;
mod fingerprint;
mod last_change;
mod pack;
mod previous_selection;
mod relevance;
mod render;
mod selection_store;
mod stats;
mod symbols;
mod walk;

#[cfg(test)]
mod tests;

pub use error::PackError;
pub use pack::{PackOptions, PackedRepo, pack, thousands};
pub use render::{display_path, render_file_block};
pub use selection_store::SelectionStore;
pub use stats::pack_stats;
