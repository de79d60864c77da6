//! The token ledger: exactly which tokens the KV cache holds, and what a new prompt can reuse.

/// The tokens whose KV entries sit at positions `0..len` of sequence 0.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Ledger {
    tokens: Vec<u32>,
}

/// How to serve a prompt from the current cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReusePlan {
    /// Tokens kept from the cache (a prefix of the prompt).
    pub keep: usize,
    /// Whether cached tokens after `keep` must be removed first.
    pub rollback: bool,
}

impl Ledger {
    /// Number of cached tokens (= the next position).
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Records a token decoded at the next position.
    pub fn push(&mut self, token: u32) {
        self.tokens.push(token);
    }

    /// Records tokens decoded at the next positions.
    pub fn extend(&mut self, tokens: &[u32]) {
        self.tokens.extend_from_slice(tokens);
    }

    /// Forgets everything from position `len` on.
    pub fn truncate(&mut self, len: usize) {
        self.tokens.truncate(len);
    }

    /// Replaces the contents (after restoring a saved state).
    pub fn replace(&mut self, tokens: Vec<u32>) {
        self.tokens = tokens;
    }

    /// How many leading tokens of `prompt` the cache holds already (their state can be saved
    /// without computing anything).
    pub fn held_prefix(&self, prompt: &[u32]) -> usize {
        common_prefix(&self.tokens, prompt)
    }

    /// Plans reuse for `prompt`: keep the longest common prefix, but always leave at least one
    /// prompt token to decode, because its logits start the generation.
    pub fn plan(&self, prompt: &[u32]) -> ReusePlan {
        let common = common_prefix(&self.tokens, prompt);
        let keep = common.min(prompt.len().saturating_sub(1));
        ReusePlan {
            keep,
            rollback: keep < self.tokens.len(),
        }
    }
}

/// Length of the longest common prefix of `a` and `b`.
pub fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_held_prefix_is_what_an_interrupted_prefill_computed() {
        let mut ledger = Ledger::default();
        // A prefill of [1..=6] interrupted after four tokens.
        ledger.extend(&[1, 2, 3, 4]);
        assert_eq!(ledger.held_prefix(&[1, 2, 3, 4, 5, 6]), 4);
        // Generated tokens the rendered conversation spells differently are not held.
        ledger.extend(&[7, 8]);
        assert_eq!(ledger.held_prefix(&[1, 2, 3, 4, 7, 9, 10]), 5);
        assert_eq!(ledger.held_prefix(&[9]), 0);
        assert_eq!(Ledger::default().held_prefix(&[1, 2]), 0);
    }

    #[test]
    fn an_extended_prompt_keeps_everything_cached() {
        let mut ledger = Ledger::default();
        ledger.extend(&[1, 2, 3]);
        let plan = ledger.plan(&[1, 2, 3, 4, 5]);
        assert_eq!(
            plan,
            ReusePlan {
                keep: 3,
                rollback: false
            }
        );
    }

    #[test]
    fn a_diverging_prompt_rolls_back_to_the_common_prefix() {
        let mut ledger = Ledger::default();
        ledger.extend(&[1, 2, 3, 4]);
        let plan = ledger.plan(&[1, 2, 9, 9]);
        assert_eq!(
            plan,
            ReusePlan {
                keep: 2,
                rollback: true
            }
        );
    }

    #[test]
    fn an_identical_prompt_recomputes_its_last_token() {
        let mut ledger = Ledger::default();
        ledger.extend(&[1, 2, 3]);
        let plan = ledger.plan(&[1, 2, 3]);
        assert_eq!(
            plan,
            ReusePlan {
                keep: 2,
                rollback: true
            }
        );
    }

    #[test]
    fn an_empty_cache_keeps_nothing() {
        let plan = Ledger::default().plan(&[7, 8]);
        assert_eq!(
            plan,
            ReusePlan {
                keep: 0,
                rollback: false
            }
        );
    }
}
