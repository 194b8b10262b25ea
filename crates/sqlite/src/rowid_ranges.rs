//! Rowid ranges: how big a table is, and how to cut it into parts that
//! several readers can read at once.
//!
//! A rowid table is a b-tree keyed by its rowid, so its smallest and largest
//! rowid are each one descent of the tree (O(log n)), and a rowid range is
//! read by a range scan that touches only that part of the tree. Both are
//! used here:
//! - [`estimate_rows`] counts `max(rowid) - min(rowid) + 1` for a rowid
//!   table: exact when rowids are dense (the usual case of keys SQLite hands
//!   out itself), an overestimate when they have gaps. It is only used to
//!   plan (which table first, which to split), so it is never worth a full
//!   scan. Tables without a usable rowid (WITHOUT ROWID, or all three of
//!   `rowid`, `_rowid_` and `oid` taken by columns) use `sqlite_stat1` when
//!   ANALYZE left a count there, else `count(*)`.
//! - [`split`] cuts `[min, max]` into equal rowid ranges. The first range is
//!   open below and the last open above, so together they hold every
//!   possible rowid exactly once, whatever rows the table holds. Equal
//!   ranges are balanced for dense rowids; skewed rowids only make the parts
//!   uneven, never wrong.
//!
//! Only tables whose rowid is data ([`rowid_is_data`]: an `INTEGER PRIMARY
//! KEY` column) are split. The parts of a table are read at the same time,
//! so their chunks reach the archive interleaved; such a table is restored
//! with its own rowids, in whatever order its rows arrive. A table without
//! such a column is restored in the order its rows were read, with new
//! rowids, so it is read whole to keep that order the rowid order.
//!
//! A range travels through the engine as the opaque filter string of a
//! [`bru_core::TablePart`]. It is written as the SQL condition it stands for
//! ([`RowidRange::filter`]), but it is parsed back ([`RowidRange::parse`])
//! and its bounds are bound as parameters, so no text from a part is ever
//! spliced into a query.

use crate::error::sql_err;
use bru_core::{Result, TableDef};
use rusqlite::{Connection, OptionalExtension};

use crate::quote::ident;

/// The name a rowid can be selected by in `table`: the first of SQLite's
/// three spellings that no column shadows; `None` for a WITHOUT ROWID table
/// or when columns take all three names.
pub(crate) fn rowid_name(table: &TableDef) -> Option<&'static str> {
    if table.property("sqlite.without_rowid") == Some("true") {
        return None;
    }
    ["_rowid_", "rowid", "oid"]
        .into_iter()
        .find(|r| !table.columns.iter().any(|c| c.name.eq_ignore_ascii_case(r)))
}

/// Whether `table`'s rowid is data: a rowid table with an `INTEGER PRIMARY
/// KEY` column (a rowid alias), which the catalog gives an identity. Only
/// such a table keeps its rowids through a restore whatever order its rows
/// come in; the others are restored in the order they were read, with new
/// rowids.
pub(crate) fn rowid_is_data(table: &TableDef) -> bool {
    table.property("sqlite.without_rowid") != Some("true")
        && table.columns.iter().any(|c| c.identity.is_some())
}

/// The smallest and largest rowid of `table` (selected as `rowid`), or
/// `None` when the table is empty. Each bound is one b-tree descent.
pub(crate) fn rowid_bounds(
    conn: &Connection,
    table: &TableDef,
    rowid: &str,
) -> Result<Option<(i64, i64)>> {
    let t = ident(&table.name.name);
    // Two sub-selects, because SQLite's min/max optimisation applies to a
    // query with a single min() or max() only; `min(r), max(r)` in one
    // select would scan the table.
    let sql = format!("SELECT (SELECT min({rowid}) FROM {t}), (SELECT max({rowid}) FROM {t})");
    let (min, max): (Option<i64>, Option<i64>) = conn
        .query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(|e| sql_err(format!("measuring table \"{}\"", table.name), e))?;
    Ok(min.zip(max))
}

/// A cheap estimate of the number of rows in `table`, for planning only
/// (see the module docs for how it is made). Fails with
/// [`bru_core::Error::Engine`] if the table cannot be queried.
pub(crate) fn estimate_rows(conn: &Connection, table: &TableDef) -> Result<u64> {
    if let Some(rowid) = rowid_name(table) {
        return Ok(match rowid_bounds(conn, table, rowid)? {
            Some((min, max)) => span(min, max),
            None => 0,
        });
    }
    let ctx = || format!("counting the rows of table \"{}\"", table.name);
    if let Some(n) = analyzed_rows(conn, &table.name.name).map_err(|e| sql_err(ctx(), e))? {
        return Ok(n);
    }
    let sql = format!("SELECT count(*) FROM {}", ident(&table.name.name));
    let n: i64 = conn
        .query_row(&sql, [], |r| r.get(0))
        .map_err(|e| sql_err(ctx(), e))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The row count ANALYZE recorded for `table` in `sqlite_stat1` (the first
/// number of each of its rows), if there is one.
fn analyzed_rows(conn: &Connection, table: &str) -> rusqlite::Result<Option<u64>> {
    let has_stat1 = conn
        .query_row(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat1'",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if !has_stat1 {
        return Ok(None);
    }
    let mut stmt = conn.prepare("SELECT stat FROM sqlite_stat1 WHERE tbl = ?1")?;
    let stats = stmt.query_map([table], |r| r.get::<_, Option<String>>(0))?;
    let mut rows = None;
    for stat in stats {
        let first = stat?
            .as_deref()
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok());
        rows = rows.max(first);
    }
    Ok(rows)
}

/// The number of rowids from `min` to `max`, both included.
fn span(min: i64, max: i64) -> u64 {
    // Never more than 2^64 and at least 1 for min <= max; saturate the one
    // case (every possible rowid) that does not fit.
    u64::try_from(i128::from(max) - i128::from(min) + 1).unwrap_or(u64::MAX)
}

/// A range of rowids: `from` included, `to` excluded; `None` is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RowidRange {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl From<bru_core::KeyRange> for RowidRange {
    fn from(keys: bru_core::KeyRange) -> RowidRange {
        RowidRange {
            from: keys.from,
            to: keys.to,
        }
    }
}

impl RowidRange {
    /// The SQL condition for this range on the rowid spelled `rowid`, which
    /// is also the range's filter text in a [`bru_core::TablePart`].
    pub fn filter(&self, rowid: &str) -> String {
        let keys = bru_core::KeyRange {
            from: self.from,
            to: self.to,
        };
        keys.condition(rowid).unwrap_or_default()
    }

    /// A label for logs and messages.
    pub fn label(&self) -> String {
        match (self.from, self.to) {
            (Some(a), Some(b)) => format!("rowids {a} to {}", i128::from(b) - 1),
            (Some(a), None) => format!("rowids from {a}"),
            (None, Some(b)) => format!("rowids below {b}"),
            (None, None) => "all rowids".into(),
        }
    }

    /// The range `filter` stands for, if it is exactly what
    /// [`RowidRange::filter`] writes for some bounded range on `rowid`.
    pub fn parse(filter: &str, rowid: &str) -> Option<RowidRange> {
        let mut range = RowidRange {
            from: None,
            to: None,
        };
        for condition in filter.split(" AND ") {
            let rest = condition.strip_prefix(rowid)?;
            if let Some(a) = rest.strip_prefix(" >= ") {
                range.from = Some(a.parse().ok()?);
            } else if let Some(b) = rest.strip_prefix(" < ") {
                range.to = Some(b.parse().ok()?);
            } else {
                return None;
            }
        }
        // Only the canonical spelling, so that one range has one filter.
        (range.filter(rowid) == filter && filter.len() > rowid.len()).then_some(range)
    }
}

/// Cuts the rowids of a table whose rowids run from `min` to `max` into at
/// most `parts` equal, contiguous ranges, the first open below and the last
/// open above. Returns one range per part, in rowid order; fewer than two
/// ranges means the table is not worth splitting.
pub(crate) fn split(min: i64, max: i64, parts: usize) -> Vec<RowidRange> {
    let n = i128::from(max) - i128::from(min) + 1;
    let parts = i128::try_from(parts).unwrap_or(i128::MAX).min(n);
    if parts < 2 {
        return Vec::new();
    }
    let step = n / parts;
    // Every boundary lies in (min, max], so it fits an i64.
    let bounds: Vec<i64> = (1..parts)
        .filter_map(|i| i64::try_from(i128::from(min) + i * step).ok())
        .collect();
    let mut ranges = Vec::with_capacity(bounds.len() + 1);
    let mut from = None;
    for &b in &bounds {
        ranges.push(RowidRange { from, to: Some(b) });
        from = Some(b);
    }
    ranges.push(RowidRange { from, to: None });
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers_each_once(min: i64, max: i64, parts: usize, probes: &[i64]) {
        let ranges = split(min, max, parts);
        assert!(ranges.len() <= parts);
        for &p in probes {
            let hits = ranges
                .iter()
                .filter(|r| r.from.is_none_or(|a| p >= a) && r.to.is_none_or(|b| p < b))
                .count();
            assert_eq!(hits, 1, "rowid {p} in {ranges:?}");
        }
        for w in ranges.windows(2) {
            assert_eq!(w[0].to, w[1].from, "contiguous: {ranges:?}");
            assert!(w[0].from.is_none_or(|a| Some(a) < w[0].to));
        }
    }

    #[test]
    fn ranges_cover_every_rowid_exactly_once() {
        let probes = [i64::MIN, -1_000, -1, 0, 1, 2, 99, 100, 1_000_000, i64::MAX];
        covers_each_once(1, 100, 4, &probes);
        covers_each_once(1, 100, 3, &probes);
        covers_each_once(-50, 50, 7, &probes);
        covers_each_once(i64::MIN, i64::MAX, 5, &probes);
        covers_each_once(-3, i64::MAX, 2, &probes);
        covers_each_once(5, 8, 16, &probes);
    }

    #[test]
    fn ranges_are_equal_and_ordered() {
        let ranges = split(1, 100, 4);
        let bounds: Vec<_> = ranges.iter().map(|r| (r.from, r.to)).collect();
        assert_eq!(
            bounds,
            vec![
                (None, Some(26)),
                (Some(26), Some(51)),
                (Some(51), Some(76)),
                (Some(76), None)
            ]
        );
    }

    #[test]
    fn tiny_tables_are_not_split() {
        assert!(split(7, 7, 4).is_empty());
        assert!(split(1, 100, 1).is_empty());
        assert!(split(1, 100, 0).is_empty());
        assert_eq!(split(1, 2, 8).len(), 2);
    }

    #[test]
    fn filters_parse_back_and_nothing_else_does() {
        for r in split(i64::MIN, i64::MAX, 3)
            .into_iter()
            .chain(split(-10, 10, 4))
        {
            for rowid in ["_rowid_", "rowid", "oid"] {
                let f = r.filter(rowid);
                assert_eq!(RowidRange::parse(&f, rowid), Some(r), "{f}");
            }
        }
        for bad in [
            "",
            "rowid",
            "rowid >= 1; DROP TABLE t",
            "rowid >= 1 AND rowid >= 2",
            "rowid < 2 AND rowid >= 1",
            "rowid >=  1",
            "rowid >= +1",
            "rowid >= 01",
            "oid >= 1",
            "rowid >= 1 OR 1",
            "rowid >= 99999999999999999999",
        ] {
            assert_eq!(RowidRange::parse(bad, "rowid"), None, "{bad:?}");
        }
    }

    #[test]
    fn span_saturates() {
        assert_eq!(span(1, 1), 1);
        assert_eq!(span(-5, 5), 11);
        assert_eq!(span(i64::MIN, i64::MAX), u64::MAX);
    }
}
