//! `@path` mentions in a message become attachments with the file's content.

use std::path::Path;

use crate::protocol::Attachment;

/// Largest file attached in full.
const MAX_ATTACHMENT_BYTES: u64 = 256 * 1024;

/// The `@path` tokens of `text` that name files under `root` (first mention only).
pub fn mentioned_paths(text: &str, root: &Path) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    for token in text.split_whitespace() {
        let Some(path) = token.strip_prefix('@') else {
            continue;
        };
        let path = path.trim_end_matches([',', '.', ';', ':', ')', '!', '?', '"', '\'']);
        if path.is_empty() || path.contains("..") || Path::new(path).is_absolute() {
            continue;
        }
        if root.join(path).is_file() && !paths.iter().any(|p| p == path) {
            paths.push(path.to_string());
        }
    }
    paths
}

/// Attachments for the files mentioned in `text`: their content, or a note why it is left out.
pub fn mention_attachments(text: &str, root: &Path) -> Vec<Attachment> {
    mentioned_paths(text, root)
        .into_iter()
        .map(|path| {
            let full = root.join(&path);
            let content = match std::fs::metadata(&full) {
                Ok(meta) if meta.len() > MAX_ATTACHMENT_BYTES => format!(
                    "(file not attached: {} bytes is over the {} byte limit; read it with a tool)",
                    meta.len(),
                    MAX_ATTACHMENT_BYTES
                ),
                _ => match std::fs::read(&full) {
                    Ok(bytes) if bytes.contains(&0) => "(binary file not attached)".to_string(),
                    Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    Err(err) => format!("(cannot read file: {err})"),
                },
            };
            Attachment {
                label: path,
                content,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_of_existing_files_are_attached_once() {
        let dir = std::env::temp_dir().join(format!("gem-mentions-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).expect("dirs");
        std::fs::write(dir.join("src/a.rs"), "fn a() {}").expect("write");
        let text = "look at @src/a.rs, and @src/a.rs again, not @missing.rs or @../etc/passwd";
        let attachments = mention_attachments(text, &dir);
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(
            attachments,
            [Attachment {
                label: "src/a.rs".into(),
                content: "fn a() {}".into()
            }]
        );
    }
}
