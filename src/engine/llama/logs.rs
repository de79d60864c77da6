//! Captures llama.cpp's log lines instead of letting them spill onto the terminal.
//!
//! The lines are kept in a small ring so a failed load can quote llama.cpp's own reason.
//! `GEM_LLAMA_LOG=1` also echoes them to stderr.

use std::collections::VecDeque;
use std::ffi::{CStr, c_char, c_void};
use std::sync::{Mutex, Once};

const KEEP: usize = 64;
const LEVEL_WARN: u32 = 3;
const LEVEL_ERROR: u32 = 4;

static LINES: Mutex<VecDeque<(u32, String)>> = Mutex::new(VecDeque::new());
static INSTALL: Once = Once::new();

unsafe extern "C" fn on_log(
    level: llama_cpp_sys_2::ggml_log_level,
    text: *const c_char,
    _: *mut c_void,
) {
    if text.is_null() {
        return;
    }
    // SAFETY: llama.cpp passes a NUL-terminated string valid for the duration of the call.
    let line = unsafe { CStr::from_ptr(text) }.to_string_lossy();
    if std::env::var_os("GEM_LLAMA_LOG").is_some() {
        eprint!("{line}");
    }
    if let Ok(mut lines) = LINES.lock() {
        if lines.len() == KEEP {
            lines.pop_front();
        }
        lines.push_back((level, line.trim_end().to_string()));
    }
}

/// Routes llama.cpp and ggml logs into the ring (once per process).
pub fn install() {
    INSTALL.call_once(|| {
        // SAFETY: the callback is a plain function valid for the whole process and ignores its
        // user-data pointer.
        unsafe {
            llama_cpp_sys_2::llama_log_set(Some(on_log), std::ptr::null_mut());
            llama_cpp_sys_2::ggml_log_set(Some(on_log), std::ptr::null_mut());
        }
    });
}

/// Runs `f` with a fresh log ring, so [`last_errors`] reports what `f` caused.
pub fn capture<T>(f: impl FnOnce() -> T) -> T {
    install();
    if let Ok(mut lines) = LINES.lock() {
        lines.clear();
    }
    f()
}

/// The error (and warning) lines logged since the last [`capture`], joined; `None` if none.
pub fn last_errors() -> Option<String> {
    let lines = LINES.lock().ok()?;
    let errors: Vec<&str> = lines
        .iter()
        .filter(|(level, text)| {
            *level >= LEVEL_WARN && *level <= LEVEL_ERROR
                || text.contains("error")
                || text.contains("failed")
        })
        .map(|(_, text)| text.as_str())
        .filter(|t| !t.is_empty())
        .collect();
    if errors.is_empty() {
        None
    } else {
        Some(errors[errors.len().saturating_sub(4)..].join("; "))
    }
}
