//! The disk cache of KV states: a long prompt prefix is computed once per machine, not per run.
//!
//! A state file is keyed by (model identity, context parameters, hash of the token prefix) and
//! carries its own checksums: a corrupt, truncated or mismatched file is detected before
//! llama.cpp sees a byte of it, reported, and deleted. The directory is bounded by size; the least
//! recently used files go first.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 8] = b"GEMKV001";
const EXTENSION: &str = "gemkv";

/// Why a state file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    /// Reading or writing failed.
    #[error("state file I/O: {0}")]
    Io(#[from] std::io::Error),
    /// Not a gem state file, or another version.
    #[error("not a gem KV state file (bad magic)")]
    BadMagic,
    /// The header could not be parsed.
    #[error("damaged header: {0}")]
    BadHeader(String),
    /// Shorter than its header says.
    #[error("truncated: expected {expected} bytes of state, found {found}")]
    Truncated {
        /// Bytes promised.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// A checksum does not match.
    #[error("checksum mismatch in {0}")]
    Checksum(&'static str),
    /// The file belongs to another model, context setting or token prefix.
    #[error("made for a different {0}")]
    Mismatch(&'static str),
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    model_id: String,
    context_id: String,
    n_tokens: usize,
    tokens_sha256: String,
    payload_len: u64,
    payload_sha256: String,
}

/// A state file found for a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateHit {
    /// The file.
    pub path: PathBuf,
    /// Prompt tokens it covers.
    pub n_tokens: usize,
}

/// A verified state: the tokens it covers and llama.cpp's sequence state bytes.
#[derive(Debug)]
pub struct LoadedState {
    /// The token prefix.
    pub tokens: Vec<u32>,
    /// The opaque llama.cpp state.
    pub payload: Vec<u8>,
}

/// One file in the cache, for `gem cache ls`.
#[derive(Debug, Clone, Serialize)]
pub struct CacheEntry {
    /// The file.
    pub path: PathBuf,
    /// Size in bytes.
    pub bytes: u64,
    /// Tokens covered (from the file name).
    pub n_tokens: usize,
    /// Seconds since the file was last used.
    pub idle_secs: u64,
}

/// The cache for one model and one set of context parameters.
#[derive(Debug, Clone)]
pub struct StateCache {
    dir: PathBuf,
    model_id: String,
    context_id: String,
    max_bytes: u64,
}

/// Hash of a token sequence.
pub fn tokens_hash(tokens: &[u32]) -> String {
    let mut hasher = Sha256::new();
    for t in tokens {
        hasher.update(t.to_le_bytes());
    }
    hex::encode(hasher.finalize())
}

impl StateCache {
    /// A cache in `dir` for the model `model_id` under context parameters `context_id`.
    pub fn new(dir: PathBuf, model_id: &str, context_id: &str, max_bytes: u64) -> Self {
        Self {
            dir,
            model_id: model_id.to_string(),
            context_id: context_id.to_string(),
            max_bytes,
        }
    }

    fn prefix(&self) -> String {
        format!(
            "{}-{}-",
            &self.model_id[..16.min(self.model_id.len())],
            &self.context_id[..8.min(self.context_id.len())]
        )
    }

    fn path_for(&self, tokens: &[u32]) -> PathBuf {
        let hash = tokens_hash(tokens);
        self.dir.join(format!(
            "{}{}-{}.{EXTENSION}",
            self.prefix(),
            tokens.len(),
            &hash[..24]
        ))
    }

    /// Whether a state for exactly `tokens` is stored.
    pub fn contains(&self, tokens: &[u32]) -> bool {
        self.path_for(tokens).is_file()
    }

    /// The longest stored prefix of `prompt` with more than `at_least` and at most `at_most`
    /// tokens.
    pub fn find(&self, prompt: &[u32], at_least: usize, at_most: usize) -> Option<StateHit> {
        let prefix = self.prefix();
        let mut lengths: Vec<usize> = std::fs::read_dir(&self.dir)
            .ok()?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let rest = name.strip_prefix(&prefix)?;
                rest.split('-').next()?.parse::<usize>().ok()
            })
            .filter(|n| *n > at_least && *n <= at_most.min(prompt.len()))
            .collect();
        lengths.sort_unstable_by(|a, b| b.cmp(a));
        lengths.dedup();
        lengths.into_iter().find_map(|n| {
            let path = self.path_for(&prompt[..n]);
            path.is_file().then_some(StateHit { path, n_tokens: n })
        })
    }

    /// Reads and verifies a state file against this cache's key and the expected tokens.
    pub fn load(&self, path: &Path, expected: &[u32]) -> Result<LoadedState, StateFileError> {
        let mut file = std::fs::File::open(path)?;
        let file_len = file.metadata()?.len();
        let mut magic = [0u8; 8];
        file.read_exact(&mut magic)
            .map_err(|_| StateFileError::BadMagic)?;
        if &magic != MAGIC {
            return Err(StateFileError::BadMagic);
        }
        let mut len = [0u8; 4];
        file.read_exact(&mut len)
            .map_err(|e| StateFileError::BadHeader(e.to_string()))?;
        let header_len = u32::from_le_bytes(len) as u64;
        if header_len > 1 << 20 || 12 + header_len > file_len {
            return Err(StateFileError::BadHeader(
                "header length out of range".into(),
            ));
        }
        let mut header = vec![0u8; header_len as usize];
        file.read_exact(&mut header)?;
        let header: Header = serde_json::from_slice(&header)
            .map_err(|e| StateFileError::BadHeader(e.to_string()))?;
        if header.model_id != self.model_id {
            return Err(StateFileError::Mismatch("model"));
        }
        if header.context_id != self.context_id {
            return Err(StateFileError::Mismatch("context configuration"));
        }
        let body = header.n_tokens as u64 * 4 + header.payload_len;
        let found = file_len - 12 - header_len;
        if found != body {
            return Err(StateFileError::Truncated {
                expected: body,
                found,
            });
        }
        let mut raw = vec![0u8; header.n_tokens * 4];
        file.read_exact(&mut raw)?;
        let tokens: Vec<u32> = raw
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if tokens_hash(&tokens) != header.tokens_sha256 {
            return Err(StateFileError::Checksum("tokens"));
        }
        if tokens != expected {
            return Err(StateFileError::Mismatch("token prefix"));
        }
        let mut payload = vec![0u8; header.payload_len as usize];
        file.read_exact(&mut payload)?;
        if hex::encode(Sha256::digest(&payload)) != header.payload_sha256 {
            return Err(StateFileError::Checksum("state data"));
        }
        touch(path);
        Ok(LoadedState { tokens, payload })
    }

    /// Stores the state for `tokens` atomically, then trims the cache to its size bound.
    pub fn save(&self, tokens: &[u32], payload: &[u8]) -> Result<PathBuf, StateFileError> {
        std::fs::create_dir_all(&self.dir)?;
        let header = Header {
            model_id: self.model_id.clone(),
            context_id: self.context_id.clone(),
            n_tokens: tokens.len(),
            tokens_sha256: tokens_hash(tokens),
            payload_len: payload.len() as u64,
            payload_sha256: hex::encode(Sha256::digest(payload)),
        };
        let header =
            serde_json::to_vec(&header).map_err(|e| StateFileError::BadHeader(e.to_string()))?;
        let path = self.path_for(tokens);
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        {
            let mut out = std::io::BufWriter::new(tmp.as_file_mut());
            out.write_all(MAGIC)?;
            out.write_all(&(header.len() as u32).to_le_bytes())?;
            out.write_all(&header)?;
            for t in tokens {
                out.write_all(&t.to_le_bytes())?;
            }
            out.write_all(payload)?;
            out.flush()?;
        }
        tmp.persist(&path)
            .map_err(|e| StateFileError::Io(e.error))?;
        trim(&self.dir, self.max_bytes);
        Ok(path)
    }
}

/// Marks a file as just used (for LRU eviction).
fn touch(path: &Path) {
    if let Ok(file) = std::fs::File::options().append(true).open(path) {
        let _ = file.set_modified(std::time::SystemTime::now());
    }
}

/// Lists the cache's files, most recently used first.
pub fn list(dir: &Path) -> Vec<CacheEntry> {
    let now = std::time::SystemTime::now();
    let mut entries: Vec<CacheEntry> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == EXTENSION))
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            let name = e.file_name().into_string().ok()?;
            let n_tokens = name
                .split('-')
                .nth(2)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let idle = meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .map_or(0, |d| d.as_secs());
            Some(CacheEntry {
                path: e.path(),
                bytes: meta.len(),
                n_tokens,
                idle_secs: idle,
            })
        })
        .collect();
    entries.sort_by_key(|e| e.idle_secs);
    entries
}

/// Deletes least recently used files until the directory holds at most `max_bytes`.
pub fn trim(dir: &Path, max_bytes: u64) -> Vec<PathBuf> {
    let entries = list(dir);
    let mut total: u64 = entries.iter().map(|e| e.bytes).sum();
    let mut removed = Vec::new();
    for entry in entries.iter().rev() {
        if total <= max_bytes {
            break;
        }
        if std::fs::remove_file(&entry.path).is_ok() {
            total -= entry.bytes;
            removed.push(entry.path.clone());
        }
    }
    removed
}

/// Deletes every state file in `dir`; returns how many bytes were freed.
pub fn clear(dir: &Path) -> u64 {
    list(dir)
        .into_iter()
        .filter(|e| std::fs::remove_file(&e.path).is_ok())
        .map(|e| e.bytes)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(dir: &Path) -> StateCache {
        StateCache::new(
            dir.to_path_buf(),
            "model0123456789abcdef",
            "ctx01234567",
            1 << 30,
        )
    }

    #[test]
    fn a_saved_state_is_found_for_a_longer_prompt_and_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path());
        cache.save(&[1, 2, 3], b"state-bytes").unwrap();
        let hit = cache.find(&[1, 2, 3, 4, 5], 0, 4).unwrap();
        assert_eq!(hit.n_tokens, 3);
        let loaded = cache.load(&hit.path, &[1, 2, 3]).unwrap();
        assert_eq!(loaded.payload, b"state-bytes");
        assert!(cache.find(&[1, 2, 9, 4], 0, 4).is_none());
        assert!(
            cache.find(&[1, 2, 3, 4, 5], 3, 4).is_none(),
            "not longer than what is reused"
        );
    }

    #[test]
    fn truncated_and_corrupted_files_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path());
        let path = cache.save(&[5, 6], &[7u8; 100]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
        assert!(matches!(
            cache.load(&path, &[5, 6]),
            Err(StateFileError::Truncated { .. })
        ));
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0xff;
        std::fs::write(&path, &flipped).unwrap();
        assert!(matches!(
            cache.load(&path, &[5, 6]),
            Err(StateFileError::Checksum(_))
        ));
        std::fs::write(&path, b"garbage").unwrap();
        assert!(matches!(
            cache.load(&path, &[5, 6]),
            Err(StateFileError::BadMagic)
        ));
    }

    #[test]
    fn another_model_or_context_never_matches() {
        let dir = tempfile::tempdir().unwrap();
        let path = cache(dir.path()).save(&[1, 2], b"x").unwrap();
        let other_model = StateCache::new(
            dir.path().into(),
            "other0123456789abcdef",
            "ctx01234567",
            1 << 30,
        );
        assert!(other_model.find(&[1, 2, 3], 0, 3).is_none());
        assert!(matches!(
            other_model.load(&path, &[1, 2]),
            Err(StateFileError::Mismatch("model"))
        ));
        let other_ctx = StateCache::new(
            dir.path().into(),
            "model0123456789abcdef",
            "ctx99999999",
            1 << 30,
        );
        assert!(other_ctx.find(&[1, 2, 3], 0, 3).is_none());
    }

    #[test]
    fn the_cache_is_trimmed_least_recently_used_first() {
        let dir = tempfile::tempdir().unwrap();
        let cache = StateCache::new(
            dir.path().into(),
            "model0123456789abcdef",
            "ctx01234567",
            3000,
        );
        let old = cache.save(&[1], &[0u8; 1000]).unwrap();
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(100);
        std::fs::File::options()
            .append(true)
            .open(&old)
            .unwrap()
            .set_modified(past)
            .unwrap();
        cache.save(&[2], &[0u8; 1000]).unwrap();
        cache.save(&[3], &[0u8; 1000]).unwrap();
        assert!(!old.exists(), "the oldest file is evicted");
        assert_eq!(list(dir.path()).len(), 2);
        assert!(clear(dir.path()) > 2000);
        assert!(list(dir.path()).is_empty());
    }
}
