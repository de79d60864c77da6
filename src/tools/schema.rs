//! JSON schemas of tool arguments, and a plain-text summary of them for error messages.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::Value;

/// The JSON schema of `T` with every subschema inlined (no `$ref`) and without the `$schema`
/// and `title` keys, ready to declare to the model.
pub fn schema_for<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    if let Some(object) = schema.as_object_mut() {
        // The arguments struct's own doc comment is for Rust readers; the tool's description
        // file speaks to the model.
        for key in ["$schema", "title", "description"] {
            object.remove(key);
        }
    }
    unwrap_descriptions(&mut schema);
    schema
}

/// Joins the lines of wrapped doc comments in every `description` (paragraphs are kept).
fn unwrap_descriptions(value: &mut Value) {
    match value {
        Value::Object(object) => {
            for (key, child) in object.iter_mut() {
                match child {
                    Value::String(text) if key == "description" => {
                        *text = text
                            .split("\n\n")
                            .map(|paragraph| paragraph.split('\n').collect::<Vec<_>>().join(" "))
                            .collect::<Vec<_>>()
                            .join("\n\n");
                    }
                    other => unwrap_descriptions(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(unwrap_descriptions),
        _ => {}
    }
}

/// One line per parameter: name, type, whether required, description.
pub fn describe_parameters(schema: &Value) -> String {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return "(no parameters)".to_string();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    properties
        .iter()
        .map(|(name, property)| {
            let need = if required.contains(&name.as_str()) {
                "required"
            } else {
                "optional"
            };
            let mut line = format!("- {name} ({}, {need})", type_of(property));
            if let Some(description) = property.get("description").and_then(Value::as_str) {
                let first = description.lines().next().unwrap_or_default();
                line.push_str(": ");
                line.push_str(first);
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The primitive JSON types a property accepts (without `null`).
pub fn property_types(property: &Value) -> Vec<&str> {
    match property.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => Vec::new(),
    }
}

fn type_of(property: &Value) -> String {
    let values = enum_values(property);
    if !values.is_empty() {
        let quoted: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
        return format!("one of {}", quoted.join(", "));
    }
    let types = property_types(property);
    match types.as_slice() {
        [] => "any".to_string(),
        ["array"] => {
            let item = property
                .get("items")
                .map(type_of)
                .unwrap_or_else(|| "any".into());
            format!("array of {item}")
        }
        _ => types.join(" or "),
    }
}

fn enum_values(property: &Value) -> Vec<String> {
    if let Some(values) = property.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect();
    }
    ["oneOf", "anyOf"]
        .iter()
        .filter_map(|key| property.get(*key).and_then(Value::as_array))
        .flatten()
        .flat_map(|variant| {
            let single = variant
                .get("const")
                .and_then(Value::as_str)
                .map(String::from);
            single.into_iter().chain(enum_values(variant))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// Example arguments.
    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Example {
        /// Where to
        /// look.
        path: String,
        /// How many.
        limit: Option<usize>,
        mode: Mode,
    }

    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Mode {
        /// First.
        Fast,
        /// Second.
        Slow,
    }

    #[test]
    fn schema_is_inlined_without_meta_keys() {
        let schema = schema_for::<Example>();
        assert!(schema.get("$schema").is_none());
        assert!(schema.get("description").is_none());
        assert_eq!(
            schema["properties"]["path"]["description"],
            "Where to look."
        );
        assert!(schema.get("$defs").is_none(), "{schema}");
        assert!(!schema.to_string().contains("$ref"), "{schema}");
    }

    #[test]
    fn description_lists_each_parameter() {
        let text = describe_parameters(&schema_for::<Example>());
        assert!(
            text.contains("- path (string, required): Where to look."),
            "{text}"
        );
        assert!(
            text.contains("- limit (integer, optional): How many."),
            "{text}"
        );
        assert!(
            text.contains("- mode (one of \"fast\", \"slow\", required)"),
            "{text}"
        );
    }
}
