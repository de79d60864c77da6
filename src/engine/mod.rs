//! The inference engine: one trait, two backends.
//!
//! [`LlamaEngine`] runs a GGUF model in-process through llama.cpp on a dedicated thread, keeps a
//! ledger of the tokens its KV cache holds so a follow-up prompt only prefills what is new, and
//! keeps long prefixes on disk ([`state_cache`]). [`ReplayBackend`] streams recorded raw model
//! output instead, so the agent, tools and UI are tested deterministically without weights.

pub(crate) mod bench;
pub mod cache_command;
pub(crate) mod config;
pub(crate) mod error;
pub(crate) mod ledger;
pub mod llama;
pub(crate) mod memory;
pub(crate) mod model_file;
pub(crate) mod model_info;
pub(crate) mod prompt_pieces;
pub(crate) mod replay;
pub(crate) mod request;
pub(crate) mod scripted;
pub mod state_cache;
pub(crate) mod utf8_stream;

pub use config::{EngineConfig, KvCacheKind};
pub use error::EngineError;
pub use llama::LlamaEngine;
pub use model_info::ModelInfo;
pub use replay::ReplayBackend;
pub use request::{
    GenerateEvent, GenerateOutcome, GenerateRequest, GrammarSpec, Sampling, StopReason,
};

/// A model that turns a rendered prompt into streamed output.
///
/// Implementations are shared between threads; `generate` blocks the calling thread until the
/// generation ends and reports progress through `on_event` as it goes.
pub trait Backend: Send + Sync {
    /// Facts about the loaded model.
    fn info(&self) -> &ModelInfo;

    /// Number of tokens `text` takes (control tokens parsed as single tokens).
    fn count_tokens(&self, text: &str) -> Result<usize, EngineError>;

    /// Generates a continuation of `request.prompt`, streaming deltas to `on_event`.
    fn generate(
        &self,
        request: GenerateRequest,
        on_event: &mut dyn FnMut(GenerateEvent),
    ) -> Result<GenerateOutcome, EngineError>;

    /// Keeps in the disk cache the KV state of the longest prefix of `prompt` that the KV cache
    /// already holds, so a later run whose prompt starts with it (a resumed session) restores
    /// it instead of prefilling. Nothing is prefilled: after an interrupted prefill only the
    /// part computed is kept, and the cost is one state write. `literal` as in
    /// [`GenerateRequest::literal`]. Returns the tokens kept (0 when this backend keeps no
    /// disk state or the cache holds none of `prompt`).
    fn save_checkpoint(
        &self,
        _prompt: &str,
        _literal: &[std::ops::Range<usize>],
    ) -> Result<usize, EngineError> {
        Ok(0)
    }
}

/// Opens the backend named by `config.model`: `replay:PATH` or a GGUF file.
pub fn open(config: &EngineConfig) -> Result<Box<dyn Backend>, EngineError> {
    match config
        .model
        .to_str()
        .and_then(|s| s.strip_prefix("replay:"))
    {
        Some(path) => Ok(Box::new(ReplayBackend::from_file(path.as_ref())?)),
        None => Ok(Box::new(LlamaEngine::load(config)?)),
    }
}
