//! Loading a GGUF file: pre-checks, memory fit, llama.cpp load, model facts.

use std::sync::{Arc, OnceLock};

use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;

use super::logs;
use crate::engine::model_file::{self, GgufFacts};
use crate::engine::model_info::{self, ModelInfo};
use crate::engine::{EngineConfig, EngineError, memory};

/// A loaded model and what the engine thread needs to build its context.
pub(super) struct Loaded {
    pub model: Arc<LlamaModel>,
    pub controls: Arc<super::control_tokens::ControlTokens>,
    pub info: ModelInfo,
    pub config: EngineConfig,
    pub model_id: String,
}

/// The process-wide llama.cpp backend (it can be initialised only once per process, so
/// everything in gem's process that loads a model or a vocabulary goes through this one).
pub fn backend() -> Result<&'static LlamaBackend, EngineError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            logs::install();
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| EngineError::Llama(format!("backend init: {e}")))
}

/// Validates, fits and loads the model named by `config`.
pub(super) fn load(config: &EngineConfig) -> Result<Loaded, EngineError> {
    let path = config.model.as_path();
    let facts = model_file::inspect(path)?;
    let backend = backend()?;
    let trained = facts.context_length.unwrap_or(8192) as usize;
    let per_token = memory::kv_bytes_per_token(&facts, config.kv_cache);
    let fit = memory::fit_context(
        config.context,
        trained,
        facts.file_bytes,
        per_token,
        memory::available_bytes(),
    )
    .map_err(|(needed, available, fits)| EngineError::OutOfMemory {
        requested: config.context.unwrap_or(trained),
        needed_mib: needed >> 20,
        available_mib: available >> 20,
        fits,
    })?;
    let gpu_layers = config
        .gpu_layers
        .unwrap_or(if backend.supports_gpu_offload() {
            999
        } else {
            0
        });
    let params = LlamaModelParams::default().with_n_gpu_layers(gpu_layers);
    let model = logs::capture(|| LlamaModel::load_from_file(backend, path, &params))
        .map_err(|_| classify_load_failure(&facts, config))?;
    let parameters = model.n_params();
    let info = ModelInfo {
        name: facts.name.clone().unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        }),
        path: model_file::absolute(path),
        architecture: facts.architecture.clone(),
        size_class: model_info::size_class(&facts, parameters),
        parameters,
        file_bytes: facts.file_bytes,
        trained_context: trained,
        context_size: fit.context,
        quantization: model_info::quantization_name(facts.file_type),
        layers: model.n_layer(),
        sliding_window: facts.sliding_window,
        chat_template: facts.chat_template.clone(),
        context_note: fit.note,
    };
    let model_id = model_file::identity(path)
        .map_err(|e| EngineError::Llama(format!("reading {}: {e}", path.display())))?;
    let controls = Arc::new(super::control_tokens::ControlTokens::of(&model));
    Ok(Loaded {
        controls,
        model: Arc::new(model),
        info,
        config: config.clone(),
        model_id,
    })
}

fn classify_load_failure(facts: &GgufFacts, config: &EngineConfig) -> EngineError {
    let detail = logs::last_errors().unwrap_or_else(|| "llama.cpp could not load it".into());
    let path = config.model.clone();
    if detail.contains("unknown model architecture") {
        EngineError::UnsupportedArchitecture {
            path,
            architecture: facts.architecture.clone(),
        }
    } else {
        EngineError::CorruptModel { path, detail }
    }
}
