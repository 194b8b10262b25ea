//! Comparing a database with an archive: every table of the archive is read
//! back from the database with the archive's own definition, its rows
//! counted and its content checksum computed exactly as the backup computed
//! it, and both compared with the totals the archive recorded. A restore
//! that compares equal holds exactly the archive's rows; the demo proves its
//! restore this way.

use std::path::Path;

use bru_core::{BatchLimits, Source, TableChecksum};
use bru_format::ArchiveReader;

use crate::readback::require_totals;
use crate::{Error, Result};

/// One table that compared equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableMatch {
    pub table: String,
    pub rows: u64,
}

/// Compares every table of `archive` with the same table in `database`.
/// Returns the tables, all equal; fails with [`Error::Differs`] on the first
/// table whose row count or checksum differs, or when the database cannot
/// read a table.
pub fn compare(archive: &Path, database: &mut dyn Source) -> Result<Vec<TableMatch>> {
    let reader = ArchiveReader::open(archive)?;
    let mut matches = Vec::new();
    for entry in reader.tables()? {
        let totals = require_totals(archive, &entry)?;
        let table = entry.def.name.to_string();
        let mut sum = TableChecksum::new();
        database
            .read_table(&entry.def, BatchLimits::default(), &mut |batch| {
                batch.rows().for_each(|row| sum.add_row(row));
                Ok(())
            })
            .map_err(|e| Error::from(e).in_table("comparing", &table))?;
        if sum.rows() != totals.rows || sum.value() != totals.checksum {
            return Err(Error::Differs {
                table,
                database_rows: sum.rows(),
                database_checksum: sum.value(),
                archive_rows: totals.rows,
                archive_checksum: totals.checksum,
            });
        }
        matches.push(TableMatch {
            table,
            rows: totals.rows,
        });
    }
    Ok(matches)
}
