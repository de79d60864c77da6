//! Scroll position of the transcript: follows the stream unless the user scrolled up.

/// Where the transcript view is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scroll {
    follow: bool,
    top: usize,
}

impl Default for Scroll {
    fn default() -> Self {
        Scroll {
            follow: true,
            top: 0,
        }
    }
}

impl Scroll {
    /// Whether the view sticks to the bottom as content arrives.
    pub fn is_following(&self) -> bool {
        self.follow
    }

    /// The first visible line for `total` lines in a view of `height` rows.
    pub fn top(&self, total: usize, height: usize) -> usize {
        let max_top = total.saturating_sub(height);
        if self.follow {
            max_top
        } else {
            self.top.min(max_top)
        }
    }

    /// Lines below the view.
    pub fn lines_below(&self, total: usize, height: usize) -> usize {
        total.saturating_sub(self.top(total, height) + height)
    }

    /// Scrolls up `n` lines; stops following when that leaves the bottom.
    pub fn up(&mut self, n: usize, total: usize, height: usize) {
        let max_top = total.saturating_sub(height);
        let top = self.top(total, height).saturating_sub(n);
        self.top = top;
        self.follow = top >= max_top;
    }

    /// Scrolls down `n` lines; follows again on reaching the bottom.
    pub fn down(&mut self, n: usize, total: usize, height: usize) {
        let max_top = total.saturating_sub(height);
        let top = (self.top(total, height) + n).min(max_top);
        self.top = top;
        self.follow = top >= max_top;
    }

    /// Jumps to the first line.
    pub fn scroll_to_top(&mut self, total: usize, height: usize) {
        self.top = 0;
        self.follow = total <= height;
    }

    /// Jumps to the bottom and follows the stream.
    pub fn scroll_to_bottom(&mut self) {
        self.follow = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_by_default_and_as_content_grows() {
        let scroll = Scroll::default();
        assert_eq!(scroll.top(100, 10), 90);
        assert_eq!(scroll.top(150, 10), 140);
        assert_eq!(scroll.top(5, 10), 0);
    }

    #[test]
    fn scrolling_up_pins_the_view_while_content_grows() {
        let mut scroll = Scroll::default();
        scroll.up(20, 100, 10);
        assert!(!scroll.is_following());
        assert_eq!(scroll.top(100, 10), 70);
        assert_eq!(
            scroll.top(200, 10),
            70,
            "new content must not move the view"
        );
        assert_eq!(scroll.lines_below(200, 10), 120);
    }

    #[test]
    fn scrolling_back_down_resumes_following() {
        let mut scroll = Scroll::default();
        scroll.up(5, 100, 10);
        scroll.down(3, 100, 10);
        assert!(!scroll.is_following());
        scroll.down(10, 100, 10);
        assert!(scroll.is_following());
        assert_eq!(scroll.top(120, 10), 110);
    }

    #[test]
    fn short_content_never_stops_following() {
        let mut scroll = Scroll::default();
        scroll.up(3, 5, 10);
        assert!(scroll.is_following());
        scroll.scroll_to_top(100, 10);
        assert_eq!(scroll.top(100, 10), 0);
        scroll.scroll_to_bottom();
        assert_eq!(scroll.top(100, 10), 90);
    }
}
