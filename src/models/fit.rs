//! Whether a model fits this machine, and which Gemma 4 to propose to a machine that has none.
//!
//! Both rules are pure functions over memory figures ([`MemoryFigures`]), so they are tested on
//! synthetic machines; [`super::machine`] reads the real figures.
//!
//! **Fit rule.** The weights (the file size) plus the KV cache must fit in the memory the model
//! runs in: the free VRAM of the largest GPU when gem is built with a GPU backend and one is
//! found (the engine offloads every layer then), else the RAM the OS reports available. The KV
//! cache is estimated as the engine does (`engine::memory::kv_bytes_per_token`, every layer
//! counted as full attention) and the headroom is the engine's own (`engine::memory::
//! fit_context`: 85% of the memory is usable). A model fits when it fits with at least
//! [`MIN_USEFUL_CONTEXT`] tokens (or its whole trained context, if that is shorter); the
//! context it would get by default is the trained maximum reduced to what fits, as the engine
//! does when it loads it.
//!
//! **Proposal rule** (a machine with no Gemma 4): [`propose`].

use crate::engine::memory;

use super::aliases::{self, ModelAlias};

/// The smallest context worth running the agent in: its system prompt and tool declarations
/// take a few thousand tokens before the repository and the conversation.
pub const MIN_USEFUL_CONTEXT: usize = 16_384;

const GIB: u64 = 1 << 30;

/// The memory of a machine, as far as it can be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MemoryFigures {
    /// Total RAM in bytes.
    pub ram_total: Option<u64>,
    /// RAM the OS reports available in bytes.
    pub ram_available: Option<u64>,
    /// The largest GPU llama.cpp sees, when gem is built with a GPU backend.
    pub gpu: Option<GpuMemory>,
    /// Whether gem was built with a GPU backend (cuda, metal, vulkan).
    pub gpu_backend: bool,
}

/// One GPU's memory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GpuMemory {
    /// The device's description.
    pub name: String,
    /// Total memory in bytes.
    pub total: u64,
    /// Free memory in bytes.
    pub free: u64,
}

/// Where the weights and the KV cache live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemoryKind {
    /// System RAM (a CPU build, or no GPU found).
    Ram,
    /// The GPU's memory.
    Vram,
}

impl MemoryKind {
    /// `RAM` or `VRAM`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ram => "RAM",
            Self::Vram => "VRAM",
        }
    }
}

/// The fit rule's verdict for one model.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Fit {
    /// It fits; by default it gets `context` tokens (`trained` when nothing is cut).
    Fits {
        /// The memory it runs in.
        memory: MemoryKind,
        /// The context the engine would give it by default.
        context: usize,
        /// The trained maximum.
        trained: usize,
    },
    /// It does not fit even with the minimum useful context.
    TooLarge {
        /// The memory it would run in.
        memory: MemoryKind,
        /// Bytes it needs (weights + KV cache at the minimum useful context).
        needed: u64,
        /// Bytes available.
        available: u64,
    },
    /// The machine's memory cannot be read.
    Unknown,
}

impl Fit {
    /// `Some(true)` when it fits, `Some(false)` when it does not, `None` when unknown.
    pub fn fits(&self) -> Option<bool> {
        match self {
            Self::Fits { .. } => Some(true),
            Self::TooLarge { .. } => Some(false),
            Self::Unknown => None,
        }
    }

    /// One line for people: "fits in RAM at 32768 of 131072 tokens".
    pub fn describe(&self) -> String {
        match self {
            Self::Fits {
                memory,
                context,
                trained,
            } if context >= trained => {
                format!(
                    "fits in {} with its full {trained}-token context",
                    memory.label()
                )
            }
            Self::Fits {
                memory,
                context,
                trained,
            } => format!(
                "fits in {} at {context} of {trained} tokens",
                memory.label()
            ),
            Self::TooLarge {
                memory,
                needed,
                available,
            } => format!(
                "does not fit: needs {} with a {MIN_USEFUL_CONTEXT}-token context, {} {} available",
                human_bytes(*needed),
                human_bytes(*available),
                memory.label()
            ),
            Self::Unknown => "fit unknown (this machine's memory cannot be read)".into(),
        }
    }
}

/// The fit rule: a model of `model_bytes` whose KV cache takes `kv_bytes_per_token`, trained for
/// `trained` tokens, on a machine with `memory`. `requested` is an explicit `--ctx`, checked
/// instead of the minimum useful context.
pub fn fit(
    model_bytes: u64,
    kv_bytes_per_token: u64,
    trained: usize,
    requested: Option<usize>,
    memory: &MemoryFigures,
) -> Fit {
    let (kind, available) = match &memory.gpu {
        Some(gpu) => (MemoryKind::Vram, Some(gpu.free)),
        None => (MemoryKind::Ram, memory.ram_available),
    };
    let Some(available) = available else {
        return Fit::Unknown;
    };
    let minimum = requested.unwrap_or(MIN_USEFUL_CONTEXT.min(trained));
    let check = |ctx| {
        memory::fit_context(
            Some(ctx),
            trained,
            model_bytes,
            kv_bytes_per_token,
            Some(available),
        )
    };
    if let Err((needed, available, _)) = check(minimum) {
        return Fit::TooLarge {
            memory: kind,
            needed,
            available,
        };
    }
    let context = match requested {
        Some(ctx) => ctx,
        None => memory::fit_context(
            None,
            trained,
            model_bytes,
            kv_bytes_per_token,
            Some(available),
        )
        .map_or(minimum, |f| f.context),
    };
    Fit::Fits {
        memory: kind,
        context,
        trained,
    }
}

/// VRAM (total) from which the 31B is proposed: its Q4_K_M weights are ~18.7 GB, and a long
/// context needs room beside them (a 32 GB card).
pub const VRAM_FOR_31B: u64 = 30 * GIB;
/// VRAM (total) from which the 26B-A4B is proposed: ~16.8 GB of Q4_K_M weights (a 24 GB card).
pub const VRAM_FOR_26B: u64 = 22 * GIB;
/// Total RAM from which the E4B is proposed: "12 GB" machines report about 11.5 GiB.
pub const RAM_FOR_E4B: u64 = 11 * GIB;

/// The model proposed for a machine, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Proposal {
    /// The alias to pull.
    pub alias: &'static ModelAlias,
    /// The rule that chose it, with this machine's figures.
    pub reason: String,
}

impl Proposal {
    /// The exact command that downloads it.
    pub fn pull_command(&self) -> String {
        format!("gem pull {}", self.alias.alias)
    }
}

/// The proposal rule for a machine with no Gemma 4: the 31B with a GPU of ≥ 30 GiB, the
/// 26B-A4B with a GPU of ≥ 22 GiB, the E4B with ≥ 11 GiB of total RAM ("12 GB" machines),
/// else — or when the memory cannot be read — the E2B.
pub fn propose(memory: &MemoryFigures) -> Proposal {
    let pick = |alias: &str, reason: String| Proposal {
        alias: aliases::find(alias).unwrap_or(&aliases::ALIASES[0]),
        reason,
    };
    if let Some(gpu) = &memory.gpu {
        let vram = human_bytes(gpu.total);
        if gpu.total >= VRAM_FOR_31B {
            return pick("31b", format!("{vram} of VRAM ({}) ≥ 30 GiB", gpu.name));
        }
        if gpu.total >= VRAM_FOR_26B {
            return pick("26b", format!("{vram} of VRAM ({}) ≥ 22 GiB", gpu.name));
        }
    }
    match memory.ram_total {
        Some(ram) if ram >= RAM_FOR_E4B => {
            pick("e4b", format!("{} of RAM ≥ 12 GB", human_bytes(ram)))
        }
        Some(ram) => pick("e2b", format!("{} of RAM < 12 GB", human_bytes(ram))),
        None => pick("e2b", "this machine's memory cannot be read".into()),
    }
}

/// `2.7 MiB`, `4.6 GiB`.
pub fn human_bytes(bytes: u64) -> String {
    if bytes >= GIB {
        format!("{:.1} GiB", bytes as f64 / GIB as f64)
    } else if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    } else if bytes >= 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ram(total_gib: u64, available_gib: u64) -> MemoryFigures {
        MemoryFigures {
            ram_total: Some(total_gib * GIB),
            ram_available: Some(available_gib * GIB),
            gpu: None,
            gpu_backend: false,
        }
    }

    fn with_gpu(memory: MemoryFigures, total_gib: u64, free_gib: u64) -> MemoryFigures {
        MemoryFigures {
            gpu: Some(GpuMemory {
                name: "Test GPU".into(),
                total: total_gib * GIB,
                free: free_gib * GIB,
            }),
            gpu_backend: true,
            ..memory
        }
    }

    /// An E4B-like file: 5 GB of weights, 84 KiB of KV cache per token, 128k trained.
    const E4B_BYTES: u64 = 5_000_000_000;
    const E4B_KV: u64 = 84 << 10;

    #[test]
    fn a_model_with_room_for_its_whole_context_gets_it() {
        let fit = fit(E4B_BYTES, E4B_KV, 131_072, None, &ram(64, 60));
        assert_eq!(
            fit,
            Fit::Fits {
                memory: MemoryKind::Ram,
                context: 131_072,
                trained: 131_072
            }
        );
        assert!(fit.describe().contains("full 131072-token context"));
    }

    #[test]
    fn a_model_that_fits_only_a_shorter_context_gets_what_fits() {
        // 16 GiB available: 13.6 GiB usable, 5 GB of weights, ~8.9 GiB for 84 KiB tokens.
        let fit = fit(E4B_BYTES, E4B_KV, 131_072, None, &ram(16, 16));
        let Fit::Fits { context, .. } = fit else {
            panic!("{fit:?}")
        };
        assert!(
            (MIN_USEFUL_CONTEXT..131_072).contains(&context),
            "{context}"
        );
        assert_eq!(context % 256, 0);
    }

    #[test]
    fn a_model_without_room_for_the_minimum_context_does_not_fit() {
        let fit = fit(E4B_BYTES, E4B_KV, 131_072, None, &ram(8, 5));
        let Fit::TooLarge {
            memory,
            needed,
            available,
        } = fit
        else {
            panic!("{fit:?}")
        };
        assert_eq!(memory, MemoryKind::Ram);
        assert_eq!(needed, E4B_BYTES + E4B_KV * MIN_USEFUL_CONTEXT as u64);
        assert_eq!(available, 5 * GIB);
        assert_eq!(fit.fits(), Some(false));
    }

    #[test]
    fn with_a_gpu_the_free_vram_decides() {
        // Plenty of RAM, but a 4 GiB card: the engine offloads every layer, so it does not fit.
        let small_card = with_gpu(ram(64, 60), 4, 3);
        assert_eq!(
            fit(E4B_BYTES, E4B_KV, 131_072, None, &small_card).fits(),
            Some(false)
        );
        let big_card = with_gpu(ram(8, 4), 24, 22);
        let verdict = fit(E4B_BYTES, E4B_KV, 131_072, None, &big_card);
        assert!(matches!(
            verdict,
            Fit::Fits {
                memory: MemoryKind::Vram,
                ..
            }
        ));
    }

    #[test]
    fn an_explicit_context_is_checked_instead_of_the_minimum() {
        let memory = ram(16, 16);
        assert_eq!(
            fit(E4B_BYTES, E4B_KV, 131_072, Some(8192), &memory),
            Fit::Fits {
                memory: MemoryKind::Ram,
                context: 8192,
                trained: 131_072
            }
        );
        assert_eq!(
            fit(E4B_BYTES, E4B_KV, 131_072, Some(131_072), &memory).fits(),
            Some(false)
        );
    }

    #[test]
    fn a_short_trained_context_is_its_own_minimum() {
        // A tiny model trained for 8192 tokens fits with all of them.
        let fit = fit(3 << 20, 1024, 8192, None, &ram(1, 1));
        assert_eq!(fit.fits(), Some(true));
    }

    #[test]
    fn unreadable_memory_is_unknown() {
        let fit = fit(E4B_BYTES, E4B_KV, 131_072, None, &MemoryFigures::default());
        assert_eq!(fit, Fit::Unknown);
        assert_eq!(fit.fits(), None);
    }

    #[test]
    fn the_proposal_follows_vram_then_ram() {
        let alias = |m: &MemoryFigures| propose(m).alias.alias;
        assert_eq!(alias(&with_gpu(ram(64, 60), 80, 79)), "31b");
        assert_eq!(alias(&with_gpu(ram(64, 60), 32, 31)), "31b");
        assert_eq!(alias(&with_gpu(ram(32, 30), 24, 23)), "26b");
        // A small card does not help: the RAM rule applies.
        assert_eq!(alias(&with_gpu(ram(32, 30), 8, 7)), "e4b");
        assert_eq!(alias(&ram(16, 10)), "e4b");
        assert_eq!(alias(&ram(12, 10)), "e4b");
        assert_eq!(alias(&ram(8, 6)), "e2b");
        assert_eq!(alias(&MemoryFigures::default()), "e2b");
    }

    #[test]
    fn the_proposal_says_why_and_how() {
        let proposal = propose(&ram(24, 20));
        assert_eq!(proposal.pull_command(), "gem pull e4b");
        assert_eq!(proposal.reason, "24.0 GiB of RAM ≥ 12 GB");
        let gpu = propose(&with_gpu(ram(64, 60), 24, 23));
        assert!(gpu.reason.contains("Test GPU"), "{}", gpu.reason);
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(2_799_904), "2.7 MiB");
        assert_eq!(human_bytes(5_000_000_000), "4.7 GiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(11), "11 B");
    }
}
