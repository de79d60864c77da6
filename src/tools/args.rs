//! Turning the model's JSON arguments into a tool's typed arguments, with errors that say
//! exactly what was wrong and which parameters are expected.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::ToolError;
use super::schema::{describe_parameters, property_types, schema_for};

/// Parses `args` into `T`. Forgives what small models often get wrong (a JSON object sent as a
/// string, numbers and booleans sent as strings, `null` for no arguments); anything else is an
/// [`ToolError::InvalidArguments`] listing the expected parameters.
pub fn parse_args<T: DeserializeOwned + JsonSchema>(
    tool: &'static str,
    args: Value,
) -> Result<T, ToolError> {
    let schema = schema_for::<T>();
    let args = coerce(unwrap_string_object(args), &schema);
    serde_json::from_value(args).map_err(|e| ToolError::InvalidArguments {
        tool,
        problem: e.to_string(),
        expected: describe_parameters(&schema),
    })
}

fn unwrap_string_object(args: Value) -> Value {
    match args {
        Value::Null => Value::Object(Default::default()),
        Value::String(text) => match serde_json::from_str::<Value>(&text) {
            Ok(object @ Value::Object(_)) => object,
            _ => Value::String(text),
        },
        other => other,
    }
}

fn coerce(mut args: Value, schema: &Value) -> Value {
    let (Some(object), Some(properties)) = (
        args.as_object_mut(),
        schema.get("properties").and_then(Value::as_object),
    ) else {
        return args;
    };
    for (name, value) in object.iter_mut() {
        let Some(property) = properties.get(name) else {
            continue;
        };
        let Value::String(text) = value else {
            continue;
        };
        let types = property_types(property);
        let text = text.trim();
        let coerced = if types.contains(&"integer") {
            text.parse::<i64>().ok().map(Value::from)
        } else if types.contains(&"number") {
            text.parse::<f64>().ok().map(Value::from)
        } else if types.contains(&"boolean") {
            text.parse::<bool>().ok().map(Value::from)
        } else {
            None
        };
        if let Some(coerced) = coerced {
            *value = coerced;
        }
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, JsonSchema, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Args {
        /// The file.
        path: String,
        /// First line.
        offset: Option<usize>,
        #[serde(default)]
        all: bool,
    }

    #[test]
    fn missing_field_names_it_and_lists_parameters() {
        let err = parse_args::<Args>("read_file", json!({"offset": 3})).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("missing field `path`"), "{text}");
        assert!(
            text.contains("- path (string, required): The file."),
            "{text}"
        );
        assert!(text.contains("Invalid arguments for read_file"), "{text}");
    }

    #[test]
    fn wrong_type_is_reported() {
        let err = parse_args::<Args>("t", json!({"path": 5})).unwrap_err();
        assert!(
            err.to_string().contains("invalid type: integer `5`"),
            "{err}"
        );
    }

    #[test]
    fn unknown_field_is_reported() {
        let err = parse_args::<Args>("t", json!({"file_path": "a"})).unwrap_err();
        assert!(
            err.to_string().contains("unknown field `file_path`"),
            "{err}"
        );
    }

    #[test]
    fn strings_are_coerced_to_numbers_and_booleans() {
        let args: Args =
            parse_args("t", json!({"path": "a", "offset": "7", "all": "true"})).unwrap();
        assert_eq!(
            args,
            Args {
                path: "a".into(),
                offset: Some(7),
                all: true
            }
        );
    }

    #[test]
    fn object_sent_as_string_is_accepted() {
        let args: Args = parse_args("t", json!("{\"path\": \"b\"}")).unwrap();
        assert_eq!(args.path, "b");
    }
}
