//! What can go wrong with MCP servers.

use std::path::PathBuf;

use thiserror::Error;

/// An MCP failure. Messages name the server and, where it helps, its log file.
#[derive(Debug, Error)]
pub enum McpError {
    /// A configuration file could not be read.
    #[error("invalid MCP configuration in {}: {detail}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The async runtime the MCP clients run on could not be started.
    #[error("cannot start the MCP runtime: {0}")]
    Runtime(std::io::Error),
    /// A server did not start, or did not answer the handshake or the tool listing.
    #[error("MCP server `{server}` did not start: {detail}")]
    Start {
        /// The server.
        server: String,
        /// Why.
        detail: String,
    },
    /// A server that was running has stopped.
    #[error("MCP server `{server}` is not running ({detail})")]
    NotRunning {
        /// The server.
        server: String,
        /// Why it stopped.
        detail: String,
    },
    /// A call took longer than the server's tool timeout.
    #[error("MCP tool `{tool}` of server `{server}` timed out after {seconds:.0} s")]
    Timeout {
        /// The server.
        server: String,
        /// The tool.
        tool: String,
        /// The timeout.
        seconds: f64,
    },
    /// The user interrupted the call.
    #[error("MCP tool `{tool}` of server `{server}` was cancelled")]
    Cancelled {
        /// The server.
        server: String,
        /// The tool.
        tool: String,
    },
    /// The server answered the call with a protocol error.
    #[error("MCP server `{server}` failed the call to `{tool}`: {detail}")]
    Call {
        /// The server.
        server: String,
        /// The tool.
        tool: String,
        /// The server's error.
        detail: String,
    },
    /// Editing the config file failed (`gem mcp add|remove`).
    #[error("cannot update {}: {detail}", path.display())]
    Edit {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
}
