//! A git repository outside the project that holds snapshots of its working tree.
//!
//! One bare repository per project, under gem's data directory and named by a hash of the
//! project's canonical path. A snapshot is a commit of every file the project's ignore rules
//! let through (`.git/` never, files over [`MAX_FILE_BYTES`] skipped); the repository's index
//! keeps each file's size and modification time, so a snapshot only reads the files that
//! changed since the last one. The project's own `.git` is never read or written.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use git2::{IndexEntry, IndexTime, Oid, Repository};
use sha2::{Digest, Sha256};

/// Files larger than this are left out of snapshots (and so never restored or removed).
pub(crate) const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// A project with more files than this (besides ignored and large ones) is not snapshotted.
const MAX_FILES: usize = 100_000;

/// A project whose files (besides ignored and large ones) hold more than this is not
/// snapshotted: the first snapshot copies them all into the store.
const MAX_TOTAL_BYTES: u64 = 1024 * 1024 * 1024;

/// The subdirectory of gem's data directory that holds the shadow repositories.
const STORE_SUBDIR: &str = "snapshots";

/// How long before the index write a file must have been modified for its stat to be trusted.
const RACY_MARGIN: std::time::Duration = std::time::Duration::from_secs(2);

/// Git file modes.
const MODE_FILE: u32 = 0o100644;
const MODE_EXECUTABLE: u32 = 0o100755;
const MODE_LINK: u32 = 0o120000;

/// Why the shadow store failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ShadowError {
    /// Neither `GEM_DATA_DIR` nor a platform data directory is available.
    #[error("no data directory for snapshots: set GEM_DATA_DIR")]
    NoDataDir,
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The project is too large to snapshot at every turn.
    #[error(
        "the project holds more than {max_files} files or {} MB besides ignored and large \
         files, too much to snapshot",
        max_bytes / (1024 * 1024)
    )]
    TooLarge {
        /// The file limit.
        max_files: usize,
        /// The byte limit.
        max_bytes: u64,
    },
    /// The shadow repository failed.
    #[error("snapshot store: {0}")]
    Git(#[from] git2::Error),
}

impl ShadowError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        ShadowError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// A file left out of a snapshot, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Skipped {
    /// The file, relative to the project root.
    pub path: PathBuf,
    /// Why (e.g. `over 10 MB`).
    pub reason: String,
}

/// One snapshot of the working tree.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// The snapshot's commit in the shadow repository.
    pub commit: Oid,
    /// Its tree.
    pub tree: Oid,
    /// Files that exist but are not in it.
    pub skipped: Vec<Skipped>,
}

/// What [`ShadowStore::restore`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Restored {
    /// Files written back, recreated or removed, relative to the project root.
    pub files: Vec<PathBuf>,
    /// Files left as they are, and why.
    pub left: Vec<Skipped>,
}

/// The shadow repository of one project.
pub(crate) struct ShadowStore {
    repo: Repository,
    root: PathBuf,
    /// See [`MAX_FILES`].
    max_files: usize,
    /// See [`MAX_TOTAL_BYTES`].
    max_total_bytes: u64,
    /// When the index was last written (a file modified since then is read again, since its
    /// modification time may not tell two writes in the same tick apart).
    index_written: Option<SystemTime>,
}

impl std::fmt::Debug for ShadowStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShadowStore")
            .field("root", &self.root)
            .field("git_dir", &self.repo.path())
            .finish()
    }
}

/// Where shadow repositories live: `$GEM_DATA_DIR/snapshots`, else
/// `dirs::data_dir()/gem/snapshots`.
pub(crate) fn default_store_dir() -> Result<PathBuf, ShadowError> {
    match std::env::var_os(crate::session::DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        Some(dir) => Ok(PathBuf::from(dir).join(STORE_SUBDIR)),
        None => dirs::data_dir()
            .map(|d| d.join("gem").join(STORE_SUBDIR))
            .ok_or(ShadowError::NoDataDir),
    }
}

impl ShadowStore {
    /// Opens (creating it the first time) the shadow repository of the project at `root`,
    /// inside `store_dir`.
    pub(crate) fn open(root: &Path, store_dir: &Path) -> Result<Self, ShadowError> {
        let root = std::fs::canonicalize(root).map_err(|e| ShadowError::io(root, e))?;
        let digest = Sha256::digest(root.as_os_str().as_encoded_bytes());
        let git_dir = store_dir.join(format!("{}.git", hex::encode(&digest[..12])));
        let repo = if git_dir.join("HEAD").exists() {
            Repository::open_bare(&git_dir)?
        } else {
            std::fs::create_dir_all(store_dir).map_err(|e| ShadowError::io(store_dir, e))?;
            let repo = Repository::init_bare(&git_dir)?;
            // For whoever looks inside: which project this repository shadows.
            let _ = std::fs::write(
                git_dir.join("gem-project"),
                root.as_os_str().as_encoded_bytes(),
            );
            repo
        };
        let index_written = std::fs::metadata(git_dir.join("index"))
            .and_then(|m| m.modified())
            .ok();
        Ok(ShadowStore {
            repo,
            root,
            max_files: MAX_FILES,
            max_total_bytes: MAX_TOTAL_BYTES,
            index_written,
        })
    }

    /// Lowers the limits on what a snapshot may hold (tests).
    #[cfg(test)]
    pub(crate) fn limit(&mut self, max_files: usize, max_total_bytes: u64) {
        self.max_files = max_files;
        self.max_total_bytes = max_total_bytes;
    }

    /// Commits the working tree as it is now, reading only the files that changed since the
    /// last snapshot.
    pub(crate) fn snapshot(&mut self, parent: Option<Oid>) -> Result<Snapshot, ShadowError> {
        let started = SystemTime::now();
        // The repository keeps its index in memory between snapshots (it is not `Send`, so
        // this handle is taken each time).
        let mut index = self.repo.index()?;
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        let mut skipped = Vec::new();
        let mut total_bytes = 0;
        let mut walker = crate::tools::project_walker(&self.root);
        walker.hidden(false);
        for entry in walker.build() {
            let Ok(entry) = entry else { continue };
            let Some(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                continue;
            }
            let path = entry.path();
            let Ok(rel) = path.strip_prefix(&self.root) else {
                continue;
            };
            let meta = match std::fs::symlink_metadata(path) {
                Ok(meta) => meta,
                Err(e) => {
                    skipped.push(Skipped {
                        path: rel.to_path_buf(),
                        reason: format!("unreadable: {e}"),
                    });
                    continue;
                }
            };
            if meta.is_file() && meta.len() > MAX_FILE_BYTES {
                skipped.push(Skipped {
                    path: rel.to_path_buf(),
                    reason: format!("over {} MB", MAX_FILE_BYTES / (1024 * 1024)),
                });
                continue;
            }
            total_bytes += meta.len();
            if seen.len() >= self.max_files || total_bytes > self.max_total_bytes {
                return Err(ShadowError::TooLarge {
                    max_files: self.max_files,
                    max_bytes: self.max_total_bytes,
                });
            }
            let key = index_path(rel);
            let mode = file_mode(&meta);
            let unchanged = index.get_path(rel, 0).is_some_and(|old| {
                old.mode == mode && stat_matches(&old, &meta, self.index_written)
            });
            if !unchanged {
                let content = if meta.file_type().is_symlink() {
                    std::fs::read_link(path).map(|t| t.as_os_str().as_encoded_bytes().to_vec())
                } else {
                    std::fs::read(path)
                };
                let content = match content {
                    Ok(content) => content,
                    Err(e) => {
                        skipped.push(Skipped {
                            path: rel.to_path_buf(),
                            reason: format!("unreadable: {e}"),
                        });
                        continue;
                    }
                };
                let id = self.repo.blob(&content)?;
                index.add(&index_entry(&meta, mode, id, key.clone()))?;
            }
            seen.insert(key);
        }
        let gone: Vec<PathBuf> = index
            .iter()
            .filter(|e| !seen.contains(&e.path))
            .map(|e| PathBuf::from(String::from_utf8_lossy(&e.path).into_owned()))
            .collect();
        for path in gone {
            index.remove_path(&path)?;
        }
        let tree = index.write_tree()?;
        // The index is only a cache: another gem in the same project may hold its lock.
        if index.write().is_ok() {
            self.index_written = Some(started);
        }
        let signature = git2::Signature::now("gem", "gem@localhost")?;
        let parents: Vec<git2::Commit> = parent
            .and_then(|p| self.repo.find_commit(p).ok())
            .into_iter()
            .collect();
        let parent_refs: Vec<&git2::Commit> = parents.iter().collect();
        let commit = self.repo.commit(
            None,
            &signature,
            &signature,
            "gem snapshot",
            &self.repo.find_tree(tree)?,
            &parent_refs,
        )?;
        Ok(Snapshot {
            commit,
            tree,
            skipped,
        })
    }

    /// The files that differ between two snapshots, relative to the project root.
    pub(crate) fn changed_paths(
        &self,
        from: &Snapshot,
        to: &Snapshot,
    ) -> Result<Vec<PathBuf>, ShadowError> {
        let diff = self.tree_diff(from, to)?;
        Ok(diff
            .deltas()
            .filter_map(|d| {
                d.new_file()
                    .path()
                    .or(d.old_file().path())
                    .map(Path::to_path_buf)
            })
            .collect())
    }

    /// Unified diffs, one per file, from `from` to `to`.
    pub(crate) fn diffs(&self, from: &Snapshot, to: &Snapshot) -> Result<Vec<String>, ShadowError> {
        let diff = self.tree_diff(from, to)?;
        let mut out = Vec::new();
        for i in 0..diff.deltas().len() {
            if let Some(mut patch) = git2::Patch::from_diff(&diff, i)? {
                out.push(String::from_utf8_lossy(&patch.to_buf()?).into_owned());
            }
        }
        Ok(out)
    }

    /// Puts every file that differs between `before` and `after` back as it was in `before`:
    /// written back, recreated, or removed when `before` did not have it. Files `before` left
    /// out (too large, unreadable) are left alone.
    pub(crate) fn restore(
        &self,
        before: &Snapshot,
        after: &Snapshot,
    ) -> Result<Restored, ShadowError> {
        let before_tree = self.repo.find_tree(before.tree)?;
        let mut restored = Restored::default();
        for rel in self.changed_paths(before, after)? {
            if let Some(skip) = before.skipped.iter().find(|s| s.path == rel) {
                restored.left.push(Skipped {
                    path: rel,
                    reason: format!("not in the snapshot ({})", skip.reason),
                });
                continue;
            }
            let path = self.root.join(&rel);
            if path.is_dir() && !path.is_symlink() {
                restored.left.push(Skipped {
                    path: rel,
                    reason: "a directory is there now".into(),
                });
                continue;
            }
            match before_tree.get_path(&rel) {
                Ok(entry) => {
                    let blob = self.repo.find_blob(entry.id())?;
                    write_back(&path, blob.content(), entry.filemode() as u32)?;
                }
                Err(_) => {
                    if path.symlink_metadata().is_ok() {
                        std::fs::remove_file(&path).map_err(|e| ShadowError::io(&path, e))?;
                    }
                    self.remove_empty_parents(&rel, &before_tree);
                }
            }
            restored.files.push(rel);
        }
        Ok(restored)
    }

    /// Removes the directories above `rel` that are empty and that `tree` did not have.
    fn remove_empty_parents(&self, rel: &Path, tree: &git2::Tree) {
        let mut dir = rel.parent();
        while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
            if tree.get_path(d).is_ok() || std::fs::remove_dir(self.root.join(d)).is_err() {
                break;
            }
            dir = d.parent();
        }
    }

    fn tree_diff(&self, from: &Snapshot, to: &Snapshot) -> Result<git2::Diff<'_>, ShadowError> {
        let old = self.repo.find_tree(from.tree)?;
        let new = self.repo.find_tree(to.tree)?;
        Ok(self.repo.diff_tree_to_tree(Some(&old), Some(&new), None)?)
    }
}

/// Writes `content` to `path` with git's `mode` (a file, an executable or a symbolic link).
fn write_back(path: &Path, content: &[u8], mode: u32) -> Result<(), ShadowError> {
    let io = |e| ShadowError::io(path, e);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let is_link = path
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink());
    if is_link || mode == MODE_LINK {
        let _ = std::fs::remove_file(path);
    }
    if mode == MODE_LINK {
        #[cfg(unix)]
        {
            let target = std::ffi::OsStr::from_bytes(content);
            return std::os::unix::fs::symlink(target, path).map_err(io);
        }
    }
    std::fs::write(path, content).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut permissions = std::fs::metadata(path).map_err(io)?.permissions();
        let bits = permissions.mode();
        let wanted = if mode == MODE_EXECUTABLE {
            bits | ((bits & 0o444) >> 2)
        } else {
            bits & !0o111
        };
        if wanted != bits {
            permissions.set_mode(wanted);
            std::fs::set_permissions(path, permissions).map_err(io)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
use std::os::unix::ffi::OsStrExt;

/// A path as the index stores it: relative, with `/` separators.
fn index_path(rel: &Path) -> Vec<u8> {
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/").into_bytes()
}

/// Git's mode for a file with this metadata.
fn file_mode(meta: &std::fs::Metadata) -> u32 {
    if meta.file_type().is_symlink() {
        return MODE_LINK;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o111 != 0 {
            return MODE_EXECUTABLE;
        }
    }
    MODE_FILE
}

/// Seconds and nanoseconds of `time` since the epoch (0 before it).
fn epoch(time: SystemTime) -> (i32, u32) {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| (d.as_secs() as i32, d.subsec_nanos()))
        .unwrap_or((0, 0))
}

/// Whether the index entry still describes the file: same size and modification time, and
/// the file not modified since the index was written.
fn stat_matches(
    old: &IndexEntry,
    meta: &std::fs::Metadata,
    index_written: Option<SystemTime>,
) -> bool {
    let Ok(modified) = meta.modified() else {
        return false;
    };
    let (secs, nanos) = epoch(modified);
    // Coarse file system clocks: only a file modified well before the index was written is
    // trusted by its stat.
    let settled = index_written.is_some_and(|written| modified + RACY_MARGIN < written);
    settled
        && old.file_size == meta.len() as u32
        && old.mtime.seconds() == secs
        && old.mtime.nanoseconds() == nanos
}

/// The index entry for a file with this metadata and blob.
fn index_entry(meta: &std::fs::Metadata, mode: u32, id: Oid, path: Vec<u8>) -> IndexEntry {
    let (secs, nanos) = meta.modified().map(epoch).unwrap_or((0, 0));
    let mtime = IndexTime::new(secs, nanos);
    IndexEntry {
        ctime: mtime,
        mtime,
        dev: 0,
        ino: 0,
        mode,
        uid: 0,
        gid: 0,
        file_size: meta.len() as u32,
        id,
        flags: path.len().min(0xfff) as u16,
        flags_extended: 0,
        path,
    }
}
