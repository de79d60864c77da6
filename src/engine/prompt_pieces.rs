//! Which parts of a rendered prompt may hold control tokens.
//!
//! A prompt is template markup (`<|turn>user\n`, `<|tool_call>`, …) around conversation text
//! (messages, file contents, tool results). Tokenizing it all with control-token parsing would
//! turn a `<|turn>` written inside a source file into a real turn boundary. The renderer reports
//! the byte ranges of conversation text; the ones that contain a control token's text are
//! tokenized as plain text, everything else as before, so prompts without such text tokenize
//! exactly as a template-based tokenizer would.

use std::ops::Range;

/// One piece of the prompt to tokenize on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Byte range in the prompt.
    pub range: Range<usize>,
    /// Whether control tokens are parsed in it (markup), or it is plain text.
    pub parse_special: bool,
}

/// Splits `text` into pieces: each range of `literal` (conversation text, sorted, not
/// overlapping) for which `has_control` holds becomes a plain-text piece; the text between them
/// is parsed with control tokens. Ranges out of bounds or off character boundaries are ignored.
pub fn prompt_pieces(
    text: &str,
    literal: &[Range<usize>],
    has_control: &dyn Fn(&str) -> bool,
) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut cursor = 0;
    for range in literal {
        let valid = range.start >= cursor
            && range.start < range.end
            && range.end <= text.len()
            && text.is_char_boundary(range.start)
            && text.is_char_boundary(range.end);
        if !valid || !has_control(&text[range.clone()]) {
            continue;
        }
        if cursor < range.start {
            pieces.push(Piece {
                range: cursor..range.start,
                parse_special: true,
            });
        }
        pieces.push(Piece {
            range: range.clone(),
            parse_special: false,
        });
        cursor = range.end;
    }
    if cursor < text.len() || pieces.is_empty() {
        pieces.push(Piece {
            range: cursor..text.len(),
            parse_special: true,
        });
    }
    pieces
}

/// The ranges of `literal` that lie in the first `len` bytes, cut at `len`.
pub fn clip_ranges(literal: &[Range<usize>], len: usize) -> Vec<Range<usize>> {
    literal
        .iter()
        .filter(|r| r.start < len)
        .map(|r| r.start..r.end.min(len))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_tag(text: &str) -> bool {
        text.contains("<|turn>")
    }

    #[test]
    fn text_without_control_tokens_stays_one_piece() {
        let text = "<|turn>user\nhello<turn|>";
        let content = 12..17;
        let pieces = prompt_pieces(text, std::slice::from_ref(&content), &has_tag);
        assert_eq!(
            pieces,
            vec![Piece {
                range: 0..text.len(),
                parse_special: true
            }]
        );
    }

    #[test]
    fn content_holding_a_control_token_becomes_plain_text() {
        let text = "<|turn>user\nsay <|turn> please<turn|>\n<|turn>model\n";
        let content = 12..30;
        assert_eq!(&text[content.clone()], "say <|turn> please");
        let pieces = prompt_pieces(text, std::slice::from_ref(&content), &has_tag);
        assert_eq!(
            pieces,
            vec![
                Piece {
                    range: 0..12,
                    parse_special: true
                },
                Piece {
                    range: content,
                    parse_special: false
                },
                Piece {
                    range: 30..text.len(),
                    parse_special: true
                },
            ]
        );
    }

    #[test]
    fn bad_ranges_are_ignored_and_pieces_cover_the_text() {
        let text = "é<|turn>x<|turn>";
        // 1..3 splits 'é'; 20..30 is out of bounds; 9..8 is empty.
        let pieces = prompt_pieces(
            text,
            &[1..3, 2..9, Range { start: 9, end: 8 }, 20..30],
            &has_tag,
        );
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces[1].range, 2..9);
        assert!(!pieces[1].parse_special);
        let covered: usize = pieces.iter().map(|p| p.range.len()).sum();
        assert_eq!(covered, text.len());
        assert_eq!(prompt_pieces("", &[], &has_tag).len(), 1);
    }

    #[test]
    fn clipping_keeps_ranges_before_the_cut() {
        assert_eq!(clip_ranges(&[0..4, 6..10, 12..14], 8), vec![0..4, 6..8]);
    }
}
