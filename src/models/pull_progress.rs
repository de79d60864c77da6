//! What a pull reports while it runs, and the sink trait that receives it. The binary turns the
//! events into a progress bar on stderr or JSON lines on stdout; the TUI into a gauge.

use std::path::PathBuf;

use serde::Serialize;

/// One thing that happened during a pull.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum PullEvent {
    /// The files are chosen and measured; nothing is transferred yet.
    #[serde(rename = "pull_plan")]
    Plan {
        /// `ORG/REPO`.
        repo: String,
        /// The commit the files come from.
        commit: String,
        /// Every file of the pull, the model's first.
        files: Vec<PlannedFile>,
        /// Bytes still to transfer (partial files already on disk count as done).
        download_bytes: u64,
    },
    /// A file's transfer starts (or resumes).
    #[serde(rename = "pull_file_start")]
    FileStart {
        /// The repository path of the file.
        file: String,
        /// Its size.
        bytes_total: u64,
        /// Bytes already on disk from an interrupted transfer.
        resumed_from: u64,
    },
    /// Bytes arrived (sent at most a few times a second per file).
    #[serde(rename = "pull_progress")]
    Progress {
        /// The repository path of the file.
        file: String,
        /// Bytes on disk now.
        bytes_done: u64,
        /// The file's size.
        bytes_total: u64,
    },
    /// A transfer broke and is being resumed from where it stopped.
    #[serde(rename = "pull_retry")]
    Retry {
        /// The repository path of the file.
        file: String,
        /// 1 for the first retry.
        attempt: u32,
        /// Why the previous attempt failed.
        reason: String,
    },
    /// The file is complete, verified and in place.
    #[serde(rename = "pull_file_done")]
    FileDone {
        /// The repository path of the file.
        file: String,
        /// Where it is now (the snapshot path).
        path: PathBuf,
        /// Its size.
        bytes: u64,
        /// Whether it was already in the cache (nothing transferred).
        cached: bool,
    },
}

/// A file in a pull's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedFile {
    /// The repository path.
    pub file: String,
    /// Its size.
    pub bytes: u64,
    /// What it is: `model` or `mmproj`.
    pub role: &'static str,
    /// Whether it is complete in the cache already.
    pub cached: bool,
}

/// Receives a pull's events, in order, on the pulling thread.
pub trait PullProgress {
    /// One event.
    fn event(&mut self, event: &PullEvent);
}

impl<F: FnMut(&PullEvent)> PullProgress for F {
    fn event(&mut self, event: &PullEvent) {
        self(event)
    }
}
