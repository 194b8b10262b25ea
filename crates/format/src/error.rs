//! Errors reading or writing an archive.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong with an archive. Every variant names the file, and where
/// it applies the table and chunk, so the message can be acted on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // Variants are defined by the implementation; see the module docs.
    #[error("{path}: {message}")]
    Placeholder { path: PathBuf, message: String },
}
