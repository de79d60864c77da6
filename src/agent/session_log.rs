//! The session file as the agent writes it: every event, with streamed text deltas coalesced so
//! a long answer is a few lines, not one line per token.

use crate::protocol::Event;
use crate::session::{RecordBody, SessionWriter};

/// Streamed text held before it is written: at most this many bytes, so a killed process loses
/// little of it.
const MAX_PENDING_BYTES: usize = 64 * 1024;

/// A session writer that coalesces consecutive [`Event::TextDelta`]s (and
/// [`Event::ThinkingDelta`]s) into one record.
#[derive(Debug)]
pub struct SessionLog {
    writer: SessionWriter,
    /// Consecutive deltas of one kind not yet written.
    pending: Option<Event>,
}

impl SessionLog {
    /// Wraps an open session file.
    pub fn new(writer: SessionWriter) -> Self {
        SessionLog {
            writer,
            pending: None,
        }
    }

    /// The session's id.
    pub fn id(&self) -> &str {
        self.writer.id()
    }

    /// Records an event (write errors are ignored: the session file is a log, not the task).
    pub fn event(&mut self, event: &Event) {
        match (&mut self.pending, event) {
            (Some(Event::TextDelta { delta: held }), Event::TextDelta { delta })
            | (Some(Event::ThinkingDelta { delta: held }), Event::ThinkingDelta { delta }) => {
                held.push_str(delta);
                if held.len() >= MAX_PENDING_BYTES {
                    self.flush();
                }
            }
            (_, Event::TextDelta { .. } | Event::ThinkingDelta { .. }) => {
                self.flush();
                self.pending = Some(event.clone());
            }
            _ => {
                self.flush();
                let _ = self.writer.append(&RecordBody::Event(event.clone()));
            }
        }
    }

    /// Records another kind of record, after any held deltas.
    pub fn record(&mut self, body: &RecordBody) {
        self.flush();
        let _ = self.writer.append(body);
    }

    /// Writes the held deltas, if any.
    pub fn flush(&mut self) {
        if let Some(event) = self.pending.take() {
            let _ = self.writer.append(&RecordBody::Event(event));
        }
    }
}

impl Drop for SessionLog {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{SessionReader, SessionStore};

    #[test]
    fn streamed_deltas_become_few_lines_and_keep_every_byte() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("p");
        std::fs::create_dir(&project).unwrap();
        let writer = SessionStore::at(dir.path().join("sessions"))
            .create(&project, "m.gguf")
            .unwrap();
        let path = writer.path().to_path_buf();
        let mut log = SessionLog::new(writer);
        let mut answer = String::new();
        for i in 0..20_000 {
            let piece = format!("tok{i} ");
            answer.push_str(&piece);
            log.event(&Event::TextDelta { delta: piece });
        }
        log.event(&Event::ThinkingDelta { delta: "hm".into() });
        log.event(&Event::TextDelta {
            delta: "end".into(),
        });
        log.record(&RecordBody::UserTurn {
            text: "next".into(),
        });
        drop(log);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines = text.lines().count();
        // header + ceil(answer / 64 KiB) text lines + thinking + "end" + user turn
        assert!(lines < 12, "{lines} lines for 20,000 deltas");
        let reader = SessionReader::open(&path).unwrap();
        let mut text_seen = String::new();
        for record in &reader.records {
            if let RecordBody::Event(Event::TextDelta { delta }) = &record.body {
                text_seen.push_str(delta);
            }
        }
        assert_eq!(text_seen, format!("{answer}end"));
    }
}
