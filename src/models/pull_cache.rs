//! One repository's folder in the Hugging Face cache, laid out as every Hugging Face client
//! shares it: `models--ORG--REPO/blobs/ETAG` holds the bytes, `snapshots/COMMIT/FILE` is a
//! relative symlink to the blob, `refs/main` names the commit. A transfer in progress is
//! `blobs/ETAG.incomplete` (the name huggingface_hub resumes too), guarded by
//! `.locks/models--ORG--REPO/ETAG.lock`. Paths come from hf-hub's [`hf_hub::CacheRepo`].

use std::fs::File;
use std::path::{Path, PathBuf};

use hf_hub::{CacheRepo, Repo};

use super::pull_error::PullError;

/// A repository's cache folder.
pub struct RepoCache {
    repo: CacheRepo,
    locks_dir: PathBuf,
}

/// Holds a blob's download lock until dropped.
pub struct BlobLock {
    _file: File,
}

impl RepoCache {
    /// The cache folder of `repo` (`ORG/REPO`) under the hub cache `cache_dir`.
    pub fn new(cache_dir: &Path, repo: &str) -> Self {
        let folder = Repo::model(repo.to_string()).folder_name();
        Self {
            repo: hf_hub::Cache::new(cache_dir.to_path_buf()).model(repo.to_string()),
            locks_dir: cache_dir.join(".locks").join(folder),
        }
    }

    /// The complete file named by `etag`.
    pub fn blob(&self, etag: &str) -> PathBuf {
        self.repo.blob_path(etag)
    }

    /// The partial file of a transfer of `etag`.
    pub fn incomplete(&self, etag: &str) -> PathBuf {
        let mut name = self.blob(etag).into_os_string();
        name.push(".incomplete");
        PathBuf::from(name)
    }

    /// Where `file` of `commit` is presented.
    pub fn snapshot(&self, commit: &str, file: &str) -> PathBuf {
        self.repo.pointer_path(commit).join(file)
    }

    /// Whether the blob of `etag` is complete with `size` bytes (only verified blobs are ever
    /// given their final name).
    pub fn has_blob(&self, etag: &str, size: u64) -> bool {
        std::fs::metadata(self.blob(etag)).is_ok_and(|m| m.is_file() && m.len() == size)
    }

    /// Bytes already in the partial file of `etag`.
    pub fn partial_len(&self, etag: &str) -> u64 {
        std::fs::metadata(self.incomplete(etag)).map_or(0, |m| m.len())
    }

    /// Takes the download lock of `etag`, failing at once when another process holds it.
    pub fn lock(&self, etag: &str, file: &str) -> Result<BlobLock, PullError> {
        std::fs::create_dir_all(&self.locks_dir)
            .map_err(|e| PullError::io("creating", &self.locks_dir, e))?;
        let path = self.locks_dir.join(format!("{etag}.lock"));
        let handle = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| PullError::io("opening", &path, e))?;
        match handle.try_lock() {
            Ok(()) => Ok(BlobLock { _file: handle }),
            Err(std::fs::TryLockError::WouldBlock) => Err(PullError::Busy {
                file: file.to_string(),
                lock: path,
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(PullError::io("locking", &path, e)),
        }
    }

    /// Gives a verified partial file its blob name.
    pub fn promote(&self, etag: &str) -> Result<(), PullError> {
        let (from, to) = (self.incomplete(etag), self.blob(etag));
        std::fs::rename(&from, &to).map_err(|e| PullError::io("renaming", &from, e))
    }

    /// Presents the blob of `etag` as `file` of `commit`; returns that path.
    pub fn link(&self, commit: &str, file: &str, etag: &str) -> Result<PathBuf, PullError> {
        let pointer = self.snapshot(commit, file);
        if let Some(dir) = pointer.parent() {
            std::fs::create_dir_all(dir).map_err(|e| PullError::io("creating", dir, e))?;
        }
        if std::fs::symlink_metadata(&pointer).is_ok() {
            std::fs::remove_file(&pointer).map_err(|e| PullError::io("replacing", &pointer, e))?;
        }
        // snapshots/COMMIT/[DIR/…]FILE → ../../[../…]blobs/ETAG, as huggingface_hub links.
        let ups = 2 + file.matches('/').count();
        let target: PathBuf = std::iter::repeat_n(Path::new(".."), ups)
            .collect::<PathBuf>()
            .join("blobs")
            .join(etag);
        present(&target, &self.blob(etag), &pointer)?;
        Ok(pointer)
    }

    /// Points `refs/main` at `commit`.
    pub fn write_ref(&self, commit: &str) -> Result<(), PullError> {
        self.repo
            .create_ref(commit)
            .map_err(|e| PullError::io("writing the ref of", self.repo.pointer_path(commit), e))
    }
}

/// A relative symlink where the platform has them, else a copy of the blob.
fn present(relative_target: &Path, blob: &Path, pointer: &Path) -> Result<(), PullError> {
    #[cfg(unix)]
    {
        let _ = blob;
        std::os::unix::fs::symlink(relative_target, pointer)
            .map_err(|e| PullError::io("linking", pointer, e))
    }
    #[cfg(not(unix))]
    {
        let _ = relative_target;
        std::fs::copy(blob, pointer)
            .map(|_| ())
            .map_err(|e| PullError::io("copying", pointer, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_shared_layout() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RepoCache::new(dir.path(), "org/repo");
        let repo_dir = dir.path().join("models--org--repo");
        assert_eq!(cache.blob("abc"), repo_dir.join("blobs/abc"));
        assert_eq!(
            cache.incomplete("abc"),
            repo_dir.join("blobs/abc.incomplete")
        );
        assert_eq!(
            cache.snapshot("c0", "d/f.gguf"),
            repo_dir.join("snapshots/c0/d/f.gguf")
        );
    }

    #[test]
    fn a_linked_file_reads_through_a_relative_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RepoCache::new(dir.path(), "org/repo");
        std::fs::create_dir_all(cache.blob("e").parent().unwrap()).unwrap();
        std::fs::write(cache.incomplete("e"), b"bytes").unwrap();
        cache.promote("e").unwrap();
        let top = cache.link("c0", "f.gguf", "e").unwrap();
        let nested = cache.link("c0", "q/f.gguf", "e").unwrap();
        assert_eq!(std::fs::read(&top).unwrap(), b"bytes");
        assert_eq!(std::fs::read(&nested).unwrap(), b"bytes");
        #[cfg(unix)]
        assert_eq!(
            std::fs::read_link(&nested).unwrap(),
            Path::new("../../../blobs/e")
        );
        cache.write_ref("c0").unwrap();
        let refs = dir.path().join("models--org--repo/refs/main");
        assert_eq!(std::fs::read_to_string(refs).unwrap(), "c0");
    }

    #[test]
    fn a_held_lock_refuses_a_second_taker() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RepoCache::new(dir.path(), "org/repo");
        let held = cache.lock("e", "f.gguf").unwrap();
        assert!(matches!(
            cache.lock("e", "f.gguf"),
            Err(PullError::Busy { .. })
        ));
        drop(held);
        assert!(cache.lock("e", "f.gguf").is_ok());
    }
}
