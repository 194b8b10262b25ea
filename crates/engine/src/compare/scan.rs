//! Reading the two sides: the first pass (counts, checksums and key-range
//! buckets of every paired table, both sides at once, each on its own
//! readers of its one snapshot) and the second (the rows of the buckets
//! that differ, to name their keys).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering as Atomic};
use std::sync::Mutex;

use bru_core::checksum::{canonical_bytes, row_hash};
use bru_core::{BatchLimits, KeyRange, RowBatch, Source, TableDef, TablePart, Value};
use bru_format::{ArchiveReader, TableEntry};
use rayon::ThreadPool;
use xxhash_rust::xxh3::xxh3_64;

use super::buckets::{bucket_of, int_coordinate, int_range, Bucket, Buckets};
use super::report::{DiffKind, RowDiff};
use super::schema::Pair;
use super::select;
use crate::pipeline::{extra_sessions, pool, window};
use crate::readback::{read_chunks, require_totals};
use crate::{Error, Progress, Result, TableFilter};

/// Which side of a [`Pair`] is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    A,
    B,
}

impl Which {
    pub(super) fn word(self) -> &'static str {
        match self {
            Which::A => "source",
            Which::B => "target",
        }
    }
}

/// What the first pass found for one side of one table.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scan {
    pub rows: u64,
    pub sum: u64,
    /// For a table with a key; `None` also for an archive table compared by
    /// its recorded totals.
    pub buckets: Option<Buckets>,
}

impl Scan {
    fn for_pair(pair: &Pair) -> Scan {
        Scan {
            buckets: pair.key.as_ref().map(|_| Buckets::default()),
            ..Scan::default()
        }
    }

    fn merge(&mut self, other: Scan) {
        self.rows += other.rows;
        self.sum = self.sum.wrapping_add(other.sum);
        match (&mut self.buckets, other.buckets) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (None, theirs) => self.buckets = theirs,
            (Some(_), None) => {}
        }
    }
}

/// One side: an archive or a live database, with the tables selected.
pub(crate) struct Side {
    pub label: String,
    pub engine: String,
    pub tables: Vec<TableDef>,
    kind: Kind,
}

enum Kind {
    Archive {
        path: PathBuf,
        reader: Box<ArchiveReader>,
        entries: Vec<TableEntry>,
        pool: ThreadPool,
    },
    Live {
        primary: Box<dyn Source>,
        extra: Vec<Box<dyn Source + Send>>,
    },
}

impl Side {
    /// A live database, with up to `jobs - 1` extra readers on its snapshot.
    pub fn live(
        mut source: Box<dyn Source>,
        label: &str,
        filter: &TableFilter,
        jobs: usize,
        strict: bool,
    ) -> Result<Side> {
        let engine = source.info().engine;
        let mut catalog = source.catalog()?;
        // bru's own restore journal (which keeps a delta chain's position
        // in a migration's target) is not the database's.
        catalog
            .tables
            .retain(|t| !bru_core::journal::is_journal_table(&t.name));
        let tables = select(catalog.tables, filter, strict)?;
        let extra = extra_sessions(jobs, || Ok(source.open_reader()?))?;
        Ok(Side {
            label: label.to_owned(),
            engine,
            tables,
            kind: Kind::Live {
                primary: source,
                extra,
            },
        })
    }

    /// An archive, decoded on `jobs` threads.
    pub fn archive(
        path: &Path,
        reader: ArchiveReader,
        filter: &TableFilter,
        jobs: usize,
    ) -> Result<Side> {
        let engine = reader.meta().source.engine.clone();
        let entries = reader.tables()?;
        let catalog = bru_core::Catalog {
            tables: entries.iter().map(|e| e.def.clone()).collect(),
            objects: Vec::new(),
        };
        let tables = select(catalog.tables, filter, true)?;
        Ok(Side {
            label: format!("archive {}", path.display()),
            engine,
            tables,
            kind: Kind::Archive {
                path: path.to_owned(),
                reader: Box::new(reader),
                entries,
                pool: pool(jobs)?,
            },
        })
    }

    pub(super) fn def(pair: &Pair, which: Which) -> &TableDef {
        match which {
            Which::A => &pair.a,
            Which::B => &pair.b,
        }
    }

    /// Streams every row of `def` to `each`, on this side's main reader.
    fn read_all(
        &mut self,
        def: &TableDef,
        progress: &dyn Progress,
        label: &str,
        each: &mut dyn FnMut(&RowBatch) -> Result<()>,
    ) -> Result<()> {
        progress.table_started(label, def.estimated_rows, None);
        let result = match &mut self.kind {
            Kind::Archive {
                path,
                reader,
                entries,
                pool,
            } => {
                let entry = entries
                    .iter()
                    .find(|e| e.def.name == def.name)
                    .ok_or_else(|| Error::MissingTotals {
                        archive: path.clone(),
                        table: def.name.to_string(),
                    })?;
                let totals = require_totals(path, entry)?;
                let read =
                    read_chunks(reader, path, pool, window(pool), entry, 0..u64::MAX, |c| {
                        progress.advance(label, c.batch.row_count() as u64, c.raw_len);
                        each(&c.batch)
                    })?;
                read.compare(path, &def.name.to_string(), &totals)
            }
            Kind::Live { primary, .. } => primary
                .read_table(def, BatchLimits::default(), &mut |batch| {
                    progress.advance(label, batch.row_count() as u64, 0);
                    each(&batch).map_err(into_core)
                })
                .map_err(Error::from),
        };
        progress.table_finished(label);
        result.map_err(|e| e.in_table("comparing", &def.name.to_string()))
    }

    /// The first pass over one table on this side's main reader.
    pub fn scan_serial(
        &mut self,
        pair: &Pair,
        which: Which,
        progress: &dyn Progress,
    ) -> Result<Scan> {
        let mut scan = Scan::for_pair(pair);
        let mut hasher = RowHasher::new(pair, which);
        let label = format!("{} ({})", pair.name, which.word());
        self.read_all(Self::def(pair, which), progress, &label, &mut |batch| {
            hasher.add(&mut scan, batch);
            Ok(())
        })?;
        Ok(scan)
    }

    /// The first pass for an archive table read as the backup read it: its
    /// recorded totals.
    fn recorded(&self, pair: &Pair, which: Which) -> Option<Result<Scan>> {
        let Kind::Archive { path, entries, .. } = &self.kind else {
            return None;
        };
        let identity = match which {
            Which::A => pair.identity_a,
            Which::B => pair.identity_b,
        };
        if !identity {
            return None;
        }
        let def = Self::def(pair, which);
        let entry = entries.iter().find(|e| e.def.name == def.name)?;
        Some(require_totals(path, entry).map(|t| Scan {
            rows: t.rows,
            sum: t.checksum,
            buckets: None,
        }))
    }

    /// The rows of `chosen` buckets of `pair` on this side, by key bytes.
    fn collect(
        &mut self,
        pair: &Pair,
        which: Which,
        chosen: &[Bucket],
        shift: u32,
        progress: &dyn Progress,
    ) -> Result<HashMap<Vec<u8>, KeyedRow>> {
        let mut rows = HashMap::new();
        let mut hasher = RowHasher::new(pair, which);
        let def = Self::def(pair, which);
        let label = format!("{} ({}, differing keys)", pair.name, which.word());
        let key = pair.key.as_ref().expect("narrowed tables have a key");
        let mut keep = |batch: &RowBatch, rows: &mut HashMap<Vec<u8>, KeyedRow>| {
            for row in batch.rows() {
                let bucket = bucket_of(hasher.coordinate(row), shift);
                if chosen.binary_search(&bucket).is_ok() {
                    let (bytes, keyed) = hasher.keyed(row);
                    rows.insert(bytes, keyed);
                }
            }
        };
        if let Kind::Live { primary, .. } = &mut self.kind {
            if key.int && !chosen.contains(&Bucket::Odd) {
                let column = match which {
                    Which::A => &key.names_a[0],
                    Which::B => &key.names_b[0],
                };
                let mut ranged = true;
                for bucket in chosen {
                    let Bucket::Range(id) = bucket else { continue };
                    let (from, to) = int_range(*id, shift);
                    let read = primary.read_int_range(
                        def,
                        column,
                        KeyRange { from, to },
                        BatchLimits::default(),
                        &mut |batch| {
                            keep(&batch, &mut rows);
                            Ok(())
                        },
                    );
                    match read {
                        Ok(()) => {}
                        Err(bru_core::Error::Unsupported(_)) => {
                            ranged = false;
                            break;
                        }
                        Err(e) => {
                            return Err(Error::from(e).in_table("comparing", &def.name.to_string()))
                        }
                    }
                }
                if ranged {
                    return Ok(rows);
                }
            }
        }
        self.read_all(def, progress, &label, &mut |batch| {
            keep(batch, &mut rows);
            Ok(())
        })?;
        Ok(rows)
    }
}

/// The key values and the compared values of one row, in neutral form.
pub(crate) struct KeyedRow {
    key: Vec<Value>,
    values: Vec<Value>,
}

fn into_core(e: Error) -> bru_core::Error {
    match e {
        Error::Database(e) => e,
        other => bru_core::Error::engine("comparing", other.to_string()),
    }
}

/// Hashes one side's rows of a pair over the compared columns.
struct RowHasher<'p> {
    pair: &'p Pair,
    cols: &'p [usize],
    identity: bool,
    buf: Vec<u8>,
    kbuf: Vec<u8>,
}

impl<'p> RowHasher<'p> {
    fn new(pair: &'p Pair, which: Which) -> Self {
        let (cols, identity) = match which {
            Which::A => (&pair.cols_a[..], pair.identity_a),
            Which::B => (&pair.cols_b[..], pair.identity_b),
        };
        RowHasher {
            pair,
            cols,
            identity,
            buf: Vec::new(),
            kbuf: Vec::new(),
        }
    }

    /// Compared value `j` of `row`, in neutral form.
    #[inline]
    fn value<'r>(&self, row: &'r [Value], j: usize) -> Cow<'r, Value> {
        let v = &row[self.cols[j]];
        match self.pair.norms[j].apply(v) {
            Some(n) => Cow::Owned(n),
            None => Cow::Borrowed(v),
        }
    }

    #[inline]
    fn hash(&mut self, row: &[Value]) -> u64 {
        if self.identity {
            return row_hash(row, &mut self.buf);
        }
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        for j in 0..self.cols.len() {
            canonical_bytes(&self.value(row, j), &mut buf);
        }
        let h = xxh3_64(&buf);
        self.buf = buf;
        h
    }

    /// The row's bucket coordinate (module `buckets`).
    #[inline]
    fn coordinate(&mut self, row: &[Value]) -> Option<u64> {
        let key = self.pair.key.as_ref()?;
        if key.int {
            return match *self.value(row, key.positions[0]) {
                Value::Int16(i) => Some(int_coordinate(i64::from(i))),
                Value::Int32(i) => Some(int_coordinate(i64::from(i))),
                Value::Int64(i) => Some(int_coordinate(i)),
                _ => None,
            };
        }
        let mut kbuf = std::mem::take(&mut self.kbuf);
        kbuf.clear();
        for &p in &key.positions {
            canonical_bytes(&self.value(row, p), &mut kbuf);
        }
        let h = xxh3_64(&kbuf);
        self.kbuf = kbuf;
        Some(h)
    }

    fn keyed(&self, row: &[Value]) -> (Vec<u8>, KeyedRow) {
        let key = self.pair.key.as_ref().expect("keyed rows have a key");
        let values: Vec<Value> = (0..self.cols.len())
            .map(|j| self.value(row, j).into_owned())
            .collect();
        let key_values: Vec<Value> = key.positions.iter().map(|&p| values[p].clone()).collect();
        let mut bytes = Vec::new();
        for v in &key_values {
            canonical_bytes(v, &mut bytes);
        }
        (
            bytes,
            KeyedRow {
                key: key_values,
                values,
            },
        )
    }

    fn add(&mut self, scan: &mut Scan, batch: &RowBatch) {
        for row in batch.rows() {
            let h = self.hash(row);
            scan.rows += 1;
            scan.sum = scan.sum.wrapping_add(h);
            if scan.buckets.is_some() {
                let c = self.coordinate(row);
                if let Some(b) = scan.buckets.as_mut() {
                    b.add(c, h);
                }
            }
        }
    }
}

/// One unit of first-pass work on a live side: a part of a table.
struct Item {
    pair: usize,
    part: TablePart,
    label: String,
}

/// A live side's first-pass work, shared by its readers.
struct Queue<'p> {
    pairs: &'p [Pair],
    which: Which,
    items: Vec<Item>,
    next: AtomicUsize,
    results: Mutex<Vec<Scan>>,
}

impl Queue<'_> {
    /// Takes items until none are left or `stop` is set.
    fn work(
        &self,
        source: &mut dyn Source,
        stop: &AtomicBool,
        progress: &dyn Progress,
    ) -> Result<()> {
        loop {
            if stop.load(Atomic::Relaxed) {
                return Ok(());
            }
            let i = self.next.fetch_add(1, Atomic::Relaxed);
            let Some(item) = self.items.get(i) else {
                return Ok(());
            };
            let pair = &self.pairs[item.pair];
            let def = Side::def(pair, self.which);
            let mut scan = Scan::for_pair(pair);
            let mut hasher = RowHasher::new(pair, self.which);
            progress.table_started(&item.label, None, None);
            let read =
                source.read_table_part(def, &item.part, BatchLimits::default(), &mut |batch| {
                    if stop.load(Atomic::Relaxed) {
                        return Err(bru_core::Error::engine("comparing", "stopped"));
                    }
                    progress.advance(&item.label, batch.row_count() as u64, 0);
                    hasher.add(&mut scan, &batch);
                    Ok(())
                });
            progress.table_finished(&item.label);
            if let Err(e) = read {
                // Only the first failure is reported; the others stopped
                // because of it.
                if stop.swap(true, Atomic::Relaxed) {
                    return Ok(());
                }
                return Err(Error::from(e).in_table("comparing", &def.name.to_string()));
            }
            self.results.lock().map_err(|_| Error::WorkerLost)?[item.pair].merge(scan);
        }
    }
}

/// A side's queue of first-pass work on its live readers, largest table
/// first; `None` for an archive.
fn make_queue<'p>(
    side: &mut Side,
    which: Which,
    pairs: &'p [Pair],
    jobs: usize,
) -> Result<Option<Queue<'p>>> {
    let Kind::Live { primary, extra } = &mut side.kind else {
        return Ok(None);
    };
    let mut items = Vec::new();
    for (i, pair) in pairs.iter().enumerate() {
        let def = Side::def(pair, which);
        let parts = if extra.is_empty() {
            vec![TablePart::whole()]
        } else {
            primary.split_table(def, jobs)?
        };
        let many = parts.len() > 1;
        for part in parts {
            let label = if many {
                format!("{} ({}, {})", pair.name, which.word(), part.label)
            } else {
                format!("{} ({})", pair.name, which.word())
            };
            items.push(Item {
                pair: i,
                part,
                label,
            });
        }
    }
    // Largest first, so that the last table read is a small one.
    items.sort_by_key(|it| {
        std::cmp::Reverse(
            Side::def(&pairs[it.pair], which)
                .estimated_rows
                .unwrap_or(0),
        )
    });
    Ok(Some(Queue {
        pairs,
        which,
        items,
        next: AtomicUsize::new(0),
        results: Mutex::new(pairs.iter().map(Scan::for_pair).collect()),
    }))
}

/// A live side's main reader and its extra readers.
pub(super) type LiveReaders<'s> = (&'s mut Box<dyn Source>, &'s mut Vec<Box<dyn Source + Send>>);

/// A live side's main reader (which may not leave this thread) and its
/// extra readers; `None` for an archive.
pub(super) fn live_readers(side: &mut Side) -> Option<LiveReaders<'_>> {
    match &mut side.kind {
        Kind::Live { primary, extra } => Some((primary, extra)),
        Kind::Archive { .. } => None,
    }
}

/// A side split into what stays on this thread and its extra readers.
enum Role<'s> {
    Live(&'s mut Box<dyn Source>),
    Archive(&'s mut Side),
}

fn roles(side: &mut Side) -> (Role<'_>, Option<&mut Vec<Box<dyn Source + Send>>>) {
    if matches!(side.kind, Kind::Archive { .. }) {
        return (Role::Archive(side), None);
    }
    match &mut side.kind {
        Kind::Live { primary, extra } => (Role::Live(primary), Some(extra)),
        Kind::Archive { .. } => unreachable!("handled above"),
    }
}

/// The first pass over both sides: every table of `pairs`, both sides at
/// once, each side's extra readers on threads of their own and its main
/// reader (which may not leave this thread) here, side A's then side B's.
/// An archive table read as the backup read it is taken from its recorded
/// totals. Returns each pair's scans of side A and side B.
pub(crate) fn scan_both(
    a: &mut Side,
    b: &mut Side,
    pairs: &[Pair],
    jobs: usize,
    progress: &dyn Progress,
) -> Result<Vec<(Scan, Scan)>> {
    let mut recorded: Vec<[Option<Scan>; 2]> = Vec::new();
    for pair in pairs {
        recorded.push([
            a.recorded(pair, Which::A).transpose()?,
            b.recorded(pair, Which::B).transpose()?,
        ]);
    }
    let queue_a = make_queue(a, Which::A, pairs, jobs)?;
    let queue_b = make_queue(b, Which::B, pairs, jobs)?;
    let stop = AtomicBool::new(false);
    let mut archive_scans: Vec<[Option<Scan>; 2]> = vec![[None, None]; pairs.len()];
    let (role_a, extra_a) = roles(a);
    let (role_b, extra_b) = roles(b);
    std::thread::scope(|s| -> Result<()> {
        let mut handles = Vec::new();
        for (extra, queue) in [(extra_a, &queue_a), (extra_b, &queue_b)] {
            let (Some(extra), Some(queue)) = (extra, queue) else {
                continue;
            };
            for reader in extra.iter_mut() {
                let stop = &stop;
                handles.push(s.spawn(move || queue.work(reader.as_mut(), stop, progress)));
            }
        }
        let mut result = Ok(());
        for (role, queue, which) in [(role_a, &queue_a, Which::A), (role_b, &queue_b, Which::B)] {
            if result.is_err() {
                break;
            }
            result = match (role, queue) {
                (Role::Live(primary), Some(queue)) => queue.work(primary.as_mut(), &stop, progress),
                (Role::Archive(side), _) => {
                    scan_archive(side, pairs, which, &recorded, &mut archive_scans, progress)
                }
                (Role::Live(_), None) => Ok(()),
            };
            if result.is_err() {
                stop.store(true, Atomic::Relaxed);
            }
        }
        crate::pipeline::join_first_error(result, handles)
    })?;
    let take = |queue: Option<Queue<'_>>| -> Result<Option<Vec<Scan>>> {
        queue
            .map(|q| q.results.into_inner().map_err(|_| Error::WorkerLost))
            .transpose()
    };
    let mut live = [take(queue_a)?, take(queue_b)?];
    let mut out = Vec::new();
    for (i, sides) in recorded.into_iter().enumerate() {
        let mut pick = |w: usize, recorded: Option<Scan>| {
            recorded
                .or_else(|| live[w].as_mut().map(|l| std::mem::take(&mut l[i])))
                .or_else(|| archive_scans[i][w].take())
                .unwrap_or_default()
        };
        let [ra, rb] = sides;
        let sa = pick(0, ra);
        let sb = pick(1, rb);
        out.push((sa, sb));
    }
    Ok(out)
}

/// The first pass over an archive side: each table not taken from its
/// recorded totals, decoded on the archive's pool.
fn scan_archive(
    side: &mut Side,
    pairs: &[Pair],
    which: Which,
    recorded: &[[Option<Scan>; 2]],
    scans: &mut [[Option<Scan>; 2]],
    progress: &dyn Progress,
) -> Result<()> {
    for (i, pair) in pairs.iter().enumerate() {
        if recorded[i][which as usize].is_none() {
            scans[i][which as usize] = Some(side.scan_serial(pair, which, progress)?);
        }
    }
    Ok(())
}

/// Names the differing keys of `pair`, whose first-pass scans `sa` and
/// `sb` differ: at most `max` of them, and whether more differ.
pub(crate) fn narrow(
    a: &mut Side,
    b: &mut Side,
    pair: &Pair,
    sa: &mut Scan,
    sb: &mut Scan,
    max: usize,
    progress: &dyn Progress,
) -> Result<(Vec<RowDiff>, bool)> {
    let (Some(ba), Some(bb)) = (sa.buckets.as_mut(), sb.buckets.as_mut()) else {
        return Ok((Vec::new(), false));
    };
    let (shift, differing) = Buckets::differing(ba, bb);
    let chosen: Vec<Bucket> = differing.iter().copied().take(max.max(1)).collect();
    let more_buckets = differing.len() > chosen.len();
    let rows_a = a.collect(pair, Which::A, &chosen, shift, progress)?;
    let rows_b = b.collect(pair, Which::B, &chosen, shift, progress)?;
    let mut found: Vec<(&[Value], DiffKind, Vec<String>)> = Vec::new();
    for (k, ra) in &rows_a {
        match rows_b.get(k) {
            None => found.push((&ra.key, DiffKind::MissingInTarget, Vec::new())),
            Some(rb) => {
                let columns: Vec<String> = (0..pair.names.len())
                    .filter(|&j| !same(&ra.values[j], &rb.values[j]))
                    .map(|j| pair.names[j].clone())
                    .collect();
                if !columns.is_empty() {
                    found.push((&ra.key, DiffKind::Changed, columns));
                }
            }
        }
    }
    for (k, rb) in &rows_b {
        if !rows_a.contains_key(k) {
            found.push((&rb.key, DiffKind::ExtraInTarget, Vec::new()));
        }
    }
    found.sort_by(|x, y| neutral_order(x.0, y.0));
    let more = more_buckets || found.len() > max;
    let key = pair.key.as_ref().expect("narrowed tables have a key");
    let diffs = found
        .into_iter()
        .take(max)
        .map(|(k, kind, columns)| RowDiff {
            kind,
            key: key
                .names_a
                .iter()
                .zip(k)
                .map(|(n, v)| format!("{n}={}", shown(v)))
                .collect::<Vec<_>>()
                .join(", "),
            columns,
        })
        .collect();
    Ok((diffs, more))
}

/// A key value as the report shows it: an integer as its digits, anything
/// else as error messages show values.
fn shown(v: &Value) -> String {
    match v {
        Value::Int16(i) => i.to_string(),
        Value::Int32(i) => i.to_string(),
        Value::Int64(i) => i.to_string(),
        other => other.describe(),
    }
}

/// Whether two neutral values are one value (by their canonical bytes, as
/// the checksum sees them).
fn same(a: &Value, b: &Value) -> bool {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    canonical_bytes(a, &mut x);
    canonical_bytes(b, &mut y);
    x == y
}

/// The order keys are reported in: integers by value, text by its bytes
/// (a binary collation, the same for every engine), anything else by its
/// canonical bytes.
fn neutral_order(a: &[Value], b: &[Value]) -> Ordering {
    let int = |v: &Value| match v {
        Value::Int16(i) => Some(i64::from(*i)),
        Value::Int32(i) => Some(i64::from(*i)),
        Value::Int64(i) => Some(*i),
        _ => None,
    };
    for (x, y) in a.iter().zip(b) {
        let o = match (int(x), int(y), x, y) {
            (Some(i), Some(j), _, _) => i.cmp(&j),
            (_, _, Value::Text(s), Value::Text(t)) => s.as_bytes().cmp(t.as_bytes()),
            _ => {
                let (mut p, mut q) = (Vec::new(), Vec::new());
                canonical_bytes(x, &mut p);
                canonical_bytes(y, &mut q);
                p.cmp(&q)
            }
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}
