//! This machine's memory figures for the fit and proposal rules ([`super::fit`]).
//!
//! What can be read: total and available RAM (`sysinfo`: Linux, macOS, Windows; elsewhere both
//! are unknown and every fit is "unknown"), and — only when gem is built with a GPU backend (cuda,
//! metal, vulkan) — each GPU's total and free memory as llama.cpp's device list reports it. A
//! CPU build has no VRAM to read: RAM is the budget.

use super::fit::{GpuMemory, MemoryFigures};

/// Whether gem was built with a GPU backend.
pub const GPU_BACKEND: bool = cfg!(any(feature = "cuda", feature = "metal", feature = "vulkan"));

/// Reads this machine's memory figures.
pub fn memory_figures() -> MemoryFigures {
    let (ram_total, ram_available) = crate::engine::memory::ram();
    MemoryFigures {
        ram_total,
        ram_available,
        gpu: if GPU_BACKEND { largest_gpu() } else { None },
        gpu_backend: GPU_BACKEND,
    }
}

/// The GPU (discrete or integrated) with the most free memory, as llama.cpp lists them.
fn largest_gpu() -> Option<GpuMemory> {
    use llama_cpp_2::LlamaBackendDeviceType as Kind;
    crate::engine::llama::logs::capture(llama_cpp_2::list_llama_ggml_backend_devices)
        .into_iter()
        .filter(|d| matches!(d.device_type, Kind::Gpu | Kind::IntegratedGpu))
        .max_by_key(|d| d.memory_free)
        .map(|d| GpuMemory {
            name: if d.description.is_empty() {
                d.name
            } else {
                d.description
            },
            total: d.memory_total as u64,
            free: d.memory_free as u64,
        })
}

/// One line for people: "RAM 20.1 GiB available of 23.4 GiB; no GPU backend built in".
pub fn describe(memory: &MemoryFigures) -> String {
    use super::fit::human_bytes;
    let ram = match (memory.ram_available, memory.ram_total) {
        (Some(available), Some(total)) => format!(
            "RAM {} available of {}",
            human_bytes(available),
            human_bytes(total)
        ),
        _ => "RAM unknown".into(),
    };
    let gpu = match (&memory.gpu, memory.gpu_backend) {
        (Some(gpu), _) => format!(
            "GPU {}: {} free of {}",
            gpu.name,
            human_bytes(gpu.free),
            human_bytes(gpu.total)
        ),
        (None, true) => "no GPU found".into(),
        (None, false) => "VRAM unknown (no GPU backend built in)".into(),
    };
    format!("{ram}; {gpu}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_machine_reports_its_ram_on_linux() {
        let memory = memory_figures();
        if cfg!(target_os = "linux") {
            let (total, available) = (memory.ram_total.unwrap(), memory.ram_available.unwrap());
            assert!(available <= total && total > 0);
        }
        assert_eq!(memory.gpu_backend, GPU_BACKEND);
        assert!(describe(&memory).contains("RAM"));
    }
}
