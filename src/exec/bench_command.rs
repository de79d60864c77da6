//! `gem bench`: the engine's speed figures (prompt, generation, follow-up reuse, warm start),
//! and with `--repo PATH` the packing and long-window figures on a real repository.

use super::exit_code;
use crate::cli::Cli;
use crate::setup::{FileConfig, engine_config};

/// `gem bench`: prints (or `--json`) the engine report for the model in `cli`.
pub fn run(
    cli: &Cli,
    file: &FileConfig,
    prompt: usize,
    generate: usize,
    followup: usize,
    json: bool,
) -> anyhow::Result<i32> {
    let config = engine_config(&cli.model, file)?;
    let params = crate::engine::bench::BenchParams {
        prompt_tokens: prompt,
        gen_tokens: generate,
        followup_tokens: followup,
    };
    let report = crate::engine::bench::run(&config, &params, &mut |stage| {
        eprintln!("gem bench: {stage}…")
    })?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("model            {}", report.model);
        println!("threads          {}", report.threads);
        println!("prompt           {:.1} tok/s", report.pp_tok_s);
        println!("generation       {:.1} tok/s", report.tg_tok_s);
        println!(
            "follow-up        {} reused, {} prefilled: {:.0} ms vs {:.0} ms fresh ({:.1}x)",
            report.followup_reused_tokens,
            report.followup_prefilled_tokens,
            report.followup_ms,
            report.fresh_ms,
            report.followup_speedup
        );
        println!(
            "warm start       {:.0} ms restoring the state (read from {}) vs {:.0} ms prefill ({:.1}x)",
            report.warm_start_ms,
            report.warm_start_read,
            report.cold_prefill_ms,
            report.warm_start_speedup,
        );
        println!(
            "state write      {:.0} ms after the cold prefill, {} KiB",
            report.state_write_ms,
            report.state_file_bytes / 1024
        );
        println!("peak memory      {:.0} MiB", report.peak_rss_mib);
    }
    Ok(exit_code::SUCCESS)
}

/// `gem bench --repo PATH`: packing figures, then the long-window scenarios on a copy.
pub fn run_repo(
    cli: &Cli,
    file: &FileConfig,
    repo: &std::path::Path,
    pack_only: bool,
    json: bool,
) -> anyhow::Result<i32> {
    use crate::repo::thousands as tokens;
    let config = engine_config(&cli.model, file)?;
    let stats = {
        let backend = crate::engine::open(&config)?;
        let counter = |s: &str| backend.count_tokens(s).unwrap_or(s.len() / 4);
        crate::repo::pack_stats(repo, &counter)?
    };
    let long = if pack_only {
        None
    } else {
        Some(crate::exec::long_window_bench::run(
            &config,
            repo,
            &mut |stage| eprintln!("gem bench: {stage}…"),
        )?)
    };
    if json {
        let report = serde_json::json!({ "pack": stats, "long_window": long });
        println!("{}", serde_json::to_string(&report)?);
        return Ok(exit_code::SUCCESS);
    }
    println!(
        "repository       {} files, {} tokens ({:.0} per file); walk {:.0} ms, tokenize {:.0} ms",
        stats.files,
        tokens(stats.tokens),
        stats.tokens_per_file,
        stats.walk_ms,
        stats.tokenize_ms
    );
    let Some(r) = long else {
        return Ok(exit_code::SUCCESS);
    };
    println!("model            {}", r.model);
    println!(
        "packed           {} files + {} mapped, {} tokens; prefix {} tokens of a {} context",
        r.packed_files,
        r.mapped_files,
        tokens(r.repository_tokens),
        tokens(r.prefix_tokens),
        tokens(r.context_size)
    );
    println!(
        "cold start       first token after {:.0} ms ({} tokens prefilled)",
        r.cold.time_to_first_token_ms,
        tokens(r.cold.prefilled_tokens)
    );
    println!(
        "warm start       first token after {:.0} ms ({} restored from disk, {} prefilled): {:.1}x faster, state {} MiB",
        r.warm.time_to_first_token_ms,
        tokens(r.warm.restored_tokens),
        tokens(r.warm.prefilled_tokens),
        r.warm_start_speedup,
        r.state_file_bytes >> 20
    );
    let f = &r.followup;
    println!(
        "follow-up edit   {} prefilled after editing {}: message {} + changed file {}, target ≤ {}: {}",
        tokens(f.request.prefilled_tokens),
        f.edited_file,
        tokens(f.message_tokens),
        tokens(f.changed_file_tokens),
        tokens(f.allowed_tokens),
        if f.within_target { "met" } else { "missed" }
    );
    let a = &r.restart_after_edit;
    println!(
        "restart (edited) first token after {:.0} ms ({} restored from disk, {} prefilled)",
        a.time_to_first_token_ms,
        tokens(a.restored_tokens),
        tokens(a.prefilled_tokens)
    );
    Ok(exit_code::SUCCESS)
}
