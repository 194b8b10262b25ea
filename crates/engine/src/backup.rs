//! The backup pipeline.
//!
//! Tables are backed up one after another from one source snapshot. Within a
//! table three things overlap:
//! - the source streams batches of at most `chunk_bytes` (as counted by
//!   [`bru_core::Value::approx_size`]) on the calling thread;
//! - each batch is checksummed and compressed into a chunk on the worker pool
//!   (`jobs` threads);
//! - finished chunks are appended to the archive in order by the one writer,
//!   also on the calling thread (a SQLite file takes one writer anyway).
//!
//! **Memory bound.** At most `2 × jobs` batches are in flight (queued,
//! being compressed, or compressed and waiting to be written) plus the one
//! the source is filling, so peak memory is about
//! `(2 × jobs + 1) × chunk_bytes × k`, where `k` (between 1 and about 4) is
//! the in-memory overhead of [`bru_core::Value`] over its encoded size for
//! narrow columns. It does not depend on the size of a table.
//!
//! The table checksum and row count are computed from the batches as the
//! source produced them (on the workers, merged in order), not from the
//! encoded chunks, so a later verify or restore that decodes the chunks checks
//! the codec end to end.
//!
//! Any failure returns an error naming the table and leaves the archive
//! without its final commit, so it stays incomplete and restore and verify
//! refuse it.

use std::path::Path;
use std::time::Instant;

use bru_core::{BatchLimits, RowBatch, Source, TableChecksum, TableDef};
use bru_format::{encode_chunk, ArchiveWriter, EncodedChunk, TableId, TableTotals, WriterOptions};
use rayon::ThreadPool;

use crate::pipeline::{self, window, Ordered};
use crate::{Error, Progress, Result, Summary, TableFilter, TableSummary};

#[derive(Debug, Clone)]
pub struct BackupOptions {
    pub filter: TableFilter,
    /// zstd level.
    pub compress_level: i32,
    /// Worker threads for compression; 0 means one per core.
    pub jobs: usize,
    /// Overwrite an existing archive.
    pub force: bool,
    /// Target uncompressed chunk size in bytes.
    pub chunk_bytes: usize,
    /// The bru version, recorded in the archive.
    pub tool_version: String,
}

/// Backs up the tables of `source` selected by `options.filter`, with their
/// objects, into a new archive at `archive`, and marks it complete.
///
/// Returns a per-table summary (rows, uncompressed and stored bytes,
/// seconds). Fails if the archive exists and `force` is not set, if the
/// source cannot be read, or if the archive cannot be written; a failure
/// after the archive was created leaves it incomplete.
pub fn backup(
    source: &mut dyn Source,
    archive: &Path,
    options: &BackupOptions,
    progress: &dyn Progress,
) -> Result<Summary> {
    let started = Instant::now();
    let info = source.info();
    let catalog = options.filter.apply(&source.catalog()?);
    let pool = pipeline::pool(options.jobs)?;
    let mut writer = ArchiveWriter::create(
        archive,
        &info,
        &WriterOptions {
            force: options.force,
            compress_level: options.compress_level,
            tool_version: options.tool_version.clone(),
        },
    )?;
    let ids = writer.write_catalog(&catalog)?;
    let mut summary = Summary::default();
    for (def, id) in catalog.tables.iter().zip(ids) {
        let name = def.name.to_string();
        let line = back_up_table(source, &mut writer, &pool, def, id, options, progress)
            .map_err(|e| e.in_table("backing up", &name))?;
        summary.tables.push(line);
    }
    summary.objects = catalog
        .objects
        .iter()
        .map(|o| format!("{} {}", o.kind, o.name))
        .collect();
    writer.finish()?;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Streams one table from the source into the archive and records its
/// totals.
fn back_up_table(
    source: &mut dyn Source,
    writer: &mut ArchiveWriter,
    pool: &ThreadPool,
    def: &TableDef,
    id: TableId,
    options: &BackupOptions,
    progress: &dyn Progress,
) -> Result<TableSummary> {
    let started = Instant::now();
    let name = def.name.to_string();
    progress.table_started(&name, def.estimated_rows, None);
    let limits = BatchLimits {
        max_bytes: options.chunk_bytes,
        ..BatchLimits::default()
    };
    let level = options.compress_level;
    let columns = def.columns.len();
    let mut store = ChunkStore {
        writer,
        id,
        table: &name,
        progress,
        totals: TableTotals::default(),
        checksum: TableChecksum::new(),
    };
    pool.in_place_scope(|scope| -> Result<()> {
        let mut work = Ordered::new(scope, window(pool));
        // The sink must return a core error; the engine's own error is kept
        // here so that it reaches the caller unchanged.
        let mut failure = None;
        let read = source.read_table(def, limits, &mut |batch| {
            let step = || -> Result<()> {
                if batch.column_count() != columns {
                    return Err(Error::BatchShape {
                        table: name.clone(),
                        expected: columns,
                        actual: batch.column_count(),
                    });
                }
                if batch.is_empty() {
                    return Ok(());
                }
                if let Some(done) = work.submit(move || compress(batch, level)) {
                    store.put(done)?;
                }
                while let Some(done) = work.try_oldest() {
                    store.put(done)?;
                }
                Ok(())
            };
            step().map_err(|e| {
                failure = Some(e);
                bru_core::Error::Unsupported("backup stopped".into())
            })
        });
        match (read, failure) {
            (_, Some(e)) => return Err(e),
            (Err(e), None) => return Err(e.into()),
            (Ok(()), None) => {}
        }
        while let Some(done) = work.wait_oldest() {
            store.put(done)?;
        }
        Ok(())
    })?;
    let totals = store.finish()?;
    progress.table_finished(&name);
    Ok(TableSummary {
        table: name,
        rows: totals.rows,
        rows_loaded: totals.rows,
        raw_bytes: totals.raw_bytes,
        stored_bytes: totals.stored_bytes,
        seconds: started.elapsed().as_secs_f64(),
        ..TableSummary::default()
    })
}

/// One batch after a worker is done with it.
struct Compressed {
    chunk: EncodedChunk,
    rows: u64,
    checksum: TableChecksum,
}

/// Checksums and compresses one batch (on a worker).
fn compress(batch: RowBatch, level: i32) -> bru_format::Result<Compressed> {
    let mut checksum = TableChecksum::new();
    for row in batch.rows() {
        checksum.add_row(row);
    }
    let chunk = encode_chunk(&batch, level)?;
    Ok(Compressed {
        chunk,
        rows: batch.row_count() as u64,
        checksum,
    })
}

/// Appends one table's chunks in order and adds up its totals.
struct ChunkStore<'a> {
    writer: &'a mut ArchiveWriter,
    id: TableId,
    table: &'a str,
    progress: &'a dyn Progress,
    totals: TableTotals,
    checksum: TableChecksum,
}

impl ChunkStore<'_> {
    fn put(&mut self, done: Result<bru_format::Result<Compressed>>) -> Result<()> {
        let done = done??;
        self.writer.write_chunk(self.id, &done.chunk)?;
        self.totals.rows += done.rows;
        self.totals.raw_bytes += done.chunk.raw_len;
        self.totals.stored_bytes += done.chunk.data.len() as u64;
        self.totals.chunks += 1;
        self.checksum.merge(&done.checksum);
        self.progress
            .advance(self.table, done.rows, done.chunk.raw_len);
        Ok(())
    }

    /// Records the totals once the last chunk is written.
    fn finish(mut self) -> Result<TableTotals> {
        self.totals.checksum = self.checksum.value();
        self.writer.finish_table(self.id, &self.totals)?;
        Ok(self.totals)
    }
}
