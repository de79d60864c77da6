//! Steering a running turn: messages the user sends while it runs ([`Op::Steer`]) reach the
//! model at the turn's next step, as user messages after the tool results of the step before.
//!
//! Gemma 4 has no message kind for this: the template closes the model turn (`<turn|>`) after
//! the last tool response and opens a user turn, so the conversation simply gets a user turn
//! there ([`crate::gemma::Conversation::push_user`]) and the next generation opens a new model
//! turn, as after any user message.

use std::collections::VecDeque;
use std::sync::mpsc;

use super::Agent;
use super::turn::user_content;
use crate::protocol::{Event, Op};
use crate::session::RecordBody;

impl Agent {
    /// At a step boundary of a running turn: takes the operations sent so far (applying mode
    /// switches, see [`Agent::take_pending_ops`]) and adds every steering message among them to
    /// the conversation as a user message, in the order sent, reporting each with
    /// [`Event::SteerApplied`]. The other operations keep waiting for the turn's end.
    pub(super) fn apply_steering(&mut self, ops: &mpsc::Receiver<Op>) {
        self.take_pending_ops(ops);
        let mut waiting = VecDeque::with_capacity(self.deferred.len());
        for op in std::mem::take(&mut self.deferred) {
            match op {
                Op::Steer { text, attachments } => {
                    let content = user_content(&text, &attachments);
                    // Recorded like any user message, so `--resume` and the session list have it.
                    self.emitter.record(&RecordBody::UserTurn {
                        text: content.clone(),
                    });
                    self.conversation.push_user(content);
                    self.emit(Event::SteerApplied { text });
                }
                other => waiting.push_back(other),
            }
        }
        self.deferred = waiting;
    }
}
