//! Content hashes: the pack's fingerprint and per-file digests for change detection.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Fingerprint of a pack: SHA-256 over each included file's path and content, in pack order,
/// then the repo map. Lengths are hashed too, so no two different packs collide by shifting bytes.
pub fn pack_fingerprint<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a str)>,
    map: &str,
) -> String {
    let mut hasher = Sha256::new();
    for (path, content) in files {
        hasher.update((path.len() as u64).to_le_bytes());
        hasher.update(path.as_bytes());
        hasher.update((content.len() as u64).to_le_bytes());
        hasher.update(content.as_bytes());
    }
    hasher.update((map.len() as u64).to_le_bytes());
    hasher.update(map.as_bytes());
    hex::encode(hasher.finalize())
}

/// The included files of `packed` whose content differs on disk now, in pack order.
///
/// A file that was deleted or became unreadable counts as changed; the caller decides whether
/// to re-send it or to say it is gone.
pub fn changed_since(packed: &super::PackedRepo, root: &Path) -> Vec<PathBuf> {
    packed
        .included
        .iter()
        .filter(|rel_path| {
            let now = std::fs::read(root.join(rel_path))
                .ok()
                .map(|bytes| sha256_hex(&bytes));
            now.as_ref() != packed.digests.get(*rel_path)
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_empty_input_is_the_known_value() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn fingerprint_separates_path_and_content() {
        let a = pack_fingerprint([("ab", "c")], "");
        let b = pack_fingerprint([("a", "bc")], "");
        assert_ne!(a, b);
        assert_eq!(a, pack_fingerprint([("ab", "c")], ""));
        assert_ne!(a, pack_fingerprint([("ab", "c")], "x\n"));
    }
}
