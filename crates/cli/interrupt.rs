//! Ctrl-C: bru stops at once with exit code 130 (the shell's code for an
//! interrupt) and says what to run next.
//!
//! Stopping the process is what stops "the current step" cleanly, because
//! every step is already safe to cut anywhere: a restore commits each chunk
//! with its journal entry in the target, so the transaction open at the
//! interrupt is rolled back by the database and `--resume` continues from
//! the last committed chunk; a backup's archive is marked complete only
//! when it is finished, so an interrupted one is refused by restore and
//! verify. What to run next depends on the command, so each command sets
//! its hint ([`on_interrupt`]) before it starts working.

use std::sync::Mutex;

/// The line to print on Ctrl-C: what to run next.
static NEXT: Mutex<Option<String>> = Mutex::new(None);

/// Installs the handler (once, at start). A failure to install it (no
/// signal handling on this platform) leaves the default, which also stops
/// bru.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        let next = NEXT
            .lock()
            .ok()
            .and_then(|n| n.clone())
            .unwrap_or_else(|| "nothing was changed".to_owned());
        // A new line first: a progress bar may be half drawn.
        eprintln!("\nbru: interrupted: {next}");
        std::process::exit(130);
    });
}

/// What the Ctrl-C line says from now on.
pub fn on_interrupt(next: impl Into<String>) {
    if let Ok(mut n) = NEXT.lock() {
        *n = Some(next.into());
    }
}
