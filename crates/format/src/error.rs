//! Errors reading or writing an archive.
//!
//! One enum for the whole crate. Every variant that concerns a file names it,
//! and where it applies the table and the chunk, so that the one line the CLI
//! prints can be acted on. Messages are single lines; SQLite's own messages
//! are carried as text so the error stays `Send + Sync` and cheap to move
//! between threads.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong with an archive.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The archive file does not exist.
    #[error("no such file: {}", path.display())]
    NotFound { path: PathBuf },

    /// The file exists but is not a bru archive (random bytes, an empty file,
    /// a plain SQLite database, a directory). `reason` says which check failed.
    #[error("{} is not a bru archive: {reason}", path.display())]
    NotAnArchive { path: PathBuf, reason: String },

    /// The archive was written by a newer bru in a format this build cannot read.
    #[error("archive {} has format version {found}, which is newer than this bru supports ({supported}); upgrade bru", path.display())]
    UnsupportedVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    /// The backup that wrote the archive did not finish (it is still running,
    /// or it was killed or failed).
    #[error("archive {} is incomplete: the backup did not finish; take a new backup", path.display())]
    Incomplete { path: PathBuf },

    /// The writer was asked to create a file that already exists.
    #[error("{} already exists; use --force to overwrite it", path.display())]
    Exists { path: PathBuf },

    /// A chunk's stored bytes do not match their recorded CRC32.
    #[error("archive {} is damaged: table {table}, chunk {seq}: CRC mismatch (recorded {expected:08x}, computed {actual:08x})", path.display())]
    CrcMismatch {
        path: PathBuf,
        /// The table's name.
        table: String,
        seq: u64,
        expected: u32,
        actual: u32,
    },

    /// The archive's structure is inconsistent: truncated file, missing chunk,
    /// tampered catalog, impossible lengths. `message` says what was found.
    #[error("archive {} is damaged: {message}", path.display())]
    Damaged { path: PathBuf, message: String },

    /// The disk (or the file system's quota) filled up while writing.
    #[error("disk full writing {}: free some space and take the backup again", path.display())]
    DiskFull { path: PathBuf },

    /// The operating system failed to read or write the file.
    #[error("I/O error {doing} {}: {message}", path.display())]
    Io {
        path: PathBuf,
        /// What bru was doing, e.g. `writing`, `reading`, `creating`.
        doing: &'static str,
        message: String,
    },

    /// Any other SQLite failure; `context` says what bru was doing.
    #[error("archive {}: {context}: {message}", path.display())]
    Sqlite {
        path: PathBuf,
        context: String,
        message: String,
    },

    /// A chunk body that cannot be encoded or decoded (bad compression, bad
    /// lengths, unknown tags, invalid UTF-8, wrong counts). It carries no
    /// path because the codec does no I/O; callers that know the archive,
    /// table and chunk add them (see [`crate::ArchiveReader::decode`]).
    #[error("bad chunk: {0}")]
    Codec(String),

    /// A codec failure with the archive, table and chunk it happened in.
    #[error("archive {} is damaged: table {table}, chunk {seq}: {message}", path.display())]
    BadChunk {
        path: PathBuf,
        table: String,
        seq: u64,
        message: String,
    },

    /// The archive is encrypted and no key of the kind its key envelope
    /// needs was given. `needs` says what to give.
    #[error("archive {} is encrypted: give {needs}", path.display())]
    Locked { path: PathBuf, needs: &'static str },

    /// Keys were given, but none opens the archive's key envelope.
    #[error("wrong key for archive {}: no identity or passphrase given opens its key envelope", path.display())]
    WrongKey { path: PathBuf },

    /// A sealed part of an encrypted archive (a chunk, the catalog, the
    /// clear metadata it vouches for) fails authentication. `what` names it.
    #[error("archive {}: {what} fails authentication: the archive was edited or damaged", path.display())]
    Unauthentic { path: PathBuf, what: String },

    /// The writer was used out of order (for example a chunk for a table
    /// that is not in the catalog). This is a bug in the caller.
    #[error("archive {}: {message}", path.display())]
    Misuse { path: PathBuf, message: String },
}

impl Error {
    /// Shorthand for [`Error::Codec`].
    pub(crate) fn codec(message: impl Into<String>) -> Self {
        Error::Codec(message.into())
    }
}
