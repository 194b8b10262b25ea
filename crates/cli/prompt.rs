//! The password prompt is psql's: on a terminal, when the server asks for
//! a password and none was given (the engine says so with
//! [`bru_core::ErrorKind::PasswordRequired`]), bru asks for it, without
//! echo, and connects again; `-W` asks before connecting, `-w` never asks.
//! The typed password goes into the endpoint as `--password-file`'s does
//! ([`crate::password::apply`]), so it reaches no message either.

use std::io::IsTerminal;

use anyhow::{bail, Context, Result};
use bru_core::ErrorKind;

use crate::args::Global;
use crate::endpoint::Endpoint;

/// What `open` returns for `endpoint`, asking for the password on the
/// terminal first with `-W`, or after the server asked for one that was
/// not given (unless `-w`, or stdin is not a terminal: then the error is
/// returned as it is).
pub fn opening<T>(
    endpoint: &Endpoint,
    global: &Global,
    open: impl Fn(&Endpoint) -> Result<T>,
) -> Result<T> {
    if global.force_password {
        return open(&endpoint.with_password(&ask(endpoint)?)?);
    }
    match open(endpoint) {
        Err(e) if !global.no_password && wants_password(&e) && std::io::stdin().is_terminal() => {
            open(&endpoint.with_password(&ask(endpoint)?)?)
        }
        other => other,
    }
}

/// Whether `e` is the engine's "the server asks for a password".
fn wants_password(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<bru_core::Error>()
            .is_some_and(|e| e.is(ErrorKind::PasswordRequired))
    })
}

/// The password for `endpoint`, typed on the terminal without echo.
fn ask(endpoint: &Endpoint) -> Result<String> {
    if endpoint.engine()?.name() == "sqlite" {
        bail!("-W/--password was given, but a sqlite:// endpoint takes no password; leave it out");
    }
    let password = rpassword::prompt_password(format!("Password for {endpoint}: ")).context(
        "cannot read the password from the terminal; give it with --password-file or PGPASSWORD",
    )?;
    if password.is_empty() {
        bail!("no password was typed for {endpoint}");
    }
    Ok(password)
}
