//! Snapshots of the working tree around each turn that may change files, so `/undo` walks
//! back turn by turn (whatever tool made the change, `shell` included) and `/diff` shows what
//! changed since the session's first snapshot.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::shadow_store::{Restored, ShadowError, ShadowStore, Skipped, Snapshot};

/// Where `/undo`'s working-tree snapshots are kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SnapshotStore {
    /// None are taken: `/undo` reverts only what the edit and write tools changed.
    #[default]
    Off,
    /// In gem's data directory (`$GEM_DATA_DIR/snapshots`, else the platform's).
    DataDir,
    /// In this directory.
    At(PathBuf),
}

/// A turn that changed the working tree: the snapshots before and after it.
#[derive(Debug)]
struct TurnChange {
    before: Snapshot,
    after: Snapshot,
}

/// The session's snapshots in one project's shadow store.
#[derive(Debug)]
pub(crate) struct TurnSnapshots {
    store: ShadowStore,
    /// The session's first snapshot (what `/diff` compares with).
    first: Option<Snapshot>,
    /// The snapshot taken before the first change of the turn in progress.
    turn_start: Option<Snapshot>,
    /// The latest snapshot (the parent of the next commit).
    latest: Option<Snapshot>,
    /// Turns that changed something and were not undone, oldest first.
    changes: Vec<TurnChange>,
    /// Files already reported as left out of snapshots.
    reported: BTreeSet<PathBuf>,
}

impl TurnSnapshots {
    /// Snapshots of the project at `root`, kept in `store_dir`.
    pub(crate) fn open(root: &Path, store_dir: &Path) -> Result<Self, ShadowError> {
        Ok(TurnSnapshots {
            store: ShadowStore::open(root, store_dir)?,
            first: None,
            turn_start: None,
            latest: None,
            changes: Vec::new(),
            reported: BTreeSet::new(),
        })
    }

    /// Takes the turn's snapshot before a tool that may change files runs (once per turn);
    /// returns the files left out of it that were not reported before.
    pub(crate) fn before_change(&mut self) -> Result<Vec<Skipped>, ShadowError> {
        if self.turn_start.is_some() {
            return Ok(Vec::new());
        }
        let snapshot = self.take()?;
        if self.first.is_none() {
            self.first = Some(snapshot.clone());
        }
        let fresh = snapshot
            .skipped
            .iter()
            .filter(|s| self.reported.insert(s.path.clone()))
            .cloned()
            .collect();
        self.turn_start = Some(snapshot);
        Ok(fresh)
    }

    /// Ends the turn: when it took a snapshot and the tree changed since, the turn can be
    /// undone.
    pub(crate) fn end_turn(&mut self) -> Result<(), ShadowError> {
        let Some(before) = self.turn_start.take() else {
            return Ok(());
        };
        let after = self.take()?;
        if before.tree != after.tree {
            self.changes.push(TurnChange { before, after });
        }
        Ok(())
    }

    /// Restores the files the last remaining turn changed to their state before it; `None`
    /// when no turn is left to undo.
    pub(crate) fn undo(&mut self) -> Result<Option<Restored>, ShadowError> {
        let Some(change) = self.changes.pop() else {
            return Ok(None);
        };
        match self.store.restore(&change.before, &change.after) {
            Ok(restored) => Ok(Some(restored)),
            Err(e) => {
                self.changes.push(change);
                Err(e)
            }
        }
    }

    /// Unified diffs of what changed since the session's first snapshot (empty before it).
    pub(crate) fn session_diffs(&mut self) -> Result<Vec<String>, ShadowError> {
        let Some(first) = self.first.clone() else {
            return Ok(Vec::new());
        };
        let now = self.take()?;
        self.store.diffs(&first, &now)
    }

    /// Lowers the limits on what a snapshot may hold (tests).
    #[cfg(test)]
    pub(crate) fn limit(&mut self, max_files: usize, max_total_bytes: u64) {
        self.store.limit(max_files, max_total_bytes);
    }

    fn take(&mut self) -> Result<Snapshot, ShadowError> {
        let snapshot = self
            .store
            .snapshot(self.latest.as_ref().map(|s| s.commit))?;
        self.latest = Some(snapshot.clone());
        Ok(snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A project with a `.gitignore`, and its snapshots in a separate store directory.
    fn project() -> (tempfile::TempDir, tempfile::TempDir, TurnSnapshots) {
        let dir = tempfile::tempdir().unwrap();
        let store = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".gitignore"), "target/\n*.log\n").unwrap();
        std::fs::write(dir.path().join("kept.txt"), "original\r\n").unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "fn a() {}\n").unwrap();
        let snapshots = TurnSnapshots::open(dir.path(), store.path()).unwrap();
        (dir, store, snapshots)
    }

    fn read(dir: &tempfile::TempDir, rel: &str) -> String {
        std::fs::read_to_string(dir.path().join(rel)).unwrap()
    }

    #[test]
    fn undo_restores_an_edit_byte_for_byte() {
        let (dir, _store, mut snaps) = project();
        snaps.before_change().unwrap();
        std::fs::write(dir.path().join("kept.txt"), "edited").unwrap();
        snaps.end_turn().unwrap();
        let restored = snaps.undo().unwrap().unwrap();
        assert_eq!(restored.files, vec![PathBuf::from("kept.txt")]);
        assert_eq!(read(&dir, "kept.txt"), "original\r\n");
        assert!(snaps.undo().unwrap().is_none(), "one turn, one undo");
    }

    #[test]
    fn undo_removes_a_created_file_and_its_new_directories() {
        let (dir, _store, mut snaps) = project();
        snaps.before_change().unwrap();
        std::fs::create_dir_all(dir.path().join("new/deep")).unwrap();
        std::fs::write(dir.path().join("new/deep/made.txt"), "by a shell").unwrap();
        std::fs::write(dir.path().join("src/extra.rs"), "x").unwrap();
        snaps.end_turn().unwrap();
        let restored = snaps.undo().unwrap().unwrap();
        assert_eq!(restored.files.len(), 2, "{restored:?}");
        assert!(!dir.path().join("new").exists());
        assert!(!dir.path().join("src/extra.rs").exists());
        assert!(
            dir.path().join("src").is_dir(),
            "a directory that was there stays"
        );
    }

    #[test]
    fn undo_recreates_a_deleted_file_with_its_mode() {
        let (dir, _store, mut snaps) = project();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let script = dir.path().join("run.sh");
            std::fs::write(&script, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        snaps.before_change().unwrap();
        std::fs::remove_dir_all(dir.path().join("src")).unwrap();
        #[cfg(unix)]
        std::fs::remove_file(dir.path().join("run.sh")).unwrap();
        snaps.end_turn().unwrap();
        snaps.undo().unwrap().unwrap();
        assert_eq!(read(&dir, "src/lib.rs"), "fn a() {}\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("run.sh"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o111, 0o111, "executable again: {mode:o}");
        }
    }

    #[test]
    fn two_undos_walk_back_two_turns_and_keep_the_users_own_edits() {
        let (dir, _store, mut snaps) = project();
        snaps.before_change().unwrap();
        std::fs::write(dir.path().join("kept.txt"), "turn one").unwrap();
        snaps.end_turn().unwrap();
        // Between the turns the user edits another file themselves.
        std::fs::write(dir.path().join("src/lib.rs"), "fn mine() {}\n").unwrap();
        snaps.before_change().unwrap();
        std::fs::write(dir.path().join("kept.txt"), "turn two").unwrap();
        std::fs::write(dir.path().join("two.txt"), "new").unwrap();
        snaps.end_turn().unwrap();
        // A turn that changes nothing is not an undo step.
        snaps.before_change().unwrap();
        snaps.end_turn().unwrap();

        let second = snaps.undo().unwrap().unwrap();
        assert_eq!(second.files.len(), 2);
        assert_eq!(read(&dir, "kept.txt"), "turn one");
        assert!(!dir.path().join("two.txt").exists());
        let first = snaps.undo().unwrap().unwrap();
        assert_eq!(first.files, vec![PathBuf::from("kept.txt")]);
        assert_eq!(read(&dir, "kept.txt"), "original\r\n");
        assert_eq!(read(&dir, "src/lib.rs"), "fn mine() {}\n");
        assert!(snaps.undo().unwrap().is_none());
    }

    #[test]
    fn ignored_files_and_git_are_never_touched() {
        let (dir, _store, mut snaps) = project();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(dir.path().join("old.log"), "before").unwrap();
        snaps.before_change().unwrap();
        std::fs::create_dir_all(dir.path().join("target")).unwrap();
        std::fs::write(dir.path().join("target/out.bin"), "built").unwrap();
        std::fs::write(dir.path().join("old.log"), "after").unwrap();
        std::fs::write(dir.path().join(".git/HEAD"), "ref: refs/heads/other\n").unwrap();
        std::fs::write(dir.path().join(".hidden"), "dotfile").unwrap();
        snaps.end_turn().unwrap();
        let restored = snaps.undo().unwrap().unwrap();
        assert_eq!(
            restored.files,
            vec![PathBuf::from(".hidden")],
            "dotfiles are covered"
        );
        assert_eq!(read(&dir, "target/out.bin"), "built");
        assert_eq!(read(&dir, "old.log"), "after");
        assert_eq!(read(&dir, ".git/HEAD"), "ref: refs/heads/other\n");
    }

    #[test]
    fn large_files_are_left_out_reported_once_and_never_removed() {
        let (dir, _store, mut snaps) = project();
        let big = vec![b'x'; super::super::shadow_store::MAX_FILE_BYTES as usize + 1];
        std::fs::write(dir.path().join("big.bin"), &big).unwrap();
        let skipped = snaps.before_change().unwrap();
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].path, PathBuf::from("big.bin"));
        assert!(skipped[0].reason.contains("10 MB"), "{}", skipped[0].reason);
        // The turn shrinks it: undo cannot bring the large original back, and must not
        // remove the file either.
        std::fs::write(dir.path().join("big.bin"), "small now").unwrap();
        snaps.end_turn().unwrap();
        let restored = snaps.undo().unwrap().unwrap();
        assert!(restored.files.is_empty());
        assert_eq!(restored.left.len(), 1);
        assert_eq!(read(&dir, "big.bin"), "small now");
        std::fs::write(dir.path().join("big.bin"), &big).unwrap();
        snaps.before_change().unwrap();
        snaps.end_turn().unwrap();
        assert!(snaps.before_change().unwrap().is_empty(), "reported once");
    }

    #[test]
    fn a_project_too_large_is_refused() {
        let (_dir, _store, mut snaps) = project();
        snaps.limit(2, u64::MAX);
        assert!(matches!(
            snaps.before_change(),
            Err(ShadowError::TooLarge { max_files: 2, .. })
        ));
        snaps.limit(100, 10);
        assert!(matches!(
            snaps.before_change(),
            Err(ShadowError::TooLarge { .. })
        ));
        snaps.limit(100, 1000);
        assert!(snaps.before_change().is_ok(), "three small files fit");
    }

    #[test]
    fn session_diffs_show_changes_since_the_first_snapshot_and_forget_undone_ones() {
        let (dir, _store, mut snaps) = project();
        assert!(
            snaps.session_diffs().unwrap().is_empty(),
            "nothing before a snapshot"
        );
        snaps.before_change().unwrap();
        std::fs::write(dir.path().join("kept.txt"), "one\n").unwrap();
        snaps.end_turn().unwrap();
        snaps.before_change().unwrap();
        std::fs::write(dir.path().join("made.txt"), "two\n").unwrap();
        snaps.end_turn().unwrap();
        let diffs = snaps.session_diffs().unwrap();
        assert_eq!(diffs.len(), 2, "{diffs:?}");
        assert!(diffs.iter().any(|d| d.contains("+++ b/made.txt")));
        snaps.undo().unwrap().unwrap();
        let diffs = snaps.session_diffs().unwrap();
        assert_eq!(diffs.len(), 1, "{diffs:?}");
        assert!(diffs[0].contains("+one"), "{}", diffs[0]);
    }

    #[test]
    fn a_second_snapshot_trusts_the_stat_of_unchanged_files() {
        let (dir, _store, mut snaps) = project();
        let file = dir.path().join("src/lib.rs");
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        let set_mtime = |time| {
            let f = std::fs::File::options().write(true).open(&file).unwrap();
            f.set_modified(time).unwrap();
        };
        set_mtime(past);
        snaps.before_change().unwrap();
        snaps.end_turn().unwrap();
        let first = snaps.latest.clone().unwrap().tree;
        // Same size, same modification time: only reading the file would notice; the stat
        // cache does not read it.
        std::fs::write(&file, "fn z() {}\n").unwrap();
        set_mtime(past);
        snaps.before_change().unwrap();
        assert_eq!(
            snaps.turn_start.as_ref().unwrap().tree,
            first,
            "the file was read again"
        );
        // A write that moves the modification time is seen, even at the same size.
        std::fs::write(&file, "fn y() {}\n").unwrap();
        snaps.end_turn().unwrap();
        assert_eq!(
            snaps.undo().unwrap().unwrap().files,
            vec![PathBuf::from("src/lib.rs")]
        );
        // Back to the turn's snapshot, which holds what the stat said was unchanged.
        assert_eq!(read(&dir, "src/lib.rs"), "fn a() {}\n");
    }
}
