//! Splitting a table's chunks into ranges that sessions load side by side.
//!
//! A large table is loaded by several sessions at once, each taking a
//! contiguous range of its chunks (archive sequence numbers), so that its
//! load, and with it the index builds that wait for its last row, ends
//! sooner. Ranges are only worth it when each is large enough to pay for its
//! own transactions, hence [`MIN_RANGE_CHUNKS`]. The planner (module `plan`)
//! makes one load step per range; this module only does the arithmetic, so
//! it can be tested exhaustively.

/// A table is split into ranges only when each range gets at least this many
/// chunks: smaller ranges would cost more in transactions than they gain.
pub const MIN_RANGE_CHUNKS: u64 = 4;

/// `chunks` split into at most `sessions` contiguous ranges `(first, end)` of
/// at least [`MIN_RANGE_CHUNKS`] chunks each (one range when the table is
/// small). No range for a table without chunks.
pub fn ranges(chunks: u64, sessions: usize) -> Vec<(u64, u64)> {
    if chunks == 0 {
        return Vec::new();
    }
    let n = (chunks / MIN_RANGE_CHUNKS).clamp(1, sessions.max(1) as u64);
    // A crafted archive may record any chunk count up to 2^63: `share`
    // computes in 128 bits, so no product overflows.
    (0..n)
        .map(|i| (share(chunks, i, n), share(chunks, i + 1, n)))
        .collect()
}

/// `total` scaled by `part / whole` (an estimate for a range's rows/bytes).
pub(crate) fn share(total: u64, part: u64, whole: u64) -> u64 {
    if whole == 0 {
        return 0;
    }
    (u128::from(total) * u128::from(part) / u128::from(whole)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_contiguous_and_not_too_small() {
        assert_eq!(ranges(0, 4), vec![]);
        assert_eq!(ranges(3, 4), vec![(0, 3)]);
        assert_eq!(ranges(8, 4), vec![(0, 4), (4, 8)]);
        assert_eq!(ranges(10, 1), vec![(0, 10)]);
        assert_eq!(ranges(10, 0), vec![(0, 10)]);
        // The largest count an archive can record splits without overflow.
        let most = i64::MAX as u64;
        assert_eq!(ranges(most, 2), vec![(0, most / 2), (most / 2, most)]);
        for chunks in 1..200 {
            for sessions in 1..9 {
                let r = ranges(chunks, sessions);
                assert!(r.len() <= sessions);
                assert_eq!(r[0].0, 0);
                assert_eq!(r[r.len() - 1].1, chunks);
                for w in r.windows(2) {
                    assert_eq!(w[0].1, w[1].0);
                }
                if r.len() > 1 {
                    assert!(r.iter().all(|(a, b)| b - a >= MIN_RANGE_CHUNKS));
                }
            }
        }
    }
}
