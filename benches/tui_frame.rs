//! Frame time of the TUI: one frame of a 10,000-line transcript into a 120x40 `TestBackend`.
//!
//! `warm`: caches filled (the steady state while the user scrolls or a spinner animates).
//! `streaming`: one text delta appended to the last answer, then a frame (the streaming case).
//! `cold`: a fresh width after a resize: following the stream only the visible cells are
//! rendered; scrolled up, every cell is (its height is needed for the scroll position).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly on bad fixtures"
)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use gem::protocol::{Event, TurnEnd};
use gem::tui::{App, Theme, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;
const TARGET_LINES: usize = 10_000;

const ANSWER: &str = "## Plan\n\nThe `parse` function **drops** the last token when the input ends without a newline.\n\n- read `src/lexer.rs`\n- add a test for input without a trailing newline\n- fix the loop bound\n\n```rust\nfn parse(input: &str) -> Vec<Token> {\n    let mut tokens = Vec::new();\n    for (i, c) in input.char_indices() {\n        tokens.push(Token::new(i, c));\n    }\n    tokens\n}\n```\n\nThat keeps the public API unchanged, as the issue asks.";

const DIFF: &str = "--- a/src/lexer.rs\n+++ b/src/lexer.rs\n@@ -10,7 +10,7 @@ impl Lexer {\n     fn next(&mut self) -> Option<Token> {\n-        if self.pos + 1 >= self.len {\n+        if self.pos >= self.len {\n             return None;\n         }\n         let c = self.bytes[self.pos];\n";

/// An app whose transcript renders to at least `TARGET_LINES` lines at `WIDTH`.
fn big_app() -> App {
    let mut app = App::new(
        Theme::dark(),
        "gemma-4-E4B Q4_K_M".into(),
        PathBuf::from("."),
        gem::agent::Mode::Ask,
    );
    app.resize(WIDTH, HEIGHT);
    let mut turn = 0;
    while app.transcript.total_height(WIDTH, &app.render_ctx()) < TARGET_LINES {
        turn += 1;
        let events = vec![
            Event::TurnStarted { turn },
            Event::ThinkingDelta {
                delta: "The user wants the lexer fixed.\nLook at the loop bound first.".into(),
            },
            Event::ToolCallBegin {
                call_id: format!("r{turn}"),
                name: "read".into(),
                arguments: serde_json::json!({"path": "src/lexer.rs"}),
            },
            Event::ToolCallEnd {
                call_id: format!("r{turn}"),
                name: "read".into(),
                summary: "120 lines".into(),
                outcome: gem::protocol::ToolOutcome::Ok,
                diff: None,
                output: "fn main() {}\n".repeat(120),
                duration_ms: 4,
            },
            Event::ToolCallBegin {
                call_id: format!("e{turn}"),
                name: "edit".into(),
                arguments: serde_json::json!({"path": "src/lexer.rs"}),
            },
            Event::ToolCallEnd {
                call_id: format!("e{turn}"),
                name: "edit".into(),
                summary: "1 replacement".into(),
                outcome: gem::protocol::ToolOutcome::Ok,
                diff: Some(DIFF.into()),
                output: "ok".into(),
                duration_ms: 2,
            },
            Event::TextDelta {
                delta: ANSWER.into(),
            },
            Event::TurnComplete {
                reason: TurnEnd::Completed,
                final_text: String::new(),
            },
        ];
        for event in events {
            app.handle_event(event);
        }
    }
    app.handle_event(Event::TurnStarted { turn: turn + 1 });
    app.handle_event(Event::TextDelta {
        delta: "Streaming: ".into(),
    });
    app
}

fn bench_frame(c: &mut Criterion) {
    let mut app = big_app();
    let lines = app.transcript.total_height(WIDTH, &app.render_ctx());
    eprintln!(
        "transcript: {} cells, {lines} lines at {WIDTH} columns",
        app.transcript.cells().len()
    );
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("test backend");
    terminal.draw(|frame| render(&app, frame)).expect("draw");

    c.bench_function("tui_frame/warm_10k_lines_120x40", |b| {
        b.iter(|| {
            terminal
                .draw(|frame| render(black_box(&app), frame))
                .expect("draw");
        })
    });

    // Deltas of a few characters, cycling through a realistic answer (text keeps growing).
    let deltas: Vec<String> = ANSWER
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect();
    let mut next = deltas.iter().cycle();
    c.bench_function("tui_frame/streaming_delta_10k_lines_120x40", |b| {
        b.iter(|| {
            let delta = next.next().cloned().unwrap_or_default();
            app.handle_event(Event::TextDelta { delta });
            terminal
                .draw(|frame| render(black_box(&app), frame))
                .expect("draw");
        })
    });

    // A fresh transcript: the streaming benchmark above grew the last answer a lot.
    let mut app = big_app();
    let mut group = c.benchmark_group("tui_frame_cold");
    group.sample_size(10);
    for scrolled in [false, true] {
        if scrolled {
            // Scrolled up, the view needs every cell's height: every cell is rendered again.
            app.handle_key(KeyEvent::new(KeyCode::PageUp, KeyModifiers::NONE));
        }
        let name = if scrolled {
            "resize_scrolled_up"
        } else {
            "resize_following"
        };
        let mut width = WIDTH;
        group.bench_function(name, |b| {
            b.iter(|| {
                // Alternate widths so no cached rendering fits.
                width = if width == WIDTH { WIDTH - 1 } else { WIDTH };
                terminal.backend_mut().resize(width, HEIGHT);
                terminal
                    .draw(|frame| render(black_box(&app), frame))
                    .expect("draw");
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_frame);
criterion_main!(benches);
