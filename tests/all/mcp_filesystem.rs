//! A real third-party MCP server: the reference filesystem server
//! (`@modelcontextprotocol/server-filesystem`, installed from npm into the test cache by
//! `scripts/fetch-mcp-test-server`). gem lists its tools and reads a file through it. Skipped
//! with a notice when it (or node) is missing; under `CI=true` a missing server fails.

use crate::mcp_support;

use std::path::PathBuf;

use mcp_support::{Project, stderr, stdout};

fn filesystem_server() -> Option<PathBuf> {
    let cache = std::env::var_os("GEM_TEST_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| dirs::cache_dir().unwrap().join("gem").join("test-models"));
    let entry = cache.join(
        "mcp-server-filesystem/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js",
    );
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if entry.is_file() && node {
        return Some(entry);
    }
    let why = if node {
        format!(
            "{} not found (run scripts/fetch-mcp-test-server)",
            entry.display()
        )
    } else {
        "node is not installed".to_string()
    };
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("the MCP filesystem server is required in CI: {why}");
    }
    eprintln!("SKIPPED: the MCP filesystem server test: {why}");
    None
}

#[test]
fn the_reference_filesystem_server_lists_its_tools_and_reads_a_file() {
    let Some(entry) = filesystem_server() else {
        return;
    };
    let p = Project::new();
    let root = std::fs::canonicalize(p.root()).unwrap();
    std::fs::write(root.join("notes.txt"), "the secret word is teapot\n").unwrap();
    p.config(&format!(
        "[mcp_servers.fs]\ncommand = \"node\"\nargs = [{:?}, {:?}]\nstartup_timeout_sec = 30\n",
        entry.display().to_string(),
        root.display().to_string()
    ));
    let out = p.gem().args(["mcp", "get", "fs"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let listing = stdout(&out);
    assert!(listing.contains("state:     ready"), "{listing}");
    assert!(
        listing.contains("mcp__fs__read_text_file [read-only]"),
        "{listing}"
    );
    assert!(listing.contains("mcp__fs__write_file"), "{listing}");

    // Read-only mode: the server marks read_text_file read-only, so no --allow is needed.
    let path = root.join("notes.txt").display().to_string();
    let read = format!(
        "<|tool_call>call:mcp__fs__read_text_file{{path:<|\"|>{path}<|\"|>}}<tool_call|><|tool_response>"
    );
    let out = p.run(&[&read, "It says teapot.<turn|>"], &["--mode", "read-only"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "It says teapot.\n");
    let prompts = p.prompts();
    assert!(
        prompts[1]
            .contains("response:mcp__fs__read_text_file{value:<|\"|>the secret word is teapot"),
        "{}",
        &prompts[1][prompts[1].len().saturating_sub(400)..]
    );
    // Writing is not read-only: denied.
    let write = format!(
        "<|tool_call>call:mcp__fs__write_file{{content:<|\"|>x<|\"|>,path:<|\"|>{path}<|\"|>}}<tool_call|><|tool_response>"
    );
    let out = p.run(&[&write, "Denied.<turn|>"], &["--mode", "read-only"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(root.join("notes.txt")).unwrap(),
        "the secret word is teapot\n"
    );
}
