//! MCP servers as gem tools, end to end through the `gem` binary on the replay backend, against
//! the in-repo test server (`examples/mcp_test_server.rs`) over stdio and streamable HTTP.

use crate::mcp_support;

use std::time::{Duration, Instant};

use mcp_support::{HttpServer, Project, ended, stderr, stdout};
use serde_json::json;

fn call(tool: &str, args: &str) -> String {
    format!("<|tool_call>call:{tool}{{{args}}}<tool_call|><|tool_response>")
}

/// After a tool response gem expects a thought first, as Gemma 4 writes it.
const DONE: &str = "<|channel>thought\nDone.\n<channel|>The sum is 5.<turn|>";

#[test]
fn stdio_add_reaches_the_server_and_its_result_reaches_the_model() {
    let p = Project::new();
    p.config(&p.stdio_server("test", &[], ""));
    let out = p.run(
        &[&call("mcp__test__add", "a:2,b:3"), DONE],
        &["--allow", "mcp__test__add"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "The sum is 5.\n");
    let calls = p.calls();
    assert_eq!(
        calls,
        [json!({"tool": "add", "arguments": {"a": 2, "b": 3}})]
    );
    let prompts = p.prompts();
    assert_eq!(prompts.len(), 2);
    assert!(
        prompts[1].contains("response:mcp__test__add{value:<|\"|>{\"sum\":5.0}<|\"|>}"),
        "{}",
        &prompts[1][prompts[1].len().saturating_sub(400)..]
    );
    // Declarations: the built-in tools first, then the server's tools sorted by name.
    let first = &prompts[0];
    let at = |name: &str| {
        first
            .find(&format!("declaration:{name}{{"))
            .unwrap_or_else(|| panic!("{name} not declared"))
    };
    let order = [
        "todo_write",
        "mcp__test__add",
        "mcp__test__crash",
        "mcp__test__echo",
        "mcp__test__fail",
        "mcp__test__image",
        "mcp__test__slow",
    ];
    for pair in order.windows(2) {
        assert!(at(pair[0]) < at(pair[1]), "{pair:?}");
    }
    assert!(first.contains("(MCP server `test`) Adds two numbers."));
    // The server process is gone once gem has exited.
    for pid in p.pids() {
        assert!(ended(pid), "server {pid} outlived gem");
    }
}

#[test]
fn the_same_config_gives_the_same_declarations() {
    let p = Project::new();
    p.config(&(p.stdio_server("test", &[], "\n") + &p.stdio_server("other", &[], "")));
    let first = p.run(&["ok<turn|>"], &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let second = p.run(&["ok<turn|>"], &[]);
    assert!(second.status.success(), "{}", stderr(&second));
    let prompts = p.prompts();
    assert_eq!(prompts.len(), 2);
    assert_eq!(prompts[0], prompts[1]);
    assert!(
        prompts[0].find("declaration:mcp__other__add").unwrap()
            < prompts[0].find("declaration:mcp__test__add").unwrap()
    );
}

#[test]
fn streamable_http_add_works_the_same() {
    let p = Project::new();
    let server = HttpServer::start(&p);
    p.config(&format!("[mcp_servers.test]\nurl = {:?}\n", server.url));
    let out = p.run(
        &[&call("mcp__test__add", "a:2,b:3"), DONE],
        &["--allow", "mcp__test__*"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "The sum is 5.\n");
    assert_eq!(
        p.calls(),
        [json!({"tool": "add", "arguments": {"a": 2, "b": 3}})]
    );
    assert!(p.prompts()[1].contains("{\"sum\":5.0}"));
}

#[test]
fn headless_calls_are_denied_without_allow_and_the_server_sees_nothing() {
    let p = Project::new();
    p.config(&p.stdio_server("test", &[], ""));
    let out = p.run(
        &[&call("mcp__test__add", "a:2,b:3"), "Denied.<turn|>"],
        &["--allow", "mcp__other__*"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("mcp__test__add call denied"),
        "{}",
        stderr(&out)
    );
    assert!(p.calls().is_empty());
    assert!(p.prompts()[1].contains("--allow 'mcp__test__add'"));
}

#[test]
fn full_auto_allows_and_read_only_allows_only_read_only_tools() {
    let p = Project::new();
    p.config(&p.stdio_server("test", &[], ""));
    let out = p.run(
        &[&call("mcp__test__echo", "text:<|\"|>hi<|\"|>"), "ok<turn|>"],
        &["--mode", "full-auto"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(p.prompts()[1].contains("response:mcp__test__echo{value:<|\"|>hi<|\"|>}"));

    let p = Project::new();
    p.config(&p.stdio_server("test", &[], ""));
    let out = p.run(
        &[
            &call("mcp__test__echo", "text:<|\"|>hi<|\"|>"),
            &call("mcp__test__add", "a:1,b:1"),
            "ok<turn|>",
        ],
        &["--mode", "read-only", "--allow", "mcp__test__*"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = p.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["tool"], "echo");
    let prompts = p.prompts();
    assert!(prompts[2].contains("read-only mode"), "{}", prompts[2]);
}

#[test]
fn errors_images_and_timeouts_become_tool_results() {
    let p = Project::new();
    p.config(&p.stdio_server("test", &[], "tool_timeout_sec = 1"));
    let started = Instant::now();
    let out = p.run(
        &[
            &call("mcp__test__fail", ""),
            &call("mcp__test__image", ""),
            &call("mcp__test__slow", "seconds:30"),
            &call("mcp__test__echo", "text:<|\"|>still here<|\"|>"),
            "ok<turn|>",
        ],
        &["--allow", "mcp__test__*"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "the timeout was not kept"
    );
    let prompts = p.prompts();
    assert!(prompts[1].contains("the fail tool failed, as it always does"));
    assert!(
        prompts[2].contains("[the tool returned an image (image/png, 70 bytes); gem cannot show it to the model yet]"),
        "{}",
        &prompts[2][prompts[2].len().saturating_sub(300)..]
    );
    assert!(
        prompts[3].contains("MCP tool `slow` of server `test` timed out after 1 s"),
        "{}",
        &prompts[3][prompts[3].len().saturating_sub(300)..]
    );
    assert!(
        prompts[4].contains("still here"),
        "the server still answers after a timeout"
    );
}

#[test]
fn a_server_that_crashes_at_start_is_reported_and_the_task_goes_on() {
    let p = Project::new();
    p.config(
        &(p.stdio_server("broken", &["--crash-at-start"], "") + &p.stdio_server("test", &[], "")),
    );
    let out = p.run(&["Still working.<turn|>"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Still working.\n");
    let err = stderr(&out);
    assert!(err.contains("MCP server `broken` did not start"), "{err}");
    assert!(err.contains("continuing without it"), "{err}");
    let prompt = &p.prompts()[0];
    assert!(!prompt.contains("mcp__broken__"));
    assert!(prompt.contains("declaration:mcp__test__add"));
    let log = std::fs::read_to_string(p.mcp_logs().join("broken.log")).unwrap();
    assert!(log.contains("crashing at start on purpose"), "{log}");
}

#[test]
fn a_server_that_hangs_at_start_costs_only_its_startup_timeout() {
    let p = Project::new();
    p.config("[mcp_servers.hang]\ncommand = \"sleep\"\nargs = [\"60\"]\nstartup_timeout_sec = 1\n");
    let started = Instant::now();
    let out = p.run(&["ok<turn|>"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        stderr(&out).contains("not ready within its startup timeout (1 s)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_server_that_dies_mid_session_is_reported_and_its_tools_fail_cleanly() {
    let p = Project::new();
    p.config(&p.stdio_server("test", &[], ""));
    let out = p.run(
        &[
            &call("mcp__test__crash", ""),
            &call("mcp__test__echo", "text:<|\"|>x<|\"|>"),
            "<|channel>thought\nOn.\n<channel|>Carrying on.<turn|>",
        ],
        &["--allow", "mcp__test__*"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "Carrying on.\n");
    let err = stderr(&out);
    assert!(err.contains("MCP server `test` stopped"), "{err}");
    let prompts = p.prompts();
    assert!(
        prompts[1].contains("MCP server `test` is not running"),
        "{}",
        &prompts[1][prompts[1].len().saturating_sub(300)..]
    );
    assert!(prompts[2].contains("MCP server `test` is not running"));
}

#[test]
fn an_awkward_schema_is_simplified_logged_and_still_called() {
    let p = Project::new();
    p.config(&p.stdio_server("test", &["--awkward"], ""));
    let out = p.run(
        &[
            &call("mcp__test__awkward", "id:7,tags:<|\"|>x<|\"|>"),
            "ok<turn|>",
        ],
        &["--allow", "mcp__test__awkward"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let first = &p.prompts()[0];
    let start = first.find("declaration:mcp__test__awkward{").unwrap();
    let declaration = &first[start..start + first[start..].find("<tool|>").unwrap()];
    for unwanted in [
        "$ref",
        "$defs",
        "anyOf",
        "allOf",
        "format",
        "minimum",
        "additionalProperties",
        "[\"",
    ] {
        assert!(
            !declaration.contains(unwanted),
            "{unwanted} in {declaration}"
        );
    }
    assert!(declaration.contains("id:{"), "{declaration}");
    assert!(declaration.contains("target:{"), "{declaration}");
    assert_eq!(
        p.calls(),
        [json!({"tool": "awkward", "arguments": {"id": 7, "tags": "x"}})]
    );
    let log = std::fs::read_to_string(p.mcp_logs().join("test.log")).unwrap();
    assert!(
        log.contains("mcp__test__awkward: schema simplified for Gemma 4: $.id: type list"),
        "{log}"
    );
}

#[test]
fn enabled_and_disabled_tools_filter_the_declarations() {
    let p = Project::new();
    p.config(&p.stdio_server(
        "test",
        &[],
        "enabled_tools = [\"add\", \"echo\", \"fail\"]\ndisabled_tools = [\"fail\"]",
    ));
    let out = p.run(&["ok<turn|>"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let first = &p.prompts()[0];
    assert!(first.contains("declaration:mcp__test__add{"));
    assert!(first.contains("declaration:mcp__test__echo{"));
    assert!(!first.contains("declaration:mcp__test__fail{"));
    assert!(!first.contains("declaration:mcp__test__slow{"));
}

#[test]
fn project_mcp_json_needs_trust_or_full_auto() {
    let p = Project::new();
    std::fs::write(
        p.root().join(".mcp.json"),
        json!({"mcpServers": {"proj": {"command": mcp_support::server_binary(), "args": []}}})
            .to_string(),
    )
    .unwrap();
    let out = p.run(&["ok<turn|>"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("MCP server `proj` from"),
        "{}",
        stderr(&out)
    );
    assert!(!p.prompts()[0].contains("mcp__proj__"));
    let out = p.run(&["ok<turn|>"], &["--mode", "full-auto"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(p.prompts()[1].contains("declaration:mcp__proj__add{"));
    p.config(&format!("mcp_trusted_projects = [{:?}]\n", p.root()));
    let out = p.run(&["ok<turn|>"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(p.prompts()[2].contains("declaration:mcp__proj__add{"));
}

#[test]
fn gem_mcp_add_list_get_remove() {
    let p = Project::new();
    let server = mcp_support::server_binary();
    let out = p
        .gem()
        .args(["mcp", "add", "test", "--tool-timeout-sec", "5", "--"])
        .arg(&server)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("added MCP server `test`"));
    p.config(
        &(std::fs::read_to_string(p.config_path()).unwrap()
            + "\n[mcp_servers.broken]\ncommand = \"/nonexistent/mcp-server\"\n"),
    );
    let out = p.gem().args(["mcp", "list"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing in {text}"))
            .to_string()
    };
    assert!(
        line("test ").contains("ready") && line("test ").contains("6 tools"),
        "{text}"
    );
    assert!(line("broken ").contains("failed"), "{text}");
    let out = p.gem().args(["mcp", "get", "test"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("state:     ready"), "{text}");
    assert!(text.contains("timeouts:  start 10 s, call 5 s"), "{text}");
    assert!(
        text.contains("mcp__test__echo [read-only]: Returns the text it is given."),
        "{text}"
    );
    let out = p.gem().args(["mcp", "remove", "test"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = p.gem().args(["mcp", "get", "test"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    for pid in p.pids() {
        assert!(ended(pid), "server {pid} outlived gem mcp");
    }
}
