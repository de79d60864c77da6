//! A GBNF grammar (llama.cpp's grammar format) for Gemma 4 tool calls, built
//! from the tool declarations, applied lazily by the engine from the moment
//! the model emits `<|tool_call>`.
//!
//! Shape: one to `max_calls` calls back to back,
//! `<|tool_call>call:NAME{key:value,…}<tool_call|>`, NAME among the declared
//! tools, arguments in Gemma notation matching each tool's schema: keys in
//! the order the template writes them (sorted), required keys present,
//! optional ones optional, no whitespace — i.e. the canonical form the
//! renderer writes back, which keeps the prompt append-only. Numbers are
//! written without exponent. After the last `<tool_call|>` only an
//! end-of-generation token is allowed (the model emits `<|tool_response>`).
//!
//! **The grammar includes the opening `<|tool_call>`.** llama.cpp feeds the
//! trigger into the grammar: a trigger token (`grammar_lazy_patterns`'
//! `trigger_tokens`, resolve [`CallGrammar::trigger_tokens_text`] to ids
//! with the model's tokenizer; 48 in the released vocabulary) is accepted by
//! the grammar as its first token, and a trigger pattern replays the text
//! from its first capture group. Prefer the token: the pattern is
//! re-matched against all text generated so far at every token.
//!
//! **Special tokens.** Gemma's `<|tool_call>`, `<tool_call|>` and `<|"|>` are
//! single vocabulary entries. llama.cpp (llama-cpp-sys-2 0.1.160,
//! `llama-grammar.cpp`) matches a candidate token against character rules by
//! its piece *with* special tokens printed, so a quoted literal `"<|\"|>"`
//! would match the special token but also the five characters spelled out by
//! ordinary tokens; the grammar's token syntax `<|"|>` (an angle-bracketed
//! token text, tokenized at grammar parse time and required to be exactly one
//! token; `<[52]>` by id works too) matches only the special token. With
//! [`GrammarOptions::special_tokens`] (default) the closing `<tool_call|>`
//! and the string delimiters use token syntax, so the model's output
//! tokenizes exactly as the rendered prompt will; the opening tag accepts
//! either form (a pattern trigger may have seen it spelled out). Token syntax
//! needs the model's vocabulary when the grammar is parsed (llama-cpp-2's
//! samplers pass it); without one, set `special_tokens: false` for quoted
//! literals everywhere.
//!
//! **Strings** are `<|"|>…<|"|>` with any text inside that does not contain
//! the delimiter text `<|"|>` (exact, by a small automaton). With
//! [`GrammarOptions::max_string_chars`] a string holds at most that many
//! units (a character, or `<` runs of up to 4 followed by up to 4 more
//! characters), and the forms `<|<`, `<|"<`, `<|"|<` are not allowed — meant
//! for random-weight test models, which rarely stop on their own.

use std::fmt::Write as _;

use serde_json::Value;
use thiserror::Error;

use crate::gemma::declaration::ToolDeclaration;
use crate::gemma::declaration::truthy;
use crate::gemma::tags::{STRING_DELIM, TOOL_CALL_CLOSE, TOOL_CALL_OPEN};
use crate::gemma::value::{schema_type, sorted_keys};

/// Limits of the grammar.
#[derive(Debug, Clone, PartialEq)]
pub struct GrammarOptions {
    /// Bound on the units of a string (see the module docs); `None`: unbounded.
    pub max_string_chars: Option<usize>,
    /// Bound on array items; `None`: unbounded.
    pub max_array_items: Option<usize>,
    /// Calls in one batch (at least 1).
    pub max_calls: usize,
    /// Nesting allowed in values whose schema says nothing (untyped).
    pub max_untyped_depth: usize,
    /// Use token syntax for Gemma's special tokens (needs the vocabulary when
    /// llama.cpp parses the grammar).
    pub special_tokens: bool,
}

impl Default for GrammarOptions {
    /// Unbounded strings and arrays, up to 8 calls, untyped depth 3, token syntax.
    fn default() -> Self {
        GrammarOptions {
            max_string_chars: None,
            max_array_items: None,
            max_calls: 8,
            max_untyped_depth: 3,
            special_tokens: true,
        }
    }
}

impl GrammarOptions {
    /// Small bounds for random-weight test models.
    pub fn bounded() -> Self {
        GrammarOptions {
            max_string_chars: Some(16),
            max_array_items: Some(3),
            max_calls: 2,
            max_untyped_depth: 1,
            special_tokens: true,
        }
    }
}

/// The grammar and how to trigger it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallGrammar {
    /// GBNF text.
    pub gbnf: String,
    /// Name of the start rule.
    pub root: String,
    /// Regexes for `grammar_lazy_patterns` (the grammar starts at the first
    /// capture group).
    pub trigger_patterns: Vec<String>,
    /// Texts of the trigger tokens; resolve to ids with the model's tokenizer.
    pub trigger_tokens_text: Vec<String>,
}

/// Why no grammar could be built.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum GrammarError {
    /// Without declared tools there is nothing to call.
    #[error("no tools declared: no call grammar")]
    NoTools,
}

/// Builds the call grammar for `tools`.
pub fn call_grammar(
    tools: &[ToolDeclaration],
    opts: &GrammarOptions,
) -> Result<CallGrammar, GrammarError> {
    if tools.is_empty() {
        return Err(GrammarError::NoTools);
    }
    let mut builder = Builder {
        opts: opts.clone(),
        rules: Vec::new(),
        untyped_done: false,
    };
    let mut alternatives = Vec::new();
    for (index, tool) in tools.iter().enumerate() {
        let args = builder.object_rule(&format!("t{index}"), Some(&tool.parameters));
        alternatives.push(format!("{} {args}", literal(&tool.name)));
    }
    builder.add("tool", alternatives.join(" | "));
    builder.add("call", "open \"call:\" tool close".to_string());
    let (open, close, quote) = if opts.special_tokens {
        (
            format!("{TOOL_CALL_OPEN} | {}", literal(TOOL_CALL_OPEN)),
            TOOL_CALL_CLOSE.to_string(),
            STRING_DELIM.to_string(),
        )
    } else {
        (
            literal(TOOL_CALL_OPEN),
            literal(TOOL_CALL_CLOSE),
            literal(STRING_DELIM),
        )
    };
    builder.add("open", open);
    builder.add("close", close);
    builder.add("q", quote);
    builder.string_rules();
    builder.add("integer", "\"0\" | \"-\"? [1-9] [0-9]{0,17}".to_string());
    // `-0` is not allowed: it parses to 0 and renders back as `0`, breaking prefix reuse.
    builder.add(
        "number",
        "\"-\"? ( \"0\" | [1-9] [0-9]{0,17} ) ( \".\" [0-9]{1,17} )?".to_string(),
    );
    builder.add("boolean", "\"true\" | \"false\"".to_string());
    let extra = opts.max_calls.max(1) - 1;
    let root = if extra == 0 {
        "call".to_string()
    } else {
        format!("call call{{0,{extra}}}")
    };
    let mut gbnf = format!("root ::= {root}\n");
    for (name, body) in &builder.rules {
        let _ = writeln!(gbnf, "{name} ::= {body}");
    }
    Ok(CallGrammar {
        gbnf,
        root: "root".to_string(),
        trigger_patterns: vec![format!(
            "[\\s\\S]*?({})[\\s\\S]*",
            regex_escape(TOOL_CALL_OPEN)
        )],
        trigger_tokens_text: vec![TOOL_CALL_OPEN.to_string()],
    })
}

/// Accumulates rules.
struct Builder {
    opts: GrammarOptions,
    rules: Vec<(String, String)>,
    untyped_done: bool,
}

impl Builder {
    fn add(&mut self, name: &str, body: String) {
        self.rules.push((name.to_string(), body));
    }

    /// The rule for a value of `schema`; returns its name.
    fn value_rule(&mut self, name: &str, schema: Option<&Value>) -> String {
        let nullable = schema.is_some_and(|s| {
            truthy(s.get("nullable"))
                || s.get("type")
                    .and_then(Value::as_array)
                    .is_some_and(|t| t.iter().any(|t| t == "null"))
        });
        let body = match schema_type(schema).as_deref() {
            Some("string") => {
                let values: Vec<&str> = schema
                    .and_then(|s| s.get("enum"))
                    .and_then(Value::as_array)
                    .map(|e| e.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if values.is_empty() {
                    "string".to_string()
                } else {
                    let alternatives: Vec<String> = values
                        .iter()
                        .map(|v| format!("q {} q", literal(v)))
                        .collect();
                    format!("( {} )", alternatives.join(" | "))
                }
            }
            Some("integer") => "integer".to_string(),
            Some("number") => "number".to_string(),
            Some("boolean") => "boolean".to_string(),
            Some("array") => {
                let items = schema
                    .and_then(|s| s.get("items"))
                    .filter(|i| i.is_object());
                let item = match items {
                    Some(items) => self.value_rule(&format!("{name}-i"), Some(items)),
                    None => self.untyped_rule(),
                };
                format!(
                    "\"[\" ( {item} {} )? \"]\"",
                    self.repeat(&format!("\",\" {item}"), self.opts.max_array_items)
                )
            }
            Some("object") => self.object_rule(name, schema),
            Some(_) | None => self.untyped_rule(),
        };
        let body = if nullable {
            format!("{body} | \"null\"")
        } else {
            body
        };
        self.add(name, body);
        name.to_string()
    }

    /// `{…}` for an object schema; returns the rule name.
    fn object_rule(&mut self, name: &str, schema: Option<&Value>) -> String {
        let properties = schema
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object);
        let Some(properties) = properties.filter(|p| !p.is_empty()) else {
            if schema_type(schema).as_deref() == Some("object")
                && schema.and_then(|s| s.get("properties")).is_some()
            {
                // Declared with no properties: no arguments.
                let rule = format!("{name}-o");
                self.add(&rule, "\"{\" \"}\"".to_string());
                return rule;
            }
            return self.untyped_object_rule();
        };
        let required: Vec<&str> = schema
            .and_then(|s| s.get("required"))
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let keys = sorted_keys(properties);
        let mut pairs = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let value = self.value_rule(&format!("{name}-p{i}"), properties.get(key.as_str()));
            pairs.push((
                format!("{} {value}", literal(&format!("{key}:"))),
                required.contains(&key.as_str()),
            ));
        }
        // after(i): the rest once something has been written.
        let after = |from: usize| -> String {
            pairs[from..]
                .iter()
                .map(|(pair, req)| {
                    if *req {
                        format!("\",\" {pair}")
                    } else {
                        format!("( \",\" {pair} )?")
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        // first(i): nothing written yet, at property i; may be empty when
        // every property from i on is optional.
        // first(i + 1) is only used when property i is optional.
        let mut needed = vec![false; pairs.len()];
        needed[0] = true;
        for i in 1..pairs.len() {
            needed[i] = needed[i - 1] && !pairs[i - 1].1;
        }
        let mut later: Option<String> = None;
        for i in (0..pairs.len()).rev() {
            if !needed[i] {
                continue;
            }
            let (pair, req) = &pairs[i];
            let take = format!("{pair} {}", after(i + 1)).trim_end().to_string();
            let body = match (*req, &later) {
                (true, _) => take,
                (false, None) => format!("( {take} )?"),
                (false, Some(next)) => format!("{take} | {next}"),
            };
            let rule = format!("{name}-f{i}");
            self.add(&rule, body);
            later = Some(rule);
        }
        let body = format!("\"{{\" {name}-f0 \"}}\"");
        let rule = format!("{name}-o");
        self.add(&rule, body);
        rule
    }

    /// `x*` or `x{0,n-1}` (for the repetitions after a first item).
    fn repeat(&self, item: &str, bound: Option<usize>) -> String {
        match bound {
            None => format!("( {item} )*"),
            Some(0 | 1) => String::new(),
            Some(n) => format!("( {item} ){{0,{}}}", n - 1),
        }
    }

    /// Any value of nesting up to `max_untyped_depth`; returns the rule name.
    fn untyped_rule(&mut self) -> String {
        self.untyped_rules();
        format!("any{}", self.opts.max_untyped_depth)
    }

    fn untyped_object_rule(&mut self) -> String {
        self.untyped_rules();
        format!("anyobj{}", self.opts.max_untyped_depth.max(1))
    }

    fn untyped_rules(&mut self) {
        if self.untyped_done {
            return;
        }
        self.untyped_done = true;
        self.add("key", "[a-zA-Z_] [a-zA-Z0-9_]{0,31}".to_string());
        let scalars = "string | number | \"true\" | \"false\" | \"null\"";
        self.add("any0", scalars.to_string());
        self.add("anyobj0", "\"{\" \"}\"".to_string());
        let depth = self.opts.max_untyped_depth.max(1);
        for d in 1..=depth {
            let inner = format!("any{}", d - 1);
            let items = self.repeat(&format!("\",\" {inner}"), self.opts.max_array_items);
            let pairs = self.repeat(
                &format!("\",\" key \":\" {inner}"),
                self.opts.max_array_items,
            );
            self.add(
                &format!("anyobj{d}"),
                format!("\"{{\" ( key \":\" {inner} {pairs} )? \"}}\""),
            );
            self.add(
                &format!("anyarr{d}"),
                format!("\"[\" ( {inner} {items} )? \"]\""),
            );
            self.add(
                &format!("any{d}"),
                format!("{scalars} | anyobj{d} | anyarr{d}"),
            );
        }
    }

    /// `string` and the automaton keeping `<|"|>` out of its content.
    fn string_rules(&mut self) {
        self.add("string", "q str-body q".to_string());
        match self.opts.max_string_chars {
            None => {
                self.add("str-body", "[^<]* ( \"<\" str-lt )*".to_string());
                self.add("str-lt", "( [^<|] [^<]* | \"|\" str-bar )?".to_string());
                self.add(
                    "str-bar",
                    "( [^<\"] [^<]* | \"\\\"\" str-quote )?".to_string(),
                );
                self.add("str-quote", "( [^<|] [^<]* | \"|\" str-bar2 )?".to_string());
                self.add("str-bar2", "( [^<>] [^<]* )?".to_string());
            }
            Some(n) => {
                let units = if n == 0 {
                    String::new()
                } else {
                    format!("str-unit{{0,{n}}}")
                };
                self.add("str-body", format!("{units} str-tail?"));
                self.add(
                    "str-unit",
                    "[^<] | \"<\"{1,4} ( [^<|] | \"|\" ( [^<\"] | \"\\\"\" ( [^<|] | \"|\" [^<>] ) ) )".to_string(),
                );
                self.add(
                    "str-tail",
                    "\"<\"{1,4} ( \"|\" ( \"\\\"\" \"|\"? )? )?".to_string(),
                );
            }
        }
    }
}

/// A GBNF string literal.
fn literal(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Escapes regex metacharacters (ECMAScript, as `std::regex` reads them).
fn regex_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if ".^$|()*+?[]{}\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
#[path = "grammar_check.rs"]
mod grammar_check;
