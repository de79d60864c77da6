//! Renders chat templates with minijinja, the way Hugging Face and llama.cpp
//! run them, and checks that gem's renderer agrees with a template.
//!
//! Used by the conformance tests (against Google's reference templates) and
//! at model load time: when a GGUF embeds a chat template, [`probe`] renders a
//! set of probe conversations with gem's renderer and with that template; if
//! they differ the caller warns and falls back to the template.

use minijinja::{AutoEscape, Environment, Error, ErrorKind};
use serde_json::Value;
use thiserror::Error;

use crate::gemma::conversation::{Conversation, ModelPart, ToolCall, ToolResponse};
use crate::gemma::declaration::ToolDeclaration;
use crate::gemma::openai::OpenAiChat;
use crate::gemma::render::{RenderError, RenderOptions, Variant, render};
use crate::gemma::tags::BOS;

/// Why a template could not be used.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TemplateError {
    /// The template does not compile or fails while rendering.
    #[error("chat template error: {0}")]
    Template(String),
    /// The context is not a JSON object.
    #[error("the template context must be a JSON object")]
    Context,
    /// gem's renderer failed on a probe conversation.
    #[error(transparent)]
    Render(#[from] RenderError),
}

impl From<Error> for TemplateError {
    fn from(error: Error) -> Self {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        TemplateError::Template(message)
    }
}

/// A compiled chat template.
pub struct ChatTemplate {
    env: Environment<'static>,
}

/// Name of the template inside the environment.
const NAME: &str = "chat_template";

impl ChatTemplate {
    /// Compiles `source` with the settings chat templates expect: blocks
    /// trimmed, no auto-escaping, Python string/dict methods (`.get`,
    /// `.split`, …) and `raise_exception`.
    pub fn new(source: &str) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()?,
        );
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function(
            "raise_exception",
            |message: String| -> Result<String, Error> {
                Err(Error::new(ErrorKind::InvalidOperation, message))
            },
        );
        env.add_template_owned(NAME, source.to_string())?;
        Ok(ChatTemplate { env })
    }

    /// Renders with a JSON object as context; `bos_token` defaults to `<bos>`.
    pub fn render(&self, context: &Value) -> Result<String, TemplateError> {
        let Value::Object(map) = context else {
            return Err(TemplateError::Context);
        };
        let mut map = map.clone();
        map.entry("bos_token")
            .or_insert_with(|| Value::String(BOS.to_string()));
        let template = self.env.get_template(NAME)?;
        Ok(template.render(minijinja::value::Serde(&map))?)
    }

    /// Renders an OpenAI-shaped chat.
    fn render_chat(&self, chat: &OpenAiChat) -> Result<String, TemplateError> {
        // Serialising plain data to a JSON value cannot fail.
        let context = serde_json::to_value(chat).unwrap_or(Value::Null);
        self.render(&context)
    }

    /// Renders a gem conversation through the template.
    pub fn render_conversation(
        &self,
        conv: &Conversation,
        opts: &RenderOptions,
    ) -> Result<String, TemplateError> {
        self.render_chat(&OpenAiChat::from_conversation(conv, opts))
    }
}

/// Where gem's renderer and a template first differ.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeMismatch {
    /// Which probe conversation.
    pub probe: String,
    /// Byte offset of the first difference.
    pub offset: usize,
    /// gem's rendering from a little before the difference.
    pub ours: String,
    /// The template's rendering from the same point.
    pub theirs: String,
}

/// Renders the probe conversations both ways; `None` when all agree. An
/// error means the template fails on a probe (it cannot be the reference
/// for these conversations).
pub fn probe(template_src: &str, variant: Variant) -> Result<Option<ProbeMismatch>, TemplateError> {
    let template = ChatTemplate::new(template_src)?;
    for (name, conv, opts) in probe_cases(variant) {
        let ours = render(&conv, &opts)?;
        let theirs = template.render_conversation(&conv, &opts)?;
        if ours != theirs {
            let offset = ours
                .bytes()
                .zip(theirs.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(ours.len().min(theirs.len()));
            let from = floor_char_boundary(&ours, offset.saturating_sub(40));
            return Ok(Some(ProbeMismatch {
                probe: name.to_string(),
                offset,
                ours: excerpt(&ours, from),
                theirs: excerpt(&theirs, from),
            }));
        }
    }
    Ok(None)
}

/// The variant a template behaves like (26B/31B add an empty thought channel
/// to the generation prompt when thinking is off).
#[cfg(test)]
pub fn detect_variant(template_src: &str) -> Result<Variant, TemplateError> {
    let template = ChatTemplate::new(template_src)?;
    let mut conv = Conversation::default();
    conv.push_user("hi");
    let opts = RenderOptions {
        thinking: false,
        ..RenderOptions::default()
    };
    let text = template.render_conversation(&conv, &opts)?;
    Ok(if text.ends_with("<|channel>thought\n<channel|>") {
        Variant::Large
    } else {
        Variant::E2b
    })
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn excerpt(text: &str, from: usize) -> String {
    let from = floor_char_boundary(text, from.min(text.len()));
    text[from..].chars().take(120).collect()
}

/// The conversations a template is probed with.
fn probe_cases(variant: Variant) -> Vec<(&'static str, Conversation, RenderOptions)> {
    let tools = vec![
        ToolDeclaration {
            name: "read_file".into(),
            description: "Read a file.".into(),
            parameters: serde_json::json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "Relative path."},
                    "range": {"type": "array", "items": {"type": "integer"}, "nullable": true},
                    "mode": {"type": "string", "enum": ["text", "hex"]}
                },
                "required": ["path"]
            }),
        },
        ToolDeclaration {
            name: "shell".into(),
            description: "Run a command.".into(),
            parameters: serde_json::json!({
                "type": "object",
                "properties": {"command": {"type": "string"},
                               "env": {"type": "object", "properties": {"name": {"type": "string"}}}},
                "required": ["command"]
            }),
        },
    ];
    let mut plain = Conversation::new(Some(" You are gem. ".into()));
    plain.push_user("Hello\nthere ");
    plain.extend_model([ModelPart::Text("Hi!".into())]);
    plain.push_user("Bye");

    let mut tool_turn = Conversation::new(Some("Work carefully.".into()));
    tool_turn.push_user("Show main.rs");
    tool_turn.extend_model([
        ModelPart::Thinking("Read it first.".into()),
        ModelPart::ToolCall(ToolCall {
            name: "read_file".into(),
            arguments: serde_json::json!({"path": "src/main.rs", "range": [1, 20], "mode": "text"}),
        }),
        ModelPart::ToolResponse(ToolResponse {
            name: "read_file".into(),
            response: serde_json::json!("fn main() {}\n"),
        }),
        ModelPart::Thinking("Short file.".into()),
        ModelPart::Text("It is empty.".into()),
    ]);
    tool_turn.push_user("Run it");
    tool_turn.extend_model([
        ModelPart::ToolCall(ToolCall {
            name: "shell".into(),
            arguments: serde_json::json!({"command": "cargo run", "env": {"name": "x"}}),
        }),
        ModelPart::ToolResponse(ToolResponse {
            name: "shell".into(),
            response: serde_json::json!({"exit": 0, "stdout": "ok", "ratio": 0.5, "err": null}),
        }),
    ]);

    let base = RenderOptions {
        variant,
        thinking: false,
        tools: Vec::new(),
        add_generation_prompt: true,
        preserve_thinking: true,
    };
    vec![
        ("plain, thinking off", plain.clone(), base.clone()),
        (
            "plain, thinking on",
            plain,
            RenderOptions {
                thinking: true,
                ..base.clone()
            },
        ),
        (
            "tools, thinking on",
            tool_turn.clone(),
            RenderOptions {
                thinking: true,
                tools: tools.clone(),
                ..base.clone()
            },
        ),
        (
            "tools, thinking off",
            tool_turn,
            RenderOptions {
                tools,
                preserve_thinking: false,
                ..base
            },
        ),
    ]
}
