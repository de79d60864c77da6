//! The on-disk record format: one JSON object per line, `{"kind", "ts_ms", "payload"}`, read
//! and written as one typed [`RecordBody`].
//!
//! The first line of every session file is the header record ([`RecordBody::Header`]).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::gemma::Conversation;
use crate::protocol::Event;

/// Version of the line format written by this build.
pub const FORMAT_VERSION: u32 = 1;

/// The kind older builds wrote a user's turn under when it was a serialised `Op::UserTurn`
/// (`{"op": "user_turn", "text": …}`); still read as [`RecordBody::UserTurn`].
const LEGACY_OP_KIND: &str = "op";

/// What the first line of a session file says about the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionHeader {
    /// Line-format version ([`FORMAT_VERSION`] when written by this build).
    pub format: u32,
    /// The session id, also the file stem.
    pub id: String,
    /// Creation time, RFC 3339 UTC.
    pub created: String,
    /// Canonical path of the project root.
    pub project_root: String,
    /// The model file (or name) the session ran with.
    pub model: String,
    /// Version of gem that created the session.
    pub gem_version: String,
}

/// What one line of a session file holds (`kind` and `payload` on disk).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum RecordBody {
    /// The first line: what the session is.
    Header(SessionHeader),
    /// The user's message as the model received it (attachments included).
    UserTurn {
        /// The message.
        text: String,
    },
    /// An event the agent reported (streamed text coalesced).
    Event(Event),
    /// The whole conversation after a turn: what `--resume` continues from.
    Conversation(Conversation),
    /// A line of a kind this build does not know, or whose payload it cannot read (written by
    /// another version of gem): kept in order, never interpreted.
    #[serde(skip)]
    Other {
        /// The line's `kind`.
        kind: String,
    },
}

/// One stored record: what it holds and when it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// What the line holds.
    pub body: RecordBody,
    /// Milliseconds since the Unix epoch when it was written (0 when unknown).
    pub ts_ms: u64,
}

impl Record {
    /// The user's text if this record is a user turn.
    pub fn user_text(&self) -> Option<&str> {
        match &self.body {
            RecordBody::UserTurn { text } => Some(text),
            _ => None,
        }
    }
}

/// A line as it is on disk, before its payload is read as its kind.
#[derive(Deserialize)]
struct RawLine {
    kind: String,
    #[serde(default)]
    ts_ms: u64,
    #[serde(default)]
    payload: Value,
}

/// A line as it is written.
#[derive(Serialize)]
struct LineOut<'a> {
    #[serde(flatten)]
    body: &'a RecordBody,
    ts_ms: u64,
}

/// `body` as one line (no newline), stamped now.
pub(crate) fn line_now(body: &RecordBody) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&LineOut {
        body,
        ts_ms: now_ms(),
    })
}

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        LineOut {
            body: &self.body,
            ts_ms: self.ts_ms,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Record {
    /// A line whose `kind` and `payload` do not make a known [`RecordBody`] still reads, as
    /// [`RecordBody::Other`]; only a line that is not a `{"kind", …}` object is an error.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let RawLine {
            kind,
            ts_ms,
            payload,
        } = RawLine::deserialize(deserializer)?;
        let body = if kind == LEGACY_OP_KIND
            && payload.get("op").and_then(Value::as_str) == Some("user_turn")
        {
            match payload.get("text").and_then(Value::as_str) {
                Some(text) => RecordBody::UserTurn {
                    text: text.to_string(),
                },
                None => RecordBody::Other { kind },
            }
        } else {
            let tagged = serde_json::json!({ "kind": kind, "payload": payload });
            serde_json::from_value(tagged).unwrap_or(RecordBody::Other { kind })
        };
        Ok(Record { body, ts_ms })
    }
}

/// Milliseconds since the Unix epoch now.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(line: Value) -> Record {
        serde_json::from_value(line).unwrap()
    }

    #[test]
    fn every_kind_round_trips_through_a_line() {
        let mut conversation = Conversation::default();
        conversation.push_user("hi");
        for body in [
            RecordBody::UserTurn {
                text: "fix it".into(),
            },
            RecordBody::Event(Event::TextDelta { delta: "x".into() }),
            RecordBody::Conversation(conversation),
        ] {
            let record = Record { body, ts_ms: 7 };
            let line = serde_json::to_value(&record).unwrap();
            assert_eq!(line["ts_ms"], 7);
            assert!(
                line["kind"].is_string() && !line["payload"].is_null(),
                "{line}"
            );
            assert_eq!(read(line), record);
        }
    }

    #[test]
    fn lines_of_other_versions_read_as_other_or_as_what_they_were() {
        // An older build wrote the user's turn as a serialised Op.
        let legacy = read(json!({"kind": "op", "payload": {"op": "user_turn", "text": "old"}}));
        assert_eq!(legacy.user_text(), Some("old"));
        let interrupt = read(json!({"kind": "op", "payload": {"op": "interrupt"}}));
        assert_eq!(interrupt.body, RecordBody::Other { kind: "op".into() });
        // A kind this build does not know, and a known kind whose payload it cannot read.
        let unknown = read(json!({"kind": "snapshot", "ts_ms": 3, "payload": [1, 2]}));
        assert_eq!(
            unknown.body,
            RecordBody::Other {
                kind: "snapshot".into()
            }
        );
        assert_eq!(unknown.ts_ms, 3);
        let odd_event = read(json!({"kind": "event", "payload": {"type": "from_the_future"}}));
        assert_eq!(
            odd_event.body,
            RecordBody::Other {
                kind: "event".into()
            }
        );
        assert_eq!(odd_event.user_text(), None);
        // Not a record at all.
        assert!(serde_json::from_value::<Record>(json!([1, 2])).is_err());
    }
}
