//! Token sampling with an optional grammar, checked the cheap way first.
//!
//! Applying a grammar to the whole vocabulary (262,144 entries for Gemma) at every step is slow.
//! As llama.cpp's own common sampler does, the token is first sampled without the grammar and
//! only checked against it; only when the grammar rejects it is the grammar applied to every
//! candidate and the token sampled again. The result is the same distribution restricted to what
//! the grammar allows.

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;

/// A sampling chain plus an optional grammar.
pub(super) struct TokenSampler {
    chain: LlamaSampler,
    grammar: Option<LlamaSampler>,
    fallback: LlamaToken,
    greedy: bool,
}

impl TokenSampler {
    /// `chain` must end in a selecting sampler (greedy or dist); `fallback` (end of text) is
    /// returned if nothing could be selected. `greedy` says the chain is a plain greedy
    /// sampler: without a grammar the token is then the argmax of the logits, read directly (no
    /// candidate array of the whole vocabulary per token).
    pub(super) fn new(
        chain: LlamaSampler,
        grammar: Option<LlamaSampler>,
        fallback: LlamaToken,
        greedy: bool,
    ) -> Self {
        Self {
            chain,
            grammar,
            fallback,
            greedy,
        }
    }

    /// Samples the next token from the logits at batch index `idx` and accepts it (into the
    /// grammar too), so it must not be accepted again.
    pub(super) fn sample(&mut self, ctx: &LlamaContext<'_>, idx: i32) -> LlamaToken {
        let Some(grammar) = self.grammar.as_mut() else {
            if self.greedy {
                return argmax(ctx.get_logits_ith(idx)).map_or(self.fallback, LlamaToken);
            }
            return self.chain.sample(ctx, idx);
        };
        let mut candidates = ctx.token_data_array_ith(idx);
        candidates.apply_sampler(&mut self.chain);
        let mut token = candidates.selected_token();
        let allowed = token.is_some_and(|t| {
            let mut single =
                LlamaTokenDataArray::new(vec![LlamaTokenData::new(t, 1.0, 0.0)], false);
            grammar.apply(&mut single);
            single.data[0].logit().is_finite()
        });
        if !allowed {
            let mut candidates = ctx.token_data_array_ith(idx);
            grammar.apply(&mut candidates);
            candidates.apply_sampler(&mut self.chain);
            token = candidates.selected_token();
        }
        // No candidate at all cannot happen with a selecting chain; fall back to end of text.
        let token = token.unwrap_or(self.fallback);
        grammar.accept(token);
        self.chain.accept(token);
        token
    }
}

/// Index of the largest logit (the first one on ties, as llama.cpp's greedy sampler does).
fn argmax(logits: &[f32]) -> Option<i32> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &l) in logits.iter().enumerate() {
        if best.is_none_or(|(_, b)| l > b) {
            best = Some((i, l));
        }
    }
    best.and_then(|(i, _)| i32::try_from(i).ok())
}

#[cfg(test)]
mod tests {
    use super::argmax;

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[0.1, 3.0, -1.0, 3.0]), Some(1));
        assert_eq!(argmax(&[]), None);
    }
}
