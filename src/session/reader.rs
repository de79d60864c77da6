//! Loads a session file, tolerating the damage a killed writer can leave behind.
//!
//! A last line without its newline is the line that was being written when the process died:
//! it is ignored with a warning. A damaged line in the middle is skipped with a warning too.

use super::error::SessionError;
use super::record::{Record, RecordBody, SessionHeader};
use crate::gemma::Conversation;
use std::path::{Path, PathBuf};

/// A whole session read back from disk.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionReader {
    /// The session file.
    pub path: PathBuf,
    /// The header (first line).
    pub header: SessionHeader,
    /// Every complete, well-formed record after the header, in file order.
    pub records: Vec<Record>,
    /// What was ignored and why, for the user to see.
    pub warnings: Vec<String>,
    /// Byte length of the file up to and including the last complete line.
    pub(crate) complete_len: u64,
}

impl SessionReader {
    /// Reads and parses the session file at `path`.
    pub fn open(path: &Path) -> Result<Self, SessionError> {
        let bytes = std::fs::read(path).map_err(|err| SessionError::io(path, err))?;
        Self::parse(path, &bytes)
    }

    /// The records after the header.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Takes the records, dropping the rest.
    pub fn into_records(self) -> Vec<Record> {
        self.records
    }

    /// The conversation as the last turn left it (what `--resume` continues from), if any.
    pub fn into_last_conversation(self) -> Option<Conversation> {
        self.records
            .into_iter()
            .rev()
            .find_map(|record| match record.body {
                RecordBody::Conversation(conversation) => Some(conversation),
                _ => None,
            })
    }

    fn parse(path: &Path, bytes: &[u8]) -> Result<Self, SessionError> {
        let complete_len = bytes
            .iter()
            .rposition(|&byte| byte == b'\n')
            .map_or(0, |index| index + 1);
        let mut warnings = Vec::new();
        let tail = &bytes[complete_len..];
        if !tail.is_empty() {
            warnings.push(format!(
                "{}: ignored an incomplete last line ({} bytes)",
                path.display(),
                tail.len()
            ));
        }

        let mut lines = bytes[..complete_len]
            .split(|&byte| byte == b'\n')
            .enumerate()
            .filter(|(_, line)| !line.is_empty());
        let header = lines
            .next()
            .and_then(|(_, line)| serde_json::from_slice::<Record>(line).ok())
            .and_then(|record| match record.body {
                RecordBody::Header(header) => Some(header),
                _ => None,
            })
            .ok_or_else(|| SessionError::NotASession(path.to_path_buf()))?;

        let mut records = Vec::new();
        for (index, line) in lines {
            match serde_json::from_slice::<Record>(line) {
                Ok(record) => records.push(record),
                Err(err) => warnings.push(format!(
                    "{}:{}: skipped a damaged line: {err}",
                    path.display(),
                    index + 1
                )),
            }
        }
        Ok(SessionReader {
            path: path.to_path_buf(),
            header,
            records,
            warnings,
            complete_len: complete_len as u64,
        })
    }
}
