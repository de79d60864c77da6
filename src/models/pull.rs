//! `gem pull`: fetch a Gemma 4 GGUF (and its projector) from the Hugging Face hub into the
//! shared Hugging Face cache, so llama.cpp, LM Studio's importer and the Python tools see the
//! same files and gem's discovery finds them.
//!
//! The steps: list the repository (`pull_hub`), pick the files as llama.cpp's `-hf` does
//! (`pick_files`), ask each file's ETag, commit and size, check the free disk against what is
//! still to fetch, then transfer each missing file (`pull_transfer`: resumable, verified), give
//! it its blob name, link it into the snapshot (`pull_cache`) and point `refs/main` at it. A file
//! already complete in the cache is linked, not fetched again.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde::Serialize;

use super::pick_files;
use super::pull_cache::RepoCache;
use super::pull_error::{PullError, human_bytes};
use super::pull_hub::{FileMeta, Hub, HubConfig};
use super::pull_progress::{PlannedFile, PullEvent, PullProgress};
use super::pull_spec::PullSpec;
use super::pull_transfer::{TransferJob, is_sha256, transfer};

/// How to pull.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// Hub, cache and token.
    pub hub: HubConfig,
    /// Set it to stop the transfer (Ctrl-C); the partial file is kept.
    pub cancel: Arc<AtomicBool>,
    /// Fetch the projector (`mmproj`) beside the model when the repository has one.
    pub mmproj: bool,
}

impl PullOptions {
    /// Hub settings from the environment, projector included, not cancelled.
    pub fn from_env() -> Result<Self, PullError> {
        Ok(Self {
            hub: HubConfig::from_env()?,
            cancel: Arc::new(AtomicBool::new(false)),
            mmproj: true,
        })
    }
}

/// What a pull left in the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PulledModel {
    /// `ORG/REPO`.
    pub repo: String,
    /// The commit the files come from.
    pub commit: String,
    /// The model file to load (the first part of a split model).
    pub model: PathBuf,
    /// Every part of the model, in order (just `model` when not split).
    pub model_parts: Vec<PathBuf>,
    /// The projector beside it, if fetched.
    pub mmproj: Option<PathBuf>,
    /// Bytes transferred by this pull (0 when everything was cached).
    pub transferred_bytes: u64,
}

/// A file to have in the cache, measured.
struct Planned {
    file: String,
    role: &'static str,
    meta: FileMeta,
    sha256: Option<String>,
    cached: bool,
    partial: u64,
}

/// Pulls `spec` into the Hugging Face cache, reporting to `progress`.
pub fn pull(
    spec: &PullSpec,
    options: &PullOptions,
    progress: &mut dyn PullProgress,
) -> Result<PulledModel, PullError> {
    let hub = Hub::new(options.hub.clone())?;
    let listing = hub.listing(&spec.repo)?;
    let paths: Vec<String> = listing.files.iter().map(|f| f.path.clone()).collect();
    let choice = pick_files::choose(&spec.repo, &paths, spec.quant.as_deref())?;
    let cache = RepoCache::new(&options.hub.cache_dir, &spec.repo);

    let mut wanted: Vec<(String, &'static str)> = choice
        .model_parts
        .iter()
        .map(|f| (f.clone(), "model"))
        .collect();
    if options.mmproj
        && let Some(mmproj) = &choice.mmproj
    {
        wanted.push((mmproj.clone(), "mmproj"));
    }
    let mut plan = Vec::with_capacity(wanted.len());
    for (file, role) in wanted {
        let meta = hub.file_meta(&spec.repo, &listing.commit, &file)?;
        let listed_sha = listing
            .files
            .iter()
            .find(|f| f.path == file)
            .and_then(|f| f.sha256.clone());
        let sha256 = if is_sha256(&meta.etag) {
            Some(meta.etag.clone())
        } else {
            listed_sha
        };
        let cached = cache.has_blob(&meta.etag, meta.size);
        let partial = if cached {
            0
        } else {
            cache.partial_len(&meta.etag).min(meta.size)
        };
        plan.push(Planned {
            file,
            role,
            meta,
            sha256,
            cached,
            partial,
        });
    }

    let download_bytes: u64 = plan
        .iter()
        .filter(|p| !p.cached)
        .map(|p| p.meta.size - p.partial)
        .sum();
    check_free_disk(&options.hub.cache_dir, download_bytes)?;
    progress.event(&PullEvent::Plan {
        repo: spec.repo.clone(),
        commit: listing.commit.clone(),
        files: plan
            .iter()
            .map(|p| PlannedFile {
                file: p.file.clone(),
                bytes: p.meta.size,
                role: p.role,
                cached: p.cached,
            })
            .collect(),
        download_bytes,
    });

    let mut transferred = 0;
    let mut presented = Vec::with_capacity(plan.len());
    for p in &plan {
        let mut cached = p.cached;
        if !cached {
            let blob_dir = cache.blob(&p.meta.etag);
            if let Some(dir) = blob_dir.parent() {
                std::fs::create_dir_all(dir).map_err(|e| PullError::io("creating", dir, e))?;
            }
            let _lock = cache.lock(&p.meta.etag, &p.file)?;
            // Another process may have finished it while this one waited to measure.
            cached = cache.has_blob(&p.meta.etag, p.meta.size);
            if !cached {
                let partial = cache.incomplete(&p.meta.etag);
                let before = cache.partial_len(&p.meta.etag).min(p.meta.size);
                transfer(
                    &TransferJob {
                        hub: &hub,
                        repo: &spec.repo,
                        file: &p.file,
                        url: &p.meta.url,
                        size: p.meta.size,
                        sha256: p.sha256.as_deref(),
                        partial: &partial,
                        cancel: &options.cancel,
                    },
                    progress,
                )?;
                cache.promote(&p.meta.etag)?;
                transferred += p.meta.size - before;
            }
        }
        let path = cache.link(&p.meta.commit, &p.file, &p.meta.etag)?;
        progress.event(&PullEvent::FileDone {
            file: p.file.clone(),
            path: path.clone(),
            bytes: p.meta.size,
            cached,
        });
        presented.push((p.role, path));
    }
    cache.write_ref(&listing.commit)?;

    let model_parts: Vec<PathBuf> = presented
        .iter()
        .filter(|(role, _)| *role == "model")
        .map(|(_, path)| path.clone())
        .collect();
    let mmproj = presented
        .iter()
        .find(|(role, _)| *role == "mmproj")
        .map(|(_, path)| path.clone());
    let model = model_parts.first().cloned().ok_or(PullError::NoGguf {
        repo: spec.repo.clone(),
    })?;
    Ok(PulledModel {
        repo: spec.repo.clone(),
        commit: listing.commit,
        model,
        model_parts,
        mmproj,
        transferred_bytes: transferred,
    })
}

/// Fails when the cache's file system has less free space than `needed`.
fn check_free_disk(cache_dir: &Path, needed: u64) -> Result<(), PullError> {
    if needed == 0 {
        return Ok(());
    }
    // The cache may not exist yet: ask the file system of its nearest existing ancestor.
    let Some(existing) = cache_dir.ancestors().find(|p| p.exists()) else {
        return Ok(());
    };
    let available = fs4::available_space(existing)
        .map_err(|e| PullError::io("measuring the free space of", existing, e))?;
    if available < needed {
        return Err(PullError::NotEnoughDisk {
            dir: cache_dir.to_path_buf(),
            needed: human_bytes(needed),
            available: human_bytes(available),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_disk_is_checked_against_what_is_left_to_fetch() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("not/yet/there");
        assert!(check_free_disk(&missing, 1).is_ok());
        assert!(check_free_disk(&missing, 0).is_ok());
        let err = check_free_disk(&missing, u64::MAX).unwrap_err();
        assert!(matches!(err, PullError::NotEnoughDisk { .. }), "{err}");
        assert!(err.to_string().contains("not enough free disk"), "{err}");
    }
}
