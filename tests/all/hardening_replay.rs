//! Hardening (issue #12), as a hostile or broken model would attack it, through the binary on
//! the replay backend: each test asserts the verdict and that the side effect did not happen.
//! Cut-off calls, escape sequences in output, the repetition guard on real content, answers left
//! in the thought channel, review findings that cannot fail on format, bad inputs and exit
//! codes, session file hygiene, and no command outliving gem.

use crate::support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

const DONE: &str = "<|channel>thought\nDone.\n<channel|>Done.<turn|>";

type Project = support::ReplayProject;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_call_cut_off_inside_its_content_is_reported_and_never_run() {
    let project = Project::new();
    let cut = "<|tool_call>call:write_file{path:<|\"|>u.txt<|\"|>,content:<|\"|>half written";
    let replay = project.replay(&[cut, DONE]);
    let log = project.private("prompts.jsonl");
    let out = project
        .gem(&replay)
        .env("GEM_REPLAY_LOG", &log)
        .args(["-p", "write u.txt", "--mode", "full-auto"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !project.root().join("u.txt").exists(),
        "the half-written call was run"
    );
    let prompts = project.prompts(&log);
    assert!(
        prompts[1].contains("inside a string value") && prompts[1].contains("not run"),
        "the model is told why: {}",
        &prompts[1][prompts[1].len().saturating_sub(600)..]
    );
    assert!(!prompts[1].contains("Created"));
}

#[test]
fn a_call_cut_by_the_token_limit_is_never_run_even_when_it_reads_whole() {
    let project = Project::new();
    // The write call is complete up to its closing tag, which the token limit cut off.
    let cut = format!(
        "<|tool_call>call:write_file{{content:<|\"|>{}<|\"|>,path:<|\"|>v.txt<|\"|>}}",
        "x".repeat(60)
    );
    let replay = project.replay(&[&cut, DONE]);
    let out = project
        .gem(&replay)
        .args([
            "-p",
            "write v.txt",
            "--mode",
            "full-auto",
            "--max-tokens",
            "25",
        ])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        !project.root().join("v.txt").exists(),
        "the cut call was run"
    );
    assert!(stderr.contains("--max-tokens"), "{stderr}");
}

#[test]
fn escape_sequences_from_the_model_never_reach_the_terminal() {
    let project = Project::new();
    let hostile = "<|tool_call>call:read_file{path:<|\"|>lib\u{1b}]0;owned\u{7}.rs<|\"|>}<tool_call|><|tool_response>";
    let answer = "<|channel>thought\nok\n<channel|>Safe \u{1b}]52;c;cm0gLXJmIH4K\u{7}text \u{1b}[2J\u{1b}[31mred\u{9b}6n\r<turn|>";
    let replay = project.replay(&[hostile, answer]);
    let out = project.gem(&replay).args(["-p", "read"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    for (name, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let s = text(stream);
        assert!(
            !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{name} carries control characters: {s:?}"
        );
    }
    // (What follows the 8-bit CSI may or may not be read as its parameters.)
    assert!(
        text(&out.stdout).starts_with("Safe text red"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn repeated_content_in_a_tool_argument_is_written_not_judged_degenerate() {
    let project = Project::new();
    let content = format!(
        "static ZEROES: [u8; 2000] = [{}];\n{}\n",
        "0, ".repeat(2000),
        "=".repeat(5000)
    );
    let write = format!(
        "<|channel>thought\nWrite it.\n<channel|><|tool_call>call:write_file{{content:<|\"|>{content}<|\"|>,path:<|\"|>table.rs<|\"|>}}<tool_call|><|tool_response>"
    );
    let replay = project.replay(&[&write, DONE]);
    let out = project
        .gem(&replay)
        .args([
            "-p",
            "write the table",
            "--mode",
            "full-auto",
            "--max-tokens",
            "100000",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(project.root().join("table.rs")).unwrap(),
        content
    );
}

#[test]
fn a_real_loop_in_free_text_still_stops_with_exit_5() {
    let project = Project::new();
    let looping = format!("<|channel>thought\n{}", "thought ".repeat(2000));
    let replay = project.replay(&[&looping]);
    let out = project
        .gem(&replay)
        .args(["-p", "think", "--max-tokens", "100000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
}

#[test]
fn an_answer_left_in_the_thought_channel_is_shown_not_lost() {
    let project = Project::new();
    let read = "<|tool_call>call:read_file{path:<|\"|>lib.rs<|\"|>}<tool_call|><|tool_response>";
    // After a tool response the prompt opens the thought channel; this model answers there
    // and ends its turn without `<channel|>`.
    let replay = project.replay(&[read, "The function subtracts instead of adding.<turn|>"]);
    let out = project
        .gem(&replay)
        .args(["-p", "what is wrong?", "--output-format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        result["final_text"],
        "The function subtracts instead of adding."
    );
    assert!(text(&out.stderr).contains("inside its thinking"));
    // The JSON result names the session, for `gem --resume ID`.
    let id = result["session_id"].as_str().unwrap();
    assert!(id.len() > 8, "{result}");
    let sessions = project.private("gem-data").join("sessions");
    assert!(
        std::fs::read_dir(&sessions)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains(id)),
        "no session file named {id}"
    );
}

const DIFF: &str = "diff --git a/lib.rs b/lib.rs\n--- a/lib.rs\n+++ b/lib.rs\n@@ -1,3 +1,3 @@\n fn add(a: i32, b: i32) -> i32 {\n-    a + b\n+    a - b\n }\n";

#[test]
fn a_review_written_in_prose_is_completed_by_the_forced_submit_call() {
    let project = Project::new();
    let prose = "<|channel>thought\nLook.\n<channel|>The change turns the addition into a subtraction, which is a bug.<turn|>";
    let submit = "<|tool_call>call:submit_review{findings:[{body:<|\"|>Use a + b.<|\"|>,file:<|\"|>lib.rs<|\"|>,line:2,severity:<|\"|>error<|\"|>,title:<|\"|>add subtracts<|\"|>}]}<tool_call|><|tool_response>";
    let replay = project.replay(&[prose, submit]);
    let log = project.private("prompts.jsonl");
    let out = project
        .gem(&replay)
        .env("GEM_REPLAY_LOG", &log)
        .args(["review", "--format", "json"])
        .write_stdin(DIFF)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings[0]["title"], "add subtracts");
    assert_eq!(findings[0]["line"], 2);
    let prompts = project.prompts(&log);
    assert_eq!(prompts.len(), 2, "one forced generation after the prose");
    assert!(prompts[1].contains("call `submit_review`"));
    assert!(
        prompts[0].contains("declaration:submit_review"),
        "the tool is declared"
    );
}

#[test]
fn review_inputs_empty_not_a_diff_and_invalid_utf8() {
    let project = Project::new();
    let replay = project.replay(&[DONE]);
    let out = project
        .gem(&replay)
        .arg("review")
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("nothing to review"));

    let out = project
        .gem(&replay)
        .arg("review")
        .write_stdin("just some words, not a patch\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not a diff"),
        "{}",
        text(&out.stderr)
    );

    let mut bytes = DIFF.as_bytes().to_vec();
    bytes.extend_from_slice(b"+// caf\xe9 \xff\n");
    let json_answer = "<|channel>thought\nok\n<channel|>```json\n[]\n```<turn|>";
    let replay = project.replay(&[json_answer]);
    let out = project
        .gem(&replay)
        .arg("review")
        .write_stdin(bytes)
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("not valid UTF-8"), "{stderr}");
}

#[test]
fn piped_stdin_that_is_not_utf8_is_read_lossily() {
    let project = Project::new();
    let replay = project.replay(&["<|channel>thought\nok\n<channel|>Read it.<turn|>"]);
    let log = project.private("prompts.jsonl");
    let out = project
        .gem(&replay)
        .env("GEM_REPLAY_LOG", &log)
        .args(["-p", "summarize"])
        .write_stdin(&b"bytes \xc3\x28 here"[..])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(project.prompts(&log)[0].contains("bytes \u{FFFD}( here"));
}

#[test]
fn bad_flags_are_usage_errors_naming_the_valid_values() {
    let project = Project::new();
    let replay = project.replay(&[DONE]);
    for (args, expect) in [
        (vec!["--mode", "bogus"], "full-auto"),
        (vec!["--kv-type", "bogus"], "q8_0"),
        (vec!["--flash-attn", "maybe"], "auto"),
        (vec!["--allow", "a[b"], "a[b"),
        (vec!["--temperature", "NaN"], "finite"),
        (vec!["--temperature", "inf"], "finite"),
        (vec!["--temperature=-1"], "finite"),
    ] {
        let out = project
            .gem(&replay)
            .args(["-p", "x"])
            .args(&args)
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
    }
    let out = project
        .gem(&replay)
        .arg("--patch")
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--print"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_directory_given_as_the_model_says_so() {
    let project = Project::new();
    let out = project
        .gem_without_model()
        .args(["-p", "x", "--model"])
        .arg(project.root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("directory"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn patch_mode_streams_events_to_stderr_and_only_the_patch_to_stdout() {
    let project = Project::new();
    let edit = "<|tool_call>call:edit_file{new_string:<|\"|>a + b<|\"|>,old_string:<|\"|>a - b<|\"|>,path:<|\"|>lib.rs<|\"|>}<tool_call|><|tool_response>";
    let read = "<|tool_call>call:read_file{path:<|\"|>lib.rs<|\"|>}<tool_call|><|tool_response>";
    let replay = project.replay(&[read, edit, DONE]);
    let out = project
        .gem(&replay)
        .args(["-p", "fix", "--patch", "--output-format", "stream-json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("diff --git a/lib.rs b/lib.rs"),
        "{stdout}"
    );
    assert!(!stdout.contains("\"type\""), "events mixed into the patch");
    assert!(text(&out.stderr).contains("\"type\":\"turn_complete\""));
}

#[test]
fn session_files_are_private_and_streamed_text_is_coalesced() {
    let project = Project::new();
    let long = format!(
        "<|channel>thought\nok\n<channel|>{}<turn|>",
        (0..20_000).map(|i| format!("w{i} ")).collect::<String>()
    );
    let replay = project.replay(&[&long]);
    let out = project
        .gem(&replay)
        .args(["-p", "talk", "--max-tokens", "100000"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let sessions: Vec<PathBuf> = walk(&project.private("gem-data"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&sessions[0])
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let lines = std::fs::read_to_string(&sessions[0])
        .unwrap()
        .lines()
        .count();
    // ~130 kB of answer streamed in 3-byte pieces: ~43k deltas, a handful of lines.
    assert!(lines < 40, "{lines} lines");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Processes whose command line holds `marker`.
#[cfg(target_os = "linux")]
fn processes_with(marker: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(marker) && !c.contains("bash -c"))
        .collect()
}

#[cfg(target_os = "linux")]
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "waited 60 s for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGTERM (and SIGHUP) end gem's commands as Ctrl-C does, including one that left the process
/// group with setsid; kill -9 still takes the command gem was running with it.
#[cfg(target_os = "linux")]
#[test]
fn no_command_outlives_gem_after_sigterm_sighup_or_kill_9() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    for (signal, name) in [
        (Signal::SIGTERM, "term"),
        (Signal::SIGHUP, "hup"),
        (Signal::SIGKILL, "kill"),
    ] {
        let project = Project::new();
        // Unique durations name this test's processes.
        let (bg, detached, fg) = match name {
            "term" => ("987.101", "987.102", "987.103"),
            "hup" => ("987.201", "987.202", "987.203"),
            _ => ("987.301", "987.302", "987.303"),
        };
        let command = if signal == Signal::SIGKILL {
            // A single command: bash execs it, so it carries the parent-death signal.
            format!("touch started && exec sleep {fg}")
        } else {
            format!("sleep {bg} & setsid sleep {detached} & touch started; sleep {fg}")
        };
        let call = format!(
            "<|tool_call>call:shell{{command:<|\"|>{command}<|\"|>}}<tool_call|><|tool_response>"
        );
        let replay = project.replay(&[&call, DONE]);
        let bin = assert_cmd::cargo::cargo_bin("gem");
        let mut child = std::process::Command::new(bin)
            .current_dir(project.root())
            .env("GEM_DATA_DIR", project.private("gem-data"))
            .env("GEM_CACHE_DIR", project.private("gem-cache"))
            .env("XDG_CONFIG_HOME", project.private("gem-config"))
            .env_remove("GEM_MODEL")
            .arg("--model")
            .arg(format!("replay:{}", replay.display()))
            .args(["--no-repo", "-p", "run it", "--mode", "full-auto"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = project.root().join("started");
        wait_until("the command to start", || started.exists());
        std::thread::sleep(Duration::from_millis(200));
        let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
        kill(pid, signal).unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(Instant::now() < deadline, "gem did not end after {name}");
            std::thread::sleep(Duration::from_millis(50));
        }
        for marker in [bg, detached, fg] {
            wait_until(&format!("`sleep {marker}` to end after {name}"), || {
                processes_with(&format!("sleep {marker}")).is_empty()
            });
        }
    }
}
