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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rusqlite::Connection;

    use super::*;

    #[test]
    fn a_duplicate_key_is_a_unique_violation() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, u TEXT UNIQUE); INSERT INTO t VALUES (1, 'a')",
        )
        .unwrap();
        for duplicate in [
            "INSERT INTO t VALUES (1, 'b')",
            "INSERT INTO t VALUES (2, 'a')",
        ] {
            let e = conn.execute_batch(duplicate).unwrap_err();
            assert_eq!(kind_of(&e), ErrorKind::UniqueViolation, "{duplicate}: {e}");
        }
        let e = conn
            .execute_batch("INSERT INTO t VALUES ('x', 'c')")
            .unwrap_err();
        assert_eq!(kind_of(&e), ErrorKind::Other, "{e}");
        let e = conn.execute_batch("SELECT * FROM missing").unwrap_err();
        assert_eq!(sql_err("reading", e).kind(), ErrorKind::Other);
    }

    #[test]
    fn a_database_locked_by_another_connection_is_transient() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locked.sqlite");
        let holder = Connection::open(&path).unwrap();
        holder
            .execute_batch("CREATE TABLE t (x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)")
            .unwrap();
        let other = Connection::open(&path).unwrap();
        other.busy_timeout(Duration::ZERO).unwrap();
        let e = other.execute_batch("INSERT INTO t VALUES (2)").unwrap_err();
        let err = sql_err("loading table \"t\"", e);
        assert!(err.is_transient(), "{err}");
    }
}
