//! The engine thread: owns the llama.cpp context, the token ledger and the disk cache.

use std::num::NonZeroU32;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::Instant;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::{KvCacheType, LlamaContextParams};
use llama_cpp_2::context::session::LlamaStateSeqFlags;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::logit_bias::LlamaLogitBias;

use super::load::{Loaded, backend};
use super::sampler::TokenSampler;
use super::{Job, Reply, logs, tokenize, tokenize_prompt};
use crate::engine::ledger::Ledger;
use crate::engine::state_cache::StateCache;
use crate::engine::utf8_stream::Utf8Stream;
use crate::engine::{
    EngineConfig, EngineError, GenerateEvent, GenerateOutcome, GenerateRequest, KvCacheKind,
    StopReason,
};
use crate::protocol::TokenUsage;

/// Sequence id of the one conversation the engine serves.
const SEQ: i32 = 0;

/// Runs until the job channel closes.
pub(super) fn run(
    loaded: Loaded,
    inbox: mpsc::Receiver<Job>,
    ready: mpsc::Sender<Result<(), EngineError>>,
) {
    let model = loaded.model.clone();
    let mut session = match Session::new(&model, &loaded) {
        Ok(session) => {
            let _ = ready.send(Ok(()));
            session
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    for job in inbox {
        match job {
            Job::Generate { request, reply } => {
                let sink = reply.clone();
                let mut emit = |event| {
                    let _ = sink.send(Reply::Event(event));
                };
                let result = session.generate(*request, &mut emit);
                let _ = reply.send(Reply::Done(result));
            }
            Job::ClearMemory { done } => {
                session.clear();
                let _ = done.send(());
            }
            Job::SaveHeld { request, reply } => {
                let _ = reply.send(session.save_held(&request));
            }
        }
    }
}

fn kv_type(kind: KvCacheKind) -> KvCacheType {
    match kind {
        KvCacheKind::F16 => KvCacheType::F16,
        KvCacheKind::Q8_0 => KvCacheType::Q8_0,
        KvCacheKind::Q4_0 => KvCacheType::Q4_0,
    }
}

/// Identity of the context parameters that shape a saved state.
fn context_id(config: &EngineConfig, n_ctx: usize) -> String {
    use sha2::{Digest, Sha256};
    let key = format!(
        "ctx={n_ctx};k={};v={};swa_full={};fa={:?}",
        config.kv_cache.name(),
        config.kv_cache.name(),
        config.swa_full,
        config.flash_attention
    );
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Early checkpoints shorter than this are not kept (cheap to prefill).
const MIN_EARLY_CHECKPOINT: usize = 512;
/// Tokens dropped from the end of an early checkpoint: tokenizing a text prefix alone can merge
/// its last characters differently than inside the whole prefix.
const EARLY_CHECKPOINT_MARGIN: usize = 8;

struct Session<'m> {
    model: &'m LlamaModel,
    controls: std::sync::Arc<super::control_tokens::ControlTokens>,
    ctx: LlamaContext<'m>,
    ledger: Ledger,
    cache: Option<StateCache>,
    n_ctx: usize,
    n_batch: usize,
    sliding_window: Option<usize>,
    swa_full: bool,
    /// The last persisted prefix and its tokens (text, add_bos, tokens).
    persist_tokens: Option<(String, bool, Vec<u32>)>,
    /// The last early checkpoint's text and its length in tokens (0: not a prefix).
    early_tokens: Option<(String, usize)>,
}

impl<'m> Session<'m> {
    fn new(model: &'m LlamaModel, loaded: &Loaded) -> Result<Self, EngineError> {
        let config = &loaded.config;
        let n_ctx = loaded.info.context_size;
        let threads = config.effective_threads() as i32;
        let flash = match config.flash_attention {
            None => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_AUTO,
            Some(true) => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_ENABLED,
            Some(false) => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED,
        };
        let n_batch = config.batch.max(1);
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx as u32))
            .with_n_batch(n_batch as u32)
            .with_n_ubatch(config.ubatch.clamp(1, n_batch) as u32)
            .with_n_seq_max(1)
            .with_n_threads(threads)
            .with_n_threads_batch(threads)
            .with_flash_attention_policy(flash)
            .with_type_k(kv_type(config.kv_cache))
            .with_type_v(kv_type(config.kv_cache))
            .with_swa_full(config.swa_full);
        let ctx = logs::capture(|| {
            model.new_context(backend()?, params).map_err(|e| {
                EngineError::Llama(format!(
                    "cannot create a {n_ctx}-token context: {e} ({})",
                    logs::last_errors().unwrap_or_default()
                ))
            })
        })?;
        let cache = config.state_dir.clone().map(|dir| {
            StateCache::new(
                dir,
                &loaded.model_id,
                &context_id(config, n_ctx),
                config.state_cache_max_bytes,
            )
        });
        Ok(Self {
            model,
            controls: loaded.controls.clone(),
            ctx,
            ledger: Ledger::default(),
            cache,
            n_ctx,
            n_batch,
            sliding_window: loaded.info.sliding_window.map(|w| w as usize),
            swa_full: config.swa_full,
            persist_tokens: None,
            early_tokens: None,
        })
    }

    fn clear(&mut self) {
        self.ctx.clear_kv_cache();
        self.ledger.truncate(0);
    }

    fn generate(
        &mut self,
        request: GenerateRequest,
        emit: &mut dyn FnMut(GenerateEvent),
    ) -> Result<GenerateOutcome, EngineError> {
        let started = Instant::now();
        let tokens = self.tokenize_request(&request)?;
        if tokens.is_empty() {
            return Err(EngineError::Llama("empty prompt".into()));
        }
        if tokens.len() >= self.n_ctx {
            return Err(EngineError::ContextOverflow {
                prompt_tokens: tokens.len(),
                context_size: self.n_ctx,
            });
        }
        let mut warnings = Vec::new();
        let plan = self.ledger.plan(&tokens);
        let mut keep = plan.keep;
        // A request for no tokens needs no logits, so its whole prompt may come from disk;
        // otherwise the last token is computed for the first sample.
        let restorable = if request.max_tokens == 0 {
            tokens.len()
        } else {
            tokens.len() - 1
        };
        let restored = self.restore_from_disk(&tokens, keep, restorable, &mut warnings);
        let mut reprefill = None;
        if restored > 0 {
            keep = restored;
        } else if plan.rollback {
            reprefill = self.roll_back(keep);
            if reprefill.is_some() {
                keep = 0;
            }
        }
        let reused = keep;
        let save_at = self.persist_points(&request, &tokens, keep);

        // Prefill in chunks, checking for cancellation between them.
        let total = tokens.len();
        let mut batch = LlamaBatch::new(self.n_batch, 1);
        let mut pos = keep;
        while pos < total {
            if request.cancel.load(Ordering::Relaxed) {
                return Ok(self.outcome(
                    String::new(),
                    Vec::new(),
                    StopReason::Cancelled,
                    (total, reused, pos - reused, 0),
                    (started.elapsed().as_millis() as u64, 0),
                    restored,
                    reprefill,
                    warnings,
                ));
            }
            let mut end = (pos + self.n_batch).min(total);
            if let Some(&at) = save_at.iter().find(|&&at| pos < at && end > at) {
                end = at;
            }
            batch.clear();
            for (i, token) in tokens.iter().enumerate().take(end).skip(pos) {
                batch
                    .add(LlamaToken(*token as i32), i as i32, &[SEQ], i == total - 1)
                    .map_err(|e| EngineError::Llama(format!("batch: {e}")))?;
            }
            self.decode(&mut batch)?;
            self.ledger.extend(&tokens[pos..end]);
            pos = end;
            emit(GenerateEvent::Prefill { done: pos, total });
            if save_at.contains(&pos)
                && let Err(e) = self.save_state(&tokens[..pos])
            {
                warnings.push(format!("could not save the KV state to disk: {e}"));
            }
        }
        let prefill_ms = started.elapsed().as_millis() as u64;

        // Generate.
        let gen_started = Instant::now();
        let mut sampler = self.sampler(&request)?;
        let vocab = self.model.vocab();
        let mut utf8 = Utf8Stream::default();
        let mut text = String::new();
        let mut generated: Vec<u32> = Vec::new();
        let mut pending: Vec<u32> = Vec::new();
        let mut logits_index = batch.n_tokens() - 1;
        let stop = loop {
            if request.cancel.load(Ordering::Relaxed) {
                break StopReason::Cancelled;
            }
            if generated.len() >= request.max_tokens {
                break StopReason::MaxTokens;
            }
            if self.ledger.len() >= self.n_ctx {
                break StopReason::ContextFull;
            }
            // `sample` also accepts the token (grammar state included): never accept it twice.
            let token = sampler.sample(&self.ctx, logits_index);
            if vocab.is_eog(token) && !request.ignore_eog {
                let piece = vocab.token_to_piece(token, true, None);
                break StopReason::EndOfGeneration(String::from_utf8_lossy(&piece).into_owned());
            }
            let id = token.0 as u32;
            generated.push(id);
            pending.push(id);
            let delta = utf8.push(&vocab.token_to_piece(token, true, None));
            if !delta.is_empty() {
                text.push_str(&delta);
                emit(GenerateEvent::Delta {
                    text: delta,
                    tokens: std::mem::take(&mut pending),
                });
            }
            batch.clear();
            batch
                .add(token, self.ledger.len() as i32, &[SEQ], true)
                .map_err(|e| EngineError::Llama(format!("batch: {e}")))?;
            self.decode(&mut batch)?;
            self.ledger.push(id);
            logits_index = 0;
        };
        let rest = utf8.finish();
        if !rest.is_empty() || !pending.is_empty() {
            text.push_str(&rest);
            emit(GenerateEvent::Delta {
                text: rest,
                tokens: pending,
            });
        }
        let generation_ms = gen_started.elapsed().as_millis() as u64;
        let n_generated = generated.len();
        Ok(self.outcome(
            text,
            generated,
            stop,
            (total, reused, total - reused, n_generated),
            (prefill_ms, generation_ms),
            restored,
            reprefill,
            warnings,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn outcome(
        &self,
        text: String,
        tokens: Vec<u32>,
        stop: StopReason,
        (prompt, reused, prefilled, generated): (usize, usize, usize, usize),
        (prefill_ms, generation_ms): (u64, u64),
        restored_from_disk: usize,
        full_reprefill_reason: Option<String>,
        warnings: Vec<String>,
    ) -> GenerateOutcome {
        GenerateOutcome {
            text,
            tokens,
            stop,
            usage: TokenUsage {
                prompt_tokens: prompt,
                reused_tokens: reused,
                prefilled_tokens: prefilled,
                generated_tokens: generated,
                prefill_ms,
                generation_ms,
                context_size: self.n_ctx,
            },
            restored_from_disk,
            full_reprefill_reason,
            warnings,
        }
    }

    fn decode(&mut self, batch: &mut LlamaBatch) -> Result<(), EngineError> {
        self.ctx.decode(batch).map_err(|e| {
            EngineError::Llama(format!(
                "decode failed at position {}: {e} (is the context full?)",
                self.ledger.len()
            ))
        })
    }

    /// Removes cached tokens after `keep`. Returns why a full re-prefill is needed, if it is:
    /// without the full sliding-window cache, positions older than the window are gone.
    fn roll_back(&mut self, keep: usize) -> Option<String> {
        let removed = self
            .ctx
            .kv_cache_seq_rm(SEQ, Some(keep as u32), None)
            .is_ok();
        let window_ok = match self.sliding_window {
            Some(window) if !self.swa_full && keep > 0 => {
                let pos_min = self.ctx.kv_cache_seq_pos_min(SEQ);
                pos_min >= 0 && pos_min as usize <= keep.saturating_sub(window)
            }
            _ => true,
        };
        if removed && window_ok {
            self.ledger.truncate(keep);
            return None;
        }
        let dropped = self.ledger.len() - keep;
        self.clear();
        Some(format!(
            "the prompt diverged {dropped} tokens before the end of the cache and the \
             sliding-window layers no longer hold that far back; the whole prompt was prefilled \
             again (--swa-full keeps rollback possible at a memory cost)"
        ))
    }

    /// Restores the longest disk state that covers more of `tokens` than `keep`; returns its
    /// length (0 when nothing was restored).
    fn restore_from_disk(
        &mut self,
        tokens: &[u32],
        keep: usize,
        restorable: usize,
        warnings: &mut Vec<String>,
    ) -> usize {
        let Some(cache) = self.cache.clone() else {
            return 0;
        };
        let Some(hit) = cache.find(tokens, keep, restorable) else {
            return 0;
        };
        let state = match cache.load(&hit.path, &tokens[..hit.n_tokens]) {
            Ok(state) => state,
            Err(e) => {
                warnings.push(format!(
                    "ignored KV state file {}: {e}; it was removed and will be rebuilt",
                    hit.path.display()
                ));
                let _ = std::fs::remove_file(&hit.path);
                return 0;
            }
        };
        self.clear();
        // SAFETY: the payload was produced by `state_seq_get_data_ext` for this model and these
        // context parameters (both are part of the verified key) and its checksum matched.
        let ok = unsafe {
            self.ctx
                .state_seq_set_data_ext(&state.payload, SEQ, LlamaStateSeqFlags::empty())
        };
        if !ok {
            warnings.push(format!(
                "llama.cpp rejected KV state file {}; it was removed",
                hit.path.display()
            ));
            let _ = std::fs::remove_file(&hit.path);
            self.clear();
            return 0;
        }
        self.ledger.replace(state.tokens);
        hit.n_tokens
    }

    /// Where to snapshot the KV state during prefill, ascending: the end of the early
    /// checkpoint and of the persisted prefix, each only if it lies inside the part being
    /// prefilled and is not stored yet.
    fn persist_points(
        &mut self,
        request: &GenerateRequest,
        tokens: &[u32],
        keep: usize,
    ) -> Vec<usize> {
        if self.cache.is_none() {
            return Vec::new();
        }
        let Some(text) = request.persist_prefix.as_deref() else {
            return Vec::new();
        };
        // The prefix (system prompt, tools, packed repository) is the same request after
        // request: tokenize it once, not at every step.
        let cached = self
            .persist_tokens
            .as_ref()
            .is_some_and(|(t, bos, _)| t == text && *bos == request.add_bos);
        if !cached {
            let Ok(prefix) = self.tokenize_prefix(request, text) else {
                return Vec::new();
            };
            self.persist_tokens = Some((text.to_string(), request.add_bos, prefix));
            self.early_tokens = None;
        }
        let early = self.early_length(request);
        let (Some((_, _, prefix)), Some(cache)) = (self.persist_tokens.as_ref(), &self.cache)
        else {
            return Vec::new();
        };
        let n = prefix.len();
        // `n == tokens.len()` is a checkpoint of the whole prompt (`save_checkpoint`).
        if n > tokens.len() || !tokens.starts_with(prefix) {
            return Vec::new();
        }
        let mut points = Vec::new();
        if early >= MIN_EARLY_CHECKPOINT
            && early > keep
            && early < n
            && !cache.contains(&prefix[..early])
        {
            points.push(early);
        }
        if n > keep && !cache.contains(prefix) {
            points.push(n);
        }
        points
    }

    /// Tokens of the request's early checkpoint that are surely a prefix of the persisted
    /// prefix's tokens (0 when there is none); computed once per checkpoint text.
    fn early_length(&mut self, request: &GenerateRequest) -> usize {
        let Some(early) = request.persist_early.as_deref() else {
            return 0;
        };
        if let Some((text, n)) = &self.early_tokens
            && text == early
        {
            return *n;
        }
        let prefix = self.persist_tokens.as_ref().map(|(_, _, p)| p.as_slice());
        let n = match (self.tokenize_prefix(request, early), prefix) {
            (Ok(tokens), Some(prefix)) => {
                let n = tokens.len().saturating_sub(EARLY_CHECKPOINT_MARGIN);
                if prefix.starts_with(&tokens[..n]) {
                    n
                } else {
                    0
                }
            }
            _ => 0,
        };
        self.early_tokens = Some((early.to_string(), n));
        n
    }

    /// Tokenizes the request's prompt (control tokens parsed outside its literal ranges).
    fn tokenize_request(&self, request: &GenerateRequest) -> Result<Vec<u32>, EngineError> {
        tokenize_prompt(
            self.model,
            &self.controls,
            &request.prompt,
            request.add_bos,
            &request.literal,
        )
    }

    /// Tokenizes `text`, a prefix of the request's prompt, as the prompt itself is tokenized.
    fn tokenize_prefix(
        &self,
        request: &GenerateRequest,
        text: &str,
    ) -> Result<Vec<u32>, EngineError> {
        let literal = crate::engine::prompt_pieces::clip_ranges(&request.literal, text.len());
        tokenize_prompt(self.model, &self.controls, text, request.add_bos, &literal)
    }

    /// Saves the state of the longest prefix of the request's prompt the KV cache holds,
    /// without prefilling anything; returns its length (0 when nothing is kept).
    fn save_held(&mut self, request: &GenerateRequest) -> Result<usize, EngineError> {
        if self.cache.is_none() {
            return Ok(0);
        }
        let tokens = self.tokenize_request(request)?;
        let held = self.ledger.held_prefix(&tokens);
        let stored = |cache: &StateCache| cache.contains(&tokens[..held]);
        if held == 0 || self.cache.as_ref().is_some_and(stored) {
            return Ok(held);
        }
        // The state written is the whole sequence: drop what follows the held prefix first
        // (generated tokens the rendered conversation spells differently).
        if self.ledger.len() > held && self.roll_back(held).is_some() {
            return Ok(0);
        }
        self.save_state(&tokens[..held])
            .map_err(|e| EngineError::Llama(format!("could not save the KV state: {e}")))?;
        Ok(held)
    }

    fn save_state(&mut self, tokens: &[u32]) -> Result<(), String> {
        let Some(cache) = &self.cache else {
            return Ok(());
        };
        let flags = LlamaStateSeqFlags::empty();
        let size = self.ctx.state_seq_get_size_ext(SEQ, flags);
        let mut buffer = vec![0u8; size];
        // SAFETY: `buffer` holds exactly the size llama.cpp reported for this sequence.
        let written = unsafe {
            self.ctx
                .state_seq_get_data_ext(buffer.as_mut_ptr(), SEQ, flags)
        };
        if written == 0 || written > size {
            return Err("llama.cpp returned no state".into());
        }
        buffer.truncate(written);
        cache
            .save(tokens, &buffer)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn sampler(&self, request: &GenerateRequest) -> Result<TokenSampler, EngineError> {
        let mut grammar_sampler = None;
        if let Some(grammar) = &request.grammar {
            let mut trigger_tokens = Vec::new();
            for text in &grammar.trigger_tokens {
                match tokenize(self.model, text, false)?.as_slice() {
                    [one] => trigger_tokens.push(LlamaToken(*one as i32)),
                    _ => {
                        return Err(EngineError::Grammar(format!(
                            "trigger {text:?} is not a single token in this vocabulary"
                        )));
                    }
                }
            }
            let eager = grammar.trigger_patterns.is_empty() && trigger_tokens.is_empty();
            let sampler = logs::capture(|| {
                if eager {
                    LlamaSampler::grammar(self.model, &grammar.gbnf, &grammar.root)
                } else {
                    LlamaSampler::grammar_lazy_patterns(
                        self.model,
                        &grammar.gbnf,
                        &grammar.root,
                        &grammar.trigger_patterns,
                        &trigger_tokens,
                    )
                }
            })
            .map_err(|e| {
                EngineError::Grammar(format!("{e}: {}", logs::last_errors().unwrap_or_default()))
            })?;
            grammar_sampler = Some(sampler);
        }
        let mut chain = Vec::new();
        let s = &request.sampling;
        if !s.logit_bias.is_empty() {
            let biases: Vec<LlamaLogitBias> = s
                .logit_bias
                .iter()
                .map(|&(token, bias)| LlamaLogitBias::new(LlamaToken(token as i32), bias))
                .collect();
            chain.push(LlamaSampler::logit_bias(self.model.n_vocab(), &biases));
        }
        if s.is_greedy() {
            chain.push(LlamaSampler::greedy());
        } else {
            chain.push(LlamaSampler::top_k(s.top_k));
            chain.push(LlamaSampler::top_p(s.top_p, 1));
            chain.push(LlamaSampler::temp(s.temperature));
            chain.push(LlamaSampler::dist(s.seed));
        }
        Ok(TokenSampler::new(
            LlamaSampler::chain_simple(chain),
            grammar_sampler,
            self.model.vocab().eos(),
            // The direct argmax reads raw logits: only for a chain that is greedy alone.
            s.is_greedy() && s.logit_bias.is_empty(),
        ))
    }
}
