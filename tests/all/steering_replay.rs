//! Steering a running turn through the protocol, on the replay backend: a message sent while a
//! step runs ([`Op::Steer`]) is in the next step's prompt, after the tool response; one the
//! turn ends before reading becomes the next user turn, sent to the model once.

use crate::support;

use std::sync::Arc;

use gem::agent::{Agent, AgentConfig, AgentHandle, Mode, Permissions, spawn};
use gem::engine::ReplayBackend;
use gem::gemma::{ModelPart, Turn};
use gem::protocol::{ApprovalDecision, Event, Op, TurnEnd};
use gem::session::SessionStore;

/// A shell call as the model writes it (it needs approval in ask mode: the step waits there).
const SHELL_CALL: &str = "<|channel>thought\nRun it.\n<channel|><|tool_call>call:shell{command:<|\"|>echo hi<|\"|>}<tool_call|><|tool_response>";

const STEER: &str = "also list the tests";

/// An interactive agent in ask mode over `outputs`, logging prompts to `log` and writing its
/// session into `sessions`.
fn agent(
    root: &std::path::Path,
    outputs: &[&str],
    log: &std::path::Path,
    sessions: &SessionStore,
) -> AgentHandle {
    let config = AgentConfig {
        thinking: true,
        interactive: true,
        ..support::test_agent_config(root)
    };
    let backend = ReplayBackend::new(
        "steering".into(),
        outputs.iter().map(|o| o.to_string()).collect(),
    )
    .with_log(log.to_path_buf());
    let session = sessions
        .create(root, "replay")
        .unwrap_or_else(|e| panic!("{e}"));
    spawn(Agent::new(
        Arc::new(backend),
        config,
        Permissions::new(Mode::Ask, &[]).unwrap_or_else(|e| panic!("{e}")),
        Some(session),
    ))
}

/// Events until `want` matches one, that one included (panics if the agent stops first or
/// nothing comes for 30 s, e.g. a message that never became a turn).
fn events_until(handle: &AgentHandle, want: impl Fn(&Event) -> bool) -> Vec<Event> {
    let mut seen = Vec::new();
    loop {
        let Ok(event) = handle
            .events
            .recv_timeout(std::time::Duration::from_secs(30))
        else {
            panic!("no such event (the agent stopped or went quiet); events: {seen:?}");
        };
        let done = want(&event);
        seen.push(event);
        if done {
            return seen;
        }
    }
}

fn send(handle: &AgentHandle, op: Op) {
    handle.ops.send(op).unwrap_or_else(|e| panic!("{e}"));
}

fn user_turn(text: &str) -> Op {
    Op::UserTurn {
        text: text.into(),
        attachments: vec![],
    }
}

fn steer(text: &str) -> Op {
    Op::Steer {
        text: text.into(),
        attachments: vec![],
    }
}

/// Answers the approval the agent asks for with `decision`.
fn answer_approval(handle: &AgentHandle, decision: ApprovalDecision) {
    let asked = events_until(handle, |e| matches!(e, Event::ApprovalRequest { .. }));
    let Some(Event::ApprovalRequest { call_id, .. }) = asked.last() else {
        unreachable!()
    };
    send(
        handle,
        Op::Approval {
            call_id: call_id.clone(),
            decision,
        },
    );
}

/// Shuts the agent down and waits for its thread.
fn shut_down(handle: AgentHandle) {
    send(&handle, Op::Shutdown);
    handle
        .thread
        .join()
        .unwrap_or_else(|_| panic!("agent thread"));
}

#[test]
fn a_message_sent_during_a_step_is_read_at_the_next_step_after_the_tool_response() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    std::fs::create_dir(&root).unwrap();
    let log = dir.path().join("prompts.jsonl");
    let sessions = SessionStore::at(dir.path().join("sessions"));
    let handle = agent(
        &root,
        &[SHELL_CALL, "Done: hi, and no tests.<turn|>"],
        &log,
        &sessions,
    );
    send(&handle, user_turn("say hi"));
    let configured = events_until(&handle, |e| matches!(e, Event::SessionConfigured { .. }));
    let Some(Event::SessionConfigured { session_id, .. }) = configured.last() else {
        unreachable!()
    };
    // The first step waits for the approval of its call: the message arrives during it.
    send(&handle, steer(STEER));
    answer_approval(&handle, ApprovalDecision::Approve);
    let events = events_until(&handle, |e| matches!(e, Event::TurnComplete { .. }));
    let order: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::ToolCallEnd { .. } => Some("tool end"),
            Event::SteerApplied { text } if text == STEER => Some("steer"),
            Event::TokenUsage { .. } => Some("generation"),
            Event::TurnStarted { .. } => Some("new turn"),
            _ => None,
        })
        .collect();
    assert_eq!(order, ["tool end", "steer", "generation"], "{events:?}");
    assert_eq!(
        events.last(),
        Some(&Event::TurnComplete {
            reason: TurnEnd::Completed,
            final_text: "Done: hi, and no tests.".into()
        })
    );
    shut_down(handle);

    let prompts = support::replay_prompts(&log);
    assert_eq!(prompts.len(), 2, "one generation per step");
    assert!(!prompts[0].contains(STEER));
    // Within the turn the prompt only grows: the steering message follows what was generated.
    assert!(prompts[1].starts_with(&prompts[0]), "{}", prompts[1]);
    let response_at = prompts[1]
        .rfind("<|tool_response>response:shell{")
        .expect("the tool response");
    let tail = &prompts[1][response_at..];
    assert!(
        tail.ends_with(&format!(
            "<tool_response|><turn|>\n<|turn>user\n{STEER}<turn|>\n<|turn>model\n"
        )),
        "the model turn closes after the response, the message follows as a user turn: {tail}"
    );
    assert_eq!(prompts[1].matches(STEER).count(), 1);

    // The session has it as a user message, and `--resume` continues from it.
    let (_, reader) = sessions
        .resume(session_id)
        .unwrap_or_else(|e| panic!("{e}"));
    let user_records: Vec<&str> = reader
        .records()
        .iter()
        .filter_map(|r| r.user_text())
        .collect();
    assert_eq!(user_records, ["say hi", STEER]);
    let conversation = reader
        .into_last_conversation()
        .expect("a conversation was recorded");
    let shapes: Vec<String> = conversation
        .turns
        .iter()
        .map(|turn| match turn {
            Turn::User(user) => format!("user: {}", user.content),
            Turn::Model(model) => model
                .parts
                .iter()
                .map(|part| match part {
                    ModelPart::Thinking(_) => "thinking",
                    ModelPart::Text(_) => "text",
                    ModelPart::ToolCall(_) => "call",
                    ModelPart::ToolResponse(_) => "response",
                })
                .collect::<Vec<_>>()
                .join(","),
        })
        .collect();
    assert_eq!(
        shapes,
        [
            "user: say hi",
            "thinking,call,response",
            &format!("user: {STEER}"),
            "text"
        ]
    );
}

#[test]
fn a_message_the_turn_ends_before_reading_is_the_next_turn_sent_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    std::fs::create_dir(&root).unwrap();
    let log = dir.path().join("prompts.jsonl");
    let sessions = SessionStore::at(dir.path().join("sessions"));
    let handle = agent(
        &root,
        &["First answer.<turn|>", "Second answer.<turn|>"],
        &log,
        &sessions,
    );
    // The turn answers in its first step: there is no next step to read the message at.
    send(&handle, user_turn("first"));
    send(&handle, steer(STEER));
    let first = events_until(&handle, |e| matches!(e, Event::TurnComplete { .. }));
    let second = events_until(&handle, |e| matches!(e, Event::TurnComplete { .. }));
    assert!(
        !first
            .iter()
            .chain(&second)
            .any(|e| matches!(e, Event::SteerApplied { .. })),
        "{first:?} {second:?}"
    );
    assert!(
        second.contains(&Event::TurnStarted { turn: 2 }),
        "{second:?}"
    );
    assert_eq!(
        second.last(),
        Some(&Event::TurnComplete {
            reason: TurnEnd::Completed,
            final_text: "Second answer.".into()
        })
    );
    shut_down(handle);
    let prompts = support::replay_prompts(&log);
    assert_eq!(prompts.len(), 2);
    assert!(!prompts[0].contains(STEER));
    assert!(prompts[1].ends_with(&format!("<|turn>user\n{STEER}<turn|>\n<|turn>model\n")));
    assert_eq!(prompts[1].matches(STEER).count(), 1, "sent once");
}

#[test]
fn an_interrupted_turn_keeps_the_message_for_the_next_turn() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    std::fs::create_dir(&root).unwrap();
    let log = dir.path().join("prompts.jsonl");
    let sessions = SessionStore::at(dir.path().join("sessions"));
    let handle = agent(
        &root,
        &[SHELL_CALL, "Listing them.<turn|>"],
        &log,
        &sessions,
    );
    send(&handle, user_turn("say hi"));
    events_until(&handle, |e| matches!(e, Event::ApprovalRequest { .. }));
    send(&handle, steer(STEER));
    send(&handle, Op::Interrupt);
    let interrupted = events_until(&handle, |e| matches!(e, Event::TurnComplete { .. }));
    assert!(
        matches!(
            interrupted.last(),
            Some(Event::TurnComplete {
                reason: TurnEnd::Interrupted,
                ..
            })
        ),
        "{interrupted:?}"
    );
    let next = events_until(&handle, |e| matches!(e, Event::TurnComplete { .. }));
    assert!(next.contains(&Event::TurnStarted { turn: 2 }), "{next:?}");
    shut_down(handle);
    let prompts = support::replay_prompts(&log);
    assert_eq!(prompts.len(), 2);
    assert!(prompts[1].ends_with(&format!("<|turn>user\n{STEER}<turn|>\n<|turn>model\n")));
    assert_eq!(prompts[1].matches(STEER).count(), 1);
}
