//! `bru backup SOURCE DELTA --since PREVIOUS`: a delta archive of what
//! changed in the source since the archive `PREVIOUS` (the full archive or
//! the chain's latest delta).
//!
//! Tables are handed out largest first to up to `--jobs` reader sessions
//! of the one snapshot ([`Source::open_reader`]), and their chunks go to
//! one writer thread, as in a full backup. Each table is read once in the
//! snapshot and summed by the buckets the previous archive's state has (module docs of
//! [`bru_core::delta`]); a table whose sums all agree is unchanged and
//! costs nothing more. Otherwise it is read a second time, in the same
//! snapshot, and only the rows of the buckets that differ are written (for
//! a table without a bucket key, all of its rows when its checksum
//! differs). The delta records the state it applies to and its own, so the
//! next delta is taken against it alone.
//!
//! What the previous archive holds must still be what the source has:
//! the same tables with the same columns and keys. A table added, dropped
//! or altered since is refused by name (a delta carries rows, not schema
//! changes): take a new full backup then.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Mutex;
use std::time::Instant;

use bru_core::delta::{bucket_of, hashes, Buckets, TableState};
use bru_core::{BatchLimits, RowBatch, Source, TableChecksum, TableDef};
use bru_format::{
    encode_chunk, ArchiveReader, ArchiveWriter, Change, DeltaInfo, DeltaTable, EncodedChunk,
    StoredState, TableTotals, WriterOptions,
};

use crate::backup::{table_state, BackupOptions};
use crate::summary::object_names;
use crate::{Error, Progress, Result, Summary, TableSummary};

/// Backs up what changed in `source` since the archive `since` into a new
/// delta archive at `archive`.
pub fn backup_delta(
    source: &mut dyn Source,
    archive: &Path,
    since: &Path,
    options: &BackupOptions,
    progress: &dyn Progress,
) -> Result<Summary> {
    let started = Instant::now();
    let previous = ArchiveReader::open(since)?;
    previous.require_complete()?;
    let info = source.info();
    let prev_meta = previous.meta().clone();
    if prev_meta.source.engine != info.engine || prev_meta.source.database != info.database {
        return Err(Error::Delta(format!(
            "{} was taken from the {} database {}, not from this source ({} database {}); \
             take the delta from the database the archive was taken from",
            since.display(),
            prev_meta.source.engine,
            prev_meta.source.database,
            info.engine,
            info.database
        )));
    }
    let prev_tables = previous.tables()?;
    let states = previous.table_states()?;
    if states.is_empty() && !prev_tables.is_empty() {
        return Err(Error::Delta(format!(
            "{} records no table states (it was written by an older bru); take a new full \
             backup to start a chain",
            since.display()
        )));
    }
    let chain = match previous.delta_info() {
        Some(d) => DeltaInfo {
            base_archive_id: prev_meta.archive_id.clone(),
            chain_root_id: d.chain_root_id.clone(),
            position: d.position + 1,
        },
        None => DeltaInfo {
            base_archive_id: prev_meta.archive_id.clone(),
            chain_root_id: prev_meta.archive_id.clone(),
            position: 1,
        },
    };

    // The previous archive's tables, as the source has them now.
    let mut catalog = source.catalog()?;
    catalog
        .tables
        .retain(|t| !bru_core::journal::is_journal_table(&t.name));
    let mut tables = Vec::with_capacity(prev_tables.len());
    let mut prev_states = Vec::with_capacity(prev_tables.len());
    for entry in &prev_tables {
        let Some(now) = catalog.tables.iter().find(|t| t.name == entry.def.name) else {
            return Err(Error::Delta(format!(
                "table {} of {} is no longer in the source; a delta carries rows, not dropped \
                 tables: take a new full backup",
                entry.def.name,
                since.display()
            )));
        };
        same_shape(&entry.def, now)?;
        let state = states.get(&entry.id).cloned().ok_or_else(|| {
            Error::Delta(format!(
                "{} records no state for table {}; take a new full backup",
                since.display(),
                entry.def.name
            ))
        })?;
        tables.push(now.clone());
        prev_states.push(state);
    }
    if let Some(added) = catalog
        .tables
        .iter()
        .find(|t| !prev_tables.iter().any(|e| e.def.name == t.name))
    {
        return Err(Error::Delta(format!(
            "table {} was added to the source after {} was taken; a delta carries rows, not new \
             tables: take a new full backup (or leave the table out of the source's schema \
             until the migration is done)",
            added.name,
            since.display()
        )));
    }
    catalog.tables = tables;

    let mut writer = ArchiveWriter::create(
        archive,
        &info,
        &WriterOptions {
            force: options.force,
            compress_level: options.compress_level,
            tool_version: options.tool_version.clone(),
            chunk_bytes: options.chunk_bytes,
        },
    )?;
    writer.set_delta(&chain)?;
    let ids = writer.write_catalog(&catalog)?;
    progress.totals(
        catalog.tables.len(),
        catalog.tables.iter().map(|t| t.estimated_rows).sum(),
        None,
    );
    let limits = BatchLimits {
        max_bytes: options.chunk_bytes,
        ..BatchLimits::default()
    };
    // Largest tables first, each on the next free reader session.
    let mut order: Vec<usize> = (0..catalog.tables.len()).collect();
    order.sort_by_key(|&t| std::cmp::Reverse(catalog.tables[t].estimated_rows.unwrap_or(0)));
    let work = Mutex::new(order.into_iter().collect::<VecDeque<usize>>());
    let stop = AtomicBool::new(false);
    let jobs = crate::pipeline::pool_size(options.jobs);
    let readers = crate::pipeline::extra_sessions(jobs, || Ok(source.open_reader()?))?;
    let shared = Shared {
        tables: &catalog.tables,
        previous: &prev_states,
        work: &work,
        stop: &stop,
        limits,
        level: options.compress_level,
        progress,
    };
    let lines = crate::pipeline::readers_to_writer(
        source,
        readers,
        2 * jobs,
        |reader, to_writer| read_tables(reader, &shared, to_writer),
        |from_readers| write_all(&mut writer, &ids, &shared, from_readers),
    )?;
    writer.finish()?;
    Ok(Summary {
        tables: lines,
        objects: object_names(&catalog.objects),
        seconds: started.elapsed().as_secs_f64(),
        ..Summary::default()
    })
}

/// Refuses a table whose columns or key changed since the previous archive.
fn same_shape(before: &TableDef, now: &TableDef) -> Result<()> {
    let names = |t: &TableDef| -> Vec<(String, String)> {
        t.columns
            .iter()
            .map(|c| (c.name.clone(), c.ty.display_name()))
            .collect()
    };
    if names(before) != names(now) {
        let changed = now
            .columns
            .iter()
            .find(|c| {
                !before
                    .columns
                    .iter()
                    .any(|b| b.name == c.name && b.ty.display_name() == c.ty.display_name())
            })
            .map(|c| {
                format!(
                    "column {} ({}) is new or changed",
                    c.name,
                    c.ty.display_name()
                )
            })
            .or_else(|| {
                before
                    .columns
                    .iter()
                    .find(|b| !now.columns.iter().any(|c| c.name == b.name))
                    .map(|b| format!("column {} was dropped", b.name))
            })
            .unwrap_or_else(|| "its columns were reordered".into());
        return Err(Error::Delta(format!(
            "table {}: {changed} since the previous archive; a delta carries rows, not schema \
             changes: take a new full backup",
            now.name
        )));
    }
    let key = |t: &TableDef| t.primary_key.as_ref().map(|k| k.columns.clone());
    if key(before) != key(now) {
        return Err(Error::Delta(format!(
            "table {}: its primary key changed since the previous archive; take a new full backup",
            now.name
        )));
    }
    Ok(())
}

/// One table's delta: its chunks go to `send` as they are made; returns
/// what the writer records once they are all written.
fn delta_table(
    source: &mut dyn Source,
    def: &TableDef,
    previous: &StoredState,
    limits: BatchLimits,
    level: i32,
    send: &mut dyn FnMut(EncodedChunk) -> Result<()>,
) -> Result<TableDone> {
    let (prev_state, prev_sums) = previous;
    let key = bru_core::delta::key_columns(def);
    let key_names: Option<Vec<String>> = key
        .as_ref()
        .map(|k| k.iter().map(|&i| def.columns[i].name.clone()).collect());
    if key_names != prev_state.key {
        return Err(Error::Delta(format!(
            "table {}: the previous archive sums it by another key; take a new full backup",
            def.name
        )));
    }
    // Pass 1: the sums as the source has them now.
    let mut checksum = TableChecksum::new();
    let mut now = Buckets::new(prev_state.bits);
    let mut buf = Vec::new();
    source.read_table(def, limits, &mut |batch| {
        for row in batch.rows() {
            match &key {
                Some(k) => {
                    let (kh, rh) = hashes(row, k, &mut buf);
                    now.add(kh, rh);
                    checksum.add_hash(rh);
                }
                None => checksum.add_row(row),
            }
        }
        Ok(())
    })?;
    let sums = key.as_ref().map(|_| &now);
    let state_now = table_state(def, checksum.rows(), checksum.value(), sums);
    let changed: Vec<u32> = match (&key, prev_sums) {
        (Some(_), Some(prev)) => (0..now.sums.len())
            .filter(|&b| now.sums[b] != prev[b])
            .map(|b| b as u32)
            .collect(),
        (Some(_), None) => {
            return Err(Error::Delta(format!(
                "table {}: the previous archive has no bucket sums for it; take a new full backup",
                def.name
            )))
        }
        (None, _) => Vec::new(),
    };
    let unchanged = match &key {
        Some(_) => changed.is_empty(),
        None => same_totals(prev_state, &state_now),
    };
    let mut totals = TableTotals::default();
    let mut delta = None;
    if !unchanged {
        // Pass 2, in the same snapshot: the rows of the changed buckets.
        let mut wanted = vec![false; now.sums.len()];
        for &b in &changed {
            wanted[b as usize] = true;
        }
        let mut kept_sum = TableChecksum::new();
        let columns = def.columns.len();
        let mut failure = None;
        let read = source.read_table(def, limits, &mut |batch| {
            let mut out = RowBatch::new(columns);
            for row in batch.rows() {
                let keep = match &key {
                    Some(k) => {
                        let (kh, rh) = hashes(row, k, &mut buf);
                        let keep = wanted[bucket_of(kh, now.bits)];
                        if keep {
                            kept_sum.add_hash(rh);
                        }
                        keep
                    }
                    None => {
                        kept_sum.add_row(row);
                        true
                    }
                };
                if keep {
                    out.push_row(row.iter().cloned());
                }
            }
            if out.is_empty() {
                return Ok(());
            }
            let mut step = || -> Result<()> {
                let chunk = encode_chunk(&out, level)?;
                totals.rows += out.row_count() as u64;
                totals.raw_bytes += chunk.raw_len;
                totals.stored_bytes += chunk.data.len() as u64;
                totals.chunks += 1;
                send(chunk)
            };
            step().map_err(|e| {
                failure = Some(e);
                bru_core::Error::Unsupported("delta backup stopped".into())
            })
        });
        match (read, failure) {
            (_, Some(e)) => return Err(e),
            (Err(e), None) => return Err(e.into()),
            (Ok(()), None) => {}
        }
        totals.checksum = kept_sum.value();
        delta = Some(DeltaTable {
            change: if key.is_some() {
                Change::Buckets
            } else {
                Change::Whole
            },
            before: prev_state.clone(),
            before_sums: prev_sums.clone(),
            buckets: changed,
        });
    }
    Ok(TableDone {
        state: state_now,
        sums: key.map(|_| now),
        delta,
        totals,
    })
}

/// What the readers share.
struct Shared<'a> {
    tables: &'a [TableDef],
    previous: &'a [StoredState],
    /// Tables not yet taken, largest first.
    work: &'a Mutex<VecDeque<usize>>,
    /// Set on the first failure, so the other sessions stop early.
    stop: &'a AtomicBool,
    limits: BatchLimits,
    level: i32,
    progress: &'a dyn Progress,
}

/// One table, done on a reader: its new state, and what the delta holds.
struct TableDone {
    state: TableState,
    sums: Option<Buckets>,
    delta: Option<DeltaTable>,
    totals: TableTotals,
}

/// From a reader to the writer.
enum Message {
    Chunk(usize, EncodedChunk),
    Done(usize, Box<TableDone>, f64),
}

/// One reader session: takes tables until none are left.
fn read_tables(
    source: &mut dyn Source,
    shared: &Shared,
    to_writer: &SyncSender<Message>,
) -> Result<()> {
    loop {
        if shared.stop.load(Ordering::Relaxed) {
            return Err(Error::Stopped);
        }
        let Some(t) = shared
            .work
            .lock()
            .map_err(|_| Error::WorkerLost)?
            .pop_front()
        else {
            return Ok(());
        };
        let def = &shared.tables[t];
        let name = def.name.to_string();
        let started = Instant::now();
        shared
            .progress
            .table_started(&name, def.estimated_rows, None);
        let result = delta_table(
            source,
            def,
            &shared.previous[t],
            shared.limits,
            shared.level,
            &mut |chunk| {
                to_writer
                    .send(Message::Chunk(t, chunk))
                    .map_err(|_| Error::Stopped)
            },
        )
        .and_then(|done| {
            to_writer
                .send(Message::Done(
                    t,
                    Box::new(done),
                    started.elapsed().as_secs_f64(),
                ))
                .map_err(|_| Error::Stopped)
        });
        if let Err(e) = result {
            shared.stop.store(true, Ordering::Relaxed);
            return Err(match e {
                Error::Stopped => e,
                other => other.in_table("taking the delta of", &name),
            });
        }
    }
}

/// The writer: appends chunks as they come, and records each table's
/// state, delta and totals once it is done. The summary is in catalog
/// order.
fn write_all(
    writer: &mut ArchiveWriter,
    ids: &[bru_format::TableId],
    shared: &Shared,
    from_readers: Receiver<Message>,
) -> Result<Vec<TableSummary>> {
    let mut lines: Vec<Option<TableSummary>> = vec![None; shared.tables.len()];
    let result = (|| -> Result<()> {
        for message in from_readers {
            match message {
                Message::Chunk(t, chunk) => {
                    writer.write_chunk(ids[t], &chunk)?;
                    shared
                        .progress
                        .advance(&shared.tables[t].name.to_string(), 0, chunk.raw_len);
                }
                Message::Done(t, done, seconds) => {
                    let name = shared.tables[t].name.to_string();
                    if let Some(delta) = &done.delta {
                        writer.write_delta_table(ids[t], delta)?;
                    }
                    writer.write_table_state(ids[t], &done.state, done.sums.as_ref())?;
                    writer.finish_table(ids[t], &done.totals)?;
                    shared.progress.table_finished(&name);
                    lines[t] = Some(TableSummary {
                        table: name,
                        rows: done.totals.rows,
                        rows_loaded: done.totals.rows,
                        raw_bytes: done.totals.raw_bytes,
                        stored_bytes: done.totals.stored_bytes,
                        seconds,
                        ..TableSummary::default()
                    });
                }
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        shared.stop.store(true, Ordering::Relaxed);
        return Err(e);
    }
    lines
        .into_iter()
        .map(|line| line.ok_or(Error::Stopped))
        .collect()
}

/// Whether two states of a table without a bucket key hold the same rows.
fn same_totals(a: &TableState, b: &TableState) -> bool {
    a.rows == b.rows && a.checksum == b.checksum
}
