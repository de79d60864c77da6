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

/// Whether the end of `text` is one short unit repeated many times ("thought thought thought…").
///
/// Looks for a period of 1–64 characters repeated to cover at least 256 characters and at least
/// 12 repetitions at the end of the text.
pub fn is_degenerate(text: &str) -> bool {
    let chars: Vec<char> = text.chars().rev().take(1024).collect();
    for period in 1..=64usize {
        let mut covered = period;
        while covered < chars.len() && chars[covered] == chars[covered - period] {
            covered += 1;
        }
        if covered >= 256 && covered / period >= 12 {
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
        assert!(is_degenerate(&"thought ".repeat(60)));
        assert!(is_degenerate(&format!("intro {}", "ab".repeat(200))));
        let prose = "The parser reads each token and builds a tree. ".to_string()
            + "Then the engine keeps its cache warm across turns, which saves time. "
            + &"fn main() { println!(\"{}\", 1 + 2); }\n".repeat(3);
        assert!(!is_degenerate(&prose));
    }
}
