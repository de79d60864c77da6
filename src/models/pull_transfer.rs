//! One file's transfer into its partial file, resumed with a `Range` request wherever it
//! stopped (an earlier run, or a connection that broke a moment ago), and verified: the bytes
//! must number exactly the file's size and hash to its sha256 (the LFS ETag) before the caller
//! may give the file its final name. A failed check deletes the partial file — its bytes are
//! wrong, and resuming on them would only repeat the failure.
//!
//! hf-hub's own download does not serve here: its sync client appends whatever a `Range`
//! request returns (a server that ignores the range corrupts the file), checks no hash, and
//! reports progress without rates. This transfer uses the same `ureq` client family.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::pull_error::{PullError, human_bytes};
use super::pull_hub::{Hub, transport_error};
use super::pull_progress::{PullEvent, PullProgress};

/// Retries after a broken transfer (each resumes where the last stopped).
pub const MAX_RETRIES: u32 = 3;

/// Least time between two progress events of one file.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(200);

/// What to fetch and where.
pub struct TransferJob<'a> {
    /// The hub (agent, token).
    pub hub: &'a Hub,
    /// `ORG/REPO`, for error messages.
    pub repo: &'a str,
    /// The repository path of the file (for events and messages).
    pub file: &'a str,
    /// Where to fetch it.
    pub url: &'a str,
    /// Its size.
    pub size: u64,
    /// The sha256 it must hash to, lower-case hex, when the hub gives one.
    pub sha256: Option<&'a str>,
    /// The partial file (created or resumed).
    pub partial: &'a Path,
    /// Set by Ctrl-C: stop, keep the partial file.
    pub cancel: &'a AtomicBool,
}

/// How one attempt ended short of the whole file.
enum Stop {
    /// Worth another attempt from where it stopped.
    Retry(String),
    /// Ctrl-C.
    Cancelled,
    /// Final.
    Fatal(PullError),
}

/// The partial file and its running hash.
struct Partial {
    file: File,
    len: u64,
    hasher: Sha256,
}

impl Partial {
    /// Opens (or creates) the partial file and hashes what is already there.
    fn open(job: &TransferJob) -> Result<Self, Stop> {
        let io = |action, e| Stop::Fatal(PullError::io(action, job.partial, e));
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(job.partial)
            .map_err(|e| io("opening", e))?;
        let len = file.metadata().map_err(|e| io("reading", e))?.len();
        let mut partial = Self {
            file,
            len: 0,
            hasher: Sha256::new(),
        };
        if len > job.size {
            partial.restart().map_err(|e| io("truncating", e))?;
            return Ok(partial);
        }
        let mut buf = vec![0u8; 1 << 20];
        let mut hashed = 0;
        partial
            .file
            .seek(SeekFrom::Start(0))
            .map_err(|e| io("reading", e))?;
        while hashed < len {
            if job.cancel.load(Ordering::Relaxed) {
                return Err(Stop::Cancelled);
            }
            let n = partial.file.read(&mut buf).map_err(|e| io("reading", e))?;
            if n == 0 {
                break;
            }
            let n = n.min((len - hashed) as usize);
            partial.hasher.update(&buf[..n]);
            hashed += n as u64;
        }
        partial.len = hashed;
        partial
            .file
            .set_len(hashed)
            .map_err(|e| io("truncating", e))?;
        partial
            .file
            .seek(SeekFrom::Start(hashed))
            .map_err(|e| io("seeking", e))?;
        Ok(partial)
    }

    /// Empties the file: the next bytes are the file's first.
    fn restart(&mut self) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.len = 0;
        self.hasher = Sha256::new();
        Ok(())
    }

    fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.file.write_all(bytes)?;
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
        Ok(())
    }
}

/// Fetches `job`'s file into its partial file, resuming and retrying; on success the partial
/// file holds exactly the verified bytes and its sha256 is returned.
pub fn transfer(job: &TransferJob, progress: &mut dyn PullProgress) -> Result<String, PullError> {
    let interrupted = |len: u64| PullError::Interrupted {
        file: job.file.to_string(),
        done: human_bytes(len),
        total: human_bytes(job.size),
    };
    let mut partial = match Partial::open(job) {
        Ok(p) => p,
        Err(Stop::Cancelled) => return Err(interrupted(0)),
        Err(Stop::Fatal(e)) => return Err(e),
        Err(Stop::Retry(reason)) => {
            return Err(PullError::TransferFailed {
                file: job.file.to_string(),
                reason,
            });
        }
    };
    progress.event(&PullEvent::FileStart {
        file: job.file.to_string(),
        bytes_total: job.size,
        resumed_from: partial.len,
    });
    let mut retries = 0;
    while partial.len < job.size {
        match fetch_rest(job, &mut partial, progress) {
            Ok(()) => {}
            Err(Stop::Cancelled) => {
                let _ = partial.file.flush();
                return Err(interrupted(partial.len));
            }
            Err(Stop::Fatal(e)) => return Err(e),
            Err(Stop::Retry(reason)) => {
                retries += 1;
                if retries > MAX_RETRIES {
                    return Err(PullError::TransferFailed {
                        file: job.file.to_string(),
                        reason,
                    });
                }
                progress.event(&PullEvent::Retry {
                    file: job.file.to_string(),
                    attempt: retries,
                    reason,
                });
                if !pause(job.cancel, Duration::from_millis(500 << (retries - 1))) {
                    return Err(interrupted(partial.len));
                }
            }
        }
    }
    partial
        .file
        .sync_all()
        .map_err(|e| PullError::io("writing", job.partial, e))?;
    let actual = hex::encode(partial.hasher.finalize_reset());
    if let Some(expected) = job.sha256
        && actual != expected
    {
        drop(partial);
        let _ = std::fs::remove_file(job.partial);
        return Err(PullError::ChecksumMismatch {
            file: job.file.to_string(),
            expected: expected.to_string(),
            actual,
        });
    }
    Ok(actual)
}

/// One request for the bytes from `partial.len` on; returns when the body ends.
fn fetch_rest(
    job: &TransferJob,
    partial: &mut Partial,
    progress: &mut dyn PullProgress,
) -> Result<(), Stop> {
    let io = |action, e| Stop::Fatal(PullError::io(action, job.partial, e));
    let start = partial.len;
    let mut request = job.hub.agent().get(job.url);
    if let Some(auth) = job.hub.authorization() {
        request = request.header("Authorization", auth);
    }
    if start > 0 {
        request = request.header("Range", format!("bytes={start}-"));
    }
    let response =
        request
            .call()
            .map_err(|e| match transport_error(job.hub.config(), job.url, e) {
                PullError::Unreachable { reason, .. } => Stop::Retry(reason),
                other => Stop::Fatal(other),
            })?;
    let status = response.status().as_u16();
    match status {
        206 => {
            let range_start = response
                .headers()
                .get("content-range")
                .and_then(|v| v.to_str().ok())
                .and_then(content_range_start);
            if range_start != Some(start) {
                partial.restart().map_err(|e| io("truncating", e))?;
                return Err(Stop::Retry(format!(
                    "the server resumed at {range_start:?}, not at byte {start}; starting over"
                )));
            }
        }
        200 => {
            if start > 0 {
                // The server ignored the range and sends the whole file.
                partial.restart().map_err(|e| io("truncating", e))?;
            }
        }
        416 => {
            partial.restart().map_err(|e| io("truncating", e))?;
            return Err(Stop::Retry(
                "the server refused the resume point; starting over".into(),
            ));
        }
        408 | 429 | 500..=599 => return Err(Stop::Retry(format!("HTTP {status}"))),
        _ => {
            let code = response
                .headers()
                .get("x-error-code")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            return Err(Stop::Fatal(
                job.hub.refusal(job.repo, job.url, status, code),
            ));
        }
    }
    let mut body = response.into_body().into_reader();
    let mut buf = vec![0u8; 256 << 10];
    let mut last_event = Instant::now();
    loop {
        if job.cancel.load(Ordering::Relaxed) {
            return Err(Stop::Cancelled);
        }
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Stop::Retry(format!("the transfer broke: {e}"))),
        };
        if partial.len + n as u64 > job.size {
            partial.restart().map_err(|e| io("truncating", e))?;
            return Err(Stop::Fatal(PullError::Protocol {
                what: format!("more than the file's {} bytes", job.size),
                url: job.url.to_string(),
            }));
        }
        partial.append(&buf[..n]).map_err(|e| io("writing", e))?;
        if last_event.elapsed() >= PROGRESS_INTERVAL || partial.len == job.size {
            last_event = Instant::now();
            progress.event(&PullEvent::Progress {
                file: job.file.to_string(),
                bytes_done: partial.len,
                bytes_total: job.size,
            });
        }
    }
    if partial.len < job.size {
        return Err(Stop::Retry(format!(
            "the connection closed after {} of {}",
            human_bytes(partial.len),
            human_bytes(job.size)
        )));
    }
    Ok(())
}

/// The first byte of `Content-Range: bytes START-END/TOTAL`.
fn content_range_start(value: &str) -> Option<u64> {
    let range = value.trim().strip_prefix("bytes")?.trim_start();
    range.split_once('-')?.0.trim().parse().ok()
}

/// Sleeps `total`, waking early (false) when cancelled.
fn pause(cancel: &AtomicBool, total: Duration) -> bool {
    let deadline = Instant::now() + total;
    while Instant::now() < deadline {
        if cancel.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    !cancel.load(Ordering::Relaxed)
}

/// Whether `etag` is a sha256 (64 hex digits), as LFS file ETags are.
pub fn is_sha256(etag: &str) -> bool {
    etag.len() == 64 && etag.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_start_is_read() {
        assert_eq!(content_range_start("bytes 100-199/200"), Some(100));
        assert_eq!(content_range_start("bytes */200"), None);
        assert_eq!(content_range_start("items 1-2/3"), None);
    }

    #[test]
    fn sha256_etags_are_recognised() {
        assert!(is_sha256(&"a".repeat(64)));
        assert!(!is_sha256("abc"));
    }
}
