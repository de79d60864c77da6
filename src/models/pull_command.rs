//! `gem pull [e2b|e4b|26b|31b|ORG/REPO[:QUANT]]` at the command line: the pull, Ctrl-C, and
//! the output — the model's path on stdout (text), one JSON object (json), or every event as a
//! JSON line (stream-json); a progress bar on stderr except in stream-json.

use std::sync::atomic::Ordering;

use crate::cli::{OutputFormat, PullArgs};
use crate::exec::exit_code;

use super::fit;
use super::machine;
use super::pull::{PullOptions, PulledModel, pull};
use super::pull_error::PullError;
use super::pull_progress::PullProgress;
use super::pull_progress_bar::StderrProgress;
use super::pull_progress_json::JsonLinesProgress;
use super::pull_spec::PullSpec;

/// Runs `gem pull`; returns the exit code (0, or 130 after Ctrl-C). Other failures are errors
/// (exit 1).
pub fn run(args: &PullArgs) -> anyhow::Result<i32> {
    let spec_text = match &args.spec {
        Some(spec) => spec.clone(),
        None => {
            let proposal = fit::propose(&machine::memory_figures());
            eprintln!(
                "gem: pulling {} ({}), the size proposed for this machine: {}",
                proposal.alias.alias, proposal.alias.repo, proposal.reason
            );
            proposal.alias.alias.to_string()
        }
    };
    let spec = PullSpec::parse(&spec_text)?;
    let mut options = PullOptions::from_env()?;
    options.mmproj = !args.no_mmproj;
    let cancel = options.cancel.clone();
    // A second Ctrl-C while the first is handled has nothing more to stop.
    let _ = ctrlc::set_handler(move || cancel.store(true, Ordering::Relaxed));

    let mut stream = JsonLinesProgress::new(std::io::stdout());
    let mut bar = StderrProgress::new();
    let sink: &mut dyn PullProgress = match args.output_format {
        OutputFormat::StreamJson => &mut stream,
        OutputFormat::Text | OutputFormat::Json => &mut bar,
    };
    let result = pull(&spec, &options, sink);
    match (result, args.output_format) {
        (Ok(pulled), format) => {
            report(&pulled, format, &mut stream)?;
            Ok(exit_code::SUCCESS)
        }
        (Err(e), OutputFormat::StreamJson) => {
            stream.line(&serde_json::json!({"type": "pull_error", "message": e.to_string()}));
            finish_error(e)
        }
        (Err(e), _) => finish_error(e),
    }
}

/// The result in the chosen format.
/// `--yes` / `GEM_AUTO_PULL=1` when no model is on the machine: pulls the size proposed for this
/// machine (progress on stderr) and returns the model's path. Ctrl-C ends gem; the partial file
/// is kept and the next pull resumes it.
pub fn pull_proposed() -> anyhow::Result<std::path::PathBuf> {
    let proposal = fit::propose(&machine::memory_figures());
    eprintln!(
        "gem: pulling {} ({}), the size proposed for this machine: {}",
        proposal.alias.alias, proposal.alias.repo, proposal.reason
    );
    let spec = PullSpec::parse(proposal.alias.alias)?;
    let options = PullOptions::from_env()?;
    let pulled = pull(&spec, &options, &mut StderrProgress::new())?;
    eprintln!("gem: using {}", pulled.model.display());
    Ok(pulled.model)
}

fn report<W: std::io::Write>(
    pulled: &PulledModel,
    format: OutputFormat,
    stream: &mut JsonLinesProgress<W>,
) -> anyhow::Result<()> {
    match format {
        OutputFormat::Text => {
            if let Some(mmproj) = &pulled.mmproj {
                eprintln!("gem: projector {}", mmproj.display());
            }
            println!("{}", pulled.model.display());
        }
        OutputFormat::Json => println!("{}", serde_json::to_string(pulled)?),
        OutputFormat::StreamJson => {
            let mut value = serde_json::to_value(pulled)?;
            if let Some(object) = value.as_object_mut() {
                object.insert("type".into(), "pull_done".into());
            }
            stream.line(&value);
        }
    }
    Ok(())
}

/// Ctrl-C is an exit code (the partial file is kept); everything else an error.
fn finish_error(error: PullError) -> anyhow::Result<i32> {
    if let PullError::Interrupted { .. } = error {
        eprintln!("gem: {error}");
        return Ok(exit_code::INTERRUPTED);
    }
    Err(error.into())
}
