//! Everything `gem pull` can fail with, each worded so the user knows what to do next.

use std::path::PathBuf;

/// Why a pull failed. Every variant is an expected condition (network, hub, disk, user); none
/// is a bug, so the binary prints it and exits 1 (130 for [`PullError::Interrupted`]).
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The argument is neither an alias nor `ORG/REPO[:QUANT]`.
    #[error("`{spec}` is not a model to pull: give e2b, e4b, 26b, 31b or ORG/REPO[:QUANT]")]
    InvalidSpec {
        /// What the user typed.
        spec: String,
    },
    /// The hub could not be reached at all (offline, DNS, refused, timeout).
    #[error(
        "cannot reach the Hugging Face hub at {endpoint}: {reason} (offline? HF_ENDPOINT names a mirror)"
    )]
    Unreachable {
        /// The endpoint tried (`HF_ENDPOINT`, else https://huggingface.co).
        endpoint: String,
        /// The transport's own words.
        reason: String,
    },
    /// The repository does not exist (or is private and no token was given).
    #[error(
        "no model repository {repo} on {endpoint} (check the name; a private one needs HF_TOKEN)"
    )]
    RepoNotFound {
        /// `ORG/REPO`.
        repo: String,
        /// The hub asked.
        endpoint: String,
    },
    /// The repository is gated or private and the request carried no token.
    #[error(
        "{repo} is gated: accept its terms on its Hugging Face page, then set HF_TOKEN to a token of that account"
    )]
    GatedNoToken {
        /// `ORG/REPO`.
        repo: String,
    },
    /// A token was sent but the hub refused it for this repository.
    #[error(
        "the hub refused HF_TOKEN for {repo} (HTTP {status}): accept the repository's terms with that account, or use a token with read access"
    )]
    TokenRefused {
        /// `ORG/REPO`.
        repo: String,
        /// 401 or 403.
        status: u16,
    },
    /// The repository holds no GGUF model file (only projectors, or no GGUF at all).
    #[error("{repo} holds no GGUF model file (gem runs GGUF files only)")]
    NoGguf {
        /// `ORG/REPO`.
        repo: String,
    },
    /// `:QUANT` named a quantization the repository does not have.
    #[error("{repo} has no {quant} file; its GGUF models: {available}")]
    QuantNotFound {
        /// `ORG/REPO`.
        repo: String,
        /// What `:QUANT` asked for.
        quant: String,
        /// The model files there are, comma-separated.
        available: String,
    },
    /// A split GGUF is missing some of its parts in the repository.
    #[error("{repo}: the split model {file} lacks parts ({found} of {expected} present)")]
    IncompleteSplit {
        /// `ORG/REPO`.
        repo: String,
        /// The first part's name.
        file: String,
        /// Parts listed.
        found: usize,
        /// Parts the names promise.
        expected: usize,
    },
    /// The hub answered something other than the protocol promises.
    #[error("the hub answered {what} for {url}")]
    Protocol {
        /// What was wrong (status, missing header, bad JSON).
        what: String,
        /// The request's URL.
        url: String,
    },
    /// Not enough free disk for the files still to fetch (checked before the transfer).
    #[error(
        "not enough free disk in {dir}: the download needs {needed} more, {available} is free (free some space or point HF_HOME elsewhere)"
    )]
    NotEnoughDisk {
        /// The cache directory the files go to.
        dir: PathBuf,
        /// Bytes still to fetch, human-readable.
        needed: String,
        /// Bytes free there, human-readable.
        available: String,
    },
    /// Another process holds the download lock of the same file.
    #[error("{file} is being downloaded by another process (lock {lock}); wait for it or stop it")]
    Busy {
        /// The repository file.
        file: String,
        /// The lock file held.
        lock: PathBuf,
    },
    /// The bytes received do not hash to the file's ETag / LFS sha256.
    #[error(
        "{file} arrived corrupted: its sha256 is {actual}, the hub promised {expected}; the bad copy was deleted, run gem pull again"
    )]
    ChecksumMismatch {
        /// The repository file.
        file: String,
        /// The hub's sha256.
        expected: String,
        /// What the bytes hash to.
        actual: String,
    },
    /// The server sent more or fewer bytes than the file's size, retries included.
    #[error(
        "{file}: the transfer kept failing ({reason}); the partial file is kept, run gem pull again to resume"
    )]
    TransferFailed {
        /// The repository file.
        file: String,
        /// The last failure.
        reason: String,
    },
    /// Ctrl-C: the partial file is kept for the next `gem pull` to resume.
    #[error(
        "interrupted: {file} is kept partial ({done} of {total}); run the same gem pull to resume"
    )]
    Interrupted {
        /// The repository file being fetched.
        file: String,
        /// Bytes on disk, human-readable.
        done: String,
        /// The file's size, human-readable.
        total: String,
    },
    /// Reading or writing the cache failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("writing", "linking", …).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// No cache directory could be determined (no HOME and no HF_HOME / HF_HUB_CACHE).
    #[error("no Hugging Face cache directory: set HF_HOME or HF_HUB_CACHE")]
    NoCacheDir,
}

impl PullError {
    /// An I/O error with what was being done and where.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// Bytes as people read them: `3.2 GB`, `512 KB` (decimal units, as the hub shows sizes).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_decimal_units() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(3_400_000_000), "3.4 GB");
        assert_eq!(human_bytes(1_500), "1.5 KB");
    }
}
