//! Top-level symbol extraction for the repo map: a cheap, per-language line scan.
//!
//! Only declarations that start in column 0 count, which is exactly "top level" for Python and
//! Go and a good approximation for Rust and JavaScript/TypeScript. Methods inside `impl` or
//! `class` bodies are deliberately left out to keep the map compact.

use std::path::Path;

/// At most this many symbols are listed per file; the rest are counted.
const MAX_SYMBOLS_PER_FILE: usize = 40;

/// The languages the map knows how to scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Language {
    Rust,
    Python,
    Script,
    Go,
}

/// Top-level symbols of a file as short strings like `fn main` or `class Parser`.
///
/// Files in languages the scanner does not know yield an empty list.
pub fn top_level_symbols(path: &Path, content: &str) -> Vec<String> {
    let Some(language) = language_of(path) else {
        return Vec::new();
    };
    content
        .lines()
        .filter(|line| line.starts_with(|c: char| !c.is_whitespace()))
        .filter_map(|line| match language {
            Language::Rust => rust_symbol(line),
            Language::Python => python_symbol(line),
            Language::Script => script_symbol(line),
            Language::Go => go_symbol(line),
        })
        .collect()
}

/// Joins symbols for one map line, listing at most [`MAX_SYMBOLS_PER_FILE`].
pub fn format_symbols(symbols: &[String]) -> String {
    let shown = symbols.len().min(MAX_SYMBOLS_PER_FILE);
    let mut text = symbols[..shown].join(", ");
    if symbols.len() > shown {
        text.push_str(&format!(", … +{} more", symbols.len() - shown));
    }
    text
}

fn language_of(path: &Path) -> Option<Language> {
    let extension = path.extension()?.to_str()?;
    match extension {
        "rs" => Some(Language::Rust),
        "py" | "pyi" => Some(Language::Python),
        "js" | "jsx" | "mjs" | "cjs" | "ts" | "tsx" | "mts" | "cts" => Some(Language::Script),
        "go" => Some(Language::Go),
        _ => None,
    }
}

/// The identifier at the start of `text` (letters, digits, `_`, `$`), if any.
fn identifier(text: &str) -> Option<&str> {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .unwrap_or(text.len());
    let ident = &text[..end];
    (!ident.is_empty() && !ident.starts_with(|c: char| c.is_ascii_digit())).then_some(ident)
}

/// Strips any of `prefixes` from the front of `line`, repeatedly.
fn strip_modifiers<'a>(mut line: &'a str, prefixes: &[&str]) -> &'a str {
    while let Some(rest) = prefixes.iter().find_map(|prefix| line.strip_prefix(prefix)) {
        line = rest.trim_start();
    }
    line
}

fn rust_symbol(line: &str) -> Option<String> {
    let mut rest = line;
    loop {
        rest = strip_modifiers(
            rest,
            &["pub ", "unsafe ", "async ", "default ", "extern \"C\" "],
        );
        if let Some(after_pub) = rest.strip_prefix("pub(") {
            let close = after_pub.find(')')?;
            rest = after_pub[close + 1..].trim_start();
            continue;
        }
        if let Some(after_const) = rest.strip_prefix("const ")
            && ["fn ", "unsafe ", "async ", "extern "]
                .iter()
                .any(|next| after_const.starts_with(next))
        {
            rest = after_const;
            continue;
        }
        break;
    }
    if let Some(name) = rest.strip_prefix("macro_rules!") {
        return identifier(name.trim_start()).map(|name| format!("macro {name}!"));
    }
    if rest.starts_with("impl ") || rest.starts_with("impl<") {
        return Some(rust_impl_header(rest));
    }
    for keyword in ["fn", "struct", "enum", "trait", "mod", "type", "union"] {
        if let Some(after) = rest
            .strip_prefix(keyword)
            .and_then(|after| after.strip_prefix(' '))
        {
            let name = identifier(after.trim_start())?;
            if keyword == "mod" && name == "tests" {
                return None;
            }
            return Some(format!("{keyword} {name}"));
        }
    }
    None
}

/// `impl<T: X> Display for Foo<T> where … {` → `impl Display for Foo<T>`.
fn rust_impl_header(line: &str) -> String {
    let mut rest = &line["impl".len()..];
    if rest.starts_with('<') {
        let mut depth = 0usize;
        for (index, c) in rest.char_indices() {
            match c {
                '<' => depth += 1,
                '>' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        rest = &rest[index + 1..];
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    let end = [rest.find('{'), rest.find(" where")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(rest.len());
    let target = rest[..end].split_whitespace().collect::<Vec<_>>().join(" ");
    format!("impl {target}")
}

fn python_symbol(line: &str) -> Option<String> {
    let rest = strip_modifiers(line, &["async "]);
    for keyword in ["def", "class"] {
        if let Some(after) = rest
            .strip_prefix(keyword)
            .and_then(|after| after.strip_prefix(' '))
        {
            return identifier(after.trim_start()).map(|name| format!("{keyword} {name}"));
        }
    }
    None
}

fn script_symbol(line: &str) -> Option<String> {
    let exported = line.starts_with("export ");
    let rest = strip_modifiers(
        line,
        &["export ", "default ", "declare ", "abstract ", "async "],
    );
    if let Some(after) = rest.strip_prefix("function") {
        let after = after.trim_start_matches('*').trim_start();
        return identifier(after).map(|name| format!("function {name}"));
    }
    let mut keywords = vec!["class", "interface", "type", "enum", "namespace"];
    if exported {
        keywords.extend(["const", "let", "var"]);
    }
    for keyword in keywords {
        if let Some(after) = rest
            .strip_prefix(keyword)
            .and_then(|after| after.strip_prefix(' '))
        {
            return identifier(after.trim_start()).map(|name| format!("{keyword} {name}"));
        }
    }
    None
}

fn go_symbol(line: &str) -> Option<String> {
    if let Some(after) = line.strip_prefix("func ") {
        let after = after.trim_start();
        if let Some(receiver) = after.strip_prefix('(') {
            let close = receiver.find(')')?;
            let receiver_type = receiver[..close]
                .split_whitespace()
                .last()?
                .trim_start_matches('*');
            let receiver_type = receiver_type.split('[').next().unwrap_or(receiver_type);
            let name = identifier(receiver[close + 1..].trim_start())?;
            return Some(format!("func {receiver_type}.{name}"));
        }
        return identifier(after).map(|name| format!("func {name}"));
    }
    let after = line.strip_prefix("type ")?;
    identifier(after.trim_start()).map(|name| format!("type {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbols(name: &str, content: &str) -> Vec<String> {
        top_level_symbols(Path::new(name), content)
    }

    #[test]
    fn rust_items_at_top_level() {
        let source = "\
use std::fmt;
pub struct Parser { x: u8 }
pub(crate) enum Token { A }
pub trait Visit {}
mod inner;
pub const fn answer() -> u8 { 42 }
pub async fn serve() {}
impl<T: Clone> fmt::Display for Wrapper<T> where T: Copy {
    fn fmt(&self) {}
}
impl Parser {
macro_rules! twice { () => {} }
#[cfg(test)]
mod tests {}
const LIMIT: usize = 3;
";
        assert_eq!(
            symbols("src/lib.rs", source),
            [
                "struct Parser",
                "enum Token",
                "trait Visit",
                "mod inner",
                "fn answer",
                "fn serve",
                "impl fmt::Display for Wrapper<T>",
                "impl Parser",
                "macro twice!",
            ]
        );
    }

    #[test]
    fn python_defs_and_classes() {
        let source = "import os\nclass Model(Base):\n    def method(self): pass\nasync def fetch():\n    pass\ndef main():\n    pass\n";
        assert_eq!(
            symbols("app/main.py", source),
            ["class Model", "def fetch", "def main"]
        );
    }

    #[test]
    fn script_functions_classes_and_exports() {
        let source = "\
import x from 'y';
export default function App() {}
export async function load() {}
function helper() {}
export class Store {}
export const VERSION = 1;
const local = 2;
export interface Props {}
export type Id = string;
";
        assert_eq!(
            symbols("src/index.ts", source),
            [
                "function App",
                "function load",
                "function helper",
                "class Store",
                "const VERSION",
                "interface Props",
                "type Id",
            ]
        );
    }

    #[test]
    fn go_funcs_methods_and_types() {
        let source = "package main\n\ntype Server struct {}\nfunc (s *Server) Run() error {}\nfunc main() {}\n";
        assert_eq!(
            symbols("cmd/main.go", source),
            ["type Server", "func Server.Run", "func main"]
        );
    }

    #[test]
    fn unknown_languages_have_no_symbols() {
        assert!(symbols("notes.txt", "fn main() {}\n").is_empty());
    }

    #[test]
    fn long_symbol_lists_are_capped() {
        let many: Vec<String> = (0..MAX_SYMBOLS_PER_FILE + 3)
            .map(|i| format!("fn f{i}"))
            .collect();
        let text = format_symbols(&many);
        assert!(text.ends_with(", … +3 more"));
        assert!(!text.contains(&format!("f{}", MAX_SYMBOLS_PER_FILE)));
    }
}
