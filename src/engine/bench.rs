//! `gem bench`: what this machine does with a model, measured in one run.
//!
//! Scenarios: prompt processing, generation, a follow-up turn on a long conversation (reused vs
//! prefilled tokens, time vs a fresh prefill) and a warm start from the disk state cache.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde::Serialize;

use super::{Backend, EngineConfig, EngineError, GenerateRequest, LlamaEngine, Sampling};

/// Bench sizes.
#[derive(Debug, Clone)]
pub struct BenchParams {
    /// Tokens in the prompt-processing test and the long conversation.
    pub prompt_tokens: usize,
    /// Tokens generated in the generation test.
    pub gen_tokens: usize,
    /// Tokens in the follow-up message.
    pub followup_tokens: usize,
}

/// Results, one field per figure (`--json` prints this object).
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Model summary line.
    pub model: String,
    /// Threads used.
    pub threads: usize,
    /// Prompt processing speed, tokens/s.
    pub pp_tok_s: f64,
    /// Generation speed, tokens/s.
    pub tg_tok_s: f64,
    /// Tokens in the long conversation.
    pub conversation_tokens: usize,
    /// Tokens reused in the follow-up turn.
    pub followup_reused_tokens: usize,
    /// Tokens prefilled in the follow-up turn.
    pub followup_prefilled_tokens: usize,
    /// Follow-up time to first token, ms.
    pub followup_ms: f64,
    /// Fresh prefill of the same whole prompt, ms.
    pub fresh_ms: f64,
    /// `fresh_ms / followup_ms`.
    pub followup_speedup: f64,
    /// Cold prefill of the persisted prefix, ms (the prefill alone, without the state write).
    pub cold_prefill_ms: f64,
    /// Writing the prefix's KV state to the disk cache after the cold prefill, ms.
    pub state_write_ms: f64,
    /// Restoring the same prefix from the disk state, ms.
    pub warm_start_ms: f64,
    /// Whether the warm start read the state file from disk (`"disk"`: its pages were dropped
    /// from the page cache first) or from memory (`"page-cache"`: dropping them failed, e.g.
    /// outside Linux, so the file was read just after it was written).
    pub warm_start_read: &'static str,
    /// `cold_prefill_ms / warm_start_ms`.
    pub warm_start_speedup: f64,
    /// Size of the state file on disk, bytes.
    pub state_file_bytes: u64,
    /// Resident memory after each scenario, MiB.
    pub rss_mib: Vec<(String, f64)>,
    /// Peak resident memory of the process, MiB.
    pub peak_rss_mib: f64,
}

/// Flushes `path` and asks the kernel to drop its cached pages, so the next read comes from
/// the disk; false when that is not possible here.
fn drop_from_page_cache(path: &std::path::Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        use nix::fcntl::{PosixFadviseAdvice, posix_fadvise};
        let Ok(file) = std::fs::File::open(path) else {
            return false;
        };
        file.sync_all().is_ok()
            && posix_fadvise(&file, 0, 0, PosixFadviseAdvice::POSIX_FADV_DONTNEED).is_ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        false
    }
}

/// Resident set size and its peak, in MiB (Linux; zeros elsewhere).
pub fn memory_mib() -> (f64, f64) {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Text of at least `n` tokens for `backend` (varied words, so nothing is trivially repeated).
pub fn synthetic_text(backend: &dyn Backend, n: usize, salt: usize) -> Result<String, EngineError> {
    const WORDS: &[&str] = &[
        "the", "parser", "reads", "each", "token", "and", "builds", "a", "tree", "of", "nodes",
        "while", "engine", "keeps", "cache", "state", "for", "every", "turn", "model", "writes",
        "code", "tests", "run", "fast", "on", "small", "machines", "with", "two", "cores",
    ];
    let mut text = String::new();
    let mut i = salt;
    loop {
        let have = backend.count_tokens(&text)?;
        if have >= n {
            return Ok(text);
        }
        // Words are at least one token each: add about an eighth of what is missing, so the
        // text overshoots `n` by at most a word or so.
        for _ in 0..((n - have) / 8).max(1) {
            let word = WORDS[(i * 7 + i / WORDS.len()) % WORDS.len()];
            text.push_str(word);
            text.push(if i % 13 == 12 { '\n' } else { ' ' });
            i += 1;
        }
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

fn request(prompt: String, max_tokens: usize) -> GenerateRequest {
    GenerateRequest {
        prompt,
        literal: Vec::new(),
        add_bos: true,
        max_tokens,
        sampling: Sampling::greedy(),
        grammar: None,
        persist_prefix: None,
        persist_early: None,
        cancel: Arc::new(AtomicBool::new(false)),
        ignore_eog: true,
    }
}

/// Runs every scenario on the model in `config` (its disk cache goes to a temporary directory).
pub fn run(
    config: &EngineConfig,
    params: &BenchParams,
    progress: &mut dyn FnMut(&str),
) -> Result<BenchReport, EngineError> {
    let scratch = tempfile::tempdir().map_err(|e| EngineError::Llama(e.to_string()))?;
    let mut config = config.clone();
    config.state_dir = Some(scratch.path().to_path_buf());
    let needed = params.prompt_tokens + params.followup_tokens + params.gen_tokens + 64;
    config.context = Some(config.context.unwrap_or(0).max(needed));
    let engine = LlamaEngine::load(&config)?;
    let mut rss = Vec::new();
    let note =
        |label: &str, rss: &mut Vec<(String, f64)>| rss.push((label.to_string(), memory_mib().0));
    note("loaded", &mut rss);

    // Like llama-bench: one warm-up run, then the mean of `REPS` runs of each test.
    const REPS: usize = 3;
    progress("warm-up");
    engine.generate(request("Warm up.".into(), 2), &mut |_| {})?;

    progress("prompt processing");
    let conversation = synthetic_text(&engine, params.prompt_tokens, 0)?;
    let mut pp_rates = Vec::new();
    let mut pp = None;
    for _ in 0..REPS {
        engine.clear_memory()?;
        let run = engine.generate(request(conversation.clone(), 1), &mut |_| {})?;
        pp_rates.push(
            run.usage.prefilled_tokens as f64 / (run.usage.prefill_ms.max(1) as f64 / 1000.0),
        );
        pp = Some(run);
    }
    let pp = pp.ok_or_else(|| EngineError::Llama("no prompt-processing run".into()))?;
    let pp_tok_s = mean(&pp_rates);
    note("prompt processing", &mut rss);

    progress("generation");
    let mut tg_rates = Vec::new();
    for _ in 0..REPS {
        engine.clear_memory()?;
        let tg = engine.generate(
            request("Once upon a time".into(), params.gen_tokens),
            &mut |_| {},
        )?;
        tg_rates.push(
            tg.usage.generated_tokens as f64 / (tg.usage.generation_ms.max(1) as f64 / 1000.0),
        );
    }
    let tg_tok_s = mean(&tg_rates);
    note("generation", &mut rss);

    progress("follow-up turn");
    engine.clear_memory()?;
    engine.generate(request(conversation.clone(), 1), &mut |_| {})?;
    let message = synthetic_text(&engine, params.followup_tokens, 5)?;
    let followup_prompt = format!("{conversation}\nUser: {message}");
    let t = Instant::now();
    let followup = engine.generate(request(followup_prompt.clone(), 1), &mut |_| {})?;
    let followup_ms = t.elapsed().as_secs_f64() * 1000.0;
    engine.clear_memory()?;
    let t = Instant::now();
    engine.generate(request(followup_prompt, 1), &mut |_| {})?;
    let fresh_ms = t.elapsed().as_secs_f64() * 1000.0;
    note("follow-up", &mut rss);

    progress("warm start from disk");
    engine.clear_memory()?;
    let tail = "\nUser: what next?";
    let mut cold = request(format!("{conversation}{tail}"), 1);
    cold.persist_prefix = Some(conversation.clone());
    let t = Instant::now();
    let first = engine.generate(cold.clone(), &mut |_| {})?;
    let cold_total_ms = t.elapsed().as_secs_f64() * 1000.0;
    let cold_prefill_ms = first.usage.prefill_ms as f64;
    // The rest of the cold request is the state write and one generated token.
    let state_write_ms =
        (cold_total_ms - cold_prefill_ms - first.usage.generation_ms as f64).max(0.0);
    engine.clear_memory()?;
    let files = super::state_cache::list(scratch.path());
    let warm_start_read = if files.iter().all(|f| drop_from_page_cache(&f.path)) {
        "disk"
    } else {
        "page-cache"
    };
    let t = Instant::now();
    let warm = engine.generate(cold, &mut |_| {})?;
    let warm_start_ms = t.elapsed().as_secs_f64() * 1000.0;
    if warm.restored_from_disk == 0 {
        return Err(EngineError::Llama(format!(
            "the warm start did not restore the saved state ({:?})",
            warm.warnings
        )));
    }
    note("warm start", &mut rss);
    let state_file_bytes = files.iter().map(|e| e.bytes).sum();

    Ok(BenchReport {
        model: engine.info().summary(),
        threads: config.effective_threads(),
        pp_tok_s,
        tg_tok_s,
        conversation_tokens: pp.usage.prompt_tokens,
        followup_reused_tokens: followup.usage.reused_tokens,
        followup_prefilled_tokens: followup.usage.prefilled_tokens,
        followup_ms,
        fresh_ms,
        followup_speedup: fresh_ms / followup_ms.max(0.001),
        cold_prefill_ms,
        state_write_ms,
        warm_start_ms,
        warm_start_read,
        warm_start_speedup: cold_prefill_ms / warm_start_ms.max(0.001),
        state_file_bytes,
        rss_mib: rss,
        peak_rss_mib: memory_mib().1,
    })
}
