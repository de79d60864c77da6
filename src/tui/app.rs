//! The TUI's state and how agent events and user input change it.
//!
//! Nothing here draws or blocks: `handle_*` update the state and return [`Action`]s for the run
//! loop to carry out (send an op, run a shell command, quit).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};

use super::approval::Approval;
use super::cells::{CellKind, NoticeLevel, RenderCtx, ToolCell, ToolStatus, key_argument};
use super::commands::{
    COMMANDS, Command, KEYS_HELP, MODES, help_text, matching_commands, parse_command,
};
use super::composer::Composer;
use super::custom_commands::CustomCommand;
use super::format::{format_duration_ms, format_tokens, plural};
use super::mentions::mention_attachments;
use super::mode_cycle::ModeCycle;
use super::model_list;
use super::picker::FilePicker;
use super::plan_approval::{CARRY_OUT, PlanAnswer, PlanApproval};
use super::popup::{PopupKind, popup_for};
use super::render::layout;
use super::status::StatusInfo;
use super::theme::Theme;
use super::transcript::Transcript;
use super::type_ahead::TypeAhead;
use crate::agent::Mode;
use crate::protocol::{ApprovalDecision, Attachment, Event, Op, ToolOutcome, TurnEnd};
use crate::tools::TODO_WRITE;
use crate::tools::todo_write::{TodoItem, parse_todos};

/// Lines scrolled per mouse wheel step.
const WHEEL_LINES: usize = 3;

/// The status hint while a message sent to steer the turn waits for the model's next step.
const STEERING_HINT: &str = "sent: the model reads it at its next step";

/// Something the run loop must do after a state change.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send this op to the agent.
    Send(Op),
    /// Run `command` with the shell in the project root and report back with this id.
    RunShell {
        /// Matches the transcript's shell cell.
        id: usize,
        /// The command line.
        command: String,
    },
    /// Open the message in the user's editor (Ctrl-G); the result goes to
    /// [`App::editor_finished`].
    EditMessage {
        /// The message as it is now.
        text: String,
    },
    /// Put `text` on the clipboard (OSC 52: the terminal, also over ssh, does it).
    Copy {
        /// What to copy.
        text: String,
    },
    /// Capture the mouse (wheel scrolling) or leave it to the terminal (text selection).
    CaptureMouse(bool),
    /// Leave the TUI (the caller then shuts the agent down, after the terminal is restored,
    /// so what it prints while saving stays visible).
    Quit,
}

/// What the agent is busy with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BusyKind {
    Turn,
    Compact,
}

/// The whole state of the TUI.
#[derive(Debug)]
pub struct App {
    /// What the repository packing put in the context, for `/context`.
    pub repo_summary: Option<String>,
    theme: Theme,
    project_root: PathBuf,
    /// The conversation as shown.
    pub transcript: Transcript,
    /// The message being typed.
    pub composer: Composer,
    /// What the status line shows.
    pub status: StatusInfo,
    picker: FilePicker,
    popup_selected: usize,
    popup_dismissed: Option<String>,
    approvals: VecDeque<Approval>,
    type_ahead: TypeAhead,
    show_thinking: bool,
    /// Select mode (Ctrl-S): the mouse is left to the terminal for selecting text.
    select_mode: bool,
    expand_tools: bool,
    session_id: Option<String>,
    model_facts: Option<String>,
    /// The model file in use.
    pub model_path: PathBuf,
    /// The models `/model` listed last, in its numbering.
    listed_models: Vec<PathBuf>,
    /// The model `/model N|PATH` asked for, until the agent has switched.
    switching_to: Option<PathBuf>,
    busy: Option<BusyKind>,
    quit_armed: bool,
    queued: VecDeque<String>,
    /// Messages sent to steer the running turn that the agent has not read yet, oldest first.
    steering: VecDeque<String>,
    turn_text_seen: bool,
    next_shell_id: usize,
    /// Output of the user's `!commands` since the last message, sent to the model with the next.
    shell_context: Vec<Attachment>,
    /// The user's own slash commands (`.gem/commands/`, `~/.config/gem/commands/`).
    custom_commands: Vec<CustomCommand>,
    /// The permission mode as the user last set it (the agent applies it from its next call).
    mode: Mode,
    /// The modes Shift-Tab steps through.
    mode_cycle: ModeCycle,
    /// Mode switches sent that the agent has not confirmed yet.
    mode_switches_in_flight: usize,
    /// The last mode other than plan: an approved plan is carried out in it.
    before_plan: Mode,
    /// A plan waiting for the user's approval.
    plan_approval: Option<PlanApproval>,
    /// The model's todo list, as its last successful `todo_write` set it.
    todos: Vec<TodoItem>,
    /// Lists of `todo_write` calls that have begun, by call id, until they end.
    todo_calls: Vec<(String, Vec<TodoItem>)>,
    now: Instant,
    size: (u16, u16),
}

impl App {
    /// A fresh state, in permission mode `mode`.
    pub fn new(theme: Theme, model_line: String, project_root: PathBuf, mode: Mode) -> App {
        App {
            repo_summary: None,
            theme,
            project_root,
            transcript: Transcript::default(),
            composer: Composer::default(),
            status: StatusInfo {
                model_line,
                mode: mode.name().to_string(),
                busy_label: "working".to_string(),
                ..StatusInfo::default()
            },
            picker: FilePicker::default(),
            popup_selected: 0,
            popup_dismissed: None,
            approvals: VecDeque::new(),
            type_ahead: TypeAhead::default(),
            show_thinking: false,
            select_mode: false,
            expand_tools: false,
            session_id: None,
            model_facts: None,
            model_path: PathBuf::new(),
            listed_models: Vec::new(),
            switching_to: None,
            busy: None,
            quit_armed: false,
            queued: VecDeque::new(),
            steering: VecDeque::new(),
            turn_text_seen: false,
            next_shell_id: 0,
            shell_context: Vec::new(),
            custom_commands: Vec::new(),
            mode,
            mode_cycle: ModeCycle::new(mode),
            mode_switches_in_flight: 0,
            before_plan: if mode == Mode::Plan { Mode::Ask } else { mode },
            plan_approval: None,
            todos: Vec::new(),
            todo_calls: Vec::new(),
            now: Instant::now(),
            size: (80, 24),
        }
    }

    /// The colours in use.
    pub fn theme(&self) -> &Theme {
        &self.theme
    }

    /// The clock the spinner and timers read (set by [`App::tick`]).
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Advances the clock.
    pub fn tick(&mut self, now: Instant) {
        self.now = now;
    }

    /// Records the terminal size (for scrolling by pages).
    pub fn resize(&mut self, width: u16, height: u16) {
        self.size = (width, height);
    }

    /// The terminal size last recorded.
    pub fn size(&self) -> (u16, u16) {
        self.size
    }

    /// Whether something animates (a spinner), so the run loop must redraw without input.
    pub fn is_animating(&self) -> bool {
        self.busy.is_some()
    }

    /// Whether the agent is working on a turn or a compaction.
    pub fn is_busy(&self) -> bool {
        self.busy.is_some()
    }

    /// What transcript rendering depends on.
    pub fn render_ctx(&self) -> RenderCtx<'_> {
        RenderCtx {
            theme: &self.theme,
            show_thinking: self.show_thinking,
            expand_tools: self.expand_tools,
        }
    }

    /// Whether select mode (Ctrl-S) leaves the mouse to the terminal.
    pub fn in_select_mode(&self) -> bool {
        self.select_mode
    }

    /// The transcript as plain text at `width` columns (what stays in the terminal's
    /// scrollback after gem ends); empty when nothing was said.
    pub fn transcript_text(&self, width: u16) -> String {
        self.transcript.plain_text(width, &self.render_ctx())
    }

    /// The approval being asked, if any.
    pub fn approval(&self) -> Option<&Approval> {
        self.approvals.front()
    }

    /// The plan waiting for the user's approval, if any.
    pub fn plan_approval(&self) -> Option<&PlanApproval> {
        self.plan_approval.as_ref()
    }

    /// The todo list the panel above the composer shows: the model's list while a turn runs,
    /// nothing otherwise (the transcript keeps each version).
    pub fn todo_panel(&self) -> &[TodoItem] {
        if self.busy == Some(BusyKind::Turn) {
            &self.todos
        } else {
            &[]
        }
    }

    /// The permission mode as the user last set it.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Messages typed while the agent was busy, sent when it is done.
    pub fn queued(&self) -> &VecDeque<String> {
        &self.queued
    }

    /// Messages sent to steer the running turn that the model has not read yet, oldest first.
    pub fn steering(&self) -> &VecDeque<String> {
        &self.steering
    }

    /// The file picker.
    pub fn picker(&self) -> &FilePicker {
        &self.picker
    }

    /// Sets the project's file list for the `@` picker.
    pub fn set_files(&mut self, files: Vec<String>) {
        self.picker.set_files(Arc::new(files));
    }

    /// The open popup and its selected row, unless dismissed or covered by an approval.
    pub fn popup(&self) -> Option<(PopupKind, usize)> {
        if !self.approvals.is_empty()
            || self.popup_dismissed.as_deref() == Some(self.composer.text())
        {
            return None;
        }
        let kind = popup_for(&self.composer)?;
        let count = self.popup_len(&kind);
        Some((kind, self.popup_selected.min(count.saturating_sub(1))))
    }

    fn popup_len(&self, kind: &PopupKind) -> usize {
        match kind {
            PopupKind::Commands { prefix } => {
                matching_commands(prefix, &self.custom_commands).len()
            }
            PopupKind::Files { query, .. } => self.picker.matches(query).len(),
        }
    }

    /// Adds a notice to the transcript.
    pub fn notice(&mut self, level: NoticeLevel, text: impl Into<String>) {
        self.push_cell(CellKind::Notice {
            level,
            text: text.into(),
        });
    }

    /// Shows a resumed session's earlier turns, then a notice saying how many there were.
    pub fn show_history(&mut self, conversation: &crate::gemma::Conversation) {
        let cells = super::history::history_cells(conversation);
        if cells.is_empty() {
            return;
        }
        let turns = conversation.user_turn_count();
        for cell in cells {
            self.push_cell(cell);
        }
        self.notice(
            NoticeLevel::Info,
            format!(
                "resumed: {turns} earlier turn{} above · the model remembers them",
                if turns == 1 { "" } else { "s" }
            ),
        );
    }

    /// Appends a cell, ending the stream of the previous one.
    fn push_cell(&mut self, kind: CellKind) {
        self.finish_streaming();
        self.transcript.push(kind);
    }

    /// Marks a streaming thinking or answer cell at the end as finished.
    fn finish_streaming(&mut self) {
        let streaming = matches!(
            self.transcript.cells().last().map(|c| c.kind()),
            Some(
                CellKind::Thinking {
                    streaming: true,
                    ..
                } | CellKind::Assistant {
                    streaming: true,
                    ..
                }
            )
        );
        if streaming
            && let Some(cell) = self.transcript.last_mut()
            && let CellKind::Thinking { streaming, .. } | CellKind::Assistant { streaming, .. } =
                cell.kind_mut()
        {
            *streaming = false;
        }
    }

    /// Appends streamed text to the last cell if it is a streaming cell of the same kind.
    fn append_stream(&mut self, thinking: bool, delta: &str) {
        let same = match self.transcript.cells().last().map(|c| c.kind()) {
            Some(CellKind::Thinking {
                streaming: true, ..
            }) => thinking,
            Some(CellKind::Assistant {
                streaming: true, ..
            }) => !thinking,
            _ => false,
        };
        if same
            && let Some(cell) = self.transcript.last_mut()
            && let CellKind::Thinking { text, .. } | CellKind::Assistant { text, .. } =
                cell.kind_mut()
        {
            text.push_str(delta);
            return;
        }
        let text = delta.to_string();
        self.push_cell(if thinking {
            CellKind::Thinking {
                text,
                streaming: true,
            }
        } else {
            CellKind::Assistant {
                text,
                streaming: true,
            }
        });
    }

    /// Updates the state with an agent event.
    pub fn handle_event(&mut self, event: Event) -> Vec<Action> {
        match event {
            Event::SessionConfigured {
                session_id,
                model,
                mode,
                context_size,
                context_tokens,
            } => {
                self.show_mode(mode);
                self.status.context_size = context_size;
                self.status.context_tokens = Some(context_tokens);
                // One short line (the model's full facts are in /model): it must not wrap.
                self.notice(
                    NoticeLevel::Info,
                    format!(
                        "**gem** · {} · {} context · mode `{mode}` · /help for commands",
                        self.status.model_line,
                        format_tokens(context_size)
                    ),
                );
                self.session_id = Some(session_id);
                self.model_facts = Some(model);
            }
            Event::TurnStarted { .. } => {
                self.start_busy(BusyKind::Turn);
                self.turn_text_seen = false;
            }
            Event::PrefillProgress { done, total } if self.status.busy_since.is_none() => {
                // Before any turn: the repository is read in at launch.
                let since = self.status.warm_up.map_or(self.now, |(_, _, since)| since);
                self.status.warm_up = Some((done, total, since));
            }
            Event::SteerApplied { text } => {
                // Messages are read in the order sent; the text is the agent's copy.
                self.steering.pop_front();
                self.push_cell(CellKind::Steering { text });
                if self.steering.is_empty() {
                    self.status.hint = None;
                }
            }
            Event::PrefillProgress { done, total } => self.status.prefill = Some((done, total)),
            Event::WarmedUp {
                prompt_tokens,
                restored_tokens,
                elapsed_ms,
                cancelled,
                ..
            } => {
                self.status.warm_up = None;
                self.status.hint = Some(if cancelled {
                    "stopped reading the repository in: the first message reads the rest".into()
                } else if restored_tokens > 0 {
                    format!(
                        "repository ready: {} tokens, {} restored from disk",
                        format_tokens(prompt_tokens),
                        format_tokens(restored_tokens)
                    )
                } else {
                    format!(
                        "repository ready: {} tokens read in {}",
                        format_tokens(prompt_tokens),
                        format_duration_ms(elapsed_ms)
                    )
                });
            }
            Event::ThinkingDelta { delta } => {
                self.status.prefill = None;
                self.append_stream(true, &delta);
            }
            Event::TextDelta { delta } => {
                self.status.prefill = None;
                self.turn_text_seen = true;
                self.append_stream(false, &delta);
            }
            Event::ToolCallBegin {
                call_id,
                name,
                arguments,
            } => {
                self.status.prefill = None;
                // A todo list shows as a checklist once it is set, not as a tool cell.
                if name == TODO_WRITE
                    && let Ok(items) = parse_todos(arguments.clone())
                {
                    self.todo_calls.push((call_id, items));
                    return Vec::new();
                }
                self.push_cell(CellKind::Tool(ToolCell {
                    call_id,
                    name,
                    key_argument: key_argument(&arguments),
                    status: ToolStatus::Running,
                    summary: String::new(),
                    output: String::new(),
                    diff: None,
                }));
            }
            Event::ToolCallEnd {
                call_id,
                name,
                summary,
                outcome,
                diff,
                output,
                duration_ms,
            } => {
                if let Some(at) = self.todo_calls.iter().position(|(id, _)| *id == call_id) {
                    let (_, items) = self.todo_calls.remove(at);
                    if outcome == ToolOutcome::Ok {
                        self.todos = items.clone();
                        self.push_cell(CellKind::Todos { items });
                        return Vec::new();
                    }
                }
                let status = ToolStatus::Done {
                    is_error: outcome.is_error(),
                    duration_ms,
                };
                if let Some(tool) = self.transcript.tool_mut(&call_id) {
                    tool.status = status;
                    tool.summary = summary;
                    tool.output = output;
                    tool.diff = diff;
                } else {
                    self.push_cell(CellKind::Tool(ToolCell {
                        call_id,
                        name,
                        key_argument: String::new(),
                        status,
                        summary,
                        output,
                        diff,
                    }));
                }
            }
            Event::ApprovalRequest {
                call_id,
                name,
                preview,
                editable_command,
                always,
            } => {
                if self.approvals.is_empty() {
                    self.type_ahead.overlay_shown(self.now);
                }
                self.approvals.push_back(Approval::new(
                    call_id,
                    name,
                    preview,
                    editable_command,
                    always,
                ));
            }
            Event::TokenUsage { usage } => {
                if usage.context_size > 0 {
                    self.status.context_size = usage.context_size;
                }
                self.status.last_usage = Some(usage);
                self.status.context_tokens = Some(usage.prompt_tokens + usage.generated_tokens);
            }
            Event::Warning { message } => self.notice(NoticeLevel::Warning, message),
            Event::Error { message } => {
                self.notice(NoticeLevel::Error, message);
                if self.busy == Some(BusyKind::Compact) {
                    self.busy = None;
                    self.status.busy_since = None;
                }
            }
            Event::Compacted {
                tokens_before,
                tokens_after,
            } => {
                self.status.context_tokens = Some(tokens_after);
                self.notice(
                    NoticeLevel::Info,
                    format!(
                        "Compacted the conversation: {} → {} tokens",
                        format_tokens(tokens_before),
                        format_tokens(tokens_after)
                    ),
                );
                if self.busy == Some(BusyKind::Compact) {
                    self.end_busy();
                    return self.send_queued();
                }
            }
            Event::Undone { files } => {
                let text = if files.is_empty() {
                    "Nothing to undo.".to_string()
                } else {
                    let list: Vec<String> = files.iter().map(|f| format!("- `{f}`")).collect();
                    format!(
                        "Reverted the last turn's changes:\n{}\nThe model is told with your next \
                         message.",
                        list.join("\n")
                    )
                };
                self.notice(NoticeLevel::Info, text);
            }
            Event::UndoNoteSent { files } => self.notice(
                NoticeLevel::Info,
                format!(
                    "Sent the model a note that /undo restored {}.",
                    plural(files.len(), "file", "files")
                ),
            ),
            Event::SessionDiff { diffs } => {
                if diffs.is_empty() {
                    self.notice(NoticeLevel::Info, "No file changes yet this session.");
                } else {
                    self.push_cell(CellKind::Diffs {
                        title: format!(
                            "Changes this session ({})",
                            plural(diffs.len(), "file", "files")
                        ),
                        diffs,
                    });
                }
            }
            Event::ModeChanged { mode } => {
                // The TUI shows a switch the moment the user makes it; the agent's confirmation
                // only counts once every switch sent is confirmed (the last one wins).
                self.mode_switches_in_flight = self.mode_switches_in_flight.saturating_sub(1);
                if self.mode_switches_in_flight == 0 {
                    self.show_mode(mode);
                }
            }
            Event::Permissions {
                mode,
                rules,
                session_edits,
            } => self.notice(
                NoticeLevel::Info,
                permissions_text(mode.name(), &rules, session_edits),
            ),
            Event::ModelChanged {
                model,
                context_size,
            } => {
                if let Some(path) = self.switching_to.take() {
                    self.model_path = path;
                }
                self.status.model_line = model.clone();
                self.status.context_size = context_size;
                self.notice(
                    NoticeLevel::Info,
                    format!("Now on **{model}**; the conversation goes on."),
                );
                self.model_facts = Some(model);
            }
            Event::McpServers { servers } => {
                self.notice(NoticeLevel::Info, super::mcp_view::mcp_text(&servers))
            }
            Event::Cleared { context_tokens } => {
                self.status.context_tokens = Some(context_tokens);
                self.transcript.clear();
                self.todos.clear();
                self.plan_approval = None;
                self.notice(NoticeLevel::Info, "Started a fresh conversation.");
            }
            Event::TurnComplete { reason, final_text } => {
                self.finish_streaming();
                let answered = !final_text.trim().is_empty();
                if !self.turn_text_seen && answered {
                    self.push_cell(CellKind::Assistant {
                        text: final_text,
                        streaming: false,
                    });
                    self.finish_streaming();
                }
                match reason {
                    TurnEnd::Completed | TurnEnd::Error => {}
                    TurnEnd::Interrupted => self.notice(NoticeLevel::Warning, "Interrupted."),
                    TurnEnd::MaxTurns => {
                        self.notice(NoticeLevel::Warning, "Stopped: the turn limit was reached.")
                    }
                    TurnEnd::LoopDetected => self.notice(
                        NoticeLevel::Warning,
                        "Stopped: the model was repeating itself.",
                    ),
                }
                self.end_busy();
                self.todo_calls.clear();
                // A steering message the turn ended before reading is the agent's next turn
                // (it has it already: nothing is sent again).
                if let Some(text) = self.steering.pop_front() {
                    self.push_cell(CellKind::User { text });
                    self.start_busy(BusyKind::Turn);
                    self.turn_text_seen = false;
                    return Vec::new();
                }
                // A plan ends a turn in plan mode: ask whether to carry it out (unless the user
                // already typed what comes next).
                if reason == TurnEnd::Completed
                    && self.mode == Mode::Plan
                    && answered
                    && self.queued.is_empty()
                {
                    self.plan_approval = Some(PlanApproval::after(self.before_plan));
                    self.type_ahead.overlay_shown(self.now);
                }
                return self.send_queued();
            }
        }
        Vec::new()
    }

    fn start_busy(&mut self, kind: BusyKind) {
        if self.busy.is_none() {
            self.status.busy_since = Some(self.now);
        }
        self.busy = Some(kind);
        self.status.busy_label = match kind {
            BusyKind::Turn => "working",
            BusyKind::Compact => "compacting",
        }
        .to_string();
    }

    fn end_busy(&mut self) {
        self.busy = None;
        self.status.busy_since = None;
        self.status.prefill = None;
        self.status.hint = None;
    }

    /// Shows `mode` as the mode in force.
    fn show_mode(&mut self, mode: Mode) {
        self.mode = mode;
        self.status.mode = mode.name().to_string();
        if mode != Mode::Plan {
            self.before_plan = mode;
        }
    }

    /// Switches to `mode`: shown at once, applied by the agent from its next tool call (also
    /// in the middle of a turn).
    fn switch_mode(&mut self, mode: Mode) -> Vec<Action> {
        self.show_mode(mode);
        self.mode_switches_in_flight += 1;
        vec![Action::Send(Op::SetMode { mode })]
    }

    /// Shift-Tab: the next mode of the cycle (see [`ModeCycle`]).
    fn cycle_mode(&mut self) -> Vec<Action> {
        self.plan_approval = None;
        let next = self.mode_cycle.next(self.mode);
        self.switch_mode(next)
    }

    /// A key while a plan waits for approval, the composer empty and the question visible for
    /// long enough (see [`TypeAhead`]): the answer, or `None` when the key is not one.
    fn plan_key(&mut self, key: &KeyEvent) -> Option<Vec<Action>> {
        let answer = PlanApproval::answer(key)?;
        if !self.type_ahead.overlay_takes_key(self.now) {
            return None;
        }
        let approval = self.plan_approval.take()?;
        Some(match answer {
            PlanAnswer::Approve => {
                let mut actions = self.switch_mode(approval.target);
                actions.extend(self.send_or_queue(CARRY_OUT.to_string()));
                actions
            }
            PlanAnswer::KeepPlanning => {
                self.notice(
                    NoticeLevel::Info,
                    "Still planning: say what to change in the plan.",
                );
                Vec::new()
            }
        })
    }

    /// Sends the next queued message, if any.
    fn send_queued(&mut self) -> Vec<Action> {
        match self.queued.pop_front() {
            Some(text) => match parse_command(&text) {
                Some(command) => self.run_command(command),
                None => self.send_user_turn(text),
            },
            None => Vec::new(),
        }
    }

    /// Records the output of a `!command`; the command and its output go to the model with
    /// the next message (as Claude Code's `!` does).
    pub fn shell_finished(
        &mut self,
        id: usize,
        command: &str,
        output: String,
        exit_code: Option<i32>,
    ) {
        let status = match exit_code {
            Some(code) => format!("\n[exit code: {code}]"),
            None => String::new(),
        };
        self.shell_context.push(Attachment {
            label: "shell".into(),
            content: format!("$ {command}\n{}{status}", output.trim_end()),
        });
        self.notice(
            NoticeLevel::Info,
            "The command and its output go to the model with your next message",
        );
        self.transcript.update_where(
            |kind| matches!(kind, CellKind::Shell { id: cell_id, output: None, .. } if *cell_id == id),
            |kind| {
                if let CellKind::Shell {
                    output: out,
                    exit_code: code,
                    ..
                } = kind
                {
                    *out = Some(output.clone());
                    *code = exit_code;
                }
            },
        );
    }

    /// Reports that the agent's event stream ended.
    pub fn agent_gone(&mut self) {
        self.end_busy();
        self.steering.clear();
        self.notice(
            NoticeLevel::Error,
            "The agent stopped. Press ctrl-c twice to quit.",
        );
    }

    /// Handles pasted text (bracketed paste): into the command being edited in an approval,
    /// else into the composer (never an answer to an approval).
    pub fn handle_paste(&mut self, text: &str) {
        match self.approvals.front_mut() {
            Some(approval) if approval.is_editing() => approval.handle_paste(text),
            _ => {
                self.type_ahead.typed(self.now);
                self.composer.insert_str(text);
            }
        }
    }

    /// Handles the mouse: the wheel scrolls an approval's preview, else the transcript.
    pub fn handle_mouse(&mut self, mouse: MouseEvent) {
        if let Some(approval) = self.approvals.front_mut() {
            match mouse.kind {
                MouseEventKind::ScrollUp => approval.scroll_up(WHEEL_LINES),
                MouseEventKind::ScrollDown => approval.scroll_down(WHEEL_LINES),
                _ => {}
            }
            return;
        }
        match mouse.kind {
            MouseEventKind::ScrollUp => self.scroll_up(WHEEL_LINES),
            MouseEventKind::ScrollDown => self.scroll_down(WHEEL_LINES),
            _ => {}
        }
    }

    /// The transcript's width and height in the current layout.
    fn transcript_geometry(&self) -> (u16, usize) {
        let areas = layout(
            ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1),
            self,
        );
        (areas.transcript.width, usize::from(areas.transcript.height))
    }

    /// Scrolls the transcript up `n` lines.
    pub fn scroll_up(&mut self, n: usize) {
        let (width, height) = self.transcript_geometry();
        let total = self.transcript.total_height(width, &self.render_ctx());
        self.transcript.scroll.up(n, total, height);
    }

    /// Scrolls the transcript down `n` lines.
    pub fn scroll_down(&mut self, n: usize) {
        let (width, height) = self.transcript_geometry();
        let total = self.transcript.total_height(width, &self.render_ctx());
        self.transcript.scroll.down(n, total, height);
    }

    fn page(&self) -> usize {
        self.transcript_geometry().1.saturating_sub(2).max(1)
    }

    /// Handles a key press.
    pub fn handle_key(&mut self, key: KeyEvent) -> Vec<Action> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('C')) {
            return self.ctrl_c();
        }
        self.quit_armed = false;
        self.status.hint = None;
        if key.code == KeyCode::BackTab {
            return self.cycle_mode();
        }
        if !self.approvals.is_empty() {
            return self.approval_key(key);
        }
        if self.plan_approval.is_some()
            && self.composer.is_empty()
            && let Some(actions) = self.plan_key(&key)
        {
            return actions;
        }
        self.type_ahead.typed(self.now);
        let before = self.composer.text().to_string();
        let actions = self.handle_composer_key(key);
        if self.composer.text() != before {
            self.popup_selected = 0;
        }
        actions
    }

    /// A key while an approval is shown: typing that began before the overlay was visible
    /// (or came within its grace period) stays in the composer; other keys go to the overlay.
    fn approval_key(&mut self, key: KeyEvent) -> Vec<Action> {
        let editing = self.approvals.front().is_some_and(Approval::is_editing);
        if !editing && !self.type_ahead.overlay_takes_key(self.now) {
            let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
            match key.code {
                KeyCode::Char(c) if !ctrl => self.composer.insert_char(c),
                KeyCode::Backspace => self.composer.backspace(),
                _ => {}
            }
            return Vec::new();
        }
        let Some(approval) = self.approvals.front_mut() else {
            return Vec::new();
        };
        let Some(decision) = approval.handle_key(key) else {
            return Vec::new();
        };
        let call_id = approval.call_id.clone();
        let always = approval.always.clone();
        self.approvals.pop_front();
        if !self.approvals.is_empty() {
            self.type_ahead.overlay_shown(self.now);
        }
        match &decision {
            ApprovalDecision::ApproveEdited { command } => {
                if let Some(tool) = self.transcript.tool_mut(&call_id) {
                    tool.key_argument = format!(
                        "{} (edited)",
                        key_argument(&serde_json::Value::String(command.clone()))
                    );
                }
            }
            ApprovalDecision::ApproveForSession => {
                if let Some(always) = always {
                    self.notice(
                        NoticeLevel::Info,
                        format!("{always} · `/permissions` lists and revokes it"),
                    );
                }
            }
            ApprovalDecision::Approve | ApprovalDecision::Deny => {}
        }
        vec![Action::Send(Op::Approval { call_id, decision })]
    }

    /// Ctrl-C: deny a pending approval and interrupt, interrupt work, clear the composer, or quit.
    fn ctrl_c(&mut self) -> Vec<Action> {
        if let Some(approval) = self.approvals.pop_front() {
            self.approvals.clear();
            self.quit_armed = false;
            return vec![
                Action::Send(Op::Approval {
                    call_id: approval.call_id,
                    decision: ApprovalDecision::Deny,
                }),
                Action::Send(Op::Interrupt),
            ];
        }
        if self.busy.is_some() {
            self.quit_armed = false;
            self.queued.clear();
            return vec![Action::Send(Op::Interrupt)];
        }
        if self.plan_approval.take().is_some() {
            self.quit_armed = false;
            return Vec::new();
        }
        if !self.composer.is_empty() {
            self.composer.clear();
            self.quit_armed = false;
            return Vec::new();
        }
        if self.quit_armed {
            return vec![Action::Quit];
        }
        self.quit_armed = true;
        self.status.hint = Some("ctrl-c again to quit".to_string());
        Vec::new()
    }

    fn handle_composer_key(&mut self, key: KeyEvent) -> Vec<Action> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);
        if let Some((popup, selected)) = self.popup() {
            let count = self.popup_len(&popup);
            match key.code {
                KeyCode::Up => {
                    self.popup_selected =
                        selected.checked_sub(1).unwrap_or(count.saturating_sub(1));
                    return Vec::new();
                }
                KeyCode::Down => {
                    self.popup_selected = if selected + 1 >= count {
                        0
                    } else {
                        selected + 1
                    };
                    return Vec::new();
                }
                KeyCode::Esc => {
                    self.popup_dismissed = Some(self.composer.text().to_string());
                    return Vec::new();
                }
                KeyCode::Tab => {
                    self.complete_popup(&popup, selected, false);
                    return Vec::new();
                }
                KeyCode::Enter if !shift && !alt => {
                    if self.complete_popup(&popup, selected, true) {
                        return self.submit();
                    }
                    return Vec::new();
                }
                _ => {}
            }
        }
        match key.code {
            KeyCode::Enter if shift || alt => self.composer.newline(),
            KeyCode::Char('j') if ctrl => self.composer.newline(),
            KeyCode::Char('g') if ctrl => {
                return vec![Action::EditMessage {
                    text: self.composer.text().to_string(),
                }];
            }
            KeyCode::Enter => {
                if self.composer.text()[..self.composer.cursor()].ends_with('\\') {
                    self.composer.backspace();
                    self.composer.newline();
                } else {
                    return self.submit();
                }
            }
            KeyCode::Char('d') if ctrl && self.composer.is_empty() && self.busy.is_none() => {
                return vec![Action::Quit];
            }
            KeyCode::Char('t') if ctrl => self.show_thinking = !self.show_thinking,
            KeyCode::Char('s') if ctrl => {
                self.select_mode = !self.select_mode;
                self.status.hint = Some(if self.select_mode {
                    "select mode: drag to select text · ctrl+s again to scroll with the wheel"
                        .into()
                } else {
                    "the wheel scrolls again".into()
                });
                return vec![Action::CaptureMouse(!self.select_mode)];
            }
            KeyCode::Char('o') if ctrl => self.expand_tools = !self.expand_tools,
            KeyCode::Char('a') if ctrl => self.composer.move_home(),
            KeyCode::Char('e') if ctrl => self.composer.move_end(),
            KeyCode::Char('u') if ctrl => self.composer.kill_to_line_start(),
            KeyCode::Char('k') if ctrl => self.composer.kill_to_line_end(),
            KeyCode::Char('w') if ctrl => self.composer.delete_word_back(),
            KeyCode::Char('b') if alt => self.composer.move_word_left(),
            KeyCode::Char('f') if alt => self.composer.move_word_right(),
            KeyCode::Char('?') if !ctrl && !alt && self.composer.is_empty() => {
                self.notice(NoticeLevel::Info, KEYS_HELP.to_string());
            }
            KeyCode::Char(c) if !ctrl => self.composer.insert_char(c),
            KeyCode::Backspace if ctrl || alt => self.composer.delete_word_back(),
            KeyCode::Backspace => self.composer.backspace(),
            KeyCode::Delete => self.composer.delete(),
            KeyCode::Left if ctrl || alt => self.composer.move_word_left(),
            KeyCode::Right if ctrl || alt => self.composer.move_word_right(),
            KeyCode::Left => self.composer.move_left(),
            KeyCode::Right => self.composer.move_right(),
            KeyCode::Home if ctrl => {
                let (width, height) = self.transcript_geometry();
                let total = self.transcript.total_height(width, &self.render_ctx());
                self.transcript.scroll.scroll_to_top(total, height);
            }
            KeyCode::End
                if ctrl || (self.composer.is_empty() && !self.transcript.scroll.is_following()) =>
            {
                self.transcript.scroll.scroll_to_bottom()
            }
            KeyCode::Home => self.composer.move_home(),
            KeyCode::End => self.composer.move_end(),
            KeyCode::Up if shift => self.scroll_up(1),
            KeyCode::Down if shift => self.scroll_down(1),
            // A recalled `/command` opens no popup, so the next Up keeps walking the history.
            KeyCode::Up if !self.composer.move_up() => {
                self.composer.history_prev();
                self.popup_dismissed = Some(self.composer.text().to_string());
            }
            KeyCode::Down if !self.composer.move_down() => {
                self.composer.history_next();
                self.popup_dismissed = Some(self.composer.text().to_string());
            }
            KeyCode::PageUp => self.scroll_up(self.page()),
            KeyCode::PageDown => self.scroll_down(self.page()),
            KeyCode::Esc if self.busy == Some(BusyKind::Turn) => {
                self.transcript.scroll.scroll_to_bottom();
                self.status.hint = Some("interrupting… (queued messages still go next)".into());
                return vec![Action::Send(Op::Interrupt)];
            }
            KeyCode::Esc if self.status.warm_up.is_some() && self.busy.is_none() => {
                self.status.hint = Some("stopping the read-in…".into());
                return vec![Action::Send(Op::Interrupt)];
            }
            KeyCode::Esc => self.transcript.scroll.scroll_to_bottom(),
            _ => {}
        }
        Vec::new()
    }

    /// Puts the popup's selected item into the composer; true when it should run right away.
    fn complete_popup(&mut self, popup: &PopupKind, selected: usize, submitting: bool) -> bool {
        match popup {
            PopupKind::Commands { prefix } => {
                let Some(spec) = matching_commands(prefix, &self.custom_commands)
                    .into_iter()
                    .nth(selected)
                else {
                    return submitting;
                };
                if spec.args.is_empty() || submitting {
                    self.composer.set_text(&format!("/{}", spec.name));
                    submitting
                } else {
                    self.composer.set_text(&format!("/{} ", spec.name));
                    false
                }
            }
            PopupKind::Files { query, range } => {
                if let Some(path) = self.picker.selected_path(query, selected) {
                    self.composer
                        .replace_range(range.clone(), &format!("@{path} "));
                }
                false
            }
        }
    }

    /// Sends what the composer holds: a command, a shell command or a user turn.
    fn submit(&mut self) -> Vec<Action> {
        if self.composer.text().trim().is_empty() {
            return Vec::new();
        }
        let text = self.composer.submit();
        self.popup_dismissed = None;
        self.transcript.scroll.scroll_to_bottom();
        if let Some(command) = parse_command(&text) {
            if self.busy.is_some() && matches!(command, Command::Compact(_)) {
                self.queued.push_back(text);
                self.notice(
                    NoticeLevel::Info,
                    "/compact runs when the current turn ends",
                );
                return Vec::new();
            }
            return self.run_command(command);
        }
        if let Some(command) = text.trim_start().strip_prefix('!') {
            let command = command.trim().to_string();
            if command.is_empty() {
                return Vec::new();
            }
            let id = self.next_shell_id;
            self.next_shell_id += 1;
            self.push_cell(CellKind::Shell {
                id,
                command: command.clone(),
                output: None,
                exit_code: None,
            });
            return vec![Action::RunShell { id, command }];
        }
        self.send_or_steer(text)
    }

    /// Sends a plain message: to steer the turn that runs (the model reads it at its next
    /// step), else as a user turn (queued while a compaction runs).
    fn send_or_steer(&mut self, text: String) -> Vec<Action> {
        if self.busy != Some(BusyKind::Turn) {
            return self.send_or_queue(text);
        }
        let mut attachments = std::mem::take(&mut self.shell_context);
        attachments.extend(mention_attachments(&text, &self.project_root));
        self.steering.push_back(text.clone());
        self.status.hint = Some(STEERING_HINT.into());
        vec![Action::Send(Op::Steer { text, attachments })]
    }

    /// Sends `text` as the next user turn, or queues it while the agent is busy.
    fn send_or_queue(&mut self, text: String) -> Vec<Action> {
        if self.busy.is_some() {
            self.queued.push_back(text);
            return Vec::new();
        }
        self.send_user_turn(text)
    }

    /// Takes the message back from the user's editor, or says why it stayed as it was.
    pub fn editor_finished(&mut self, result: Result<String, String>) {
        match result {
            Ok(text) => self.composer.set_text(&text),
            Err(why) => self.notice(NoticeLevel::Warning, format!("Editor: {why}")),
        }
    }

    /// Uses the user's own slash commands (and shows the warnings about files that could not
    /// be used).
    pub fn set_custom_commands(&mut self, commands: Vec<CustomCommand>, warnings: Vec<String>) {
        self.custom_commands = commands;
        for warning in warnings {
            self.notice(NoticeLevel::Warning, format!("custom command: {warning}"));
        }
    }

    /// The user's own slash commands.
    pub fn custom_commands(&self) -> &[CustomCommand] {
        &self.custom_commands
    }

    fn send_user_turn(&mut self, text: String) -> Vec<Action> {
        // A message instead of an answer to the plan question goes on with the planning.
        self.plan_approval = None;
        let mut attachments = std::mem::take(&mut self.shell_context);
        attachments.extend(mention_attachments(&text, &self.project_root));
        self.push_cell(CellKind::User { text: text.clone() });
        self.start_busy(BusyKind::Turn);
        self.turn_text_seen = false;
        vec![Action::Send(Op::UserTurn { text, attachments })]
    }

    fn run_command(&mut self, command: Command) -> Vec<Action> {
        match command {
            Command::Help => self.notice(NoticeLevel::Info, help_text(&self.custom_commands)),
            Command::Clear | Command::Undo if self.busy.is_some() => self.notice(
                NoticeLevel::Warning,
                "Wait for the turn to finish (or press ctrl-c) before /undo or /clear",
            ),
            Command::Clear => return vec![Action::Send(Op::Clear)],
            Command::Compact(hint) => {
                self.start_busy(BusyKind::Compact);
                return vec![Action::Send(Op::Compact { hint })];
            }
            Command::Model(Some(_)) if self.busy.is_some() => self.notice(
                NoticeLevel::Warning,
                "Wait for the turn to finish (or press esc) before switching models",
            ),
            Command::Model(Some(arg)) => {
                match model_list::chosen_model(&arg, &self.listed_models) {
                    Ok(path) => {
                        self.notice(NoticeLevel::Info, format!("Loading {}…", path.display()));
                        self.switching_to = Some(path.clone());
                        return vec![Action::Send(Op::SwitchModel { path })];
                    }
                    Err(message) => self.notice(NoticeLevel::Warning, message),
                }
            }
            Command::Model(None) => {
                let mut text = format!("**Model** {}", self.status.model_line);
                if let Some(facts) = &self.model_facts {
                    text.push_str(&format!("\n- {facts}"));
                }
                if self.status.context_size > 0 {
                    text.push_str(&format!(
                        "\n- context window: {} tokens",
                        self.status.context_size
                    ));
                }
                if let Some(id) = &self.session_id {
                    text.push_str(&format!("\n- session: `{id}`"));
                }
                let found = model_list::usable_models(crate::models::discover::discover(
                    &crate::models::discover::SearchRoots::from_env(),
                ));
                text.push_str(&model_list::models_text(&found, &self.model_path));
                self.listed_models = found.into_iter().map(|m| m.path).collect();
                self.notice(NoticeLevel::Info, text);
            }
            Command::Mode(None) => {
                let modes: Vec<String> = MODES.iter().map(|m| format!("`{m}`")).collect();
                let cycle: Vec<&str> = self.mode_cycle.modes().iter().map(|m| m.name()).collect();
                self.notice(
                    NoticeLevel::Info,
                    format!(
                        "Permission mode: `{}`. Switch with `/mode NAME`: {}; `shift+tab` cycles \
                         {}.",
                        self.status.mode,
                        modes.join(", "),
                        cycle.join(" → ")
                    ),
                );
            }
            Command::Mode(Some(mode)) => {
                if let Some(mode) = Mode::parse(&mode) {
                    self.mode_cycle.chosen(mode);
                    self.notice(
                        NoticeLevel::Info,
                        format!("Permission mode is now `{mode}`."),
                    );
                    return self.switch_mode(mode);
                }
                self.notice(
                    NoticeLevel::Warning,
                    format!("Unknown mode `{mode}`; modes are {}.", MODES.join(", ")),
                );
            }
            Command::Permissions(_) if self.busy.is_some() => self.notice(
                NoticeLevel::Warning,
                "Wait for the turn to finish (or press esc) before /permissions",
            ),
            Command::Permissions(None) => return vec![Action::Send(Op::ShowPermissions)],
            Command::Mcp if self.busy.is_some() => self.notice(
                NoticeLevel::Warning,
                "Wait for the turn to finish (or press esc) before /mcp",
            ),
            Command::Mcp => return vec![Action::Send(Op::ShowMcp)],
            Command::Permissions(Some(arg)) => match arg.strip_prefix("revoke").map(str::trim) {
                Some("edits") => return vec![Action::Send(Op::RevokeSessionEdits)],
                Some(rule) if !rule.is_empty() => {
                    let rule = rule.trim_matches('`').to_string();
                    return vec![Action::Send(Op::RevokeRule { rule })];
                }
                _ => self.notice(
                    NoticeLevel::Warning,
                    "Usage: `/permissions` lists, `/permissions revoke RULE` removes an allow \
                         rule, `/permissions revoke edits` asks again before edits.",
                ),
            },
            Command::Think => {
                self.show_thinking = !self.show_thinking;
                self.notice(
                    NoticeLevel::Info,
                    if self.show_thinking {
                        "Thinking is shown (ctrl+t or /think hides it)."
                    } else {
                        "Thinking is hidden (ctrl+t or /think shows it)."
                    },
                );
            }
            Command::Diff if self.busy.is_some() => self.notice(
                NoticeLevel::Warning,
                "Wait for the turn to finish (or press esc) before /diff",
            ),
            Command::Diff => return vec![Action::Send(Op::Diff)],
            Command::Undo => return vec![Action::Send(Op::Undo)],
            Command::Copy => {
                let last_answer = self
                    .transcript
                    .cells()
                    .iter()
                    .rev()
                    .find_map(|cell| match cell.kind() {
                        CellKind::Assistant { text, .. } if !text.trim().is_empty() => {
                            Some(text.trim().to_string())
                        }
                        _ => None,
                    });
                match last_answer {
                    Some(text) => {
                        self.status.hint = Some(format!(
                            "copied the last answer ({}) · needs a terminal that allows OSC 52",
                            crate::plural::plural(text.lines().count(), "line", "lines")
                        ));
                        return vec![Action::Copy { text }];
                    }
                    None => self.notice(NoticeLevel::Info, "Nothing to copy yet."),
                }
            }
            Command::Context => {
                let text = match (self.status.last_usage, self.status.context_size) {
                    (Some(usage), size) if size > 0 => format!(
                        "**Context** {} of {} tokens used ({}%)\n- last prompt: {} tokens ({} reused from cache, {} computed)\n- last answer: {} tokens",
                        format_tokens(usage.prompt_tokens + usage.generated_tokens),
                        format_tokens(size),
                        (usage.prompt_tokens + usage.generated_tokens) * 100 / size,
                        format_tokens(usage.prompt_tokens),
                        format_tokens(usage.reused_tokens),
                        format_tokens(usage.prefilled_tokens),
                        format_tokens(usage.generated_tokens),
                    ),
                    _ => "**Context** nothing measured yet: send a message first.".to_string(),
                };
                let text = format!(
                    "{text}\n- repository: {}",
                    self.repo_summary
                        .as_deref()
                        .unwrap_or("not packed (--no-repo, or nothing to pack)")
                );
                self.notice(NoticeLevel::Info, text);
            }
            Command::Quit => return vec![Action::Quit],
            Command::Unknown(name, args) => {
                if let Some(custom) = self.custom_commands.iter().find(|c| c.name == name) {
                    let text = custom.expand(args.as_deref());
                    return self.send_or_queue(text);
                }
                let known: Vec<String> = COMMANDS
                    .iter()
                    .map(|c| format!("/{}", c.name))
                    .chain(self.custom_commands.iter().map(|c| format!("/{}", c.name)))
                    .collect();
                self.notice(
                    NoticeLevel::Warning,
                    format!("Unknown command /{name}. Commands: {}", known.join(" ")),
                );
            }
        }
        Vec::new()
    }
}

/// The `/permissions` listing (Markdown).
fn permissions_text(mode: &str, rules: &[String], session_edits: bool) -> String {
    let mut text = format!("**Permissions** mode `{mode}`\n");
    if rules.is_empty() {
        text.push_str("- shell: every command asks (no allow rules)\n");
    } else {
        text.push_str("- shell commands that run without asking:\n");
        for rule in rules {
            text.push_str(&format!("  - `{rule}`\n"));
        }
    }
    text.push_str(if session_edits {
        "- edits: allowed for this session (`/permissions revoke edits` asks again)\n"
    } else {
        "- edits: as the mode says\n"
    });
    if !rules.is_empty() {
        text.push_str("\nRevoke a rule with `/permissions revoke RULE`.");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::TokenUsage;

    fn app() -> App {
        App::new(
            Theme::monochrome(),
            "gemma-4-E4B Q4_K_M".into(),
            std::env::temp_dir(),
            Mode::Ask,
        )
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn type_text(app: &mut App, text: &str) {
        for c in text.chars() {
            app.handle_key(key(KeyCode::Char(c)));
        }
    }

    fn kinds(app: &App) -> Vec<CellKind> {
        app.transcript
            .cells()
            .iter()
            .map(|c| c.kind().clone())
            .collect()
    }

    #[test]
    fn enter_sends_a_user_turn_and_starts_working() {
        let mut app = app();
        type_text(&mut app, "hello");
        let actions = app.handle_key(key(KeyCode::Enter));
        assert_eq!(
            actions,
            [Action::Send(Op::UserTurn {
                text: "hello".into(),
                attachments: vec![]
            })]
        );
        assert!(app.is_busy());
        assert!(app.composer.is_empty());
        assert_eq!(
            kinds(&app),
            [CellKind::User {
                text: "hello".into()
            }]
        );
    }

    #[test]
    fn question_mark_in_an_empty_message_box_shows_every_key() {
        let mut app = app();
        app.handle_key(key(KeyCode::Char('?')));
        assert!(app.composer.is_empty(), "the `?` is not typed");
        assert!(
            matches!(kinds(&app).last(), Some(CellKind::Notice { text, .. })
                if text.contains("**Approvals**") && text.contains("`ctrl+g`")),
            "{:?}",
            kinds(&app)
        );
        let cells = kinds(&app).len();
        type_text(&mut app, "why?");
        assert_eq!(app.composer.text(), "why?", "inside a message `?` is text");
        assert_eq!(kinds(&app).len(), cells);
    }

    #[test]
    fn copy_takes_the_last_answer_and_ctrl_s_toggles_select_mode() {
        let mut app = app();
        type_text(&mut app, "/copy");
        app.handle_key(key(KeyCode::Enter));
        assert!(
            matches!(kinds(&app).last(), Some(CellKind::Notice { text, .. }) if text.contains("Nothing to copy")),
            "{:?}",
            kinds(&app)
        );
        app.transcript.push(CellKind::Assistant {
            text: "first answer".into(),
            streaming: false,
        });
        app.transcript.push(CellKind::Assistant {
            text: "the **last** answer\n".into(),
            streaming: false,
        });
        type_text(&mut app, "/copy");
        assert_eq!(
            app.handle_key(key(KeyCode::Enter)),
            [Action::Copy {
                text: "the **last** answer".into()
            }]
        );
        assert_eq!(app.handle_key(ctrl('s')), [Action::CaptureMouse(false)]);
        assert!(app.in_select_mode());
        assert_eq!(app.handle_key(ctrl('s')), [Action::CaptureMouse(true)]);
        assert!(!app.in_select_mode());
    }

    #[test]
    fn the_transcript_as_text_keeps_every_cell() {
        let mut app = app();
        assert_eq!(app.transcript_text(40), "");
        app.transcript.push(CellKind::User {
            text: "hello there".into(),
        });
        app.transcript.push(CellKind::Assistant {
            text: "| a | b |\n|---|---|\n| 1 | 2 |".into(),
            streaming: false,
        });
        let text = app.transcript_text(40);
        assert!(text.contains("hello there"), "{text}");
        assert!(text.contains("│ 1 │ 2 │"), "{text}");
        assert!(text.lines().all(|l| l == l.trim_end()), "{text:?}");
    }

    #[test]
    fn reading_the_repository_in_at_launch_shows_progress_and_esc_stops_it() {
        let mut app = app();
        app.handle_event(Event::PrefillProgress {
            done: 512,
            total: 2048,
        });
        assert_eq!(
            app.status.warm_up.map(|(d, t, _)| (d, t)),
            Some((512, 2048))
        );
        assert!(app.status.prefill.is_none(), "no turn runs");
        assert_eq!(
            app.handle_key(key(KeyCode::Esc)),
            [Action::Send(Op::Interrupt)]
        );
        app.handle_event(Event::WarmedUp {
            prompt_tokens: 2048,
            restored_tokens: 2048,
            prefilled_tokens: 0,
            elapsed_ms: 40,
            cancelled: false,
        });
        assert!(app.status.warm_up.is_none());
        assert!(
            app.status
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("restored from disk")),
            "{:?}",
            app.status.hint
        );
        assert!(
            app.handle_key(key(KeyCode::Esc)).is_empty(),
            "nothing left to stop"
        );
    }

    #[test]
    fn shift_and_alt_enter_insert_newlines() {
        let mut app = app();
        type_text(&mut app, "a");
        app.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::SHIFT));
        type_text(&mut app, "b");
        app.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT));
        type_text(&mut app, "c\\");
        app.handle_key(key(KeyCode::Enter));
        assert_eq!(app.composer.text(), "a\nb\nc\n");
    }

    #[test]
    fn ctrl_c_interrupts_while_working_and_keeps_the_session() {
        let mut app = app();
        app.handle_event(Event::TurnStarted { turn: 1 });
        assert_eq!(app.handle_key(ctrl('c')), [Action::Send(Op::Interrupt)]);
        assert_eq!(app.handle_key(ctrl('c')), [Action::Send(Op::Interrupt)]);
        app.handle_event(Event::TurnComplete {
            reason: TurnEnd::Interrupted,
            final_text: String::new(),
        });
        assert!(!app.is_busy());
        assert!(
            app.handle_key(ctrl('c')).is_empty(),
            "first idle ctrl-c only arms"
        );
    }

    #[test]
    fn ctrl_c_clears_then_needs_two_presses_to_quit() {
        let mut app = app();
        type_text(&mut app, "draft");
        assert!(app.handle_key(ctrl('c')).is_empty());
        assert!(app.composer.is_empty());
        assert!(app.handle_key(ctrl('c')).is_empty());
        assert_eq!(app.status.hint.as_deref(), Some("ctrl-c again to quit"));
        assert_eq!(app.handle_key(ctrl('c')), [Action::Quit]);
    }

    #[test]
    fn another_key_disarms_quit() {
        let mut app = app();
        app.handle_key(ctrl('c'));
        app.handle_key(key(KeyCode::Left));
        assert!(app.handle_key(ctrl('c')).is_empty());
        assert_eq!(app.handle_key(ctrl('c')), [Action::Quit]);
    }

    fn shell_request(id: &str, command: &str, always: Option<&str>) -> Event {
        Event::ApprovalRequest {
            call_id: id.into(),
            name: "shell".into(),
            preview: command.into(),
            editable_command: true,
            always: always.map(str::to_string),
        }
    }

    fn later(app: &mut App, ms: u64) {
        app.tick(app.now() + std::time::Duration::from_millis(ms));
    }

    #[test]
    fn approvals_are_answered_in_order() {
        let mut app = app();
        app.handle_event(shell_request("c1", "ls", Some("always allow: ls")));
        app.handle_event(shell_request("c2", "ls", None));
        later(&mut app, 500);
        assert!(app.popup().is_none());
        assert!(app.handle_key(key(KeyCode::Char('q'))).is_empty());
        assert_eq!(
            app.handle_key(key(KeyCode::Char('a'))),
            [Action::Send(Op::Approval {
                call_id: "c1".into(),
                decision: ApprovalDecision::ApproveForSession
            })]
        );
        assert!(
            matches!(kinds(&app).last(), Some(CellKind::Notice { text, .. }) if text.contains("always allow: ls")),
            "the notice says what is allowed from now on"
        );
        later(&mut app, 500);
        assert!(
            app.handle_key(key(KeyCode::Char('a'))).is_empty(),
            "no always without a stated rule"
        );
        assert_eq!(
            app.handle_key(key(KeyCode::Char('n'))),
            [Action::Send(Op::Approval {
                call_id: "c2".into(),
                decision: ApprovalDecision::Deny
            })]
        );
        assert!(app.approval().is_none());
        assert!(
            app.composer.is_empty(),
            "answer keys do not reach the composer"
        );
    }

    #[test]
    fn keys_typed_as_the_overlay_appears_stay_in_the_composer() {
        let mut app = app();
        app.handle_event(Event::TurnStarted { turn: 1 });
        type_text(&mut app, "now tell");
        later(&mut app, 50);
        app.handle_event(shell_request(
            "c1",
            "rm -rf build",
            Some("always allow: rm -rf build"),
        ));
        // The user goes on typing " me" and "ne" (a deny and an edit key) in one burst.
        for c in " me ne".chars() {
            later(&mut app, 120);
            assert!(app.handle_key(key(KeyCode::Char(c))).is_empty(), "{c}");
        }
        assert_eq!(app.composer.text(), "now tell me ne");
        assert!(app.approval().is_some_and(|a| !a.is_editing()));
        app.handle_paste("pasted");
        assert_eq!(app.composer.text(), "now tell me nepasted");
        // After a pause the overlay answers.
        later(&mut app, 600);
        assert_eq!(
            app.handle_key(key(KeyCode::Char('n'))),
            [Action::Send(Op::Approval {
                call_id: "c1".into(),
                decision: ApprovalDecision::Deny
            })]
        );
        assert_eq!(app.composer.text(), "now tell me nepasted");
    }

    #[test]
    fn an_edited_command_is_shown_as_what_ran() {
        let mut app = app();
        app.handle_event(Event::ToolCallBegin {
            call_id: "c1".into(),
            name: "shell".into(),
            arguments: serde_json::json!({"command": "ls"}),
        });
        app.handle_event(shell_request("c1", "ls", None));
        later(&mut app, 500);
        app.handle_key(key(KeyCode::Char('e')));
        app.handle_key(key(KeyCode::Backspace));
        app.handle_key(key(KeyCode::Backspace));
        type_text(&mut app, "echo REPLACED");
        assert_eq!(
            app.handle_key(key(KeyCode::Enter)),
            [Action::Send(Op::Approval {
                call_id: "c1".into(),
                decision: ApprovalDecision::ApproveEdited {
                    command: "echo REPLACED".into()
                }
            })]
        );
        let [CellKind::Tool(tool)] = &kinds(&app)[..] else {
            panic!("one tool cell expected");
        };
        assert_eq!(tool.key_argument, "echo REPLACED (edited)");
    }

    #[test]
    fn permissions_command_lists_and_revokes() {
        let mut app = app();
        let cases = [
            ("/permissions", vec![Action::Send(Op::ShowPermissions)]),
            (
                "/permissions revoke cargo test *",
                vec![Action::Send(Op::RevokeRule {
                    rule: "cargo test *".into(),
                })],
            ),
            (
                "/permissions revoke edits",
                vec![Action::Send(Op::RevokeSessionEdits)],
            ),
            ("/permissions bogus", vec![]),
        ];
        for (text, expected) in cases {
            app.composer.set_text(text);
            app.popup_dismissed = Some(text.to_string());
            assert_eq!(app.handle_key(key(KeyCode::Enter)), expected, "{text}");
        }
        app.handle_event(Event::Permissions {
            mode: Mode::Ask,
            rules: vec!["cargo test *".into()],
            session_edits: true,
        });
        assert!(matches!(
            kinds(&app).last(),
            Some(CellKind::Notice { text, .. })
                if text.contains("`cargo test *`") && text.contains("revoke edits")
        ));
    }

    #[test]
    fn model_switches_to_a_file_and_follows_the_agent() {
        let mut app = app();
        let model = tempfile::NamedTempFile::new().unwrap();
        type_text(&mut app, &format!("/model {}", model.path().display()));
        assert_eq!(
            app.handle_key(key(KeyCode::Enter)),
            [Action::Send(Op::SwitchModel {
                path: model.path().to_path_buf()
            })]
        );
        app.handle_event(Event::ModelChanged {
            model: "tiny-b".into(),
            context_size: 4096,
        });
        assert_eq!(app.model_path, model.path());
        assert_eq!(app.status.model_line, "tiny-b");
        assert_eq!(app.status.context_size, 4096);
        type_text(&mut app, "/model 7");
        assert!(app.handle_key(key(KeyCode::Enter)).is_empty());
        assert!(matches!(
            kinds(&app).last(),
            Some(CellKind::Notice { text, .. }) if text.contains("no model is listed yet")
        ));
    }

    #[test]
    fn esc_interrupts_a_running_turn() {
        let mut app = app();
        app.handle_event(Event::TurnStarted { turn: 1 });
        assert_eq!(
            app.handle_key(key(KeyCode::Esc)),
            [Action::Send(Op::Interrupt)]
        );
        app.handle_event(Event::TurnComplete {
            reason: TurnEnd::Interrupted,
            final_text: String::new(),
        });
        assert!(
            app.handle_key(key(KeyCode::Esc)).is_empty(),
            "idle esc sends nothing"
        );
    }

    #[test]
    fn mode_and_enter_runs_mode_not_model() {
        let mut app = app();
        type_text(&mut app, "/mode");
        assert_eq!(app.popup().map(|p| p.1), Some(0));
        app.handle_key(key(KeyCode::Enter));
        assert!(matches!(
            kinds(&app).last(),
            Some(CellKind::Notice { text, .. }) if text.starts_with("Permission mode")
        ));
    }

    #[test]
    fn think_says_what_it_did() {
        let mut app = app();
        app.composer.set_text("/think");
        app.popup_dismissed = Some("/think".into());
        app.handle_key(key(KeyCode::Enter));
        assert!(matches!(
            kinds(&app).last(),
            Some(CellKind::Notice { text, .. }) if text.starts_with("Thinking is shown")
        ));
    }

    #[test]
    fn ctrl_c_during_approval_denies_and_interrupts() {
        let mut app = app();
        app.handle_event(Event::TurnStarted { turn: 1 });
        app.handle_event(Event::ApprovalRequest {
            call_id: "c9".into(),
            name: "edit".into(),
            preview: "--- a\n+++ b\n".into(),
            editable_command: false,
            always: None,
        });
        assert_eq!(
            app.handle_key(ctrl('c')),
            [
                Action::Send(Op::Approval {
                    call_id: "c9".into(),
                    decision: ApprovalDecision::Deny
                }),
                Action::Send(Op::Interrupt)
            ]
        );
    }

    #[test]
    fn thinking_then_text_collapses_thinking() {
        let mut app = app();
        app.handle_event(Event::TurnStarted { turn: 1 });
        app.handle_event(Event::ThinkingDelta {
            delta: "hmm".into(),
        });
        app.handle_event(Event::ThinkingDelta {
            delta: " ok".into(),
        });
        app.handle_event(Event::TextDelta { delta: "Hi".into() });
        app.handle_event(Event::TextDelta { delta: "!".into() });
        assert_eq!(
            kinds(&app),
            [
                CellKind::Thinking {
                    text: "hmm ok".into(),
                    streaming: false
                },
                CellKind::Assistant {
                    text: "Hi!".into(),
                    streaming: true
                }
            ]
        );
        app.handle_event(Event::TurnComplete {
            reason: TurnEnd::Completed,
            final_text: "Hi!".into(),
        });
        assert_eq!(
            app.transcript.cells().len(),
            2,
            "final text is not repeated"
        );
    }

    #[test]
    fn final_text_shown_when_nothing_was_streamed() {
        let mut app = app();
        app.handle_event(Event::TurnStarted { turn: 1 });
        app.handle_event(Event::TurnComplete {
            reason: TurnEnd::Completed,
            final_text: "Done.".into(),
        });
        assert_eq!(
            kinds(&app),
            [CellKind::Assistant {
                text: "Done.".into(),
                streaming: false
            }]
        );
    }

    #[test]
    fn tool_end_updates_its_cell() {
        let mut app = app();
        app.handle_event(Event::ToolCallBegin {
            call_id: "t1".into(),
            name: "edit".into(),
            arguments: serde_json::json!({"path": "a.rs"}),
        });
        app.handle_event(Event::ToolCallEnd {
            call_id: "t1".into(),
            name: "edit".into(),
            summary: "1 change".into(),
            outcome: crate::protocol::ToolOutcome::Ok,
            diff: Some("--- a/a.rs\n+++ b/a.rs\n@@ -1 +1 @@\n-a\n+b\n".into()),
            output: "ok".into(),
            duration_ms: 5,
        });
        let [CellKind::Tool(tool)] = &kinds(&app)[..] else {
            panic!("one tool cell expected");
        };
        assert_eq!(tool.key_argument, "a.rs");
        assert_eq!(
            tool.status,
            ToolStatus::Done {
                is_error: false,
                duration_ms: 5
            }
        );
    }

    #[test]
    fn diff_asks_the_agent_and_shows_what_it_reports() {
        let mut app = app();
        type_text(&mut app, "/diff");
        assert_eq!(
            app.handle_key(key(KeyCode::Enter)),
            vec![Action::Send(Op::Diff)]
        );
        app.handle_event(Event::SessionDiff { diffs: vec![] });
        assert!(matches!(
            kinds(&app).last(),
            Some(CellKind::Notice { text, .. }) if text.contains("No file changes")
        ));
        app.handle_event(Event::SessionDiff {
            diffs: vec!["--- a/a.rs\n+++ b/a.rs\n@@ -1 +1 @@\n-a\n+b\n".into()],
        });
        assert!(matches!(
            kinds(&app).last(),
            Some(CellKind::Diffs { diffs, title }) if diffs.len() == 1 && title.contains("1 file")
        ));
    }

    #[test]
    fn undo_says_the_model_is_told_and_then_that_it_was() {
        let mut app = app();
        app.handle_event(Event::Undone {
            files: vec!["made.txt".into()],
        });
        assert!(matches!(
            kinds(&app).last(),
            Some(CellKind::Notice { text, .. })
                if text.contains("`made.txt`") && text.contains("told with your next message")
        ));
        app.handle_event(Event::UndoNoteSent {
            files: vec!["made.txt".into()],
        });
        assert!(matches!(
            kinds(&app).last(),
            Some(CellKind::Notice { text, .. }) if text.contains("note that /undo restored 1 file")
        ));
    }

    #[test]
    fn a_message_typed_during_a_turn_steers_it_and_shows_where_the_model_read_it() {
        let mut app = app();
        app.handle_event(Event::TurnStarted { turn: 1 });
        type_text(&mut app, "also the tests");
        assert_eq!(
            app.handle_key(key(KeyCode::Enter)),
            [Action::Send(Op::Steer {
                text: "also the tests".into(),
                attachments: vec![]
            })]
        );
        assert_eq!(app.steering().len(), 1);
        assert!(app.queued().is_empty());
        assert!(
            app.status
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("next step"))
        );
        // Not in the transcript until the model reads it.
        assert!(
            !kinds(&app)
                .iter()
                .any(|k| matches!(k, CellKind::User { .. } | CellKind::Steering { .. }))
        );
        app.handle_event(Event::TextDelta {
            delta: "Looking.".into(),
        });
        app.handle_event(Event::SteerApplied {
            text: "also the tests".into(),
        });
        assert_eq!(
            kinds(&app).last(),
            Some(&CellKind::Steering {
                text: "also the tests".into()
            })
        );
        assert!(app.steering().is_empty());
        assert_eq!(app.status.hint, None);
        assert!(app.transcript_text(80).contains("↳ sent during the turn"));
        // What the model says next is a cell of its own, after the message.
        app.handle_event(Event::TextDelta {
            delta: "Tests too.".into(),
        });
        assert!(matches!(
            kinds(&app).last(),
            Some(CellKind::Assistant { text, .. }) if text == "Tests too."
        ));
        let actions = app.handle_event(Event::TurnComplete {
            reason: TurnEnd::Completed,
            final_text: "Tests too.".into(),
        });
        assert!(actions.is_empty());
        assert!(!app.is_busy());
    }

    #[test]
    fn a_message_the_turn_ended_before_reading_is_the_next_turn_not_sent_again() {
        let mut app = app();
        app.handle_event(Event::TurnStarted { turn: 1 });
        type_text(&mut app, "next");
        assert_eq!(app.handle_key(key(KeyCode::Enter)).len(), 1);
        let actions = app.handle_event(Event::TurnComplete {
            reason: TurnEnd::Completed,
            final_text: String::new(),
        });
        assert!(actions.is_empty(), "the agent has it already: {actions:?}");
        assert!(app.is_busy());
        assert!(app.steering().is_empty());
        assert_eq!(
            kinds(&app).last(),
            Some(&CellKind::User {
                text: "next".into()
            })
        );
        app.handle_event(Event::TurnStarted { turn: 2 });
        app.handle_event(Event::TurnComplete {
            reason: TurnEnd::Completed,
            final_text: "ok".into(),
        });
        assert!(!app.is_busy());
    }

    #[test]
    fn an_interrupt_keeps_a_steering_message_for_the_next_turn() {
        let mut app = app();
        app.handle_event(Event::TurnStarted { turn: 1 });
        type_text(&mut app, "actually, stop and list the tests");
        app.handle_key(key(KeyCode::Enter));
        assert_eq!(app.handle_key(ctrl('c')), [Action::Send(Op::Interrupt)]);
        assert_eq!(app.steering().len(), 1);
        let actions = app.handle_event(Event::TurnComplete {
            reason: TurnEnd::Interrupted,
            final_text: String::new(),
        });
        assert!(actions.is_empty());
        assert!(app.is_busy());
        assert_eq!(
            kinds(&app).last(),
            Some(&CellKind::User {
                text: "actually, stop and list the tests".into()
            })
        );
    }

    #[test]
    fn commands_typed_during_a_turn_are_still_queued() {
        let mut app = app();
        app.set_custom_commands(
            vec![CustomCommand {
                name: "review".into(),
                description: "review".into(),
                body: "Review $ARGUMENTS".into(),
                source: PathBuf::from("review.md"),
            }],
            Vec::new(),
        );
        app.handle_event(Event::TurnStarted { turn: 1 });
        type_text(&mut app, "/review src");
        assert!(app.handle_key(key(KeyCode::Enter)).is_empty());
        assert!(app.steering().is_empty());
        assert_eq!(
            app.queued().len(),
            1,
            "a custom command expands into a queued message"
        );
        let actions = app.handle_event(Event::TurnComplete {
            reason: TurnEnd::Completed,
            final_text: String::new(),
        });
        assert!(matches!(
            actions.as_slice(),
            [Action::Send(Op::UserTurn { text, .. })] if text.starts_with("Review")
        ));
    }

    #[test]
    fn messages_typed_while_compacting_are_queued() {
        let mut app = app();
        type_text(&mut app, "/compact");
        app.handle_key(key(KeyCode::Enter));
        assert!(app.is_busy());
        type_text(&mut app, "next");
        assert!(app.handle_key(key(KeyCode::Enter)).is_empty());
        assert_eq!(app.queued().len(), 1);
        assert!(app.steering().is_empty());
        let actions = app.handle_event(Event::Compacted {
            tokens_before: 10,
            tokens_after: 5,
        });
        assert_eq!(
            actions,
            [Action::Send(Op::UserTurn {
                text: "next".into(),
                attachments: vec![]
            })]
        );
    }

    #[test]
    fn slash_commands_map_to_ops() {
        let cases = [
            ("/clear", vec![Action::Send(Op::Clear)]),
            ("/undo", vec![Action::Send(Op::Undo)]),
            (
                "/compact keep tests",
                vec![Action::Send(Op::Compact {
                    hint: Some("keep tests".into()),
                })],
            ),
            (
                "/mode auto-edit",
                vec![Action::Send(Op::SetMode {
                    mode: Mode::AutoEdit,
                })],
            ),
            ("/mode bogus", vec![]),
            ("/quit", vec![Action::Quit]),
        ];
        for (text, expected) in cases {
            let mut app = app();
            app.composer.set_text(text);
            app.popup_dismissed = Some(text.to_string());
            assert_eq!(app.handle_key(key(KeyCode::Enter)), expected, "{text}");
        }
    }

    #[test]
    fn command_popup_selects_with_arrows_and_runs_on_enter() {
        let mut app = app();
        type_text(&mut app, "/c");
        let (popup, selected) = app.popup().expect("popup open");
        assert_eq!(popup, PopupKind::Commands { prefix: "c".into() });
        assert_eq!(selected, 0);
        app.handle_key(key(KeyCode::Down));
        app.handle_key(key(KeyCode::Down));
        assert_eq!(app.popup().map(|p| p.1), Some(2));
        app.handle_key(key(KeyCode::Tab));
        assert_eq!(app.composer.text(), "/context");
        app.composer.set_text("/cl");
        assert_eq!(
            app.handle_key(key(KeyCode::Enter)),
            [Action::Send(Op::Clear)]
        );
    }

    #[test]
    fn esc_closes_the_popup_until_the_text_changes() {
        let mut app = app();
        type_text(&mut app, "/");
        assert!(app.popup().is_some());
        app.handle_key(key(KeyCode::Esc));
        assert!(app.popup().is_none());
        type_text(&mut app, "h");
        assert!(app.popup().is_some());
    }

    #[test]
    fn file_picker_completes_the_mention() {
        let mut app = app();
        app.set_files(vec!["src/main.rs".into(), "src/tui/app.rs".into()]);
        type_text(&mut app, "look at @tuiapp");
        assert!(matches!(app.popup(), Some((PopupKind::Files { .. }, 0))));
        app.handle_key(key(KeyCode::Enter));
        assert_eq!(app.composer.text(), "look at @src/tui/app.rs ");
        assert!(app.popup().is_none());
    }

    #[test]
    fn history_with_up_and_down() {
        let mut app = app();
        for text in ["/help", "/model"] {
            app.composer.set_text(text);
            app.popup_dismissed = Some(text.to_string());
            app.handle_key(key(KeyCode::Enter));
        }
        app.handle_key(key(KeyCode::Up));
        assert_eq!(app.composer.text(), "/model");
        assert!(app.popup().is_none(), "a recalled command opens no popup");
        app.handle_key(key(KeyCode::Up));
        assert_eq!(app.composer.text(), "/help");
        app.handle_key(key(KeyCode::Down));
        assert_eq!(app.composer.text(), "/model");
    }

    #[test]
    fn shell_commands_run_and_report() {
        let mut app = app();
        type_text(&mut app, "!echo hi");
        let actions = app.handle_key(key(KeyCode::Enter));
        assert_eq!(
            actions,
            [Action::RunShell {
                id: 0,
                command: "echo hi".into()
            }]
        );
        app.shell_finished(0, "echo hi", "hi\n".into(), Some(0));
        assert!(kinds(&app).iter().any(|kind| matches!(
            kind,
            CellKind::Shell { output: Some(out), exit_code: Some(0), .. } if out == "hi\n"
        )));
        assert!(matches!(
            kinds(&app).last(),
            Some(CellKind::Notice { text, .. }) if text.contains("go to the model")
        ));
    }

    #[test]
    fn shell_output_goes_to_the_model_with_the_next_message_once() {
        let mut app = app();
        type_text(&mut app, "!cargo test");
        app.handle_key(key(KeyCode::Enter));
        app.shell_finished(0, "cargo test", "1 failed\n".into(), Some(101));
        type_text(&mut app, "fix it");
        let actions = app.handle_key(key(KeyCode::Enter));
        let shell = Attachment {
            label: "shell".into(),
            content: "$ cargo test\n1 failed\n[exit code: 101]".into(),
        };
        assert_eq!(
            actions,
            [Action::Send(Op::UserTurn {
                text: "fix it".into(),
                attachments: vec![shell]
            })]
        );
        app.handle_event(Event::TurnComplete {
            reason: TurnEnd::Completed,
            final_text: String::new(),
        });
        type_text(&mut app, "thanks");
        assert_eq!(
            app.handle_key(key(KeyCode::Enter)),
            [Action::Send(Op::UserTurn {
                text: "thanks".into(),
                attachments: vec![]
            })]
        );
    }

    #[test]
    fn a_custom_command_sends_its_text_with_the_arguments() {
        let mut app = app();
        app.set_custom_commands(
            vec![CustomCommand {
                name: "review-pr".into(),
                description: "Review a pull request".into(),
                body: "Review PR $ARGUMENTS for bugs.".into(),
                source: PathBuf::from(".gem/commands/review-pr.md"),
            }],
            vec!["x.md: the command has no text".into()],
        );
        assert!(matches!(
            kinds(&app).last(),
            Some(CellKind::Notice { text, .. }) if text.contains("x.md")
        ));
        type_text(&mut app, "/rev");
        assert_eq!(
            app.popup(),
            Some((
                PopupKind::Commands {
                    prefix: "rev".into()
                },
                0
            ))
        );
        app.composer.set_text("/review-pr 42");
        assert_eq!(
            app.handle_key(key(KeyCode::Enter)),
            [Action::Send(Op::UserTurn {
                text: "Review PR 42 for bugs.".into(),
                attachments: vec![]
            })]
        );
        type_text(&mut app, "/nope");
        app.composer.set_text("/nope");
        app.handle_event(Event::TurnComplete {
            reason: TurnEnd::Completed,
            final_text: String::new(),
        });
        app.handle_key(key(KeyCode::Enter));
        assert!(matches!(
            kinds(&app).last(),
            Some(CellKind::Notice { text, .. }) if text.contains("/review-pr")
        ));
    }

    #[test]
    fn ctrl_g_hands_the_message_to_the_editor_and_takes_back_what_it_saved() {
        let mut app = app();
        type_text(&mut app, "draft");
        assert_eq!(
            app.handle_key(ctrl('g')),
            [Action::EditMessage {
                text: "draft".into()
            }]
        );
        app.editor_finished(Ok("draft, finished\nin two lines".into()));
        assert_eq!(app.composer.text(), "draft, finished\nin two lines");
        app.editor_finished(Err(
            "`false` ended with exit status: 1; the message is unchanged".into(),
        ));
        assert_eq!(app.composer.text(), "draft, finished\nin two lines");
        assert!(matches!(
            kinds(&app).last(),
            Some(CellKind::Notice { text, .. }) if text.starts_with("Editor: ")
        ));
    }

    #[test]
    fn compact_typed_during_a_turn_runs_when_it_ends() {
        let mut app = app();
        app.handle_event(Event::TurnStarted { turn: 1 });
        type_text(&mut app, "/compact keep the plan");
        assert!(app.handle_key(key(KeyCode::Enter)).is_empty());
        assert!(matches!(
            kinds(&app).last(),
            Some(CellKind::Notice { text, .. }) if text.contains("when the current turn ends")
        ));
        let actions = app.handle_event(Event::TurnComplete {
            reason: TurnEnd::Completed,
            final_text: String::new(),
        });
        assert_eq!(
            actions,
            [Action::Send(Op::Compact {
                hint: Some("keep the plan".into())
            })]
        );
    }

    #[test]
    fn scrolling_stops_following_and_end_resumes() {
        let mut app = app();
        app.resize(40, 12);
        for i in 0..30 {
            app.notice(NoticeLevel::Warning, format!("line {i}"));
        }
        assert!(app.transcript.scroll.is_following());
        app.handle_key(key(KeyCode::PageUp));
        assert!(!app.transcript.scroll.is_following());
        app.handle_event(Event::Warning {
            message: "more".into(),
        });
        assert!(
            !app.transcript.scroll.is_following(),
            "new output does not yank the view"
        );
        app.handle_key(key(KeyCode::End));
        assert!(app.transcript.scroll.is_following());
    }

    #[test]
    fn the_header_is_one_short_line_whatever_the_model_facts() {
        let mut app = app();
        app.handle_event(Event::SessionConfigured {
            session_id: "s1".into(),
            model: "Gemma 4 E4B it (gemma4, E4B, 7.5B params, Q4_K - Medium, context 131072 of \
                    131072 trained, vision/audio projector found)"
                .into(),
            mode: Mode::Ask,
            context_size: 131_072,
            context_tokens: 0,
        });
        let Some(CellKind::Notice { text, .. }) = kinds(&app).last().cloned() else {
            panic!("no header");
        };
        assert!(text.contains("gemma-4-E4B Q4_K_M"), "{text}");
        assert!(!text.contains('\n') && text.chars().count() < 100, "{text}");
    }

    #[test]
    fn token_usage_feeds_the_status_line() {
        let mut app = app();
        app.handle_event(Event::SessionConfigured {
            session_id: "s1".into(),
            model: "gemma-4-E4B-it".into(),
            mode: Mode::AutoEdit,
            context_size: 32_768,
            context_tokens: 20_000,
        });
        assert_eq!(
            app.status.context_used(),
            Some(20_000),
            "the packed repository counts before any message"
        );
        app.handle_event(Event::TokenUsage {
            usage: TokenUsage {
                prompt_tokens: 1000,
                reused_tokens: 900,
                prefilled_tokens: 100,
                generated_tokens: 50,
                prefill_ms: 10,
                generation_ms: 1000,
                context_size: 32_768,
            },
        });
        assert_eq!(app.status.mode, "auto-edit");
        assert_eq!(app.status.context_used(), Some(1050));
        assert_eq!(app.status.cache_hit_percent(), Some(90));
        app.handle_event(Event::Compacted {
            tokens_before: 1050,
            tokens_after: 400,
        });
        assert_eq!(app.status.context_used(), Some(400));
        app.handle_event(Event::Cleared {
            context_tokens: 300,
        });
        assert_eq!(app.status.context_used(), Some(300));
    }
}
