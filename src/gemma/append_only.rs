//! Checks of the append-only behaviour documented in [`crate::gemma::render`](mod@crate::gemma::render):
//! render, let a scripted model generate, parse, append, render again, and
//! compare prefixes.

use serde_json::json;

use crate::gemma::conversation::{Conversation, ModelPart, ToolResponse};
use crate::gemma::declaration::ToolDeclaration;
use crate::gemma::parse::{ParseOptions, StreamParser};
use crate::gemma::render::{RenderOptions, Variant, render};

fn tools() -> Vec<ToolDeclaration> {
    vec![ToolDeclaration {
        name: "read_file".into(),
        description: "Read a file.".into(),
        parameters: json!({"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}),
    }]
}

/// Parses `generated` as the continuation of `prompt` and appends it.
fn append_generation(conv: &mut Conversation, prompt: &str, generated: &str) {
    let opts = ParseOptions::for_prompt(prompt, tools());
    let parts: Vec<ModelPart> = StreamParser::parse_all(opts, generated)
        .into_iter()
        .filter_map(|e| e.into_model_part())
        .collect();
    conv.extend_model(parts);
}

fn append_result(conv: &mut Conversation, result: &str) {
    conv.extend_model([ModelPart::ToolResponse(ToolResponse {
        name: "read_file".into(),
        response: json!(result),
    })]);
}

/// Length of the common prefix, backed up to the start of a tag it would
/// cut (a tag is one token: the prompts share no part of it).
fn common_prefix(a: &str, b: &str) -> usize {
    let bytes = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let shared = &a[..bytes];
    match shared.rfind('<') {
        Some(lt) if !shared[lt..].contains('>') => lt,
        _ => bytes,
    }
}

const CALL: &str =
    "<|tool_call>call:read_file{path:<|\"|>src/main.rs<|\"|>}<tool_call|><|tool_response>";

fn options(variant: Variant, thinking: bool, preserve_thinking: bool) -> RenderOptions {
    RenderOptions {
        variant,
        thinking,
        tools: tools(),
        add_generation_prompt: true,
        preserve_thinking,
    }
}

/// Thinking on: append-only within the turn; a new user message drops the
/// final answer's thought (preserve_thinking) or all thoughts of the turn.
#[test]
fn thinking_turn_is_append_only_until_the_next_user_message() {
    for variant in [Variant::E2b, Variant::Large] {
        for preserve in [true, false] {
            let opts = options(variant, true, preserve);
            let mut conv = Conversation::new(Some("You are gem.".into()));
            conv.push_user("What is in main.rs?");
            let p0 = render(&conv, &opts).unwrap();
            let g1 = format!("<|channel>thought\nI should read it.\n<channel|>{CALL}");
            append_generation(&mut conv, &p0, &g1);
            append_result(&mut conv, "fn main() {}");
            let p1 = render(&conv, &opts).unwrap();
            assert!(
                p1.starts_with(&format!("{p0}{g1}")),
                "step 1 is append-only"
            );
            assert!(p1.ends_with("<tool_response|><|channel>thought\n"));

            let g2 = "An empty main.\n<channel|>It only has an empty `main`.<turn|>";
            append_generation(&mut conv, &p1, g2);
            conv.push_user("Thanks");
            let p2 = render(&conv, &opts).unwrap();
            let kept = common_prefix(&format!("{p1}{g2}"), &p2);
            if preserve {
                // Diverges where the final answer's thought was.
                assert_eq!(kept, p1.len() - "<|channel>thought\n".len());
            } else {
                // Diverges at the first thought of the turn.
                assert_eq!(kept, p0.len());
            }
            assert!(p2.ends_with(
                "It only has an empty `main`.<turn|>\n<|turn>user\nThanks<turn|>\n<|turn>model\n"
            ));
        }
    }
}

/// E2B with thinking off: fully append-only across turns.
#[test]
fn small_model_without_thinking_is_append_only() {
    let opts = options(Variant::E2b, false, true);
    let mut conv = Conversation::default();
    conv.push_user("Read main.rs");
    let p0 = render(&conv, &opts).unwrap();
    append_generation(&mut conv, &p0, CALL);
    append_result(&mut conv, "fn main() {}");
    let p1 = render(&conv, &opts).unwrap();
    assert!(p1.starts_with(&format!("{p0}{CALL}")));
    let g2 = "It is empty.<turn|>";
    append_generation(&mut conv, &p1, g2);
    conv.push_user("ok");
    let p2 = render(&conv, &opts).unwrap();
    assert!(p2.starts_with(&format!("{p1}{g2}\n<|turn>user\nok")));
}

/// 26B/31B with thinking off: the empty thought of the generation prompt is
/// not kept, so the first generation of a turn is re-prefilled once.
#[test]
fn large_model_without_thinking_loses_the_empty_thought_once_per_turn() {
    let opts = options(Variant::Large, false, true);
    let mut conv = Conversation::default();
    conv.push_user("Read main.rs");
    let p0 = render(&conv, &opts).unwrap();
    let empty_thought = "<|channel>thought\n<channel|>";
    assert!(p0.ends_with(empty_thought));
    append_generation(&mut conv, &p0, CALL);
    append_result(&mut conv, "fn main() {}");
    let p1 = render(&conv, &opts).unwrap();
    assert_eq!(
        common_prefix(&format!("{p0}{CALL}"), &p1),
        p0.len() - empty_thought.len()
    );
    let g2 = "It is empty.<turn|>";
    append_generation(&mut conv, &p1, g2);
    conv.push_user("ok");
    let p2 = render(&conv, &opts).unwrap();
    assert!(
        p2.starts_with(&format!("{p1}{g2}")),
        "later steps are append-only"
    );
}

/// A thought written without the final newline costs the tail after it.
#[test]
fn thought_without_final_newline_diverges_at_its_end() {
    let opts = options(Variant::E2b, true, true);
    let mut conv = Conversation::default();
    conv.push_user("Read main.rs");
    let p0 = render(&conv, &opts).unwrap();
    let g1 = format!("<|channel>thought\nno newline<channel|>{CALL}");
    append_generation(&mut conv, &p0, &g1);
    append_result(&mut conv, "x");
    let p1 = render(&conv, &opts).unwrap();
    let at = common_prefix(&format!("{p0}{g1}"), &p1);
    assert_eq!(&p1[at..at + 1], "\n");
    assert_eq!(at, p0.len() + "<|channel>thought\nno newline".len());
}
