//! Test repositories made with git2: commits at chosen times.

use std::path::Path;

use git2::{Repository, Signature, Time};

/// Writes the files given (path, contents) into `repo`'s work tree and commits them on `HEAD`
/// at `seconds` since the epoch.
pub(crate) fn commit_files(repo: &Repository, files: &[(&str, &str)], message: &str, seconds: i64) {
    let workdir = repo.workdir().unwrap().to_path_buf();
    let mut index = repo.index().unwrap();
    for (path, contents) in files {
        let full = workdir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, contents).unwrap();
        index.add_path(Path::new(path)).unwrap();
    }
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::new("Ada Lovelace", "ada@example.com", &Time::new(seconds, 0)).unwrap();
    let parent = repo.head().and_then(|h| h.peel_to_commit()).ok();
    let parents: Vec<_> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
        .unwrap();
}
