//! JSON schemas as schemars 1.x writes them → the parameters shape the
//! Gemma 4 chat template renders.
//!
//! The template understands `type` (one name), `description`, `enum` (of
//! strings), `items`, `properties`, `required` and `nullable`, nothing else;
//! everything else it ignores or prints badly (`$ref` is not followed, a type
//! list is printed as `["STRING", "NULL"]`, an array's extra keys are printed
//! verbatim). The mapping:
//! * `$ref` → the `$defs` entry inlined (a sibling `description` wins);
//!   recursion deeper than [`MAX_DEPTH`] becomes a bare `object`;
//! * `type: [T, "null"]`, `anyOf/oneOf: [X, {type: null}]` → `X` + `nullable: true`;
//! * `oneOf`/`anyOf` of constants (documented unit enums) and `const` →
//!   `type: string` + `enum`, the variants' docs (`name: doc`) appended to the
//!   description;
//! * other `oneOf`/`anyOf`: all objects → one object with the union of their
//!   properties (none required); else the first alternative;
//! * `$schema`, `title`, `format`, `default`, bounds, `additionalProperties`,
//!   `examples`, … are dropped; an untyped schema (any JSON value) stays
//!   untyped (the template prints an empty type; the call grammar allows any
//!   value).

use schemars::JsonSchema;
use serde_json::{Map, Value, json};

use crate::gemma::declaration::ToolDeclaration;

/// Deepest `$ref` nesting inlined.
pub const MAX_DEPTH: usize = 8;

/// The template-shaped parameters of a root schema (an object schema).
pub fn parameters_from_schema(schema: &Value) -> Value {
    let defs = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut converted = convert(schema, &defs, 0);
    if let Value::Object(map) = &mut converted {
        // The template does not render these at the top level.
        map.remove("nullable");
        map.remove("description");
        map.insert("type".into(), json!("object"));
        map.entry("properties").or_insert_with(|| json!({}));
    }
    converted
}

/// The parameters of `T`'s schemars schema.
pub fn parameters_for<T: JsonSchema>() -> Value {
    parameters_from_schema(schemars::schema_for!(T).as_value())
}

/// A tool declaration whose arguments deserialize into `T`.
pub fn tool_declaration<T: JsonSchema>(
    name: impl Into<String>,
    description: impl Into<String>,
) -> ToolDeclaration {
    ToolDeclaration {
        name: name.into(),
        description: description.into(),
        parameters: parameters_for::<T>(),
    }
}

/// Converts one (sub)schema.
fn convert(schema: &Value, defs: &Map<String, Value>, depth: usize) -> Value {
    let Some(map) = schema.as_object() else {
        // `true` (any value) or `false` (nothing): no usable shape.
        return json!({});
    };
    if depth > MAX_DEPTH {
        return with_description(json!({"type": "object"}), map.get("description"));
    }
    if let Some(target) = map.get("$ref").and_then(Value::as_str) {
        let name = target.rsplit('/').next().unwrap_or(target);
        let resolved = defs.get(name).map_or_else(
            || json!({"type": "object"}),
            |d| convert(d, defs, depth + 1),
        );
        let mut merged = with_description(resolved, map.get("description"));
        if map.get("nullable") == Some(&Value::Bool(true)) {
            set(&mut merged, "nullable", json!(true));
        }
        return merged;
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(variants)) = map.get(key) {
            let mut converted = convert_alternatives(variants, defs, depth);
            let own = map
                .get("description")
                .and_then(Value::as_str)
                .filter(|d| !d.is_empty());
            let variant_docs = converted.get("description").and_then(Value::as_str);
            let description = match (own, variant_docs) {
                (Some(own), Some(docs)) if converted.get("enum").is_some() => {
                    format!("{own} {docs}")
                }
                (Some(own), _) => own.to_string(),
                (None, Some(docs)) => docs.to_string(),
                (None, None) => return converted,
            };
            set(&mut converted, "description", json!(description));
            return converted;
        }
    }
    if let Some(constant) = map.get("const") {
        let mut out = json!({"type": "string", "enum": [constant]});
        copy_description(&mut out, map);
        return out;
    }

    let (ty, nullable) = type_of(map);
    let mut out = Map::new();
    copy_description_into(&mut out, map);
    if let Some(values) = map.get("enum").and_then(Value::as_array) {
        let strings: Vec<Value> = values.iter().filter(|v| v.is_string()).cloned().collect();
        if !strings.is_empty() && ty.as_deref().is_none_or(|t| t == "string") {
            out.insert("type".into(), json!("string"));
            out.insert("enum".into(), Value::Array(strings));
            if nullable || values.iter().any(Value::is_null) {
                out.insert("nullable".into(), json!(true));
            }
            return Value::Object(out);
        }
    }
    if let Some(ty) = &ty {
        out.insert("type".into(), json!(ty));
    }
    if nullable {
        out.insert("nullable".into(), json!(true));
    }
    match ty.as_deref() {
        Some("object") => {
            if let Some(Value::Object(props)) = map.get("properties") {
                let converted: Map<String, Value> = props
                    .iter()
                    .map(|(k, v)| (k.clone(), convert(v, defs, depth + 1)))
                    .collect();
                let required: Vec<Value> = map
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| {
                        r.iter()
                            .filter(|k| k.as_str().is_some_and(|k| converted.contains_key(k)))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert("properties".into(), Value::Object(converted));
                if !required.is_empty() {
                    out.insert("required".into(), Value::Array(required));
                }
            }
        }
        Some("array") => {
            let items = match map.get("items") {
                Some(Value::Array(tuple)) => tuple.first().cloned(),
                Some(items) => Some(items.clone()),
                None => map
                    .get("prefixItems")
                    .and_then(Value::as_array)
                    .and_then(|t| t.first().cloned()),
            };
            if let Some(items) = items {
                let items = convert(&items, defs, depth + 1);
                if items.as_object().is_some_and(|m| !m.is_empty()) {
                    out.insert("items".into(), items);
                }
            }
        }
        _ => {}
    }
    Value::Object(out)
}

/// `anyOf` / `oneOf`.
fn convert_alternatives(variants: &[Value], defs: &Map<String, Value>, depth: usize) -> Value {
    let is_null =
        |v: &Value| v.get("type") == Some(&json!("null")) || v.get("const") == Some(&Value::Null);
    let non_null: Vec<&Value> = variants.iter().filter(|v| !is_null(v)).collect();
    let nullable = non_null.len() < variants.len();
    let mut out = if non_null.len() == 1 {
        convert(non_null[0], defs, depth + 1)
    } else if !non_null.is_empty()
        && non_null
            .iter()
            .all(|v| v.get("const").is_some_and(Value::is_string) || is_string_enum(v))
    {
        let mut values = Vec::new();
        let mut docs = Vec::new();
        for v in &non_null {
            let these: Vec<Value> = match v.get("const") {
                Some(c) => vec![c.clone()],
                None => v["enum"].as_array().cloned().unwrap_or_default(),
            };
            if let Some(doc) = v.get("description").and_then(Value::as_str) {
                let names: Vec<&str> = these.iter().filter_map(Value::as_str).collect();
                docs.push(format!("{}: {}", names.join("/"), doc));
            }
            values.extend(these);
        }
        let mut out = json!({"type": "string", "enum": values});
        if !docs.is_empty() {
            set(&mut out, "description", json!(docs.join(" ")));
        }
        out
    } else {
        let converted: Vec<Value> = non_null
            .iter()
            .map(|v| convert(v, defs, depth + 1))
            .collect();
        if !converted.is_empty()
            && converted
                .iter()
                .all(|v| v.get("type") == Some(&json!("object")))
        {
            let mut properties = Map::new();
            for variant in &converted {
                if let Some(Value::Object(props)) = variant.get("properties") {
                    for (k, v) in props {
                        properties.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
            json!({"type": "object", "properties": properties})
        } else {
            converted.into_iter().next().unwrap_or_else(|| json!({}))
        }
    };
    if nullable {
        set(&mut out, "nullable", json!(true));
    }
    out
}

fn is_string_enum(v: &Value) -> bool {
    v.get("enum")
        .and_then(Value::as_array)
        .is_some_and(|values| values.iter().all(Value::is_string))
}

/// The single type name and whether `null` is allowed.
fn type_of(map: &Map<String, Value>) -> (Option<String>, bool) {
    let explicit_null = map.get("nullable") == Some(&Value::Bool(true));
    match map.get("type") {
        Some(Value::String(t)) if t == "null" => (None, true),
        Some(Value::String(t)) => (Some(t.clone()), explicit_null),
        Some(Value::Array(types)) => {
            let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            let null = names.contains(&"null");
            let first = names.into_iter().find(|t| *t != "null").map(str::to_string);
            (first, null || explicit_null)
        }
        _ => {
            let inferred = if map.contains_key("properties") {
                Some("object".to_string())
            } else if map.contains_key("items") {
                Some("array".to_string())
            } else {
                None
            };
            (inferred, explicit_null)
        }
    }
}

fn copy_description(out: &mut Value, map: &Map<String, Value>) {
    if let Value::Object(out) = out {
        copy_description_into(out, map);
    }
}

fn copy_description_into(out: &mut Map<String, Value>, map: &Map<String, Value>) {
    if let Some(d) = map
        .get("description")
        .filter(|d| d.as_str().is_some_and(|s| !s.is_empty()))
    {
        out.insert("description".into(), d.clone());
    }
}

/// Sets the description when `description` is a non-empty string.
fn with_description(mut value: Value, description: Option<&Value>) -> Value {
    if let Some(d) = description.filter(|d| d.as_str().is_some_and(|s| !s.is_empty())) {
        set(&mut value, "description", d.clone());
    }
    value
}

fn set(value: &mut Value, key: &str, new: Value) {
    if let Value::Object(map) = value {
        map.insert(key.to_string(), new);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gemma::declaration::declaration;
    use schemars::JsonSchema;
    use std::collections::BTreeMap;

    /// How to match.
    #[allow(dead_code)]
    #[derive(JsonSchema)]
    #[serde(rename_all = "snake_case")]
    enum Mode {
        /// Byte for byte.
        Exact,
        /// Ignoring whitespace.
        Fuzzy,
    }

    #[allow(dead_code)]
    #[derive(JsonSchema)]
    enum Plain {
        A,
        B,
    }

    #[allow(dead_code)]
    #[derive(JsonSchema)]
    struct Edit {
        /// Text to find.
        old: String,
        new: String,
        count: Option<u32>,
    }

    /// Edit a file.
    #[allow(dead_code)]
    #[derive(JsonSchema)]
    struct EditArgs {
        /// Path relative to the repo.
        path: String,
        /// Edits in order.
        edits: Vec<Edit>,
        mode: Mode,
        plain: Option<Plain>,
        first: Option<Edit>,
        ratio: f64,
        dry_run: bool,
        env: BTreeMap<String, String>,
    }

    #[test]
    fn maps_a_schemars_schema() {
        let params = parameters_for::<EditArgs>();
        assert_eq!(
            params,
            json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "Path relative to the repo."},
                    "edits": {"type": "array", "description": "Edits in order.", "items": {
                        "type": "object",
                        "properties": {
                            "old": {"type": "string", "description": "Text to find."},
                            "new": {"type": "string"},
                            "count": {"type": "integer", "nullable": true}
                        },
                        "required": ["old", "new"]
                    }},
                    "mode": {"type": "string", "enum": ["exact", "fuzzy"],
                             "description": "How to match. exact: Byte for byte. fuzzy: Ignoring whitespace."},
                    "plain": {"type": "string", "enum": ["A", "B"], "nullable": true},
                    "first": {"type": "object", "nullable": true, "properties": {
                        "old": {"type": "string", "description": "Text to find."},
                        "new": {"type": "string"},
                        "count": {"type": "integer", "nullable": true}
                    }, "required": ["old", "new"]},
                    "ratio": {"type": "number"},
                    "dry_run": {"type": "boolean"},
                    "env": {"type": "object"}
                },
                "required": ["path", "edits", "mode", "ratio", "dry_run", "env"]
            })
        );
    }

    #[test]
    fn declaration_of_mapped_schema_is_clean() {
        let tool = tool_declaration::<EditArgs>("edit", "Edit a file.");
        let text = declaration(&tool).unwrap();
        for unwanted in [
            "$ref", "$defs", "format", "title", "NULL", "minimum", "[\"", "anyOf",
        ] {
            assert!(!text.contains(unwanted), "{unwanted} in {text}");
        }
        assert!(text.contains("count:{nullable:true,type:<|\"|>INTEGER<|\"|>}"));
    }

    #[test]
    fn recursive_refs_stop() {
        let schema = json!({"type": "object", "properties": {"node": {"$ref": "#/$defs/Node"}},
            "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}}});
        let params = parameters_from_schema(&schema);
        let mut depth = 0;
        let mut cur = &params["properties"]["node"];
        while let Some(next) = cur.get("properties").and_then(|p| p.get("next")) {
            cur = next;
            depth += 1;
        }
        assert!(depth > 2 && depth <= MAX_DEPTH + 1, "depth {depth}");
    }
}
