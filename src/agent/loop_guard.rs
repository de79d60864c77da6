//! Stops runaway loops: the same call repeated with the same result, or degenerate output.

/// Tracks consecutive identical tool calls.
#[derive(Debug, Default)]
pub struct RepeatGuard {
    last: Option<(String, String)>,
    count: usize,
}

/// How many identical call+result pairs in a row stop the loop.
pub const MAX_REPEATS: usize = 3;

impl RepeatGuard {
    /// Records a call (name + canonical arguments) and its result; true when it is the
    /// [`MAX_REPEATS`]th identical one in a row.
    pub fn record(&mut self, call: &str, result: &str) -> bool {
        let key = (call.to_string(), result.to_string());
        if self.last.as_ref() == Some(&key) {
            self.count += 1;
        } else {
            self.last = Some(key);
            self.count = 1;
        }
        self.count >= MAX_REPEATS
    }
}

/// Watches the model's free text and thinking for degenerate repetition, cheaply enough to ask
/// after every streamed piece.
#[derive(Debug, Default)]
pub struct DegenerationGuard {
    /// The newest free text and thinking, at most [`WINDOW`] bytes more than judged.
    tail: String,
    /// Bytes received since the last judgement.
    unjudged: usize,
}

/// Characters of repetition at the end of the text that count as degenerate. A real loop goes on
/// until the token limit, so a high bar costs a few hundred tokens at most, while text that quotes
/// a real file (a 300-character `=` rule, a zero-filled table, minified code) stays below it.
const MIN_COVERED: usize = 4096;
/// Repetitions of the unit that count as degenerate.
const MIN_REPEATS: usize = 32;
/// Longest repeated unit looked for, in characters.
const MAX_PERIOD: usize = 64;
/// Text judged at once: the end of the stream.
const WINDOW: usize = 2 * MIN_COVERED;
/// New bytes between two judgements.
const JUDGE_EVERY: usize = 128;

impl DegenerationGuard {
    /// Adds free text or thinking the model produced.
    pub fn push(&mut self, text: &str) {
        self.tail.push_str(text);
        self.unjudged += text.len();
        if self.tail.len() > 2 * WINDOW {
            let mut cut = self.tail.len() - WINDOW;
            while !self.tail.is_char_boundary(cut) {
                cut += 1;
            }
            self.tail.drain(..cut);
        }
    }

    /// Whether the text so far ends in degenerate repetition (judged every [`JUDGE_EVERY`] bytes).
    pub fn is_degenerate(&mut self) -> bool {
        if self.unjudged < JUDGE_EVERY {
            return false;
        }
        self.unjudged = 0;
        is_degenerate(&self.tail)
    }
}

/// Whether the end of `text` is one short unit repeated many times ("thought thought thought…").
///
/// Looks for a period of 1–[`MAX_PERIOD`] characters repeated to cover at least [`MIN_COVERED`]
/// characters and at least [`MIN_REPEATS`] repetitions at the end of the text.
pub fn is_degenerate(text: &str) -> bool {
    let chars: Vec<char> = text.chars().rev().take(WINDOW).collect();
    if chars.len() < MIN_COVERED {
        return false;
    }
    for period in 1..=MAX_PERIOD {
        let mut covered = period;
        while covered < chars.len() && chars[covered] == chars[covered - period] {
            covered += 1;
        }
        if covered >= MIN_COVERED && covered / period >= MIN_REPEATS {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_identical_calls_trip_the_guard() {
        let mut guard = RepeatGuard::default();
        assert!(!guard.record("read{a}", "x"));
        assert!(!guard.record("read{a}", "x"));
        assert!(guard.record("read{a}", "x"));
    }

    #[test]
    fn a_different_result_resets_the_count() {
        let mut guard = RepeatGuard::default();
        guard.record("read{a}", "x");
        guard.record("read{a}", "x");
        assert!(!guard.record("read{a}", "y"));
    }

    #[test]
    fn repetition_is_detected_but_normal_text_is_not() {
        assert!(is_degenerate(&"thought ".repeat(600)));
        assert!(is_degenerate(&format!("intro {}", "ab".repeat(2100))));
        let prose = "The parser reads each token and builds a tree. ".to_string()
            + "Then the engine keeps its cache warm across turns, which saves time. "
            + &"fn main() { println!(\"{}\", 1 + 2); }\n".repeat(3);
        assert!(!is_degenerate(&prose));
    }

    #[test]
    fn the_guard_catches_a_streamed_loop_and_judges_in_steps() {
        let mut guard = DegenerationGuard::default();
        let mut tripped_after = None;
        for i in 0..2000 {
            guard.push("thought ");
            if guard.is_degenerate() {
                tripped_after = Some(i);
                break;
            }
        }
        let i = tripped_after.expect("a loop of `thought ` must trip the guard");
        assert!((i + 1) * 8 >= MIN_COVERED, "tripped too early: {i}");
        assert!(
            i * 8 < MIN_COVERED + 2 * JUDGE_EVERY + 8,
            "tripped late: {i}"
        );
    }

    /// Real file content quoted in an answer must never look degenerate.
    #[test]
    fn real_file_content_is_not_degenerate() {
        let zero_array = format!("static TABLE: [u8; 90] = [{}];\n", "0, ".repeat(90));
        let banner = format!("{}\n  gem\n{}\n", "=".repeat(300), "=".repeat(300));
        let zero_table = format!("const ZEROES: [u32; 1024] = [{}];\n", "0, ".repeat(1024));
        let ascii_art = concat!(
            "  ____  _____ __  __ \n",
            " / ___|| ____|  \\/  |\n",
            "| |  _ |  _| | |\\/| |\n",
            "| |_| || |___| |  | |\n",
            " \\____||_____|_|  |_|\n"
        )
        .repeat(40);
        let data_table: String = (0..400)
            .map(|i| format!("| {i:>4} | {:>8} | 0.000 | 0.000 | ok |\n", i * 37 % 1000))
            .collect();
        let minified = "!function(e,t){\"object\"==typeof exports?module.exports=t():e.m=t()}(this,function(){var e=function(e){return e&&e.length?e:[]};return{a:e,b:function(t){return e(t).map(function(e){return e+1})}}});".repeat(30);
        let hex_dump: String = (0..300)
            .map(|i| format!("{:08x}  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n", i * 16))
            .collect();
        let corpus: Vec<(&str, String)> = vec![
            ("zero array", zero_array),
            ("banner", banner),
            ("zero table of 1024", zero_table),
            ("ascii art", ascii_art),
            ("data table", data_table),
            ("minified js", minified),
            ("hex dump", hex_dump),
            ("Cargo.lock", include_str!("../../Cargo.lock").to_string()),
            ("README", include_str!("../../README.md").to_string()),
            ("this file", include_str!("loop_guard.rs").to_string()),
            ("the theme", include_str!("../tui/theme.rs").to_string()),
        ];
        for (name, content) in corpus {
            assert!(!is_degenerate(&content), "{name} judged degenerate");
            let mut guard = DegenerationGuard::default();
            let mut tripped = false;
            for piece in content.as_bytes().chunks(7) {
                guard.push(&String::from_utf8_lossy(piece));
                tripped |= guard.is_degenerate();
            }
            assert!(!tripped, "{name} streamed judged degenerate");
        }
    }
}
