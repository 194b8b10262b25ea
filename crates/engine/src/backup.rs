//! The backup pipeline.
//!
//! One source snapshot is read by one or more reader sessions: the source the
//! caller opened, plus up to `jobs - 1` more from [`Source::open_reader`]
//! (PostgreSQL: sessions importing the same exported snapshot; SQLite: more
//! read-only connections while the first one's lock keeps the file still, or
//! in WAL mode that open the first one's WAL snapshot). Tables are handed out
//! largest first; a large table is split into parts ([`Source::split_table`])
//! so several readers read it at once. Within each reader three things overlap:
//! - the source streams batches of at most `chunk_bytes` (as counted by
//!   [`bru_core::Value::approx_size`]);
//! - each batch is checksummed and compressed into a chunk on the worker pool
//!   (`jobs` threads);
//! - finished chunks go, in order, through a bounded channel to the one
//!   writer thread, which appends them to the archive (a SQLite file takes one
//!   writer) and records a table's totals once all its parts are in.
//!
//! **Memory bound.** Each reader has at most `in_flight = max(1, jobs /
//! readers)` (rounded up) batches queued, being compressed, or compressed and
//! waiting, plus the one its source is filling, so compression of one batch
//! overlaps the reading of the next; the channel to the writer holds at most
//! `jobs` compressed chunks. So peak memory is about `(jobs + readers) ×
//! chunk_bytes × k` plus the compressed chunks (one in-flight batch per reader
//! instead of two cut the peak RSS of a `--jobs 2` PostgreSQL backup from 180
//! to 169 MiB at the same speed; BENCHMARKS.md, "Memory (issue 16)"), where `k` (between 1 and about 4) is the in-memory overhead of
//! [`bru_core::Value`] over its encoded size for narrow columns. It does not
//! depend on the size of a table.
//!
//! The table checksum and row count are computed from the batches as the
//! source produced them (on the workers, merged by the writer), not from the
//! encoded chunks, so a later verify or restore that decodes the chunks checks
//! the codec end to end. So is each table's state ([`bru_core::delta`]: the
//! sums of its rows by buckets of its key), which a later delta backup
//! compares with; the writer holds the bucket sums of the tables being
//! read, about two bytes per row of each, at most 32 MiB a table.
//!
//! Any failure returns an error naming the table and leaves the archive
//! without its final commit, so it stays incomplete and restore and verify
//! refuse it.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Mutex;
use std::time::Instant;

use bru_core::delta::{Buckets, TableState};
use bru_core::{BatchLimits, RowBatch, Source, TableChecksum, TableDef, TablePart};
use bru_format::{
    encode_chunk, ArchiveWriter, EncodedChunk, Seal, TableId, TableTotals, WriterOptions,
};
use rayon::ThreadPool;

use crate::pipeline::{self, Ordered};
use crate::summary::object_names;
use crate::{Error, Progress, Result, Summary, TableFilter, TableSummary};

/// A table is split into parts for several readers only when the source
/// estimates at least this many rows: below, one reader reads it fast enough.
const SPLIT_ROWS: u64 = 100_000;

#[derive(Debug, Clone)]
pub struct BackupOptions {
    pub filter: TableFilter,
    /// zstd level.
    pub compress_level: i32,
    /// Worker threads for compression, and the most reader sessions; 0
    /// means one per core.
    pub jobs: usize,
    /// Overwrite an existing archive.
    pub force: bool,
    /// Target uncompressed chunk size in bytes.
    pub chunk_bytes: usize,
    /// The bru version, recorded in the archive.
    pub tool_version: String,
    /// A full backup: create this change slot first (PostgreSQL: a
    /// logical replication slot), so that its deltas read the changed keys
    /// from it rather than every table (module docs of
    /// [`bru_core::changes`]).
    pub slot: Option<String>,
    /// A delta: find the changes by the generic method even when the chain
    /// has a change slot.
    pub generic: bool,
    /// A delta, the chain's last: once the archive is complete, drop the
    /// chain's change slot (which must have this name) instead of moving
    /// it on. The archive then records no slot, so no delta can follow it.
    pub drop_slot: Option<String>,
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
    backup_sealed(source, archive, options, None, progress)
}

/// Like [`backup()`], and with `seal` an encrypted archive (FORMAT.md,
/// "Encrypted archives"): every chunk and the catalog sealed, the data key
/// sealed by `seal.lock`.
pub fn backup_sealed(
    source: &mut dyn Source,
    archive: &Path,
    options: &BackupOptions,
    seal: Option<&Seal>,
    progress: &dyn Progress,
) -> Result<Summary> {
    let started = Instant::now();
    // The slot comes first: the source takes its snapshot again after it,
    // so that no change falls between the two.
    let mut slot_skipped = None;
    let slot = match &options.slot {
        Some(name) => match source.create_change_slot(name) {
            Ok(position) => Some((name.clone(), position)),
            Err(bru_core::Error::Unsupported(why)) => {
                slot_skipped = Some(format!(
                    "change slot {name}: not created, {why}; deltas of this archive use the \
                     generic method"
                ));
                None
            }
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let result = backup_in(
        source,
        archive,
        options,
        seal,
        progress,
        &slot,
        slot_skipped,
    );
    if let (Err(_), Some((name, _))) = (&result, &slot) {
        // A slot no archive records would only keep the server's WAL.
        let _ = source.drop_change_slot(name);
    }
    let mut summary = result?;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

fn backup_in(
    source: &mut dyn Source,
    archive: &Path,
    options: &BackupOptions,
    seal: Option<&Seal>,
    progress: &dyn Progress,
    slot: &Option<(String, String)>,
    slot_skipped: Option<String>,
) -> Result<Summary> {
    let info = source.info();
    let mut catalog = source.catalog()?;
    // bru's own restore journal is not the database's (a migration's
    // target keeps its delta chain's position there).
    catalog
        .tables
        .retain(|t| !bru_core::journal::is_journal_table(&t.name));
    let selection = options.filter.apply(&catalog)?;
    let mut catalog = selection.catalog;
    let too_long = crate::trust::bound_for_backup(&mut catalog)?;
    catalog.mark_not_carried_dependents();
    let jobs = pipeline::pool_size(options.jobs);
    let pool = pipeline::pool(jobs)?;
    let mut writer = ArchiveWriter::create_sealed(
        archive,
        &info,
        &WriterOptions {
            force: options.force,
            compress_level: options.compress_level,
            tool_version: options.tool_version.clone(),
            chunk_bytes: options.chunk_bytes,
        },
        seal,
    )?;
    let ids = writer.write_catalog(&catalog)?;
    if let Some((name, position)) = slot {
        writer.set_change_slot(name, position)?;
    }

    let readers = pipeline::extra_sessions(jobs, || Ok(source.open_reader()?))?;
    let sessions = readers.len() + 1;

    // Largest tables first, each in as many parts as the source makes.
    let mut order: Vec<usize> = (0..catalog.tables.len()).collect();
    order.sort_by_key(|&t| std::cmp::Reverse(catalog.tables[t].estimated_rows.unwrap_or(0)));
    let mut work = VecDeque::new();
    let mut parts = vec![0usize; catalog.tables.len()];
    for t in order {
        let def = &catalog.tables[t];
        let wanted = if sessions > 1 && def.estimated_rows.unwrap_or(0) >= SPLIT_ROWS {
            sessions
        } else {
            1
        };
        let split = if wanted > 1 {
            source
                .split_table(def, wanted)
                .map_err(|e| Error::from(e).in_table("backing up", &def.name.to_string()))?
        } else {
            Vec::new()
        };
        // No parts would mean no rows read at all: the whole table instead.
        let split = if split.is_empty() {
            vec![TablePart::whole()]
        } else {
            split
        };
        parts[t] = split.len();
        work.extend(split.into_iter().map(|part| (t, part)));
    }
    progress.totals(
        catalog.tables.len(),
        catalog.tables.iter().map(|t| t.estimated_rows).sum(),
        None,
    );

    let shared = Shared {
        tables: &catalog.tables,
        keys: catalog
            .tables
            .iter()
            .map(bru_core::delta::key_columns)
            .collect(),
        ids: &ids,
        work: Mutex::new(work),
        started: Mutex::new(vec![None; catalog.tables.len()]),
        stop: AtomicBool::new(false),
        pool: &pool,
        in_flight: jobs.div_ceil(sessions).max(1),
        options,
        progress,
    };
    let written = pipeline::readers_to_writer(
        source,
        readers,
        jobs,
        |reader, to_writer| read_parts(reader, &shared, to_writer),
        |from_readers| write_all(&mut writer, &shared, from_readers, &parts),
    )?;
    let mut summary = Summary {
        tables: written,
        ..Summary::default()
    };
    summary.objects = object_names(&catalog.objects);
    summary.skipped = selection.skipped;
    summary.skipped.extend(too_long);
    summary.skipped.extend(slot_skipped);
    writer.finish()?;
    Ok(summary)
}

/// What the readers share.
struct Shared<'a> {
    tables: &'a [TableDef],
    /// Each table's bucket key ([`bru_core::delta::key_columns`]).
    keys: Vec<Option<Vec<usize>>>,
    ids: &'a [TableId],
    /// Parts not yet taken, largest tables first.
    work: Mutex<VecDeque<(usize, TablePart)>>,
    /// When each table's first part was taken.
    started: Mutex<Vec<Option<Instant>>>,
    /// Set on the first failure, so the other sessions stop early.
    stop: AtomicBool,
    pool: &'a ThreadPool,
    in_flight: usize,
    options: &'a BackupOptions,
    progress: &'a dyn Progress,
}

/// From a reader to the writer.
enum Message {
    Chunk(usize, Compressed),
    /// One part of a table is read completely.
    PartDone(usize),
}

/// One reader session: takes parts until none are left, streams each
/// through the pool to the writer.
fn read_parts(
    source: &mut dyn Source,
    shared: &Shared,
    to_writer: &SyncSender<Message>,
) -> Result<()> {
    loop {
        if shared.stop.load(Ordering::Relaxed) {
            return Err(Error::Stopped);
        }
        let Some((t, part)) = shared
            .work
            .lock()
            .map_err(|_| Error::WorkerLost)?
            .pop_front()
        else {
            return Ok(());
        };
        let def = &shared.tables[t];
        let name = def.name.to_string();
        if let Ok(mut started) = shared.started.lock() {
            if started[t].is_none() {
                started[t] = Some(Instant::now());
                shared
                    .progress
                    .table_started(&name, def.estimated_rows, None);
            }
        }
        let result = read_part(source, shared, t, &part, to_writer)
            .and_then(|()| send(to_writer, Message::PartDone(t)));
        if let Err(e) = result {
            shared.stop.store(true, Ordering::Relaxed);
            return Err(match e {
                Error::Stopped => e,
                other => other.in_table("backing up", &name),
            });
        }
    }
}

fn send(to_writer: &SyncSender<Message>, message: Message) -> Result<()> {
    // The writer is gone only after an error of its own, which it reports.
    to_writer.send(message).map_err(|_| Error::Stopped)
}

/// Streams one part of table `t` into compressed chunks, in order, to the
/// writer.
fn read_part(
    source: &mut dyn Source,
    shared: &Shared,
    t: usize,
    part: &TablePart,
    to_writer: &SyncSender<Message>,
) -> Result<()> {
    let def = &shared.tables[t];
    let name = def.name.to_string();
    let limits = BatchLimits {
        max_bytes: shared.options.chunk_bytes,
        ..BatchLimits::default()
    };
    let level = shared.options.compress_level;
    let key = shared.keys[t].clone();
    let columns = def.columns.len();
    let pass = |done: Result<bru_format::Result<Compressed>>| -> Result<()> {
        send(to_writer, Message::Chunk(t, done??))
    };
    shared.pool.in_place_scope(|scope| -> Result<()> {
        let mut work = Ordered::new(scope, shared.in_flight);
        // The sink must return a core error; the engine's own error is kept
        // here so that it reaches the caller unchanged.
        let mut failure = None;
        let read = source.read_table_part(def, part, limits, &mut |batch| {
            let step = || -> Result<()> {
                if shared.stop.load(Ordering::Relaxed) {
                    return Err(Error::Stopped);
                }
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
                let key = key.clone();
                if let Some(done) = work.submit(move || compress(batch, level, key.as_deref())) {
                    pass(done)?;
                }
                while let Some(done) = work.try_oldest() {
                    pass(done)?;
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
            pass(done)?;
        }
        Ok(())
    })
}

/// The writer thread: appends chunks as they come and records each table's
/// totals once all its parts are in. Returns the per-table summary in
/// catalog order.
fn write_all(
    writer: &mut ArchiveWriter,
    shared: &Shared,
    from_readers: Receiver<Message>,
    parts: &[usize],
) -> Result<Vec<TableSummary>> {
    let n = shared.tables.len();
    let mut totals = vec![TableTotals::default(); n];
    let mut checksums = vec![TableChecksum::new(); n];
    let mut buckets: Vec<Option<Buckets>> = vec![None; n];
    let mut parts_left = parts.to_vec();
    let mut lines: Vec<Option<TableSummary>> = vec![None; n];
    let result = (|| -> Result<()> {
        for message in from_readers {
            match message {
                Message::Chunk(t, done) => {
                    let name = shared.tables[t].name.to_string();
                    writer
                        .write_chunk(shared.ids[t], &done.chunk)
                        .map_err(|e| Error::from(e).in_table("backing up", &name))?;
                    let tt = &mut totals[t];
                    tt.rows += done.rows;
                    tt.raw_bytes += done.chunk.raw_len;
                    tt.stored_bytes += done.chunk.data.len() as u64;
                    tt.chunks += 1;
                    checksums[t].merge(&done.checksum);
                    if !done.hashes.is_empty() {
                        let b = buckets[t].get_or_insert_with(|| new_buckets(&shared.tables[t]));
                        for &(k, r) in &done.hashes {
                            b.add(k, r);
                        }
                    }
                    shared
                        .progress
                        .advance(&name, done.rows, done.chunk.raw_len);
                }
                Message::PartDone(t) => {
                    parts_left[t] -= 1;
                    if parts_left[t] == 0 {
                        let sums = shared.keys[t].as_ref().map(|_| {
                            buckets[t]
                                .take()
                                .unwrap_or_else(|| new_buckets(&shared.tables[t]))
                        });
                        lines[t] = Some(finish_table(
                            writer,
                            shared,
                            t,
                            &mut totals[t],
                            &checksums[t],
                            sums.as_ref(),
                        )?);
                    }
                }
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        shared.stop.store(true, Ordering::Relaxed);
        return Err(e);
    }
    // Tables that no reader finished (a reader failed) have no line; the
    // reader's error is what the caller reports then.
    lines
        .into_iter()
        .map(|line| line.ok_or(Error::Stopped))
        .collect()
}

/// Records a table's totals once its last chunk is written.
fn finish_table(
    writer: &mut ArchiveWriter,
    shared: &Shared,
    t: usize,
    totals: &mut TableTotals,
    checksum: &TableChecksum,
    sums: Option<&Buckets>,
) -> Result<TableSummary> {
    let def = &shared.tables[t];
    let name = def.name.to_string();
    totals.checksum = checksum.value();
    let state = table_state(def, totals.rows, checksum.value(), sums);
    writer
        .write_table_state(shared.ids[t], &state, sums)
        .and_then(|()| writer.finish_table(shared.ids[t], totals))
        .map_err(|e| Error::from(e).in_table("backing up", &name))?;
    shared.progress.table_finished(&name);
    let started = shared
        .started
        .lock()
        .ok()
        .and_then(|s| s[t])
        .unwrap_or_else(Instant::now);
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
    /// Each row's key hash and row hash, for a table with a bucket key.
    hashes: Vec<(u64, u64)>,
}

/// Checksums and compresses one batch (on a worker).
fn compress(batch: RowBatch, level: i32, key: Option<&[usize]>) -> bru_format::Result<Compressed> {
    let mut checksum = TableChecksum::new();
    let mut hashes = Vec::new();
    match key {
        Some(key) => {
            let mut buf = Vec::new();
            hashes.reserve(batch.row_count());
            for row in batch.rows() {
                let (k, r) = bru_core::delta::hashes(row, key, &mut buf);
                checksum.add_hash(r);
                hashes.push((k, r));
            }
        }
        None => {
            for row in batch.rows() {
                checksum.add_row(row);
            }
        }
    }
    let chunk = encode_chunk(&batch, level)?;
    let rows = batch.row_count() as u64;
    batch.recycle();
    Ok(Compressed {
        chunk,
        rows,
        checksum,
        hashes,
    })
}

/// The bucket sums of `table` as a backup starts them: sized by its
/// estimated rows.
pub(crate) fn new_buckets(table: &TableDef) -> Buckets {
    Buckets::new(bru_core::delta::bits_for(table.estimated_rows.unwrap_or(0)))
}

/// The state recorded for a table of `rows` rows and `checksum`.
pub(crate) fn table_state(
    table: &TableDef,
    rows: u64,
    checksum: u64,
    sums: Option<&Buckets>,
) -> TableState {
    let key = bru_core::delta::key_columns(table)
        .filter(|_| sums.is_some())
        .map(|k| k.iter().map(|&i| table.columns[i].name.clone()).collect());
    TableState {
        rows,
        checksum: format!("{checksum:016x}"),
        key,
        bits: sums.map_or(0, |s| s.bits),
        key_sum: sums.map(|s| format!("{:016x}", s.key_sum)),
        // Filled in by the writer, which stores the sums.
        sums_crc32: None,
        rows_only: false,
    }
}
