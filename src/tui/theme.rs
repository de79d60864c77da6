//! Colour themes: UI roles mapped to colours, loaded from `themes/*.toml`.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// The built-in dark theme's file.
const DARK_TOML: &str = include_str!("../../themes/dark.toml");
/// The built-in light theme's file.
const LIGHT_TOML: &str = include_str!("../../themes/light.toml");

/// A part of the UI that has its own colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Ordinary text.
    Text,
    /// Secondary text (hints, metadata).
    Dim,
    /// Highlights: prompts, selected items, spinners.
    Accent,
    /// The user's messages.
    User,
    /// The model's thinking.
    Thinking,
    /// Tool call names.
    Tool,
    /// Successful results.
    Success,
    /// Errors and failed calls.
    Error,
    /// Warnings.
    Warning,
    /// Added lines of a diff.
    DiffAdd,
    /// Removed lines of a diff.
    DiffRemove,
    /// Hunk headers of a diff.
    DiffHunk,
    /// Borders of the composer and popups.
    Border,
    /// Background of the status line.
    StatusBg,
    /// Text of the status line.
    StatusFg,
    /// Markdown headings.
    Heading,
    /// Markdown inline code.
    InlineCode,
    /// Markdown links.
    Link,
    /// Background of the selected item of a popup.
    Selection,
}

impl Role {
    /// Every role, in the order of the theme's colour table.
    pub const ALL: [Role; 19] = [
        Role::Text,
        Role::Dim,
        Role::Accent,
        Role::User,
        Role::Thinking,
        Role::Tool,
        Role::Success,
        Role::Error,
        Role::Warning,
        Role::DiffAdd,
        Role::DiffRemove,
        Role::DiffHunk,
        Role::Border,
        Role::StatusBg,
        Role::StatusFg,
        Role::Heading,
        Role::InlineCode,
        Role::Link,
        Role::Selection,
    ];

    /// The role's key in a theme file, e.g. `diff_add`.
    pub fn key(self) -> &'static str {
        match self {
            Role::Text => "text",
            Role::Dim => "dim",
            Role::Accent => "accent",
            Role::User => "user",
            Role::Thinking => "thinking",
            Role::Tool => "tool",
            Role::Success => "success",
            Role::Error => "error",
            Role::Warning => "warning",
            Role::DiffAdd => "diff_add",
            Role::DiffRemove => "diff_remove",
            Role::DiffHunk => "diff_hunk",
            Role::Border => "border",
            Role::StatusBg => "status_bg",
            Role::StatusFg => "status_fg",
            Role::Heading => "heading",
            Role::InlineCode => "inline_code",
            Role::Link => "link",
            Role::Selection => "selection",
        }
    }

    /// Looks a role up by its key.
    pub fn from_key(key: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.key() == key)
    }

    fn index(self) -> usize {
        self as usize
    }

    /// Text attributes a role always has, coloured or not.
    fn modifiers(self) -> Modifier {
        match self {
            Role::Dim => Modifier::DIM,
            Role::Thinking => Modifier::DIM | Modifier::ITALIC,
            Role::User | Role::Heading | Role::Tool => Modifier::BOLD,
            Role::Link => Modifier::UNDERLINED,
            _ => Modifier::empty(),
        }
    }
}

/// Why a theme could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    /// The theme file could not be read.
    #[error("cannot read theme file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The theme file is not valid TOML of the expected shape.
    #[error("theme {name} is not valid: {source}")]
    Parse {
        /// The theme's name or path.
        name: String,
        /// The parse error.
        source: toml::de::Error,
    },
    /// A colour table names a role that does not exist.
    #[error("theme {name}: unknown role `{role}` (known roles: {known})")]
    UnknownRole {
        /// The theme's name or path.
        name: String,
        /// The unknown key.
        role: String,
        /// The known keys, comma separated.
        known: String,
    },
    /// A colour could not be parsed.
    #[error("theme {name}: colour `{value}` of `{role}` is neither \"#rrggbb\" nor a colour name")]
    BadColour {
        /// The theme's name or path.
        name: String,
        /// The role.
        role: String,
        /// The colour text.
        value: String,
    },
    /// Neither a built-in theme nor an existing file.
    #[error("no theme named `{0}`: use `dark`, `light` or the path of a .toml theme file")]
    NotFound(String),
}

/// A theme file as written on disk.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: Option<String>,
    syntax_theme: Option<String>,
    #[serde(default)]
    colors: BTreeMap<String, String>,
}

/// A colour theme: one optional colour per [`Role`] and the syntect theme for code blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    /// The theme's name.
    pub name: String,
    /// The syntect theme used to highlight code, or `None` for plain code (monochrome).
    pub syntax_theme: Option<String>,
    colours: [Option<Color>; Role::ALL.len()],
}

impl Default for Theme {
    fn default() -> Self {
        Theme::dark()
    }
}

impl Theme {
    /// The built-in dark theme.
    pub fn dark() -> Theme {
        // The embedded file is checked by a unit test, so parsing it cannot fail.
        Theme::parse("dark", DARK_TOML).unwrap_or_else(|_| Theme::monochrome())
    }

    /// The built-in light theme.
    pub fn light() -> Theme {
        // The embedded file is checked by a unit test, so parsing it cannot fail.
        Theme::parse("light", LIGHT_TOML).unwrap_or_else(|_| Theme::monochrome())
    }

    /// A theme without colours (for `NO_COLOR`): bold, dim and reverse video only.
    pub fn monochrome() -> Theme {
        Theme {
            name: "monochrome".to_string(),
            syntax_theme: None,
            colours: [None; Role::ALL.len()],
        }
    }

    /// Loads `dark`, `light`, `monochrome`, or a theme file by path.
    pub fn load(name_or_path: &str) -> Result<Theme, ThemeError> {
        match name_or_path {
            "dark" => return Ok(Theme::dark()),
            "light" => return Ok(Theme::light()),
            "monochrome" | "none" => return Ok(Theme::monochrome()),
            _ => {}
        }
        let path = Path::new(name_or_path);
        if !path.exists() {
            return Err(ThemeError::NotFound(name_or_path.to_string()));
        }
        let text = std::fs::read_to_string(path).map_err(|source| ThemeError::Read {
            path: name_or_path.to_string(),
            source,
        })?;
        Theme::parse(name_or_path, &text)
    }

    /// Parses a theme from TOML text; `name` is used in errors and when the file has none.
    pub fn parse(name: &str, text: &str) -> Result<Theme, ThemeError> {
        let file: ThemeFile = toml::from_str(text).map_err(|source| ThemeError::Parse {
            name: name.to_string(),
            source,
        })?;
        let mut colours = [None; Role::ALL.len()];
        for (key, value) in &file.colors {
            let role = Role::from_key(key).ok_or_else(|| ThemeError::UnknownRole {
                name: name.to_string(),
                role: key.clone(),
                known: Role::ALL.map(Role::key).join(", "),
            })?;
            let colour = Color::from_str(value).map_err(|_| ThemeError::BadColour {
                name: name.to_string(),
                role: key.clone(),
                value: value.clone(),
            })?;
            colours[role.index()] = Some(colour);
        }
        Ok(Theme {
            name: file.name.unwrap_or_else(|| name.to_string()),
            syntax_theme: file.syntax_theme,
            colours,
        })
    }

    /// The colour of a role, if the theme has one.
    pub fn colour(&self, role: Role) -> Option<Color> {
        self.colours[role.index()]
    }

    /// Whether the theme has any colour at all.
    pub fn is_monochrome(&self) -> bool {
        self.colours.iter().all(Option::is_none)
    }

    /// The style to draw a role with (foreground colour plus the role's fixed attributes).
    pub fn style(&self, role: Role) -> Style {
        let style = Style::default().add_modifier(role.modifiers());
        match role {
            Role::StatusBg | Role::StatusFg => self.status_style(),
            Role::Selection => match self.colour(Role::Selection) {
                Some(bg) => style.bg(bg),
                None => style.add_modifier(Modifier::REVERSED),
            },
            _ => match self.colour(role) {
                Some(fg) => style.fg(fg),
                None => style,
            },
        }
    }

    /// The style of the status line: its colours, or reverse video without colours.
    pub fn status_style(&self) -> Style {
        match (self.colour(Role::StatusBg), self.colour(Role::StatusFg)) {
            (None, None) => Style::default().add_modifier(Modifier::REVERSED),
            (bg, fg) => {
                let mut style = Style::default();
                if let Some(bg) = bg {
                    style = style.bg(bg);
                }
                if let Some(fg) = fg {
                    style = style.fg(fg);
                }
                style
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_themes_parse_and_name_every_role() {
        for (name, text) in [("dark", DARK_TOML), ("light", LIGHT_TOML)] {
            let theme = Theme::parse(name, text).expect("built-in theme parses");
            for role in Role::ALL {
                assert!(theme.colour(role).is_some(), "{name} lacks {}", role.key());
            }
            assert!(theme.syntax_theme.is_some());
        }
    }

    #[test]
    fn built_in_syntax_themes_exist_in_syntect() {
        let set = syntect::highlighting::ThemeSet::load_defaults();
        for theme in [Theme::dark(), Theme::light()] {
            let name = theme.syntax_theme.clone().expect("has a syntax theme");
            assert!(
                set.themes.contains_key(&name),
                "unknown syntect theme {name}"
            );
        }
    }

    #[test]
    fn hex_and_named_colours_parse() {
        let theme = Theme::parse(
            "t",
            "[colors]\ntext = \"#102030\"\naccent = \"light-blue\"\n",
        )
        .expect("parses");
        assert_eq!(theme.colour(Role::Text), Some(Color::Rgb(0x10, 0x20, 0x30)));
        assert_eq!(theme.colour(Role::Accent), Some(Color::LightBlue));
        assert_eq!(theme.colour(Role::Error), None);
    }

    #[test]
    fn unknown_role_and_bad_colour_are_errors() {
        let err = Theme::parse("t", "[colors]\ntxet = \"red\"\n").unwrap_err();
        assert!(matches!(err, ThemeError::UnknownRole { ref role, .. } if role == "txet"));
        let err = Theme::parse("t", "[colors]\ntext = \"#zzzzzz\"\n").unwrap_err();
        assert!(matches!(err, ThemeError::BadColour { .. }));
    }

    #[test]
    fn load_by_name_and_path() {
        assert_eq!(Theme::load("light").expect("built in").name, "light");
        let dir = std::env::temp_dir().join(format!("gem-theme-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("mine.toml");
        std::fs::write(&path, "name = \"mine\"\n[colors]\nerror = \"red\"\n").expect("write");
        let theme = Theme::load(path.to_str().expect("utf-8 path")).expect("loads");
        assert_eq!(theme.name, "mine");
        assert_eq!(theme.colour(Role::Error), Some(Color::Red));
        std::fs::remove_dir_all(&dir).ok();
        assert!(matches!(
            Theme::load("no-such-theme"),
            Err(ThemeError::NotFound(_))
        ));
    }

    #[test]
    fn monochrome_keeps_attributes_but_no_colours() {
        let theme = Theme::monochrome();
        assert!(theme.is_monochrome());
        let thinking = theme.style(Role::Thinking);
        assert_eq!(thinking.fg, None);
        assert!(thinking.add_modifier.contains(Modifier::DIM));
        assert!(
            theme
                .status_style()
                .add_modifier
                .contains(Modifier::REVERSED)
        );
        assert!(
            theme
                .style(Role::Selection)
                .add_modifier
                .contains(Modifier::REVERSED)
        );
    }
}
