//! What a generation asks for and what it reports back.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::protocol::TokenUsage;

/// Sampling settings. The defaults are Gemma 4's recommended ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    /// Softmax temperature; `0.0` means greedy.
    pub temperature: f32,
    /// Nucleus sampling threshold.
    pub top_p: f32,
    /// Keep only the `top_k` most likely tokens.
    pub top_k: i32,
    /// Random seed for the distribution sampler.
    pub seed: u32,
    /// Additive biases on token logits (llama.cpp's logit-bias sampler), applied first:
    /// `(token id, bias)`; `f32::NEG_INFINITY` bans a token. The tests use it to make a
    /// random-weight model sample a chosen token now and then.
    pub logit_bias: Vec<(u32, f32)>,
}

impl Default for Sampling {
    fn default() -> Self {
        Self {
            temperature: 1.0,
            top_p: 0.95,
            top_k: 64,
            seed: 0,
            logit_bias: Vec::new(),
        }
    }
}

impl Sampling {
    /// Deterministic greedy decoding, for tests and benchmarks.
    pub fn greedy() -> Self {
        Self {
            temperature: 0.0,
            ..Self::default()
        }
    }

    /// Whether this is greedy decoding.
    pub fn is_greedy(&self) -> bool {
        self.temperature <= 0.0
    }
}

/// A GBNF grammar. With triggers it is applied lazily (sampling is free until a trigger appears
/// in the output); without any trigger it constrains the output from the first token.
#[derive(Debug, Clone, PartialEq)]
pub struct GrammarSpec {
    /// The grammar text (llama.cpp GBNF).
    pub gbnf: String,
    /// The root rule name.
    pub root: String,
    /// Regular expressions that switch the grammar on (matched against the output so far).
    pub trigger_patterns: Vec<String>,
    /// Texts of single vocabulary tokens that switch the grammar on (e.g. `<|tool_call>`).
    pub trigger_tokens: Vec<String>,
}

/// One generation request.
#[derive(Debug, Clone)]
pub struct GenerateRequest {
    /// The full rendered prompt. Control tokens in it are parsed as single tokens, except in
    /// the `literal` ranges.
    pub prompt: String,
    /// Byte ranges of `prompt` that are conversation text (messages, files, tool results),
    /// sorted: a control token's text inside them stays text. Empty: parse the whole prompt.
    pub literal: Vec<std::ops::Range<usize>>,
    /// Whether to add the model's BOS token (false when the template already emits `<bos>`).
    pub add_bos: bool,
    /// Stop after this many generated tokens.
    pub max_tokens: usize,
    /// Sampling settings.
    pub sampling: Sampling,
    /// Optional lazily applied grammar (tool calls).
    pub grammar: Option<GrammarSpec>,
    /// A stable leading part of `prompt` (system prompt, tools, packed repository) whose KV state
    /// is kept in the disk cache and restored by later runs.
    pub persist_prefix: Option<String>,
    /// A shorter text prefix of `persist_prefix` whose state is kept too (the packed repository
    /// up to its most recently modified files), so a later prompt that differs only after it
    /// (a recently edited file, which packing puts last) restores most of the prefix.
    pub persist_early: Option<String>,
    /// Set to stop prompt processing or generation at the next step.
    pub cancel: Arc<AtomicBool>,
    /// Keep generating past end-of-generation tokens (benchmarks measure a fixed length).
    pub ignore_eog: bool,
}

impl GenerateRequest {
    /// A request with default sampling, no grammar and no persisted prefix.
    pub fn new(prompt: impl Into<String>, max_tokens: usize) -> Self {
        Self {
            prompt: prompt.into(),
            literal: Vec::new(),
            add_bos: false,
            max_tokens,
            sampling: Sampling::default(),
            grammar: None,
            persist_prefix: None,
            persist_early: None,
            cancel: Arc::new(AtomicBool::new(false)),
            ignore_eog: false,
        }
    }
}

/// Streamed progress of a generation.
#[derive(Debug, Clone, PartialEq)]
pub enum GenerateEvent {
    /// Prompt processing progress.
    Prefill {
        /// Prompt tokens processed (reused ones included).
        done: usize,
        /// Prompt tokens in all.
        total: usize,
    },
    /// Newly generated text: always whole UTF-8 characters, with the token ids that produced it.
    Delta {
        /// The text.
        text: String,
        /// The raw token ids since the last delta.
        tokens: Vec<u32>,
    },
}

/// Why a generation stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// The model emitted an end-of-generation token (its text, e.g. `<turn|>`).
    EndOfGeneration(String),
    /// `max_tokens` was reached.
    MaxTokens,
    /// The request's cancel flag was set.
    Cancelled,
    /// The context window filled up.
    ContextFull,
}

/// The result of a finished generation.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOutcome {
    /// All generated text (the concatenation of the deltas).
    pub text: String,
    /// All generated token ids (the end-of-generation token excluded).
    pub tokens: Vec<u32>,
    /// Why it stopped.
    pub stop: StopReason,
    /// Token accounting.
    pub usage: TokenUsage,
    /// Prompt tokens restored from the disk state cache (part of `usage.reused_tokens`).
    pub restored_from_disk: usize,
    /// Set when the KV cache could not be rolled back and the prompt was prefilled afresh.
    pub full_reprefill_reason: Option<String>,
    /// Problems that did not stop the generation (e.g. a rejected state file).
    pub warnings: Vec<String>,
}
