//! Syntax highlighting of code blocks with syntect's default syntaxes and themes.

use std::sync::OnceLock;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, ThemeSet};
use syntect::parsing::SyntaxSet;

use super::theme::{Role, Theme};

/// syntect's bundled syntaxes, loaded once.
fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

/// syntect's bundled themes, loaded once.
fn themes() -> &'static ThemeSet {
    static SET: OnceLock<ThemeSet> = OnceLock::new();
    SET.get_or_init(ThemeSet::load_defaults)
}

/// Loads the syntaxes and themes now (call on a background thread at start-up).
pub fn warm_up() {
    syntaxes();
    themes();
}

/// Highlights the lines of one code block, keeping parser state from line to line.
pub struct CodeHighlighter {
    inner: Option<HighlightLines<'static>>,
    plain: Style,
}

impl CodeHighlighter {
    /// A highlighter for `lang` (a name or file extension such as `rust` or `py`).
    ///
    /// Falls back to plain text for unknown languages and for themes without a syntax theme.
    pub fn new(lang: &str, theme: &Theme) -> CodeHighlighter {
        let plain = theme.style(Role::Text);
        let inner = theme.syntax_theme.as_deref().and_then(|name| {
            let lang = lang.trim();
            if lang.is_empty() {
                return None;
            }
            let set = syntaxes();
            let syntax = set
                .find_syntax_by_token(lang)
                .or_else(|| set.find_syntax_by_token(alias(lang)))?;
            let syntax_theme = themes().themes.get(name)?;
            Some(HighlightLines::new(syntax, syntax_theme))
        });
        CodeHighlighter { inner, plain }
    }

    /// Highlights the next line of the block (without its newline).
    pub fn line(&mut self, text: &str) -> Line<'static> {
        let Some(inner) = self.inner.as_mut() else {
            return Line::from(Span::styled(text.to_string(), self.plain));
        };
        let with_newline = format!("{text}\n");
        match inner.highlight_line(&with_newline, syntaxes()) {
            Ok(ranges) => Line::from(
                ranges
                    .into_iter()
                    .filter_map(|(style, piece)| {
                        let piece = piece.trim_end_matches('\n');
                        (!piece.is_empty()).then(|| Span::styled(piece.to_string(), convert(style)))
                    })
                    .collect::<Vec<_>>(),
            ),
            Err(_) => Line::from(Span::styled(text.to_string(), self.plain)),
        }
    }
}

/// Common fence names that syntect's defaults know under another token.
fn alias(lang: &str) -> &str {
    match lang.to_ascii_lowercase().as_str() {
        "shell" | "console" | "zsh" | "shellscript" => "sh",
        "javascript" | "jsx" | "ts" | "typescript" | "tsx" => "js",
        "c++" => "cpp",
        "yml" => "yaml",
        "golang" => "go",
        "py3" | "python3" => "py",
        _ => "txt",
    }
}

/// Converts a syntect style (foreground and font style only) to a ratatui style.
fn convert(style: syntect::highlighting::Style) -> Style {
    let fg = style.foreground;
    let mut out = Style::default().fg(Color::Rgb(fg.r, fg.g, fg.b));
    if style.font_style.contains(FontStyle::BOLD) {
        out = out.add_modifier(Modifier::BOLD);
    }
    if style.font_style.contains(FontStyle::ITALIC) {
        out = out.add_modifier(Modifier::ITALIC);
    }
    if style.font_style.contains(FontStyle::UNDERLINE) {
        out = out.add_modifier(Modifier::UNDERLINED);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_code_gets_several_colours() {
        let mut highlighter = CodeHighlighter::new("rust", &Theme::dark());
        let line = highlighter.line("fn main() { let x = 1; }");
        assert_eq!(line.to_string(), "fn main() { let x = 1; }");
        let colours: std::collections::HashSet<_> = line.spans.iter().map(|s| s.style.fg).collect();
        assert!(
            colours.len() >= 3,
            "expected several colours, got {colours:?}"
        );
    }

    #[test]
    fn unknown_language_and_monochrome_are_plain() {
        let mut highlighter = CodeHighlighter::new("no-such-language", &Theme::dark());
        let line = highlighter.line("x = 1");
        assert_eq!(line.spans.len(), 1);
        let mut mono = CodeHighlighter::new("rust", &Theme::monochrome());
        assert_eq!(mono.line("fn x() {}").spans[0].style.fg, None);
    }
}
