//! `gem models [--json]`: the models found on this machine, whether each fits, which one is the
//! default, and why the others cannot be used.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::cli::ModelArgs;
use crate::engine::KvCacheKind;
use crate::setup::FileConfig;

use super::catalog::{self, FoundModel, Source, Usability};
use super::default_model::{choose, model_fit};
use super::discover::{SearchRoots, discover};
use super::fit::{Fit, MemoryFigures, Proposal, human_bytes, propose};

/// Everything `gem models` reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelsReport {
    /// This machine's memory.
    pub memory: MemoryFigures,
    /// The folders searched.
    pub searched: Vec<SearchedFolder>,
    /// The model gem uses when none is given on the command line (`None`: there is none).
    pub default: Option<PathBuf>,
    /// What to pull when no Gemma 4 can be the default.
    pub proposal: Option<Proposal>,
    /// Every model found, the configured one (source `path`) first.
    pub models: Vec<ModelRow>,
}

/// One folder searched.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SearchedFolder {
    /// Which tool's.
    pub source: Source,
    /// The folder.
    pub path: PathBuf,
    /// Whether it exists.
    pub exists: bool,
}

/// One model in the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelRow {
    /// What was found.
    #[serde(flatten)]
    pub model: FoundModel,
    /// Whether it fits this machine (`None` for files that cannot be used).
    pub fit: Option<Fit>,
    /// Whether it is the default.
    pub default: bool,
}

/// Builds the report. `configured` is the model named by `--model`, `GEM_MODEL` or the config
/// file: it is the default, listed with source `path` unless discovery found the same file.
pub fn report(
    roots: &SearchRoots,
    models: Vec<FoundModel>,
    memory: MemoryFigures,
    configured: Option<&Path>,
    kv: KvCacheKind,
    requested: Option<usize>,
) -> ModelsReport {
    let mut models = models;
    let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let default = if let Some(path) = configured {
        let wanted = real(path);
        match models.iter().position(|m| real(&m.path) == wanted) {
            Some(i) => Some(i),
            None => {
                let name = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into(),
                );
                let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
                models.insert(
                    0,
                    catalog::examine(name, Source::Path, path.to_path_buf(), bytes, None),
                );
                Some(0)
            }
        }
    } else {
        choose(&models, &memory, kv, requested).map(|(i, _)| i)
    };
    let rows: Vec<ModelRow> = models
        .into_iter()
        .enumerate()
        .map(|(i, model)| ModelRow {
            fit: if model.is_usable() {
                model_fit(&model, &memory, kv, requested)
            } else {
                None
            },
            default: Some(i) == default,
            model,
        })
        .collect();
    ModelsReport {
        searched: roots
            .folders()
            .into_iter()
            .map(|(source, path)| SearchedFolder {
                exists: path.is_dir(),
                source,
                path,
            })
            .collect(),
        default: default.map(|i| rows[i].model.path.clone()),
        proposal: default.is_none().then(|| propose(&memory)),
        memory,
        models: rows,
    }
}

/// The report for people.
pub fn render_text(report: &ModelsReport) -> String {
    let mut out = String::new();
    let section = |out: &mut String, title: &str, rows: Vec<&ModelRow>| {
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(out, "{title}");
        for row in rows {
            out.push_str(&render_row(row));
        }
    };
    let gemma4: Vec<&ModelRow> = report
        .models
        .iter()
        .filter(|r| r.model.is_gemma4())
        .collect();
    let configured: Vec<&ModelRow> = report
        .models
        .iter()
        .filter(|r| r.model.source == Source::Path && !r.model.is_gemma4())
        .collect();
    let others: Vec<&ModelRow> = report
        .models
        .iter()
        .filter(|r| r.model.is_usable() && !r.model.is_gemma4() && r.model.source != Source::Path)
        .collect();
    let refused: Vec<&ModelRow> = report
        .models
        .iter()
        .filter(|r| !r.model.is_usable() && r.model.source != Source::Path)
        .collect();
    section(
        &mut out,
        "Configured (--model, GEM_MODEL or the config file):",
        configured,
    );
    section(
        &mut out,
        "Gemma 4 (* = the default, used when no --model is given):",
        gemma4,
    );
    section(
        &mut out,
        "Other architectures (usable with --model, with a warning; never the default):",
        others,
    );
    section(&mut out, "Cannot be used:", refused);
    if report.models.is_empty() {
        out.push_str("No GGUF model found.\n");
    }
    if let Some(proposal) = &report.proposal {
        let _ = writeln!(
            out,
            "No Gemma 4 here can be the default. For this machine ({}): {}  (Gemma 4 {}, about {} from {})",
            proposal.reason,
            proposal.pull_command(),
            proposal.alias.size_class,
            human_bytes(proposal.alias.approx_download_bytes),
            proposal.alias.repo
        );
    }
    let searched: Vec<String> = report
        .searched
        .iter()
        .map(|f| {
            format!(
                "{} {}{}",
                f.source.label(),
                f.path.display(),
                if f.exists { "" } else { " (absent)" }
            )
        })
        .collect();
    let _ = writeln!(out, "Searched: {}", searched.join(", "));
    let _ = writeln!(out, "Memory: {}", super::machine::describe(&report.memory));
    out
}

/// One model: a heading line, its facts, its fit or refusal, its path.
fn render_row(row: &ModelRow) -> String {
    let m = &row.model;
    let marker = if row.default { "*" } else { " " };
    let kind = match (&m.architecture, &m.size_class) {
        (Some(arch), Some(class)) if arch == "gemma4" => class.clone(),
        (Some(arch), Some(class)) => format!("{arch} {class}"),
        (Some(arch), None) => arch.clone(),
        (None, _) => "?".into(),
    };
    let mut facts = vec![m.source.label().to_string(), human_bytes(m.file_bytes)];
    facts.extend(m.quantization.clone());
    facts.extend(m.trained_context.map(|c| format!("trained context {c}")));
    facts.push(
        if m.projector.is_some() {
            "vision/audio projector: yes"
        } else {
            "vision/audio projector: no"
        }
        .into(),
    );
    let verdict = match (&m.usability, &row.fit) {
        (Usability::Refused { reason }, _) => reason.clone(),
        (_, Some(fit)) => fit.describe(),
        (_, None) => "fit unknown".into(),
    };
    format!(
        "{marker} {kind}  {}\n      {}\n      {verdict}\n      {}\n",
        m.name,
        facts.join(" · "),
        m.path.display()
    )
}

/// `gem models` for these flags and config: discovers, reports on stdout (text or one JSON
/// object), exit code 0.
pub fn run_for(args: &ModelArgs, file: &FileConfig, json: bool) -> anyhow::Result<i32> {
    let configured = args
        .model
        .clone()
        .or_else(|| file.model.clone())
        .filter(|p| !p.to_string_lossy().starts_with("replay:"));
    let kv = KvCacheKind::parse(&args.kv_type).unwrap_or_default();
    let roots = SearchRoots::from_env();
    let models = discover(&roots);
    let report = report(
        &roots,
        models,
        super::machine::memory_figures(),
        configured.as_deref(),
        kv,
        args.ctx,
    );
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render_text(&report));
    }
    Ok(0)
}
