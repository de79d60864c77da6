//! The texts of a vocabulary's control tokens, to tell whether conversation text contains one
//! (see [`crate::engine::prompt_pieces`]).

use aho_corasick::AhoCorasick;
use llama_cpp_2::model::LlamaModel;

/// A finder for the control tokens' texts (`<|turn>`, `<start_of_turn>`, `<bos>`, …).
pub(crate) struct ControlTokens {
    finder: Option<AhoCorasick>,
}

impl ControlTokens {
    /// Collects every control token of `model`'s vocabulary.
    pub(crate) fn of(model: &LlamaModel) -> ControlTokens {
        let vocab = model.vocab();
        let texts: Vec<Vec<u8>> = vocab
            .tokens()
            .filter(|&token| vocab.is_control(token))
            .filter_map(|token| vocab.text(token).map(|t| t.to_bytes().to_vec()))
            .filter(|text| !text.is_empty())
            .collect();
        // Building fails only for pattern sets too large for the automaton; then no text is
        // treated as holding control tokens and prompts tokenize as before.
        let finder = (!texts.is_empty())
            .then(|| AhoCorasick::new(&texts).ok())
            .flatten();
        ControlTokens { finder }
    }

    /// Whether `text` contains the text of a control token.
    pub(crate) fn found_in(&self, text: &str) -> bool {
        self.finder
            .as_ref()
            .is_some_and(|finder| finder.is_match(text))
    }
}
