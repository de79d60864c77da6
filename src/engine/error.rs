//! Engine errors: each one says what went wrong and what to do about it.

use std::path::PathBuf;

/// Everything that can go wrong loading or running a model.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The model path does not exist.
    #[error("model file not found: {0}\n  pass --model PATH (or set GEM_MODEL) to a GGUF file")]
    ModelNotFound(PathBuf),
    /// The file is not a GGUF file.
    #[error("{path} is not a GGUF model file ({detail})")]
    NotGguf {
        /// The file.
        path: PathBuf,
        /// What was found instead.
        detail: String,
    },
    /// The GGUF header or data is damaged or incomplete.
    #[error("model file {path} is corrupt or truncated: {detail}\n  download it again")]
    CorruptModel {
        /// The file.
        path: PathBuf,
        /// What llama.cpp or the header check reported.
        detail: String,
    },
    /// llama.cpp does not know this architecture.
    #[error(
        "model architecture '{architecture}' in {path} is not supported by this build of llama.cpp"
    )]
    UnsupportedArchitecture {
        /// The file.
        path: PathBuf,
        /// `general.architecture` from the file.
        architecture: String,
    },
    /// The requested context does not fit in memory.
    #[error(
        "not enough memory for a {requested}-token context: needs about {needed_mib} MiB, {available_mib} MiB available\n  try --ctx {fits} (fits in memory) or --kv-type q8_0"
    )]
    OutOfMemory {
        /// Requested context size.
        requested: usize,
        /// Estimated bytes needed (model + KV cache), in MiB.
        needed_mib: u64,
        /// Available memory in MiB.
        available_mib: u64,
        /// The largest context that would fit.
        fits: usize,
    },
    /// The prompt does not fit in the context window.
    #[error(
        "the prompt is {prompt_tokens} tokens but the context holds {context_size} (nothing was truncated)\n  compact the conversation or start with a larger --ctx"
    )]
    ContextOverflow {
        /// Prompt size in tokens.
        prompt_tokens: usize,
        /// Context size in tokens.
        context_size: usize,
    },
    /// The replay backend has no more recorded outputs.
    #[error(
        "replay file {path} has only {available} recorded outputs; generation {requested} was requested"
    )]
    ReplayExhausted {
        /// The replay file.
        path: PathBuf,
        /// Recorded outputs.
        available: usize,
        /// The 1-based generation that was asked for.
        requested: usize,
    },
    /// The replay file could not be read.
    #[error("cannot read replay file {path}: {detail}")]
    ReplayFile {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// The grammar could not be compiled by llama.cpp.
    #[error("invalid grammar: {0}")]
    Grammar(String),
    /// Any other llama.cpp failure.
    #[error("llama.cpp: {0}")]
    Llama(String),
    /// The engine thread is gone (it panicked or was shut down).
    #[error("the engine thread stopped unexpectedly")]
    EngineGone,
}
