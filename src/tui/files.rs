//! Listing the project's files for the `@` picker (respects .gitignore).

use std::path::Path;

/// Most files listed, so huge trees stay responsive.
pub const MAX_FILES: usize = 50_000;

/// Relative paths (with `/`) of the files under `root`, sorted, skipping ignored and hidden ones.
pub fn list_project_files(root: &Path, limit: usize) -> Vec<String> {
    let mut files = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .require_git(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .build();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        if let Ok(relative) = entry.path().strip_prefix(root) {
            let text = relative.to_string_lossy().replace('\\', "/");
            if !text.is_empty() {
                files.push(text);
            }
        }
        if files.len() >= limit {
            break;
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn respects_gitignore_and_hidden_files() {
        let dir = std::env::temp_dir().join(format!("gem-files-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).expect("dirs");
        std::fs::create_dir_all(dir.join("target")).expect("dirs");
        std::fs::write(dir.join(".gitignore"), "target/\n").expect("write");
        std::fs::write(dir.join("src/main.rs"), "").expect("write");
        std::fs::write(dir.join("README.md"), "").expect("write");
        std::fs::write(dir.join("target/out.bin"), "").expect("write");
        let files = list_project_files(&dir, 100);
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(files, ["README.md", "src/main.rs"]);
    }
}
