//! Retrying what fails transiently: the one backoff of a restore.
//!
//! A step that fails with a transient error
//! ([`bru_core::ErrorKind::Transient`]: a lost connection, a serialization failure, a
//! lock timeout...) is tried again after a pause that doubles each time, up
//! to [`ATTEMPTS`] tries, each retry reported through [`Progress::warning`].
//! Steps of the plan (module `execute`) and the work around them in
//! [`super::RestoreJob::run`] (the journal, `--clean`'s drops, the final
//! step) share this loop, so every retry looks and waits the same; only
//! whether the run is stopping and what counts a retry differ, and those are
//! passed in.

use std::time::Duration;

use bru_core::Target;

use crate::{Error, Progress, Result};

/// How often a step is tried before a transient error is given up on.
pub(crate) const ATTEMPTS: u32 = 5;
/// The pause before the first retry; it doubles for each further one.
const FIRST_PAUSE: Duration = Duration::from_millis(200);

/// [`with_retries`] for work outside the plan (reading and writing the
/// journal, `--clean`'s drops, the target's final step): nothing stops it
/// early and no table counts its retries.
pub(crate) fn retry_outside<T>(
    progress: &dyn Progress,
    target: &mut dyn Target,
    what: &str,
    body: impl FnMut(&mut dyn Target) -> Result<T>,
) -> Result<T> {
    with_retries(progress, &|| false, target, what, || {}, body)
}

/// Runs `body`, retrying it with backoff while it fails with an error the
/// target calls transient, up to [`ATTEMPTS`] times, unless `stopping` says
/// the run is being stopped. Each retry is reported through the progress
/// warnings, and `on_retry` is called (the executor counts it against a
/// table).
pub(crate) fn with_retries<T>(
    progress: &dyn Progress,
    stopping: &dyn Fn() -> bool,
    target: &mut dyn Target,
    what: &str,
    mut on_retry: impl FnMut(),
    mut body: impl FnMut(&mut dyn Target) -> Result<T>,
) -> Result<T> {
    let mut pause = FIRST_PAUSE;
    let mut attempt = 1;
    loop {
        match body(&mut *target) {
            Ok(value) => return Ok(value),
            Err(e) if attempt < ATTEMPTS && !stopping() && is_transient(&e) => {
                on_retry();
                progress.warning(&format!(
                    "{what}: transient error, retrying in {:.1} s (attempt {} of {ATTEMPTS}): {e}",
                    pause.as_secs_f64(),
                    attempt + 1
                ));
                std::thread::sleep(pause);
                pause *= 2;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Whether the database error inside `e` is transient, by the
/// [`bru_core::ErrorKind`] its engine gave it.
fn is_transient(e: &Error) -> bool {
    match e {
        Error::Database(db) => db.is_transient(),
        Error::Table { error, .. } => is_transient(error),
        _ => false,
    }
}
