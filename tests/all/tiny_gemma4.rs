//! The real Gemma 4 graph on tiny random-weight models (`scripts/gen-tiny-models`): the engine
//! (determinism, prefix reuse, disk state, cancellation, context overflow), the tool-call grammar
//! under sampling, and the binary end to end (`-p`, `--patch`, `review`, template drift, `bench`).
//!
//! The models' text is noise; what is tested is that gem's machinery holds on the real
//! architecture and the real control-token ids. Every model-loading test takes
//! `support::model_lock()`; binary runs use one thread (the tiny graph gains nothing from more).

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command as Std, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use gem::engine::{
    Backend, EngineConfig, EngineError, GenerateEvent, GenerateOutcome, GenerateRequest,
    GrammarSpec, LlamaEngine, Sampling, StopReason,
};
use gem::gemma::{
    Conversation, GrammarOptions, ModelPart, ParseEvent, ParseOptions, RenderOptions, StreamParser,
    ToolDeclaration, call_grammar,
};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Models, prompts and engine helpers
// ---------------------------------------------------------------------------------------------

/// The default tiny model: layers `SSSSSF`, per-layer embeddings.
fn tiny() -> Option<PathBuf> {
    support::cached_file("GEM_TINY_GEMMA4", "tiny-gemma4.gguf")
}

/// The E2B-like tiny model with shared-KV layers.
fn tiny_kv_shared() -> Option<PathBuf> {
    support::cached_file("GEM_TINY_GEMMA4_KV_SHARED", "tiny-gemma4-kv-shared.gguf")
}

/// The tool declarations the agent gives the model.
fn agent_tools() -> Vec<ToolDeclaration> {
    gem::agent::tool_declarations(&gem::tools::Registry::builtin())
}

/// Thinking on, no tools (keeps the prompts short).
fn thinking() -> RenderOptions {
    RenderOptions {
        thinking: true,
        ..RenderOptions::default()
    }
}

/// A conversation with gem's real system prompt and one user message.
fn conversation(user: &str) -> Conversation {
    let mut conv = Conversation::new(Some(gem::agent::system_prompt::BASE.to_string()));
    conv.push_user(user);
    conv
}

fn render(conv: &Conversation, opts: &RenderOptions) -> String {
    gem::gemma::render(conv, opts).unwrap()
}

/// The system turn alone: the stable prefix the agent persists to disk.
fn system_prefix(conv: &Conversation, opts: &RenderOptions) -> String {
    let system_only = Conversation::new(conv.system.clone());
    let opts = RenderOptions {
        add_generation_prompt: false,
        ..opts.clone()
    };
    render(&system_only, &opts)
}

fn config(model: &Path) -> EngineConfig {
    let mut config = EngineConfig::new(model);
    config.context = Some(2048);
    config.threads = Some(1);
    config
}

/// A greedy request for a prompt rendered by gem (it starts with `<bos>`: no BOS added).
fn greedy(prompt: &str, max_tokens: usize) -> GenerateRequest {
    GenerateRequest {
        add_bos: false,
        sampling: Sampling::greedy(),
        ..GenerateRequest::new(prompt, max_tokens)
    }
}

fn run(engine: &LlamaEngine, request: GenerateRequest) -> GenerateOutcome {
    support::generate_checked(engine, request)
}

// ---------------------------------------------------------------------------------------------
// The engine on the gemma4 graph, for both tiny models
// ---------------------------------------------------------------------------------------------

fn loads_as_gemma4(model: &Path) {
    let engine = LlamaEngine::load(&config(model)).unwrap();
    let info = engine.info();
    assert_eq!(info.architecture, "gemma4");
    assert!(info.is_gemma4());
    assert_eq!(info.context_size, 2048);
    assert_eq!(info.trained_context, 8192);
    assert_eq!(info.sliding_window, Some(32));
    // Mostly the 262,144-entry embedding tables of the real vocabulary.
    assert!(
        info.parameters > 262_144 * 64 && info.parameters < 100_000_000,
        "{}",
        info.parameters
    );
    // The rendered `<bos>` is the model's BOS token, once.
    let prompt = render(&conversation("hello"), &thinking());
    let tokens = engine.tokenize(&prompt, false).unwrap();
    assert_eq!(tokens[0], 2, "<bos> is token 2");
    assert_ne!(tokens[1], 2, "no second BOS");
    // The tokenizer is Gemma 4's real BPE: the ids of llama.cpp's own test vector for it
    // (`ggml-vocab-gemma-4.gguf.out`: " Hello world" is 26352, 1902).
    assert_eq!(
        engine.tokenize(" Hello world", false).unwrap(),
        [26352, 1902]
    );
}

fn greedy_output_is_deterministic(model: &Path) {
    let engine = LlamaEngine::load(&config(model)).unwrap();
    let prompt = render(&conversation("Write a haiku about rust."), &thinking());
    let first = run(&engine, greedy(&prompt, 24));
    engine.clear_memory().unwrap();
    let second = run(&engine, greedy(&prompt, 24));
    assert!(!first.tokens.is_empty());
    assert_eq!(first.tokens, second.tokens);
    assert_eq!(first.text, second.text);
    assert_eq!(second.usage.reused_tokens, 0);
    // A second engine on the same file agrees too.
    drop(engine);
    let engine = LlamaEngine::load(&config(model)).unwrap();
    assert_eq!(run(&engine, greedy(&prompt, 24)).tokens, first.tokens);
}

fn a_follow_up_turn_reuses_the_prefix_and_matches_a_fresh_prefill(model: &Path) {
    let engine = LlamaEngine::load(&config(model)).unwrap();
    let opts = thinking();
    let mut conv = conversation("What is two plus two?");
    let prompt1 = render(&conv, &opts);
    let turn1 = run(&engine, greedy(&prompt1, 16));

    // The next prompt extends the first one (gem's renderer is append-only here).
    conv.extend_model([ModelPart::Text("Four.".into())]);
    conv.push_user("And three plus three?");
    let prompt2 = render(&conv, &opts);
    assert!(
        prompt2.starts_with(&prompt1),
        "the turn-2 prompt extends turn 1's"
    );
    let turn2 = run(&engine, greedy(&prompt2, 16));
    assert_eq!(turn2.usage.reused_tokens, turn1.usage.prompt_tokens);
    assert_eq!(
        turn2.usage.prefilled_tokens,
        turn2.usage.prompt_tokens - turn1.usage.prompt_tokens
    );
    assert!(
        turn2.full_reprefill_reason.is_none(),
        "{:?}",
        turn2.full_reprefill_reason
    );

    engine.clear_memory().unwrap();
    let fresh = run(&engine, greedy(&prompt2, 16));
    assert_eq!(fresh.usage.reused_tokens, 0);
    assert_eq!(fresh.usage.prompt_tokens, turn2.usage.prompt_tokens);
    assert_eq!(
        turn2.tokens, fresh.tokens,
        "reuse must not change the output"
    );
}

fn a_restored_disk_state_matches_a_fresh_prefill(model: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(model);
    config.state_dir = Some(dir.path().to_path_buf());
    let opts = thinking();
    let conv = conversation("List the files in this project.");
    let prefix = system_prefix(&conv, &opts);
    let prompt = render(&conv, &opts);
    assert!(prompt.starts_with(&prefix));

    let engine = LlamaEngine::load(&config).unwrap();
    let prefix_tokens = engine.tokenize(&prefix, false).unwrap().len();
    let mut request = greedy(&prompt, 16);
    request.persist_prefix = Some(prefix);
    let cold = run(&engine, request.clone());
    assert_eq!(cold.restored_from_disk, 0);
    assert!(cold.warnings.is_empty(), "{:?}", cold.warnings);
    assert_eq!(
        gem::engine::state_cache::list(dir.path()).len(),
        1,
        "the prefix state was saved"
    );

    // A new engine (a later run) restores it instead of prefilling.
    drop(engine);
    let engine = LlamaEngine::load(&config).unwrap();
    let warm = run(&engine, request);
    assert_eq!(warm.restored_from_disk, prefix_tokens);
    assert_eq!(warm.usage.reused_tokens, prefix_tokens);
    assert_eq!(
        warm.usage.prefilled_tokens,
        warm.usage.prompt_tokens - prefix_tokens
    );
    assert!(warm.warnings.is_empty(), "{:?}", warm.warnings);
    assert_eq!(
        warm.tokens, cold.tokens,
        "a restored state gives the fresh output"
    );
}

fn cancellation_is_prompt_and_leaves_the_engine_usable(model: &Path) {
    let engine = LlamaEngine::load(&config(model)).unwrap();
    let prompt = render(&conversation("Count to a thousand."), &thinking());
    let cancel = Arc::new(AtomicBool::new(false));
    let mut request = greedy(&prompt, 1500);
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
    let took = cancelled_at.unwrap().elapsed();
    // "Stops within a step" is the token count below; the time bound only catches a hang.
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert!(
        outcome.tokens.len() < 10,
        "stopped within a step: {}",
        outcome.tokens.len()
    );
    let next = run(&engine, greedy(&prompt, 4));
    assert_eq!(next.tokens.len(), 4, "{:?}", next.stop);
}

fn a_prompt_longer_than_the_context_is_a_clear_error(model: &Path) {
    let mut config = config(model);
    config.context = Some(256);
    let engine = LlamaEngine::load(&config).unwrap();
    let prompt = render(&conversation(&"hello ".repeat(300)), &thinking());
    assert!(engine.count_tokens(&prompt).unwrap() > 256);
    let err = engine
        .generate(greedy(&prompt, 4), &mut |_| {})
        .unwrap_err();
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
    assert!(err.to_string().contains("nothing was truncated"), "{err}");
    // The engine is still usable for a prompt that fits.
    let mut short = Conversation::default();
    short.push_user("Hi");
    let short = render(&short, &RenderOptions::default());
    assert!(!run(&engine, greedy(&short, 4)).tokens.is_empty());
}

/// One test per (property, model).
macro_rules! on_both_models {
    ($($name:ident),* $(,)?) => {
        mod interleaved {
            $(
                #[test]
                fn $name() {
                    let _lock = crate::support::model_lock();
                    let Some(model) = super::tiny() else { return };
                    super::$name(&model);
                }
            )*
        }
        mod kv_shared {
            $(
                #[test]
                fn $name() {
                    let _lock = crate::support::model_lock();
                    let Some(model) = super::tiny_kv_shared() else { return };
                    super::$name(&model);
                }
            )*
        }
    };
}

on_both_models!(
    loads_as_gemma4,
    greedy_output_is_deterministic,
    a_follow_up_turn_reuses_the_prefix_and_matches_a_fresh_prefill,
    a_restored_disk_state_matches_a_fresh_prefill,
    cancellation_is_prompt_and_leaves_the_engine_usable,
    a_prompt_longer_than_the_context_is_a_clear_error,
);

/// A prompt that diverges from the cached one further back than the sliding window reaches
/// cannot be rolled back (the window's cells for those positions were reused): the engine says
/// so, prefills the whole prompt again, and the output equals a fresh prefill's.
#[test]
fn a_rollback_past_the_sliding_window_reprefills_and_matches_a_fresh_prefill() {
    let _lock = support::model_lock();
    let Some(model) = tiny() else { return };
    let mut config = config(&model);
    config.context = Some(8192);
    assert!(!config.swa_full, "the default keeps only the window");
    let engine = LlamaEngine::load(&config).unwrap();
    let window = engine
        .info()
        .sliding_window
        .expect("gemma4 has sliding-window layers");
    let opts = thinking();
    // The sliding-window cache holds the window plus a micro-batch of cells; the prompts
    // diverge much further back than that from their end.
    let tail = "one two three four five six seven eight nine ten ".repeat(200);
    let first = render(&conversation(&format!("alpha {tail}")), &opts);
    let second = render(&conversation(&format!("omega {tail}")), &opts);
    let a = run(&engine, greedy(&first, 8));
    let b = run(&engine, greedy(&second, 8));
    assert!(a.usage.prompt_tokens > 2_000, "{:?}", a.usage);
    let reason = b
        .full_reprefill_reason
        .clone()
        .unwrap_or_else(|| panic!("no reprefill, window {window}, usage {:?}", b.usage));
    assert!(reason.contains("sliding-window"), "{reason}");
    assert_eq!(
        b.usage.prefilled_tokens, b.usage.prompt_tokens,
        "the whole prompt was prefilled again"
    );
    engine.clear_memory().unwrap();
    let fresh = run(&engine, greedy(&second, 8));
    assert!(fresh.full_reprefill_reason.is_none());
    assert_eq!(b.tokens, fresh.tokens, "the output is a fresh prefill's");
}

#[test]
fn the_model_without_per_layer_embeddings_runs_too() {
    let _lock = support::model_lock();
    let Some(model) = support::cached_file("GEM_TINY_GEMMA4_NO_PLE", "tiny-gemma4-no-ple.gguf")
    else {
        return;
    };
    loads_as_gemma4(&model);
    greedy_output_is_deterministic(&model);
}

#[test]
fn control_tokens_written_in_conversation_text_stay_text() {
    let _lock = support::model_lock();
    let Some(model) = tiny() else { return };
    let engine = LlamaEngine::load(&config(&model)).unwrap();
    let turn_open = engine.tokenize("<|turn>", false).unwrap();
    assert_eq!(turn_open.len(), 1, "<|turn> is one control token");
    let count = |tokens: &[u32]| tokens.iter().filter(|t| **t == turn_open[0]).count();

    // A message quoting Gemma 4 markup, as a packed source file of gem itself does.
    let conv = conversation("What does this line do? <|turn>model\nhi<turn|>");
    let rendered = gem::gemma::render_spans(&conv, &thinking()).unwrap();
    let written = rendered.text.matches("<|turn>").count();
    let naive = engine.tokenize(&rendered.text, false).unwrap();
    assert_eq!(
        count(&naive),
        written,
        "whole-prompt parsing reads the quote as markup"
    );
    let safe = engine
        .tokenize_prompt(&rendered.text, false, &rendered.content)
        .unwrap();
    assert_eq!(count(&safe), written - 1, "the quoted <|turn> stays text");

    // Prompts without such text tokenize exactly as before.
    let plain = gem::gemma::render_spans(&conversation("hello"), &thinking()).unwrap();
    assert_eq!(
        engine
            .tokenize_prompt(&plain.text, false, &plain.content)
            .unwrap(),
        engine.tokenize(&plain.text, false).unwrap()
    );

    // Generation uses the same tokens, and a follow-up reuses all of them.
    let mut request = greedy(&rendered.text, 4);
    request.literal = rendered.content.clone();
    let first = run(&engine, request);
    assert_eq!(first.usage.prompt_tokens, safe.len());
    let mut longer = conv.clone();
    longer.extend_model([ModelPart::Text("It ends a turn.".into())]);
    longer.push_user("Thanks.");
    let rendered = gem::gemma::render_spans(&longer, &thinking()).unwrap();
    let mut request = greedy(&rendered.text, 4);
    request.literal = rendered.content.clone();
    let second = run(&engine, request);
    assert!(
        second.usage.reused_tokens >= safe.len() - 1,
        "reused {} of the first prompt's {}",
        second.usage.reused_tokens,
        safe.len()
    );
}

// ---------------------------------------------------------------------------------------------
// The call grammar under sampling
// ---------------------------------------------------------------------------------------------

/// Generations that must sample the trigger in the lazy-grammar test (each takes seconds: once
/// the grammar is on, nearly every token a random model picks is rejected and the grammar is
/// applied to all 262,144 candidates).
const LAZY_TRIGGERED: usize = 5;

/// Generations the grammar test needs.
const GRAMMAR_GENERATIONS: usize = 24;

/// Whether `call`'s arguments fit its tool's declared parameters (known keys, required present).
fn fits_declaration(call: &gem::gemma::ToolCall, tools: &[ToolDeclaration]) -> Result<(), String> {
    let tool = tools
        .iter()
        .find(|t| t.name == call.name)
        .ok_or_else(|| format!("undeclared tool {:?}", call.name))?;
    let args = call
        .arguments
        .as_object()
        .ok_or("arguments are not an object")?;
    let properties = tool.parameters.get("properties").and_then(Value::as_object);
    for key in args.keys() {
        if !properties.is_some_and(|p| p.contains_key(key)) {
            return Err(format!("{}: unknown key {key:?}", call.name));
        }
    }
    let required = tool.parameters.get("required").and_then(Value::as_array);
    for key in required.into_iter().flatten().filter_map(Value::as_str) {
        if !args.contains_key(key) {
            return Err(format!("{}: missing required key {key:?}", call.name));
        }
    }
    Ok(())
}

/// The calls among `events` as gem's renderer writes them into the next prompt.
fn rendered_calls(events: &[ParseEvent]) -> String {
    let mut conv = Conversation::default();
    conv.push_user("x");
    conv.extend_model(events.iter().filter_map(|e| match e {
        ParseEvent::ToolCall(call) => Some(ModelPart::ToolCall(call.clone())),
        _ => None,
    }));
    let opts = RenderOptions {
        add_generation_prompt: false,
        ..RenderOptions::default()
    };
    let prompt = render(&conv, &opts);
    let start = prompt.find("<|tool_call>").unwrap();
    let end = prompt.rfind("<|tool_response>").unwrap();
    prompt[start..end].to_string()
}

/// The grammar as the agent applies it: lazily, from the `<|tool_call>` token on. Sampling is
/// free before the trigger (so the random model writes noise), and every call after it parses
/// and fits its declaration. A random model over 262,144 tokens would almost never sample the
/// trigger, so a logit bias makes it about a 1-in-100 choice per token; seeds are tried until
/// enough generations sample it.
#[test]
fn the_lazy_grammar_constrains_calls_from_the_trigger_on() {
    let _lock = support::model_lock();
    let Some(model) = tiny() else { return };
    let mut config = config(&model);
    config.context = Some(1024);
    config.swa_full = true;
    let engine = LlamaEngine::load(&config).unwrap();
    let tools = agent_tools();
    let grammar = call_grammar(&tools, &GrammarOptions::bounded()).unwrap();
    // Exactly the agent's spec (src/agent/turn.rs `grammar`): a trigger token, no pattern.
    let spec = GrammarSpec {
        gbnf: grammar.gbnf.clone(),
        root: grammar.root.clone(),
        trigger_patterns: Vec::new(),
        trigger_tokens: grammar.trigger_tokens_text.clone(),
    };
    assert_eq!(spec.trigger_tokens, ["<|tool_call>"]);
    let prompt = render(&conversation("Read README.md."), &thinking());
    let trigger = engine.tokenize("<|tool_call>", false).unwrap();
    assert_eq!(trigger.len(), 1, "<|tool_call> is one token");
    let (mut triggered, mut free_text, mut text_first) = (0, 0, 0);
    for seed in 0..200u32 {
        if triggered >= LAZY_TRIGGERED {
            break;
        }
        let request = GenerateRequest {
            add_bos: false,
            sampling: Sampling {
                temperature: 1.5,
                top_k: 0,
                top_p: 1.0,
                seed,
                logit_bias: vec![(trigger[0], 12.0)],
            },
            grammar: Some(spec.clone()),
            ..GenerateRequest::new(prompt.clone(), 400)
        };
        let out = run(&engine, request);
        let Some(at) = out.text.find("<|tool_call>") else {
            free_text += 1;
            continue;
        };
        triggered += 1;
        text_first += usize::from(at > 0);
        let call = &out.text[at..];
        let events =
            StreamParser::parse_all(ParseOptions::for_prompt(&prompt, tools.clone()), call);
        let calls: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                ParseEvent::ToolCall(call) => Some(call),
                ParseEvent::MalformedCall { raw, error } => {
                    panic!("seed {seed}: malformed call {raw:?}: {error}\n{call:?}")
                }
                _ => None,
            })
            .collect();
        assert!(
            !calls.is_empty(),
            "seed {seed}: no call after the trigger: {call:?}"
        );
        for call in calls {
            if let Err(e) = fits_declaration(call, &tools) {
                panic!("seed {seed}: {e}: {:?}", out.text);
            }
        }
    }
    eprintln!(
        "lazy grammar: {triggered} triggered generations ({text_first} after free text), \
         {free_text} without a call"
    );
    assert!(
        triggered >= LAZY_TRIGGERED,
        "only {triggered} generations sampled the trigger"
    );
    assert!(
        free_text + text_first > 0,
        "before the trigger sampling is free: an eager grammar would start every output with a call"
    );
}

/// With the agent's bounded call grammar, every sampled output (temperature 1) is one or two
/// calls to declared tools that parse, fit their declarations and render back byte for byte.
///
/// The agent applies the grammar lazily, from the `<|tool_call>` token on, which a
/// random-weight model seldom samples; here it is applied from the first token (a
/// [`GrammarSpec`] without triggers), which is what the agent's grammar sees once triggered.
#[test]
fn sampled_calls_under_the_bounded_grammar_always_parse() {
    let _lock = support::model_lock();
    let Some(model) = tiny() else { return };
    let mut config = config(&model);
    config.context = Some(1024);
    // Every generation rolls back to the same prompt: keep the sliding-window cache whole.
    config.swa_full = true;
    let engine = LlamaEngine::load(&config).unwrap();
    let tools = agent_tools();
    assert_eq!(tools.len(), 8, "the built-in tools, todo_write among them");
    let grammar = call_grammar(&tools, &GrammarOptions::bounded()).unwrap();
    let spec = GrammarSpec {
        gbnf: grammar.gbnf.clone(),
        root: grammar.root.clone(),
        trigger_patterns: Vec::new(),
        trigger_tokens: Vec::new(),
    };
    let prompt = render(
        &conversation("Read README.md, then fix the failing test."),
        &thinking(),
    );

    let started = Instant::now();
    let (mut calls, mut prompt_reused) = (0, 0);
    let mut per_tool = std::collections::BTreeMap::<String, usize>::new();
    for seed in 0..GRAMMAR_GENERATIONS as u32 {
        let request = GenerateRequest {
            add_bos: false,
            sampling: Sampling {
                temperature: 1.0,
                seed,
                ..Sampling::default()
            },
            grammar: Some(spec.clone()),
            ..GenerateRequest::new(prompt.clone(), 600)
        };
        let out = run(&engine, request);
        if out.usage.reused_tokens + 1 >= out.usage.prompt_tokens {
            prompt_reused += 1;
        }
        assert!(
            matches!(out.stop, StopReason::EndOfGeneration(_)),
            "seed {seed}: {:?} after {:?}",
            out.stop,
            out.text
        );
        assert!(
            out.text.starts_with("<|tool_call>"),
            "seed {seed}: {:?}",
            out.text
        );
        // Stream it in small chunks, as the agent does.
        let mut parser = StreamParser::new(ParseOptions::for_prompt(&prompt, tools.clone()));
        let mut events = Vec::new();
        let chars: Vec<char> = out.text.chars().collect();
        for chunk in chars.chunks(3) {
            events.extend(parser.push(&chunk.iter().collect::<String>()));
        }
        events.extend(parser.finish());
        let mut n_calls = 0;
        for event in &events {
            match event {
                ParseEvent::ToolCall(call) => {
                    n_calls += 1;
                    if let Err(e) = fits_declaration(call, &tools) {
                        panic!("seed {seed}: {e}: {:?}", out.text);
                    }
                    *per_tool.entry(call.name.clone()).or_default() += 1;
                }
                ParseEvent::MalformedCall { raw, error } => {
                    panic!(
                        "seed {seed}: malformed call {raw:?}: {error}\n{:?}",
                        out.text
                    )
                }
                other => panic!("seed {seed}: {other:?} outside a call in {:?}", out.text),
            }
        }
        assert!(
            (1..=2).contains(&n_calls),
            "seed {seed}: {n_calls} calls in {:?}",
            out.text
        );
        // The calls come out canonical: rendered back they are the generated text, byte for
        // byte, so the next prompt extends this one (the KV cache is reused, not re-prefilled).
        assert_eq!(out.text, rendered_calls(&events), "seed {seed}");
        calls += n_calls;
    }
    eprintln!(
        "grammar: {GRAMMAR_GENERATIONS} generations, {calls} calls, 0 malformed; per tool \
         {per_tool:?}; prompt reused {prompt_reused}/{GRAMMAR_GENERATIONS}; {:?}",
        started.elapsed()
    );
    assert_eq!(
        per_tool.len(),
        tools.len(),
        "every tool gets called: {per_tool:?}"
    );
    assert!(
        prompt_reused + 1 >= GRAMMAR_GENERATIONS,
        "the prompt's KV state is reused"
    );
}

// ---------------------------------------------------------------------------------------------
// The binary end to end
// ---------------------------------------------------------------------------------------------

/// A temporary git project with gem's config, data and cache directories inside `.git/`.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Self {
        Self {
            dir: support::git_project(&[("lib.rs", support::BUGGY_ADD), ("README.md", "# demo\n")]),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `gem` in the project, isolated from the user's config, sessions and caches.
    fn gem(&self, model: &Path) -> Command {
        let private = self.root().join(".git");
        let mut cmd = Command::cargo_bin("gem").unwrap();
        cmd.current_dir(self.root())
            .env("GEM_DATA_DIR", private.join("gem-data"))
            .env("GEM_CACHE_DIR", private.join("gem-cache"))
            .env("XDG_CONFIG_HOME", private.join("gem-config"))
            .env_remove("GEM_MODEL")
            .timeout(Duration::from_secs(120))
            .arg("--model")
            .arg(model)
            .args(["--threads", "1"]);
        cmd
    }

    fn status(&self) -> String {
        let out = Std::new("git")
            .args(["status", "--porcelain"])
            .current_dir(self.root())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The process ended on its own with a documented exit code, without a panic.
fn assert_clean_exit(out: &Output, allowed: &[i32]) -> i32 {
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("killed: {}", stderr(out)));
    assert!(!stderr(out).contains("panicked"), "{}", stderr(out));
    assert!(allowed.contains(&code), "exit code {code}: {}", stderr(out));
    code
}

/// Flags that keep the random model's generations short and its calls bounded. The tiny
/// vocabulary spells English out in short pieces: gem's system prompt with the eight tool
/// declarations alone is over 7,900 tokens (~7,900 with seven), so the context goes past the
/// 8,192 trained tokens.
const SHORT_TASK: &[&str] = &[
    "--ctx",
    "16384",
    "--bounded-grammar",
    "--max-turns",
    "3",
    "--max-tokens",
    "64",
    "--seed",
    "0",
    "--no-repo",
];

#[test]
fn print_mode_streams_well_formed_events_and_exits_with_the_documented_code() {
    let _lock = support::model_lock();
    let Some(model) = tiny() else { return };
    let project = Project::new();
    let out = project
        .gem(&model)
        .args([
            "-p",
            "hello",
            "--output-format",
            "stream-json",
            "--mode",
            "auto-edit",
        ])
        .args(SHORT_TASK)
        .output()
        .unwrap();
    let code = assert_clean_exit(&out, &[0, 3]);

    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let events: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let kind = |e: &Value| e["type"].as_str().unwrap().to_string();
    assert!(events.iter().all(|e| e["type"].is_string()));
    assert_eq!(kind(&events[0]), "session_configured");
    assert_eq!(events[0]["mode"], "auto-edit");
    let last = events.last().unwrap();
    assert_eq!(kind(last), "turn_complete", "turn_complete comes last");
    let reason = last["reason"].as_str().unwrap();
    let expected = match reason {
        "completed" => 0,
        "max_turns" => 3,
        other => panic!("the turn ended with {other}: {}", stderr(&out)),
    };
    assert_eq!(code, expected, "exit code for {reason}");

    // Every call that begins ends, in order, before the next one begins.
    let mut open: Option<String> = None;
    let mut calls = 0;
    for event in &events {
        match kind(event).as_str() {
            "tool_call_begin" => {
                assert!(open.is_none(), "a call began before {open:?} ended");
                open = Some(event["call_id"].as_str().unwrap().to_string());
                calls += 1;
            }
            "tool_call_end" => {
                let id = event["call_id"].as_str().unwrap();
                assert_eq!(
                    open.take().as_deref(),
                    Some(id),
                    "tool_call_end without its begin"
                );
            }
            _ => {}
        }
    }
    assert!(open.is_none(), "a call never ended");
    let steps = events.iter().filter(|e| kind(e) == "token_usage").count();
    assert!(
        (1..=3).contains(&steps),
        "{steps} model steps with --max-turns 3"
    );
    if reason == "max_turns" {
        assert_eq!(steps, 3);
    }
    eprintln!("print mode: exit {code} ({reason}), {steps} model steps, {calls} tool calls");
}

#[test]
fn patch_mode_finishes_with_a_documented_code_and_leaves_the_project_alone() {
    let _lock = support::model_lock();
    let Some(model) = tiny() else { return };
    let project = Project::new();
    let out = project
        .gem(&model)
        .args(["-p", "fix add", "--patch", "--mode", "auto-edit"])
        .args(SHORT_TASK)
        .output()
        .unwrap();
    // Noise from a random model may end the task any of these ways; each code must come with
    // what it documents. An engine error (exit 1) is a failure.
    let code = assert_clean_exit(&out, &[0, 3, 4, 5]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let err = stderr(&out);
    match code {
        0 => assert!(stdout.contains("+++ "), "a patch: {stdout}"),
        3 => assert!(err.contains("model steps (--max-turns)"), "{err}"),
        4 => assert!(err.contains("without changing any file"), "{err}"),
        _ => assert!(
            err.contains("stopped: the model"),
            "a loop was named: {err}"
        ),
    }
    if code != 0 {
        assert!(
            stdout.is_empty(),
            "no patch on stdout with exit {code}: {stdout}"
        );
    }
    assert_eq!(project.status(), "", "patch mode works in a scratch copy");
    eprintln!("patch mode: exit {code}");
}

#[test]
fn review_finishes_with_a_documented_code() {
    let _lock = support::model_lock();
    let Some(model) = tiny() else { return };
    let project = Project::new();
    let diff = "diff --git a/lib.rs b/lib.rs\n--- a/lib.rs\n+++ b/lib.rs\n@@ -1,3 +1,3 @@\n \
                fn add(a: i32, b: i32) -> i32 {\n-    a + b\n+    a - b\n }\n";
    let out = project
        .gem(&model)
        .args(SHORT_TASK)
        .arg("review")
        .write_stdin(diff)
        .output()
        .unwrap();
    let code = assert_clean_exit(&out, &[0, 1, 3, 4, 5, 10]);
    let err = stderr(&out);
    assert!(err.contains("reviewing 1 file (+"), "{err}");
    if code == 1 {
        // Noise is not a review; anything else (an engine error) would be a failure.
        assert!(
            err.contains("the model's review could not be read"),
            "{err}"
        );
    }
    assert_eq!(project.status(), "", "review runs read-only");
    eprintln!("review: exit {code}");
}

#[test]
fn an_embedded_template_is_checked_against_the_renderer() {
    let _lock = support::model_lock();
    let Some(good) = support::cached_file(
        "GEM_TINY_GEMMA4_WITH_TEMPLATE",
        "tiny-gemma4-with-template.gguf",
    ) else {
        return;
    };
    let Some(bad) = support::cached_file(
        "GEM_TINY_GEMMA4_BAD_TEMPLATE",
        "tiny-gemma4-bad-template.gguf",
    ) else {
        return;
    };
    // The files carry Google's E2B template and a copy with one separator changed.
    let template = |model: &Path| {
        let engine = LlamaEngine::load(&config(model)).unwrap();
        engine
            .info()
            .chat_template
            .clone()
            .expect("an embedded chat template")
    };
    let variant = gem::gemma::Variant::E2b;
    assert_eq!(gem::gemma::probe(&template(&good), variant).unwrap(), None);
    assert!(
        gem::gemma::probe(&template(&bad), variant)
            .unwrap()
            .is_some()
    );

    let project = Project::new();
    let out = project
        .gem(&good)
        .args(["debug", "model-info"])
        .output()
        .unwrap();
    assert_clean_exit(&out, &[0]);
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["architecture"], "gemma4");
    assert!(
        !stderr(&out).contains("renders differently"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));

    let out = project
        .gem(&bad)
        .args(["debug", "model-info"])
        .output()
        .unwrap();
    assert_clean_exit(&out, &[0]);
    let err = stderr(&out);
    assert!(err.contains("renders differently"), "{err}");
    assert!(err.contains("using the embedded template"), "{err}");
}

#[test]
fn bench_reports_every_figure() {
    let _lock = support::model_lock();
    let Some(model) = tiny() else { return };
    let project = Project::new();
    let out = project
        .gem(&model)
        .args([
            "bench",
            "--json",
            "--prompt",
            "256",
            "--gen",
            "32",
            "--followup",
            "32",
        ])
        .output()
        .unwrap();
    assert_clean_exit(&out, &[0]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    for field in [
        "pp_tok_s",
        "tg_tok_s",
        "followup_speedup",
        "warm_start_speedup",
    ] {
        let value = report[field]
            .as_f64()
            .unwrap_or_else(|| panic!("{field}: {report}"));
        assert!(value.is_finite() && value > 0.0, "{field} = {value}");
    }
    // The state write is measured apart from the cold prefill, and the output says where the
    // warm start read the state from.
    assert!(
        report["state_write_ms"].as_f64().unwrap() >= 0.0,
        "{report}"
    );
    assert!(
        report["cold_prefill_ms"].as_f64().unwrap() > 0.0,
        "{report}"
    );
    assert_eq!(
        report["warm_start_read"], "disk",
        "Linux drops the pages: {report}"
    );
    let prefilled = report["followup_prefilled_tokens"].as_u64().unwrap();
    let reused = report["followup_reused_tokens"].as_u64().unwrap();
    assert!(
        prefilled >= 32,
        "the follow-up message is prefilled: {report}"
    );
    assert_eq!(
        reused,
        report["conversation_tokens"].as_u64().unwrap(),
        "{report}"
    );
    assert!(report["state_file_bytes"].as_u64().unwrap() > 0);
}
