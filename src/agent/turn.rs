//! The turn loop: render → generate → parse → run calls → append results → continue.

use std::sync::atomic::Ordering;
use std::sync::mpsc;

use super::loop_guard::{DegenerationGuard, RepeatGuard};
use super::session_log::SessionLog;
use super::{Agent, Mode};
use crate::engine::{GenerateEvent, GenerateRequest, GrammarSpec, StopReason};
use crate::gemma::{
    Conversation, GrammarOptions, ModelPart, ParseEvent, ParseOptions, RenderOptions, StreamEnd,
    StreamParser, ToolCall, Turn, call_grammar,
};
use crate::protocol::{Attachment, Event, Op, TurnEnd};
use crate::session::RecordBody;

/// Serves operations until shutdown or until the frontend goes away.
pub(super) fn run(mut agent: Agent, ops: mpsc::Receiver<Op>, events: mpsc::Sender<Event>) {
    agent.emitter = Emitter {
        events: Some(events),
        session: agent
            .session
            .take()
            .map(|s| std::sync::Arc::new(std::sync::Mutex::new(SessionLog::new(s)))),
    };
    agent.emit(Event::SessionConfigured {
        session_id: agent.emitter.session_id(),
        model: agent.backend.info().summary(),
        mode: agent.permissions.mode,
        context_size: agent.backend.info().context_size,
        context_tokens: agent.context_tokens(),
    });
    agent.report_snapshot_store();
    agent.report_mcp_changes();
    if agent.should_warm_up() {
        agent.warm_up();
    }
    // Operations deferred during a turn come first, in the order they arrived.
    while let Some(op) = agent.deferred.pop_front().or_else(|| ops.recv().ok()) {
        match op {
            // A steering message the turn ended before reading is the next user turn.
            Op::UserTurn { text, attachments } | Op::Steer { text, attachments } => {
                agent.user_turn(&text, &attachments, &ops)
            }
            Op::Approval { .. } | Op::Interrupt => {}
            Op::Compact { hint } => agent.compact(hint.as_deref(), false),
            Op::Undo => agent.undo_last_turn(),
            Op::Diff => agent.report_session_diff(),
            Op::SetMode { mode } => agent.set_mode(mode),
            Op::Clear => {
                agent.conversation = Conversation::new(Some(agent.config.system_prompt.clone()));
                // Recorded so that `--resume` continues from the cleared conversation, not
                // from the last turn before `/clear`.
                agent.record_conversation();
                // A fresh conversation holds no turn the note would correct.
                agent.undo_note.clear();
                agent.emit(Event::Cleared {
                    context_tokens: agent.context_tokens(),
                });
            }
            Op::ShowPermissions => agent.report_permissions(),
            Op::RevokeRule { rule } => agent.revoke_rule(&rule),
            Op::RevokeSessionEdits => agent.revoke_session_edits(),
            Op::ShowMcp => agent.report_mcp(),
            Op::SwitchModel { path } => agent.switch_model(&path),
            Op::Shutdown => {
                agent.save_checkpoint();
                break;
            }
        }
        agent.report_mcp_changes();
    }
}

/// Sends events to the frontend and appends them to the session file.
#[derive(Default, Clone)]
pub struct Emitter {
    events: Option<mpsc::Sender<Event>>,
    session: Option<std::sync::Arc<std::sync::Mutex<SessionLog>>>,
}

impl Emitter {
    /// Reports one event.
    pub fn emit(&self, event: Event) {
        if let Some(session) = &self.session
            && let Ok(mut session) = session.lock()
        {
            session.event(&event);
        }
        if let Some(tx) = &self.events {
            let _ = tx.send(event);
        }
    }

    /// Appends a record to the session file, if there is one.
    pub fn record(&self, body: &RecordBody) {
        if let Some(session) = &self.session
            && let Ok(mut session) = session.lock()
        {
            session.record(body);
        }
    }

    /// Whether events go to a session file.
    fn has_session(&self) -> bool {
        self.session.is_some()
    }

    fn session_id(&self) -> String {
        self.session
            .as_ref()
            .and_then(|s| s.lock().ok().map(|s| s.id().to_string()))
            .unwrap_or_default()
    }
}

/// The user's text with attachments appended as labelled blocks.
pub fn user_content(text: &str, attachments: &[Attachment]) -> String {
    let mut content = text.trim_end().to_string();
    for a in attachments {
        content.push_str(&format!(
            "\n\n<{0}>\n{1}\n</{0}>",
            a.label,
            a.content.trim_end()
        ));
    }
    content
}

/// A call the model made, as the turn loop runs it.
#[derive(Debug, Clone)]
pub(super) enum ModelCall {
    /// A call that parsed.
    Parsed(ToolCall),
    /// Text after `<|tool_call>` that did not parse: never run; the model is told why.
    Malformed {
        /// What the conversation records for it (the name when it could be read, the raw
        /// text and the error as its arguments).
        recorded: ToolCall,
        /// The raw text the model wrote.
        raw: String,
        /// Why it did not parse.
        error: String,
    },
}

impl ModelCall {
    /// The call as the conversation and the frontends see it.
    pub(super) fn call(&self) -> &ToolCall {
        match self {
            Self::Parsed(call) | Self::Malformed { recorded: call, .. } => call,
        }
    }
}

/// Why one generation step ended.
enum Step {
    /// The model made calls; continue after running them.
    Calls(Vec<ModelCall>),
    /// The model answered without calls.
    Answer(String),
    /// The turn ends here.
    End(TurnEnd, String),
}

impl Agent {
    fn user_turn(&mut self, text: &str, attachments: &[Attachment], ops: &mpsc::Receiver<Op>) {
        self.cancel.store(false, Ordering::Relaxed);
        self.user_turns += 1;
        let mut content = if self.permissions.mode == Mode::Plan {
            let mut with_note = attachments.to_vec();
            with_note.push(super::plan_mode::plan_note());
            user_content(text, &with_note)
        } else {
            user_content(text, attachments)
        };
        let changed = self.changed_file_blocks();
        if !changed.is_empty() {
            content.push_str(super::CHANGED_FILES_OPEN);
            content.push_str(&changed);
            content.push_str(super::CHANGED_FILES_CLOSE);
        }
        let undo_note = self.take_undo_note();
        if let Some((note, _)) = &undo_note {
            content.push_str(note);
        }
        self.emitter.record(&RecordBody::UserTurn {
            text: content.clone(),
        });
        self.conversation.push_user(content);
        self.undo.begin_turn();
        self.emit(Event::TurnStarted {
            turn: self.user_turns,
        });
        if let Some((_, files)) = undo_note {
            self.emit(Event::UndoNoteSent { files });
        }
        let mut guard = RepeatGuard::default();
        let mut end = None;
        // With a final tool: the answer given before the call that ends the turn.
        let mut answer = String::new();
        self.force_final = false;
        for step in 0..self.config.max_turns.max(1) {
            if step > 0 {
                // Messages the user sent meanwhile go in before the next generation.
                self.apply_steering(ops);
            }
            match self.step() {
                Step::End(reason, text) => {
                    end = Some((reason, text));
                    break;
                }
                Step::Answer(text) => {
                    if let Some(tool) = self.final_tool
                        && !self.force_final
                        && !(self.answer_suffices)(&text)
                    {
                        // The turn must end with this call: ask for it, with a grammar that
                        // admits nothing else.
                        self.force_final = true;
                        answer = text;
                        self.conversation.push_user(
                            include_str!("../../prompts/final_call.md").replace("{tool}", tool),
                        );
                        continue;
                    }
                    end = Some((TurnEnd::Completed, text));
                    break;
                }
                Step::Calls(calls) => {
                    let mut looped = false;
                    let mut final_called = false;
                    for model_call in calls {
                        // A mode switched while the model was generating applies to this call.
                        self.take_pending_ops(ops);
                        let interrupted = self.cancel.load(Ordering::Relaxed);
                        let output = self.run_call(&model_call, interrupted, ops);
                        let call = model_call.call();
                        final_called |=
                            Some(call.name.as_str()) == self.final_tool && !output.is_error();
                        let key = format!("{}{}", call.name, call.arguments);
                        looped |= guard.record(&key, &output.content);
                    }
                    if final_called && !self.cancel.load(Ordering::Relaxed) {
                        end = Some((TurnEnd::Completed, std::mem::take(&mut answer)));
                        break;
                    }
                    if self.cancel.load(Ordering::Relaxed) {
                        end = Some((TurnEnd::Interrupted, String::new()));
                        break;
                    }
                    if looped {
                        self.emit(
                            Event::Warning {
                                message: format!(
                                    "stopped: the model made the same call {} times in a row with the same result",
                                    super::loop_guard::MAX_REPEATS
                                ),
                            });
                        end = Some((TurnEnd::LoopDetected, String::new()));
                        break;
                    }
                }
            }
        }
        let (reason, final_text) = end.unwrap_or((TurnEnd::MaxTurns, String::new()));
        if reason == TurnEnd::MaxTurns {
            self.emit(Event::Warning {
                message: format!(
                    "stopped after {} model steps (--max-turns)",
                    self.config.max_turns
                ),
            });
        }
        self.snapshot_turn_end();
        self.record_conversation();
        self.emit(Event::TurnComplete { reason, final_text });
    }

    /// Writes the conversation as it stands to the session file: `--resume` continues from
    /// the last one written.
    fn record_conversation(&self) {
        self.emitter
            .record(&RecordBody::Conversation(self.conversation.clone()));
    }

    fn grammar(&self) -> Option<GrammarSpec> {
        if !self.config.grammar || !self.backend.info().is_gemma4() {
            return None;
        }
        let opts = if self.config.bounded_grammar {
            GrammarOptions::bounded()
        } else {
            GrammarOptions::default()
        };
        if self.force_final
            && let Some(tool) = self.final_tool
        {
            // Eager (no trigger): the output is exactly one call to the final tool.
            let only: Vec<_> = self
                .render
                .tools
                .iter()
                .filter(|t| t.name == tool)
                .cloned()
                .collect();
            let grammar = call_grammar(
                &only,
                &GrammarOptions {
                    max_calls: 1,
                    ..opts
                },
            )
            .ok()?;
            return Some(GrammarSpec {
                gbnf: grammar.gbnf,
                root: grammar.root,
                trigger_patterns: Vec::new(),
                trigger_tokens: Vec::new(),
            });
        }
        let grammar = call_grammar(&self.render.tools, &opts).ok()?;
        Some(GrammarSpec {
            gbnf: grammar.gbnf,
            root: grammar.root,
            trigger_patterns: Vec::new(),
            trigger_tokens: grammar.trigger_tokens_text,
        })
    }

    /// The stable leading part of every prompt (system turn with tools), kept on disk, and
    /// its part before the packed repository's most recently modified files (kept too, so an
    /// edit to one of those leaves most of the prefix restorable at the next start).
    fn persist_prefix(&self) -> (Option<String>, Option<String>) {
        match self.stable_prefix() {
            Some((rendered, early)) => (Some(rendered.text), early),
            None => (None, None),
        }
    }

    /// The stable prefix rendered (with its conversation-text spans), and its part before the
    /// packed repository's most recently modified files; `None` when it cannot be rendered.
    pub(super) fn stable_prefix(&self) -> Option<(crate::gemma::Rendered, Option<String>)> {
        let system_only = Conversation::new(self.conversation.system.clone());
        let opts = RenderOptions {
            add_generation_prompt: false,
            ..self.render.clone()
        };
        let rendered = self.render_prompt_spans(&system_only, &opts).ok()?;
        let recent = self.config.packed.as_ref().and_then(|p| p.recent_offset);
        // The renderer says where the (trimmed) system prompt lies; an embedded template says
        // nothing, and then only the whole prefix is kept.
        let early = recent
            .zip(rendered.system.clone())
            .and_then(|(offset, system)| {
                let prompt = &self.config.system_prompt;
                let lead = prompt.len() - prompt.trim_start().len();
                let end = system.start + offset.checked_sub(lead)?;
                rendered.text.get(..end).map(str::to_string)
            });
        Some((rendered, early))
    }

    fn step(&mut self) -> Step {
        let mut rendered = match self.render_prompt_spans(&self.conversation, &self.render) {
            Ok(p) => p,
            Err(e) => {
                self.emit(Event::Error {
                    message: format!("cannot render the conversation: {e}"),
                });
                return Step::End(TurnEnd::Error, String::new());
            }
        };
        // Compact instead of overflowing: never truncate silently.
        let context = self.backend.info().context_size;
        let reserve = self.config.max_tokens.min(context / 4);
        // A token is at least one byte: only count when the bytes alone could overflow.
        let needed = if rendered.text.len() + reserve <= context {
            0
        } else {
            self.backend.count_tokens(&rendered.text).unwrap_or(0) + reserve
        };
        if needed > context && self.conversation.turns.len() > 2 {
            self.emit(Event::Warning {
                message: format!(
                    "the conversation needs {needed} of {context} tokens: compacting it"
                ),
            });
            self.compact(None, true);
            if let Ok(r) = self.render_prompt_spans(&self.conversation, &self.render) {
                rendered = r;
            }
        }
        let prompt = rendered.text;
        let mut request = GenerateRequest::new(prompt.clone(), self.config.max_tokens);
        request.literal = rendered.content;
        request.sampling = self.config.sampling.clone();
        request.grammar = self.grammar();
        let (persist, early) = self.persist_prefix();
        request.persist_prefix = persist;
        request.persist_early = early;
        request.cancel = self.cancel.clone();
        let mut parser =
            StreamParser::new(ParseOptions::for_prompt(&prompt, self.render.tools.clone()));
        let mut parsed: Vec<ParseEvent> = Vec::new();
        // Judged on free text and thinking only: a tool argument (a file's content) may
        // legitimately repeat a short unit for long.
        let mut guard = DegenerationGuard::default();
        let mut degenerate = false;
        let cancel = self.cancel.clone();
        let emitter = self.emitter.clone();
        let backend = self.backend.clone();
        let result = backend.generate(request, &mut |event| match event {
            GenerateEvent::Prefill { done, total } => {
                emitter.emit(Event::PrefillProgress { done, total });
            }
            GenerateEvent::Delta { text, .. } => {
                for ev in parser.push(&text) {
                    stream_event(&ev, &emitter);
                    if let ParseEvent::Text(t) | ParseEvent::Thinking(t) = &ev {
                        guard.push(t);
                    }
                    parsed.push(ev);
                }
                if guard.is_degenerate() {
                    degenerate = true;
                    cancel.store(true, Ordering::Relaxed);
                }
            }
        });
        // A call left open is run only when the model itself ended the generation.
        let end = match &result {
            Ok(outcome)
                if !degenerate && matches!(outcome.stop, StopReason::EndOfGeneration(_)) =>
            {
                StreamEnd::ModelEnded
            }
            _ => StreamEnd::Cut,
        };
        for ev in parser.finish_at(end) {
            stream_event(&ev, &self.emitter);
            parsed.push(ev);
        }
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(e) => {
                self.emit(Event::Error {
                    message: e.to_string(),
                });
                return Step::End(TurnEnd::Error, String::new());
            }
        };
        for warning in &outcome.warnings {
            self.emit(Event::Warning {
                message: warning.clone(),
            });
        }
        if let Some(reason) = &outcome.full_reprefill_reason {
            self.emit(Event::Warning {
                message: reason.clone(),
            });
        }
        self.emit(Event::TokenUsage {
            usage: outcome.usage,
        });

        let mut calls = Vec::new();
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut thought = String::new();
        for ev in parsed {
            match ev {
                ParseEvent::MalformedCall { raw, error } => {
                    let recorded = malformed_call(&raw);
                    parts.push(ModelPart::ToolCall(recorded.clone()));
                    calls.push(ModelCall::Malformed {
                        recorded,
                        raw,
                        error,
                    });
                }
                ParseEvent::ToolCall(call) => {
                    calls.push(ModelCall::Parsed(call.clone()));
                    parts.push(ModelPart::ToolCall(call));
                }
                ParseEvent::Text(t) => {
                    text.push_str(&t);
                    parts.push(ModelPart::Text(t));
                }
                ParseEvent::Thinking(t) => {
                    thought.push_str(&t);
                    parts.push(ModelPart::Thinking(t));
                }
            }
        }
        self.conversation.extend_model(coalesce(parts));
        if degenerate {
            self.emit(Event::Warning {
                message: "stopped: the model's output degenerated into repetition".into(),
            });
            return Step::End(TurnEnd::LoopDetected, text.trim().to_string());
        }
        if outcome.stop == StopReason::Cancelled && calls.is_empty() {
            return Step::End(TurnEnd::Interrupted, text.trim().to_string());
        }
        if outcome.stop == StopReason::MaxTokens {
            self.emit(Event::Warning {
                message: format!(
                    "the model's output was cut at --max-tokens ({} tokens)",
                    self.config.max_tokens
                ),
            });
        }
        if outcome.stop == StopReason::ContextFull {
            self.emit(Event::Error {
                message: "the context window is full: use /compact or start a new session".into(),
            });
            return Step::End(TurnEnd::Error, text.trim().to_string());
        }
        if calls.is_empty() {
            let answer = text.trim();
            if answer.is_empty() && !thought.trim().is_empty() {
                // After a tool response the template opens the thought channel; a model that
                // answers there and ends its turn without `<channel|>` still answered.
                self.emit(Event::Warning {
                    message: "the model ended its turn inside its thinking, with no answer after \
                              it: its thinking is shown as the answer"
                        .into(),
                });
                return Step::Answer(thought.trim().to_string());
            }
            Step::Answer(answer.to_string())
        } else {
            Step::Calls(calls)
        }
    }

    /// At the end of an interactive session, keeps the KV state of the whole conversation on
    /// disk, so `--continue`/`--resume` restores it instead of prefilling it again.
    fn save_checkpoint(&self) {
        if !self.config.interactive
            || !self.emitter.has_session()
            || self.conversation.turns.is_empty()
        {
            return;
        }
        let opts = RenderOptions {
            add_generation_prompt: false,
            ..self.render.clone()
        };
        let Ok(rendered) = self.render_prompt_spans(&self.conversation, &opts) else {
            return;
        };
        // Only what the KV cache already holds is written (no prefill): one state write.
        let real = self.backend.info().architecture != "replay";
        if real {
            eprint!(
                "gem: keeping this conversation's KV state on disk for --continue (ctrl-c skips)…"
            );
        }
        let started = std::time::Instant::now();
        let saved = self
            .backend
            .save_checkpoint(&rendered.text, &rendered.content);
        match saved {
            Ok(0) if real => eprintln!(" nothing computed yet to keep"),
            Ok(tokens) if real => eprintln!(
                " {tokens} tokens in {:.1}s",
                started.elapsed().as_secs_f64()
            ),
            Ok(_) => {}
            Err(e) => eprintln!("\ngem: warning: the conversation's KV state was not saved: {e}"),
        }
        eprintln!("gem: `gem --continue` resumes this session");
    }

    /// Summarises the conversation with the model and continues from the summary. With
    /// `keep_current_turn` (automatic compaction in the middle of a turn) the turn in progress,
    /// from the user's latest message on, is kept as it is after the summary of what came before.
    pub(super) fn compact(&mut self, hint: Option<&str>, keep_current_turn: bool) {
        let before = self.context_tokens();
        let turns = &self.conversation.turns;
        let split = if keep_current_turn {
            turns
                .iter()
                .rposition(|t| matches!(t, Turn::User(_)))
                .unwrap_or(turns.len())
        } else {
            turns.len()
        };
        let current = turns[split..].to_vec();
        let mut ask = Conversation {
            system: self.conversation.system.clone(),
            turns: turns[..split].to_vec(),
        };
        let mut instruction = include_str!("../../prompts/compact.md").trim().to_string();
        if let Some(hint) = hint {
            instruction.push_str(&format!("\n\nKeep in particular: {hint}"));
        }
        ask.push_user(instruction);
        let opts = RenderOptions {
            thinking: false,
            ..self.render.clone()
        };
        let summary = self.render_prompt_spans(&ask, &opts).and_then(|rendered| {
            let mut request = GenerateRequest::new(rendered.text, self.config.max_tokens);
            request.literal = rendered.content;
            request.sampling = self.config.sampling.clone();
            request.cancel = self.cancel.clone();
            self.backend
                .generate(request, &mut |_| {})
                .map(|o| o.text)
                .map_err(|e| e.to_string())
        });
        match summary {
            Ok(summary) => {
                let text: String = StreamParser::parse_all(ParseOptions::default(), &summary)
                    .into_iter()
                    .filter_map(|e| match e {
                        ParseEvent::Text(t) => Some(t),
                        _ => None,
                    })
                    .collect();
                let mut fresh = Conversation::new(self.conversation.system.clone());
                fresh.push_user(format!(
                    "Summary of the conversation so far (earlier messages were compacted):\n\n{}",
                    text.trim()
                ));
                fresh.extend_model([ModelPart::Text(
                    "Understood. I will continue from this summary.".into(),
                )]);
                fresh.turns.extend(current);
                self.conversation = fresh;
                self.record_conversation();
                let after = self.context_tokens();
                self.emit(Event::Compacted {
                    tokens_before: before,
                    tokens_after: after,
                });
            }
            Err(e) => self.emit(Event::Error {
                message: format!("compaction failed: {e}"),
            }),
        }
    }
}

/// Streams thinking and text deltas as protocol events.
fn stream_event(event: &ParseEvent, out: &Emitter) {
    match event {
        ParseEvent::Thinking(t) if !t.is_empty() => {
            out.emit(Event::ThinkingDelta { delta: t.clone() })
        }
        ParseEvent::Text(t) if !t.is_empty() => out.emit(Event::TextDelta { delta: t.clone() }),
        _ => {}
    }
}

/// Merges adjacent thinking or text fragments into single parts.
fn coalesce(parts: Vec<ModelPart>) -> Vec<ModelPart> {
    let mut out: Vec<ModelPart> = Vec::new();
    for part in parts {
        match (out.last_mut(), part) {
            (Some(ModelPart::Text(a)), ModelPart::Text(b)) => a.push_str(&b),
            (Some(ModelPart::Thinking(a)), ModelPart::Thinking(b)) => a.push_str(&b),
            (_, part) => out.push(part),
        }
    }
    out
}

/// The name recorded for a malformed call whose name cannot be read.
const MALFORMED: &str = "malformed_call";

/// The call recorded in the conversation for a malformed one: the name after `call:` up to `{`
/// when it looks like a name, and no arguments. The raw text and the parse error travel in
/// [`ModelCall::Malformed`] and reach the model in the call's error result.
fn malformed_call(raw: &str) -> ToolCall {
    let name = raw
        .trim()
        .strip_prefix("call:")
        .and_then(|rest| rest.split('{').next())
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(MALFORMED);
    ToolCall {
        name: name.to_string(),
        arguments: serde_json::json!({}),
    }
}

/// The error result of a malformed call, for the model.
pub(super) fn malformed_error(raw: &str, error: &str) -> String {
    format!(
        "error: your tool call could not be parsed ({error}). Raw text: {raw}\nWrite a call as \
         call:NAME{{key:<|\"|>text<|\"|>,count:3}} with NAME one of the declared tools."
    )
}

impl Agent {
    /// Switches the permission mode and reports it.
    pub(super) fn set_mode(&mut self, mode: Mode) {
        self.permissions.mode = mode;
        self.emit(Event::ModeChanged { mode });
    }

    /// During a turn: applies the mode switches sent so far and keeps the other operations for
    /// when the turn ends (an interrupt has already taken effect through the cancel flag; a
    /// stray approval answers nothing).
    pub(super) fn take_pending_ops(&mut self, ops: &mpsc::Receiver<Op>) {
        while let Ok(op) = ops.try_recv() {
            self.defer_or_apply(op);
        }
    }

    /// Applies `op` now if it is a mode switch, drops it if it is an interrupt or a stray
    /// approval, and otherwise keeps it for the end of the turn.
    pub(super) fn defer_or_apply(&mut self, op: Op) {
        match op {
            Op::SetMode { mode } => self.set_mode(mode),
            Op::Interrupt | Op::Approval { .. } => {}
            other => self.deferred.push_back(other),
        }
    }

    /// Tokens the conversation takes in the context now (0 when it cannot be counted).
    pub(super) fn context_tokens(&self) -> usize {
        self.render_prompt(&self.conversation, &self.render)
            .ok()
            .and_then(|prompt| self.backend.count_tokens(&prompt).ok())
            .unwrap_or(0)
    }

    /// Reports an event.
    pub(super) fn emit(&self, event: Event) {
        self.emitter.emit(event);
    }
}
