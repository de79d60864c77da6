//! Appends records to a session file, one JSON line per record, flushed per line.
//!
//! Each line goes out in a single `write_all` followed by `flush`, so a killed process loses at
//! most the line being written; the reader ignores such a partial last line and
//! [`SessionWriter::resume`] cuts it off before appending again.

use super::error::SessionError;
use super::reader::SessionReader;
use super::record::{RecordBody, SessionHeader, line_now};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// An open session file that records are appended to.
#[derive(Debug)]
pub struct SessionWriter {
    file: File,
    path: PathBuf,
    id: String,
    /// Bytes known to be on disk as complete lines.
    len: u64,
}

impl SessionWriter {
    /// Creates a new session file at `path` (which must not exist) and writes the header.
    pub(crate) fn create_new(path: &Path, header: &SessionHeader) -> Result<Self, SessionError> {
        let mut options = OpenOptions::new();
        options.append(true).create_new(true);
        // A session holds the user's code and prompts: readable by its owner only.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(path)
            .map_err(|err| SessionError::io(path, err))?;
        let mut writer = SessionWriter {
            file,
            path: path.to_path_buf(),
            id: header.id.clone(),
            len: 0,
        };
        writer.append(&RecordBody::Header(header.clone()))?;
        Ok(writer)
    }

    /// Reopens an existing session for appending, after cutting off an incomplete last line.
    ///
    /// Returns the writer and everything that was read, so the caller can rebuild the
    /// conversation and show the reader's warnings.
    pub fn resume(path: &Path) -> Result<(Self, SessionReader), SessionError> {
        let reader = SessionReader::open(path)?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|err| SessionError::io(path, err))?;
        file.set_len(reader.complete_len)
            .map_err(|err| SessionError::io(path, err))?;
        let writer = SessionWriter {
            file,
            path: path.to_path_buf(),
            id: reader.header.id.clone(),
            len: reader.complete_len,
        };
        Ok((writer, reader))
    }

    /// Appends one record and flushes it to the operating system.
    ///
    /// If the write fails half-way, the partial line is cut off again so later records stay
    /// readable.
    pub fn append(&mut self, body: &RecordBody) -> Result<(), SessionError> {
        let mut line = line_now(body)?;
        line.push(b'\n');
        let written = self.file.write_all(&line).and_then(|()| self.file.flush());
        if let Err(err) = written {
            // Best effort: if even the cut fails, the reader still skips the damaged line.
            let _ = self.file.set_len(self.len);
            return Err(SessionError::io(&self.path, err));
        }
        self.len += line.len() as u64;
        Ok(())
    }

    /// Forces everything written so far onto the disk (survives power loss, not just a kill).
    pub fn sync(&self) -> Result<(), SessionError> {
        self.file
            .sync_data()
            .map_err(|err| SessionError::io(&self.path, err))
    }

    /// The session id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The session file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
