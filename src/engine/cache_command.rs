//! `gem cache ls|clear`: the disk KV cache (saved prompt states).

use crate::cli::CacheAction;
use crate::exec::exit_code;

/// Lists or clears the saved prompt states.
pub fn run(action: &CacheAction) -> anyhow::Result<i32> {
    let dir = crate::engine::config::default_state_dir()
        .ok_or_else(|| anyhow::anyhow!("no cache directory on this system"))?;
    match action {
        CacheAction::Ls => {
            let entries = crate::engine::state_cache::list(&dir);
            let total: u64 = entries.iter().map(|e| e.bytes).sum();
            for e in &entries {
                println!(
                    "{:>10} KiB  {:>7} tokens  idle {:>6}s  {}",
                    e.bytes / 1024,
                    e.n_tokens,
                    e.idle_secs,
                    e.path.display()
                );
            }
            println!(
                "{} files, {} MiB in {}",
                entries.len(),
                total >> 20,
                dir.display()
            );
        }
        CacheAction::Clear => {
            let freed = crate::engine::state_cache::clear(&dir);
            println!("freed {} MiB in {}", freed >> 20, dir.display());
        }
    }
    Ok(exit_code::SUCCESS)
}
