//! Shared helpers for the end-to-end tests.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

/// Model-loading tests take this lock: two llama.cpp contexts sharing 2 cores crawl.
pub fn model_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The test-model cache: `$GEM_TEST_CACHE` or `~/.cache/gem/test-models`.
pub fn test_cache() -> PathBuf {
    std::env::var_os("GEM_TEST_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| dirs::cache_dir().unwrap().join("gem").join("test-models"))
}

/// A file from the test cache (or an explicit env override). In CI a missing file fails the
/// test; elsewhere the test is skipped with a note saying how to fetch it.
pub fn cached_file(env: &str, name: &str) -> Option<PathBuf> {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| test_cache().join(name));
    if path.is_file() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{} is missing in CI: run scripts/test (it fetches test models)",
            path.display()
        );
    }
    eprintln!(
        "skipping: {} not found (run scripts/test to fetch it)",
        path.display()
    );
    None
}

/// The Gemma 3 270M Q4_K_M test model.
pub fn real_model() -> Option<PathBuf> {
    cached_file("GEM_TEST_MODEL", "gemma-3-270m-q4_k_m.gguf")
}

/// The `lib.rs` of the test projects: an `add` that subtracts.
pub const BUGGY_ADD: &str = "fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n";

/// Runs git in `dir` with a fixed identity; panics if it fails.
pub fn git(dir: &std::path::Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .args(["-c", "user.email=t@t", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// A temporary git repository holding `files` (path, content), committed.
pub fn git_project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        std::fs::write(dir.path().join(path), content).unwrap();
    }
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-qm", "init"]);
    dir
}

/// Runs a generation, checking that the streamed deltas add up to the final text.
pub fn generate_checked(
    engine: &gem::engine::LlamaEngine,
    request: gem::engine::GenerateRequest,
) -> gem::engine::GenerateOutcome {
    use gem::engine::{Backend, GenerateEvent};
    let mut deltas = String::new();
    let outcome = engine
        .generate(request, &mut |e| {
            if let GenerateEvent::Delta { text, .. } = e {
                deltas.push_str(&text);
            }
        })
        .unwrap();
    assert_eq!(deltas, outcome.text, "the deltas add up to the text");
    outcome
}

/// A temporary git project (the buggy `add` in `lib.rs`, a README) that tests drive through the
/// binary on the replay backend; gem's data, cache and config directories live inside `.git/`,
/// so the user's own are never read or written.
pub struct ReplayProject {
    /// The project directory.
    pub dir: tempfile::TempDir,
}

impl ReplayProject {
    /// A fresh project.
    pub fn new() -> Self {
        Self {
            dir: git_project(&[("lib.rs", BUGGY_ADD), ("README.md", "# demo\n")]),
        }
    }

    /// The project root.
    pub fn root(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// A path inside `.git/`, out of the tools' reach.
    pub fn private(&self, name: &str) -> PathBuf {
        self.dir.path().join(".git").join(name)
    }

    /// Writes the model outputs the replay backend will play, in order.
    pub fn replay(&self, outputs: &[&str]) -> PathBuf {
        let path = self.private("replay.json");
        std::fs::write(&path, serde_json::to_string(outputs).unwrap()).unwrap();
        path
    }

    /// `gem` on the replay backend, without the repository packed.
    pub fn gem(&self, replay: &std::path::Path) -> assert_cmd::Command {
        let mut cmd = self.gem_without_model();
        cmd.arg("--model")
            .arg(format!("replay:{}", replay.display()))
            .arg("--no-repo");
        cmd
    }

    /// `gem` in the project with private directories and no model named.
    pub fn gem_without_model(&self) -> assert_cmd::Command {
        let mut cmd = isolated_gem(&self.root().join(".git"));
        cmd.current_dir(self.root());
        cmd
    }

    /// A project file's text.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.root().join(name)).unwrap()
    }

    /// The prompts the replay backend saw (`GEM_REPLAY_LOG`).
    pub fn prompts(&self, log: &std::path::Path) -> Vec<String> {
        replay_prompts(log)
    }
}

/// The `gem` binary with its config, data and cache directories under `state` (`gem-config`,
/// `gem-data`, `gem-cache`; so no test reads
/// the user's `config.toml`, sessions or KV cache) and no `GEM_MODEL` from the environment.
pub fn isolated_gem(state: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("gem").unwrap();
    cmd.env("XDG_CONFIG_HOME", state.join("gem-config"))
        .env("GEM_DATA_DIR", state.join("gem-data"))
        .env("GEM_CACHE_DIR", state.join("gem-cache"))
        .env_remove("GEM_MODEL");
    cmd
}

/// The prompts a replay backend logged to `log` (`GEM_REPLAY_LOG`), in order.
pub fn replay_prompts(log: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["prompt"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// The agent settings the protocol-level tests start from (replay backend, greedy, no grammar,
/// headless, nothing packed); each test overrides what it is about with struct-update syntax.
pub fn test_agent_config(root: &std::path::Path) -> gem::agent::AgentConfig {
    gem::agent::AgentConfig {
        root: root.to_path_buf(),
        system_prompt: "You are a test agent.".into(),
        max_turns: 4,
        max_tokens: 256,
        thinking: false,
        variant: gem::gemma::Variant::E2b,
        sampling: gem::engine::Sampling::greedy(),
        grammar: false,
        bounded_grammar: false,
        interactive: false,
        packed: None,
        allow_git_commit: false,
        snapshots: gem::agent::SnapshotStore::Off,
    }
}
