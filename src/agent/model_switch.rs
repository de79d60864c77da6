//! Switching the model mid-session (`/model` in the TUI): the conversation goes on, rendered
//! for the new model from its next turn.

use std::path::Path;
use std::sync::Arc;

use super::{Agent, render_options};
use crate::engine::Backend;
use crate::gemma::{ChatTemplate, Variant};
use crate::protocol::Event;

/// A model opened for a switch: its backend, its template variant, and the embedded template
/// to render with when gem's renderer disagrees with it.
pub struct OpenedModel {
    /// The new backend.
    pub backend: Arc<dyn Backend>,
    /// How its template renders (26B/31B differ with thinking off).
    pub variant: Variant,
    /// The embedded template, when it must be used instead of gem's renderer.
    pub template: Option<ChatTemplate>,
    /// What is worth knowing about it (a reduced context, a template mismatch …).
    pub notes: Vec<String>,
}

/// Opens a model file with the session's engine settings; the error says why it cannot.
pub type ModelOpener = Box<dyn Fn(&Path) -> Result<OpenedModel, String> + Send>;

impl Agent {
    /// Lets the session switch models, opening them with `opener`.
    pub fn set_model_opener(&mut self, opener: ModelOpener) {
        self.model_opener = Some(opener);
    }

    /// Opens `path` and continues the conversation on it; on failure the current model stays
    /// and the frontend gets the reason. The old model is released once the new one is open.
    pub(super) fn switch_model(&mut self, path: &Path) {
        let Some(opener) = &self.model_opener else {
            self.emit(Event::Error {
                message: "this session cannot switch models".into(),
            });
            return;
        };
        match opener(path) {
            Ok(opened) => {
                self.backend = opened.backend;
                self.config.variant = opened.variant;
                self.template = opened.template;
                self.render =
                    render_options(&self.registry, self.config.variant, self.config.thinking);
                for message in opened.notes {
                    self.emit(Event::Warning { message });
                }
                let info = self.backend.info();
                self.emit(Event::ModelChanged {
                    model: info.summary(),
                    context_size: info.context_size,
                });
            }
            Err(reason) => self.emit(Event::Error {
                message: format!(
                    "cannot switch to {}: {reason}; still on {}",
                    path.display(),
                    self.backend.info().summary()
                ),
            }),
        }
    }
}
