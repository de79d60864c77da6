//! The engine on real weights (Gemma 3 270M Q4_K_M): determinism, prefix reuse, rollback, disk
//! state, cancellation and errors. Run one at a time (see `support::model_lock`).

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use gem::engine::{
    Backend, EngineConfig, EngineError, GenerateEvent, GenerateOutcome, GenerateRequest,
    LlamaEngine, Sampling, StopReason,
};

const STORY: &str = "The lighthouse keeper climbed the stairs every evening. He counted the steps, \
    one hundred and twelve, and at the top he trimmed the wick, polished the lens and wrote the \
    weather in his book. Ships passed far out at sea and never knew his name.";

fn config(dir: Option<&std::path::Path>) -> Option<EngineConfig> {
    let model = support::real_model()?;
    let mut config = EngineConfig::new(model);
    config.context = Some(2048);
    config.state_dir = dir.map(|d| d.to_path_buf());
    Some(config)
}

fn greedy(prompt: &str, max_tokens: usize) -> GenerateRequest {
    GenerateRequest {
        add_bos: true,
        sampling: Sampling::greedy(),
        ..GenerateRequest::new(prompt, max_tokens)
    }
}

fn run(engine: &LlamaEngine, request: GenerateRequest) -> GenerateOutcome {
    support::generate_checked(engine, request)
}

#[test]
fn loads_and_reports_model_facts() {
    let _lock = support::model_lock();
    let Some(config) = config(None) else { return };
    let engine = LlamaEngine::load(&config).unwrap();
    let info = engine.info();
    assert_eq!(info.architecture, "gemma3");
    assert!(info.quantization.contains("Q4_K"), "{}", info.quantization);
    assert_eq!(info.trained_context, 32768);
    assert_eq!(info.context_size, 2048);
    assert!(info.parameters > 200_000_000 && info.parameters < 400_000_000);
    assert_eq!(info.sliding_window, Some(512));
}

#[test]
fn greedy_output_is_deterministic() {
    let _lock = support::model_lock();
    let Some(config) = config(None) else { return };
    let engine = LlamaEngine::load(&config).unwrap();
    let first = run(&engine, greedy(STORY, 24));
    engine.clear_memory().unwrap();
    let second = run(&engine, greedy(STORY, 24));
    assert!(!first.tokens.is_empty());
    assert_eq!(first.tokens, second.tokens);
    assert_eq!(second.usage.reused_tokens, 0);
}

#[test]
fn a_follow_up_turn_reuses_the_prefix_and_matches_a_fresh_prefill() {
    let _lock = support::model_lock();
    let Some(config) = config(None) else { return };
    let engine = LlamaEngine::load(&config).unwrap();
    let turn1 = run(&engine, greedy(STORY, 16));
    // The next prompt extends the first one: everything prompt-processed before is reused.
    let prompt2 = format!("{STORY}\nQuestion: how many steps were there?\nAnswer:");
    let turn2 = run(&engine, greedy(&prompt2, 16));
    assert_eq!(turn2.usage.reused_tokens, turn1.usage.prompt_tokens);
    assert!(
        turn2.usage.prefilled_tokens < 20,
        "prefilled {}",
        turn2.usage.prefilled_tokens
    );
    engine.clear_memory().unwrap();
    let fresh = run(&engine, greedy(&prompt2, 16));
    assert_eq!(fresh.usage.reused_tokens, 0);
    assert_eq!(
        turn2.tokens, fresh.tokens,
        "reuse must not change the output"
    );

    // Generated tokens stay cached too: a prompt that continues the answer reuses them.
    let prompt3 = format!("{prompt2}{}\nThank you.", fresh.text);
    let turn3 = run(&engine, greedy(&prompt3, 4));
    assert!(
        turn3.usage.reused_tokens + 2 >= fresh.usage.prompt_tokens + fresh.tokens.len(),
        "reused {} of {} prompt + {} generated tokens",
        turn3.usage.reused_tokens,
        fresh.usage.prompt_tokens,
        fresh.tokens.len()
    );
}

/// A request for no tokens (the agent reading a prefix in at launch) only prefills, keeps the
/// prefix on disk, and the next prompt that extends it reuses all of it, in memory and, in a
/// new engine, from disk.
#[test]
fn a_prefill_only_request_keeps_the_prefix_for_the_next_prompt() {
    let _lock = support::model_lock();
    let dir = tempfile::tempdir().unwrap();
    let Some(config) = config(Some(dir.path())) else {
        return;
    };
    let engine = LlamaEngine::load(&config).unwrap();
    let read_in = run(
        &engine,
        GenerateRequest {
            persist_prefix: Some(STORY.to_string()),
            ..greedy(STORY, 0)
        },
    );
    assert_eq!(read_in.stop, StopReason::MaxTokens);
    assert!(read_in.tokens.is_empty() && read_in.text.is_empty());
    assert_eq!(read_in.usage.prefilled_tokens, read_in.usage.prompt_tokens);
    let prompt = format!("{STORY}\nQuestion: how many steps were there?\nAnswer:");
    let turn = run(&engine, greedy(&prompt, 8));
    assert_eq!(turn.usage.reused_tokens, read_in.usage.prompt_tokens);
    drop(engine);
    let engine = LlamaEngine::load(&config).unwrap();
    let again = run(
        &engine,
        GenerateRequest {
            persist_prefix: Some(STORY.to_string()),
            ..greedy(STORY, 0)
        },
    );
    assert_eq!(
        again.restored_from_disk, again.usage.prompt_tokens,
        "no logits are needed: the whole prefix comes from disk"
    );
    assert_eq!(again.usage.prefilled_tokens, 0);
    let turn_after_restore = run(&engine, greedy(&prompt, 8));
    assert_eq!(
        turn_after_restore.usage.reused_tokens,
        again.usage.prompt_tokens
    );
    assert_eq!(
        turn_after_restore.tokens, turn.tokens,
        "the restored prefix answers as the computed one"
    );
}

#[test]
fn rolling_back_to_a_shorter_prefix_matches_a_fresh_run() {
    let _lock = support::model_lock();
    let Some(config) = config(None) else { return };
    let engine = LlamaEngine::load(&config).unwrap();
    run(&engine, greedy(STORY, 16));
    let cut = STORY.find("Ships").unwrap();
    let shorter = format!("{} The storm came at night.", &STORY[..cut]);
    let rolled = run(&engine, greedy(&shorter, 16));
    assert!(rolled.usage.reused_tokens > 10);
    assert!(
        rolled.full_reprefill_reason.is_none(),
        "{:?}",
        rolled.full_reprefill_reason
    );
    engine.clear_memory().unwrap();
    let fresh = run(&engine, greedy(&shorter, 16));
    assert_eq!(rolled.tokens, fresh.tokens);
}

#[test]
fn a_restored_disk_state_matches_a_fresh_prefill_and_corrupt_states_are_rejected() {
    let _lock = support::model_lock();
    let dir = tempfile::tempdir().unwrap();
    let Some(config) = config(Some(dir.path())) else {
        return;
    };
    let engine = LlamaEngine::load(&config).unwrap();
    let prompt = format!("{STORY}\nQuestion: who climbed the stairs?\nAnswer:");
    let mut request = greedy(&prompt, 16);
    request.persist_prefix = Some(STORY.to_string());
    let cold = run(&engine, request.clone());
    assert_eq!(cold.restored_from_disk, 0);
    let files = gem::engine::state_cache::list(dir.path());
    assert_eq!(files.len(), 1, "the prefix state was saved");

    // A new engine (a later run) restores it instead of prefilling.
    drop(engine);
    let engine = LlamaEngine::load(&config).unwrap();
    let warm = run(&engine, request.clone());
    assert!(
        warm.restored_from_disk > 40,
        "restored {}",
        warm.restored_from_disk
    );
    assert!(warm.usage.prefilled_tokens < 20);
    assert_eq!(
        warm.tokens, cold.tokens,
        "a restored state gives the fresh output"
    );

    // Corrupt the file: it is detected, reported, removed, and the output is still right.
    let path = &files[0].path;
    let mut bytes = std::fs::read(path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(path, &bytes).unwrap();
    engine.clear_memory().unwrap();
    let after = run(&engine, request);
    assert_eq!(after.restored_from_disk, 0);
    assert!(
        after.warnings.iter().any(|w| w.contains("checksum")),
        "{:?}",
        after.warnings
    );
    assert_eq!(after.tokens, cold.tokens);
}

#[test]
fn cancellation_is_prompt_and_leaves_the_engine_usable() {
    let _lock = support::model_lock();
    let Some(config) = config(None) else { return };
    let engine = LlamaEngine::load(&config).unwrap();
    let cancel = Arc::new(AtomicBool::new(false));
    let mut request = greedy(STORY, 2000);
    request.ignore_eog = true;
    request.cancel = cancel.clone();
    let mut cancelled_at = None;
    let outcome = engine
        .generate(request, &mut |e| {
            if matches!(e, GenerateEvent::Delta { .. }) && cancelled_at.is_none() {
                cancel.store(true, Ordering::Relaxed);
                cancelled_at = Some(Instant::now());
            }
        })
        .unwrap();
    assert_eq!(outcome.stop, StopReason::Cancelled);
    // The property is "stops within a step" (the token count below); the time bound only
    // catches a hang, generously, as this machine may be busy.
    let took = cancelled_at.unwrap().elapsed();
    assert!(
        took < Duration::from_secs(60),
        "took {took:?} for {} tokens",
        outcome.tokens.len()
    );
    assert!(
        outcome.tokens.len() < 10,
        "stopped within a step: {}",
        outcome.tokens.len()
    );
    let next = run(&engine, greedy("Hello", 4));
    assert!(!next.tokens.is_empty());
}

#[test]
fn a_prompt_longer_than_the_context_is_a_clear_error() {
    let _lock = support::model_lock();
    let Some(mut config) = config(None) else {
        return;
    };
    config.context = Some(256);
    let engine = LlamaEngine::load(&config).unwrap();
    let long = STORY.repeat(10);
    let err = engine.generate(greedy(&long, 4), &mut |_| {}).unwrap_err();
    assert!(
        matches!(
            err,
            EngineError::ContextOverflow {
                context_size: 256,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("nothing was truncated"));
}

#[test]
fn a_truncated_model_file_is_a_clear_error() {
    let _lock = support::model_lock();
    let Some(config) = config(None) else { return };
    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("truncated.gguf");
    let bytes = std::fs::read(&config.model).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let err = LlamaEngine::load(&EngineConfig::new(&truncated))
        .err()
        .unwrap();
    assert!(matches!(err, EngineError::CorruptModel { .. }), "{err}");
    assert!(err.to_string().contains("corrupt or truncated"), "{err}");
}

#[test]
fn the_call_grammar_makes_every_sampled_output_a_valid_call() {
    use gem::gemma::{GrammarOptions, ParseEvent, ParseOptions, StreamParser, call_grammar};
    let _lock = support::model_lock();
    let Some(config) = config(None) else { return };
    let engine = LlamaEngine::load(&config).unwrap();
    let tools = gem::agent::tool_declarations(&gem::tools::Registry::builtin());
    // Gemma 3's vocabulary has no Gemma 4 control tokens: the tags are spelled out as text.
    let opts = GrammarOptions {
        special_tokens: false,
        max_calls: 1,
        ..GrammarOptions::bounded()
    };
    let grammar = call_grammar(&tools, &opts).unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    let cases: u32 = std::env::var("GEM_GRAMMAR_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    for seed in 0..cases {
        let mut request = GenerateRequest {
            add_bos: true,
            sampling: Sampling {
                seed,
                ..Sampling::default()
            },
            ..GenerateRequest::new("Call a tool to look at the project files.\n", 400)
        };
        request.grammar = Some(gem::engine::GrammarSpec {
            gbnf: grammar.gbnf.clone(),
            root: grammar.root.clone(),
            trigger_patterns: Vec::new(),
            trigger_tokens: Vec::new(),
        });
        let outcome = engine.generate(request, &mut |_| {}).unwrap();
        let events = StreamParser::parse_all(ParseOptions::default(), &outcome.text);
        let calls: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                ParseEvent::ToolCall(call) => Some(call),
                _ => None,
            })
            .collect();
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, ParseEvent::MalformedCall { .. })),
            "seed {seed}: {:?}",
            outcome.text
        );
        assert!(
            !calls.is_empty(),
            "seed {seed}: no call in {:?} ({:?})",
            outcome.text,
            outcome.stop
        );
        assert!(
            calls.iter().all(|c| names.contains(&c.name.as_str())),
            "seed {seed}: {calls:?}"
        );
    }
}
