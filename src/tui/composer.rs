//! The message composer: multi-line text editing, cursor movement and input history.

use super::wrap::str_width;

/// Editable text with a cursor and the history of sent messages.
#[derive(Debug, Default, Clone)]
pub struct Composer {
    text: String,
    /// Byte offset of the cursor in `text` (always on a char boundary).
    cursor: usize,
    history: Vec<String>,
    history_index: Option<usize>,
    draft: String,
}

impl Composer {
    /// The text being edited.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Byte offset of the cursor.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Whether there is no text.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Replaces the text and puts the cursor at its end.
    pub fn set_text(&mut self, text: &str) {
        self.text = text.to_string();
        self.cursor = self.text.len();
    }

    /// Replaces the byte range `range` with `with`, leaving the cursor after it.
    pub fn replace_range(&mut self, range: std::ops::Range<usize>, with: &str) {
        self.text.replace_range(range.clone(), with);
        self.cursor = range.start + with.len();
        self.history_index = None;
    }

    /// Removes all text.
    pub fn clear(&mut self) {
        self.text.clear();
        self.cursor = 0;
        self.history_index = None;
    }

    /// Inserts a character at the cursor.
    pub fn insert_char(&mut self, c: char) {
        self.text.insert(self.cursor, c);
        self.cursor += c.len_utf8();
        self.history_index = None;
    }

    /// Inserts text (a paste) at the cursor; `\r\n` and `\r` become `\n`.
    pub fn insert_str(&mut self, s: &str) {
        let s = s.replace("\r\n", "\n").replace('\r', "\n");
        self.text.insert_str(self.cursor, &s);
        self.cursor += s.len();
        self.history_index = None;
    }

    /// Inserts a line break.
    pub fn newline(&mut self) {
        self.insert_char('\n');
    }

    /// Deletes the character before the cursor.
    pub fn backspace(&mut self) {
        if let Some(prev) = self.prev_boundary(self.cursor) {
            self.text.replace_range(prev..self.cursor, "");
            self.cursor = prev;
            self.history_index = None;
        }
    }

    /// Deletes the character under the cursor.
    pub fn delete(&mut self) {
        if let Some(next) = self.next_boundary(self.cursor) {
            self.text.replace_range(self.cursor..next, "");
            self.history_index = None;
        }
    }

    /// Deletes the word before the cursor (and the spaces after it).
    pub fn delete_word_back(&mut self) {
        let start = self.word_start_before(self.cursor);
        self.text.replace_range(start..self.cursor, "");
        self.cursor = start;
        self.history_index = None;
    }

    /// Deletes from the cursor to the end of its line (or the line break when at the end).
    pub fn kill_to_line_end(&mut self) {
        let end = self.line_end(self.cursor);
        let end = if end == self.cursor {
            self.next_boundary(end).unwrap_or(end)
        } else {
            end
        };
        self.text.replace_range(self.cursor..end, "");
        self.history_index = None;
    }

    /// Deletes from the start of the cursor's line to the cursor.
    pub fn kill_to_line_start(&mut self) {
        let start = self.line_start(self.cursor);
        self.text.replace_range(start..self.cursor, "");
        self.cursor = start;
        self.history_index = None;
    }

    /// Moves one character left.
    pub fn move_left(&mut self) {
        if let Some(prev) = self.prev_boundary(self.cursor) {
            self.cursor = prev;
        }
    }

    /// Moves one character right.
    pub fn move_right(&mut self) {
        if let Some(next) = self.next_boundary(self.cursor) {
            self.cursor = next;
        }
    }

    /// Moves to the start of the previous word.
    pub fn move_word_left(&mut self) {
        self.cursor = self.word_start_before(self.cursor);
    }

    /// Moves past the end of the next word.
    pub fn move_word_right(&mut self) {
        let rest = &self.text[self.cursor..];
        let skipped_space = rest.len() - rest.trim_start().len();
        let word = rest[skipped_space..]
            .find(char::is_whitespace)
            .unwrap_or(rest.len() - skipped_space);
        self.cursor += skipped_space + word;
    }

    /// Moves to the start of the line.
    pub fn move_home(&mut self) {
        self.cursor = self.line_start(self.cursor);
    }

    /// Moves to the end of the line.
    pub fn move_end(&mut self) {
        self.cursor = self.line_end(self.cursor);
    }

    /// Whether the cursor is on the first line.
    pub fn on_first_line(&self) -> bool {
        !self.text[..self.cursor].contains('\n')
    }

    /// Whether the cursor is on the last line.
    pub fn on_last_line(&self) -> bool {
        !self.text[self.cursor..].contains('\n')
    }

    /// Moves to the line above, keeping the column where possible; false on the first line.
    pub fn move_up(&mut self) -> bool {
        if self.on_first_line() {
            return false;
        }
        let column = self.text[self.line_start(self.cursor)..self.cursor]
            .chars()
            .count();
        let prev_end = self.line_start(self.cursor) - 1;
        let prev_start = self.line_start(prev_end);
        self.cursor = advance_chars(&self.text, prev_start, prev_end, column);
        true
    }

    /// Moves to the line below, keeping the column where possible; false on the last line.
    pub fn move_down(&mut self) -> bool {
        if self.on_last_line() {
            return false;
        }
        let column = self.text[self.line_start(self.cursor)..self.cursor]
            .chars()
            .count();
        let next_start = self.line_end(self.cursor) + 1;
        let next_end = self.line_end(next_start);
        self.cursor = advance_chars(&self.text, next_start, next_end, column);
        true
    }

    /// Shows the previous history entry; false when there is none.
    pub fn history_prev(&mut self) -> bool {
        let index = match self.history_index {
            None if self.history.is_empty() => return false,
            None => {
                self.draft = self.text.clone();
                self.history.len() - 1
            }
            Some(0) => return false,
            Some(i) => i - 1,
        };
        self.history_index = Some(index);
        self.text = self.history[index].clone();
        self.cursor = self.text.len();
        true
    }

    /// Shows the next history entry, or the draft after the newest; false when not in history.
    pub fn history_next(&mut self) -> bool {
        let Some(index) = self.history_index else {
            return false;
        };
        if index + 1 < self.history.len() {
            self.history_index = Some(index + 1);
            self.text = self.history[index + 1].clone();
        } else {
            self.history_index = None;
            self.text = std::mem::take(&mut self.draft);
        }
        self.cursor = self.text.len();
        true
    }

    /// Takes the text for sending, records it in the history and empties the composer.
    pub fn submit(&mut self) -> String {
        let text = std::mem::take(&mut self.text);
        self.cursor = 0;
        self.history_index = None;
        self.draft.clear();
        if !text.trim().is_empty() && self.history.last() != Some(&text) {
            self.history.push(text.clone());
        }
        text
    }

    /// The text cut into rows of at most `width` columns, and the cursor's (row, column).
    pub fn visual_rows(&self, width: usize) -> (Vec<String>, (usize, usize)) {
        let width = width.max(1);
        let mut rows = Vec::new();
        let mut cursor = (0, 0);
        let mut offset = 0;
        for line in self.text.split('\n') {
            let mut row = String::new();
            let mut row_width = 0;
            for (i, c) in line.char_indices() {
                let w = str_width(c.encode_utf8(&mut [0; 4]));
                if row_width + w > width && !row.is_empty() {
                    rows.push(std::mem::take(&mut row));
                    row_width = 0;
                }
                if offset + i == self.cursor {
                    cursor = (rows.len(), row_width);
                }
                row.push(c);
                row_width += w;
            }
            if offset + line.len() == self.cursor {
                if row_width >= width {
                    rows.push(std::mem::take(&mut row));
                    row_width = 0;
                }
                cursor = (rows.len(), row_width);
            }
            rows.push(row);
            offset += line.len() + 1;
        }
        (rows, cursor)
    }

    fn prev_boundary(&self, at: usize) -> Option<usize> {
        self.text[..at].char_indices().next_back().map(|(i, _)| i)
    }

    fn next_boundary(&self, at: usize) -> Option<usize> {
        self.text[at..].chars().next().map(|c| at + c.len_utf8())
    }

    fn line_start(&self, at: usize) -> usize {
        self.text[..at].rfind('\n').map_or(0, |i| i + 1)
    }

    fn line_end(&self, at: usize) -> usize {
        self.text[at..]
            .find('\n')
            .map_or(self.text.len(), |i| at + i)
    }

    fn word_start_before(&self, at: usize) -> usize {
        let before = &self.text[..at];
        let trimmed = before.trim_end();
        trimmed
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace())
            .map_or(0, |(i, c)| i + c.len_utf8())
    }
}

/// The byte offset `column` characters after `start`, but not past `end`.
fn advance_chars(text: &str, start: usize, end: usize, column: usize) -> usize {
    text[start..end]
        .char_indices()
        .nth(column)
        .map_or(end, |(i, _)| start + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> Composer {
        let mut composer = Composer::default();
        composer.insert_str(text);
        composer
    }

    #[test]
    fn typing_and_deleting_unicode() {
        let mut composer = typed("héllo");
        composer.backspace();
        composer.move_left();
        composer.move_left();
        composer.insert_char('✓');
        assert_eq!(composer.text(), "hé✓ll");
        composer.delete();
        assert_eq!(composer.text(), "hé✓l");
        composer.move_home();
        composer.delete();
        assert_eq!(composer.text(), "é✓l");
    }

    #[test]
    fn multi_line_movement_keeps_the_column() {
        let mut composer = typed("first line\nab\nthird");
        assert!(composer.on_last_line());
        composer.move_home();
        composer.move_right();
        composer.move_right();
        composer.move_right();
        assert!(composer.move_up());
        assert_eq!(
            &composer.text()[composer.cursor()..],
            "\nthird",
            "clamped to end of `ab`"
        );
        assert!(composer.move_up());
        assert_eq!(&composer.text()[composer.cursor()..], "rst line\nab\nthird");
        assert!(!composer.move_up());
        assert!(composer.move_down());
        assert!(composer.move_down());
        assert!(!composer.move_down());
    }

    #[test]
    fn word_and_line_kills() {
        let mut composer = typed("cargo test  --all");
        composer.delete_word_back();
        assert_eq!(composer.text(), "cargo test  ");
        composer.delete_word_back();
        assert_eq!(composer.text(), "cargo ");
        composer.move_home();
        composer.kill_to_line_end();
        assert_eq!(composer.text(), "");
        let mut composer = typed("a b\nc d");
        composer.kill_to_line_start();
        assert_eq!(composer.text(), "a b\n");
        composer.move_word_left();
        assert_eq!(composer.cursor(), 2);
        composer.move_word_right();
        assert_eq!(composer.cursor(), 3);
    }

    #[test]
    fn paste_normalises_line_endings() {
        let composer = typed("a\r\nb\rc");
        assert_eq!(composer.text(), "a\nb\nc");
    }

    #[test]
    fn history_walks_back_and_restores_the_draft() {
        let mut composer = Composer::default();
        for text in ["one", "two", "two", "  "] {
            composer.insert_str(text);
            composer.submit();
        }
        composer.insert_str("draft");
        assert!(composer.history_prev());
        assert_eq!(composer.text(), "two");
        assert!(composer.history_prev());
        assert_eq!(composer.text(), "one");
        assert!(
            !composer.history_prev(),
            "duplicates and blanks are not recorded"
        );
        assert!(composer.history_next());
        assert_eq!(composer.text(), "two");
        assert!(composer.history_next());
        assert_eq!(composer.text(), "draft");
        assert!(!composer.history_next());
    }

    #[test]
    fn visual_rows_wrap_and_place_the_cursor() {
        let composer = typed("abcdef\nxy");
        let (rows, cursor) = composer.visual_rows(4);
        assert_eq!(rows, ["abcd", "ef", "xy"]);
        assert_eq!(cursor, (2, 2));
        let mut composer = typed("abcd");
        let (rows, cursor) = composer.visual_rows(4);
        assert_eq!(rows, ["abcd", ""]);
        assert_eq!(cursor, (1, 0));
        composer.move_left();
        assert_eq!(composer.visual_rows(4).1, (0, 3));
        let composer = typed("日本語");
        assert_eq!(
            composer.visual_rows(4),
            (vec!["日本".to_string(), "語".to_string()], (1, 2))
        );
    }
}
