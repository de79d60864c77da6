//! Round trips through real session files.

use super::*;
use crate::protocol::Event;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

fn store_in(dir: &Path) -> SessionStore {
    SessionStore::at(dir.join("sessions"))
}

fn set_mtime(path: &Path, secs: u64) {
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs))
        .unwrap();
}

/// An event record carrying `n` as its text.
fn numbered(n: impl ToString) -> RecordBody {
    RecordBody::Event(Event::TextDelta {
        delta: n.to_string(),
    })
}

fn user(text: &str) -> RecordBody {
    RecordBody::UserTurn { text: text.into() }
}

/// The texts of the numbered event records.
fn numbers(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .filter_map(|r| match &r.body {
            RecordBody::Event(Event::TextDelta { delta }) => Some(delta.clone()),
            _ => None,
        })
        .collect()
}

/// Appends a line as an older build of gem wrote it.
fn append_raw(path: &Path, line: &str) {
    let mut file = fs::OpenOptions::new().append(true).open(path).unwrap();
    writeln!(file, "{line}").unwrap();
}

fn header(id: &str, root: &Path) -> SessionHeader {
    SessionHeader {
        format: FORMAT_VERSION,
        id: id.to_string(),
        created: "2026-11-28T03:15:00Z".to_string(),
        project_root: fs::canonicalize(root)
            .unwrap()
            .to_string_lossy()
            .into_owned(),
        model: "tiny.gguf".to_string(),
        gem_version: "0.0.0".to_string(),
    }
}

#[test]
fn records_round_trip_with_header() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    fs::create_dir(&project).unwrap();
    let store = store_in(dir.path());

    let mut writer = store
        .create(&project.join("."), "models/gemma.gguf")
        .unwrap();
    writer.append(&user("hello\nworld")).unwrap();
    writer.append(&numbered("hi")).unwrap();
    // What older builds wrote: a user turn as a serialised Op, and a kind no longer written.
    append_raw(
        writer.path(),
        r#"{"kind":"op","ts_ms":5,"payload":{"op":"user_turn","text":"old","attachments":[]}}"#,
    );
    append_raw(
        writer.path(),
        r#"{"kind":"snapshot","ts_ms":5,"payload":[1,2,3]}"#,
    );

    let loaded = SessionReader::open(writer.path()).unwrap();
    assert_eq!(loaded.header.id, writer.id());
    assert_eq!(
        loaded.header.project_root,
        fs::canonicalize(&project).unwrap().to_string_lossy()
    );
    assert_eq!(loaded.header.model, "models/gemma.gguf");
    assert_eq!(loaded.header.gem_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(loaded.header.format, FORMAT_VERSION);
    assert!(loaded.warnings.is_empty());
    assert_eq!(loaded.records.len(), 4);
    assert_eq!(loaded.records[0].user_text(), Some("hello\nworld"));
    assert_eq!(numbers(&loaded.records), ["hi"]);
    assert_eq!(loaded.records[2].user_text(), Some("old"));
    assert_eq!(
        loaded.records[3].body,
        RecordBody::Other {
            kind: "snapshot".into()
        }
    );
    assert!(loaded.records.iter().all(|r| r.ts_ms > 0));
    assert!(writer.path().starts_with(store.dir()));
    assert_eq!(
        writer.path().file_name().unwrap().to_string_lossy(),
        format!("{}.jsonl", writer.id())
    );
}

#[test]
fn a_truncated_last_line_is_ignored_and_cut_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = store_in(dir.path()).create(dir.path(), "m").unwrap();
    for n in 0..3 {
        writer.append(&numbered(n)).unwrap();
    }
    let path = writer.path().to_path_buf();
    drop(writer);
    fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(br#"{"kind":"event","ts_ms":1,"payload":{"type":"#)
        .unwrap();

    let loaded = SessionReader::open(&path).unwrap();
    assert_eq!(loaded.records.len(), 3);
    assert_eq!(loaded.warnings.len(), 1);
    assert!(loaded.warnings[0].contains("incomplete last line"));

    let (mut resumed, before) = SessionWriter::resume(&path).unwrap();
    assert_eq!(before.records, loaded.records);
    resumed.append(&numbered(3)).unwrap();
    let after = SessionReader::open(&path).unwrap();
    assert!(after.warnings.is_empty(), "{:?}", after.warnings);
    assert_eq!(numbers(&after.records), ["0", "1", "2", "3"]);
}

#[test]
fn a_damaged_middle_line_is_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = store_in(dir.path()).create(dir.path(), "m").unwrap();
    writer.append(&numbered(0)).unwrap();
    let path = writer.path().to_path_buf();
    fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(b"not json\n")
        .unwrap();
    let (mut writer, _) = SessionWriter::resume(&path).unwrap();
    writer.append(&numbered(1)).unwrap();

    let loaded = SessionReader::open(&path).unwrap();
    assert_eq!(loaded.records.len(), 2);
    assert_eq!(loaded.warnings.len(), 1);
    assert!(loaded.warnings[0].contains(":3: skipped a damaged line"));
}

#[test]
fn a_file_without_header_is_not_a_session() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.jsonl");
    fs::write(&path, "{\"kind\":\"event\",\"payload\":{}}\n").unwrap();
    assert!(matches!(
        SessionReader::open(&path),
        Err(SessionError::NotASession(p)) if p == path
    ));
    fs::write(&path, "{\"kind\":\"header\",\"pay").unwrap();
    assert!(matches!(
        SessionReader::open(&path),
        Err(SessionError::NotASession(_))
    ));
}

#[test]
fn listing_filters_by_project_and_puts_the_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let other = dir.path().join("other");
    fs::create_dir(&project).unwrap();
    fs::create_dir(&other).unwrap();
    let store = store_in(dir.path());

    let mut old = store.create(&project, "m").unwrap();
    old.append(&user("first question")).unwrap();
    old.append(&numbered("user_turn")).unwrap();
    old.append(&user("second question")).unwrap();
    let new = store.create(&project, "m").unwrap();
    append_raw(
        new.path(),
        r#"{"kind":"op","ts_ms":5,"payload":{"op":"user_turn","text":"newer"}}"#,
    );
    let mut foreign = store.create(&other, "m").unwrap();
    foreign.append(&user("elsewhere")).unwrap();
    // A session in which nothing was said is not listed (nor continued).
    let empty_session = store.create(&project, "m").unwrap();
    set_mtime(empty_session.path(), 40);
    set_mtime(old.path(), 10);
    set_mtime(new.path(), 20);
    set_mtime(foreign.path(), 30);

    let listed = store.list(&project).unwrap();
    let ids: Vec<&str> = listed.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, [new.id(), old.id()]);
    assert_eq!(
        listed[1].first_user_message.as_deref(),
        Some("first question")
    );
    assert_eq!(listed[1].turns, 2);
    assert_eq!(listed[0].first_user_message.as_deref(), Some("newer"));
    assert_eq!(listed[0].turns, 1);

    let latest = store.latest_for(&project).unwrap().unwrap();
    assert_eq!(latest.id, new.id());
    assert_eq!(store.latest_for(&other).unwrap().unwrap().id, foreign.id());
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    assert_eq!(store.latest_for(&empty).unwrap(), None);
}

#[test]
fn an_empty_store_lists_nothing() {
    let dir = tempfile::tempdir().unwrap();
    assert!(store_in(dir.path()).list(dir.path()).unwrap().is_empty());
}

#[test]
fn find_resolves_exact_ids_and_unique_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    fs::create_dir_all(store.dir()).unwrap();
    for id in [
        "20261128-031500-aaaaaa",
        "20261128-031500-aabbbb",
        "20261129-000000-cccccc",
    ] {
        SessionWriter::create_new(
            &store.dir().join(format!("{id}.jsonl")),
            &header(id, dir.path()),
        )
        .unwrap();
    }

    assert_eq!(store.find("20261129").unwrap().id, "20261129-000000-cccccc");
    assert_eq!(
        store.find("20261128-031500-aaaaaa").unwrap().id,
        "20261128-031500-aaaaaa"
    );
    match store.find("20261128-031500-aa") {
        Err(SessionError::Ambiguous { matches, .. }) => assert_eq!(matches.len(), 2),
        other => panic!("expected ambiguity, got {other:?}"),
    }
    assert!(matches!(store.find("2030"), Err(SessionError::NotFound(_))));
    assert!(matches!(store.find("../x"), Err(SessionError::NotFound(_))));
}

#[cfg(unix)]
#[test]
fn session_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    fs::create_dir(&project).unwrap();
    let writer = store_in(dir.path()).create(&project, "m.gguf").unwrap();
    let mode = fs::metadata(writer.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
}
