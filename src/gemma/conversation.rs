//! The conversation model gem keeps in memory, writes to session files and
//! streams as JSONL events.
//!
//! A [`Conversation`] is an optional system prompt plus a list of turns. A model
//! turn is an ordered list of parts exactly as they happened: thoughts, visible
//! text, the calls the model made and the results gem fed back *inside the same
//! model turn* (Gemma 4 does not open a new turn for tool results). The order of
//! parts is the order of generation; the renderer relies on it (see
//! [`crate::gemma::render`](mod@crate::gemma::render)): put each tool result right after the calls it
//! answers.
//!
//! JSON shape (tagged, snake_case):
//! ```json
//! {"system": "You are gem.",
//!  "turns": [
//!   {"role": "user", "content": "Fix the build"},
//!   {"role": "model", "parts": [
//!     {"type": "thinking", "text": "Look at main.rs first."},
//!     {"type": "tool_call", "name": "read_file", "arguments": {"path": "src/main.rs"}},
//!     {"type": "tool_response", "name": "read_file", "response": "fn main() {}"},
//!     {"type": "text", "text": "Done."}]}]}
//! ```

use serde::{Deserialize, Serialize};

/// A whole conversation: the system prompt and the turns after it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// The system prompt; `None` renders no system text (a system turn is still
    /// emitted when thinking is on or tools are declared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The turns, oldest first.
    #[serde(default)]
    pub turns: Vec<Turn>,
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Turn {
    /// Something the user said.
    User(UserTurn),
    /// Everything the model did in one turn, tool round trips included.
    Model(ModelTurn),
}

/// A user message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserTurn {
    /// The message text (media placeholders come later).
    pub content: String,
}

/// A model turn: its parts in the order they happened.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelTurn {
    /// Thoughts, text, calls and the results fed back, in order.
    #[serde(default)]
    pub parts: Vec<ModelPart>,
}

/// One piece of a model turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "PartRepr", from = "PartRepr")]
pub enum ModelPart {
    /// Hidden reasoning (the thought channel).
    Thinking(String),
    /// Visible answer text.
    Text(String),
    /// A call the model made.
    ToolCall(ToolCall),
    /// The result gem fed back for a call.
    ToolResponse(ToolResponse),
}

/// A tool call as the model emitted it, arguments decoded to JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The tool's name.
    pub name: String,
    /// The arguments; an object for every call the parser produces.
    #[serde(default)]
    pub arguments: serde_json::Value,
}

/// The result of a tool call, fed back to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResponse {
    /// The name of the tool that produced it (empty renders as `unknown`).
    pub name: String,
    /// A string renders as `response:NAME{value:…}`, an object as
    /// `response:NAME{key:…}`, anything else as `response:NAME{value:…}`.
    #[serde(default)]
    pub response: serde_json::Value,
}

/// Serde shape of [`ModelPart`]: `{"type": "...", ...fields}`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum PartRepr {
    Thinking { text: String },
    Text { text: String },
    ToolCall(ToolCall),
    ToolResponse(ToolResponse),
}

impl From<PartRepr> for ModelPart {
    fn from(repr: PartRepr) -> Self {
        match repr {
            PartRepr::Thinking { text } => ModelPart::Thinking(text),
            PartRepr::Text { text } => ModelPart::Text(text),
            PartRepr::ToolCall(call) => ModelPart::ToolCall(call),
            PartRepr::ToolResponse(response) => ModelPart::ToolResponse(response),
        }
    }
}

impl From<ModelPart> for PartRepr {
    fn from(part: ModelPart) -> Self {
        match part {
            ModelPart::Thinking(text) => PartRepr::Thinking { text },
            ModelPart::Text(text) => PartRepr::Text { text },
            ModelPart::ToolCall(call) => PartRepr::ToolCall(call),
            ModelPart::ToolResponse(response) => PartRepr::ToolResponse(response),
        }
    }
}

impl Conversation {
    /// An empty conversation with an optional system prompt.
    pub fn new(system: Option<String>) -> Self {
        Conversation {
            system,
            turns: Vec::new(),
        }
    }

    /// Appends a user turn.
    pub fn push_user(&mut self, content: impl Into<String>) {
        self.turns.push(Turn::User(UserTurn {
            content: content.into(),
        }));
    }

    /// How many user turns the conversation holds.
    pub fn user_turn_count(&self) -> usize {
        self.turns
            .iter()
            .filter(|t| matches!(t, Turn::User(_)))
            .count()
    }

    /// Appends parts to the model turn at the end, opening one if the last
    /// turn is not a model turn.
    pub fn extend_model(&mut self, parts: impl IntoIterator<Item = ModelPart>) {
        if !matches!(self.turns.last(), Some(Turn::Model(_))) {
            self.turns.push(Turn::Model(ModelTurn::default()));
        }
        if let Some(Turn::Model(turn)) = self.turns.last_mut() {
            turn.parts.extend(parts);
        }
    }
}

impl ModelTurn {
    /// The visible text of the turn, text parts joined.
    pub fn text(&self) -> String {
        self.parts
            .iter()
            .filter_map(|p| match p {
                ModelPart::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The calls of the turn that have no response after them yet.
    pub fn pending_calls(&self) -> Vec<&ToolCall> {
        let mut pending: Vec<&ToolCall> = Vec::new();
        for part in &self.parts {
            match part {
                ModelPart::ToolCall(call) => pending.push(call),
                ModelPart::ToolResponse(response) => {
                    if let Some(i) = pending.iter().position(|c| c.name == response.name) {
                        pending.remove(i);
                    } else if !pending.is_empty() {
                        pending.remove(0);
                    }
                }
                _ => {}
            }
        }
        pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Conversation {
        let mut conv = Conversation::new(Some("sys".into()));
        conv.push_user("hi");
        conv.extend_model([
            ModelPart::Thinking("hmm".into()),
            ModelPart::ToolCall(ToolCall {
                name: "read_file".into(),
                arguments: json!({"path": "a.rs"}),
            }),
        ]);
        conv.extend_model([ModelPart::ToolResponse(ToolResponse {
            name: "read_file".into(),
            response: json!("fn main() {}"),
        })]);
        conv.extend_model([ModelPart::Text("done".into())]);
        conv
    }

    #[test]
    fn json_shape_is_tagged_snake_case() {
        let value = serde_json::to_value(sample()).unwrap();
        assert_eq!(
            value,
            json!({
                "system": "sys",
                "turns": [
                    {"role": "user", "content": "hi"},
                    {"role": "model", "parts": [
                        {"type": "thinking", "text": "hmm"},
                        {"type": "tool_call", "name": "read_file", "arguments": {"path": "a.rs"}},
                        {"type": "tool_response", "name": "read_file", "response": "fn main() {}"},
                        {"type": "text", "text": "done"}
                    ]}
                ]
            })
        );
    }

    #[test]
    fn json_round_trips() {
        let conv = sample();
        let text = serde_json::to_string(&conv).unwrap();
        let back: Conversation = serde_json::from_str(&text).unwrap();
        assert_eq!(back, conv);
    }

    #[test]
    fn extend_model_appends_to_the_open_turn() {
        let conv = sample();
        assert_eq!(conv.turns.len(), 2);
        let Turn::Model(turn) = &conv.turns[1] else {
            panic!("expected a model turn")
        };
        assert_eq!(turn.parts.len(), 4);
        assert_eq!(turn.text(), "done");
        assert!(turn.pending_calls().is_empty());
    }

    #[test]
    fn pending_calls_lists_unanswered_calls() {
        let turn = ModelTurn {
            parts: vec![
                ModelPart::ToolCall(ToolCall {
                    name: "a".into(),
                    arguments: json!({}),
                }),
                ModelPart::ToolCall(ToolCall {
                    name: "b".into(),
                    arguments: json!({}),
                }),
                ModelPart::ToolResponse(ToolResponse {
                    name: "b".into(),
                    response: json!("ok"),
                }),
            ],
        };
        let pending = turn.pending_calls();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].name, "a");
    }
}
