//! Content hashes: the pack's fingerprint and per-file digests for change detection.

use sha2::{Digest, Sha256};

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
