//! The agent core: the turn loop between the model and the tools.
//!
//! An [`Agent`] runs on its own thread ([`spawn`]); frontends talk to it only through
//! [`crate::protocol::Op`]s and [`crate::protocol::Event`]s.

mod allow_rule;
pub(crate) mod always_allow;
mod call;
pub(crate) mod loop_guard;
pub(crate) mod mcp_permissions;
mod mcp_servers;
pub(crate) mod model_switch;
pub(crate) mod packed_context;
pub mod permissions;
pub(crate) mod plan_mode;
mod read_only_command;
mod session_log;
mod shadow_store;
pub(crate) mod shell_command;
mod steering;
pub mod system_prompt;
mod turn;
mod turn_snapshots;
pub(crate) mod undo;
mod undo_op;
mod warm_up;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use crate::engine::{Backend, Sampling};
use crate::gemma::{Conversation, RenderOptions, ToolDeclaration, Variant};
use crate::protocol::{Event, Op};
use crate::session::SessionWriter;
use crate::tools::{Registry, ToolContext};

pub use packed_context::PackedContext;
pub use permissions::{Action, Mode, Permissions, Verdict};
pub use turn_snapshots::SnapshotStore;

/// How the agent runs.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The project root (tools are confined to it).
    pub root: PathBuf,
    /// The system prompt (see [`system_prompt::build`]).
    pub system_prompt: String,
    /// Model generations allowed per user turn.
    pub max_turns: usize,
    /// Tokens one generation may produce.
    pub max_tokens: usize,
    /// Thinking mode.
    pub thinking: bool,
    /// Which of Google's templates to follow.
    pub variant: Variant,
    /// Sampling settings.
    pub sampling: Sampling,
    /// Constrain tool calls with a grammar.
    pub grammar: bool,
    /// Small grammar bounds (random-weight test models rarely stop on their own).
    pub bounded_grammar: bool,
    /// Whether a user can answer approval requests (headless frontends deny instead).
    pub interactive: bool,
    /// The repository packed into the system prompt, if any.
    pub packed: Option<PackedContext>,
    /// Whether the git tool may commit.
    pub allow_git_commit: bool,
    /// Where working-tree snapshots for `/undo` are kept, if anywhere.
    pub snapshots: SnapshotStore,
}

/// An agent and its session state.
pub struct Agent {
    backend: Arc<dyn Backend>,
    registry: Registry,
    tool_ctx: ToolContext,
    config: AgentConfig,
    conversation: Conversation,
    render: RenderOptions,
    permissions: Permissions,
    mcp_rules: mcp_permissions::McpRules,
    mcp: Option<mcp_servers::McpServers>,
    model_opener: Option<model_switch::ModelOpener>,
    undo: undo::UndoLog,
    /// Working-tree snapshots per turn (`None` when the store could not be opened, or in a
    /// headless run: then `/undo` uses the before-images in `undo`).
    snapshots: Option<turn_snapshots::TurnSnapshots>,
    /// Why there are no snapshots, reported once when the agent starts.
    snapshots_unavailable: Option<String>,
    /// Files `/undo` restored since the last user message, for a note with the next one.
    undo_note: Vec<Vec<String>>,
    session: Option<SessionWriter>,
    cancel: Arc<AtomicBool>,
    emitter: turn::Emitter,
    template: Option<crate::gemma::ChatTemplate>,
    next_call: usize,
    user_turns: usize,
    resent: std::collections::BTreeMap<PathBuf, Vec<u8>>,
    /// A tool every user turn must end by calling (`submit_review` in `gem review`).
    final_tool: Option<&'static str>,
    /// An answer that makes the final call unnecessary (it already holds what the call would).
    answer_suffices: fn(&str) -> bool,
    /// The next generation must be a call to the final tool.
    force_final: bool,
    /// Operations that arrived during a turn and wait for it to end (a mode switch does not
    /// wait: it applies from the next tool call; a steering message waits only for the turn's
    /// next step, and becomes the next user turn when the turn ends first).
    deferred: std::collections::VecDeque<Op>,
}

/// The frontend's end of a running agent.
pub struct AgentHandle {
    /// Submit operations here (Interrupt also takes effect while the agent is busy).
    pub ops: mpsc::Sender<Op>,
    /// Events arrive here.
    pub events: mpsc::Receiver<Event>,
    /// The agent thread.
    pub thread: std::thread::JoinHandle<()>,
}

impl Agent {
    /// A new agent over `backend` with the built-in tools.
    pub fn new(
        backend: Arc<dyn Backend>,
        config: AgentConfig,
        mut permissions: Permissions,
        session: Option<SessionWriter>,
    ) -> Self {
        // Temporary files a killed gem left behind (`.gem-write-*`).
        crate::tools::remove_stale_temp_files(&config.root);
        let registry = Registry::builtin();
        let cancel = Arc::new(AtomicBool::new(false));
        let mut tool_ctx =
            ToolContext::new(config.root.clone()).with_git_commit_allowed(config.allow_git_commit);
        tool_ctx.cancel = cancel.clone();
        for (rel, digest) in config.packed.iter().flat_map(|p| &p.digests) {
            tool_ctx
                .read_tracker
                .record_digest(&tool_ctx.root.join(rel), digest);
        }
        permissions.set_project(tool_ctx.clone());
        let render = render_options(&registry, config.variant, config.thinking);
        let store_dir = match &config.snapshots {
            SnapshotStore::Off => None,
            SnapshotStore::DataDir => Some(shadow_store::default_store_dir()),
            SnapshotStore::At(dir) => Some(Ok(dir.clone())),
        };
        let (snapshots, snapshots_unavailable) = match store_dir
            .map(|dir| dir.and_then(|dir| turn_snapshots::TurnSnapshots::open(&config.root, &dir)))
        {
            None => (None, None),
            Some(Ok(s)) => (Some(s), None),
            Some(Err(e)) => (None, Some(e.to_string())),
        };
        Self {
            backend,
            registry,
            tool_ctx,
            conversation: Conversation::new(Some(config.system_prompt.clone())),
            config,
            render,
            permissions,
            mcp_rules: mcp_permissions::McpRules::default(),
            mcp: None,
            model_opener: None,
            undo: undo::UndoLog::default(),
            snapshots,
            snapshots_unavailable,
            undo_note: Vec::new(),
            session,
            cancel,
            emitter: turn::Emitter::default(),
            template: None,
            next_call: 0,
            user_turns: 0,
            resent: std::collections::BTreeMap::new(),
            final_tool: None,
            answer_suffices: |_| false,
            force_final: false,
            deferred: std::collections::VecDeque::new(),
        }
    }

    /// Adds `tool` and makes every user turn end with a successful call to it: an answer
    /// without that call (unless `answer_suffices` accepts it) is followed by one more
    /// generation whose grammar admits only that call (where a grammar is used). Its arguments
    /// are what the frontend reads.
    pub fn end_turns_with(
        &mut self,
        tool: Box<dyn crate::tools::Tool>,
        answer_suffices: fn(&str) -> bool,
    ) {
        self.final_tool = Some(tool.name());
        self.answer_suffices = answer_suffices;
        self.registry.register(tool);
        self.render = render_options(&self.registry, self.config.variant, self.config.thinking);
    }

    /// Restores an earlier conversation (`--continue` / `--resume`).
    pub fn restore(&mut self, conversation: Conversation) {
        self.conversation = conversation;
        self.user_turns = self.conversation.user_turn_count();
    }

    /// Renders with the model's embedded chat template instead of gem's renderer (used when
    /// the two disagree at load time, so a template fix from Google is never ignored).
    pub fn use_template(&mut self, template: crate::gemma::ChatTemplate) {
        self.template = Some(template);
    }

    /// Renders a conversation into the prompt text.
    pub(crate) fn render_prompt(
        &self,
        conversation: &Conversation,
        opts: &RenderOptions,
    ) -> Result<String, String> {
        self.render_prompt_spans(conversation, opts)
            .map(|rendered| rendered.text)
    }

    /// Renders a conversation into the prompt text and the byte ranges of conversation text in
    /// it (none when rendering with the model's embedded template, which reports no spans).
    pub(crate) fn render_prompt_spans(
        &self,
        conversation: &Conversation,
        opts: &RenderOptions,
    ) -> Result<crate::gemma::Rendered, String> {
        match &self.template {
            Some(t) => t
                .render_conversation(conversation, opts)
                .map(|text| crate::gemma::Rendered {
                    text,
                    ..Default::default()
                })
                .map_err(|e| e.to_string()),
            None => crate::gemma::render_spans(conversation, opts).map_err(|e| e.to_string()),
        }
    }

    /// Current contents of files changed in this session that the model has not been shown
    /// since, as `<file>` blocks (the packed repository holds their old contents).
    fn changed_file_blocks(&mut self) -> String {
        if self.config.packed.is_none() {
            return String::new();
        }
        let mut blocks = String::new();
        for path in self.undo.changed_files() {
            let now = std::fs::read(&path).unwrap_or_default();
            if self.resent.get(&path) == Some(&now) {
                continue;
            }
            let rel = path
                .strip_prefix(&self.tool_ctx.root)
                .unwrap_or(&path)
                .to_path_buf();
            let text = if path.exists() {
                String::from_utf8_lossy(&now).into_owned()
            } else {
                "[deleted]".to_string()
            };
            blocks.push_str(&crate::repo::render_file_block(&rel, &text));
            self.resent.insert(path, now);
        }
        blocks
    }

    /// The conversation so far.
    pub fn conversation(&self) -> &Conversation {
        &self.conversation
    }
}

/// Opens the block, appended to a user message, that re-sends the files changed since the
/// repository was packed (the packed copy in the system prompt is older).
pub const CHANGED_FILES_OPEN: &str = "\n\n<changed_files>\nThese files changed since the repository was packed; their current contents:\n";
/// Closes that block.
pub const CHANGED_FILES_CLOSE: &str = "</changed_files>";

/// How the agent renders its prompts: `registry`'s tools declared, thinking kept in the
/// history, a generation prompt at the end.
pub fn render_options(registry: &Registry, variant: Variant, thinking: bool) -> RenderOptions {
    RenderOptions {
        variant,
        thinking,
        tools: tool_declarations(registry),
        add_generation_prompt: true,
        preserve_thinking: true,
    }
}

/// The registry's tools as Gemma 4 declarations (schemas mapped to the template's shape).
pub fn tool_declarations(registry: &Registry) -> Vec<ToolDeclaration> {
    registry
        .declarations()
        .into_iter()
        .map(|d| ToolDeclaration {
            name: d.name.to_string(),
            description: d.description.trim().to_string(),
            parameters: crate::gemma::parameters_from_schema(&d.parameters),
        })
        .collect()
}

/// Starts the agent on its own thread.
pub fn spawn(agent: Agent) -> AgentHandle {
    let (ops_tx, ops_rx) = mpsc::channel::<Op>();
    let (agent_tx, agent_rx) = mpsc::channel::<Op>();
    let (events_tx, events_rx) = mpsc::channel::<Event>();
    let cancel = agent.cancel.clone();
    // The pump makes Interrupt effective at once, even while the agent thread is busy.
    std::thread::spawn(move || {
        for op in ops_rx {
            if matches!(op, Op::Interrupt | Op::Shutdown) {
                cancel.store(true, Ordering::Relaxed);
            }
            let stop = matches!(op, Op::Shutdown);
            if agent_tx.send(op).is_err() || stop {
                break;
            }
        }
    });
    let thread = std::thread::spawn(move || turn::run(agent, agent_rx, events_tx));
    AgentHandle {
        ops: ops_tx,
        events: events_rx,
        thread,
    }
}
