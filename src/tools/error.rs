//! Why a tool call could not be prepared.

use thiserror::Error;

/// Why a tool call was refused or failed before doing anything. The message is written for the
/// model: it says what was wrong and, where possible, what to do instead.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ToolError {
    /// No tool has this name.
    #[error("Unknown tool `{name}`. Available tools: {available}.")]
    UnknownTool {
        /// The name the model used.
        name: String,
        /// Comma-separated names of the tools that exist.
        available: String,
    },
    /// The arguments did not match the tool's parameters.
    #[error("Invalid arguments for {tool}: {problem}.\nExpected parameters:\n{expected}")]
    InvalidArguments {
        /// The tool called.
        tool: &'static str,
        /// What was wrong (missing field, wrong type...).
        problem: String,
        /// The parameters the tool takes, one per line.
        expected: String,
    },
    /// The call is not allowed (path outside the project, file not read first...).
    #[error("{0}")]
    Refused(String),
    /// The call was allowed but cannot be carried out.
    #[error("{0}")]
    Failed(String),
}
