//! The models on this machine: the Gemma 4 GGUFs other tools already keep (the Hugging Face
//! cache, llama.cpp's cache, LM Studio, Ollama — [`discover`]), what each file is (read from
//! its header only — [`catalog`], [`bundled`]), whether it fits this machine ([`fit`],
//! [`machine`]), which one gem uses when none is given ([`default_model`]), the aliases
//! `gem pull` takes ([`aliases`]), `gem models` ([`command`]) and `gem pull` itself ([`pull`]).

pub mod aliases;
pub mod bundled;
pub mod catalog;
pub mod command;
pub mod default_model;
pub mod discover;
pub mod fit;
pub mod hf_cache;
pub mod llama_cache;
pub mod lm_studio;
pub mod machine;
pub mod ollama;
pub mod pick_files;
pub mod pull;
pub mod pull_cache;
pub mod pull_command;
pub mod pull_error;
pub mod pull_hub;
pub mod pull_progress;
pub mod pull_progress_bar;
pub mod pull_progress_json;
pub mod pull_spec;
pub mod pull_transfer;
