//! Drives one task through the agent without a UI: progress on stderr, and on stdout only the
//! answer (or JSON / JSON lines).

use std::io::Write;

use serde::Serialize;

use crate::agent::AgentHandle;
use crate::protocol::{Attachment, Event, Op, TokenUsage, ToolOutcome, TurnEnd};
use crate::terminal_safe::terminal_safe;
use crate::tools::key_argument;

/// What stdout carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdout {
    /// Nothing but what the caller prints afterwards (the answer, a patch, findings).
    Quiet,
    /// Every event as one JSON line.
    StreamJson,
}

/// The result of a headless task.
#[derive(Debug, Clone, Serialize)]
pub struct TaskResult {
    /// The session's id (`gem --resume ID`); empty when sessions are not saved.
    pub session_id: String,
    /// How the turn ended.
    pub end: TurnEnd,
    /// The model's final answer.
    pub final_text: String,
    /// Tool calls made.
    pub tool_calls: usize,
    /// Tool calls denied by the permission mode.
    pub denied_calls: usize,
    /// Errors reported.
    pub errors: Vec<String>,
    /// Token usage summed over the task's generations.
    pub usage: TokenUsage,
    /// Model generations.
    pub generations: usize,
    /// The arguments of each tool's last successful call, by tool name (what `gem review`
    /// reads its findings from).
    #[serde(skip)]
    pub last_arguments: std::collections::BTreeMap<String, serde_json::Value>,
}

/// Sends `text` as one user turn and consumes events until the turn completes.
pub fn run_task(
    handle: &AgentHandle,
    text: &str,
    attachments: Vec<Attachment>,
    stdout: Stdout,
    out: &mut dyn Write,
) -> TaskResult {
    let mut result = TaskResult {
        end: TurnEnd::Error,
        final_text: String::new(),
        session_id: String::new(),
        last_arguments: Default::default(),
        tool_calls: 0,
        denied_calls: 0,
        errors: Vec::new(),
        usage: TokenUsage::default(),
        generations: 0,
    };
    if handle
        .ops
        .send(Op::UserTurn {
            text: text.to_string(),
            attachments,
        })
        .is_err()
    {
        result
            .errors
            .push("the agent stopped before the task started".into());
        return result;
    }
    let mut err = std::io::stderr();
    let mut thinking = false;
    let mut prefill_started: Option<(std::time::Instant, usize)> = None;
    let mut pending_arguments: Option<(String, serde_json::Value)> = None;
    let progress_on_tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    for event in &handle.events {
        if stdout == Stdout::StreamJson
            && let Ok(line) = serde_json::to_string(&event)
        {
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
        match &event {
            Event::ThinkingDelta { .. } if !thinking => {
                let _ = writeln!(err, "· thinking…");
                thinking = true;
            }
            Event::TextDelta { .. } => thinking = false,
            // A progress line rewritten with `\r` only makes sense on a terminal.
            Event::PrefillProgress { done, total } if *total > 2048 && progress_on_tty => {
                let started = *prefill_started.get_or_insert((std::time::Instant::now(), *done));
                let rate = (done - started.1) as f64 / started.0.elapsed().as_secs_f64().max(0.001);
                let eta = if rate > 0.0 && done > &started.1 {
                    format!(", about {:.0}s left", (total - done) as f64 / rate)
                } else {
                    String::new()
                };
                let _ = write!(err, "\r· reading prompt {done}/{total} tokens{eta}   ");
                if done == total {
                    let _ = writeln!(err);
                    prefill_started = None;
                }
            }
            Event::ToolCallBegin {
                name, arguments, ..
            } => {
                result.tool_calls += 1;
                thinking = false;
                pending_arguments = Some((name.clone(), arguments.clone()));
                let _ = writeln!(
                    err,
                    "→ {} {}",
                    terminal_safe(name),
                    terminal_safe(&key_argument(arguments))
                );
            }
            Event::ToolCallEnd {
                summary, outcome, ..
            } => {
                if *outcome == ToolOutcome::Denied {
                    result.denied_calls += 1;
                }
                if let Some((name, arguments)) = pending_arguments.take()
                    && *outcome == ToolOutcome::Ok
                {
                    result.last_arguments.insert(name, arguments);
                }
                let mark = if outcome.is_error() { "✗" } else { "✓" };
                let _ = writeln!(err, "  {mark} {}", terminal_safe(summary));
            }
            Event::TokenUsage { usage } => {
                result.generations += 1;
                result.usage.prompt_tokens = usage.prompt_tokens;
                result.usage.reused_tokens += usage.reused_tokens;
                result.usage.prefilled_tokens += usage.prefilled_tokens;
                result.usage.generated_tokens += usage.generated_tokens;
                result.usage.prefill_ms += usage.prefill_ms;
                result.usage.generation_ms += usage.generation_ms;
                result.usage.context_size = usage.context_size;
            }
            Event::Warning { message } => {
                let _ = writeln!(err, "warning: {}", terminal_safe(message));
            }
            Event::Error { message } => {
                let _ = writeln!(err, "error: {}", terminal_safe(message));
                result.errors.push(message.clone());
            }
            Event::ApprovalRequest { call_id, .. } => {
                // Headless agents never ask; answer defensively if one does.
                let _ = handle.ops.send(Op::Approval {
                    call_id: call_id.clone(),
                    decision: crate::protocol::ApprovalDecision::Deny,
                });
            }
            Event::SessionConfigured { session_id, .. } => {
                result.session_id = session_id.clone();
            }
            Event::TurnComplete { reason, final_text } => {
                result.end = reason.clone();
                result.final_text = final_text.clone();
                break;
            }
            _ => {}
        }
    }
    result
}
