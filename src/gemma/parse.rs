//! Streaming parser for Gemma 4 output: feed it text as the engine produces
//! it (control tokens printed as their text) and get thoughts, visible text
//! and tool calls.
//!
//! ```text
//! <|channel>thought\n…<channel|>answer<|tool_call>call:f{k:<|"|>v<|"|>}<tool_call|><|tool_response>
//! ```
//! Guarantees, for any input and any split into chunks:
//! * it never panics, and the events (adjacent text/thought events joined) do
//!   not depend on how the input was split;
//! * text and thoughts never contain a control tag (`<|turn>`, `<turn|>`,
//!   `<eos>`, `<|channel>`, `<|tool_call>`, `<|"|>`, … every special token of
//!   the vocabulary): tags are structure or are dropped, and the output
//!   sinks ([`crate::gemma::sink`]) also remove tags that dropping another tag
//!   would join together;
//! * no text is dropped except: control tags; the channel name line
//!   (`thought\n`) and turn role line (`model\n`); one newline at the end of
//!   each thought (the template's `\n<channel|>`); text removed because it
//!   formed a tag. Text a model writes inside a call goes into the call (or
//!   into [`ParseEvent::MalformedCall`]'s `raw`).
//!
//! Quirks handled: tags split across chunks; an extra `<tool_call|>`; a
//! stray `<|tool_response>` before anything else; `<turn|>`, `<eos>` or
//! `<|tool_response>` in place of `<tool_call|>`; a call the model ended
//! before `<tool_call|>` (parsed at [`StreamParser::finish`], unless a string
//! value is still open: a call cut off by the token limit or a cancellation,
//! or ending inside a string, is malformed, see [`StreamParser::finish_at`]); an unclosed `<|"|>`
//! (when the call ends, the string is cut at the first `<tool_call|>`,
//! `<|tool_call>`, `<turn|>`, `<eos>` or `<|tool_response>` inside it and
//! what follows is parsed again); a missing final `}`; single quotes;
//! raw unquoted strings (schema-guided when the tool is declared); the channel
//! name split from its newline; `thought thought …` repetition (text of the
//! thought); a call started inside an unclosed thought (ends the thought).
//! Inside a closed `<|"|>` string every tag is text of the string, so a
//! well-formed call is read exactly whatever its strings contain.

use serde::{Deserialize, Serialize};

use crate::gemma::call::parse_call;
use crate::gemma::conversation::{ModelPart, ToolCall};
use crate::gemma::declaration::ToolDeclaration;
use crate::gemma::sink::Sink;
use crate::gemma::tags::{
    CHANNEL_CLOSE, CHANNEL_OPEN, EOS, STRING_DELIM, TOOL_CALL_CLOSE, TOOL_CALL_OPEN,
    TOOL_RESPONSE_OPEN, TURN_CLOSE, TURN_OPEN, TagMatch, match_tag,
};

/// Something the model produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "EventRepr", from = "EventRepr")]
pub enum ParseEvent {
    /// Text of the thought channel.
    Thinking(String),
    /// Visible answer text.
    Text(String),
    /// A well-formed (or repaired) call.
    ToolCall(ToolCall),
    /// A call that could not be read.
    MalformedCall {
        /// The call's text between the tags.
        raw: String,
        /// What was wrong.
        error: String,
    },
}

/// JSON shape: `{"type": "thinking"|"text"|"tool_call"|"malformed_call", …}`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum EventRepr {
    Thinking { text: String },
    Text { text: String },
    ToolCall(ToolCall),
    MalformedCall { raw: String, error: String },
}

impl From<EventRepr> for ParseEvent {
    fn from(repr: EventRepr) -> Self {
        match repr {
            EventRepr::Thinking { text } => ParseEvent::Thinking(text),
            EventRepr::Text { text } => ParseEvent::Text(text),
            EventRepr::ToolCall(call) => ParseEvent::ToolCall(call),
            EventRepr::MalformedCall { raw, error } => ParseEvent::MalformedCall { raw, error },
        }
    }
}

impl From<ParseEvent> for EventRepr {
    fn from(event: ParseEvent) -> Self {
        match event {
            ParseEvent::Thinking(text) => EventRepr::Thinking { text },
            ParseEvent::Text(text) => EventRepr::Text { text },
            ParseEvent::ToolCall(call) => EventRepr::ToolCall(call),
            ParseEvent::MalformedCall { raw, error } => EventRepr::MalformedCall { raw, error },
        }
    }
}

impl ParseEvent {
    /// The conversation part this event becomes; `None` for a malformed call
    /// (the agent decides how to report it).
    pub fn into_model_part(self) -> Option<ModelPart> {
        match self {
            ParseEvent::Thinking(text) => Some(ModelPart::Thinking(text)),
            ParseEvent::Text(text) => Some(ModelPart::Text(text)),
            ParseEvent::ToolCall(call) => Some(ModelPart::ToolCall(call)),
            ParseEvent::MalformedCall { .. } => None,
        }
    }
}

/// How a generation ended, as far as a call left open at its end is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// The model ended it (an end-of-generation token, or the end of a recorded output).
    ModelEnded,
    /// It was cut: the token limit, a cancellation, a full context or an engine error.
    Cut,
}

/// How to parse.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParseOptions {
    /// The prompt ended inside an open thought channel
    /// (`<|channel>thought\n`): output starts as thinking.
    pub start_in_thinking: bool,
    /// Declared tools: their schemas guide the repair of raw values.
    pub tools: Vec<ToolDeclaration>,
}

impl ParseOptions {
    /// Options for output that continues `prompt`.
    pub fn for_prompt(prompt: &str, tools: Vec<ToolDeclaration>) -> Self {
        ParseOptions {
            start_in_thinking: prompt.ends_with("<|channel>thought\n"),
            tools,
        }
    }
}

/// Where the parser is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Text,
    Thinking,
    /// After `<|channel>`: reading the channel name.
    ChannelName,
    /// After `<|turn>`: reading the role.
    TurnRole,
    /// Inside `<|tool_call>…`.
    Call,
}

/// Longest channel name or role read after its tag.
const MAX_HEADER: usize = 16;
/// Roles whose line after `<|turn>` is dropped.
const ROLES: &[&str] = &["model", "user", "system", "assistant", "developer", "tool"];

/// Incremental parser of one generation.
#[derive(Debug)]
pub struct StreamParser {
    tools: Vec<ToolDeclaration>,
    /// Raw input not yet consumed (from `pos`).
    input: String,
    pos: usize,
    mode: Mode,
    text: Sink,
    thinking: Sink,
    /// Channel name or role being read.
    header: String,
    /// Raw text of the call being read.
    call: String,
    /// Inside a `<|"|>` string of the call.
    call_in_string: bool,
    /// Anything seen yet (a leading stray `<|tool_response>` is ignored).
    started: bool,
    events: Vec<ParseEvent>,
}

impl StreamParser {
    /// A parser for one generation.
    pub fn new(opts: ParseOptions) -> Self {
        StreamParser {
            tools: opts.tools,
            input: String::new(),
            pos: 0,
            mode: if opts.start_in_thinking {
                Mode::Thinking
            } else {
                Mode::Text
            },
            text: Sink::new(false),
            thinking: Sink::new(true),
            header: String::new(),
            call: String::new(),
            call_in_string: false,
            started: false,
            events: Vec::new(),
        }
    }

    /// Feeds the next piece of output.
    pub fn push(&mut self, delta: &str) -> Vec<ParseEvent> {
        self.input.push_str(delta);
        self.process(false);
        std::mem::take(&mut self.events)
    }

    /// Ends a generation the model ended itself (an end-of-generation token): completes a call
    /// that lacks only its closing tag, flushes held text. See [`StreamParser::finish_at`].
    pub fn finish(self) -> Vec<ParseEvent> {
        self.finish_at(StreamEnd::ModelEnded)
    }

    /// Ends the generation, knowing how it ended.
    ///
    /// A call still open at the end is completed only when the model ended the generation
    /// itself and no string value is left open (a string closed by a tag inside it counts as
    /// closed). A call cut off by the token limit, a cancellation or a full context, or one whose
    /// last string never ended, becomes a [`ParseEvent::MalformedCall`]: its content may be
    /// half written, so it must never run.
    pub fn finish_at(mut self, end: StreamEnd) -> Vec<ParseEvent> {
        loop {
            self.process(true);
            if self.mode != Mode::Call {
                break;
            }
            if let Some(error) = self.cut_off_error(end) {
                let raw = std::mem::take(&mut self.call);
                self.call_in_string = false;
                self.mode = Mode::Text;
                self.events.push(ParseEvent::MalformedCall { raw, error });
                break;
            }
            if self.finish_call().is_some() {
                continue;
            }
            break;
        }
        match self.mode {
            Mode::Thinking => self.end_thought(),
            _ => {
                let thought = self.thinking.flush(true);
                self.emit_thinking(thought);
            }
        }
        let text = self.text.flush(false);
        self.emit_text(text);
        self.events
    }

    /// Parses a complete output at once.
    pub fn parse_all(opts: ParseOptions, output: &str) -> Vec<ParseEvent> {
        let mut parser = StreamParser::new(opts);
        let mut events = parser.push(output);
        events.extend(parser.finish());
        coalesce(events)
    }

    /// Consumes as much input as can be decided.
    fn process(&mut self, at_end: bool) {
        while self.pos < self.input.len() {
            if matches!(self.mode, Mode::ChannelName | Mode::TurnRole) {
                if !self.read_header(at_end) {
                    break;
                }
                continue;
            }
            let rest = &self.input[self.pos..];
            let Some(lt) = rest.find('<') else {
                let run = rest.to_string();
                self.pos = self.input.len();
                self.deliver(&run);
                break;
            };
            if lt > 0 {
                let run = rest[..lt].to_string();
                self.pos += lt;
                self.deliver(&run);
                continue;
            }
            match match_tag(rest) {
                TagMatch::Complete(len) => {
                    let tag = rest[..len].to_string();
                    self.pos += len;
                    self.handle_tag(&tag);
                }
                TagMatch::Prefix if !at_end => break,
                TagMatch::Prefix => {
                    let run = rest.to_string();
                    self.pos = self.input.len();
                    self.deliver(&run);
                }
                TagMatch::None => {
                    self.pos += 1;
                    self.deliver("<");
                }
            }
        }
        self.input.drain(..self.pos);
        self.pos = 0;
    }

    /// Reads the channel name or role; false when more input is needed.
    fn read_header(&mut self, at_end: bool) -> bool {
        let rest = &self.input[self.pos..];
        for c in rest.chars() {
            if (c.is_ascii_alphabetic() || c == '_') && self.header.len() < MAX_HEADER {
                self.header.push(c);
                self.pos += c.len_utf8();
                continue;
            }
            if c == '\n' && !self.header.is_empty() {
                self.pos += 1;
                self.header.clear();
                self.mode = self.after_header();
                return true;
            }
            self.resolve_header();
            return true;
        }
        if at_end {
            self.resolve_header();
            return true;
        }
        false
    }

    /// The mode after the header line.
    fn after_header(&self) -> Mode {
        if self.mode == Mode::ChannelName {
            Mode::Thinking
        } else {
            Mode::Text
        }
    }

    /// The header did not end with a newline: `thought` and role words are
    /// still dropped, anything else is text of the new mode.
    fn resolve_header(&mut self) {
        let header = std::mem::take(&mut self.header);
        let known = if self.mode == Mode::ChannelName {
            header == "thought"
        } else {
            ROLES.contains(&header.as_str())
        };
        self.mode = self.after_header();
        if !known {
            self.deliver(&header);
        }
    }

    /// Routes plain text to the current mode.
    fn deliver(&mut self, run: &str) {
        if run.is_empty() {
            return;
        }
        self.started = true;
        match self.mode {
            Mode::Text => {
                let out = self.text.push(run);
                self.emit_text(out);
            }
            Mode::Thinking => {
                let out = self.thinking.push(run);
                self.emit_thinking(out);
            }
            Mode::Call => self.call.push_str(run),
            Mode::ChannelName | Mode::TurnRole => self.header.push_str(run),
        }
    }

    fn handle_tag(&mut self, tag: &str) {
        if self.mode == Mode::Call {
            self.handle_call_tag(tag);
            return;
        }
        let leading = !self.started;
        self.started = true;
        match tag {
            CHANNEL_OPEN => {
                self.flush_text();
                self.mode = Mode::ChannelName;
            }
            CHANNEL_CLOSE if self.mode == Mode::Thinking => self.end_thought(),
            TOOL_CALL_OPEN => {
                self.end_segment();
                self.mode = Mode::Call;
                self.call.clear();
                self.call_in_string = false;
            }
            TURN_OPEN => {
                self.end_segment();
                self.mode = Mode::TurnRole;
            }
            TOOL_RESPONSE_OPEN if leading => {}
            TURN_CLOSE | EOS | TOOL_RESPONSE_OPEN => self.end_segment(),
            _ => {}
        }
    }

    /// Tags met while reading a call.
    fn handle_call_tag(&mut self, tag: &str) {
        if tag == STRING_DELIM {
            self.call.push_str(tag);
            self.call_in_string = !self.call_in_string;
            return;
        }
        if self.call_in_string {
            // Text of the string, whatever it looks like; an unclosed string
            // is cut when the call ends (see `finish_call`).
            self.call.push_str(tag);
            return;
        }
        if let Some(put_back) = self.finish_call() {
            // The call was cut inside its text: that text is read again,
            // then this tag.
            self.input.insert_str(self.pos + put_back, tag);
            return;
        }
        match tag {
            TOOL_CALL_CLOSE => {}
            TOOL_CALL_OPEN => {
                self.mode = Mode::Call;
                self.call.clear();
                self.call_in_string = false;
            }
            other => self.handle_tag(other),
        }
    }

    /// Why the call still open at the end of the output must not run, if it must not.
    fn cut_off_error(&self, end: StreamEnd) -> Option<String> {
        let closed_inside_string = self.call_in_string && self.tag_inside_open_string().is_some();
        if end == StreamEnd::Cut && !closed_inside_string {
            return Some(
                "the call was cut off before its end (the generation stopped at the token \
                 limit, was cancelled or filled the context), so it was not run"
                    .into(),
            );
        }
        if self.call_in_string && !closed_inside_string {
            return Some(
                "the output ended inside a string value of the call, so its content may be \
                 incomplete and it was not run"
                    .into(),
            );
        }
        None
    }

    /// In a call whose last string is open: the first tag inside that string that ends a call
    /// (position in `self.call`, tag).
    fn tag_inside_open_string(&self) -> Option<(usize, &'static str)> {
        let raw = &self.call;
        let open = raw
            .rfind(STRING_DELIM)
            .map_or(0, |i| i + STRING_DELIM.len());
        [
            TOOL_CALL_CLOSE,
            TOOL_CALL_OPEN,
            TURN_CLOSE,
            EOS,
            TOOL_RESPONSE_OPEN,
        ]
        .iter()
        .filter_map(|tag| raw[open..].find(tag).map(|i| (open + i, *tag)))
        .min()
    }

    /// Ends the call being read and emits it; returns the length of the text
    /// put back into the input when an unclosed string was cut.
    fn finish_call(&mut self) -> Option<usize> {
        let cut = if self.call_in_string {
            self.tag_inside_open_string()
        } else {
            None
        };
        let mut raw = std::mem::take(&mut self.call);
        let mut put_back = None;
        if let Some((at, tag)) = cut {
            let after = if tag == TOOL_CALL_CLOSE {
                at + tag.len()
            } else {
                at
            };
            let rest = raw[after..].to_string();
            raw.truncate(at);
            self.input.insert_str(self.pos, &rest);
            put_back = Some(rest.len());
        }
        self.call_in_string = false;
        self.mode = Mode::Text;
        let tools = std::mem::take(&mut self.tools);
        let event = match parse_call(&raw, &tools) {
            Ok(call) => ParseEvent::ToolCall(call),
            Err(error) => ParseEvent::MalformedCall { raw, error },
        };
        self.tools = tools;
        self.events.push(event);
        put_back
    }

    /// Leaves the current text or thought segment.
    fn end_segment(&mut self) {
        if self.mode == Mode::Thinking {
            self.end_thought();
        } else {
            self.flush_text();
        }
        self.mode = Mode::Text;
    }

    fn end_thought(&mut self) {
        let out = self.thinking.flush(true);
        self.emit_thinking(out);
        self.mode = Mode::Text;
    }

    fn flush_text(&mut self) {
        let out = self.text.flush(false);
        self.emit_text(out);
    }

    fn emit_text(&mut self, text: String) {
        if text.is_empty() {
            return;
        }
        match self.events.last_mut() {
            Some(ParseEvent::Text(last)) => last.push_str(&text),
            _ => self.events.push(ParseEvent::Text(text)),
        }
    }

    fn emit_thinking(&mut self, text: String) {
        if text.is_empty() {
            return;
        }
        match self.events.last_mut() {
            Some(ParseEvent::Thinking(last)) => last.push_str(&text),
            _ => self.events.push(ParseEvent::Thinking(text)),
        }
    }
}

/// Joins adjacent text events and adjacent thinking events.
pub fn coalesce(events: Vec<ParseEvent>) -> Vec<ParseEvent> {
    let mut out: Vec<ParseEvent> = Vec::with_capacity(events.len());
    for event in events {
        match (out.last_mut(), event) {
            (Some(ParseEvent::Text(last)), ParseEvent::Text(more)) => last.push_str(&more),
            (Some(ParseEvent::Thinking(last)), ParseEvent::Thinking(more)) => last.push_str(&more),
            (_, event) => out.push(event),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::StreamEnd;

    fn finish_events(output: &str, end: StreamEnd) -> Vec<super::ParseEvent> {
        let mut parser = super::StreamParser::new(super::ParseOptions::default());
        let mut events = parser.push(output);
        events.extend(parser.finish_at(end));
        events
    }

    #[test]
    fn a_call_ending_inside_a_string_is_malformed_not_repaired() {
        let events = finish_events(
            "<|tool_call>call:write_file{path:<|\"|>u.txt<|\"|>,content:<|\"|>half written",
            StreamEnd::ModelEnded,
        );
        assert_eq!(events.len(), 1, "{events:?}");
        match &events[0] {
            super::ParseEvent::MalformedCall { raw, error } => {
                assert!(raw.contains("half written"));
                assert!(error.contains("inside a string"), "{error}");
            }
            other => panic!("expected a malformed call, got {other:?}"),
        }
    }

    #[test]
    fn a_call_cut_by_the_token_limit_is_malformed_even_when_it_reads_whole() {
        let events = finish_events(
            "<|tool_call>call:shell{command:<|\"|>rm -rf build<|\"|>}",
            StreamEnd::Cut,
        );
        assert!(
            matches!(&events[..], [super::ParseEvent::MalformedCall { error, .. }] if error.contains("cut off")),
            "{events:?}"
        );
        // The same text ended by the model itself lacks only its closing tag: repaired.
        let events = finish_events(
            "<|tool_call>call:shell{command:<|\"|>rm -rf build<|\"|>}",
            StreamEnd::ModelEnded,
        );
        assert!(
            matches!(&events[..], [super::ParseEvent::ToolCall(c)] if c.name == "shell"),
            "{events:?}"
        );
    }

    #[test]
    fn a_string_closed_by_a_call_tag_still_counts_as_closed_when_cut() {
        let events = finish_events(
            "<|tool_call>call:f{a:<|\"|>x<tool_call|>then text",
            StreamEnd::Cut,
        );
        assert!(
            matches!(&events[0], super::ParseEvent::ToolCall(c) if c.name == "f"),
            "{events:?}"
        );
    }

    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Vec<ParseEvent> {
        StreamParser::parse_all(ParseOptions::default(), text)
    }

    fn call(name: &str, args: serde_json::Value) -> ParseEvent {
        ParseEvent::ToolCall(ToolCall {
            name: name.into(),
            arguments: args,
        })
    }

    fn text(t: &str) -> ParseEvent {
        ParseEvent::Text(t.into())
    }

    fn thought(t: &str) -> ParseEvent {
        ParseEvent::Thinking(t.into())
    }

    #[test]
    fn parses_thought_text_and_calls() {
        let events = parse(
            "<|channel>thought\nLet me look.\n<channel|>Sure.<|tool_call>call:read{path:<|\"|>a b<|\"|>}<tool_call|>\
             <|tool_call>call:ls{}<tool_call|><|tool_response>",
        );
        assert_eq!(
            events,
            vec![
                thought("Let me look."),
                text("Sure."),
                call("read", json!({"path": "a b"})),
                call("ls", json!({})),
            ]
        );
    }

    #[test]
    fn survives_every_listed_quirk() {
        let cases: Vec<(&str, Vec<ParseEvent>)> = vec![
            (
                "<|tool_call>call:f{a:1}<tool_call|><tool_call|>",
                vec![call("f", json!({"a": 1}))],
            ),
            (
                "<|tool_response><|tool_call>call:f{}<tool_call|>",
                vec![call("f", json!({}))],
            ),
            (
                "<|tool_call>call:f{a:1}<turn|>",
                vec![call("f", json!({"a": 1}))],
            ),
            (
                "<|tool_call>call:f{a:1}<eos>",
                vec![call("f", json!({"a": 1}))],
            ),
            ("<|tool_call>call:f{a:1}", vec![call("f", json!({"a": 1}))]),
            (
                "<|tool_call>call:f{a:<|\"|>x}<tool_call|>",
                vec![call("f", json!({"a": "x"}))],
            ),
            (
                "<|tool_call>call:f{a:<|\"|>x}<tool_call|>then",
                vec![call("f", json!({"a": "x"})), text("then")],
            ),
            (
                "<|tool_call>call:f{a:<|\"|>x<turn|>",
                vec![call("f", json!({"a": "x"}))],
            ),
            (
                "<|tool_call>call:f{a:<|\"|>x}<eos>hi",
                vec![call("f", json!({"a": "x"})), text("hi")],
            ),
            (
                "<|tool_call>call:f{s:<|\"|><turn|><eos><|\"|>}<tool_call|>",
                vec![call("f", json!({"s": "<turn|><eos>"}))],
            ),
            (
                "<|tool_call>call:f{a:1<tool_call|>",
                vec![call("f", json!({"a": 1}))],
            ),
            (
                "<|tool_call>call:f{a:'x y'}<tool_call|>",
                vec![call("f", json!({"a": "x y"}))],
            ),
            (
                "<|tool_call>call:f{a:x y}<tool_call|>",
                vec![call("f", json!({"a": "x y"}))],
            ),
            (
                "<|channel>thought thought thought",
                vec![thought(" thought thought")],
            ),
            ("<|channel>thought\n\n\nx\n", vec![thought("\n\nx")]),
            (
                "<|channel>thoughtful<channel|>",
                vec![thought("thoughtful")],
            ),
            (
                "<|channel>thought\nplan<|tool_call>call:f{}<tool_call|>",
                vec![thought("plan"), call("f", json!({}))],
            ),
            (
                "<|tool_call>call:f{s:<|\"|>a<tool_call|>b<|\"|>}<tool_call|>",
                vec![call("f", json!({"s": "a<tool_call|>b"}))],
            ),
            (
                "<|tool_call>call:f{s:<|\"|>a}<tool_call|><|tool_call>call:g{}<tool_call|>",
                vec![call("f", json!({"s": "a"})), call("g", json!({}))],
            ),
            ("hi<turn|>\n<|turn>model\nmore", vec![text("hi\nmore")]),
            ("a<|\"|>b<|think|>c<bos>", vec![text("abc")]),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(input), expected, "input: {input:?}");
        }
    }

    #[test]
    fn malformed_calls_keep_their_text() {
        let events = parse("<|tool_call>call:bad name{x}<tool_call|>ok");
        assert!(matches!(
            &events[0],
            ParseEvent::MalformedCall { raw, .. } if raw == "call:bad name{x}"
        ));
        assert_eq!(events[1], text("ok"));
    }

    #[test]
    fn starts_in_thinking_after_a_thought_prompt() {
        let opts = ParseOptions::for_prompt("…<tool_response|><|channel>thought\n", Vec::new());
        assert!(opts.start_in_thinking);
        let events = StreamParser::parse_all(opts, "more\n<channel|>Done.");
        assert_eq!(events, vec![thought("more"), text("Done.")]);
        let large =
            ParseOptions::for_prompt("<|turn>model\n<|channel>thought\n<channel|>", Vec::new());
        assert!(!large.start_in_thinking);
    }

    #[test]
    fn schema_guides_raw_strings() {
        let tools = vec![ToolDeclaration {
            name: "shell".into(),
            description: String::new(),
            parameters: json!({"type": "object", "properties": {"command": {"type": "string"}}}),
        }];
        let opts = ParseOptions {
            start_in_thinking: false,
            tools,
        };
        let events = StreamParser::parse_all(
            opts,
            "<|tool_call>call:shell{command:echo a, b}<tool_call|>",
        );
        assert_eq!(events, vec![call("shell", json!({"command": "echo a, b"}))]);
    }

    #[test]
    fn tags_split_across_chunks() {
        let input = "<|chan|nel>x<|channel>thought\nT<channel|>A<|tool_call>call:f{a:<|\"|>v<|\"|>}<tool_call|>";
        let whole = parse(input);
        for size in 1..8 {
            let mut parser = StreamParser::new(ParseOptions::default());
            let mut events = Vec::new();
            let chars: Vec<char> = input.chars().collect();
            for chunk in chars.chunks(size) {
                events.extend(parser.push(&chunk.iter().collect::<String>()));
            }
            events.extend(parser.finish());
            assert_eq!(coalesce(events), whole, "chunk size {size}");
        }
        assert_eq!(whole[0], text("<|chan|nel>x"));
    }

    #[test]
    fn events_serialise_with_a_type_tag() {
        let events = [
            thought("t"),
            text("x"),
            call("f", json!({"a": 1})),
            ParseEvent::MalformedCall {
                raw: "r".into(),
                error: "e".into(),
            },
        ];
        let lines: Vec<serde_json::Value> = events
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .collect();
        assert_eq!(
            lines,
            vec![
                json!({"type": "thinking", "text": "t"}),
                json!({"type": "text", "text": "x"}),
                json!({"type": "tool_call", "name": "f", "arguments": {"a": 1}}),
                json!({"type": "malformed_call", "raw": "r", "error": "e"}),
            ]
        );
        for (event, line) in events.iter().zip(&lines) {
            assert_eq!(
                &serde_json::from_value::<ParseEvent>(line.clone()).unwrap(),
                event
            );
        }
    }
}
