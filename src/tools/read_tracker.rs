//! Remembers which files the model has read, so edits to unread or changed files are refused.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use sha2::{Digest, Sha256};

/// How a file on disk relates to what the model last read of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// The model has not read the file in this session.
    Unread,
    /// The file changed on disk since the model read it.
    Changed,
    /// The file is exactly as the model read it.
    Fresh,
}

/// Files read in this session: absolute path → SHA-256 of the contents seen. Shared between
/// threads (interior mutability).
#[derive(Debug, Default)]
pub struct ReadTracker {
    files: Mutex<HashMap<PathBuf, [u8; 32]>>,
}

impl ReadTracker {
    /// Records that the model has seen `contents` of the file at `path` (absolute).
    pub fn record(&self, path: &Path, contents: &[u8]) {
        self.lock()
            .insert(path.to_path_buf(), content_hash(contents));
    }

    /// Records that the model has seen the version of `path` whose SHA-256 is `digest_hex` (as
    /// when the file was packed into the context); `false` for a malformed digest.
    pub fn record_digest(&self, path: &Path, digest_hex: &str) -> bool {
        let mut hash = [0u8; 32];
        if digest_hex.len() != 64 || !digest_hex.is_ascii() {
            return false;
        }
        for (i, byte) in hash.iter_mut().enumerate() {
            match u8::from_str_radix(&digest_hex[2 * i..2 * i + 2], 16) {
                Ok(b) => *byte = b,
                Err(_) => return false,
            }
        }
        self.lock().insert(path.to_path_buf(), hash);
        true
    }

    /// Compares `current` contents of `path` with what the model last read.
    pub fn check(&self, path: &Path, current: &[u8]) -> Freshness {
        match self.lock().get(path) {
            None => Freshness::Unread,
            Some(hash) if *hash == content_hash(current) => Freshness::Fresh,
            Some(_) => Freshness::Changed,
        }
    }

    /// Whether the model has read `path` in this session.
    pub fn has_read(&self, path: &Path) -> bool {
        self.lock().contains_key(path)
    }

    /// Forgets `path` (e.g. after the user reverted a change).
    pub fn forget(&self, path: &Path) {
        self.lock().remove(path);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<PathBuf, [u8; 32]>> {
        // A panic while holding the lock cannot leave the map half-updated, so a poisoned
        // lock is still usable.
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// SHA-256 of `bytes`.
pub fn content_hash(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unread_fresh_and_changed() {
        let tracker = ReadTracker::default();
        let path = Path::new("/p/a.txt");
        assert_eq!(tracker.check(path, b"x"), Freshness::Unread);
        tracker.record(path, b"x");
        assert!(tracker.has_read(path));
        assert_eq!(tracker.check(path, b"x"), Freshness::Fresh);
        assert_eq!(tracker.check(path, b"y"), Freshness::Changed);
        tracker.forget(path);
        assert_eq!(tracker.check(path, b"x"), Freshness::Unread);
    }

    #[test]
    fn a_packed_files_digest_counts_as_a_read() {
        let tracker = ReadTracker::default();
        let path = Path::new("/p/packed.rs");
        let digest: String = content_hash(b"fn main() {}\n")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(tracker.record_digest(path, &digest));
        assert_eq!(tracker.check(path, b"fn main() {}\n"), Freshness::Fresh);
        assert_eq!(tracker.check(path, b"changed"), Freshness::Changed);
        assert!(!tracker.record_digest(Path::new("/p/x"), "zz"));
        assert!(!tracker.record_digest(Path::new("/p/x"), &"g".repeat(64)));
        assert!(!tracker.has_read(Path::new("/p/x")));
    }
}
