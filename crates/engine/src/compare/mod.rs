//! Proving a migration: comparing a live database with an archive
//! ([`verify_against`], `bru verify ARCHIVE --against URL`) or with another
//! live database, possibly of another engine ([`compare_databases`],
//! `bru compare A B`).
//!
//! Each side is read as backup reads it, in one consistent snapshot (its
//! [`Source`] opens one, and its extra readers join it), so a compare of a
//! database being written compares one moment of each side. Tables and
//! columns are paired and their definitions compared (module `schema`);
//! then every paired table's rows are counted and hashed with the archive's
//! own order-independent content checksum, over the columns both sides
//! have, in the neutral form of module `normalize` when the engines differ.
//! A table read as it is, of the archive's own engine, is compared with the
//! totals the archive recorded, without reading its chunks.
//!
//! Between two live databases of one engine, tables with the same
//! definition are first digested by the servers themselves (module
//! `digest`); only those whose digests differ, or that have none, are read.
//!
//! A table with a primary key that differs is narrowed down to its
//! differing keys (module `buckets`): the first pass also sums rows into
//! bounded per-key-range buckets; the buckets that differ, at most
//! `max_diffs` of them, are read again (by key range through
//! [`Source::read_int_range`] where the key is one integer column and the
//! source can, else by reading the table and keeping those buckets' rows),
//! and their rows matched by neutral key value, never by either server's
//! sort order. A table without a primary key that differs is reported by
//! its counts and checksums.
//!
//! [`compare()`] is the older, simpler check the demo uses: a database
//! against an archive by the recorded totals, stopping at the first table
//! that differs.

mod archive_totals;
mod buckets;
mod digest;
mod normalize;
mod report;
mod scan;
mod schema;

use std::path::Path;
use std::time::Instant;

use bru_core::{Source, TableDef};
use bru_format::ArchiveReader;

pub use archive_totals::{compare, TableMatch};
pub use report::{CompareReport, DiffKind, RowDiff, TableReport, TableStatus};

use crate::{Progress, Result, TableFilter};
use scan::Side;

/// What [`compare_databases`] and [`verify_against`] compare and how.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// The tables compared (matched on each side by its own names).
    pub filter: TableFilter,
    /// Readers per side (and decoding threads for an archive).
    pub jobs: usize,
    /// The most differing keys named per table.
    pub max_diffs: usize,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            filter: TableFilter::default(),
            jobs: 1,
            max_diffs: 20,
        }
    }
}

/// Compares database `a` (the source of a migration) with database `b`
/// (its target): tables, their definitions and their rows. `a_label` and
/// `b_label` are how the report shows them (without passwords).
///
/// Returns the report, whether or not anything differs
/// ([`CompareReport::matches`]). Fails when a side cannot be read (a table
/// read fails, a reader cannot join the snapshot), or when the patterns
/// select no table of side `a`.
pub fn compare_databases(
    a: Box<dyn Source>,
    a_label: &str,
    b: Box<dyn Source>,
    b_label: &str,
    options: &CompareOptions,
    progress: &dyn Progress,
) -> Result<CompareReport> {
    let started = Instant::now();
    let a = Side::live(a, a_label, &options.filter, options.jobs, true)?;
    let b = Side::live(b, b_label, &options.filter, options.jobs, false)?;
    run(a, b, options, progress, started)
}

/// Compares the live database `database` with `archive`: its tables, their
/// definitions, and each table's rows with what the archive holds (by the
/// recorded totals where the table is read as the backup read it).
///
/// Returns the report whether or not anything differs. Fails when the
/// archive is missing, damaged or incomplete, when a side cannot be read,
/// or when the patterns select no table of the archive.
pub fn verify_against(
    archive: &Path,
    database: Box<dyn Source>,
    database_label: &str,
    options: &CompareOptions,
    progress: &dyn Progress,
) -> Result<CompareReport> {
    let started = Instant::now();
    let reader = ArchiveReader::open(archive)?;
    reader.require_complete()?;
    let a = Side::archive(archive, reader, &options.filter, options.jobs)?;
    let b = Side::live(
        database,
        database_label,
        &options.filter,
        options.jobs,
        false,
    )?;
    run(a, b, options, progress, started)
}

fn run(
    mut a: Side,
    mut b: Side,
    options: &CompareOptions,
    progress: &dyn Progress,
    started: Instant,
) -> Result<CompareReport> {
    let same_engine = a.engine == b.engine;
    let pairing = schema::pair(&a.tables, &b.tables, same_engine);
    let mut report = CompareReport {
        a: a.label.clone(),
        b: b.label.clone(),
        ..CompareReport::default()
    };
    if !same_engine {
        report.not_compared.push(format!(
            "{} and {} are different engines: column defaults, native type names, and index \
             predicates and methods are each engine's own SQL and were not compared; values \
             were compared in the neutral model",
            a.engine, b.engine
        ));
    }
    report.not_compared.push(
        "views, triggers, sequences and other objects besides tables were not compared".into(),
    );
    // Tables the servers find equal by their own digests are not read; the
    // others are read and hashed here.
    let digests = digest::digest_both(&mut a, &mut b, &pairing.pairs, progress)?;
    let mut served: Vec<Option<(scan::Scan, scan::Scan)>> = Vec::new();
    // Tables whose server-side key ranges differ, whatever their totals.
    let mut forced = Vec::new();
    for (pair, d) in pairing.pairs.iter().zip(&digests) {
        let decided = d.as_ref().and_then(|(x, y)| digest::decide(x, y));
        let differ = decided.as_ref().is_some_and(|d| d.2);
        if decided.is_some() && !differ {
            report.by_digest.push(pair.name.clone());
        }
        served.push(decided.map(|(sa, sb, _)| (sa, sb)));
        forced.push(differ);
    }
    let unread: Vec<schema::Pair> = pairing
        .pairs
        .iter()
        .zip(&served)
        .filter(|(_, s)| s.is_none())
        .map(|(p, _)| p.clone())
        .collect();
    let mut read = scan::scan_both(&mut a, &mut b, &unread, options.jobs, progress)?.into_iter();
    let mut scans: Vec<(scan::Scan, scan::Scan)> = served
        .into_iter()
        .map(|s| s.unwrap_or_else(|| read.next().unwrap_or_default()))
        .collect();
    for ((pair, (sa, sb)), forced) in pairing.pairs.iter().zip(scans.iter_mut()).zip(forced) {
        let mut t = TableReport::new(pair.name.clone(), TableStatus::Match);
        t.schema = pair.schema.clone();
        // A side read by its recorded totals has no buckets; read it when
        // it differs, to narrow it down.
        let differs = forced || sa.rows != sb.rows || sa.sum != sb.sum;
        if differs && pair.key.is_some() && sa.buckets.is_none() {
            *sa = a.scan_serial(pair, scan::Which::A, progress)?;
        }
        if differs && pair.key.is_some() && sb.buckets.is_none() {
            *sb = b.scan_serial(pair, scan::Which::B, progress)?;
        }
        t.rows_a = Some(sa.rows);
        t.rows_b = Some(sb.rows);
        t.checksum_a = Some(format!("{:016x}", sa.sum));
        t.checksum_b = Some(format!("{:016x}", sb.sum));
        if differs {
            t.status = TableStatus::Differs;
            match &pair.key {
                Some(_) => {
                    let (diffs, more) =
                        scan::narrow(&mut a, &mut b, pair, sa, sb, options.max_diffs, progress)?;
                    t.diffs = diffs;
                    t.more_diffs = more;
                }
                None => t.not_narrowed = pair.no_key.clone(),
            }
        } else if !pair.schema.is_empty() {
            t.status = TableStatus::SchemaDiffers;
        }
        report.tables.push(t);
    }
    for (tables, status) in [
        (&pairing.only_a, TableStatus::MissingInTarget),
        (&pairing.only_b, TableStatus::ExtraInTarget),
    ] {
        for t in tables {
            let mut r = TableReport::new(t.name.to_string(), status);
            r.schema
                .push(format!("table {} {}", t.name, status.label()));
            report.tables.push(r);
        }
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The tables of `tables` that `filter` selects; with `strict`, an error
/// when patterns select none or an `--include` matches none (side A's
/// tables, which the patterns are written for).
fn select(tables: Vec<TableDef>, filter: &TableFilter, strict: bool) -> Result<Vec<TableDef>> {
    if strict {
        let catalog = bru_core::Catalog {
            tables,
            objects: Vec::new(),
        };
        return Ok(filter.apply(&catalog)?.catalog.tables);
    }
    Ok(tables
        .into_iter()
        .filter(|t| filter.matches(&t.name))
        .collect())
}
