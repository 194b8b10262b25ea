//! What a delta archive compares: the state of each table, as every
//! archive records it (FORMAT.md, "Table states and delta archives").
//!
//! A table with a primary key of integer, text, date/time, uuid, boolean or
//! decimal columns is summed by
//! **buckets of its key**: the key's hash ([`key_hash`], the row hash of
//! the key's values, so integer widths hash alike and a key reads the same
//! from every engine) picks one of `2^bits` buckets by its top bits, and
//! each bucket holds the wrapping sum of its rows' hashes
//! ([`crate::row_hash`], the table checksum's). Two states of a table whose
//! bucket sums agree hold the same rows in that bucket (up to the hash's
//! collisions); a bucket whose sum differs is carried whole by a delta.
//! About [`ROWS_PER_BUCKET`] rows share a bucket, so a change re-sends a
//! few rows, not a range of thousands, and the sums cost about two bytes
//! per row (at most 32 MiB a table). A table without such a key is summed as a whole (its checksum).
//!
//! The key's hashes are also summed over the table ([`TableState::key_sum`]),
//! which needs only the keys, so a target of another engine, whose other
//! values are stored in other forms, can still be checked for the rows it
//! holds.

use serde::{Deserialize, Serialize};

use crate::checksum::row_hash;
use crate::{ColumnType, TableDef, Value};

/// About this many rows share a bucket: a change spread over 1% of a
/// table's rows re-sends about 4% of them, for 2 bytes a row of sums.
pub const ROWS_PER_BUCKET: u64 = 4;

/// The most bits of a table's buckets: 2^22 buckets of 8 bytes, 32 MiB.
pub const MAX_BUCKET_BITS: u32 = 22;

/// The state of one table in an archive (after the delta, for a delta).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableState {
    /// The rows the table holds.
    pub rows: u64,
    /// Its checksum ([`crate::TableChecksum`]), 16 hex digits.
    pub checksum: String,
    /// The key columns the buckets are of, by name; `None` for a table
    /// summed as a whole.
    pub key: Option<Vec<String>>,
    /// `log2` of the bucket count (0 without a key).
    pub bits: u32,
    /// The wrapping sum of the key hashes of all rows, 16 hex digits
    /// (`None` without a key).
    pub key_sum: Option<String>,
    /// CRC32 of the bucket sums as stored, 8 hex digits (`None` without a
    /// key).
    pub sums_crc32: Option<String>,
    /// Only [`TableState::rows`] is known (a delta taken from a change
    /// slot, which re-reads the changed keys, not the table): there are no
    /// bucket sums, `checksum` and `key_sum` are empty, and only another
    /// delta from the slot can follow it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rows_only: bool,
}

/// The key columns a table's buckets are of: its primary key's, by
/// position, when each is an integer, text, date, time, timestamp, uuid,
/// boolean or decimal column (a value every engine compares by equality
/// exactly); else `None`.
pub fn key_columns(table: &TableDef) -> Option<Vec<usize>> {
    let pk = table.primary_key.as_ref()?;
    if pk.columns.is_empty() {
        return None;
    }
    pk.columns
        .iter()
        .map(|name| {
            let i = table.column_index(name)?;
            matches!(
                table.columns[i].ty,
                ColumnType::Int16
                    | ColumnType::Int32
                    | ColumnType::Int64
                    | ColumnType::Text { .. }
                    | ColumnType::Date
                    | ColumnType::Time { tz: false, .. }
                    | ColumnType::Timestamp { .. }
                    | ColumnType::Uuid
                    | ColumnType::Bool
                    | ColumnType::Decimal { .. }
            )
            .then_some(i)
        })
        .collect()
}

/// The bucket bits for a table of about `rows` rows.
pub fn bits_for(rows: u64) -> u32 {
    let buckets = (rows / ROWS_PER_BUCKET).max(1);
    (64 - (buckets - 1).leading_zeros()).clamp(4, MAX_BUCKET_BITS)
}

/// The hash of a row's key: the row hash of the key's values in key order.
pub fn key_hash(row: &[Value], key: &[usize], buf: &mut Vec<u8>) -> u64 {
    buf.clear();
    for &i in key {
        crate::checksum::canonical_bytes(&row[i], buf);
    }
    xxhash_rust::xxh3::xxh3_64(buf)
}

/// The bucket of a key hash among `2^bits`.
pub fn bucket_of(key_hash: u64, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        (key_hash >> (64 - bits)) as usize
    }
}

/// The bucket sums of one table being read, in any order and in parts.
#[derive(Debug, Clone)]
pub struct Buckets {
    pub bits: u32,
    pub sums: Vec<u64>,
    pub key_sum: u64,
    pub rows: u64,
}

impl Buckets {
    pub fn new(bits: u32) -> Buckets {
        Buckets {
            bits,
            sums: vec![0; 1usize << bits],
            key_sum: 0,
            rows: 0,
        }
    }

    /// Adds one row, by its key hash and row hash.
    pub fn add(&mut self, key_hash: u64, row_hash: u64) {
        let b = bucket_of(key_hash, self.bits);
        self.sums[b] = self.sums[b].wrapping_add(row_hash);
        self.key_sum = self.key_sum.wrapping_add(key_hash);
        self.rows += 1;
    }

    /// The sums as stored: each a u64, little-endian, in bucket order.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.sums.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    /// Sums read back from `bytes` (as [`Buckets::to_bytes`] wrote them),
    /// or `None` when their length is not `8 × 2^bits`.
    pub fn sums_from_bytes(bytes: &[u8], bits: u32) -> Option<Vec<u64>> {
        if bits > MAX_BUCKET_BITS || bytes.len() != 8usize << bits {
            return None;
        }
        Some(
            bytes
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect(),
        )
    }
}

/// Whether the key columns `key` of `table` are all integer or text
/// columns, whose values read the same from every engine (SQLite keeps
/// dates, times, uuids and decimals as text or numbers, the others as
/// typed values, so their hashes differ between SQLite and another
/// engine).
pub fn portable_key(table: &TableDef, key: &[usize]) -> bool {
    key.iter().all(|&i| {
        matches!(
            table.columns[i].ty,
            ColumnType::Int16 | ColumnType::Int32 | ColumnType::Int64 | ColumnType::Text { .. }
        )
    })
}

/// Per row of a batch: its key hash and row hash (for the sums and for
/// picking the rows of changed buckets).
pub fn hashes(row: &[Value], key: &[usize], buf: &mut Vec<u8>) -> (u64, u64) {
    let k = key_hash(row, key, buf);
    (k, row_hash(row, buf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Column, PrimaryKey, TableName};

    #[test]
    fn keys_hash_alike_whatever_the_integer_width_and_pick_buckets_by_top_bits() {
        let mut buf = Vec::new();
        let a = key_hash(&[Value::Int32(7), Value::Text("x".into())], &[0], &mut buf);
        let b = key_hash(&[Value::Int64(7)], &[0], &mut buf);
        assert_eq!(a, b);
        assert_eq!(bucket_of(u64::MAX, 4), 15);
        assert_eq!(bucket_of(0, 4), 0);
        assert_eq!(bucket_of(123, 0), 0);
        assert_eq!(bits_for(0), 4);
        assert_eq!(bits_for(4 * 1024), 10);
        assert_eq!(bits_for(u64::MAX), MAX_BUCKET_BITS);
        let mut s = Buckets::new(4);
        s.add(u64::MAX, 5);
        s.add(u64::MAX, 6);
        assert_eq!(s.sums[15], 11);
        assert_eq!(Buckets::sums_from_bytes(&s.to_bytes(), 4), Some(s.sums));
        assert_eq!(Buckets::sums_from_bytes(&[0; 8], 4), None);
    }

    #[test]
    fn primary_keys_of_exactly_compared_types_are_bucket_keys() {
        let mut t = TableDef::new(
            TableName::bare("t"),
            vec![
                Column::new("id", ColumnType::Int64, "bigint"),
                Column::new("at", ColumnType::Date, "date"),
            ],
        );
        assert_eq!(key_columns(&t), None);
        t.primary_key = Some(PrimaryKey {
            name: None,
            columns: vec!["id".into()],
        });
        assert_eq!(key_columns(&t), Some(vec![0]));
        t.primary_key = Some(PrimaryKey {
            name: None,
            columns: vec!["id".into(), "at".into()],
        });
        assert_eq!(key_columns(&t), Some(vec![0, 1]));
        assert!(!portable_key(&t, &[0, 1]));
        assert!(portable_key(&t, &[0]));
        t.columns[1].ty = ColumnType::Float64;
        assert_eq!(key_columns(&t), None);
    }
}
