//! Slash commands: their list (for the popup and /help) and parsing.

use super::custom_commands::CustomCommand;
use crate::agent::Mode;

/// A slash command as listed in the popup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    /// Name without the slash.
    pub name: &'static str,
    /// Argument hint, e.g. `[hint]`.
    pub args: &'static str,
    /// What it does.
    pub help: &'static str,
}

/// Every slash command.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "help",
        args: "",
        help: "show commands and keys",
    },
    CommandSpec {
        name: "clear",
        args: "",
        help: "start a fresh conversation",
    },
    CommandSpec {
        name: "compact",
        args: "[hint]",
        help: "summarise the conversation to free context",
    },
    CommandSpec {
        name: "model",
        args: "[N|PATH]",
        help: "show the model and those found; switch to another",
    },
    CommandSpec {
        name: "mode",
        args: "[name]",
        help: "show or set the permission mode",
    },
    CommandSpec {
        name: "permissions",
        args: "[revoke RULE|edits]",
        help: "list what runs without asking; revoke an \"always\"",
    },
    CommandSpec {
        name: "mcp",
        args: "",
        help: "list MCP servers, their state and tools",
    },
    CommandSpec {
        name: "think",
        args: "",
        help: "show or hide thinking",
    },
    CommandSpec {
        name: "diff",
        args: "",
        help: "show what this session changed in the files",
    },
    CommandSpec {
        name: "undo",
        args: "",
        help: "revert the last turn's file changes, shell ones too",
    },
    CommandSpec {
        name: "context",
        args: "",
        help: "show what fills the context window",
    },
    CommandSpec {
        name: "copy",
        args: "",
        help: "copy the last answer to the clipboard",
    },
    CommandSpec {
        name: "quit",
        args: "",
        help: "end the session",
    },
];

/// A command as the popup lists it: a built-in one or the user's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandItem {
    /// Name without the slash.
    pub name: String,
    /// Argument hint (empty when it takes none).
    pub args: String,
    /// What it does.
    pub help: String,
}

/// The built-in names, for keeping custom commands off them.
pub fn builtin_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
    names.extend(["?", "new", "allowed", "exit"]);
    names
}

/// The permission modes `/mode` accepts.
pub const MODES: [&str; 5] = [
    Mode::ALL[0].name(),
    Mode::ALL[1].name(),
    Mode::ALL[2].name(),
    Mode::ALL[3].name(),
    Mode::ALL[4].name(),
];

/// A parsed slash command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/help`.
    Help,
    /// `/clear`.
    Clear,
    /// `/compact [hint]`.
    Compact(Option<String>),
    /// `/model [N|PATH]`.
    Model(Option<String>),
    /// `/mode [name]`.
    Mode(Option<String>),
    /// `/permissions [revoke RULE|edits]`.
    Permissions(Option<String>),
    /// `/mcp`.
    Mcp,
    /// `/think`.
    Think,
    /// `/diff`.
    Diff,
    /// `/undo`.
    Undo,
    /// `/context`.
    Context,
    /// `/copy`.
    Copy,
    /// `/quit` (or `/exit`).
    Quit,
    /// Anything else starting with `/` (a custom command, or a mistake), with its arguments.
    Unknown(String, Option<String>),
}

/// Parses `/name args`; `None` when `text` does not start with `/`.
pub fn parse_command(text: &str) -> Option<Command> {
    let rest = text.trim().strip_prefix('/')?;
    let (name, args) = match rest.split_once(char::is_whitespace) {
        Some((name, args)) => (name, args.trim()),
        None => (rest, ""),
    };
    let arg = (!args.is_empty()).then(|| args.to_string());
    Some(match name {
        "help" | "?" => Command::Help,
        "clear" | "new" => Command::Clear,
        "compact" => Command::Compact(arg),
        "model" => Command::Model(arg),
        "mode" => Command::Mode(arg),
        "permissions" | "allowed" => Command::Permissions(arg),
        "mcp" => Command::Mcp,
        "think" => Command::Think,
        "diff" => Command::Diff,
        "undo" => Command::Undo,
        "context" => Command::Context,
        "copy" => Command::Copy,
        "quit" | "exit" => Command::Quit,
        other => Command::Unknown(other.to_string(), arg),
    })
}

/// Commands (built-in, then `custom`) whose name starts with `prefix` (without the slash), the
/// one named exactly `prefix` first (so `/mode` + Enter runs `/mode`, not `/model`).
pub fn matching_commands(prefix: &str, custom: &[CustomCommand]) -> Vec<CommandItem> {
    let builtin = COMMANDS.iter().map(|c| CommandItem {
        name: c.name.to_string(),
        args: c.args.to_string(),
        help: c.help.to_string(),
    });
    let own = custom.iter().map(|c| CommandItem {
        name: c.name.clone(),
        args: if c.body.contains("$ARGUMENTS") {
            "[arguments]".into()
        } else {
            String::new()
        },
        help: c.description.clone(),
    });
    let mut matches: Vec<CommandItem> = builtin
        .chain(own)
        .filter(|c| c.name.starts_with(prefix))
        .collect();
    matches.sort_by_key(|c| c.name != prefix);
    matches
}

/// Every key binding (Markdown): the end of `/help`, and what `?` in an empty message box shows.
pub const KEYS_HELP: &str = "\
**Keys**
- `enter` send (during a turn: the model reads it at its next step) · `shift+enter`/`alt+enter`/`ctrl+j`/`\\`+`enter` new line · `up`/`down` history
- `ctrl+g` edit the message in $EDITOR · `ctrl+a`/`ctrl+e` line start/end · `ctrl+u`/`ctrl+k` delete to start/end · `ctrl+w`/`alt+backspace` delete a word · `alt+b`/`alt+f` word left/right
- `@` attach a file · `/` commands · `!cmd` run a shell command · `?` these keys
- `pgup`/`pgdn`/wheel/`shift+up`/`shift+down` scroll · `ctrl+home` top · `end` follow · `ctrl+t` thinking · `ctrl+o` tool output
- `ctrl+s` select mode: the mouse selects text for copying (the wheel scrolls again after another `ctrl+s`) · `/copy` copies the last answer · the conversation stays in the terminal after you quit
- `shift+tab` cycle the mode: ask → auto-edit → plan (full-auto and read-only join once chosen with /mode)
- `esc` interrupt the running turn, or close popups · `ctrl+c` interrupt, clear, or twice to quit · `ctrl+d` quit (empty message)

**Approvals**
- `y`/`enter` run · `n`/`esc` deny · `e` edit the command · `a` always, as the overlay states
- `up`/`down`/`pgup`/`pgdn`/wheel scroll a long preview
- keys typed just before an approval appears stay in the message box

**Plan mode**
- the model investigates with read-only tools and ends with a plan
- `y`/`enter` switch to the mode you planned from and carry it out · `n`/`esc` keep planning
";

/// The `/help` text (Markdown), the user's own commands included.
pub fn help_text(custom: &[CustomCommand]) -> String {
    let mut text = String::from("**Commands**\n");
    for c in matching_commands("", &[]) {
        let args = if c.args.is_empty() {
            String::new()
        } else {
            format!(" {}", c.args)
        };
        text.push_str(&format!("- `/{}{}` {}\n", c.name, args, c.help));
    }
    if !custom.is_empty() {
        text.push_str("\n**Your commands** (`.gem/commands/`, `~/.config/gem/commands/`)\n");
        for c in custom {
            text.push_str(&format!("- `/{}` {}\n", c.name, c.description));
        }
    }
    text.push('\n');
    text.push_str(KEYS_HELP);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_and_arguments() {
        assert_eq!(parse_command("/help"), Some(Command::Help));
        assert_eq!(parse_command("/compact"), Some(Command::Compact(None)));
        assert_eq!(
            parse_command("/compact keep the API  "),
            Some(Command::Compact(Some("keep the API".into())))
        );
        assert_eq!(
            parse_command("/mode ask"),
            Some(Command::Mode(Some("ask".into())))
        );
        assert_eq!(
            parse_command("/nope"),
            Some(Command::Unknown("nope".into(), None))
        );
        assert_eq!(
            parse_command("/review-pr 42"),
            Some(Command::Unknown("review-pr".into(), Some("42".into())))
        );
        assert_eq!(parse_command("hello"), None);
    }

    #[test]
    fn prefix_matching() {
        let names = |prefix: &str, custom: &[CustomCommand]| -> Vec<String> {
            matching_commands(prefix, custom)
                .into_iter()
                .map(|c| c.name)
                .collect()
        };
        assert_eq!(names("c", &[]), ["clear", "compact", "context", "copy"]);
        assert_eq!(matching_commands("", &[]).len(), COMMANDS.len());
        assert!(matching_commands("zz", &[]).is_empty());
        assert_eq!(
            names("mode", &[]),
            ["mode", "model"],
            "the exact name comes first"
        );
        let custom = CustomCommand {
            name: "check".into(),
            description: "run the checks".into(),
            body: "Run $ARGUMENTS".into(),
            source: std::path::PathBuf::new(),
        };
        assert_eq!(
            names("c", std::slice::from_ref(&custom)),
            ["clear", "compact", "context", "copy", "check"]
        );
        assert_eq!(matching_commands("ch", &[custom])[0].args, "[arguments]");
    }

    #[test]
    fn help_lists_every_command() {
        let custom = CustomCommand {
            name: "standup".into(),
            description: "summarise yesterday".into(),
            body: "Summarise.".into(),
            source: std::path::PathBuf::new(),
        };
        let help = help_text(&[custom]);
        for c in COMMANDS {
            assert!(help.contains(&format!("/{}", c.name)));
        }
        assert!(help.contains("- `/standup` summarise yesterday"));
    }
}
