//! The `Tool` trait every built-in tool implements, and the permission kind it declares.

use super::{Prepared, ToolContext, ToolError};

/// What a tool call may do; drives the agent's permission checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ToolKind {
    /// Only reads files or repository state.
    Read,
    /// Creates or changes files in the project.
    Edit,
    /// Runs an arbitrary shell command.
    Shell,
    /// Changes the git repository (commits).
    Git,
    /// Calls a tool of an MCP server; `read_only` when the server annotates it
    /// `readOnlyHint: true`.
    Mcp {
        /// The server's read-only hint.
        read_only: bool,
    },
}

/// A tool the model can call.
pub trait Tool: Send + Sync {
    /// The name the model calls the tool by.
    fn name(&self) -> &'static str;
    /// The description shown to the model (from `tools/NAME.md`).
    fn description(&self) -> &'static str;
    /// JSON schema of the arguments object.
    fn parameters_schema(&self) -> serde_json::Value;
    /// The most powerful kind of action this tool can take.
    fn kind(&self) -> ToolKind;
    /// Checks the arguments and works out what the call would do, without changing anything.
    fn prepare(&self, args: serde_json::Value, ctx: &ToolContext) -> Result<Prepared, ToolError>;
}
