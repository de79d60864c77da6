//! The set of tools offered to the model, and a one-call way to run one.

use super::{
    EditFileTool, GitTool, GlobTool, GrepTool, ReadFileTool, ShellTool, TodoWriteTool, Tool,
    ToolContext, ToolError, ToolOutput, WriteFileTool,
};

/// A tool as declared to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolDeclaration {
    /// The tool's name.
    pub name: &'static str,
    /// What the tool does and how to use it.
    pub description: &'static str,
    /// JSON schema of its arguments.
    pub parameters: serde_json::Value,
}

/// Tools by name, in the order they are declared to the model.
#[derive(Default)]
pub struct Registry {
    tools: Vec<Box<dyn Tool>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The eight built-in tools.
    pub fn builtin() -> Self {
        let mut registry = Self::new();
        registry.register(Box::new(ReadFileTool));
        registry.register(Box::new(EditFileTool));
        registry.register(Box::new(WriteFileTool));
        registry.register(Box::new(GrepTool));
        registry.register(Box::new(GlobTool));
        registry.register(Box::new(ShellTool));
        registry.register(Box::new(GitTool));
        registry.register(Box::new(TodoWriteTool));
        registry
    }

    /// Adds a tool, replacing any tool of the same name.
    pub fn register(&mut self, tool: Box<dyn Tool>) {
        self.tools.retain(|t| t.name() != tool.name());
        self.tools.push(tool);
    }

    /// Removes the tool called `name`, if any.
    pub fn remove(&mut self, name: &str) {
        self.tools.retain(|t| t.name() != name);
    }

    /// The tool called `name`.
    pub fn get(&self, name: &str) -> Option<&dyn Tool> {
        self.tools
            .iter()
            .find(|t| t.name() == name)
            .map(|t| t.as_ref())
    }

    /// All tools, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = &dyn Tool> {
        self.tools.iter().map(|t| t.as_ref())
    }

    /// Name, description and parameter schema of every tool, for the system prompt.
    pub fn declarations(&self) -> Vec<ToolDeclaration> {
        self.iter()
            .map(|t| ToolDeclaration {
                name: t.name(),
                description: t.description(),
                parameters: t.parameters_schema(),
            })
            .collect()
    }

    /// Prepares a call to the tool called `name`.
    pub fn prepare(
        &self,
        name: &str,
        args: serde_json::Value,
        ctx: &ToolContext,
    ) -> Result<super::Prepared, ToolError> {
        let tool = self.get(name).ok_or_else(|| ToolError::UnknownTool {
            name: name.to_string(),
            available: self.iter().map(|t| t.name()).collect::<Vec<_>>().join(", "),
        })?;
        tool.prepare(args, ctx)
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|t| t.name()))
            .finish()
    }
}

/// Prepares and executes a call without asking for approval. Every failure comes back as an
/// error output whose content tells the model what was wrong.
pub fn run_tool(
    registry: &Registry,
    name: &str,
    args: serde_json::Value,
    ctx: &ToolContext,
) -> ToolOutput {
    match registry.prepare(name, args, ctx) {
        Ok(prepared) => prepared.execute(ctx),
        Err(e) => ToolOutput::error(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::ToolKind;
    use crate::tools::test_support::Project;
    use serde_json::json;

    #[test]
    fn builtin_has_eight_tools_with_descriptions_and_object_schemas() {
        let registry = Registry::builtin();
        let names: Vec<&str> = registry.iter().map(|t| t.name()).collect();
        assert_eq!(
            names,
            [
                "read_file",
                "edit_file",
                "write_file",
                "grep",
                "glob",
                "shell",
                "git",
                "todo_write"
            ]
        );
        for declaration in registry.declarations() {
            assert!(
                declaration.description.len() > 100,
                "{} needs a real description",
                declaration.name
            );
            assert_eq!(
                declaration.parameters["type"], "object",
                "{}",
                declaration.name
            );
            assert!(
                !declaration.parameters.to_string().contains("$ref"),
                "{}",
                declaration.name
            );
        }
        assert_eq!(
            registry.get("shell").map(|t| t.kind()),
            Some(ToolKind::Shell)
        );
        assert_eq!(
            registry.get("edit_file").map(|t| t.kind()),
            Some(ToolKind::Edit)
        );
        assert_eq!(
            registry.get("todo_write").map(|t| t.kind()),
            Some(ToolKind::Read),
            "the todo list changes no files, so every mode allows it"
        );
        assert!(registry.get("nope").is_none());
    }

    #[test]
    fn registry_context_and_prepared_calls_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send_sync::<Registry>();
        send_sync::<ToolContext>();
        send::<crate::tools::Prepared>();
    }

    #[test]
    fn unknown_tool_lists_available_ones() {
        let p = Project::new();
        let out = run_tool(&Registry::builtin(), "read", json!({}), &p.ctx);
        assert!(out.is_error());
        assert!(
            out.content
                .starts_with("Unknown tool `read`. Available tools: read_file, ")
        );
    }

    #[test]
    fn register_replaces_and_remove_drops() {
        let mut registry = Registry::builtin();
        registry.register(Box::new(ShellTool));
        assert_eq!(registry.iter().count(), 8);
        assert_eq!(registry.iter().last().map(|t| t.name()), Some("shell"));
        registry.remove("shell");
        assert!(registry.get("shell").is_none());
    }

    #[test]
    fn wrong_argument_type_is_an_error_output_with_expected_parameters() {
        let p = Project::new();
        let out = run_tool(&Registry::builtin(), "grep", json!({"pattern": 5}), &p.ctx);
        assert!(out.is_error());
        assert!(
            out.content
                .contains("invalid type: integer `5`, expected a string"),
            "{}",
            out.content
        );
        assert!(
            out.content.contains("- pattern (string, required)"),
            "{}",
            out.content
        );
        assert!(
            out.content.contains(
                "- output_mode (one of \"content\", \"files_with_matches\", \"count\", optional)"
            ),
            "{}",
            out.content
        );
    }
}
