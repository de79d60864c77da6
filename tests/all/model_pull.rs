//! `gem pull` through the binary against a stand-in of the Hugging Face hub on 127.0.0.1
//! (`hf_stand_in`): the files land in the shared cache layout, a cut transfer resumes with a
//! `Range` request, a partial file from an earlier (interrupted) run is resumed, corrupt bytes
//! are refused, hub errors read clearly — and `gem -p` then runs on the pulled model with no
//! `--model`.
//!
//! Every run points `HF_ENDPOINT` at the stand-in and `HOME`, `HF_HOME`, `XDG_*` and gem's own
//! directories at a temporary folder.

use crate::hf_stand_in;
use crate::support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use hf_stand_in::{Behaviour, FakeFile, FakeRepo, StandIn};
use serde_json::Value;
use sha2::{Digest, Sha256};

const REPO: &str = "gem-test/gemma-4-tiny-it-GGUF";
const MODEL: &str = "gemma-4-tiny-it-Q4_K_M.gguf";
const MMPROJ: &str = "mmproj-gemma-4-tiny-it-F16.gguf";

/// The tiny random-weight Gemma 4 (`scripts/gen-tiny-models`).
fn tiny() -> Option<PathBuf> {
    support::cached_file("GEM_TINY_GEMMA4", "tiny-gemma4.gguf")
}

/// Bytes that look like a GGUF to a file listing (never loaded).
fn fake_gguf(tag: &str, len: usize) -> Vec<u8> {
    let mut bytes = b"GGUF".to_vec();
    bytes.extend(tag.bytes().cycle().take(len - 4));
    bytes
}

/// A Gemma 4-like GGUF repository: the model as Q4_K_M (with `behaviour`), a Q8_0 beside it,
/// projectors in two precisions, an importance matrix and the usual git files.
fn gemma_repo(model: Vec<u8>, behaviour: Behaviour) -> FakeRepo {
    FakeRepo::new(
        REPO,
        vec![
            FakeFile::git(
                ".gitattributes",
                "*.gguf filter=lfs diff=lfs merge=lfs -text\n",
            ),
            FakeFile::git("README.md", "# tiny Gemma 4\n"),
            FakeFile::lfs("gemma-4-tiny-it-Q8_0.gguf", fake_gguf("q8", 64 << 10)),
            FakeFile::lfs(MODEL, model).with(behaviour),
            FakeFile::lfs("imatrix_gemma-4-tiny-it.gguf", fake_gguf("im", 8 << 10)),
            FakeFile::lfs(
                "mmproj-gemma-4-tiny-it-BF16.gguf",
                fake_gguf("bf", 24 << 10),
            ),
            FakeFile::lfs(MMPROJ, fake_gguf("f16", 24 << 10)),
        ],
    )
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A private home for one test: HOME, the Hugging Face cache, gem's directories.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The hub cache (`HF_HOME/hub`).
    fn hub(&self) -> PathBuf {
        self.path().join("hf").join("hub")
    }

    fn repo_dir(&self) -> PathBuf {
        self.hub().join("models--gem-test--gemma-4-tiny-it-GGUF")
    }

    /// `gem` with everything pointed here and at `endpoint`, as a plain process.
    fn gem_process(&self, endpoint: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_gem"));
        let home = self.path();
        cmd.current_dir(home)
            .env("HOME", home)
            .env("HF_HOME", home.join("hf"))
            .env("HF_ENDPOINT", endpoint)
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("GEM_DATA_DIR", home.join("gem-data"))
            .env("GEM_CACHE_DIR", home.join("gem-cache"))
            .env("LLAMA_CACHE", home.join("llama.cpp"))
            .env("OLLAMA_MODELS", home.join("ollama"))
            .env_remove("HF_TOKEN")
            .env_remove("HF_TOKEN_PATH")
            .env_remove("HF_HUB_CACHE")
            .env_remove("GEM_MODEL");
        cmd
    }

    /// [`Home::gem_process`] with a generous did-not-hang bound.
    fn gem(&self, endpoint: &str) -> Command {
        let mut cmd = Command::from_std(self.gem_process(endpoint));
        cmd.timeout(Duration::from_secs(120));
        cmd
    }

    /// Nothing in the cache is left half-written or presented as complete.
    fn incomplete_files(&self) -> Vec<PathBuf> {
        files_under(&self.repo_dir())
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(".incomplete"))
            .collect()
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Ended on its own with `code`, without a panic.
fn assert_exit(out: &Output, code: i32) {
    assert!(!stderr(out).contains("panicked"), "{}", stderr(out));
    assert_eq!(out.status.code(), Some(code), "stderr: {}", stderr(out));
}

/// The cdn transfers (not hf-hub's one-byte metadata probes) with their `Range` headers.
fn transfers(server: &StandIn, sha: &str) -> Vec<Option<String>> {
    server
        .log()
        .into_iter()
        .filter(|l| l.method == "GET" && l.uri == format!("/cdn-lfs/{sha}"))
        .map(|l| l.range)
        .filter(|r| r.as_deref() != Some("bytes=0-0"))
        .collect()
}

#[test]
fn pull_fetches_the_model_and_its_projector_into_the_shared_cache_layout() {
    let Some(tiny) = tiny() else { return };
    let bytes = std::fs::read(&tiny).unwrap();
    let repo = gemma_repo(bytes.clone(), Behaviour::Normal);
    let commit = repo.commit.clone();
    let server = StandIn::start(vec![repo]);
    let home = Home::new();

    let out = home
        .gem(&server.endpoint)
        .args(["pull", REPO, "--output-format", "stream-json"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let events: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds[0], "pull_plan", "{kinds:?}");
    let planned: Vec<&str> = events[0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        planned,
        [MODEL, MMPROJ],
        "Q4_K_M first, the F16 projector, nothing else"
    );
    assert_eq!(events[0]["commit"], commit.as_str());
    assert!(kinds.contains(&"pull_progress"), "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "pull_file_done").count(), 2);
    let done = events.last().unwrap();
    assert_eq!(done["type"], "pull_done");

    // snapshots/COMMIT/FILE → ../../blobs/SHA256, refs/main = COMMIT.
    let repo_dir = home.repo_dir();
    let snapshot = repo_dir.join("snapshots").join(&commit).join(MODEL);
    assert_eq!(done["model"], snapshot.to_str().unwrap());
    assert_eq!(
        std::fs::read_link(&snapshot).unwrap(),
        Path::new("../../blobs").join(sha256(&bytes))
    );
    assert_eq!(std::fs::read(&snapshot).unwrap(), bytes);
    let mmproj = repo_dir.join("snapshots").join(&commit).join(MMPROJ);
    assert_eq!(done["mmproj"], mmproj.to_str().unwrap());
    assert!(mmproj.is_file());
    assert_eq!(
        std::fs::read_to_string(repo_dir.join("refs/main")).unwrap(),
        commit
    );
    assert!(home.incomplete_files().is_empty());
    let blobs = std::fs::read_dir(repo_dir.join("blobs")).unwrap().count();
    assert_eq!(blobs, 2, "only the model and one projector are fetched");

    // Pulled again: nothing transferred, the same path on stdout.
    let before = transfers(&server, &sha256(&bytes)).len();
    let out = home
        .gem(&server.endpoint)
        .args(["pull", REPO])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(stdout(&out).trim(), snapshot.to_str().unwrap());
    assert!(
        stderr(&out).contains("already in the cache"),
        "{}",
        stderr(&out)
    );
    assert_eq!(transfers(&server, &sha256(&bytes)).len(), before);
}

#[test]
fn a_cut_transfer_resumes_with_a_range_request_and_the_sha256_matches() {
    let Some(tiny) = tiny() else { return };
    let bytes = std::fs::read(&tiny).unwrap();
    let cut = bytes.len() / 2;
    let server = StandIn::start(vec![gemma_repo(bytes.clone(), Behaviour::CutOnceAt(cut))]);
    let home = Home::new();

    let out = home
        .gem(&server.endpoint)
        .args(["pull", REPO])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("resuming (retry 1"),
        "{}",
        stderr(&out)
    );
    let ranges = transfers(&server, &sha256(&bytes));
    assert_eq!(ranges.len(), 2, "one cut transfer, one resumed: {ranges:?}");
    assert_eq!(ranges[0], None);
    let resumed_at: usize = ranges[1]
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a resume request: {:?}", ranges[1]));
    assert!(
        resumed_at > 0 && resumed_at <= cut,
        "resumed at {resumed_at}, cut at {cut}"
    );
    let pulled = PathBuf::from(stdout(&out).trim());
    assert_eq!(sha256(&std::fs::read(pulled).unwrap()), sha256(&bytes));
    assert!(home.incomplete_files().is_empty());
}

#[test]
fn a_partial_file_from_an_earlier_run_is_resumed_where_it_stopped() {
    let bytes = fake_gguf("resume", 300 << 10);
    let sha = sha256(&bytes);
    let server = StandIn::start(vec![gemma_repo(bytes.clone(), Behaviour::Normal)]);
    let home = Home::new();
    let blobs = home.repo_dir().join("blobs");
    std::fs::create_dir_all(&blobs).unwrap();
    let third = bytes.len() / 3;
    std::fs::write(blobs.join(format!("{sha}.incomplete")), &bytes[..third]).unwrap();

    let out = home
        .gem(&server.endpoint)
        .args(["pull", REPO])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("resuming"), "{}", stderr(&out));
    assert_eq!(transfers(&server, &sha), [Some(format!("bytes={third}-"))]);
    let pulled = PathBuf::from(stdout(&out).trim());
    assert_eq!(std::fs::read(pulled).unwrap(), bytes);
}

#[test]
fn ctrl_c_keeps_the_partial_file_and_the_next_pull_resumes_it() {
    let bytes = fake_gguf("slow", 1 << 20);
    let sha = sha256(&bytes);
    let slow = StandIn::start(vec![gemma_repo(bytes.clone(), Behaviour::Slow)]);
    let home = Home::new();
    let partial = home
        .repo_dir()
        .join("blobs")
        .join(format!("{sha}.incomplete"));

    let mut child = home
        .gem_process(&slow.endpoint)
        .args(["pull", REPO])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::metadata(&partial).map_or(0, |m| m.len()) < 64 << 10 {
        assert!(Instant::now() < deadline, "the transfer never started");
        assert!(child.try_wait().unwrap().is_none(), "gem pull ended early");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 130);
    assert!(
        stderr(&out).contains("run the same gem pull to resume"),
        "{}",
        stderr(&out)
    );
    let kept = std::fs::metadata(&partial).unwrap().len() as usize;
    assert!(kept > 0 && kept < bytes.len(), "kept {kept} bytes");
    assert!(
        !home.repo_dir().join("blobs").join(&sha).exists(),
        "no blob for a partial file"
    );
    assert!(
        !home.repo_dir().join("snapshots").exists(),
        "nothing presented as complete"
    );
    drop(slow);

    let server = StandIn::start(vec![gemma_repo(bytes.clone(), Behaviour::Normal)]);
    let out = home
        .gem(&server.endpoint)
        .args(["pull", REPO])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(transfers(&server, &sha), [Some(format!("bytes={kept}-"))]);
    let pulled = PathBuf::from(stdout(&out).trim());
    assert_eq!(sha256(&std::fs::read(pulled).unwrap()), sha);
}

#[test]
fn a_corrupted_transfer_is_refused_and_nothing_is_presented_as_complete() {
    let bytes = fake_gguf("corrupt", 200 << 10);
    let sha = sha256(&bytes);
    let server = StandIn::start(vec![gemma_repo(bytes, Behaviour::Corrupt)]);
    let home = Home::new();

    let out = home
        .gem(&server.endpoint)
        .args(["pull", REPO])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("arrived corrupted") && err.contains(&sha),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
    assert!(!home.repo_dir().join("blobs").join(&sha).exists());
    assert!(
        home.incomplete_files().is_empty(),
        "the bad bytes are not kept for a resume"
    );
    let model_snapshot = files_under(&home.repo_dir().join("snapshots"))
        .into_iter()
        .any(|p| p.ends_with(MODEL));
    assert!(!model_snapshot, "the corrupt model is not in the snapshot");
}

#[test]
fn a_missing_repository_is_a_clear_error() {
    let server = StandIn::start(vec![gemma_repo(fake_gguf("m", 4096), Behaviour::Normal)]);
    let home = Home::new();
    let out = home
        .gem(&server.endpoint)
        .args(["pull", "gem-test/no-such-model-GGUF"])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("no model repository gem-test/no-such-model-GGUF"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_gated_repository_without_a_token_says_to_set_hf_token() {
    let bytes = fake_gguf("gated", 16 << 10);
    let server = StandIn::start(vec![gemma_repo(bytes.clone(), Behaviour::Normal).gated()]);
    let home = Home::new();
    let out = home
        .gem(&server.endpoint)
        .args(["pull", REPO])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("gated") && err.contains("set HF_TOKEN"),
        "{err}"
    );

    let out = home
        .gem(&server.endpoint)
        .env("HF_TOKEN", "hf_stand_in_token")
        .args(["pull", REPO])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(std::fs::read(stdout(&out).trim()).unwrap(), bytes);
    assert!(
        server
            .log()
            .iter()
            .filter(|l| l.uri.contains("/resolve/") && l.status == 302)
            .all(|l| l.authorized),
        "the token is sent to the hub"
    );
}

#[test]
fn an_unknown_quant_lists_the_model_files_there_are() {
    let server = StandIn::start(vec![gemma_repo(fake_gguf("m", 4096), Behaviour::Normal)]);
    let home = Home::new();
    let out = home
        .gem(&server.endpoint)
        .args(["pull", &format!("{REPO}:Q5_K_M")])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("no Q5_K_M file"), "{err}");
    assert!(
        err.contains("gemma-4-tiny-it-Q8_0.gguf") && !err.contains("mmproj"),
        "{err}"
    );
}

#[test]
fn an_unreachable_hub_is_a_clear_error() {
    let home = Home::new();
    // Nothing listens on port 9 (discard) of the loopback in a test machine.
    let out = home
        .gem("http://127.0.0.1:9")
        .args(["pull", REPO])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("cannot reach the Hugging Face hub"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn pull_without_a_model_names_the_one_proposed_for_this_machine() {
    let server = StandIn::start(vec![gemma_repo(fake_gguf("m", 4096), Behaviour::Normal)]);
    let home = Home::new();
    let out = home.gem(&server.endpoint).arg("pull").output().unwrap();
    // The stand-in has no Gemma 4 alias repository: the error names the proposal's repository.
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("the size proposed for this machine"), "{err}");
    assert!(
        err.contains("no model repository ") && err.contains("gemma-4-"),
        "{err}"
    );
}

#[test]
fn print_mode_runs_on_the_pulled_model_with_no_model_flag() {
    let _lock = support::model_lock();
    let Some(tiny) = tiny() else { return };
    let server = StandIn::start(vec![gemma_repo(
        std::fs::read(&tiny).unwrap(),
        Behaviour::Normal,
    )]);
    let home = Home::new();
    let out = home
        .gem(&server.endpoint)
        .args(["pull", REPO])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let pulled = stdout(&out).trim().to_string();

    let project = support::git_project(&[("lib.rs", support::BUGGY_ADD)]);
    let out = home
        .gem(&server.endpoint)
        .current_dir(project.path())
        .args([
            "-p",
            "hello",
            "--threads",
            "1",
            "--ctx",
            "16384",
            "--bounded-grammar",
        ])
        .args([
            "--max-turns",
            "2",
            "--max-tokens",
            "32",
            "--seed",
            "0",
            "--no-repo",
        ])
        .output()
        .unwrap();
    let code = out.status.code();
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert!(
        matches!(code, Some(0 | 3)),
        "exit {code:?} with the pulled model {pulled}: {}",
        stderr(&out)
    );
    // gem names the model it found on its own: the one just pulled.
    assert!(
        stderr(&out).contains("gemma-4-tiny-it-Q4_K_M"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_split_model_comes_whole_and_no_mmproj_skips_the_projector() {
    let parts = [fake_gguf("part1", 40 << 10), fake_gguf("part2", 30 << 10)];
    let repo = FakeRepo::new(
        "gem-test/gemma-4-split-it-GGUF",
        vec![
            FakeFile::lfs("Q4_K_M/m-Q4_K_M-00002-of-00002.gguf", parts[1].clone()),
            FakeFile::lfs("Q4_K_M/m-Q4_K_M-00001-of-00002.gguf", parts[0].clone()),
            FakeFile::lfs("mmproj-F16.gguf", fake_gguf("f16", 4096)),
        ],
    );
    let server = StandIn::start(vec![repo]);
    let home = Home::new();
    let out = home
        .gem(&server.endpoint)
        .args(["pull", "gem-test/gemma-4-split-it-GGUF", "--no-mmproj"])
        .args(["--output-format", "json"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let pulled: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let model_parts: Vec<PathBuf> = pulled["model_parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| PathBuf::from(p.as_str().unwrap()))
        .collect();
    assert_eq!(model_parts.len(), 2);
    assert_eq!(pulled["model"], pulled["model_parts"][0]);
    assert!(model_parts[0].ends_with("Q4_K_M/m-Q4_K_M-00001-of-00002.gguf"));
    for (path, bytes) in model_parts.iter().zip(&parts) {
        assert_eq!(&std::fs::read(path).unwrap(), bytes);
    }
    assert!(pulled["mmproj"].is_null());
    assert!(
        !server.log().iter().any(|l| l.uri.contains("mmproj")),
        "the projector is not even asked for"
    );
}

#[test]
fn yes_pulls_the_proposed_model_when_the_machine_has_none_and_runs_on_it() {
    let _lock = support::model_lock();
    let Some(tiny) = tiny() else { return };
    // The stand-in serves the repository of the alias proposed for this machine.
    let proposal = gem::models::fit::propose(&gem::models::machine::memory_figures());
    let server = StandIn::start(vec![FakeRepo::new(
        proposal.alias.repo,
        vec![FakeFile::lfs(MODEL, std::fs::read(&tiny).unwrap())],
    )]);
    let home = Home::new();
    let project = support::git_project(&[("lib.rs", support::BUGGY_ADD)]);
    let tiny_flags = [
        "--threads",
        "1",
        "--ctx",
        "16384",
        "--bounded-grammar",
        "--max-turns",
        "2",
        "--max-tokens",
        "32",
        "--no-repo",
    ];
    // Without --yes: the command to run, exit 1, nothing fetched.
    let out = home
        .gem(&server.endpoint)
        .current_dir(project.path())
        .args(["-p", "hello"])
        .args(tiny_flags)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("gem pull"), "{}", stderr(&out));
    assert!(files_under(&home.hub()).is_empty());
    // GEM_AUTO_PULL=1 (as --yes): pulled into the shared cache, then used.
    let out = home
        .gem(&server.endpoint)
        .current_dir(project.path())
        .env("GEM_AUTO_PULL", "1")
        .args(["-p", "hello"])
        .args(tiny_flags)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "exit {:?}: {err}",
        out.status.code()
    );
    assert!(err.contains("the size proposed for this machine"), "{err}");
    assert!(err.contains(MODEL), "{err}");
    assert!(
        files_under(&home.hub()).iter().any(|p| p.ends_with(MODEL)),
        "the model is in the shared cache"
    );
}
