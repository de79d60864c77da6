//! An MCP `CallToolResult` → the tool response the model reads.
//!
//! Text blocks are joined; an embedded text resource is shown with its URI; structured content
//! is added as JSON unless a text block already carries the same value; images, audio and
//! binary resources become a line saying what was returned (gem cannot show them to the model
//! yet); `isError: true` makes an error result. Output over the cap keeps its head and tail, as
//! shell output does.

use serde_json::Value;

use crate::tools::{CappedOutput, ToolOutput};

/// Bytes kept from the start and from the end of a long result (as for shell output).
pub const KEEP_BYTES: usize = 10_000;

/// The tool output for `result` (the JSON form of an MCP `CallToolResult`) of `tool`.
pub fn to_output(tool: &str, result: &Value) -> ToolOutput {
    let mut parts: Vec<String> = Vec::new();
    let blocks = result
        .get("content")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for block in &blocks {
        parts.push(render_block(block));
    }
    if let Some(structured) = result.get("structuredContent").filter(|v| !v.is_null()) {
        let repeated = blocks.iter().any(|b| {
            b.get("text")
                .and_then(Value::as_str)
                .and_then(|t| serde_json::from_str::<Value>(t).ok())
                .is_some_and(|v| &v == structured)
        });
        if !repeated {
            let json = serde_json::to_string_pretty(structured).unwrap_or_default();
            parts.push(if blocks.is_empty() {
                json
            } else {
                format!("structured content:\n{json}")
            });
        }
    }
    let text = parts.join("\n");
    let mut capped = CappedOutput::new(KEEP_BYTES, KEEP_BYTES);
    capped.push(text.as_bytes());
    let content = capped.render();
    let is_error = result.get("isError").and_then(Value::as_bool) == Some(true);
    if is_error {
        let content = if content.trim().is_empty() {
            format!("{tool} reported an error without a message")
        } else {
            content
        };
        return ToolOutput::error(content);
    }
    let content = if content.is_empty() {
        "(the tool returned no content)".to_string()
    } else {
        content
    };
    let summary = summary_of(&content, blocks.len());
    ToolOutput::success(content, summary)
}

fn summary_of(content: &str, blocks: usize) -> String {
    let lines = content.lines().count();
    match blocks {
        0 | 1 => format!("{lines} lines"),
        n => format!("{n} content blocks, {lines} lines"),
    }
}

fn render_block(block: &Value) -> String {
    let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
    let str_of = |key: &str| block.get(key).and_then(Value::as_str).unwrap_or("");
    match kind {
        "text" => str_of("text").to_string(),
        "image" | "audio" => format!(
            "[the tool returned {} ({}, {} bytes); gem cannot show it to the model yet]",
            if kind == "image" { "an image" } else { "audio" },
            non_empty(str_of("mimeType"), "unknown type"),
            base64_len(str_of("data"))
        ),
        "resource" => {
            let resource = block.get("resource").cloned().unwrap_or(Value::Null);
            let uri = resource.get("uri").and_then(Value::as_str).unwrap_or("");
            match resource.get("text").and_then(Value::as_str) {
                Some(text) => format!("[resource {uri}]\n{text}"),
                None => format!(
                    "[the tool returned a binary resource {uri} ({}); gem cannot show it to the model]",
                    non_empty(
                        resource
                            .get("mimeType")
                            .and_then(Value::as_str)
                            .unwrap_or(""),
                        "unknown type"
                    )
                ),
            }
        }
        "resource_link" => format!("[resource link: {} {}]", str_of("uri"), str_of("name"))
            .trim_end()
            .to_string(),
        other => format!("[the tool returned content of type {other:?}, which gem does not read]"),
    }
}

fn non_empty<'a>(text: &'a str, default: &'a str) -> &'a str {
    if text.is_empty() { default } else { text }
}

/// Decoded size of a base64 string (approximately, ignoring padding details).
fn base64_len(data: &str) -> usize {
    let trimmed = data.trim_end_matches('=');
    trimmed.len() * 3 / 4
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_blocks_are_joined() {
        let out = to_output(
            "t",
            &json!({"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}),
        );
        assert!(!out.is_error());
        assert_eq!(out.content, "a\nb");
    }

    #[test]
    fn is_error_makes_an_error_result() {
        let out = to_output(
            "t",
            &json!({"content": [{"type": "text", "text": "boom"}], "isError": true}),
        );
        assert!(out.is_error());
        assert_eq!(out.content, "boom");
        assert!(
            to_output("t", &json!({"isError": true}))
                .content
                .contains("without a message")
        );
    }

    #[test]
    fn structured_content_is_added_once() {
        let same = to_output(
            "t",
            &json!({"content": [{"type": "text", "text": "{\"sum\":5}"}], "structuredContent": {"sum": 5}}),
        );
        assert_eq!(same.content, "{\"sum\":5}");
        let only = to_output("t", &json!({"structuredContent": {"sum": 5}}));
        assert_eq!(only.content, "{\n  \"sum\": 5\n}");
        let both = to_output(
            "t",
            &json!({"content": [{"type": "text", "text": "done"}], "structuredContent": {"sum": 5}}),
        );
        assert!(
            both.content.starts_with("done\nstructured content:\n{"),
            "{}",
            both.content
        );
    }

    #[test]
    fn images_and_resources_become_placeholders() {
        let out = to_output(
            "t",
            &json!({"content": [
                {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"},
                {"type": "resource", "resource": {"uri": "file:///a", "text": "hello"}},
                {"type": "resource", "resource": {"uri": "file:///b", "blob": "AA==", "mimeType": "application/zip"}},
                {"type": "resource_link", "uri": "file:///c", "name": "c"}
            ]}),
        );
        assert_eq!(
            out.content,
            "[the tool returned an image (image/png, 8 bytes); gem cannot show it to the model yet]\n\
             [resource file:///a]\nhello\n\
             [the tool returned a binary resource file:///b (application/zip); gem cannot show it to the model]\n\
             [resource link: file:///c c]"
        );
    }

    #[test]
    fn long_results_are_capped() {
        let long = "x".repeat(3 * KEEP_BYTES);
        let out = to_output("t", &json!({"content": [{"type": "text", "text": long}]}));
        assert!(out.content.len() < 2 * KEEP_BYTES + 100);
        assert!(out.content.contains("bytes of output omitted"));
    }

    #[test]
    fn empty_result_says_so() {
        assert_eq!(
            to_output("t", &json!({"content": []})).content,
            "(the tool returned no content)"
        );
    }
}
