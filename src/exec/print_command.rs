//! `gem -p PROMPT` (and `--patch`): one task run to the end, its answer (or patch) printed.

use std::io::Write;

use anyhow::Context;

use super::exit_code;
use super::headless::{Stdout, run_task};
use super::patch_workspace::PatchWorkspace;
use super::signals::forward_interrupts;
use super::stdin_input::piped_stdin;
use crate::agent::{Mode, spawn};
use crate::cli::{Cli, OutputFormat};
use crate::protocol::{Attachment, Op};
use crate::setup::{AgentSetup, FileConfig, project_root, start_agent};
use crate::terminal_safe::terminal_safe;

/// Runs `prompt` headless; piped stdin is attached to it (or is the prompt, for `-p -`).
/// Returns the exit code.
pub fn run(cli: &Cli, file: &FileConfig, prompt: String) -> anyhow::Result<i32> {
    let (prompt, attachments) = prompt_and_attachments(prompt, piped_stdin()?)?;
    let root = project_root()?;
    let workspace = if cli.patch {
        Some(PatchWorkspace::create(&root)?)
    } else {
        None
    };
    let agent_root = workspace
        .as_ref()
        .map_or(root.clone(), |w| w.root().to_path_buf());
    let started = start_agent(
        cli,
        file,
        AgentSetup {
            root: &agent_root,
            extra_instructions: cli.patch.then_some(include_str!("../../prompts/patch.md")),
            default_mode: Mode::AutoEdit,
            interactive: false,
            prompt_hint: &prompt,
            pack_repo: true,
            save_session: true,
        },
    )?;
    let handle = spawn(started.agent);
    forward_interrupts(handle.ops.clone());
    let stream = if cli.output_format == OutputFormat::StreamJson {
        Stdout::StreamJson
    } else {
        Stdout::Quiet
    };
    let mut stdout = std::io::stdout();
    // Patch mode prints the patch on stdout, so its event stream goes to stderr unless the patch
    // goes to --out.
    let events_to_stderr = cli.patch && cli.out.is_none();
    let result = if events_to_stderr {
        run_task(
            &handle,
            &prompt,
            attachments,
            stream,
            &mut std::io::stderr(),
        )
    } else {
        run_task(&handle, &prompt, attachments, stream, &mut stdout)
    };
    let _ = handle.ops.send(Op::Shutdown);
    let mut code = exit_code::for_turn_end(&result.end);

    if let Some(workspace) = workspace {
        let patch = workspace.diff()?;
        if let Some(out) = &cli.out {
            std::fs::write(out, &patch).with_context(|| format!("writing {}", out.display()))?;
        }
        if code == exit_code::SUCCESS && patch.is_empty() {
            eprintln!(
                "gem: the task finished without changing any file{}",
                if result.denied_calls > 0 {
                    format!(" ({} tool calls were denied)", result.denied_calls)
                } else {
                    String::new()
                }
            );
            code = exit_code::NO_CHANGE;
        } else if code == exit_code::SUCCESS && cli.out.is_none() {
            print!("{patch}");
        }
        return Ok(code);
    }
    match cli.output_format {
        OutputFormat::Text => {
            if !result.final_text.is_empty() {
                writeln!(stdout, "{}", terminal_safe(&result.final_text))?;
            }
        }
        OutputFormat::Json => writeln!(stdout, "{}", serde_json::to_string(&result)?)?,
        OutputFormat::StreamJson => {}
    }
    Ok(code)
}

/// The prompt and its attachments: `-p -` takes the prompt from stdin; otherwise non-empty
/// stdin is attached to the prompt.
fn prompt_and_attachments(
    prompt: String,
    stdin: Option<String>,
) -> anyhow::Result<(String, Vec<Attachment>)> {
    Ok(match (prompt.as_str(), stdin) {
        ("-", Some(text)) if !text.trim().is_empty() => (text, Vec::new()),
        ("-", _) => anyhow::bail!("-p - reads the prompt from stdin, but stdin is empty"),
        (_, Some(text)) if !text.is_empty() => (
            prompt,
            vec![Attachment {
                label: "stdin".into(),
                content: text,
            }],
        ),
        (_, _) => (prompt, Vec::new()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdin_is_the_prompt_for_dash_and_an_attachment_otherwise() {
        let (prompt, attached) = prompt_and_attachments("-".into(), Some("fix it".into())).unwrap();
        assert_eq!((prompt.as_str(), attached.len()), ("fix it", 0));
        assert!(prompt_and_attachments("-".into(), Some(" \n".into())).is_err());
        assert!(prompt_and_attachments("-".into(), None).is_err());
        let (prompt, attached) =
            prompt_and_attachments("explain".into(), Some("log".into())).unwrap();
        assert_eq!(prompt, "explain");
        assert_eq!(attached[0].label, "stdin");
        assert_eq!(attached[0].content, "log");
        let (_, attached) = prompt_and_attachments("explain".into(), Some(String::new())).unwrap();
        assert!(attached.is_empty());
    }
}
