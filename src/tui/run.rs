//! The run loop: terminal setup, an input thread, agent events, and capped redraws.
//!
//! One channel merges terminal input (read on its own thread), agent events (forwarded from the
//! agent's receiver) and finished shell commands. The loop blocks on it, waking on a timer only
//! while a spinner animates or a coalesced redraw is due, so an idle TUI uses no CPU.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use crossterm::event::{self, Event as TermEvent};

use super::app::{Action, App};
use super::external_editor;
use super::files::{MAX_FILES, list_project_files};
use super::highlight::warm_up;
use super::input_gate::InputGate;
use super::render::render;
use super::status::SPINNER_FRAME;
use super::terminal::TerminalGuard;
use super::theme::Theme;
use crate::protocol::{Event, Op};

/// Shortest time between two frames (about 60 per second).
const FRAME_INTERVAL: Duration = Duration::from_millis(16);
/// How often the input thread checks whether the TUI has ended or lends the keyboard.
const INPUT_POLL: Duration = Duration::from_millis(250);
/// How long the input thread may take to stop reading before the editor starts.
const EDITOR_HANDOVER: Duration = Duration::from_secs(2);
/// Inputs handled between two frames at most, so a flood of deltas cannot starve drawing.
const MAX_BATCH: usize = 512;

/// How the TUI starts.
#[derive(Debug, Clone)]
pub struct TuiConfig {
    /// Colours (replaced by a monochrome theme when `no_color`).
    pub theme: Theme,
    /// The model, one line, e.g. `gemma-4-E4B Q4_K_M`.
    pub model_line: String,
    /// The model file (`/model` marks it in its list).
    pub model_path: PathBuf,
    /// The project directory (for `@` files and `!` commands).
    pub project_root: PathBuf,
    /// The permission mode at start.
    pub mode: crate::agent::Mode,
    /// `NO_COLOR` is set: no colours, only bold, dim and reverse.
    pub no_color: bool,
    /// What the repository packing put in the context (shown by `/context`).
    pub repo_summary: Option<String>,
    /// A resumed session's conversation, shown above the first prompt.
    pub history: Option<crate::gemma::Conversation>,
}

/// Everything the loop waits for.
enum Input {
    Terminal(TermEvent),
    Agent(Event),
    AgentGone,
    Files(Vec<String>),
    ShellDone {
        id: usize,
        command: String,
        output: String,
        exit_code: Option<i32>,
    },
}

/// Runs the TUI until the user quits; the agent runs on other threads behind `ops`/`events`.
pub fn run(config: TuiConfig, ops: Sender<Op>, events: Receiver<Event>) -> anyhow::Result<()> {
    let theme = if config.no_color {
        Theme::monochrome()
    } else {
        config.theme
    };
    let mut app = App::new(
        theme,
        config.model_line,
        config.project_root.clone(),
        config.mode,
    );
    app.repo_summary = config.repo_summary;
    app.model_path = config.model_path;
    if let Some(history) = &config.history {
        app.show_history(history);
    }
    let (commands, warnings) = super::custom_commands::load(
        &config.project_root,
        dirs::config_dir().as_deref(),
        &super::commands::builtin_names(),
    );
    app.set_custom_commands(commands, warnings);
    let (tx, rx) = mpsc::channel::<Input>();
    spawn_agent_forwarder(events, tx.clone());
    spawn_file_lister(config.project_root.clone(), tx.clone());
    thread::spawn(warm_up);
    let gate = Arc::new(InputGate::default());
    let mut guard = TerminalGuard::enter()?;
    spawn_input_reader(tx.clone(), Arc::clone(&gate));
    let size = guard.terminal.size()?;
    app.resize(size.width, size.height);
    let result = event_loop(
        &mut app,
        &mut guard,
        &rx,
        &tx,
        &ops,
        &config.project_root,
        &gate,
    );
    gate.stop();
    drop(guard);
    // The conversation stays in the terminal's scrollback, to read and copy after gem ends.
    let width = crossterm::terminal::size().map_or(100, |(width, _)| width);
    print!("{}", app.transcript_text(width));
    result
}

fn event_loop(
    app: &mut App,
    guard: &mut TerminalGuard,
    rx: &Receiver<Input>,
    tx: &Sender<Input>,
    ops: &Sender<Op>,
    root: &std::path::Path,
    gate: &InputGate,
) -> anyhow::Result<()> {
    let mut last_draw: Option<Instant> = None;
    let mut dirty = true;
    loop {
        let now = Instant::now();
        let due = last_draw.is_none_or(|at| now >= at + FRAME_INTERVAL);
        if dirty && due {
            app.tick(now);
            guard.terminal.draw(|frame| render(app, frame))?;
            last_draw = Some(now);
            dirty = false;
        }
        let since_draw = last_draw.map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
        let timeout = if dirty {
            Some(FRAME_INTERVAL.saturating_sub(since_draw))
        } else if app.is_animating() {
            Some(SPINNER_FRAME.saturating_sub(since_draw))
        } else {
            None
        };
        let first = match timeout {
            None => match rx.recv() {
                Ok(input) => input,
                Err(_) => return Ok(()),
            },
            Some(timeout) => match rx.recv_timeout(timeout) {
                Ok(input) => input,
                Err(RecvTimeoutError::Timeout) => {
                    dirty |= app.is_animating();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            },
        };
        app.tick(Instant::now());
        let mut next = Some(first);
        let mut handled = 0;
        while let Some(input) = next {
            let actions = dispatch(app, input);
            if perform(app, actions, tx, ops, root, guard, gate)? {
                return Ok(());
            }
            handled += 1;
            next = if handled < MAX_BATCH {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        dirty = true;
    }
}

/// Applies one input to the state.
fn dispatch(app: &mut App, input: Input) -> Vec<Action> {
    match input {
        Input::Terminal(TermEvent::Key(key)) => app.handle_key(key),
        Input::Terminal(TermEvent::Paste(text)) => {
            app.handle_paste(&text);
            Vec::new()
        }
        Input::Terminal(TermEvent::Mouse(mouse)) => {
            app.handle_mouse(mouse);
            Vec::new()
        }
        Input::Terminal(TermEvent::Resize(width, height)) => {
            app.resize(width, height);
            Vec::new()
        }
        Input::Terminal(_) => Vec::new(),
        Input::Agent(event) => app.handle_event(event),
        Input::AgentGone => {
            app.agent_gone();
            Vec::new()
        }
        Input::Files(files) => {
            app.set_files(files);
            Vec::new()
        }
        Input::ShellDone {
            id,
            command,
            output,
            exit_code,
        } => {
            app.shell_finished(id, &command, output, exit_code);
            Vec::new()
        }
    }
}

/// Carries out actions; true when the TUI must end.
fn perform(
    app: &mut App,
    actions: Vec<Action>,
    tx: &Sender<Input>,
    ops: &Sender<Op>,
    root: &std::path::Path,
    guard: &mut TerminalGuard,
    gate: &InputGate,
) -> anyhow::Result<bool> {
    for action in actions {
        match action {
            Action::Send(op) => {
                if ops.send(op).is_err() {
                    app.agent_gone();
                }
            }
            Action::RunShell { id, command } => {
                spawn_shell(id, command, root.to_path_buf(), tx.clone())
            }
            Action::EditMessage { text } => {
                if !gate.lend(EDITOR_HANDOVER) {
                    app.editor_finished(Err("the keyboard could not be handed over".into()));
                    continue;
                }
                let editor = external_editor::editor_command();
                let result = guard.suspended(|| external_editor::edit_with(&editor, &text));
                gate.give_back();
                // Taking the terminal back captures the mouse again.
                if app.in_select_mode() {
                    guard.capture_mouse(false)?;
                }
                app.editor_finished(result?);
            }
            Action::Copy { text } => {
                if let Err(e) = guard.copy_to_clipboard(&text) {
                    app.status.hint = Some(format!("copy failed: {e}"));
                }
            }
            Action::CaptureMouse(on) => guard.capture_mouse(on)?,
            Action::Quit => return Ok(true),
        }
    }
    Ok(false)
}

fn spawn_agent_forwarder(events: Receiver<Event>, tx: Sender<Input>) {
    thread::spawn(move || {
        for event in events {
            if tx.send(Input::Agent(event)).is_err() {
                return;
            }
        }
        let _ = tx.send(Input::AgentGone);
    });
}

fn spawn_file_lister(root: PathBuf, tx: Sender<Input>) {
    thread::spawn(move || {
        let _ = tx.send(Input::Files(list_project_files(&root, MAX_FILES)));
    });
}

fn spawn_input_reader(tx: Sender<Input>, gate: Arc<InputGate>) {
    thread::spawn(move || {
        while gate.wait_turn() {
            match event::poll(INPUT_POLL) {
                Ok(true) => match event::read() {
                    Ok(ev) => {
                        if tx.send(Input::Terminal(ev)).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                },
                Ok(false) => {}
                Err(_) => return,
            }
        }
    });
}

/// Runs the user's `!command` through the shell tool's runner (process group, timeout, capped
/// output) on a thread of its own.
fn spawn_shell(id: usize, command: String, root: PathBuf, tx: Sender<Input>) {
    thread::spawn(move || {
        let (output, exit_code) = crate::tools::run_user_command(&root, &command);
        let _ = tx.send(Input::ShellDone {
            id,
            command,
            output,
            exit_code,
        });
    });
}
