//! Approvals through the protocol, on the replay backend: "always" on a shell command adds only
//! the rule the request stated (listed and revoked with `/permissions`' ops), and an edited
//! command is what the model is told ran.

use crate::support;

use std::sync::Arc;

use gem::agent::{Agent, AgentConfig, AgentHandle, Mode, Permissions, spawn};
use gem::engine::ReplayBackend;
use gem::protocol::{ApprovalDecision, Event, Op};

/// A shell call as the model writes it.
fn shell_call(command: &str) -> String {
    format!(
        "<|channel>thought\nRun it.\n<channel|><|tool_call>call:shell{{command:<|\"|>{command}<|\"|>}}<tool_call|><|tool_response>"
    )
}

fn agent(root: &std::path::Path, outputs: Vec<String>) -> AgentHandle {
    let config = AgentConfig {
        max_turns: 8,
        thinking: true,
        interactive: true,
        ..support::test_agent_config(root)
    };
    let backend = ReplayBackend::new("approvals".into(), outputs);
    spawn(Agent::new(
        Arc::new(backend),
        config,
        Permissions::new(Mode::Ask, &[]).unwrap_or_else(|e| panic!("{e}")),
        None,
    ))
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

fn answer(handle: &AgentHandle, decision: ApprovalDecision) -> (String, Option<String>) {
    let event = wait(handle, |e| {
        matches!(
            e,
            Event::ApprovalRequest { .. } | Event::TurnComplete { .. }
        )
    });
    let Event::ApprovalRequest {
        call_id, always, ..
    } = event
    else {
        panic!("the turn ended without asking: {event:?}");
    };
    handle
        .ops
        .send(Op::Approval {
            call_id: call_id.clone(),
            decision,
        })
        .unwrap_or_else(|e| panic!("{e}"));
    (call_id, always)
}

fn tool_output(handle: &AgentHandle) -> String {
    match wait(handle, |e| matches!(e, Event::ToolCallEnd { .. })) {
        Event::ToolCallEnd { output, .. } => output,
        _ => unreachable!(),
    }
}

#[test]
fn always_allows_the_stated_rule_only_and_an_edited_command_is_reported_as_run() {
    let dir = tempfile::tempdir().unwrap();
    let handle = agent(
        dir.path(),
        vec![
            shell_call("echo hi"),
            shell_call("echo hi"),
            shell_call("echo other"),
            "Done.<turn|>".into(),
        ],
    );
    handle
        .ops
        .send(Op::UserTurn {
            text: "go".into(),
            attachments: vec![],
        })
        .unwrap();

    // 1. Asked, with the rule "always" would add; "always" is chosen.
    let (_, always) = answer(&handle, ApprovalDecision::ApproveForSession);
    assert_eq!(always.as_deref(), Some("always allow: echo hi"));
    assert!(tool_output(&handle).contains("hi"));

    // 2. The same command runs unasked.
    let next = wait(&handle, |e| {
        matches!(e, Event::ApprovalRequest { .. } | Event::ToolCallEnd { .. })
    });
    assert!(
        matches!(next, Event::ToolCallEnd { .. }),
        "echo hi ran without asking: {next:?}"
    );

    // 3. Another command still asks; the user edits it.
    answer(
        &handle,
        ApprovalDecision::ApproveEdited {
            command: "echo REPLACED".into(),
        },
    );
    let output = tool_output(&handle);
    assert!(
        output.contains("what ran instead: echo REPLACED") && output.contains("REPLACED\n"),
        "the model is told what ran: {output}"
    );
    wait(&handle, |e| matches!(e, Event::TurnComplete { .. }));

    // The rule is listed and can be revoked.
    handle.ops.send(Op::ShowPermissions).unwrap();
    let listed = wait(&handle, |e| matches!(e, Event::Permissions { .. }));
    assert_eq!(
        listed,
        Event::Permissions {
            mode: gem::agent::Mode::Ask,
            rules: vec!["echo hi".into()],
            session_edits: false,
        }
    );
    handle
        .ops
        .send(Op::RevokeRule {
            rule: "echo hi".into(),
        })
        .unwrap();
    let Event::Permissions { rules, .. } =
        wait(&handle, |e| matches!(e, Event::Permissions { .. }))
    else {
        unreachable!()
    };
    assert!(rules.is_empty(), "{rules:?}");
    handle.ops.send(Op::Shutdown).unwrap();
}
