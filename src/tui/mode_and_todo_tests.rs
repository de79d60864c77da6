//! The App with Shift-Tab, plan mode's approval and the todo checklist: keys and agent events
//! in, actions and state out.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;

use super::app::{Action, App};
use super::cells::CellKind;
use super::plan_approval::CARRY_OUT;
use super::theme::Theme;
use crate::agent::Mode;
use crate::protocol::{Event, Op, ToolOutcome, TurnEnd};
use crate::tools::todo_write::{TodoItem, TodoStatus};

fn app(mode: Mode) -> App {
    App::new(
        Theme::monochrome(),
        "gemma-4-E4B Q4_K_M".into(),
        std::env::temp_dir(),
        mode,
    )
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn shift_tab() -> KeyEvent {
    KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.handle_key(key(KeyCode::Char(c)));
    }
}

fn set_mode(mode: Mode) -> Vec<Action> {
    vec![Action::Send(Op::SetMode { mode })]
}

fn last_kind(app: &App) -> Option<CellKind> {
    app.transcript.cells().last().map(|c| c.kind().clone())
}

/// Moves the clock past the question's grace period (keys typed as it appears stay out of it).
fn later(app: &mut App) {
    app.tick(app.now() + Duration::from_secs(1));
}

/// Sends `text` and lets the turn end with `answer`.
fn turn(app: &mut App, text: &str, answer: &str) -> Vec<Action> {
    type_text(app, text);
    app.handle_key(key(KeyCode::Enter));
    app.handle_event(Event::TurnStarted { turn: 1 });
    app.handle_event(Event::TextDelta {
        delta: answer.into(),
    });
    app.handle_event(Event::TurnComplete {
        reason: TurnEnd::Completed,
        final_text: answer.into(),
    })
}

#[test]
fn shift_tab_cycles_ask_auto_edit_plan_and_shows_each_at_once() {
    let mut app = app(Mode::Ask);
    let cells = app.transcript.cells().len();
    assert_eq!(app.handle_key(shift_tab()), set_mode(Mode::AutoEdit));
    assert_eq!(app.status.mode, "auto-edit");
    assert_eq!(app.handle_key(shift_tab()), set_mode(Mode::Plan));
    assert_eq!(app.status.mode, "plan");
    assert_eq!(app.handle_key(shift_tab()), set_mode(Mode::Ask));
    assert_eq!(app.status.mode, "ask");
    // The agent confirms each switch later; the status line does not flicker back.
    app.handle_event(Event::ModeChanged {
        mode: Mode::AutoEdit,
    });
    assert_eq!(app.status.mode, "ask");
    app.handle_event(Event::ModeChanged { mode: Mode::Plan });
    assert_eq!(app.status.mode, "ask");
    app.handle_event(Event::ModeChanged { mode: Mode::Ask });
    assert_eq!(app.mode(), Mode::Ask);
    assert_eq!(app.transcript.cells().len(), cells, "no notice per press");
}

#[test]
fn shift_tab_switches_while_a_turn_runs_and_the_text_stays() {
    let mut app = app(Mode::Ask);
    type_text(&mut app, "fix it");
    app.handle_key(key(KeyCode::Enter));
    app.handle_event(Event::TurnStarted { turn: 1 });
    type_text(&mut app, "draft");
    assert_eq!(app.handle_key(shift_tab()), set_mode(Mode::AutoEdit));
    assert!(app.is_busy());
    assert_eq!(app.composer.text(), "draft");
    assert_eq!(app.status.mode, "auto-edit");
}

#[test]
fn full_auto_joins_the_cycle_only_once_chosen() {
    let mut app = app(Mode::Plan);
    assert_eq!(app.handle_key(shift_tab()), set_mode(Mode::Ask));
    type_text(&mut app, "/mode full-auto");
    assert_eq!(
        app.handle_key(key(KeyCode::Enter)),
        set_mode(Mode::FullAuto)
    );
    assert!(matches!(
        last_kind(&app),
        Some(CellKind::Notice { text, .. }) if text == "Permission mode is now `full-auto`."
    ));
    let cycle: Vec<Mode> = (0..4)
        .map(|_| match app.handle_key(shift_tab()).as_slice() {
            [Action::Send(Op::SetMode { mode })] => *mode,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        cycle,
        [Mode::Ask, Mode::AutoEdit, Mode::Plan, Mode::FullAuto]
    );
}

#[test]
fn a_plan_is_approved_with_y_which_switches_back_and_asks_to_carry_it_out() {
    let mut app = app(Mode::Ask);
    app.handle_key(shift_tab());
    app.handle_key(shift_tab());
    assert_eq!(app.mode(), Mode::Plan);
    let actions = turn(&mut app, "plan the fix", "1. Change `a - b` to `a + b`.");
    assert!(actions.is_empty());
    let question = app.plan_approval().map(|p| p.question());
    assert_eq!(
        question.as_deref(),
        Some("Approve this plan? y: switch to auto-edit and carry it out · n: keep planning")
    );
    later(&mut app);
    let actions = app.handle_key(key(KeyCode::Char('y')));
    assert_eq!(
        actions,
        [
            Action::Send(Op::SetMode {
                mode: Mode::AutoEdit
            }),
            Action::Send(Op::UserTurn {
                text: CARRY_OUT.into(),
                attachments: vec![]
            })
        ]
    );
    assert!(app.plan_approval().is_none());
    assert_eq!(app.status.mode, "auto-edit");
    assert!(app.is_busy());
}

#[test]
fn n_keeps_planning_and_a_typed_message_goes_on_planning() {
    let mut app = app(Mode::Plan);
    turn(&mut app, "plan it", "1. Read.\n2. Fix.");
    assert!(app.plan_approval().is_some());
    later(&mut app);
    assert!(app.handle_key(key(KeyCode::Char('n'))).is_empty());
    assert!(app.plan_approval().is_none());
    assert_eq!(app.mode(), Mode::Plan);
    assert!(matches!(
        last_kind(&app),
        Some(CellKind::Notice { text, .. }) if text.contains("Still planning")
    ));

    turn(&mut app, "again", "1. Read.");
    later(&mut app);
    // A message typed instead of an answer: its letters go to the composer, not the question.
    type_text(&mut app, "also yes");
    assert_eq!(app.composer.text(), "also yes");
    assert!(app.plan_approval().is_some(), "still asked until answered");
    assert_eq!(
        app.handle_key(key(KeyCode::Enter)),
        [Action::Send(Op::UserTurn {
            text: "also yes".into(),
            attachments: vec![]
        })]
    );
    assert!(app.plan_approval().is_none());
    assert_eq!(app.mode(), Mode::Plan);
}

#[test]
fn keys_pressed_as_the_question_appears_do_not_answer_it() {
    let mut app = app(Mode::Plan);
    turn(&mut app, "plan it", "1. Fix.");
    assert!(app.handle_key(key(KeyCode::Char('y'))).is_empty());
    assert!(app.plan_approval().is_some());
    assert_eq!(app.composer.text(), "y");
}

#[test]
fn no_question_outside_plan_mode_or_without_a_plan() {
    let mut app = app(Mode::Ask);
    turn(&mut app, "fix it", "Fixed.");
    assert!(app.plan_approval().is_none());
    let mut app = self::app(Mode::Plan);
    turn(&mut app, "plan it", "");
    assert!(app.plan_approval().is_none(), "an empty answer is no plan");
    app.handle_event(Event::TurnStarted { turn: 2 });
    app.handle_event(Event::TurnComplete {
        reason: TurnEnd::Interrupted,
        final_text: "1. half a plan".into(),
    });
    assert!(
        app.plan_approval().is_none(),
        "an interrupted turn is no plan"
    );
}

fn todo_items() -> Vec<TodoItem> {
    vec![
        TodoItem {
            content: "Read lib.rs".into(),
            status: TodoStatus::Completed,
        },
        TodoItem {
            content: "Fix the sign".into(),
            status: TodoStatus::InProgress,
        },
    ]
}

fn todo_call(app: &mut App, id: &str, outcome: ToolOutcome) {
    app.handle_event(Event::ToolCallBegin {
        call_id: id.into(),
        name: "todo_write".into(),
        arguments: json!({"todos": [
            {"content": "Read lib.rs", "status": "completed"},
            {"content": "Fix the sign", "status": "in_progress"},
        ]}),
    });
    app.handle_event(Event::ToolCallEnd {
        call_id: id.into(),
        name: "todo_write".into(),
        summary: "2 todos".into(),
        outcome,
        diff: None,
        output: "Todo list updated".into(),
        duration_ms: 1,
    });
}

#[test]
fn a_todo_list_shows_as_a_checklist_cell_and_a_panel_while_working() {
    let mut app = app(Mode::Ask);
    type_text(&mut app, "fix it");
    app.handle_key(key(KeyCode::Enter));
    app.handle_event(Event::TurnStarted { turn: 1 });
    assert!(app.todo_panel().is_empty());
    todo_call(&mut app, "call_1", ToolOutcome::Ok);
    assert_eq!(
        last_kind(&app),
        Some(CellKind::Todos {
            items: todo_items()
        })
    );
    assert_eq!(app.todo_panel(), todo_items().as_slice());
    app.handle_event(Event::TurnComplete {
        reason: TurnEnd::Completed,
        final_text: String::new(),
    });
    assert!(
        app.todo_panel().is_empty(),
        "the panel shows only while working"
    );
}

#[test]
fn a_failed_todo_write_shows_as_a_tool_call_and_keeps_the_list() {
    let mut app = app(Mode::Ask);
    type_text(&mut app, "fix it");
    app.handle_key(key(KeyCode::Enter));
    app.handle_event(Event::TurnStarted { turn: 1 });
    todo_call(&mut app, "call_1", ToolOutcome::Ok);
    app.handle_event(Event::ToolCallBegin {
        call_id: "call_2".into(),
        name: "todo_write".into(),
        arguments: json!({"todos": "nonsense"}),
    });
    app.handle_event(Event::ToolCallEnd {
        call_id: "call_2".into(),
        name: "todo_write".into(),
        summary: "Invalid arguments".into(),
        outcome: ToolOutcome::Error,
        diff: None,
        output: "Invalid arguments for todo_write".into(),
        duration_ms: 1,
    });
    assert!(matches!(
        last_kind(&app),
        Some(CellKind::Tool(tool)) if tool.name == "todo_write"
    ));
    assert_eq!(app.todo_panel(), todo_items().as_slice());
}
