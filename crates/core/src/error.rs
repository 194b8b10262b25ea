//! The error type shared by the Source and Target traits.
//!
//! Engines keep their own detailed errors internally and convert them into
//! this enum at the trait boundary, so the engine crate and the CLI can report
//! any engine's failure the same way: one line naming the thing and what to do.

use std::fmt;

/// Result alias used across the core traits.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error::Engine`] or [`Error::Connect`] is, set
/// once by the engine where it converts its driver's error (from the
/// SQLSTATE, SQLite's result code, the I/O error kind), so that nobody
/// classifies an error by searching its message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The same step may succeed when retried after a pause: a busy or
    /// locked database, a serialization failure or deadlock, a server
    /// shutting down or starting up, a lost or refused connection.
    Transient,
    /// The object to be created exists already (a relation, schema,
    /// function, constraint…).
    AlreadyExists,
    /// The statement names an object that does not exist.
    UndefinedObject,
    /// A row with the same key exists.
    UniqueViolation,
    /// The server asks for a password and none was given (in the
    /// endpoint, the environment or a password file): a caller on a
    /// terminal may ask the user for one and connect again.
    PasswordRequired,
    /// Any other failure.
    #[default]
    Other,
}

/// A failure reported by a source or a target.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database could not be opened or reached (missing file, refused
    /// connection, bad credentials). `what` names the endpoint without secrets.
    #[error("cannot open {what}: {message}")]
    Connect {
        what: String,
        message: String,
        kind: ErrorKind,
    },

    /// A statement or query failed inside the engine. `context` says what bru
    /// was doing (for example `creating table "agents"`).
    #[error("{context}: {message}")]
    Engine {
        context: String,
        message: String,
        kind: ErrorKind,
    },

    /// A value that cannot be stored exactly in the target column. bru never
    /// changes a value silently: the table, column and value are named.
    #[error("table {table}, column {column}: cannot store value {value}: {reason}")]
    Value {
        table: String,
        column: String,
        value: String,
        reason: String,
    },

    /// The request cannot be carried out on this engine (for example a
    /// feature the target does not have).
    #[error("{0}")]
    Unsupported(String),

    /// Any other failure, for example from the sink a source streams into.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),

    /// The target already holds tables the restore would create.
    #[error("target already has {} table(s) that the archive would create: {}; use --clean to drop them first", .0.len(), ListDisplay(.0))]
    TablesExist(Vec<String>),
}

impl Error {
    /// Shorthand for an [`Error::Engine`] of kind [`ErrorKind::Other`].
    pub fn engine(context: impl Into<String>, message: impl fmt::Display) -> Self {
        Error::engine_kind(ErrorKind::Other, context, message)
    }

    /// Shorthand for an [`Error::Engine`] of `kind`.
    pub fn engine_kind(
        kind: ErrorKind,
        context: impl Into<String>,
        message: impl fmt::Display,
    ) -> Self {
        Error::Engine {
            context: context.into(),
            message: message.to_string(),
            kind,
        }
    }

    /// Shorthand for an [`Error::Connect`] of `kind`.
    pub fn connect(kind: ErrorKind, what: impl Into<String>, message: impl fmt::Display) -> Self {
        Error::Connect {
            what: what.into(),
            message: message.to_string(),
            kind,
        }
    }

    /// The kind of an engine or connection error; [`ErrorKind::Other`] for
    /// every other variant.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Engine { kind, .. } | Error::Connect { kind, .. } => *kind,
            _ => ErrorKind::Other,
        }
    }

    /// Whether this is an error of `kind`.
    pub fn is(&self, kind: ErrorKind) -> bool {
        self.kind() == kind
    }

    /// Whether the step that met this error may be retried after a pause.
    pub fn is_transient(&self) -> bool {
        self.is(ErrorKind::Transient)
    }
}

struct ListDisplay<'a>(&'a [String]);

impl fmt::Display for ListDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(", "))
    }
}
