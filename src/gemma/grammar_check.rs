//! Tests of the call grammar: a small GBNF reader following llama.cpp's
//! syntax rules (rule names `[a-zA-Z0-9-]+`, literals, classes, `<token>`
//! elements, groups, `* + ? {m,n}`) checks the text is well-formed, and a
//! backtracking matcher checks what it accepts (a token element matches its
//! text).

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::gemma::render::{RenderOptions, render};
use crate::gemma::{Conversation, ModelPart, ToolCall};

#[derive(Debug, Clone)]
enum Node {
    Lit(String),
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    Token(String),
    Ref(String),
    Seq(Vec<Node>),
    Alt(Vec<Node>),
    Repeat(Box<Node>, usize, Option<usize>),
}

struct Reader<'a> {
    chars: Vec<char>,
    pos: usize,
    line: &'a str,
}

impl Reader<'_> {
    fn err(&self, msg: &str) -> String {
        format!("{msg} at {} in {:?}", self.pos, self.line)
    }
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
    fn ws(&mut self) {
        while self.peek().is_some_and(|c| c == ' ') {
            self.pos += 1;
        }
    }
    fn escaped(&mut self) -> Result<char, String> {
        let c = self.peek().ok_or_else(|| self.err("unterminated"))?;
        self.pos += 1;
        if c != '\\' {
            return Ok(c);
        }
        let e = self.peek().ok_or_else(|| self.err("bad escape"))?;
        self.pos += 1;
        Ok(match e {
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            '\\' | '"' | '[' | ']' => e,
            'x' => {
                let hex: String = self.chars[self.pos..self.pos + 2].iter().collect();
                self.pos += 2;
                char::from_u32(u32::from_str_radix(&hex, 16).map_err(|_| self.err("hex"))?)
                    .ok_or_else(|| self.err("hex"))?
            }
            _ => return Err(self.err("unknown escape")),
        })
    }
    fn alt(&mut self) -> Result<Node, String> {
        let mut alts = vec![self.seq()?];
        while self.peek() == Some('|') {
            self.pos += 1;
            alts.push(self.seq()?);
        }
        Ok(if alts.len() == 1 {
            alts.remove(0)
        } else {
            Node::Alt(alts)
        })
    }
    fn seq(&mut self) -> Result<Node, String> {
        let mut items = Vec::new();
        loop {
            self.ws();
            match self.peek() {
                None | Some('|') | Some(')') => break,
                _ => items.push(self.postfix()?),
            }
        }
        Ok(Node::Seq(items))
    }
    fn postfix(&mut self) -> Result<Node, String> {
        let mut node = self.atom()?;
        loop {
            match self.peek() {
                Some('*') => node = Node::Repeat(Box::new(node), 0, None),
                Some('+') => node = Node::Repeat(Box::new(node), 1, None),
                Some('?') => node = Node::Repeat(Box::new(node), 0, Some(1)),
                Some('{') => {
                    let end = self.chars[self.pos..]
                        .iter()
                        .position(|&c| c == '}')
                        .ok_or_else(|| self.err("unclosed {"))?;
                    let inner: String = self.chars[self.pos + 1..self.pos + end].iter().collect();
                    let (min, max) = match inner.split_once(',') {
                        None => {
                            let n = inner.trim().parse().map_err(|_| self.err("bad count"))?;
                            (n, Some(n))
                        }
                        Some((a, b)) => (
                            a.trim().parse().map_err(|_| self.err("bad min"))?,
                            if b.trim().is_empty() {
                                None
                            } else {
                                Some(b.trim().parse().map_err(|_| self.err("bad max"))?)
                            },
                        ),
                    };
                    node = Node::Repeat(Box::new(node), min, max);
                    self.pos += end;
                }
                _ => return Ok(node),
            }
            self.pos += 1;
        }
    }
    fn atom(&mut self) -> Result<Node, String> {
        match self.peek().ok_or_else(|| self.err("expected a symbol"))? {
            '"' => {
                self.pos += 1;
                let mut text = String::new();
                while self.peek() != Some('"') {
                    text.push(self.escaped()?);
                }
                self.pos += 1;
                Ok(Node::Lit(text))
            }
            '[' => {
                self.pos += 1;
                let negated = self.peek() == Some('^');
                if negated {
                    self.pos += 1;
                }
                let mut ranges = Vec::new();
                while self.peek() != Some(']') {
                    let lo = self.escaped()?;
                    let hi =
                        if self.peek() == Some('-') && self.chars.get(self.pos + 1) != Some(&']') {
                            self.pos += 1;
                            self.escaped()?
                        } else {
                            lo
                        };
                    ranges.push((lo, hi));
                }
                self.pos += 1;
                Ok(Node::Class { negated, ranges })
            }
            '<' => {
                let end = self.chars[self.pos..]
                    .iter()
                    .position(|&c| c == '>')
                    .ok_or_else(|| self.err("unclosed token"))?;
                let text: String = self.chars[self.pos..=self.pos + end].iter().collect();
                self.pos += end + 1;
                Ok(Node::Token(text))
            }
            '(' => {
                self.pos += 1;
                let inner = self.alt()?;
                if self.peek() != Some(')') {
                    return Err(self.err("unbalanced ("));
                }
                self.pos += 1;
                Ok(inner)
            }
            c if c.is_ascii_alphanumeric() || c == '-' => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    self.pos += 1;
                }
                Ok(Node::Ref(self.chars[start..self.pos].iter().collect()))
            }
            _ => Err(self.err("unexpected character")),
        }
    }
}

/// Parses GBNF text into rules, checking llama.cpp's syntax and references.
fn parse_gbnf(text: &str) -> Result<BTreeMap<String, Node>, String> {
    let mut rules = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (name, body) = line
            .split_once(" ::= ")
            .ok_or(format!("no ::= in {line:?}"))?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!("bad rule name {name:?}"));
        }
        let mut reader = Reader {
            chars: body.chars().collect(),
            pos: 0,
            line,
        };
        let node = reader.alt()?;
        if reader.pos != reader.chars.len() {
            return Err(reader.err("trailing text (unbalanced ')'?)"));
        }
        if rules.insert(name.to_string(), node).is_some() {
            return Err(format!("rule {name} defined twice"));
        }
    }
    fn refs(node: &Node, out: &mut Vec<String>) {
        match node {
            Node::Ref(r) => out.push(r.clone()),
            Node::Seq(v) | Node::Alt(v) => v.iter().for_each(|n| refs(n, out)),
            Node::Repeat(n, ..) => refs(n, out),
            _ => {}
        }
    }
    let mut all = Vec::new();
    rules.values().for_each(|n| refs(n, &mut all));
    for r in all {
        if !rules.contains_key(&r) {
            return Err(format!("rule {r} is used but not defined"));
        }
    }
    if !rules.contains_key("root") {
        return Err("no root rule".into());
    }
    Ok(rules)
}

struct Matcher<'a> {
    rules: &'a BTreeMap<String, Node>,
    input: Vec<char>,
}

impl Matcher<'_> {
    fn m(&self, node: &Node, pos: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
        match node {
            Node::Lit(text) | Node::Token(text) => {
                let chars: Vec<char> = text.chars().collect();
                self.input[pos..].starts_with(&chars) && k(pos + chars.len())
            }
            Node::Class { negated, ranges } => match self.input.get(pos) {
                Some(&c) if ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated => {
                    k(pos + 1)
                }
                _ => false,
            },
            Node::Ref(name) => self.m(&self.rules[name], pos, k),
            Node::Alt(alts) => alts.iter().any(|a| self.m(a, pos, k)),
            Node::Seq(items) => self.seq(items, pos, k),
            Node::Repeat(inner, min, max) => self.rep(inner, *min, *max, 0, pos, k),
        }
    }
    fn seq(&self, items: &[Node], pos: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
        match items.split_first() {
            None => k(pos),
            Some((first, rest)) => self.m(first, pos, &mut |p| self.seq(rest, p, k)),
        }
    }
    fn rep(
        &self,
        inner: &Node,
        min: usize,
        max: Option<usize>,
        done: usize,
        pos: usize,
        k: &mut dyn FnMut(usize) -> bool,
    ) -> bool {
        if max.is_some_and(|m| done >= m) {
            return k(pos);
        }
        let more = self.m(inner, pos, &mut |p| {
            p > pos && self.rep(inner, min, max, done + 1, p, k)
        });
        more || (done >= min && k(pos))
    }
    fn accepts(&self) -> bool {
        let len = self.input.len();
        self.m(&self.rules["root"], 0, &mut |p| p == len)
    }
}

fn accepts(grammar: &CallGrammar, text: &str) -> bool {
    let rules = parse_gbnf(&grammar.gbnf).expect("well-formed");
    Matcher {
        rules: &rules,
        input: text.chars().collect(),
    }
    .accepts()
}

fn tools() -> Vec<ToolDeclaration> {
    vec![
        ToolDeclaration {
            name: "read_file".into(),
            description: "Read.".into(),
            parameters: json!({"type": "object", "properties": {
                "path": {"type": "string"},
                "start": {"type": "integer", "nullable": true},
                "Mode": {"type": "string", "enum": ["text", "hex \"q\""]},
                "ratio": {"type": "number"}},
                "required": ["path"]}),
        },
        ToolDeclaration {
            name: "edit".into(),
            description: String::new(),
            parameters: json!({"type": "object", "properties": {
                "edits": {"type": "array", "items": {"type": "object",
                    "properties": {"old": {"type": "string"}, "new": {"type": "string"}, "n": {"type": "integer"}},
                    "required": ["old", "new"]}},
                "dry": {"type": "boolean"},
                "meta": {"description": "anything"}},
                "required": ["edits"]}),
        },
        ToolDeclaration {
            name: "now".into(),
            description: String::new(),
            parameters: Value::Null,
        },
        ToolDeclaration {
            name: "noargs".into(),
            description: String::new(),
            parameters: json!({"type": "object", "properties": {}}),
        },
    ]
}

/// The call text as gem's renderer writes it.
fn canonical(name: &str, arguments: Value) -> String {
    let mut conv = Conversation::default();
    conv.extend_model([ModelPart::ToolCall(ToolCall {
        name: name.into(),
        arguments,
    })]);
    let opts = RenderOptions {
        add_generation_prompt: false,
        ..RenderOptions::default()
    };
    let text = render(&conv, &opts).unwrap();
    let start = text.find("<|tool_call>").unwrap();
    let end = text.find("<tool_call|>").unwrap() + "<tool_call|>".len();
    text[start..end].to_string()
}

#[test]
fn grammar_text_is_well_formed() {
    for opts in [
        GrammarOptions::default(),
        GrammarOptions::bounded(),
        GrammarOptions {
            special_tokens: false,
            ..GrammarOptions::default()
        },
    ] {
        let grammar = call_grammar(&tools(), &opts).unwrap();
        let rules = parse_gbnf(&grammar.gbnf).unwrap_or_else(|e| panic!("{e}\n{}", grammar.gbnf));
        assert_eq!(grammar.root, "root");
        fn tokens(node: &Node, out: &mut Vec<String>) {
            match node {
                Node::Token(t) => out.push(t.clone()),
                Node::Seq(v) | Node::Alt(v) => v.iter().for_each(|n| tokens(n, out)),
                Node::Repeat(n, ..) => tokens(n, out),
                _ => {}
            }
        }
        let mut found = Vec::new();
        rules.values().for_each(|n| tokens(n, &mut found));
        for token in &found {
            assert!(
                [TOOL_CALL_OPEN, TOOL_CALL_CLOSE, STRING_DELIM].contains(&token.as_str()),
                "{token}"
            );
        }
        assert_eq!(found.is_empty(), !opts.special_tokens);
    }
    assert_eq!(
        call_grammar(&[], &GrammarOptions::default()),
        Err(GrammarError::NoTools)
    );
}

#[test]
fn triggers_name_the_opening_tag() {
    let grammar = call_grammar(&tools(), &GrammarOptions::default()).unwrap();
    assert_eq!(grammar.trigger_tokens_text, ["<|tool_call>"]);
    assert_eq!(
        grammar.trigger_patterns,
        ["[\\s\\S]*?(<\\|tool_call>)[\\s\\S]*"]
    );
}

#[test]
fn accepts_canonical_calls() {
    let grammar = call_grammar(&tools(), &GrammarOptions::default()).unwrap();
    let calls = [
        canonical("read_file", json!({"path": "src/main.rs"})),
        canonical(
            "read_file",
            json!({"path": "a\n<b>\"c\"", "start": null, "Mode": "hex \"q\"", "ratio": -0.25}),
        ),
        canonical("read_file", json!({"path": "x", "start": 10, "ratio": 3})),
        canonical(
            "edit",
            json!({"edits": [{"old": "a", "new": "b"}, {"old": "", "new": "<<|", "n": 2}], "dry": true}),
        ),
        canonical(
            "edit",
            json!({"edits": [], "meta": {"k": [1, "x", {"z": null}]}}),
        ),
        canonical("now", json!({})),
        canonical("now", json!({"anything": "goes"})),
        canonical("noargs", json!({})),
    ];
    for call in &calls {
        assert!(accepts(&grammar, call), "should accept {call}");
    }
    let two = format!("{}{}", calls[0], calls[5]);
    assert!(accepts(&grammar, &two));
}

#[test]
fn rejects_what_the_schema_forbids() {
    let grammar = call_grammar(&tools(), &GrammarOptions::default()).unwrap();
    for bad in [
        "<|tool_call>call:read_file{}<tool_call|>",
        "<|tool_call>call:read_file{path:<|\"|>a<|\"|>b<|\"|>}<tool_call|>",
        "<|tool_call>call:read_file{start:1,path:<|\"|>a<|\"|>}<tool_call|>",
        "<|tool_call>call:read_file{path:<|\"|>a<|\"|>, start:1}<tool_call|>",
        "<|tool_call>call:read_file{Mode:<|\"|>bin<|\"|>,path:<|\"|>a<|\"|>}<tool_call|>",
        "<|tool_call>call:read_file{path:<|\"|>a<|\"|>,ratio:1e5}<tool_call|>",
        "<|tool_call>call:read_file{path:a}<tool_call|>",
        "<|tool_call>call:delete{path:<|\"|>a<|\"|>}<tool_call|>",
        "<|tool_call>call:noargs{x:1}<tool_call|>",
        "<|tool_call>call:edit{edits:[{new:<|\"|>b<|\"|>}]}<tool_call|>",
        "<|tool_call>call:now{}",
    ] {
        assert!(!accepts(&grammar, bad), "should reject {bad}");
    }
}

#[test]
fn bounded_strings_and_calls() {
    let opts = GrammarOptions {
        max_string_chars: Some(4),
        max_calls: 1,
        ..GrammarOptions::default()
    };
    let grammar = call_grammar(&tools(), &opts).unwrap();
    assert!(accepts(
        &grammar,
        &canonical("read_file", json!({"path": "abcd"}))
    ));
    assert!(accepts(
        &grammar,
        &canonical("read_file", json!({"path": "<<a<|x"}))
    ));
    assert!(!accepts(
        &grammar,
        &canonical("read_file", json!({"path": "abcde"}))
    ));
    let one = canonical("now", json!({}));
    assert!(!accepts(&grammar, &format!("{one}{one}")));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Exactly the strings without the delimiter are accepted.
    #[test]
    fn strings_exclude_exactly_the_delimiter(content in "[<|\"> a\n]{0,14}") {
        let grammar = call_grammar(&tools()[..1], &GrammarOptions::default()).unwrap();
        let call = format!("<|tool_call>call:read_file{{path:<|\"|>{content}<|\"|>}}<tool_call|>");
        prop_assert_eq!(accepts(&grammar, &call), !content.contains(STRING_DELIM));
    }

    /// Bounded strings never accept the delimiter either.
    #[test]
    fn bounded_strings_never_contain_the_delimiter(content in "[<|\"> a]{0,10}") {
        let grammar = call_grammar(&tools()[..1], &GrammarOptions::bounded()).unwrap();
        let call = format!("<|tool_call>call:read_file{{path:<|\"|>{content}<|\"|>}}<tool_call|>");
        if content.contains(STRING_DELIM) {
            prop_assert!(!accepts(&grammar, &call));
        }
    }
}
