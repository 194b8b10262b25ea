//! Per-key-range checksums, so that a table that differs can be narrowed
//! down to its differing keys without holding either side in memory.
//!
//! Every row of a table with a primary key gets a coordinate from its key
//! (in the neutral form of module `normalize`, so that both engines agree):
//! for a single integer key, the key itself, shifted so that unsigned order
//! is numeric order; for any other key, the XXH3 hash of its canonical
//! bytes. Rows are summed into buckets of `coordinate >> shift` (a count and
//! the same order-independent sum as the table checksum). When a table has
//! more than [`MAX_BUCKETS`] buckets the shift grows by one and neighbours
//! merge, so memory stays bounded whatever the table's size and the buckets
//! of an integer key are ranges of consecutive keys, which a source can read
//! back by a range condition on its index. Sums add, so the buckets of
//! parts read by several readers merge, and two sides at different shifts
//! are compared at the larger one. A bucket whose count or sum differs holds
//! at least one differing key; this is the bisection of data-diff's
//! per-range hashes done in one streaming pass, and keys are grouped by
//! their neutral value, never by either server's collation.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The most buckets one table side keeps (16 bytes each, plus the map).
pub(crate) const MAX_BUCKETS: usize = 1 << 14;

/// A row count and the wrapping sum of row hashes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Cell {
    pub rows: u64,
    pub sum: u64,
}

impl Cell {
    fn add(&mut self, other: Cell) {
        self.rows += other.rows;
        self.sum = self.sum.wrapping_add(other.sum);
    }
}

/// A hasher for the bucket map's `u64` keys, which are already well spread
/// or dense: one multiplication, not SipHash per row.
#[derive(Default)]
pub(crate) struct U64Hasher(u64);

impl Hasher for U64Hasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type Map = HashMap<u64, Cell, BuildHasherDefault<U64Hasher>>;

/// One bucket of [`Buckets`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Bucket {
    /// Coordinates `id << shift ..` up to the next bucket.
    Range(u64),
    /// Rows whose integer key column holds something that is not an integer
    /// (SQLite lets an INTEGER column hold text).
    Odd,
}

/// The buckets of one side of one table.
#[derive(Debug, Clone, Default)]
pub(crate) struct Buckets {
    shift: u32,
    cells: Map,
    odd: Cell,
}

impl Buckets {
    /// Adds a row of hash `hash` at `coordinate` (`None`: the odd bucket).
    #[inline]
    pub fn add(&mut self, coordinate: Option<u64>, hash: u64) {
        let cell = Cell { rows: 1, sum: hash };
        match coordinate {
            Some(c) => {
                self.cells.entry(c >> self.shift).or_default().add(cell);
                if self.cells.len() > MAX_BUCKETS {
                    self.coarsen(self.shift + 1);
                }
            }
            None => self.odd.add(cell),
        }
    }

    /// Merges neighbours until the shift is at least `shift` and there are
    /// at most [`MAX_BUCKETS`] buckets.
    fn coarsen(&mut self, shift: u32) {
        let mut shift = shift.max(self.shift);
        loop {
            if shift != self.shift {
                let by = shift - self.shift;
                let mut merged = Map::default();
                for (id, cell) in self.cells.drain() {
                    merged.entry(id >> by).or_default().add(cell);
                }
                self.cells = merged;
                self.shift = shift;
            }
            if self.cells.len() <= MAX_BUCKETS || shift >= 63 {
                return;
            }
            shift += 1;
        }
    }

    /// The buckets a server summed ([`bru_core::Source::server_key_buckets`]):
    /// its `key >> shift` of an integer key is this bucket
    /// `coordinate >> shift`, the same key range.
    pub fn from_server(server: &bru_core::KeyBuckets) -> Buckets {
        let shift = server.shift.min(63);
        let mut cells = Map::default();
        for &(k, rows, sum) in &server.cells {
            let id = (i128::from(k) + (1i128 << (63 - shift))) as u64;
            cells.entry(id).or_default().add(Cell { rows, sum });
        }
        let mut out = Buckets {
            shift,
            cells,
            odd: Cell::default(),
        };
        out.coarsen(shift);
        out
    }

    /// Adds the rows of `other` (another part of the same table).
    pub fn merge(&mut self, mut other: Buckets) {
        let shift = self.shift.max(other.shift);
        self.coarsen(shift);
        other.coarsen(shift);
        for (id, cell) in other.cells {
            self.cells.entry(id).or_default().add(cell);
        }
        self.odd.add(other.odd);
        self.coarsen(self.shift);
    }

    /// The buckets whose rows differ between `a` and `b`, in coordinate
    /// order (the odd bucket last), at the shift both are brought to, which
    /// is returned too.
    pub fn differing(a: &mut Buckets, b: &mut Buckets) -> (u32, Vec<Bucket>) {
        let shift = a.shift.max(b.shift);
        a.coarsen(shift);
        b.coarsen(shift);
        let mut out: Vec<Bucket> = a
            .cells
            .iter()
            .filter(|&(id, cell)| b.cells.get(id) != Some(cell))
            .map(|(id, _)| Bucket::Range(*id))
            .chain(
                b.cells
                    .keys()
                    .filter(|id| !a.cells.contains_key(*id))
                    .map(|id| Bucket::Range(*id)),
            )
            .collect();
        out.sort();
        if a.odd != b.odd {
            out.push(Bucket::Odd);
        }
        (a.shift, out)
    }
}

/// The coordinate of an integer key: unsigned order is numeric order.
#[inline]
pub(crate) fn int_coordinate(i: i64) -> u64 {
    (i as u64) ^ (1 << 63)
}

/// The keys `from..to` of bucket `id` at `shift` (`None`: no bound), for a
/// range read of an integer key.
pub(crate) fn int_range(id: u64, shift: u32) -> (Option<i64>, Option<i64>) {
    let back = |c: u64| (c ^ (1 << 63)) as i64;
    let from = id.checked_shl(shift).map(back);
    let to = id
        .checked_add(1)
        .and_then(|n| n.checked_shl(shift))
        .filter(|&c| c >> shift == id + 1)
        .map(back);
    (from, to)
}

/// Which bucket a coordinate falls in at `shift`.
#[inline]
pub(crate) fn bucket_of(coordinate: Option<u64>, shift: u32) -> Bucket {
    match coordinate {
        Some(c) => Bucket::Range(c >> shift),
        None => Bucket::Odd,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_stays_bounded_and_one_change_is_one_bucket() {
        let mut a = Buckets::default();
        let mut b = Buckets::default();
        for i in 0..100_000i64 {
            a.add(Some(int_coordinate(i)), i as u64 * 7);
            let h = if i == 4242 { 1 } else { i as u64 * 7 };
            b.add(Some(int_coordinate(i)), h);
        }
        assert!(a.cells.len() <= MAX_BUCKETS);
        let (shift, diff) = Buckets::differing(&mut a, &mut b);
        assert_eq!(diff.len(), 1);
        let Bucket::Range(id) = diff[0] else {
            panic!("{diff:?}")
        };
        let (from, to) = int_range(id, shift);
        assert!(
            from.unwrap() <= 4242 && 4242 < to.unwrap(),
            "{from:?} {to:?}"
        );
        assert_eq!(bucket_of(Some(int_coordinate(4242)), shift), diff[0]);
    }

    #[test]
    fn a_servers_key_ranges_are_the_same_buckets() {
        // Keys -300..300 with hash 1 each, summed as a server sums them at
        // shift 4 (`key >> 4`), against the rows added one by one.
        let mut rows = Buckets::default();
        let mut cells: std::collections::BTreeMap<i64, (u64, u64)> = Default::default();
        for k in -300i64..300 {
            rows.add(Some(int_coordinate(k)), 1);
            let c = cells.entry(k >> 4).or_default();
            c.0 += 1;
            c.1 += 1;
        }
        let server = bru_core::KeyBuckets {
            method: "test".into(),
            shift: 4,
            cells: cells.into_iter().map(|(k, (n, s))| (k, n, s)).collect(),
        };
        let mut from_server = Buckets::from_server(&server);
        let (shift, diff) = Buckets::differing(&mut rows, &mut from_server);
        assert!(diff.is_empty(), "{diff:?} at {shift}");
        // Key -17 is in the range the server called -17 >> 4 = -2.
        let id = int_coordinate(-17) >> 4;
        assert_eq!(int_range(id, 4), (Some(-32), Some(-16)));
    }

    #[test]
    fn parts_merge_to_the_whole_and_ranges_cover_the_extremes() {
        let mut whole = Buckets::default();
        let mut one = Buckets::default();
        let mut two = Buckets::default();
        for i in (-50_000i64..50_000).map(|i| i * 1_000_003) {
            whole.add(Some(int_coordinate(i)), i as u64);
            let part = if i < 0 { &mut one } else { &mut two };
            part.add(Some(int_coordinate(i)), i as u64);
        }
        one.merge(two);
        let (_, diff) = Buckets::differing(&mut whole, &mut one);
        assert!(diff.is_empty());
        assert_eq!(int_range(0, 63), (Some(i64::MIN), Some(0)));
        assert_eq!(int_range(1, 63), (Some(0), None));
    }
}
