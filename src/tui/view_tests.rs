//! Snapshot tests of every view, drawn into ratatui's `TestBackend`.

use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::app::App;
use super::render::render;
use super::theme::{Role, Theme};
use crate::protocol::{Event, TokenUsage, ToolOutcome, TurnEnd};

const DIFF: &str = "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,4 +1,4 @@\n pub fn add(a: i32, b: i32) -> i32 {\n-    a - b\n+    a + b\n }\n";

fn app() -> App {
    let mut app = App::new(
        Theme::dark(),
        "gemma-4-E4B Q4_K_M".into(),
        std::env::temp_dir(),
        crate::agent::Mode::Ask,
    );
    app.resize(80, 20);
    app
}

fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    terminal.draw(|frame| render(app, frame)).expect("draw");
    terminal
}

fn feed(app: &mut App, events: Vec<Event>) {
    for event in events {
        app.handle_event(event);
    }
}

/// Moves the clock past an approval overlay's grace period.
fn past_grace(app: &mut App) {
    app.tick(app.now() + Duration::from_secs(1));
}

fn usage() -> TokenUsage {
    TokenUsage {
        prompt_tokens: 8_200,
        reused_tokens: 7_900,
        prefilled_tokens: 300,
        generated_tokens: 412,
        prefill_ms: 240,
        generation_ms: 9_800,
        context_size: 32_768,
    }
}

fn user_turn(app: &mut App, text: &str) {
    app.composer.set_text(text);
    app.handle_key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Enter,
        crossterm::event::KeyModifiers::NONE,
    ));
}

#[test]
fn empty() {
    insta::assert_snapshot!(draw(&app(), 80, 12).backend());
}

#[test]
fn streaming_thinking() {
    let mut app = app();
    user_turn(&mut app, "Why does the test fail?");
    feed(
        &mut app,
        vec![
            Event::TurnStarted { turn: 1 },
            Event::ThinkingDelta {
                delta: "The test compares `add(2, 2)` with 4.\n".into(),
            },
            Event::ThinkingDelta {
                delta: "Let me read src/lib.rs to see the implementation".into(),
            },
        ],
    );
    app.tick(app.now() + Duration::from_secs(3));
    insta::assert_snapshot!(draw(&app, 80, 14).backend());
}

#[test]
fn collapsed_thinking() {
    let mut app = app();
    user_turn(&mut app, "Why does the test fail?");
    feed(
        &mut app,
        vec![
            Event::TurnStarted { turn: 1 },
            Event::ThinkingDelta {
                delta: "line one\nline two\nline three".into(),
            },
            Event::TextDelta {
                delta: "The function **subtracts** instead of adding.".into(),
            },
            Event::TokenUsage { usage: usage() },
            Event::TurnComplete {
                reason: TurnEnd::Completed,
                final_text: String::new(),
            },
        ],
    );
    insta::assert_snapshot!(draw(&app, 80, 12).backend());
}

#[test]
fn markdown_with_code() {
    let mut app = app();
    feed(&mut app, vec![
        Event::TurnStarted { turn: 1 },
        Event::TextDelta {
            delta: "## Fix\n\nChange `a - b` to `a + b`:\n\n```rust\npub fn add(a: i32, b: i32) -> i32 {\n    a + b // was: a - b\n}\n```\n\n1. Edit *src/lib.rs*\n2. Run `cargo test`\n\n> Tests pass afterwards.".into(),
        },
        Event::TurnComplete { reason: TurnEnd::Completed, final_text: String::new() },
    ]);
    let terminal = draw(&app, 80, 20);
    // The code is highlighted: its keyword and identifier columns differ in colour.
    let buffer = terminal.backend().buffer();
    let row = (0..20)
        .find(|&y| buffer[(0, y)].symbol() == "p" && buffer[(1, y)].symbol() == "u")
        .expect("code row");
    assert_ne!(
        buffer[(0, row)].fg,
        buffer[(11, row)].fg,
        "syntax colours differ"
    );
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn tool_cells() {
    let mut app = app();
    feed(
        &mut app,
        vec![
            Event::TurnStarted { turn: 1 },
            Event::ToolCallBegin {
                call_id: "1".into(),
                name: "read".into(),
                arguments: serde_json::json!({"path": "src/lib.rs"}),
            },
            Event::ToolCallEnd {
                call_id: "1".into(),
                name: "read".into(),
                summary: "read 42 lines".into(),
                outcome: ToolOutcome::Ok,
                diff: None,
                output: "pub fn add(a: i32, b: i32) -> i32 {\n    a - b\n}".into(),
                duration_ms: 3,
            },
            Event::ToolCallBegin {
                call_id: "2".into(),
                name: "shell".into(),
                arguments: serde_json::json!({"command": "cargo test --quiet"}),
            },
            Event::ToolCallEnd {
                call_id: "2".into(),
                name: "shell".into(),
                summary: "exit 101: 1 test failed".into(),
                outcome: ToolOutcome::Error,
                diff: None,
                output: "test add ... FAILED".into(),
                duration_ms: 2_350,
            },
            Event::ToolCallBegin {
                call_id: "3".into(),
                name: "grep".into(),
                arguments: serde_json::json!({"pattern": "fn add"}),
            },
        ],
    );
    insta::assert_snapshot!("tool_cells_collapsed", draw(&app, 80, 14).backend());
    app.handle_key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('o'),
        crossterm::event::KeyModifiers::CONTROL,
    ));
    insta::assert_snapshot!("tool_cells_expanded", draw(&app, 80, 16).backend());
}

#[test]
fn diff() {
    let mut app = app();
    feed(
        &mut app,
        vec![
            Event::TurnStarted { turn: 1 },
            Event::ToolCallBegin {
                call_id: "e1".into(),
                name: "edit".into(),
                arguments: serde_json::json!({"path": "src/lib.rs"}),
            },
            Event::ToolCallEnd {
                call_id: "e1".into(),
                name: "edit".into(),
                summary: "1 replacement".into(),
                outcome: ToolOutcome::Ok,
                diff: Some(DIFF.into()),
                output: "ok".into(),
                duration_ms: 1,
            },
        ],
    );
    let terminal = draw(&app, 80, 14);
    let buffer = terminal.backend().buffer();
    let theme = Theme::dark();
    let colour_of_row_starting = |prefix: &str| {
        (0..14).find_map(|y| {
            let row: String = (0..80).map(|x| buffer[(x, y)].symbol()).collect();
            row.trim_start()
                .starts_with(prefix)
                .then(|| buffer[(4, y)].fg)
        })
    };
    assert_eq!(
        colour_of_row_starting("-    a - b"),
        theme.colour(Role::DiffRemove)
    );
    assert_eq!(
        colour_of_row_starting("+    a + b"),
        theme.colour(Role::DiffAdd)
    );
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn approval_overlay() {
    let mut app = app();
    user_turn(&mut app, "clean the build");
    feed(
        &mut app,
        vec![
            Event::TurnStarted { turn: 1 },
            Event::ApprovalRequest {
                call_id: "s1".into(),
                name: "shell".into(),
                preview: "rm -rf target/debug".into(),
                editable_command: true,
                always: Some("always allow: rm -rf target/debug".into()),
            },
        ],
    );
    insta::assert_snapshot!("approval_command", draw(&app, 80, 14).backend());
    feed(
        &mut app,
        vec![Event::ApprovalRequest {
            call_id: "e2".into(),
            name: "edit".into(),
            preview: DIFF.into(),
            editable_command: false,
            always: Some("always allow edits in this session".into()),
        }],
    );
    past_grace(&mut app);
    app.handle_key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('y'),
        crossterm::event::KeyModifiers::NONE,
    ));
    let terminal = draw(&app, 80, 16);
    let buffer = terminal.backend().buffer();
    let add = Theme::dark().colour(Role::DiffAdd);
    assert!(
        (0..80).any(|x| (0..16).any(|y| Some(buffer[(x, y)].fg) == add)),
        "diff preview is coloured"
    );
    insta::assert_snapshot!("approval_diff", terminal.backend());
}

#[test]
fn command_popup() {
    let mut app = app();
    app.composer.set_text("/c");
    insta::assert_snapshot!(draw(&app, 80, 14).backend());
}

#[test]
fn file_picker() {
    let mut app = app();
    app.set_files(vec![
        "Cargo.toml".into(),
        "README.md".into(),
        "src/lib.rs".into(),
        "src/main.rs".into(),
        "src/tui/app.rs".into(),
        "tests/cli.rs".into(),
    ]);
    app.composer.set_text("explain @srs");
    insta::assert_snapshot!(draw(&app, 80, 14).backend());
}

#[test]
fn status_line() {
    let mut app = app();
    feed(
        &mut app,
        vec![
            Event::SessionConfigured {
                session_id: "2026-11-28-abc".into(),
                model: "gemma-4-E4B-it Q4_K_M, 4.5B params".into(),
                mode: crate::agent::Mode::AutoEdit,
                context_size: 32_768,
                context_tokens: 9_000,
            },
            Event::TokenUsage { usage: usage() },
            Event::TurnStarted { turn: 2 },
            Event::PrefillProgress {
                done: 1_500,
                total: 6_000,
            },
        ],
    );
    app.tick(app.now() + Duration::from_millis(12_400));
    insta::assert_snapshot!("status_working", draw(&app, 120, 6).backend());
    feed(
        &mut app,
        vec![Event::TurnComplete {
            reason: TurnEnd::Completed,
            final_text: String::new(),
        }],
    );
    insta::assert_snapshot!("status_idle", draw(&app, 120, 6).backend());
}

#[test]
fn narrow_terminal() {
    let mut app = app();
    app.resize(40, 20);
    user_turn(
        &mut app,
        "Rename the function `add` to `sum` everywhere, please — 日本語 too.",
    );
    feed(&mut app, vec![
        Event::TurnStarted { turn: 1 },
        Event::ThinkingDelta { delta: "Find the callers first.".into() },
        Event::ToolCallBegin {
            call_id: "g".into(),
            name: "grep".into(),
            arguments: serde_json::json!({"pattern": "add("}),
        },
        Event::ToolCallEnd {
            call_id: "g".into(),
            name: "grep".into(),
            summary: "3 matches in 2 files".into(),
            outcome: ToolOutcome::Ok,
            diff: None,
            output: String::new(),
            duration_ms: 14,
        },
        Event::TextDelta { delta: "Renamed in **2 files**; the long explanation wraps at word boundaries on narrow terminals.".into() },
        Event::TokenUsage { usage: usage() },
        Event::TurnComplete { reason: TurnEnd::Completed, final_text: String::new() },
    ]);
    app.composer
        .set_text("a long draft message that wraps inside the composer box");
    insta::assert_snapshot!(draw(&app, 40, 20).backend());
}

#[test]
fn scrolled_up_shows_marker() {
    let mut app = app();
    for i in 0..40 {
        app.handle_event(Event::Warning {
            message: format!("warning number {i}"),
        });
    }
    app.handle_key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::PageUp,
        crossterm::event::KeyModifiers::NONE,
    ));
    insta::assert_snapshot!(draw(&app, 80, 20).backend());
}

#[test]
fn approval_editing_command() {
    let mut app = app();
    feed(
        &mut app,
        vec![
            Event::TurnStarted { turn: 1 },
            Event::ApprovalRequest {
                call_id: "s1".into(),
                name: "shell".into(),
                preview: "rm -rf target/debug".into(),
                editable_command: true,
                always: None,
            },
        ],
    );
    past_grace(&mut app);
    for code in [
        crossterm::event::KeyCode::Char('e'),
        crossterm::event::KeyCode::Backspace,
        crossterm::event::KeyCode::Backspace,
        crossterm::event::KeyCode::Backspace,
        crossterm::event::KeyCode::Backspace,
        crossterm::event::KeyCode::Backspace,
        crossterm::event::KeyCode::Char('*'),
    ] {
        app.handle_key(crossterm::event::KeyEvent::new(
            code,
            crossterm::event::KeyModifiers::NONE,
        ));
    }
    let mut terminal = draw(&app, 60, 12);
    insta::assert_snapshot!(terminal.backend());
    terminal.backend_mut().assert_cursor_position((18, 4));
}

#[test]
fn resumed_session_shows_its_history() {
    use crate::gemma::{
        Conversation, ModelPart, ModelTurn, ToolCall, ToolResponse, Turn, UserTurn,
    };
    let mut app = app();
    app.show_history(&Conversation {
        system: Some("system".into()),
        turns: vec![
            Turn::User(UserTurn {
                content: "fix add in lib.rs".into(),
            }),
            Turn::Model(ModelTurn {
                parts: vec![
                    ModelPart::ToolCall(ToolCall {
                        name: "edit_file".into(),
                        arguments: serde_json::json!({"path": "lib.rs", "old_string": "a - b", "new_string": "a + b"}),
                    }),
                    ModelPart::ToolResponse(ToolResponse {
                        name: "edit_file".into(),
                        response: serde_json::json!("edited lib.rs: 1 change"),
                    }),
                    ModelPart::Text("Fixed the sign in `add`.".into()),
                ],
            }),
        ],
    });
    insta::assert_snapshot!(draw(&app, 60, 12).backend());
}

#[test]
fn approval_overlay_scrolls_a_long_preview() {
    let mut app = app();
    let body: String = (1..=60).map(|i| format!("line {i}\n")).collect();
    feed(
        &mut app,
        vec![
            Event::TurnStarted { turn: 1 },
            Event::ApprovalRequest {
                call_id: "w1".into(),
                name: "write_file".into(),
                preview: body,
                editable_command: false,
                always: Some("always allow edits in this session".into()),
            },
        ],
    );
    insta::assert_snapshot!("approval_long_top", draw(&app, 60, 16).backend());
    past_grace(&mut app);
    for code in [
        crossterm::event::KeyCode::PageDown,
        crossterm::event::KeyCode::Down,
    ] {
        app.handle_key(crossterm::event::KeyEvent::new(
            code,
            crossterm::event::KeyModifiers::NONE,
        ));
    }
    let terminal = draw(&app, 60, 16);
    let text = format!("{:?}", terminal.backend());
    assert!(text.contains("line 12"), "scrolled 11 rows: {text}");
    assert!(!text.contains("line 1 "), "the first line scrolled away");
    insta::assert_snapshot!("approval_long_scrolled", terminal.backend());
    app.handle_key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::End,
        crossterm::event::KeyModifiers::NONE,
    ));
    let text = format!("{:?}", draw(&app, 60, 16).backend());
    assert!(text.contains("line 60"), "end shows the last line: {text}");
}

#[test]
fn mcp_approval() {
    let mut app = app();
    user_turn(&mut app, "add 2 and 3 with the test server");
    feed(
        &mut app,
        vec![
            Event::TurnStarted { turn: 1 },
            Event::ApprovalRequest {
                call_id: "m1".into(),
                name: "mcp__test__add".into(),
                preview: "MCP server `test`, tool `add`, arguments: {\"a\":2,\"b\":3}".into(),
                editable_command: false,
                always: Some("always allow mcp__test__add in this session".into()),
            },
        ],
    );
    past_grace(&mut app);
    insta::assert_snapshot!("mcp_approval", draw(&app, 80, 14).backend());
}

#[test]
fn mcp_listing() {
    let mut app = app();
    app.handle_event(Event::McpServers {
        servers: vec![
            crate::protocol::McpServerStatus {
                name: "fs".into(),
                state: "ready".into(),
                tools: vec![
                    "mcp__fs__list_directory".into(),
                    "mcp__fs__read_file".into(),
                ],
                log: Some("~/.cache/gem/mcp/fs.log".into()),
            },
            crate::protocol::McpServerStatus {
                name: "github".into(),
                state: "failed: no answer within 10 s".into(),
                tools: vec![],
                log: Some("~/.cache/gem/mcp/github.log".into()),
            },
        ],
    });
    insta::assert_snapshot!("mcp_listing", draw(&app, 80, 16).backend());
}

#[test]
fn plan_mode_status_and_approval() {
    let mut app = App::new(
        Theme::dark(),
        "gemma-4-E4B Q4_K_M".into(),
        std::env::temp_dir(),
        crate::agent::Mode::Plan,
    );
    app.resize(80, 20);
    insta::assert_snapshot!("plan_mode_status", draw(&app, 80, 6).backend());
    user_turn(&mut app, "Plan the fix for add");
    feed(
        &mut app,
        vec![
            Event::TurnStarted { turn: 1 },
            Event::TextDelta {
                delta: "`add` subtracts.\n\n1. In src/lib.rs change `a - b` to `a + b`.\n2. Run `cargo test`.".into(),
            },
            Event::TurnComplete {
                reason: TurnEnd::Completed,
                final_text: "`add` subtracts.".into(),
            },
        ],
    );
    let terminal = draw(&app, 80, 16);
    let buffer = terminal.backend().buffer();
    let accent = Theme::dark().colour(Role::Accent);
    assert!(
        (0..80).any(|x| (0..16)
            .any(|y| buffer[(x, y)].symbol() == "y" && Some(buffer[(x, y)].fg) == accent)),
        "the answer keys stand out"
    );
    insta::assert_snapshot!("plan_approval", terminal.backend());
}

#[test]
fn todo_checklist() {
    let mut app = app();
    user_turn(&mut app, "Fix add and its test");
    let todos = serde_json::json!({"todos": [
        {"content": "Read src/lib.rs", "status": "completed"},
        {"content": "Fix the sign in add", "status": "in_progress"},
        {"content": "Run cargo test", "status": "pending"},
    ]});
    feed(
        &mut app,
        vec![
            Event::TurnStarted { turn: 1 },
            Event::ToolCallBegin {
                call_id: "t1".into(),
                name: "todo_write".into(),
                arguments: todos,
            },
            Event::ToolCallEnd {
                call_id: "t1".into(),
                name: "todo_write".into(),
                summary: "3 todos: 1 completed, 1 in progress, 1 pending".into(),
                outcome: ToolOutcome::Ok,
                diff: None,
                output: "Todo list updated.".into(),
                duration_ms: 0,
            },
        ],
    );
    let terminal = draw(&app, 80, 18);
    let buffer = terminal.backend().buffer();
    let success = Theme::dark().colour(Role::Success);
    assert!(
        (0..80).any(|x| (0..18)
            .any(|y| buffer[(x, y)].symbol() == "☑" && Some(buffer[(x, y)].fg) == success)),
        "completed items are ticked in the success colour"
    );
    insta::assert_snapshot!("todo_checklist_working", terminal.backend());
    feed(
        &mut app,
        vec![Event::TurnComplete {
            reason: TurnEnd::Completed,
            final_text: String::new(),
        }],
    );
    insta::assert_snapshot!("todo_checklist_done", draw(&app, 80, 14).backend());
}

#[test]
fn steering_a_running_turn() {
    let mut app = app();
    user_turn(&mut app, "Fix add");
    feed(
        &mut app,
        vec![
            Event::TurnStarted { turn: 1 },
            Event::ToolCallBegin {
                call_id: "t1".into(),
                name: "read_file".into(),
                arguments: serde_json::json!({"path": "src/lib.rs"}),
            },
        ],
    );
    user_turn(&mut app, "Keep the signature");
    user_turn(&mut app, "and run the tests");
    feed(
        &mut app,
        vec![
            Event::ToolCallEnd {
                call_id: "t1".into(),
                name: "read_file".into(),
                summary: "3 lines".into(),
                outcome: ToolOutcome::Ok,
                diff: None,
                output: "pub fn add(a: i32, b: i32) -> i32 {\n    a - b\n}".into(),
                duration_ms: 3,
            },
            Event::SteerApplied {
                text: "Keep the signature".into(),
            },
            Event::TextDelta {
                delta: "The signature stays.".into(),
            },
        ],
    );
    insta::assert_snapshot!(draw(&app, 80, 18).backend());
}
