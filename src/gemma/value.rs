//! Gemma notation ↔ JSON values.
//!
//! Gemma writes values in declarations, calls and results like JSON with three
//! changes: object keys are bare (`{path:…}`), strings are wrapped in the
//! `<|"|>` token with no escaping inside (`<|"|>a "quoted" word<|"|>`), and
//! numbers are printed the way the chat template prints them.
//!
//! * [`to_notation`] writes a value and refuses what cannot be read back: a
//!   string containing `<|"|>` (there is no escape) and keys that a bare key
//!   cannot carry (see [`is_bare_key`]).
//! * [`write_template_value`] writes exactly what the chat template's
//!   `format_argument` macro writes, never failing. The renderer uses it, so a
//!   `<|"|>` inside a string is emitted verbatim like the template does; the
//!   renderer's spans mark such text as content so the engine can tokenize it
//!   as plain text (see [`crate::gemma::render`](mod@crate::gemma::render)).
//! * [`parse_notation`] reads canonical notation strictly; [`parse_lenient`]
//!   reads what models actually emit (unclosed strings, missing braces,
//!   single- or double-quoted strings, raw unquoted strings, `True`/`None`),
//!   optionally guided by the JSON schema of the arguments.
//!
//! Numbers follow minijinja, the template engine the conformance tests use:
//! integers as integers, floats as Rust's shortest round-trip decimal with
//! `.0` appended when it has no dot (`2.5`, `3.0`, `1e21` → `1000000000000000000000.0`).
//! Python's Jinja would print `1e+21` for the last; such floats are rare in
//! tool calls and the difference is documented rather than emulated.

use serde_json::{Map, Number, Value};
use thiserror::Error;

use crate::gemma::tags::STRING_DELIM;

/// Why a value could not be written or read.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ValueError {
    /// A string contains the `<|"|>` delimiter, which has no escape.
    #[error("string at {path} contains the <|\"|> delimiter, which Gemma notation cannot escape")]
    DelimiterInString {
        /// JSON-pointer-like path of the string.
        path: String,
    },
    /// An object key cannot be written bare.
    #[error("object key {key:?} at {path} cannot be written as a bare Gemma key")]
    UnrepresentableKey {
        /// The key.
        key: String,
        /// Path of the object.
        path: String,
    },
    /// The text is not valid notation.
    #[error("invalid Gemma notation at byte {offset}: {message}")]
    Syntax {
        /// Byte offset of the problem.
        offset: usize,
        /// What was wrong.
        message: String,
    },
}

/// Formats a number exactly as minijinja prints it.
pub fn format_number(n: &Number) -> String {
    if let Some(u) = n.as_u64() {
        u.to_string()
    } else if let Some(i) = n.as_i64() {
        i.to_string()
    } else {
        // serde_json numbers are finite: as_f64 is Some for every float.
        let f = n.as_f64().unwrap_or(0.0);
        let mut s = f.to_string();
        if !s.contains('.') && f.is_finite() {
            s.push_str(".0");
        }
        s
    }
}

/// Keys in the order of the template's `dictsort` under minijinja: ASCII
/// case-insensitive, ties in byte order.
pub fn sorted_keys(map: &Map<String, Value>) -> Vec<&String> {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by(|a, b| {
        a.to_ascii_lowercase()
            .cmp(&b.to_ascii_lowercase())
            .then_with(|| a.cmp(b))
    });
    keys
}

/// Where [`write_template_value`] writes: structure goes to `markup`, the text
/// of strings to `content` (the renderer keeps the two apart).
pub trait NotationOut {
    /// Appends structural text (delimiters, keys, numbers, keywords).
    fn markup(&mut self, text: &str);
    /// Appends the text of a string value.
    fn content(&mut self, text: &str) {
        self.markup(text);
    }
}

impl NotationOut for String {
    fn markup(&mut self, text: &str) {
        self.push_str(text);
    }
}

/// Writes `value` as the template's `format_argument(value, escape_keys)`
/// does: keys bare (or wrapped in `<|"|>` when `escape_keys`), strings in
/// `<|"|>` verbatim. Never fails.
pub fn write_template_value<O: NotationOut + ?Sized>(
    out: &mut O,
    value: &Value,
    escape_keys: bool,
) {
    match value {
        Value::Null => out.markup("null"),
        Value::Bool(b) => out.markup(if *b { "true" } else { "false" }),
        Value::Number(n) => out.markup(&format_number(n)),
        Value::String(s) => {
            out.markup(STRING_DELIM);
            out.content(s);
            out.markup(STRING_DELIM);
        }
        Value::Array(items) => {
            out.markup("[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.markup(",");
                }
                write_template_value(out, item, escape_keys);
            }
            out.markup("]");
        }
        Value::Object(map) => {
            out.markup("{");
            for (i, key) in sorted_keys(map).into_iter().enumerate() {
                if i > 0 {
                    out.markup(",");
                }
                if escape_keys {
                    out.markup(STRING_DELIM);
                    out.markup(key);
                    out.markup(STRING_DELIM);
                } else {
                    out.markup(key);
                }
                out.markup(":");
                write_template_value(out, &map[key.as_str()], escape_keys);
            }
            out.markup("}");
        }
    }
}

/// Whether `key` can be written bare and read back unchanged: not containing
/// `: , { } [ ]` or `<|"|>`, no leading or trailing whitespace, not starting
/// with a quote character.
pub fn is_bare_key(key: &str) -> bool {
    !key.contains([':', ',', '{', '}', '[', ']'])
        && !key.contains(STRING_DELIM)
        && key.trim() == key
        && !key.starts_with(['"', '\''])
}

/// Writes `value` in Gemma notation (bare keys), refusing what cannot be read
/// back by [`parse_notation`].
pub fn to_notation(value: &Value) -> Result<String, ValueError> {
    check_representable(value, &mut String::new())?;
    let mut out = String::new();
    write_template_value(&mut out, value, false);
    Ok(out)
}

/// Fails on the first string or key that notation cannot carry.
fn check_representable(value: &Value, path: &mut String) -> Result<(), ValueError> {
    match value {
        Value::String(s) if s.contains(STRING_DELIM) => Err(ValueError::DelimiterInString {
            path: path_label(path),
        }),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                check_representable(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Object(map) => {
            for (key, item) in map {
                if !is_bare_key(key) {
                    return Err(ValueError::UnrepresentableKey {
                        key: key.clone(),
                        path: path_label(path),
                    });
                }
                let len = path.len();
                path.push('/');
                path.push_str(key);
                check_representable(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn path_label(path: &str) -> String {
    if path.is_empty() {
        "/".to_string()
    } else {
        path.to_string()
    }
}

/// Reads canonical Gemma notation (the whole text must be one value); the tests read rendered
/// values back with it.
#[cfg(test)]
pub fn parse_notation(text: &str) -> Result<Value, ValueError> {
    let mut parser = NotationParser::new(text, true);
    let value = parser.value(None, Context::Top)?;
    parser.skip_ws();
    if parser.pos < text.len() {
        return Err(parser.error("unexpected text after the value"));
    }
    Ok(value)
}

/// The result of a lenient parse.
#[derive(Debug, Clone, PartialEq)]
pub struct Lenient {
    /// The value read.
    pub value: Value,
    /// Bytes of the input consumed.
    pub consumed: usize,
    /// What had to be repaired (empty for well-formed input).
    pub repairs: Vec<String>,
}

/// Reads one value the way models write it, starting at the beginning of
/// `text`. `schema` (JSON schema of the value, as in a tool declaration) turns
/// raw unquoted text into strings where it says `string`, and keeps number-like
/// text of string properties as strings.
pub fn parse_lenient(text: &str, schema: Option<&Value>) -> Result<Lenient, ValueError> {
    let mut parser = NotationParser::new(text, false);
    let value = parser.value(schema, Context::Top)?;
    Ok(Lenient {
        value,
        consumed: parser.pos,
        repairs: parser.repairs,
    })
}

/// Where a value sits, which decides what ends a raw value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Context<'s> {
    Top,
    Array,
    Object(Option<&'s Value>),
}

/// Recursive-descent reader for strict and lenient notation.
struct NotationParser<'a> {
    text: &'a str,
    pos: usize,
    strict: bool,
    /// Closers of the containers open around the current position.
    open: Vec<char>,
    repairs: Vec<String>,
}

/// Depth beyond which nested containers are refused (no stack overflow).
const MAX_DEPTH: usize = 128;

impl<'a> NotationParser<'a> {
    fn new(text: &'a str, strict: bool) -> Self {
        NotationParser {
            text,
            pos: 0,
            strict,
            open: Vec::new(),
            repairs: Vec::new(),
        }
    }

    fn error(&self, message: &str) -> ValueError {
        ValueError::Syntax {
            offset: self.pos,
            message: message.to_string(),
        }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn value(&mut self, schema: Option<&Value>, ctx: Context<'_>) -> Result<Value, ValueError> {
        self.skip_ws();
        let rest = self.rest();
        if rest.starts_with(STRING_DELIM) {
            self.pos += STRING_DELIM.len();
            return Ok(Value::String(self.delimited_string()?));
        }
        match self.peek() {
            None => Err(self.error("expected a value")),
            Some('{') => self.object(schema),
            Some('[') => self.array(schema),
            Some('"') if !self.strict => {
                self.pos += 1;
                Ok(Value::String(self.json_string()?))
            }
            Some('\'') if !self.strict => {
                self.pos += 1;
                self.repairs.push("single-quoted string".into());
                Ok(Value::String(self.single_quoted_string()))
            }
            Some(_) => self.scalar(schema, ctx),
        }
    }

    /// Content up to the closing `<|"|>`; an unclosed string runs to the end
    /// (lenient), dropping closers of the open containers at its end.
    fn delimited_string(&mut self) -> Result<String, ValueError> {
        let rest = self.rest();
        if let Some(end) = rest.find(STRING_DELIM) {
            self.pos += end + STRING_DELIM.len();
            return Ok(rest[..end].to_string());
        }
        if self.strict {
            return Err(self.error("unclosed <|\"|> string"));
        }
        self.repairs.push("unclosed <|\"|> string".into());
        self.pos = self.text.len();
        Ok(self.strip_open_closers(rest).to_string())
    }

    /// Drops, from the end of an unclosed string, the closers of the
    /// containers still open (innermost first): `abc}` in `{k:<|"|>abc}`.
    fn strip_open_closers<'s>(&self, content: &'s str) -> &'s str {
        let mut content = content.trim_end();
        for closer in self.open.iter().rev() {
            match content.strip_suffix(*closer) {
                Some(shorter) => content = shorter.trim_end(),
                None => break,
            }
        }
        content
    }

    /// A JSON double-quoted string (escapes decoded); unclosed runs to the end.
    fn json_string(&mut self) -> Result<String, ValueError> {
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, 'b')) => out.push('\u{8}'),
                    Some((_, 'f')) => out.push('\u{c}'),
                    Some((_, 'u')) => {
                        let hex: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                        let unit = u32::from_str_radix(&hex, 16).unwrap_or(0xFFFD);
                        out.push(char::from_u32(unit).unwrap_or('\u{FFFD}'));
                    }
                    Some((_, other)) => out.push(other),
                    None => out.push('\\'),
                },
                c => out.push(c),
            }
        }
        self.repairs.push("unclosed \" string".into());
        let content = out.clone();
        self.pos = self.text.len();
        Ok(self.strip_open_closers(&content).to_string())
    }

    /// A single-quoted string: ends at a `'` followed by a delimiter.
    fn single_quoted_string(&mut self) -> String {
        let rest = self.rest();
        let mut out = String::new();
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' if matches!(chars.peek(), Some((_, '\'' | '\\'))) => {
                    if let Some((_, escaped)) = chars.next() {
                        out.push(escaped);
                    }
                }
                '\'' => {
                    let after = rest[i + 1..].trim_start();
                    if after.is_empty() || after.starts_with([',', '}', ']']) {
                        self.pos += i + 1;
                        return out;
                    }
                    out.push(c);
                }
                c => out.push(c),
            }
        }
        self.repairs.push("unclosed ' string".into());
        self.pos = self.text.len();
        self.strip_open_closers(&out).to_string()
    }

    fn enter(&mut self, closer: char) -> Result<(), ValueError> {
        if self.open.len() >= MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        self.open.push(closer);
        self.pos += 1;
        Ok(())
    }

    fn object(&mut self, schema: Option<&Value>) -> Result<Value, ValueError> {
        self.enter('}')?;
        let mut map = Map::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => {
                    if self.strict {
                        return Err(self.error("unclosed object"));
                    }
                    self.repairs.push("missing }".into());
                    break;
                }
                Some('}') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => {}
            }
            let key = self.key()?;
            self.skip_ws();
            if self.peek() != Some(':') {
                return Err(self.error("expected ':' after the key"));
            }
            self.pos += 1;
            let item_schema = property_schema(schema, &key);
            let value = self.value(item_schema, Context::Object(schema))?;
            map.insert(key, value);
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    self.pos += 1;
                    if self.strict {
                        self.skip_ws();
                        if self.peek() == Some('}') {
                            return Err(self.error("trailing comma"));
                        }
                    }
                }
                Some('}') => {
                    self.pos += 1;
                    break;
                }
                None if !self.strict => {
                    self.repairs.push("missing }".into());
                    break;
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
        self.open.pop();
        Ok(Value::Object(map))
    }

    fn key(&mut self) -> Result<String, ValueError> {
        let rest = self.rest();
        if rest.starts_with(STRING_DELIM) {
            self.pos += STRING_DELIM.len();
            return self.delimited_string();
        }
        if !self.strict {
            if rest.starts_with('"') {
                self.pos += 1;
                return self.json_string();
            }
            if rest.starts_with('\'') {
                self.pos += 1;
                let end = self.rest().find('\'').unwrap_or(self.rest().len());
                let key = self.rest()[..end].to_string();
                self.pos = (self.pos + end + 1).min(self.text.len());
                return Ok(key);
            }
        }
        let end = rest
            .find([':', ',', '{', '}', '[', ']'])
            .unwrap_or(rest.len());
        if rest[end..].starts_with(':') {
            self.pos += end;
            Ok(rest[..end].trim().to_string())
        } else {
            Err(self.error("expected a key"))
        }
    }

    fn array(&mut self, schema: Option<&Value>) -> Result<Value, ValueError> {
        self.enter(']')?;
        let items_schema = schema.and_then(|s| s.get("items"));
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => {
                    if self.strict {
                        return Err(self.error("unclosed array"));
                    }
                    self.repairs.push("missing ]".into());
                    break;
                }
                Some(']') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => {}
            }
            items.push(self.value(items_schema, Context::Array)?);
            self.skip_ws();
            match self.peek() {
                Some(',') => {
                    self.pos += 1;
                    if self.strict {
                        self.skip_ws();
                        if self.peek() == Some(']') {
                            return Err(self.error("trailing comma"));
                        }
                    }
                }
                Some(']') => {
                    self.pos += 1;
                    break;
                }
                None if !self.strict => {
                    self.repairs.push("missing ]".into());
                    break;
                }
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
        self.open.pop();
        Ok(Value::Array(items))
    }

    /// Numbers, `true`/`false`/`null` and (lenient) raw unquoted text.
    fn scalar(&mut self, schema: Option<&Value>, ctx: Context<'_>) -> Result<Value, ValueError> {
        let rest = self.rest();
        let token_len = rest
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | '}' | ']'))
            .unwrap_or(rest.len());
        let token = &rest[..token_len];
        let wants_string = schema_type(schema).as_deref() == Some("string");
        let keyword = match token {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            "null" => Some(Value::Null),
            "True" | "False" | "None" if !self.strict => Some(match token {
                "True" => Value::Bool(true),
                "False" => Value::Bool(false),
                _ => Value::Null,
            }),
            _ => None,
        };
        let parsed = keyword.or_else(|| parse_number(token).map(Value::Number));
        if let Some(value) = parsed {
            if !self.strict && wants_string && !value.is_null() {
                self.repairs.push("unquoted string".into());
                self.pos += token_len;
                return Ok(Value::String(token.to_string()));
            }
            self.pos += token_len;
            return Ok(value);
        }
        if self.strict {
            return Err(self.error("expected a value"));
        }
        let end = self.raw_end(ctx, wants_string);
        let raw = rest[..end].trim();
        if raw.is_empty() {
            return Err(self.error("expected a value"));
        }
        self.pos += end;
        self.repairs.push("unquoted string".into());
        Ok(match schema_type(schema).as_deref() {
            Some("boolean") if raw.eq_ignore_ascii_case("true") => Value::Bool(true),
            Some("boolean") if raw.eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => Value::String(raw.to_string()),
        })
    }

    /// End (relative to `pos`) of a raw unquoted value.
    fn raw_end(&self, ctx: Context<'_>, wants_string: bool) -> usize {
        let rest = self.rest();
        match ctx {
            Context::Top => rest.len(),
            Context::Array => rest.find([',', ']']).unwrap_or(rest.len()),
            Context::Object(object_schema) => {
                let keys = property_names(object_schema);
                if wants_string && !keys.is_empty() {
                    // A string property may hold commas and braces: it ends
                    // at `,KEY:` for a declared KEY, else at the last `}`.
                    for (i, _) in rest.match_indices(',') {
                        let after = rest[i + 1..].trim_start();
                        let after = after.strip_prefix(STRING_DELIM).unwrap_or(after);
                        let after = after.trim_start_matches(['"', '\'']);
                        if keys.iter().any(|k| {
                            after.strip_prefix(k.as_str()).is_some_and(|r| {
                                r.trim_start_matches(['"', '\''])
                                    .trim_start_matches(STRING_DELIM)
                                    .trim_start()
                                    .starts_with(':')
                            })
                        }) {
                            return i;
                        }
                    }
                    let trimmed = rest.trim_end();
                    return trimmed.strip_suffix('}').map_or(rest.len(), str::len);
                }
                rest.find([',', '}']).unwrap_or(rest.len())
            }
        }
    }
}

/// Parses a JSON-syntax number; integers stay integers when they fit.
fn parse_number(token: &str) -> Option<Number> {
    let bytes = token.as_bytes();
    let mut i = usize::from(bytes.first() == Some(&b'-'));
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    if i == int_start {
        return None;
    }
    let mut is_float = false;
    if i < bytes.len() && bytes[i] == b'.' {
        is_float = true;
        i += 1;
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        is_float = true;
        i += 1;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i != bytes.len() {
        return None;
    }
    if !is_float {
        if let Ok(u) = token.parse::<u64>() {
            return Some(Number::from(u));
        }
        if let Ok(n) = token.parse::<i64>() {
            return Some(Number::from(n));
        }
    }
    token.parse::<f64>().ok().and_then(Number::from_f64)
}

/// The (lower-cased) type a JSON schema names; the first non-null one of a
/// type list.
pub fn schema_type(schema: Option<&Value>) -> Option<String> {
    match schema?.get("type")? {
        Value::String(t) => Some(t.to_ascii_lowercase()),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| !t.eq_ignore_ascii_case("null"))
            .map(str::to_ascii_lowercase),
        _ => None,
    }
}

/// The schema of property `key` of an object schema.
fn property_schema<'s>(schema: Option<&'s Value>, key: &str) -> Option<&'s Value> {
    schema?.get("properties")?.get(key)
}

/// The declared property names of an object schema.
fn property_names(schema: Option<&Value>) -> Vec<String> {
    schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|props| props.keys().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn writes_template_notation() {
        let value =
            json!({"b": [1, -2, 2.5, 3.0], "A": {"x": null, "y": true}, "s": "hi \"there\""});
        assert_eq!(
            to_notation(&value).unwrap(),
            "{A:{x:null,y:true},b:[1,-2,2.5,3.0],s:<|\"|>hi \"there\"<|\"|>}"
        );
        let mut escaped = String::new();
        write_template_value(&mut escaped, &json!({"k": ["v"]}), true);
        assert_eq!(escaped, "{<|\"|>k<|\"|>:[<|\"|>v<|\"|>]}");
    }

    #[test]
    fn number_format_matches_minijinja() {
        for v in [
            json!(0),
            json!(-7),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(0.1),
            json!(-0.0),
            json!(1e21),
            json!(1.5e-7),
            json!(123456.0),
        ] {
            let Value::Number(n) = &v else { unreachable!() };
            let ours = format_number(n);
            let theirs = minijinja::Value::from(minijinja::value::Serde(&v)).to_string();
            assert_eq!(ours, theirs, "for {v}");
        }
    }

    #[test]
    fn refuses_delimiter_and_bad_keys() {
        assert!(matches!(
            to_notation(&json!({"a": ["x<|\"|>y"]})),
            Err(ValueError::DelimiterInString { path }) if path == "/a/0"
        ));
        assert!(matches!(
            to_notation(&json!({"a:b": 1})),
            Err(ValueError::UnrepresentableKey { .. })
        ));
        assert!(to_notation(&json!({"with space": 1})).is_ok());
    }

    #[test]
    fn dictsort_order_is_case_insensitive() {
        let value = json!({"b": 1, "B": 2, "a": 3, "_": 4, "Z": 5});
        let Value::Object(map) = value else {
            unreachable!()
        };
        let keys: Vec<String> = sorted_keys(&map).into_iter().cloned().collect();
        assert_eq!(keys, expected_dictsort(&["b", "B", "a", "_", "Z"]));
    }

    /// What minijinja's `dictsort` gives for these keys.
    fn expected_dictsort(keys: &[&str]) -> Vec<String> {
        let env = minijinja::Environment::new();
        let map: serde_json::Map<String, Value> =
            keys.iter().map(|k| (k.to_string(), json!(0))).collect();
        let out = env
            .render_str(
                "{% for k, v in m|dictsort %}{{ k }} {% endfor %}",
                minijinja::context! { m => minijinja::value::Serde(map) },
            )
            .unwrap();
        out.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_canonical_notation() {
        let text = "{a:[1,2.5,<|\"|>x, y<|\"|>],b:{c:null,d:false},e:-3}";
        assert_eq!(
            parse_notation(text).unwrap(),
            json!({"a": [1, 2.5, "x, y"], "b": {"c": null, "d": false}, "e": -3})
        );
        assert!(parse_notation("{a:1").is_err());
        assert!(parse_notation("{a:raw}").is_err());
        assert!(parse_notation("{a:1,}").is_err());
    }

    #[test]
    fn lenient_repairs_common_quirks() {
        let schema = json!({"type": "object", "properties": {
            "path": {"type": "string"}, "cmd": {"type": "string"}, "n": {"type": "integer"}}});
        let cases = [
            ("{path:<|\"|>src/a.rs}", json!({"path": "src/a.rs"})),
            ("{path:<|\"|>src/a.rs<|\"|>", json!({"path": "src/a.rs"})),
            ("{path:'it''s'}", json!({"path": "it''s"})),
            ("{path:'a', n:2}", json!({"path": "a", "n": 2})),
            ("{\"path\": \"a\\nb\"}", json!({"path": "a\nb"})),
            ("{path:src/main.rs}", json!({"path": "src/main.rs"})),
            ("{cmd:ls -a, b,n:3}", json!({"cmd": "ls -a, b", "n": 3})),
            ("{cmd:echo {x}}", json!({"cmd": "echo {x}"})),
            ("{path:1.10}", json!({"path": "1.10"})),
            ("{n:True}", json!({"n": true})),
        ];
        for (text, expected) in cases {
            let got = parse_lenient(text, Some(&schema)).unwrap();
            assert_eq!(got.value, expected, "for {text}");
        }
        let plain = parse_lenient("{a:1}", Some(&schema)).unwrap();
        assert!(plain.repairs.is_empty());
        assert_eq!(plain.consumed, 5);
    }

    #[test]
    fn lenient_without_schema_cuts_raw_at_commas() {
        let got = parse_lenient("{a:hello world,b:2}", None).unwrap();
        assert_eq!(got.value, json!({"a": "hello world", "b": 2}));
        assert!(parse_lenient("{a:}", None).is_err());
        assert!(parse_lenient("{a 1}", None).is_err());
        assert_eq!(
            parse_lenient("{:::}", None).unwrap().value,
            json!({"": "::"})
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let text = "[".repeat(10_000);
        assert!(parse_lenient(&text, None).is_err());
        assert!(parse_notation(&text).is_err());
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            "(?s).{0,12}".prop_map(Value::String),
            "[ -~\\n\\t{}:,\"'<>|]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("[^\\s:,{}\\[\\]\"'][^:,{}\\[\\]]{0,6}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 512,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn json_to_notation_round_trips(value in arb_json()) {
            match to_notation(&value) {
                Ok(text) => {
                    prop_assert_eq!(&parse_notation(&text).unwrap(), &value);
                    let lenient = parse_lenient(&text, None).unwrap();
                    prop_assert_eq!(&lenient.value, &value);
                    prop_assert_eq!(lenient.consumed, text.len());
                }
                Err(ValueError::DelimiterInString { .. }) => {
                    prop_assert!(serde_json::to_string(&value).unwrap().contains("<|\\\"|>"));
                }
                Err(ValueError::UnrepresentableKey { key, .. }) => prop_assert!(!is_bare_key(&key)),
                Err(other) => prop_assert!(false, "unexpected error {other}"),
            }
        }

        #[test]
        fn lenient_never_panics(text in "(?s).{0,64}") {
            let _ = parse_lenient(&text, None);
        }
    }
}
