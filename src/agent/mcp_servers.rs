//! The MCP servers an agent uses: their tools joined to the registry, `/mcp` reports, and a
//! notice when a server fails or stops (interactive sessions; headless ones print to stderr
//! from the manager).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Agent, mcp_permissions::McpRules, render_options};
use crate::mcp::{McpManager, ServerState, names};
use crate::protocol::{Event, McpServerStatus};

/// The manager and the state of each server last reported to the frontend.
pub(super) struct McpServers {
    manager: Arc<McpManager>,
    reported: BTreeMap<String, ServerState>,
}

impl Agent {
    /// Joins the tools of `manager`'s ready servers to the registry, after the built-in ones
    /// (sorted by server then tool, so declarations and the KV prefix stay stable across
    /// runs), with the `--allow` patterns that apply to them.
    pub fn attach_mcp(&mut self, manager: Arc<McpManager>, allow: &[String]) {
        for tool in crate::mcp::tools(&manager) {
            self.registry.register(tool);
        }
        self.mcp_rules = McpRules::new(allow);
        self.render = render_options(&self.registry, self.config.variant, self.config.thinking);
        self.mcp = Some(McpServers {
            manager,
            reported: BTreeMap::new(),
        });
    }

    /// Answers `/mcp`: every configured server, its state and its tools.
    pub(super) fn report_mcp(&self) {
        let servers = self.mcp.as_ref().map_or_else(Vec::new, |mcp| {
            mcp.manager
                .states()
                .into_iter()
                .map(|(name, state)| McpServerStatus {
                    tools: mcp
                        .manager
                        .tools(&name)
                        .iter()
                        .map(|t| names::tool_name(&name, &t.name))
                        .collect(),
                    log: mcp.manager.log_file(&name).map(|p| p.display().to_string()),
                    state: state.label(),
                    name,
                })
                .collect()
        });
        self.emit(Event::McpServers { servers });
    }

    /// In an interactive session, warns once about each server that failed to start or has
    /// stopped since the last report (headless, the manager has said so on stderr already).
    pub(super) fn report_mcp_changes(&mut self) {
        if !self.config.interactive {
            return;
        }
        let Some(mcp) = self.mcp.as_mut() else {
            return;
        };
        let mut warnings = Vec::new();
        for (name, state) in mcp.manager.states() {
            if mcp.reported.get(&name) == Some(&state) {
                continue;
            }
            match &state {
                ServerState::Failed(why) => warnings.push(format!(
                    "MCP server `{name}` did not start: {why}; continuing without it (/mcp lists \
                     the servers)"
                )),
                ServerState::Stopped(why) => warnings.push(format!(
                    "MCP server `{name}` stopped: {why}; its tools are unavailable for the rest \
                     of the session"
                )),
                ServerState::Ready | ServerState::Disabled | ServerState::Untrusted => {}
            }
            mcp.reported.insert(name, state);
        }
        for message in warnings {
            self.emit(Event::Warning { message });
        }
    }
}
