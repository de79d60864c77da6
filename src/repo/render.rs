//! The text format of a packed repository: the repo map, then one tagged block per file.
//!
//! ```text
//! <file path="src/main.rs">
//! fn main() {}
//! </file>
//! <repo_map>
//! src/parser.rs: struct Parser, fn parse
//! docs/guide.md
//! </repo_map>
//! ```

use std::path::Path;

/// Opening line of the repo map block.
pub const MAP_OPEN: &str = "<repo_map>\n";
/// Closing line of the repo map block.
pub const MAP_CLOSE: &str = "</repo_map>\n";

/// A path as shown to the model: relative, `/`-separated, lossy UTF-8.
pub fn display_path(rel_path: &Path) -> String {
    rel_path
        .components()
        .map(|component| component.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Renders one whole file as a tagged block; the content always ends with a newline.
pub fn render_file_block(rel_path: &Path, content: &str) -> String {
    let path = escape_attribute(&display_path(rel_path));
    let newline = if content.is_empty() || content.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    format!("<file path=\"{path}\">\n{content}{newline}</file>\n")
}

/// Renders one repo-map line: the path, then its symbols when there are any.
pub fn render_map_entry(rel_path: &Path, symbols: &str) -> String {
    let path = display_path(rel_path);
    if symbols.is_empty() {
        format!("{path}\n")
    } else {
        format!("{path}: {symbols}\n")
    }
}

/// The last repo-map line when entries had to be dropped for lack of room.
pub fn render_map_overflow(omitted: usize) -> String {
    format!("… {omitted} more files not listed\n")
}

/// Escapes `&`, `"`, `<` and `>` so a path cannot break out of its attribute.
fn escape_attribute(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_block_has_header_and_footer() {
        assert_eq!(
            render_file_block(Path::new("src/main.rs"), "fn main() {}\n"),
            "<file path=\"src/main.rs\">\nfn main() {}\n</file>\n"
        );
    }

    #[test]
    fn missing_final_newline_is_added_once() {
        assert_eq!(
            render_file_block(Path::new("a.txt"), "x"),
            "<file path=\"a.txt\">\nx\n</file>\n"
        );
        assert_eq!(
            render_file_block(Path::new("empty"), ""),
            "<file path=\"empty\">\n</file>\n"
        );
    }

    #[test]
    fn quotes_in_paths_are_escaped() {
        let block = render_file_block(Path::new("we\"ird<&>.txt"), "");
        assert!(block.starts_with("<file path=\"we&quot;ird&lt;&amp;&gt;.txt\">\n"));
    }

    #[test]
    fn map_entries_with_and_without_symbols() {
        assert_eq!(
            render_map_entry(Path::new("src/a.rs"), "fn a"),
            "src/a.rs: fn a\n"
        );
        assert_eq!(render_map_entry(Path::new("README.md"), ""), "README.md\n");
    }
}
