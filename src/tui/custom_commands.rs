//! The user's own slash commands: Markdown files whose text is sent as the message.
//!
//! `.gem/commands/NAME.md` in the project and `commands/NAME.md` in gem's config directory
//! (`~/.config/gem/commands/`) become `/NAME`; the project's win on a clash, and a built-in
//! command's name is never taken. In the text, `$ARGUMENTS` is replaced by what follows the
//! command (appended after a blank line when the text has no `$ARGUMENTS`). An optional front
//! matter block (`---` lines) may give a `description:` for the popup and `/help`; otherwise
//! the first line of the text describes it.

use std::path::{Path, PathBuf};

/// Largest command file read, in bytes: a prompt, not a document.
const MAX_FILE_BYTES: u64 = 64 * 1024;
/// Longest description shown, in characters.
const MAX_DESCRIPTION_CHARS: usize = 60;

/// One custom command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomCommand {
    /// Name without the slash (the file stem).
    pub name: String,
    /// One line for the popup and `/help`.
    pub description: String,
    /// The message template.
    pub body: String,
    /// The file it came from.
    pub source: PathBuf,
}

impl CustomCommand {
    /// The message this command sends with `arguments`.
    pub fn expand(&self, arguments: Option<&str>) -> String {
        let arguments = arguments.unwrap_or("").trim();
        if self.body.contains("$ARGUMENTS") {
            self.body.replace("$ARGUMENTS", arguments)
        } else if arguments.is_empty() {
            self.body.clone()
        } else {
            format!("{}\n\n{arguments}", self.body.trim_end())
        }
    }
}

/// The project's and the user's commands (project first on a clash), sorted by name, with a
/// warning for each file that could not be used. `reserved` are the built-in names.
pub fn load(
    project_root: &Path,
    config_dir: Option<&Path>,
    reserved: &[&str],
) -> (Vec<CustomCommand>, Vec<String>) {
    let mut commands: Vec<CustomCommand> = Vec::new();
    let mut warnings = Vec::new();
    let mut dirs = vec![project_root.join(".gem").join("commands")];
    dirs.extend(config_dir.map(|dir| dir.join("gem").join("commands")));
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
            .collect();
        paths.sort();
        for path in paths {
            match read_command(&path) {
                Ok(command) if reserved.contains(&command.name.as_str()) => warnings.push(format!(
                    "{}: /{} is a built-in command; this file is not used",
                    path.display(),
                    command.name
                )),
                Ok(command) if commands.iter().any(|c| c.name == command.name) => {}
                Ok(command) => commands.push(command),
                Err(why) => warnings.push(format!("{}: {why}", path.display())),
            }
        }
    }
    commands.sort_by(|a, b| a.name.cmp(&b.name));
    (commands, warnings)
}

/// Reads one command file.
fn read_command(path: &Path) -> Result<CustomCommand, String> {
    let name = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .filter(|stem| {
            !stem.is_empty()
                && stem
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .ok_or("a command name is letters, digits, - and _ only")?
        .to_ascii_lowercase();
    let metadata = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if !metadata.is_file() {
        return Err("not a regular file".into());
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(format!(
            "larger than {} KiB; a command is a prompt",
            MAX_FILE_BYTES / 1024
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
    let (description, body) = split_front_matter(&text);
    let body = body.trim().to_string();
    if body.is_empty() {
        return Err("the command has no text".into());
    }
    let description = description.unwrap_or_else(|| {
        crate::first_line::first_line(&body)
            .0
            .trim_start_matches('#')
            .trim()
    });
    Ok(CustomCommand {
        name,
        description: crate::tui::format::truncate_chars(description, MAX_DESCRIPTION_CHARS),
        body,
        source: path.to_path_buf(),
    })
}

/// The front matter's `description:` (if any) and the text after the front matter.
fn split_front_matter(text: &str) -> (Option<&str>, &str) {
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return (None, text);
    };
    let Some(end) = rest.find("\n---") else {
        return (None, text);
    };
    let front = &rest[..end];
    let after = &rest[end + "\n---".len()..];
    let body = after.split_once('\n').map_or("", |(_, body)| body);
    let description = front.lines().find_map(|line| {
        line.strip_prefix("description:")
            .map(|d| d.trim().trim_matches('"'))
    });
    (description, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn project_and_user_commands_load_with_descriptions_and_the_project_wins() {
        let root = tempfile::tempdir().unwrap();
        let config = tempfile::tempdir().unwrap();
        let project = root.path().join(".gem/commands");
        let user = config.path().join("gem/commands");
        write(
            &project,
            "review-pr.md",
            "---\ndescription: Review a pull request\n---\nReview PR $ARGUMENTS for bugs.\n",
        );
        write(
            &project,
            "fix.md",
            "# Fix the failing tests\nRun them, then fix.\n",
        );
        write(&user, "fix.md", "The user's fix, shadowed.\n");
        write(&user, "standup.md", "Summarise yesterday's commits.\n");
        write(&user, "help.md", "Not allowed: a built-in name.\n");
        write(&user, "empty.md", "  \n");
        write(&user, "notes.txt", "not a command\n");
        let (commands, warnings) = load(root.path(), Some(config.path()), &["help"]);
        let names: Vec<&str> = commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["fix", "review-pr", "standup"]);
        assert_eq!(commands[0].description, "Fix the failing tests");
        assert!(
            commands[0].source.starts_with(root.path()),
            "the project wins"
        );
        assert_eq!(commands[1].description, "Review a pull request");
        assert_eq!(commands[1].body, "Review PR $ARGUMENTS for bugs.");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings.iter().any(|w| w.contains("/help is a built-in")));
        assert!(warnings.iter().any(|w| w.contains("no text")));
    }

    #[test]
    fn arguments_replace_the_placeholder_or_follow_the_text() {
        let command = |body: &str| CustomCommand {
            name: "c".into(),
            description: String::new(),
            body: body.into(),
            source: PathBuf::new(),
        };
        assert_eq!(
            command("Review PR $ARGUMENTS now.").expand(Some(" 42 ")),
            "Review PR 42 now."
        );
        assert_eq!(command("Run the tests.").expand(None), "Run the tests.");
        assert_eq!(
            command("Run the tests.").expand(Some("only unit")),
            "Run the tests.\n\nonly unit"
        );
    }

    #[test]
    fn no_directories_no_commands() {
        let root = tempfile::tempdir().unwrap();
        assert_eq!(load(root.path(), None, &[]), (Vec::new(), Vec::new()));
    }
}
