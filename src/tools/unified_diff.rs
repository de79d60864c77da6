//! Unified diffs of file changes, shown to the user for approval and to the model as a result.

use similar::TextDiff;

/// Lines of context around each change.
const CONTEXT_LINES: usize = 3;

/// Unified diff from `old` (`None`: the file does not exist yet) to `new`, with `a/PATH` and
/// `b/PATH` headers. Line endings are shown as `\n`. Empty when nothing changes.
pub fn unified_diff(display_path: &str, old: Option<&str>, new: &str) -> String {
    let old_text = old.map(|t| t.replace("\r\n", "\n")).unwrap_or_default();
    let new_text = new.replace("\r\n", "\n");
    let old_name = match old {
        Some(_) => format!("a/{display_path}"),
        None => "/dev/null".to_string(),
    };
    TextDiff::from_lines(&old_text, &new_text)
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(&old_name, &format!("b/{display_path}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_of_a_change() {
        let diff = unified_diff("a.txt", Some("one\r\ntwo\r\n"), "one\r\n2\r\n");
        assert_eq!(
            diff,
            "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+2\n"
        );
    }

    #[test]
    fn diff_of_a_new_file() {
        let diff = unified_diff("n.txt", None, "hi\n");
        assert_eq!(diff, "--- /dev/null\n+++ b/n.txt\n@@ -0,0 +1 @@\n+hi\n");
    }

    #[test]
    fn no_change_is_empty() {
        assert_eq!(unified_diff("a", Some("x\n"), "x\n"), "");
    }
}

/// Numbers of added and removed lines in a unified diff.
pub fn diff_stat(diff: &str) -> (usize, usize) {
    diff.lines()
        .filter(|l| !l.starts_with("+++") && !l.starts_with("---"))
        .fold((0, 0), |(added, removed), line| {
            match line.as_bytes().first() {
                Some(b'+') => (added + 1, removed),
                Some(b'-') => (added, removed + 1),
                _ => (added, removed),
            }
        })
}

#[cfg(test)]
mod stat_tests {
    use super::*;

    #[test]
    fn counts_added_and_removed_lines() {
        let diff = unified_diff("a", Some("1\n2\n3\n"), "1\nx\ny\n3\n");
        assert_eq!(diff_stat(&diff), (2, 1));
    }
}
