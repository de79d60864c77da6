//! Turning command-line options into a running backend and agent (shared by every mode).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::agent::{Agent, AgentConfig, Mode, Permissions, SnapshotStore, system_prompt};
use crate::cli::{Cli, ModelArgs};
use crate::engine::{self, Backend, EngineConfig, KvCacheKind, Sampling};
use crate::gemma::{ChatTemplate, Variant};
use crate::session::{SessionStore, SessionWriter};

/// Settings read from `~/.config/gem/config.toml` (flags and environment win).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct FileConfig {
    /// Default model path.
    pub model: Option<PathBuf>,
    /// Default permission mode.
    pub mode: Option<Mode>,
    /// Default theme.
    pub theme: Option<String>,
}

/// Reads the user's config file; a missing file is an empty config, a broken one an error.
pub fn file_config() -> anyhow::Result<FileConfig> {
    let Some(path) = dirs::config_dir().map(|d| d.join("gem").join("config.toml")) else {
        return Ok(FileConfig::default());
    };
    let mut config: FileConfig = match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("invalid config file {}: {e}", path.display()))?,
        Err(_) => FileConfig::default(),
    };
    config.model = config.model.map(|p| expand_home(&p, dirs::home_dir()));
    config.theme = config.theme.map(|t| {
        expand_home(std::path::Path::new(&t), dirs::home_dir())
            .to_string_lossy()
            .into_owned()
    });
    Ok(config)
}

/// `~` or `~/…` at the start of a path the user typed (the config file, `/model PATH`) means
/// the home directory, as in a shell.
pub fn expand_home(path: &std::path::Path, home: Option<PathBuf>) -> PathBuf {
    match (path.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path.to_path_buf(),
    }
}

/// The engine configuration from the flags.
pub fn engine_config(args: &ModelArgs, file: &FileConfig) -> anyhow::Result<EngineConfig> {
    let model = args.model.clone().or_else(|| file.model.clone());
    // No model named: the best Gemma 4 on this machine that fits it, or an error
    // (`models::default_model::NoModelFound`) naming the `gem pull` command to run.
    let model = match model {
        Some(model) => model,
        None => match crate::models::default_model::resolve(
            KvCacheKind::parse(&args.kv_type).unwrap_or_default(),
            args.ctx,
        ) {
            Ok(model) => model,
            // `--yes` / GEM_AUTO_PULL=1: fetch the proposed model instead of stopping.
            Err(_) if args.yes => {
                eprintln!("gem: no Gemma 4 GGUF on this machine yet");
                crate::models::pull_command::pull_proposed()?
            }
            Err(none) => return Err(none.into()),
        },
    };
    let mut config = EngineConfig::new(model);
    config.context = args.ctx;
    config.threads = args.threads;
    config.batch = args.batch;
    config.ubatch = args.ubatch;
    config.flash_attention = match args.flash_attn.as_str() {
        "on" | "true" => Some(true),
        "off" | "false" => Some(false),
        "auto" => None,
        other => anyhow::bail!("--flash-attn takes on, off or auto, not {other:?}"),
    };
    config.kv_cache = KvCacheKind::parse(&args.kv_type).ok_or_else(|| {
        anyhow::anyhow!("--kv-type takes f16, q8_0 or q4_0, not {:?}", args.kv_type)
    })?;
    config.gpu_layers = args.gpu_layers;
    config.swa_full = args.swa_full;
    if args.no_disk_cache {
        config.state_dir = None;
    }
    Ok(config)
}

/// Opens the model and checks its embedded chat template against gem's renderer; what is worth
/// knowing about it (a reduced context, not Gemma 4, a template mismatch) goes to stderr.
pub fn open_backend(
    config: &EngineConfig,
) -> anyhow::Result<(Arc<dyn Backend>, Option<ChatTemplate>)> {
    let mut notes = Vec::new();
    let opened = open_backend_noting(config, &mut notes);
    for note in notes {
        eprintln!("gem: {note}");
    }
    opened
}

/// [`open_backend`], with its notes collected in `notes` instead of printed (for a model
/// switched to while the TUI owns the terminal).
pub fn open_backend_noting(
    config: &EngineConfig,
    notes: &mut Vec<String>,
) -> anyhow::Result<(Arc<dyn Backend>, Option<ChatTemplate>)> {
    let backend: Arc<dyn Backend> = Arc::from(engine::open(config)?);
    let info = backend.info();
    if let Some(note) = &info.context_note {
        notes.push(note.clone());
    }
    if !info.is_gemma4() && info.architecture != "replay" {
        notes.push(format!(
            "warning: {} is a {} model, not Gemma 4: gem speaks Gemma 4's prompt and \
             tool-call format, so expect poor answers",
            info.name, info.architecture
        ));
    }
    let mut fallback = None;
    if info.is_gemma4()
        && let Some(source) = &info.chat_template
    {
        match crate::gemma::probe(source, variant_for(info)) {
            Ok(None) => {}
            Ok(Some(mismatch)) => {
                notes.push(format!(
                    "warning: the model's embedded chat template renders differently from \
                     gem's Gemma 4 renderer ({mismatch:?}); using the embedded template"
                ));
                fallback = ChatTemplate::new(source).ok();
            }
            Err(e) => notes.push(format!(
                "warning: cannot check the embedded chat template: {e}"
            )),
        }
    }
    Ok((backend, fallback))
}

/// Which template variant fits the model (26B/31B render differently with thinking off).
pub fn variant_for(info: &engine::ModelInfo) -> Variant {
    match info.size_class.as_deref() {
        Some("26B-A4B") | Some("31B") => Variant::Large,
        _ => Variant::E2b,
    }
}

/// The project gem works in: the enclosing git repository's work tree, else the current
/// directory.
pub fn project_root() -> anyhow::Result<PathBuf> {
    use anyhow::Context;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    Ok(git2::Repository::discover(&cwd)
        .ok()
        .and_then(|r| r.workdir().map(|p| p.to_path_buf()))
        .unwrap_or(cwd))
}

/// An agent ready to spawn, with what the frontend shows about it.
pub struct StartedAgent {
    /// The agent (not yet running).
    pub agent: Agent,
    /// What the repository packing put in the context, when it packed anything.
    pub repo_summary: Option<String>,
    /// The model in one line (name, size, quantization, context).
    pub model_line: String,
    /// The model file.
    pub model_path: PathBuf,
}

/// The one session-start path of every frontend (TUI, `-p`, `--patch`, `review`): the engine
/// config from flags and config file, the model opened and its template checked, the agent
/// built for `setup`.
pub fn start_agent(
    cli: &Cli,
    file: &FileConfig,
    setup: AgentSetup<'_>,
) -> anyhow::Result<StartedAgent> {
    let config = engine_config(&cli.model, file)?;
    let (backend, template) = open_backend(&config)?;
    let model_line = backend.info().summary();
    let interactive = setup.interactive;
    let (mut agent, repo_summary) = build_agent(cli, file, backend, template, setup)?;
    if interactive {
        agent.set_model_opener(model_opener(config.clone()));
    }
    Ok(StartedAgent {
        agent,
        repo_summary,
        model_line,
        model_path: config.model.clone(),
    })
}

/// Opens another model file with the session's engine settings (`/model` in the TUI).
fn model_opener(config: EngineConfig) -> crate::agent::model_switch::ModelOpener {
    Box::new(move |path| {
        let mut config = config.clone();
        config.model = path.to_path_buf();
        let mut notes = Vec::new();
        let (backend, template) =
            open_backend_noting(&config, &mut notes).map_err(|e| format!("{e:#}"))?;
        Ok(crate::agent::model_switch::OpenedModel {
            variant: variant_for(backend.info()),
            backend,
            template,
            notes,
        })
    })
}

/// What a frontend wants from the agent.
pub struct AgentSetup<'a> {
    /// Project root.
    pub root: &'a Path,
    /// Mode-specific instructions appended to the system prompt.
    pub extra_instructions: Option<&'a str>,
    /// Default mode when none is given.
    pub default_mode: Mode,
    /// Whether approvals can be answered.
    pub interactive: bool,
    /// The user's first prompt (guides what the repository packing picks).
    pub prompt_hint: &'a str,
    /// Pack the repository into the context.
    pub pack_repo: bool,
    /// Save the run as a session (and honour `--continue`/`--resume`); `gem review` runs are
    /// not conversations to continue.
    pub save_session: bool,
}

/// Builds the agent for `cli` and `setup`; also returns the repository packing summary.
pub fn build_agent(
    cli: &Cli,
    file: &FileConfig,
    backend: Arc<dyn Backend>,
    template: Option<ChatTemplate>,
    setup: AgentSetup<'_>,
) -> anyhow::Result<(Agent, Option<String>)> {
    let mode = cli.mode.or(file.mode).unwrap_or(setup.default_mode);
    let permissions = Permissions::new(mode, &cli.allow)?;
    let cwd = std::env::current_dir().unwrap_or_else(|_| setup.root.to_path_buf());
    let packed = if setup.pack_repo && !cli.no_repo {
        let without_repo = system_prompt::build(setup.root, &cwd, setup.extra_instructions);
        let reserved = prompt_reserve(backend.as_ref(), &without_repo);
        pack_repository(backend.as_ref(), setup.root, setup.prompt_hint, reserved)
    } else {
        None
    };
    let (system, packed_context) = match &packed {
        Some(packed) => {
            let (system, context) =
                system_prompt::build_packed(setup.root, &cwd, setup.extra_instructions, packed);
            (system, Some(context))
        }
        None => (
            system_prompt::build(setup.root, &cwd, setup.extra_instructions),
            None,
        ),
    };
    let args = &cli.model;
    let mut sampling = Sampling {
        seed: args.seed,
        ..Sampling::default()
    };
    if let Some(t) = args.temperature {
        sampling.temperature = t;
    }
    let config = AgentConfig {
        root: setup.root.to_path_buf(),
        system_prompt: system,
        max_turns: cli.max_turns,
        max_tokens: args.max_tokens,
        thinking: !args.no_think,
        variant: variant_for(backend.info()),
        sampling,
        grammar: !args.no_grammar,
        bounded_grammar: args.bounded_grammar,
        interactive: setup.interactive,
        packed: packed_context,
        allow_git_commit: cli.allow_git_commit,
        snapshots: if setup.interactive {
            SnapshotStore::DataDir
        } else {
            SnapshotStore::Off
        },
    };
    let (session, restored) = if setup.save_session {
        open_session(cli, setup.root, &backend.info().path)?
    } else {
        (None, None)
    };
    let mut agent = Agent::new(backend, config, permissions, session);
    if let Some(mcp) =
        crate::mcp::start_session(setup.root, mode == Mode::FullAuto, setup.interactive)
    {
        agent.attach_mcp(mcp, &cli.allow);
    }
    if let Some(conversation) = restored {
        agent.restore(conversation);
    }
    if let Some(template) = template {
        agent.use_template(template);
    }
    Ok((agent, packed.map(|p| p.summary())))
}

/// Packs the repository at `root` for `backend`'s context and says on stderr what went in
/// (`None` when there is nothing to pack, or packing failed, which is a warning).
pub fn pack_repository(
    backend: &dyn Backend,
    root: &Path,
    prompt_hint: &str,
    reserved_tokens: usize,
) -> Option<crate::repo::PackedRepo> {
    let selections = crate::repo::SelectionStore::default_location();
    match pack_for(
        backend,
        root,
        prompt_hint,
        reserved_tokens,
        selections.as_ref(),
    ) {
        Ok(packed) if !packed.included.is_empty() || !packed.mapped.is_empty() => {
            eprintln!("gem: {}", packed.summary());
            Some(packed)
        }
        Ok(_) => None,
        Err(e) => {
            eprintln!("gem: warning: repository not packed: {e}");
            None
        }
    }
}

/// Packs the repository at `root` into the default share of `backend`'s context, leaving
/// `reserved_tokens` free, counting with its tokenizer; `prompt_hint` guides which files come
/// first when not all fit. The selection the last pack of this project made is read from
/// `selections` and reused while it fits, and this pack's selection is saved there (a store
/// that cannot be written is a warning).
pub fn pack_for(
    backend: &dyn Backend,
    root: &Path,
    prompt_hint: &str,
    reserved_tokens: usize,
    selections: Option<&crate::repo::SelectionStore>,
) -> Result<crate::repo::PackedRepo, crate::repo::PackError> {
    let opts = crate::repo::PackOptions {
        context_tokens: backend.info().context_size,
        reserved_tokens,
        prompt: prompt_hint.to_string(),
        previous: selections.and_then(|store| store.load(root)),
        ..crate::repo::PackOptions::default()
    };
    let counter = |s: &str| backend.count_tokens(s).unwrap_or(s.len() / 4);
    let packed = crate::repo::pack(root, &opts, &counter)?;
    if let Some(store) = selections
        && let Err(e) = store.save(root, &packed.selection)
    {
        eprintln!("gem: warning: the pack selection was not saved: {e}");
    }
    Ok(packed)
}

/// Tokens the repository packing must leave free: the system prompt without the repository
/// and the tool declarations (as the agent renders them), plus a quarter of the context for
/// the conversation.
pub fn prompt_reserve(backend: &dyn Backend, system_without_repo: &str) -> usize {
    let context = backend.info().context_size;
    let opts = crate::gemma::RenderOptions {
        add_generation_prompt: false,
        ..crate::agent::render_options(
            &crate::tools::Registry::builtin(),
            variant_for(backend.info()),
            true,
        )
    };
    let system = crate::gemma::Conversation::new(Some(system_without_repo.to_string()));
    let fixed = crate::gemma::render(&system, &opts)
        .ok()
        .and_then(|text| backend.count_tokens(&text).ok())
        .unwrap_or(0);
    fixed + context / 4
}

/// Creates (or, for `--continue`/`--resume`, reopens) the session file. A session store that
/// cannot be written is a warning, not an error: the task still runs.
fn open_session(
    cli: &Cli,
    root: &Path,
    model: &Path,
) -> anyhow::Result<(Option<SessionWriter>, Option<crate::gemma::Conversation>)> {
    let store = match SessionStore::from_env() {
        Ok(store) => store,
        Err(e) => {
            eprintln!("gem: warning: sessions are not saved: {e}");
            return Ok((None, None));
        }
    };
    let resume_id = if let Some(id) = &cli.resume {
        Some(id.clone())
    } else if cli.continue_session {
        match store.latest_for(root)? {
            Some(summary) => Some(summary.id),
            None => anyhow::bail!("no earlier session in {} to continue", root.display()),
        }
    } else {
        None
    };
    if let Some(id) = resume_id {
        let (writer, reader) = store.resume(&id)?;
        for warning in &reader.warnings {
            eprintln!("gem: warning: {warning}");
        }
        let conversation = reader.into_last_conversation();
        eprintln!("gem: resumed session {}", writer.id());
        return Ok((Some(writer), conversation));
    }
    match store.create(root, &model.display().to_string()) {
        Ok(writer) => Ok((Some(writer), None)),
        Err(e) => {
            eprintln!("gem: warning: sessions are not saved: {e}");
            Ok((None, None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leading_tilde_is_the_home_directory() {
        let home = Some(PathBuf::from("/home/u"));
        let expand = |p: &str| expand_home(std::path::Path::new(p), home.clone());
        assert_eq!(
            expand("~/models/g.gguf"),
            PathBuf::from("/home/u/models/g.gguf")
        );
        assert_eq!(expand("~"), PathBuf::from("/home/u"));
        assert_eq!(expand("/abs/~/x"), PathBuf::from("/abs/~/x"));
        assert_eq!(expand("~user/x"), PathBuf::from("~user/x"));
        assert_eq!(expand("rel/x"), PathBuf::from("rel/x"));
    }
}
