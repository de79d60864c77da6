//! Plan mode's instruction to the model. It travels as a `<plan_mode>` block attached to each
//! user message sent in plan mode, not in the system prompt: the system prompt (with the packed
//! repository) is the start of every prompt and of the KV state kept in memory and on disk, so
//! switching modes must not change it. A note on the message leaves that prefix whole; the
//! model reads it right next to the request it is about.

use crate::protocol::Attachment;

/// The label of the block (the tag the model sees).
pub const PLAN_NOTE_LABEL: &str = "plan_mode";

/// What the model is told in plan mode (`prompts/plan.md`).
pub const PLAN_PROMPT: &str = include_str!("../../prompts/plan.md");

/// The block attached to a user message sent in plan mode.
pub fn plan_note() -> Attachment {
    Attachment {
        label: PLAN_NOTE_LABEL.to_string(),
        content: PLAN_PROMPT.trim().to_string(),
    }
}

/// `message` without the plan-mode block, as the user wrote it (for showing it again).
pub fn without_plan_note(message: &str) -> String {
    let open = format!("\n\n<{PLAN_NOTE_LABEL}>\n");
    let close = format!("</{PLAN_NOTE_LABEL}>");
    match message.find(&open).and_then(|start| {
        let end = start + message[start..].find(&close)? + close.len();
        Some((start, end))
    }) {
        Some((start, end)) => format!("{}{}", &message[..start], &message[end..]),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_comes_off_a_message_shown_again() {
        let sent = crate::agent::turn::user_content("plan it", &[plan_note()]);
        assert!(sent.contains("<plan_mode>"));
        assert_eq!(without_plan_note(&sent), "plan it");
        assert_eq!(
            without_plan_note(&format!("{sent}\n\n<changed_files>x</changed_files>")),
            "plan it\n\n<changed_files>x</changed_files>"
        );
        assert_eq!(without_plan_note("a <plan_mode> b"), "a <plan_mode> b");
    }

    #[test]
    fn the_note_asks_for_a_numbered_plan_and_no_changes() {
        let note = plan_note();
        assert_eq!(note.label, "plan_mode");
        assert!(note.content.contains("numbered plan"), "{}", note.content);
        assert!(note.content.contains("Do not change anything"));
    }
}
