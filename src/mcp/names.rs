//! The names MCP tools get in gem: `mcp__SERVER__TOOL`.
//!
//! Gemma 4's call syntax and gem's call grammar accept letters, digits, `_` and `-` in a name,
//! so any other character of a server's tool name becomes `_` (the server is still called with
//! its own name).

/// Prefix of every MCP tool name.
pub const PREFIX: &str = "mcp__";

/// The name the model calls `tool` of `server` by.
pub fn tool_name(server: &str, tool: &str) -> String {
    format!("{PREFIX}{}__{}", sanitize(server), sanitize(tool))
}

/// `text` with every character outside `[A-Za-z0-9_-]` replaced by `_`.
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Whether `name` is an MCP tool name.
pub fn is_mcp(name: &str) -> bool {
    name.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_prefixed_and_sanitized() {
        assert_eq!(tool_name("test", "add"), "mcp__test__add");
        assert_eq!(tool_name("fs", "read.file/v2"), "mcp__fs__read_file_v2");
        assert!(is_mcp("mcp__fs__x") && !is_mcp("shell"));
    }
}
