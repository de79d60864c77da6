//! MCP servers as gem tools: the client side of the Model Context Protocol (on the official
//! Rust SDK, `rmcp`), over stdio child processes and streamable HTTP.
//!
//! * [`config`]: the servers configured in the project's `.mcp.json` and the user's
//!   `config.toml`;
//! * [`manager`]: starting them (in parallel, each within its startup timeout), calling their
//!   tools (each call within its timeout) and ending them;
//! * [`tool`]: every MCP tool as a [`crate::tools::Tool`] named `mcp__SERVER__TOOL`;
//! * [`result`]: a call's result as the text the model reads;
//! * [`command`]: `gem mcp list|get|add|remove`.
//!
//! Permissions are the agent's (`crate::agent::mcp_permissions`): server-provided text never
//! widens them.

mod children;
pub mod command;
pub(crate) mod config;
pub(crate) mod config_edit;
mod error;
pub(crate) mod manager;
pub(crate) mod names;
pub(crate) mod result;
pub(crate) mod schema_notes;
pub(crate) mod tool;

use std::path::Path;
use std::sync::Arc;

pub use config::ServerConfig;
pub use error::McpError;
pub use manager::{McpManager, Notices, ServerState, StartOptions};
pub use tool::{McpTool, tools};

/// Starts the servers configured for the project at `root`, or returns `None` when there are
/// none (no runtime is started then). Configuration errors and servers that fail to start are
/// reported on stderr; the session goes on without them. `full_auto` trusts the project's
/// `.mcp.json`; `interactive` keeps later notices off the screen (the TUI owns it).
pub fn start_session(root: &Path, full_auto: bool, interactive: bool) -> Option<Arc<McpManager>> {
    let configs = match config::load(root, full_auto) {
        Ok(configs) => configs,
        Err(e) => {
            eprintln!("gem: warning: MCP servers not started: {e}");
            return None;
        }
    };
    if configs.is_empty() {
        return None;
    }
    for c in &configs {
        if let config::Source::Project {
            path,
            trusted: false,
        } = &c.source
        {
            eprintln!(
                "gem: MCP server `{}` from {} not started: the project's servers run only in \
                 full-auto mode or when the project is listed in mcp_trusted_projects of {}",
                c.name,
                path.display(),
                config::user_config_path()
                    .map_or("the user config".into(), |p| p.display().to_string())
            );
        }
    }
    let options = StartOptions {
        project_root: root.to_path_buf(),
        log_dir: manager::default_log_dir(),
        notices: if interactive {
            Notices::LogOnly
        } else {
            Notices::Stderr
        },
    };
    match McpManager::start(configs, options) {
        Ok(manager) => Some(Arc::new(manager)),
        Err(e) => {
            eprintln!("gem: warning: MCP servers not started: {e}");
            None
        }
    }
}

/// Ends every MCP server gem started that is still running (call when gem exits: a server
/// owned by a thread that never unwinds is ended here). Returns how many were ended.
pub fn shutdown() -> usize {
    children::kill_all()
}

/// Whether gem still tracks the server process group led by `pid` (for tests).
pub fn is_tracked(pid: u32) -> bool {
    children::is_registered(pid)
}
