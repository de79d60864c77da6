//! `/undo` and `/diff` as the agent serves them: from the working-tree snapshots when there
//! are some, else from the edit and write tools' before-images; and the note that tells the
//! model, with the user's next message, which files `/undo` put back.

use std::path::Path;

use super::Agent;
use super::shadow_store::ShadowError;
use crate::protocol::Event;

/// Opens the note about `/undo` appended to the next user message.
const UNDO_NOTE_OPEN: &str = "<undo>";
/// Closes it.
const UNDO_NOTE_CLOSE: &str = "</undo>";

impl Agent {
    /// Says once, when the session starts, that `/undo` covers only the edit and write tools.
    pub(super) fn report_snapshot_store(&mut self) {
        if let Some(why) = self.snapshots_unavailable.take() {
            self.emit(Event::Warning {
                message: format!(
                    "/undo covers only the edit and write tools in this session (not shell \
                     commands): the snapshot store could not be opened ({why})"
                ),
            });
        }
    }

    /// Snapshots the working tree before the turn's first tool that may change files.
    pub(super) fn snapshot_before_change(&mut self) {
        let Some(snapshots) = self.snapshots.as_mut() else {
            return;
        };
        match snapshots.before_change() {
            Ok(skipped) if skipped.is_empty() => {}
            Ok(skipped) => {
                let list: Vec<String> = skipped
                    .iter()
                    .map(|s| format!("{} ({})", s.path.display(), s.reason))
                    .collect();
                self.emit(Event::Warning {
                    message: format!("/undo will not cover: {}", list.join(", ")),
                });
            }
            Err(e @ ShadowError::TooLarge { .. }) => {
                // It will not shrink by itself: no more snapshots this session.
                self.snapshots = None;
                self.emit(Event::Warning {
                    message: format!(
                        "/undo covers only the edit and write tools from now on (not shell \
                         commands): {e}"
                    ),
                });
            }
            Err(e) => self.emit(Event::Warning {
                message: format!(
                    "could not snapshot the working tree ({e}): /undo cannot revert this turn"
                ),
            }),
        }
    }

    /// Snapshots the working tree at the end of a turn that took a snapshot before a change.
    pub(super) fn snapshot_turn_end(&mut self) {
        let Some(snapshots) = self.snapshots.as_mut() else {
            return;
        };
        if let Err(e) = snapshots.end_turn() {
            self.emit(Event::Warning {
                message: format!(
                    "could not snapshot the working tree ({e}): /undo cannot revert this turn"
                ),
            });
        }
    }

    /// Reverts the last turn that changed files and reports what it put back.
    pub(super) fn undo_last_turn(&mut self) {
        let root = self.tool_ctx.root.clone();
        let files = match self.snapshots.as_mut() {
            Some(snapshots) => match snapshots.undo() {
                Ok(None) => Vec::new(),
                Ok(Some(restored)) => {
                    if !restored.left.is_empty() {
                        let list: Vec<String> = restored
                            .left
                            .iter()
                            .map(|s| format!("{} ({})", s.path.display(), s.reason))
                            .collect();
                        self.emit(Event::Warning {
                            message: format!("/undo left as they are: {}", list.join(", ")),
                        });
                    }
                    restored
                        .files
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect()
                }
                Err(e) => {
                    return self.emit(Event::Error {
                        message: format!("undo failed: {e}"),
                    });
                }
            },
            None => match self.undo.undo() {
                Ok(files) => files.iter().map(|p| relative(p, &root)).collect(),
                Err(e) => {
                    return self.emit(Event::Error {
                        message: format!("undo failed: {e}"),
                    });
                }
            },
        };
        if !files.is_empty() {
            self.undo_note.push(files.clone());
        }
        self.emit(Event::Undone { files });
    }

    /// Reports what the session changed: since the first snapshot, or what the remaining
    /// before-images differ from the files now.
    pub(super) fn report_session_diff(&mut self) {
        let diffs = match self.snapshots.as_mut() {
            Some(snapshots) => match snapshots.session_diffs() {
                Ok(diffs) => diffs,
                Err(e) => {
                    return self.emit(Event::Error {
                        message: format!("cannot diff the session's changes: {e}"),
                    });
                }
            },
            None => {
                let root = self.tool_ctx.root.clone();
                self.undo
                    .session_before_images()
                    .into_iter()
                    .map(|(path, before)| {
                        let now = std::fs::read(&path).ok();
                        let old = before.map(|b| String::from_utf8_lossy(&b).into_owned());
                        let new = now.map(|b| String::from_utf8_lossy(&b).into_owned());
                        crate::tools::unified_diff(
                            &relative(&path, &root),
                            old.as_deref(),
                            new.as_deref().unwrap_or_default(),
                        )
                    })
                    .filter(|diff| !diff.is_empty())
                    .collect()
            }
        };
        self.emit(Event::SessionDiff { diffs });
    }

    /// The note for the next user message about what `/undo` put back since the last one, and
    /// the files it lists; nothing when there was no `/undo`.
    pub(super) fn take_undo_note(&mut self) -> Option<(String, Vec<String>)> {
        undo_note(&std::mem::take(&mut self.undo_note))
    }
}

/// The note about `undos` (the files each `/undo` put back) and the files it lists; nothing
/// without an undo.
fn undo_note(undos: &[Vec<String>]) -> Option<(String, Vec<String>)> {
    if undos.is_empty() {
        return None;
    }
    let mut files: Vec<String> = undos.iter().flatten().cloned().collect();
    files.sort();
    files.dedup();
    let (turns, those) = if undos.len() == 1 {
        ("your last turn that changed files".to_string(), "that turn")
    } else {
        (
            format!("your last {} turns that changed files", undos.len()),
            "those turns",
        )
    };
    let list: Vec<String> = files.iter().map(|f| format!("- {f}")).collect();
    let note = format!(
        "\n\n{UNDO_NOTE_OPEN}\nThe user ran /undo: the file changes made in {turns} were \
         reverted. These files are back to their state before {those} (a file created then is \
         gone, one deleted then is back); do not assume those changes were made, and read a file \
         again before relying on its contents:\n{}\n{UNDO_NOTE_CLOSE}",
        list.join("\n")
    );
    Some((note, files))
}

/// `path` relative to the project `root`, for display.
fn relative(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_lists_each_file_once_and_counts_the_undone_turns() {
        assert!(undo_note(&[]).is_none());
        let (one, files) = undo_note(&[vec!["a.rs".into()]]).unwrap();
        assert_eq!(files, ["a.rs"]);
        assert!(
            one.contains("your last turn that changed files were reverted"),
            "{one}"
        );
        assert!(one.trim_start().starts_with(UNDO_NOTE_OPEN) && one.ends_with(UNDO_NOTE_CLOSE));
        let (two, files) =
            undo_note(&[vec!["b.rs".into(), "a.rs".into()], vec!["a.rs".into()]]).unwrap();
        assert_eq!(files, ["a.rs", "b.rs"]);
        assert!(two.contains("your last 2 turns") && two.contains("before those turns"));
        assert_eq!(two.matches("- a.rs").count(), 1, "{two}");
    }
}
