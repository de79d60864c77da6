//! Gemma 4's native format: render a conversation into a prompt, parse the
//! model's streamed output, map JSON schemas to tool declarations, and build
//! the grammar that keeps tool calls well-formed.
//!
//! Facts: `shared/design/gemma4-format.md`; reference: Google's chat
//! templates (the conformance tests render against them).
//!
//! * [`conversation`]: the conversation model (also the session/JSONL shape).
//! * [`render`](mod@render): conversation → prompt, byte-identical to the templates;
//!   its docs say where prompts stay append-only and where they cannot.
//! * [`parse`]: streamed output → thoughts, text, calls ([`call`] reads one
//!   call, [`sink`] keeps control tags out of visible text, [`tags`] lists them).
//! * [`value`]: Gemma notation ↔ JSON; [`declaration`](mod@declaration): tool declarations;
//!   [`schema`]: schemars schemas → declaration parameters.
//! * [`grammar`]: GBNF for calls, applied lazily by llama.cpp.
//! * [`openai`]: OpenAI-shaped chats (`gem debug render`/`parse`);
//!   [`template`]: run a Jinja chat template, probe a GGUF's template.
//!
//! Tests read the templates from `GEM_GEMMA4_TEMPLATES` (default
//! `<crate>/../shared/fixtures/gemma4`) and the corpus from `GEM_GEMMA4_CORPUS`
//! (default `<crate>/tests/fixtures/gemma4-corpus`); `GEM_CONFORMANCE_CASES`
//! and `GEM_FUZZ_CASES` size the random tests.

#[cfg(test)]
mod append_only;
pub(crate) mod call;
#[cfg(test)]
mod conformance;
pub(crate) mod conversation;
pub(crate) mod declaration;
pub(crate) mod grammar;
pub(crate) mod openai;
pub(crate) mod parse;
#[cfg(test)]
mod parse_fuzz;
pub(crate) mod render;
pub(crate) mod schema;
pub(crate) mod sink;
pub(crate) mod tags;
pub(crate) mod template;
pub(crate) mod value;

pub use conversation::{
    Conversation, ModelPart, ModelTurn, ToolCall, ToolResponse, Turn, UserTurn,
};
pub use declaration::{ToolDeclaration, declaration};
pub use grammar::{CallGrammar, GrammarOptions, call_grammar};
pub use openai::{OpenAiChat, parse_to_jsonl, render_chat_json};
pub use parse::{ParseEvent, ParseOptions, StreamEnd, StreamParser};
pub use render::{RenderError, RenderOptions, Rendered, Variant, render, render_spans};
pub use schema::{parameters_for, parameters_from_schema, tool_declaration};
pub use template::{ChatTemplate, TemplateError, probe};
