//! Converting rusqlite's errors into [`bru_core::Error`], with the kind read
//! from SQLite's result code, once, here: the rest of the crate and the
//! engine never look at an error's text to decide what it is.

use bru_core::{Error, ErrorKind};
use rusqlite::ErrorCode;

/// The kind of a rusqlite error: SQLITE_BUSY, SQLITE_LOCKED and
/// SQLITE_SCHEMA (another session holds the lock beyond the busy timeout, or
/// changed the schema under a statement) may succeed when retried; a
/// UNIQUE or PRIMARY KEY constraint failure is a unique violation.
pub(crate) fn kind_of(e: &rusqlite::Error) -> ErrorKind {
    let rusqlite::Error::SqliteFailure(failure, _) = e else {
        return ErrorKind::Other;
    };
    match failure.code {
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::SchemaChanged => {
            ErrorKind::Transient
        }
        ErrorCode::ConstraintViolation
            if matches!(
                failure.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ) =>
        {
            ErrorKind::UniqueViolation
        }
        _ => ErrorKind::Other,
    }
}

/// `e` as an [`Error::Engine`] with `context` (what bru was doing) and the
/// kind SQLite's result code gives.
pub(crate) fn sql_err(context: impl Into<String>, e: rusqlite::Error) -> Error {
    Error::engine_kind(kind_of(&e), context, e)
}
