//! The terminal while a TUI screen is up: raw mode, alternate screen, bracketed paste, mouse and
//! key disambiguation, all undone on drop and before a panic message is printed.

use std::io::{Stdout, stdout};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    KeyboardEnhancementFlags, PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
    supports_keyboard_enhancement,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// Raw mode, alternate screen, bracketed paste, mouse, and key disambiguation while alive.
pub(crate) struct TerminalGuard {
    /// The ratatui terminal drawing on stdout.
    pub(crate) terminal: Terminal<CrosstermBackend<Stdout>>,
    enhanced_keys: bool,
}

impl TerminalGuard {
    /// Puts the terminal in TUI mode until the guard is dropped.
    pub(crate) fn enter() -> anyhow::Result<TerminalGuard> {
        // Lets terminals that support it report Shift+Enter distinctly from Enter.
        let enhanced_keys = supports_keyboard_enhancement().unwrap_or(false);
        take_terminal(enhanced_keys)?;
        install_panic_hook();
        let terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
        Ok(TerminalGuard {
            terminal,
            enhanced_keys,
        })
    }

    /// Hands the terminal to another program (the user's editor) and takes it back when
    /// `run` returns, redrawing everything afterwards.
    pub(crate) fn suspended<T>(&mut self, run: impl FnOnce() -> T) -> anyhow::Result<T> {
        restore_terminal(self.enhanced_keys);
        let _ = self.terminal.show_cursor();
        let result = run();
        take_terminal(self.enhanced_keys)?;
        self.terminal.clear()?;
        Ok(result)
    }
}

/// Raw mode, the alternate screen, bracketed paste, mouse capture and (where supported) key
/// disambiguation.
fn take_terminal(enhanced_keys: bool) -> std::io::Result<()> {
    enable_raw_mode()?;
    let mut out = stdout();
    execute!(
        out,
        EnterAlternateScreen,
        EnableBracketedPaste,
        EnableMouseCapture
    )?;
    if enhanced_keys {
        execute!(
            out,
            PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
        )?;
    }
    Ok(())
}

impl TerminalGuard {
    /// Captures the mouse (wheel events come to gem) or leaves it to the terminal, whose own
    /// selection then works.
    pub(crate) fn capture_mouse(&mut self, on: bool) -> std::io::Result<()> {
        if on {
            execute!(stdout(), EnableMouseCapture)
        } else {
            execute!(stdout(), DisableMouseCapture)
        }
    }

    /// Asks the terminal to put `text` on the clipboard (OSC 52).
    pub(crate) fn copy_to_clipboard(&mut self, text: &str) -> std::io::Result<()> {
        use base64::Engine as _;
        use std::io::Write as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(text);
        let mut out = stdout();
        write!(out, "\x1b]52;c;{encoded}\x07")?;
        out.flush()
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal(self.enhanced_keys);
        let _ = self.terminal.show_cursor();
    }
}

/// Puts the terminal back as it was (raw mode off, main screen) from outside the TUI's thread,
/// e.g. when a signal ends gem; harmless when the TUI is not up.
pub fn restore_after_signal() {
    restore_terminal(true);
}

fn restore_terminal(enhanced_keys: bool) {
    let mut out = stdout();
    if enhanced_keys {
        let _ = execute!(out, PopKeyboardEnhancementFlags);
    }
    let _ = execute!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen
    );
    let _ = disable_raw_mode();
}

/// Restores the terminal before a panic message is printed.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal(true);
        previous(info);
    }));
}
