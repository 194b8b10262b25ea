//! Errors of the engine: a failed source or target, a damaged archive, or a
//! check that did not pass.

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The source or target database failed.
    #[error(transparent)]
    Database(#[from] bru_core::Error),
    /// The archive could not be read or written.
    #[error(transparent)]
    Archive(#[from] bru_format::Error),
}
