//! llama.cpp's download cache (`llama-cli -hf` and `-mu` put files here): `*.gguf` files,
//! named by their path under the cache.

use std::path::{Path, PathBuf};

use super::catalog::Source;
use super::discover::{Candidate, folder_candidates, folders_under, relative_name};

/// `LLAMA_CACHE`, else the platform cache folder's `llama.cpp` (as llama.cpp resolves it:
/// `~/.cache/llama.cpp` on Linux, `~/Library/Caches/llama.cpp` on macOS).
pub fn cache_dir() -> Option<PathBuf> {
    match std::env::var_os("LLAMA_CACHE").filter(|v| !v.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => dirs::cache_dir().map(|d| d.join("llama.cpp")),
    }
}

/// The GGUF files under `dir` (three folder levels deep).
pub fn candidates(dir: &Path) -> Vec<Candidate> {
    folders_under(dir, 3)
        .iter()
        .flat_map(|sub| folder_candidates(sub, Source::LlamaCpp, &|p| relative_name(dir, p)))
        .collect()
}
