//! Tool declarations as the chat template writes them in the system turn:
//! `declaration:NAME{description:<|"|>…<|"|>,parameters:{properties:{…},required:[…],type:<|"|>OBJECT<|"|>}}`.
//!
//! This is a line-by-line port of the template's `format_function_declaration`
//! and `format_parameters` macros, quirks included (a parameters object without
//! `type` is left unclosed, `items` keys are printed as generic values, an
//! object property without `properties` has its own extra keys printed as
//! properties). Give it the shape [`crate::gemma::schema`] produces and the
//! output is clean.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::gemma::render::RenderError;
use crate::gemma::tags::STRING_DELIM;
use crate::gemma::value::{sorted_keys, write_template_value};

/// A tool the model may call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolDeclaration {
    /// The name the model calls it by.
    pub name: String,
    /// What it does, as the model reads it.
    #[serde(default)]
    pub description: String,
    /// JSON schema of the arguments (an object schema), in the shape the
    /// template consumes (see [`crate::gemma::schema::parameters_from_schema`]).
    #[serde(default)]
    pub parameters: Value,
}

/// Keys `format_parameters` skips when it lists an object's own keys.
const STANDARD_KEYS: &[&str] = &["description", "type", "properties", "required", "nullable"];

/// The declaration text of one tool, without the `<|tool>`/`<tool|>` wrapper.
pub fn declaration(tool: &ToolDeclaration) -> Result<String, RenderError> {
    let mut out = String::new();
    write_declaration(&mut out, tool)?;
    Ok(out)
}

/// Appends the declaration text of `tool` to `out`.
pub fn write_declaration(out: &mut String, tool: &ToolDeclaration) -> Result<(), RenderError> {
    out.push_str("declaration:");
    out.push_str(&tool.name);
    out.push_str("{description:");
    out.push_str(STRING_DELIM);
    out.push_str(&tool.description);
    out.push_str(STRING_DELIM);
    let params = &tool.parameters;
    if truthy(Some(params)) {
        out.push_str(",parameters:{");
        let properties = get(params, "properties");
        if truthy(properties) {
            out.push_str("properties:{");
            write_parameters(out, properties, false)?;
            out.push_str("},");
        }
        let required = get(params, "required");
        if truthy(required) {
            out.push_str("required:[");
            write_quoted_list(out, required)?;
            out.push_str("],");
        }
        let ty = get(params, "type");
        if truthy(ty) {
            out.push_str("type:");
            out.push_str(STRING_DELIM);
            out.push_str(&upper(ty));
            out.push_str(STRING_DELIM);
            out.push('}');
        }
    }
    out.push('}');
    Ok(())
}

/// The template's `format_parameters(properties, required, filter_keys)`.
fn write_parameters(
    out: &mut String,
    properties: Option<&Value>,
    filter_keys: bool,
) -> Result<(), RenderError> {
    let Some(Value::Object(map)) = properties else {
        return Err(RenderError::Unsupported(
            "`properties` of a tool schema is not an object (the template cannot sort it)".into(),
        ));
    };
    let mut found_first = false;
    for key in sorted_keys(map) {
        if filter_keys && STANDARD_KEYS.contains(&key.as_str()) {
            continue;
        }
        let value = &map[key.as_str()];
        if found_first {
            out.push(',');
        }
        found_first = true;
        out.push_str(key);
        out.push_str(":{");
        let mut comma = Comma::default();
        let description = get(value, "description");
        if truthy(description) {
            out.push_str("description:");
            out.push_str(STRING_DELIM);
            out.push_str(&display(description));
            out.push_str(STRING_DELIM);
            comma.needed = true;
        }
        let ty = upper(get(value, "type"));
        if ty == "STRING" {
            let enumeration = get(value, "enum");
            if truthy(enumeration) {
                comma.write(out);
                out.push_str("enum:");
                write_template_value(out, enumeration.unwrap_or(&Value::Null), true);
            }
        } else if ty == "ARRAY"
            && let Some(Value::Object(item_map)) = get(value, "items")
            && !item_map.is_empty()
        {
            comma.write(out);
            out.push_str("items:{");
            write_items(out, item_map)?;
            out.push('}');
        }
        if truthy(get(value, "nullable")) {
            comma.write(out);
            out.push_str("nullable:true");
        }
        if ty == "OBJECT" {
            match get(value, "properties") {
                Some(nested @ Value::Object(_)) => {
                    comma.write(out);
                    out.push_str("properties:{");
                    write_parameters(out, Some(nested), false)?;
                    out.push('}');
                }
                _ if value.is_object() => {
                    comma.write(out);
                    out.push_str("properties:{");
                    write_parameters(out, Some(value), true)?;
                    out.push('}');
                }
                _ => {}
            }
            let required = get(value, "required");
            if truthy(required) {
                comma.write(out);
                out.push_str("required:[");
                write_quoted_list(out, required)?;
                out.push(']');
            }
        }
        comma.write(out);
        out.push_str("type:");
        out.push_str(STRING_DELIM);
        out.push_str(&ty);
        out.push_str(STRING_DELIM);
        out.push('}');
    }
    Ok(())
}

/// The `items:{…}` body of an array property.
fn write_items(
    out: &mut String,
    item_map: &serde_json::Map<String, Value>,
) -> Result<(), RenderError> {
    let mut found_first = false;
    for item_key in sorted_keys(item_map) {
        let item_value = &item_map[item_key.as_str()];
        if item_value.is_null() {
            continue;
        }
        if found_first {
            out.push(',');
        }
        found_first = true;
        match item_key.as_str() {
            "properties" => {
                out.push_str("properties:{");
                if item_value.is_object() {
                    write_parameters(out, Some(item_value), false)?;
                }
                out.push('}');
            }
            "required" => {
                out.push_str("required:[");
                write_quoted_list(out, Some(item_value))?;
                out.push(']');
            }
            "type" => {
                out.push_str("type:");
                if let Value::String(_) = item_value {
                    write_template_value(out, &Value::String(upper(Some(item_value))), true);
                } else {
                    let upper_list: Vec<Value> = iterate(item_value)?
                        .iter()
                        .map(|v| Value::String(upper(Some(v))))
                        .collect();
                    write_template_value(out, &Value::Array(upper_list), true);
                }
            }
            _ => {
                out.push_str(item_key);
                out.push(':');
                write_template_value(out, item_value, true);
            }
        }
    }
    Ok(())
}

/// `<|"|>a<|"|>,<|"|>b<|"|>` for the items of a `required` list.
fn write_quoted_list(out: &mut String, list: Option<&Value>) -> Result<(), RenderError> {
    let items = match list {
        Some(v) => iterate(v)?,
        None => Vec::new(),
    };
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(STRING_DELIM);
        out.push_str(&display(Some(item)));
        out.push_str(STRING_DELIM);
    }
    Ok(())
}

/// The template's comma bookkeeping (`add_comma`).
#[derive(Default)]
struct Comma {
    needed: bool,
}

impl Comma {
    fn write(&mut self, out: &mut String) {
        if self.needed {
            out.push(',');
        } else {
            self.needed = true;
        }
    }
}

/// `value[key]`: `None` stands for Jinja's undefined.
pub(crate) fn get<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    value.as_object().and_then(|m| m.get(key))
}

/// Jinja truthiness.
pub(crate) fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// `{{ value }}` as minijinja prints it (undefined prints nothing).
pub(crate) fn display(value: Option<&Value>) -> String {
    match value {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => minijinja::Value::from(minijinja::value::Serde(other)).to_string(),
    }
}

/// `value | upper`.
pub(crate) fn upper(value: Option<&Value>) -> String {
    display(value).to_uppercase()
}

/// `for x in value`: sequence items, string characters, map keys.
fn iterate(value: &Value) -> Result<Vec<Value>, RenderError> {
    match value {
        Value::Array(items) => Ok(items.clone()),
        Value::String(s) => Ok(s.chars().map(|c| Value::String(c.to_string())).collect()),
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Ok(keys.into_iter().map(|k| Value::String(k.clone())).collect())
        }
        other => Err(RenderError::Unsupported(format!(
            "the template cannot iterate over {other} in a tool schema"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_a_typical_declaration() {
        let tool = ToolDeclaration {
            name: "read_file".into(),
            description: "Read a file.".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "Path to read"},
                    "limit": {"type": "integer", "nullable": true},
                    "mode": {"type": "string", "enum": ["text", "bytes"]},
                    "tags": {"type": "array", "items": {"type": "string"}}
                },
                "required": ["path"]
            }),
        };
        assert_eq!(
            declaration(&tool).unwrap(),
            "declaration:read_file{description:<|\"|>Read a file.<|\"|>,parameters:{properties:{\
             limit:{nullable:true,type:<|\"|>INTEGER<|\"|>},\
             mode:{enum:[<|\"|>text<|\"|>,<|\"|>bytes<|\"|>],type:<|\"|>STRING<|\"|>},\
             path:{description:<|\"|>Path to read<|\"|>,type:<|\"|>STRING<|\"|>},\
             tags:{items:{type:<|\"|>STRING<|\"|>},type:<|\"|>ARRAY<|\"|>}},\
             required:[<|\"|>path<|\"|>],type:<|\"|>OBJECT<|\"|>}}"
        );
    }

    #[test]
    fn no_parameters_writes_only_the_description() {
        let tool = ToolDeclaration {
            name: "now".into(),
            description: "Time".into(),
            parameters: Value::Null,
        };
        assert_eq!(
            declaration(&tool).unwrap(),
            "declaration:now{description:<|\"|>Time<|\"|>}"
        );
    }

    #[test]
    fn non_object_properties_are_an_error() {
        let tool = ToolDeclaration {
            name: "x".into(),
            description: String::new(),
            parameters: json!({"type": "object", "properties": [1]}),
        };
        assert!(matches!(
            declaration(&tool),
            Err(RenderError::Unsupported(_))
        ));
    }

    #[test]
    fn jinja_helpers_follow_minijinja() {
        assert!(!truthy(Some(&json!(0))));
        assert!(truthy(Some(&json!(0.5))));
        assert!(!truthy(Some(&json!(""))));
        assert_eq!(upper(Some(&json!(true))), "TRUE");
        assert_eq!(upper(Some(&json!(null))), "NONE");
        assert_eq!(display(Some(&json!(1.0))), "1.0");
        assert_eq!(upper(None), "");
    }
}
