//! LM Studio's models folder: `PUBLISHER/REPO/*.gguf`, named `PUBLISHER/REPO/FILE`.

use std::path::{Path, PathBuf};

use super::catalog::Source;
use super::discover::{Candidate, folder_candidates, folders_under, relative_name};

/// `~/.lmstudio/models`, and `~/.cache/lm-studio/models` of older installs. (A models folder
/// moved elsewhere in LM Studio's settings is not found.)
pub fn model_dirs() -> Vec<PathBuf> {
    let Some(home) = dirs::home_dir() else {
        return Vec::new();
    };
    vec![
        home.join(".lmstudio").join("models"),
        home.join(".cache").join("lm-studio").join("models"),
    ]
}

/// The GGUF files under `dir` (`PUBLISHER/REPO/`, and one level below for split models).
pub fn candidates(dir: &Path) -> Vec<Candidate> {
    folders_under(dir, 3)
        .iter()
        .flat_map(|sub| folder_candidates(sub, Source::LmStudio, &|p| relative_name(dir, p)))
        .collect()
}
