//! What is piped into gem (`git diff | gem review`, `cat log | gem -p …`).

use std::io::{IsTerminal, Read};

use anyhow::Context;

use crate::plural::plural;

/// Piped stdin, if any (never blocks on a terminal): `None` for a terminal, else the text, read
/// lossily (bytes that are not UTF-8 become U+FFFD, and gem says so).
pub fn piped_stdin() -> anyhow::Result<Option<String>> {
    if std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .context("reading stdin")?;
    Ok(Some(lossy_text(bytes)))
}

/// `bytes` as text, invalid UTF-8 replaced with U+FFFD and a warning on stderr.
fn lossy_text(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let replaced = text.matches('\u{FFFD}').count();
            eprintln!(
                "gem: warning: stdin is not valid UTF-8: {} replaced with U+FFFD",
                plural(
                    replaced,
                    "invalid byte sequence was",
                    "invalid byte sequences were"
                )
            );
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        assert_eq!(lossy_text(b"ok \xff\xfe!".to_vec()), "ok \u{FFFD}\u{FFFD}!");
        assert_eq!(lossy_text("plain é".as_bytes().to_vec()), "plain é");
    }
}
