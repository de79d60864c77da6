//! What gets lost when an MCP tool's `inputSchema` is converted to a Gemma 4 declaration (by
//! [`crate::gemma::parameters_from_schema`], the path the built-in tools take), so the
//! simplification can be logged.

use serde_json::Value;

/// Keywords the Gemma 4 declaration format has no place for (dropped by the conversion).
const DROPPED: &[&str] = &[
    "allOf",
    "not",
    "if",
    "then",
    "else",
    "pattern",
    "patternProperties",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "additionalProperties",
    "dependentRequired",
    "dependentSchemas",
    "default",
    "examples",
];

/// One line per simplification found in `schema`, each with the JSON path it applies to;
/// empty when the schema converts without loss.
pub fn simplifications(schema: &Value) -> Vec<String> {
    let mut notes = Vec::new();
    walk(schema, "$", &mut notes);
    notes
}

fn walk(schema: &Value, path: &str, notes: &mut Vec<String>) {
    let Some(map) = schema.as_object() else {
        return;
    };
    for key in DROPPED {
        if map.contains_key(*key) {
            notes.push(format!("{path}: `{key}` dropped"));
        }
    }
    if let Some(Value::Array(types)) = map.get("type") {
        let real: Vec<&str> = types
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect();
        if real.len() > 1 {
            notes.push(format!(
                "{path}: type list {real:?} reduced to {:?}",
                real[0]
            ));
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(variants)) = map.get(key) {
            let non_null = variants
                .iter()
                .filter(|v| v.get("type") != Some(&Value::String("null".into())))
                .count();
            let constants = variants
                .iter()
                .all(|v| v.get("const").is_some() || v.get("enum").is_some());
            if non_null > 1 && !constants {
                notes.push(format!(
                    "{path}: `{key}` of {non_null} alternatives merged or reduced to the first"
                ));
            }
            for (i, v) in variants.iter().enumerate() {
                walk(v, &format!("{path}.{key}[{i}]"), notes);
            }
        }
    }
    if let Some(Value::Array(values)) = map.get("enum")
        && values.iter().any(|v| !v.is_string())
    {
        notes.push(format!("{path}: non-string `enum` values dropped"));
    }
    if let Some(Value::Object(props)) = map.get("properties") {
        for (name, prop) in props {
            walk(prop, &format!("{path}.{name}"), notes);
        }
    }
    match map.get("items") {
        Some(Value::Array(tuple)) => {
            notes.push(format!("{path}: tuple `items` reduced to the first item"));
            if let Some(first) = tuple.first() {
                walk(first, &format!("{path}[]"), notes);
            }
        }
        Some(items) => walk(items, &format!("{path}[]"), notes),
        None => {}
    }
    if map.contains_key("prefixItems") {
        notes.push(format!("{path}: `prefixItems` reduced to the first item"));
    }
    if let Some(Value::Object(defs)) = map.get("$defs").or_else(|| map.get("definitions")) {
        for (name, def) in defs {
            walk(def, &format!("$defs.{name}"), notes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_schemas_lose_nothing() {
        let schema = json!({"type": "object", "properties": {
            "a": {"type": "number", "description": "x"},
            "b": {"type": ["string", "null"]},
            "c": {"enum": ["x", "y"]},
            "d": {"type": "array", "items": {"type": "string"}}
        }, "required": ["a"]});
        assert!(simplifications(&schema).is_empty());
    }

    #[test]
    fn awkward_schemas_are_listed() {
        let schema = json!({"type": "object", "additionalProperties": false, "properties": {
            "n": {"type": ["integer", "string"], "minimum": 1},
            "u": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "k": {"allOf": [{"type": "string"}], "format": "uri"}
        }});
        let notes = simplifications(&schema);
        assert_eq!(
            notes,
            [
                "$: `additionalProperties` dropped",
                "$.k: `allOf` dropped",
                "$.k: `format` dropped",
                "$.n: `minimum` dropped",
                "$.n: type list [\"integer\", \"string\"] reduced to \"integer\"",
                "$.u: `anyOf` of 2 alternatives merged or reduced to the first",
            ]
        );
    }
}
