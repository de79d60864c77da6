//! Facts about the loaded model, shown on load and in `/model`.

use std::path::PathBuf;

use serde::Serialize;

use super::model_file::GgufFacts;

/// What gem knows about the model it runs.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct ModelInfo {
    /// Display name (`general.name` or the file name).
    pub name: String,
    /// The model file (or the replay file).
    pub path: PathBuf,
    /// `general.architecture`, e.g. `gemma4`; `replay` for the replay backend.
    pub architecture: String,
    /// Size class such as `E2B`, `E4B`, `26B-A4B`, `31B` (or the file's size label).
    pub size_class: Option<String>,
    /// Parameter count.
    pub parameters: u64,
    /// File size in bytes.
    pub file_bytes: u64,
    /// The context length the model was trained for.
    pub trained_context: usize,
    /// The context size in use.
    pub context_size: usize,
    /// Quantization, e.g. `Q4_K - Medium`.
    pub quantization: String,
    /// Transformer layers.
    pub layers: u32,
    /// Sliding-window size of the local attention layers, if any.
    pub sliding_window: Option<u32>,
    /// The chat template embedded in the file, if any.
    #[serde(skip)]
    pub chat_template: Option<String>,
    /// Why the context is smaller than asked or trained, when it is.
    pub context_note: Option<String>,
}

impl ModelInfo {
    /// Whether this is a Gemma 4 model (the native format gem renders).
    pub fn is_gemma4(&self) -> bool {
        self.architecture == "gemma4"
    }

    /// One line for logs and status bars.
    pub fn summary(&self) -> String {
        let size = self.size_class.as_deref().unwrap_or("?");
        format!(
            "{} ({}, {}, {} params, {}, context {} of {} trained)",
            self.name,
            self.architecture,
            size,
            human_count(self.parameters),
            self.quantization,
            self.context_size,
            self.trained_context
        )
    }
}

/// Gemma 4 size class from the layer count (the model cards' layouts).
pub fn gemma4_size_class(layers: u32) -> Option<&'static str> {
    match layers {
        35 => Some("E2B"),
        42 => Some("E4B"),
        30 => Some("26B-A4B"),
        60 => Some("31B"),
        _ => None,
    }
}

/// Size class for any model: Gemma 4 by layout, else the file's label, else from the parameters.
pub fn size_class(facts: &GgufFacts, parameters: u64) -> Option<String> {
    if facts.architecture == "gemma4"
        && let Some(class) = facts.block_count.and_then(gemma4_size_class)
    {
        return Some(class.to_string());
    }
    facts
        .size_label
        .clone()
        .or_else(|| (parameters > 0).then(|| human_count(parameters)))
}

/// `268098176` → `268M`.
pub fn human_count(n: u64) -> String {
    match n {
        n if n >= 1_000_000_000 => format!("{:.1}B", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 => format!("{}K", n / 1_000),
        n => n.to_string(),
    }
}

/// llama.cpp's name for a `general.file_type` value.
pub fn quantization_name(file_type: Option<u32>) -> String {
    let Some(file_type) = file_type else {
        return "unknown".into();
    };
    // SAFETY: llama_ftype_name is a pure lookup returning a static string ("unknown" for
    // values it does not know); it touches no model or context.
    let name = unsafe { llama_cpp_sys_2::llama_ftype_name(file_type as _) };
    if name.is_null() {
        return format!("type {file_type}");
    }
    // SAFETY: non-null pointers from llama_ftype_name point at static NUL-terminated strings.
    unsafe { std::ffi::CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemma4_classes_follow_the_layer_counts() {
        let facts = GgufFacts {
            architecture: "gemma4".into(),
            block_count: Some(42),
            ..GgufFacts::default()
        };
        assert_eq!(size_class(&facts, 4_000_000_000).as_deref(), Some("E4B"));
        let other = GgufFacts {
            architecture: "gemma3".into(),
            block_count: Some(18),
            ..GgufFacts::default()
        };
        assert_eq!(size_class(&other, 268_098_176).as_deref(), Some("268M"));
    }

    #[test]
    fn quantization_names_come_from_llama_cpp() {
        assert_eq!(quantization_name(Some(15)), "Q4_K - Medium");
        assert_eq!(quantization_name(None), "unknown");
    }
}
