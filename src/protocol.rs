//! The one protocol between frontends (TUI, `-p`, patch mode, review) and the agent core.
//!
//! Frontends send [`Op`]s and receive [`Event`]s. `--output-format stream-json` is exactly the
//! events serialised one JSON object per line, so every field here is part of a public format.

use serde::{Deserialize, Serialize};

use crate::agent::Mode;

/// An operation a frontend submits to the agent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// A user turn: text plus optional attachments (file paths or piped input).
    UserTurn {
        /// What the user typed.
        text: String,
        /// Extra blocks appended to the turn (e.g. piped stdin, @-mentioned files).
        #[serde(default)]
        attachments: Vec<Attachment>,
    },
    /// A message sent while a turn runs, to steer it: the model reads it at the turn's next
    /// step (after the tool results of the step in progress, before the next generation) and
    /// [`Event::SteerApplied`] reports it then. When the turn ends first (the model answered,
    /// was interrupted, or ran out of steps) it becomes the next user turn instead, exactly
    /// as an [`Op::UserTurn`] would ([`Event::TurnStarted`] then). Sent while no turn runs,
    /// it is a user turn.
    Steer {
        /// What the user typed.
        text: String,
        /// Extra blocks appended to the message (e.g. @-mentioned files).
        #[serde(default)]
        attachments: Vec<Attachment>,
    },
    /// The user's answer to an [`Event::ApprovalRequest`].
    Approval {
        /// The `call_id` of the request being answered.
        call_id: String,
        /// What the user decided.
        decision: ApprovalDecision,
    },
    /// Stop the current generation or tool as soon as possible; the session stays usable.
    Interrupt,
    /// Summarise the conversation so far and continue from the summary.
    Compact {
        /// Optional hint of what the summary must keep.
        #[serde(default)]
        hint: Option<String>,
    },
    /// Revert the file changes of the last turn that changed files, byte for byte (whatever
    /// tool made them, where the working tree is snapshotted); the model is told with the
    /// next user turn.
    Undo,
    /// Report what the session changed in the working tree ([`Event::SessionDiff`]).
    Diff,
    /// Switch the permission mode (`read-only`, `plan`, `ask`, `auto-edit`, `full-auto`); it
    /// applies from the next tool call, also during a turn ([`Event::ModeChanged`] then).
    SetMode {
        /// The new mode.
        mode: Mode,
    },
    /// Start a fresh conversation (the system prompt and repository context stay).
    Clear,
    /// Report the permission mode and the allow rules in force ([`Event::Permissions`]).
    ShowPermissions,
    /// Remove a shell allow rule, written as [`Event::Permissions`] lists it.
    RevokeRule {
        /// The rule's pattern, e.g. `cargo test *`.
        rule: String,
    },
    /// Ask again before edits (undoes "always" on an edit approval).
    RevokeSessionEdits,
    /// Report the MCP servers, their state and their tools ([`Event::McpServers`]).
    ShowMcp,
    /// Continue the conversation on another model file ([`Event::ModelChanged`], or an
    /// [`Event::Error`] when it cannot be opened and the current model stays).
    SwitchModel {
        /// The GGUF file.
        path: std::path::PathBuf,
    },
    /// End the session.
    Shutdown,
}

/// How a tool call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolOutcome {
    /// It ran and did what was asked.
    #[default]
    Ok,
    /// It failed (bad arguments, a missing file, a command that exited non-zero …); the
    /// result says why.
    Error,
    /// It was not run: the mode, a rule or the user did not allow it; the result says why.
    Denied,
}

impl ToolOutcome {
    /// Whether the call did not succeed (failed or was denied).
    pub fn is_error(self) -> bool {
        self != Self::Ok
    }
}

/// One MCP server as `/mcp` lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct McpServerStatus {
    /// The server's configured name.
    pub name: String,
    /// Its state in words: `ready`, `failed: …`, `stopped: …`, `disabled`, `not trusted …`.
    pub state: String,
    /// The tools it offers the model, as the model calls them (`mcp__SERVER__TOOL`).
    pub tools: Vec<String>,
    /// Where its stderr and gem's notes about it go.
    pub log: Option<String>,
}

/// A block of extra content attached to a user turn.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Attachment {
    /// A label shown to the model, e.g. `stdin` or a file path.
    pub label: String,
    /// The content.
    pub content: String,
}

/// The user's decision on a tool call that needed approval.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum ApprovalDecision {
    /// Run it this once.
    Approve,
    /// Run it, and from now on allow what the request's `always` stated: for a shell command
    /// the allow rules shown (this exact command or a stated prefix), for edits every edit in
    /// this session. Without an `always` it runs the call once.
    ApproveForSession,
    /// Run an edited shell command instead of the proposed one.
    ApproveEdited {
        /// The replacement command.
        command: String,
    },
    /// Do not run it; the model is told it was denied.
    Deny,
}

/// Token accounting for one model generation.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct TokenUsage {
    /// Tokens in the prompt of this request.
    pub prompt_tokens: usize,
    /// Prompt tokens whose KV state was reused (from memory or the disk cache).
    pub reused_tokens: usize,
    /// Prompt tokens that had to be computed.
    pub prefilled_tokens: usize,
    /// Tokens generated.
    pub generated_tokens: usize,
    /// Milliseconds spent processing the prompt.
    pub prefill_ms: u64,
    /// Milliseconds spent generating.
    pub generation_ms: u64,
    /// The context window size, for "used / total" displays.
    pub context_size: usize,
}

/// Why a turn ended.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum TurnEnd {
    /// The model finished its answer without further tool calls.
    Completed,
    /// `--max-turns` was reached.
    MaxTurns,
    /// The user interrupted.
    Interrupted,
    /// A loop (the same call repeated, or degenerate output) was detected and stopped.
    LoopDetected,
    /// An error ended the turn.
    Error,
}

/// An event the agent reports to frontends.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The session is ready.
    SessionConfigured {
        /// Session id (also the name of its transcript file).
        session_id: String,
        /// Model name and facts, one line.
        model: String,
        /// Permission mode in force.
        mode: Mode,
        /// Context window in tokens.
        context_size: usize,
        /// Tokens the context holds already: system prompt, tool declarations, the packed
        /// repository and any resumed conversation.
        #[serde(default)]
        context_tokens: usize,
    },
    /// A user turn was accepted and the model starts working.
    TurnStarted {
        /// Counts user turns from 1.
        turn: usize,
    },
    /// A message sent with [`Op::Steer`] was added to the running turn's conversation as a
    /// user message; the model reads it in the step that follows. Messages are applied in the
    /// order they were sent.
    SteerApplied {
        /// The message as the user typed it (without attachments).
        text: String,
    },
    /// Prompt processing progress (long prefills).
    PrefillProgress {
        /// Tokens processed so far.
        done: usize,
        /// Tokens to process in total.
        total: usize,
    },
    /// Streamed thinking text.
    ThinkingDelta {
        /// The new text.
        delta: String,
    },
    /// Streamed answer text.
    TextDelta {
        /// The new text.
        delta: String,
    },
    /// A tool call is about to run (after any approval).
    ToolCallBegin {
        /// Unique id of the call in this session.
        call_id: String,
        /// Tool name.
        name: String,
        /// Arguments as the model gave them.
        arguments: serde_json::Value,
    },
    /// A tool call finished. Every begun call gets exactly one end.
    ToolCallEnd {
        /// The id from [`Event::ToolCallBegin`].
        call_id: String,
        /// Tool name.
        name: String,
        /// One-line summary for UIs.
        summary: String,
        /// How the call ended: ran (`ok`), failed (`error`) or was not allowed (`denied`).
        outcome: ToolOutcome,
        /// Unified diff of file changes, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        diff: Option<String>,
        /// Full result as the model sees it.
        output: String,
        /// Wall time of the call in milliseconds.
        duration_ms: u64,
    },
    /// A call needs the user's approval; answer with [`Op::Approval`].
    ApprovalRequest {
        /// Id to answer with.
        call_id: String,
        /// Tool name.
        name: String,
        /// What would happen: a diff for edits, the command for shell.
        preview: String,
        /// Whether the preview is a shell command the user may edit.
        editable_command: bool,
        /// What [`ApprovalDecision::ApproveForSession`] would allow from now on, as shown to
        /// the user (`always allow: cargo test *`); absent when no narrow rule fits.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        always: Option<String>,
    },
    /// Token usage of one generation.
    TokenUsage {
        /// The counts.
        usage: TokenUsage,
    },
    /// Something the user should know that does not stop the turn.
    Warning {
        /// The message.
        message: String,
    },
    /// An error; the turn ends after it.
    Error {
        /// The message.
        message: String,
    },
    /// The conversation was compacted into a summary.
    Compacted {
        /// Tokens before compaction.
        tokens_before: usize,
        /// Tokens after compaction.
        tokens_after: usize,
    },
    /// The last turn's file changes were reverted.
    Undone {
        /// Files restored (or removed, when the agent had created them).
        files: Vec<String>,
    },
    /// The note saying which files `/undo` restored went to the model with the user's turn.
    UndoNoteSent {
        /// The files the note lists.
        files: Vec<String>,
    },
    /// What the session changed in the working tree, for [`Op::Diff`].
    SessionDiff {
        /// Unified diffs, one per file.
        diffs: Vec<String>,
    },
    /// The permission mode changed.
    ModeChanged {
        /// The new mode.
        mode: Mode,
    },
    /// The conversation was cleared.
    Cleared {
        /// Tokens the context holds now (what stays: system prompt, tools, repository).
        #[serde(default)]
        context_tokens: usize,
    },
    /// The permission mode and allow rules in force (answers [`Op::ShowPermissions`] and
    /// follows a revocation).
    Permissions {
        /// The mode in force.
        mode: Mode,
        /// Shell allow rules: `--allow` patterns and those added by "always".
        rules: Vec<String>,
        /// Whether "always" on an edit allowed every edit in this session.
        session_edits: bool,
    },
    /// The session now runs on another model (answers [`Op::SwitchModel`]).
    ModelChanged {
        /// The model in one line.
        model: String,
        /// Its context window in tokens.
        context_size: usize,
    },
    /// The MCP servers configured for this session (answers [`Op::ShowMcp`]).
    McpServers {
        /// Every configured server, sorted by name (empty when none is configured).
        servers: Vec<McpServerStatus>,
    },
    /// The stable prefix (system prompt, tools, packed repository) was read in at launch,
    /// ahead of the first message.
    WarmedUp {
        /// Tokens of the prefix.
        prompt_tokens: usize,
        /// Of them, restored from the disk cache.
        restored_tokens: usize,
        /// Of them, computed now.
        prefilled_tokens: usize,
        /// How long it took.
        elapsed_ms: u64,
        /// Stopped early (an interrupt or quitting); the next message reads in the rest.
        cancelled: bool,
    },
    /// The turn is over.
    TurnComplete {
        /// Why it ended.
        reason: TurnEnd,
        /// The final answer text of the turn (may be empty).
        final_text: String,
    },
}
