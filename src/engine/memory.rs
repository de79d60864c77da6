//! Fits the context to the machine's memory before llama.cpp allocates it.

use super::config::KvCacheKind;
use super::model_file::GgufFacts;

/// Estimated KV cache bytes per token of context (all layers treated as full attention, so the
/// estimate errs on the safe side for sliding-window models).
pub fn kv_bytes_per_token(facts: &GgufFacts, kv: KvCacheKind) -> u64 {
    let layers = u64::from(facts.block_count.unwrap_or(32));
    let heads = facts.head_count.unwrap_or(8).max(1);
    let kv_heads = u64::from(facts.head_count_kv.unwrap_or(heads));
    let head_dim = facts
        .key_length
        .or_else(|| facts.embedding_length.map(|e| e / heads))
        .unwrap_or(128);
    let value_dim = facts.value_length.unwrap_or(head_dim);
    let elements = layers * kv_heads * u64::from(head_dim + value_dim);
    (elements as f64 * kv.bytes_per_element()).ceil() as u64
}

/// Memory the OS says is available, in bytes (`None` when it cannot tell); `sysinfo` reads it
/// on Linux, macOS and Windows.
pub fn available_bytes() -> Option<u64> {
    ram().1
}

/// Total and available RAM in bytes, read together, each `None` when the OS does not say
/// (reported as zero on an unsupported system).
pub fn ram() -> (Option<u64>, Option<u64>) {
    let mut system = sysinfo::System::new();
    system.refresh_memory();
    let known = |bytes: u64| (bytes > 0).then_some(bytes);
    (
        known(system.total_memory()),
        known(system.available_memory()),
    )
}

/// The outcome of fitting a context size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextFit {
    /// The context to use.
    pub context: usize,
    /// Set when it was reduced from the trained maximum, saying why.
    pub note: Option<String>,
}

/// Picks the context: the requested one if it fits (else an error value), or the trained
/// maximum reduced to what fits.
///
/// Returns `Err((needed, available, fits))` when an explicitly requested size does not fit.
pub fn fit_context(
    requested: Option<usize>,
    trained: usize,
    model_bytes: u64,
    per_token: u64,
    available: Option<u64>,
) -> Result<ContextFit, (u64, u64, usize)> {
    // Leave headroom for compute buffers and the rest of the system.
    let budget = available.map(|a| (a as f64 * 0.85) as u64);
    let fits = |ctx: usize| match budget {
        Some(b) => model_bytes + per_token * ctx as u64 <= b,
        None => true,
    };
    let largest = || match budget {
        Some(b) if b > model_bytes => ((b - model_bytes) / per_token.max(1)) as usize,
        Some(_) => 0,
        None => usize::MAX,
    };
    match requested {
        Some(ctx) if fits(ctx) => Ok(ContextFit {
            context: ctx,
            note: None,
        }),
        Some(ctx) => Err((
            model_bytes + per_token * ctx as u64,
            available.unwrap_or(0),
            round_down(largest().min(trained)),
        )),
        None if fits(trained) => Ok(ContextFit {
            context: trained,
            note: None,
        }),
        None => {
            let context = round_down(largest()).max(512);
            Ok(ContextFit {
                context,
                note: Some(format!(
                    "context reduced from the trained {trained} to {context} tokens to fit in memory"
                )),
            })
        }
    }
}

fn round_down(ctx: usize) -> usize {
    ctx / 256 * 256
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trained_context_is_used_when_it_fits() {
        let fit = fit_context(None, 8192, 1 << 20, 1024, Some(1 << 30)).unwrap();
        assert_eq!(fit.context, 8192);
        assert!(fit.note.is_none());
    }

    #[test]
    fn the_default_is_reduced_and_says_so() {
        // 100 MiB available, 10 MiB model, 64 KiB per token → (85 - 10) MiB / 64 KiB ≈ 1210.
        let fit = fit_context(None, 131072, 10 << 20, 64 << 10, Some(100 << 20)).unwrap();
        assert_eq!(fit.context, 1024);
        assert!(fit.note.unwrap().contains("131072"));
    }

    #[test]
    fn an_explicit_request_that_does_not_fit_is_an_error_with_what_fits() {
        let (needed, _, fits) =
            fit_context(Some(131072), 131072, 10 << 20, 64 << 10, Some(100 << 20)).unwrap_err();
        assert!(needed > 100 << 20);
        assert_eq!(fits, 1024);
    }

    #[test]
    fn kv_estimate_uses_head_dims() {
        let facts = GgufFacts {
            block_count: Some(2),
            head_count: Some(4),
            head_count_kv: Some(1),
            key_length: Some(64),
            ..GgufFacts::default()
        };
        assert_eq!(kv_bytes_per_token(&facts, KvCacheKind::F16), 2 * 128 * 2);
    }
}
