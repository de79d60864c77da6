//! `/model`: the models found on this machine, numbered, and what `/model N|PATH` switches to.

use std::path::{Path, PathBuf};

use crate::models::catalog::FoundModel;
use crate::models::fit::human_bytes;

/// The usable models among `found`, Gemma 4 first (their discovery order kept otherwise).
pub fn usable_models(found: Vec<FoundModel>) -> Vec<FoundModel> {
    let mut usable: Vec<FoundModel> = found.into_iter().filter(FoundModel::is_usable).collect();
    usable.sort_by_key(|m| !m.is_gemma4());
    usable
}

/// The listing under the current model's facts: one numbered line per model, the one in use
/// marked, and how to switch.
pub fn models_text(models: &[FoundModel], current: &Path) -> String {
    if models.is_empty() {
        return "\nNo other model found on this machine (`gem models` says where gem looks; \
                `gem pull e2b|e4b|26b|31b` fetches one)."
            .into();
    }
    let mut text = String::from("\n\n**Models on this machine**\n");
    for (i, m) in models.iter().enumerate() {
        let facts: Vec<String> = [
            m.size_class.clone(),
            m.quantization.clone(),
            Some(human_bytes(m.file_bytes)),
            Some(m.source.label().to_string()),
            (!m.is_gemma4()).then(|| "not Gemma 4".to_string()),
        ]
        .into_iter()
        .flatten()
        .collect();
        let marker = if m.path == current { " · in use" } else { "" };
        text.push_str(&format!(
            "{}. `{}` ({}){marker}\n",
            i + 1,
            m.name,
            facts.join(", ")
        ));
    }
    text.push_str("\n`/model N` (or `/model PATH`) continues this conversation on another model.");
    text
}

/// What `/model ARG` names: the N-th listed model, else a path (`~/` expanded).
pub fn chosen_model(arg: &str, listed: &[PathBuf]) -> Result<PathBuf, String> {
    let arg = arg.trim();
    if let Ok(n) = arg.parse::<usize>() {
        return listed
            .get(n.wrapping_sub(1))
            .cloned()
            .ok_or_else(|| match listed.len() {
                0 => "no model is listed yet: /model lists them".to_string(),
                len => format!("pick a model from 1 to {len} (/model lists them)"),
            });
    }
    let path = crate::setup::expand_home(Path::new(arg), dirs::home_dir());
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("no model file at {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::catalog::{Source, Usability};

    fn found(name: &str, usability: Usability) -> FoundModel {
        FoundModel {
            name: name.into(),
            source: Source::HuggingFace,
            path: PathBuf::from(format!("/m/{name}.gguf")),
            file_bytes: 3 << 30,
            architecture: Some("gemma4".into()),
            size_class: Some("E4B".into()),
            quantization: Some("Q4_K_M".into()),
            trained_context: Some(131_072),
            projector: None,
            usability,
            facts: None,
        }
    }

    #[test]
    fn lists_usable_models_gemma4_first_and_marks_the_current_one() {
        let models = usable_models(vec![
            found("other", Usability::OtherArchitecture),
            found(
                "broken",
                Usability::Refused {
                    reason: "tensor count".into(),
                },
            ),
            found("e4b", Usability::Gemma4),
        ]);
        let text = models_text(&models, Path::new("/m/e4b.gguf"));
        assert!(
            text.contains("1. `e4b` (E4B, Q4_K_M, 3.0 GiB, hf) · in use\n"),
            "{text}"
        );
        assert!(
            text.contains("2. `other` (E4B, Q4_K_M, 3.0 GiB, hf, not Gemma 4)\n"),
            "{text}"
        );
        assert!(!text.contains("broken"));
    }

    #[test]
    fn a_number_picks_a_listed_model_and_anything_else_must_be_a_file() {
        let listed = vec![PathBuf::from("/m/a.gguf"), PathBuf::from("/m/b.gguf")];
        assert_eq!(chosen_model("2", &listed), Ok(PathBuf::from("/m/b.gguf")));
        assert!(chosen_model("3", &listed).unwrap_err().contains("1 to 2"));
        assert!(chosen_model("0", &listed).is_err());
        let file = tempfile::NamedTempFile::new().unwrap();
        let path = file.path().to_path_buf();
        assert_eq!(chosen_model(path.to_str().unwrap(), &[]), Ok(path));
        assert!(
            chosen_model("/no/such.gguf", &[])
                .unwrap_err()
                .contains("no model file")
        );
    }
}
