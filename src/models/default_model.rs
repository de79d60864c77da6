//! The model gem uses when none is given (`--model`, `GEM_MODEL`, the config file): the best
//! Gemma 4 already on this machine that fits it. When there is none, [`NoModelFound`] names
//! the `gem pull` command for the model proposed for this machine.
//!
//! **Ranking.** Only usable Gemma 4 files (never another architecture, never a refused file)
//! whose fit ([`super::fit::fit`]) is "fits" — or unknown, when the memory cannot be read —
//! are candidates. The largest size class wins (31B, 26B-A4B, E4B, E2B, then Gemma 4 files of
//! an unknown layout); within a class `Q4_K_M`, then `Q8_0` (the order `gem pull` and
//! llama.cpp's `-hf` pick in), then the larger file; then the source (hf, llama.cpp,
//! LM Studio, Ollama) and the name.

use std::cmp::Reverse;
use std::path::PathBuf;

use crate::engine::{KvCacheKind, memory};

use super::catalog::{FoundModel, Source};
use super::discover::{SearchRoots, discover};
use super::fit::{self, Fit, MemoryFigures, Proposal};

/// llama.cpp's `LLAMA_FTYPE_MOSTLY_Q4_K_M`.
const FTYPE_Q4_K_M: u32 = 15;
/// llama.cpp's `LLAMA_FTYPE_MOSTLY_Q8_0`.
const FTYPE_Q8_0: u32 = 7;

/// The fit of `model` on `memory` with a `kv` cache (`None` when its header was not read).
/// `requested` is an explicit `--ctx`.
pub fn model_fit(
    model: &FoundModel,
    memory: &MemoryFigures,
    kv: KvCacheKind,
    requested: Option<usize>,
) -> Option<Fit> {
    let facts = model.facts.as_ref()?;
    let trained = facts.context_length.unwrap_or(8192) as usize;
    let per_token = memory::kv_bytes_per_token(facts, kv);
    Some(fit::fit(
        model.file_bytes,
        per_token,
        trained,
        requested,
        memory,
    ))
}

/// The index in `models` of the default model, and its fit (see the module doc for the rule).
pub fn choose(
    models: &[FoundModel],
    memory: &MemoryFigures,
    kv: KvCacheKind,
    requested: Option<usize>,
) -> Option<(usize, Fit)> {
    models
        .iter()
        .enumerate()
        .filter(|(_, m)| m.is_gemma4())
        .filter_map(|(i, m)| Some((i, m, model_fit(m, memory, kv, requested)?)))
        .filter(|(_, _, fit)| fit.fits() != Some(false))
        .min_by_key(|(_, m, _)| {
            let ftype = m.facts.as_ref().and_then(|f| f.file_type);
            let quant = match ftype {
                Some(FTYPE_Q4_K_M) => 0,
                Some(FTYPE_Q8_0) => 1,
                _ => 2,
            };
            (
                Reverse(class_rank(m.size_class.as_deref())),
                quant,
                Reverse(m.file_bytes),
                m.source,
                m.name.clone(),
            )
        })
        .map(|(i, _, fit)| (i, fit))
}

/// Larger Gemma 4 classes rank higher; an unknown layout lowest.
fn class_rank(class: Option<&str>) -> u8 {
    match class {
        Some("31B") => 4,
        Some("26B-A4B") => 3,
        Some("E4B") => 2,
        Some("E2B") => 1,
        _ => 0,
    }
}

/// The default model chosen on this machine.
#[derive(Debug, Clone)]
pub struct DefaultChoice {
    /// The model.
    pub model: FoundModel,
    /// Its fit.
    pub fit: Fit,
}

impl DefaultChoice {
    /// One line for stderr: which model, from where, and why.
    pub fn describe(&self) -> String {
        let m = &self.model;
        let class = m.size_class.as_deref().unwrap_or("of unknown size");
        let why = match self.fit {
            Fit::Unknown => {
                "the largest Gemma 4 found (this machine's memory cannot be read)".to_string()
            }
            ref fit => format!("the largest Gemma 4 found that fits: it {}", fit.describe()),
        };
        format!(
            "no model given: using Gemma 4 {class} {} from {} ({}), {why}; `gem models` lists \
             what was found",
            m.name,
            m.source.label(),
            m.path.display()
        )
    }
}

/// No Gemma 4 on this machine fits (or none is there): what was searched and found, and the
/// command that fetches the model proposed for this machine.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.message())]
pub struct NoModelFound {
    /// The folders searched.
    pub searched: Vec<(Source, PathBuf)>,
    /// Gemma 4 models found that do not fit: name and verdict.
    pub too_large: Vec<(String, String)>,
    /// Usable models of other architectures found.
    pub other_models: usize,
    /// Files found that cannot be used.
    pub refused: usize,
    /// The model proposed for this machine.
    pub proposal: Proposal,
}

impl NoModelFound {
    fn message(&self) -> String {
        let mut text = String::from("no model given, and ");
        if self.too_large.is_empty() {
            text.push_str("no Gemma 4 model was found on this machine");
        } else {
            text.push_str("no Gemma 4 model found on this machine fits it");
        }
        let searched: Vec<String> = self
            .searched
            .iter()
            .map(|(s, p)| format!("{} {}", s.label(), p.display()))
            .collect();
        text.push_str(&format!("\n  searched: {}", searched.join(", ")));
        for (name, verdict) in &self.too_large {
            text.push_str(&format!("\n  {name}: {verdict}"));
        }
        if self.other_models > 0 || self.refused > 0 {
            text.push_str(&format!(
                "\n  also found: {} model(s) of other architectures (usable with --model PATH), \
                 {} file(s) that cannot be used; `gem models` lists them",
                self.other_models, self.refused
            ));
        }
        let alias = self.proposal.alias;
        text.push_str(&format!(
            "\nto download Gemma 4 {} for this machine ({}; about {} from {}), run:\n  {}\n\
             or pass --model PATH (a Gemma 4 GGUF), set GEM_MODEL, or put model = \"PATH\" in \
             ~/.config/gem/config.toml",
            alias.size_class,
            self.proposal.reason,
            fit::human_bytes(alias.approx_download_bytes),
            alias.repo,
            self.proposal.pull_command()
        ));
        text
    }
}

/// Chooses the default among `models` found under `roots`, or says why there is none.
pub fn choose_or_explain(
    roots: &SearchRoots,
    models: Vec<FoundModel>,
    memory: &MemoryFigures,
    kv: KvCacheKind,
    requested: Option<usize>,
) -> Result<DefaultChoice, NoModelFound> {
    if let Some((index, fit)) = choose(&models, memory, kv, requested) {
        let mut models = models;
        // `index` comes from enumerating `models`, so it is in range.
        let model = models.swap_remove(index);
        return Ok(DefaultChoice { model, fit });
    }
    let too_large = models
        .iter()
        .filter(|m| m.is_gemma4())
        .filter_map(|m| {
            let fit = model_fit(m, memory, kv, requested)?;
            Some((m.name.clone(), fit.describe()))
        })
        .collect();
    Err(NoModelFound {
        searched: roots.folders(),
        too_large,
        other_models: models
            .iter()
            .filter(|m| m.is_usable() && !m.is_gemma4())
            .count(),
        refused: models.iter().filter(|m| !m.is_usable()).count(),
        proposal: fit::propose(memory),
    })
}

/// The default model on this machine: discovers what the environment's folders hold, reads
/// the memory, and chooses; says on stderr which model and why.
pub fn resolve(kv: KvCacheKind, requested: Option<usize>) -> Result<PathBuf, NoModelFound> {
    let roots = SearchRoots::from_env();
    let models = discover(&roots);
    let memory = super::machine::memory_figures();
    let choice = choose_or_explain(&roots, models, &memory, kv, requested)?;
    eprintln!("gem: {}", choice.describe());
    Ok(choice.model.path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::model_file::GgufFacts;
    use crate::models::catalog::Usability;

    const GIB: u64 = 1 << 30;

    fn model(name: &str, class: &str, bytes: u64, ftype: u32, usability: Usability) -> FoundModel {
        let layers = match class {
            "E2B" => 35,
            "E4B" => 42,
            "26B-A4B" => 30,
            "31B" => 60,
            _ => 6,
        };
        FoundModel {
            name: name.into(),
            source: Source::HuggingFace,
            path: PathBuf::from(format!("/m/{name}.gguf")),
            file_bytes: bytes,
            architecture: Some("gemma4".into()),
            size_class: Some(class.into()),
            quantization: None,
            trained_context: Some(131_072),
            projector: None,
            usability,
            facts: Some(GgufFacts {
                architecture: "gemma4".into(),
                file_type: Some(ftype),
                context_length: Some(131_072),
                block_count: Some(layers),
                head_count: Some(8),
                head_count_kv: Some(1),
                key_length: Some(256),
                file_bytes: bytes,
                ..GgufFacts::default()
            }),
        }
    }

    fn ram(available_gib: u64) -> MemoryFigures {
        MemoryFigures {
            ram_total: Some(available_gib * GIB),
            ram_available: Some(available_gib * GIB),
            gpu: None,
            gpu_backend: false,
        }
    }

    fn shelf() -> Vec<FoundModel> {
        vec![
            model("e2b-q4", "E2B", 3 * GIB, FTYPE_Q4_K_M, Usability::Gemma4),
            model("e4b-q8", "E4B", 8 * GIB, FTYPE_Q8_0, Usability::Gemma4),
            model("e4b-q4", "E4B", 5 * GIB, FTYPE_Q4_K_M, Usability::Gemma4),
            model("31b-q4", "31B", 18 * GIB, FTYPE_Q4_K_M, Usability::Gemma4),
            model(
                "bundled",
                "26B-A4B",
                16 * GIB,
                FTYPE_Q4_K_M,
                Usability::Refused {
                    reason: "bundled".into(),
                },
            ),
            model(
                "other",
                "26B-A4B",
                4 * GIB,
                FTYPE_Q4_K_M,
                Usability::OtherArchitecture,
            ),
        ]
    }

    fn chosen(models: &[FoundModel], memory: &MemoryFigures) -> Option<String> {
        choose(models, memory, KvCacheKind::F16, None).map(|(i, _)| models[i].name.clone())
    }

    #[test]
    fn the_largest_gemma4_that_fits_wins() {
        assert_eq!(chosen(&shelf(), &ram(64)).as_deref(), Some("31b-q4"));
        // 31B does not fit in 16 GiB; among the E4Bs Q4_K_M comes before Q8_0.
        assert_eq!(chosen(&shelf(), &ram(16)).as_deref(), Some("e4b-q4"));
        assert_eq!(chosen(&shelf(), &ram(5)).as_deref(), Some("e2b-q4"));
        assert_eq!(chosen(&shelf(), &ram(2)), None);
    }

    #[test]
    fn refused_files_and_other_architectures_are_never_the_default() {
        let shelf: Vec<FoundModel> = shelf().into_iter().skip(4).collect();
        assert_eq!(chosen(&shelf, &ram(64)), None);
    }

    #[test]
    fn with_unreadable_memory_the_largest_gemma4_is_chosen() {
        assert_eq!(
            chosen(&shelf(), &MemoryFigures::default()).as_deref(),
            Some("31b-q4")
        );
    }

    #[test]
    fn nothing_found_explains_and_names_the_pull_command() {
        let roots = SearchRoots {
            hf: Some("/h/hub".into()),
            ..SearchRoots::default()
        };
        let other: Vec<FoundModel> = shelf().into_iter().skip(3).collect();
        let err = choose_or_explain(&roots, other, &ram(8), KvCacheKind::F16, None).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("no Gemma 4 model found on this machine fits it"),
            "{text}"
        );
        assert!(text.contains("searched: hf /h/hub"), "{text}");
        assert!(text.contains("31b-q4: does not fit"), "{text}");
        assert!(text.contains("1 model(s) of other architectures"), "{text}");
        assert!(text.contains("\n  gem pull e2b\n"), "{text}");
        let empty = choose_or_explain(&roots, Vec::new(), &ram(16), KvCacheKind::F16, None)
            .unwrap_err()
            .to_string();
        assert!(empty.contains("no Gemma 4 model was found"), "{empty}");
        assert!(empty.contains("\n  gem pull e4b\n"), "{empty}");
    }

    #[test]
    fn the_choice_says_which_and_why() {
        let roots = SearchRoots::default();
        let choice = choose_or_explain(&roots, shelf(), &ram(16), KvCacheKind::F16, None).unwrap();
        let line = choice.describe();
        assert!(line.contains("Gemma 4 E4B e4b-q4 from hf"), "{line}");
        assert!(line.contains("fits in RAM"), "{line}");
    }
}
