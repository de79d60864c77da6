//! What `gem pull` was asked for: an alias (`e4b`) or a repository (`ORG/REPO`), either with an
//! optional `:QUANT` (`e4b:Q8_0`, `unsloth/gemma-4-E2B-it-GGUF:UD-Q4_K_XL`), as llama.cpp's
//! `-hf` takes it. `hf.co/` and `https://huggingface.co/` prefixes are accepted too.

use super::aliases;
use super::pull_error::PullError;

/// A parsed pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSpec {
    /// `ORG/REPO` on the hub.
    pub repo: String,
    /// The quantization asked for (`Q8_0`), if any; else the default order applies.
    pub quant: Option<String>,
    /// The alias the repository came from, if one was used.
    pub alias: Option<&'static str>,
}

impl PullSpec {
    /// Parses `e2b|e4b|26b|31b|ORG/REPO`, each with an optional `:QUANT`.
    pub fn parse(text: &str) -> Result<Self, PullError> {
        let invalid = || PullError::InvalidSpec {
            spec: text.to_string(),
        };
        let trimmed = text.trim();
        let without_prefix = [
            "https://huggingface.co/",
            "http://huggingface.co/",
            "huggingface.co/",
            "hf.co/",
        ]
        .iter()
        .find_map(|p| trimmed.strip_prefix(p))
        .unwrap_or(trimmed);
        let (name, quant) = match without_prefix.rsplit_once(':') {
            Some((name, quant)) if !quant.is_empty() && is_name(quant) => (name, Some(quant)),
            Some(_) => return Err(invalid()),
            None => (without_prefix, None),
        };
        let quant = quant.map(str::to_string);
        if let Some(alias) = aliases::find(name) {
            return Ok(Self {
                repo: alias.repo.to_string(),
                quant,
                alias: Some(alias.alias),
            });
        }
        let Some((org, repo)) = name.split_once('/') else {
            return Err(invalid());
        };
        if !is_name(org) || !is_name(repo) {
            return Err(invalid());
        }
        Ok(Self {
            repo: format!("{org}/{repo}"),
            quant,
            alias: None,
        })
    }

    /// The spec as the user would type it again (`ORG/REPO:QUANT`).
    #[cfg(test)]
    pub fn display(&self) -> String {
        match &self.quant {
            Some(q) => format!("{}:{q}", self.repo),
            None => self.repo.clone(),
        }
    }
}

/// A hub name segment: letters, digits, `-`, `_`, `.`.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_map_to_their_repositories() {
        let spec = PullSpec::parse("E4B").unwrap();
        assert_eq!(spec.repo, aliases::find("e4b").unwrap().repo);
        assert_eq!(spec.alias, Some("e4b"));
        assert_eq!(spec.quant, None);
        let spec = PullSpec::parse("31b:Q8_0").unwrap();
        assert_eq!(spec.repo, aliases::find("31b").unwrap().repo);
        assert_eq!(spec.quant.as_deref(), Some("Q8_0"));
    }

    #[test]
    fn repositories_take_an_optional_quant_and_hub_prefixes() {
        let spec = PullSpec::parse("unsloth/gemma-4-E2B-it-GGUF:UD-Q4_K_XL").unwrap();
        assert_eq!(spec.repo, "unsloth/gemma-4-E2B-it-GGUF");
        assert_eq!(spec.quant.as_deref(), Some("UD-Q4_K_XL"));
        assert_eq!(spec.display(), "unsloth/gemma-4-E2B-it-GGUF:UD-Q4_K_XL");
        let spec = PullSpec::parse("hf.co/org/repo").unwrap();
        assert_eq!((spec.repo.as_str(), spec.quant), ("org/repo", None));
        let spec = PullSpec::parse("https://huggingface.co/org/repo:Q4_K_M").unwrap();
        assert_eq!(spec.display(), "org/repo:Q4_K_M");
    }

    #[test]
    fn anything_else_is_refused_with_the_forms_named() {
        for bad in [
            "",
            "gemma",
            "a/b/c",
            "org/",
            "/repo",
            "org/repo:",
            "org/re po",
            "org/repo:Q4 K",
        ] {
            let err = PullSpec::parse(bad).unwrap_err();
            assert!(err.to_string().contains("ORG/REPO[:QUANT]"), "{bad}: {err}");
        }
    }
}
