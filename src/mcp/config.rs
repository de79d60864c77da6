//! Which MCP servers to start: the project's `.mcp.json` (Claude Code's shape) and the
//! `[mcp_servers.NAME]` tables of `~/.config/gem/config.toml` (Codex's keys).
//!
//! `.mcp.json`:
//! `{"mcpServers": {"NAME": {"command": "…", "args": […], "env": {…}}}}` or
//! `{"type": "http", "url": "…", "headers": {…}}`; `${VAR}` and `${VAR:-default}` in
//! strings are expanded from the environment, as Claude Code does.
//!
//! `config.toml`: `command`/`args`/`env`/`cwd` or `url`/`bearer_token_env_var`/
//! `http_headers`, plus `startup_timeout_sec`, `tool_timeout_sec`, `enabled`,
//! `enabled_tools`/`disabled_tools`.
//!
//! A project's `.mcp.json` is part of the repository, and a server is a program gem would run:
//! its servers start only in `full-auto` mode or when the project is listed in
//! `mcp_trusted_projects` of the user's config (`gem mcp list` shows them either way). A server
//! of the same name in the user's config wins.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::McpError;

/// Time a server has to start and list its tools, unless configured (Codex's default).
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// Time one tool call may take, unless configured (Codex's default).
pub const DEFAULT_TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// How gem talks to a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// A child process speaking JSON-RPC on stdin/stdout.
    Stdio {
        /// The program.
        command: String,
        /// Its arguments.
        args: Vec<String>,
        /// Variables added to gem's environment.
        env: BTreeMap<String, String>,
        /// Working directory (default: the project root).
        cwd: Option<PathBuf>,
    },
    /// A streamable-HTTP endpoint.
    Http {
        /// The endpoint URL.
        url: String,
        /// Environment variable holding a bearer token for the `Authorization` header.
        bearer_token_env_var: Option<String>,
        /// Extra headers sent with every request.
        headers: BTreeMap<String, String>,
    },
}

/// Where a server's configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The user's `config.toml`.
    User(PathBuf),
    /// The project's `.mcp.json`; `trusted` says whether it may be started.
    Project {
        /// The file.
        path: PathBuf,
        /// Whether the user trusts this project's servers (or runs in full-auto).
        trusted: bool,
    },
}

/// One configured server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The name (the `SERVER` of `mcp__SERVER__TOOL`).
    pub name: String,
    /// How to reach it.
    pub transport: Transport,
    /// Time to start and list tools.
    pub startup_timeout: Duration,
    /// Time one call may take.
    pub tool_timeout: Duration,
    /// Whether to start it at all.
    pub enabled: bool,
    /// Only these tools are offered to the model (all when `None`).
    pub enabled_tools: Option<Vec<String>>,
    /// These tools are never offered.
    pub disabled_tools: Vec<String>,
    /// Where it was configured.
    pub source: Source,
}

impl ServerConfig {
    /// Whether the server should be started in this session.
    pub fn should_start(&self) -> bool {
        self.enabled && !matches!(self.source, Source::Project { trusted: false, .. })
    }

    /// Whether the tool called `tool` (the server's own name) is offered to the model.
    pub fn tool_enabled(&self, tool: &str) -> bool {
        self.enabled_tools
            .as_ref()
            .is_none_or(|allowed| allowed.iter().any(|t| t == tool))
            && !self.disabled_tools.iter().any(|t| t == tool)
    }

    /// One line saying how the server is reached (no secrets: header values are not shown).
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Stdio { command, args, .. } => {
                let mut line = command.clone();
                for arg in args {
                    line.push(' ');
                    line.push_str(arg);
                }
                line
            }
            Transport::Http { url, .. } => url.clone(),
        }
    }
}

/// A `[mcp_servers.NAME]` table (Codex's keys); also what `gem mcp add` writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TomlServer {
    /// The program of a stdio server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Its arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Extra environment variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<PathBuf>,
    /// URL of a streamable-HTTP server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Variable holding a bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_env_var: Option<String>,
    /// Extra HTTP headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub http_headers: BTreeMap<String, String>,
    /// Seconds to start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_timeout_sec: Option<f64>,
    /// Seconds per call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_timeout_sec: Option<f64>,
    /// `false` keeps it configured but stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Allow-list of tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_tools: Option<Vec<String>>,
    /// Deny-list of tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disabled_tools: Vec<String>,
}

/// The MCP part of the user's config file.
#[derive(Debug, Default, Deserialize)]
struct UserFile {
    #[serde(default)]
    mcp_servers: BTreeMap<String, TomlServer>,
    #[serde(default)]
    mcp_trusted_projects: Vec<PathBuf>,
}

/// A server entry of `.mcp.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonServer {
    #[serde(rename = "type")]
    kind: Option<String>,
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    cwd: Option<PathBuf>,
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonFile {
    #[serde(default)]
    mcp_servers: BTreeMap<String, JsonServer>,
}

/// The user's config file: `$XDG_CONFIG_HOME/gem/config.toml` (or the platform's equivalent).
pub fn user_config_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("gem").join("config.toml"))
}

/// Every configured server, sorted by name: the user's, then the project's `.mcp.json` for
/// names the user did not configure. `full_auto` trusts the project's servers.
pub fn load(project_root: &Path, full_auto: bool) -> Result<Vec<ServerConfig>, McpError> {
    load_from(user_config_path().as_deref(), project_root, full_auto)
}

/// [`load`] with an explicit user config path (`None`: no user config).
pub fn load_from(
    user_path: Option<&Path>,
    project_root: &Path,
    full_auto: bool,
) -> Result<Vec<ServerConfig>, McpError> {
    let mut servers = BTreeMap::new();
    let mut trusted_projects = Vec::new();
    if let Some(path) = user_path
        && let Ok(text) = std::fs::read_to_string(path)
    {
        let file: UserFile = toml::from_str(&text).map_err(|e| McpError::Config {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        trusted_projects = file.mcp_trusted_projects;
        for (name, entry) in file.mcp_servers {
            let config =
                from_toml(&name, &entry, Source::User(path.to_path_buf())).map_err(|detail| {
                    McpError::Config {
                        path: path.to_path_buf(),
                        detail,
                    }
                })?;
            servers.insert(name, config);
        }
    }
    let json_path = project_root.join(".mcp.json");
    if let Ok(text) = std::fs::read_to_string(&json_path) {
        let root = canonical(project_root);
        let trusted = full_auto || trusted_projects.iter().any(|p| canonical(p) == root);
        let file: JsonFile = serde_json::from_str(&text).map_err(|e| McpError::Config {
            path: json_path.clone(),
            detail: e.to_string(),
        })?;
        for (name, entry) in file.mcp_servers {
            if servers.contains_key(&name) {
                continue;
            }
            let source = Source::Project {
                path: json_path.clone(),
                trusted,
            };
            let config = from_json(&name, entry, source).map_err(|detail| McpError::Config {
                path: json_path.clone(),
                detail,
            })?;
            servers.insert(name, config);
        }
    }
    Ok(servers.into_values().collect())
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Checks that a server name can be part of a tool name (letters, digits, `_`, `-`).
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "server name {name:?} must be letters, digits, `_` or `-`"
        ));
    }
    if name.contains("__") {
        return Err(format!(
            "server name {name:?} must not contain `__` (it separates the parts of mcp__SERVER__TOOL)"
        ));
    }
    Ok(())
}

fn seconds(value: Option<f64>, default: Duration, key: &str) -> Result<Duration, String> {
    match value {
        None => Ok(default),
        Some(s) if s.is_finite() && s > 0.0 => Ok(Duration::from_secs_f64(s)),
        Some(s) => Err(format!(
            "{key} must be a positive number of seconds, not {s}"
        )),
    }
}

/// A `[mcp_servers.NAME]` table as a server.
pub fn from_toml(name: &str, entry: &TomlServer, source: Source) -> Result<ServerConfig, String> {
    check_name(name)?;
    let transport = match (&entry.command, &entry.url) {
        (Some(command), None) => Transport::Stdio {
            command: command.clone(),
            args: entry.args.clone(),
            env: entry.env.clone(),
            cwd: entry.cwd.clone(),
        },
        (None, Some(url)) => Transport::Http {
            url: url.clone(),
            bearer_token_env_var: entry.bearer_token_env_var.clone(),
            headers: entry.http_headers.clone(),
        },
        (Some(_), Some(_)) => {
            return Err(format!(
                "mcp_servers.{name}: give either `command` or `url`, not both"
            ));
        }
        (None, None) => return Err(format!("mcp_servers.{name}: needs `command` or `url`")),
    };
    Ok(ServerConfig {
        name: name.to_string(),
        transport,
        startup_timeout: seconds(
            entry.startup_timeout_sec,
            DEFAULT_STARTUP_TIMEOUT,
            "startup_timeout_sec",
        )?,
        tool_timeout: seconds(
            entry.tool_timeout_sec,
            DEFAULT_TOOL_TIMEOUT,
            "tool_timeout_sec",
        )?,
        enabled: entry.enabled.unwrap_or(true),
        enabled_tools: entry.enabled_tools.clone(),
        disabled_tools: entry.disabled_tools.clone(),
        source,
    })
}

fn from_json(name: &str, entry: JsonServer, source: Source) -> Result<ServerConfig, String> {
    check_name(name)?;
    let kind = entry
        .kind
        .as_deref()
        .unwrap_or(if entry.url.is_some() { "http" } else { "stdio" });
    let transport = match kind {
        "stdio" => Transport::Stdio {
            command: expand_env(
                &entry
                    .command
                    .ok_or_else(|| format!("mcpServers.{name}: a stdio server needs `command`"))?,
            ),
            args: entry.args.iter().map(|a| expand_env(a)).collect(),
            env: entry
                .env
                .iter()
                .map(|(k, v)| (k.clone(), expand_env(v)))
                .collect(),
            cwd: entry.cwd,
        },
        "http" | "streamable-http" => Transport::Http {
            url: expand_env(
                &entry
                    .url
                    .ok_or_else(|| format!("mcpServers.{name}: an http server needs `url`"))?,
            ),
            bearer_token_env_var: None,
            headers: entry
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), expand_env(v)))
                .collect(),
        },
        other => {
            return Err(format!(
                "mcpServers.{name}: transport type {other:?} is not supported (use stdio or http)"
            ));
        }
    };
    Ok(ServerConfig {
        name: name.to_string(),
        transport,
        startup_timeout: DEFAULT_STARTUP_TIMEOUT,
        tool_timeout: DEFAULT_TOOL_TIMEOUT,
        enabled: true,
        enabled_tools: None,
        disabled_tools: Vec::new(),
        source,
    })
}

/// Expands `${VAR}` and `${VAR:-default}` from the environment (unset, no default: empty).
pub fn expand_env(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &after[..end];
        let (var, default) = match inner.split_once(":-") {
            Some((var, default)) => (var, Some(default)),
            None => (inner, None),
        };
        match std::env::var(var) {
            Ok(value) if !value.is_empty() || default.is_none() => out.push_str(&value),
            _ => out.push_str(default.unwrap_or_default()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn reads_codex_tables() {
        let dir = tempfile::tempdir().unwrap();
        let user = write(
            dir.path(),
            "config.toml",
            r#"
model = "x.gguf"
[mcp_servers.docs]
command = "npx"
args = ["-y", "docs-server"]
env = { TOKEN = "t" }
startup_timeout_sec = 2.5
tool_timeout_sec = 30
enabled_tools = ["search"]
disabled_tools = ["delete"]

[mcp_servers.remote]
url = "https://example.com/mcp"
bearer_token_env_var = "REMOTE_TOKEN"
http_headers = { "X-Team" = "gem" }
enabled = false
"#,
        );
        let servers = load_from(Some(&user), dir.path(), false).unwrap();
        assert_eq!(servers.len(), 2);
        let docs = &servers[0];
        assert_eq!(docs.name, "docs");
        assert_eq!(docs.startup_timeout, Duration::from_millis(2500));
        assert_eq!(docs.tool_timeout, Duration::from_secs(30));
        assert_eq!(docs.describe(), "npx -y docs-server");
        assert!(docs.tool_enabled("search") && !docs.tool_enabled("delete"));
        assert!(!docs.tool_enabled("other"));
        assert!(docs.should_start());
        let remote = &servers[1];
        assert!(!remote.should_start());
        assert_eq!(
            remote.transport,
            Transport::Http {
                url: "https://example.com/mcp".into(),
                bearer_token_env_var: Some("REMOTE_TOKEN".into()),
                headers: [("X-Team".to_string(), "gem".to_string())].into(),
            }
        );
    }

    #[test]
    fn reads_claude_json_untrusted_unless_listed_or_full_auto() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            ".mcp.json",
            r#"{"mcpServers": {
                "fs": {"command": "npx", "args": ["server", "${GEM_MCP_TEST_UNSET:-/tmp}"]},
                "web": {"type": "http", "url": "http://127.0.0.1:9/mcp", "headers": {"A": "b"}}
            }}"#,
        );
        let servers = load_from(None, dir.path(), false).unwrap();
        assert_eq!(servers.len(), 2);
        assert!(servers.iter().all(|s| !s.should_start()));
        assert_eq!(servers[0].describe(), "npx server /tmp");
        assert!(matches!(servers[1].transport, Transport::Http { .. }));
        assert!(
            load_from(None, dir.path(), true)
                .unwrap()
                .iter()
                .all(ServerConfig::should_start)
        );
        let user = write(
            dir.path(),
            "config.toml",
            &format!(
                "mcp_trusted_projects = [{:?}]\n[mcp_servers.fs]\ncommand = \"mine\"\n",
                dir.path()
            ),
        );
        let servers = load_from(Some(&user), dir.path(), false).unwrap();
        assert!(servers.iter().all(ServerConfig::should_start));
        assert_eq!(servers[0].describe(), "mine", "the user's entry wins");
    }

    #[test]
    fn rejects_bad_entries() {
        let dir = tempfile::tempdir().unwrap();
        for text in [
            "[mcp_servers.a]\n",
            "[mcp_servers.a]\ncommand = \"x\"\nurl = \"http://x\"\n",
            "[mcp_servers.\"a b\"]\ncommand = \"x\"\n",
            "[mcp_servers.a__b]\ncommand = \"x\"\n",
            "[mcp_servers.a]\ncommand = \"x\"\ntool_timeout_sec = 0\n",
            "[mcp_servers.a]\ncommand = \"x\"\ncomand = \"typo\"\n",
        ] {
            let user = write(dir.path(), "config.toml", text);
            assert!(load_from(Some(&user), dir.path(), false).is_err(), "{text}");
        }
    }

    #[test]
    fn expands_environment_references() {
        // SAFETY: the variable name is unique to this test.
        unsafe { std::env::set_var("GEM_MCP_TEST_VAR", "v") };
        assert_eq!(expand_env("a${GEM_MCP_TEST_VAR}b"), "avb");
        assert_eq!(expand_env("${GEM_MCP_TEST_NOPE:-d}"), "d");
        assert_eq!(expand_env("${GEM_MCP_TEST_NOPE}"), "");
        assert_eq!(expand_env("x${open"), "x${open");
    }
}
