//! Where sessions live and how they are found again (`--continue`, `--resume ID`).
//!
//! Sessions are flat files `<id>.jsonl` in `$GEM_DATA_DIR/sessions/` or, without that
//! variable, in the platform data directory (`dirs::data_dir()/gem/sessions/`).

use super::error::SessionError;
use super::id::{is_session_id, new_session_id, rfc3339_utc};
use super::reader::SessionReader;
use super::record::{FORMAT_VERSION, Record, RecordBody, SessionHeader};
use super::writer::SessionWriter;
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Environment variable that overrides the data directory (sessions go in its `sessions/`).
pub const DATA_DIR_ENV: &str = "GEM_DATA_DIR";

/// File extension of session files.
const SESSION_EXTENSION: &str = "jsonl";

/// How many times creation retries when a fresh id is already taken.
const CREATE_ATTEMPTS: usize = 8;

/// What a session picker shows about one stored session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSummary {
    /// The session id.
    pub id: String,
    /// The session file.
    pub path: PathBuf,
    /// When the file was last written.
    pub modified: SystemTime,
    /// Creation time, RFC 3339 UTC.
    pub created: String,
    /// Canonical project root the session belongs to.
    pub project_root: String,
    /// The model the session ran with.
    pub model: String,
    /// The text of the first user turn, if any.
    pub first_user_message: Option<String>,
    /// How many user turns the session holds.
    pub turns: usize,
}

impl SessionSummary {
    /// The first non-empty line of the first user message, or `(no messages)`: how lists show
    /// the session.
    pub fn title(&self) -> &str {
        self.first_user_message
            .as_deref()
            .and_then(|m| m.lines().map(str::trim).find(|l| !l.is_empty()))
            .unwrap_or("(no messages)")
    }
}

/// A directory of session files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStore {
    dir: PathBuf,
}

impl SessionStore {
    /// A store whose session files are directly in `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        SessionStore { dir: dir.into() }
    }

    /// The user's store: `$GEM_DATA_DIR/sessions`, else `dirs::data_dir()/gem/sessions`.
    pub fn from_env() -> Result<Self, SessionError> {
        sessions_dir(std::env::var_os(DATA_DIR_ENV), dirs::data_dir())
            .map(Self::at)
            .ok_or(SessionError::NoDataDir)
    }

    /// The directory holding the session files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts a new session for `project_root` and writes its header.
    pub fn create(&self, project_root: &Path, model: &str) -> Result<SessionWriter, SessionError> {
        std::fs::create_dir_all(&self.dir).map_err(|err| SessionError::io(&self.dir, err))?;
        let project_root = canonical(project_root);
        let now = SystemTime::now();
        let mut last_error = None;
        for _ in 0..CREATE_ATTEMPTS {
            let id = new_session_id(now);
            let header = SessionHeader {
                format: FORMAT_VERSION,
                id: id.clone(),
                created: rfc3339_utc(now),
                project_root: project_root.clone(),
                model: model.to_string(),
                gem_version: env!("CARGO_PKG_VERSION").to_string(),
            };
            match SessionWriter::create_new(&self.session_path(&id), &header) {
                Err(SessionError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::AlreadyExists =>
                {
                    last_error = Some(source);
                }
                result => return result,
            }
        }
        let source = last_error.unwrap_or_else(|| std::io::ErrorKind::AlreadyExists.into());
        Err(SessionError::io(&self.dir, source))
    }

    /// Sessions of `project_root` with at least one message, most recently written first.
    pub fn list(&self, project_root: &Path) -> Result<Vec<SessionSummary>, SessionError> {
        let root = canonical(project_root);
        let mut sessions: Vec<SessionSummary> = self
            .session_files()?
            .into_iter()
            .filter_map(|(_, path)| summarize(&path, Some(&root)))
            .filter(|session| session.turns > 0)
            .collect();
        sort_newest_first(&mut sessions);
        Ok(sessions)
    }

    /// The most recently written session of `project_root` (for `--continue`).
    pub fn latest_for(&self, project_root: &Path) -> Result<Option<SessionSummary>, SessionError> {
        Ok(self.list(project_root)?.into_iter().next())
    }

    /// The one session, of any project, whose id starts with `id_prefix` (for `--resume ID`).
    pub fn find(&self, id_prefix: &str) -> Result<SessionSummary, SessionError> {
        let not_found = || SessionError::NotFound(id_prefix.to_string());
        if !is_session_id(id_prefix) {
            return Err(not_found());
        }
        let files = self.session_files()?;
        let exact = files.iter().find(|(id, _)| id == id_prefix);
        let matching: Vec<&(String, PathBuf)> = match exact {
            Some(file) => vec![file],
            None => files
                .iter()
                .filter(|(id, _)| id.starts_with(id_prefix))
                .collect(),
        };
        let mut sessions: Vec<SessionSummary> = matching
            .into_iter()
            .filter_map(|(_, path)| summarize(path, None))
            .collect();
        sort_newest_first(&mut sessions);
        match sessions.len() {
            0 => Err(not_found()),
            1 => Ok(sessions.remove(0)),
            _ => Err(SessionError::Ambiguous {
                prefix: id_prefix.to_string(),
                matches: sessions.into_iter().map(|s| s.id).collect(),
            }),
        }
    }

    /// Reopens the session whose id starts with `id_prefix` for appending (for `--resume ID`).
    pub fn resume(&self, id_prefix: &str) -> Result<(SessionWriter, SessionReader), SessionError> {
        SessionWriter::resume(&self.find(id_prefix)?.path)
    }

    fn session_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.{SESSION_EXTENSION}"))
    }

    /// `(id, path)` of every session file; an absent directory holds none.
    fn session_files(&self) -> Result<Vec<(String, PathBuf)>, SessionError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(SessionError::io(&self.dir, err)),
        };
        Ok(entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == SESSION_EXTENSION))
            .filter_map(|path| {
                let id = path.file_stem()?.to_str()?.to_string();
                is_session_id(&id).then_some((id, path))
            })
            .collect())
    }
}

/// Sessions of `project_root` in the user's store, most recently written first.
pub fn list_sessions(project_root: &Path) -> Result<Vec<SessionSummary>, SessionError> {
    SessionStore::from_env()?.list(project_root)
}

/// The user's most recent session of `project_root`, for `--continue`.
pub fn latest_for(project_root: &Path) -> Result<Option<SessionSummary>, SessionError> {
    SessionStore::from_env()?.latest_for(project_root)
}

/// The user's session whose id starts with `id_prefix`, for `--resume ID`.
pub fn find(id_prefix: &str) -> Result<SessionSummary, SessionError> {
    SessionStore::from_env()?.find(id_prefix)
}

/// Resolves the sessions directory from the override variable and the platform data dir.
fn sessions_dir(override_dir: Option<OsString>, data_dir: Option<PathBuf>) -> Option<PathBuf> {
    match override_dir.filter(|dir| !dir.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir).join("sessions")),
        None => data_dir.map(|dir| dir.join("gem").join("sessions")),
    }
}

/// The canonical form of `path` as stored in headers (the path itself if it cannot be resolved).
fn canonical(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

fn sort_newest_first(sessions: &mut [SessionSummary]) {
    sessions.sort_by(|a, b| b.modified.cmp(&a.modified).then_with(|| b.id.cmp(&a.id)));
}

/// Summarises one session file, or `None` when it is unreadable, not a session, or belongs to
/// another project than `only_root`. Only lines that may be user turns are fully parsed.
fn summarize(path: &Path, only_root: Option<&str>) -> Option<SessionSummary> {
    let file = File::open(path).ok()?;
    let modified = file.metadata().and_then(|m| m.modified()).ok()?;
    let mut lines = BufReader::new(file);
    let mut line = Vec::new();
    lines.read_until(b'\n', &mut line).ok()?;
    if line.last() != Some(&b'\n') {
        return None;
    }
    let header_record: Record = serde_json::from_slice(&line).ok()?;
    let RecordBody::Header(header) = header_record.body else {
        return None;
    };
    if only_root.is_some_and(|root| root != header.project_root) {
        return None;
    }

    // Every user-turn line holds this (as its kind, or as an older build's op name); other
    // lines are not parsed.
    let needle = b"user_turn";
    let mut first_user_message = None;
    let mut turns = 0;
    loop {
        line.clear();
        match lines.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if line.last() != Some(&b'\n') || !line.windows(needle.len()).any(|w| w == needle) {
            continue;
        }
        let Ok(record) = serde_json::from_slice::<Record>(&line) else {
            continue;
        };
        if let Some(text) = record.user_text() {
            turns += 1;
            first_user_message.get_or_insert_with(|| text.to_string());
        }
    }
    Some(SessionSummary {
        id: header.id,
        path: path.to_path_buf(),
        modified,
        created: header.created,
        project_root: header.project_root,
        model: header.model,
        first_user_message,
        turns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_directory_wins_over_platform_directory() {
        assert_eq!(
            sessions_dir(Some("/x".into()), Some("/data".into())),
            Some(PathBuf::from("/x/sessions"))
        );
        assert_eq!(
            sessions_dir(Some("".into()), Some("/data".into())),
            Some(PathBuf::from("/data/gem/sessions"))
        );
        assert_eq!(sessions_dir(None, None), None);
    }
}
