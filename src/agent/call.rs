//! Running one tool call: permission check, approval, execution, and exactly one result.

use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::Instant;

use super::turn::{ModelCall, malformed_error};
use super::{Action, Agent, Verdict, always_allow};
use crate::gemma::{ModelPart, ToolCall, ToolResponse};
use crate::protocol::{ApprovalDecision, Event, Op};
use crate::tools::{Preview, ToolKind, ToolOutcome, ToolOutput};

impl Agent {
    /// Runs `call` (never a malformed one) and appends its one result to the conversation;
    /// returns the result.
    pub(super) fn run_call(
        &mut self,
        model_call: &ModelCall,
        interrupted: bool,
        ops: &mpsc::Receiver<Op>,
    ) -> ToolOutput {
        let call = model_call.call();
        self.next_call += 1;
        let call_id = format!("call_{}", self.next_call);
        self.emit(Event::ToolCallBegin {
            call_id: call_id.clone(),
            name: call.name.clone(),
            arguments: call.arguments.clone(),
        });
        let started = Instant::now();
        let output = match model_call {
            _ if interrupted => ToolOutput::error("not run: the user interrupted the turn"),
            ModelCall::Malformed { raw, error, .. } => {
                ToolOutput::error(malformed_error(raw, error))
            }
            ModelCall::Parsed(call) => self.execute(call, &call_id, ops),
        };
        if output.outcome == ToolOutcome::Denied {
            self.emit(Event::Warning {
                message: format!(
                    "{} call denied: {}",
                    call.name,
                    output.content.trim_start_matches("denied: ")
                ),
            });
        }
        self.undo.record(&output.changed_files);
        self.emit(Event::ToolCallEnd {
            call_id,
            name: call.name.clone(),
            summary: output.summary.clone(),
            outcome: output.outcome,
            diff: output.diff.clone(),
            output: output.content.clone(),
            duration_ms: started.elapsed().as_millis() as u64,
        });
        self.conversation
            .extend_model([ModelPart::ToolResponse(ToolResponse {
                name: call.name.clone(),
                response: serde_json::Value::String(output.content.clone()),
            })]);
        output
    }

    fn execute(&mut self, call: &ToolCall, call_id: &str, ops: &mpsc::Receiver<Op>) -> ToolOutput {
        let prepared =
            match self
                .registry
                .prepare(&call.name, call.arguments.clone(), &self.tool_ctx)
            {
                Ok(p) => p,
                Err(e) => return ToolOutput::error(e.to_string()),
            };
        let action = match prepared.kind {
            ToolKind::Read => Action::Read,
            ToolKind::Edit | ToolKind::Git | ToolKind::Mcp { .. } => Action::Edit,
            ToolKind::Shell => Action::Shell,
        };
        let command = match &prepared.preview {
            Some(Preview::Command(c)) => Some(c.clone()),
            _ => None,
        };
        let mcp = matches!(prepared.kind, ToolKind::Mcp { .. });
        let verdict = match prepared.kind {
            ToolKind::Mcp { read_only } => {
                self.mcp_rules
                    .check(self.permissions.mode, &call.name, read_only)
            }
            _ => self.permissions.check(action, command.as_deref()),
        };
        let may_change = !matches!(
            prepared.kind,
            ToolKind::Read | ToolKind::Mcp { read_only: true }
        );
        if may_change && !matches!(verdict, Verdict::Deny(_)) {
            self.snapshot_before_change();
        }
        match verdict {
            Verdict::Allow => prepared.execute(&self.tool_ctx),
            Verdict::Deny(reason) => ToolOutput::denied(reason),
            Verdict::Ask if !self.config.interactive && mcp => {
                ToolOutput::denied(super::mcp_permissions::headless_denial(&call.name))
            }
            Verdict::Ask if !self.config.interactive => {
                // Why no --allow rule covered the command, when there are rules.
                let why = command
                    .as_deref()
                    .filter(|_| action == Action::Shell && !self.permissions.rules().is_empty())
                    .and_then(|c| self.permissions.allowed_by_rules(c).err())
                    .map(|reason| format!(" ({reason})"))
                    .unwrap_or_default();
                ToolOutput::denied(format!(
                    "denied: {}{why} needs approval and nobody can approve in this mode; the \
                     user can allow it with --mode full-auto{}",
                    if action == Action::Shell {
                        "running a command"
                    } else {
                        "changing files"
                    },
                    if action == Action::Shell {
                        " or --allow 'PATTERN'"
                    } else {
                        " or --mode auto-edit"
                    }
                ))
            }
            Verdict::Ask => {
                let preview = match &prepared.preview {
                    Some(Preview::Diff(d)) => d.clone(),
                    Some(Preview::Command(c)) => c.clone(),
                    None => prepared.summary.clone(),
                };
                let always_rules = command
                    .as_deref()
                    .filter(|_| action == Action::Shell)
                    .and_then(|c| always_allow::shell_rules(&self.permissions, c));
                self.emit(Event::ApprovalRequest {
                    call_id: call_id.to_string(),
                    name: call.name.clone(),
                    preview,
                    editable_command: action == Action::Shell,
                    always: if mcp {
                        Some(format!("always allow {} in this session", call.name))
                    } else {
                        always_allow::always_label(action, always_rules.as_deref())
                    },
                });
                match self.wait_for_approval(call_id, ops) {
                    ApprovalDecision::Approve => prepared.execute(&self.tool_ctx),
                    ApprovalDecision::ApproveForSession if mcp => {
                        self.mcp_rules.allow_for_session(&call.name);
                        prepared.execute(&self.tool_ctx)
                    }
                    ApprovalDecision::ApproveForSession => {
                        match (action, always_rules) {
                            (Action::Shell, Some(rules)) => {
                                for rule in rules {
                                    // The rules were parsed when they were derived.
                                    let _ = self.permissions.add_rule(&rule);
                                }
                            }
                            (Action::Shell, None) => {}
                            _ => self.permissions.allow_for_session(action),
                        }
                        prepared.execute(&self.tool_ctx)
                    }
                    ApprovalDecision::ApproveEdited { command } => {
                        let mut args = call.arguments.clone();
                        args["command"] = serde_json::Value::String(command.clone());
                        let mut output =
                            match self.registry.prepare(&call.name, args, &self.tool_ctx) {
                                Ok(p) => p.execute(&self.tool_ctx),
                                Err(e) => ToolOutput::error(e.to_string()),
                            };
                        output.content = format!(
                            "[the user edited the command before it ran; what ran instead: \
                             {command}]\n{}",
                            output.content
                        );
                        output
                    }
                    ApprovalDecision::Deny => ToolOutput::denied(
                        "denied: the user declined this call; ask or try another way",
                    ),
                }
            }
        }
    }

    /// Waits for the user's answer; an interrupt or shutdown counts as a denial.
    fn wait_for_approval(&mut self, call_id: &str, ops: &mpsc::Receiver<Op>) -> ApprovalDecision {
        loop {
            match ops.recv() {
                Ok(Op::Approval {
                    call_id: id,
                    decision,
                }) if id == call_id => return decision,
                Ok(Op::Interrupt) | Ok(Op::Shutdown) | Err(_) => {
                    self.cancel.store(true, Ordering::Relaxed);
                    return ApprovalDecision::Deny;
                }
                Ok(op) => self.defer_or_apply(op),
            }
        }
    }
}
