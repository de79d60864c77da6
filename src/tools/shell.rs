//! `shell`: run `bash -c COMMAND` in the project directory with a timeout, killing the whole
//! process group on timeout or cancel.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use schemars::JsonSchema;
use serde::Deserialize;

use super::args::parse_args;
use super::capped_output::CappedOutput;
use super::output::ToolOutcome;
use super::paths::canonical_root;
use super::process_group::{kill_group, spawn_in_new_group};
use super::schema::schema_for;
use super::text::truncate_chars;
use super::{Prepared, Preview, Tool, ToolContext, ToolError, ToolKind, ToolOutput};

/// Timeout when none is given, in seconds.
const DEFAULT_TIMEOUT_SECS: u64 = 120;
/// Longest allowed timeout, in seconds.
const MAX_TIMEOUT_SECS: u64 = 600;
/// Bytes kept from the start and from the end of each of stdout and stderr.
const KEEP_BYTES: usize = 10_000;
/// How often a running command is checked for cancellation.
const CANCEL_CHECK: Duration = Duration::from_millis(50);
/// How long to wait for the output pipes to close once the processes are gone.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// Arguments of `shell`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShellArgs {
    /// The command line, run with `bash -c` in the project root.
    pub command: String,
    /// Seconds before the command is killed (default 120, at most 600).
    pub timeout: Option<u64>,
}

/// Runs shell commands.
#[derive(Debug, Default)]
pub struct ShellTool;

impl Tool for ShellTool {
    fn name(&self) -> &'static str {
        "shell"
    }

    fn description(&self) -> &'static str {
        include_str!("../../tools/shell.md")
    }

    fn parameters_schema(&self) -> serde_json::Value {
        schema_for::<ShellArgs>()
    }

    fn kind(&self) -> ToolKind {
        ToolKind::Shell
    }

    fn prepare(&self, args: serde_json::Value, _ctx: &ToolContext) -> Result<Prepared, ToolError> {
        let args: ShellArgs = parse_args(self.name(), args)?;
        if args.command.trim().is_empty() {
            return Err(ToolError::Failed("The command is empty.".into()));
        }
        let timeout = Duration::from_secs(
            args.timeout
                .unwrap_or(DEFAULT_TIMEOUT_SECS)
                .clamp(1, MAX_TIMEOUT_SECS),
        );
        let first_line = args.command.lines().next().unwrap_or_default();
        let (short, cut) = truncate_chars(first_line, 80);
        let ellipsis = if cut > 0 || args.command.lines().count() > 1 {
            "…"
        } else {
            ""
        };
        let summary = format!("run `{short}{ellipsis}`");
        let preview = Some(Preview::Command(args.command.clone()));
        Ok(Prepared::new(
            preview,
            ToolKind::Shell,
            summary,
            move |ctx| run(ctx, &args.command, timeout),
        ))
    }
}

/// How the command ended.
enum Ending {
    Exited(ExitStatus),
    TimedOut,
    Cancelled,
}

fn run(ctx: &ToolContext, command: &str, timeout: Duration) -> ToolOutput {
    match execute(ctx, command, timeout) {
        Ok((stdout, stderr, ending)) => report(&stdout, &stderr, &ending, timeout),
        Err(failed) => failed,
    }
}

/// Runs a command the user typed (the TUI's `!command`) as the shell tool runs the model's:
/// bash in the project root in its own process group, no stdin, the tool's default timeout,
/// output capped, and every process it started killed when it ends. Returns the output (stdout,
/// then stderr, then a line saying how it ended unless it exited) and the exit code.
pub fn run_user_command(root: &std::path::Path, command: &str) -> (String, Option<i32>) {
    let ctx = ToolContext::new(root.to_path_buf());
    let timeout = Duration::from_secs(DEFAULT_TIMEOUT_SECS);
    match execute(&ctx, command, timeout) {
        Ok((stdout, stderr, Ending::Exited(status))) if status.code().is_some() => {
            let mut text = stdout;
            text.push_str(&stderr);
            (text, status.code())
        }
        Ok((stdout, stderr, ending)) => (report(&stdout, &stderr, &ending, timeout).content, None),
        Err(failed) => (failed.content, None),
    }
}

/// Runs `command` to its end: its stdout, stderr and how it ended, or the error to report.
fn execute(
    ctx: &ToolContext,
    command: &str,
    timeout: Duration,
) -> Result<(String, String, Ending), ToolOutput> {
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(command)
        .current_dir(canonical_root(ctx))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("PAGER", "cat")
        .env("GIT_PAGER", "cat")
        .env("GIT_TERMINAL_PROMPT", "0");
    let mut child = match spawn_in_new_group(&mut cmd) {
        Ok(child) => child,
        Err(e) => return Err(ToolOutput::error(format!("Could not start bash: {e}."))),
    };
    let stdout = capture(child.stdout.take());
    let stderr = capture(child.stderr.take());

    let ending = wait(ctx, &mut child, timeout);
    // Nothing the command started outlives it: background processes are killed too.
    kill_group(&mut child);
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    for (_, done) in [&stdout, &stderr] {
        let _ = done.recv_timeout(deadline.saturating_duration_since(Instant::now()));
    }
    let ending =
        ending.map_err(|e| ToolOutput::error(format!("Lost track of the command: {e}.")))?;
    Ok((render(&stdout.0), render(&stderr.0), ending))
}

/// Waits until the command exits, times out or is cancelled (killing its group then). The wait
/// wakes on the child's exit at once (`wait-timeout` listens for SIGCHLD, chaining any earlier
/// handler such as tokio's); the cancellation flag is checked every [`CANCEL_CHECK`].
fn wait(ctx: &ToolContext, child: &mut Child, timeout: Duration) -> std::io::Result<Ending> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if let Some(status) = child.wait_timeout(left.min(CANCEL_CHECK))? {
            return Ok(Ending::Exited(status));
        }
        let ending = if ctx.is_cancelled() {
            Ending::Cancelled
        } else if Instant::now() >= deadline {
            Ending::TimedOut
        } else {
            continue;
        };
        kill_group(child);
        child.wait()?;
        return Ok(ending);
    }
}

type Captured = (Arc<Mutex<CappedOutput>>, Receiver<()>);

/// Reads `pipe` on a thread into a capped buffer; the receiver fires at end of stream.
fn capture(pipe: Option<impl Read + Send + 'static>) -> Captured {
    let buffer = Arc::new(Mutex::new(CappedOutput::new(KEEP_BYTES, KEEP_BYTES)));
    let (done_tx, done_rx) = mpsc::channel();
    let sink = Arc::clone(&buffer);
    thread::spawn(move || {
        if let Some(mut pipe) = pipe {
            let mut chunk = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(&chunk[..n]);
            }
        }
        let _ = done_tx.send(());
    });
    (buffer, done_rx)
}

fn render(buffer: &Mutex<CappedOutput>) -> String {
    let buffer = buffer.lock().unwrap_or_else(|e| e.into_inner());
    if buffer.is_empty() {
        String::new()
    } else {
        buffer.render()
    }
}

fn report(stdout: &str, stderr: &str, ending: &Ending, timeout: Duration) -> ToolOutput {
    let mut content = String::new();
    if !stdout.is_empty() {
        content.push_str(stdout.trim_end());
        content.push('\n');
    }
    if !stderr.is_empty() {
        content.push_str("--- stderr ---\n");
        content.push_str(stderr.trim_end());
        content.push('\n');
    }
    if content.is_empty() {
        content.push_str("(no output)\n");
    }
    let (status_line, summary, ok) = match ending {
        Ending::Exited(status) => match status.code() {
            Some(code) => (
                format!("[exit code: {code}]"),
                format!("exit {code}"),
                code == 0,
            ),
            None => {
                let signal = signal_of(status);
                (
                    format!("[killed by signal {signal}]"),
                    format!("killed by signal {signal}"),
                    false,
                )
            }
        },
        Ending::TimedOut => (
            format!(
                "[timed out after {}s: the command and all processes it started were killed. \
                 Pass a larger timeout (at most {MAX_TIMEOUT_SECS}) if it needs longer.]",
                timeout.as_secs()
            ),
            format!("timed out after {}s", timeout.as_secs()),
            false,
        ),
        Ending::Cancelled => (
            "[cancelled by the user: the command was killed]".to_string(),
            "cancelled".to_string(),
            false,
        ),
    };
    content.push_str(&status_line);
    ToolOutput {
        content,
        outcome: if ok {
            ToolOutcome::Ok
        } else {
            ToolOutcome::Error
        },
        summary,
        ..ToolOutput::default()
    }
}

#[cfg(unix)]
fn signal_of(status: &ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.signal().unwrap_or(0)
}

#[cfg(not(unix))]
fn signal_of(_: &ExitStatus) -> i32 {
    0
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::tools::test_support::Project;
    use serde_json::json;
    use std::sync::atomic::Ordering;

    #[test]
    fn captures_stdout_stderr_and_exit_code() {
        let p = Project::new();
        let out = p.run(
            "shell",
            json!({"command": "echo out; echo err >&2; exit 3"}),
        );
        assert_eq!(out.content, "out\n--- stderr ---\nerr\n[exit code: 3]");
        assert!(out.is_error());
        assert_eq!(out.summary, "exit 3");
    }

    #[test]
    fn runs_in_project_root_without_stdin() {
        let p = Project::new();
        p.write("marker.txt", "here");
        let out = p.run(
            "shell",
            json!({"command": "cat marker.txt; cat; echo done"}),
        );
        assert_eq!(out.content, "heredone\n[exit code: 0]");
        assert!(!out.is_error());
    }

    #[test]
    fn long_output_keeps_head_and_tail() {
        let p = Project::new();
        let out = p.run("shell", json!({"command": "seq 1 100000"}));
        assert!(out.content.starts_with("1\n2\n3\n"));
        assert!(out.content.contains("bytes of output omitted"));
        assert!(out.content.ends_with("99999\n100000\n[exit code: 0]"));
        assert!(out.content.len() < 2 * KEEP_BYTES + 200);
    }

    #[test]
    fn preview_is_the_command() {
        let p = Project::new();
        let prepared = ShellTool
            .prepare(json!({"command": "ls -la\necho hi"}), &p.ctx)
            .unwrap();
        assert_eq!(
            prepared.preview,
            Some(Preview::Command("ls -la\necho hi".into()))
        );
        assert_eq!(prepared.summary, "run `ls -la…`");
        assert_eq!(prepared.kind, ToolKind::Shell);
    }

    /// Whether process `pid` is gone (or a zombie nobody reaped yet).
    fn is_dead(pid: &str) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => stat
                .rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z')),
            Err(_) => Command::new("kill")
                .args(["-0", pid])
                .status()
                .is_ok_and(|s| !s.success()),
        }
    }

    fn wait_until_dead(pid: &str) -> bool {
        // Generous: the property is "it dies", not how fast on a loaded machine.
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if is_dead(pid) {
                return true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        false
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let p = Project::new();
        let start = Instant::now();
        let out = p.run(
            "shell",
            json!({"command": "sleep 100 & echo $! > gc.pid; sleep 100", "timeout": 1}),
        );
        // The commands sleep 100 s: finishing well before that is the property tested.
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{:?}",
            start.elapsed()
        );
        assert!(out.is_error());
        assert!(
            out.content.contains("timed out after 1s"),
            "{}",
            out.content
        );
        let pid = String::from_utf8(p.read("gc.pid")).unwrap();
        assert!(
            wait_until_dead(pid.trim()),
            "grandchild {pid} still running"
        );
    }

    #[test]
    fn background_processes_do_not_outlive_the_command() {
        let p = Project::new();
        let start = Instant::now();
        let out = p.run(
            "shell",
            json!({"command": "sleep 100 & echo $! > bg.pid; echo ok"}),
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "did not wait for the background sleep 100"
        );
        assert_eq!(out.content, "ok\n[exit code: 0]");
        let pid = String::from_utf8(p.read("bg.pid")).unwrap();
        assert!(
            wait_until_dead(pid.trim()),
            "background {pid} still running"
        );
    }

    #[test]
    fn cancel_flag_stops_the_command_promptly() {
        let p = Project::new();
        let cancel = Arc::clone(&p.ctx.cancel);
        let setter = thread::spawn(move || {
            thread::sleep(Duration::from_millis(200));
            cancel.store(true, Ordering::Relaxed);
        });
        let start = Instant::now();
        let out = p.run("shell", json!({"command": "echo started; sleep 100"}));
        setter.join().unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "did not wait for the sleep 100: {:?}",
            start.elapsed()
        );
        assert_eq!(
            out.content,
            "started\n[cancelled by the user: the command was killed]"
        );
        assert_eq!(out.summary, "cancelled");
    }

    #[test]
    fn user_commands_run_like_the_tools_and_report_their_exit_code() {
        let dir = tempfile::tempdir().unwrap();
        let (text, code) = run_user_command(dir.path(), "pwd; echo oops >&2; exit 3");
        assert_eq!(code, Some(3));
        assert!(text.contains("oops"), "{text}");
        let root = dir.path().canonicalize().unwrap();
        assert!(text.contains(root.to_str().unwrap()), "{text}");
        let (text, code) = run_user_command(dir.path(), "kill -9 $$");
        assert_eq!(code, None);
        assert!(text.contains("killed by signal 9"), "{text}");
    }

    #[test]
    fn empty_command_is_refused() {
        let p = Project::new();
        assert!(p.run("shell", json!({"command": "  "})).is_error());
    }
}
