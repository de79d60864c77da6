//! Helpers for the MCP tests: the in-repo test server (`examples/mcp_test_server.rs`) and a
//! project whose gem runs see only the MCP servers the test configures.

use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

/// The test server binary, built on first use (`cargo test` builds examples, but a single
/// `cargo test --test all mcp::` does not).
pub fn server_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = StdCommand::new(cargo)
                // The test profile, as `cargo test` builds examples: nothing is rebuilt
                // (the dev profile would build every dependency, llama.cpp included, again).
                .args([
                    "build",
                    "--quiet",
                    "--profile",
                    "test",
                    "--example",
                    "mcp_test_server",
                ])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("running cargo build --example mcp_test_server");
            assert!(status.success(), "building the MCP test server failed");
            let deps = std::env::current_exe().unwrap();
            let profile = deps.parent().unwrap().parent().unwrap();
            let path = profile.join("examples").join("mcp_test_server");
            assert!(path.is_file(), "{} is missing", path.display());
            path
        })
        .clone()
}

/// A temporary git project with its own user config dir, data dir, cache dir and server logs.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("README.md"), "# demo\n").unwrap();
        let status = StdCommand::new("git")
            .args(["init", "-q"])
            .current_dir(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
        std::fs::create_dir_all(dir.path().join(".git/config-home/gem")).unwrap();
        Self { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A file under `.git/` (out of the agent's way).
    pub fn private(&self, name: &str) -> PathBuf {
        self.dir.path().join(".git").join(name)
    }

    pub fn config_path(&self) -> PathBuf {
        self.private("config-home/gem/config.toml")
    }

    /// Writes the user config (TOML text).
    pub fn config(&self, text: &str) {
        std::fs::write(self.config_path(), text).unwrap();
    }

    /// A stdio test server called `name` with extra args and TOML lines.
    pub fn stdio_server(&self, name: &str, args: &[&str], extra: &str) -> String {
        format!(
            "[mcp_servers.{name}]\ncommand = {:?}\nargs = {:?}\nenv = {{ MCP_TEST_LOG = {:?}, MCP_TEST_PIDS = {:?} }}\n{extra}\n",
            server_binary().display().to_string(),
            args,
            self.calls_log().display().to_string(),
            self.pids_log().display().to_string(),
        )
    }

    pub fn calls_log(&self) -> PathBuf {
        self.private("calls.jsonl")
    }

    pub fn pids_log(&self) -> PathBuf {
        self.private("pids")
    }

    /// The calls the test servers received.
    pub fn calls(&self) -> Vec<Value> {
        std::fs::read_to_string(self.calls_log())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub fn pids(&self) -> Vec<u32> {
        std::fs::read_to_string(self.pids_log())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// The log directory of MCP servers.
    pub fn mcp_logs(&self) -> PathBuf {
        self.private("gem-cache").join("mcp")
    }

    pub fn replay(&self, outputs: &[&str]) -> PathBuf {
        let path = self.private("replay.json");
        std::fs::write(&path, serde_json::to_string(outputs).unwrap()).unwrap();
        path
    }

    pub fn prompt_log(&self) -> PathBuf {
        self.private("prompts.jsonl")
    }

    /// The prompts the replay model received.
    pub fn prompts(&self) -> Vec<String> {
        std::fs::read_to_string(self.prompt_log())
            .unwrap_or_default()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["prompt"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }

    /// `gem` in this project, with its own config, data and cache dirs.
    pub fn gem(&self) -> Command {
        let mut cmd = Command::cargo_bin("gem").unwrap();
        cmd.current_dir(self.root())
            .env("XDG_CONFIG_HOME", self.private("config-home"))
            .env("GEM_DATA_DIR", self.private("gem-data"))
            .env("GEM_CACHE_DIR", self.private("gem-cache"))
            .env("GEM_REPLAY_LOG", self.prompt_log())
            .env_remove("GEM_MODEL")
            .timeout(Duration::from_secs(120));
        cmd
    }

    /// `gem -p PROMPT` on the replay model playing `outputs`.
    pub fn run(&self, outputs: &[&str], args: &[&str]) -> std::process::Output {
        let replay = self.replay(outputs);
        self.gem()
            .arg("--model")
            .arg(format!("replay:{}", replay.display()))
            .arg("--no-repo")
            .args(["-p", "go"])
            .args(args)
            .output()
            .unwrap()
    }
}

/// The test server over streamable HTTP on 127.0.0.1; killed when dropped.
pub struct HttpServer {
    pub child: Child,
    pub url: String,
}

impl HttpServer {
    pub fn start(project: &Project) -> Self {
        let port_file = project.private("port");
        let child = StdCommand::new(server_binary())
            .arg("--http")
            .arg(&port_file)
            .env("MCP_TEST_LOG", project.calls_log())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while !port_file.is_file() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the HTTP test server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let port = std::fs::read_to_string(&port_file).unwrap();
        Self {
            child,
            url: format!("http://127.0.0.1:{}/mcp", port.trim()),
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the process `pid` is still running (not a zombie).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Waits up to 5 s for `pid` to end.
pub fn ended(pid: u32) -> bool {
    let started = Instant::now();
    while alive(pid) {
        if started.elapsed() > Duration::from_secs(5) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}
