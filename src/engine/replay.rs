//! The replay backend: recorded raw model output drives the agent, tools and UI deterministically.
//!
//! `--model replay:PATH` where PATH holds a JSON array of strings: the n-th generation streams
//! the n-th string in small chunks (so tags split across chunks are exercised). A trailing
//! end-of-generation marker (`<turn|>`, `<|tool_response>`, `<eos>`) is not streamed but reported
//! as the stop reason, as the real engine does. Running past the end is an error. When
//! `GEM_REPLAY_LOG` names a file, every prompt received is appended to it as one JSON line
//! `{"prompt": "..."}`. `GEM_REPLAY_DELAY_MS` slows the stream down (for UI tests).
//!
//! Token counts are estimates (4 bytes a token); "reused" is the byte prefix shared with the
//! previous prompt, which is what the agent's prefix stability is judged by.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{
    Backend, EngineError, GenerateEvent, GenerateOutcome, GenerateRequest, ModelInfo, StopReason,
};
use crate::protocol::TokenUsage;

/// End-of-generation markers, as the real engine stops on them.
const END_MARKERS: &[&str] = &["<turn|>", "<|tool_response>", "<eos>"];
/// Bytes per chunk of streamed output.
const CHUNK: usize = 3;

#[derive(Debug, Default)]
struct State {
    next: usize,
    previous_prompt: String,
}

/// A backend that plays back recorded outputs.
#[derive(Debug)]
pub struct ReplayBackend {
    path: PathBuf,
    outputs: Vec<String>,
    state: Mutex<State>,
    info: ModelInfo,
    log: Option<PathBuf>,
    delay: Duration,
}

fn estimate_tokens(bytes: usize) -> usize {
    bytes.div_ceil(4)
}

impl ReplayBackend {
    /// Reads the recorded outputs from `path`.
    pub fn from_file(path: &Path) -> Result<Self, EngineError> {
        let text = std::fs::read_to_string(path).map_err(|e| EngineError::ReplayFile {
            path: path.into(),
            detail: e.to_string(),
        })?;
        let outputs: Vec<String> =
            serde_json::from_str(&text).map_err(|e| EngineError::ReplayFile {
                path: path.into(),
                detail: format!("expected a JSON array of strings: {e}"),
            })?;
        Ok(Self::new(path.into(), outputs))
    }

    /// A replay of `outputs` (the path is only used in messages).
    pub fn new(path: PathBuf, outputs: Vec<String>) -> Self {
        let context_size = std::env::var("GEM_REPLAY_CTX")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(131_072);
        let info = ModelInfo {
            name: "replay".into(),
            path: path.clone(),
            architecture: "replay".into(),
            size_class: Some("replay".into()),
            trained_context: context_size,
            context_size,
            quantization: "none".into(),
            ..ModelInfo::default()
        };
        let delay = std::env::var("GEM_REPLAY_DELAY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(Duration::ZERO, Duration::from_millis);
        Self {
            path,
            outputs,
            state: Mutex::new(State::default()),
            info,
            log: std::env::var_os("GEM_REPLAY_LOG").map(PathBuf::from),
            delay,
        }
    }

    /// Sets the context window to `tokens` (as `GEM_REPLAY_CTX` does).
    pub fn with_context(mut self, tokens: usize) -> Self {
        self.info.context_size = tokens;
        self.info.trained_context = tokens;
        self
    }

    /// Logs every prompt to `path` (as `GEM_REPLAY_LOG` does).
    pub fn with_log(mut self, path: PathBuf) -> Self {
        self.log = Some(path);
        self
    }

    fn log_prompt(&self, prompt: &str) -> Result<(), EngineError> {
        let Some(log) = &self.log else {
            return Ok(());
        };
        let line = serde_json::json!({ "prompt": prompt }).to_string();
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .and_then(|mut f| writeln!(f, "{line}"))
            .map_err(|e| EngineError::ReplayFile {
                path: log.clone(),
                detail: format!("cannot append to the prompt log: {e}"),
            })
    }
}

impl Backend for ReplayBackend {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn count_tokens(&self, text: &str) -> Result<usize, EngineError> {
        Ok(estimate_tokens(text.len()))
    }

    fn generate(
        &self,
        request: GenerateRequest,
        on_event: &mut dyn FnMut(GenerateEvent),
    ) -> Result<GenerateOutcome, EngineError> {
        let started = Instant::now();
        if request.max_tokens == 0 {
            return self.prefill_only(&request, on_event);
        }
        let (index, reused_bytes) = {
            let mut state = self.state.lock().map_err(|_| EngineError::EngineGone)?;
            let index = state.next;
            if index >= self.outputs.len() {
                return Err(EngineError::ReplayExhausted {
                    path: self.path.clone(),
                    available: self.outputs.len(),
                    requested: index + 1,
                });
            }
            state.next += 1;
            let reused = common_prefix_len(&state.previous_prompt, &request.prompt);
            state.previous_prompt = request.prompt.clone();
            (index, reused)
        };
        self.log_prompt(&request.prompt)?;
        let prompt_tokens = estimate_tokens(request.prompt.len());
        if prompt_tokens >= self.info.context_size {
            return Err(EngineError::ContextOverflow {
                prompt_tokens,
                context_size: self.info.context_size,
            });
        }
        on_event(GenerateEvent::Prefill {
            done: prompt_tokens,
            total: prompt_tokens,
        });
        let recorded = self.outputs[index].as_str();
        let (body, mut stop) = match END_MARKERS.iter().find(|m| recorded.ends_with(*m)) {
            Some(marker) => (
                &recorded[..recorded.len() - marker.len()],
                StopReason::EndOfGeneration((*marker).to_string()),
            ),
            None => (recorded, StopReason::EndOfGeneration("<turn|>".into())),
        };
        let mut text = String::new();
        let mut rest = body;
        while !rest.is_empty() {
            if request.cancel.load(Ordering::Relaxed) {
                stop = StopReason::Cancelled;
                break;
            }
            let mut cut = CHUNK.min(rest.len());
            while !rest.is_char_boundary(cut) {
                cut += 1;
            }
            let (chunk, tail) = rest.split_at(cut);
            text.push_str(chunk);
            on_event(GenerateEvent::Delta {
                text: chunk.to_string(),
                tokens: Vec::new(),
            });
            rest = tail;
            // Recorded text counts as estimated tokens against --max-tokens, so a cut-off
            // generation can be replayed too.
            if !rest.is_empty() && estimate_tokens(text.len()) >= request.max_tokens {
                stop = StopReason::MaxTokens;
                break;
            }
            if !self.delay.is_zero() {
                std::thread::sleep(self.delay);
            }
        }
        let reused = estimate_tokens(reused_bytes).min(prompt_tokens);
        Ok(GenerateOutcome {
            usage: TokenUsage {
                prompt_tokens,
                reused_tokens: reused,
                prefilled_tokens: prompt_tokens - reused,
                generated_tokens: estimate_tokens(text.len()),
                prefill_ms: 0,
                generation_ms: started.elapsed().as_millis() as u64,
                context_size: self.info.context_size,
            },
            text,
            tokens: Vec::new(),
            stop,
            restored_from_disk: 0,
            full_reprefill_reason: None,
            warnings: Vec::new(),
        })
    }
}

impl ReplayBackend {
    /// A request for no tokens (reading a prefix in ahead of time): counted and remembered for
    /// the next request's reuse, but neither logged nor answered from the recorded outputs.
    fn prefill_only(
        &self,
        request: &GenerateRequest,
        on_event: &mut dyn FnMut(GenerateEvent),
    ) -> Result<GenerateOutcome, EngineError> {
        let reused_bytes = {
            let mut state = self.state.lock().map_err(|_| EngineError::EngineGone)?;
            let reused = common_prefix_len(&state.previous_prompt, &request.prompt);
            state.previous_prompt = request.prompt.clone();
            reused
        };
        let prompt_tokens = estimate_tokens(request.prompt.len());
        on_event(GenerateEvent::Prefill {
            done: prompt_tokens,
            total: prompt_tokens,
        });
        let reused = estimate_tokens(reused_bytes).min(prompt_tokens);
        Ok(GenerateOutcome {
            usage: TokenUsage {
                prompt_tokens,
                reused_tokens: reused,
                prefilled_tokens: prompt_tokens - reused,
                generated_tokens: 0,
                prefill_ms: 0,
                generation_ms: 0,
                context_size: self.info.context_size,
            },
            text: String::new(),
            tokens: Vec::new(),
            stop: StopReason::MaxTokens,
            restored_from_disk: 0,
            full_reprefill_reason: None,
            warnings: Vec::new(),
        })
    }
}

fn common_prefix_len(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(
        backend: &ReplayBackend,
        prompt: &str,
    ) -> (Vec<String>, Result<GenerateOutcome, EngineError>) {
        let mut deltas = Vec::new();
        let result = backend.generate(GenerateRequest::new(prompt, 100), &mut |e| {
            if let GenerateEvent::Delta { text, .. } = e {
                deltas.push(text);
            }
        });
        (deltas, result)
    }

    #[test]
    fn streams_in_chunks_strips_the_end_marker_and_errors_when_exhausted() {
        let backend = ReplayBackend::new(
            "t.json".into(),
            vec![
                "<|tool_call>call:x{}<tool_call|><|tool_response>".into(),
                "héllo".into(),
            ],
        );
        let (deltas, outcome) = collect(&backend, "p1");
        let outcome = outcome.unwrap();
        assert!(deltas.len() > 5, "split into small chunks: {deltas:?}");
        assert_eq!(deltas.concat(), "<|tool_call>call:x{}<tool_call|>");
        assert_eq!(
            outcome.stop,
            StopReason::EndOfGeneration("<|tool_response>".into())
        );
        let (deltas, outcome) = collect(&backend, "p1 and more");
        assert_eq!(deltas.concat(), "héllo");
        assert!(outcome.unwrap().usage.reused_tokens > 0);
        let (_, outcome) = collect(&backend, "p3");
        let err = outcome.unwrap_err();
        assert!(
            matches!(
                err,
                EngineError::ReplayExhausted {
                    available: 2,
                    requested: 3,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_bad_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "{\"not\": \"an array\"}").unwrap();
        let err = ReplayBackend::from_file(&path).unwrap_err();
        assert!(err.to_string().contains("JSON array of strings"), "{err}");
    }
}
