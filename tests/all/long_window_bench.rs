//! `gem bench --repo` on the real 270M weights: a project packed into the context, a cold start,
//! a warm start from the disk state, a follow-up after an edit, and the next start after that
//! edit, all through the binary.
//!
//! Timings are reported, never asserted; what is asserted is the token accounting the targets
//! rest on (the prefix restored whole, the follow-up prefilling only what is new) and that the
//! measured project itself is left untouched.

use crate::support;

use serde_json::Value;

/// A file quoting the test model's own control token: packing must keep it text.
const NOTES: &str =
    "# Notes\n\nGemma 3 turns start with <start_of_turn> and end with <end_of_turn>.\n";

/// `count` small functions named `prefix_N`.
fn functions(prefix: &str, count: usize) -> String {
    (0..count)
        .map(|i| format!("pub fn {prefix}_{i}(x: i32) -> i32 {{\n    x * {i} + 1\n}}\n\n"))
        .collect()
}

#[test]
fn bench_repo_reports_a_warm_start_and_a_small_follow_up_and_leaves_the_project_alone() {
    let _lock = support::model_lock();
    let Some(model) = support::real_model() else {
        return;
    };
    // Written in this order, so `util.rs` is the most recently modified file.
    let older = functions("legacy", 30);
    let util = functions("helper", 20);
    let project = support::git_project(&[
        ("older.rs", &older),
        ("lib.rs", support::BUGGY_ADD),
        ("notes.md", NOTES),
        ("util.rs", &util),
    ]);
    let cache = tempfile::tempdir().unwrap();
    let out = support::isolated_gem(cache.path())
        .args(["bench", "--json", "--ctx", "8192", "--repo"])
        .arg(project.path())
        .env("GEM_MODEL", &model)
        .timeout(std::time::Duration::from_secs(600))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();

    assert_eq!(report["pack"]["files"], 4, "{report}");
    let long = &report["long_window"];
    assert_eq!(long["packed_files"], 4, "everything fits: {long}");
    let prefix = long["prefix_tokens"].as_u64().unwrap();
    assert!(prefix > 1000, "{long}");

    let cold = &long["cold"];
    assert_eq!(cold["reused_tokens"], 0, "an empty cache: {cold}");
    assert_eq!(cold["prefilled_tokens"], cold["prompt_tokens"]);
    let warm = &long["warm"];
    assert_eq!(
        warm["prompt_tokens"], cold["prompt_tokens"],
        "the same prompt"
    );
    assert_eq!(warm["restored_tokens"].as_u64(), Some(prefix), "{warm}");
    assert_eq!(
        warm["prefilled_tokens"].as_u64().unwrap() + prefix,
        warm["prompt_tokens"].as_u64().unwrap(),
        "only the message is prefilled: {warm}"
    );
    assert!(long["state_file_bytes"].as_u64().unwrap() > 0);

    let followup = &long["followup"];
    assert!(
        followup["changed_file_tokens"].as_u64().unwrap() > 0,
        "{followup}"
    );
    assert_eq!(followup["within_target"], true, "{followup}");
    assert!(
        followup["request"]["reused_tokens"].as_u64().unwrap() > prefix,
        "the conversation so far is reused: {followup}"
    );

    // The next start after the edit restores the state kept before the recent files.
    let restart = &long["restart_after_edit"];
    let restored = restart["restored_tokens"].as_u64().unwrap();
    assert!(restored > 1000 && restored < prefix, "{restart}");
    assert_eq!(
        restored + restart["prefilled_tokens"].as_u64().unwrap(),
        restart["prompt_tokens"].as_u64().unwrap(),
        "{restart}"
    );

    // The scenario ran on a copy.
    assert_eq!(
        followup["edited_file"], "util.rs",
        "the newest file is edited: {followup}"
    );
    for (name, content) in [
        ("older.rs", older.as_str()),
        ("lib.rs", support::BUGGY_ADD),
        ("notes.md", NOTES),
        ("util.rs", util.as_str()),
    ] {
        assert_eq!(
            std::fs::read_to_string(project.path().join(name)).unwrap(),
            content
        );
    }
}
