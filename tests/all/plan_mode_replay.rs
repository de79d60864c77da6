//! Plan mode and the todo list end to end, on the replay backend: through the binary
//! (`gem -p --mode plan`) and through the protocol (a mode switched in the middle of a turn
//! applies to the next tool call).

use crate::support;

use std::sync::Arc;

use gem::agent::{Agent, AgentConfig, AgentHandle, Mode, Permissions, spawn};
use gem::engine::ReplayBackend;
use gem::protocol::{ApprovalDecision, Event, Op, ToolOutcome};
use serde_json::Value;

const READ: &str =
    "<|tool_call>call:read_file{path:<|\"|>lib.rs<|\"|>}<tool_call|><|tool_response>";
const TODO: &str = "<|tool_call>call:todo_write{todos:[{content:<|\"|>Read lib.rs<|\"|>,status:<|\"|>completed<|\"|>},{content:<|\"|>Plan the fix<|\"|>,status:<|\"|>in_progress<|\"|>}]}<tool_call|><|tool_response>";
const WRITE: &str = "<|tool_call>call:write_file{content:<|\"|>fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n<|\"|>,path:<|\"|>lib.rs<|\"|>}<tool_call|><|tool_response>";
const LIST: &str = "<|tool_call>call:shell{command:<|\"|>ls<|\"|>}<tool_call|><|tool_response>";
const PLAN: &str =
    "`add` subtracts.\n\n1. In lib.rs change `a - b` to `a + b`.\n2. Run the tests.<turn|>";

/// The stream-json events of a run, parsed.
fn events(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// The `tool_call_end` event of the call to `name`.
fn call_end<'a>(events: &'a [Value], name: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["type"] == "tool_call_end" && e["name"] == name)
        .unwrap_or_else(|| panic!("no {name} call in {events:?}"))
}

#[test]
fn headless_plan_mode_keeps_a_todo_list_denies_the_edit_and_prints_the_plan() {
    let project = support::ReplayProject::new();
    let replay = project.replay(&[READ, TODO, LIST, WRITE, PLAN]);
    let log = project.private("prompts.jsonl");
    let out = project
        .gem(&replay)
        .env("GEM_REPLAY_LOG", &log)
        .args(["-p", "plan the fix", "--mode", "plan"])
        .args(["--output-format", "stream-json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let events = events(&out.stdout);
    assert_eq!(events[0]["mode"], "plan", "{:?}", events[0]);
    let todo = call_end(&events, "todo_write");
    assert_eq!(todo["outcome"], "ok", "{todo}");
    assert!(
        todo["output"]
            .as_str()
            .unwrap()
            .starts_with("Todo list updated"),
        "{todo}"
    );
    assert_eq!(
        call_end(&events, "shell")["outcome"],
        "ok",
        "`ls` only reads"
    );
    let write = call_end(&events, "write_file");
    assert_eq!(write["outcome"], "denied", "{write}");
    assert!(
        write["output"].as_str().unwrap().contains("plan mode"),
        "{write}"
    );
    assert!(project.read("lib.rs").contains("a - b"), "nothing changed");
    let end = events.last().unwrap();
    assert_eq!(end["type"], "turn_complete");
    assert!(
        end["final_text"].as_str().unwrap().contains("1. In lib.rs"),
        "{end}"
    );
    // The instruction comes with the message; the system prompt is the one every mode sees.
    let prompts = project.prompts(&log);
    assert!(prompts[0].contains("plan the fix\n\n<plan_mode>\nYou are in plan mode"));
    assert_eq!(prompts[0].matches("You are in plan mode").count(), 1);
}

#[test]
fn plan_mode_leaves_the_prompt_prefix_of_other_modes_whole() {
    let project = support::ReplayProject::new();
    let prefix_in = |mode: &str| {
        let replay = project.replay(&["Done.<turn|>"]);
        let log = project.private(&format!("prompts-{mode}.jsonl"));
        let out = project
            .gem(&replay)
            .env("GEM_REPLAY_LOG", &log)
            .args(["-p", "quokka-request", "--mode", mode])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let prompt = project.prompts(&log).remove(0);
        prompt[..prompt.find("quokka-request").unwrap()].to_string()
    };
    let ask = prefix_in("ask");
    assert!(ask.len() > 1000, "the system turn with the tools: {ask}");
    assert_eq!(prefix_in("plan"), ask);
}

fn agent(root: &std::path::Path, outputs: Vec<String>) -> AgentHandle {
    let config = AgentConfig {
        interactive: true,
        ..support::test_agent_config(root)
    };
    let backend = ReplayBackend::new("plan".into(), outputs);
    spawn(Agent::new(
        Arc::new(backend),
        config,
        Permissions::new(Mode::Ask, &[]).unwrap_or_else(|e| panic!("{e}")),
        None,
    ))
}

fn next_event(handle: &AgentHandle) -> Event {
    handle
        .events
        .recv_timeout(std::time::Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("no event: {e}"))
}

#[test]
fn a_mode_switched_during_a_turn_applies_from_the_next_tool_call() {
    let dir = tempfile::tempdir().unwrap();
    // One generation, two calls: a command that needs approval, then a new file.
    let both = "<|tool_call>call:shell{command:<|\"|>touch approved.txt<|\"|>}<tool_call|>\
                <|tool_call>call:write_file{content:<|\"|>x<|\"|>,path:<|\"|>notes.md<|\"|>}<tool_call|><|tool_response>";
    let handle = agent(dir.path(), vec![both.into(), "Stopped.<turn|>".into()]);
    let send = |op| handle.ops.send(op).unwrap_or_else(|e| panic!("{e}"));
    send(Op::UserTurn {
        text: "go".into(),
        attachments: vec![],
    });
    let call_id = loop {
        if let Event::ApprovalRequest { call_id, .. } = next_event(&handle) {
            break call_id;
        }
    };
    // The switch and a request for the permissions arrive while the turn still runs.
    send(Op::Approval {
        call_id,
        decision: ApprovalDecision::Approve,
    });
    send(Op::SetMode { mode: Mode::Plan });
    send(Op::ShowPermissions);
    let mut seen = Vec::new();
    loop {
        let event = next_event(&handle);
        let done = matches!(event, Event::Permissions { .. });
        seen.push(event);
        if done {
            break;
        }
    }
    let outcome = |name: &str| {
        seen.iter().find_map(|e| match e {
            Event::ToolCallEnd {
                name: n, outcome, ..
            } if n == name => Some(*outcome),
            _ => None,
        })
    };
    assert_eq!(
        outcome("shell"),
        Some(ToolOutcome::Ok),
        "approved before the switch"
    );
    assert_eq!(outcome("write_file"), Some(ToolOutcome::Denied), "{seen:?}");
    assert!(dir.path().join("approved.txt").exists());
    assert!(!dir.path().join("notes.md").exists());
    let position = |want: fn(&Event) -> bool| seen.iter().position(want).unwrap();
    assert!(
        position(|e| matches!(e, Event::ModeChanged { mode: Mode::Plan }))
            < position(|e| matches!(e, Event::ToolCallBegin { name, .. } if name == "write_file"))
    );
    assert!(
        position(|e| matches!(e, Event::TurnComplete { .. }))
            < position(|e| matches!(e, Event::Permissions { .. })),
        "the other op waits for the turn to end and is then answered"
    );
    assert!(matches!(
        seen.last(),
        Some(Event::Permissions {
            mode: Mode::Plan,
            ..
        })
    ));
    let _ = handle.ops.send(Op::Shutdown);
}
