//! Reading the stable prefix (system prompt, tools, packed repository) into the model at
//! launch, while the user types, so the first message waits only for what is left.

use std::time::Instant;

use super::Agent;
use crate::engine::{GenerateEvent, GenerateRequest, StopReason};
use crate::protocol::Event;

impl Agent {
    /// Whether the prefix is read in at launch: in the interactive frontend, with a packed
    /// repository (the long prefix worth starting early), before any message.
    pub(super) fn should_warm_up(&self) -> bool {
        self.config.interactive
            && self.config.packed.is_some()
            && self.conversation.turns.is_empty()
    }

    /// Prefills the stable prefix — restored from the disk cache when it is there, and kept
    /// there when it is not — reporting progress like a turn's prefill. A message sent
    /// meanwhile waits in the queue and then reuses what was read; an interrupt (or quitting)
    /// stops it between chunks.
    pub(super) fn warm_up(&mut self) {
        let Some((rendered, early)) = self.stable_prefix() else {
            return;
        };
        let started = Instant::now();
        // No token is generated: the request only prefills (and keeps) the prefix.
        let mut request = GenerateRequest::new(rendered.text.clone(), 0);
        request.literal = rendered.content;
        request.persist_prefix = Some(rendered.text);
        request.persist_early = early;
        request.cancel = self.cancel.clone();
        let emitter = self.emitter.clone();
        let result = self.backend.clone().generate(request, &mut |event| {
            if let GenerateEvent::Prefill { done, total } = event {
                emitter.emit(Event::PrefillProgress { done, total });
            }
        });
        match result {
            Ok(outcome) => self.emit(Event::WarmedUp {
                prompt_tokens: outcome.usage.prompt_tokens,
                restored_tokens: outcome.restored_from_disk,
                prefilled_tokens: outcome.usage.prefilled_tokens,
                elapsed_ms: started.elapsed().as_millis() as u64,
                cancelled: matches!(outcome.stop, StopReason::Cancelled),
            }),
            Err(e) => self.emit(Event::Warning {
                message: format!("the repository could not be read in ahead of time: {e}"),
            }),
        }
    }
}
