//! Which files of a repository `gem pull` fetches, picked as llama.cpp's `-hf` does.
//!
//! The model: among the `.gguf` files that are not a projector (`mmproj`), an importance matrix
//! (`imatrix`) or a speculative-decoding draft head (`mtp-…`, `MTP/`), the one `:QUANT` names;
//! without `:QUANT`, `Q4_K_M`, else `Q8_0`, else the first by name. A split model
//! (`…-00001-of-00003.gguf`) brings all its parts; the first part is the one to load.
//!
//! The projector (vision/audio `mmproj`), when the repository has one: the one in the model's
//! folder first, and among those by precision `F16`, `BF16`, `F32`, `Q8_0`, then the first by
//! name — full-precision projectors are small next to the model and lose nothing.
//!
//! A quantization names a file when its tokens (split on `-`, `.` and `/`, compared without
//! case) appear in a row in the file's path: `Q4_K_M` names `gemma-4-E2B-it-Q4_K_M.gguf` and
//! `Q4_K_M/model-Q4_K_M-00001-of-00002.gguf`, but not `…-Q4_K_XL.gguf`; `F16` does not name
//! `…-BF16.gguf`. When several files match, the shortest path wins (`Q4_K_M` prefers
//! `…-Q4_K_M.gguf` to `…-UD-Q4_K_M.gguf`).

use super::pull_error::PullError;

/// The default quantizations, in order, when `:QUANT` is not given.
pub const DEFAULT_QUANTS: [&str; 2] = ["Q4_K_M", "Q8_0"];

/// The projector precisions, in order of preference.
pub const MMPROJ_PRECISIONS: [&str; 4] = ["F16", "BF16", "F32", "Q8_0"];

/// The files chosen from a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChoice {
    /// The model's files in load order (one, or every part of a split model).
    pub model_parts: Vec<String>,
    /// The projector beside it, if the repository has one.
    pub mmproj: Option<String>,
}

/// Picks the model (and projector) among `paths`, the repository's file paths.
pub fn choose(repo: &str, paths: &[String], quant: Option<&str>) -> Result<FileChoice, PullError> {
    let mut models: Vec<&str> = paths
        .iter()
        .map(String::as_str)
        .filter(|p| is_gguf(p) && !is_auxiliary(p))
        .collect();
    models.sort_unstable();
    if models.is_empty() {
        return Err(PullError::NoGguf {
            repo: repo.to_string(),
        });
    }
    // Only the first part of a split model stands for it in the choice.
    let heads: Vec<&str> = models
        .iter()
        .copied()
        .filter(|p| split_part(p).is_none_or(|(part, _)| part == 1))
        .collect();
    let chosen = match quant {
        Some(q) => best_match(&heads, q).ok_or_else(|| PullError::QuantNotFound {
            repo: repo.to_string(),
            quant: q.to_string(),
            available: heads.join(", "),
        })?,
        None => DEFAULT_QUANTS
            .iter()
            .find_map(|q| best_match(&heads, q))
            .or_else(|| heads.first().copied())
            .ok_or_else(|| PullError::NoGguf {
                repo: repo.to_string(),
            })?,
    };
    let model_parts = parts_of(repo, chosen, &models)?;
    let mmproj = choose_mmproj(paths, folder(chosen));
    Ok(FileChoice {
        model_parts,
        mmproj,
    })
}

/// Every part of the split model whose first part is `head` (just `head` when not split).
fn parts_of(repo: &str, head: &str, models: &[&str]) -> Result<Vec<String>, PullError> {
    let Some((_, count)) = split_part(head) else {
        return Ok(vec![head.to_string()]);
    };
    let stem = split_stem(head);
    let mut parts: Vec<(u32, &str)> = models
        .iter()
        .filter_map(|p| {
            let (index, total) = split_part(p)?;
            (total == count && split_stem(p) == stem).then_some((index, *p))
        })
        .collect();
    parts.sort_unstable();
    parts.dedup_by_key(|(index, _)| *index);
    if parts.len() != count as usize {
        return Err(PullError::IncompleteSplit {
            repo: repo.to_string(),
            file: head.to_string(),
            found: parts.len(),
            expected: count as usize,
        });
    }
    Ok(parts.into_iter().map(|(_, p)| p.to_string()).collect())
}

/// The projector to fetch beside a model in `model_folder`.
fn choose_mmproj(paths: &[String], model_folder: &str) -> Option<String> {
    let mut projectors: Vec<&str> = paths
        .iter()
        .map(String::as_str)
        .filter(|p| is_gguf(p) && base_name(p).to_ascii_lowercase().contains("mmproj"))
        .collect();
    projectors.sort_unstable();
    let same_folder: Vec<&str> = projectors
        .iter()
        .copied()
        .filter(|p| folder(p) == model_folder)
        .collect();
    let pool = if same_folder.is_empty() {
        projectors
    } else {
        same_folder
    };
    MMPROJ_PRECISIONS
        .iter()
        .find_map(|precision| best_match(&pool, precision))
        .or_else(|| pool.first().copied())
        .map(str::to_string)
}

/// The shortest path among `candidates` that `tag` names (ties: the first by name).
fn best_match<'a>(candidates: &[&'a str], tag: &str) -> Option<&'a str> {
    candidates
        .iter()
        .copied()
        .filter(|p| names(p, tag))
        .min_by_key(|p| (p.len(), *p))
}

/// Whether `tag`'s tokens appear in a row among `path`'s tokens.
fn names(path: &str, tag: &str) -> bool {
    let path_tokens = tokens(path.strip_suffix(".gguf").unwrap_or(path));
    let tag_tokens = tokens(tag);
    !tag_tokens.is_empty()
        && path_tokens
            .windows(tag_tokens.len())
            .any(|w| w == tag_tokens.as_slice())
}

fn tokens(s: &str) -> Vec<String> {
    s.split(['-', '.', '/'])
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

fn is_gguf(path: &str) -> bool {
    path.to_ascii_lowercase().ends_with(".gguf")
}

/// A GGUF that is never the model itself: projector, importance matrix, draft head.
fn is_auxiliary(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let base = base_name(&lower);
    base.contains("mmproj")
        || base.contains("imatrix")
        || base.starts_with("mtp-")
        || lower.split('/').rev().skip(1).any(|dir| dir == "mtp")
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn folder(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// `(part, of)` of a split GGUF name (`…-00002-of-00003.gguf`).
fn split_part(path: &str) -> Option<(u32, u32)> {
    let stem = path.strip_suffix(".gguf")?;
    let (rest, of) = stem.rsplit_once("-of-")?;
    let (_, part) = rest.rsplit_once('-')?;
    let digits = |s: &str| s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(part) || !digits(of) {
        return None;
    }
    let (part, of) = (part.parse().ok()?, of.parse().ok()?);
    (part >= 1 && part <= of).then_some((part, of))
}

/// The name of a split GGUF without its `-NNNNN-of-NNNNN.gguf` suffix.
fn split_stem(path: &str) -> &str {
    path.strip_suffix(".gguf")
        .and_then(|s| s.rsplit_once("-of-"))
        .and_then(|(rest, _)| rest.rsplit_once('-'))
        .map_or(path, |(stem, _)| stem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn pick(names: &[&str], quant: Option<&str>) -> FileChoice {
        choose("org/repo", &files(names), quant).unwrap()
    }

    const UNSLOTH_LIKE: [&str; 12] = [
        ".gitattributes",
        "README.md",
        "gemma-4-E4B-it-BF16.gguf",
        "gemma-4-E4B-it-Q4_K_M.gguf",
        "gemma-4-E4B-it-Q8_0.gguf",
        "gemma-4-E4B-it-UD-Q4_K_M.gguf",
        "gemma-4-E4B-it-UD-Q4_K_XL.gguf",
        "imatrix_unsloth.gguf",
        "mmproj-BF16.gguf",
        "mmproj-F16.gguf",
        "mmproj-F32.gguf",
        "MTP/mtp-gemma-4-E4B-it-Q8_0.gguf",
    ];

    #[test]
    fn q4_k_m_first_with_the_f16_projector() {
        let choice = pick(&UNSLOTH_LIKE, None);
        assert_eq!(choice.model_parts, ["gemma-4-E4B-it-Q4_K_M.gguf"]);
        assert_eq!(choice.mmproj.as_deref(), Some("mmproj-F16.gguf"));
    }

    #[test]
    fn q8_0_when_there_is_no_q4_k_m_then_the_first_model() {
        let choice = pick(&["b-Q5_K_M.gguf", "a-Q8_0.gguf", "mmproj-a-f16.gguf"], None);
        assert_eq!(choice.model_parts, ["a-Q8_0.gguf"]);
        let choice = pick(&["b-Q5_K_M.gguf", "a-Q6_K.gguf"], None);
        assert_eq!(choice.model_parts, ["a-Q6_K.gguf"]);
        assert_eq!(choice.mmproj, None);
    }

    #[test]
    fn quant_chooses_and_never_a_projector_imatrix_or_draft_head() {
        assert_eq!(
            pick(&UNSLOTH_LIKE, Some("q8_0")).model_parts,
            ["gemma-4-E4B-it-Q8_0.gguf"]
        );
        assert_eq!(
            pick(&UNSLOTH_LIKE, Some("UD-Q4_K_XL")).model_parts,
            ["gemma-4-E4B-it-UD-Q4_K_XL.gguf"]
        );
        assert_eq!(
            pick(&UNSLOTH_LIKE, Some("BF16")).model_parts,
            ["gemma-4-E4B-it-BF16.gguf"]
        );
        let err = choose("org/repo", &files(&UNSLOTH_LIKE), Some("F32")).unwrap_err();
        assert!(matches!(err, PullError::QuantNotFound { .. }), "{err}");
        assert!(
            err.to_string().contains("gemma-4-E4B-it-Q8_0.gguf"),
            "{err}"
        );
        assert!(!err.to_string().contains("mmproj"), "{err}");
    }

    #[test]
    fn a_split_model_brings_every_part_in_order() {
        let names = [
            "Q4_K_M/m-Q4_K_M-00002-of-00003.gguf",
            "Q4_K_M/m-Q4_K_M-00001-of-00003.gguf",
            "Q4_K_M/m-Q4_K_M-00003-of-00003.gguf",
            "Q4_K_M/mmproj-Q8_0.gguf",
            "mmproj-F16.gguf",
            "m-Q8_0.gguf",
        ];
        let choice = pick(&names, None);
        assert_eq!(
            choice.model_parts,
            [
                "Q4_K_M/m-Q4_K_M-00001-of-00003.gguf",
                "Q4_K_M/m-Q4_K_M-00002-of-00003.gguf",
                "Q4_K_M/m-Q4_K_M-00003-of-00003.gguf"
            ]
        );
        assert_eq!(choice.mmproj.as_deref(), Some("Q4_K_M/mmproj-Q8_0.gguf"));
        let err = choose("org/repo", &files(&names[..2]), None).unwrap_err();
        assert!(
            matches!(
                err,
                PullError::IncompleteSplit {
                    found: 2,
                    expected: 3,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_repository_without_a_model_gguf_is_refused() {
        let err = choose("org/repo", &files(&["README.md", "mmproj-F16.gguf"]), None).unwrap_err();
        assert!(matches!(err, PullError::NoGguf { .. }), "{err}");
    }

    #[test]
    fn tags_match_whole_tokens() {
        assert!(names("x-Q4_K_M.gguf", "q4_k_m"));
        assert!(!names("x-Q4_K_XL.gguf", "Q4_K_M"));
        assert!(!names("mmproj-BF16.gguf", "F16"));
        assert!(names("x-UD-Q4_K_XL.gguf", "UD-Q4_K_XL"));
        assert_eq!(split_part("a-00001-of-00002.gguf"), Some((1, 2)));
        assert_eq!(split_part("a-1-of-2.gguf"), None);
    }
}
