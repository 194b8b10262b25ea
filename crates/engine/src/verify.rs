//! Verifying an archive without restoring it.
//!
//! Verify reads exactly what a restore reads, through the same code
//! ([`crate::readback`]): every chunk's CRC is checked by the reader, every
//! chunk is decoded on the worker pool, and each table's chunk count, row
//! count, sizes and content checksum are compared with its recorded totals.
//! Before any chunk, every catalog entry's SQL gets the check a restore
//! gives it (module `trust`), so an archive whose SQL was altered fails
//! verify as it fails restore.

use std::path::Path;
use std::time::Instant;

use bru_core::Engine;
use bru_format::ArchiveReader;

use crate::readback::{read_table, require_totals};
use crate::summary::object_names;
use crate::{pipeline, Progress, Result, Summary, TableSummary};

/// What verify checked.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct VerifyReport {
    pub summary: Summary,
    pub chunks_checked: u64,
}

/// Checks every chunk's CRC, decodes every chunk, and compares row counts
/// and table checksums with the recorded totals, using `jobs` decoding
/// threads (0: one per core).
///
/// Returns what was checked. Fails on the first problem, naming the archive,
/// the table and, where it applies, the chunk: an archive that is missing,
/// not a bru archive, of a newer format or incomplete; a damaged catalog; a
/// catalog entry whose SQL does more than create the object it declares
/// (checked by the engine among `engines` that wrote it, see module
/// `trust`); a table without totals; a chunk that is missing, fails its
/// CRC or does not decode; counts or a checksum that differ from the
/// totals.
pub fn verify(
    archive: &Path,
    jobs: usize,
    engines: &[&dyn Engine],
    progress: &dyn Progress,
) -> Result<VerifyReport> {
    let started = Instant::now();
    let reader = ArchiveReader::open(archive)?;
    reader.require_complete()?;
    let catalog = reader.catalog()?;
    crate::trust::check_catalog(&catalog, engines)?;
    let pool = pipeline::pool(jobs)?;
    let mut report = VerifyReport::default();
    for entry in reader.tables()? {
        let table_started = Instant::now();
        let name = entry.def.name.to_string();
        let totals = require_totals(archive, &entry)?;
        progress.table_started(&name, Some(totals.rows), Some(totals.raw_bytes));
        let read = read_table(&reader, archive, &pool, &entry, &totals, |chunk| {
            progress.advance(&name, chunk.batch.row_count() as u64, chunk.raw_len);
            Ok(())
        })
        .map_err(|e| e.in_table("verifying", &name))?;
        progress.table_finished(&name);
        report.chunks_checked += read.chunks;
        report.summary.tables.push(TableSummary {
            table: name,
            rows: read.rows,
            raw_bytes: read.raw_bytes,
            stored_bytes: read.stored_bytes,
            seconds: table_started.elapsed().as_secs_f64(),
            ..TableSummary::default()
        });
    }
    report.summary.objects = object_names(&catalog.objects);
    report.summary.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
