//! The Hugging Face hub cache: `models--ORG--REPO/snapshots/REV/**/*.gguf` (each file a symlink
//! into the repository's `blobs/`). `gem pull` writes here too, so other tools share the files.

use std::path::{Path, PathBuf};

use super::catalog::Source;
use super::discover::{Candidate, folder_candidates, folders_under, relative_name};

/// The hub cache folder, as `huggingface_hub` resolves it: `HF_HUB_CACHE`, else
/// `HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`.
/// `gem pull` should write where this points.
pub fn hub_dir() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("HF_HUB_CACHE") {
        return Some(PathBuf::from(dir));
    }
    if let Some(home) = var("HF_HOME") {
        return Some(PathBuf::from(home).join("hub"));
    }
    let cache = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".cache")))?;
    Some(cache.join("huggingface").join("hub"))
}

/// `models--ggml-org--gemma-4-E4B-it-GGUF` → `ggml-org/gemma-4-E4B-it-GGUF`.
pub fn repo_of_folder(folder: &str) -> Option<String> {
    let rest = folder.strip_prefix("models--")?;
    Some(rest.replacen("--", "/", 1))
}

/// The GGUF files of every model repository in the cache at `hub`, named `ORG/REPO/FILE`
/// (with `@REV` when the repository has more than one snapshot).
pub fn candidates(hub: &Path) -> Vec<Candidate> {
    let Ok(entries) = std::fs::read_dir(hub) else {
        return Vec::new();
    };
    let mut repos: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter_map(|e| Some((repo_of_folder(&e.file_name().to_string_lossy())?, e.path())))
        .collect();
    repos.sort();
    let mut out = Vec::new();
    for (repo, folder) in repos {
        let snapshots = folders_under(&folder.join("snapshots"), 1);
        let revisions: Vec<&PathBuf> = snapshots.iter().skip(1).collect();
        for rev_dir in &revisions {
            let rev = rev_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let suffix = if revisions.len() > 1 {
                format!(" @{}", rev.chars().take(7).collect::<String>())
            } else {
                String::new()
            };
            for dir in folders_under(rev_dir, 3) {
                let name_of = |p: &Path| format!("{repo}/{}{suffix}", relative_name(rev_dir, p));
                out.extend(folder_candidates(&dir, Source::HuggingFace, &name_of));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_folders_map_to_repository_names() {
        assert_eq!(
            repo_of_folder("models--ggml-org--gemma-4-E4B-it-GGUF").as_deref(),
            Some("ggml-org/gemma-4-E4B-it-GGUF")
        );
        assert_eq!(repo_of_folder("models--gpt2").as_deref(), Some("gpt2"));
        assert_eq!(repo_of_folder("datasets--x--y"), None);
    }
}
