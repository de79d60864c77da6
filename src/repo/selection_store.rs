//! Where each project's last [`PackSelection`] is kept between runs: one small JSON file per
//! project in gem's cache (`$GEM_CACHE_DIR/packs`, else the user's cache dir `gem/packs`).

use super::fingerprint::sha256_hex;
use super::previous_selection::PackSelection;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A directory of pack selections keyed by project root.
#[derive(Debug, Clone)]
pub struct SelectionStore {
    dir: PathBuf,
}

impl SelectionStore {
    /// A store in `dir` (created on the first save).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        SelectionStore { dir: dir.into() }
    }

    /// The default store: `$GEM_CACHE_DIR/packs`, else the user's cache dir `gem/packs`;
    /// `None` when there is no cache dir.
    pub fn default_location() -> Option<Self> {
        if let Some(dir) = std::env::var_os("GEM_CACHE_DIR") {
            return Some(Self::at(PathBuf::from(dir).join("packs")));
        }
        dirs::cache_dir().map(|dir| Self::at(dir.join("gem").join("packs")))
    }

    /// The selection saved for the project at `root`; `None` when there is none or it cannot
    /// be read (a fresh selection is then made, so nothing is lost).
    pub fn load(&self, root: &Path) -> Option<PackSelection> {
        let bytes = std::fs::read(self.file_for(root)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Saves `selection` for the project at `root`, replacing the file atomically.
    pub fn save(&self, root: &Path, selection: &PackSelection) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let mut temp = tempfile::NamedTempFile::new_in(&self.dir)?;
        serde_json::to_writer(&mut temp, selection)?;
        temp.flush()?;
        temp.persist(self.file_for(root))
            .map(|_| ())
            .map_err(|e| e.error)
    }

    fn file_for(&self, root: &Path) -> PathBuf {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let key = sha256_hex(root.to_string_lossy().as_bytes());
        self.dir.join(format!("{}.json", &key[..16]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_selection_loads_for_the_same_project_only() {
        let cache = tempfile::tempdir().unwrap();
        let one = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let store = SelectionStore::at(cache.path().join("packs"));
        assert_eq!(store.load(one.path()), None);
        let selection = PackSelection {
            budget: 42,
            whole: ["a.rs".to_string()].into(),
            ..PackSelection::default()
        };
        store.save(one.path(), &selection).unwrap();
        assert_eq!(store.load(one.path()), Some(selection));
        assert_eq!(store.load(other.path()), None);
    }

    #[test]
    fn an_unreadable_file_is_no_selection() {
        let cache = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let store = SelectionStore::at(cache.path());
        store.save(root.path(), &PackSelection::default()).unwrap();
        let file = std::fs::read_dir(cache.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        std::fs::write(file, b"{not json").unwrap();
        assert_eq!(store.load(root.path()), None);
    }
}
