//! `/undo` through the protocol, on the replay backend: what a `shell` command changed (a file
//! created, one deleted, one rewritten) is put back, `/diff` no longer lists it, and the
//! model's next prompt says which files were restored.

use crate::support;

use std::sync::Arc;

use gem::agent::{Agent, AgentConfig, AgentHandle, Mode, Permissions, SnapshotStore, spawn};
use gem::engine::ReplayBackend;
use gem::protocol::{Event, Op};

/// A shell call as the model writes it.
fn shell_call(command: &str) -> String {
    format!("<|tool_call>call:shell{{command:<|\"|>{command}<|\"|>}}<tool_call|><|tool_response>")
}

/// Receives events until `want` matches one (panics if the agent stops first).
fn wait(handle: &AgentHandle, want: impl Fn(&Event) -> bool) -> Event {
    loop {
        let Ok(event) = handle.events.recv() else {
            panic!("the agent stopped early");
        };
        if want(&event) {
            return event;
        }
    }
}

fn user_turn(handle: &AgentHandle, text: &str) {
    handle
        .ops
        .send(Op::UserTurn {
            text: text.into(),
            attachments: vec![],
        })
        .unwrap();
}

fn session_diff(handle: &AgentHandle) -> Vec<String> {
    handle.ops.send(Op::Diff).unwrap();
    match wait(handle, |e| matches!(e, Event::SessionDiff { .. })) {
        Event::SessionDiff { diffs } => diffs,
        _ => unreachable!(),
    }
}

fn undo(handle: &AgentHandle) -> Vec<String> {
    handle.ops.send(Op::Undo).unwrap();
    match wait(handle, |e| matches!(e, Event::Undone { .. })) {
        Event::Undone { mut files } => {
            files.sort();
            files
        }
        _ => unreachable!(),
    }
}

#[test]
fn undo_reverts_a_shell_turn_and_the_next_prompt_says_so() {
    let project = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let root = project.path();
    std::fs::write(root.join("a.txt"), "before\n").unwrap();
    std::fs::write(root.join("gone.txt"), "keep me\n").unwrap();
    std::fs::write(root.join(".gitignore"), "*.log\n").unwrap();
    let log = outside.path().join("prompts.jsonl");
    let backend = ReplayBackend::new(
        "undo".into(),
        vec![
            shell_call(
                "printf made > made.txt; rm gone.txt; printf after > a.txt; printf x > b.log",
            ),
            "Done.<turn|>".into(),
            "Understood.<turn|>".into(),
        ],
    )
    .with_log(log.clone());
    let config = AgentConfig {
        interactive: true,
        snapshots: SnapshotStore::At(outside.path().join("snapshots")),
        ..support::test_agent_config(root)
    };
    let handle = spawn(Agent::new(
        Arc::new(backend),
        config,
        Permissions::new(Mode::FullAuto, &[]).unwrap(),
        None,
    ));

    user_turn(&handle, "change things");
    wait(&handle, |e| matches!(e, Event::TurnComplete { .. }));
    assert_eq!(
        std::fs::read_to_string(root.join("a.txt")).unwrap(),
        "after"
    );
    assert!(root.join("made.txt").exists() && !root.join("gone.txt").exists());
    assert_eq!(session_diff(&handle).len(), 3, "a.txt, gone.txt, made.txt");

    assert_eq!(undo(&handle), ["a.txt", "gone.txt", "made.txt"]);
    assert_eq!(
        std::fs::read_to_string(root.join("a.txt")).unwrap(),
        "before\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("gone.txt")).unwrap(),
        "keep me\n"
    );
    assert!(!root.join("made.txt").exists());
    assert_eq!(
        std::fs::read_to_string(root.join("b.log")).unwrap(),
        "x",
        "ignored: untouched"
    );
    assert!(
        session_diff(&handle).is_empty(),
        "/diff forgets what was undone"
    );
    assert!(undo(&handle).is_empty(), "nothing left to undo");

    user_turn(&handle, "what now?");
    let Event::UndoNoteSent { files } = wait(&handle, |e| matches!(e, Event::UndoNoteSent { .. }))
    else {
        unreachable!()
    };
    assert_eq!(files, ["a.txt", "gone.txt", "made.txt"]);
    wait(&handle, |e| matches!(e, Event::TurnComplete { .. }));
    handle.ops.send(Op::Shutdown).unwrap();

    let prompts = support::replay_prompts(&log);
    assert_eq!(prompts.len(), 3);
    assert!(!prompts[0].contains("<undo>") && !prompts[1].contains("<undo>"));
    let last = prompts[2].rsplit("what now?").next().unwrap();
    assert!(
        last.contains("<undo>") && last.contains("/undo") && last.contains("- made.txt"),
        "the note follows the user's message: {last}"
    );
    assert!(last.contains("- gone.txt") && last.contains("- a.txt"));
}

#[test]
fn without_a_snapshot_store_undo_says_so_once_and_reverts_the_edit_tools_changes() {
    let project = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let root = project.path();
    // The store's directory cannot be created: a file is in its way.
    let blocked = outside.path().join("not-a-dir");
    std::fs::write(&blocked, "").unwrap();
    let backend = ReplayBackend::new(
        "undo-fallback".into(),
        vec![
            "<|tool_call>call:write_file{path:<|\"|>new.txt<|\"|>,content:<|\"|>written<|\"|>}<tool_call|><|tool_response>".into(),
            shell_call("printf shell > shell.txt"),
            "Done.<turn|>".into(),
        ],
    );
    let config = AgentConfig {
        interactive: true,
        snapshots: SnapshotStore::At(blocked.join("snapshots")),
        ..support::test_agent_config(root)
    };
    let handle = spawn(Agent::new(
        Arc::new(backend),
        config,
        Permissions::new(Mode::FullAuto, &[]).unwrap(),
        None,
    ));
    let warning = wait(&handle, |e| matches!(e, Event::Warning { .. }));
    assert!(
        matches!(&warning, Event::Warning { message } if message.contains("only the edit and write tools")),
        "{warning:?}"
    );
    user_turn(&handle, "write two files");
    let rest = {
        let mut seen = Vec::new();
        loop {
            let event = handle.events.recv().unwrap();
            if matches!(event, Event::TurnComplete { .. }) {
                break seen;
            }
            seen.push(event);
        }
    };
    assert!(
        !rest.iter().any(|e| matches!(e, Event::Warning { .. })),
        "said once: {rest:?}"
    );
    assert!(root.join("new.txt").exists() && root.join("shell.txt").exists());
    assert_eq!(undo(&handle), ["new.txt"]);
    assert!(!root.join("new.txt").exists());
    assert!(
        root.join("shell.txt").exists(),
        "the fallback cannot revert shell changes"
    );
    handle.ops.send(Op::Shutdown).unwrap();
}
