//! Reads the text of one tool call (what stands between `<|tool_call>` and
//! `<tool_call|>`): `call:NAME{key:value,…}`, forgiving the ways models get it
//! wrong (see [`crate::gemma::value::parse_lenient`]). Also accepts a call
//! written as JSON (`{"name": …, "arguments": {…}}`) and a name without
//! arguments (`call:list_files`).

use serde_json::{Map, Value};

use crate::gemma::conversation::ToolCall;
use crate::gemma::declaration::ToolDeclaration;
use crate::gemma::value::parse_lenient;

/// Characters allowed in a tool name.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/')
}

/// Parses a call's text; the error says what is wrong with it.
pub fn parse_call(raw: &str, tools: &[ToolDeclaration]) -> Result<ToolCall, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("empty call".into());
    }
    let body = text.strip_prefix("call:").unwrap_or(text).trim_start();
    if body.starts_with('{')
        && let Some(call) = json_call(body)
    {
        return Ok(call);
    }
    let name_end = body.find('{').unwrap_or(body.len());
    let name = body[..name_end].trim();
    if name.is_empty() {
        return Err("missing tool name".into());
    }
    if !name.chars().all(is_name_char) {
        return Err(format!("invalid tool name {name:?}"));
    }
    if name_end == body.len() {
        return Ok(ToolCall {
            name: name.to_string(),
            arguments: Value::Object(Map::new()),
        });
    }
    let schema = tools
        .iter()
        .find(|tool| tool.name == name)
        .map(|tool| &tool.parameters);
    let args = &body[name_end..];
    let parsed = parse_lenient(args, schema).map_err(|e| e.to_string())?;
    let trailing = args[parsed.consumed..].trim();
    if !trailing
        .chars()
        .all(|c| matches!(c, '}' | ')' | ']' | ';' | ','))
    {
        return Err(format!("unexpected text after the arguments: {trailing:?}"));
    }
    Ok(ToolCall {
        name: name.to_string(),
        arguments: parsed.value,
    })
}

/// `{"name": "f", "arguments": {…}}` (also `parameters` / `args`).
fn json_call(body: &str) -> Option<ToolCall> {
    let value: Value = serde_json::from_str(body).ok()?;
    let name = value.get("name")?.as_str()?.to_string();
    let arguments = ["arguments", "parameters", "args"]
        .iter()
        .find_map(|key| value.get(*key))
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    let arguments = match arguments {
        Value::String(text) => serde_json::from_str(&text).ok()?,
        other => other,
    };
    arguments
        .is_object()
        .then_some(ToolCall { name, arguments })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tools() -> Vec<ToolDeclaration> {
        vec![ToolDeclaration {
            name: "shell".into(),
            description: String::new(),
            parameters: json!({"type": "object", "properties": {
                "command": {"type": "string"}, "timeout": {"type": "integer"}}}),
        }]
    }

    #[test]
    fn parses_canonical_and_quirky_calls() {
        let cases = [
            (
                "call:shell{command:<|\"|>ls<|\"|>}",
                json!({"command": "ls"}),
            ),
            (
                "call:shell{command:<|\"|>ls<|\"|>",
                json!({"command": "ls"}),
            ),
            ("call:shell{command:<|\"|>ls}", json!({"command": "ls"})),
            ("call:shell{command:'ls -a'}", json!({"command": "ls -a"})),
            (
                "call:shell{command:ls -a, /tmp,timeout:5}",
                json!({"command": "ls -a, /tmp", "timeout": 5}),
            ),
            (
                " call:shell{command:<|\"|>ls<|\"|>}} ",
                json!({"command": "ls"}),
            ),
            ("shell{timeout:5}", json!({"timeout": 5})),
            ("call:shell", json!({})),
            (
                "{\"name\": \"shell\", \"arguments\": {\"command\": \"ls\"}}",
                json!({"command": "ls"}),
            ),
        ];
        for (raw, args) in cases {
            let call = parse_call(raw, &tools()).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(call.name, "shell", "{raw}");
            assert_eq!(call.arguments, args, "{raw}");
        }
    }

    #[test]
    fn reports_malformed_calls() {
        for raw in [
            "",
            "call:",
            "call:{a:1}",
            "call:bad name{a:1}",
            "call:f{a 1}",
            "call:f{a:1} extra",
        ] {
            assert!(parse_call(raw, &[]).is_err(), "{raw:?} should fail");
        }
    }
}
