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

use super::scan::{live_readers, Side};
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
        for (extra, q, which) in [(extra_a, &queues[0], 0), (extra_b, &queues[1], 1)] {
            for reader in extra.iter_mut() {
                let stop = &stop;
                handles
                    .push(s.spawn(move || q.work(reader.as_mut(), pairs, which, stop, progress)));
            }
        }
        let mut result = q_work_primary(primary_a.as_mut(), &queues[0], pairs, 0, &stop, progress);
        if result.is_ok() {
            result = q_work_primary(primary_b.as_mut(), &queues[1], pairs, 1, &stop, progress);
        }
        for h in handles {
            let r = h.join().map_err(|_| Error::WorkerLost)?;
            if result.is_ok() {
                result = r;
            }
        }
        result
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

/// Both sides' server-side buckets of `pair`'s integer key, side A's on an
/// extra reader (when it has one) while side B's main reader takes B's;
/// `None` when either side offers none.
pub(crate) fn key_buckets_both(
    a: &mut Side,
    b: &mut Side,
    pair: &Pair,
    max_buckets: usize,
) -> Result<Option<(KeyBuckets, KeyBuckets)>> {
    let Some(key) = pair.key.as_ref().filter(|k| k.int) else {
        return Ok(None);
    };
    let (Some((primary_a, extra_a)), Some((primary_b, _))) = (live_readers(a), live_readers(b))
    else {
        return Ok(None);
    };
    let names = |def: &bru_core::TableDef, cols: &[usize]| -> Vec<String> {
        cols.iter().map(|&c| def.columns[c].name.clone()).collect()
    };
    let (cols_a, cols_b) = (names(&pair.a, &pair.cols_a), names(&pair.b, &pair.cols_b));
    let (key_a, key_b) = (&key.names_a[0], &key.names_b[0]);
    let (ra, rb) = std::thread::scope(|s| {
        let on_extra = extra_a.first_mut().map(|r| {
            let cols = &cols_a;
            s.spawn(move || r.server_key_buckets(&pair.a, cols, key_a, max_buckets))
        });
        let rb = primary_b.server_key_buckets(&pair.b, &cols_b, key_b, max_buckets);
        let ra = match on_extra {
            Some(h) => h.join().map_err(|_| Error::WorkerLost),
            None => Ok(primary_a.server_key_buckets(&pair.a, &cols_a, key_a, max_buckets)),
        };
        (ra, rb)
    });
    let in_table = |e: bru_core::Error| Error::from(e).in_table("comparing", &pair.name);
    let ra = ra?.map_err(in_table)?;
    let rb = rb.map_err(in_table)?;
    Ok(ra.zip(rb).filter(|(x, y)| x.method == y.method))
}

fn q_work_primary(
    source: &mut dyn Source,
    q: &Queue<'_>,
    pairs: &[Pair],
    which: usize,
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
        which: usize,
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
            let (def, cols) = match which {
                0 => (&pair.a, &pair.cols_a),
                _ => (&pair.b, &pair.cols_b),
            };
            let names: Vec<String> = cols.iter().map(|&c| def.columns[c].name.clone()).collect();
            let label = format!(
                "{} ({}, digest)",
                pair.name,
                if which == 0 { "source" } else { "target" }
            );
            progress.table_started(&label, None, None);
            let key = pair.key.as_ref().filter(|k| k.int).map(|k| {
                if which == 0 {
                    &k.names_a[0]
                } else {
                    &k.names_b[0]
                }
            });
            let d = match key {
                Some(key) => {
                    match source.server_key_buckets(def, &names, key, super::buckets::MAX_BUCKETS) {
                        Ok(Some(b)) => Ok(Some(Served::Buckets(b))),
                        Ok(None) => source
                            .server_digest(def, &names)
                            .map(|d| d.map(Served::Digest)),
                        Err(e) => Err(e),
                    }
                }
                None => source
                    .server_digest(def, &names)
                    .map(|d| d.map(Served::Digest)),
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
