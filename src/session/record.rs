//! The on-disk record format: one JSON object per line, `{"kind", "ts_ms", "payload"}`.
//!
//! The first line of every session file is the header record (kind [`HEADER_KIND`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

/// The kind of the first record of every session file.
pub const HEADER_KIND: &str = "header";

/// The kind under which a user's turn may be stored (payload `{"text": …}`).
///
/// A record also counts as a user turn when its payload is a serialised `Op::UserTurn`
/// (`{"op": "user_turn", "text": …}`), whatever its kind.
pub const USER_TURN_KIND: &str = "user_turn";

/// Version of the line format written by this build.
pub const FORMAT_VERSION: u32 = 1;

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

/// One stored record: its kind, when it was written, and the payload as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// What the payload is, e.g. `event`, `snapshot`, `user_turn`.
    pub kind: String,
    /// Milliseconds since the Unix epoch when it was written (0 when unknown).
    #[serde(default)]
    pub ts_ms: u64,
    /// The payload.
    #[serde(default)]
    pub payload: Value,
}

impl Record {
    /// The user's text if this record is a user turn (see [`USER_TURN_KIND`]).
    pub fn user_text(&self) -> Option<&str> {
        let is_turn = self.kind == USER_TURN_KIND
            || self.payload.get("op").and_then(Value::as_str) == Some(USER_TURN_KIND);
        if !is_turn {
            return None;
        }
        self.payload.get("text").and_then(Value::as_str)
    }
}

/// A record borrowed for writing, so payloads are serialised without a copy.
#[derive(Serialize)]
pub(crate) struct RecordRef<'a, T: Serialize + ?Sized> {
    pub kind: &'a str,
    pub ts_ms: u64,
    pub payload: &'a T,
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

    fn record(kind: &str, payload: Value) -> Record {
        Record {
            kind: kind.to_string(),
            ts_ms: 0,
            payload,
        }
    }

    #[test]
    fn user_turns_are_recognised_by_kind_or_op() {
        assert_eq!(
            record("user_turn", json!({"text": "hi"})).user_text(),
            Some("hi")
        );
        assert_eq!(
            record(
                "op",
                json!({"op": "user_turn", "text": "fix it", "attachments": []})
            )
            .user_text(),
            Some("fix it")
        );
        assert_eq!(record("op", json!({"op": "interrupt"})).user_text(), None);
        assert_eq!(
            record("event", json!({"event": "text_delta", "text": "x"})).user_text(),
            None
        );
    }
}
