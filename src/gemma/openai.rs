//! OpenAI-style chat input: what `gem debug render --input FILE` reads, and the
//! context the reference templates are rendered with.
//!
//! ```json
//! {"messages": [
//!    {"role": "system", "content": "…"},
//!    {"role": "user", "content": "…"},
//!    {"role": "assistant", "reasoning_content": "…", "content": "…",
//!     "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": {"k": 1}}}]},
//!    {"role": "tool", "tool_call_id": "c1", "content": "result"}],
//!  "tools": [{"type": "function", "function": {"name": "f", "description": "…", "parameters": {…}}}],
//!  "enable_thinking": true, "add_generation_prompt": true, "preserve_thinking": false,
//!  "variant": "e2b"}
//! ```
//! Absent flags mean what they mean to the template (false), so the same JSON
//! rendered by gem and by the template agrees; note that gem's own default
//! ([`RenderOptions::default`]) preserves thinking.
//!
//! [`OpenAiChat::to_conversation`] follows the template's reading of the
//! messages: consecutive assistant messages form one model turn; `tool`
//! messages answer the assistant message with `tool_calls` before them and are
//! named by matching `tool_call_id` against the calls' `id` (the template's
//! rule, including that a call and a result that both lack an id match);
//! `tool` messages elsewhere are ignored, as the template ignores them; text
//! parts of array contents are trimmed and joined, media parts become
//! `<|image|>`/`<|audio|>`/`<|video|>`. Input the conversation model cannot
//! express is refused with [`OpenAiError::Unsupported`] (a system message
//! that is not first, array system content, media in tool results, a
//! `response` declaration, assistant messages whose boundaries the model
//! cannot keep). As an extension, call arguments given as a JSON *string*
//! holding an object are decoded (the template raises on them).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::gemma::conversation::{
    Conversation, ModelPart, ModelTurn, ToolCall, ToolResponse, Turn, UserTurn,
};
use crate::gemma::declaration::ToolDeclaration;
use crate::gemma::parse::{ParseEvent, ParseOptions, StreamParser};
use crate::gemma::render::{
    Message, ModelMessage, RenderError, RenderOptions, Variant, render, render_messages,
    render_spans, split_model_turn, strip_thinking,
};

/// A chat in OpenAI's shape plus the template's flags.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenAiChat {
    /// The messages.
    #[serde(default)]
    pub messages: Vec<OpenAiMessage>,
    /// The tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<OpenAiTool>,
    /// Thinking on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_thinking: Option<bool>,
    /// End with the generation prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_generation_prompt: Option<bool>,
    /// Keep thoughts of earlier calling messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_thinking: Option<bool>,
    /// Template variant (default `e2b`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<Variant>,
}

/// One message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenAiMessage {
    /// `system`, `developer`, `user`, `assistant` or `tool`.
    pub role: String,
    /// A string, an array of content parts, or (tool results) any value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Value>,
    /// The assistant's calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<OpenAiToolCall>>,
    /// Which call a `tool` message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<Value>,
    /// Name of the tool (tool messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The assistant's thought.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// The assistant's thought (alternative key; wins over `reasoning_content`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// Google's native form: results embedded in the assistant message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_responses: Option<Vec<OpenAiToolResponse>>,
}

/// One call of an assistant message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenAiToolCall {
    /// The call id results refer to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    /// `function`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The function called.
    pub function: OpenAiFunctionCall,
}

/// The function part of a call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenAiFunctionCall {
    /// The tool name.
    pub name: String,
    /// The arguments: an object (or null; absent reads as null).
    #[serde(default)]
    pub arguments: Value,
}

/// A result embedded in an assistant message (`tool_responses`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenAiToolResponse {
    /// The tool name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
}

/// A declared tool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenAiTool {
    /// `function`.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// The function.
    pub function: OpenAiFunction,
}

/// A declared function.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenAiFunction {
    /// Its name.
    pub name: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON schema of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Declared response (not supported by gem).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
}

/// Why an OpenAI chat could not be converted.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum OpenAiError {
    /// Not valid JSON for this shape.
    #[error("invalid chat JSON: {0}")]
    Json(String),
    /// Valid, but not expressible as a gem conversation.
    #[error("unsupported chat input: {0}")]
    Unsupported(String),
    /// The conversation could not be rendered.
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// `gem debug render --input FILE`: renders an OpenAI-shaped chat JSON with
/// gem's renderer.
pub fn render_chat_json(chat: &Value) -> Result<String, OpenAiError> {
    let (conv, opts) = OpenAiChat::from_json(chat)?.to_conversation()?;
    Ok(render(&conv, &opts)?)
}

/// `gem debug parse`: parses a model output and returns one JSON event per
/// line (see [`events_to_jsonl`]).
pub fn parse_to_jsonl(output: &str, opts: ParseOptions) -> String {
    events_to_jsonl(&StreamParser::parse_all(opts, output))
}

impl OpenAiChat {
    /// Reads the JSON shape.
    pub fn from_json(value: &Value) -> Result<Self, OpenAiError> {
        serde_json::from_value(value.clone()).map_err(|e| OpenAiError::Json(e.to_string()))
    }

    /// Render options with the template's defaults for absent flags.
    pub fn render_options(&self) -> Result<RenderOptions, OpenAiError> {
        let tools = self
            .tools
            .iter()
            .map(|tool| {
                if tool.function.response.is_some() {
                    return Err(OpenAiError::Unsupported(format!(
                        "tool {} declares a response",
                        tool.function.name
                    )));
                }
                Ok(ToolDeclaration {
                    name: tool.function.name.clone(),
                    description: tool.function.description.clone().unwrap_or_default(),
                    parameters: tool.function.parameters.clone().unwrap_or(Value::Null),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RenderOptions {
            variant: self.variant.unwrap_or_default(),
            thinking: self.enable_thinking.unwrap_or(false),
            tools,
            add_generation_prompt: self.add_generation_prompt.unwrap_or(false),
            preserve_thinking: self.preserve_thinking.unwrap_or(false),
        })
    }

    /// The conversation and options this chat stands for.
    pub fn to_conversation(&self) -> Result<(Conversation, RenderOptions), OpenAiError> {
        let options = self.render_options()?;
        let mut messages = self.messages.as_slice();
        let mut conv = Conversation::default();
        if let Some(first) = messages.first().filter(|m| is_system(&m.role)) {
            conv.system = Some(match &first.content {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(_) => {
                    return Err(unsupported("system content that is not a string"));
                }
            });
            messages = &messages[1..];
        }
        // The template's own messages, to check that merging assistant
        // messages into model turns renders the same.
        let mut original: Vec<Turn> = Vec::new();
        for (index, message) in messages.iter().enumerate() {
            match message.role.as_str() {
                "user" => {
                    if message.tool_calls.is_some()
                        || message.tool_responses.is_some()
                        || message.reasoning.is_some()
                        || message.reasoning_content.is_some()
                    {
                        return Err(unsupported("a user message with calls or reasoning"));
                    }
                    let turn = Turn::User(UserTurn {
                        content: user_content(message.content.as_ref())?,
                    });
                    conv.turns.push(turn.clone());
                    original.push(turn);
                }
                "assistant" => {
                    let parts = assistant_parts(message, &messages[index + 1..])?;
                    conv.extend_model(parts.clone());
                    original.push(Turn::Model(ModelTurn { parts }));
                }
                "tool" => {}
                role if is_system(role) => {
                    return Err(unsupported(
                        "a system message that is not the first message",
                    ));
                }
                role => return Err(unsupported(&format!("role {role:?}"))),
            }
        }
        check_boundaries(&conv, &original, &options)?;
        Ok((conv, options))
    }

    /// The chat the template renders like `render(conv, opts)`.
    pub fn from_conversation(conv: &Conversation, opts: &RenderOptions) -> Self {
        let mut messages = Vec::new();
        if let Some(system) = &conv.system {
            messages.push(OpenAiMessage {
                role: "system".into(),
                content: Some(Value::String(system.clone())),
                ..OpenAiMessage::default()
            });
        }
        let mut call_counter = 0usize;
        for turn in &conv.turns {
            match turn {
                Turn::User(user) => messages.push(OpenAiMessage {
                    role: "user".into(),
                    content: Some(Value::String(user.content.clone())),
                    ..OpenAiMessage::default()
                }),
                Turn::Model(model) => {
                    for message in split_model_turn(model) {
                        push_assistant(&mut messages, &message, &mut call_counter);
                    }
                }
            }
        }
        OpenAiChat {
            messages,
            tools: opts
                .tools
                .iter()
                .map(|tool| OpenAiTool {
                    kind: "function".into(),
                    function: OpenAiFunction {
                        name: tool.name.clone(),
                        description: Some(tool.description.clone()),
                        parameters: (!tool.parameters.is_null()).then(|| tool.parameters.clone()),
                        response: None,
                    },
                })
                .collect(),
            enable_thinking: Some(opts.thinking),
            add_generation_prompt: Some(opts.add_generation_prompt),
            preserve_thinking: Some(opts.preserve_thinking),
            variant: Some(opts.variant),
        }
    }
}

fn unsupported(what: &str) -> OpenAiError {
    OpenAiError::Unsupported(what.to_string())
}

fn is_system(role: &str) -> bool {
    role == "system" || role == "developer"
}

/// Checks that the conversation renders like the template's messages
/// (`original`: one turn per message): merging consecutive assistant messages
/// into one model turn must not move a boundary that matters.
fn check_boundaries(
    conv: &Conversation,
    original: &[Turn],
    options: &RenderOptions,
) -> Result<(), OpenAiError> {
    let messages: Vec<Message<'_>> = original
        .iter()
        .map(|turn| match turn {
            Turn::User(user) => Message::User(&user.content),
            Turn::Model(model) => Message::Model(
                split_model_turn(model)
                    .into_iter()
                    .next()
                    .unwrap_or_default(),
            ),
        })
        .collect();
    let system = conv.system.as_deref();
    let expected = render_messages(system, &messages, options);
    let merged = render_spans(conv, options);
    match (expected, merged) {
        (Ok(a), Ok(b)) if a.text == b.text => Ok(()),
        (Err(e), _) | (_, Err(e)) => Err(OpenAiError::Unsupported(e.to_string())),
        _ => Err(unsupported(
            "consecutive assistant messages whose boundaries a model turn cannot keep \
             (e.g. calls without results followed by more assistant messages)",
        )),
    }
}

/// The text of a user message as the template prints it (before trimming).
fn user_content(content: Option<&Value>) -> Result<String, OpenAiError> {
    match content {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(items)) => content_parts(items, |t| t.trim().to_string()),
        Some(_) => Err(unsupported("user content that is not a string or an array")),
    }
}

/// Joins content parts: text through `text`, media as placeholders.
fn content_parts(items: &[Value], text: impl Fn(&str) -> String) -> Result<String, OpenAiError> {
    let mut out = String::new();
    for item in items {
        let Some(item) = item.as_object() else {
            return Err(unsupported("a content part that is not an object"));
        };
        match item.get("type").and_then(Value::as_str) {
            Some("text") => match item.get("text") {
                Some(Value::String(s)) => out.push_str(&text(s)),
                None | Some(Value::Null) => {}
                Some(_) => return Err(unsupported("a text part whose text is not a string")),
            },
            Some("image" | "image_url") => out.push_str("<|image|>"),
            Some("audio" | "input_audio") => out.push_str("<|audio|>"),
            Some("video") => out.push_str("<|video|>"),
            _ => {}
        }
    }
    Ok(out)
}

/// The parts of one assistant message, in the template's order, including
/// the results of the `tool` messages after it.
fn assistant_parts(
    message: &OpenAiMessage,
    following: &[OpenAiMessage],
) -> Result<Vec<ModelPart>, OpenAiError> {
    let mut parts = Vec::new();
    let thought = message
        .reasoning
        .as_deref()
        .filter(|t| !t.is_empty())
        .or(message.reasoning_content.as_deref())
        .filter(|t| !t.is_empty());
    if let Some(thought) = thought {
        parts.push(ModelPart::Thinking(thought.to_string()));
    }
    let calls = message.tool_calls.as_deref().unwrap_or_default();
    for call in calls {
        parts.push(ModelPart::ToolCall(ToolCall {
            name: call.function.name.clone(),
            arguments: call_arguments(call)?,
        }));
    }
    match message.tool_responses.as_deref() {
        Some(responses) if !responses.is_empty() => {
            for response in responses {
                let Some(value) = &response.response else {
                    return Err(unsupported("a tool_responses entry without a response"));
                };
                parts.push(ModelPart::ToolResponse(ToolResponse {
                    name: response.name.clone().unwrap_or_default(),
                    response: value.clone(),
                }));
            }
        }
        _ if !calls.is_empty() => {
            for follow in following.iter().take_while(|m| m.role == "tool") {
                parts.push(ModelPart::ToolResponse(tool_message_response(
                    calls, follow,
                )?));
            }
        }
        _ => {}
    }
    match &message.content {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => parts.push(ModelPart::Text(s.clone())),
        Some(Value::Array(items)) => {
            parts.push(ModelPart::Text(content_parts(items, strip_thinking)?));
        }
        Some(_) => {
            return Err(unsupported(
                "assistant content that is not a string or an array",
            ));
        }
    }
    Ok(parts)
}

/// The arguments object of a call.
fn call_arguments(call: &OpenAiToolCall) -> Result<Value, OpenAiError> {
    match &call.function.arguments {
        value @ (Value::Object(_) | Value::Null) => Ok(value.clone()),
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(value @ Value::Object(_)) => Ok(value),
            _ => Err(unsupported("call arguments that are not a JSON object")),
        },
        _ => Err(unsupported("call arguments that are not a JSON object")),
    }
}

/// A `tool` message as the template reads it.
fn tool_message_response(
    calls: &[OpenAiToolCall],
    follow: &OpenAiMessage,
) -> Result<ToolResponse, OpenAiError> {
    let mut name = follow
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    let wanted = follow.tool_call_id.clone().unwrap_or(Value::Null);
    for call in calls {
        if call.id.clone().unwrap_or(Value::Null) == wanted {
            name = call.function.name.clone();
        }
    }
    if name.is_empty() {
        return Err(unsupported(
            "a tool result answering a call with an empty name",
        ));
    }
    let response = match &follow.content {
        None => Value::Null,
        Some(Value::Array(items)) => {
            let has_media = items.iter().any(|item| {
                matches!(
                    item.get("type").and_then(Value::as_str),
                    Some("image" | "image_url" | "audio" | "input_audio" | "video")
                )
            });
            if has_media {
                return Err(unsupported("media in a tool result"));
            }
            Value::String(content_parts(items, str::to_string)?)
        }
        Some(other) => other.clone(),
    };
    Ok(ToolResponse { name, response })
}

/// Appends one assistant message (and its `tool` messages).
fn push_assistant(
    messages: &mut Vec<OpenAiMessage>,
    message: &ModelMessage<'_>,
    counter: &mut usize,
) {
    let calls: Vec<OpenAiToolCall> = message
        .calls
        .iter()
        .map(|call| {
            *counter += 1;
            OpenAiToolCall {
                id: Some(Value::String(format!("call_{counter}"))),
                kind: Some("function".into()),
                function: OpenAiFunctionCall {
                    name: call.name.clone(),
                    arguments: call.arguments.clone(),
                },
            }
        })
        .collect();
    let as_tool_messages =
        !calls.is_empty() && message.responses.iter().all(|r| !r.response.is_array());
    let mut assistant = OpenAiMessage {
        role: "assistant".into(),
        content: message.content.map(|c| Value::String(c.to_string())),
        tool_calls: (!calls.is_empty()).then_some(calls),
        reasoning_content: message.thinking.map(str::to_string),
        ..OpenAiMessage::default()
    };
    if !as_tool_messages && !message.responses.is_empty() {
        assistant.tool_responses = Some(
            message
                .responses
                .iter()
                .map(|r| OpenAiToolResponse {
                    name: Some(r.name.clone()),
                    response: Some(r.response.clone()),
                })
                .collect(),
        );
    }
    messages.push(assistant);
    if as_tool_messages {
        for response in &message.responses {
            *counter += 1;
            messages.push(OpenAiMessage {
                role: "tool".into(),
                content: Some(response.response.clone()),
                tool_call_id: Some(Value::String(format!("result_{counter}"))),
                name: Some(response.name.clone()),
                ..OpenAiMessage::default()
            });
        }
    }
}

/// Events as JSON lines, the output of `gem debug parse`: one
/// `{"type": "thinking"|"text"|"tool_call"|"malformed_call", …}` per line.
pub fn events_to_jsonl(events: &[ParseEvent]) -> String {
    let mut out = String::new();
    for event in events {
        // Serialising these plain data types cannot fail.
        if let Ok(line) = serde_json::to_string(event) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chat(value: Value) -> OpenAiChat {
        OpenAiChat::from_json(&value).unwrap()
    }

    #[test]
    fn converts_a_tool_round_trip() {
        let (conv, opts) = chat(json!({
            "messages": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": [{"type": "text", "text": " hi "}, {"type": "image"}]},
                {"role": "assistant", "reasoning_content": "plan",
                 "tool_calls": [{"id": "a", "function": {"name": "f", "arguments": "{\"x\": 1}"}}]},
                {"role": "tool", "tool_call_id": "a", "content": "r"},
                {"role": "assistant", "content": "done"}
            ],
            "enable_thinking": true
        }))
        .to_conversation()
        .unwrap();
        assert!(opts.thinking && !opts.preserve_thinking && !opts.add_generation_prompt);
        assert_eq!(conv.system.as_deref(), Some("sys"));
        assert_eq!(conv.turns.len(), 2);
        let Turn::User(user) = &conv.turns[0] else {
            panic!()
        };
        assert_eq!(user.content, "hi<|image|>");
        let Turn::Model(model) = &conv.turns[1] else {
            panic!()
        };
        assert_eq!(
            model.parts,
            vec![
                ModelPart::Thinking("plan".into()),
                ModelPart::ToolCall(ToolCall {
                    name: "f".into(),
                    arguments: json!({"x": 1})
                }),
                ModelPart::ToolResponse(ToolResponse {
                    name: "f".into(),
                    response: json!("r")
                }),
                ModelPart::Text("done".into()),
            ]
        );
    }

    #[test]
    fn debug_helpers_render_and_parse() {
        let text = render_chat_json(&json!({"messages": [{"role": "user", "content": "hi"}],
                                            "add_generation_prompt": true}))
        .unwrap();
        assert_eq!(text, "<bos><|turn>user\nhi<turn|>\n<|turn>model\n");
        assert!(render_chat_json(&json!({"messages": 3})).is_err());
        let lines = parse_to_jsonl(
            "<|channel>thought\nt\n<channel|>x<|tool_call>call:f{a:1}<tool_call|>",
            ParseOptions::default(),
        );
        assert_eq!(
            lines,
            "{\"type\":\"thinking\",\"text\":\"t\"}\n{\"type\":\"text\",\"text\":\"x\"}\n\
             {\"type\":\"tool_call\",\"name\":\"f\",\"arguments\":{\"a\":1}}\n"
        );
    }

    #[test]
    fn tool_names_follow_the_template_rule() {
        let calls = vec![
            OpenAiToolCall {
                function: OpenAiFunctionCall {
                    name: "first".into(),
                    arguments: Value::Null,
                },
                ..Default::default()
            },
            OpenAiToolCall {
                function: OpenAiFunctionCall {
                    name: "second".into(),
                    arguments: Value::Null,
                },
                ..Default::default()
            },
        ];
        let without_ids = OpenAiMessage {
            role: "tool".into(),
            name: Some("named".into()),
            ..Default::default()
        };
        // Missing ids match every call: the last call's name wins.
        assert_eq!(
            tool_message_response(&calls, &without_ids).unwrap().name,
            "second"
        );
        let unmatched = OpenAiMessage {
            tool_call_id: Some(json!("zz")),
            ..without_ids
        };
        assert_eq!(
            tool_message_response(&calls, &unmatched).unwrap().name,
            "named"
        );
    }

    #[test]
    fn refuses_what_the_model_cannot_express() {
        let late_system = chat(json!({"messages": [
            {"role": "user", "content": "a"}, {"role": "system", "content": "b"}]}));
        assert!(matches!(
            late_system.to_conversation(),
            Err(OpenAiError::Unsupported(_))
        ));
        let merged = chat(json!({"messages": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": {}}}]},
            {"role": "assistant", "tool_calls": [{"function": {"name": "g", "arguments": {}}}]}]}));
        assert!(matches!(
            merged.to_conversation(),
            Err(OpenAiError::Unsupported(_))
        ));
    }

    #[test]
    fn from_conversation_round_trips_through_to_conversation() {
        let (conv, opts) = chat(json!({
            "messages": [
                {"role": "user", "content": "q"},
                {"role": "assistant", "reasoning_content": "t",
                 "tool_calls": [{"id": "1", "function": {"name": "f", "arguments": {"a": [1]}}}]},
                {"role": "tool", "tool_call_id": "1", "content": {"ok": true}},
                {"role": "assistant", "tool_responses": [{"name": "g", "response": [1, 2]}]}
            ],
            "add_generation_prompt": true, "variant": "31b"
        }))
        .to_conversation()
        .unwrap();
        let back = OpenAiChat::from_conversation(&conv, &opts);
        let (conv2, opts2) = back.to_conversation().unwrap();
        assert_eq!(conv2, conv);
        assert_eq!(opts2, opts);
        assert_eq!(
            render(&conv2, &opts2).unwrap(),
            render(&conv, &opts).unwrap()
        );
    }
}
