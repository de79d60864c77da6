//! Finds the GGUF models other tools keep on this machine, read-only: the Hugging Face cache
//! ([`super::hf_cache`]), llama.cpp's cache ([`super::llama_cache`]), LM Studio
//! ([`super::lm_studio`]) and Ollama ([`super::ollama`]). Only headers are read; nothing is
//! moved, written or deleted.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::catalog::{self, FoundModel, Source};

/// A model file a source points at, before its header is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The name shown for it.
    pub name: String,
    /// Where it was found.
    pub source: Source,
    /// The GGUF file (a split model's first part).
    pub path: PathBuf,
    /// Size in bytes, all parts of a split model together.
    pub file_bytes: u64,
    /// Its vision/audio projector, when the source pairs one with it.
    pub projector: Option<PathBuf>,
}

/// The folders searched, one per source (`None`: the source's location is unknown here).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchRoots {
    /// The Hugging Face hub cache.
    pub hf: Option<PathBuf>,
    /// llama.cpp's cache.
    pub llama_cpp: Option<PathBuf>,
    /// LM Studio's models folders (current and older installs).
    pub lm_studio: Vec<PathBuf>,
    /// Ollama's models folder.
    pub ollama: Option<PathBuf>,
}

impl SearchRoots {
    /// The folders the environment names, each source's default otherwise.
    pub fn from_env() -> Self {
        Self {
            hf: super::hf_cache::hub_dir(),
            llama_cpp: super::llama_cache::cache_dir(),
            lm_studio: super::lm_studio::model_dirs(),
            ollama: super::ollama::models_dir(),
        }
    }

    /// Every folder searched, with its source.
    pub fn folders(&self) -> Vec<(Source, PathBuf)> {
        let mut out = Vec::new();
        out.extend(self.hf.clone().map(|p| (Source::HuggingFace, p)));
        out.extend(self.llama_cpp.clone().map(|p| (Source::LlamaCpp, p)));
        out.extend(self.lm_studio.iter().map(|p| (Source::LmStudio, p.clone())));
        out.extend(self.ollama.clone().map(|p| (Source::Ollama, p)));
        out
    }
}

/// Every model found under `roots`, each file once, sorted by source and name. Projectors are
/// attached to their model, never listed as models.
pub fn discover(roots: &SearchRoots) -> Vec<FoundModel> {
    let mut candidates = Vec::new();
    if let Some(hub) = &roots.hf {
        candidates.extend(super::hf_cache::candidates(hub));
    }
    if let Some(dir) = &roots.llama_cpp {
        candidates.extend(super::llama_cache::candidates(dir));
    }
    for dir in &roots.lm_studio {
        candidates.extend(super::lm_studio::candidates(dir));
    }
    if let Some(dir) = &roots.ollama {
        candidates.extend(super::ollama::candidates(dir));
    }
    examine_all(candidates)
}

/// Reads the candidates' headers: each file once (by its real path), projectors found only by
/// their header attached to the models of their folder (not in Ollama's store, where every blob
/// shares one folder and the manifest pairs them).
pub fn examine_all(candidates: Vec<Candidate>) -> Vec<FoundModel> {
    let mut seen = HashSet::new();
    let mut models = Vec::new();
    let mut stray_projectors = Vec::new();
    for c in candidates {
        if !seen.insert(std::fs::canonicalize(&c.path).unwrap_or_else(|_| c.path.clone())) {
            continue;
        }
        if catalog::is_projector(&c.path, None) {
            continue;
        }
        let found = catalog::examine(c.name, c.source, c.path, c.file_bytes, c.projector);
        if catalog::is_projector(&found.path, found.facts.as_ref()) {
            if found.source != Source::Ollama {
                stray_projectors.push(found.path);
            }
        } else {
            models.push(found);
        }
    }
    for projector in stray_projectors {
        for m in models
            .iter_mut()
            .filter(|m| m.projector.is_none() && m.path.parent() == projector.parent())
        {
            m.projector = Some(projector.clone());
        }
    }
    models.sort_by(|a, b| (a.source, &a.name).cmp(&(b.source, &b.name)));
    models
}

/// The GGUF files of one folder as candidates, named by `name_of`: the later parts of a split
/// model are folded into its first; a file named as a projector (`mmproj`) is the projector of
/// the folder's models and no candidate itself (the first by name when there are several).
pub fn folder_candidates(
    dir: &Path,
    source: Source,
    name_of: &dyn Fn(&Path) -> String,
) -> Vec<Candidate> {
    let files = gguf_files(dir);
    let projector = files
        .iter()
        .find(|(path, _)| catalog::is_projector(path, None))
        .map(|(path, _)| path.clone());
    let mut out = Vec::new();
    for (path, bytes) in &files {
        if catalog::is_projector(path, None) {
            continue;
        }
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let file_bytes = match file_name.as_deref().and_then(split_part) {
            Some((_, index, _)) if index > 1 => continue,
            Some((prefix, _, count)) => files
                .iter()
                .filter(|(p, _)| {
                    let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                    name.as_deref()
                        .and_then(split_part)
                        .is_some_and(|(pre, _, c)| pre == prefix && c == count)
                })
                .map(|(_, b)| b)
                .sum(),
            None => *bytes,
        };
        out.push(Candidate {
            name: name_of(path),
            source,
            path: path.clone(),
            file_bytes,
            projector: projector.clone(),
        });
    }
    out
}

/// `*.gguf` regular files (symlinks followed) directly in `dir`, sorted, with their sizes.
fn gguf_files(dir: &Path) -> Vec<(PathBuf, u64)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(PathBuf, u64)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case("gguf"))
        })
        .filter_map(|p| {
            let meta = std::fs::metadata(&p).ok()?;
            meta.is_file().then_some((p, meta.len()))
        })
        .collect();
    files.sort();
    files
}

/// `dir` and its subfolders down to `depth` levels (symlinked folders followed), sorted.
pub fn folders_under(dir: &Path, depth: usize) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    if depth == 0 {
        return out;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut subdirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    for sub in subdirs {
        out.extend(folders_under(&sub, depth - 1));
    }
    out
}

/// `model-00002-of-00003.gguf` → `("model", 2, 3)`.
fn split_part(file_name: &str) -> Option<(&str, u32, u32)> {
    let stem = file_name.strip_suffix(".gguf")?;
    let (rest, count) = stem.rsplit_once("-of-")?;
    let (prefix, index) = rest.rsplit_once('-')?;
    let digits = |s: &str| s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(index) || !digits(count) {
        return None;
    }
    Some((prefix, index.parse().ok()?, count.parse().ok()?))
}

/// `path` relative to `root`, with `/` separators (the whole path when it is not under it).
pub fn relative_name(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_parts_are_recognised() {
        assert_eq!(
            split_part("gemma-4-31B-it-Q8_0-00002-of-00003.gguf"),
            Some(("gemma-4-31B-it-Q8_0", 2, 3))
        );
        assert_eq!(split_part("gemma-4-E4B-it-Q4_K_M.gguf"), None);
        assert_eq!(split_part("a-2-of-3.gguf"), None);
    }

    #[test]
    fn a_folder_folds_split_parts_and_pairs_its_projector() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, len: usize| std::fs::write(dir.path().join(name), vec![0; len]);
        write("big-00001-of-00002.gguf", 10).unwrap();
        write("big-00002-of-00002.gguf", 5).unwrap();
        write("small.gguf", 3).unwrap();
        write("mmproj-f16.gguf", 2).unwrap();
        write("notes.txt", 1).unwrap();
        let found = folder_candidates(dir.path(), Source::LmStudio, &|p| {
            relative_name(dir.path(), p)
        });
        let summary: Vec<(&str, u64)> = found
            .iter()
            .map(|c| (c.name.as_str(), c.file_bytes))
            .collect();
        assert_eq!(
            summary,
            [("big-00001-of-00002.gguf", 15), ("small.gguf", 3)]
        );
        assert!(
            found
                .iter()
                .all(|c| c.projector == Some(dir.path().join("mmproj-f16.gguf")))
        );
    }

    #[test]
    fn missing_folders_yield_nothing() {
        let roots = SearchRoots {
            hf: Some("/nonexistent/hub".into()),
            llama_cpp: Some("/nonexistent/llama".into()),
            lm_studio: vec!["/nonexistent/lms".into()],
            ollama: Some("/nonexistent/ollama".into()),
        };
        assert!(discover(&roots).is_empty());
        assert_eq!(roots.folders().len(), 4);
    }
}
