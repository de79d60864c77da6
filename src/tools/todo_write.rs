//! `todo_write`: the model's todo list for the task. Each call replaces the whole list; the
//! list lives in the call's arguments, which the TUI reads to show a live checklist (headless
//! frontends ignore it). It changes no files, so it is a read-kind tool allowed in every mode.

use schemars::JsonSchema;
use serde::Deserialize;

use super::args::parse_args;
use super::schema::schema_for;
use super::{Prepared, Tool, ToolContext, ToolError, ToolKind, ToolOutput};

/// The tool's name, as the model calls it.
pub const TODO_WRITE: &str = "todo_write";
/// Most items a list may hold.
pub const MAX_TODOS: usize = 50;

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TodoStatus {
    /// Not started.
    Pending,
    /// Being worked on (one at a time).
    InProgress,
    /// Done.
    Completed,
}

/// One item of the list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TodoItem {
    /// The step, short and imperative.
    pub content: String,
    /// pending, in_progress or completed.
    pub status: TodoStatus,
}

/// Arguments of `todo_write`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TodoWriteArgs {
    /// The whole list, in order; it replaces the previous one.
    pub todos: Vec<TodoItem>,
}

/// Reads a `todo_write` call's arguments into the list they set, checked: every item has text
/// and there are at most [`MAX_TODOS`]. The tool and the TUI read the arguments the same way.
pub fn parse_todos(args: serde_json::Value) -> Result<Vec<TodoItem>, ToolError> {
    let args: TodoWriteArgs = parse_args(TODO_WRITE, args)?;
    if args.todos.len() > MAX_TODOS {
        return Err(ToolError::Refused(format!(
            "The list has {} items; keep it to at most {MAX_TODOS} steps.",
            args.todos.len()
        )));
    }
    if let Some(index) = args.todos.iter().position(|t| t.content.trim().is_empty()) {
        return Err(ToolError::Refused(format!(
            "Item {} has no content; give every item a short description.",
            index + 1
        )));
    }
    Ok(args
        .todos
        .into_iter()
        .map(|t| TodoItem {
            content: t.content.trim().to_string(),
            status: t.status,
        })
        .collect())
}

/// One line on what the list holds, e.g. `3 todos: 1 completed, 1 in progress, 1 pending`.
pub fn todo_summary(todos: &[TodoItem]) -> String {
    if todos.is_empty() {
        return "todo list cleared".to_string();
    }
    let count = |status| todos.iter().filter(|t| t.status == status).count();
    format!(
        "{} todo{}: {} completed, {} in progress, {} pending",
        todos.len(),
        if todos.len() == 1 { "" } else { "s" },
        count(TodoStatus::Completed),
        count(TodoStatus::InProgress),
        count(TodoStatus::Pending)
    )
}

/// Keeps the model's todo list (shown to the user).
#[derive(Debug, Default)]
pub struct TodoWriteTool;

impl Tool for TodoWriteTool {
    fn name(&self) -> &'static str {
        TODO_WRITE
    }

    fn description(&self) -> &'static str {
        include_str!("../../tools/todo_write.md")
    }

    fn parameters_schema(&self) -> serde_json::Value {
        schema_for::<TodoWriteArgs>()
    }

    fn kind(&self) -> ToolKind {
        ToolKind::Read
    }

    fn prepare(&self, args: serde_json::Value, _ctx: &ToolContext) -> Result<Prepared, ToolError> {
        let todos = parse_todos(args)?;
        let summary = todo_summary(&todos);
        Ok(Prepared::new(
            None,
            ToolKind::Read,
            summary.clone(),
            move |_| ToolOutput {
                content: format!("Todo list updated ({summary}). Keep it current as you work."),
                summary,
                ..ToolOutput::default()
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::test_support::Project;
    use serde_json::json;

    #[test]
    fn a_list_parses_in_order_with_its_statuses() {
        let todos = parse_todos(json!({"todos": [
            {"content": "Read lib.rs", "status": "completed"},
            {"content": " Fix the sign ", "status": "in_progress"},
            {"content": "Run the tests", "status": "pending"},
        ]}))
        .unwrap();
        assert_eq!(
            todos,
            [
                TodoItem {
                    content: "Read lib.rs".into(),
                    status: TodoStatus::Completed
                },
                TodoItem {
                    content: "Fix the sign".into(),
                    status: TodoStatus::InProgress
                },
                TodoItem {
                    content: "Run the tests".into(),
                    status: TodoStatus::Pending
                },
            ]
        );
        assert_eq!(
            todo_summary(&todos),
            "3 todos: 1 completed, 1 in progress, 1 pending"
        );
    }

    #[test]
    fn bad_lists_are_errors_that_say_what_is_wrong() {
        let status = parse_todos(json!({"todos": [{"content": "x", "status": "done"}]}))
            .unwrap_err()
            .to_string();
        assert!(status.contains("unknown variant `done`"), "{status}");
        assert!(
            status.contains("- todos"),
            "the parameters are listed: {status}"
        );
        let empty = parse_todos(json!({"todos": [
            {"content": "a", "status": "pending"},
            {"content": "  ", "status": "pending"},
        ]}))
        .unwrap_err();
        assert!(
            empty.to_string().contains("Item 2 has no content"),
            "{empty}"
        );
        let many: Vec<_> = (0..=MAX_TODOS)
            .map(|i| json!({"content": format!("step {i}"), "status": "pending"}))
            .collect();
        assert!(parse_todos(json!({ "todos": many })).is_err());
        assert!(parse_todos(json!({"items": []})).is_err());
        assert_eq!(parse_todos(json!({"todos": []})).unwrap(), []);
    }

    #[test]
    fn running_it_confirms_briefly_and_changes_nothing() {
        let p = Project::new();
        let out = p.run(
            TODO_WRITE,
            json!({"todos": [{"content": "Plan", "status": "in_progress"}]}),
        );
        assert!(!out.is_error(), "{}", out.content);
        assert_eq!(out.summary, "1 todo: 0 completed, 1 in progress, 0 pending");
        assert!(
            out.content.starts_with("Todo list updated"),
            "{}",
            out.content
        );
        assert!(out.changed_files.is_empty() && out.diff.is_none());
        assert_eq!(TodoWriteTool.kind(), ToolKind::Read);
    }
}
