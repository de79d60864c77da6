//! Gemma 4's control tags as text, and how to spot them in a stream.
//!
//! These are the special tokens of the released Gemma 4 vocabulary (every
//! control and user-defined token, plus the `<unusedN>` family). The engine
//! detokenizes with special tokens printed, so they reach the parser as text.

/// Opens a turn: `<|turn>ROLE\n`.
pub const TURN_OPEN: &str = "<|turn>";
/// Closes a turn (end of generation).
pub const TURN_CLOSE: &str = "<turn|>";
/// Switches thinking on (first thing in the system turn).
pub const THINK: &str = "<|think|>";
/// Opens the thought channel: `<|channel>thought\n`.
pub const CHANNEL_OPEN: &str = "<|channel>";
/// Closes the thought channel.
pub const CHANNEL_CLOSE: &str = "<channel|>";
/// Opens a tool declaration in the system turn.
pub const TOOL_OPEN: &str = "<|tool>";
/// Closes a tool declaration.
pub const TOOL_CLOSE: &str = "<tool|>";
/// Opens a call the model makes.
pub const TOOL_CALL_OPEN: &str = "<|tool_call>";
/// Closes a call.
pub const TOOL_CALL_CLOSE: &str = "<tool_call|>";
/// Opens a tool result (also ends generation: the model waits for results).
pub const TOOL_RESPONSE_OPEN: &str = "<|tool_response>";
/// Closes a tool result.
pub const TOOL_RESPONSE_CLOSE: &str = "<tool_response|>";
/// String delimiter inside declarations, calls and results.
pub const STRING_DELIM: &str = "<|\"|>";
/// Beginning of the prompt.
pub const BOS: &str = "<bos>";
/// End of sequence (end of generation).
pub const EOS: &str = "<eos>";

/// Every fixed control tag of the vocabulary.
pub const CONTROL_TAGS: &[&str] = &[
    "<pad>",
    EOS,
    BOS,
    "<unk>",
    "<mask>",
    TOOL_OPEN,
    TOOL_CLOSE,
    TOOL_CALL_OPEN,
    TOOL_CALL_CLOSE,
    TOOL_RESPONSE_OPEN,
    TOOL_RESPONSE_CLOSE,
    STRING_DELIM,
    THINK,
    CHANNEL_OPEN,
    CHANNEL_CLOSE,
    TURN_OPEN,
    TURN_CLOSE,
    "<|image>",
    "<|audio>",
    "<|image|>",
    "<|audio|>",
    "<image|>",
    "<audio|>",
    "<|video|>",
];

/// Prefix of the vocabulary's reserved `<unusedN>` tokens.
const UNUSED_PREFIX: &str = "<unused";
/// Longest `<unusedN>` we recognise (digits).
const UNUSED_MAX_DIGITS: usize = 6;

/// Length in bytes of the longest tag (a stream holds back at most this much).
pub const MAX_TAG_LEN: usize = 17;

/// What starts at a position of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagMatch {
    /// A complete tag of this many bytes.
    Complete(usize),
    /// The text ends with a proper prefix of some tag.
    Prefix,
    /// No tag starts here.
    None,
}

/// Classifies `rest` (text starting at a `<`): a complete tag, a text that
/// ends inside a tag, or no tag.
pub fn match_tag(rest: &str) -> TagMatch {
    if !rest.starts_with('<') {
        return TagMatch::None;
    }
    let mut prefix = false;
    for tag in CONTROL_TAGS {
        if rest.starts_with(tag) {
            return TagMatch::Complete(tag.len());
        }
        if tag.starts_with(rest) {
            prefix = true;
        }
    }
    match match_unused(rest) {
        TagMatch::None => {}
        found => return found,
    }
    if prefix {
        TagMatch::Prefix
    } else {
        TagMatch::None
    }
}

/// `<unusedN>` matching.
fn match_unused(rest: &str) -> TagMatch {
    if rest.len() < UNUSED_PREFIX.len() {
        return if UNUSED_PREFIX.starts_with(rest) {
            TagMatch::Prefix
        } else {
            TagMatch::None
        };
    }
    let Some(after) = rest.strip_prefix(UNUSED_PREFIX) else {
        return TagMatch::None;
    };
    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
    if digits > UNUSED_MAX_DIGITS {
        return TagMatch::None;
    }
    match after.as_bytes().get(digits) {
        Some(b'>') if digits > 0 => TagMatch::Complete(UNUSED_PREFIX.len() + digits + 1),
        Some(_) => TagMatch::None,
        None => TagMatch::Prefix,
    }
}

/// Whether `text` contains a complete control tag anywhere.
#[cfg(test)]
pub fn contains_tag(text: &str) -> bool {
    find_tag(text).is_some()
}

/// The first complete control tag in `text`: `(start, len)`.
pub fn find_tag(text: &str) -> Option<(usize, usize)> {
    text.match_indices('<')
        .find_map(|(i, _)| match match_tag(&text[i..]) {
            TagMatch::Complete(len) => Some((i, len)),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_tag_len_covers_every_tag() {
        let longest = CONTROL_TAGS.iter().map(|t| t.len()).max().unwrap();
        assert!(longest <= MAX_TAG_LEN);
        assert!(UNUSED_PREFIX.len() + UNUSED_MAX_DIGITS < MAX_TAG_LEN);
    }

    #[test]
    fn classifies_complete_prefix_and_none() {
        assert_eq!(match_tag("<|turn>model"), TagMatch::Complete(7));
        assert_eq!(match_tag("<|tu"), TagMatch::Prefix);
        assert_eq!(match_tag("<"), TagMatch::Prefix);
        assert_eq!(match_tag("<|tux"), TagMatch::None);
        assert_eq!(match_tag("<|\"|>x"), TagMatch::Complete(5));
        assert_eq!(match_tag("<unused12>"), TagMatch::Complete(10));
        assert_eq!(match_tag("<unused12"), TagMatch::Prefix);
        assert_eq!(match_tag("<unused>"), TagMatch::None);
        assert_eq!(match_tag("<unu"), TagMatch::Prefix);
        assert_eq!(match_tag("a<eos>"), TagMatch::None);
    }

    #[test]
    fn finds_tags_and_partial_suffixes() {
        assert_eq!(find_tag("a < b <eos> c"), Some((6, 5)));
        assert!(!contains_tag("Vec<String> <|tu"));
    }
}
