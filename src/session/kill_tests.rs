//! A writer killed with SIGKILL mid-stream loses at most its last line.
//!
//! The test re-runs this test binary as a child that only executes
//! [`child_writes_until_killed`], which appends numbered records as fast as it can. The parent
//! kills it once enough lines are on disk, then loads and resumes the session.

use super::*;
use crate::protocol::Event;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set in the child's environment; the helper test does nothing without it.
const CHILD_MARKER_ENV: &str = "GEM_SESSION_KILL_CHILD";

/// Lines the parent waits for before killing the child.
const LINES_BEFORE_KILL: usize = 200;

/// The full name of a test in this module, as libtest knows it.
fn test_name(function: &str) -> String {
    let module = module_path!();
    let without_crate = module.split_once("::").map_or(module, |(_, rest)| rest);
    format!("{without_crate}::{function}")
}

/// The helper run inside the child process. Ignored in normal runs; without the marker
/// variable it returns at once, because it is not a test on its own.
#[test]
#[ignore = "helper for killed_writer_loses_at_most_the_last_line"]
fn child_writes_until_killed() {
    if std::env::var_os(CHILD_MARKER_ENV).is_none() {
        return;
    }
    let project = PathBuf::from(std::env::var_os(CHILD_MARKER_ENV).unwrap());
    let store = SessionStore::from_env().unwrap();
    let mut writer = store.create(&project, "child.gguf").unwrap();
    writer
        .append(&RecordBody::UserTurn {
            text: "write until killed".into(),
        })
        .unwrap();
    let filler = "x".repeat(4096);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut n = 0u64;
    while Instant::now() < deadline {
        writer.append(&numbered(&format!("{n} {filler}"))).unwrap();
        n += 1;
    }
}

/// An event record whose text starts with the record's number.
fn numbered(text: &str) -> RecordBody {
    RecordBody::Event(Event::TextDelta { delta: text.into() })
}

/// The number a [`numbered`] record starts with.
fn number_of(record: &Record) -> &str {
    match &record.body {
        RecordBody::Event(Event::TextDelta { delta }) => {
            delta.split(' ').next().unwrap_or_default()
        }
        other => panic!("not a numbered record: {other:?}"),
    }
}

fn session_file(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
}

fn newline_count(path: &Path) -> usize {
    std::fs::read(path)
        .map(|bytes| bytes.iter().filter(|&&b| b == b'\n').count())
        .unwrap_or(0)
}

#[test]
fn killed_writer_loses_at_most_the_last_line() {
    let data = tempfile::tempdir().unwrap();
    let project = data.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let sessions = data.path().join("sessions");

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            test_name("child_writes_until_killed").as_str(),
            "--exact",
            "--ignored",
            "--test-threads=1",
        ])
        .env(DATA_DIR_ENV, data.path())
        .env(CHILD_MARKER_ENV, &project)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let give_up = Instant::now() + Duration::from_secs(30);
    let path = loop {
        if let Some(path) = session_file(&sessions)
            && newline_count(&path) >= LINES_BEFORE_KILL
        {
            break path;
        }
        if Instant::now() > give_up || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("child never wrote {LINES_BEFORE_KILL} lines");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();

    let lines_on_disk = newline_count(&path);
    let loaded = SessionReader::open(&path).unwrap();
    assert_eq!(loaded.header.model, "child.gguf");
    assert_eq!(
        loaded.records.len(),
        lines_on_disk - 1,
        "every complete line loads"
    );
    assert!(loaded.warnings.len() <= 1, "{:?}", loaded.warnings);
    assert_eq!(loaded.records[0].user_text(), Some("write until killed"));
    let numbers: Vec<u64> = loaded.records[1..]
        .iter()
        .map(|r| number_of(r).parse().unwrap())
        .collect();
    let expected: Vec<u64> = (0..numbers.len() as u64).collect();
    assert_eq!(numbers, expected);

    let (mut writer, _) = SessionWriter::resume(&path).unwrap();
    writer.append(&numbered("resumed")).unwrap();
    let after = SessionReader::open(&path).unwrap();
    assert!(after.warnings.is_empty(), "{:?}", after.warnings);
    assert_eq!(after.records.len(), loaded.records.len() + 1);
    assert_eq!(number_of(after.records.last().unwrap()), "resumed");

    let store = SessionStore::at(&sessions);
    let latest = store.latest_for(&project).unwrap().unwrap();
    assert_eq!(latest.path, path);
    assert_eq!(latest.turns, 1);
    assert_eq!(store.find(&latest.id[..15]).unwrap().id, latest.id);
    let (_, reopened) = store.resume(&latest.id).unwrap();
    assert_eq!(reopened.records, after.records);
}
