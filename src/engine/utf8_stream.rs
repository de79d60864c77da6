//! Turns token byte pieces into text deltas without ever splitting a character.

/// Buffers bytes until they form whole UTF-8 characters.
#[derive(Debug, Default)]
pub struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    /// Adds `bytes` and returns the text that is now complete (possibly empty).
    ///
    /// Invalid sequences (not merely incomplete ones) become U+FFFD so the stream never stalls.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(text) => {
                    out.push_str(text);
                    self.pending.clear();
                    return out;
                }
                Err(err) => {
                    let valid = err.valid_up_to();
                    // The prefix up to `valid_up_to` is valid UTF-8 by definition.
                    out.push_str(&String::from_utf8_lossy(&self.pending[..valid]));
                    match err.error_len() {
                        // Incomplete character at the end: keep it for the next push.
                        None => {
                            self.pending.drain(..valid);
                            return out;
                        }
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            self.pending.drain(..valid + bad);
                        }
                    }
                }
            }
        }
    }

    /// Flushes what is left at the end of the stream (an incomplete character becomes U+FFFD).
    pub fn finish(&mut self) -> String {
        let rest = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_split_across_pushes_is_emitted_whole() {
        let bytes = "héllo 🦀".as_bytes();
        let mut stream = Utf8Stream::default();
        let mut out = Vec::new();
        for b in bytes {
            out.push(stream.push(&[*b]));
        }
        assert_eq!(out.concat(), "héllo 🦀");
        assert!(out.iter().all(|d| d.chars().all(|c| c != '\u{fffd}')));
        // The crab (4 bytes) arrives in one delta, not in pieces.
        assert!(out.iter().any(|d| d == "🦀"));
    }

    #[test]
    fn invalid_bytes_become_replacement_and_do_not_stall() {
        let mut stream = Utf8Stream::default();
        assert_eq!(stream.push(&[b'a', 0xff, b'b']), "a\u{fffd}b");
        assert_eq!(stream.push(&[0xe2, 0x82]), "");
        assert_eq!(stream.finish(), "\u{fffd}");
    }
}
