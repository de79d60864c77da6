//! The MCP clients of one gem session: starts the configured servers in parallel on a tokio
//! runtime of its own (gem's agent runs on plain threads), lists their tools, calls them with a
//! timeout, notices a server that stopped, and ends every server when dropped.
//!
//! Starting never blocks longer than the longest configured startup timeout: a server that is
//! not ready by its timeout is reported and left out, and the session goes on without it.
//! Servers' stderr goes to `NAME.log` in the log directory (`$GEM_CACHE_DIR/mcp`, else the
//! user's cache dir `gem/mcp`), never to the screen; gem's own notes about a server (why it
//! failed, schema simplifications) go to the same file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{Peer, RoleClient, ServiceExt};
use serde_json::Value;

use super::config::{ServerConfig, Source, Transport};
use super::{McpError, children};

/// The state of one configured server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerState {
    /// `enabled = false` in the config.
    Disabled,
    /// A project `.mcp.json` server the user has not trusted.
    Untrusted,
    /// Started and listed its tools.
    Ready,
    /// Did not start (the reason).
    Failed(String),
    /// Was running and stopped (the reason).
    Stopped(String),
}

impl ServerState {
    /// One word or phrase for listings.
    pub fn label(&self) -> String {
        match self {
            Self::Disabled => "disabled".into(),
            Self::Untrusted => "not trusted (project .mcp.json)".into(),
            Self::Ready => "ready".into(),
            Self::Failed(why) => format!("failed: {why}"),
            Self::Stopped(why) => format!("stopped: {why}"),
        }
    }
}

/// A tool a server offers.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolInfo {
    /// The server's name for it.
    pub name: String,
    /// Its description (server-provided text: untrusted).
    pub description: String,
    /// Its `inputSchema`.
    pub input_schema: Value,
    /// Whether the server annotates it `readOnlyHint: true` (a hint, only used to allow the
    /// tool in read-only mode).
    pub read_only: bool,
}

/// Where the session reports what happens to servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notices {
    /// On stderr (headless modes, and startup in every mode).
    Stderr,
    /// Only in the log files (while the TUI owns the screen).
    LogOnly,
}

/// How to start the servers.
#[derive(Debug, Clone)]
pub struct StartOptions {
    /// Working directory of stdio servers without `cwd`.
    pub project_root: PathBuf,
    /// Where servers' stderr and gem's notes go (`None`: nowhere).
    pub log_dir: Option<PathBuf>,
    /// Where mid-session problems are reported.
    pub notices: Notices,
}

struct Server {
    config: ServerConfig,
    state: Mutex<ServerState>,
    tools: Vec<ToolInfo>,
    peer: Option<Peer<RoleClient>>,
    service: Mutex<Option<RunningService<RoleClient, ClientConfig>>>,
    pid: Option<u32>,
    log: Option<PathBuf>,
}

/// The running MCP servers of a session.
pub struct McpManager {
    runtime: Option<tokio::runtime::Runtime>,
    servers: Vec<Server>,
    notices: Notices,
}

/// What a started server came to.
struct Started {
    service: RunningService<RoleClient, ClientConfig>,
    tools: Vec<ToolInfo>,
}

/// The default log directory: `$GEM_CACHE_DIR/mcp`, else the user's cache dir `gem/mcp`.
pub fn default_log_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("GEM_CACHE_DIR") {
        return Some(PathBuf::from(dir).join("mcp"));
    }
    dirs::cache_dir().map(|dir| dir.join("gem").join("mcp"))
}

impl McpManager {
    /// Starts every server of `configs` that should start, in parallel, and waits for each
    /// until it is ready or its startup timeout passed. Servers that fail are reported on
    /// stderr (with their log file) and kept with their state; the rest of the session goes
    /// on without them.
    pub fn start(configs: Vec<ServerConfig>, options: StartOptions) -> Result<Self, McpError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("gem-mcp")
            .enable_all()
            .build()
            .map_err(McpError::Runtime)?;
        if let Some(dir) = &options.log_dir {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut pending = Vec::new();
        for config in configs {
            let log = options
                .log_dir
                .as_ref()
                .map(|d| d.join(format!("{}.log", config.name)));
            if !config.should_start() {
                let state = if config.enabled {
                    ServerState::Untrusted
                } else {
                    ServerState::Disabled
                };
                pending.push((config, log, Err(state), None));
                continue;
            }
            let pid_slot = Arc::new(Mutex::new(None));
            let task = runtime.spawn(start_one(
                config.clone(),
                options.project_root.clone(),
                log.clone(),
                pid_slot.clone(),
            ));
            pending.push((config, log, Ok(task), Some(pid_slot)));
        }
        let mut servers = Vec::new();
        for (config, log, task, pid_slot) in pending {
            let outcome = match task {
                Err(state) => Err(state),
                Ok(task) => match runtime.block_on(task) {
                    Ok(Ok(started)) => Ok(started),
                    Ok(Err(why)) => Err(ServerState::Failed(why)),
                    Err(e) => Err(ServerState::Failed(format!("the start task failed: {e}"))),
                },
            };
            // Known once the child was spawned (a failed start has killed it already).
            let pid = pid_slot.and_then(|slot| slot.lock().ok().and_then(|p| *p));
            let server = match outcome {
                Ok(started) => Server {
                    peer: Some(started.service.peer().clone()),
                    service: Mutex::new(Some(started.service)),
                    tools: started.tools,
                    state: Mutex::new(ServerState::Ready),
                    config,
                    pid,
                    log,
                },
                Err(state) => {
                    if let ServerState::Failed(why) = &state {
                        note(log.as_deref(), &format!("did not start: {why}"));
                        eprintln!(
                            "gem: warning: MCP server `{}` did not start: {why}{}; continuing without it",
                            config.name,
                            log_hint(log.as_deref())
                        );
                    }
                    Server {
                        peer: None,
                        service: Mutex::new(None),
                        tools: Vec::new(),
                        state: Mutex::new(state),
                        config,
                        pid,
                        log,
                    }
                }
            };
            servers.push(server);
        }
        servers.sort_by(|a, b| a.config.name.cmp(&b.config.name));
        Ok(Self {
            runtime: Some(runtime),
            servers,
            notices: options.notices,
        })
    }

    /// Every configured server's name and state, sorted by name.
    pub fn states(&self) -> Vec<(String, ServerState)> {
        self.servers
            .iter()
            .map(|s| (s.config.name.clone(), state_of(s)))
            .collect()
    }

    /// The configuration of the server called `server`.
    pub fn config(&self, server: &str) -> Option<&ServerConfig> {
        self.find(server).map(|s| &s.config)
    }

    /// The tools of a ready server that its config offers to the model, sorted by name.
    pub fn tools(&self, server: &str) -> Vec<ToolInfo> {
        let Some(s) = self.find(server) else {
            return Vec::new();
        };
        let mut tools: Vec<ToolInfo> = s
            .tools
            .iter()
            .filter(|t| s.config.tool_enabled(&t.name))
            .cloned()
            .collect();
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        tools
    }

    /// Every tool a server listed, including those its config hides (for `gem mcp get`).
    pub fn all_tools(&self, server: &str) -> Vec<ToolInfo> {
        self.find(server)
            .map(|s| s.tools.clone())
            .unwrap_or_default()
    }

    /// The log file of `server`.
    pub fn log_file(&self, server: &str) -> Option<&Path> {
        self.find(server).and_then(|s| s.log.as_deref())
    }

    /// Appends a line of gem's own to `server`'s log file.
    pub fn note(&self, server: &str, line: &str) {
        note(self.log_file(server), line);
    }

    fn find(&self, server: &str) -> Option<&Server> {
        self.servers.iter().find(|s| s.config.name == server)
    }

    /// Calls `tool` of `server` with `arguments` (a JSON object), waiting at most the server's
    /// tool timeout; `cancel` set stops waiting. Returns the JSON form of the
    /// `CallToolResult`.
    pub fn call(
        &self,
        server: &str,
        tool: &str,
        arguments: Value,
        cancel: &AtomicBool,
    ) -> Result<Value, McpError> {
        let not_running = |detail: String| McpError::NotRunning {
            server: server.to_string(),
            detail,
        };
        let s = self
            .find(server)
            .ok_or_else(|| not_running("not configured".into()))?;
        let state = state_of(s);
        let peer = match (&s.peer, &state) {
            (Some(peer), ServerState::Ready) => peer.clone(),
            _ => return Err(not_running(state.label())),
        };
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| not_running("shut down".into()))?;
        let mut params = CallToolRequestParams::new(tool.to_string());
        if let Value::Object(map) = arguments {
            params = params.with_arguments(map);
        }
        let timeout = s.config.tool_timeout;
        let outcome = runtime.block_on(async {
            let call = tokio::time::timeout(timeout, peer.call_tool(params));
            tokio::select! {
                result = call => Some(result),
                () = wait_for(cancel) => None,
            }
        });
        match outcome {
            None => Err(McpError::Cancelled {
                server: server.into(),
                tool: tool.into(),
            }),
            Some(Err(_)) => Err(McpError::Timeout {
                server: server.into(),
                tool: tool.into(),
                seconds: timeout.as_secs_f64(),
            }),
            Some(Ok(Ok(result))) => Ok(serde_json::to_value(&result).unwrap_or(Value::Null)),
            Some(Ok(Err(e))) => {
                if peer.is_transport_closed() || self.child_exited(s) {
                    let why = format!("it exited during a call to `{tool}`");
                    self.mark_stopped(s, &why);
                    return Err(not_running(why));
                }
                Err(McpError::Call {
                    server: server.into(),
                    tool: tool.into(),
                    detail: e.to_string(),
                })
            }
        }
    }

    fn child_exited(&self, s: &Server) -> bool {
        // A stdio server whose process group is gone has exited.
        #[cfg(unix)]
        if let Some(pid) = s.pid {
            return !Path::new(&format!("/proc/{pid}")).exists()
                && Path::new("/proc/self").exists();
        }
        let _ = s;
        false
    }

    fn mark_stopped(&self, s: &Server, why: &str) {
        if let Ok(mut state) = s.state.lock() {
            if *state != ServerState::Ready {
                return;
            }
            *state = ServerState::Stopped(why.to_string());
        }
        note(s.log.as_deref(), &format!("stopped: {why}"));
        if self.notices == Notices::Stderr {
            eprintln!(
                "gem: warning: MCP server `{}` stopped: {why}{}; its tools are unavailable for the rest of the session",
                s.config.name,
                log_hint(s.log.as_deref())
            );
        }
    }

    /// Ends every server: closes the connections and kills the stdio servers' process groups.
    pub fn shutdown(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        {
            let _guard = runtime.enter();
            for s in &self.servers {
                if let Ok(mut service) = s.service.lock() {
                    drop(service.take());
                }
            }
        }
        for s in &self.servers {
            if let Some(pid) = s.pid {
                children::kill(pid);
            }
        }
        runtime.shutdown_timeout(Duration::from_millis(200));
    }
}

impl Drop for McpManager {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn state_of(s: &Server) -> ServerState {
    s.state
        .lock()
        .map(|st| st.clone())
        .unwrap_or_else(|_| ServerState::Failed("state lock poisoned".into()))
}

async fn wait_for(flag: &AtomicBool) {
    while !flag.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn log_hint(log: Option<&Path>) -> String {
    log.map(|l| format!(" (log: {})", l.display()))
        .unwrap_or_default()
}

/// Appends `line` to a server's log file, prefixed with `[gem]` (errors ignored: the log is a
/// convenience).
fn note(log: Option<&Path>, line: &str) {
    if let Some(path) = log
        && let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        let _ = writeln!(file, "[gem] {line}");
    }
}

/// Starts one server within its startup timeout; the error is a reason for the user.
async fn start_one(
    config: ServerConfig,
    root: PathBuf,
    log: Option<PathBuf>,
    pid_slot: Arc<Mutex<Option<u32>>>,
) -> Result<Started, String> {
    let timeout = config.startup_timeout;
    let result = tokio::time::timeout(timeout, connect(&config, &root, log.as_deref(), &pid_slot))
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "not ready within its startup timeout ({:.0} s)",
                timeout.as_secs_f64()
            ))
        });
    if result.is_err()
        && let Some(pid) = pid_slot.lock().ok().and_then(|p| *p)
    {
        children::kill(pid);
    }
    result
}

fn client_info() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("gem", env!("CARGO_PKG_VERSION")),
    )
}

async fn connect(
    config: &ServerConfig,
    root: &Path,
    log: Option<&Path>,
    pid_slot: &Mutex<Option<u32>>,
) -> Result<Started, String> {
    let service = match &config.transport {
        Transport::Stdio {
            command,
            args,
            env,
            cwd,
        } => {
            let base = match &config.source {
                Source::Project { path, .. } => path.parent().unwrap_or(root).to_path_buf(),
                Source::User(_) => root.to_path_buf(),
            };
            let mut cmd = tokio::process::Command::new(command);
            cmd.args(args)
                .envs(env)
                .current_dir(cwd.as_ref().map_or(base.clone(), |c| base.join(c)))
                .kill_on_drop(true);
            #[cfg(unix)]
            cmd.process_group(0);
            let stderr = match log {
                Some(path) => std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map(std::process::Stdio::from)
                    .unwrap_or_else(|_| std::process::Stdio::null()),
                None => std::process::Stdio::null(),
            };
            let (transport, _) = TokioChildProcess::builder(cmd)
                .stderr(stderr)
                .spawn()
                .map_err(|e| format!("cannot run `{command}`: {e}"))?;
            if let Some(pid) = transport.id() {
                children::register(pid);
                if let Ok(mut slot) = pid_slot.lock() {
                    *slot = Some(pid);
                }
            }
            client_info()
                .serve(transport)
                .await
                .map_err(|e| format!("the MCP handshake failed: {e}"))?
        }
        Transport::Http {
            url,
            bearer_token_env_var,
            headers,
        } => {
            install_tls_provider();
            let mut http = StreamableHttpClientTransportConfig::with_uri(url.clone());
            if let Some(var) = bearer_token_env_var {
                let token = std::env::var(var)
                    .map_err(|_| format!("bearer_token_env_var names {var}, which is not set"))?;
                http = http.auth_header(token);
            }
            let mut custom = std::collections::HashMap::new();
            for (name, value) in headers {
                let name = http::HeaderName::try_from(name.as_str())
                    .map_err(|e| format!("invalid header name {name:?}: {e}"))?;
                let value = http::HeaderValue::try_from(value.as_str())
                    .map_err(|e| format!("invalid value for header {name}: {e}"))?;
                custom.insert(name, value);
            }
            http = http.custom_headers(custom);
            let transport = StreamableHttpClientTransport::from_config(http);
            client_info()
                .serve(transport)
                .await
                .map_err(|e| format!("cannot connect to {url}: {e}"))?
        }
    };
    let listed = service
        .peer()
        .list_all_tools()
        .await
        .map_err(|e| format!("listing its tools failed: {e}"))?;
    let tools = listed
        .into_iter()
        .map(|t| ToolInfo {
            name: t.name.to_string(),
            description: t.description.as_deref().unwrap_or_default().to_string(),
            input_schema: Value::Object((*t.input_schema).clone()),
            read_only: t.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true),
        })
        .collect();
    Ok(Started { service, tools })
}

/// HTTPS needs a process-wide rustls crypto provider; gem uses ring (installing twice is
/// harmless: the first one stays).
fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
