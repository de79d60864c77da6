//! The TUI end to end: the real `gem` binary in a tmux pane, driven by keystrokes, on the replay
//! backend (recorded raw Gemma 4 output), in a temporary git repository.
//!
//! A fix is asked for, the edit approved in the overlay, the answer shown, the edit undone with
//! `/undo` (`/diff` then lists nothing), and the TUI quit with ctrl-c twice. Needs `tmux` (skipped without it, except in CI).

use crate::mcp_support;
use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const READ: &str = "<|channel>thought\nRead it first.\n<channel|><|tool_call>call:read_file{path:<|\"|>lib.rs<|\"|>}<tool_call|><|tool_response>";
const EDIT: &str = "<|channel>thought\nFix the sign.\n<channel|><|tool_call>call:edit_file{new_string:<|\"|>a + b<|\"|>,old_string:<|\"|>a - b<|\"|>,path:<|\"|>lib.rs<|\"|>}<tool_call|><|tool_response>";
const DONE: &str = "<|channel>thought\nDone.\n<channel|>Fixed `add`: it now returns a + b.<turn|>";

const ORIGINAL: &str = "fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n";
const FIXED: &str = "fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n";

/// How long one step may take before the test fails.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);
/// How often the pane is captured while waiting.
const POLL: Duration = Duration::from_millis(50);
/// Longer than the approval overlay's grace period (400 ms), in which it takes no keys.
const PAST_GRACE: Duration = Duration::from_millis(700);

/// Whether tmux can be run; in CI its absence fails the test, elsewhere it skips it.
fn tmux_available() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|out| out.status.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!(
                "tmux is missing in CI: install it (apt-get install tmux) for the TUI end-to-end test"
            );
        }
        eprintln!("skipping: tmux not found (install tmux to run the TUI end-to-end test)");
    }
    ok
}

/// Quotes `text` for `sh`.
fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn path_str(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("temporary paths are UTF-8"))
}

/// A git repository with `lib.rs` whose `add` subtracts, plus a private area in `.git/` for the
/// replay file, gem's data, cache and config, its stderr and its exit status.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Self {
        Self {
            dir: support::git_project(&[("lib.rs", ORIGINAL)]),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn private(&self, name: &str) -> PathBuf {
        self.root().join(".git").join(name)
    }

    fn replay(&self, outputs: &[&str]) -> PathBuf {
        self.replay_named("replay.json", outputs)
    }

    /// A replay file `name` in the private area holding `outputs`.
    fn replay_named(&self, name: &str, outputs: &[&str]) -> PathBuf {
        let path = self.private(name);
        std::fs::write(
            &path,
            serde_json::to_string(outputs).unwrap_or_else(|e| panic!("{e}")),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        path
    }

    fn lib(&self) -> Vec<u8> {
        std::fs::read(self.root().join("lib.rs")).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The shell command the pane runs: gem in the project, isolated from the user's config,
    /// data and cache, its stderr and exit status kept for diagnostics.
    fn gem_command(&self, replay: &Path) -> String {
        self.gem_command_with(replay, "")
    }

    /// Like [`gem_command`](Self::gem_command), with `extra` arguments (already quoted).
    fn gem_command_with(&self, replay: &Path, extra: &str) -> String {
        self.gem_command_on(&format!("replay:{}", path_str(replay)), extra)
    }

    /// The pane's command for gem on `model` (a GGUF path or `replay:FILE`), with `extra`
    /// arguments (already quoted).
    fn gem_command_on(&self, model: &str, extra: &str) -> String {
        format!(
            "cd {root} && env -u GEM_MODEL -u GEM_REPLAY_DELAY_MS -u NO_COLOR \
             XDG_CONFIG_HOME={config} GEM_DATA_DIR={data} GEM_CACHE_DIR={cache} \
             {gem} --model {model} --no-repo {extra} 2>{stderr}; echo $? >{status}",
            root = sh_quote(path_str(self.root())),
            config = sh_quote(path_str(&self.private("gem-config"))),
            data = sh_quote(path_str(&self.private("gem-data"))),
            cache = sh_quote(path_str(&self.private("gem-cache"))),
            gem = sh_quote(env!("CARGO_BIN_EXE_gem")),
            model = sh_quote(model),
            stderr = sh_quote(path_str(&self.private("gem-stderr"))),
            status = sh_quote(path_str(&self.private("gem-status"))),
        )
    }

    /// Runs `gem -p prompt` in the project with the same isolation as the pane (its sessions
    /// land in the same data directory); panics unless it succeeds.
    fn run_headless(&self, prompt: &str, replay: &Path) {
        let out = Command::new(env!("CARGO_BIN_EXE_gem"))
            .args(["-p", prompt, "--no-repo", "--model"])
            .arg(format!("replay:{}", path_str(replay)))
            .current_dir(self.root())
            .env_remove("GEM_MODEL")
            .env_remove("GEM_REPLAY_DELAY_MS")
            .env("XDG_CONFIG_HOME", self.private("gem-config"))
            .env("GEM_DATA_DIR", self.private("gem-data"))
            .env("GEM_CACHE_DIR", self.private("gem-cache"))
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            out.status.success(),
            "gem -p {prompt:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The session files in the data directory.
    fn session_files(&self) -> usize {
        std::fs::read_dir(self.private("gem-data").join("sessions"))
            .map(|entries| entries.count())
            .unwrap_or(0)
    }

    /// gem's stderr and exit status so far, for failure messages.
    fn diagnostics(&self) -> String {
        let read = |name: &str| {
            std::fs::read_to_string(self.private(name)).unwrap_or_else(|_| "(none yet)".into())
        };
        format!(
            "gem stderr: {}\ngem exit status: {}",
            read("gem-stderr").trim(),
            read("gem-status").trim()
        )
    }
}

/// A tmux session on a private server (its own socket in a temporary directory, no user config);
/// the server is killed on drop, so no session outlives the test.
struct Tmux {
    socket_dir: tempfile::TempDir,
    session: String,
}

impl Tmux {
    /// Starts `command` in a detached 120x40 session.
    fn start(command: &str) -> Self {
        let tmux = Tmux {
            socket_dir: tempfile::tempdir().unwrap_or_else(|e| panic!("{e}")),
            session: "gem".into(),
        };
        let out = tmux.run(&[
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "40",
            "-s",
            &tmux.session,
            command,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(self.socket_dir.path().join("socket"))
            .args(["-f", "/dev/null"])
            .args(args)
            // The server starts from this client: a plain POSIX shell, no outer tmux.
            .env("SHELL", "/bin/sh")
            .env_remove("TMUX")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Types `text` literally.
    fn type_text(&self, text: &str) {
        let out = self.run(&["send-keys", "-t", &self.session, "-l", text]);
        assert!(
            out.status.success(),
            "send-keys -l {text:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Presses a key by its tmux name (`Enter`, `C-c`, `y`).
    fn press(&self, key: &str) {
        let out = self.run(&["send-keys", "-t", &self.session, key]);
        assert!(
            out.status.success(),
            "send-keys {key}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The visible pane, or None once the session has ended.
    fn capture(&self) -> Option<String> {
        let out = self.run(&["capture-pane", "-p", "-t", &self.session]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn alive(&self) -> bool {
        self.run(&["has-session", "-t", &self.session])
            .status
            .success()
    }

    /// Polls the pane until `done` holds; fails with the pane and gem's diagnostics otherwise.
    fn wait_for(&self, step: &str, project: &Project, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        let mut last = String::new();
        loop {
            match self.capture() {
                Some(pane) if done(&pane) => return pane,
                Some(pane) => last = pane,
                None => panic!(
                    "{step}: the tmux session ended early\nlast pane:\n{last}\n{}",
                    project.diagnostics()
                ),
            }
            if start.elapsed() > STEP_TIMEOUT {
                panic!(
                    "{step}: not seen within {STEP_TIMEOUT:?}\npane:\n{last}\n{}",
                    project.diagnostics()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the session has ended.
    fn wait_until_ended(&self, step: &str, project: &Project) {
        let start = Instant::now();
        let mut last = String::new();
        while self.alive() {
            if let Some(pane) = self.capture() {
                last = pane;
            }
            if start.elapsed() > STEP_TIMEOUT {
                panic!(
                    "{step}: the session still runs after {STEP_TIMEOUT:?}\npane:\n{last}\n{}",
                    project.diagnostics()
                );
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-session", "-t", &self.session]);
        let _ = self.run(&["kill-server"]);
    }
}

/// Polls `lib.rs` until it holds `want`; fails with the pane otherwise.
fn wait_for_file(step: &str, project: &Project, tmux: &Tmux, want: &str) {
    let start = Instant::now();
    while project.lib() != want.as_bytes() {
        if start.elapsed() > STEP_TIMEOUT {
            panic!(
                "{step}: lib.rs is {:?}, want {want:?}\npane:\n{}\n{}",
                String::from_utf8_lossy(&project.lib()),
                tmux.capture().unwrap_or_default(),
                project.diagnostics()
            );
        }
        std::thread::sleep(POLL);
    }
}

#[test]
fn approve_an_edit_in_the_tui_then_undo_it_and_quit() {
    if !tmux_available() {
        return;
    }
    let project = Project::new();
    let replay = project.replay(&[READ, EDIT, DONE]);
    // The pane outlives gem, to show what gem leaves in the terminal.
    let tmux = Tmux::start(&format!("{}; sleep 60", project.gem_command(&replay)));

    // The session line arrives from the agent thread, possibly a frame after the composer.
    tmux.wait_for("the TUI starts in ask mode", &project, |p| {
        p.contains("Ask anything") && p.contains("mode ask")
    });

    tmux.type_text("fix add");
    tmux.press("Enter");
    let pane = tmux.wait_for("the approval overlay", &project, |p| {
        p.contains("Allow edit_file?")
    });
    assert!(
        pane.contains("-    a - b") && pane.contains("+    a + b"),
        "the overlay shows the edit's diff:\n{pane}"
    );
    assert_eq!(
        project.lib(),
        ORIGINAL.as_bytes(),
        "nothing is written before approval"
    );

    std::thread::sleep(PAST_GRACE);
    tmux.press("y");
    let pane = tmux.wait_for("the answer after approval", &project, |p| {
        p.contains("it now returns a + b") && p.contains("⏎ send")
    });
    assert!(
        !pane.contains("Allow edit_file?"),
        "the overlay is gone:\n{pane}"
    );
    assert!(
        pane.contains("✓ edit_file lib.rs"),
        "the edit shows as done:\n{pane}"
    );
    wait_for_file("the approved edit reaches the disk", &project, &tmux, FIXED);

    tmux.type_text("/undo");
    tmux.press("Enter");
    tmux.wait_for("the undo notice", &project, |p| {
        p.contains("Reverted the last turn's changes")
            && p.contains("lib.rs")
            && p.contains("told with your next message")
    });
    assert_eq!(
        project.lib(),
        ORIGINAL.as_bytes(),
        "undo restores lib.rs byte for byte"
    );
    tmux.type_text("/diff");
    tmux.press("Enter");
    tmux.wait_for("/diff without the undone edit", &project, |p| {
        p.contains("No file changes yet this session")
    });

    tmux.press("C-c");
    tmux.wait_for("the quit hint", &project, |p| {
        p.contains("ctrl-c again to quit")
    });
    tmux.press("C-c");
    let start = Instant::now();
    while !project.private("gem-status").exists() {
        assert!(
            start.elapsed() < STEP_TIMEOUT,
            "quitting with ctrl-c twice: gem still runs\n{}",
            project.diagnostics()
        );
        std::thread::sleep(POLL);
    }
    let status = std::fs::read_to_string(project.private("gem-status")).unwrap_or_default();
    assert_eq!(
        status.trim(),
        "0",
        "gem exits cleanly\n{}",
        project.diagnostics()
    );
    tmux.wait_for(
        "the conversation stays in the terminal after gem ends, without the TUI's frame",
        &project,
        |p| {
            p.contains("fix add")
                && p.contains("it now returns a + b")
                && p.contains("Reverted the last turn")
                && !p.contains("⏎ send")
        },
    );
}

#[test]
fn resume_without_an_id_lists_the_sessions_and_shows_the_picked_ones_history() {
    if !tmux_available() {
        return;
    }
    let project = Project::new();
    let answer = |text: &str| format!("<|channel>thought\nok\n<channel|>{text}<turn|>");
    let first = project.replay_named("first.json", &[&answer("Alpha answered.")]);
    project.run_headless("first task alpha", &first);
    // Session files are ordered by modification time, to the second on some filesystems.
    std::thread::sleep(Duration::from_millis(1100));
    let second = project.replay_named("second.json", &[&answer("Beta answered.")]);
    project.run_headless("second task beta", &second);
    assert_eq!(project.session_files(), 2);

    let later = answer("Picked up where we left off.");
    let replay = project.replay(&[later.as_str()]);
    let tmux = Tmux::start(&project.gem_command_with(&replay, "--resume"));
    let pane = tmux.wait_for("the session list", &project, |p| {
        p.contains("Resume a session") && p.contains("first task alpha")
    });
    let beta = pane
        .find("second task beta")
        .expect("both sessions are listed");
    let alpha = pane
        .find("first task alpha")
        .expect("both sessions are listed");
    assert!(beta < alpha, "the newest session comes first:\n{pane}");

    tmux.type_text("alpha");
    tmux.wait_for("the filtered list", &project, |p| {
        p.contains("filter > alpha") && !p.contains("second task beta")
    });
    tmux.press("Enter");
    let pane = tmux.wait_for("the resumed session", &project, |p| {
        p.contains("Ask anything") && p.contains("resumed: 1 earlier turn")
    });
    assert!(
        pane.contains("first task alpha") && pane.contains("Alpha answered."),
        "the earlier turn is shown:\n{pane}"
    );

    tmux.type_text("and now?");
    tmux.press("Enter");
    tmux.wait_for("the answer in the resumed session", &project, |p| {
        p.contains("Picked up where we left off.")
    });
    tmux.press("C-c");
    tmux.press("C-c");
    tmux.wait_until_ended("quitting", &project);
    assert_eq!(
        project.session_files(),
        2,
        "the picked session was continued, not a new one started"
    );
}

/// A shell call the replay model makes.
fn shell_call(command: &str) -> String {
    format!(
        "<|channel>thought\nRun it.\n<channel|><|tool_call>call:shell{{command:<|\"|>{command}<|\"|>}}<tool_call|><|tool_response>"
    )
}

#[test]
fn always_on_a_shell_approval_allows_only_the_stated_rule_and_early_keys_stay_typed() {
    if !tmux_available() {
        return;
    }
    let project = Project::new();
    let first = shell_call("git log --oneline");
    let second = shell_call("git log -1");
    let third = shell_call("git status");
    let replay = project.replay(&[&first, &second, &third, DONE]);
    let tmux = Tmux::start(&project.gem_command(&replay));
    tmux.wait_for("the TUI starts", &project, |p| p.contains("Ask anything"));

    tmux.type_text("show the log");
    tmux.press("Enter");
    // Typing on as the overlay appears: `n` (deny) and `e` (edit) must not answer it.
    tmux.type_text("ne");
    let pane = tmux.wait_for("the shell approval", &project, |p| {
        p.contains("Allow shell?") && p.contains("always allow: git log *")
    });
    assert!(pane.contains("$ git log --oneline"), "{pane}");
    tmux.type_text("ne");
    std::thread::sleep(PAST_GRACE);
    let pane = tmux.capture().unwrap_or_default();
    assert!(
        pane.contains("Allow shell?"),
        "keys typed as the overlay appeared did not answer it:\n{pane}"
    );
    tmux.press("a");

    // `git log -1` matches the rule and runs unasked; `git status` does not, and asks.
    let pane = tmux.wait_for("the next approval", &project, |p| {
        p.contains("Allow shell?") && p.contains("$ git status")
    });
    assert!(
        pane.contains("✓ shell git log -1"),
        "the rule let git log -1 run:\n{pane}"
    );
    std::thread::sleep(PAST_GRACE);
    tmux.press("n");
    let pane = tmux.wait_for("the answer", &project, |p| {
        p.contains("it now returns a + b") && p.contains("⏎ send")
    });
    assert!(
        pane.contains("nene"),
        "what was typed stays in the composer:\n{pane}"
    );

    tmux.press("C-u");
    tmux.type_text("/permissions");
    tmux.press("Enter");
    tmux.wait_for("the rule is listed", &project, |p| {
        p.contains("Permissions") && p.contains("git log *")
    });
    tmux.type_text("/permissions revoke git log *");
    tmux.press("Enter");
    tmux.wait_for("the rule is revoked", &project, |p| {
        p.contains("every command asks")
    });
    tmux.press("C-c");
    tmux.press("C-c");
    tmux.wait_until_ended("quitting", &project);
    let stderr = std::fs::read_to_string(project.private("gem-stderr")).unwrap_or_default();
    assert!(
        stderr.contains("gem --continue"),
        "the exit prints a resume hint\n{}",
        project.diagnostics()
    );
}

#[test]
fn mcp_servers_in_the_tui_a_failed_start_is_noticed_calls_are_approved_and_mcp_lists_them() {
    if !tmux_available() {
        return;
    }
    let project = Project::new();
    let server = mcp_support::server_binary();
    let calls = project.private("mcp-calls.jsonl");
    let config_dir = project.private("gem-config").join("gem");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("config.toml"),
        format!(
            "[mcp_servers.test]\ncommand = {server:?}\nenv = {{ MCP_TEST_LOG = {calls:?} }}\n\n\
             [mcp_servers.broken]\ncommand = {server:?}\nargs = [\"--crash-at-start\"]\n",
            server = path_str(&server),
            calls = path_str(&calls),
        ),
    )
    .unwrap();
    let add = "<|channel>thought\nAdd them.\n<channel|><|tool_call>call:mcp__test__add{a:2,b:3}<tool_call|><|tool_response>";
    let done = "<|channel>thought\nDone.\n<channel|>The sum is 5.<turn|>";
    let replay = project.replay(&[add, done]);
    let tmux = Tmux::start(&project.gem_command(&replay));
    tmux.wait_for("the failed server is noticed", &project, |p| {
        p.contains("MCP server `broken` did not start") && p.contains("Ask anything")
    });

    tmux.type_text("add 2 and 3");
    tmux.press("Enter");
    let pane = tmux.wait_for("the MCP approval", &project, |p| {
        p.contains("Allow mcp__test__add?")
    });
    assert!(
        pane.contains("MCP server `test`, tool `add`") && pane.contains(r#"{"a":2,"b":3}"#),
        "the overlay shows server, tool and arguments:\n{pane}"
    );
    assert!(
        !calls.exists(),
        "the server saw nothing before the approval"
    );
    std::thread::sleep(PAST_GRACE);
    tmux.press("y");
    tmux.wait_for("the answer", &project, |p| {
        p.contains("The sum is 5.") && p.contains("⏎ send")
    });
    let seen = std::fs::read_to_string(&calls).unwrap_or_default();
    assert!(
        seen.contains("\"add\"") && seen.contains("\"a\":2"),
        "the server received the call: {seen}"
    );

    tmux.type_text("/mcp");
    tmux.press("Enter");
    let pane = tmux.wait_for("the /mcp listing", &project, |p| {
        p.contains("MCP servers 2 servers") && p.contains("test: ready, 6 tools")
    });
    assert!(
        pane.contains("broken: failed") && pane.contains("mcp__test__add"),
        "/mcp shows each server's state:\n{pane}"
    );
    tmux.press("C-c");
    tmux.press("C-c");
    tmux.wait_until_ended("quitting", &project);
}

#[test]
fn model_switches_mid_session_and_the_conversation_goes_on_on_the_new_one() {
    if !tmux_available() {
        return;
    }
    let (Some(first), Some(second)) = (
        support::cached_file("GEM_TINY_GEMMA4", "tiny-gemma4.gguf"),
        support::cached_file("GEM_TINY_GEMMA4_NO_PLE", "tiny-gemma4-no-ple.gguf"),
    ) else {
        return;
    };
    let _model = support::model_lock();
    let project = Project::new();
    let tmux = Tmux::start(&project.gem_command_on(
        path_str(&first),
        "--ctx 8192 --max-tokens 8 --no-disk-cache",
    ));
    tmux.wait_for("the TUI starts on the first model", &project, |p| {
        p.contains("Ask anything")
    });
    tmux.type_text(&format!("/model {}", path_str(&second)));
    tmux.press("Enter");
    tmux.wait_for("the switch", &project, |p| p.contains("Now on"));
    tmux.type_text("/model");
    tmux.press("Enter");
    tmux.wait_for("the model facts name the new file's model", &project, |p| {
        p.contains("Models on this machine") || p.contains("No other model found")
    });
    tmux.type_text("hello");
    tmux.press("Enter");
    let pane = tmux.wait_for("a turn on the new model", &project, |p| {
        p.contains("tok/s") && p.contains("⏎ send")
    });
    assert!(
        !pane.contains("cannot switch"),
        "the switch did not fail:\n{pane}"
    );
    tmux.press("C-c");
    tmux.press("C-c");
    tmux.wait_until_ended("quitting", &project);
    let status = std::fs::read_to_string(project.private("gem-status")).unwrap_or_default();
    assert_eq!(status.trim(), "0", "{}", project.diagnostics());
}

#[test]
fn ctrl_g_edits_the_message_in_the_editor_and_a_custom_command_sends_its_text() {
    if !tmux_available() {
        return;
    }
    let project = Project::new();
    // The "editor": keeps what it was given, then adds a line as a user would.
    let editor = project.private("editor.sh");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\ncp \"$1\" {seen}\nprintf ' and a line from the editor' >> \"$1\"\n",
            seen = sh_quote(path_str(&project.private("editor-saw")))
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&editor)
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    let commands = project.root().join(".gem/commands");
    std::fs::create_dir_all(&commands).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        commands.join("greet.md"),
        "---\ndescription: Say hello to someone\n---\nSay hello to $ARGUMENTS, politely.\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let answer = "<|channel>thought\nok\n<channel|>Hello, world, politely.<turn|>";
    let replay = project.replay(&[answer]);
    // `env` takes its -u options before any assignment.
    let command = project
        .gem_command(&replay)
        .replace("env -u GEM_MODEL", "env -u VISUAL -u GEM_MODEL")
        .replace(
            "XDG_CONFIG_HOME=",
            &format!("EDITOR={} XDG_CONFIG_HOME=", sh_quote(path_str(&editor))),
        );
    let tmux = Tmux::start(&command);
    tmux.wait_for("the TUI", &project, |p| p.contains("Ask anything"));

    tmux.type_text("a draft");
    tmux.press("C-g");
    tmux.wait_for("the edited message back in the box", &project, |p| {
        p.contains("a draft and a line from the editor")
    });
    assert_eq!(
        std::fs::read_to_string(project.private("editor-saw")).unwrap_or_default(),
        "a draft",
        "the editor got the message"
    );

    // Clear the box; the custom command is offered by the popup and sends its text.
    tmux.press("C-c");
    tmux.type_text("/gre");
    tmux.wait_for("the custom command in the popup", &project, |p| {
        p.contains("/greet") && p.contains("Say hello to someone")
    });
    tmux.press("C-c");
    tmux.type_text("/greet world");
    tmux.press("Enter");
    let pane = tmux.wait_for("the answer", &project, |p| {
        p.contains("Hello, world, politely.")
    });
    assert!(
        pane.contains("Say hello to world, politely."),
        "the expanded text was sent:\n{pane}"
    );
    tmux.press("C-c");
    tmux.press("C-c");
    tmux.wait_until_ended("quitting", &project);
}

#[test]
fn shift_tab_to_plan_mode_then_an_approved_plan_is_carried_out_with_a_checklist() {
    if !tmux_available() {
        return;
    }
    let project = Project::new();
    let plan = "1. In lib.rs change `a - b` to `a + b`.\n2. Check it.<turn|>";
    let todo = "<|tool_call>call:todo_write{todos:[{content:<|\"|>Fix the sign<|\"|>,status:<|\"|>in_progress<|\"|>},{content:<|\"|>Check it<|\"|>,status:<|\"|>pending<|\"|>}]}<tool_call|><|tool_response>";
    let replay = project.replay(&[READ, plan, todo, EDIT, DONE]);
    let tmux = Tmux::start(&project.gem_command(&replay));
    tmux.wait_for("the TUI starts in ask mode", &project, |p| {
        p.contains("Ask anything") && p.contains("mode ask")
    });

    // The terminal sends Shift-Tab as CSI Z; ask → auto-edit → plan.
    tmux.press("BTab");
    tmux.wait_for("auto-edit in the status line", &project, |p| {
        p.contains("│ auto-edit")
    });
    tmux.press("BTab");
    tmux.wait_for("plan mode in the status line", &project, |p| {
        p.contains("⏸ plan mode")
    });
    tmux.type_text("plan the fix");
    tmux.press("Enter");
    tmux.wait_for("the plan and the question", &project, |p| {
        p.contains("2. Check it.") && p.contains("Approve this plan? y: switch to auto-edit")
    });
    assert_eq!(
        project.lib(),
        ORIGINAL.as_bytes(),
        "planning changes nothing"
    );

    std::thread::sleep(PAST_GRACE);
    tmux.press("y");
    let pane = tmux.wait_for("the plan carried out", &project, |p| {
        p.contains("it now returns a + b") && p.contains("⏎ send")
    });
    assert!(pane.contains("◐ Fix the sign"), "the checklist:\n{pane}");
    assert!(pane.contains("│ auto-edit"), "back in auto-edit:\n{pane}");
    assert!(!pane.contains("Approve this plan?"), "answered:\n{pane}");
    wait_for_file("the edit ran without asking", &project, &tmux, FIXED);
}

#[test]
fn a_message_typed_during_a_turn_steers_it_at_the_next_step() {
    if !tmux_available() {
        return;
    }
    let project = Project::new();
    // A slow first step (its thought streams for seconds) leaves time to type.
    let slow_read = format!(
        "<|channel>thought\n{}\n<channel|><|tool_call>call:read_file{{path:<|\"|>lib.rs<|\"|>}}<tool_call|><|tool_response>",
        "Read lib.rs before changing anything. "
            .repeat(6)
            .trim_end()
    );
    let replay = project.replay(&[&slow_read, "Understood: the signature stays.<turn|>"]);
    let log = project.private("prompts.jsonl");
    let command = project.gem_command(&replay).replace(
        "-u GEM_REPLAY_DELAY_MS -u NO_COLOR ",
        &format!(
            "-u NO_COLOR GEM_REPLAY_DELAY_MS=60 GEM_REPLAY_LOG={} ",
            sh_quote(path_str(&log))
        ),
    );
    assert!(command.contains("GEM_REPLAY_DELAY_MS=60"), "{command}");
    let tmux = Tmux::start(&command);
    tmux.wait_for("the TUI starts", &project, |p| p.contains("Ask anything"));
    tmux.type_text("fix add");
    tmux.press("Enter");
    tmux.wait_for("the first step streams its thought", &project, |p| {
        p.contains("Read lib.rs before")
    });
    tmux.type_text("keep the signature");
    tmux.press("Enter");
    let pane = tmux.wait_for("the answer to the steered turn", &project, |p| {
        p.contains("Understood: the signature stays.") && p.contains("⏎ send")
    });
    assert!(
        pane.contains("› keep the signature") && pane.contains("↳ sent during the turn"),
        "the message shows where the model read it:\n{pane}"
    );
    let prompts = support::replay_prompts(&log);
    assert_eq!(prompts.len(), 2, "one turn of two steps");
    assert!(
        prompts[1].ends_with(
            "<tool_response|><turn|>\n<|turn>user\nkeep the signature<turn|>\n<|turn>model\n"
        ),
        "the second step reads the message after the tool response:\n{}",
        prompts[1]
    );
}
