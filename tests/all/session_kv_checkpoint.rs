//! A resumed session restores its conversation's KV state from disk (real 270M weights): the
//! agent of an interactive session saves it when the session ends, and a new engine and agent
//! with the restored conversation prefill only the new message.

use crate::support;

use std::sync::Arc;

use gem::agent::{Agent, AgentConfig, Mode, Permissions, spawn};
use gem::engine::{Backend, EngineConfig, LlamaEngine};
use gem::protocol::{Event, Op, TokenUsage};
use gem::session::SessionStore;

fn agent(engine: Arc<dyn Backend>, root: &std::path::Path, store: &SessionStore) -> Agent {
    let config = AgentConfig {
        system_prompt: "You are a terse assistant.".into(),
        max_turns: 2,
        max_tokens: 12,
        interactive: true,
        ..support::test_agent_config(root)
    };
    let session = store.create(root, "gemma-3-270m").unwrap();
    Agent::new(
        engine,
        config,
        Permissions::new(Mode::ReadOnly, &[]).unwrap(),
        Some(session),
    )
}

/// Runs one user turn and returns the first generation's token usage.
fn first_usage(handle: &gem::agent::AgentHandle, text: &str) -> TokenUsage {
    handle
        .ops
        .send(Op::UserTurn {
            text: text.into(),
            attachments: Vec::new(),
        })
        .unwrap();
    let mut first = None;
    for event in handle.events.iter() {
        match event {
            Event::TokenUsage { usage } => {
                first.get_or_insert(usage);
            }
            Event::TurnComplete { .. } => break,
            _ => {}
        }
    }
    first.expect("the turn made a generation")
}

#[test]
fn a_resumed_conversation_restores_its_kv_state_from_disk() {
    let _lock = support::model_lock();
    let Some(model) = support::real_model() else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let store = SessionStore::at(data.path().join("sessions"));
    let mut config = EngineConfig::new(&model);
    config.context = Some(8192);
    config.state_dir = Some(data.path().join("kv"));

    // First session: two turns, then the end of the session saves the conversation's state.
    let engine: Arc<dyn Backend> = Arc::new(LlamaEngine::load(&config).unwrap());
    let first = agent(Arc::clone(&engine), root.path(), &store);
    let handle = spawn(first);
    first_usage(&handle, "Name a colour.");
    first_usage(&handle, "Name another one.");
    handle.ops.send(Op::Shutdown).unwrap();
    handle.thread.join().unwrap();
    drop(engine);
    let states = gem::engine::state_cache::list(&data.path().join("kv"));
    assert_eq!(
        states.len(),
        2,
        "the system prefix and the whole conversation: {states:?}"
    );

    // The conversation as the session file holds it.
    let sessions = store.list(root.path()).unwrap();
    assert_eq!(sessions.len(), 1);
    let (_, reader) = store.resume(&sessions[0].id).unwrap();
    let conversation = reader
        .into_last_conversation()
        .expect("the session recorded its conversation");
    assert_eq!(conversation.turns.len(), 4, "two user turns, two answers");

    // Resume on a new engine: everything but the new message comes from disk.
    let engine: Arc<dyn Backend> = Arc::new(LlamaEngine::load(&config).unwrap());
    let mut resumed = agent(Arc::clone(&engine), root.path(), &store);
    resumed.restore(conversation);
    let handle = spawn(resumed);
    let usage = first_usage(&handle, "And a third?");
    handle.ops.send(Op::Shutdown).unwrap();
    handle.thread.join().unwrap();
    assert!(
        usage.reused_tokens > 0 && usage.prefilled_tokens < 40,
        "only the new message is prefilled: {usage:?}"
    );
    assert_eq!(
        usage.reused_tokens + usage.prefilled_tokens,
        usage.prompt_tokens
    );
}
