//! File tools through the binary (replay backend): they act on regular files only, never block
//! on a FIFO or read a device, stay inside the project even while a directory is swapped for a
//! symlink to outside, refuse absurdly long paths quickly, and a start removes the temporary
//! files a killed gem left behind.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

const DONE: &str = "<|channel>thought\nDone.\n<channel|>Done.<turn|>";

/// Generous "did not hang" bound for a whole run.
const RUN_BOUND: Duration = Duration::from_secs(60);

struct Project {
    dir: tempfile::TempDir,
    /// Config, data and cache dirs of the runs, outside the project.
    home: tempfile::TempDir,
}

impl Project {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("README.md"), "# demo\n").unwrap();
        Self {
            dir,
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// Writes the replay script and returns its path (outside the project).
    fn replay(&self, outputs: &[String]) -> PathBuf {
        let path = self.home.path().join("replay.json");
        std::fs::write(&path, serde_json::to_string(outputs).unwrap()).unwrap();
        path
    }

    fn prompt_log(&self) -> PathBuf {
        self.home.path().join("prompts.jsonl")
    }

    /// Runs `gem -p` over the script; returns the tool responses of the last prompt.
    fn run(&self, outputs: &[String]) -> String {
        let replay = self.replay(outputs);
        let started = Instant::now();
        let out = Command::cargo_bin("gem")
            .unwrap()
            .current_dir(self.root())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("GEM_DATA_DIR", self.home.path().join("data"))
            .env("GEM_CACHE_DIR", self.home.path().join("cache"))
            .env("GEM_REPLAY_LOG", self.prompt_log())
            // Room for megabyte-long calls: the replay's context and output limits.
            .env("GEM_REPLAY_CTX", "4000000")
            .env_remove("GEM_MODEL")
            .arg("--model")
            .arg(format!("replay:{}", replay.display()))
            .args(["--no-repo", "--mode", "auto-edit", "--max-turns", "5000"])
            .args(["--max-tokens", "1000000"])
            .args(["-p", "go"])
            .timeout(RUN_BOUND)
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        assert!(
            elapsed < RUN_BOUND,
            "gem did not finish within {RUN_BOUND:?}"
        );
        assert!(
            out.status.success(),
            "status {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        self.last_prompt()
    }

    fn last_prompt(&self) -> String {
        let log = std::fs::read_to_string(self.prompt_log()).unwrap();
        let last = log.lines().last().unwrap();
        serde_json::from_str::<Value>(last).unwrap()["prompt"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// One model step calling `tool` with string arguments (in Gemma 4's call format).
fn call(tool: &str, args: &[(&str, &str)]) -> String {
    let args: Vec<String> = args
        .iter()
        .map(|(key, value)| format!("{key}:<|\"|>{value}<|\"|>"))
        .collect();
    format!(
        "<|channel>thought\nCall.\n<channel|><|tool_call>call:{tool}{{{}}}<tool_call|><|tool_response>",
        args.join(",")
    )
}

#[cfg(unix)]
fn c_path(path: &Path) -> std::ffi::CString {
    std::ffi::CString::new(path.to_str().unwrap()).unwrap()
}

#[cfg(unix)]
#[test]
fn fifo_is_refused_by_read_write_and_edit_without_hanging() {
    let project = Project::new();
    let fifo = project.path("pipe");
    // SAFETY: mkfifo reads a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path(&fifo).as_ptr(), 0o644) }, 0);
    let prompt = project.run(&[
        call("read_file", &[("path", "pipe")]),
        call("write_file", &[("content", "x"), ("path", "pipe")]),
        call(
            "edit_file",
            &[("new_string", "b"), ("old_string", "a"), ("path", "pipe")],
        ),
        DONE.to_string(),
    ]);
    let refusals = prompt
        .matches("is a named pipe (FIFO), not a regular file")
        .count();
    assert_eq!(
        refusals,
        3,
        "{}",
        &prompt[prompt.len().saturating_sub(2000)..]
    );
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[cfg(target_os = "linux")]
#[test]
fn character_device_in_the_project_is_refused_without_reading() {
    let project = Project::new();
    let device = project.path("zero");
    // /dev/zero's numbers: an endless source of bytes.
    let mode = libc::S_IFCHR | 0o644;
    // SAFETY: mknod reads a valid NUL-terminated path.
    let made = unsafe { libc::mknod(c_path(&device).as_ptr(), mode, libc::makedev(1, 5)) };
    if made != 0 {
        eprintln!(
            "skipping: mknod failed ({}); it needs root",
            std::io::Error::last_os_error()
        );
        return;
    }
    let prompt = project.run(&[
        call("read_file", &[("path", "zero")]),
        call("write_file", &[("content", "x"), ("path", "zero")]),
        call("grep", &[("pattern", "x"), ("path", "zero")]),
        DONE.to_string(),
    ]);
    assert_eq!(
        prompt
            .matches("is a character device, not a regular file")
            .count(),
        2,
        "{}",
        &prompt[prompt.len().saturating_sub(2000)..]
    );
    assert!(prompt.contains("No matches for `x`"), "grep skipped it");
}

/// A path of about 1 MB whose components do not repeat.
fn megabyte_path() -> String {
    (0u64..116_000)
        .map(|i| format!("{:08x}/", i.wrapping_mul(2_654_435_761) % 0xffff_ffff))
        .collect::<String>()
        + "f.txt"
}

#[test]
fn a_megabyte_path_is_refused_quickly_with_a_clear_message() {
    let project = Project::new();
    let path = megabyte_path();
    assert!(path.len() > 1_000_000);
    let prompt = project.run(&[
        call("read_file", &[("path", &path)]),
        call("write_file", &[("content", "x"), ("path", &path)]),
        DONE.to_string(),
    ]);
    assert_eq!(
        prompt.matches("paths are limited to 4096 bytes").count(),
        2,
        "{}",
        &prompt[prompt.len().saturating_sub(2000)..]
    );
    let entries = std::fs::read_dir(project.root()).unwrap().count();
    assert_eq!(entries, 1, "nothing was created");
}

/// Swaps `a` and `b` atomically (both exist throughout).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> bool {
    // SAFETY: both paths are valid NUL-terminated strings; AT_FDCWD is the current directory.
    unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            c_path(a).as_ptr(),
            libc::AT_FDCWD,
            c_path(b).as_ptr(),
            libc::RENAME_EXCHANGE,
        ) == 0
    }
}

#[cfg(target_os = "linux")]
#[test]
fn writes_never_land_outside_while_a_directory_is_swapped_for_an_outside_symlink() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    const WRITES: usize = 300;
    let project = Project::new();
    let outside = tempfile::tempdir().unwrap();
    let dir = project.path("d");
    let link = project.path("d-swap");
    std::fs::create_dir(&dir).unwrap();
    std::os::unix::fs::symlink(outside.path(), &link).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicUsize::new(0));
    let swapper = {
        let (stop, swaps, dir, link) = (stop.clone(), swaps.clone(), dir.clone(), link.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if exchange(&dir, &link) {
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let mut script: Vec<String> = (0..WRITES)
        .map(|i| {
            call(
                "write_file",
                &[
                    ("content", &format!("secret {i}\n")),
                    ("path", &format!("d/f{i}.txt")),
                ],
            )
        })
        .collect();
    script.push(DONE.to_string());
    let prompt = project.run(&script);
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();

    // Before confinement by handle, 95 of 600 such writes left files here.
    let leaked: Vec<_> = walk_files(outside.path());
    assert!(leaked.is_empty(), "files appeared outside: {leaked:?}");
    assert!(swaps.load(Ordering::Relaxed) > 100, "the swap ran");
    let created = prompt.matches("Created `d/f").count();
    let refused = prompt.matches("which is outside the project root").count()
        + prompt
            .matches("now leads outside the allowed directories")
            .count();
    assert_eq!(
        prompt.matches("response:write_file").count(),
        WRITES,
        "every call got an answer"
    );
    eprintln!("{WRITES} writes under a swapping directory: {created} created, {refused} refused");
    assert!(
        refused > 0,
        "some calls met the symlink (created {created})"
    );
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            found.extend(walk_files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn a_start_removes_temporary_files_left_by_a_killed_gem() {
    let project = Project::new();
    // A pid above Linux's maximum: its writer is surely gone.
    let stale = ".gem-write-99999999-00ff00ff00ff00ff";
    let live = format!(".gem-write-{}-0123456789abcdef", std::process::id());
    std::fs::create_dir_all(project.path("src/deep")).unwrap();
    std::fs::write(project.path(stale), "half").unwrap();
    std::fs::write(project.path("src/deep").join(stale), "half").unwrap();
    std::fs::write(project.path(&live), "in flight").unwrap();
    project.run(&[DONE.to_string()]);
    assert!(!project.path(stale).exists());
    assert!(!project.path("src/deep").join(stale).exists());
    assert!(
        project.path(&live).exists(),
        "a running writer's file stays"
    );
    assert!(project.path("README.md").exists());
}
