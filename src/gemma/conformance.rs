//! Conformance: gem's renderer against Google's reference templates run by
//! minijinja, byte for byte.
//!
//! * Corpus: every `*.json` chat (OpenAI shape, see [`crate::gemma::openai`])
//!   in `GEM_GEMMA4_CORPUS` (default `<crate>/tests/fixtures/gemma4-corpus`),
//!   rendered with both templates and with the generation prompt on and off.
//!   A file with `"gem_expect": "unsupported"` documents input gem refuses.
//! * Random conversations (proptest), rendered directly and through the
//!   template via [`OpenAiChat::from_conversation`].
//!
//! Templates come from `GEM_GEMMA4_TEMPLATES` (default
//! `<crate>/../shared/fixtures/gemma4`); llama.cpp's copy of the 31B template also from the
//! test cache (`scripts/fetch-gemma4-vocab`). Missing templates skip with a notice, and fail
//! under `CI=true`.

use std::path::PathBuf;

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::gemma::conversation::{
    Conversation, ModelPart, ModelTurn, ToolCall, ToolResponse, Turn, UserTurn,
};
use crate::gemma::declaration::ToolDeclaration;
use crate::gemma::openai::OpenAiChat;
use crate::gemma::render::{RenderOptions, Variant, render};
use crate::gemma::template::{ChatTemplate, detect_variant, probe};

fn dir_from_env(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(default))
}

fn templates_dir() -> PathBuf {
    dir_from_env("GEM_GEMMA4_TEMPLATES", "../shared/fixtures/gemma4")
}

/// Where `scripts/fetch-gemma4-vocab` puts llama.cpp's copy of the 31B template.
fn test_cache() -> PathBuf {
    std::env::var_os("GEM_TEST_CACHE")
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("gem").join("test-models")))
        .unwrap_or_default()
}

fn corpus_dir() -> PathBuf {
    dir_from_env("GEM_GEMMA4_CORPUS", "tests/fixtures/gemma4-corpus")
}

/// A reference template by file name, from the templates folder or the test cache. Google's
/// templates ship in no package: where they are absent (a clone without `../shared`) the test
/// is skipped with a notice, and under `CI=true` it fails.
fn reference_file(name: &str) -> Option<String> {
    let dirs = [templates_dir(), test_cache()];
    if let Some(text) = dirs
        .iter()
        .find_map(|dir| std::fs::read_to_string(dir.join(name)).ok())
    {
        return Some(text);
    }
    let tried = dirs
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(" or ");
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{name} is in neither {tried} (set GEM_GEMMA4_TEMPLATES)");
    }
    eprintln!(
        "NOTICE: conformance test skipped: {name} is in neither {tried} \
         (set GEM_GEMMA4_TEMPLATES to the folder of Google's Gemma 4 templates)"
    );
    None
}

fn template_source(variant: Variant) -> Option<String> {
    reference_file(match variant {
        Variant::E2b => "e2b_chat_template.jinja",
        Variant::Large => "31b_chat_template.jinja",
    })
}

fn template(variant: Variant) -> Option<ChatTemplate> {
    template_source(variant)
        .map(|source| ChatTemplate::new(&source).expect("reference template compiles"))
}

/// Renders `chat` both ways and compares.
fn check_chat(name: &str, template: &ChatTemplate, chat: &Value) -> Result<(), String> {
    let expect_unsupported = chat.get("gem_expect").and_then(Value::as_str) == Some("unsupported");
    let theirs = template.render(chat);
    let ours = OpenAiChat::from_json(chat)
        .map_err(|e| e.to_string())
        .and_then(|c| c.to_conversation().map_err(|e| e.to_string()))
        .and_then(|(conv, opts)| render(&conv, &opts).map_err(|e| e.to_string()));
    match (theirs, ours) {
        (Ok(_), Err(_)) if expect_unsupported => Ok(()),
        (_, Ok(_)) if expect_unsupported => Err(format!("{name}: expected gem to refuse it")),
        (Ok(theirs), Ok(ours)) if theirs == ours => Ok(()),
        (Ok(theirs), Ok(ours)) => Err(format!(
            "{name}: renderings differ\n--- template\n{theirs:?}\n--- gem\n{ours:?}"
        )),
        (Ok(_), Err(e)) => Err(format!("{name}: template renders, gem fails: {e}")),
        (Err(e), _) => Err(format!("{name}: the reference template fails: {e}")),
    }
}

#[test]
fn corpus_renders_like_the_reference_templates() {
    let dir = corpus_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "cannot read corpus {} (set GEM_GEMMA4_CORPUS): {e}",
                dir.display()
            )
        })
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 30,
        "only {} corpus files in {}",
        files.len(),
        dir.display()
    );
    let (Some(e2b), Some(large)) = (template(Variant::E2b), template(Variant::Large)) else {
        return;
    };
    let templates = [(Variant::E2b, e2b), (Variant::Large, large)];
    let mut failures = Vec::new();
    let mut checked = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).expect("corpus file is readable");
        let chat: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        let prompt = chat
            .get("add_generation_prompt")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        for (variant, template) in &templates {
            for add_prompt in [prompt, !prompt] {
                let mut chat = chat.clone();
                chat["variant"] = serde_json::to_value(variant).expect("variant serialises");
                chat["add_generation_prompt"] = json!(add_prompt);
                let name = format!("{} [{variant:?}, prompt={add_prompt}]", path.display());
                if let Err(failure) = check_chat(&name, template, &chat) {
                    failures.push(failure);
                }
                checked += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} renderings fail:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn whitespace_settings_do_not_matter_for_these_templates() {
    // HF and llama.cpp render with trim_blocks/lstrip_blocks; plain Jinja
    // does not. The reference templates give the same bytes either way.
    for variant in [Variant::E2b, Variant::Large] {
        let Some(source) = template_source(variant) else {
            return;
        };
        let plain = minijinja_plain(&source);
        let chat = json!({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
                          "tools": [{"type": "function", "function": {"name": "f", "description": "d",
                                     "parameters": {"type": "object", "properties": {"a": {"type": "string"}}}}}],
                          "enable_thinking": true, "add_generation_prompt": true, "bos_token": "<bos>"});
        let template = ChatTemplate::new(&source).expect("reference template compiles");
        assert_eq!(plain(&chat), template.render(&chat).unwrap());
    }
}

fn minijinja_plain(source: &str) -> impl Fn(&Value) -> String {
    let mut env = minijinja::Environment::new();
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_template_owned("t", source.to_string()).unwrap();
    move |ctx| {
        env.get_template("t")
            .unwrap()
            .render(minijinja::value::Serde(ctx))
            .unwrap()
    }
}

#[test]
fn probes_agree_with_the_reference_templates() {
    for variant in [Variant::E2b, Variant::Large] {
        let Some(source) = template_source(variant) else {
            return;
        };
        assert_eq!(probe(&source, variant).unwrap(), None);
        assert_eq!(detect_variant(&source).unwrap(), variant);
    }
}

#[test]
fn probe_reports_the_older_llamacpp_template_as_different() {
    // llama.cpp's copy, from the llama-cpp-python sdist (`scripts/fetch-gemma4-vocab`).
    let Some(source) = reference_file("llamacpp-google-gemma-4-31B-it.jinja") else {
        return;
    };
    let mismatch = probe(&source, Variant::Large).unwrap();
    assert!(
        mismatch.is_some(),
        "the older template drops earlier thoughts differently"
    );
}

#[test]
fn wrong_variant_is_detected_by_the_probe() {
    let Some(source) = template_source(Variant::Large) else {
        return;
    };
    let mismatch = probe(&source, Variant::E2b).unwrap();
    let mismatch = mismatch.expect("variants differ");
    assert!(mismatch.theirs.contains("<|channel>thought\n<channel|>"));
}

// ---- random conversations -------------------------------------------------

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9 .,!?]{0,24}",
        2 => "(?s)[ \\t\\n\\r a-zé日🚀{}:\\[\\],\"'<>|\\\\]{0,24}",
        1 => Just(String::new()),
        1 => Just("  padded \n".to_string()),
        1 => Just("a<|channel>hidden<channel|>b".to_string()),
        1 => Just("line\n\nnext\n".to_string()),
    ]
}

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof!["[a-c]", "[A-C]", "[a-zA-Z_][a-zA-Z0-9_]{0,8}",]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1000i64..1000).prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
        Just(json!(1e21)),
        arb_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(arb_key(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arb_object() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(arb_key(), arb_json(), 0..4)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

fn arb_schema() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        Just(json!({"type": "string"})),
        Just(json!({"type": "integer", "description": "count"})),
        Just(json!({"type": "number", "format": "double"})),
        Just(json!({"type": "boolean", "nullable": true})),
        Just(json!({"type": "string", "enum": ["a", "B", "c d"], "description": "pick"})),
        Just(json!({"type": "string", "nullable": true, "default": "x"})),
        Just(json!({"description": "no type"})),
    ];
    scalar.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|items| json!({"type": "array", "items": items})),
            (prop::collection::btree_map(arb_key(), inner, 0..3), any::<bool>()).prop_map(
                |(props, nullable)| {
                    let required: Vec<&String> = props.keys().take(1).collect();
                    json!({"type": "object", "properties": props, "required": required, "nullable": nullable})
                }
            ),
        ]
    })
}

fn arb_tool() -> impl Strategy<Value = ToolDeclaration> {
    (
        "[a-z_]{1,10}",
        arb_text(),
        prop::option::of(prop::collection::btree_map(arb_key(), arb_schema(), 0..4)),
    )
        .prop_map(|(name, description, props)| ToolDeclaration {
            name,
            description,
            parameters: match props {
                None => Value::Null,
                Some(props) => {
                    let required: Vec<&String> = props.keys().take(2).collect();
                    json!({"type": "object", "properties": props, "required": required})
                }
            },
        })
}

fn arb_part() -> impl Strategy<Value = ModelPart> {
    prop_oneof![
        arb_text().prop_map(ModelPart::Thinking),
        arb_text().prop_map(ModelPart::Text),
        (
            "[a-z_]{1,8}",
            prop_oneof![4 => arb_object(), 1 => Just(Value::Null)]
        )
            .prop_map(|(name, arguments)| ModelPart::ToolCall(ToolCall { name, arguments })),
        ("[a-z_]{0,8}", arb_json())
            .prop_map(|(name, response)| ModelPart::ToolResponse(ToolResponse { name, response })),
    ]
}

fn arb_turn() -> impl Strategy<Value = Turn> {
    prop_oneof![
        arb_text().prop_map(|content| Turn::User(UserTurn { content })),
        prop::collection::vec(arb_part(), 0..6).prop_map(|parts| Turn::Model(ModelTurn { parts })),
    ]
}

fn arb_case() -> impl Strategy<Value = (Conversation, RenderOptions)> {
    (
        prop::option::of(arb_text()),
        prop::collection::vec(arb_turn(), 0..6),
        prop::collection::vec(arb_tool(), 0..3),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(system, turns, tools, large, thinking, add_generation_prompt, preserve_thinking)| {
                (
                    Conversation { system, turns },
                    RenderOptions {
                        variant: if large { Variant::Large } else { Variant::E2b },
                        thinking,
                        tools,
                        add_generation_prompt,
                        preserve_thinking,
                    },
                )
            },
        )
}

fn cases() -> u32 {
    std::env::var("GEM_CONFORMANCE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_conversations_render_like_the_templates((conv, opts) in arb_case()) {
        thread_local! {
            static TEMPLATES: Option<(ChatTemplate, ChatTemplate)> =
                template(Variant::E2b).zip(template(Variant::Large));
        }
        let Some(theirs) = TEMPLATES.with(|templates| {
            templates.as_ref().map(|(e2b, large)| {
                let t = if opts.variant == Variant::Large { large } else { e2b };
                t.render_conversation(&conv, &opts).expect("the template renders what gem renders")
            })
        }) else {
            return Ok(());
        };
        let ours = render(&conv, &opts).expect("gem renders random conversations");
        prop_assert_eq!(&ours, &theirs);
        // And the OpenAI shape reads back to a conversation rendering the same.
        let chat = OpenAiChat::from_conversation(&conv, &opts);
        // (Refused when merging assistant messages would change the output.)
        if let Ok((back, back_opts)) = chat.to_conversation() {
            prop_assert_eq!(render(&back, &back_opts).unwrap(), ours);
        }
    }
}
