//! The first-run screen: no Gemma 4 on this machine yet, so gem names the size it proposes for
//! this machine (and the rule that chose it), the download size and where the files go, and
//! pulls the model on one key press with a progress gauge. The TUI then starts on it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use crossterm::event::{self, Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Widget, Wrap};

use super::terminal::TerminalGuard;
use super::theme::{Role, Theme};
use crate::models::fit::{Proposal, human_bytes};
use crate::models::pull::{PullOptions, PulledModel, pull};
use crate::models::pull_error::PullError;
use crate::models::pull_progress::{PullEvent, PullProgress};
use crate::models::pull_spec::PullSpec;

/// How often the screen redraws while waiting for keys or progress.
const TICK: Duration = Duration::from_millis(100);

/// What the screen shows.
#[derive(Debug, Clone, PartialEq)]
enum Stage {
    /// The proposal, waiting for the user's answer.
    Proposing,
    /// The pull is running.
    Pulling,
    /// The pull failed (the message); the user may retry or quit.
    Failed(String),
}

/// What a key asks of the screen's loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstRunAction {
    /// Nothing to do.
    None,
    /// Start (or retry) the pull.
    StartPull,
    /// Leave without a model (a running pull is stopped; its partial file is kept).
    Quit,
}

/// The first-run screen's state.
#[derive(Debug, Clone)]
pub struct FirstRun {
    size_class: &'static str,
    alias: &'static str,
    repo: &'static str,
    reason: String,
    download_bytes: u64,
    destination: PathBuf,
    stage: Stage,
    /// Bytes on disk per file being pulled, and each file's size.
    files: BTreeMap<String, (u64, u64)>,
    /// The file transferring now.
    current: Option<String>,
}

impl FirstRun {
    /// The screen proposing `proposal`, whose files go to the hub cache `destination`.
    pub fn new(proposal: &Proposal, destination: PathBuf) -> Self {
        Self {
            size_class: proposal.alias.size_class,
            alias: proposal.alias.alias,
            repo: proposal.alias.repo,
            reason: proposal.reason.clone(),
            download_bytes: proposal.alias.approx_download_bytes,
            destination,
            stage: Stage::Proposing,
            files: BTreeMap::new(),
            current: None,
        }
    }

    /// The alias to pull (`e2b`, `e4b` …).
    pub fn alias(&self) -> &'static str {
        self.alias
    }

    /// Answers a key: Enter or `y` pulls, `q`, `n` or Esc leaves; while pulling, Esc or
    /// Ctrl-C stops; after a failure, Enter retries.
    pub fn handle_key(&mut self, key: KeyEvent) -> FirstRunAction {
        if key.kind == KeyEventKind::Release {
            return FirstRunAction::None;
        }
        let ctrl_c =
            key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c');
        match (&self.stage, key.code) {
            (_, _) if ctrl_c => FirstRunAction::Quit,
            (Stage::Proposing | Stage::Failed(_), KeyCode::Enter | KeyCode::Char('y')) => {
                self.stage = Stage::Pulling;
                FirstRunAction::StartPull
            }
            (_, KeyCode::Esc) => FirstRunAction::Quit,
            (Stage::Proposing | Stage::Failed(_), KeyCode::Char('q' | 'n')) => FirstRunAction::Quit,
            _ => FirstRunAction::None,
        }
    }

    /// Takes in one event of the running pull.
    pub fn progress(&mut self, event: &PullEvent) {
        match event {
            PullEvent::Plan {
                files,
                download_bytes,
                ..
            } => {
                self.download_bytes = *download_bytes;
                self.files = files
                    .iter()
                    .filter(|f| !f.cached)
                    .map(|f| (f.file.clone(), (0, f.bytes)))
                    .collect();
            }
            PullEvent::FileStart {
                file,
                bytes_total,
                resumed_from,
            } => {
                self.files
                    .insert(file.clone(), (*resumed_from, *bytes_total));
                self.current = Some(file.clone());
            }
            PullEvent::Progress {
                file,
                bytes_done,
                bytes_total,
            } => {
                self.files.insert(file.clone(), (*bytes_done, *bytes_total));
            }
            PullEvent::FileDone { file, bytes, .. } => {
                self.files.insert(file.clone(), (*bytes, *bytes));
            }
            PullEvent::Retry { .. } => {}
        }
    }

    /// Shows that the pull failed.
    pub fn failed(&mut self, message: String) {
        self.stage = Stage::Failed(message);
    }

    /// Bytes on disk and bytes in all of the pull's files.
    fn bytes(&self) -> (u64, u64) {
        self.files
            .values()
            .fold((0, 0), |(done, total), (d, t)| (done + d, total + t))
    }

    /// Draws the screen into `area`.
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style(Role::Border))
            .title(Span::styled(" gem · first run ", theme.style(Role::Accent)));
        let inner = block.inner(area);
        block.render(area, buf);
        let text = theme.style(Role::Text);
        let dim = theme.style(Role::Dim);
        let accent = theme.style(Role::Accent);
        let mut lines = vec![
            Line::styled("No Gemma 4 model is on this machine yet.", text),
            Line::default(),
            Line::from(vec![
                Span::styled("Proposed: ", dim),
                Span::styled(format!("Gemma 4 {}", self.size_class), accent),
                Span::styled(format!(" ({})", self.repo), dim),
            ]),
            Line::styled(format!("Why: {}", self.reason), text),
            Line::styled(
                format!("Download: about {}", human_bytes(self.download_bytes)),
                text,
            ),
            Line::styled(format!("Into: {}", self.destination.display()), text),
            Line::styled(
                "(the Hugging Face cache: other tools find the files there too)",
                dim,
            ),
            Line::default(),
        ];
        match &self.stage {
            Stage::Proposing => {
                lines.push(Line::from(vec![
                    Span::styled("enter", accent),
                    Span::styled(" download and start   ", text),
                    Span::styled("q", accent),
                    Span::styled(" quit", text),
                ]));
                lines.push(Line::styled(
                    format!(
                        "Or later: gem pull {} · gem --model PATH for a GGUF you have",
                        self.alias
                    ),
                    dim,
                ));
            }
            Stage::Pulling => {
                let file = self.current.as_deref().unwrap_or("asking the hub…");
                lines.push(Line::styled(format!("Downloading {file}"), text));
                lines.push(Line::styled(
                    "esc stops (the partial file is kept; the next pull resumes it)",
                    dim,
                ));
            }
            Stage::Failed(message) => {
                lines.push(Line::styled(
                    format!("The download failed: {message}"),
                    theme.style(Role::Error),
                ));
                lines.push(Line::from(vec![
                    Span::styled("enter", accent),
                    Span::styled(" retry   ", text),
                    Span::styled("q", accent),
                    Span::styled(" quit", text),
                ]));
            }
        }
        let text_height = inner.height.saturating_sub(2);
        Paragraph::new(lines).wrap(Wrap { trim: false }).render(
            Rect {
                height: text_height,
                ..inner
            },
            buf,
        );
        if self.stage == Stage::Pulling && inner.height >= 2 {
            let (done, total) = self.bytes();
            let ratio = if total == 0 {
                0.0
            } else {
                (done as f64 / total as f64).clamp(0.0, 1.0)
            };
            Gauge::default()
                .gauge_style(accent)
                .ratio(ratio)
                .label(format!(
                    "{} of {} ({:.0}%)",
                    human_bytes(done),
                    human_bytes(total),
                    ratio * 100.0
                ))
                .render(
                    Rect {
                        y: inner.y + inner.height - 1,
                        height: 1,
                        ..inner
                    },
                    buf,
                );
        }
    }
}

/// Sends a pull's events to the screen's thread.
struct ChannelProgress(Sender<Message>);

impl PullProgress for ChannelProgress {
    fn event(&mut self, event: &PullEvent) {
        let _ = self.0.send(Message::Progress(event.clone()));
    }
}

/// What the pulling thread reports.
enum Message {
    Progress(PullEvent),
    Done(Result<PulledModel, PullError>),
}

/// Shows the first-run screen for `proposal` until the model is pulled (its path) or the user
/// leaves (`None`).
pub fn run_first_run(proposal: &Proposal, theme: &Theme) -> anyhow::Result<Option<PathBuf>> {
    let options = PullOptions::from_env()?;
    let mut screen = FirstRun::new(proposal, options.hub.cache_dir.clone());
    let spec = PullSpec::parse(screen.alias())?;
    let cancel: Arc<AtomicBool> = options.cancel.clone();
    let (tx, rx): (Sender<Message>, Receiver<Message>) = mpsc::channel();
    let mut guard = TerminalGuard::enter()?;
    loop {
        guard
            .terminal
            .draw(|frame| screen.render(frame.area(), frame.buffer_mut(), theme))?;
        while let Ok(message) = rx.try_recv() {
            match message {
                Message::Progress(event) => screen.progress(&event),
                Message::Done(Ok(pulled)) => return Ok(Some(pulled.model)),
                Message::Done(Err(PullError::Interrupted { .. })) => return Ok(None),
                Message::Done(Err(e)) => screen.failed(e.to_string()),
            }
        }
        if !event::poll(TICK)? {
            continue;
        }
        let TermEvent::Key(key) = event::read()? else {
            continue;
        };
        match screen.handle_key(key) {
            FirstRunAction::None => {}
            FirstRunAction::StartPull => {
                let (spec, options, tx) = (spec.clone(), options.clone(), tx.clone());
                std::thread::spawn(move || {
                    let result = pull(&spec, &options, &mut ChannelProgress(tx.clone()));
                    let _ = tx.send(Message::Done(result));
                });
            }
            FirstRunAction::Quit => {
                cancel.store(true, Ordering::SeqCst);
                return Ok(None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::aliases;
    use crate::models::pull_progress::PlannedFile;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn screen() -> FirstRun {
        let proposal = Proposal {
            alias: aliases::find("e4b").unwrap(),
            reason: "16.0 GiB of RAM (≥ 11 GiB: E4B)".into(),
        };
        FirstRun::new(&proposal, PathBuf::from("/home/u/.cache/huggingface/hub"))
    }

    fn draw(screen: &FirstRun) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(80, 16)).unwrap();
        terminal
            .draw(|frame| screen.render(frame.area(), frame.buffer_mut(), &Theme::dark()))
            .unwrap();
        terminal
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn proposal_names_the_model_size_and_destination() {
        insta::assert_snapshot!("first_run_proposal", draw(&screen()).backend());
    }

    #[test]
    fn enter_pulls_and_the_gauge_follows_the_progress() {
        let mut screen = screen();
        assert_eq!(
            screen.handle_key(key(KeyCode::Enter)),
            FirstRunAction::StartPull
        );
        screen.progress(&PullEvent::Plan {
            repo: "ggml-org/gemma-4-E4B-it-GGUF".into(),
            commit: "abc".into(),
            files: vec![PlannedFile {
                file: "gemma-4-E4B-it-Q4_K_M.gguf".into(),
                bytes: 4_000_000_000,
                role: "model",
                cached: false,
            }],
            download_bytes: 4_000_000_000,
        });
        screen.progress(&PullEvent::FileStart {
            file: "gemma-4-E4B-it-Q4_K_M.gguf".into(),
            bytes_total: 4_000_000_000,
            resumed_from: 0,
        });
        screen.progress(&PullEvent::Progress {
            file: "gemma-4-E4B-it-Q4_K_M.gguf".into(),
            bytes_done: 1_000_000_000,
            bytes_total: 4_000_000_000,
        });
        assert_eq!(screen.bytes(), (1_000_000_000, 4_000_000_000));
        insta::assert_snapshot!("first_run_pulling", draw(&screen).backend());
        assert_eq!(
            screen.handle_key(key(KeyCode::Char('q'))),
            FirstRunAction::None
        );
        assert_eq!(screen.handle_key(key(KeyCode::Esc)), FirstRunAction::Quit);
    }

    #[test]
    fn a_failure_offers_a_retry() {
        let mut screen = screen();
        screen.handle_key(key(KeyCode::Char('y')));
        screen.failed("the hub cannot be reached".into());
        let text = format!("{}", draw(&screen).backend());
        assert!(
            text.contains("The download failed: the hub cannot be reached"),
            "{text}"
        );
        assert_eq!(
            screen.handle_key(key(KeyCode::Enter)),
            FirstRunAction::StartPull
        );
    }

    #[test]
    fn q_leaves_without_pulling() {
        assert_eq!(
            screen().handle_key(key(KeyCode::Char('q'))),
            FirstRunAction::Quit
        );
    }
}
