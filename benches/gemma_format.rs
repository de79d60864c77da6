//! Benchmarks of the Gemma 4 format: stream parser throughput and rendering
//! of a long conversation.
//!
//! `cargo bench --bench gemma_format`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly on bad fixtures"
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;

use gem::gemma::{
    Conversation, ModelPart, ParseOptions, RenderOptions, StreamParser, ToolCall, ToolDeclaration,
    ToolResponse, Variant, render,
};

/// A realistic generation: thoughts, text and calls, ~100 KB.
fn sample_output() -> String {
    let mut out = String::new();
    for i in 0..200 {
        out.push_str(
            "<|channel>thought\nThe build fails in src/lib.rs; I should read the file and \
                      look at the function `parse` around line 120 before editing it.\n<channel|>",
        );
        out.push_str("Let me look at the code first, then fix the off-by-one error. ");
        out.push_str(&format!(
            "<|tool_call>call:edit_file{{edits:[{{new:<|\"|>fn parse(input: &str) -> Result<Ast, Error> {{\n    let n = input.len() - 1;\n}}<|\"|>,\
             old:<|\"|>fn parse(input: &str) -> Result<Ast, Error> {{\n    let n = input.len();\n}}<|\"|>}}],path:<|\"|>src/lib{i}.rs<|\"|>}}<tool_call|>"
        ));
    }
    out
}

fn bench_parser(c: &mut Criterion) {
    let output = sample_output();
    // Chunks of about one token (4 bytes), as the engine streams them.
    let mut chunks = Vec::new();
    let mut rest = output.as_str();
    while !rest.is_empty() {
        let mut cut = rest.len().min(4);
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        chunks.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(output.len() as u64));
    group.bench_function("stream_4_byte_chunks", |b| {
        b.iter(|| {
            let mut parser = StreamParser::new(ParseOptions::default());
            let mut events = 0;
            for chunk in &chunks {
                events += parser.push(black_box(chunk)).len();
            }
            events + parser.finish().len()
        })
    });
    group.bench_function("whole", |b| {
        b.iter(|| StreamParser::parse_all(ParseOptions::default(), black_box(&output)).len())
    });
    group.finish();
}

/// 200 turns: 100 user messages and 100 model turns with a tool round trip.
fn long_conversation() -> (Conversation, RenderOptions) {
    let mut conv = Conversation::new(Some("You are gem, a coding agent. Be precise.".into()));
    for i in 0..100 {
        conv.push_user(format!(
            "Step {i}: please fix the failing test in module {i}."
        ));
        conv.extend_model([
            ModelPart::Thinking(format!("I need to read module {i} first.")),
            ModelPart::ToolCall(ToolCall {
                name: "read_file".into(),
                arguments: json!({"path": format!("src/m{i}.rs"), "start_line": 1, "end_line": 200}),
            }),
            ModelPart::ToolResponse(ToolResponse {
                name: "read_file".into(),
                response: json!("fn f() -> u32 {\n    41\n}\n".repeat(20)),
            }),
            ModelPart::Thinking("Off by one.".into()),
            ModelPart::Text(format!("Fixed module {i}: `f` now returns 42.")),
        ]);
    }
    let opts = RenderOptions {
        variant: Variant::E2b,
        thinking: true,
        tools: vec![ToolDeclaration {
            name: "read_file".into(),
            description: "Read a file.".into(),
            parameters: json!({"type": "object", "properties": {
                "path": {"type": "string"}, "start_line": {"type": "integer"}, "end_line": {"type": "integer"}},
                "required": ["path"]}),
        }],
        add_generation_prompt: true,
        preserve_thinking: true,
    };
    (conv, opts)
}

fn bench_render(c: &mut Criterion) {
    let (conv, opts) = long_conversation();
    let bytes = render(&conv, &opts).expect("renders").len();
    let mut group = c.benchmark_group("render");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("200_turns", |b| {
        b.iter(|| render(black_box(&conv), &opts).map(|s| s.len()))
    });
    group.finish();
}

criterion_group!(benches, bench_parser, bench_render);
criterion_main!(benches);
