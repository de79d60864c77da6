//! Gemma 4's native format: render a conversation into a prompt, parse the
//! model's streamed output, map JSON schemas to tool declarations, and build
//! the grammar that keeps tool calls well-formed.
//!
//! Facts: `shared/design/gemma4-format.md`; reference: Google's chat
//! templates (the conformance tests render against them).

#[cfg(test)]
mod append_only;
pub mod call;
#[cfg(test)]
mod conformance;
pub mod conversation;
pub mod declaration;
pub mod grammar;
pub mod openai;
pub mod parse;
#[cfg(test)]
mod parse_fuzz;
pub mod render;
pub mod schema;
pub mod sink;
pub mod tags;
pub mod template;
pub mod value;

pub use conversation::{Conversation, ModelPart, ModelTurn, ToolCall, ToolResponse, Turn, UserTurn};
pub use declaration::{ToolDeclaration, declaration};
pub use render::{RenderError, RenderOptions, Rendered, Variant, render, render_spans};
pub use openai::OpenAiChat;
pub use parse::{ParseEvent, ParseOptions, StreamParser};
pub use template::{ChatTemplate, TemplateError, probe, probe_agrees, render_with_template};
pub use grammar::{CallGrammar, GrammarOptions, call_grammar};
pub use schema::{parameters_for, parameters_from_schema, tool_declaration};
