//! The status line: model, mode, context use, cache reuse, speed, and a spinner while working.

use std::time::{Duration, Instant};

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::format::{format_tokens, truncate_chars};
use super::theme::Theme;
use crate::protocol::TokenUsage;

/// Spinner frames, one per [`SPINNER_FRAME`].
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
/// How long one spinner frame shows.
pub const SPINNER_FRAME: Duration = Duration::from_millis(80);

/// What the status line shows.
#[derive(Debug, Clone, Default)]
pub struct StatusInfo {
    /// The model, e.g. `gemma-4-E4B Q4_K_M`.
    pub model_line: String,
    /// Permission mode.
    pub mode: String,
    /// Context window in tokens (0 while unknown).
    pub context_size: usize,
    /// Usage of the last generation.
    pub last_usage: Option<TokenUsage>,
    /// Tokens the context holds, as last reported (start, generation, compaction, clear).
    pub context_tokens: Option<usize>,
    /// Prefill progress (done, total) while a long prompt is processed.
    pub prefill: Option<(usize, usize)>,
    /// When the current turn (or compaction) started.
    pub busy_since: Option<Instant>,
    /// What the agent is busy with, e.g. `working`.
    pub busy_label: String,
    /// A transient hint, e.g. `ctrl-c again to quit`.
    pub hint: Option<String>,
    /// Reading the repository in at launch: progress (done, total) and when it began.
    pub warm_up: Option<(usize, usize, Instant)>,
}

impl StatusInfo {
    /// Context used: as last reported, else the last generation's prompt plus output.
    pub fn context_used(&self) -> Option<usize> {
        self.context_tokens.or_else(|| {
            self.last_usage
                .map(|u| u.prompt_tokens + u.generated_tokens)
        })
    }

    /// Share of the last prompt that was reused from the KV cache, in percent.
    pub fn cache_hit_percent(&self) -> Option<usize> {
        let usage = self.last_usage?;
        let total = usage.reused_tokens + usage.prefilled_tokens;
        (total > 0).then(|| usage.reused_tokens * 100 / total)
    }

    /// Generation speed of the last generation.
    pub fn tokens_per_second(&self) -> Option<f64> {
        let usage = self.last_usage?;
        (usage.generation_ms > 0 && usage.generated_tokens > 0)
            .then(|| usage.generated_tokens as f64 * 1000.0 / usage.generation_ms as f64)
    }
}

/// `reading the repository in 40% · ~1m 30s left · esc stops`: the time left extrapolated
/// from the speed so far (none before the first chunk).
fn warm_up_text(done: usize, total: usize, elapsed: std::time::Duration) -> String {
    let percent = done.min(total) * 100 / total.max(1);
    let mut text = format!("reading the repository in {percent}%");
    if done > 0 && done < total && elapsed.as_millis() > 0 {
        let left_secs = elapsed.as_secs_f64() * (total - done) as f64 / done as f64;
        let left = left_secs.round() as u64;
        if left >= 60 {
            text.push_str(&format!(" · ~{}m {}s left", left / 60, left % 60));
        } else {
            text.push_str(&format!(" · ~{left}s left"));
        }
    }
    text.push_str(" · esc stops");
    text
}

/// Draws the status line into the one-row `area`.
pub fn render_status(
    status: &StatusInfo,
    now: Instant,
    area: Rect,
    buf: &mut Buffer,
    theme: &Theme,
) {
    let base = theme.status_style();
    buf.set_style(area, base);
    // (priority, text); lower priority is dropped first when the line does not fit.
    let mut segments: Vec<(u8, String)> = Vec::new();
    if let Some(hint) = &status.hint {
        segments.push((9, hint.clone()));
    }
    if let Some((done, total, since)) = status.warm_up
        && status.busy_since.is_none()
    {
        segments.push((
            8,
            warm_up_text(done, total, now.saturating_duration_since(since)),
        ));
    }
    if let Some(since) = status.busy_since {
        let elapsed = now.saturating_duration_since(since);
        let frame = (elapsed.as_millis() / SPINNER_FRAME.as_millis()) as usize % SPINNER.len();
        let mut text = format!(
            "{} {} {}s",
            SPINNER[frame],
            status.busy_label,
            elapsed.as_secs()
        );
        if let Some((done, total)) = status.prefill
            && total > 0
        {
            text.push_str(&format!(" · prefill {}%", done.min(total) * 100 / total));
        }
        segments.push((8, text));
    }
    segments.push((5, truncate_chars(&status.model_line, 40)));
    if !status.mode.is_empty() {
        // Plan mode stands out: the model only investigates and plans.
        let mode = if status.mode == "plan" {
            "⏸ plan mode".to_string()
        } else {
            status.mode.clone()
        };
        segments.push((6, mode));
        segments.push((2, "⇧⇥ mode".to_string()));
    }
    let used = status.context_used().unwrap_or(0);
    if let Some(percent) = (used * 100).checked_div(status.context_size) {
        segments.push((
            7,
            format!(
                "ctx {}/{} {}%",
                format_tokens(used),
                format_tokens(status.context_size),
                percent
            ),
        ));
    }
    if let (Some(usage), Some(hit)) = (status.last_usage, status.cache_hit_percent()) {
        segments.push((
            3,
            format!(
                "cache {hit}% ({} reused, {} new)",
                format_tokens(usage.reused_tokens),
                format_tokens(usage.prefilled_tokens)
            ),
        ));
    }
    if let Some(speed) = status.tokens_per_second() {
        segments.push((4, format!("{speed:.1} tok/s")));
    }
    let width = usize::from(area.width);
    let separator = " │ ";
    let fits = |segments: &[(u8, String)]| {
        let text: usize = segments
            .iter()
            .map(|(_, s)| super::wrap::str_width(s))
            .sum();
        1 + text + separator.len() * segments.len().saturating_sub(1) <= width
    };
    while segments.len() > 1 && !fits(&segments) {
        if let Some(lowest) = segments
            .iter()
            .enumerate()
            .min_by_key(|(_, (p, _))| *p)
            .map(|(i, _)| i)
        {
            segments.remove(lowest);
        }
    }
    let mut spans = vec![Span::raw(" ")];
    for (i, (priority, text)) in segments.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(separator, base.add_modifier(Modifier::DIM)));
        }
        let style = if priority >= 8 {
            base.add_modifier(Modifier::BOLD)
        } else {
            base
        };
        spans.push(Span::styled(text, style));
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage() -> TokenUsage {
        TokenUsage {
            prompt_tokens: 12_000,
            reused_tokens: 11_400,
            prefilled_tokens: 600,
            generated_tokens: 300,
            prefill_ms: 500,
            generation_ms: 10_000,
            context_size: 131_072,
        }
    }

    #[test]
    fn reading_in_shows_the_share_and_the_time_left_from_the_speed_so_far() {
        use std::time::Duration;
        assert_eq!(
            warm_up_text(0, 1000, Duration::ZERO),
            "reading the repository in 0% · esc stops"
        );
        assert_eq!(
            warm_up_text(250, 1000, Duration::from_secs(30)),
            "reading the repository in 25% · ~1m 30s left · esc stops"
        );
        assert_eq!(
            warm_up_text(900, 1000, Duration::from_secs(45)),
            "reading the repository in 90% · ~5s left · esc stops"
        );
    }

    #[test]
    fn derived_numbers() {
        let status = StatusInfo {
            last_usage: Some(usage()),
            ..StatusInfo::default()
        };
        assert_eq!(status.context_used(), Some(12_300));
        assert_eq!(status.cache_hit_percent(), Some(95));
        assert_eq!(status.tokens_per_second(), Some(30.0));
    }

    #[test]
    fn narrow_status_drops_low_priority_segments() {
        let status = StatusInfo {
            model_line: "gemma-4-E4B Q4_K_M".into(),
            mode: "ask".into(),
            context_size: 131_072,
            last_usage: Some(usage()),
            ..StatusInfo::default()
        };
        let area = Rect::new(0, 0, 30, 1);
        let mut buf = Buffer::empty(area);
        render_status(
            &status,
            Instant::now(),
            area,
            &mut buf,
            &Theme::monochrome(),
        );
        let row: String = (0..30).map(|x| buf[(x, 0)].symbol()).collect();
        assert_eq!(row.trim_end(), " ask │ ctx 12.3k/131.1k 9%");
    }

    #[test]
    fn plan_mode_stands_out_and_the_cycle_key_is_named_when_it_fits() {
        let status = StatusInfo {
            model_line: "gemma-4-E4B Q4_K_M".into(),
            mode: "plan".into(),
            ..StatusInfo::default()
        };
        let row = |width: u16| {
            let area = Rect::new(0, 0, width, 1);
            let mut buf = Buffer::empty(area);
            render_status(
                &status,
                Instant::now(),
                area,
                &mut buf,
                &Theme::monochrome(),
            );
            (0..width)
                .map(|x| buf[(x, 0)].symbol().to_string())
                .collect::<String>()
        };
        assert_eq!(
            row(60).trim_end(),
            " gemma-4-E4B Q4_K_M │ ⏸ plan mode │ ⇧⇥ mode"
        );
        assert_eq!(row(40).trim_end(), " gemma-4-E4B Q4_K_M │ ⏸ plan mode");
    }
}
