//! The error type shared by the Source and Target traits.
//!
//! Engines keep their own detailed errors internally and convert them into
//! this enum at the trait boundary, so the engine crate and the CLI can report
//! any engine's failure the same way: one line naming the thing and what to do.

use std::fmt;

/// Result alias used across the core traits.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A failure reported by a source or a target.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database could not be opened or reached (missing file, refused
    /// connection, bad credentials). `what` names the endpoint without secrets.
    #[error("cannot open {what}: {message}")]
    Connect { what: String, message: String },

    /// A statement or query failed inside the engine. `context` says what bru
    /// was doing (for example `creating table "agents"`).
    #[error("{context}: {message}")]
    Engine { context: String, message: String },

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
    /// Shorthand for [`Error::Engine`].
    pub fn engine(context: impl Into<String>, message: impl fmt::Display) -> Self {
        Error::Engine {
            context: context.into(),
            message: message.to_string(),
        }
    }
}

struct ListDisplay<'a>(&'a [String]);

impl fmt::Display for ListDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(", "))
    }
}
