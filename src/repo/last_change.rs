//! When each file last changed, in an order that survives a fresh clone.
//!
//! Packing puts the least recently changed files first, so an edit (which usually lands on a
//! recently changed file) invalidates only the end of the cached prefix. Modification times
//! cannot carry that order into a fresh clone, where every file was written at checkout. In a
//! git work tree a file that is unchanged since its last commit is therefore ranked by that
//! commit (found by walking the history from `HEAD`, newest first, diffing each commit against
//! its first parent); files with uncommitted changes and untracked files come after every
//! committed one, by modification time. Outside git every file is ranked by modification time.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use git2::{DiffOptions, Repository, Sort, Status, StatusOptions};

use super::walk::Candidate;

/// Commits read at most when looking for each file's last change; files not touched in them
/// rank as the oldest. A count, not a time budget, so the order is the same on every machine.
const MAX_COMMITS: usize = 2_000;

/// When a file last changed; later changes compare greater.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LastChange {
    /// Unchanged since a commit: the number of commits after it on the way to `HEAD`
    /// (`Reverse(0)` is `HEAD` itself; files not found within [`MAX_COMMITS`] rank oldest).
    Committed(Reverse<usize>),
    /// Changed in the work tree, untracked, or outside git: the modification time.
    Uncommitted(SystemTime),
}

/// Ranks the candidates found under `root` by their last commit when `root` is in a git work
/// tree with history; leaves the modification times in place otherwise (and for files with
/// uncommitted changes). Git errors leave the candidates as they are: ordering is an
/// optimisation, never a reason to fail packing.
pub fn rank_by_git_history(root: &Path, candidates: &mut [Candidate]) {
    let Ok(repo) = Repository::discover(root) else {
        return;
    };
    let Some(prefix) = path_in_work_tree(&repo, root) else {
        return;
    };
    let Ok(dirty) = changed_paths(&repo) else {
        return;
    };
    let mut wanted: HashMap<PathBuf, usize> = candidates
        .iter()
        .enumerate()
        .map(|(index, c)| (prefix.join(&c.rel_path), index))
        .filter(|(path, _)| !dirty.contains(path))
        .collect();
    let Ok(found) = last_commits(&repo, &mut wanted) else {
        return;
    };
    for (index, rank) in found {
        candidates[index].last_change = LastChange::Committed(Reverse(rank));
    }
    for index in wanted.into_values() {
        candidates[index].last_change = LastChange::Committed(Reverse(usize::MAX));
    }
}

/// `root` relative to the repository's work tree (empty at its top), if it lies inside it.
fn path_in_work_tree(repo: &Repository, root: &Path) -> Option<PathBuf> {
    let work_tree = repo.workdir()?.canonicalize().ok()?;
    let root = root.canonicalize().ok()?;
    root.strip_prefix(&work_tree).ok().map(Path::to_path_buf)
}

/// Paths (relative to the work tree) that differ from `HEAD` or are untracked.
fn changed_paths(repo: &Repository) -> Result<HashSet<PathBuf>, git2::Error> {
    let mut options = StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    let statuses = repo.statuses(Some(&mut options))?;
    Ok(statuses
        .iter()
        .filter(|entry| entry.status() != Status::CURRENT)
        .map(|entry| PathBuf::from(std::ffi::OsStr::from_bytes(entry.path_bytes())))
        .collect())
}

/// For each wanted path changed within the last [`MAX_COMMITS`] commits, its candidate index
/// and the rank of the newest commit that changed it; found paths are removed from `wanted`.
fn last_commits(
    repo: &Repository,
    wanted: &mut HashMap<PathBuf, usize>,
) -> Result<Vec<(usize, usize)>, git2::Error> {
    let mut found = Vec::new();
    let mut walk = repo.revwalk()?;
    if walk.push_head().is_err() {
        // No commit yet: everything is uncommitted.
        return Ok(found);
    }
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)?;
    let mut options = DiffOptions::new();
    options.skip_binary_check(true);
    for (rank, oid) in walk.take(MAX_COMMITS).enumerate() {
        if wanted.is_empty() {
            break;
        }
        let commit = repo.find_commit(oid?)?;
        let tree = commit.tree()?;
        let parent_tree = match commit.parents().next() {
            Some(parent) => Some(parent.tree()?),
            None => None,
        };
        let diff = repo.diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut options))?;
        for delta in diff.deltas() {
            if let Some(index) = delta.new_file().path().and_then(|p| wanted.remove(p)) {
                found.push((index, rank));
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;
    use std::time::{Duration, SystemTime};

    use git2::Repository;

    use crate::git_fixture::commit_files;
    use crate::repo::{PackOptions, PackedRepo, display_path, pack};

    /// Sets the modification time of every file in `root` (not `.git`), the later the
    /// earlier its name sorts: the opposite of the history's order.
    fn scramble_mtimes(root: &Path, names: &[&str]) {
        for (i, name) in names.iter().enumerate() {
            let time = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000 - i as u64);
            let file = fs::File::options()
                .write(true)
                .open(root.join(name))
                .unwrap();
            file.set_modified(time).unwrap();
        }
    }

    fn pack_all(root: &Path) -> PackedRepo {
        let count = |text: &str| text.len().div_ceil(4);
        pack(root, &PackOptions::default(), &count).unwrap()
    }

    fn order(packed: &PackedRepo) -> Vec<String> {
        packed.included.iter().map(|p| display_path(p)).collect()
    }

    /// The origin: `b.rs` and `old.rs` first, then `mid.rs` (and `b.rs` again), then `new.rs`.
    fn origin(dir: &Path) -> Repository {
        let repo = Repository::init(dir).unwrap();
        commit_files(
            &repo,
            &[("b.rs", "b1\n"), ("old.rs", "old\n")],
            "change",
            1_000,
        );
        commit_files(
            &repo,
            &[("mid.rs", "mid\n"), ("b.rs", "b2\n")],
            "change",
            2_000,
        );
        commit_files(&repo, &[("new.rs", "new\n")], "change", 3_000);
        repo
    }

    #[test]
    fn files_follow_their_last_commit_and_a_fresh_clone_packs_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let origin_dir = dir.path().join("origin");
        fs::create_dir(&origin_dir).unwrap();
        origin(&origin_dir);
        let names = ["b.rs", "mid.rs", "new.rs", "old.rs"];
        scramble_mtimes(&origin_dir, &names);
        let packed = pack_all(&origin_dir);
        assert_eq!(order(&packed), ["old.rs", "b.rs", "mid.rs", "new.rs"]);

        // A fresh clone: every file written at checkout, in no telling order.
        let clone_dir = dir.path().join("clone");
        Repository::clone(origin_dir.to_str().unwrap(), &clone_dir).unwrap();
        scramble_mtimes(&clone_dir, &["new.rs", "old.rs", "b.rs", "mid.rs"]);
        let cloned = pack_all(&clone_dir);
        assert_eq!(cloned.text, packed.text, "the same pack, byte for byte");
    }

    #[test]
    fn uncommitted_and_untracked_files_come_last_and_the_rest_keeps_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let repo = origin(dir.path());
        let before = pack_all(dir.path());
        fs::write(dir.path().join("mid.rs"), "mid, edited\n").unwrap();
        fs::write(dir.path().join("a_untracked.rs"), "fresh\n").unwrap();
        let after = pack_all(dir.path());
        let order_after = order(&after);
        assert_eq!(&order_after[..3], ["old.rs", "b.rs", "new.rs"]);
        let mut last_two = order_after[3..].to_vec();
        last_two.sort();
        assert_eq!(last_two, ["a_untracked.rs", "mid.rs"]);
        // Everything before the edited file's old place is the same text: the cached
        // prefix up to there stays valid.
        let old_place = before.text.find("mid.rs").unwrap();
        assert_eq!(after.text[..old_place], before.text[..old_place]);

        // Committing the edit keeps it last (the newest commit).
        commit_files(&repo, &[("mid.rs", "mid, edited\n")], "change", 4_000);
        fs::remove_file(dir.path().join("a_untracked.rs")).unwrap();
        assert_eq!(
            order(&pack_all(dir.path())),
            ["old.rs", "b.rs", "new.rs", "mid.rs"]
        );
    }

    #[test]
    fn a_project_below_the_top_of_the_work_tree_uses_the_history_too() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        commit_files(&repo, &[("sub/z.rs", "z\n")], "change", 1_000);
        commit_files(&repo, &[("sub/a.rs", "a\n")], "change", 2_000);
        scramble_mtimes(&dir.path().join("sub"), &["a.rs", "z.rs"]);
        assert_eq!(order(&pack_all(&dir.path().join("sub"))), ["z.rs", "a.rs"]);
    }
}
