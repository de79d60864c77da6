//! Ollama's store: manifests under `manifests/HOST/NAMESPACE/MODEL/TAG` (JSON) whose layers
//! point at `blobs/sha256-HEX`. The layer with media type `application/vnd.ollama.image.model`
//! is the model, `application/vnd.ollama.image.projector` its projector.

use std::path::{Path, PathBuf};

use super::catalog::Source;
use super::discover::Candidate;

/// The model layer's media type.
pub const MODEL_MEDIA_TYPE: &str = "application/vnd.ollama.image.model";
/// The projector layer's media type.
pub const PROJECTOR_MEDIA_TYPE: &str = "application/vnd.ollama.image.projector";

/// `OLLAMA_MODELS`, else `~/.ollama/models`.
pub fn models_dir() -> Option<PathBuf> {
    match std::env::var_os("OLLAMA_MODELS").filter(|v| !v.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => dirs::home_dir().map(|h| h.join(".ollama").join("models")),
    }
}

/// The parts of a manifest gem reads.
#[derive(Debug, serde::Deserialize)]
struct Manifest {
    #[serde(default)]
    layers: Vec<Layer>,
}

#[derive(Debug, serde::Deserialize)]
struct Layer {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
}

/// The model of every manifest under `dir/manifests`, named as `ollama list` names it.
pub fn candidates(dir: &Path) -> Vec<Candidate> {
    let manifests = dir.join("manifests");
    let mut out = Vec::new();
    for host in subentries(&manifests) {
        for namespace in subentries(&host) {
            for model in subentries(&namespace) {
                for tag in subentries(&model) {
                    let parts = [&host, &namespace, &model, &tag].map(|p| {
                        p.file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    });
                    if let Some(c) = candidate(dir, &tag, display_name(&parts)) {
                        out.push(c);
                    }
                }
            }
        }
    }
    out
}

/// The candidate a manifest file describes (`None` when it is unreadable or has no model
/// layer whose blob exists).
fn candidate(dir: &Path, manifest: &Path, name: String) -> Option<Candidate> {
    let text = std::fs::read_to_string(manifest).ok()?;
    let manifest: Manifest = serde_json::from_str(&text).ok()?;
    let blob = |media_type: &str| {
        manifest
            .layers
            .iter()
            .find(|l| l.media_type == media_type)
            .map(|l| blob_path(dir, &l.digest))
            .filter(|p| p.is_file())
    };
    let path = blob(MODEL_MEDIA_TYPE)?;
    let file_bytes = std::fs::metadata(&path).ok()?.len();
    Some(Candidate {
        name,
        source: Source::Ollama,
        path,
        file_bytes,
        projector: blob(PROJECTOR_MEDIA_TYPE),
    })
}

/// `sha256:HEX` → `dir/blobs/sha256-HEX`.
pub fn blob_path(dir: &Path, digest: &str) -> PathBuf {
    dir.join("blobs").join(digest.replacen(':', "-", 1))
}

/// `[registry.ollama.ai, library, gemma4, e4b]` → `gemma4:e4b`; other namespaces and hosts
/// are kept (`hf.co/ORG/REPO:TAG`).
pub fn display_name([host, namespace, model, tag]: &[String; 4]) -> String {
    match (host.as_str(), namespace.as_str()) {
        ("registry.ollama.ai", "library") => format!("{model}:{tag}"),
        ("registry.ollama.ai", _) => format!("{namespace}/{model}:{tag}"),
        _ => format!("{host}/{namespace}/{model}:{tag}"),
    }
}

fn subentries(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(p: [&str; 4]) -> [String; 4] {
        p.map(String::from)
    }

    #[test]
    fn names_follow_ollama_list() {
        assert_eq!(
            display_name(&parts(["registry.ollama.ai", "library", "gemma4", "e4b"])),
            "gemma4:e4b"
        );
        assert_eq!(
            display_name(&parts(["registry.ollama.ai", "someone", "coder", "latest"])),
            "someone/coder:latest"
        );
        assert_eq!(
            display_name(&parts([
                "hf.co",
                "ggml-org",
                "gemma-4-E4B-it-GGUF",
                "Q4_K_M"
            ])),
            "hf.co/ggml-org/gemma-4-E4B-it-GGUF:Q4_K_M"
        );
    }

    #[test]
    fn a_manifest_points_at_its_model_and_projector_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = dir.path().join("blobs");
        std::fs::create_dir_all(&blobs).unwrap();
        std::fs::write(blobs.join("sha256-aaa"), b"GGUF model").unwrap();
        std::fs::write(blobs.join("sha256-bbb"), b"GGUF proj").unwrap();
        let tag_dir = dir
            .path()
            .join("manifests/registry.ollama.ai/library/gemma4");
        std::fs::create_dir_all(&tag_dir).unwrap();
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "layers": [
                {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:ccc", "size": 1},
                {"mediaType": MODEL_MEDIA_TYPE, "digest": "sha256:aaa", "size": 10},
                {"mediaType": PROJECTOR_MEDIA_TYPE, "digest": "sha256:bbb", "size": 9},
            ]
        });
        std::fs::write(tag_dir.join("latest"), manifest.to_string()).unwrap();
        // A manifest whose model blob is missing, and one that is not JSON, are skipped.
        std::fs::write(
            tag_dir.join("gone"),
            r#"{"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:zzz"}]}"#,
        )
        .unwrap();
        std::fs::write(tag_dir.join("broken"), "{").unwrap();
        let found = candidates(dir.path());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].name, "gemma4:latest");
        assert_eq!(found[0].path, blobs.join("sha256-aaa"));
        assert_eq!(found[0].file_bytes, 10);
        assert_eq!(found[0].projector, Some(blobs.join("sha256-bbb")));
    }
}
