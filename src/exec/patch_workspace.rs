//! CI patch mode (`gem -p PROMPT --patch`): the agent works in a scratch copy of the
//! project so the user's tree is never touched, and at the end gem prints a unified diff
//! of everything the agent changed, ready for `git apply`.
//!
//! The copy holds what git would see: tracked files plus untracked files that are not
//! ignored (the `.gitignore` files themselves included), never `.git/`. The copy gets a
//! fresh git repository with one baseline commit, and [`PatchWorkspace::diff`] compares the
//! current files with that baseline.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use git2::{DiffFormat, DiffOptions, IndexAddOption, Oid, Repository, Signature};
use tempfile::TempDir;
use thiserror::Error;

/// Author and committer name of the baseline commit.
const BASELINE_AUTHOR: &str = "gem";
/// Author and committer email of the baseline commit.
const BASELINE_EMAIL: &str = "gem@localhost";
/// Git's file mode for a submodule entry in the index.
const GITLINK_MODE: u32 = 0o160000;

/// Why a patch workspace could not be made or diffed.
#[derive(Debug, Error)]
pub enum PatchError {
    /// A file or directory could not be read, written or copied.
    #[error("{action} `{}` failed: {source}; check that the path exists and is readable, and that the temp directory has free space", path.display())]
    Io {
        /// What gem was doing.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The project root is not a directory.
    #[error("`{}` is not a directory; run gem --patch from the project directory", .0.display())]
    NotADirectory(PathBuf),
    /// Walking the project (honouring .gitignore) failed.
    #[error("cannot list the project's files: {0}; check the directory permissions")]
    Walk(#[from] ignore::Error),
    /// libgit2 failed inside the scratch repository.
    #[error("git failed in the patch workspace: {0}")]
    Git(#[from] git2::Error),
    /// Some changed files are binary; a text patch cannot carry them.
    #[error("the agent changed binary files, which a text patch cannot carry: {}; run without --patch to let the agent edit the tree directly", .0.join(", "))]
    Binary(Vec<String>),
    /// Some changed files are not UTF-8 text.
    #[error("the changes to {} are not UTF-8 text, so the patch cannot be printed; run without --patch to let the agent edit the tree directly", .0.join(", "))]
    NotUtf8(Vec<String>),
}

impl PatchError {
    fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        PatchError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// A scratch copy of a project, under git, that the agent edits in place of the real tree.
///
/// The temp directory is deleted when the workspace is dropped.
#[derive(Debug)]
pub struct PatchWorkspace {
    dir: TempDir,
    baseline: Oid,
}

impl PatchWorkspace {
    /// Copies `project_root` (tracked and untracked-but-not-ignored files, no `.git/`) into a
    /// temp directory and commits it there as the baseline.
    ///
    /// File modes are kept; symlinks are copied as symlinks (on Unix). Submodules are copied
    /// as plain files.
    pub fn create(project_root: &Path) -> Result<Self, PatchError> {
        let source = fs::canonicalize(project_root)
            .map_err(|e| PatchError::io("opening the project", project_root, e))?;
        if !source.is_dir() {
            return Err(PatchError::NotADirectory(source));
        }
        let dir = tempfile::Builder::new()
            .prefix("gem-patch-")
            .tempdir()
            .map_err(|e| {
                PatchError::io("creating a temp directory in", &std::env::temp_dir(), e)
            })?;
        let mut copied = BTreeSet::new();
        copy_visible_files(&source, dir.path(), &mut copied)?;
        copy_tracked_files(&source, dir.path(), &mut copied)?;
        let baseline = commit_baseline(&source, dir.path())?;
        Ok(PatchWorkspace { dir, baseline })
    }

    /// The directory the agent works in: a copy of the project root.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Everything changed since the baseline (modified, new, deleted files and mode changes)
    /// as a git-style patch with paths relative to the project root; empty when nothing
    /// changed.
    ///
    /// New files that the workspace's `.gitignore` files ignore (build output) are left out.
    /// Renames appear as a delete plus an add. Binary changes are refused with
    /// [`PatchError::Binary`].
    pub fn diff(&self) -> Result<String, PatchError> {
        let repo = Repository::open(self.root())?;
        let mut index = repo.index()?;
        index.add_all(["*"], IndexAddOption::DEFAULT, None)?;
        index.update_all(["*"], None)?;
        index.write()?;
        let baseline = repo.find_tree(self.baseline)?;
        let mut options = DiffOptions::new();
        let diff = repo.diff_tree_to_index(Some(&baseline), Some(&index), Some(&mut options))?;
        render_patch(&diff)
    }
}

/// Renders a diff as patch text, refusing binary and non-UTF-8 changes.
fn render_patch(diff: &git2::Diff<'_>) -> Result<String, PatchError> {
    let mut text = Vec::new();
    let mut binary = BTreeSet::new();
    let mut not_utf8 = BTreeSet::new();
    diff.print(DiffFormat::Patch, |delta, _hunk, line| {
        if delta.flags().is_binary() || line.origin() == 'B' {
            binary.insert(delta_path(&delta));
            return true;
        }
        if std::str::from_utf8(line.content()).is_err() {
            not_utf8.insert(delta_path(&delta));
        }
        if matches!(line.origin(), '+' | '-' | ' ') {
            text.push(line.origin() as u8);
        }
        text.extend_from_slice(line.content());
        true
    })?;
    if !binary.is_empty() {
        return Err(PatchError::Binary(binary.into_iter().collect()));
    }
    String::from_utf8(text).map_err(|_| PatchError::NotUtf8(not_utf8.into_iter().collect()))
}

/// The path a delta is about: the new path, or the old one for a deletion.
fn delta_path(delta: &git2::DiffDelta<'_>) -> String {
    delta
        .new_file()
        .path()
        .or_else(|| delta.old_file().path())
        .map(|path| path.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Copies every file git would not ignore, `.gitignore` files included, skipping `.git`.
fn copy_visible_files(
    source: &Path,
    target: &Path,
    copied: &mut BTreeSet<PathBuf>,
) -> Result<(), PatchError> {
    let walker = ignore::WalkBuilder::new(source)
        .hidden(false)
        .ignore(false)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(true)
        .require_git(false)
        .parents(true)
        .follow_links(false)
        .filter_entry(|entry| entry.file_name() != ".git")
        .build();
    for entry in walker {
        let entry = entry?;
        let is_dir = entry.file_type().is_some_and(|kind| kind.is_dir());
        if is_dir {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(source) else {
            continue;
        };
        copy_entry(source, target, relative)?;
        copied.insert(relative.to_path_buf());
    }
    Ok(())
}

/// Copies files that git tracks but that .gitignore rules would hide (force-added files).
fn copy_tracked_files(
    source: &Path,
    target: &Path,
    copied: &mut BTreeSet<PathBuf>,
) -> Result<(), PatchError> {
    let Ok(repo) = Repository::discover(source) else {
        return Ok(()); // not a git project: the walk already copied everything visible
    };
    let Some(workdir) = repo.workdir() else {
        return Ok(());
    };
    let workdir = fs::canonicalize(workdir)
        .map_err(|e| PatchError::io("opening the repository", workdir, e))?;
    let Ok(prefix) = source.strip_prefix(&workdir) else {
        return Ok(());
    };
    for entry in repo.index()?.iter() {
        if entry.mode == GITLINK_MODE {
            continue;
        }
        let Ok(path) = std::str::from_utf8(&entry.path) else {
            continue;
        };
        let Ok(relative) = Path::new(path).strip_prefix(prefix) else {
            continue;
        };
        if copied.contains(relative) || fs::symlink_metadata(source.join(relative)).is_err() {
            continue;
        }
        copy_entry(source, target, relative)?;
        copied.insert(relative.to_path_buf());
    }
    Ok(())
}

/// Copies one file or symlink, keeping its mode, creating parent directories as needed.
fn copy_entry(source: &Path, target: &Path, relative: &Path) -> Result<(), PatchError> {
    let from = source.join(relative);
    let to = target.join(relative);
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(|e| PatchError::io("creating", parent, e))?;
    }
    let metadata = fs::symlink_metadata(&from).map_err(|e| PatchError::io("reading", &from, e))?;
    if metadata.file_type().is_symlink() {
        return copy_symlink(&from, &to);
    }
    if metadata.is_file() {
        fs::copy(&from, &to).map_err(|e| PatchError::io("copying", &from, e))?;
    }
    Ok(())
}

/// Recreates a symlink with the same target.
#[cfg(unix)]
fn copy_symlink(from: &Path, to: &Path) -> Result<(), PatchError> {
    let link_target = fs::read_link(from).map_err(|e| PatchError::io("reading link", from, e))?;
    std::os::unix::fs::symlink(&link_target, to).map_err(|e| PatchError::io("creating link", to, e))
}

/// Without Unix symlinks, copies what the link points to when it is a file.
#[cfg(not(unix))]
fn copy_symlink(from: &Path, to: &Path) -> Result<(), PatchError> {
    if from.is_file() {
        fs::copy(from, to).map_err(|e| PatchError::io("copying", from, e))?;
    }
    Ok(())
}

/// Initialises the scratch repository, commits every copied file, returns the baseline tree.
fn commit_baseline(source: &Path, root: &Path) -> Result<Oid, PatchError> {
    let repo = Repository::init(root)?;
    // Byte-exact blobs, so the patch matches the files on disk in the user's tree.
    repo.config()?.set_bool("core.autocrlf", false)?;
    copy_exclude_rules(source, &repo)?;
    let mut index = repo.index()?;
    // FORCE: tracked-but-ignored files that were copied belong to the baseline too.
    index.add_all(["*"], IndexAddOption::FORCE, None)?;
    index.write()?;
    let tree_id = index.write_tree()?;
    let tree = repo.find_tree(tree_id)?;
    let signature = Signature::now(BASELINE_AUTHOR, BASELINE_EMAIL)?;
    repo.commit(
        Some("HEAD"),
        &signature,
        &signature,
        "gem patch baseline",
        &tree,
        &[],
    )?;
    Ok(tree_id)
}

/// Carries the project's `.git/info/exclude` over, so new files it ignores stay out of the
/// patch. Only when the project root is the repository root, where its rules are anchored.
fn copy_exclude_rules(source: &Path, scratch: &Repository) -> Result<(), PatchError> {
    let Ok(original) = Repository::open(source) else {
        return Ok(());
    };
    let exclude = original.path().join("info").join("exclude");
    let Ok(rules) = fs::read(&exclude) else {
        return Ok(());
    };
    let info = scratch.path().join("info");
    fs::create_dir_all(&info).map_err(|e| PatchError::io("creating", &info, e))?;
    let target = info.join("exclude");
    fs::write(&target, rules).map_err(|e| PatchError::io("writing", &target, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::process::Command;

    /// Writes `contents` to `root/relative`, creating parent directories.
    fn write(root: &Path, relative: &str, contents: &str) {
        let path = root.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }

    /// Commits every non-ignored file of the repo at `root` (plus `forced`, even if ignored).
    fn commit_all(root: &Path, forced: &[&str]) {
        let repo = Repository::open(root).unwrap();
        let mut index = repo.index().unwrap();
        index.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
        for path in forced {
            index.add_path(Path::new(path)).unwrap();
        }
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let signature = Signature::now("test", "test@example.com").unwrap();
        let parent = repo.head().ok().map(|head| head.peel_to_commit().unwrap());
        let parents: Vec<_> = parent.iter().collect();
        repo.commit(Some("HEAD"), &signature, &signature, "c", &tree, &parents)
            .unwrap();
    }

    /// A git project with a subdirectory, a script, a symlink, an untracked file, ignored
    /// files and a tracked-but-ignored file.
    fn sample_repo() -> TempDir {
        let dir = TempDir::new().unwrap();
        let root = dir.path();
        Repository::init(root).unwrap();
        write(root, ".gitignore", "target/\n*.log\n");
        write(root, "README.md", "# Sample\n\nSome words.\n");
        write(root, "src/lib.rs", "pub fn one() -> u32 {\n    1\n}\n");
        write(root, "src/util.rs", "pub fn helper() {}\n");
        write(root, "run.sh", "#!/bin/sh\necho hi\n");
        write(root, "keep.log", "tracked although ignored\n");
        #[cfg(unix)]
        std::os::unix::fs::symlink("README.md", root.join("readme-link")).unwrap();
        commit_all(root, &["keep.log"]);
        write(root, "notes.txt", "untracked but visible\n");
        write(root, "build.log", "ignored\n");
        write(root, "target/debug/out.bin", "ignored build output\n");
        dir
    }

    /// Every file under `root` except `.git`, with its bytes.
    fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.file_name().unwrap() == ".git" {
                    continue;
                }
                let kind = fs::symlink_metadata(&path).unwrap().file_type();
                if kind.is_dir() {
                    stack.push(path);
                } else if kind.is_symlink() {
                    let target = fs::read_link(&path).unwrap();
                    files.insert(path, target.to_string_lossy().as_bytes().to_vec());
                } else {
                    files.insert(path.clone(), fs::read(&path).unwrap());
                }
            }
        }
        files
    }

    fn git(dir: &Path, args: &[&str]) -> std::process::Output {
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CEILING_DIRECTORIES", dir.parent().unwrap())
            .output()
            .unwrap()
    }

    fn assert_git_ok(dir: &Path, args: &[&str]) {
        let output = git(dir, args);
        assert!(
            output.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    fn make_executable(path: &Path) {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn copies_visible_and_tracked_files_but_not_ignored_ones_or_git() {
        let original = sample_repo();
        let workspace = PatchWorkspace::create(original.path()).unwrap();
        let root = workspace.root();
        assert_ne!(root, original.path());
        for present in [
            ".gitignore",
            "README.md",
            "src/lib.rs",
            "src/util.rs",
            "notes.txt",
            "keep.log",
        ] {
            assert_eq!(
                fs::read(root.join(present)).unwrap(),
                fs::read(original.path().join(present)).unwrap(),
                "{present} should be copied"
            );
        }
        assert!(!root.join("build.log").exists());
        assert!(!root.join("target").exists());
        // The only .git is the scratch repository, not a copy of the original one.
        let scratch = Repository::open(root).unwrap();
        let head = scratch.head().unwrap().peel_to_commit().unwrap();
        assert_eq!(head.author().name().unwrap(), BASELINE_AUTHOR);
        assert_eq!(head.author().email().unwrap(), BASELINE_EMAIL);
        assert_eq!(head.parent_count(), 0);
        #[cfg(unix)]
        assert_eq!(
            fs::read_link(root.join("readme-link")).unwrap(),
            Path::new("README.md")
        );
    }

    #[cfg(unix)]
    #[test]
    fn keeps_file_modes() {
        let original = sample_repo();
        make_executable(&original.path().join("run.sh"));
        let workspace = PatchWorkspace::create(original.path()).unwrap();
        assert_eq!(mode(&workspace.root().join("run.sh")), 0o755);
        assert_eq!(workspace.diff().unwrap(), "");
    }

    #[test]
    fn no_change_gives_an_empty_patch() {
        let original = sample_repo();
        let workspace = PatchWorkspace::create(original.path()).unwrap();
        assert_eq!(workspace.diff().unwrap(), "");
    }

    #[test]
    fn patch_applies_to_a_fresh_clone_and_the_original_is_untouched() {
        let original = sample_repo();
        let before = snapshot(original.path());
        let workspace = PatchWorkspace::create(original.path()).unwrap();
        let root = workspace.root();
        write(
            root,
            "src/lib.rs",
            "pub fn one() -> u32 {\n    1\n}\n\npub fn two() -> u32 {\n    2\n}\n",
        );
        write(root, "src/new.rs", "pub struct New;\n");
        fs::remove_file(root.join("src/util.rs")).unwrap();
        write(root, "README.md", "# Sample\n\nNo trailing newline");
        write(
            root,
            "target/debug/more.bin",
            "new build output stays out\n",
        );
        #[cfg(unix)]
        make_executable(&root.join("run.sh"));
        #[cfg(unix)]
        std::os::unix::fs::symlink("src/lib.rs", root.join("lib-link")).unwrap();

        let patch = workspace.diff().unwrap();
        assert_eq!(snapshot(original.path()), before, "original tree changed");
        assert!(
            patch.contains("diff --git a/src/lib.rs b/src/lib.rs"),
            "{patch}"
        );
        assert!(patch.contains("+pub fn two() -> u32 {"), "{patch}");
        assert!(patch.contains("new file mode 100644"), "{patch}");
        assert!(patch.contains("deleted file mode 100644"), "{patch}");
        assert!(!patch.contains("target/"), "ignored output leaked: {patch}");
        #[cfg(unix)]
        assert!(
            patch.contains("old mode 100644\nnew mode 100755"),
            "{patch}"
        );

        let clones = TempDir::new().unwrap();
        let clone = clones.path().join("clone");
        assert_git_ok(
            clones.path(),
            &["clone", "-q", original.path().to_str().unwrap(), "clone"],
        );
        let patch_file = clones.path().join("change.patch");
        fs::write(&patch_file, &patch).unwrap();
        let patch_arg = patch_file.to_str().unwrap();
        assert_git_ok(&clone, &["apply", "--check", patch_arg]);
        assert_git_ok(&clone, &["apply", patch_arg]);

        for changed in ["src/lib.rs", "src/new.rs", "README.md", "run.sh"] {
            assert_eq!(
                fs::read(clone.join(changed)).unwrap(),
                fs::read(root.join(changed)).unwrap(),
                "{changed} differs after apply"
            );
        }
        assert!(!clone.join("src/util.rs").exists());
        #[cfg(unix)]
        {
            assert_eq!(mode(&clone.join("run.sh")) & 0o111, 0o111);
            assert_eq!(
                fs::read_link(clone.join("lib-link")).unwrap(),
                Path::new("src/lib.rs")
            );
        }
        // The patch also applies to the original tree itself.
        assert_git_ok(original.path(), &["apply", "--check", patch_arg]);
    }

    #[test]
    fn binary_changes_are_refused() {
        let original = sample_repo();
        let workspace = PatchWorkspace::create(original.path()).unwrap();
        fs::write(
            workspace.root().join("image.bin"),
            [0u8, 159, 146, 150, 0, 1],
        )
        .unwrap();
        write(workspace.root(), "src/lib.rs", "changed\n");
        match workspace.diff() {
            Err(PatchError::Binary(paths)) => assert_eq!(paths, vec!["image.bin".to_string()]),
            other => panic!("expected a binary refusal, got {other:?}"),
        }
    }

    #[test]
    fn agent_commits_in_the_workspace_do_not_hide_changes() {
        let original = sample_repo();
        let workspace = PatchWorkspace::create(original.path()).unwrap();
        write(workspace.root(), "notes.txt", "edited and committed\n");
        commit_all(workspace.root(), &[]);
        let patch = workspace.diff().unwrap();
        assert!(patch.contains("+edited and committed"), "{patch}");
    }

    #[test]
    fn works_for_a_directory_that_is_not_a_git_repository() {
        let parent = TempDir::new().unwrap();
        let original = parent.path().join("plain");
        write(&original, ".gitignore", "*.tmp\n");
        write(&original, "a.txt", "alpha\n");
        write(&original, "dir/b.txt", "beta\n");
        write(&original, "scratch.tmp", "ignored\n");
        let workspace = PatchWorkspace::create(&original).unwrap();
        assert!(!workspace.root().join("scratch.tmp").exists());
        write(workspace.root(), "a.txt", "alpha\ngamma\n");
        fs::remove_file(workspace.root().join("dir/b.txt")).unwrap();
        let patch = workspace.diff().unwrap();
        assert!(!original.join(".git").exists());

        let target = parent.path().join("target");
        write(&target, "a.txt", "alpha\n");
        write(&target, "dir/b.txt", "beta\n");
        let patch_file = parent.path().join("change.patch");
        fs::write(&patch_file, &patch).unwrap();
        assert_git_ok(&target, &["apply", patch_file.to_str().unwrap()]);
        assert_eq!(
            fs::read_to_string(target.join("a.txt")).unwrap(),
            "alpha\ngamma\n"
        );
        assert!(!target.join("dir/b.txt").exists());
        assert_eq!(
            fs::read_to_string(original.join("a.txt")).unwrap(),
            "alpha\n"
        );
    }

    #[test]
    fn missing_project_root_says_which_path() {
        let parent = TempDir::new().unwrap();
        let missing = parent.path().join("nope");
        let error = PatchWorkspace::create(&missing).unwrap_err();
        assert!(error.to_string().contains("nope"), "{error}");
    }
}
