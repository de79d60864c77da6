//! `gem bench --repo PATH`: the long-window scenarios measured through the real agent.
//!
//! A copy of the repository is packed into the context exactly as `gem` does it, and the agent
//! runs a fixed script on the real engine ([`ScriptedReplies`]: prompts really prefilled,
//! answers scripted, so any model, the 270M test model included, can drive it):
//!
//! 1. **Cold start**: an empty disk cache; the first turn prefills the system prompt, the tool
//!    declarations and the packed repository, and saves that prefix's KV state.
//! 2. **Warm start**: a fresh engine on the same cache; the same first turn restores the prefix
//!    from disk. Time to first token is compared with the cold start.
//! 3. **Follow-up after an edit**: the agent edits a recently modified packed file with its edit
//!    tool, then the user sends another message; gem re-sends the changed file with it. The
//!    prefilled tokens of that request are compared with the new message plus the changed file.
//! 4. **Restart after the edit**: a fresh engine packs the repository again (the edited file now
//!    last) and runs the first message: the state kept up to the most recently modified files
//!    is restored, the rest prefilled.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::agent::{
    self, Agent, AgentConfig, CHANGED_FILES_CLOSE, CHANGED_FILES_OPEN, Mode, Permissions,
};
use crate::engine::scripted::{ScriptedCall, ScriptedReplies};
use crate::engine::{self, Backend, EngineConfig, Sampling};
use crate::exec::headless::{Stdout, run_task};
use crate::protocol::{Op, TurnEnd};

/// The first message of the cold and warm starts.
const FIRST_MESSAGE: &str = "Give me a one-line overview of this project.";
/// The follow-up sent after the edit.
const FOLLOWUP_MESSAGE: &str = "Explain the change you just made.";
/// Allowed overhead of the follow-up prefill over the new message plus the changed files.
const FOLLOWUP_SLACK: f64 = 0.05;

/// Timing and token figures of one request.
#[derive(Debug, Clone, Serialize)]
pub struct RequestFigures {
    /// Tokens in the prompt.
    pub prompt_tokens: usize,
    /// Tokens reused from memory or the disk cache.
    pub reused_tokens: usize,
    /// Of those, tokens restored from the disk cache.
    pub restored_tokens: usize,
    /// Tokens prefilled.
    pub prefilled_tokens: usize,
    /// Time from sending the message to the first token, ms (render, tokenize, restore,
    /// prefill, first token, and for the cold start writing the state file).
    pub time_to_first_token_ms: f64,
}

/// The follow-up turn after an edit.
#[derive(Debug, Clone, Serialize)]
pub struct FollowupFigures {
    /// The file the agent edited (relative to the repository).
    pub edited_file: String,
    /// The request's figures.
    pub request: RequestFigures,
    /// Tokens of the new user turn without the re-sent files (turn markers included).
    pub message_tokens: usize,
    /// Tokens of the re-sent changed files block.
    pub changed_file_tokens: usize,
    /// `(message_tokens + changed_file_tokens) * 1.05`: the target's ceiling.
    pub allowed_tokens: usize,
    /// Whether `prefilled_tokens <= allowed_tokens`.
    pub within_target: bool,
}

/// Everything `gem bench --repo` measures with the model.
#[derive(Debug, Clone, Serialize)]
pub struct LongWindowReport {
    /// Model summary line.
    pub model: String,
    /// Context window, tokens.
    pub context_size: usize,
    /// Files packed whole.
    pub packed_files: usize,
    /// Files only in the repo map.
    pub mapped_files: usize,
    /// Tokens of the packed repository block.
    pub repository_tokens: usize,
    /// Tokens of the persisted prefix (system prompt, tools, repository).
    pub prefix_tokens: usize,
    /// The first turn on an empty disk cache.
    pub cold: RequestFigures,
    /// The same turn after a restart, the prefix restored from disk.
    pub warm: RequestFigures,
    /// `cold.time_to_first_token_ms / warm.time_to_first_token_ms`.
    pub warm_start_speedup: f64,
    /// Bytes of state files written.
    pub state_file_bytes: u64,
    /// The follow-up after an edit.
    pub followup: FollowupFigures,
    /// The first turn of the next start after that edit (the repository packed afresh).
    pub restart_after_edit: RequestFigures,
}

/// Runs the four scenarios on a copy of `repo` with the model in `config`.
pub fn run(
    config: &EngineConfig,
    repo: &Path,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<LongWindowReport> {
    let scratch = tempfile::tempdir()?;
    let root = scratch.path().join("repo");
    progress("copying the repository");
    copy_project(repo, &root)?;
    let root = root.canonicalize()?;
    let mut config = config.clone();
    config.state_dir = Some(scratch.path().join("kv"));
    let selections = crate::repo::SelectionStore::at(scratch.path().join("packs"));

    // 1. Cold start.
    progress("cold start (prefilling the packed repository)");
    let engine: Arc<dyn Backend> = Arc::from(engine::open(&config)?);
    let reserved = crate::setup::prompt_reserve(
        engine.as_ref(),
        &agent::system_prompt::build(&root, &root, None),
    );
    // Every start packs as `gem` does, with the selection the previous start stored.
    let pack = |engine: &dyn Backend| {
        crate::setup::pack_for(engine, &root, FIRST_MESSAGE, reserved, Some(&selections))
    };
    let packed = pack(engine.as_ref())?;
    if packed.included.is_empty() {
        anyhow::bail!("nothing to pack in {}", repo.display());
    }
    let model = engine.info().summary();
    let context_size = engine.info().context_size;
    let (cold, _) = first_turn(Arc::clone(&engine), &root, &packed)?;
    drop(engine);
    let cold_call = cold.calls.first().ok_or_else(no_request)?;
    let cold_figures = figures(cold_call, cold.first_turn_ms);
    let state_file_bytes = engine::state_cache::list(&scratch.path().join("kv"))
        .iter()
        .map(|e| e.bytes)
        .sum();

    // 2. Warm start: a new engine, the same files, the same message.
    progress("warm start (restoring the prefix from disk)");
    let engine: Arc<dyn Backend> = Arc::from(engine::open(&config)?);
    let repacked = pack(engine.as_ref())?;
    let (warm, handle) = first_turn(Arc::clone(&engine), &root, &repacked)?;
    let warm_call = warm.calls.first().ok_or_else(no_request)?;
    if warm_call.outcome.restored_from_disk == 0 {
        anyhow::bail!(
            "the warm start did not restore the saved prefix ({:?})",
            warm_call.outcome.warnings
        );
    }
    let warm_figures = figures(warm_call, warm.first_turn_ms);
    let prefix_tokens = warm_call.outcome.restored_from_disk;

    // 3. An edit by the agent, then a follow-up.
    progress("follow-up after an edit");
    let (edited, edit_call) = choose_edit(&root, &recent_files(&repacked))?;
    warm.scripted.push_reply(edit_call);
    expect_completed(&run_task(
        &handle,
        "Mark the file for the benchmark.",
        Vec::new(),
        Stdout::Quiet,
        &mut std::io::sink(),
    ))?;
    let before = warm.scripted.calls().len();
    let started = Instant::now();
    expect_completed(&run_task(
        &handle,
        FOLLOWUP_MESSAGE,
        Vec::new(),
        Stdout::Quiet,
        &mut std::io::sink(),
    ))?;
    let followup_ms = started.elapsed().as_secs_f64() * 1000.0;
    let _ = handle.ops.send(Op::Shutdown);
    let _ = handle.thread.join();
    let calls = warm.scripted.calls();
    let followup_call = calls.get(before).ok_or_else(no_request)?;
    let followup = followup_figures(
        engine.as_ref(),
        followup_call,
        followup_ms,
        edited.display().to_string(),
    )?;
    drop(warm);
    drop(engine);

    // 4. The next start after the edit: packing keeps the previous selection and puts the
    //    edited file last, so the state kept up to the most recently modified files applies.
    progress("restart after the edit");
    let engine: Arc<dyn Backend> = Arc::from(engine::open(&config)?);
    let after_edit = pack(engine.as_ref())?;
    let (restart, _) = first_turn(Arc::clone(&engine), &root, &after_edit)?;
    let restart_call = restart.calls.first().ok_or_else(no_request)?;
    let restart_after_edit = figures(restart_call, restart.first_turn_ms);

    Ok(LongWindowReport {
        model,
        context_size,
        packed_files: packed.included.len(),
        mapped_files: packed.mapped.len(),
        repository_tokens: packed.tokens,
        prefix_tokens,
        warm_start_speedup: cold_figures.time_to_first_token_ms
            / warm_figures.time_to_first_token_ms.max(0.001),
        cold: cold_figures,
        warm: warm_figures,
        state_file_bytes,
        followup,
        restart_after_edit,
    })
}

fn no_request() -> anyhow::Error {
    anyhow::anyhow!("the agent made no model request")
}

fn expect_completed(result: &crate::exec::headless::TaskResult) -> anyhow::Result<()> {
    if result.end != TurnEnd::Completed {
        anyhow::bail!(
            "the scripted turn ended with {:?}: {:?}",
            result.end,
            result.errors
        );
    }
    Ok(())
}

/// A scripted agent and what its first turn cost.
struct FirstTurn {
    scripted: Arc<ScriptedReplies>,
    calls: Vec<ScriptedCall>,
    first_turn_ms: f64,
}

/// Builds an agent over `engine` with `packed` in its system prompt and runs the first message.
fn first_turn(
    engine: Arc<dyn Backend>,
    root: &Path,
    packed: &crate::repo::PackedRepo,
) -> anyhow::Result<(FirstTurn, agent::AgentHandle)> {
    let scripted = Arc::new(ScriptedReplies::new(engine));
    let backend: Arc<dyn Backend> = scripted.clone();
    let (system_prompt, packed_context) =
        agent::system_prompt::build_packed(root, root, None, packed);
    let config = AgentConfig {
        root: root.to_path_buf(),
        packed: Some(packed_context),
        system_prompt,
        max_turns: 8,
        max_tokens: 256,
        thinking: true,
        variant: crate::setup::variant_for(backend.info()),
        sampling: Sampling::greedy(),
        grammar: false,
        bounded_grammar: false,
        interactive: false,
        allow_git_commit: false,
        snapshots: agent::SnapshotStore::Off,
    };
    let permissions = Permissions::new(Mode::FullAuto, &[])?;
    let handle = agent::spawn(Agent::new(backend, config, permissions, None));
    let started = Instant::now();
    let result = run_task(
        &handle,
        FIRST_MESSAGE,
        Vec::new(),
        Stdout::Quiet,
        &mut std::io::sink(),
    );
    let first_turn_ms = started.elapsed().as_secs_f64() * 1000.0;
    expect_completed(&result)?;
    let calls = scripted.calls();
    Ok((
        FirstTurn {
            scripted,
            calls,
            first_turn_ms,
        },
        handle,
    ))
}

fn figures(call: &ScriptedCall, time_to_first_token_ms: f64) -> RequestFigures {
    let usage = &call.outcome.usage;
    RequestFigures {
        prompt_tokens: usage.prompt_tokens,
        reused_tokens: usage.reused_tokens,
        restored_tokens: call.outcome.restored_from_disk,
        prefilled_tokens: usage.prefilled_tokens,
        time_to_first_token_ms,
    }
}

/// Splits the follow-up prompt into history, new message and re-sent files, and counts each.
fn followup_figures(
    backend: &dyn Backend,
    call: &ScriptedCall,
    turn_ms: f64,
    edited_file: String,
) -> anyhow::Result<FollowupFigures> {
    let prompt = &call.prompt;
    let turn_start = prompt
        .rfind("<|turn>user")
        .ok_or_else(|| anyhow::anyhow!("the follow-up prompt has no user turn"))?;
    let open = prompt[turn_start..]
        .find(CHANGED_FILES_OPEN)
        .map(|i| turn_start + i)
        .ok_or_else(|| anyhow::anyhow!("the follow-up did not re-send the edited file"))?;
    let close = prompt[open..]
        .find(CHANGED_FILES_CLOSE)
        .map(|i| open + i + CHANGED_FILES_CLOSE.len())
        .ok_or_else(|| anyhow::anyhow!("the re-sent files block is not closed"))?;
    let count = |text: &str| backend.count_tokens(text).map_err(anyhow::Error::from);
    let changed_file_tokens = count(&prompt[open..close])?;
    // The new message with its turn markup, either side of the re-sent files.
    let message_tokens = count(&prompt[turn_start..open])? + count(&prompt[close..])?;
    let allowed_tokens =
        ((message_tokens + changed_file_tokens) as f64 * (1.0 + FOLLOWUP_SLACK)).floor() as usize;
    let request = figures(call, turn_ms);
    Ok(FollowupFigures {
        edited_file,
        within_target: request.prefilled_tokens <= allowed_tokens,
        request,
        message_tokens,
        changed_file_tokens,
        allowed_tokens,
    })
}

/// The packed files among the most recently modified quarter (where edits usually land), or
/// all packed files when that cannot be told.
fn recent_files(packed: &crate::repo::PackedRepo) -> Vec<PathBuf> {
    let Some(tail) = packed
        .recent_start
        .and_then(|start| packed.text.get(start..))
    else {
        return packed.included.clone();
    };
    let recent: Vec<PathBuf> = packed
        .included
        .iter()
        .filter(|rel| {
            let block = crate::repo::render_file_block(rel, "");
            block
                .lines()
                .next()
                .is_some_and(|header| tail.contains(header))
        })
        .cloned()
        .collect();
    if recent.is_empty() {
        packed.included.clone()
    } else {
        recent
    }
}

/// Picks a packed text file of moderate size with a line that occurs once, and the raw Gemma 4
/// tool call that edits it (a line added after that one).
fn choose_edit(root: &Path, included: &[PathBuf]) -> anyhow::Result<(PathBuf, String)> {
    const TARGET_BYTES: i64 = 2_000;
    let mut candidates: Vec<(PathBuf, String, String)> = included
        .iter()
        .filter_map(|rel| {
            let text = std::fs::read_to_string(root.join(rel)).ok()?;
            let line = text
                .lines()
                .find(|l| l.trim().len() > 8 && text.matches(*l).count() == 1)?
                .to_string();
            Some((rel.clone(), text, line))
        })
        .collect();
    candidates
        .sort_by_key(|(rel, text, _)| ((text.len() as i64 - TARGET_BYTES).abs(), rel.clone()));
    let (rel, _, line) = candidates
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("no packed text file to edit"))?;
    let arguments = serde_json::json!({
        "path": rel.display().to_string(),
        "old_string": line,
        "new_string": format!("{line}\ngem bench: an edited line"),
    });
    let call = format!(
        "<|tool_call>call:edit_file{}<tool_call|>",
        crate::gemma::value::to_notation(&arguments)?
    );
    Ok((rel, call))
}

/// Copies the files `gem` would see (ignore rules applied) with their modification times, and
/// the `.git` directory whole, so packing the copy orders files (by git history, else by
/// modification time) as packing the original does.
fn copy_project(from: &Path, to: &Path) -> anyhow::Result<()> {
    let max_bytes = crate::repo::PackOptions::default().max_file_bytes;
    copy_files(ignore::WalkBuilder::new(from).build(), from, to, max_bytes)?;
    let git = from.join(".git");
    if git.is_dir() {
        let everything = ignore::WalkBuilder::new(&git)
            .standard_filters(false)
            .build();
        copy_files(everything, from, to, u64::MAX)?;
    }
    Ok(())
}

/// Copies the files `walk` yields below `from` to the same places below `to`, keeping their
/// modification times; files over `max_bytes` are left out.
fn copy_files(walk: ignore::Walk, from: &Path, to: &Path, max_bytes: u64) -> anyhow::Result<()> {
    for entry in walk {
        let entry = entry?;
        let Some(kind) = entry.file_type() else {
            continue;
        };
        if !kind.is_file() {
            continue;
        }
        let meta = entry.metadata()?;
        if meta.len() > max_bytes {
            continue;
        }
        let rel = entry.path().strip_prefix(from)?;
        let target = to.join(rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(entry.path(), &target)?;
        let file = std::fs::File::options().write(true).open(&target)?;
        file.set_modified(meta.modified()?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_keeps_contents_and_modification_times_and_skips_ignored_files() {
        let from = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(from.path().join("src")).expect("mkdir");
        std::fs::write(from.path().join("src/a.rs"), "fn a() {}\n").expect("write");
        std::fs::write(from.path().join(".ignore"), "target/\n").expect("write");
        std::fs::create_dir_all(from.path().join("target")).expect("mkdir");
        std::fs::write(from.path().join("target/out.bin"), "x").expect("write");
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        std::fs::File::options()
            .write(true)
            .open(from.path().join("src/a.rs"))
            .and_then(|f| f.set_modified(old))
            .expect("set mtime");
        let to = tempfile::tempdir().expect("tempdir");
        copy_project(from.path(), to.path()).expect("copy");
        assert_eq!(
            std::fs::read_to_string(to.path().join("src/a.rs")).expect("read"),
            "fn a() {}\n"
        );
        let copied = std::fs::metadata(to.path().join("src/a.rs"))
            .and_then(|m| m.modified())
            .expect("mtime");
        assert_eq!(copied, old);
        assert!(!to.path().join("target/out.bin").exists());
    }

    #[test]
    fn a_copy_of_a_git_project_packs_in_the_original_order() {
        let from = tempfile::tempdir().expect("tempdir");
        let repo = git2::Repository::init(from.path()).expect("init");
        // Committed z first, then a: the history's order is the reverse of the paths'.
        crate::git_fixture::commit_files(&repo, &[("z.rs", "// z.rs\n")], "z.rs", 1_000);
        crate::git_fixture::commit_files(&repo, &[("a.rs", "// a.rs\n")], "a.rs", 2_000);
        let to = tempfile::tempdir().expect("tempdir");
        copy_project(from.path(), to.path()).expect("copy");
        let count = |text: &str| text.len();
        let order = |root: &Path| {
            crate::repo::pack(root, &crate::repo::PackOptions::default(), &count)
                .expect("pack")
                .included
        };
        assert_eq!(
            order(from.path()),
            [PathBuf::from("z.rs"), PathBuf::from("a.rs")]
        );
        assert_eq!(order(to.path()), order(from.path()));
    }

    #[test]
    fn the_edit_targets_a_unique_line_of_a_packed_file() {
        let root = tempfile::tempdir().expect("tempdir");
        std::fs::write(root.path().join("a.rs"), "}\n}\nfn unique_name() {}\n}\n").expect("write");
        let (rel, call) =
            choose_edit(root.path(), &[PathBuf::from("a.rs")]).expect("an edit is found");
        assert_eq!(rel, PathBuf::from("a.rs"));
        assert!(call.starts_with("<|tool_call>call:edit_file{"), "{call}");
        assert!(call.contains("fn unique_name() {}"), "{call}");
        let events =
            crate::gemma::StreamParser::parse_all(crate::gemma::ParseOptions::default(), &call);
        assert!(
            events.iter().any(
                |e| matches!(e, crate::gemma::ParseEvent::ToolCall(c) if c.name == "edit_file")
            ),
            "{events:?}"
        );
    }
}
