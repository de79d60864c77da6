//! The llama.cpp backend: every llama.cpp object lives on one dedicated thread.

mod control_tokens;
mod load;
pub(crate) mod logs;
mod sampler;
mod worker;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use llama_cpp_2::model::LlamaModel;

use control_tokens::ControlTokens;
pub use load::backend as shared_backend;

use super::{
    Backend, EngineConfig, EngineError, GenerateEvent, GenerateOutcome, GenerateRequest, ModelInfo,
};

/// A job for the engine thread.
enum Job {
    Generate {
        request: Box<GenerateRequest>,
        reply: mpsc::Sender<Reply>,
    },
    ClearMemory {
        done: mpsc::Sender<()>,
    },
    /// Save the state of the part of the request's prompt the KV cache holds.
    SaveHeld {
        request: Box<GenerateRequest>,
        reply: mpsc::Sender<Result<usize, EngineError>>,
    },
}

/// What the engine thread sends back for a generation.
enum Reply {
    Event(GenerateEvent),
    Done(Result<GenerateOutcome, EngineError>),
}

/// A GGUF model running in-process through llama.cpp.
pub struct LlamaEngine {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    model: Arc<LlamaModel>,
    controls: Arc<ControlTokens>,
    info: ModelInfo,
    thread: Option<JoinHandle<()>>,
}

impl LlamaEngine {
    /// Loads the model and starts the engine thread; fails with a clear error for bad files,
    /// unknown architectures or a context that does not fit in memory.
    pub fn load(config: &EngineConfig) -> Result<Self, EngineError> {
        let loaded = load::load(config)?;
        let model = loaded.model.clone();
        let controls = loaded.controls.clone();
        let info = loaded.info.clone();
        let (jobs, inbox) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("gem-engine".into())
            .spawn(move || worker::run(loaded, inbox, ready_tx))
            .map_err(|e| EngineError::Llama(format!("cannot start the engine thread: {e}")))?;
        ready_rx.recv().map_err(|_| EngineError::EngineGone)??;
        Ok(Self {
            jobs: Mutex::new(Some(jobs)),
            model,
            controls,
            info,
            thread: Some(thread),
        })
    }

    fn send(&self, job: Job) -> Result<(), EngineError> {
        let guard = self.jobs.lock().map_err(|_| EngineError::EngineGone)?;
        guard
            .as_ref()
            .ok_or(EngineError::EngineGone)?
            .send(job)
            .map_err(|_| EngineError::EngineGone)
    }

    /// Drops the KV cache held in memory (the disk cache stays), e.g. to measure a warm start.
    pub fn clear_memory(&self) -> Result<(), EngineError> {
        let (done, wait) = mpsc::channel();
        self.send(Job::ClearMemory { done })?;
        wait.recv().map_err(|_| EngineError::EngineGone)
    }

    /// Tokenizes a rendered prompt as generation does: the `literal` ranges (conversation text)
    /// never produce control tokens.
    pub fn tokenize_prompt(
        &self,
        text: &str,
        add_bos: bool,
        literal: &[std::ops::Range<usize>],
    ) -> Result<Vec<u32>, EngineError> {
        tokenize_prompt(&self.model, &self.controls, text, add_bos, literal)
    }

    /// Tokenizes `text` with control tokens parsed as single tokens.
    pub fn tokenize(&self, text: &str, add_bos: bool) -> Result<Vec<u32>, EngineError> {
        tokenize(&self.model, text, add_bos)
    }
}

/// Tokenizes with the model's vocabulary, control tokens parsed everywhere (thread-safe: the
/// vocabulary is read-only).
pub(crate) fn tokenize(
    model: &LlamaModel,
    text: &str,
    add_bos: bool,
) -> Result<Vec<u32>, EngineError> {
    tokenize_pieces(model, text, add_bos, &[], &|_| false)
}

/// Tokenizes a rendered prompt: control tokens are parsed in the markup, and in the `literal`
/// ranges (conversation text) only when those hold no control token's text.
pub(crate) fn tokenize_prompt(
    model: &LlamaModel,
    controls: &ControlTokens,
    text: &str,
    add_bos: bool,
    literal: &[std::ops::Range<usize>],
) -> Result<Vec<u32>, EngineError> {
    tokenize_pieces(model, text, add_bos, literal, &|piece| {
        controls.found_in(piece)
    })
}

/// Tokenizes `text` piece by piece (see [`super::prompt_pieces`]).
fn tokenize_pieces(
    model: &LlamaModel,
    text: &str,
    add_bos: bool,
    literal: &[std::ops::Range<usize>],
    has_control: &dyn Fn(&str) -> bool,
) -> Result<Vec<u32>, EngineError> {
    let vocab = model.vocab();
    let mut tokens: Vec<u32> = Vec::new();
    if add_bos {
        tokens.push(vocab.bos().0 as u32);
    }
    for piece in super::prompt_pieces::prompt_pieces(text, literal, has_control) {
        tokens.extend(
            vocab
                .tokenize(text[piece.range].as_bytes(), false, piece.parse_special)
                .into_iter()
                .map(|t| t.0 as u32),
        );
    }
    Ok(tokens)
}

impl Backend for LlamaEngine {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn count_tokens(&self, text: &str) -> Result<usize, EngineError> {
        self.tokenize(text, false).map(|t| t.len())
    }

    fn generate(
        &self,
        request: GenerateRequest,
        on_event: &mut dyn FnMut(GenerateEvent),
    ) -> Result<GenerateOutcome, EngineError> {
        let (reply, replies) = mpsc::channel();
        self.send(Job::Generate {
            request: Box::new(request),
            reply,
        })?;
        for message in replies {
            match message {
                Reply::Event(event) => on_event(event),
                Reply::Done(result) => return result,
            }
        }
        Err(EngineError::EngineGone)
    }

    fn save_checkpoint(
        &self,
        prompt: &str,
        literal: &[std::ops::Range<usize>],
    ) -> Result<usize, EngineError> {
        let mut request = GenerateRequest::new(prompt, 0);
        request.literal = literal.to_vec();
        let (reply, done) = mpsc::channel();
        self.send(Job::SaveHeld {
            request: Box::new(request),
            reply,
        })?;
        done.recv().unwrap_or(Err(EngineError::EngineGone))
    }
}

impl Drop for LlamaEngine {
    fn drop(&mut self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
