//! Keeps keys typed before an approval overlay was visible out of it.
//!
//! A user typing the next message when the overlay pops up would otherwise answer it with
//! whatever letter came next (`n` denies, `e` edits). The overlay takes no key for
//! [`GRACE`] after it appears, nor while a typing burst that began before it goes on (keys
//! less than [`BURST_GAP`] apart); those keys belong to the composer.

use std::time::{Duration, Instant};

/// How long a fresh overlay takes no keys.
pub const GRACE: Duration = Duration::from_millis(400);
/// Keys closer together than this are one typing burst (or a paste).
pub const BURST_GAP: Duration = Duration::from_millis(250);

/// Tracks recent keys and when the overlay appeared.
#[derive(Debug, Clone, Default)]
pub struct TypeAhead {
    last_key: Option<Instant>,
    shown_at: Option<Instant>,
    typing_through: bool,
}

impl TypeAhead {
    /// Records a key or paste that went to the composer.
    pub fn typed(&mut self, now: Instant) {
        self.last_key = Some(now);
    }

    /// Records that an overlay appeared at `now`.
    pub fn overlay_shown(&mut self, now: Instant) {
        self.shown_at = Some(now);
        self.typing_through = self.in_burst(now);
    }

    /// Whether a key pressed at `now` is for the overlay (else it belongs to the composer).
    /// Records the key either way.
    pub fn overlay_takes_key(&mut self, now: Instant) -> bool {
        let in_burst = self.in_burst(now);
        self.last_key = Some(now);
        if self
            .shown_at
            .is_some_and(|shown| now.saturating_duration_since(shown) < GRACE)
        {
            return false;
        }
        if self.typing_through && in_burst {
            return false;
        }
        self.typing_through = false;
        true
    }

    fn in_burst(&self, now: Instant) -> bool {
        self.last_key
            .is_some_and(|at| now.saturating_duration_since(at) < BURST_GAP)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn keys_in_the_grace_period_are_not_the_overlays() {
        let t0 = Instant::now();
        let mut guard = TypeAhead::default();
        guard.overlay_shown(t0);
        assert!(!guard.overlay_takes_key(t0 + ms(100)));
        assert!(!guard.overlay_takes_key(t0 + ms(399)));
        assert!(guard.overlay_takes_key(t0 + ms(800)));
    }

    #[test]
    fn a_burst_begun_before_the_overlay_stays_with_the_composer() {
        let t0 = Instant::now();
        let mut guard = TypeAhead::default();
        guard.typed(t0);
        guard.overlay_shown(t0 + ms(50));
        // Typing on, 150 ms apart, well past the grace period.
        let mut at = t0 + ms(50);
        for _ in 0..10 {
            at += ms(150);
            assert!(!guard.overlay_takes_key(at));
        }
        // A pause ends the burst; the next key answers.
        assert!(guard.overlay_takes_key(at + ms(600)));
    }

    #[test]
    fn an_idle_user_answers_after_the_grace_period() {
        let t0 = Instant::now();
        let mut guard = TypeAhead::default();
        guard.typed(t0);
        guard.overlay_shown(t0 + ms(5_000));
        assert!(guard.overlay_takes_key(t0 + ms(5_450)));
    }
}
