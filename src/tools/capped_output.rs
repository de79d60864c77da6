//! Captured command output that keeps the first and last bytes and counts what was dropped in
//! the middle.

use std::collections::VecDeque;

/// The head and tail of a byte stream.
#[derive(Debug, Clone)]
pub struct CappedOutput {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    head_cap: usize,
    tail_cap: usize,
    dropped: u64,
}

impl CappedOutput {
    /// Keeps up to `head_cap` leading and `tail_cap` trailing bytes.
    pub fn new(head_cap: usize, tail_cap: usize) -> Self {
        Self {
            head: Vec::new(),
            tail: VecDeque::new(),
            head_cap,
            tail_cap,
            dropped: 0,
        }
    }

    /// Appends bytes.
    pub fn push(&mut self, mut bytes: &[u8]) {
        let room = self.head_cap.saturating_sub(self.head.len());
        let into_head = room.min(bytes.len());
        self.head.extend_from_slice(&bytes[..into_head]);
        bytes = &bytes[into_head..];
        self.tail.extend(bytes);
        let excess = self.tail.len().saturating_sub(self.tail_cap);
        if excess > 0 {
            self.tail.drain(..excess);
            self.dropped += excess as u64;
        }
    }

    /// Whether nothing was captured.
    pub fn is_empty(&self) -> bool {
        self.head.is_empty()
    }

    /// The text (invalid UTF-8 shown as U+FFFD) with a marker where bytes were dropped.
    pub fn render(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.head).into_owned();
        let mut tail: Vec<u8> = self.tail.iter().copied().collect();
        if self.dropped > 0 {
            // Do not start the tail in the middle of a UTF-8 character.
            let skip = tail
                .iter()
                .take(3)
                .take_while(|b| (0x80..0xC0).contains(*b))
                .count();
            tail.drain(..skip);
            text.push_str(&format!(
                "\n… [{} bytes of output omitted] …\n",
                self.dropped + skip as u64
            ));
        }
        text.push_str(&String::from_utf8_lossy(&tail));
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_output_is_kept_whole() {
        let mut out = CappedOutput::new(4, 4);
        out.push(b"abc");
        out.push(b"defg");
        assert_eq!(out.render(), "abcdefg");
    }

    #[test]
    fn long_output_keeps_head_and_tail() {
        let mut out = CappedOutput::new(3, 3);
        for chunk in [&b"0123"[..], b"456789"] {
            out.push(chunk);
        }
        assert_eq!(out.render(), "012\n… [4 bytes of output omitted] …\n789");
    }

    #[test]
    fn tail_does_not_start_mid_character() {
        let mut out = CappedOutput::new(0, 3);
        out.push("aé€b".as_bytes()); // 1 + 2 + 3 + 1 bytes; the tail starts inside `€`
        assert_eq!(out.render(), "\n… [6 bytes of output omitted] …\nb");
    }
}
