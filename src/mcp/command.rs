//! `gem mcp list|get NAME|add|remove`: show the configured servers (starting them to find their
//! state and tools) and edit the user's config file.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::config::{self, ServerConfig, Source, TomlServer};
use super::manager::{self, McpManager, Notices, StartOptions};
use super::{McpError, config_edit, names};

/// `gem mcp` actions.
#[derive(Debug, Subcommand)]
pub enum McpAction {
    /// Every configured server with its state and tool count (starts them to find out).
    List {
        /// One JSON object per server, one per line.
        #[arg(long)]
        json: bool,
    },
    /// One server: how it is reached, where it is configured, its state and its tools.
    Get {
        /// The server's name.
        name: String,
    },
    /// Adds a server to the user's config file: `gem mcp add NAME -- COMMAND [ARGS…]` for a
    /// stdio server, `gem mcp add NAME --url URL` for a streamable-HTTP one.
    Add {
        /// The server's name (letters, digits, `_`, `-`).
        name: String,
        /// URL of a streamable-HTTP server.
        #[arg(long, conflicts_with = "command")]
        url: Option<String>,
        /// Environment variable for a stdio server (repeatable).
        #[arg(long = "env", value_name = "KEY=VALUE")]
        env: Vec<String>,
        /// HTTP header (repeatable).
        #[arg(long = "header", value_name = "NAME=VALUE")]
        headers: Vec<String>,
        /// Environment variable holding a bearer token for an HTTP server.
        #[arg(long, value_name = "VAR")]
        bearer_token_env_var: Option<String>,
        /// Seconds the server has to start.
        #[arg(long, value_name = "SECONDS")]
        startup_timeout_sec: Option<f64>,
        /// Seconds one tool call may take.
        #[arg(long, value_name = "SECONDS")]
        tool_timeout_sec: Option<f64>,
        /// Replace a server of the same name.
        #[arg(long)]
        replace: bool,
        /// The command and its arguments (after `--`).
        #[arg(last = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Removes a server from the user's config file.
    Remove {
        /// The server's name.
        name: String,
    },
}

/// Runs `action` for the project at `root`, writing to `out`; returns the exit code.
pub fn run(action: &McpAction, root: &Path, out: &mut dyn Write) -> Result<i32, McpError> {
    let io = |e: std::io::Error| McpError::Edit {
        path: PathBuf::from("<stdout>"),
        detail: e.to_string(),
    };
    match action {
        McpAction::List { json } => {
            let configs = config::load(root, false)?;
            if configs.is_empty() {
                writeln!(
                    out,
                    "no MCP servers configured (add one with `gem mcp add NAME -- COMMAND`, or in .mcp.json)"
                )
                .map_err(io)?;
                return Ok(0);
            }
            let manager = start(root, configs.clone())?;
            for c in &configs {
                let state = state_label(&manager, &c.name);
                let tools = manager.tools(&c.name).len();
                if *json {
                    let line = serde_json::json!({
                        "name": c.name,
                        "state": state,
                        "tools": tools,
                        "source": source_label(&c.source),
                        "transport": c.describe(),
                    });
                    writeln!(out, "{line}").map_err(io)?;
                } else {
                    writeln!(
                        out,
                        "{:<16} {:<10} {:>3} tools  {}  ({})",
                        c.name,
                        state,
                        tools,
                        c.describe(),
                        source_label(&c.source)
                    )
                    .map_err(io)?;
                }
            }
            Ok(0)
        }
        McpAction::Get { name } => {
            let configs = config::load(root, false)?;
            let Some(c) = configs.iter().find(|c| &c.name == name).cloned() else {
                writeln!(out, "no MCP server called `{name}` is configured").map_err(io)?;
                return Ok(1);
            };
            let manager = start(root, vec![c.clone()])?;
            write_details(out, &c, &manager).map_err(io)?;
            Ok(0)
        }
        McpAction::Add {
            name,
            url,
            env,
            headers,
            bearer_token_env_var,
            startup_timeout_sec,
            tool_timeout_sec,
            replace,
            command,
        } => {
            let path = user_path()?;
            let usage = |detail: &str| McpError::Edit {
                path: path.clone(),
                detail: detail.to_string(),
            };
            let mut entry = TomlServer {
                startup_timeout_sec: *startup_timeout_sec,
                tool_timeout_sec: *tool_timeout_sec,
                ..TomlServer::default()
            };
            match (url, command.split_first()) {
                (Some(url), None) => {
                    entry.url = Some(url.clone());
                    entry.bearer_token_env_var = bearer_token_env_var.clone();
                    entry.http_headers = pairs(headers).map_err(|e| usage(&e))?;
                }
                (None, Some((program, args))) => {
                    entry.command = Some(program.clone());
                    entry.args = args.to_vec();
                    entry.env = pairs(env).map_err(|e| usage(&e))?;
                }
                _ => {
                    return Err(usage(
                        "give a command after `--` (gem mcp add NAME -- COMMAND ARGS) or --url URL",
                    ));
                }
            }
            config::from_toml(name, &entry, Source::User(path.clone())).map_err(|e| usage(&e))?;
            config_edit::add(&path, name, &entry, *replace)?;
            writeln!(out, "added MCP server `{name}` to {}", path.display()).map_err(io)?;
            Ok(0)
        }
        McpAction::Remove { name } => {
            let path = user_path()?;
            if config_edit::remove(&path, name)? {
                writeln!(out, "removed MCP server `{name}` from {}", path.display()).map_err(io)?;
                Ok(0)
            } else {
                writeln!(out, "no MCP server called `{name}` in {}", path.display()).map_err(io)?;
                Ok(1)
            }
        }
    }
}

fn user_path() -> Result<PathBuf, McpError> {
    config::user_config_path().ok_or_else(|| McpError::Edit {
        path: PathBuf::from("~/.config/gem/config.toml"),
        detail: "no config directory on this system".into(),
    })
}

fn start(root: &Path, configs: Vec<ServerConfig>) -> Result<McpManager, McpError> {
    McpManager::start(
        configs,
        StartOptions {
            project_root: root.to_path_buf(),
            log_dir: manager::default_log_dir(),
            notices: Notices::Stderr,
        },
    )
}

fn state_label(manager: &McpManager, name: &str) -> String {
    manager
        .states()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, s)| match s {
            super::ServerState::Failed(_) => "failed".to_string(),
            super::ServerState::Stopped(_) => "stopped".to_string(),
            super::ServerState::Untrusted => "untrusted".to_string(),
            other => other.label(),
        })
        .unwrap_or_default()
}

fn source_label(source: &Source) -> String {
    match source {
        Source::User(path) => path.display().to_string(),
        Source::Project { path, .. } => path.display().to_string(),
    }
}

fn write_details(
    out: &mut dyn Write,
    c: &ServerConfig,
    manager: &McpManager,
) -> std::io::Result<()> {
    let state = manager
        .states()
        .into_iter()
        .find(|(n, _)| *n == c.name)
        .map(|(_, s)| s.label())
        .unwrap_or_default();
    writeln!(out, "{}", c.name)?;
    writeln!(out, "  state:     {state}")?;
    let transport = match &c.transport {
        config::Transport::Stdio { .. } => "stdio",
        config::Transport::Http { .. } => "streamable HTTP",
    };
    writeln!(out, "  transport: {transport}: {}", c.describe())?;
    writeln!(out, "  source:    {}", source_label(&c.source))?;
    writeln!(
        out,
        "  timeouts:  start {:.0} s, call {:.0} s",
        c.startup_timeout.as_secs_f64(),
        c.tool_timeout.as_secs_f64()
    )?;
    if let Some(log) = manager.log_file(&c.name) {
        writeln!(out, "  log:       {}", log.display())?;
    }
    let tools = manager.all_tools(&c.name);
    writeln!(out, "  tools:     {}", tools.len())?;
    for t in tools {
        let mut flags = Vec::new();
        if t.read_only {
            flags.push("read-only");
        }
        if !c.tool_enabled(&t.name) {
            flags.push("disabled");
        }
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!(" [{}]", flags.join(", "))
        };
        let first = t.description.lines().next().unwrap_or_default();
        writeln!(
            out,
            "    {}{flags}: {first}",
            names::tool_name(&c.name, &t.name)
        )?;
    }
    Ok(())
}

/// `KEY=VALUE` pairs.
fn pairs(items: &[String]) -> Result<std::collections::BTreeMap<String, String>, String> {
    items
        .iter()
        .map(|item| {
            item.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| format!("expected KEY=VALUE, not {item:?}"))
        })
        .collect()
}
