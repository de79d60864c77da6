//! Getting the diff for `gem review`: computing it from a repository against a base
//! revision, and summarising a unified diff (files touched, lines added and removed).

use std::path::Path;

use git2::{DiffFormat, DiffOptions, Repository};
use thiserror::Error;

/// Why the diff to review could not be computed.
#[derive(Debug, Error)]
pub enum DiffInputError {
    /// No git repository at or above the given directory.
    #[error("`{}` is not inside a git repository ({source}); run gem review in a repository, or pipe a diff in: `git diff | gem review`", path.display())]
    NotARepository {
        /// The directory that was searched from.
        path: std::path::PathBuf,
        /// The underlying error.
        #[source]
        source: git2::Error,
    },
    /// The base revision does not name a commit or tree.
    #[error(
        "cannot find the base revision `{base}` ({source}); pass an existing branch, tag or commit such as `main` or `HEAD~1`"
    )]
    UnknownBase {
        /// The revision as given.
        base: String,
        /// The underlying error.
        #[source]
        source: git2::Error,
    },
    /// libgit2 failed while computing the diff.
    #[error("git failed while computing the diff: {0}")]
    Git(#[from] git2::Error),
}

/// The diff between revision `base` and the working directory (staged and unstaged changes),
/// as patch text, like `git diff BASE`.
///
/// `repo_root` may be any directory inside the repository; paths in the patch are relative
/// to the repository root. Untracked files are left out (stage them to include them);
/// binary files appear as `Binary files … differ`; non-UTF-8 bytes are replaced.
pub fn diff_against(repo_root: &Path, base: &str) -> Result<String, DiffInputError> {
    let repo =
        Repository::discover(repo_root).map_err(|source| DiffInputError::NotARepository {
            path: repo_root.to_path_buf(),
            source,
        })?;
    let base_tree = repo
        .revparse_single(base)
        .and_then(|object| object.peel_to_tree())
        .map_err(|source| DiffInputError::UnknownBase {
            base: base.to_string(),
            source,
        })?;
    let mut options = DiffOptions::new();
    let diff = repo.diff_tree_to_workdir_with_index(Some(&base_tree), Some(&mut options))?;
    let mut text = Vec::new();
    diff.print(DiffFormat::Patch, |_delta, _hunk, line| {
        if matches!(line.origin(), '+' | '-' | ' ') {
            text.push(line.origin() as u8);
        }
        text.extend_from_slice(line.content());
        true
    })?;
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// What a unified diff touches.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiffSummary {
    /// Paths of the changed files, in diff order, each once (the new path for renames, the
    /// old path for deletions).
    pub files: Vec<String>,
    /// Lines added.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
}

/// Summarises a unified diff: git's (`diff --git` headers, renames, binary and mode-only
/// changes) or plain `diff -u` output.
///
/// Hunk line counts are followed, so content lines such as `+++x` or `--- y` inside a hunk
/// count as changes, not headers.
pub fn summarize_diff(diff: &str) -> DiffSummary {
    let mut summary = DiffSummary::default();
    let mut file = FileHeader::default();
    let mut old_left = 0usize;
    let mut new_left = 0usize;
    for line in diff.lines() {
        if old_left > 0 || new_left > 0 {
            match line.as_bytes().first() {
                Some(b'+') => {
                    summary.added += 1;
                    new_left = new_left.saturating_sub(1);
                }
                Some(b'-') => {
                    summary.removed += 1;
                    old_left = old_left.saturating_sub(1);
                }
                Some(b'\\') => {}
                _ => {
                    old_left = old_left.saturating_sub(1);
                    new_left = new_left.saturating_sub(1);
                }
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("diff --git ") {
            file.finish(&mut summary.files);
            file.git_name = git_header_path(rest);
        } else if let Some(rest) = line.strip_prefix("--- ") {
            if file.new.is_some() || file.had_hunk {
                file.finish(&mut summary.files);
            }
            file.old = Some(header_path(rest, "a/"));
        } else if let Some(rest) = line.strip_prefix("+++ ") {
            file.new = Some(header_path(rest, "b/"));
        } else if let Some(rest) = line.strip_prefix("rename to ") {
            file.renamed_to = Some(unquote(rest));
        } else if let Some((old, new)) = hunk_counts(line) {
            file.had_hunk = true;
            old_left = old;
            new_left = new;
        }
    }
    file.finish(&mut summary.files);
    summary
}

/// The names seen in one file's headers.
#[derive(Default)]
struct FileHeader {
    git_name: Option<String>,
    old: Option<String>,
    new: Option<String>,
    renamed_to: Option<String>,
    had_hunk: bool,
}

impl FileHeader {
    /// Records this file's best name (if any) and starts afresh.
    fn finish(&mut self, files: &mut Vec<String>) {
        let header = std::mem::take(self);
        let real = |name: Option<String>| name.filter(|name| name != "/dev/null");
        let name = real(header.new)
            .or(header.renamed_to)
            .or(real(header.old))
            .or(header.git_name);
        if let Some(name) = name.filter(|name| !name.is_empty())
            && !files.contains(&name)
        {
            files.push(name);
        }
    }
}

/// The new path from the rest of a `diff --git a/X b/Y` line.
fn git_header_path(rest: &str) -> Option<String> {
    if rest.starts_with('"') {
        // Quoted paths: `"a/x y" "b/x y"` or a mix with one quoted side.
        let new = rest
            .rsplit_once(" \"b/")
            .map(|(_, new)| format!("\"b/{new}"))?;
        return Some(header_path(&new, "b/"));
    }
    let rest = rest.strip_prefix("a/")?;
    // Same old and new path (the usual case, spaces allowed): `P b/P`.
    let half = rest.len().checked_sub(3)? / 2;
    if rest.is_char_boundary(half)
        && rest[half..].starts_with(" b/")
        && rest[..half] == rest[half + 3..]
    {
        return Some(rest[..half].to_string());
    }
    rest.rsplit_once(" b/").map(|(_, new)| unquote(new))
}

/// The path on a `---`/`+++` line: unquoted, without a trailing timestamp, without `prefix`.
fn header_path(rest: &str, prefix: &str) -> String {
    let rest = rest.trim_end_matches('\r');
    let path = if rest.starts_with('"') {
        unquote(rest)
    } else {
        rest.split('\t')
            .next()
            .unwrap_or(rest)
            .trim_end()
            .to_string()
    };
    match path.strip_prefix(prefix) {
        Some(stripped) => stripped.to_string(),
        None => path,
    }
}

/// Git's C-style quoting (`"a/\303\251 \"x\""`) undone; unquoted text is returned as is.
fn unquote(text: &str) -> String {
    let Some(inner) = text.strip_prefix('"') else {
        return text.to_string();
    };
    let mut bytes = Vec::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('n') => bytes.push(b'\n'),
                Some('t') => bytes.push(b'\t'),
                Some('r') => bytes.push(b'\r'),
                Some(digit @ '0'..='7') => {
                    let mut value = digit.to_digit(8).unwrap_or(0);
                    for _ in 0..2 {
                        match chars.peek().and_then(|c| c.to_digit(8)) {
                            Some(next) => {
                                value = value * 8 + next;
                                chars.next();
                            }
                            None => break,
                        }
                    }
                    bytes.push(value as u8);
                }
                Some(other) => {
                    let mut buffer = [0; 4];
                    bytes.extend_from_slice(other.encode_utf8(&mut buffer).as_bytes());
                }
                None => {}
            },
            other => {
                let mut buffer = [0; 4];
                bytes.extend_from_slice(other.encode_utf8(&mut buffer).as_bytes());
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Old and new line counts from a hunk header `@@ -a[,b] +c[,d] @@`.
fn hunk_counts(line: &str) -> Option<(usize, usize)> {
    let rest = line.strip_prefix("@@ -")?;
    let (ranges, _) = rest.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let count = |range: &str| match range.split_once(',') {
        Some((_, count)) => count.parse().ok(),
        None => range.parse::<usize>().ok().map(|_| 1),
    };
    Some((count(old)?, count(new)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use git2::{IndexAddOption, Signature};
    use std::fs;
    use tempfile::TempDir;

    fn commit_all(repo: &Repository, message: &str) {
        let mut index = repo.index().unwrap();
        index.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
        index.update_all(["*"], None).unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let signature = Signature::now("test", "test@example.com").unwrap();
        let parent = repo.head().ok().map(|head| head.peel_to_commit().unwrap());
        let parents: Vec<_> = parent.iter().collect();
        repo.commit(
            Some("HEAD"),
            &signature,
            &signature,
            message,
            &tree,
            &parents,
        )
        .unwrap();
    }

    /// A repo with two commits, then an unstaged edit, a staged new file and an untracked one.
    fn sample_repo() -> TempDir {
        let dir = TempDir::new().unwrap();
        let root = dir.path();
        let repo = Repository::init(root).unwrap();
        fs::create_dir(root.join("src")).unwrap();
        fs::write(
            root.join("src/main.rs"),
            "fn main() {\n    println!(\"hi\");\n}\n",
        )
        .unwrap();
        fs::write(root.join("old.txt"), "going away\n").unwrap();
        commit_all(&repo, "first");
        fs::remove_file(root.join("old.txt")).unwrap();
        fs::write(root.join("lib.rs"), "pub fn f() {}\n").unwrap();
        commit_all(&repo, "second");
        fs::write(
            root.join("src/main.rs"),
            "fn main() {\n    println!(\"hello\");\n}\n",
        )
        .unwrap();
        fs::write(root.join("staged.rs"), "// staged\n").unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(Path::new("staged.rs")).unwrap();
        index.write().unwrap();
        fs::write(root.join("untracked.rs"), "// not added\n").unwrap();
        dir
    }

    #[test]
    fn diff_against_head_has_staged_and_unstaged_changes_only() {
        let repo = sample_repo();
        let diff = diff_against(repo.path(), "HEAD").unwrap();
        assert!(
            diff.contains("diff --git a/src/main.rs b/src/main.rs"),
            "{diff}"
        );
        assert!(
            diff.contains("-    println!(\"hi\");\n+    println!(\"hello\");"),
            "{diff}"
        );
        assert!(diff.contains("+++ b/staged.rs"), "{diff}");
        assert!(!diff.contains("untracked.rs"), "{diff}");
        assert!(!diff.contains("lib.rs"), "{diff}");
        let summary = summarize_diff(&diff);
        assert_eq!(summary.files, vec!["src/main.rs", "staged.rs"]);
        assert_eq!((summary.added, summary.removed), (2, 1));
    }

    #[test]
    fn diff_against_an_older_commit_includes_committed_changes() {
        let repo = sample_repo();
        let diff = diff_against(&repo.path().join("src"), "HEAD~1").unwrap();
        let summary = summarize_diff(&diff);
        let mut files = summary.files.clone();
        files.sort();
        assert_eq!(files, vec!["lib.rs", "old.txt", "src/main.rs", "staged.rs"]);
        assert_eq!((summary.added, summary.removed), (3, 2));
    }

    #[test]
    fn diff_against_itself_is_empty_when_clean() {
        let dir = TempDir::new().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        fs::write(dir.path().join("a.txt"), "a\n").unwrap();
        commit_all(&repo, "only");
        assert_eq!(diff_against(dir.path(), "HEAD").unwrap(), "");
    }

    #[test]
    fn unknown_base_names_the_revision() {
        let repo = sample_repo();
        let error = diff_against(repo.path(), "no-such-branch").unwrap_err();
        assert!(
            matches!(error, DiffInputError::UnknownBase { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("`no-such-branch`"), "{error}");
    }

    #[test]
    fn outside_a_repository_suggests_piping() {
        let dir = TempDir::new().unwrap();
        let lone = dir.path().join("lone");
        fs::create_dir(&lone).unwrap();
        if Repository::discover(&lone).is_ok() {
            return; // the temp directory sits inside a repository on this machine
        }
        let error = diff_against(&lone, "HEAD").unwrap_err();
        assert!(
            error.to_string().contains("git diff | gem review"),
            "{error}"
        );
    }

    #[test]
    fn summary_of_git_diff_with_rename_delete_binary_and_mode_change() {
        let diff = "\
diff --git a/src/old name.rs b/src/new name.rs
similarity index 90%
rename from src/old name.rs
rename to src/new name.rs
index 1111111..2222222 100644
--- a/src/old name.rs
+++ b/src/new name.rs
@@ -1,3 +1,3 @@
 fn a() {}
--- removed line that looks like a header
+++ added line that looks like a header
 fn b() {}
diff --git a/gone.txt b/gone.txt
deleted file mode 100644
index 3333333..0000000
--- a/gone.txt
+++ /dev/null
@@ -1,2 +0,0 @@
-one
-two
\\ No newline at end of file
diff --git a/logo.png b/logo.png
index 4444444..5555555 100644
Binary files a/logo.png and b/logo.png differ
diff --git a/run.sh b/run.sh
old mode 100644
new mode 100755
diff --git a/only-renamed.rs b/moved/only-renamed.rs
similarity index 100%
rename from only-renamed.rs
rename to moved/only-renamed.rs
";
        let summary = summarize_diff(diff);
        assert_eq!(
            summary.files,
            vec![
                "src/new name.rs",
                "gone.txt",
                "logo.png",
                "run.sh",
                "moved/only-renamed.rs"
            ]
        );
        assert_eq!(summary.added, 1);
        assert_eq!(summary.removed, 3);
    }

    #[test]
    fn summary_of_plain_unified_diff() {
        let diff = "\
--- a.txt\t2024-01-01 10:00:00.000000000 +0000
+++ a.txt\t2024-01-02 10:00:00.000000000 +0000
@@ -1 +1,2 @@
 keep
+more
--- dir/b.txt\t2024-01-01 10:00:00.000000000 +0000
+++ dir/b.txt\t2024-01-02 10:00:00.000000000 +0000
@@ -1,2 +1 @@
-gone

";
        let summary = summarize_diff(diff);
        assert_eq!(summary.files, vec!["a.txt", "dir/b.txt"]);
        assert_eq!((summary.added, summary.removed), (1, 1));
    }

    #[test]
    fn summary_unquotes_git_quoted_paths() {
        let diff = "\
diff --git \"a/caf\\303\\251 \\\"x\\\".txt\" \"b/caf\\303\\251 \\\"x\\\".txt\"
new file mode 100644
index 0000000..1111111
--- /dev/null
+++ \"b/caf\\303\\251 \\\"x\\\".txt\"
@@ -0,0 +1 @@
+hi
";
        let summary = summarize_diff(diff);
        assert_eq!(summary.files, vec!["café \"x\".txt"]);
        assert_eq!((summary.added, summary.removed), (1, 0));
    }

    #[test]
    fn summary_of_empty_text_is_empty() {
        assert_eq!(summarize_diff(""), DiffSummary::default());
        assert_eq!(
            summarize_diff("not a diff at all\n"),
            DiffSummary::default()
        );
    }
}
