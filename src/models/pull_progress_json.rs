//! A pull's progress for scripts: one JSON object per line (`--output-format stream-json`).
//! Every event is written; `pull_progress` lines at most once a second per file (and always
//! the last), each with the rate since the file started and the ETA at that rate.

use std::io::Write;
use std::time::{Duration, Instant};

use super::pull_progress::{PullEvent, PullProgress};

/// Least time between two `pull_progress` lines of one file.
const LINE_INTERVAL: Duration = Duration::from_secs(1);

/// Writes pull events as JSON lines.
pub struct JsonLinesProgress<W: Write> {
    out: W,
    /// When the current file started, and from which byte.
    started: Option<(Instant, u64)>,
    last_line: Option<Instant>,
}

impl<W: Write> JsonLinesProgress<W> {
    /// Lines go to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out,
            started: None,
            last_line: None,
        }
    }

    /// Writes one JSON value as a line (write errors are ignored: a closed pipe must not stop
    /// the download).
    pub fn line(&mut self, value: &serde_json::Value) {
        let _ = writeln!(self.out, "{value}");
        let _ = self.out.flush();
    }
}

impl<W: Write> PullProgress for JsonLinesProgress<W> {
    fn event(&mut self, event: &PullEvent) {
        let mut value = serde_json::to_value(event).unwrap_or(serde_json::Value::Null);
        match event {
            PullEvent::FileStart { resumed_from, .. } => {
                self.started = Some((Instant::now(), *resumed_from));
                self.last_line = None;
            }
            PullEvent::Progress {
                bytes_done,
                bytes_total,
                ..
            } => {
                let last = bytes_done == bytes_total;
                if !last && self.last_line.is_some_and(|t| t.elapsed() < LINE_INTERVAL) {
                    return;
                }
                self.last_line = Some(Instant::now());
                if let (Some((since, from)), Some(object)) = (self.started, value.as_object_mut()) {
                    let seconds = since.elapsed().as_secs_f64();
                    let rate = if seconds > 0.0 {
                        bytes_done.saturating_sub(from) as f64 / seconds
                    } else {
                        0.0
                    };
                    let eta =
                        (rate > 0.0).then(|| bytes_total.saturating_sub(*bytes_done) as f64 / rate);
                    object.insert("bytes_per_second".into(), serde_json::json!(rate.round()));
                    object.insert(
                        "eta_seconds".into(),
                        serde_json::json!(eta.map(|e| e.round())),
                    );
                }
            }
            _ => {}
        }
        self.line(&value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_carry_rate_and_eta_and_other_events_pass_through() {
        let mut out = Vec::new();
        {
            let mut sink = JsonLinesProgress::new(&mut out);
            sink.event(&PullEvent::FileStart {
                file: "m.gguf".into(),
                bytes_total: 100,
                resumed_from: 0,
            });
            for done in [10, 20, 100] {
                sink.event(&PullEvent::Progress {
                    file: "m.gguf".into(),
                    bytes_done: done,
                    bytes_total: 100,
                });
            }
        }
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // The start, the first tick, the last (the 20-byte tick falls within the second).
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[0]["type"], "pull_file_start");
        assert_eq!(lines[1]["type"], "pull_progress");
        assert_eq!(lines[2]["bytes_done"], 100);
        assert!(lines[2].get("bytes_per_second").is_some());
        assert!(lines[2].get("eta_seconds").is_some());
    }
}
