//! The restore executor.
//!
//! A restore runs the target through the phases of [`bru_core::Target`] in
//! order, each over all selected tables before the next begins:
//! 1. checks, before anything is touched: the archive is complete and every
//!    table has its totals; existing tables are refused (all of them named)
//!    unless `clean`, or, for `DataOnly`, every table is checked to take the
//!    archive's rows;
//! 2. pre-data: drop conflicting tables (`clean`), create the tables;
//! 3. data: per table, chunks are read in order and decoded on the worker
//!    pool while the target loads the previous ones; what was decoded is
//!    checked against the recorded row count and checksum before the table's
//!    load is committed;
//! 4. post-data: indexes and constraints per table, then views, triggers and
//!    other objects, then the target's final step. Objects the target could
//!    not create, and whatever else it left out ([`Target::take_skipped`]),
//!    are listed in [`Summary::skipped`].
//!
//! Memory is bounded the same way as in backup: at most `2 × jobs` chunks are
//! decoded or waiting to be loaded at any time.

use std::path::Path;
use std::time::Instant;

use bru_core::{ObjectDef, ObjectOutcome, TableName, Target};
use bru_format::{ArchiveReader, TableEntry, TableTotals};
use rayon::ThreadPool;

use crate::readback::{read_table, require_totals};
use crate::{pipeline, Error, Progress, Result, Summary, TableFilter, TableSummary};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreMode {
    /// Schema and data.
    Full,
    /// Tables, indexes, constraints and objects, no rows.
    SchemaOnly,
    /// Rows only, into tables that already exist. Indexes, constraints and
    /// objects are expected to be there already and are not created.
    DataOnly,
}

impl RestoreMode {
    fn creates_schema(self) -> bool {
        self != RestoreMode::DataOnly
    }

    fn loads_data(self) -> bool {
        self != RestoreMode::SchemaOnly
    }
}

#[derive(Debug, Clone)]
pub struct RestoreOptions {
    pub filter: TableFilter,
    pub mode: RestoreMode,
    /// Drop tables that already exist in the target instead of refusing.
    pub clean: bool,
    /// Worker threads for decompression and decoding; 0 means one per core.
    pub jobs: usize,
}

/// One selected table with the totals the archive recorded for it.
struct Planned {
    entry: TableEntry,
    totals: TableTotals,
    name: String,
}

/// Restores the tables of `archive` selected by `options.filter`, and their
/// objects, into `target`.
///
/// Returns a per-table summary and the objects created or skipped. Fails
/// before touching the target if the archive is missing, damaged at the
/// metadata level or incomplete, if tables already exist (without `clean`),
/// or, in `DataOnly` mode, if a table cannot take the rows. Fails during the
/// data phase, naming the table (and chunk), if a chunk is damaged or the rows
/// read back do not match the recorded count and checksum.
pub fn restore(
    archive: &Path,
    target: &mut dyn Target,
    options: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<Summary> {
    let started = Instant::now();
    let reader = ArchiveReader::open(archive)?;
    reader.require_complete()?;
    let catalog = options.filter.apply(&reader.catalog()?);
    let tables = reader
        .tables()?
        .into_iter()
        .filter(|e| options.filter.matches(&e.def.name))
        .map(|entry| {
            Ok(Planned {
                totals: require_totals(archive, &entry)?,
                name: entry.def.name.to_string(),
                entry,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let pool = pipeline::pool(options.jobs)?;
    let mode = options.mode;
    let mut summary = Summary::default();

    if mode.creates_schema() {
        let pre = catalog.objects.iter().filter(|o| o.is_pre_data()).collect();
        pre_data(target, &tables, pre, options.clean, progress, &mut summary)?;
    } else {
        progress.message("checking the existing tables");
        for t in &tables {
            target
                .check_table(&t.entry.def)
                .map_err(|e| Error::from(e).in_table("checking", &t.name))?;
        }
    }

    for t in &tables {
        let line = if mode.loads_data() {
            load_table(&reader, archive, &pool, target, t, progress)
                .map_err(|e| e.in_table("restoring", &t.name))?
        } else {
            TableSummary {
                table: t.name.clone(),
                ..TableSummary::default()
            }
        };
        summary.tables.push(line);
    }

    if mode.creates_schema() {
        progress.message("building indexes and constraints");
        for t in &tables {
            target
                .finish_table(&t.entry.def)
                .map_err(|e| Error::from(e).in_table("finishing", &t.name))?;
        }
        let post: Vec<&ObjectDef> = catalog
            .objects
            .iter()
            .filter(|o| !o.is_pre_data())
            .collect();
        if !post.is_empty() {
            progress.message("creating views, triggers and other objects");
        }
        create_objects(target, post, &mut summary)?;
    }
    target.finish()?;
    // What the target itself left out (a CHECK in another engine's SQL, an
    // index it cannot express...) is reported with the skipped objects.
    summary.skipped.extend(target.take_skipped());
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Refuses existing tables (naming all of them) unless `clean`, in which case
/// they are dropped; then creates every table without its secondary indexes.
fn pre_data(
    target: &mut dyn Target,
    tables: &[Planned],
    objects: Vec<&ObjectDef>,
    clean: bool,
    progress: &dyn Progress,
    summary: &mut Summary,
) -> Result<()> {
    let names: Vec<TableName> = tables.iter().map(|t| t.entry.def.name.clone()).collect();
    let existing = target.existing_tables(&names)?;
    if !existing.is_empty() {
        if !clean {
            let listed = existing.iter().map(ToString::to_string).collect();
            return Err(bru_core::Error::TablesExist(listed).into());
        }
        progress.message(&format!("dropping {} existing table(s)", existing.len()));
        target.drop_tables(&existing)?;
    }
    if !objects.is_empty() {
        progress.message("creating schemas, types, sequences and functions");
    }
    create_objects(target, objects, summary)?;
    progress.message("creating tables");
    for t in tables {
        target
            .create_table(&t.entry.def)
            .map_err(|e| Error::from(e).in_table("creating", &t.name))?;
    }
    Ok(())
}

/// Creates `objects` in order, recording each as created or skipped.
fn create_objects(
    target: &mut dyn Target,
    objects: Vec<&ObjectDef>,
    summary: &mut Summary,
) -> Result<()> {
    for object in objects {
        let what = format!("{} {}", object.kind, object.name);
        match target.create_object(object)? {
            ObjectOutcome::Created => summary.objects.push(what),
            ObjectOutcome::Skipped(reason) => summary.skipped.push(format!("{what}: {reason}")),
        }
    }
    Ok(())
}

/// Loads one table's rows, decoding chunks on `pool` while the target writes.
/// The load is committed only after the rows read back match the archive's
/// row count and checksum.
fn load_table(
    reader: &ArchiveReader,
    archive: &Path,
    pool: &ThreadPool,
    target: &mut dyn Target,
    table: &Planned,
    progress: &dyn Progress,
) -> Result<TableSummary> {
    let started = Instant::now();
    let name = table.name.as_str();
    progress.table_started(name, Some(table.totals.rows), Some(table.totals.raw_bytes));
    let mut loader = target.load(&table.entry.def)?;
    let read = read_table(
        reader,
        archive,
        pool,
        &table.entry,
        &table.totals,
        |chunk| {
            loader.write_batch(&chunk.batch)?;
            progress.advance(name, chunk.batch.row_count() as u64, chunk.raw_len);
            Ok(())
        },
    )?;
    let loaded = loader.finish()?;
    if loaded != read.rows {
        return Err(Error::LoadedRows {
            table: name.to_owned(),
            given: read.rows,
            loaded,
        });
    }
    // Counters belong with the data (as in pg_restore's data section), so
    // they are set in --data-only restores too.
    target.restore_identity(&table.entry.def)?;
    progress.table_finished(name);
    Ok(TableSummary {
        table: name.to_owned(),
        rows: read.rows,
        raw_bytes: read.raw_bytes,
        stored_bytes: read.stored_bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}
