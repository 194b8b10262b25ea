//! tiberius's errors as bru's: one line that names the endpoint and says
//! what to check, never the password.

use bru_core::{Error, ErrorKind};

use super::settings::{Encrypt, Settings};

/// SQL Server's "Login failed for user".
pub const LOGIN_FAILED: u32 = 18456;
/// "Cannot open database requested by the login".
pub const CANNOT_OPEN_DATABASE: u32 = 4060;
/// "Database does not exist" (what `USE` and Babelfish's login report).
pub const NO_SUCH_DATABASE: u32 = 911;

/// The kind of a server error, by its number.
pub fn kind_of(e: &tiberius::error::Error) -> ErrorKind {
    match e {
        tiberius::error::Error::Io { .. } => ErrorKind::Transient,
        tiberius::error::Error::Server(t) => match t.code() {
            // Deadlock victim, snapshot update conflict, lock timeout.
            1205 | 3960 | 1222 => ErrorKind::Transient,
            // There is already an object named…; …already has a primary key…
            2714 | 1779 | 1913 | 2759 | 15025 => ErrorKind::AlreadyExists,
            // Invalid object name; cannot find the object.
            208 | 3701 | 4902 => ErrorKind::UndefinedObject,
            // Violation of PRIMARY KEY / UNIQUE constraint; duplicate key row.
            2627 | 2601 => ErrorKind::UniqueViolation,
            _ => ErrorKind::Other,
        },
        _ => ErrorKind::Other,
    }
}

/// A driver error met while running a statement, with its server error
/// number when there is one.
pub fn describe(e: &tiberius::error::Error) -> String {
    match e {
        tiberius::error::Error::Server(t) => {
            format!("SQL Server error {}: {}", t.code(), t.message())
        }
        other => other.to_string(),
    }
}

/// The error for a failed TCP connection to the server.
pub fn unreachable(s: &Settings, e: &std::io::Error) -> Error {
    Error::connect(
        ErrorKind::Transient,
        s.endpoint.clone(),
        format!(
            "cannot reach {}:{} ({e}); check the host name and port, that SQL Server accepts TCP connections there, and any firewall in between",
            s.host, s.port
        ),
    )
}

/// The error for a failed TDS login (after the TCP connection was made).
pub fn login(s: &Settings, e: &tiberius::error::Error) -> Error {
    let what = s.endpoint.clone();
    let tls_hint = match (s.encrypt, s.trust_cert) {
        (Encrypt::Off, _) => "the server may require encryption: try encrypt=optional or encrypt=mandatory",
        (_, false) => "if the server's certificate is self-signed or not for this host name, add trustServerCertificate=true; if the server has no TLS, use encrypt=off",
        (_, true) => "if the server has no TLS, use encrypt=off",
    };
    let (kind, message) = match e {
        tiberius::error::Error::Server(t) => match t.code() {
            LOGIN_FAILED => (
                ErrorKind::Other,
                format!(
                    "login failed for user {:?} (SQL Server error 18456); check the user name and password",
                    s.user
                ),
            ),
            CANNOT_OPEN_DATABASE | NO_SUCH_DATABASE => (
                ErrorKind::UndefinedObject,
                format!(
                    "database {:?} does not exist or user {:?} cannot open it (SQL Server error {}); check the database name in the URL, or create it (CREATE DATABASE)",
                    s.database,
                    s.user,
                    t.code()
                ),
            ),
            code => (
                kind_of(e),
                format!("the server refused the login (SQL Server error {code}: {})", t.message()),
            ),
        },
        tiberius::error::Error::Tls(m) => (
            ErrorKind::Other,
            format!("the TLS handshake failed ({m}); {tls_hint}"),
        ),
        // rustls reports a certificate it rejects as an I/O error.
        tiberius::error::Error::Io { message, .. } => (
            ErrorKind::Transient,
            format!(
                "the connection broke during the login or its TLS handshake ({message}); {tls_hint}"
            ),
        ),
        other => (
            ErrorKind::Other,
            format!("the login failed ({other}); {tls_hint}"),
        ),
    };
    Error::connect(kind, what, s.scrub(&message))
}
