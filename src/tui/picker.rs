//! The `@` file picker: the project's file list, ranked by fuzzy match, as popup rows.

use std::cell::RefCell;
use std::sync::Arc;

use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::fuzzy::{FuzzyMatch, fuzzy_rank};
use super::theme::{Role, Theme};

/// Most matches listed.
const MAX_MATCHES: usize = 50;

/// The project's files (once listed) and the last query's ranking.
#[derive(Debug, Default)]
pub struct FilePicker {
    files: Option<Arc<Vec<String>>>,
    last: RefCell<Option<(String, Arc<Vec<FuzzyMatch>>)>>,
}

impl FilePicker {
    /// Sets the file list (listed on a worker thread).
    pub fn set_files(&mut self, files: Arc<Vec<String>>) {
        self.files = Some(files);
        self.last.replace(None);
    }

    /// Whether the file list has arrived.
    pub fn is_ready(&self) -> bool {
        self.files.is_some()
    }

    /// The best matches for `query`, best first (cached for the last query).
    pub fn matches(&self, query: &str) -> Arc<Vec<FuzzyMatch>> {
        let Some(files) = &self.files else {
            return Arc::new(Vec::new());
        };
        if let Some((last_query, matches)) = self.last.borrow().as_ref()
            && last_query == query
        {
            return Arc::clone(matches);
        }
        let matches = Arc::new(fuzzy_rank(query, files, MAX_MATCHES));
        self.last
            .replace(Some((query.to_string(), Arc::clone(&matches))));
        matches
    }

    /// The path of the `selected`-th match for `query`.
    pub fn selected_path(&self, query: &str, selected: usize) -> Option<String> {
        let files = self.files.as_ref()?;
        let matches = self.matches(query);
        let found = matches.get(selected.min(matches.len().checked_sub(1)?))?;
        files.get(found.index).cloned()
    }

    /// Popup rows for `query`: paths with the matched characters highlighted.
    pub fn items(&self, query: &str, theme: &Theme) -> Vec<Line<'static>> {
        let Some(files) = &self.files else {
            return vec![Line::styled("listing files…", theme.style(Role::Dim))];
        };
        let hit = theme.style(Role::Accent).add_modifier(Modifier::BOLD);
        let plain = theme.style(Role::Text);
        self.matches(query)
            .iter()
            .map(|m| {
                let mut spans = Vec::new();
                let mut run = String::new();
                let mut run_is_hit = false;
                for (i, c) in files[m.index].chars().enumerate() {
                    let is_hit = m.positions.contains(&i);
                    if is_hit != run_is_hit && !run.is_empty() {
                        let style = if run_is_hit { hit } else { plain };
                        spans.push(Span::styled(std::mem::take(&mut run), style));
                    }
                    run_is_hit = is_hit;
                    run.push(c);
                }
                if !run.is_empty() {
                    spans.push(Span::styled(run, if run_is_hit { hit } else { plain }));
                }
                Line::from(spans)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_and_selects_paths() {
        let mut picker = FilePicker::default();
        assert!(!picker.is_ready());
        assert_eq!(
            picker.items("x", &Theme::monochrome())[0].to_string(),
            "listing files…"
        );
        picker.set_files(Arc::new(vec![
            "README.md".into(),
            "src/main.rs".into(),
            "src/tui/mod.rs".into(),
        ]));
        assert_eq!(
            picker.selected_path("main", 0).as_deref(),
            Some("src/main.rs")
        );
        assert_eq!(
            picker.selected_path("rs", 7).as_deref(),
            Some("src/tui/mod.rs"),
            "clamped"
        );
        assert_eq!(picker.selected_path("zzz", 0), None);
        let items = picker.items("main", &Theme::monochrome());
        assert_eq!(items[0].to_string(), "src/main.rs");
        assert_eq!(items[0].spans[1].content, "main");
    }
}
