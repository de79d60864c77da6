//! The `/mcp` listing: each MCP server, its state, its tools and its log.

use crate::plural::plural;
use crate::protocol::McpServerStatus;

/// The notice `/mcp` shows (markdown, as the transcript renders notices).
pub fn mcp_text(servers: &[McpServerStatus]) -> String {
    if servers.is_empty() {
        return "**MCP servers** none configured. Add one with `gem mcp add NAME -- COMMAND \
                ARGS…`, in `.mcp.json` or under `[mcp_servers.NAME]` in config.toml."
            .into();
    }
    let mut text = format!(
        "**MCP servers** {}\n",
        plural(servers.len(), "server", "servers")
    );
    for server in servers {
        text.push_str(&format!(
            "- `{}`: {}, {}\n",
            server.name,
            server.state,
            plural(server.tools.len(), "tool", "tools")
        ));
        for tool in &server.tools {
            text.push_str(&format!("  - `{tool}`\n"));
        }
        if let Some(log) = &server.log {
            text.push_str(&format!("  - log: {log}\n"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(name: &str, state: &str, tools: &[&str]) -> McpServerStatus {
        McpServerStatus {
            name: name.into(),
            state: state.into(),
            tools: tools.iter().map(|t| t.to_string()).collect(),
            log: Some(format!("/home/u/.cache/gem/mcp/{name}.log")),
        }
    }

    #[test]
    fn lists_state_tools_and_log_of_each_server() {
        let text = mcp_text(&[
            server("fs", "ready", &["mcp__fs__read_file", "mcp__fs__list"]),
            server("gh", "failed: timed out after 10 s", &[]),
        ]);
        assert!(text.starts_with("**MCP servers** 2 servers\n"), "{text}");
        assert!(text.contains("- `fs`: ready, 2 tools\n  - `mcp__fs__read_file`\n"));
        assert!(text.contains("- `gh`: failed: timed out after 10 s, 0 tools\n"));
        assert!(text.contains("log: /home/u/.cache/gem/mcp/gh.log"));
    }

    #[test]
    fn none_configured_says_how_to_add_one() {
        assert!(mcp_text(&[]).contains("gem mcp add"));
    }
}
