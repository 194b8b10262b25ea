//! Listing what an archive holds.

use std::path::Path;

use serde::Serialize;

use crate::Result;

/// One table in a listing.
#[derive(Debug, Clone, Serialize)]
pub struct ListedTable {
    pub table: String,
    /// `None` when the backup stopped before the table was finished.
    pub rows: Option<u64>,
    pub raw_bytes: Option<u64>,
    pub stored_bytes: Option<u64>,
    pub chunks: Option<u64>,
}

/// The archive's metadata and tables.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub meta: bru_format::ArchiveMeta,
    pub tables: Vec<ListedTable>,
    /// Other objects, as "kind name".
    pub objects: Vec<String>,
}

/// Reads the listing. Works on incomplete archives too (that is how a user
/// sees that a backup did not finish).
pub fn list(archive: &Path) -> Result<Listing> {
    let _ = archive;
    todo!()
}
