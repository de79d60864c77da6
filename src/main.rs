//! The `gem` binary: parses flags and hands over to a frontend.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use gem::agent::{Mode, spawn};
use gem::cli::{CacheAction, Cli, Command, DebugAction, FailOnArg, OutputFormat, ReviewFormatArg};
use gem::exec::exit_code;
use gem::exec::headless::{Stdout, run_task};
use gem::protocol::{Attachment, Op, TurnEnd};
use gem::setup::{AgentSetup, FileConfig, build_agent, engine_config, file_config, open_backend};
use gem::terminal_safe::terminal_safe;

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

fn run(cli: Cli) -> anyhow::Result<i32> {
    // A bad --allow pattern is reported before any model loads.
    gem::agent::permissions::Permissions::new(Mode::Ask, &cli.allow)?;
    let file = file_config()?;
    match &cli.command {
        Some(Command::Debug { action }) => return debug(&cli, &file, action),
        Some(Command::Cache { action }) => return cache(action),
        Some(Command::Pull(args)) => return gem::models::pull_command::run(args),
        Some(Command::Models { json }) => {
            return gem::models::command::run_for(&cli.model, &file, *json);
        }
        Some(Command::Mcp { action }) => {
            return Ok(gem::mcp::command::run(
                action,
                &project_root()?,
                &mut std::io::stdout(),
            )?);
        }
        Some(Command::Bench {
            prompt,
            generate,
            followup,
            json,
            repo,
            pack_only,
        }) => {
            if let Some(repo) = repo {
                return bench_repo(&cli, &file, repo, *pack_only, *json);
            }
            return bench(&cli, &file, *prompt, *generate, *followup, *json);
        }
        Some(Command::Review {
            base,
            format,
            fail_on,
        }) => {
            return review(&cli, &file, base.as_deref(), *format, *fail_on);
        }
        None => {}
    }
    let mut cli = cli;
    if cli.resume.as_deref() == Some("") {
        match choose_session(&cli, &file)? {
            SessionChoice::Resume(id) => cli.resume = Some(id),
            SessionChoice::Exit(code) => return Ok(code),
        }
    }
    match cli.prompt.clone() {
        Some(prompt) => print_mode(&cli, &file, prompt),
        None => interactive(&cli, &file),
    }
}

/// The TUI's theme (config file, else `--theme`) and whether `NO_COLOR` asks for none.
fn tui_theme(cli: &Cli, file: &FileConfig) -> anyhow::Result<(gem::tui::Theme, bool)> {
    let name = file.theme.clone().unwrap_or_else(|| cli.theme.clone());
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    Ok((gem::tui::Theme::load(&name)?, no_color))
}

/// What `--resume` without an id came to.
enum SessionChoice {
    /// Resume this session.
    Resume(String),
    /// Nothing to resume: exit with this code.
    Exit(i32),
}

/// `--resume` without an id: the TUI lists this project's sessions to pick from; headless
/// modes cannot ask, so they print the list and exit with the usage code.
fn choose_session(cli: &Cli, file: &FileConfig) -> anyhow::Result<SessionChoice> {
    let root = project_root()?;
    let sessions = gem::session::list_sessions(&root)?;
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
    let (theme, no_color) = tui_theme(cli, file)?;
    let theme = if no_color {
        gem::tui::Theme::monochrome()
    } else {
        theme
    };
    match gem::tui::session_list::pick_session(sessions, &theme)? {
        Some(id) => Ok(SessionChoice::Resume(id)),
        None => {
            eprintln!("gem: no session picked");
            Ok(SessionChoice::Exit(exit_code::SUCCESS))
        }
    }
}

fn project_root() -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    Ok(git2::Repository::discover(&cwd)
        .ok()
        .and_then(|r| r.workdir().map(|p| p.to_path_buf()))
        .unwrap_or(cwd))
}

/// Piped stdin, if any (never blocks on a terminal): `None` for a terminal, else the text, read
/// lossily (bytes that are not UTF-8 become U+FFFD, and gem says so).
fn piped_stdin() -> anyhow::Result<Option<String>> {
    if std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .context("reading stdin")?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let replaced = text.matches('\u{FFFD}').count();
            eprintln!(
                "gem: warning: stdin is not valid UTF-8: {replaced} invalid byte sequence{} \
                 replaced with U+FFFD",
                if replaced == 1 { " was" } else { "s were" }
            );
            text
        }
    };
    Ok(Some(text))
}

/// Ctrl-C, SIGTERM and SIGHUP interrupt the task (the agent kills the running command and
/// answers with an interrupted turn); a second one ends gem at once, killing what it started.
fn forward_ctrl_c(ops: std::sync::mpsc::Sender<Op>) {
    let signals = std::sync::atomic::AtomicUsize::new(0);
    let _ = ctrlc::set_handler(move || {
        if signals.fetch_add(1, std::sync::atomic::Ordering::SeqCst) > 0 {
            gem::child_reaper::end_descendants();
            std::process::exit(exit_code::INTERRUPTED);
        }
        let _ = ops.send(Op::Interrupt);
    });
}

fn print_mode(cli: &Cli, file: &FileConfig, prompt: String) -> anyhow::Result<i32> {
    let stdin = piped_stdin()?;
    let (prompt, attachments) = match (prompt.as_str(), stdin) {
        ("-", Some(text)) if !text.trim().is_empty() => (text, Vec::new()),
        ("-", _) => anyhow::bail!("-p - reads the prompt from stdin, but stdin is empty"),
        (_, Some(text)) if !text.is_empty() => (
            prompt.clone(),
            vec![Attachment {
                label: "stdin".into(),
                content: text,
            }],
        ),
        (_, _) => (prompt.clone(), Vec::new()),
    };
    let root = project_root()?;
    let config = engine_config(&cli.model, file)?;
    let (backend, template) = open_backend(&config)?;
    let workspace = if cli.patch {
        Some(gem::exec::patch_workspace::PatchWorkspace::create(&root)?)
    } else {
        None
    };
    let agent_root = workspace
        .as_ref()
        .map_or(root.clone(), |w| w.root().to_path_buf());
    let (agent, _) = build_agent(
        cli,
        file,
        backend,
        template,
        AgentSetup {
            root: &agent_root,
            extra_instructions: cli.patch.then_some(include_str!("../prompts/patch.md")),
            default_mode: Mode::AutoEdit,
            interactive: false,
            prompt_hint: &prompt,
            pack_repo: true,
        },
    )?;
    let handle = spawn(agent);
    forward_ctrl_c(handle.ops.clone());
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

fn review(
    cli: &Cli,
    file: &FileConfig,
    base: Option<&str>,
    format: ReviewFormatArg,
    fail_on: FailOnArg,
) -> anyhow::Result<i32> {
    use gem::exec::review_findings::{
        FailOn, ReviewFormat, format_findings, parse_findings, should_fail,
    };
    let root = project_root()?;
    let diff = match base {
        Some(rev) => gem::exec::diff_input::diff_against(&root, rev)?,
        None => match piped_stdin()? {
            Some(text) => text,
            None => {
                eprintln!(
                    "gem: nothing to review: pipe a diff in (git diff | gem review) or pass \
                     --base REV"
                );
                return Ok(exit_code::USAGE);
            }
        },
    };
    if diff.trim().is_empty() {
        eprintln!("gem: the diff is empty: nothing to review");
        return Ok(exit_code::SUCCESS);
    }
    let summary = gem::exec::diff_input::summarize_diff(&diff);
    if summary.files.is_empty() {
        anyhow::bail!(
            "the input is not a diff (no `diff --git`, `---`/`+++` or `@@` hunk lines): pipe \
             `git diff` or a unified diff into gem review"
        );
    }
    eprintln!(
        "gem: reviewing {} (+{} -{})",
        gem::plural::plural(summary.files.len(), "file", "files"),
        summary.added,
        summary.removed
    );
    let config = engine_config(&cli.model, file)?;
    let (backend, template) = open_backend(&config)?;
    let instructions = include_str!("../prompts/review.md");
    let (agent, _) = build_agent(
        cli,
        file,
        backend,
        template,
        AgentSetup {
            root: &root,
            extra_instructions: None,
            default_mode: Mode::ReadOnly,
            interactive: false,
            prompt_hint: &summary.files.join(" "),
            pack_repo: true,
        },
    )?;
    let mut agent = agent;
    agent.end_turns_with(Box::new(gem::tools::SubmitReviewTool), |answer| {
        parse_findings(answer).is_ok()
    });
    let handle = spawn(agent);
    forward_ctrl_c(handle.ops.clone());
    let result = run_task(
        &handle,
        instructions,
        vec![Attachment {
            label: "diff".into(),
            content: diff,
        }],
        Stdout::Quiet,
        &mut std::io::stdout(),
    );
    let _ = handle.ops.send(Op::Shutdown);
    if result.end != TurnEnd::Completed {
        return Ok(exit_code::for_turn_end(&result.end));
    }
    // The findings come from the submit_review call (its grammar keeps them well-formed), else
    // from a JSON block in the answer.
    let submitted = result
        .last_arguments
        .get(gem::tools::SUBMIT_REVIEW)
        .and_then(|args| args.get("findings"))
        .map(|findings| findings.to_string());
    let findings = parse_findings(submitted.as_deref().unwrap_or(&result.final_text))
        .map_err(|e| anyhow::anyhow!("the model's review could not be read: {e}"))?;
    let format = match format {
        ReviewFormatArg::Text => ReviewFormat::Text,
        ReviewFormatArg::Json => ReviewFormat::Json,
        ReviewFormatArg::Github => ReviewFormat::Github,
    };
    let report = format_findings(&findings, format);
    // JSON escapes control characters itself; text and GitHub annotations go to a terminal or log.
    let report = match format {
        ReviewFormat::Json => report,
        ReviewFormat::Text | ReviewFormat::Github => terminal_safe(&report).into_owned(),
    };
    println!("{}", report.trim_end());
    let fail_on = match fail_on {
        FailOnArg::Error => FailOn::Error,
        FailOnArg::Warning => FailOn::Warning,
        FailOnArg::Never => FailOn::Never,
    };
    Ok(if should_fail(&findings, fail_on) {
        exit_code::REVIEW_FINDINGS
    } else {
        exit_code::SUCCESS
    })
}

fn interactive(cli: &Cli, file: &FileConfig) -> anyhow::Result<i32> {
    let root = project_root()?;
    let config = engine_config(&cli.model, file)?;
    let (backend, template) = open_backend(&config)?;
    let model_line = backend.info().summary();
    let (agent, repo_summary) = build_agent(
        cli,
        file,
        backend,
        template,
        AgentSetup {
            root: &root,
            extra_instructions: None,
            default_mode: Mode::Ask,
            interactive: true,
            prompt_hint: "",
            pack_repo: true,
        },
    )?;
    // The mode in force (the flag, else the config file, else ask), shown until the agent says.
    let mode = cli.mode.or(file.mode).unwrap_or(Mode::Ask);
    let history = Some(agent.conversation().clone()).filter(|c| !c.turns.is_empty());
    let handle = spawn(agent);
    // In raw mode Ctrl-C is a key; a signal (SIGTERM, SIGHUP when the terminal closes, an
    // external SIGINT) ends gem and what it started. The session log is already on disk.
    let _ = ctrlc::set_handler(|| {
        gem::child_reaper::end_descendants();
        gem::tui::restore_after_signal();
        eprintln!("gem: ended by a signal; `gem --continue` resumes this session");
        std::process::exit(exit_code::INTERRUPTED);
    });
    let (theme, no_color) = tui_theme(cli, file)?;
    gem::tui::run(
        gem::tui::TuiConfig {
            theme,
            model_line,
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

fn bench(
    cli: &Cli,
    file: &FileConfig,
    prompt: usize,
    generate: usize,
    followup: usize,
    json: bool,
) -> anyhow::Result<i32> {
    let config = engine_config(&cli.model, file)?;
    let params = gem::engine::bench::BenchParams {
        prompt_tokens: prompt,
        gen_tokens: generate,
        followup_tokens: followup,
    };
    let report = gem::engine::bench::run(&config, &params, &mut |stage| {
        eprintln!("gem bench: {stage}…")
    })?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("model            {}", report.model);
        println!("threads          {}", report.threads);
        println!("prompt           {:.1} tok/s", report.pp_tok_s);
        println!("generation       {:.1} tok/s", report.tg_tok_s);
        println!(
            "follow-up        {} reused, {} prefilled: {:.0} ms vs {:.0} ms fresh ({:.1}x)",
            report.followup_reused_tokens,
            report.followup_prefilled_tokens,
            report.followup_ms,
            report.fresh_ms,
            report.followup_speedup
        );
        println!(
            "warm start       {:.0} ms from disk vs {:.0} ms prefill ({:.1}x, state {} KiB)",
            report.warm_start_ms,
            report.cold_prefill_ms,
            report.warm_start_speedup,
            report.state_file_bytes / 1024
        );
        println!("peak memory      {:.0} MiB", report.peak_rss_mib);
    }
    Ok(exit_code::SUCCESS)
}

/// `gem bench --repo PATH`: packing figures, then the long-window scenarios on a copy.
fn bench_repo(
    cli: &Cli,
    file: &FileConfig,
    repo: &std::path::Path,
    pack_only: bool,
    json: bool,
) -> anyhow::Result<i32> {
    use gem::repo::thousands as tokens;
    let config = engine_config(&cli.model, file)?;
    let stats = {
        let backend = gem::engine::open(&config)?;
        let counter = |s: &str| backend.count_tokens(s).unwrap_or(s.len() / 4);
        gem::repo::pack_stats(repo, &counter)?
    };
    let long = if pack_only {
        None
    } else {
        Some(gem::exec::long_window_bench::run(
            &config,
            repo,
            &mut |stage| eprintln!("gem bench: {stage}…"),
        )?)
    };
    if json {
        let report = serde_json::json!({ "pack": stats, "long_window": long });
        println!("{}", serde_json::to_string(&report)?);
        return Ok(exit_code::SUCCESS);
    }
    println!(
        "repository       {} files, {} tokens ({:.0} per file); walk {:.0} ms, tokenize {:.0} ms",
        stats.files,
        tokens(stats.tokens),
        stats.tokens_per_file,
        stats.walk_ms,
        stats.tokenize_ms
    );
    let Some(r) = long else {
        return Ok(exit_code::SUCCESS);
    };
    println!("model            {}", r.model);
    println!(
        "packed           {} files + {} mapped, {} tokens; prefix {} tokens of a {} context",
        r.packed_files,
        r.mapped_files,
        tokens(r.repository_tokens),
        tokens(r.prefix_tokens),
        tokens(r.context_size)
    );
    println!(
        "cold start       first token after {:.0} ms ({} tokens prefilled)",
        r.cold.time_to_first_token_ms,
        tokens(r.cold.prefilled_tokens)
    );
    println!(
        "warm start       first token after {:.0} ms ({} restored from disk, {} prefilled): {:.1}x faster, state {} MiB",
        r.warm.time_to_first_token_ms,
        tokens(r.warm.restored_tokens),
        tokens(r.warm.prefilled_tokens),
        r.warm_start_speedup,
        r.state_file_bytes >> 20
    );
    let f = &r.followup;
    println!(
        "follow-up edit   {} prefilled after editing {}: message {} + changed file {}, target ≤ {}: {}",
        tokens(f.request.prefilled_tokens),
        f.edited_file,
        tokens(f.message_tokens),
        tokens(f.changed_file_tokens),
        tokens(f.allowed_tokens),
        if f.within_target { "met" } else { "missed" }
    );
    let a = &r.restart_after_edit;
    println!(
        "restart (edited) first token after {:.0} ms ({} restored from disk, {} prefilled)",
        a.time_to_first_token_ms,
        tokens(a.restored_tokens),
        tokens(a.prefilled_tokens)
    );
    Ok(exit_code::SUCCESS)
}

fn cache(action: &CacheAction) -> anyhow::Result<i32> {
    let dir = gem::engine::config::default_state_dir()
        .ok_or_else(|| anyhow::anyhow!("no cache directory on this system"))?;
    match action {
        CacheAction::Ls => {
            let entries = gem::engine::state_cache::list(&dir);
            let total: u64 = entries.iter().map(|e| e.bytes).sum();
            for e in &entries {
                println!(
                    "{:>10} KiB  {:>7} tokens  idle {:>6}s  {}",
                    e.bytes / 1024,
                    e.n_tokens,
                    e.idle_secs,
                    e.path.display()
                );
            }
            println!(
                "{} files, {} MiB in {}",
                entries.len(),
                total >> 20,
                dir.display()
            );
        }
        CacheAction::Clear => {
            let freed = gem::engine::state_cache::clear(&dir);
            println!("freed {} MiB in {}", freed >> 20, dir.display());
        }
    }
    Ok(exit_code::SUCCESS)
}

fn debug(cli: &Cli, file: &FileConfig, action: &DebugAction) -> anyhow::Result<i32> {
    match action {
        DebugAction::Render { input } => {
            let text = if input.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                s
            } else {
                std::fs::read_to_string(input)
                    .with_context(|| format!("reading {}", input.display()))?
            };
            let value: serde_json::Value =
                serde_json::from_str(&text).context("the input is not JSON")?;
            let chat = gem::gemma::OpenAiChat::from_json(&value)?;
            let (conversation, opts) = chat.to_conversation()?;
            print!("{}", gem::gemma::render(&conversation, &opts)?);
        }
        DebugAction::Parse => {
            let mut raw = String::new();
            std::io::stdin().read_to_string(&mut raw)?;
            let events =
                gem::gemma::StreamParser::parse_all(gem::gemma::ParseOptions::default(), &raw);
            print!("{}", gem::gemma::openai::events_to_jsonl(&events));
        }
        DebugAction::ModelInfo => {
            let config = engine_config(&cli.model, file)?;
            let (backend, _) = open_backend(&config)?;
            println!("{}", serde_json::to_string_pretty(backend.info())?);
        }
    }
    Ok(exit_code::SUCCESS)
}
