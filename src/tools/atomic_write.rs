//! Atomic file writes beneath a directory handle: a temporary file in the target's directory,
//! renamed over the target, keeping the target's permissions.
//!
//! Everything — creating the parent directories, the temporary file, setting its permissions,
//! the rename — goes through handles opened beneath the allowed directory (`cap-std`), so no
//! step can be redirected outside it by a symlink, even one that appears mid-write.

use std::collections::hash_map::RandomState;
use std::ffi::OsStr;
use std::hash::BuildHasher;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use cap_std::fs::{Dir, File, OpenOptions, Permissions};

use super::regular_file::{FileAccessError, check_regular, is_escape};

/// Temporary files start with this, followed by `PID-RANDOM`.
pub const TEMP_PREFIX: &str = ".gem-write-";

/// How many names are tried before giving up on creating the temporary file.
const TEMP_NAME_ATTEMPTS: u32 = 16;

/// Writes `contents` to `relative` beneath `base` atomically, creating parent directories. An
/// existing file keeps its permissions; a new one gets the usual `0644` on Unix. Refuses a
/// target that exists but is not a regular file.
pub fn write_atomic(base: &Dir, relative: &Path, contents: &[u8]) -> Result<(), FileAccessError> {
    let name = relative.file_name().ok_or_else(|| {
        FileAccessError::Io(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path names no file",
        ))
    })?;
    let parent = match relative.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            let created = base.create_dir_all(parent);
            match (base.open_dir(parent), created) {
                (Ok(dir), _) => dir,
                // A symlink out of `base` fails the creation with "exists": say what it is.
                (Err(open), Err(_)) if is_escape(&open) => return Err(FileAccessError::Escape),
                (Err(_), Err(create)) => return Err(create.into()),
                (Err(open), Ok(())) => return Err(open.into()),
            }
        }
        _ => base.try_clone()?,
    };
    let permissions = match parent.metadata(name) {
        Ok(meta) => {
            check_regular(meta.file_type())?;
            Some(meta.permissions())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => default_permissions(),
        Err(e) => return Err(e.into()),
    };
    let (temp_name, temp) = create_temp(&parent)?;
    if let Err(e) = fill_and_rename(&parent, temp, &temp_name, name, contents, permissions) {
        // Best effort: the write already failed, and a leftover is removed at the next start.
        let _ = parent.remove_file(&temp_name);
        return Err(e.into());
    }
    Ok(())
}

/// Writes `contents` to the temporary file, gives it `permissions`, flushes it to disk and
/// renames it over `name`.
fn fill_and_rename(
    parent: &Dir,
    mut temp: File,
    temp_name: &str,
    name: &OsStr,
    contents: &[u8],
    permissions: Option<Permissions>,
) -> io::Result<()> {
    temp.write_all(contents)?;
    temp.flush()?;
    if let Some(permissions) = permissions {
        temp.set_permissions(permissions)?;
    }
    temp.sync_all()?;
    drop(temp);
    parent.rename(temp_name, parent, name)
}

/// Creates a new, empty temporary file in `dir` (never following a symlink at its name).
fn create_temp(dir: &Dir) -> io::Result<(String, File)> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use cap_std::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut last_error = None;
    for _ in 0..TEMP_NAME_ATTEMPTS {
        let name = temp_name();
        match dir.open_with(&name, &options) {
            Ok(file) => return Ok((name, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no free temporary file name")))
}

/// `.gem-write-PID-RANDOM`: the pid tells a later start whether the writer is still alive.
fn temp_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let random = RandomState::new().hash_one((count, nanos));
    format!("{TEMP_PREFIX}{}-{random:016x}", std::process::id())
}

#[cfg(unix)]
fn default_permissions() -> Option<Permissions> {
    use cap_std::fs::PermissionsExt;
    Some(Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions() -> Option<Permissions> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use cap_std::ambient_authority;
    use std::fs;

    fn open(dir: &tempfile::TempDir) -> Dir {
        Dir::open_ambient_dir(dir.path(), ambient_authority()).unwrap()
    }

    #[test]
    fn creates_parents_and_replaces_contents() {
        let dir = tempfile::tempdir().unwrap();
        let base = open(&dir);
        write_atomic(&base, Path::new("a/b/c.txt"), b"one").unwrap();
        write_atomic(&base, Path::new("a/b/c.txt"), b"two").unwrap();
        let path = dir.path().join("a/b/c.txt");
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
        write_atomic(&base, Path::new("top.txt"), b"t").unwrap();
        assert_eq!(fs::read(dir.path().join("top.txt")).unwrap(), b"t");
    }

    #[cfg(unix)]
    #[test]
    fn keeps_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let base = open(&dir);
        let path = dir.path().join("run.sh");
        fs::write(&path, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o751)).unwrap();
        write_atomic(&base, Path::new("run.sh"), b"#!/bin/sh\necho hi\n").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o751);
        write_atomic(&base, Path::new("new.txt"), b"x").unwrap();
        assert_eq!(
            fs::metadata(dir.path().join("new.txt"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o644
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_parent_symlinked_outside_is_refused_and_nothing_lands_there() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("sub")).unwrap();
        let err = write_atomic(&open(&dir), Path::new("sub/x.txt"), b"secret").unwrap_err();
        assert!(matches!(err, FileAccessError::Escape), "{err:?}");
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_target_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let c_path = std::ffi::CString::new(dir.path().join("pipe").to_str().unwrap()).unwrap();
        // SAFETY: mkfifo reads a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
        let err = write_atomic(&open(&dir), Path::new("pipe"), b"x").unwrap_err();
        assert!(matches!(err, FileAccessError::NotRegular(_)), "{err:?}");
    }

    #[test]
    fn temp_names_carry_the_pid_and_differ() {
        let a = temp_name();
        assert!(a.starts_with(&format!("{TEMP_PREFIX}{}-", std::process::id())));
        assert_ne!(a, temp_name());
    }
}
