//! How a driver error becomes bru's: a one-line description
//! ([`describe`]) and its [`ErrorKind`] ([`kind_of`]), set once here from the
//! server's SQLSTATE or the I/O error underneath, so that nobody classifies
//! an error by searching its text.

use bru_core::ErrorKind;
use tokio_postgres::error::SqlState;

/// The most useful one-line description of a driver error: the server's
/// message with its detail and hint when there is one.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = db.message().to_owned();
        if let Some(d) = db.detail() {
            s.push_str(" (");
            s.push_str(d);
            s.push(')');
        }
        if let Some(h) = db.hint() {
            s.push_str("; hint: ");
            s.push_str(h);
        }
        s.push_str(&format!(" [SQLSTATE {}]", db.code().code()));
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}

/// Server errors after which the same step may succeed when retried: a
/// serialization failure or deadlock (40001, 40P01), a server shutting down,
/// crashed or starting up (57P01, 57P02, 57P03), a lost connection (08xxx).
const TRANSIENT_STATES: [SqlState; 9] = [
    SqlState::T_R_SERIALIZATION_FAILURE,
    SqlState::T_R_DEADLOCK_DETECTED,
    SqlState::ADMIN_SHUTDOWN,
    SqlState::CRASH_SHUTDOWN,
    SqlState::CANNOT_CONNECT_NOW,
    SqlState::CONNECTION_EXCEPTION,
    SqlState::CONNECTION_DOES_NOT_EXIST,
    SqlState::CONNECTION_FAILURE,
    SqlState::SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
];

/// SQLSTATEs of "already exists": relation, object, function, schema.
const ALREADY_EXISTS: [SqlState; 4] = [
    SqlState::DUPLICATE_TABLE,
    SqlState::DUPLICATE_OBJECT,
    SqlState::DUPLICATE_FUNCTION,
    SqlState::DUPLICATE_SCHEMA,
];

/// I/O failures of the same kind as [`TRANSIENT_STATES`]: the connection
/// dropped, or the server is not accepting connections while it restarts
/// (its socket is gone or the port is closed).
const TRANSIENT_IO: [std::io::ErrorKind; 6] = [
    std::io::ErrorKind::ConnectionRefused,
    std::io::ErrorKind::ConnectionReset,
    std::io::ErrorKind::ConnectionAborted,
    std::io::ErrorKind::BrokenPipe,
    std::io::ErrorKind::UnexpectedEof,
    std::io::ErrorKind::NotFound,
];

/// The kind of a driver error, from the server's SQLSTATE or, for a
/// client-side failure, from whether the connection is gone and the I/O
/// error underneath. Set once here, where the driver's error becomes
/// bru's: nobody reads an error's text to decide what it is.
pub(crate) fn kind_of(e: &tokio_postgres::Error) -> ErrorKind {
    if let Some(db) = e.as_db_error() {
        return sqlstate_kind(db.code());
    }
    if e.is_closed() {
        return ErrorKind::Transient;
    }
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            return if TRANSIENT_IO.contains(&io.kind()) {
                ErrorKind::Transient
            } else {
                ErrorKind::Other
            };
        }
        source = inner.source();
    }
    ErrorKind::Other
}

/// The kind of a server error by its SQLSTATE.
pub(crate) fn sqlstate_kind(code: &SqlState) -> ErrorKind {
    if TRANSIENT_STATES.contains(code) {
        ErrorKind::Transient
    } else if ALREADY_EXISTS.contains(code) {
        ErrorKind::AlreadyExists
    } else if *code == SqlState::UNDEFINED_TABLE {
        ErrorKind::UndefinedObject
    } else if *code == SqlState::UNIQUE_VIOLATION {
        ErrorKind::UniqueViolation
    } else {
        ErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bru_core::Error;

    #[test]
    fn transient_errors_are_told_apart() {
        for code in [
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::CONNECTION_FAILURE,
        ] {
            assert_eq!(sqlstate_kind(&code), ErrorKind::Transient, "{code:?}");
        }
        assert_eq!(
            sqlstate_kind(&SqlState::UNIQUE_VIOLATION),
            ErrorKind::UniqueViolation
        );
        assert_eq!(
            sqlstate_kind(&SqlState::DUPLICATE_TABLE),
            ErrorKind::AlreadyExists
        );
        assert_eq!(
            sqlstate_kind(&SqlState::UNDEFINED_TABLE),
            ErrorKind::UndefinedObject
        );
        assert_eq!(sqlstate_kind(&SqlState::SYNTAX_ERROR), ErrorKind::Other);
        // The kind lives in the error, never in its text.
        assert!(!Error::engine("loading t", "connection closed").is_transient());
        assert!(!Error::Unsupported("connection closed".into()).is_transient());
    }
}
