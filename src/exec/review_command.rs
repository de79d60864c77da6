//! `gem review`: a diff (piped in, or against `--base REV`) reviewed read-only, the findings
//! printed as text, JSON or GitHub annotations, the exit code set by `--fail-on`.

use super::diff_input::{diff_against, summarize_diff};
use super::exit_code;
use super::headless::{Stdout, run_task};
use super::review_findings::{FailOn, ReviewFormat, format_findings, parse_findings, should_fail};
use super::signals::forward_interrupts;
use super::stdin_input::piped_stdin;
use crate::agent::{Mode, spawn};
use crate::cli::Cli;
use crate::protocol::{Attachment, Op, TurnEnd};
use crate::setup::{AgentSetup, FileConfig, project_root, start_agent};
use crate::terminal_safe::terminal_safe;
use crate::tools::{SUBMIT_REVIEW, SubmitReviewTool};

/// Reviews the diff and prints the findings; returns the exit code.
pub fn run(
    cli: &Cli,
    file: &FileConfig,
    base: Option<&str>,
    format: ReviewFormat,
    fail_on: FailOn,
) -> anyhow::Result<i32> {
    let root = project_root()?;
    let diff = match base {
        Some(rev) => diff_against(&root, rev)?,
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
    let summary = summarize_diff(&diff);
    if summary.files.is_empty() {
        anyhow::bail!(
            "the input is not a diff (no `diff --git`, `---`/`+++` or `@@` hunk lines): pipe \
             `git diff` or a unified diff into gem review"
        );
    }
    eprintln!(
        "gem: reviewing {} (+{} -{})",
        crate::plural::plural(summary.files.len(), "file", "files"),
        summary.added,
        summary.removed
    );
    let mut agent = start_agent(
        cli,
        file,
        AgentSetup {
            root: &root,
            extra_instructions: None,
            default_mode: Mode::ReadOnly,
            interactive: false,
            prompt_hint: &summary.files.join(" "),
            pack_repo: true,
            save_session: false,
        },
    )?
    .agent;
    agent.end_turns_with(Box::new(SubmitReviewTool), |answer| {
        parse_findings(answer).is_ok()
    });
    let handle = spawn(agent);
    forward_interrupts(handle.ops.clone());
    let result = run_task(
        &handle,
        include_str!("../../prompts/review.md"),
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
        .get(SUBMIT_REVIEW)
        .and_then(|args| args.get("findings"))
        .map(|findings| findings.to_string());
    let findings = parse_findings(submitted.as_deref().unwrap_or(&result.final_text))
        .map_err(|e| anyhow::anyhow!("the model's review could not be read: {e}"))?;
    let report = format_findings(&findings, format);
    // JSON escapes control characters itself; text and GitHub annotations go to a terminal or log.
    let report = match format {
        ReviewFormat::Json => report,
        ReviewFormat::Text | ReviewFormat::Github => terminal_safe(&report).into_owned(),
    };
    println!("{}", report.trim_end());
    Ok(if should_fail(&findings, fail_on) {
        exit_code::REVIEW_FINDINGS
    } else {
        exit_code::SUCCESS
    })
}
