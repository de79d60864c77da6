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
}

impl TokenSampler {
    /// `chain` must end in a selecting sampler (greedy or dist); `fallback` (end of text) is
    /// returned if nothing could be selected.
    pub(super) fn new(
        chain: LlamaSampler,
        grammar: Option<LlamaSampler>,
        fallback: LlamaToken,
    ) -> Self {
        Self {
            chain,
            grammar,
            fallback,
        }
    }

    /// Samples the next token from the logits at batch index `idx` and accepts it (into the
    /// grammar too), so it must not be accepted again.
    pub(super) fn sample(&mut self, ctx: &LlamaContext<'_>, idx: i32) -> LlamaToken {
        let Some(grammar) = self.grammar.as_mut() else {
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
