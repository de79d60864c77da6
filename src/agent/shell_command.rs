//! Reading a shell command line the way bash will run it: every simple command in it (with its
//! words after quote removal), every file a redirection writes or reads, or "uncertain".
//!
//! The line is parsed with the bash grammar of tree-sitter (`tree-sitter-bash`, as codex-rs
//! does). The walk accepts only the node kinds listed here and calls anything else uncertain,
//! so a construct this module does not understand can never slip through as "harmless":
//!
//! - separators and grouping: `;`, `&&`, `||`, `|`, `|&`, `&`, newlines, `( … )`, `{ …; }`,
//!   `! cmd`, comments;
//! - simple commands: a literal command name, then words: plain words (backslash escapes
//!   removed), `'…'`, `"…"`, `$'…'`, numbers, concatenations, `$x`, `${x…}`, `$( … )`,
//!   `` `…` `` (also inside double quotes), `<( … )`, `>( … )` and brace expressions. The
//!   commands inside every substitution, also those nested in `${x:=$(…)}`, are collected too;
//! - redirections `>`, `>>`, `&>`, `&>>`, `>|`, `>&FILE` (writes), `<` (reads), `n>&m`, `n<&m`,
//!   `>&-`, `<&-` (no file) and here-strings `<<<`.
//!
//! Uncertain, among others: parse errors, control characters, backslash-newline continuations,
//! a command name that is not literal (`$cmd`, `"$(…)"`), `eval`, `source` and `.`, variable
//! assignments (`X=1 cmd`, `PATH=…`), function definitions, `if`/`for`/`while`/`case`,
//! `[[ … ]]`, arithmetic `$(( … ))` (bash evaluates variables' contents there), `${…}` with
//! subscripts, `!` or `@` operators, here-documents, `<>`, a redirection target that is not a
//! literal path, and backslashes inside backticks (bash unescapes them and parses again).

use tree_sitter::{Node, Parser};

/// One word of a simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Word {
    /// Known exactly: what the program receives as this argument.
    Literal(String),
    /// Decided only when bash runs it (variables, substitutions, globs, `~`, braces); holds the
    /// source text. It may become zero, one or several arguments.
    Dynamic(String),
}

impl Word {
    /// The exact text, when known.
    pub fn literal(&self) -> Option<&str> {
        match self {
            Self::Literal(text) => Some(text),
            Self::Dynamic(_) => None,
        }
    }

    /// The word as written (literal text, or the source of a dynamic word).
    pub fn as_written(&self) -> &str {
        match self {
            Self::Literal(text) | Self::Dynamic(text) => text,
        }
    }
}

/// A simple command: a program (or builtin) and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleCommand {
    /// The command name, always literal.
    pub name: String,
    /// The arguments after the name.
    pub args: Vec<Word>,
}

impl SimpleCommand {
    /// The command as one line, for messages.
    pub fn display(&self) -> String {
        std::iter::once(self.name.as_str())
            .chain(self.args.iter().map(Word::as_written))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Everything a command line would run, write and read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    /// Every simple command, in source order (a command before the substitutions in it).
    pub commands: Vec<SimpleCommand>,
    /// Files written: redirection targets and `tee` arguments, as written.
    pub writes: Vec<String>,
    /// Files read through `<` redirections, as written.
    pub reads: Vec<String>,
}

/// Why a command line cannot be read with certainty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Uncertain(pub String);

/// Commands whose argument is code that only bash reads.
const CODE_RUNNERS: &[&str] = &["eval", "source", "."];

/// Reads `line` as bash would parse it.
pub fn analyze(line: &str) -> Result<CommandLine, Uncertain> {
    if let Some(c) = line
        .chars()
        .find(|c| (c.is_control() && *c != '\n' && *c != '\t') || is_unusual_space(*c))
    {
        return Err(Uncertain(format!(
            "it contains the control or space character U+{:04X}",
            c as u32
        )));
    }
    if line.contains("\\\n") {
        return Err(Uncertain("it continues a line with a backslash".into()));
    }
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_bash::LANGUAGE.into())
        .map_err(|e| Uncertain(format!("the bash grammar did not load: {e}")))?;
    let tree = parser
        .parse(line, None)
        .ok_or_else(|| Uncertain("the parser gave up".into()))?;
    let root = tree.root_node();
    if root.has_error() {
        return Err(Uncertain("it is not valid bash syntax".into()));
    }
    if deeper_than(root, MAX_DEPTH) {
        return Err(Uncertain(format!(
            "it nests more than {MAX_DEPTH} levels deep"
        )));
    }
    let mut walker = Walker {
        source: line,
        line: CommandLine::default(),
    };
    walker.statement(root)?;
    Ok(walker.line)
}

/// How deep a syntax tree may nest before the line counts as uncertain (the walk recurses).
const MAX_DEPTH: usize = 256;

/// Whether the tree under `root` nests deeper than `limit` (walked without recursion).
fn deeper_than(root: Node, limit: usize) -> bool {
    let mut cursor = root.walk();
    let mut depth = 0;
    loop {
        if cursor.goto_first_child() {
            depth += 1;
            if depth > limit {
                return true;
            }
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return false;
            }
            depth -= 1;
        }
    }
}

/// Whitespace that bash does not treat as a separator but a parser might.
fn is_unusual_space(c: char) -> bool {
    c.is_whitespace() && !matches!(c, ' ' | '\t' | '\n')
}

/// Separator and bracket tokens that may appear between statements.
const STATEMENT_TOKENS: &[&str] = &[
    ";", "&", "&&", "||", "|", "|&", "\n", "(", ")", "{", "}", "!", "$(", "`", "<(", ">(",
];

struct Walker<'a> {
    source: &'a str,
    line: CommandLine,
}

impl Walker<'_> {
    fn text(&self, node: Node) -> &str {
        node.utf8_text(self.source.as_bytes()).unwrap_or_default()
    }

    fn uncertain(&self, node: Node, what: &str) -> Uncertain {
        Uncertain(format!("`{}` is {what}", shorten(self.text(node))))
    }

    /// A statement or a group of them.
    fn statement(&mut self, node: Node) -> Result<(), Uncertain> {
        match node.kind() {
            "program"
            | "list"
            | "pipeline"
            | "subshell"
            | "compound_statement"
            | "negated_command"
            | "redirected_statement"
            | "command_substitution"
            | "process_substitution" => self.children(node),
            "command" => self.command(node),
            "file_redirect" => self.file_redirect(node),
            "herestring_redirect" => self.herestring(node),
            "heredoc_redirect" => Err(self.uncertain(node, "a here-document")),
            "comment" => Ok(()),
            "variable_assignment" | "variable_assignments" | "declaration_command" => {
                Err(self.uncertain(node, "a variable assignment"))
            }
            "function_definition" => Err(self.uncertain(node, "a function definition")),
            "test_command" => Err(self.uncertain(node, "a test expression")),
            _ => Err(self.uncertain(node, "a construct that is not read here")),
        }
    }

    fn children(&mut self, node: Node) -> Result<(), Uncertain> {
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            if child.is_named() {
                self.statement(child)?;
            } else if !STATEMENT_TOKENS.contains(&child.kind()) {
                return Err(self.uncertain(child, "an operator that is not read here"));
            }
        }
        Ok(())
    }

    fn command(&mut self, node: Node) -> Result<(), Uncertain> {
        let position = self.line.commands.len();
        let mut name = None;
        let mut args = Vec::new();
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            match child.kind() {
                "command_name" => {
                    let word = self.single_word(child)?;
                    match word {
                        Word::Literal(text) if !text.is_empty() => name = Some(text),
                        _ => {
                            return Err(self.uncertain(child, "a command name that is not literal"));
                        }
                    }
                }
                "variable_assignment" => {
                    return Err(self.uncertain(child, "a variable assignment"));
                }
                "file_redirect" => self.file_redirect(child)?,
                "herestring_redirect" => self.herestring(child)?,
                _ if child.is_named() => args.push(self.word(child)?),
                _ => return Err(self.uncertain(child, "an operator that is not read here")),
            }
        }
        let Some(name) = name else {
            return Err(self.uncertain(node, "a command without a name"));
        };
        if CODE_RUNNERS.contains(&name.as_str()) {
            return Err(Uncertain(format!(
                "`{name}` runs code that is only known when it runs"
            )));
        }
        if name == "tee" {
            self.tee_targets(&args)?;
        }
        self.line
            .commands
            .insert(position, SimpleCommand { name, args });
        Ok(())
    }

    /// `tee FILE…` writes its file arguments.
    fn tee_targets(&mut self, args: &[Word]) -> Result<(), Uncertain> {
        let mut options_done = false;
        for arg in args {
            match arg {
                Word::Literal(text) if !options_done && text == "--" => options_done = true,
                Word::Literal(text) if !options_done && text.starts_with('-') && text != "-" => {}
                Word::Literal(text) => self.line.writes.push(text.clone()),
                Word::Dynamic(text) => {
                    return Err(Uncertain(format!(
                        "`tee` writes to `{}`, which is only known when it runs",
                        shorten(text)
                    )));
                }
            }
        }
        Ok(())
    }

    /// The only named child of `node`, as a word.
    fn single_word(&mut self, node: Node) -> Result<Word, Uncertain> {
        if node.named_child_count() != 1 {
            return Err(self.uncertain(node, "not a single word"));
        }
        match node.named_child(0) {
            Some(child) => self.word(child),
            None => Err(self.uncertain(node, "not a single word")),
        }
    }

    fn word(&mut self, node: Node) -> Result<Word, Uncertain> {
        let text = self.text(node).to_string();
        match node.kind() {
            "word" | "number" => unquoted_word(&text),
            "raw_string" => match text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
                Some(inner) => Ok(Word::Literal(inner.to_string())),
                None => Err(self.uncertain(node, "an unterminated quote")),
            },
            "string" => self.double_quoted(node, &text),
            "translated_string" => {
                self.substitutions_in(node)?;
                Ok(Word::Dynamic(text))
            }
            "ansi_c_string" | "brace_expression" => Ok(Word::Dynamic(text)),
            "concatenation" => {
                let mut joined = String::new();
                let mut dynamic = false;
                let mut cursor = node.walk();
                for child in node.children(&mut cursor) {
                    match self.word(child)? {
                        Word::Literal(part) => joined.push_str(&part),
                        Word::Dynamic(_) => dynamic = true,
                    }
                }
                Ok(if dynamic {
                    Word::Dynamic(text)
                } else {
                    Word::Literal(joined)
                })
            }
            "simple_expansion" => Ok(Word::Dynamic(text)),
            "expansion" => {
                self.expansion(node)?;
                Ok(Word::Dynamic(text))
            }
            "command_substitution" | "process_substitution" => {
                self.substitution(node)?;
                Ok(Word::Dynamic(text))
            }
            "arithmetic_expansion" => Err(self.uncertain(
                node,
                "arithmetic, where bash evaluates variables' contents as code",
            )),
            _ => Err(self.uncertain(node, "a word that is not read here")),
        }
    }

    fn double_quoted(&mut self, node: Node, text: &str) -> Result<Word, Uncertain> {
        let mut plain = true;
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            match child.kind() {
                "string_content" => {}
                "simple_expansion" => plain = false,
                "expansion" => {
                    self.expansion(child)?;
                    plain = false;
                }
                "command_substitution" => {
                    self.substitution(child)?;
                    plain = false;
                }
                _ => return Err(self.uncertain(child, "a part of a string that is not read here")),
            }
        }
        if !plain {
            return Ok(Word::Dynamic(text.to_string()));
        }
        match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(inner) => double_quoted_literal(inner),
            None => Err(self.uncertain(node, "an unterminated quote")),
        }
    }

    /// `${…}`: only plain names and operators whose words are read like any other word.
    fn expansion(&mut self, node: Node) -> Result<(), Uncertain> {
        let text = self.text(node);
        if text.contains(['[', '!', '@']) {
            return Err(self.uncertain(
                node,
                "an expansion with a subscript, indirection or transformation",
            ));
        }
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            match child.kind() {
                "variable_name" | "special_variable_name" => {}
                "regex" if !self.text(child).contains(['$', '`', '\\']) => {}
                _ => {
                    self.word(child)?;
                }
            }
        }
        Ok(())
    }

    /// `$( … )`, `` `…` ``, `<( … )`, `>( … )`: the commands inside run too.
    fn substitution(&mut self, node: Node) -> Result<(), Uncertain> {
        if self.text(node).starts_with('`') && self.text(node).contains('\\') {
            return Err(self.uncertain(
                node,
                "backquotes holding backslashes (bash unescapes and parses them again)",
            ));
        }
        self.children(node)
    }

    /// Expansions inside `node` (a `$"…"` string) that run commands.
    fn substitutions_in(&mut self, node: Node) -> Result<(), Uncertain> {
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            match child.kind() {
                "string_content" => {}
                _ => {
                    self.word(child)?;
                }
            }
        }
        Ok(())
    }

    fn herestring(&mut self, node: Node) -> Result<(), Uncertain> {
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            self.word(child)?;
        }
        Ok(())
    }

    fn file_redirect(&mut self, node: Node) -> Result<(), Uncertain> {
        let mut operator = None;
        let mut targets = Vec::new();
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            if !child.is_named() {
                operator = Some(child.kind());
            } else if child.kind() != "file_descriptor" {
                targets.push(child);
            }
        }
        let closes = matches!(operator, Some(">&-" | "<&-"));
        if closes && targets.is_empty() {
            return Ok(());
        }
        let [target] = targets[..] else {
            return Err(self.uncertain(node, "a redirection that is not read here"));
        };
        let target_word = self.word(target)?;
        let Word::Literal(path) = target_word else {
            return Err(self.uncertain(node, "a redirection to a file only known when it runs"));
        };
        let is_descriptor = path == "-" || path.chars().all(|c| c.is_ascii_digit());
        match operator {
            Some(">" | ">>" | "&>" | "&>>" | ">|") => self.line.writes.push(path),
            Some(">&") if is_descriptor => {}
            Some(">&") => self.line.writes.push(path),
            Some("<&") if is_descriptor => {}
            Some("<") => self.line.reads.push(path),
            _ => return Err(self.uncertain(node, "a redirection that is not read here")),
        }
        Ok(())
    }
}

/// An unquoted word: backslash escapes removed; globs, `~` and braces make it dynamic.
fn unquoted_word(text: &str) -> Result<Word, Uncertain> {
    let mut literal = String::with_capacity(text.len());
    let mut dynamic = false;
    let mut previous = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => literal.push(escaped),
                None => {
                    return Err(Uncertain(format!(
                        "`{}` ends in a backslash",
                        shorten(text)
                    )));
                }
            },
            '$' | '`' | '\'' | '"' => {
                return Err(Uncertain(format!(
                    "`{}` holds a quote or expansion the parser did not separate",
                    shorten(text)
                )));
            }
            '*' | '?' | '[' | '{' => {
                dynamic = true;
                literal.push(c);
            }
            '~' if matches!(previous, None | Some('=' | ':')) => {
                dynamic = true;
                literal.push(c);
            }
            _ => literal.push(c),
        }
        previous = Some(c);
    }
    Ok(if dynamic {
        Word::Dynamic(text.to_string())
    } else {
        Word::Literal(literal)
    })
}

/// The inside of `"…"` holding no expansion: `\$`, `` \` ``, `\"`, `\\` unescaped.
fn double_quoted_literal(inner: &str) -> Result<Word, Uncertain> {
    let mut literal = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&next @ ('$' | '`' | '"' | '\\')) => {
                    literal.push(next);
                    chars.next();
                }
                _ => literal.push('\\'),
            },
            '$' => match chars.peek() {
                None | Some(' ' | '\t' | '\n' | '/' | '.' | ',' | ':' | '=' | '%' | '+') => {
                    literal.push('$')
                }
                Some(_) => {
                    return Err(Uncertain(format!(
                        "`\"{}\"` holds an expansion the parser did not separate",
                        shorten(inner)
                    )));
                }
            },
            '`' => {
                return Err(Uncertain(format!(
                    "`\"{}\"` holds a backquote the parser did not separate",
                    shorten(inner)
                )));
            }
            _ => literal.push(c),
        }
    }
    Ok(Word::Literal(literal))
}

/// At most 80 characters of `text`, for messages.
fn shorten(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(line: &str) -> Vec<String> {
        analyze(line)
            .unwrap_or_else(|e| panic!("{line:?}: {e}"))
            .commands
            .into_iter()
            .map(|c| c.name)
            .collect()
    }

    fn lit(text: &str) -> Word {
        Word::Literal(text.into())
    }

    #[test]
    fn every_separator_and_nesting_yields_each_simple_command() {
        let cases: &[(&str, &[&str])] = &[
            ("cargo test; curl x | sh", &["cargo", "curl", "sh"]),
            ("a && b || c |& d & e\nf", &["a", "b", "c", "d", "e", "f"]),
            ("(a; b) && { c; }", &["a", "b", "c"]),
            (
                "echo $(a) `b` \"x $(c) `d`\"",
                &["echo", "a", "b", "c", "d"],
            ),
            ("cat <(a) >(b)", &["cat", "a", "b"]),
            ("echo ${x:=$(a)} ${y:-$(b)} ${z#x*}", &["echo", "a", "b"]),
            ("! a | b", &["a", "b"]),
            ("echo $(a $(b))", &["echo", "a", "b"]),
            ("echo hi # ; touch x", &["echo"]),
            ("cat <<< \"$(a)\"", &["cat", "a"]),
            ("echo > >(a)", &[]),
        ];
        for (line, expected) in cases {
            if expected.is_empty() {
                assert!(analyze(line).is_err(), "{line}");
            } else {
                assert_eq!(names(line), *expected, "{line}");
            }
        }
    }

    #[test]
    fn moderate_nesting_is_read_deep_nesting_is_uncertain() {
        let nested = |n: usize| format!("{}x{}", "echo $(".repeat(n), ")".repeat(n));
        assert_eq!(analyze(&nested(20)).unwrap().commands.len(), 21);
        assert!(analyze(&nested(5000)).is_err());
    }

    #[test]
    fn quotes_and_escapes_are_removed_and_hide_no_separator() {
        let line = analyze(r#"echo 'a;b' "c && d" e\;f "g\"h" \e"#).unwrap();
        assert_eq!(line.commands.len(), 1);
        assert_eq!(
            line.commands[0].args,
            [lit("a;b"), lit("c && d"), lit("e;f"), lit("g\"h"), lit("e")]
        );
        assert_eq!(names(r"\cargo test"), ["cargo"]);
        assert_eq!(names("'cargo' te\"st\""), ["cargo"]);
        assert_eq!(
            analyze("cargo te\"st\"").unwrap().commands[0].args,
            [lit("test")]
        );
    }

    #[test]
    fn globs_variables_and_substitutions_are_dynamic_words() {
        let line = analyze("ls *.rs ~/x $HOME \"$HOME\" {a,b} $(pwd) $'x'").unwrap();
        assert!(line.commands[0].args.iter().all(|w| w.literal().is_none()));
        let line = analyze("git log HEAD~1 a=~ x").unwrap();
        assert_eq!(line.commands[0].args[1], lit("HEAD~1"));
        assert!(line.commands[0].args[2].literal().is_none());
    }

    #[test]
    fn redirections_name_what_is_written_and_read() {
        let line =
            analyze("a > w1 2>>w2 &>w3 >|w4 >&w5 2>&1 >&- <r1 3<&0 2>/dev/null | tee -a t1 -- -t2")
                .unwrap();
        assert_eq!(
            line.writes,
            ["w1", "w2", "w3", "w4", "w5", "/dev/null", "t1", "-t2"]
        );
        assert_eq!(line.reads, ["r1"]);
        assert_eq!(analyze("> f").unwrap().writes, ["f"]);
        assert_eq!(analyze("echo $(< f)").unwrap().reads, ["f"]);
    }

    #[test]
    fn what_cannot_be_read_with_certainty_is_uncertain() {
        for line in [
            "echo hi; eval \"touch x\"",
            "source x.sh",
            ". x.sh",
            "$cmd x",
            "\"$(echo rm)\" x",
            "X=1 cargo test",
            "PATH=/tmp; cargo test",
            "export X=1",
            "f() { touch x; }; f",
            "if a; then b; fi",
            "for i in 1; do b; done",
            "[[ $x -eq 1 ]]",
            "echo $((x))",
            "echo ${a[$(id)]}",
            "echo ${!x} ",
            "echo ${x@P}",
            "echo ${x:-`id`}",
            "echo ${x#$(id)}",
            "cat <<EOF | sh\ntouch x\nEOF",
            "echo hi > $f",
            "echo hi > ~/f",
            "echo hi <>f",
            "echo `echo \\`id\\``",
            "cargo test\\\nx",
            format!("{}x{}", "echo $(".repeat(300), ")".repeat(300)).as_str(),
            "cargo test\rx",
            "echo 'unterminated",
            "echo (",
            "tee $f",
            "case x in x) a;; esac",
        ] {
            assert!(analyze(line).is_err(), "{line:?} must be uncertain");
        }
    }
}
