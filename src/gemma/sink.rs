//! The last stage of the stream parser for visible text (one for answer
//! text, one for thoughts): emits text as early as possible while guaranteeing
//! that the concatenation of everything it emits never contains a control tag.
//!
//! The lexer before it already removes every tag it sees, but removing a tag
//! can join its neighbours into a new one (`<|tu<eos>rn>`), also across
//! segments of the same kind (`<|tu` … thought … `rn>`). The sink therefore
//! holds back a suffix that could still become a tag, and removes tags formed
//! across what it has already emitted (the last [`MAX_TAG_LEN`] bytes are
//! remembered). Decisions depend only on content, never on chunking.
//!
//! A thought sink also holds back one trailing newline: the template writes a
//! thought as `<|channel>thought\n` + text + `\n<channel|>`, so the newline
//! before `<channel|>` belongs to the format, not to the thought.

use crate::gemma::tags::{MAX_TAG_LEN, TagMatch, find_tag, match_tag};

/// Accumulates and emits one kind of visible text.
#[derive(Debug, Default)]
pub struct Sink {
    /// Received but not yet emitted.
    pending: String,
    /// The last bytes emitted (no complete tag inside).
    tail: String,
    /// Hold back one trailing newline (thought sinks).
    hold_newline: bool,
}

impl Sink {
    /// A sink; `hold_newline` for thoughts.
    pub fn new(hold_newline: bool) -> Self {
        Sink {
            hold_newline,
            ..Sink::default()
        }
    }

    /// Takes `text` and returns what can be emitted now.
    pub fn push(&mut self, text: &str) -> String {
        self.pending.push_str(text);
        self.remove_joined_tags();
        let hold = self.hold_start();
        let emitted: String = self.pending.drain(..hold).collect();
        self.remember(&emitted);
        emitted
    }

    /// Emits everything pending; with `end_of_thought`, minus one trailing
    /// newline.
    pub fn flush(&mut self, end_of_thought: bool) -> String {
        if end_of_thought && self.pending.ends_with('\n') {
            self.pending.pop();
        }
        let emitted = std::mem::take(&mut self.pending);
        self.remember(&emitted);
        emitted
    }

    /// Removes tags that span the remembered tail and the pending text.
    fn remove_joined_tags(&mut self) {
        loop {
            if !self.tail.contains('<') && !self.pending.contains('<') {
                return;
            }
            let combined = format!("{}{}", self.tail, self.pending);
            let Some((start, len)) = find_tag(&combined) else {
                return;
            };
            let from = start.max(self.tail.len()) - self.tail.len();
            let to = start + len - self.tail.len();
            self.pending.replace_range(from..to, "");
        }
    }

    /// Byte index in `pending` from which text is held back.
    fn hold_start(&self) -> usize {
        if let Some(lt) = self.pending.rfind('<') {
            if match_tag(&self.pending[lt..]) == TagMatch::Prefix {
                return lt;
            }
        } else if let Some(lt) = self.tail.rfind('<') {
            let combined = format!("{}{}", &self.tail[lt..], self.pending);
            if match_tag(&combined) == TagMatch::Prefix {
                return 0;
            }
        }
        if self.hold_newline && self.pending.ends_with('\n') {
            return self.pending.len() - 1;
        }
        self.pending.len()
    }

    fn remember(&mut self, emitted: &str) {
        self.tail.push_str(emitted);
        if self.tail.len() > MAX_TAG_LEN {
            let mut cut = self.tail.len() - MAX_TAG_LEN;
            while !self.tail.is_char_boundary(cut) {
                cut += 1;
            }
            self.tail.drain(..cut);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_tag_prefixes_until_decided() {
        let mut sink = Sink::new(false);
        assert_eq!(sink.push("a <|tu"), "a ");
        assert_eq!(sink.push("x"), "<|tux");
    }

    #[test]
    fn removes_tags_joined_across_removed_text() {
        let mut sink = Sink::new(false);
        assert_eq!(sink.push("x<|tu"), "x");
        assert_eq!(sink.push("rn>y"), "y");
        assert_eq!(sink.flush(false), "");
    }

    #[test]
    fn removes_tags_joined_across_emitted_text() {
        let mut sink = Sink::new(false);
        assert_eq!(sink.push("x<|tu"), "x");
        assert_eq!(sink.flush(false), "<|tu");
        assert_eq!(sink.push("rn>y"), "y");
    }

    #[test]
    fn thought_sink_drops_the_final_newline_only() {
        let mut sink = Sink::new(true);
        assert_eq!(sink.push("a\n"), "a");
        assert_eq!(sink.push("\nb\n"), "\n\nb");
        assert_eq!(sink.flush(true), "");
        assert_eq!(sink.push("c\n"), "c");
        assert_eq!(sink.flush(false), "\n");
    }
}
