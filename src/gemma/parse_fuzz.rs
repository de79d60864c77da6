//! Fuzz-style property tests of the stream parser over random chunk splits of
//! well-formed outputs and of garbage built from tags, tag fragments and text.
//!
//! Case count: `GEM_FUZZ_CASES` (default 2000 per property). Each case parses
//! its input whole and in random chunks; 1,000,000 cases per property take
//! about 2–3 minutes of one core in a release-optimised test build (the
//! debug profile is several times slower).

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::gemma::conversation::ToolCall;
use crate::gemma::parse::{ParseEvent, ParseOptions, StreamParser, coalesce};
use crate::gemma::tags::{CONTROL_TAGS, contains_tag};
use crate::gemma::value::to_notation;

fn cases() -> u32 {
    std::env::var("GEM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

/// Parses `input` split at the given character positions.
fn parse_chunked(opts: &ParseOptions, input: &str, cuts: &[usize]) -> Vec<ParseEvent> {
    let chars: Vec<char> = input.chars().collect();
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (chars.len() + 1)).collect();
    cuts.sort_unstable();
    let mut parser = StreamParser::new(opts.clone());
    let mut events = Vec::new();
    let mut start = 0;
    for cut in cuts.into_iter().chain([chars.len()]) {
        let chunk: String = chars[start..cut.max(start)].iter().collect();
        events.extend(parser.push(&chunk));
        start = cut.max(start);
    }
    events.extend(parser.finish());
    coalesce(events)
}

/// Visible text and thoughts, each concatenated.
fn visible(events: &[ParseEvent]) -> (String, String) {
    let mut text = String::new();
    let mut thinking = String::new();
    for event in events {
        match event {
            ParseEvent::Text(t) => text.push_str(t),
            ParseEvent::Thinking(t) => thinking.push_str(t),
            _ => {}
        }
    }
    (text, thinking)
}

fn check_invariants(
    opts: &ParseOptions,
    input: &str,
    cuts: &[usize],
) -> Result<Vec<ParseEvent>, TestCaseError> {
    let whole = StreamParser::parse_all(opts.clone(), input);
    let chunked = parse_chunked(opts, input, cuts);
    prop_assert_eq!(
        &chunked,
        &whole,
        "chunking changed the events of {:?}",
        input
    );
    let (text, thinking) = visible(&whole);
    prop_assert!(
        !contains_tag(&text),
        "tag in text {:?} from {:?}",
        text,
        input
    );
    prop_assert!(
        !contains_tag(&thinking),
        "tag in thinking {:?} from {:?}",
        thinking,
        input
    );
    for event in &whole {
        if let ParseEvent::Text(t) | ParseEvent::Thinking(t) = event {
            prop_assert!(!t.is_empty(), "empty event");
        }
    }
    Ok(whole)
}

/// Plain text that cannot form a tag (no `<`) and does not end a thought
/// with a newline.
fn arb_plain() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .,:;!?{}\\[\\]\"'|>\\-_/é日🚀\\n]{1,20}"
        .prop_map(|s| s.trim_end_matches('\n').to_string())
        .prop_filter("non-empty", |s| !s.is_empty())
}

fn arb_args() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        (-1e3f64..1e3).prop_map(|f| json!(f)),
        "(?s)[a-z <>|{}:,'\"\\n]{0,12}"
            .prop_filter("no delimiter", |s| !s.contains("<|\"|>"))
            .prop_map(Value::String),
    ];
    let value = leaf.prop_recursive(2, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop::collection::btree_map("[a-z_]{1,6}", value, 0..4)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

#[derive(Debug, Clone)]
enum Segment {
    Thought(String),
    Text(String),
    Call(String, Value),
}

fn arb_segments() -> impl Strategy<Value = Vec<Segment>> {
    prop::collection::vec(
        prop_oneof![
            arb_plain().prop_map(Segment::Thought),
            arb_plain().prop_map(Segment::Text),
            ("[a-z_]{1,8}", arb_args()).prop_map(|(n, a)| Segment::Call(n, a)),
        ],
        0..6,
    )
}

/// The output text a model would write for these segments, and the events
/// the parser must produce.
fn render_segments(segments: &[Segment], end: &str) -> (String, Vec<ParseEvent>) {
    let mut out = String::new();
    let mut expected = Vec::new();
    for segment in segments {
        match segment {
            Segment::Thought(t) => {
                out.push_str(&format!("<|channel>thought\n{t}\n<channel|>"));
                expected.push(ParseEvent::Thinking(t.clone()));
            }
            Segment::Text(t) => {
                out.push_str(t);
                expected.push(ParseEvent::Text(t.clone()));
            }
            Segment::Call(name, args) => {
                let notation = to_notation(args).expect("generated args are representable");
                out.push_str(&format!("<|tool_call>call:{name}{notation}<tool_call|>"));
                expected.push(ParseEvent::ToolCall(ToolCall {
                    name: name.clone(),
                    arguments: args.clone(),
                }));
            }
        }
    }
    out.push_str(end);
    (out, coalesce(expected))
}

/// Pieces garbage is made of.
fn arb_piece() -> impl Strategy<Value = String> {
    let tags: Vec<String> = CONTROL_TAGS.iter().map(|t| t.to_string()).collect();
    let fragments: Vec<String> = CONTROL_TAGS
        .iter()
        .flat_map(|t| {
            let chars: Vec<char> = t.chars().collect();
            (1..chars.len()).flat_map(move |i| {
                [
                    chars[..i].iter().collect::<String>(),
                    chars[i..].iter().collect::<String>(),
                ]
            })
        })
        .collect();
    prop_oneof![
        3 => prop::sample::select(tags),
        3 => prop::sample::select(fragments),
        2 => "[a-z <>|{}:,\"'\\n]{1,6}",
        1 => prop::sample::select(vec![
            "call:".to_string(), "thought\n".to_string(), "thought".to_string(), "model\n".to_string(),
            "{".to_string(), "}".to_string(), "f{a:".to_string(), "<unused7>".to_string(), "<unused".to_string(),
        ]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// Well-formed output: exactly the expected events, however it is split.
    #[test]
    fn well_formed_output_parses_exactly(
        segments in arb_segments(),
        end in prop::sample::select(vec!["", "<turn|>", "<eos>", "<|tool_response>"]),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let (input, expected) = render_segments(&segments, end);
        let events = check_invariants(&ParseOptions::default(), &input, &cuts)?;
        prop_assert_eq!(events, expected, "input {:?}", input);
    }

    /// Garbage: no panic, no tags in visible text, chunking does not matter.
    #[test]
    fn garbage_never_breaks_the_invariants(
        pieces in prop::collection::vec(arb_piece(), 0..24),
        start_in_thinking in any::<bool>(),
        cuts in prop::collection::vec(any::<usize>(), 0..16),
    ) {
        let input: String = pieces.concat();
        let opts = ParseOptions { start_in_thinking, tools: Vec::new() };
        check_invariants(&opts, &input, &cuts)?;
    }

    /// Any text at all: no panic and the invariants hold.
    #[test]
    fn arbitrary_text_never_breaks_the_invariants(
        input in "(?s).{0,80}",
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        check_invariants(&ParseOptions::default(), &input, &cuts)?;
    }
}
