//! The short names `gem pull` takes (`e2b`, `e4b`, `26b`, `31b`) and the public Gemma 4 GGUF
//! repositories on Hugging Face they stand for — the one place this mapping lives.
//!
//! Readers: `gem pull` (src/models/pull*.rs) resolves an alias to its repository here and picks
//! the file as llama.cpp's `-hf` does (`Q4_K_M`, then `Q8_0`); the no-model hint and the TUI's
//! first-run screen name the alias [`super::fit::propose`] returns.
//!
//! The repositories are ggml-org's conversions (the llama.cpp maintainers' organisation, whose
//! Gemma 4 GGUFs carry the text model and a separate `mmproj` projector, the layout llama.cpp
//! loads). `ggml-org/gemma-4-26B-A4B-it-GGUF` (Q4_K_M 16.8 GB) is named in published llama.cpp
//! recipes; the other three follow the same naming. The hub cannot be reached where gem is
//! developed, so none of the four was fetched from here.

/// One alias and what it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ModelAlias {
    /// What the user types: `gem pull e4b`.
    pub alias: &'static str,
    /// The Gemma 4 size class, as `engine::model_info::gemma4_size_class` names it.
    pub size_class: &'static str,
    /// The Hugging Face repository (`ORG/REPO`).
    pub repo: &'static str,
    /// Approximate size of the repository's Q4_K_M file in bytes, for planning before the hub
    /// is asked (the hub's own figure wins once known).
    pub approx_download_bytes: u64,
}

/// Every alias, smallest model first.
pub const ALIASES: [ModelAlias; 4] = [
    ModelAlias {
        alias: "e2b",
        size_class: "E2B",
        repo: "ggml-org/gemma-4-E2B-it-GGUF",
        approx_download_bytes: 3_400_000_000,
    },
    ModelAlias {
        alias: "e4b",
        size_class: "E4B",
        repo: "ggml-org/gemma-4-E4B-it-GGUF",
        approx_download_bytes: 5_000_000_000,
    },
    ModelAlias {
        alias: "26b",
        size_class: "26B-A4B",
        repo: "ggml-org/gemma-4-26B-A4B-it-GGUF",
        approx_download_bytes: 16_800_000_000,
    },
    ModelAlias {
        alias: "31b",
        size_class: "31B",
        repo: "ggml-org/gemma-4-31B-it-GGUF",
        approx_download_bytes: 18_700_000_000,
    },
];

/// The alias named `name` (case-insensitive; `26b-a4b` is accepted for `26b`).
pub fn find(name: &str) -> Option<&'static ModelAlias> {
    let name = name.to_ascii_lowercase();
    let name = if name == "26b-a4b" { "26b" } else { &name };
    ALIASES.iter().find(|a| a.alias == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_case_insensitively() {
        assert_eq!(find("E4B").unwrap().repo, "ggml-org/gemma-4-E4B-it-GGUF");
        assert_eq!(find("26B-A4B").unwrap().alias, "26b");
        assert!(find("70b").is_none());
    }

    #[test]
    fn every_size_class_of_the_engine_has_an_alias() {
        for layers in [35, 42, 30, 60] {
            let class = crate::engine::model_info::gemma4_size_class(layers).unwrap();
            assert!(
                ALIASES.iter().any(|a| a.size_class == class),
                "no alias for {class}"
            );
        }
    }
}
