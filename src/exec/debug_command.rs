//! `gem debug render|parse|model-info`: the Gemma 4 renderer and parser on their own, and the
//! model's facts, for checking gem against other tools.

use std::io::Read;

use anyhow::Context;

use super::exit_code;
use crate::cli::{Cli, DebugAction};
use crate::setup::{FileConfig, engine_config, open_backend};

/// Runs one debug action.
pub fn run(cli: &Cli, file: &FileConfig, action: &DebugAction) -> anyhow::Result<i32> {
    match action {
        DebugAction::Render { input } => {
            let text = if input.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                s
            } else {
                std::fs::read_to_string(input)
                    .with_context(|| format!("reading {}", input.display()))?
            };
            let value: serde_json::Value =
                serde_json::from_str(&text).context("the input is not JSON")?;
            let chat = crate::gemma::OpenAiChat::from_json(&value)?;
            let (conversation, opts) = chat.to_conversation()?;
            print!("{}", crate::gemma::render(&conversation, &opts)?);
        }
        DebugAction::Parse => {
            let mut raw = String::new();
            std::io::stdin().read_to_string(&mut raw)?;
            let events =
                crate::gemma::StreamParser::parse_all(crate::gemma::ParseOptions::default(), &raw);
            print!("{}", crate::gemma::openai::events_to_jsonl(&events));
        }
        DebugAction::ModelInfo => {
            let config = engine_config(&cli.model, file)?;
            let (backend, _) = open_backend(&config)?;
            println!("{}", serde_json::to_string_pretty(backend.info())?);
        }
    }
    Ok(exit_code::SUCCESS)
}
