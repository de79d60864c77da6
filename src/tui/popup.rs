//! Popups over the composer: which one the composer text opens, and the list widget that draws
//! the command popup and the file picker.

use std::ops::Range;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Widget};

use super::commands::{CommandItem, matching_commands};
use super::composer::Composer;
use super::custom_commands::CustomCommand;
use super::theme::{Role, Theme};

/// Most rows a list popup shows at once.
pub const POPUP_ROWS: usize = 8;

/// The popup the composer's text asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PopupKind {
    /// `/prefix` typed: slash commands starting with `prefix`.
    Commands {
        /// Typed name so far, without the slash.
        prefix: String,
    },
    /// `@query` under the cursor: files matching `query`.
    Files {
        /// Typed text after the `@`.
        query: String,
        /// Byte range of the whole `@query` token in the composer text.
        range: Range<usize>,
    },
}

/// Which popup (if any) the composer's text and cursor open.
pub fn popup_for(composer: &Composer) -> Option<PopupKind> {
    let text = composer.text();
    let cursor = composer.cursor();
    if let Some(prefix) = text.strip_prefix('/')
        && !text.contains(char::is_whitespace)
    {
        return Some(PopupKind::Commands {
            prefix: prefix.to_string(),
        });
    }
    let start = text[..cursor].rfind(char::is_whitespace).map_or(0, |i| {
        i + text[i..].chars().next().map_or(1, char::len_utf8)
    });
    let end = text[cursor..]
        .find(char::is_whitespace)
        .map_or(text.len(), |i| cursor + i);
    let token = &text[start..end];
    let query = token.strip_prefix('@')?;
    Some(PopupKind::Files {
        query: query.to_string(),
        range: start..end,
    })
}

/// The command popup's rows.
pub fn command_items(prefix: &str, custom: &[CustomCommand], theme: &Theme) -> Vec<Line<'static>> {
    matching_commands(prefix, custom)
        .into_iter()
        .map(|spec: CommandItem| {
            let name = format!("/{}", spec.name);
            let args = if spec.args.is_empty() {
                String::new()
            } else {
                format!(" {}", spec.args)
            };
            Line::from(vec![
                Span::styled(name, theme.style(Role::Accent)),
                Span::styled(args, theme.style(Role::Dim)),
                Span::raw("  "),
                Span::styled(spec.help, theme.style(Role::Text)),
            ])
        })
        .collect()
}

/// Draws a bordered list of `items` just above `anchor` (the composer), `selected` highlighted.
pub fn render_list_popup(
    title: &str,
    items: &[Line<'_>],
    selected: usize,
    anchor: Rect,
    bounds: Rect,
    buf: &mut Buffer,
    theme: &Theme,
) {
    let rows = items.len().clamp(1, POPUP_ROWS);
    let height = (rows as u16 + 2).min(anchor.y.saturating_sub(bounds.y));
    if height < 3 || anchor.width < 4 {
        return;
    }
    let area = Rect::new(anchor.x, anchor.y - height, anchor.width, height);
    Clear.render(area, buf);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme.style(Role::Border))
        .title(Span::styled(format!(" {title} "), theme.style(Role::Dim)));
    let inner = block.inner(area);
    block.render(area, buf);
    let visible = usize::from(inner.height);
    let first = (selected + 1).saturating_sub(visible);
    if items.is_empty() {
        buf.set_line(
            inner.x,
            inner.y,
            &Line::styled("no matches", theme.style(Role::Dim)),
            inner.width,
        );
        return;
    }
    for (row, (index, item)) in items
        .iter()
        .enumerate()
        .skip(first)
        .take(visible)
        .enumerate()
    {
        let y = inner.y + row as u16;
        let marker = if index == selected { "› " } else { "  " };
        buf.set_line(
            inner.x,
            y,
            &Line::styled(marker, theme.style(Role::Accent)),
            2,
        );
        buf.set_line(inner.x + 2, y, item, inner.width.saturating_sub(2));
        if index == selected {
            buf.set_style(
                Rect::new(inner.x, y, inner.width, 1),
                theme.style(Role::Selection),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn composer(text: &str, cursor_from_end: usize) -> Composer {
        let mut composer = Composer::default();
        composer.insert_str(text);
        for _ in 0..cursor_from_end {
            composer.move_left();
        }
        composer
    }

    #[test]
    fn slash_opens_commands_until_a_space() {
        assert_eq!(
            popup_for(&composer("/com", 0)),
            Some(PopupKind::Commands {
                prefix: "com".into()
            })
        );
        assert_eq!(popup_for(&composer("/compact now", 0)), None);
        assert_eq!(popup_for(&composer("hello", 0)), None);
    }

    #[test]
    fn at_token_under_cursor_opens_files() {
        assert_eq!(
            popup_for(&composer("see @src/ma now", 4)),
            Some(PopupKind::Files {
                query: "src/ma".into(),
                range: 4..11
            })
        );
        assert_eq!(popup_for(&composer("see @src/ma now", 0)), None);
        assert_eq!(
            popup_for(&composer("é @", 0)),
            Some(PopupKind::Files {
                query: String::new(),
                range: 3..4
            })
        );
    }
}
