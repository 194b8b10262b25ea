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

use bru_core::changes::{CapturedChanges, TableChanges};
use bru_core::delta::{bucket_of, hashes, Buckets, TableState};
use bru_core::{BatchLimits, ColumnType, RowBatch, Source, TableChecksum, TableDef, Value};
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
    backup_delta_sealed(source, archive, since, options, None, progress)
}

/// Like [`backup_delta`], and with `seal` an encrypted delta. The delta of
/// an encrypted archive must be encrypted too: it holds the same rows.
pub fn backup_delta_sealed(
    source: &mut dyn Source,
    archive: &Path,
    since: &Path,
    options: &BackupOptions,
    seal: Option<&bru_format::Seal>,
    progress: &dyn Progress,
) -> Result<Summary> {
    let started = Instant::now();
    let previous = ArchiveReader::open(since)?;
    previous.require_complete()?;
    if previous.meta().encryption.is_some() && seal.is_none() {
        return Err(Error::Delta(format!(
            "{} is encrypted, and its delta would hold the same rows in clear; take the delta \
             with --encrypt (and --recipient, --key-file or a passphrase) too",
            since.display()
        )));
    }
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

    // The chain's change slot, unless the generic method is asked for.
    let slot = previous.change_slot()?;
    if let Some(last) = &options.drop_slot {
        match &slot {
            Some((name, _)) if name == last => {}
            Some((name, _)) => {
                return Err(Error::Delta(format!(
                    "this chain's change slot is {name}, not {last}: give --drop-slot {name} to                      end the chain with this delta, or leave --drop-slot out"
                )))
            }
            None => {
                return Err(Error::Delta(format!(
                    "{} records no change slot, so there is no slot {last} to drop with this                      delta; leave --drop-slot out (or drop a slot on its own with bru backup                      SOURCE --drop-slot NAME)",
                    since.display()
                )))
            }
        }
    }
    let captured = match &slot {
        Some((name, position)) if !options.generic => Some(
            source
                .read_changes(name, position, &catalog.tables)
                .map_err(|e| match e {
                    bru_core::Error::Unsupported(why) => Error::Delta(format!(
                        "{} reads change slot {name}, but {why}; take the delta with --generic",
                        since.display()
                    )),
                    other => other.into(),
                })?,
        ),
        _ => None,
    };
    let plans: Vec<Plan> = catalog
        .tables
        .iter()
        .zip(&prev_states)
        .map(|(def, prev)| plan_table(def, prev, captured.as_ref()))
        .collect::<Result<_>>()?;

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
        plans: &plans,
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
    // Where the next delta reads the slot from: past what this one holds
    // (a generic delta leaves the slot where it was).
    let next = match (&slot, &captured) {
        (Some((name, _)), Some(c)) => {
            Some((name.clone(), c.upto.clone().unwrap_or(c.from.clone())))
        }
        (Some((name, position)), None) => Some((name.clone(), position.clone())),
        (None, _) => None,
    };
    if let Some((name, position)) = next.as_ref().filter(|_| options.drop_slot.is_none()) {
        writer.set_change_slot(name, position)?;
    }
    writer.finish()?;
    // Only now, with the archive complete, may the slot move past its
    // changes (or, after the chain's last delta, go): a delta that failed
    // earlier leaves them to the next one.
    let mut skipped = Vec::new();
    if let (Some(name), Some(_)) = (&options.drop_slot, &slot) {
        match source.drop_change_slot(name) {
            Ok(true) => {}
            Ok(false) => skipped.push(format!(
                "change slot {name}: already gone from the source when this delta was complete"
            )),
            Err(e) => skipped.push(format!(
                "change slot {name}: not dropped ({e}); it keeps the source's WAL until it is:                  bru backup SOURCE --drop-slot {name}"
            )),
        }
    } else if let (Some((name, _)), Some(CapturedChanges { upto: Some(to), .. })) =
        (&slot, &captured)
    {
        if let Err(e) = source.advance_change_slot(name, to) {
            skipped.push(format!(
                "change slot {name}: not moved on ({e}); the next delta names these changes \
                 again, which is harmless"
            ));
        }
    }
    Ok(Summary {
        tables: lines,
        objects: object_names(&catalog.objects),
        skipped,
        seconds: started.elapsed().as_secs_f64(),
        ..Summary::default()
    })
}

/// How one table's delta is found.
enum Plan {
    /// Summed and compared with the previous state (the generic method).
    Sums,
    /// The change slot named no change: the previous state stands.
    Unchanged,
    /// The change slot named these keys: they are read again.
    Keys(Vec<Vec<String>>),
}

/// Whether a table's changes can be taken by key: its bucket key is its
/// primary key, of integer and text columns only (whose text forms the
/// source names and reads back exactly).
fn by_key(def: &TableDef) -> Option<Vec<usize>> {
    let key = bru_core::delta::key_columns(def)?;
    key.iter()
        .all(|&i| {
            matches!(
                def.columns[i].ty,
                ColumnType::Int16 | ColumnType::Int32 | ColumnType::Int64 | ColumnType::Text { .. }
            )
        })
        .then_some(key)
}

fn plan_table(
    def: &TableDef,
    previous: &StoredState,
    captured: Option<&CapturedChanges>,
) -> Result<Plan> {
    let Some(captured) = captured else {
        if previous.0.rows_only {
            return Err(Error::Delta(format!(
                "table {}: the previous archive is a delta taken from a change slot, which \
                 records only its row count, not the sums a delta without the slot compares \
                 with; take this delta from the slot too (without --generic), or a new full \
                 backup",
                def.name
            )));
        }
        return Ok(Plan::Sums);
    };
    Ok(match (captured.of(&def.name), by_key(def)) {
        (None, _) => Plan::Unchanged,
        (Some(TableChanges::Keys(keys)), Some(_)) => Plan::Keys(keys.clone()),
        // A TRUNCATE, or a table whose changes name no usable key: summed
        // as the generic method does, or read whole after a slot delta.
        _ => Plan::Sums,
    })
}

/// A table whose change slot named `keys`: the rows of those keys, read
/// again in the snapshot, and the keys no longer there, deleted.
fn keys_table(
    source: &mut dyn Source,
    def: &TableDef,
    previous: &StoredState,
    keys: &[Vec<String>],
    limits: BatchLimits,
    level: i32,
    send: &mut dyn FnMut(EncodedChunk) -> Result<()>,
) -> Result<TableDone> {
    let key = by_key(def).ok_or_else(|| {
        Error::Delta(format!(
            "table {}: no integer or text key to read by",
            def.name
        ))
    })?;
    let text_of = |v: &Value| match v {
        Value::Int16(i) => Some(i.to_string()),
        Value::Int32(i) => Some(i.to_string()),
        Value::Int64(i) => Some(i.to_string()),
        Value::Text(t) => Some(t.clone()),
        _ => None,
    };
    let mut found = std::collections::HashSet::new();
    let mut totals = TableTotals::default();
    let mut sum = TableChecksum::new();
    let mut failure = None;
    let read = source.read_keys(def, &key, keys, limits, &mut |batch| {
        for row in batch.rows() {
            sum.add_row(row);
            let k: Option<Vec<String>> = key.iter().map(|&i| text_of(&row[i])).collect();
            if let Some(k) = k {
                found.insert(k);
            }
        }
        if batch.is_empty() {
            return Ok(());
        }
        let mut step = || -> Result<()> {
            let chunk = encode_chunk(&batch, level)?;
            totals.rows += batch.row_count() as u64;
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
    totals.checksum = sum.value();
    let mut deleted = Vec::new();
    for k in keys.iter().filter(|k| !found.contains(*k)) {
        let values = key
            .iter()
            .zip(k)
            .map(|(&i, text)| match def.columns[i].ty {
                ColumnType::Text { .. } => Ok(Value::Text(text.clone())),
                _ => text.parse().map(Value::Int64).map_err(|_| {
                    Error::Delta(format!(
                        "table {}: the change slot names key {text:?} for integer column {}",
                        def.name, def.columns[i].name
                    ))
                }),
            })
            .collect::<Result<Vec<Value>>>()?;
        deleted.push(values);
    }
    let rows = source.count_rows(def)?;
    let state = TableState {
        rows,
        checksum: String::new(),
        key: Some(key.iter().map(|&i| def.columns[i].name.clone()).collect()),
        bits: 0,
        key_sum: None,
        sums_crc32: None,
        rows_only: true,
    };
    Ok(TableDone {
        state,
        sums: None,
        delta: Some(DeltaTable {
            change: Change::Keys,
            before: previous.0.clone(),
            before_sums: None,
            buckets: Vec::new(),
            deleted,
        }),
        totals,
    })
}

/// A table the change slot named no change of: its previous state.
fn unchanged(previous: &StoredState) -> TableDone {
    let (state, sums) = previous;
    let sums = sums.as_ref().map(|sums| Buckets {
        bits: state.bits,
        sums: sums.clone(),
        key_sum: state
            .key_sum
            .as_deref()
            .and_then(|k| u64::from_str_radix(k, 16).ok())
            .unwrap_or(0),
        rows: state.rows,
    });
    TableDone {
        state: state.clone(),
        sums,
        delta: None,
        totals: TableTotals::default(),
    }
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
    let mut now = match prev_sums {
        None if prev_state.rows_only => crate::backup::new_buckets(def),
        _ => Buckets::new(prev_state.bits),
    };
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
        // After a delta from the change slot (a TRUNCATE since): whole.
        (Some(_), None) if prev_state.rows_only => Vec::new(),
        (Some(_), None) => {
            return Err(Error::Delta(format!(
                "table {}: the previous archive has no bucket sums for it; take a new full backup",
                def.name
            )))
        }
        (None, _) => Vec::new(),
    };
    let whole = key.is_none() || prev_sums.is_none();
    let unchanged = match &key {
        Some(_) if !whole => changed.is_empty(),
        _ => same_totals(prev_state, &state_now),
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
                    Some(k) if !whole => {
                        let (kh, rh) = hashes(row, k, &mut buf);
                        let keep = wanted[bucket_of(kh, now.bits)];
                        if keep {
                            kept_sum.add_hash(rh);
                        }
                        keep
                    }
                    _ => {
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
            change: if whole {
                Change::Whole
            } else {
                Change::Buckets
            },
            before: prev_state.clone(),
            before_sums: prev_sums.clone(),
            buckets: changed,
            deleted: Vec::new(),
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
    plans: &'a [Plan],
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
        let mut send = |chunk| {
            to_writer
                .send(Message::Chunk(t, chunk))
                .map_err(|_| Error::Stopped)
        };
        let previous = &shared.previous[t];
        let (limits, level) = (shared.limits, shared.level);
        let result = match &shared.plans[t] {
            Plan::Sums => delta_table(source, def, previous, limits, level, &mut send),
            Plan::Unchanged => Ok(unchanged(previous)),
            Plan::Keys(keys) => keys_table(source, def, previous, keys, limits, level, &mut send),
        }
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
