//! The transcript: the list of cells, its scroll position, and drawing only the visible rows.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::cells::{Cell, CellKind, RenderCtx, ToolCell};
use super::scroll::Scroll;
use super::theme::Role;

/// All cells of the conversation as shown.
#[derive(Debug, Default)]
pub struct Transcript {
    cells: Vec<Cell>,
    /// Where the view is.
    pub scroll: Scroll,
}

impl Transcript {
    /// Appends a cell.
    pub fn push(&mut self, kind: CellKind) {
        self.cells.push(Cell::new(kind));
    }

    /// The cells, oldest first.
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// The newest cell, for changing it.
    pub fn last_mut(&mut self) -> Option<&mut Cell> {
        self.cells.last_mut()
    }

    /// The newest tool cell with this call id, for changing it.
    pub fn tool_mut(&mut self, call_id: &str) -> Option<&mut ToolCell> {
        for cell in self.cells.iter_mut().rev() {
            if matches!(cell.kind(), CellKind::Tool(tool) if tool.call_id == call_id)
                && let CellKind::Tool(tool) = cell.kind_mut()
            {
                return Some(tool);
            }
        }
        None
    }

    /// Changes every cell matching `pick` with `change`.
    pub fn update_where(
        &mut self,
        pick: impl Fn(&CellKind) -> bool,
        change: impl Fn(&mut CellKind),
    ) {
        for cell in &mut self.cells {
            if pick(cell.kind()) {
                change(cell.kind_mut());
            }
        }
    }

    /// Removes every cell.
    pub fn clear(&mut self) {
        self.cells.clear();
        self.scroll = Scroll::default();
    }

    /// Total rendered lines at `width` (without the last cell's blank separator line).
    pub fn total_height(&self, width: u16, ctx: &RenderCtx<'_>) -> usize {
        let sum: usize = self.cells.iter().map(|cell| cell.height(width, ctx)).sum();
        sum.saturating_sub(1)
    }

    /// Every cell's lines at `width` as plain text, one `\n`-ended line each, trailing spaces
    /// trimmed; empty without cells.
    pub fn plain_text(&self, width: u16, ctx: &RenderCtx<'_>) -> String {
        let mut text = String::new();
        for cell in &self.cells {
            for line in cell.lines(width, ctx).iter() {
                text.push_str(line.to_string().trim_end());
                text.push('\n');
            }
        }
        text
    }

    /// Draws the visible rows into `area`, plus a marker when the view is not at the bottom.
    pub fn render(&self, area: Rect, buf: &mut Buffer, ctx: &RenderCtx<'_>) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        let height = usize::from(area.height);
        if self.scroll.is_following() {
            self.render_bottom(area, buf, ctx);
            return;
        }
        let total = self.total_height(area.width, ctx);
        let top = self.scroll.top(total, height);
        let mut row = 0usize;
        let mut line_index = 0usize;
        for cell in &self.cells {
            let lines = cell.lines(area.width, ctx);
            let cell_end = line_index + lines.len();
            if cell_end <= top {
                line_index = cell_end;
                continue;
            }
            let skip = top.saturating_sub(line_index);
            for line in lines.iter().skip(skip) {
                if row >= height {
                    break;
                }
                let y = area.y + row as u16;
                buf.set_line(area.x, y, line, area.width);
                row += 1;
            }
            line_index = cell_end;
            if row >= height {
                break;
            }
        }
        let below = self.scroll.lines_below(total, height);
        if below > 0 {
            let marker = Line::from(Span::styled(
                format!(" ↓ {below} more lines · End to follow "),
                ctx.theme.style(Role::Selection),
            ));
            let width = marker.width().min(usize::from(area.width)) as u16;
            let x = area.x + area.width - width;
            buf.set_line(x, area.y + area.height - 1, &marker, width);
        }
    }
}

impl Transcript {
    /// Draws the last rows, rendering only the cells that show (fast after a resize).
    fn render_bottom(&self, area: Rect, buf: &mut Buffer, ctx: &RenderCtx<'_>) {
        let height = usize::from(area.height);
        let mut shown = Vec::new();
        let mut count = 0;
        for cell in self.cells.iter().rev() {
            let lines = cell.lines(area.width, ctx);
            count += lines.len();
            shown.push(lines);
            // One extra line: the last cell's separator is not drawn.
            if count > height {
                break;
            }
        }
        let total = count.saturating_sub(1);
        let skip = total.saturating_sub(height);
        let rows = shown
            .iter()
            .rev()
            .flat_map(|lines| lines.iter())
            .skip(skip)
            .take(total - skip);
        for (row, line) in rows.enumerate() {
            buf.set_line(area.x, area.y + row as u16, line, area.width);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::theme::Theme;

    #[test]
    fn renders_only_the_bottom_when_following() {
        let theme = Theme::monochrome();
        let ctx = RenderCtx {
            theme: &theme,
            show_thinking: false,
            expand_tools: false,
        };
        let mut transcript = Transcript::default();
        for i in 0..10 {
            transcript.push(CellKind::User {
                text: format!("message {i}"),
            });
        }
        assert_eq!(transcript.total_height(20, &ctx), 19);
        let area = Rect::new(0, 0, 20, 3);
        let mut buf = Buffer::empty(area);
        transcript.render(area, &mut buf, &ctx);
        let rows: Vec<String> = (0..3)
            .map(|y| (0..20).map(|x| buf[(x, y)].symbol()).collect::<String>())
            .collect();
        assert_eq!(rows[0].trim_end(), "› message 8");
        assert_eq!(rows[2].trim_end(), "› message 9");
    }
}
