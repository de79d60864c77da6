//! Counts in messages: `1 file`, `2 files`.

/// `n` with the noun in the right number: `plural(1, "edit", "edits")` is `1 edit`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_is_singular_and_the_rest_plural() {
        assert_eq!(super::plural(1, "file", "files"), "1 file");
        assert_eq!(super::plural(0, "file", "files"), "0 files");
        assert_eq!(super::plural(3, "line", "lines"), "3 lines");
    }
}
