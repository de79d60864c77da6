//! The record of one model file found on this machine, and how it is classified from its
//! GGUF header.

use std::path::{Path, PathBuf};

use crate::engine::model_file::{self, GgufFacts};
use crate::engine::model_info;

/// Where a model was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Source {
    /// The Hugging Face cache (where `gem pull` writes too).
    #[serde(rename = "hf")]
    HuggingFace,
    /// llama.cpp's download cache.
    #[serde(rename = "llama.cpp")]
    LlamaCpp,
    /// LM Studio's models folder.
    #[serde(rename = "lm-studio")]
    LmStudio,
    /// Ollama's store.
    #[serde(rename = "ollama")]
    Ollama,
    /// Named by `--model`, `GEM_MODEL` or the config file.
    #[serde(rename = "path")]
    Path,
}

impl Source {
    /// The short name shown by `gem models`.
    pub fn label(self) -> &'static str {
        match self {
            Self::HuggingFace => "hf",
            Self::LlamaCpp => "llama.cpp",
            Self::LmStudio => "lm-studio",
            Self::Ollama => "ollama",
            Self::Path => "path",
        }
    }
}

/// Whether gem can run a model file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Usability {
    /// A Gemma 4 model llama.cpp can load: a candidate for the default.
    Gemma4,
    /// Another architecture llama.cpp loads: usable with `--model` (gem warns), never the
    /// default.
    OtherArchitecture,
    /// Cannot be used, and why.
    Refused {
        /// The reason, for people.
        reason: String,
    },
}

/// A model file found on this machine.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FoundModel {
    /// A name for people: `ORG/REPO/FILE` (hf), `NAME:TAG` (ollama), the path under the
    /// tool's folder otherwise.
    pub name: String,
    /// Where it was found.
    pub source: Source,
    /// The GGUF file (for a split model, its first part).
    pub path: PathBuf,
    /// Size in bytes (all parts of a split model).
    pub file_bytes: u64,
    /// `general.architecture`, when the header could be read.
    pub architecture: Option<String>,
    /// Gemma 4 size class (`E4B`, …) or the file's size label.
    pub size_class: Option<String>,
    /// Quantization, as llama.cpp names it.
    pub quantization: Option<String>,
    /// The trained context length.
    pub trained_context: Option<u32>,
    /// The vision/audio projector (mmproj) found beside it.
    pub projector: Option<PathBuf>,
    /// Whether gem can run it.
    pub usability: Usability,
    /// The header, for the fit rule.
    #[serde(skip)]
    pub facts: Option<GgufFacts>,
}

impl FoundModel {
    /// A usable Gemma 4 model.
    pub fn is_gemma4(&self) -> bool {
        self.usability == Usability::Gemma4
    }

    /// A model gem can run (Gemma 4 or another known architecture).
    pub fn is_usable(&self) -> bool {
        !matches!(self.usability, Usability::Refused { .. })
    }
}

/// Whether a file is a vision/audio projector rather than a language model: `mmproj` in its
/// name, or a header saying so (`general.architecture` `clip`, `general.type` `mmproj`).
pub fn is_projector(path: &Path, facts: Option<&GgufFacts>) -> bool {
    let named = path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().to_ascii_lowercase().contains("mmproj"));
    named
        || facts.is_some_and(|f| {
            f.architecture == "clip" || f.general_type.as_deref() == Some("mmproj")
        })
}

/// Reads `path`'s header and classifies it. `file_bytes` covers every part of a split model.
pub fn examine(
    name: String,
    source: Source,
    path: PathBuf,
    file_bytes: u64,
    projector: Option<PathBuf>,
) -> FoundModel {
    let mut found = FoundModel {
        name,
        source,
        path,
        file_bytes,
        architecture: None,
        size_class: None,
        quantization: None,
        trained_context: None,
        projector,
        usability: Usability::OtherArchitecture,
        facts: None,
    };
    let facts = match model_file::read_header(&found.path) {
        Ok(facts) => facts,
        Err(e) => {
            found.usability = Usability::Refused {
                reason: format!("its GGUF header cannot be read: {e}"),
            };
            return found;
        }
    };
    found.architecture = Some(facts.architecture.clone());
    found.size_class = model_info::size_class(&facts, 0);
    found.quantization = facts
        .file_type
        .map(|t| model_info::quantization_name(Some(t)));
    found.trained_context = facts.context_length;
    found.usability = classify(&found.path, &facts);
    found.facts = Some(facts);
    found
}

/// The classification of a readable model file.
fn classify(path: &Path, facts: &GgufFacts) -> Usability {
    if !model_file::is_known_architecture(&facts.architecture) {
        return Usability::Refused {
            reason: format!(
                "architecture {:?} is not one gem's llama.cpp is known to load",
                facts.architecture
            ),
        };
    }
    let encoder = model_file::tensor_names(path).map(|n| super::bundled::encoder_tensors(&n));
    if let Some(reason) = super::bundled::refusal(
        &facts.architecture,
        encoder,
        facts.encoder_keys,
        facts.tensor_count,
    ) {
        return Usability::Refused { reason };
    }
    if facts.architecture == "gemma4" {
        Usability::Gemma4
    } else {
        Usability::OtherArchitecture
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projectors_are_known_by_name_or_header() {
        assert!(is_projector(Path::new("/m/mmproj-model-f16.gguf"), None));
        assert!(is_projector(
            Path::new("/m/gemma-4-E4B-it-MMPROJ.gguf"),
            None
        ));
        assert!(!is_projector(
            Path::new("/m/gemma-4-E4B-it-Q4_K_M.gguf"),
            None
        ));
        let clip = GgufFacts {
            architecture: "clip".into(),
            ..GgufFacts::default()
        };
        assert!(is_projector(Path::new("/m/sha256-abc"), Some(&clip)));
        let typed = GgufFacts {
            architecture: "gemma4".into(),
            general_type: Some("mmproj".into()),
            ..GgufFacts::default()
        };
        assert!(is_projector(Path::new("/m/blob"), Some(&typed)));
    }

    #[test]
    fn an_unreadable_file_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.gguf");
        std::fs::write(&path, "not a model").unwrap();
        let found = examine("broken".into(), Source::Path, path, 11, None);
        let Usability::Refused { reason } = &found.usability else {
            panic!("{:?}", found.usability)
        };
        assert!(reason.contains("GGUF header cannot be read"), "{reason}");
        assert!(!found.is_usable());
    }
}
