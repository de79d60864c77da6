//! The simple commands that `read-only` mode lets run: a small, conservative list of programs
//! that only read, with the flags that would make them write or run something refused.
//!
//! | command | allowed when |
//! | --- | --- |
//! | `echo`, `pwd`, `true`, `false`, `basename`, `dirname` | always (they read no file) |
//! | `cat`, `head`, `tail`, `wc`, `ls`, `grep`, `egrep`, `fgrep` | every argument is literal and none names a place outside the project |
//! | `rg` | as above, and no `--pre`, `--hostname-bin`, `-z`/`--search-zip` (they run programs) |
//! | `find` | as above, and no `-exec`, `-execdir`, `-ok`, `-okdir`, `-delete`, `-fprint`, `-fprint0`, `-fprintf`, `-fls` |
//! | `git log`, `git status`, `git diff`, `git show` | the subcommand comes first (no `-C`/`-c` before it), as above, and no `--output` or `--ext-diff` |
//!
//! "Names a place outside the project": an argument (or the value after `=` in `--opt=value`)
//! that, taken as a path relative to the project root, resolves outside it (absolute paths,
//! `..`, symlinks leading out). Arguments that are not paths (a grep pattern) are checked the
//! same way, so a pattern like `/etc` is refused: the list errs on the side of refusing.
//! The line's redirections are checked separately: `read-only` allows writing only to
//! `/dev/null`, `/dev/stdout` and `/dev/stderr`, and reading (`<`) only inside the project.
//!
//! Caveat: `git` honours the repository's own configuration (`core.fsmonitor`, diff drivers,
//! textconv), which can run programs; the repository's configuration is trusted like the
//! user's.

use super::shell_command::{SimpleCommand, Word};

/// Commands that read no file.
const PURE: &[&str] = &["echo", "pwd", "true", "false", "basename", "dirname"];
/// Commands that read the files they are given.
const FILE_READERS: &[&str] = &[
    "cat", "head", "tail", "wc", "ls", "grep", "egrep", "fgrep", "rg", "find", "git",
];
/// `git` subcommands that only read.
const GIT_READS: &[&str] = &["log", "status", "diff", "show"];
/// `find` actions that write or run programs.
const FIND_REFUSED: &[&str] = &[
    "-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf", "-fls",
];

/// `Ok` when `command` only reads; otherwise why not. `in_project` says whether a literal
/// argument, taken as a path, stays inside the project.
pub fn check(command: &SimpleCommand, in_project: &dyn Fn(&str) -> bool) -> Result<(), String> {
    let name = command.name.as_str();
    if PURE.contains(&name) {
        return Ok(());
    }
    if !FILE_READERS.contains(&name) {
        return Err(format!("`{name}` is not on the read-only list"));
    }
    let mut args = Vec::with_capacity(command.args.len());
    for arg in &command.args {
        match arg {
            Word::Literal(text) => args.push(text.as_str()),
            Word::Dynamic(text) => {
                return Err(format!(
                    "`{text}` is only known when the command runs, so it could name any file"
                ));
            }
        }
    }
    let refused_flag = match name {
        "rg" => args.iter().find(|a| rg_runs_programs(a)),
        "find" => args.iter().find(|a| FIND_REFUSED.contains(a)),
        "git" => {
            if !args.first().is_some_and(|sub| GIT_READS.contains(sub)) {
                return Err(format!(
                    "only `git {}` are read-only (with the subcommand first)",
                    GIT_READS.join("`, `git ")
                ));
            }
            args.iter()
                .find(|a| a.starts_with("--output") || a.starts_with("--ext-diff"))
        }
        _ => None,
    };
    if let Some(flag) = refused_flag {
        return Err(format!("`{name} {flag}` can write files or run programs"));
    }
    for arg in args {
        let path = path_in_argument(arg);
        if !path.is_empty() && !in_project(path) {
            return Err(format!("`{arg}` names a place outside the project"));
        }
    }
    Ok(())
}

/// rg flags that run other programs (preprocessors, decompressors, hostname lookups).
fn rg_runs_programs(arg: &str) -> bool {
    arg.starts_with("--pre")
        || arg.starts_with("--hostname-bin")
        || arg.starts_with("--search-zip")
        || (arg.starts_with('-') && !arg.starts_with("--") && arg.contains('z'))
}

/// The part of an argument that could be a path: the value of `--opt=value`, from the first
/// `/` of an option with an attached value (`-f/etc/x`), nothing for other options, else the
/// whole argument.
fn path_in_argument(arg: &str) -> &str {
    if !arg.starts_with('-') {
        return arg;
    }
    if let Some((_, value)) = arg.split_once('=') {
        return value;
    }
    arg.find('/').map(|slash| &arg[slash..]).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::shell_command::analyze;

    fn verdicts(line: &str) -> Result<(), String> {
        let inside = |path: &str| !path.starts_with('/') && !path.contains("..");
        analyze(line)
            .map_err(|e| e.to_string())?
            .commands
            .iter()
            .try_for_each(|c| check(c, &inside))
    }

    #[test]
    fn listed_readers_inside_the_project_are_read_only() {
        for line in [
            "ls -la src",
            "cat README.md | head -n 5 | wc -l",
            "grep -rn 'fn main' src",
            "rg -i todo --glob '*.rs'",
            "find . -name '*.rs' -type f",
            "git log --oneline -5",
            "git diff HEAD~1 -- src",
            "echo $HOME $(pwd)",
            "tail -n 20 log.txt; true",
        ] {
            assert_eq!(verdicts(line), Ok(()), "{line}");
        }
    }

    #[test]
    fn writers_runners_and_outside_paths_are_not() {
        for line in [
            "rm -rf x",
            "cat /etc/passwd",
            "cat ../secret",
            "cat --files0-from=/etc/x",
            "grep -f/etc/passwd x",
            "cat $F",
            "ls *",
            "find . -delete",
            "find . -exec touch x ;",
            "rg --pre ./run x",
            "rg -iz x",
            "git push",
            "git -C /tmp log",
            "git diff --output=x",
            "git diff --ext-diff",
            "ls | sh",
            "sort -o x y",
            "echo hi | tee x",
        ] {
            assert!(verdicts(line).is_err(), "{line} must not be read-only");
        }
    }
}
