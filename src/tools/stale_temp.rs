//! Removing temporary files (`.gem-write-PID-RANDOM`) that a killed gem left in the project.
//!
//! A write creates its temporary file next to the target, so after a `kill -9` the leftover can
//! be anywhere in the project. At start, the project is walked the way the file tools see it
//! (`.gitignore` respected, hidden files included, `.git/` skipped, symlinks not followed, at
//! most [`MAX_ENTRIES`] entries), and a temporary file is removed when the process named in it
//! no longer runs (or, for a name without a pid, when it is older than [`UNNAMED_MAX_AGE`]).
//! Files of a gem that is still running are left alone.

use std::path::Path;
use std::time::{Duration, SystemTime};

use ignore::WalkBuilder;

use super::atomic_write::TEMP_PREFIX;

/// The walk stops after this many entries, so a huge tree cannot delay the start for long.
pub const MAX_ENTRIES: usize = 200_000;
/// A temporary file whose name holds no pid is stale once it is this old.
pub const UNNAMED_MAX_AGE: Duration = Duration::from_secs(3600);

/// Removes stale `.gem-write-*` files under `root`; returns how many were removed.
pub fn remove_stale_temp_files(root: &Path) -> usize {
    let walker = WalkBuilder::new(root)
        .standard_filters(true)
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|entry| entry.file_name() != ".git")
        .build();
    let mut removed = 0;
    for entry in walker.take(MAX_ENTRIES).flatten() {
        let Some(name) = entry.file_name().to_str() else {
            continue;
        };
        let Some(tail) = name.strip_prefix(TEMP_PREFIX) else {
            continue;
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let stale = match writer_pid(tail) {
            Some(pid) => pid != std::process::id() && !process_is_running(pid),
            None => entry
                .metadata()
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|modified| SystemTime::now().duration_since(modified).ok())
                .is_some_and(|age| age > UNNAMED_MAX_AGE),
        };
        if stale && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// The pid in `PID-RANDOM`, if the name has that shape.
fn writer_pid(tail: &str) -> Option<u32> {
    let (pid, random) = tail.split_once('-')?;
    if random.is_empty() || !random.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    pid.parse().ok()
}

/// Whether a process with this pid exists (it may be another program that reused the pid;
/// then the file is left for a later start).
#[cfg(unix)]
fn process_is_running(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks whether the process exists; nothing is sent.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Without a way to ask, every writer counts as running: only pid-less old files are removed.
#[cfg(not(unix))]
fn process_is_running(_pid: u32) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A pid that no process has: above Linux's maximum pid (4194304).
    const DEAD_PID: u32 = 99_999_999;

    #[test]
    fn removes_leftovers_of_dead_writers_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("src/deep")).unwrap();
        let dead = format!("{TEMP_PREFIX}{DEAD_PID}-00ff00ff00ff00ff");
        let mine = format!("{TEMP_PREFIX}{}-0123456789abcdef", std::process::id());
        fs::write(root.join(&dead), "a").unwrap();
        fs::write(root.join("src/deep").join(&dead), "b").unwrap();
        fs::write(root.join(&mine), "c").unwrap();
        fs::write(root.join(format!("{TEMP_PREFIX}abc123")), "fresh, no pid").unwrap();
        fs::write(root.join("keep.txt"), "k").unwrap();
        fs::create_dir(root.join(".git")).unwrap();
        fs::write(root.join(".git").join(&dead), "in .git").unwrap();

        assert_eq!(remove_stale_temp_files(root), 2);
        assert!(!root.join(&dead).exists());
        assert!(!root.join("src/deep").join(&dead).exists());
        assert!(root.join(&mine).exists(), "a running writer's file stays");
        assert!(root.join(format!("{TEMP_PREFIX}abc123")).exists());
        assert!(root.join("keep.txt").exists());
        assert!(root.join(".git").join(&dead).exists(), ".git is not walked");
    }

    #[test]
    fn parses_the_writer_pid() {
        assert_eq!(writer_pid("123-00ab"), Some(123));
        assert_eq!(writer_pid("abc123"), None);
        assert_eq!(writer_pid("123-xyz"), None);
    }
}
