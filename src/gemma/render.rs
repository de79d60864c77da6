//! Renders a [`Conversation`] into a Gemma 4 prompt, byte-identical to
//! Google's chat templates (`e2b_chat_template.jinja` for E2B/E4B,
//! `31b_chat_template.jinja` for 26B/31B, the canonical templates of
//! 2026-07-09) for every conversation the model can express. The conformance
//! tests render a corpus and random conversations both ways.
//!
//! # How a conversation maps onto the template's messages
//! A user turn is a `user` message. A model turn is split, in order, into
//! `assistant` messages of the shape the template renders in this order:
//! `[thought] [calls…] [results…]` or `[thought] [calls…] [text]`; a part that
//! cannot follow the previous ones that way starts the next message (so text
//! after results is a message of its own, as in OpenAI's shape). Consecutive assistant
//! messages form one model turn in the template, so the rendering follows the
//! parts' order exactly. Results are rendered like the template renders a
//! `tool` message answering a call (a JSON array result like the legacy
//! `tool_responses` field, i.e. `response:NAME{value:[…]}`).
//!
//! # Append-only: what holds and what cannot
//! The agent renders `P₀ = render(conv, generation prompt)`, the model
//! generates `G`, the agent appends the parsed parts (and tool results) and
//! renders `P₁`. Where `P₀ + G` is a prefix of `P₁`, the engine reuses its KV
//! cache and prefills only the new tail. It holds, within one user turn,
//! exactly when:
//! * each thought the model wrote ends with one `\n` before `<channel|>`
//!   (the template writes `<|channel>thought\n` + text + `\n<channel|>`; the
//!   parser strips that one newline from thoughts, so a model that writes it
//!   round-trips exactly);
//! * calls are written canonically: arguments sorted by key (ASCII
//!   case-insensitive), no whitespace, strings in `<|"|>`, numbers as the
//!   template prints them (`2.50` comes back as `2.5`). The call grammar
//!   ([`crate::gemma::grammar`]) produces the canonical form except for number
//!   spelling;
//! * visible text has no leading/trailing whitespace (the template trims it);
//! * the model ends a call batch with `<|tool_response>` (what the template
//!   continues with) and a turn with `<turn|>` (not `<eos>`).
//!
//! It cannot hold, by the template's design, at these points (costs are
//! re-prefilled tokens; all are bounded by the last turn's size):
//! * **Thoughts of earlier turns are dropped.** Once a new user message is
//!   appended, the template drops every thought of the previous turns, except
//!   — with `preserve_thinking` — thoughts of assistant messages that made
//!   calls. With `preserve_thinking = true` (gem's default, [`RenderOptions::default`])
//!   the prompt diverges at the first thought of the last model turn that has
//!   no calls after it in its message: usually the final answer's thought, so
//!   the re-prefill is that answer plus the new user message. With `false` it
//!   diverges at the first thought of the last model turn, re-prefilling all
//!   its calls and tool results (often thousands of tokens of file contents).
//!   The dropped thoughts also stop costing context, which `false` trades for
//!   the re-prefill.
//! * **26B/31B with thinking off**: the generation prompt ends with an empty
//!   thought channel `<|channel>thought\n<channel|>` that the template does not
//!   write for history, so the first generation of every model turn (a few
//!   tokens of calls or the answer) is re-prefilled once. E2B/E4B do not
//!   have this.
//! * Everything listed above when the model deviates from it (thought without
//!   the final newline, non-canonical call, untrimmed text, `<eos>`).
//!
//! # Text that looks like control tokens
//! The template copies user text, tool results and argument strings verbatim,
//! so a file that contains `<|turn>` or a string containing `<|"|>` lands in
//! the prompt as that text, byte for byte (we keep that, to stay identical).
//! [`render_spans`] returns the byte ranges of such copied content so the
//! engine can tokenize them without special-token parsing: the model then sees
//! ordinary characters, not a turn boundary or a string delimiter.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::gemma::conversation::{
    Conversation, ModelPart, ModelTurn, ToolCall, ToolResponse, Turn,
};
use crate::gemma::declaration::{ToolDeclaration, declaration};
use crate::gemma::tags::{CHANNEL_CLOSE, CHANNEL_OPEN};
use crate::gemma::value::{NotationOut, sorted_keys, write_template_value};

/// Which of Google's two templates to follow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Variant {
    /// E2B and E4B (`e2b_chat_template.jinja`).
    #[default]
    #[serde(
        rename = "e2b",
        alias = "e4b",
        alias = "E2B",
        alias = "E4B",
        alias = "small"
    )]
    E2b,
    /// 26B-A4B and 31B (`31b_chat_template.jinja`): adds an empty thought
    /// channel to the generation prompt when thinking is off.
    #[serde(
        rename = "31b",
        alias = "26b",
        alias = "31B",
        alias = "26B",
        alias = "large"
    )]
    Large,
}

/// How to render.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderOptions {
    /// Template variant.
    pub variant: Variant,
    /// Thinking on (`<|think|>` in the system turn).
    pub thinking: bool,
    /// Tools declared in the system turn.
    pub tools: Vec<ToolDeclaration>,
    /// End with the prompt for the model's next output.
    pub add_generation_prompt: bool,
    /// Keep thoughts of earlier turns' calling messages (see the module docs).
    pub preserve_thinking: bool,
}

impl Default for RenderOptions {
    /// E2B, thinking off, no tools, with generation prompt, preserving thoughts.
    fn default() -> Self {
        RenderOptions {
            variant: Variant::E2b,
            thinking: false,
            tools: Vec::new(),
            add_generation_prompt: true,
            preserve_thinking: true,
        }
    }
}

/// Why a conversation could not be rendered.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RenderError {
    /// The template would fail too (or prints something gem does not emulate).
    #[error("cannot render: {0}")]
    Unsupported(String),
    /// Call arguments must be an object (or null); the template raises otherwise.
    #[error("arguments of the call to {name} are not a JSON object")]
    ArgumentsNotObject {
        /// The tool called.
        name: String,
    },
}

/// A rendered prompt with the ranges of text copied from the conversation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rendered {
    /// The prompt.
    pub text: String,
    /// Byte ranges of `text` copied from messages, thoughts, tool results and
    /// argument strings (everything else is template markup).
    pub content: Vec<Range<usize>>,
    /// Where the system prompt (trimmed, as the template writes it) lies in `text`.
    pub system: Option<Range<usize>>,
}

/// Renders the conversation as the template does.
pub fn render(conv: &Conversation, opts: &RenderOptions) -> Result<String, RenderError> {
    Ok(render_spans(conv, opts)?.text)
}

/// One assistant message of a model turn, in the template's part order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelMessage<'a> {
    /// The thought (`reasoning_content`).
    pub thinking: Option<&'a str>,
    /// The calls (`tool_calls`).
    pub calls: Vec<&'a ToolCall>,
    /// The results answering them.
    pub responses: Vec<&'a ToolResponse>,
    /// The visible text (`content`).
    pub content: Option<&'a str>,
}

/// Splits a model turn into assistant messages (see the module docs).
pub fn split_model_turn(turn: &ModelTurn) -> Vec<ModelMessage<'_>> {
    let mut messages = vec![ModelMessage::default()];
    for part in &turn.parts {
        let mut current = messages.pop().unwrap_or_default();
        let fits = match part {
            ModelPart::Thinking(_) => current == ModelMessage::default(),
            ModelPart::ToolCall(_) => current.responses.is_empty() && current.content.is_none(),
            ModelPart::ToolResponse(_) => current.content.is_none(),
            // Text after results is the next message (OpenAI's shape): the
            // template then opens a new turn for the generation prompt.
            ModelPart::Text(_) => current.content.is_none() && current.responses.is_empty(),
        };
        if !fits {
            messages.push(current);
            current = ModelMessage::default();
        }
        match part {
            ModelPart::Thinking(t) => current.thinking = Some(t),
            ModelPart::ToolCall(c) => current.calls.push(c),
            ModelPart::ToolResponse(r) => current.responses.push(r),
            ModelPart::Text(t) => current.content = Some(t),
        }
        messages.push(current);
    }
    messages
}

/// A message of the template's loop.
pub(crate) enum Message<'a> {
    /// A user message.
    User(&'a str),
    /// An assistant message.
    Model(ModelMessage<'a>),
}

/// The template's messages for a conversation.
fn messages_of(conv: &Conversation) -> Vec<Message<'_>> {
    conv.turns
        .iter()
        .flat_map(|turn| match turn {
            Turn::User(user) => vec![Message::User(&user.content)],
            Turn::Model(model) => split_model_turn(model)
                .into_iter()
                .map(Message::Model)
                .collect(),
        })
        .collect()
}

/// What the last rendered message left (the template's `prev_message_type`).
#[derive(Clone, Copy, PartialEq)]
enum Previous {
    Nothing,
    Think,
    Tool,
    ToolCall,
    ToolResponse,
}

/// Output with content ranges.
#[derive(Default)]
struct Out {
    rendered: Rendered,
}

impl NotationOut for Out {
    fn markup(&mut self, text: &str) {
        self.rendered.text.push_str(text);
    }

    fn content(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let start = self.rendered.text.len();
        self.rendered.text.push_str(text);
        let end = self.rendered.text.len();
        match self.rendered.content.last_mut() {
            Some(last) if last.end == start => last.end = end,
            _ => self.rendered.content.push(start..end),
        }
    }
}

/// Renders like [`render`] and also returns the content ranges.
pub fn render_spans(conv: &Conversation, opts: &RenderOptions) -> Result<Rendered, RenderError> {
    render_messages(conv.system.as_deref(), &messages_of(conv), opts)
}

/// The template's main loop over a message list.
pub(crate) fn render_messages(
    system: Option<&str>,
    messages: &[Message<'_>],
    opts: &RenderOptions,
) -> Result<Rendered, RenderError> {
    let mut out = Out::default();
    out.markup("<bos>");
    let mut previous = Previous::Nothing;
    if opts.thinking || !opts.tools.is_empty() || system.is_some() {
        out.markup("<|turn>system\n");
        if opts.thinking {
            out.markup("<|think|>\n");
            previous = Previous::Think;
        }
        if let Some(system) = system {
            let start = out.rendered.text.len();
            out.content(system.trim());
            out.rendered.system = Some(start..out.rendered.text.len());
        }
        for tool in &opts.tools {
            out.markup("<|tool>");
            out.markup(declaration(tool)?.trim());
            out.markup("<tool|>");
            previous = Previous::Tool;
        }
        out.markup("<turn|>\n");
    }

    let last_user = messages.iter().rposition(|m| matches!(m, Message::User(_)));
    let mut previous_was_model = false;
    for (index, message) in messages.iter().enumerate() {
        previous = Previous::Nothing;
        match message {
            Message::User(content) => {
                out.markup("<|turn>user\n");
                out.content(content.trim());
                out.markup("<turn|>\n");
                previous_was_model = false;
            }
            Message::Model(model) => {
                if !previous_was_model {
                    out.markup("<|turn>model\n");
                }
                let after_last_user = last_user.is_none_or(|u| index > u);
                let keep_thought =
                    after_last_user || (opts.preserve_thinking && !model.calls.is_empty());
                if let Some(thought) = model.thinking.filter(|t| !t.is_empty() && keep_thought) {
                    out.markup("<|channel>thought\n");
                    out.content(thought);
                    out.markup("\n<channel|>");
                }
                for call in &model.calls {
                    write_call(&mut out, call)?;
                    previous = Previous::ToolCall;
                }
                for response in &model.responses {
                    write_response(&mut out, response);
                    previous = Previous::ToolResponse;
                }
                let content = model.content.map(strip_thinking).unwrap_or_default();
                out.content(&content);
                let answered = !model.responses.is_empty();
                let next = messages.get(index + 1);
                let continues =
                    matches!(next, Some(Message::Model(_))) && (model.calls.is_empty() || answered);
                if previous == Previous::ToolCall && !answered {
                    out.markup("<|tool_response>");
                } else if continues {
                } else if !(answered && content.trim().is_empty() && next.is_none()) {
                    out.markup("<turn|>\n");
                }
                previous_was_model = true;
            }
        }
    }

    if opts.add_generation_prompt {
        if previous != Previous::ToolResponse && previous != Previous::ToolCall {
            out.markup("<|turn>model\n");
            if opts.variant == Variant::Large && !opts.thinking {
                out.markup("<|channel>thought\n<channel|>");
            }
        } else if previous == Previous::ToolResponse && opts.thinking {
            out.markup("<|channel>thought\n");
        }
    }
    Ok(out.rendered)
}

/// `<|tool_call>call:NAME{key:value,…}<tool_call|>`.
fn write_call(out: &mut Out, call: &ToolCall) -> Result<(), RenderError> {
    out.markup("<|tool_call>call:");
    out.markup(&call.name);
    out.markup("{");
    match &call.arguments {
        Value::Object(map) => {
            for (i, key) in sorted_keys(map).into_iter().enumerate() {
                if i > 0 {
                    out.markup(",");
                }
                out.markup(key);
                out.markup(":");
                write_template_value(out, &map[key.as_str()], false);
            }
        }
        Value::Null => {}
        _ => {
            return Err(RenderError::ArgumentsNotObject {
                name: call.name.clone(),
            });
        }
    }
    out.markup("}<tool_call|>");
    Ok(())
}

/// `<|tool_response>response:NAME{…}<tool_response|>`.
fn write_response(out: &mut Out, response: &ToolResponse) {
    let name = if response.name.is_empty() {
        "unknown"
    } else {
        response.name.as_str()
    };
    out.markup("<|tool_response>response:");
    out.markup(name);
    match &response.response {
        Value::Object(map) => {
            out.markup("{");
            for (i, key) in sorted_keys(map).into_iter().enumerate() {
                if i > 0 {
                    out.markup(",");
                }
                out.markup(key);
                out.markup(":");
                write_template_value(out, &map[key.as_str()], false);
            }
            out.markup("}");
        }
        other => {
            out.markup("{value:");
            write_template_value(out, other, false);
            out.markup("}");
        }
    }
    out.markup("<tool_response|>");
}

/// The template's `strip_thinking`: drops `<|channel>…<channel|>` blocks from
/// model text and trims it.
pub fn strip_thinking(text: &str) -> String {
    let mut result = String::with_capacity(text.len());
    for part in text.split(CHANNEL_CLOSE) {
        match part.split_once(CHANNEL_OPEN) {
            Some((before, _)) => result.push_str(before),
            None => result.push_str(part),
        }
    }
    result.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gemma::conversation::{ModelTurn, UserTurn};
    use serde_json::json;

    fn call(name: &str, args: Value) -> ModelPart {
        ModelPart::ToolCall(ToolCall {
            name: name.into(),
            arguments: args,
        })
    }

    fn response(name: &str, value: Value) -> ModelPart {
        ModelPart::ToolResponse(ToolResponse {
            name: name.into(),
            response: value,
        })
    }

    #[test]
    fn the_system_span_is_the_trimmed_system_prompt() {
        let mut conv = Conversation::new(Some("  Be brief. ".into()));
        conv.push_user("hi");
        let opts = RenderOptions {
            thinking: true,
            ..RenderOptions::default()
        };
        let rendered = render_spans(&conv, &opts).unwrap();
        let span = rendered.system.clone().unwrap();
        assert_eq!(&rendered.text[span.clone()], "Be brief.");
        assert!(rendered.text[..span.start].ends_with("<|think|>\n"));
        let none = render_spans(&Conversation::new(None), &RenderOptions::default()).unwrap();
        assert_eq!(none.system, None);
    }

    #[test]
    fn renders_a_plain_exchange() {
        let mut conv = Conversation::new(Some("  Be brief. ".into()));
        conv.push_user(" hi\n");
        conv.extend_model([ModelPart::Text("hello".into())]);
        conv.push_user("bye");
        let text = render(&conv, &RenderOptions::default()).unwrap();
        assert_eq!(
            text,
            "<bos><|turn>system\nBe brief.<turn|>\n<|turn>user\nhi<turn|>\n\
             <|turn>model\nhello<turn|>\n<|turn>user\nbye<turn|>\n<|turn>model\n"
        );
    }

    #[test]
    fn large_variant_adds_empty_thought_only_without_thinking() {
        let mut conv = Conversation::default();
        conv.push_user("hi");
        let mut opts = RenderOptions {
            variant: Variant::Large,
            ..RenderOptions::default()
        };
        assert!(
            render(&conv, &opts)
                .unwrap()
                .ends_with("<|turn>model\n<|channel>thought\n<channel|>")
        );
        opts.thinking = true;
        let text = render(&conv, &opts).unwrap();
        assert!(text.starts_with("<bos><|turn>system\n<|think|>\n<turn|>\n"));
        assert!(text.ends_with("<|turn>model\n"));
    }

    #[test]
    fn tool_round_trip_stays_in_one_turn() {
        let mut conv = Conversation::default();
        conv.push_user("read it");
        conv.extend_model([
            ModelPart::Thinking("need the file".into()),
            call("read_file", json!({"path": "a.rs", "limit": 2})),
            response("read_file", json!("fn main() {}")),
        ]);
        let opts = RenderOptions {
            thinking: true,
            ..RenderOptions::default()
        };
        let text = render(&conv, &opts).unwrap();
        assert!(text.ends_with(
            "<|turn>model\n<|channel>thought\nneed the file\n<channel|>\
             <|tool_call>call:read_file{limit:2,path:<|\"|>a.rs<|\"|>}<tool_call|>\
             <|tool_response>response:read_file{value:<|\"|>fn main() {}<|\"|>}<tool_response|>\
             <|channel>thought\n"
        ));
    }

    #[test]
    fn pending_call_closes_with_tool_response_tag() {
        let mut conv = Conversation::default();
        conv.push_user("go");
        conv.extend_model([call("ls", Value::Null)]);
        let text = render(&conv, &RenderOptions::default()).unwrap();
        assert!(text.ends_with("<|turn>model\n<|tool_call>call:ls{}<tool_call|><|tool_response>"));
    }

    #[test]
    fn split_follows_template_order() {
        let turn = ModelTurn {
            parts: vec![
                ModelPart::Thinking("t".into()),
                ModelPart::Text("a".into()),
                call("f", json!({})),
                response("f", json!({"ok": true})),
                ModelPart::Text("b".into()),
                ModelPart::Thinking("t2".into()),
            ],
        };
        let messages = split_model_turn(&turn);
        assert_eq!(messages.len(), 4);
        assert_eq!(messages[0].thinking, Some("t"));
        assert_eq!(messages[0].content, Some("a"));
        assert_eq!(messages[1].calls.len(), 1);
        assert_eq!(messages[1].responses.len(), 1);
        assert_eq!(messages[2].content, Some("b"));
        assert_eq!(messages[3].thinking, Some("t2"));
    }

    #[test]
    fn earlier_thoughts_follow_preserve_thinking() {
        let conv = Conversation {
            system: None,
            turns: vec![
                Turn::User(UserTurn {
                    content: "q".into(),
                }),
                Turn::Model(ModelTurn {
                    parts: vec![
                        ModelPart::Thinking("plan".into()),
                        call("f", json!({})),
                        response("f", json!("r")),
                        ModelPart::Thinking("conclude".into()),
                        ModelPart::Text("answer".into()),
                    ],
                }),
                Turn::User(UserTurn {
                    content: "next".into(),
                }),
            ],
        };
        let mut opts = RenderOptions {
            thinking: true,
            ..RenderOptions::default()
        };
        let kept = render(&conv, &opts).unwrap();
        assert!(kept.contains("thought\nplan\n"));
        assert!(!kept.contains("conclude"));
        opts.preserve_thinking = false;
        let dropped = render(&conv, &opts).unwrap();
        assert!(!dropped.contains("plan"));
    }

    #[test]
    fn spans_mark_copied_text() {
        let mut conv = Conversation::default();
        conv.push_user("say <|turn>");
        conv.extend_model([call("echo", json!({"s": "x<|\"|>y"}))]);
        let rendered = render_spans(&conv, &RenderOptions::default()).unwrap();
        let pieces: Vec<&str> = rendered
            .content
            .iter()
            .map(|r| &rendered.text[r.clone()])
            .collect();
        assert_eq!(pieces, ["say <|turn>", "x<|\"|>y"]);
    }

    #[test]
    fn strip_thinking_matches_template_macro() {
        assert_eq!(strip_thinking(" a<|channel>x<channel|>b "), "ab");
        assert_eq!(strip_thinking("a<channel|>b"), "ab");
        assert_eq!(strip_thinking("a<|channel>b"), "a");
    }

    #[test]
    fn string_arguments_are_an_error() {
        let mut conv = Conversation::default();
        conv.extend_model([call("f", json!("{}"))]);
        assert!(matches!(
            render(&conv, &RenderOptions::default()),
            Err(RenderError::ArgumentsNotObject { .. })
        ));
    }
}
