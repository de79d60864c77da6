//! Command-line interface (clap): flags, subcommands, and the layered configuration they feed.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exec::review_findings::{FailOn, ReviewFormat};

/// gem: a local coding agent running Gemma 4 in-process.
#[derive(Debug, Parser)]
#[command(name = "gem", version, about, long_about = None)]
pub struct Cli {
    /// Run one task to the end and print the answer ("-" reads the prompt from stdin).
    #[arg(short = 'p', long = "print", value_name = "PROMPT")]
    pub prompt: Option<String>,
    /// Output of -p: the answer as text, one JSON object, or the event stream as JSON lines.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output_format: OutputFormat,
    /// CI patch mode (with -p): work in a scratch copy and print a unified diff for `git apply`.
    #[arg(long, requires = "prompt")]
    pub patch: bool,
    /// Write the patch here instead of stdout.
    #[arg(long, value_name = "FILE", requires = "patch")]
    pub out: Option<PathBuf>,
    /// Model generations allowed per task.
    #[arg(long, default_value_t = 40)]
    pub max_turns: usize,
    /// Permission mode.
    #[arg(long, value_name = "MODE", value_enum)]
    pub mode: Option<crate::agent::Mode>,
    /// Allow shell commands matching this pattern without asking (repeatable), e.g. 'cargo test*'.
    #[arg(long = "allow", value_name = "PATTERN")]
    pub allow: Vec<String>,
    /// Let the git tool make commits (it never commits otherwise).
    #[arg(long)]
    pub allow_git_commit: bool,
    /// Do not pack the repository into the context.
    #[arg(long)]
    pub no_repo: bool,
    /// Continue the last session in this directory.
    #[arg(long = "continue", short = 'c')]
    pub continue_session: bool,
    /// Resume a session by id (prefix); without an id, pick one from a list (TUI only).
    #[arg(
        long,
        value_name = "ID",
        num_args = 0..=1,
        default_missing_value = "",
        conflicts_with = "continue_session"
    )]
    pub resume: Option<String>,
    /// UI theme: dark, light or a path to a theme TOML.
    #[arg(long, env = "GEM_THEME", default_value = "dark")]
    pub theme: String,
    /// Engine options.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Subcommand.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Output formats of `-p`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// The final answer only.
    Text,
    /// One JSON object at the end.
    Json,
    /// Every event as one JSON line.
    StreamJson,
}

/// Model and engine options shared by every mode.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// GGUF model file, or replay:FILE for recorded outputs.
    #[arg(long, short = 'm', env = "GEM_MODEL", global = true)]
    pub model: Option<PathBuf>,
    /// Context size in tokens (default: the model's trained maximum, reduced to fit memory).
    #[arg(long, global = true)]
    pub ctx: Option<usize>,
    /// Threads (default: physical cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// Prompt-processing batch size.
    #[arg(long, default_value_t = 512, global = true)]
    pub batch: usize,
    /// Micro-batch size.
    #[arg(long, default_value_t = 512, global = true)]
    pub ubatch: usize,
    /// Flash attention: on, off or auto.
    #[arg(long, default_value = "auto", global = true, value_parser = ["on", "off", "auto"])]
    pub flash_attn: String,
    /// KV cache type: f16, q8_0, q4_0.
    #[arg(long, default_value = "f16", global = true, value_parser = ["f16", "q8_0", "q4_0"])]
    pub kv_type: String,
    /// Layers to offload to the GPU (default: all, when built with a GPU backend).
    #[arg(long, global = true)]
    pub gpu_layers: Option<u32>,
    /// Keep the full sliding-window cache (any rollback possible; more memory).
    #[arg(long, global = true)]
    pub swa_full: bool,
    /// Do not read or write the disk KV cache.
    #[arg(long, global = true)]
    pub no_disk_cache: bool,
    /// Thinking mode off.
    #[arg(long, global = true)]
    pub no_think: bool,
    /// Sampling seed.
    #[arg(long, default_value_t = 0, global = true)]
    pub seed: u32,
    /// Sampling temperature (0 = greedy).
    #[arg(long, global = true, value_parser = parse_temperature)]
    pub temperature: Option<f32>,
    /// Tokens per generation.
    #[arg(long, default_value_t = 4096, global = true)]
    pub max_tokens: usize,
    /// Turn off the tool-call grammar.
    #[arg(long, global = true)]
    pub no_grammar: bool,
    /// Small grammar bounds (for random-weight test models).
    #[arg(long, hide = true, global = true)]
    pub bounded_grammar: bool,
    /// With no model on the machine, pull the one proposed for it (as `gem pull` would) instead
    /// of exiting with the command to run; also `GEM_AUTO_PULL=1`.
    #[arg(long, short = 'y', global = true, env = "GEM_AUTO_PULL", value_parser = clap::builder::BoolishValueParser::new())]
    pub yes: bool,
}

/// A finite, non-negative temperature (NaN and infinities would poison the sampler).
fn parse_temperature(text: &str) -> Result<f32, String> {
    let value: f32 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!(
            "the temperature must be a finite number ≥ 0 (0 = greedy), not {text}"
        ));
    }
    Ok(value)
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Review a diff: piped on stdin (`git diff | gem review`) or against a revision.
    Review {
        /// Review the working tree against this revision instead of stdin.
        #[arg(long, value_name = "REV")]
        base: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReviewFormat::Text)]
        format: ReviewFormat,
        /// Exit with code 10 when a finding of this severity (or worse) is reported.
        #[arg(long, value_enum, default_value_t = FailOn::Error)]
        fail_on: FailOn,
    },
    /// Measure this machine: prompt processing, generation, follow-up turn, warm start.
    Bench {
        /// Prompt / conversation size in tokens.
        #[arg(long, default_value_t = 512)]
        prompt: usize,
        /// Tokens to generate.
        #[arg(long = "gen", default_value_t = 64)]
        generate: usize,
        /// Follow-up message size in tokens.
        #[arg(long, default_value_t = 64)]
        followup: usize,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Measure this repository instead: packing (walk + tokenize), then a cold and a warm
        /// start with it packed and a follow-up turn after an edit (on a copy).
        #[arg(long, value_name = "PATH")]
        repo: Option<PathBuf>,
        /// With --repo: only the packing figures, no model run.
        #[arg(long, requires = "repo")]
        pack_only: bool,
    },
    /// The models found on this machine (Hugging Face cache, llama.cpp, LM Studio, Ollama):
    /// size, quantization, context, projector, whether each fits, the default marked.
    Models {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Download a Gemma 4 GGUF and its vision/audio projector from Hugging Face into the shared
    /// Hugging Face cache (resumable, verified).
    Pull(PullArgs),
    /// The disk KV cache.
    Cache {
        /// What to do.
        #[command(subcommand)]
        action: CacheAction,
    },
    /// MCP servers: list, show, add, remove.
    Mcp {
        /// What to do.
        #[command(subcommand)]
        action: crate::mcp::command::McpAction,
    },
    /// Inspection tools for model and format debugging.
    Debug {
        /// What to inspect.
        #[command(subcommand)]
        action: DebugAction,
    },
}

/// `gem pull` arguments.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// e2b, e4b, 26b, 31b or ORG/REPO, each with an optional :QUANT (default: the size proposed
    /// for this machine).
    #[arg(value_name = "MODEL")]
    pub spec: Option<String>,
    /// The model's path on stdout (text), one JSON object (json), or every event as a JSON line
    /// (stream-json).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output_format: OutputFormat,
    /// Do not fetch the vision/audio projector (mmproj).
    #[arg(long)]
    pub no_mmproj: bool,
}

/// `gem cache` actions.
#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// List state files, most recently used first.
    Ls,
    /// Delete every state file.
    Clear,
}

/// `gem debug` actions.
#[derive(Debug, Subcommand)]
pub enum DebugAction {
    /// Render a conversation (OpenAI chat JSON) into the exact Gemma 4 prompt.
    Render {
        /// The JSON file ("-" for stdin).
        #[arg(long)]
        input: PathBuf,
    },
    /// Parse raw model output from stdin into JSON events, one per line.
    Parse,
    /// Load the model and print its facts.
    ModelInfo,
}
