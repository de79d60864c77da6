//! A backend whose answers are scripted but whose prompts are really processed: every request
//! is prefilled by the wrapped engine (KV reuse, disk cache and timings are real) and then
//! answered with the next scripted reply instead of sampled text.
//!
//! `gem bench --repo` uses it to drive the agent through a fixed scenario (an edit, then a
//! follow-up) on any model, the 270M test model included, which would not make the calls itself.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use super::{
    Backend, EngineError, GenerateEvent, GenerateOutcome, GenerateRequest, ModelInfo, StopReason,
};

/// What one request looked like and cost.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptedCall {
    /// The prompt as the agent rendered it.
    pub prompt: String,
    /// What the wrapped engine reported for it (one token generated).
    pub outcome: GenerateOutcome,
}

/// Scripted replies over a real engine's prefill.
pub struct ScriptedReplies {
    inner: Arc<dyn Backend>,
    replies: Mutex<VecDeque<String>>,
    calls: Mutex<Vec<ScriptedCall>>,
}

/// The reply once the script has run out: a plain final answer.
const DEFAULT_REPLY: &str = "Done.";

impl ScriptedReplies {
    /// Wraps `inner`; replies are added with [`push_reply`](Self::push_reply).
    pub fn new(inner: Arc<dyn Backend>) -> Self {
        ScriptedReplies {
            inner,
            replies: Mutex::new(VecDeque::new()),
            calls: Mutex::new(Vec::new()),
        }
    }

    /// Queues the raw model output of the next request (Gemma 4 format, tool calls included).
    pub fn push_reply(&self, raw: impl Into<String>) {
        // A poisoned lock only means another thread panicked mid-push; the queue is still valid.
        self.replies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(raw.into());
    }

    /// Every request so far, oldest first.
    pub fn calls(&self) -> Vec<ScriptedCall> {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Backend for ScriptedReplies {
    fn info(&self) -> &ModelInfo {
        self.inner.info()
    }

    fn count_tokens(&self, text: &str) -> Result<usize, EngineError> {
        self.inner.count_tokens(text)
    }

    fn generate(
        &self,
        request: GenerateRequest,
        on_event: &mut dyn FnMut(GenerateEvent),
    ) -> Result<GenerateOutcome, EngineError> {
        let prompt = request.prompt.clone();
        let mut real = request;
        real.max_tokens = 1;
        real.grammar = None;
        real.ignore_eog = true;
        let mut outcome = self.inner.generate(real, &mut |event| {
            if let GenerateEvent::Prefill { .. } = event {
                on_event(event);
            }
        })?;
        let reply = self
            .replies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
            .unwrap_or_else(|| DEFAULT_REPLY.to_string());
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(ScriptedCall {
                prompt,
                outcome: outcome.clone(),
            });
        on_event(GenerateEvent::Delta {
            text: reply.clone(),
            tokens: Vec::new(),
        });
        outcome.text = reply;
        outcome.tokens.clear();
        outcome.stop = StopReason::EndOfGeneration("<turn|>".into());
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ReplayBackend;

    #[test]
    fn replies_follow_the_script_and_prompts_are_recorded() {
        let inner: Arc<dyn Backend> = Arc::new(ReplayBackend::new(
            "replay.jsonl".into(),
            vec!["x".into(), "y".into()],
        ));
        let scripted = ScriptedReplies::new(inner);
        scripted.push_reply("<|tool_call>call:read{path:<|\"|>a<|\"|>}<tool_call|>");
        let mut deltas = String::new();
        let first = scripted
            .generate(GenerateRequest::new("first", 64), &mut |e| {
                if let GenerateEvent::Delta { text, .. } = e {
                    deltas.push_str(&text);
                }
            })
            .expect("generate");
        assert_eq!(first.text, deltas);
        assert!(first.text.starts_with("<|tool_call>call:read"));
        let second = scripted
            .generate(GenerateRequest::new("second", 64), &mut |_| {})
            .expect("generate");
        assert_eq!(second.text, DEFAULT_REPLY);
        let calls = scripted.calls();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].prompt, "first");
        assert_eq!(calls[1].prompt, "second");
    }
}
