//! A pull's progress for people: a bar per file on stderr (bytes, rate, ETA) when stderr is a
//! terminal, one line per step otherwise.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::pull_error::human_bytes;
use super::pull_progress::{PullEvent, PullProgress};
use super::pull_transfer::MAX_RETRIES;

/// Renders pull events on stderr.
pub struct StderrProgress {
    bar: Option<ProgressBar>,
    terminal: bool,
}

impl StderrProgress {
    /// A bar when stderr is a terminal, plain lines otherwise.
    pub fn new() -> Self {
        Self {
            bar: None,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// Prints a line without tearing the bar.
    fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}

impl Default for StderrProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl PullProgress for StderrProgress {
    fn event(&mut self, event: &PullEvent) {
        match event {
            PullEvent::Plan {
                repo,
                commit,
                files,
                download_bytes,
            } => {
                let short = commit.get(..12).unwrap_or(commit);
                self.say(&format!(
                    "gem: pulling {repo} ({short}): {} to fetch",
                    human_bytes(*download_bytes)
                ));
                for f in files {
                    let state = if f.cached { ", in the cache" } else { "" };
                    self.say(&format!(
                        "  {:<6} {} ({}{state})",
                        f.role,
                        f.file,
                        human_bytes(f.bytes)
                    ));
                }
            }
            PullEvent::FileStart {
                file,
                bytes_total,
                resumed_from,
            } => {
                if *resumed_from > 0 {
                    self.say(&format!(
                        "gem: resuming {file} at {} of {}",
                        human_bytes(*resumed_from),
                        human_bytes(*bytes_total)
                    ));
                } else if !self.terminal {
                    self.say(&format!(
                        "gem: fetching {file} ({})",
                        human_bytes(*bytes_total)
                    ));
                }
                if self.terminal {
                    let bar = ProgressBar::with_draw_target(
                        Some(*bytes_total),
                        ProgressDrawTarget::stderr(),
                    )
                    .with_position(*resumed_from)
                    .with_style(bar_style())
                    .with_message(file.rsplit('/').next().unwrap_or(file).to_string());
                    bar.reset_eta();
                    self.bar = Some(bar);
                }
            }
            PullEvent::Progress { bytes_done, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_position(*bytes_done);
                }
            }
            PullEvent::Retry {
                file,
                attempt,
                reason,
            } => self.say(&format!(
                "gem: {file}: {reason}; resuming (retry {attempt} of {MAX_RETRIES})"
            )),
            PullEvent::FileDone {
                file, path, cached, ..
            } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                let how = if *cached {
                    "already in the cache"
                } else {
                    "verified"
                };
                self.say(&format!("gem: {file} {how}: {}", path.display()));
            }
        }
    }
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{msg:.bold} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}
