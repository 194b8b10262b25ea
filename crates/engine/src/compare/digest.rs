//! A first pass that sends no rows: for two live databases of one engine,
//! each server digests each table whose definition is the same on both
//! sides ([`Source::server_digest`]; for a table with an integer key, its
//! rows summed by key ranges, [`Source::server_key_buckets`], which also
//! say where two sides differ), both sides at once. A table whose
//! digests and counts agree matches without its rows leaving the servers;
//! every other table (different digests, no digest offered) is compared by
//! reading its rows, as before, so that its differing keys can be named.
//!
//! This is what lets a compare of two PostgreSQL databases cost less than
//! reading either: pgcopydb's `compare data` does the same with md5 of
//! each row's text, bru with two 64-bit hashes of it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use bru_core::{KeyBuckets, ServerDigest, Source};

use super::buckets::{Buckets, MAX_BUCKETS};
use super::scan::{live_readers, Scan, Side, Which};
use super::schema::Pair;
use crate::{Error, Progress, Result};

/// What a server gave for one side of one table: its digest, or for a
/// table with an integer key its rows summed by key ranges (which also
/// tell where two sides differ).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Served {
    Digest(ServerDigest),
    Buckets(KeyBuckets),
}

/// Each pair's digests on side A and side B, where both sides gave one;
/// `None` where the pair is not digested (another engine, an archive side,
/// definitions that differ, normalized columns) or a side offered none.
pub(crate) fn digest_both(
    a: &mut Side,
    b: &mut Side,
    pairs: &[Pair],
    progress: &dyn Progress,
) -> Result<Vec<Option<(Served, Served)>>> {
    let none = || pairs.iter().map(|_| None).collect();
    if a.engine != b.engine {
        return Ok(none());
    }
    let wanted: Vec<usize> = (0..pairs.len())
        .filter(|&i| {
            let p = &pairs[i];
            p.schema.is_empty() && p.identity_a && p.identity_b
        })
        .collect();
    let (Some((primary_a, extra_a)), Some((primary_b, extra_b))) =
        (live_readers(a), live_readers(b))
    else {
        return Ok(none());
    };
    if wanted.is_empty() {
        return Ok(none());
    }
    // Largest first, so that the last digest taken is a small one.
    let mut order = wanted;
    order.sort_by_key(|&i| std::cmp::Reverse(pairs[i].a.estimated_rows.unwrap_or(0)));
    let queues = [
        Queue::new(&order, pairs.len()),
        Queue::new(&order, pairs.len()),
    ];
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| -> Result<()> {
        let mut handles = Vec::new();
        for (extra, q, which) in [
            (extra_a, &queues[0], Which::A),
            (extra_b, &queues[1], Which::B),
        ] {
            for reader in extra.iter_mut() {
                let stop = &stop;
                handles
                    .push(s.spawn(move || q.work(reader.as_mut(), pairs, which, stop, progress)));
            }
        }
        let mut result = q_work_primary(
            primary_a.as_mut(),
            &queues[0],
            pairs,
            Which::A,
            &stop,
            progress,
        );
        if result.is_ok() {
            result = q_work_primary(
                primary_b.as_mut(),
                &queues[1],
                pairs,
                Which::B,
                &stop,
                progress,
            );
        }
        crate::pipeline::join_first_error(result, handles)
    })?;
    let [qa, qb] = queues;
    let da = qa.results.into_inner().map_err(|_| Error::WorkerLost)?;
    let db = qb.results.into_inner().map_err(|_| Error::WorkerLost)?;
    Ok(da
        .into_iter()
        .zip(db)
        .map(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => Some((x, y)),
            _ => None,
        })
        .collect())
}

/// What the servers' answers for one table decide: `Some((a, b,
/// differ))`, the two sides' first-pass scans and whether they differ, or
/// `None` when the table's rows must be read (the answers cannot be
/// compared: one is a digest and the other key ranges, or the servers
/// hash differently).
pub(crate) fn decide(a: &Served, b: &Served) -> Option<(Scan, Scan, bool)> {
    match (a, b) {
        (Served::Digest(x), Served::Digest(y)) => {
            let scan = |d: &ServerDigest| Scan {
                rows: d.rows,
                sum: xxhash_rust::xxh3::xxh3_64(d.digest.as_bytes()),
                buckets: None,
            };
            // Digests that differ name no key range: the rows are read.
            (x == y).then(|| (scan(x), scan(y), false))
        }
        (Served::Buckets(x), Served::Buckets(y)) if x.method == y.method => {
            let scan = |k: &KeyBuckets| Scan {
                rows: k.cells.iter().map(|c| c.1).sum(),
                sum: k.cells.iter().fold(0u64, |s, c| s.wrapping_add(c.2)),
                buckets: Some(Buckets::from_server(k)),
            };
            let (mut sa, mut sb) = (scan(x), scan(y));
            let differ = match (sa.buckets.as_mut(), sb.buckets.as_mut()) {
                (Some(ba), Some(bb)) => !Buckets::differing(ba, bb).1.is_empty(),
                _ => true,
            };
            Some((sa, sb, differ))
        }
        _ => None,
    }
}

fn q_work_primary(
    source: &mut dyn Source,
    q: &Queue<'_>,
    pairs: &[Pair],
    which: Which,
    stop: &AtomicBool,
    progress: &dyn Progress,
) -> Result<()> {
    let r = q.work(source, pairs, which, stop, progress);
    if r.is_err() {
        stop.store(true, Ordering::Relaxed);
    }
    r
}

/// One side's digests to take, shared by its readers.
struct Queue<'o> {
    order: &'o [usize],
    next: AtomicUsize,
    results: Mutex<Vec<Option<Served>>>,
}

impl<'o> Queue<'o> {
    fn new(order: &'o [usize], pairs: usize) -> Self {
        Queue {
            order,
            next: AtomicUsize::new(0),
            results: Mutex::new(vec![None; pairs]),
        }
    }

    fn work(
        &self,
        source: &mut dyn Source,
        pairs: &[Pair],
        which: Which,
        stop: &AtomicBool,
        progress: &dyn Progress,
    ) -> Result<()> {
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let n = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(&i) = self.order.get(n) else {
                return Ok(());
            };
            let pair = &pairs[i];
            let def = Side::def(pair, which);
            let (cols, key) = match which {
                Which::A => (&pair.cols_a, pair.key.as_ref().map(|k| &k.names_a)),
                Which::B => (&pair.cols_b, pair.key.as_ref().map(|k| &k.names_b)),
            };
            let names: Vec<String> = cols.iter().map(|&c| def.columns[c].name.clone()).collect();
            let label = format!("{} ({}, digest)", pair.name, which.word());
            progress.table_started(&label, None, None);
            // A single integer key: summed by key ranges, which also say
            // where two sides differ; otherwise, or when the source offers
            // no ranges, one digest.
            let int_key = key.filter(|_| pair.key.as_ref().is_some_and(|k| k.int));
            let ranges = match int_key {
                Some(k) => source.server_key_buckets(def, &names, &k[0], MAX_BUCKETS),
                None => Ok(None),
            };
            let d = match ranges {
                Ok(Some(b)) => Ok(Some(Served::Buckets(b))),
                Ok(None) => source
                    .server_digest(def, &names)
                    .map(|d| d.map(Served::Digest)),
                Err(e) => Err(e),
            };
            progress.table_finished(&label);
            match d {
                Ok(d) => self.results.lock().map_err(|_| Error::WorkerLost)?[i] = d,
                Err(e) => {
                    if stop.swap(true, Ordering::Relaxed) {
                        return Ok(());
                    }
                    return Err(Error::from(e).in_table("comparing", &def.name.to_string()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(rows: u64, d: &str) -> Served {
        Served::Digest(ServerDigest {
            rows,
            digest: d.into(),
        })
    }

    fn ranges(method: &str, cells: Vec<(i64, u64, u64)>) -> Served {
        Served::Buckets(KeyBuckets {
            method: method.into(),
            shift: 3,
            cells,
        })
    }

    #[test]
    fn only_answers_computed_alike_decide_a_table() {
        // Equal digests: equal, nothing to read.
        let (a, b, differ) = decide(&digest(5, "h:1/2"), &digest(5, "h:1/2")).expect("decided");
        assert!(!differ && a.rows == 5 && a.sum == b.sum);
        // Different digests name no range: read the rows.
        assert!(decide(&digest(5, "h:1/2"), &digest(5, "h:1/3")).is_none());
        // Key ranges of one method: equal, or differing in a range that the
        // second pass reads.
        let same = vec![(0, 4, 10), (1, 2, 7)];
        let (_, _, differ) =
            decide(&ranges("h", same.clone()), &ranges("h", same.clone())).expect("decided");
        assert!(!differ);
        let changed = vec![(0, 4, 10), (1, 2, 8)];
        let (a, b, differ) =
            decide(&ranges("h", same.clone()), &ranges("h", changed)).expect("decided");
        assert!(differ && a.buckets.is_some() && b.buckets.is_some());
        // Two servers that hash differently never agree by accident, nor
        // does a digest with key ranges.
        assert!(decide(&ranges("h", same.clone()), &ranges("other", same.clone())).is_none());
        assert!(decide(&ranges("h", same), &digest(6, "h:17")).is_none());
    }
}
