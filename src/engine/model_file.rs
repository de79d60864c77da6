//! Checks a model file before llama.cpp sees it, and reads its GGUF metadata.
//!
//! llama.cpp answers most bad files with a bare null pointer; these checks turn the common cases
//! (missing file, not a GGUF, unreadable header, unknown architecture) into clear messages.

use std::ffi::{CStr, CString};
use std::io::Read;
use std::path::{Path, PathBuf};

use llama_cpp_2::gguf::GgufContext;

use super::EngineError;

/// Metadata read from a GGUF header without loading the weights.
#[derive(Debug, Clone, Default)]
pub struct GgufFacts {
    /// `general.architecture`.
    pub architecture: String,
    /// `general.name`, if present.
    pub name: Option<String>,
    /// `general.size_label`, if present.
    pub size_label: Option<String>,
    /// `general.file_type` (llama.cpp's `llama_ftype`).
    pub file_type: Option<u32>,
    /// `<arch>.context_length`.
    pub context_length: Option<u32>,
    /// `<arch>.block_count`.
    pub block_count: Option<u32>,
    /// `<arch>.embedding_length`.
    pub embedding_length: Option<u32>,
    /// `<arch>.attention.head_count`.
    pub head_count: Option<u32>,
    /// `<arch>.attention.head_count_kv` when stored as one number.
    pub head_count_kv: Option<u32>,
    /// `<arch>.attention.key_length`.
    pub key_length: Option<u32>,
    /// `<arch>.attention.value_length`.
    pub value_length: Option<u32>,
    /// `<arch>.attention.sliding_window`.
    pub sliding_window: Option<u32>,
    /// `tokenizer.chat_template`, if the file embeds one.
    pub chat_template: Option<String>,
    /// `general.type` (`model`, `mmproj`, …), if present.
    pub general_type: Option<String>,
    /// Number of tensors the header describes.
    pub tensor_count: u64,
    /// Keys under `<arch>.vision.` or `<arch>.audio.`: an encoder's settings stored in the
    /// model file itself (as Ollama's own blobs do).
    pub encoder_keys: usize,
    /// File size in bytes.
    pub file_bytes: u64,
}

/// Architectures this build of llama.cpp is known to load (the families gem is meant for).
const KNOWN_ARCHITECTURES: &[&str] = &[
    "gemma4", "gemma3", "gemma3n", "gemma2", "gemma", "llama", "qwen2", "qwen3", "qwen3moe",
    "mistral3", "phi3",
];

/// Whether this build of llama.cpp is known to load `architecture`.
pub fn is_known_architecture(architecture: &str) -> bool {
    KNOWN_ARCHITECTURES.contains(&architecture)
}

/// Validates `path` and reads its metadata; an architecture gem does not know is an error.
pub fn inspect(path: &Path) -> Result<GgufFacts, EngineError> {
    let facts = read_header(path)?;
    if !is_known_architecture(&facts.architecture) {
        return Err(EngineError::UnsupportedArchitecture {
            path: path.into(),
            architecture: facts.architecture,
        });
    }
    Ok(facts)
}

/// Reads the metadata of any GGUF file (projectors and unknown architectures included),
/// without loading weights.
pub fn read_header(path: &Path) -> Result<GgufFacts, EngineError> {
    let meta = std::fs::metadata(path).map_err(|_| EngineError::ModelNotFound(path.into()))?;
    if meta.is_dir() {
        return Err(EngineError::NotGguf {
            path: path.into(),
            detail: "it is a directory; pass the .gguf file itself".into(),
        });
    }
    if !meta.is_file() {
        return Err(EngineError::ModelNotFound(path.into()));
    }
    let mut magic = [0u8; 4];
    let read = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut magic))
        .map_err(|e| EngineError::NotGguf {
            path: path.into(),
            detail: e.to_string(),
        })?;
    if read < 4 || &magic != b"GGUF" {
        return Err(EngineError::NotGguf {
            path: path.into(),
            detail: format!(
                "it starts with {:?}, not the GGUF magic",
                String::from_utf8_lossy(&magic[..read])
            ),
        });
    }
    let ctx = super::llama::logs::capture(|| GgufContext::from_file(path)).ok_or_else(|| {
        EngineError::CorruptModel {
            path: path.into(),
            detail: super::llama::logs::last_errors()
                .unwrap_or_else(|| "the GGUF header cannot be read".into()),
        }
    })?;
    let mut facts = GgufFacts {
        file_bytes: meta.len(),
        ..GgufFacts::default()
    };
    facts.architecture =
        string(&ctx, "general.architecture").ok_or_else(|| EngineError::CorruptModel {
            path: path.into(),
            detail: "no general.architecture key".into(),
        })?;
    let arch = facts.architecture.clone();
    facts.name = string(&ctx, "general.name");
    facts.size_label = string(&ctx, "general.size_label");
    facts.file_type = uint(&ctx, "general.file_type");
    facts.context_length = uint(&ctx, &format!("{arch}.context_length"));
    facts.block_count = uint(&ctx, &format!("{arch}.block_count"));
    facts.embedding_length = uint(&ctx, &format!("{arch}.embedding_length"));
    facts.head_count = uint(&ctx, &format!("{arch}.attention.head_count"));
    facts.head_count_kv = uint(&ctx, &format!("{arch}.attention.head_count_kv"));
    facts.key_length = uint(&ctx, &format!("{arch}.attention.key_length"));
    facts.value_length = uint(&ctx, &format!("{arch}.attention.value_length"));
    facts.sliding_window = uint(&ctx, &format!("{arch}.attention.sliding_window"));
    facts.chat_template = string(&ctx, "tokenizer.chat_template");
    facts.general_type = string(&ctx, "general.type");
    facts.tensor_count = u64::try_from(ctx.n_tensors()).unwrap_or(0);
    let vision = format!("{arch}.vision.");
    let audio = format!("{arch}.audio.");
    facts.encoder_keys = (0..ctx.n_kv())
        .filter_map(|i| ctx.key_at(i))
        .filter(|key| key.starts_with(&vision) || key.starts_with(&audio))
        .count();
    Ok(facts)
}

/// The names of the tensors `path` describes, read from its header (`None` when it cannot be
/// read). llama_cpp_2's `GgufContext` counts tensors but does not name them, hence the direct
/// calls.
pub fn tensor_names(path: &Path) -> Option<Vec<String>> {
    let c_path = CString::new(path.to_str()?).ok()?;
    let params = llama_cpp_sys_2::gguf_init_params {
        no_alloc: true,
        ctx: std::ptr::null_mut(),
    };
    // SAFETY: `c_path` is a valid NUL-terminated string; with `no_alloc` and a null ggml
    // context gguf reads only the header and returns a context we own, or null.
    let ctx = super::llama::logs::capture(|| unsafe {
        llama_cpp_sys_2::gguf_init_from_file(c_path.as_ptr(), params)
    });
    if ctx.is_null() {
        return None;
    }
    // SAFETY: `ctx` is valid until `gguf_free` below; ids are within `0..n`; the name pointers
    // point into `ctx` and are copied before it is freed.
    let names = unsafe {
        let n = llama_cpp_sys_2::gguf_get_n_tensors(ctx);
        let names = (0..n)
            .filter_map(|i| {
                let name = llama_cpp_sys_2::gguf_get_tensor_name(ctx, i);
                (!name.is_null()).then(|| CStr::from_ptr(name).to_string_lossy().into_owned())
            })
            .collect();
        llama_cpp_sys_2::gguf_free(ctx);
        names
    };
    Some(names)
}

/// Identity of a model file for cache keys: its size and a hash of its first 8 MiB (header,
/// metadata and tensor layout), independent of where the file lives.
pub fn identity(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let mut head = Vec::new();
    file.take(8 << 20).read_to_end(&mut head)?;
    let mut hasher = Sha256::new();
    hasher.update(len.to_le_bytes());
    hasher.update(&head);
    Ok(hex::encode(hasher.finalize()))
}

fn string(ctx: &GgufContext, key: &str) -> Option<String> {
    let idx = ctx.find_key(key);
    if idx < 0 || ctx.kv_type(idx) != llama_cpp_sys_2::GGUF_TYPE_STRING {
        return None;
    }
    ctx.val_str(idx).map(str::to_owned)
}

fn uint(ctx: &GgufContext, key: &str) -> Option<u32> {
    let idx = ctx.find_key(key);
    if idx < 0 {
        return None;
    }
    match ctx.kv_type(idx) {
        llama_cpp_sys_2::GGUF_TYPE_UINT32 => Some(ctx.val_u32(idx)),
        llama_cpp_sys_2::GGUF_TYPE_INT32 => u32::try_from(ctx.val_i32(idx)).ok(),
        llama_cpp_sys_2::GGUF_TYPE_UINT64 => u32::try_from(ctx.val_u64(idx)).ok(),
        _ => None,
    }
}

/// A path made absolute for messages and cache keys (unchanged when that fails).
pub fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_reported_as_not_found() {
        let err = inspect(Path::new("/nonexistent/model.gguf")).unwrap_err();
        assert!(matches!(err, EngineError::ModelNotFound(_)), "{err}");
        assert!(err.to_string().contains("--model"));
    }

    #[test]
    fn a_text_file_is_not_a_gguf() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.gguf");
        std::fs::write(&path, "hello world").unwrap();
        let err = inspect(&path).unwrap_err();
        assert!(matches!(err, EngineError::NotGguf { .. }), "{err}");
        assert!(err.to_string().contains("hell"));
    }

    #[test]
    fn a_truncated_header_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.gguf");
        std::fs::write(&path, b"GGUF\x03\x00\x00\x00\x05").unwrap();
        let err = inspect(&path).unwrap_err();
        assert!(matches!(err, EngineError::CorruptModel { .. }), "{err}");
    }

    #[test]
    fn identity_depends_on_content_not_location() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        let c = dir.path().join("c");
        std::fs::write(&a, b"GGUF same").unwrap();
        std::fs::write(&b, b"GGUF same").unwrap();
        std::fs::write(&c, b"GGUF diff").unwrap();
        assert_eq!(identity(&a).unwrap(), identity(&b).unwrap());
        assert_ne!(identity(&a).unwrap(), identity(&c).unwrap());
    }
}
