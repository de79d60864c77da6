//! Before-images of the files each turn changed, so `/undo` restores them byte for byte.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::tools::ChangedFile;

/// One before-image per file per turn; a stack of turns.
#[derive(Debug, Default)]
pub struct UndoLog {
    turns: Vec<BTreeMap<PathBuf, Option<Vec<u8>>>>,
}

impl UndoLog {
    /// Starts recording a new turn.
    pub fn begin_turn(&mut self) {
        self.turns.push(BTreeMap::new());
    }

    /// Records files changed by a call (the first before-image of a file in a turn wins).
    pub fn record(&mut self, changed: &[ChangedFile]) {
        if self.turns.is_empty() {
            self.begin_turn();
        }
        if let Some(turn) = self.turns.last_mut() {
            for file in changed {
                turn.entry(file.path.clone())
                    .or_insert_with(|| file.before.clone());
            }
        }
    }

    /// Restores the last turn that changed files; returns the files restored or removed.
    pub fn undo(&mut self) -> std::io::Result<Vec<PathBuf>> {
        while let Some(turn) = self.turns.pop() {
            if turn.is_empty() {
                continue;
            }
            let mut restored = Vec::new();
            for (path, before) in turn {
                match before {
                    Some(bytes) => std::fs::write(&path, bytes)?,
                    None => {
                        if path.exists() {
                            std::fs::remove_file(&path)?;
                        }
                    }
                }
                restored.push(path);
            }
            return Ok(restored);
        }
        Ok(Vec::new())
    }

    /// What each file changed by the turns not undone held before the first of them changed
    /// it (`None`: it did not exist).
    pub fn session_before_images(&self) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
        let mut images = BTreeMap::new();
        for turn in &self.turns {
            for (path, before) in turn {
                images.entry(path.clone()).or_insert_with(|| before.clone());
            }
        }
        images
    }

    /// All files changed in the session so far.
    pub fn changed_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = self.turns.iter().flat_map(|t| t.keys().cloned()).collect();
        files.sort();
        files.dedup();
        files
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_restores_edits_and_removes_created_files() {
        let dir = tempfile::tempdir().unwrap();
        let edited = dir.path().join("a.txt");
        let created = dir.path().join("b.txt");
        std::fs::write(&edited, b"before\r\n").unwrap();
        let mut log = UndoLog::default();
        log.begin_turn();
        log.record(&[ChangedFile {
            path: edited.clone(),
            before: Some(b"before\r\n".to_vec()),
        }]);
        std::fs::write(&edited, b"after").unwrap();
        log.record(&[ChangedFile {
            path: edited.clone(),
            before: Some(b"after".to_vec()),
        }]);
        log.record(&[ChangedFile {
            path: created.clone(),
            before: None,
        }]);
        std::fs::write(&created, b"new").unwrap();
        log.begin_turn();
        let images = log.session_before_images();
        assert_eq!(
            images[&edited].as_deref(),
            Some(&b"before\r\n"[..]),
            "the first image wins"
        );
        assert_eq!(images[&created], None);
        let restored = log.undo().unwrap();
        assert_eq!(restored.len(), 2);
        assert_eq!(std::fs::read(&edited).unwrap(), b"before\r\n");
        assert!(!created.exists());
        assert!(
            log.session_before_images().is_empty(),
            "nothing left in effect"
        );
        assert!(log.undo().unwrap().is_empty());
    }
}
