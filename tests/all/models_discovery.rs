//! Model discovery end to end: fake Hugging Face, llama.cpp, LM Studio and Ollama stores built
//! from the tiny gemma4 model (`scripts/gen-tiny-models`) and small hand-written GGUF headers
//! (a projector, another architecture, an Ollama-style gemma4 blob with its vision/audio
//! encoder bundled in); `gem models` on them; the default model when none is given.
//!
//! Binary runs point HOME, HF_HOME, LLAMA_CACHE, OLLAMA_MODELS and XDG_CONFIG_HOME at temp
//! dirs, so the user's real caches are never read.

use crate::support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use gem::models::catalog::{Source, Usability};
use gem::models::discover::{SearchRoots, discover};
use serde_json::Value;

/// The default tiny gemma4 model (skips outside CI when absent, fails in CI).
fn tiny() -> Option<PathBuf> {
    support::cached_file("GEM_TINY_GEMMA4", "tiny-gemma4.gguf")
}

// ---------------------------------------------------------------------------------------------
// A minimal GGUF writer: metadata and F32 tensors of one element each
// ---------------------------------------------------------------------------------------------

/// A metadata value.
enum Meta<'a> {
    Str(&'a str),
    U32(u32),
}

fn gguf_string(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

/// Writes a GGUF v3 file with `meta` and one-element F32 tensors named `tensors`.
fn write_gguf(path: &Path, meta: &[(&str, Meta)], tensors: &[String]) {
    const ALIGN: usize = 32;
    let mut out = Vec::new();
    out.extend(b"GGUF");
    out.extend(3u32.to_le_bytes());
    out.extend((tensors.len() as u64).to_le_bytes());
    out.extend((meta.len() as u64).to_le_bytes());
    for (key, value) in meta {
        gguf_string(&mut out, key);
        match value {
            Meta::Str(s) => {
                out.extend(8u32.to_le_bytes());
                gguf_string(&mut out, s);
            }
            Meta::U32(v) => {
                out.extend(4u32.to_le_bytes());
                out.extend(v.to_le_bytes());
            }
        }
    }
    for (i, name) in tensors.iter().enumerate() {
        gguf_string(&mut out, name);
        out.extend(1u32.to_le_bytes()); // dimensions
        out.extend(1u64.to_le_bytes()); // one element
        out.extend(0u32.to_le_bytes()); // F32
        out.extend(((i * ALIGN) as u64).to_le_bytes());
    }
    while out.len() % ALIGN != 0 {
        out.push(0);
    }
    for _ in tensors {
        out.extend(1.0f32.to_le_bytes());
        out.extend([0u8; ALIGN - 4]);
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, out).unwrap();
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A vision projector as llama.cpp's converters write it.
fn write_projector(path: &Path) {
    write_gguf(
        path,
        &[
            ("general.architecture", Meta::Str("clip")),
            ("general.type", Meta::Str("mmproj")),
        ],
        &names(&["v.patch_embd.weight", "mm.input_projection.weight"]),
    );
}

/// A small header of another architecture.
fn write_llama(path: &Path) {
    write_gguf(
        path,
        &[
            ("general.architecture", Meta::Str("llama")),
            ("general.name", Meta::Str("Tiny Llama")),
            ("general.size_label", Meta::Str("1B")),
            ("general.file_type", Meta::U32(15)),
            ("llama.context_length", Meta::U32(2048)),
            ("llama.block_count", Meta::U32(2)),
        ],
        &names(&[
            "token_embd.weight",
            "blk.0.attn_q.weight",
            "output_norm.weight",
        ]),
    );
}

/// An Ollama-style gemma4 blob: the text model's tensors and the vision/audio encoder's in one
/// file, with the encoder's settings, as Ollama's converter writes them.
fn write_bundled_gemma4(path: &Path) {
    let mut tensors = names(&["token_embd.weight", "output_norm.weight"]);
    for layer in 0..2 {
        tensors.push(format!("blk.{layer}.attn_q.weight"));
        tensors.push(format!("v.blk.{layer}.attn_q.weight"));
        tensors.push(format!("a.blk.{layer}.conv_dw.weight"));
    }
    tensors.push("v.patch_embd.weight".into());
    tensors.push("mm.input_projection.weight".into());
    write_gguf(
        path,
        &[
            ("general.architecture", Meta::Str("gemma4")),
            ("general.file_type", Meta::U32(15)),
            ("gemma4.block_count", Meta::U32(2)),
            ("gemma4.context_length", Meta::U32(131072)),
            ("gemma4.vision.block_count", Meta::U32(2)),
            ("gemma4.audio.block_count", Meta::U32(2)),
        ],
        &tensors,
    );
}

// ---------------------------------------------------------------------------------------------
// The fake stores
// ---------------------------------------------------------------------------------------------

/// A temporary machine: a home folder and the four stores, as the environment names them.
struct Stores {
    dir: tempfile::TempDir,
}

impl Stores {
    fn empty() -> Self {
        let stores = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        for sub in [
            "home", "hf", "llama", "ollama", "config", "data", "cache", "project",
        ] {
            std::fs::create_dir_all(stores.root().join(sub)).unwrap();
        }
        stores
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn hub(&self) -> PathBuf {
        self.root().join("hf").join("hub")
    }

    fn lm_studio(&self) -> PathBuf {
        self.root().join("home/.lmstudio/models")
    }

    fn roots(&self) -> SearchRoots {
        SearchRoots {
            hf: Some(self.hub()),
            llama_cpp: Some(self.root().join("llama")),
            lm_studio: vec![
                self.lm_studio(),
                self.root().join("home/.cache/lm-studio/models"),
            ],
            ollama: Some(self.root().join("ollama")),
        }
    }

    /// A Hugging Face cache entry as huggingface_hub lays it out: the blob under `blobs/`, the
    /// file a relative symlink in `snapshots/REV/`.
    fn add_hf(&self, repo: &str, file: &str, write: impl FnOnce(&Path)) {
        let folder = self
            .hub()
            .join(format!("models--{}", repo.replace('/', "--")));
        let blob = folder.join("blobs").join(format!("blob-{file}"));
        write(&blob);
        let snapshot = folder.join("snapshots").join("0123456789abcdef");
        std::fs::create_dir_all(&snapshot).unwrap();
        std::os::unix::fs::symlink(
            Path::new("../../blobs").join(format!("blob-{file}")),
            snapshot.join(file),
        )
        .unwrap();
    }

    /// An Ollama manifest for `name:tag` whose model (and projector) layers are written here.
    fn add_ollama(
        &self,
        name: &str,
        tag: &str,
        model: impl FnOnce(&Path),
        projector: Option<&dyn Fn(&Path)>,
    ) {
        let dir = self.root().join("ollama");
        let digest = |kind: &str| {
            let hex = hex::encode(format!("{name}{tag}{kind}").as_bytes());
            format!("{hex:0<64}")[..64].to_string()
        };
        let (model_hex, proj_hex) = (digest("model"), digest("proj"));
        model(&dir.join("blobs").join(format!("sha256-{model_hex}")));
        let mut layers = vec![serde_json::json!({
            "mediaType": "application/vnd.ollama.image.model",
            "digest": format!("sha256:{model_hex}"),
            "size": 1
        })];
        if let Some(write) = projector {
            write(&dir.join("blobs").join(format!("sha256-{proj_hex}")));
            layers.push(serde_json::json!({
                "mediaType": "application/vnd.ollama.image.projector",
                "digest": format!("sha256:{proj_hex}"),
                "size": 1
            }));
        }
        let manifest = dir.join("manifests/registry.ollama.ai/library").join(name);
        std::fs::create_dir_all(&manifest).unwrap();
        let json = serde_json::json!({ "schemaVersion": 2, "layers": layers });
        std::fs::write(manifest.join(tag), json.to_string()).unwrap();
    }

    /// Every store holding something: the tiny gemma4 in the HF cache (with its projector), in
    /// llama.cpp's cache, in LM Studio and in Ollama (with a projector layer); another
    /// architecture in LM Studio; an Ollama bundled blob; an unreadable file.
    fn full(tiny: &Path) -> Self {
        let stores = Self::empty();
        let copy = |to: &Path| {
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(tiny, to).unwrap();
        };
        stores.add_hf(
            "ggml-org/gemma-4-tiny-it-GGUF",
            "gemma-4-tiny-it-F16.gguf",
            copy,
        );
        stores.add_hf(
            "ggml-org/gemma-4-tiny-it-GGUF",
            "mmproj-gemma-4-tiny-it-f16.gguf",
            write_projector,
        );
        copy(
            &stores
                .root()
                .join("llama/ggml-org_gemma-4-tiny-it-GGUF_gemma-4-tiny-it-F16.gguf"),
        );
        std::fs::write(stores.root().join("llama/broken.gguf"), "not a model").unwrap();
        copy(
            &stores
                .lm_studio()
                .join("lmstudio-community/gemma-4-tiny-it-GGUF/gemma-4-tiny-it-F16.gguf"),
        );
        write_llama(
            &stores
                .lm_studio()
                .join("someone/tiny-llama-GGUF/tiny-llama-Q4_K_M.gguf"),
        );
        stores.add_ollama("gemma4", "latest", write_bundled_gemma4, None);
        stores.add_ollama("gemma4-text", "tiny", copy, Some(&write_projector));
        stores
    }

    /// `gem` isolated from the user's config, sessions and model stores.
    fn gem(&self) -> Command {
        let root = self.root();
        let mut cmd = Command::cargo_bin("gem").unwrap();
        cmd.current_dir(root.join("project"))
            .env("HOME", root.join("home"))
            .env("HF_HOME", root.join("hf"))
            .env("LLAMA_CACHE", root.join("llama"))
            .env("OLLAMA_MODELS", root.join("ollama"))
            .env("XDG_CONFIG_HOME", root.join("config"))
            .env("GEM_DATA_DIR", root.join("data"))
            .env("GEM_CACHE_DIR", root.join("cache"))
            .env_remove("GEM_MODEL")
            .env_remove("HF_HUB_CACHE")
            .env_remove("XDG_CACHE_HOME")
            .timeout(Duration::from_secs(120));
        cmd
    }
}

// ---------------------------------------------------------------------------------------------
// Discovery through the library
// ---------------------------------------------------------------------------------------------

#[test]
fn every_store_is_searched_and_each_file_classified() {
    let Some(tiny) = tiny() else { return };
    let stores = Stores::full(&tiny);
    let found = discover(&stores.roots());
    let summary: Vec<(Source, &str, bool)> = found
        .iter()
        .map(|m| (m.source, m.name.as_str(), m.projector.is_some()))
        .collect();
    assert_eq!(
        summary,
        [
            (
                Source::HuggingFace,
                "ggml-org/gemma-4-tiny-it-GGUF/gemma-4-tiny-it-F16.gguf",
                true
            ),
            (Source::LlamaCpp, "broken.gguf", false),
            (
                Source::LlamaCpp,
                "ggml-org_gemma-4-tiny-it-GGUF_gemma-4-tiny-it-F16.gguf",
                false
            ),
            (
                Source::LmStudio,
                "lmstudio-community/gemma-4-tiny-it-GGUF/gemma-4-tiny-it-F16.gguf",
                false
            ),
            (
                Source::LmStudio,
                "someone/tiny-llama-GGUF/tiny-llama-Q4_K_M.gguf",
                false
            ),
            (Source::Ollama, "gemma4-text:tiny", true),
            (Source::Ollama, "gemma4:latest", false),
        ]
    );
    let by_name = |name: &str| found.iter().find(|m| m.name == name).unwrap();

    let hf = by_name("ggml-org/gemma-4-tiny-it-GGUF/gemma-4-tiny-it-F16.gguf");
    assert_eq!(hf.usability, Usability::Gemma4);
    assert_eq!(hf.architecture.as_deref(), Some("gemma4"));
    assert_eq!(hf.trained_context, Some(8192));
    assert_eq!(hf.quantization.as_deref(), Some("F16"));
    assert_eq!(hf.file_bytes, std::fs::metadata(&tiny).unwrap().len());
    assert!(
        hf.projector
            .as_ref()
            .unwrap()
            .ends_with("snapshots/0123456789abcdef/mmproj-gemma-4-tiny-it-f16.gguf")
    );
    assert_eq!(hf.facts.as_ref().unwrap().encoder_keys, 0);

    let llama = by_name("someone/tiny-llama-GGUF/tiny-llama-Q4_K_M.gguf");
    assert_eq!(llama.usability, Usability::OtherArchitecture);
    assert_eq!(llama.size_class.as_deref(), Some("1B"));

    let Usability::Refused { reason } = &by_name("gemma4:latest").usability else {
        panic!("the bundled blob is refused")
    };
    assert!(
        reason.starts_with(
            "llama.cpp cannot load Ollama's bundled gemma4 blob: tensor-count mismatch"
        ),
        "{reason}"
    );
    assert!(reason.contains("6 of its 10 tensors"), "{reason}");

    let Usability::Refused { reason } = &by_name("broken.gguf").usability else {
        panic!("an unreadable file is refused")
    };
    assert!(reason.contains("header cannot be read"), "{reason}");

    // No projector is ever offered as a model.
    assert!(
        found
            .iter()
            .all(|m| !m.name.contains("mmproj") && m.architecture.as_deref() != Some("clip"))
    );
}

#[test]
fn split_models_and_several_snapshots_are_listed_once_per_model() {
    let stores = Stores::empty();
    let folder = stores.hub().join("models--org--big-GGUF/snapshots");
    for rev in ["1111111aaaa", "2222222bbbb"] {
        let dir = folder.join(rev).join("Q8_0");
        write_llama(&dir.join("big-Q8_0-00001-of-00002.gguf"));
        std::fs::write(dir.join("big-Q8_0-00002-of-00002.gguf"), vec![0u8; 1000]).unwrap();
    }
    let found = discover(&stores.roots());
    let names: Vec<&str> = found.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "org/big-GGUF/Q8_0/big-Q8_0-00001-of-00002.gguf @1111111",
            "org/big-GGUF/Q8_0/big-Q8_0-00001-of-00002.gguf @2222222",
        ]
    );
    let first_part =
        std::fs::metadata(folder.join("1111111aaaa/Q8_0/big-Q8_0-00001-of-00002.gguf"))
            .unwrap()
            .len();
    assert_eq!(found[0].file_bytes, first_part + 1000);
}

#[test]
fn discovery_only_reads() {
    let Some(tiny) = tiny() else { return };
    let stores = Stores::full(&tiny);
    let listing = |root: &Path| {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let meta = std::fs::symlink_metadata(entry.path()).unwrap();
                out.push((entry.path(), meta.len(), meta.modified().unwrap()));
                if meta.is_dir() {
                    stack.push(entry.path());
                }
            }
        }
        out.sort();
        out
    };
    let before = listing(stores.root());
    discover(&stores.roots());
    assert_eq!(listing(stores.root()), before);
}

// ---------------------------------------------------------------------------------------------
// `gem models`
// ---------------------------------------------------------------------------------------------

/// stdout with the temp root replaced and the machine's memory line dropped.
fn normalized(stdout: &[u8], root: &Path) -> String {
    String::from_utf8_lossy(stdout)
        .replace(&root.display().to_string(), "[TMP]")
        .lines()
        .filter(|l| !l.starts_with("Memory: "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn gem_models_lists_what_every_store_holds() {
    let Some(tiny) = tiny() else { return };
    let stores = Stores::full(&tiny);
    let out = stores.gem().arg("models").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\nMemory: RAM"), "{text}");
    insta::assert_snapshot!(normalized(&out.stdout, stores.root()));
}

#[test]
fn gem_models_json_marks_the_default_and_the_refusals() {
    let Some(tiny) = tiny() else { return };
    let stores = Stores::full(&tiny);
    let out = stores.gem().args(["models", "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let models = report["models"].as_array().unwrap();
    assert_eq!(models.len(), 7);
    let defaults: Vec<&Value> = models.iter().filter(|m| m["default"] == true).collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0]["source"], "hf");
    assert_eq!(report["default"], defaults[0]["path"]);
    assert_eq!(defaults[0]["usability"]["kind"], "gemma4");
    assert_eq!(defaults[0]["fit"]["verdict"], "fits");
    assert_eq!(defaults[0]["fit"]["context"], 8192);
    assert!(defaults[0]["projector"].is_string());
    let bundled = models
        .iter()
        .find(|m| m["name"] == "gemma4:latest")
        .unwrap();
    assert_eq!(bundled["usability"]["kind"], "refused");
    assert!(bundled["fit"].is_null());
    let other = models
        .iter()
        .find(|m| m["source"] == "lm-studio" && m["architecture"] == "llama");
    assert_eq!(other.unwrap()["usability"]["kind"], "other_architecture");
    assert!(report["proposal"].is_null());
    assert_eq!(report["searched"].as_array().unwrap().len(), 5);
    assert!(report["memory"]["ram_total"].is_u64() || !cfg!(target_os = "linux"));
}

#[test]
fn gem_models_with_nothing_found_proposes_a_pull() {
    let stores = Stores::empty();
    let out = stores.gem().arg("models").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("No GGUF model found."), "{text}");
    assert!(
        text.contains("No Gemma 4 here can be the default."),
        "{text}"
    );
    assert!(proposed_alias(&text).is_some(), "{text}");
}

#[test]
fn gem_models_marks_a_configured_model_as_the_default() {
    let stores = Stores::empty();
    let model = stores.root().join("project/other.gguf");
    write_llama(&model);
    let out = stores
        .gem()
        .arg("models")
        .env("GEM_MODEL", &model)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = normalized(&out.stdout, stores.root());
    assert!(
        text.starts_with("Configured (--model, GEM_MODEL or the config file):\n* llama 1B  other.gguf\n      path · "),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// The default model
// ---------------------------------------------------------------------------------------------

/// The alias of the `gem pull ALIAS` command in `text`.
fn proposed_alias(text: &str) -> Option<&'static str> {
    ["e2b", "e4b", "26b", "31b"]
        .into_iter()
        .find(|alias| text.contains(&format!("gem pull {alias}")))
}

#[test]
fn without_a_model_headless_mode_names_the_pull_command_and_exits_1() {
    let stores = Stores::empty();
    let out = stores.gem().args(["-p", "hello"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("gem: error: no model given, and no Gemma 4 model was found"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("hf {}", stores.hub().display())),
        "{stderr}"
    );
    assert!(stderr.contains(&format!(
        "\n  gem pull {}\n",
        proposed_alias(&stderr).unwrap()
    )));
    assert!(stderr.contains("--model PATH"), "{stderr}");
}

#[test]
fn a_refused_blob_is_no_default() {
    let stores = Stores::empty();
    stores.add_ollama("gemma4", "latest", write_bundled_gemma4, None);
    let out = stores.gem().args(["-p", "hello"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 file(s) that cannot be used"), "{stderr}");
    assert!(proposed_alias(&stderr).is_some(), "{stderr}");
}

/// Flags that keep the random model's run short (as in tests/tiny_gemma4.rs).
const SHORT_TASK: &[&str] = &[
    "--ctx",
    "16384",
    "--bounded-grammar",
    "--max-turns",
    "2",
    "--max-tokens",
    "32",
    "--seed",
    "0",
    "--no-repo",
    "--threads",
    "1",
];

#[test]
fn without_a_model_the_gemma4_in_the_hf_cache_runs() {
    let _lock = support::model_lock();
    let Some(tiny) = tiny() else { return };
    let stores = Stores::empty();
    stores.add_hf(
        "ggml-org/gemma-4-tiny-it-GGUF",
        "gemma-4-tiny-it-F16.gguf",
        |to| {
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&tiny, to).unwrap();
        },
    );
    let out = stores
        .gem()
        .args([
            "-p",
            "hello",
            "--output-format",
            "json",
            "--mode",
            "read-only",
        ])
        .args(SHORT_TASK)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "exit {:?}: {stderr}",
        out.status.code()
    );
    assert!(
        stderr.contains(
            "gem: no model given: using Gemma 4 of unknown size \
             ggml-org/gemma-4-tiny-it-GGUF/gemma-4-tiny-it-F16.gguf from hf"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("fits in RAM"), "{stderr}");
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(result.is_object(), "{result}");
}

#[test]
fn another_architecture_runs_with_a_warning() {
    let _lock = support::model_lock();
    let Some(model) = support::real_model() else {
        return;
    };
    let stores = Stores::empty();
    let out = stores
        .gem()
        .args([
            "debug",
            "model-info",
            "--threads",
            "1",
            "--ctx",
            "512",
            "--model",
        ])
        .arg(&model)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("is a gemma3 model, not Gemma 4"),
        "{stderr}"
    );
}
