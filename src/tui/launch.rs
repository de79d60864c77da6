//! Starting the TUI: the session to resume (picked from a list for `--resume` without an id),
//! the theme, the agent, and signal handling while the terminal is in raw mode.

use std::io::IsTerminal;

use crate::agent::{Mode, spawn};
use crate::cli::Cli;
use crate::exec::exit_code;
use crate::protocol::Op;
use crate::setup::{AgentSetup, FileConfig, StartedAgent, project_root, start_agent};
use crate::terminal_safe::terminal_safe;

/// Runs the TUI in the project until the user quits; returns the exit code.
pub fn run(cli: &Cli, file: &FileConfig) -> anyhow::Result<i32> {
    let root = project_root()?;
    let file = &match model_for_first_run(cli, file)? {
        Some(file) => file,
        None => return Ok(exit_code::ERROR),
    };
    let StartedAgent {
        agent,
        repo_summary,
        model_line,
        model_path,
    } = start_agent(
        cli,
        file,
        AgentSetup {
            root: &root,
            extra_instructions: None,
            default_mode: Mode::Ask,
            interactive: true,
            prompt_hint: "",
            pack_repo: true,
            save_session: true,
        },
    )?;
    // The mode in force (the flag, else the config file, else ask), shown until the agent says.
    let mode = cli.mode.or(file.mode).unwrap_or(Mode::Ask);
    let history = Some(agent.conversation().clone()).filter(|c| !c.turns.is_empty());
    let handle = spawn(agent);
    // In raw mode Ctrl-C is a key; a signal (SIGTERM, SIGHUP when the terminal closes, an
    // external SIGINT) ends gem and what it started. The session log is already on disk.
    let _ = ctrlc::set_handler(|| {
        crate::child_reaper::end_descendants();
        super::restore_after_signal();
        eprintln!("gem: ended by a signal; `gem --continue` resumes this session");
        std::process::exit(exit_code::INTERRUPTED);
    });
    let (theme, no_color) = tui_theme(cli, file)?;
    super::run(
        super::TuiConfig {
            theme,
            model_line,
            model_path,
            project_root: root,
            mode,
            no_color,
            repo_summary,
            history,
        },
        handle.ops.clone(),
        handle.events,
    )?;
    let _ = handle.ops.send(Op::Shutdown);
    // The agent keeps the conversation's KV state on disk before it ends (for --continue).
    let _ = handle.thread.join();
    Ok(exit_code::SUCCESS)
}

/// With no model named and none on the machine, the first-run screen proposes one and pulls
/// it: the config to start with (the pulled model as its default), or `None` when the user
/// left without one (gem says how to get one). With a model named or found, `file` as it is.
fn model_for_first_run(cli: &Cli, file: &FileConfig) -> anyhow::Result<Option<FileConfig>> {
    if cli.model.model.is_some() || file.model.is_some() || cli.model.yes {
        return Ok(Some(file.clone()));
    }
    let kv = crate::engine::KvCacheKind::parse(&cli.model.kv_type).unwrap_or_default();
    let mut file = file.clone();
    match crate::models::default_model::resolve(kv, cli.model.ctx) {
        Ok(path) => file.model = Some(path),
        Err(none) => {
            let theme = screen_theme(cli, &file)?;
            match super::first_run::run_first_run(&none.proposal, &theme)? {
                Some(path) => {
                    eprintln!("gem: using {}", path.display());
                    file.model = Some(path);
                }
                None => {
                    eprintln!(
                        "gem: no model yet: `{}` fetches the one proposed for this machine, or \
                         pass --model PATH",
                        none.proposal.pull_command()
                    );
                    return Ok(None);
                }
            }
        }
    }
    Ok(Some(file))
}

/// The TUI's theme (config file, else `--theme`) and whether `NO_COLOR` asks for none.
pub fn tui_theme(cli: &Cli, file: &FileConfig) -> anyhow::Result<(super::Theme, bool)> {
    let name = file.theme.clone().unwrap_or_else(|| cli.theme.clone());
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    Ok((super::Theme::load(&name)?, no_color))
}

/// The theme a full-screen picker draws with: monochrome when `NO_COLOR` asks for no colour.
fn screen_theme(cli: &Cli, file: &FileConfig) -> anyhow::Result<super::Theme> {
    let (theme, no_color) = tui_theme(cli, file)?;
    Ok(if no_color {
        super::Theme::monochrome()
    } else {
        theme
    })
}

/// What `--resume` without an id came to.
pub enum SessionChoice {
    /// Resume this session.
    Resume(String),
    /// Nothing to resume: exit with this code.
    Exit(i32),
}

/// `--resume` without an id: the TUI lists this project's sessions to pick from; headless
/// modes cannot ask, so they print the list and exit with the usage code.
pub fn choose_session(cli: &Cli, file: &FileConfig) -> anyhow::Result<SessionChoice> {
    let root = project_root()?;
    let sessions = crate::session::list_sessions(&root)?;
    if sessions.is_empty() {
        anyhow::bail!("no saved session in {} to resume", root.display());
    }
    let interactive =
        cli.prompt.is_none() && std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if !interactive {
        eprintln!(
            "gem: --resume needs an id outside the TUI; sessions in this project, newest first:"
        );
        for s in sessions.iter().take(20) {
            let turns = if s.turns == 1 { "turn" } else { "turns" };
            eprintln!(
                "  {}  {:>3} {turns:<5}  {}",
                s.id,
                s.turns,
                terminal_safe(s.title())
            );
        }
        return Ok(SessionChoice::Exit(exit_code::USAGE));
    }
    let theme = screen_theme(cli, file)?;
    match super::session_list::pick_session(sessions, &theme)? {
        Some(id) => Ok(SessionChoice::Resume(id)),
        None => {
            eprintln!("gem: no session picked");
            Ok(SessionChoice::Exit(exit_code::SUCCESS))
        }
    }
}
