//! Sessions on disk: every record of a conversation as one JSON line, appended as it happens.
//!
//! A session file starts with a [`SessionHeader`] line, followed by [`Record`]s (the user's
//! turns, protocol events, conversation snapshots: one [`RecordBody`] each). Lines are flushed one by one, so a killed
//! process loses at most the line it was writing. [`SessionStore`] creates, lists and finds
//! sessions; [`SessionWriter::resume`] reopens one to continue it.

mod error;
mod id;
mod reader;
mod record;
mod store;
mod writer;

#[cfg(test)]
mod kill_tests;
#[cfg(test)]
mod tests;

pub use error::SessionError;
pub use id::{is_session_id, new_session_id, rfc3339_utc};
pub use reader::SessionReader;
pub use record::{FORMAT_VERSION, Record, RecordBody, SessionHeader};
pub use store::{DATA_DIR_ENV, SessionStore, SessionSummary, find, latest_for, list_sessions};
pub use writer::SessionWriter;
