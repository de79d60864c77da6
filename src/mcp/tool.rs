//! Each MCP tool as a gem [`Tool`] named `mcp__SERVER__TOOL`, in a deterministic order (by
//! server, then tool) so the declarations — and with them the KV prefix cache — are the same
//! from run to run.

use std::sync::Arc;

use serde_json::Value;

use super::manager::{McpManager, ToolInfo};
use super::{names, result, schema_notes};
use crate::tools::{Prepared, Tool, ToolContext, ToolError, ToolKind, ToolOutput};

/// Longest tool description passed on to the model (server text is untrusted and may be long).
pub const MAX_DESCRIPTION_BYTES: usize = 4000;

/// One tool of one MCP server.
pub struct McpTool {
    manager: Arc<McpManager>,
    server: String,
    info: ToolInfo,
    name: &'static str,
    description: &'static str,
}

impl McpTool {
    /// The tool `info` of `server`. Its name and description are leaked to meet the
    /// [`Tool`] trait's `&'static str`: MCP tools are built once per session.
    pub fn new(manager: Arc<McpManager>, server: &str, info: ToolInfo) -> Self {
        let name = names::tool_name(server, &info.name);
        let description = description_for(server, &info.description);
        Self {
            manager,
            server: server.to_string(),
            info,
            name: Box::leak(name.into_boxed_str()),
            description: Box::leak(description.into_boxed_str()),
        }
    }
}

/// The description the model reads: which server the tool comes from, then the server's own
/// text (cut at [`MAX_DESCRIPTION_BYTES`]).
pub fn description_for(server: &str, text: &str) -> String {
    let mut text = text.trim().to_string();
    if text.len() > MAX_DESCRIPTION_BYTES {
        let mut cut = MAX_DESCRIPTION_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    if text.is_empty() {
        format!("A tool of the MCP server `{server}`.")
    } else {
        format!("(MCP server `{server}`) {text}")
    }
}

impl Tool for McpTool {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> &'static str {
        self.description
    }

    fn parameters_schema(&self) -> Value {
        self.info.input_schema.clone()
    }

    fn kind(&self) -> ToolKind {
        ToolKind::Mcp {
            read_only: self.info.read_only,
        }
    }

    fn prepare(&self, args: Value, _ctx: &ToolContext) -> Result<Prepared, ToolError> {
        let args = match args {
            Value::Null => Value::Object(Default::default()),
            Value::Object(map) => Value::Object(map),
            other => {
                return Err(ToolError::InvalidArguments {
                    tool: self.name,
                    problem: format!("the arguments must be an object, not {other}"),
                    expected: serde_json::to_string(&self.info.input_schema).unwrap_or_default(),
                });
            }
        };
        let summary = format!(
            "MCP server `{}`, tool `{}`, arguments: {}",
            self.server,
            self.info.name,
            serde_json::to_string(&args).unwrap_or_default()
        );
        let manager = self.manager.clone();
        let server = self.server.clone();
        let tool = self.info.name.clone();
        Ok(Prepared::new(
            None,
            self.kind(),
            summary,
            move |ctx| match manager.call(&server, &tool, args, &ctx.cancel) {
                Ok(value) => result::to_output(&tool, &value),
                Err(e) => ToolOutput::error(e.to_string()),
            },
        ))
    }
}

/// The tools of every ready server, sorted by server then tool; schema simplifications are
/// noted in each server's log, and a tool whose gem name repeats an earlier one is left out.
pub fn tools(manager: &Arc<McpManager>) -> Vec<Box<dyn Tool>> {
    let mut out: Vec<Box<dyn Tool>> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (server, _) in manager.states() {
        for info in manager.tools(&server) {
            let name = names::tool_name(&server, &info.name);
            if !seen.insert(name.clone()) {
                manager.note(
                    &server,
                    &format!(
                        "tool `{}` left out: its name {name} repeats another tool's",
                        info.name
                    ),
                );
                continue;
            }
            for line in schema_notes::simplifications(&info.input_schema) {
                manager.note(
                    &server,
                    &format!("{name}: schema simplified for Gemma 4: {line}"),
                );
            }
            out.push(Box::new(McpTool::new(manager.clone(), &server, info)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_name_the_server_and_are_capped() {
        assert_eq!(
            description_for("fs", " Reads. "),
            "(MCP server `fs`) Reads."
        );
        assert_eq!(description_for("fs", ""), "A tool of the MCP server `fs`.");
        let long = description_for("fs", &"é".repeat(MAX_DESCRIPTION_BYTES));
        assert!(long.len() < MAX_DESCRIPTION_BYTES + 40);
        assert!(long.ends_with('…'));
    }
}
