//! Listing what an archive holds.

use std::path::Path;

use bru_format::ArchiveReader;
use serde::Serialize;

use bru_core::ObjectKind;

use crate::summary::object_name;
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
    /// Other objects, as "kind name"; privileges on a system object
    /// ([`ObjectKind::SystemPrivileges`]) say that a restore applies them
    /// only with `--system-privileges`.
    pub objects: Vec<String>,
}

/// Reads the listing: metadata (including whether the backup completed),
/// each table with its totals, and the other objects. Works on incomplete
/// archives too (that is how a user sees that a backup did not finish).
/// Fails if the file is missing, is not a bru archive, is of a newer format,
/// or its catalog is damaged.
///
/// An encrypted archive opened without its key lists its clear metadata
/// only (and, with `--encrypt-data-only`, its catalog): `meta.encryption`
/// says so.
pub fn list(archive: &Path) -> Result<Listing> {
    let reader = ArchiveReader::open(archive)?;
    let sealed_catalog = reader
        .meta()
        .encryption
        .as_ref()
        .is_some_and(|e| !e.unlocked && e.scope == "all");
    if sealed_catalog {
        return Ok(Listing {
            meta: reader.meta().clone(),
            tables: Vec::new(),
            objects: Vec::new(),
        });
    }
    let tables = reader
        .tables()?
        .into_iter()
        .map(|e| ListedTable {
            table: e.def.name.to_string(),
            rows: e.totals.map(|t| t.rows),
            raw_bytes: e.totals.map(|t| t.raw_bytes),
            stored_bytes: e.totals.map(|t| t.stored_bytes),
            chunks: e.totals.map(|t| t.chunks),
        })
        .collect();
    let objects = reader
        .catalog()?
        .objects
        .iter()
        .map(|o| {
            let name = object_name(o);
            if o.kind == ObjectKind::SystemPrivileges {
                format!("{name} (restored only with --system-privileges)")
            } else {
                name
            }
        })
        .collect();
    Ok(Listing {
        meta: reader.meta().clone(),
        tables,
        objects,
    })
}
