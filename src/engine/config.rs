//! Engine settings: which model, and how to run it.

use std::path::PathBuf;

/// The KV cache element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KvCacheKind {
    /// 16-bit floats (llama.cpp's default).
    #[default]
    F16,
    /// 8-bit quantized: half the memory, near-identical output.
    Q8_0,
    /// 4-bit quantized: a quarter of the memory.
    Q4_0,
}

impl KvCacheKind {
    /// Parses `f16`, `q8_0` or `q4_0`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "f16" => Some(Self::F16),
            "q8_0" | "q8" => Some(Self::Q8_0),
            "q4_0" | "q4" => Some(Self::Q4_0),
            _ => None,
        }
    }

    /// Bytes per cached element (block-averaged for the quantized types).
    pub fn bytes_per_element(self) -> f64 {
        match self {
            Self::F16 => 2.0,
            Self::Q8_0 => 34.0 / 32.0,
            Self::Q4_0 => 18.0 / 32.0,
        }
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::F16 => "f16",
            Self::Q8_0 => "q8_0",
            Self::Q4_0 => "q4_0",
        }
    }
}

/// Everything needed to open a backend.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// A GGUF file, or `replay:PATH` for the replay backend.
    pub model: PathBuf,
    /// Context size in tokens; `None` = the model's trained maximum, reduced to fit memory.
    pub context: Option<usize>,
    /// Threads for generation and prompt processing; `None` = physical cores.
    pub threads: Option<usize>,
    /// Logical batch size for prompt processing.
    pub batch: usize,
    /// Physical micro-batch size.
    pub ubatch: usize,
    /// Flash attention: `None` = let llama.cpp decide.
    pub flash_attention: Option<bool>,
    /// KV cache element type.
    pub kv_cache: KvCacheKind,
    /// Layers to offload to a GPU; `None` = all when a GPU backend is compiled in.
    pub gpu_layers: Option<u32>,
    /// Keep the full sliding-window cache, so any rollback within the context is possible
    /// (costs memory on models with sliding-window layers).
    pub swa_full: bool,
    /// Where KV state files are kept; `None` disables the disk cache.
    pub state_dir: Option<PathBuf>,
    /// Upper bound on the disk cache's size in bytes (least recently used files go first).
    pub state_cache_max_bytes: u64,
}

impl EngineConfig {
    /// Defaults for `model`.
    pub fn new(model: impl Into<PathBuf>) -> Self {
        Self {
            model: model.into(),
            context: None,
            threads: None,
            batch: 512,
            ubatch: 512,
            flash_attention: None,
            kv_cache: KvCacheKind::F16,
            gpu_layers: None,
            swa_full: false,
            state_dir: default_state_dir(),
            state_cache_max_bytes: 4 << 30,
        }
    }

    /// Threads to use: the configured number or the machine's physical cores.
    pub fn effective_threads(&self) -> usize {
        self.threads.unwrap_or_else(num_cpus::get_physical).max(1)
    }
}

/// The default disk cache directory: `$GEM_CACHE_DIR/kv`, else the user's cache dir.
pub fn default_state_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("GEM_CACHE_DIR") {
        return Some(PathBuf::from(dir).join("kv"));
    }
    dirs::cache_dir().map(|dir| dir.join("gem").join("kv"))
}
