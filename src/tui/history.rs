//! A resumed session's earlier conversation as transcript cells, so the user sees where they
//! left off.

use super::cells::{CellKind, ToolCell, ToolStatus, key_argument};
use crate::gemma::{Conversation, ModelPart, Turn};

/// Most characters of a tool result kept in a history cell (the full result is in the session
/// file; the model still has all of it).
const MAX_OUTPUT_CHARS: usize = 4_000;

/// Cells for every turn of `conversation`: user messages, thinking, answers and tool calls with
/// their results. Calls are paired with the responses that follow them, in order.
pub fn history_cells(conversation: &Conversation) -> Vec<CellKind> {
    let mut cells = Vec::new();
    let mut next_call = 0usize;
    for turn in &conversation.turns {
        match turn {
            Turn::User(user) => cells.push(CellKind::User {
                text: crate::agent::plan_mode::without_plan_note(&user.content),
            }),
            Turn::Model(model) => {
                // Indices (in `cells`) of calls still waiting for their response.
                let mut waiting = std::collections::VecDeque::new();
                for part in &model.parts {
                    match part {
                        ModelPart::Thinking(text) if !text.trim().is_empty() => {
                            cells.push(CellKind::Thinking {
                                text: text.clone(),
                                streaming: false,
                            });
                        }
                        ModelPart::Thinking(_) => {}
                        ModelPart::Text(text) if !text.trim().is_empty() => {
                            cells.push(CellKind::Assistant {
                                text: text.clone(),
                                streaming: false,
                            });
                        }
                        ModelPart::Text(_) => {}
                        ModelPart::ToolCall(call) => {
                            next_call += 1;
                            waiting.push_back(cells.len());
                            cells.push(CellKind::Tool(ToolCell {
                                call_id: format!("history-{next_call}"),
                                name: call.name.clone(),
                                key_argument: key_argument(&call.arguments),
                                status: ToolStatus::Done {
                                    is_error: false,
                                    duration_ms: 0,
                                },
                                summary: String::new(),
                                output: String::new(),
                                diff: None,
                            }));
                        }
                        ModelPart::ToolResponse(response) => {
                            let text = match &response.response {
                                serde_json::Value::String(s) => s.clone(),
                                other => other.to_string(),
                            };
                            let Some(index) = waiting.pop_front() else {
                                continue;
                            };
                            if let Some(CellKind::Tool(tool)) = cells.get_mut(index) {
                                tool.summary = summary_line(&text);
                                tool.output = text.chars().take(MAX_OUTPUT_CHARS).collect();
                            }
                        }
                    }
                }
            }
        }
    }
    cells
}

/// The first non-empty line of `text`, at most 80 characters.
fn summary_line(text: &str) -> String {
    super::format::truncate_chars(crate::first_line::first_line(text).0, 80)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gemma::{ModelTurn, ToolCall, ToolResponse, UserTurn};
    use serde_json::json;

    #[test]
    fn turns_become_cells_in_order_with_results_paired() {
        let conversation = Conversation {
            system: Some("system".into()),
            turns: vec![
                Turn::User(UserTurn {
                    content: "fix add".into(),
                }),
                Turn::Model(ModelTurn {
                    parts: vec![
                        ModelPart::Thinking("look first".into()),
                        ModelPart::ToolCall(ToolCall {
                            name: "read".into(),
                            arguments: json!({"path": "src/lib.rs"}),
                        }),
                        ModelPart::ToolCall(ToolCall {
                            name: "grep".into(),
                            arguments: json!({"pattern": "add"}),
                        }),
                        ModelPart::ToolResponse(ToolResponse {
                            name: "read".into(),
                            response: json!("1 | pub fn add\n2 | }"),
                        }),
                        ModelPart::ToolResponse(ToolResponse {
                            name: "grep".into(),
                            response: json!({"matches": 2}),
                        }),
                        ModelPart::Text("Fixed.".into()),
                    ],
                }),
            ],
        };
        let cells = history_cells(&conversation);
        assert_eq!(cells.len(), 5);
        assert_eq!(
            cells[0],
            CellKind::User {
                text: "fix add".into()
            }
        );
        assert!(
            matches!(&cells[1], CellKind::Thinking { text, streaming: false } if text == "look first")
        );
        let CellKind::Tool(read) = &cells[2] else {
            panic!("not a tool cell: {:?}", cells[2]);
        };
        assert_eq!(read.name, "read");
        assert_eq!(read.key_argument, "src/lib.rs");
        assert_eq!(read.summary, "1 | pub fn add");
        let CellKind::Tool(grep) = &cells[3] else {
            panic!("not a tool cell: {:?}", cells[3]);
        };
        assert_eq!(grep.output, r#"{"matches":2}"#);
        assert!(matches!(&cells[4], CellKind::Assistant { text, .. } if text == "Fixed."));
    }
}
