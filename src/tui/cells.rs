//! Transcript cells (one user message, thinking block, answer, tool call, notice, …) and their
//! rendering to wrapped lines, cached per width.

use std::cell::RefCell;
use std::rc::Rc;

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::diff::{diff_stats, render_diff};
use super::format::format_duration_ms;
use super::markdown::{MarkdownStream, render_markdown, trim_trailing_blank};
use super::sanitize::sanitize;
use super::theme::{Role, Theme};
use super::wrap::{wrap_line, wrap_lines};
pub use crate::tools::key_argument;

/// What rendering depends on besides the cell itself.
#[derive(Debug, Clone, Copy)]
pub struct RenderCtx<'a> {
    /// Colours.
    pub theme: &'a Theme,
    /// Show finished thinking blocks expanded.
    pub show_thinking: bool,
    /// Show the full results of tool calls.
    pub expand_tools: bool,
}

/// How serious a notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeLevel {
    /// Information (command output, help).
    Info,
    /// A warning.
    Warning,
    /// An error.
    Error,
}

/// The state of a tool call.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolStatus {
    /// Begun, not ended.
    Running,
    /// Ended.
    Done {
        /// Whether it failed (including denied).
        is_error: bool,
        /// Wall time.
        duration_ms: u64,
    },
}

/// A tool call as shown in the transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCell {
    /// The call's id.
    pub call_id: String,
    /// Tool name.
    pub name: String,
    /// The most telling argument (path, command, pattern), one line.
    pub key_argument: String,
    /// Running or done.
    pub status: ToolStatus,
    /// One-line summary from the tool.
    pub summary: String,
    /// Full result.
    pub output: String,
    /// Unified diff of its file changes.
    pub diff: Option<String>,
}

/// The content of one transcript cell.
#[derive(Debug, Clone, PartialEq)]
pub enum CellKind {
    /// A message the user sent.
    User {
        /// The text.
        text: String,
    },
    /// A message the user sent while a turn ran, shown where the model read it (marked as sent
    /// during the turn).
    Steering {
        /// The text.
        text: String,
    },
    /// The model's thinking.
    Thinking {
        /// The text so far.
        text: String,
        /// Whether it is still being streamed.
        streaming: bool,
    },
    /// The model's answer (Markdown).
    Assistant {
        /// The text so far.
        text: String,
        /// Whether it is still being streamed.
        streaming: bool,
    },
    /// A tool call.
    Tool(ToolCell),
    /// Information, a warning or an error.
    Notice {
        /// How serious.
        level: NoticeLevel,
        /// The text (Markdown for `Info`).
        text: String,
    },
    /// A `!command` the user ran.
    Shell {
        /// Which `!command` of the session this is.
        id: usize,
        /// The command line.
        command: String,
        /// Its output once finished.
        output: Option<String>,
        /// Its exit code once finished (`None` when killed by a signal or not started).
        exit_code: Option<i32>,
    },
    /// The model's todo list as it set it (`todo_write`).
    Todos {
        /// Every item, in order.
        items: Vec<crate::tools::todo_write::TodoItem>,
    },
    /// A titled list of diffs (`/diff`).
    Diffs {
        /// Title line.
        title: String,
        /// The diffs.
        diffs: Vec<String>,
    },
}

/// Rendered lines of a cell for one width and context.
struct Cached {
    key: (u16, bool, bool),
    lines: CellLines,
}

/// A cell's rendered lines: a shared head (the complete lines of a streaming answer, or all of
/// them) plus a small tail, so streaming does not copy what is already rendered.
#[derive(Debug, Clone)]
pub struct CellLines {
    head: Rc<Vec<Line<'static>>>,
    head_len: usize,
    tail: Rc<Vec<Line<'static>>>,
}

impl CellLines {
    fn whole(lines: Vec<Line<'static>>) -> CellLines {
        CellLines {
            head_len: lines.len(),
            head: Rc::new(lines),
            tail: Rc::new(Vec::new()),
        }
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.head_len + self.tail.len()
    }

    /// Whether there are no lines.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The lines in order.
    pub fn iter(&self) -> impl Iterator<Item = &Line<'static>> {
        self.head[..self.head_len].iter().chain(self.tail.iter())
    }

    /// Copies the lines out.
    pub fn to_vec(&self) -> Vec<Line<'static>> {
        self.iter().cloned().collect()
    }

    /// Whether both share the same rendering (no re-render happened).
    pub fn same_render(&self, other: &CellLines) -> bool {
        Rc::ptr_eq(&self.head, &other.head) && Rc::ptr_eq(&self.tail, &other.tail)
    }
}

/// The incremental Markdown rendering of a streaming answer.
struct StreamCache {
    width: usize,
    /// The text whose complete lines are rendered (up to and including its last `\n`).
    consumed: String,
    markdown: MarkdownStream,
    /// The rendered complete lines, shared with the cell's line cache.
    lines: Rc<Vec<Line<'static>>>,
}

/// One cell of the transcript with its render caches.
pub struct Cell {
    kind: CellKind,
    cache: RefCell<Option<Cached>>,
    stream: RefCell<Option<StreamCache>>,
}

impl std::fmt::Debug for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.kind.fmt(f)
    }
}

impl Cell {
    /// A new cell.
    pub fn new(kind: CellKind) -> Cell {
        Cell {
            kind,
            cache: RefCell::new(None),
            stream: RefCell::new(None),
        }
    }

    /// The cell's content.
    pub fn kind(&self) -> &CellKind {
        &self.kind
    }

    /// The cell's content, for changing it (drops the render cache).
    pub fn kind_mut(&mut self) -> &mut CellKind {
        self.cache.replace(None);
        &mut self.kind
    }

    /// The cell's lines at `width`, including one blank separator line at the end.
    pub fn lines(&self, width: u16, ctx: &RenderCtx<'_>) -> CellLines {
        let key = (width, ctx.show_thinking, ctx.expand_tools);
        if let Some(cached) = self.cache.borrow().as_ref()
            && cached.key == key
        {
            return cached.lines.clone();
        }
        let width_cols = usize::from(width.max(1));
        let lines = match &self.kind {
            CellKind::Assistant {
                text,
                streaming: true,
            } => self.render_streaming_answer(text, width_cols, ctx.theme),
            kind => {
                self.stream.replace(None);
                let mut lines = render_kind(kind, width_cols, ctx);
                lines.push(Line::default());
                CellLines::whole(lines)
            }
        };
        self.cache.replace(Some(Cached {
            key,
            lines: lines.clone(),
        }));
        lines
    }

    /// Renders a streaming answer, rendering only the lines added since the last call.
    fn render_streaming_answer(&self, text: &str, width: usize, theme: &Theme) -> CellLines {
        let text = sanitize(text);
        let mut stream = self.stream.borrow_mut();
        let reusable = stream
            .as_ref()
            .is_some_and(|s| s.width == width && text.starts_with(s.consumed.as_str()));
        if !reusable {
            *stream = Some(StreamCache {
                width,
                consumed: String::new(),
                markdown: MarkdownStream::new(width),
                lines: Rc::new(Vec::new()),
            });
        }
        let Some(cache) = stream.as_mut() else {
            let mut lines = render_markdown(&text, width, theme);
            lines.push(Line::default());
            return CellLines::whole(lines);
        };
        let complete_end = text.rfind('\n').map_or(0, |i| i + 1);
        if complete_end > cache.consumed.len() {
            let new = &text[cache.consumed.len()..complete_end];
            // The previous frame's copy was dropped when the cell changed, so this rarely copies.
            let lines = Rc::make_mut(&mut cache.lines);
            for line in new.strip_suffix('\n').unwrap_or(new).split('\n') {
                cache.markdown.push_line(line, theme, lines);
            }
            cache.consumed.push_str(new);
        }
        let head = Rc::clone(&cache.lines);
        let tail_text = &text[complete_end..];
        let mut tail = if tail_text.is_empty() {
            Vec::new()
        } else {
            cache.markdown.render_tail(tail_text, theme)
        };
        trim_trailing_blank(&mut tail);
        let mut head_len = head.len();
        if tail.is_empty() {
            while head_len > 0 && head[head_len - 1].width() == 0 {
                head_len -= 1;
            }
        }
        tail.push(Line::default());
        CellLines {
            head,
            head_len,
            tail: Rc::new(tail),
        }
    }

    /// Number of lines at `width`.
    pub fn height(&self, width: u16, ctx: &RenderCtx<'_>) -> usize {
        self.lines(width, ctx).len()
    }
}

/// The line under a message sent while a turn ran.
pub(crate) const STEERING_MARK: &str = "  ↳ sent during the turn";

/// Renders a cell's content (without the separator line).
fn render_kind(kind: &CellKind, width: usize, ctx: &RenderCtx<'_>) -> Vec<Line<'static>> {
    let theme = ctx.theme;
    match kind {
        CellKind::User { text } => prefixed(&sanitize(text), "› ", theme.style(Role::User), width),
        CellKind::Steering { text } => {
            let mut lines = prefixed(&sanitize(text), "› ", theme.style(Role::User), width);
            lines.push(Line::from(Span::styled(
                STEERING_MARK.to_string(),
                theme.style(Role::Dim),
            )));
            lines
        }
        CellKind::Thinking { text, streaming } => render_thinking(
            &sanitize(text),
            *streaming || ctx.show_thinking,
            width,
            theme,
        ),
        CellKind::Assistant { text, .. } => render_markdown(&sanitize(text), width, theme),
        CellKind::Tool(tool) => render_tool(tool, width, ctx),
        CellKind::Notice { level, text } => render_notice(*level, &sanitize(text), width, theme),
        CellKind::Shell {
            command,
            output,
            exit_code,
            ..
        } => render_shell(command, output.as_deref(), *exit_code, width, theme),
        CellKind::Todos { items } => wrap_lines(
            super::todo_list::checklist_lines(items, theme)
                .into_iter()
                .enumerate()
                .map(|(i, line)| (line, if i == 0 { 0 } else { 4 })),
            width,
        ),
        CellKind::Diffs { title, diffs } => {
            let mut lines = vec![Line::from(Span::styled(
                title.clone(),
                theme.style(Role::Accent).add_modifier(Modifier::BOLD),
            ))];
            for diff in diffs {
                lines.extend(indented(render_diff(&sanitize(diff), theme), 2, width));
            }
            lines
        }
    }
}

/// Each text line after `prefix` (first line) or as many spaces (the others).
fn prefixed(text: &str, prefix: &str, style: Style, width: usize) -> Vec<Line<'static>> {
    let pad = " ".repeat(prefix.chars().count());
    let hang = pad.len();
    wrap_lines(
        text.trim_end_matches('\n')
            .split('\n')
            .enumerate()
            .map(|(i, line)| {
                let lead = if i == 0 {
                    prefix.to_string()
                } else {
                    pad.clone()
                };
                (
                    Line::from(vec![
                        Span::styled(lead, style),
                        Span::styled(line.to_string(), style),
                    ]),
                    hang,
                )
            }),
        width,
    )
}

/// Lines indented by `by` spaces and wrapped under the indent.
fn indented(lines: Vec<Line<'static>>, by: usize, width: usize) -> Vec<Line<'static>> {
    let pad = " ".repeat(by);
    wrap_lines(
        lines.into_iter().map(|mut line| {
            line.spans.insert(0, Span::raw(pad.clone()));
            (line, by)
        }),
        width,
    )
}

fn render_thinking(text: &str, expanded: bool, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let style = theme.style(Role::Thinking);
    let body = text.trim_matches('\n');
    let count = if body.is_empty() {
        0
    } else {
        body.split('\n').count()
    };
    if !expanded {
        let noun = if count == 1 { "line" } else { "lines" };
        let header = format!("▸ Thinking ({count} {noun}) · ctrl-t to expand");
        return wrap_line(&Line::from(Span::styled(header, style)), width, 2);
    }
    let mut lines = vec![Line::from(Span::styled("▾ Thinking", style))];
    if count > 0 {
        lines.extend(indented(
            body.split('\n')
                .map(|l| Line::from(Span::styled(l.to_string(), style)))
                .collect(),
            2,
            width,
        ));
    }
    lines
}

fn render_tool(tool: &ToolCell, width: usize, ctx: &RenderCtx<'_>) -> Vec<Line<'static>> {
    let theme = ctx.theme;
    let (icon, icon_style) = match tool.status {
        ToolStatus::Running => ("○", theme.style(Role::Accent)),
        ToolStatus::Done {
            is_error: false, ..
        } => ("✓", theme.style(Role::Success)),
        ToolStatus::Done { is_error: true, .. } => ("✗", theme.style(Role::Error)),
    };
    let mut header = vec![
        Span::styled(icon, icon_style),
        Span::raw(" "),
        Span::styled(tool.name.clone(), theme.style(Role::Tool)),
    ];
    if !tool.key_argument.is_empty() {
        header.push(Span::raw(" "));
        header.push(Span::styled(
            tool.key_argument.clone(),
            theme.style(Role::Text),
        ));
    }
    // No time is shown for calls that took none to measure (a resumed session's history).
    let meta = match tool.status {
        ToolStatus::Running => "running…".to_string(),
        ToolStatus::Done { duration_ms: 0, .. } => String::new(),
        ToolStatus::Done { duration_ms, .. } => format_duration_ms(duration_ms),
    };
    if !meta.is_empty() {
        header.push(Span::styled(format!("  {meta}"), theme.style(Role::Dim)));
    }
    if let Some(diff) = &tool.diff {
        let (add, remove) = diff_stats(diff);
        header.push(Span::styled(format!(" +{add}"), theme.style(Role::DiffAdd)));
        header.push(Span::styled(
            format!(" -{remove}"),
            theme.style(Role::DiffRemove),
        ));
    }
    let mut lines = wrap_line(&Line::from(header), width, 2);
    let summary = sanitize(&tool.summary);
    let summary = summary.trim();
    if !summary.is_empty() {
        let style = if matches!(tool.status, ToolStatus::Done { is_error: true, .. }) {
            theme.style(Role::Error)
        } else {
            theme.style(Role::Dim)
        };
        lines.extend(wrap_line(
            &Line::from(vec![
                Span::styled("  └ ", theme.style(Role::Dim)),
                Span::styled(summary.to_string(), style),
            ]),
            width,
            4,
        ));
    }
    if let Some(diff) = &tool.diff {
        lines.extend(indented(render_diff(&sanitize(diff), theme), 4, width));
    }
    if ctx.expand_tools && !tool.output.trim().is_empty() {
        let output = sanitize(&tool.output);
        lines.extend(indented(
            output
                .trim_end_matches('\n')
                .split('\n')
                .map(|l| Line::from(Span::styled(l.to_string(), theme.style(Role::Dim))))
                .collect(),
            4,
            width,
        ));
    }
    lines
}

fn render_notice(
    level: NoticeLevel,
    text: &str,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let (icon, style) = match level {
        NoticeLevel::Info => ("• ", theme.style(Role::Dim)),
        NoticeLevel::Warning => ("⚠ ", theme.style(Role::Warning)),
        NoticeLevel::Error => ("✗ ", theme.style(Role::Error)),
    };
    let body = match level {
        NoticeLevel::Info => render_markdown(text, width.saturating_sub(2).max(1), theme),
        _ => wrap_lines(
            text.trim_end_matches('\n')
                .split('\n')
                .map(|l| (Line::from(Span::styled(l.to_string(), style)), 0)),
            width.saturating_sub(2).max(1),
        ),
    };
    body.into_iter()
        .enumerate()
        .map(|(i, mut line)| {
            let lead = if i == 0 { icon } else { "  " };
            line.spans.insert(0, Span::styled(lead, style));
            line
        })
        .collect()
}

fn render_shell(
    command: &str,
    output: Option<&str>,
    exit_code: Option<i32>,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut header = vec![
        Span::styled("$ ", theme.style(Role::Accent)),
        Span::styled(
            sanitize(command).into_owned(),
            theme.style(Role::Text).add_modifier(Modifier::BOLD),
        ),
    ];
    match (output, exit_code) {
        (None, _) => header.push(Span::styled("  running…", theme.style(Role::Dim))),
        (Some(_), Some(0)) => {}
        (Some(_), Some(code)) => header.push(Span::styled(
            format!("  exit {code}"),
            theme.style(Role::Error),
        )),
        (Some(_), None) => header.push(Span::styled("  failed", theme.style(Role::Error))),
    }
    let mut lines = wrap_line(&Line::from(header), width, 2);
    if let Some(output) = output {
        let output = sanitize(output);
        let body = output.trim_end_matches('\n');
        if !body.is_empty() {
            lines.extend(indented(
                body.split('\n')
                    .map(|l| Line::from(Span::styled(l.to_string(), theme.style(Role::Dim))))
                    .collect(),
                2,
                width,
            ));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(theme: &Theme) -> RenderCtx<'_> {
        RenderCtx {
            theme,
            show_thinking: false,
            expand_tools: false,
        }
    }

    fn text(lines: &CellLines) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn cache_is_reused_and_dropped_on_change() {
        let theme = Theme::monochrome();
        let mut cell = Cell::new(CellKind::Assistant {
            text: "hello".into(),
            streaming: true,
        });
        let first = cell.lines(20, &ctx(&theme));
        assert!(first.same_render(&cell.lines(20, &ctx(&theme))));
        assert!(!first.same_render(&cell.lines(30, &ctx(&theme))));
        if let CellKind::Assistant { text, .. } = cell.kind_mut() {
            text.push_str(" world");
        }
        assert_eq!(text(&cell.lines(30, &ctx(&theme))), ["hello world", ""]);
    }

    #[test]
    fn streamed_answer_renders_like_the_finished_one() {
        let theme = Theme::dark();
        let full =
            "Intro *text*\n\n```rust\nfn a() {}\n```\n- one\n- two that is long enough to wrap";
        let mut cell = Cell::new(CellKind::Assistant {
            text: String::new(),
            streaming: true,
        });
        for piece in full.as_bytes().chunks(3) {
            if let CellKind::Assistant { text, .. } = cell.kind_mut() {
                text.push_str(std::str::from_utf8(piece).expect("ascii"));
            }
            cell.lines(24, &ctx(&theme));
        }
        let streamed = cell.lines(24, &ctx(&theme));
        let finished = Cell::new(CellKind::Assistant {
            text: full.into(),
            streaming: false,
        });
        assert_eq!(streamed.to_vec(), finished.lines(24, &ctx(&theme)).to_vec());
    }

    #[test]
    fn thinking_collapses_when_finished() {
        let theme = Theme::monochrome();
        let live = Cell::new(CellKind::Thinking {
            text: "a\nb".into(),
            streaming: true,
        });
        assert_eq!(
            text(&live.lines(40, &ctx(&theme))),
            ["▾ Thinking", "  a", "  b", ""]
        );
        let done = Cell::new(CellKind::Thinking {
            text: "a\nb".into(),
            streaming: false,
        });
        assert_eq!(
            text(&done.lines(40, &ctx(&theme))),
            ["▸ Thinking (2 lines) · ctrl-t to expand", ""]
        );
    }

    #[test]
    fn tool_output_only_when_expanded() {
        let theme = Theme::monochrome();
        let cell = Cell::new(CellKind::Tool(ToolCell {
            call_id: "1".into(),
            name: "read".into(),
            key_argument: "a.rs".into(),
            status: ToolStatus::Done {
                is_error: false,
                duration_ms: 12,
            },
            summary: "3 lines".into(),
            output: "one\ntwo".into(),
            diff: None,
        }));
        assert_eq!(
            text(&cell.lines(40, &ctx(&theme))),
            ["✓ read a.rs  12ms", "  └ 3 lines", ""]
        );
        let expanded = RenderCtx {
            expand_tools: true,
            ..ctx(&theme)
        };
        assert_eq!(
            text(&cell.lines(40, &expanded)),
            ["✓ read a.rs  12ms", "  └ 3 lines", "    one", "    two", ""]
        );
    }
}
