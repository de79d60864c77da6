//! The system prompt: `prompts/system.md`, the repository's `AGENTS.md` files, mode-specific
//! instructions and the packed repository. It is byte-stable across turns (no dates, no moving
//! reminders) so the engine's prefix reuse and disk cache hold.

use std::path::Path;

/// The base instructions the model reads.
pub const BASE: &str = include_str!("../../prompts/system.md");
/// Maximum bytes taken from one AGENTS.md.
pub const AGENTS_MD_CAP: usize = 16 * 1024;

/// `AGENTS.md` files from the project root down to `cwd` (root first), each capped, with a
/// header naming the file; empty when there are none.
pub fn agents_md(root: &Path, cwd: &Path) -> String {
    let mut dirs = vec![root.to_path_buf()];
    if let Ok(rel) = cwd.strip_prefix(root) {
        let mut dir = root.to_path_buf();
        for part in rel.components() {
            dir.push(part);
            dirs.push(dir.clone());
        }
    }
    let mut out = String::new();
    for dir in dirs {
        let path = dir.join("AGENTS.md");
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(AGENTS_MD_CAP)]);
        let shown = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        out.push_str(&format!(
            "\n\n# Project instructions from {shown}\n\n{}",
            text.trim()
        ));
        if bytes.len() > AGENTS_MD_CAP {
            out.push_str(&format!("\n[… {shown} truncated at {AGENTS_MD_CAP} bytes]"));
        }
    }
    out
}

/// Assembles the whole system prompt.
pub fn build(root: &Path, cwd: &Path, extra: Option<&str>, repo_block: Option<&str>) -> String {
    let mut prompt = BASE.trim().to_string();
    prompt.push_str(&agents_md(root, cwd));
    if let Some(extra) = extra {
        prompt.push_str("\n\n");
        prompt.push_str(extra.trim());
    }
    if let Some(repo) = repo_block {
        prompt.push_str("\n\n# The repository\n\n");
        prompt.push_str(include_str!("../../prompts/repo.md").trim());
        prompt.push_str("\n\n");
        prompt.push_str(repo);
    }
    prompt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_md_is_collected_root_first_and_capped() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("AGENTS.md"), "root rules").unwrap();
        std::fs::write(root.join("a/b/AGENTS.md"), "x".repeat(AGENTS_MD_CAP + 10)).unwrap();
        let text = agents_md(root, &root.join("a/b"));
        let first = text.find("root rules").unwrap();
        let second = text.find("a/b/AGENTS.md").unwrap();
        assert!(first < second);
        assert!(text.contains("truncated"));
        let prompt = build(root, root, Some("CI mode."), None);
        assert!(prompt.starts_with("You are gem"));
        assert!(prompt.ends_with("CI mode."));
        assert_eq!(
            prompt,
            build(root, root, Some("CI mode."), None),
            "byte-stable"
        );
    }
}
