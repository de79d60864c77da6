//! Sessions and compaction on the replay backend: a session file is written as the agent works,
//! `--continue` restores the conversation, and compaction continues from a summary.

use crate::support;

use std::sync::Arc;

use gem::agent::{Agent, AgentConfig, Mode, Permissions, spawn};
use gem::engine::ReplayBackend;
use gem::protocol::{Event, Op, TurnEnd};

#[test]
fn continue_restores_the_previous_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    std::fs::create_dir(&root).unwrap();
    let replay = dir.path().join("replay.json");
    std::fs::write(
        &replay,
        r#"["The answer is 42.<turn|>", "Still 42.<turn|>"]"#,
    )
    .unwrap();
    let log = dir.path().join("log.jsonl");
    let run = |args: &[&str]| {
        support::isolated_gem(&dir.path().join("state"))
            .current_dir(&root)
            .env("GEM_REPLAY_LOG", &log)
            .args([
                "--model",
                &format!("replay:{}", replay.display()),
                "--no-repo",
            ])
            .args(args)
            .output()
            .unwrap()
    };
    let first = run(&["-p", "what is the answer?"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let sessions = std::fs::read_dir(dir.path().join("state/gem-data/sessions"))
        .unwrap()
        .count();
    assert_eq!(sessions, 1, "one session file was written");
    // The replay backend restarts at output 0 in a new process: give it the second answer first.
    std::fs::write(&replay, r#"["Still 42.<turn|>"]"#).unwrap();
    let second = run(&["--continue", "-p", "are you sure?"]);
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let prompts = support::replay_prompts(&log);
    let last = prompts.last().unwrap();
    assert!(
        last.contains("what is the answer?") && last.contains("The answer is 42."),
        "{last}"
    );
    assert!(last.contains("are you sure?"));
    assert!(last.starts_with(&prompts[0][..prompts[0].len() - "<|turn>model\n".len()]));
}

#[test]
fn compaction_continues_from_a_summary_that_is_in_the_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    let backend = ReplayBackend::new(
        "compaction".into(),
        vec![
            "We renamed parse to parse_all in src/lib.rs.<turn|>".into(),
            "SUMMARY: parse was renamed to parse_all in src/lib.rs.<turn|>".into(),
            "Next I will update the callers.<turn|>".into(),
        ],
    )
    .with_log(log.clone());
    let config = AgentConfig {
        thinking: true,
        ..support::test_agent_config(dir.path())
    };
    let agent = Agent::new(
        Arc::new(backend),
        config,
        Permissions::new(Mode::ReadOnly, &[]).unwrap(),
        None,
    );
    let handle = spawn(agent);
    let wait = |want: &dyn Fn(&Event) -> bool| loop {
        let event = handle.events.recv().unwrap();
        if want(&event) {
            return event;
        }
    };
    handle
        .ops
        .send(Op::UserTurn {
            text: "rename parse".into(),
            attachments: vec![],
        })
        .unwrap();
    wait(&|e| matches!(e, Event::TurnComplete { .. }));
    handle
        .ops
        .send(Op::Compact {
            hint: Some("the rename".into()),
        })
        .unwrap();
    let compacted = wait(&|e| matches!(e, Event::Compacted { .. } | Event::Error { .. }));
    assert!(
        matches!(compacted, Event::Compacted { .. }),
        "{compacted:?}"
    );
    handle
        .ops
        .send(Op::UserTurn {
            text: "what next?".into(),
            attachments: vec![],
        })
        .unwrap();
    let done = wait(&|e| matches!(e, Event::TurnComplete { .. }));
    assert_eq!(
        done,
        Event::TurnComplete {
            reason: TurnEnd::Completed,
            final_text: "Next I will update the callers.".into()
        }
    );
    handle.ops.send(Op::Shutdown).unwrap();
    let prompts = support::replay_prompts(&log);
    assert_eq!(prompts.len(), 3);
    assert!(prompts[1].contains("Keep in particular: the rename"));
    let last = &prompts[2];
    assert!(
        last.contains("SUMMARY: parse was renamed"),
        "the summary is in the prompt"
    );
    assert!(
        !last.contains("rename parse"),
        "the original messages were replaced"
    );
}

#[test]
fn files_changed_after_packing_are_re_sent_with_the_next_message() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    let write = "<|tool_call>call:write_file{content:<|\"|>fresh text\n<|\"|>,path:<|\"|>notes.txt<|\"|>}<tool_call|><|tool_response>";
    let backend = ReplayBackend::new(
        "resend".into(),
        vec![
            write.into(),
            "Written.<turn|>".into(),
            "Seen.<turn|>".into(),
        ],
    )
    .with_log(log.clone());
    let config = AgentConfig {
        system_prompt: "You are a test agent.\n<file path=\"notes.txt\">\nold\n</file>".into(),
        packed: Some(Default::default()),
        ..support::test_agent_config(dir.path())
    };
    let agent = Agent::new(
        Arc::new(backend),
        config,
        Permissions::new(Mode::AutoEdit, &[]).unwrap(),
        None,
    );
    let handle = spawn(agent);
    for text in ["write the notes", "what do they say?"] {
        handle
            .ops
            .send(Op::UserTurn {
                text: text.into(),
                attachments: vec![],
            })
            .unwrap();
        while !matches!(handle.events.recv().unwrap(), Event::TurnComplete { .. }) {}
    }
    handle.ops.send(Op::Shutdown).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "fresh text\n"
    );
    let prompts = support::replay_prompts(&log);
    let last = prompts.last().unwrap();
    let resent = last
        .find("<changed_files>")
        .expect("the changed file is re-sent");
    assert!(
        last[resent..].contains("<file path=\"notes.txt\">\nfresh text\n</file>"),
        "{}",
        &last[resent..]
    );
    // The first turn's last step ended on the tool response; the follow-up continues it.
    assert!(
        last.starts_with(&prompts[1]),
        "the follow-up keeps the first turn as its prefix:\n{}\n---\n{last}",
        prompts[1]
    );
    assert!(
        !prompts[1].contains("<changed_files>"),
        "nothing changed before the first message"
    );
}

/// A conversation about to overflow the context is compacted before the next step, without
/// being asked: the model is asked for a summary, and the next prompt holds the summary, not
/// the long answer. (The replay backend counts a token per 4 bytes.)
#[test]
fn a_conversation_near_the_context_limit_is_compacted_automatically() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    // A 40k-token context; the first prompt is ~3.3k tokens and the first answer ~32.5k, so the
    // second prompt needs more than the context minus the reserve for an answer (a quarter of
    // it) but still fits whole. Distinct lines: repetition would stop the turn.
    let long_answer: String = (0..5_400)
        .map(|i| format!("line {i:05}: value {:07}\n", i * 7))
        .collect();
    let backend = ReplayBackend::new(
        "auto-compaction".into(),
        vec![
            format!("{long_answer}<turn|>"),
            "SUMMARY: the loop increments x.<turn|>".into(),
            "Done.<turn|>".into(),
        ],
    )
    .with_context(40_000)
    .with_log(log.clone());
    let config = AgentConfig {
        max_tokens: 100_000,
        ..support::test_agent_config(dir.path())
    };
    let agent = Agent::new(
        Arc::new(backend),
        config,
        Permissions::new(Mode::ReadOnly, &[]).unwrap(),
        None,
    );
    let handle = spawn(agent);
    let mut events = Vec::new();
    for text in ["what did the old code say?", "and now?"] {
        handle
            .ops
            .send(Op::UserTurn {
                text: text.into(),
                attachments: vec![],
            })
            .unwrap();
        loop {
            let event = handle.events.recv().unwrap();
            let done = matches!(event, Event::TurnComplete { .. });
            events.push(event);
            if done {
                break;
            }
        }
    }
    handle.ops.send(Op::Shutdown).unwrap();
    let warned = events
        .iter()
        .any(|e| matches!(e, Event::Warning { message } if message.contains("compacting it")));
    assert!(warned, "a warning says why: {events:?}");
    let compacted = events.iter().find_map(|e| match e {
        Event::Compacted {
            tokens_before,
            tokens_after,
        } => Some((*tokens_before, *tokens_after)),
        _ => None,
    });
    let (before, after) = compacted.expect("the conversation was compacted");
    assert!(before > 30_000 && after < 10_000, "{before} → {after}");
    assert_eq!(
        events.last(),
        Some(&Event::TurnComplete {
            reason: TurnEnd::Completed,
            final_text: "Done.".into()
        })
    );
    let prompts = support::replay_prompts(&log);
    assert_eq!(prompts.len(), 3, "answer, summary, answer");
    assert!(
        prompts[1].contains(long_answer.trim()),
        "the summary sees everything"
    );
    let last = &prompts[2];
    assert!(last.contains("SUMMARY: the loop increments x."), "{last}");
    assert!(
        last.contains("and now?"),
        "the new message follows the summary"
    );
    assert!(!last.contains("line 00001:"), "the long answer is gone");
}

/// With a model whose embedded chat template renders differently from gem, the agent renders
/// every prompt with that template (here one with a blank line after each turn).
#[test]
fn prompts_are_rendered_with_the_embedded_template_when_it_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    let backend =
        ReplayBackend::new("template".into(), vec!["Hello.<turn|>".into()]).with_log(log.clone());
    let source = r#"{{ bos_token }}{% for m in messages %}<|turn>{{ 'model' if m.role == 'assistant' else m.role }}
{{ m.content | trim }}<turn|>

{% endfor %}{% if add_generation_prompt %}<|turn>model
{% endif %}"#;
    let template = gem::gemma::ChatTemplate::new(source).unwrap();
    let config = AgentConfig {
        max_turns: 2,
        max_tokens: 64,
        ..support::test_agent_config(dir.path())
    };
    let mut agent = Agent::new(
        Arc::new(backend),
        config,
        Permissions::new(Mode::ReadOnly, &[]).unwrap(),
        None,
    );
    agent.use_template(template);
    let handle = spawn(agent);
    handle
        .ops
        .send(Op::UserTurn {
            text: "hi".into(),
            attachments: vec![],
        })
        .unwrap();
    while !matches!(handle.events.recv().unwrap(), Event::TurnComplete { .. }) {}
    handle.ops.send(Op::Shutdown).unwrap();
    let prompts = support::replay_prompts(&log);
    assert_eq!(
        prompts[0],
        "<bos><|turn>system\nYou are a test agent.<turn|>\n\n<|turn>user\nhi<turn|>\n\n<|turn>model\n"
    );
}

/// `/clear` is recorded: a session resumed after it continues from the cleared conversation,
/// and the turns before the clear stay gone.
#[test]
fn resuming_after_clear_does_not_bring_the_cleared_turns_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = gem::session::SessionStore::at(dir.path().join("sessions"));
    let writer = store.create(dir.path(), "replay:clear").unwrap();
    let id = writer.id().to_string();
    let backend = ReplayBackend::new("clear".into(), vec!["Noted: blue.<turn|>".into()]);
    let agent = Agent::new(
        Arc::new(backend),
        support::test_agent_config(dir.path()),
        Permissions::new(Mode::ReadOnly, &[]).unwrap(),
        Some(writer),
    );
    let handle = spawn(agent);
    handle
        .ops
        .send(Op::UserTurn {
            text: "my favourite colour is blue".into(),
            attachments: vec![],
        })
        .unwrap();
    while !matches!(handle.events.recv().unwrap(), Event::TurnComplete { .. }) {}
    let before_clear = store.resume(&id).unwrap().1.into_last_conversation();
    assert_eq!(
        before_clear.map(|c| c.turns.len()),
        Some(2),
        "the turn was recorded before the clear"
    );
    handle.ops.send(Op::Clear).unwrap();
    while !matches!(handle.events.recv().unwrap(), Event::Cleared { .. }) {}
    handle.ops.send(Op::Shutdown).unwrap();
    while handle.events.recv().is_ok() {}
    let resumed = store
        .resume(&id)
        .unwrap()
        .1
        .into_last_conversation()
        .expect("a conversation was recorded");
    assert!(resumed.turns.is_empty(), "{:?}", resumed.turns);
    assert_eq!(
        resumed.system.as_deref(),
        Some(
            support::test_agent_config(dir.path())
                .system_prompt
                .as_str()
        )
    );
}

/// A project larger than its budget: the next start after an edit keeps the previous start's
/// selection (kept in gem's cache), so the packed repository — the repo map at its front
/// included — is the same text and its KV state still applies. Without it, the edited file
/// (now the most recent) would be taken whole in place of another, changing the map.
#[test]
fn the_next_start_after_an_edit_packs_the_same_selection() {
    let body = |word: &str| format!("    // {word} line of the body\n").repeat(120);
    let files: Vec<(String, String)> = (1..=8)
        .map(|n| {
            (
                format!("f{n}.rs"),
                format!("fn f{n}() {{\n{}}}\n", body("a")),
            )
        })
        .collect();
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(path, content)| (path.as_str(), content.as_str()))
        .collect();
    let project = support::git_project(&borrowed);
    let state = tempfile::tempdir().unwrap();
    let replay = state.path().join("replay.json");
    std::fs::write(&replay, r#"["Fine.<turn|>"]"#).unwrap();
    let log = state.path().join("log.jsonl");
    let run = || {
        let out = support::isolated_gem(state.path())
            .current_dir(project.path())
            .env("GEM_REPLAY_LOG", &log)
            .env("GEM_REPLAY_CTX", "8192")
            .args(["--model", &format!("replay:{}", replay.display())])
            .args(["-p", "hello"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{stderr}");
        stderr
    };
    let first = run();
    assert!(
        first.contains("mapped"),
        "the project does not fit: {first}"
    );
    // f8.rs sorts last and is in the map; edited, it is the most recent file.
    std::fs::write(
        project.path().join("f8.rs"),
        format!("fn f8() {{\n{}}}\n", body("edited")),
    )
    .unwrap();
    let second = run();
    let prompts = support::replay_prompts(&log);
    assert_eq!(prompts.len(), 2);
    assert!(
        !prompts[0].contains("edited line") && !prompts[1].contains("edited line"),
        "f8.rs stays in the map, as before the edit"
    );
    assert_eq!(prompts[0], prompts[1], "{first}\n---\n{second}");
}

/// In the interactive frontend with a packed repository, the agent reads the stable prefix in
/// as soon as it starts, before any message; the first message then reuses all of it.
#[test]
fn the_packed_prefix_is_read_in_at_launch_and_the_first_message_reuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    let backend =
        ReplayBackend::new("warm".into(), vec!["Hello.<turn|>".into()]).with_log(log.clone());
    let config = AgentConfig {
        system_prompt: format!(
            "You are a test agent.\n<file path=\"big.rs\">\n{}</file>",
            "fn f() {}\n".repeat(400)
        ),
        packed: Some(Default::default()),
        interactive: true,
        ..support::test_agent_config(dir.path())
    };
    let agent = Agent::new(
        Arc::new(backend),
        config,
        Permissions::new(Mode::ReadOnly, &[]).unwrap(),
        None,
    );
    let handle = spawn(agent);
    let warmed = loop {
        match handle.events.recv().unwrap() {
            event @ Event::WarmedUp { .. } => break event,
            Event::TurnStarted { .. } => panic!("no turn before the read-in"),
            _ => {}
        }
    };
    let Event::WarmedUp {
        prompt_tokens,
        cancelled,
        ..
    } = warmed
    else {
        unreachable!()
    };
    assert!(prompt_tokens > 1000, "the packed file is in the prefix");
    assert!(!cancelled);
    handle
        .ops
        .send(Op::UserTurn {
            text: "hi".into(),
            attachments: vec![],
        })
        .unwrap();
    let usage = loop {
        if let Event::TokenUsage { usage } = handle.events.recv().unwrap() {
            break usage;
        }
    };
    assert!(
        usage.reused_tokens >= prompt_tokens,
        "the first message reuses the prefix read in: {usage:?}"
    );
    handle.ops.send(Op::Shutdown).unwrap();
    assert_eq!(
        support::replay_prompts(&log).len(),
        1,
        "the read-in takes no recorded answer and is not a logged prompt"
    );
}
