//! The `gem` binary: parses flags and dispatches to the handler of each mode and subcommand.

use std::process::ExitCode;

use clap::Parser;

use gem::agent::Mode;
use gem::cli::{Cli, Command};
use gem::exec::exit_code;
use gem::setup::{file_config, project_root};
use gem::terminal_safe::terminal_safe;
use gem::tui::launch::{SessionChoice, choose_session};

fn main() -> ExitCode {
    let cli = Cli::parse();
    gem::child_reaper::adopt_orphans();
    let result = run(cli);
    gem::mcp::shutdown(); // no MCP server outlives gem, whichever thread owned it
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gem: error: {}", terminal_safe(&format!("{e:#}")));
            // A bad --allow pattern is a usage error like any other bad flag.
            if e.chain()
                .any(|c| c.is::<gem::agent::permissions::RuleError>())
            {
                exit_code::USAGE
            } else {
                exit_code::ERROR
            }
        }
    };
    // Nothing gem started outlives it (background commands, setsid'd daemons).
    gem::child_reaper::end_descendants();
    ExitCode::from(code as u8)
}

fn run(mut cli: Cli) -> anyhow::Result<i32> {
    // A bad --allow pattern is reported before any model loads.
    gem::agent::permissions::Permissions::new(Mode::Ask, &cli.allow)?;
    let file = file_config()?;
    match &cli.command {
        Some(Command::Debug { action }) => gem::exec::debug_command::run(&cli, &file, action),
        Some(Command::Cache { action }) => gem::engine::cache_command::run(action),
        Some(Command::Pull(args)) => gem::models::pull_command::run(args),
        Some(Command::Models { json }) => gem::models::command::run_for(&cli.model, &file, *json),
        Some(Command::Mcp { action }) => Ok(gem::mcp::command::run(
            action,
            &project_root()?,
            &mut std::io::stdout(),
        )?),
        Some(Command::Bench {
            prompt,
            generate,
            followup,
            json,
            repo,
            pack_only,
        }) => match repo {
            Some(repo) => gem::exec::bench_command::run_repo(&cli, &file, repo, *pack_only, *json),
            None => {
                gem::exec::bench_command::run(&cli, &file, *prompt, *generate, *followup, *json)
            }
        },
        Some(Command::Review {
            base,
            format,
            fail_on,
        }) => gem::exec::review_command::run(&cli, &file, base.as_deref(), *format, *fail_on),
        None => {
            if cli.resume.as_deref() == Some("") {
                match choose_session(&cli, &file)? {
                    SessionChoice::Resume(id) => cli.resume = Some(id),
                    SessionChoice::Exit(code) => return Ok(code),
                }
            }
            match cli.prompt.clone() {
                Some(prompt) => gem::exec::print_command::run(&cli, &file, prompt),
                None => gem::tui::launch::run(&cli, &file),
            }
        }
    }
}
