//! `gem -p`, patch mode and `gem review` end to end through the binary, on the replay backend
//! (recorded raw Gemma 4 output), in temporary git repositories.

use crate::support;

use assert_cmd::Command;
use serde_json::Value;

const READ: &str = "<|channel>thought\nRead it first.\n<channel|><|tool_call>call:read_file{path:<|\"|>lib.rs<|\"|>}<tool_call|><|tool_response>";
const EDIT: &str = "<|channel>thought\nFix the sign.\n<channel|><|tool_call>call:edit_file{new_string:<|\"|>a + b<|\"|>,old_string:<|\"|>a - b<|\"|>,path:<|\"|>lib.rs<|\"|>}<tool_call|><|tool_response>";
const TEST: &str = "<|channel>thought\nCheck it.\n<channel|><|tool_call>call:shell{command:<|\"|>grep -c 'a + b' lib.rs<|\"|>}<tool_call|><|tool_response>";
const DONE: &str = "<|channel>thought\nDone.\n<channel|>Fixed `add`: it now returns a + b.<turn|>";

type Project = support::ReplayProject;

#[test]
fn a_scripted_fix_edits_the_file_runs_the_check_and_prints_the_answer() {
    let project = Project::new();
    let replay = project.replay(&[READ, EDIT, TEST, DONE]);
    let log = project.root().join(".git").join("prompts.jsonl");
    let out = project
        .gem(&replay)
        .env("GEM_REPLAY_LOG", &log)
        .args(["-p", "fix add", "--allow", "grep *"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Fixed `add`: it now returns a + b.\n"
    );
    assert!(project.read("lib.rs").contains("a + b"));
    // The prompts the model saw carry the tool results, in order, and each extends the last.
    let prompts: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["prompt"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(prompts.len(), 4);
    assert!(
        prompts[1].contains("response:read_file{value:<|\"|>     1\t"),
        "{}",
        &prompts[1][prompts[1].len() - 300..]
    );
    assert!(
        prompts[2].contains("+    a + b"),
        "the edit's diff went back to the model"
    );
    assert!(prompts[3].contains("response:shell{value:<|\"|>"));
    for pair in prompts.windows(2) {
        assert!(
            pair[1].starts_with(&pair[0]),
            "prompts must be append-only within a turn"
        );
    }
}

#[test]
fn patch_mode_leaves_the_tree_untouched_and_prints_a_patch_git_applies() {
    let project = Project::new();
    let replay = project.replay(&[READ, EDIT, DONE]);
    let out = project
        .gem(&replay)
        .args(["-p", "fix add", "--patch"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let patch = String::from_utf8(out.stdout).unwrap();
    assert!(patch.starts_with("diff --git a/lib.rs b/lib.rs"), "{patch}");
    assert!(
        project.read("lib.rs").contains("a - b"),
        "the user's tree is untouched"
    );
    let clone = tempfile::tempdir().unwrap();
    support::git(
        clone.path(),
        &["clone", "-q", project.root().to_str().unwrap(), "c"],
    );
    let target = clone.path().join("c");
    std::fs::write(target.join("p.diff"), &patch).unwrap();
    support::git(&target, &["apply", "p.diff"]);
    assert!(
        std::fs::read_to_string(target.join("lib.rs"))
            .unwrap()
            .contains("a + b")
    );
}

#[test]
fn a_denied_shell_call_in_patch_mode_with_no_change_exits_4() {
    let project = Project::new();
    let replay = project.replay(&[TEST, "I could not run the check.<turn|>"]);
    let out = project
        .gem(&replay)
        .args(["-p", "check", "--patch"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("denied"), "{stderr}");
    assert!(
        stderr.contains("without changing any file (1 tool calls were denied)"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no patch on stdout");
}

#[test]
fn stream_json_events_parse_arrive_in_order_and_every_call_gets_one_result() {
    let project = Project::new();
    let replay = project.replay(&[
        READ,
        EDIT,
        "<|tool_call>call:nonsense{<tool_call|><|tool_response>",
        DONE,
    ]);
    let out = project
        .gem(&replay)
        .args(["-p", "fix add", "--output-format", "stream-json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stdout line is one JSON event"))
        .collect();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types[0], "session_configured");
    assert_eq!(types[1], "turn_started");
    assert_eq!(*types.last().unwrap(), "turn_complete");
    assert_eq!(events.last().unwrap()["reason"], "completed");
    let begins: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "tool_call_begin")
        .collect();
    let ends: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "tool_call_end")
        .collect();
    assert_eq!(begins.len(), 3);
    assert_eq!(begins.len(), ends.len());
    for (b, e) in begins.iter().zip(&ends) {
        assert_eq!(
            b["call_id"], e["call_id"],
            "each call ends before the next begins"
        );
    }
    assert_eq!(
        ends[2]["outcome"], "error",
        "the bad call got an error result"
    );
    let output = ends[2]["output"].as_str().unwrap();
    assert!(
        output.contains("nonsense") && output.contains("read_file"),
        "the model is told the tool does not exist and which do: {output}"
    );
    assert!(
        types.contains(&"thinking_delta")
            && types.contains(&"text_delta")
            && types.contains(&"token_usage")
    );
}

#[test]
fn max_turns_and_an_exhausted_replay_have_their_exit_codes() {
    let project = Project::new();
    let replay = project.replay(&[READ, READ, READ]);
    let out = project
        .gem(&replay)
        .args(["-p", "x", "--max-turns", "2"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replay = project.replay(&[READ]);
    let out = project.gem(&replay).args(["-p", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has only 1 recorded outputs"));
}

#[test]
fn repeating_the_same_call_stops_the_loop() {
    let project = Project::new();
    let replay = project.replay(&[READ, READ, READ, READ]);
    let out = project.gem(&replay).args(["-p", "x"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("same call 3 times"));
}

#[test]
fn review_reads_a_piped_diff_and_reports_json_findings() {
    let project = Project::new();
    let answer = "<|channel>thought\nThe sign is wrong.\n<channel|>```json\n[{\"file\":\"lib.rs\",\"line\":2,\"severity\":\"warning\",\"title\":\"Subtraction in add\",\"body\":\"add returns a - b.\"}]\n```<turn|>";
    let replay = project.replay(&[answer, answer, answer]);
    let diff = "diff --git a/lib.rs b/lib.rs\n--- a/lib.rs\n+++ b/lib.rs\n@@ -1,3 +1,3 @@\n fn add(a: i32, b: i32) -> i32 {\n-    a + b\n+    a - b\n }\n";
    let out = project
        .gem(&replay)
        .args(["review", "--format", "json"])
        .write_stdin(diff)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings[0]["file"], "lib.rs");
    assert_eq!(findings[0]["line"], 2);
    assert_eq!(findings[0]["severity"], "warning");
    let out = project
        .gem(&replay)
        .args(["review", "--format", "github", "--fail-on", "warning"])
        .write_stdin(diff)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("::warning file=lib.rs,line=2"));

    // Reviews are not conversations to continue: no session was saved (a `-p` run is).
    let sessions = project.private("gem-data/sessions");
    let saved = || {
        std::fs::read_dir(&sessions)
            .map(|entries| entries.count())
            .unwrap_or(0)
    };
    assert_eq!(saved(), 0, "review runs saved sessions");
    project.gem(&replay).args(["-p", "hi"]).assert().success();
    assert_eq!(saved(), 1);
}

#[test]
fn no_model_is_a_clear_error() {
    let project = Project::new();
    let mut cmd = Command::cargo_bin("gem").unwrap();
    let out = cmd
        .current_dir(project.root())
        .env_remove("GEM_MODEL")
        .env("XDG_CONFIG_HOME", project.root())
        .env("HOME", project.root())
        // No model cache of this machine may be searched.
        .env_remove("HF_HOME")
        .env_remove("HF_HUB_CACHE")
        .env_remove("LLAMA_CACHE")
        .env_remove("OLLAMA_MODELS")
        .env_remove("XDG_CACHE_HOME")
        .args(["-p", "hello"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no model given"));
}

#[test]
fn resume_without_an_id_outside_the_tui_lists_the_sessions_and_exits_2() {
    let project = Project::new();
    let replay = project.replay(&[DONE]);
    let out = project.gem(&replay).args(["--resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "no session yet");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no saved session"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = project
        .gem(&replay)
        .args(["-p", "fix add"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = project
        .gem(&replay)
        .args(["-p", "again", "--resume"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--resume needs an id"), "{stderr}");
    assert!(
        stderr.contains("1 turn   fix add"),
        "the session is listed: {stderr}"
    );
}
