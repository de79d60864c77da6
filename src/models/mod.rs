//! The models on this machine: the Gemma 4 GGUFs other tools already keep (the Hugging Face
//! cache, llama.cpp's cache, LM Studio, Ollama — [`discover`]), what each file is (read from
//! its header only — [`catalog`], [`bundled`]), whether it fits this machine ([`fit`],
//! [`machine`]), which one gem uses when none is given ([`default_model`]), the aliases
//! `gem pull` takes ([`aliases`]), `gem models` ([`command`]) and `gem pull` itself ([`pull`]).

pub(crate) mod aliases;
pub(crate) mod bundled;
pub mod catalog;
pub mod command;
pub(crate) mod default_model;
pub mod discover;
pub mod fit;
pub(crate) mod hf_cache;
pub(crate) mod llama_cache;
pub(crate) mod lm_studio;
pub mod machine;
pub(crate) mod ollama;
pub(crate) mod pick_files;
pub(crate) mod pull;
pub(crate) mod pull_cache;
pub mod pull_command;
pub(crate) mod pull_error;
pub(crate) mod pull_hub;
pub(crate) mod pull_progress;
pub(crate) mod pull_progress_bar;
pub(crate) mod pull_progress_json;
pub(crate) mod pull_spec;
pub(crate) mod pull_transfer;
