//! The system prompt: `prompts/system.md`, the repository's `AGENTS.md` files, mode-specific
//! instructions and the packed repository. It is byte-stable across turns (no dates, no moving
//! reminders) so the engine's prefix reuse and disk cache hold.

use std::path::Path;

use super::PackedContext;
use crate::repo::PackedRepo;

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

/// Assembles the system prompt without a packed repository.
pub fn build(root: &Path, cwd: &Path, extra: Option<&str>) -> String {
    let mut prompt = BASE.trim().to_string();
    prompt.push_str(&agents_md(root, cwd));
    if let Some(extra) = extra {
        prompt.push_str("\n\n");
        prompt.push_str(extra.trim());
    }
    prompt
}

/// Assembles the system prompt with `packed` at its end, and the agent's view of the packed
/// repository, whose offsets come from where the block was placed (not from searching the text).
pub fn build_packed(
    root: &Path,
    cwd: &Path,
    extra: Option<&str>,
    packed: &PackedRepo,
) -> (String, PackedContext) {
    let mut prompt = build(root, cwd, extra);
    prompt.push_str("\n\n# The repository\n\n");
    prompt.push_str(include_str!("../../prompts/repo.md").trim());
    prompt.push_str("\n\n");
    let repo_offset = prompt.len();
    prompt.push_str(&packed.text);
    (prompt, PackedContext::new(repo_offset, packed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_packed_context_points_at_the_recent_files_in_the_prompt() {
        let dir = tempfile::tempdir().unwrap();
        let recent = "<file path=\"new.rs\">\nfn new() {}\n</file>\n";
        let text = format!("<file path=\"old.rs\">\nfn old() {{}}\n</file>\n{recent}");
        let packed = PackedRepo {
            recent_start: Some(text.len() - recent.len()),
            text,
            included: vec!["old.rs".into(), "new.rs".into()],
            mapped: Vec::new(),
            skipped: Vec::new(),
            tokens: 20,
            budget: 100,
            fingerprint: String::new(),
            digests: Default::default(),
            selection: Default::default(),
        };
        let (prompt, context) = build_packed(dir.path(), dir.path(), None, &packed);
        let at = context.recent_offset.unwrap();
        assert_eq!(&prompt[at..], recent);
        assert!(prompt.starts_with(&build(dir.path(), dir.path(), None)));
    }

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
        let prompt = build(root, root, Some("CI mode."));
        assert!(prompt.starts_with("You are gem"));
        assert!(prompt.ends_with("CI mode."));
        assert_eq!(prompt, build(root, root, Some("CI mode.")), "byte-stable");
    }
}
