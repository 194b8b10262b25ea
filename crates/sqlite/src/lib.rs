//! SQLite as a bru source and target.

use std::path::Path;

/// Reads one SQLite database inside a single read transaction (one snapshot).
pub struct SqliteSource {
    _private: (),
}

impl SqliteSource {
    /// Opens the database at `path` read-only and starts the snapshot.
    /// Fails with [`bru_core::Error::Connect`] if the file is missing or is
    /// not a SQLite database.
    pub fn open(path: &Path) -> bru_core::Result<Self> {
        let _ = path;
        todo!()
    }
}

/// Writes into a SQLite database (created if missing).
pub struct SqliteTarget {
    _private: (),
}

impl SqliteTarget {
    /// Opens or creates the database at `path`.
    pub fn open(path: &Path) -> bru_core::Result<Self> {
        let _ = path;
        todo!()
    }
}
