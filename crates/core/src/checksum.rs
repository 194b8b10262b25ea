//! The order-independent table checksum.
//!
//! Each row is turned into canonical bytes (FORMAT.md, "Table checksum"),
//! hashed with XXH3-64, and the row hashes are added modulo 2^64. Addition
//! makes the result independent of row order (so a live table can be compared
//! with the archive whatever order either returns rows in) while, unlike XOR,
//! two identical rows do not cancel out.
//!
//! Integers of every width hash the same, so a value that moved from `int32`
//! to `int64` between engines still compares equal.

use xxhash_rust::xxh3::xxh3_64;

use crate::value::Value;

/// Appends the canonical encoding of `v` to `out`.
///
/// Each value is written with one `extend_from_slice` of a tag-and-fixed-part
/// array (plus the bytes of a variable-length value) rather than a push per
/// piece: this runs for every value of every chunk on restore, verify and
/// backup. The bytes are those of FORMAT.md; the tests compare them with a
/// piece-by-piece transcription of its definition.
#[inline]
pub fn canonical_bytes(v: &Value, out: &mut Vec<u8>) {
    #[inline(always)]
    fn var(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
        let mut head = [tag; 9];
        head[1..].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
        out.extend_from_slice(&head);
        out.extend_from_slice(bytes);
    }
    match v {
        Value::Null => out.push(0x00),
        Value::Bool(b) => out.extend_from_slice(&[0x01, *b as u8]),
        Value::Int16(i) => int(out, i64::from(*i)),
        Value::Int32(i) => int(out, i64::from(*i)),
        Value::Int64(i) => int(out, *i),
        Value::Float32(f) => float(out, f64::from(*f)),
        Value::Float64(f) => float(out, *f),
        Value::Decimal(s) => var(out, 0x04, s.as_bytes()),
        Value::Text(s) => var(out, 0x05, s.as_bytes()),
        Value::Bytes(b) => var(out, 0x06, b),
        Value::Date(d) => {
            let mut b = [0x07; 5];
            b[1..].copy_from_slice(&d.to_le_bytes());
            out.extend_from_slice(&b);
        }
        Value::Time(t) => {
            let mut b = [0x08; 9];
            b[1..].copy_from_slice(&t.to_le_bytes());
            out.extend_from_slice(&b);
        }
        Value::TimeTz { nanos, offset_secs } => {
            let mut b = [0x09; 13];
            b[1..9].copy_from_slice(&nanos.to_le_bytes());
            b[9..].copy_from_slice(&offset_secs.to_le_bytes());
            out.extend_from_slice(&b);
        }
        Value::Timestamp { secs, nanos } => ts(out, 0x0a, *secs, *nanos),
        Value::TimestampTz { secs, nanos } => ts(out, 0x0b, *secs, *nanos),
        Value::TimestampOffset {
            secs,
            nanos,
            offset_secs,
        } => {
            ts(out, 0x10, *secs, *nanos);
            out.extend_from_slice(&offset_secs.to_le_bytes());
        }
        Value::Interval(iv) => {
            let mut b = [0x0c; 17];
            b[1..5].copy_from_slice(&iv.months.to_le_bytes());
            b[5..9].copy_from_slice(&iv.days.to_le_bytes());
            b[9..].copy_from_slice(&iv.micros.to_le_bytes());
            out.extend_from_slice(&b);
        }
        Value::Uuid(u) => {
            let mut b = [0x0d; 17];
            b[1..].copy_from_slice(u);
            out.extend_from_slice(&b);
        }
        Value::Json(s) => var(out, 0x0e, s.as_bytes()),
        Value::Native(s) => var(out, 0x0f, s.as_bytes()),
    }
}

#[inline(always)]
fn int(out: &mut Vec<u8>, i: i64) {
    let mut b = [0x02; 9];
    b[1..].copy_from_slice(&i.to_le_bytes());
    out.extend_from_slice(&b);
}

#[inline(always)]
fn float(out: &mut Vec<u8>, f: f64) {
    let mut b = [0x03; 9];
    b[1..].copy_from_slice(&f.to_bits().to_le_bytes());
    out.extend_from_slice(&b);
}

#[inline(always)]
fn ts(out: &mut Vec<u8>, tag: u8, secs: i64, nanos: u32) {
    let mut b = [tag; 13];
    b[1..9].copy_from_slice(&secs.to_le_bytes());
    b[9..].copy_from_slice(&nanos.to_le_bytes());
    out.extend_from_slice(&b);
}

/// The hash of one row: XXH3-64 (seed 0) of its canonical bytes. `buf` is
/// scratch space reused between rows.
pub fn row_hash(row: &[Value], buf: &mut Vec<u8>) -> u64 {
    buf.clear();
    for v in row {
        canonical_bytes(v, buf);
    }
    xxh3_64(buf)
}

/// Accumulates the checksum of a table, row by row, in any order.
#[derive(Debug, Clone, Default)]
pub struct TableChecksum {
    sum: u64,
    rows: u64,
    buf: Vec<u8>,
}

impl TableChecksum {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one row.
    pub fn add_row(&mut self, row: &[Value]) {
        let h = row_hash(row, &mut self.buf);
        self.sum = self.sum.wrapping_add(h);
        self.rows += 1;
    }

    /// Adds one row by its hash ([`row_hash`]).
    pub fn add_hash(&mut self, hash: u64) {
        self.sum = self.sum.wrapping_add(hash);
        self.rows += 1;
    }

    /// Adds the rows another accumulator saw (for parallel readers).
    pub fn merge(&mut self, other: &TableChecksum) {
        self.sum = self.sum.wrapping_add(other.sum);
        self.rows += other.rows;
    }

    /// The checksum value.
    pub fn value(&self) -> u64 {
        self.sum
    }

    /// Rows added so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The checksum as 16 lowercase hex digits, as stored in the archive.
    pub fn to_hex(&self) -> String {
        format!("{:016x}", self.sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FORMAT.md's canonical bytes written piece by piece, as the first
    /// implementation did: the reference the faster one must equal.
    fn reference_bytes(v: &Value, out: &mut Vec<u8>) {
        fn var(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
            out.push(tag);
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(bytes);
        }
        fn int(out: &mut Vec<u8>, i: i64) {
            out.push(0x02);
            out.extend_from_slice(&i.to_le_bytes());
        }
        fn float(out: &mut Vec<u8>, f: f64) {
            out.push(0x03);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        fn ts(out: &mut Vec<u8>, tag: u8, secs: i64, nanos: u32) {
            out.push(tag);
            out.extend_from_slice(&secs.to_le_bytes());
            out.extend_from_slice(&nanos.to_le_bytes());
        }
        match v {
            Value::Null => out.push(0x00),
            Value::Bool(b) => out.extend_from_slice(&[0x01, *b as u8]),
            Value::Int16(i) => int(out, i64::from(*i)),
            Value::Int32(i) => int(out, i64::from(*i)),
            Value::Int64(i) => int(out, *i),
            Value::Float32(f) => float(out, f64::from(*f)),
            Value::Float64(f) => float(out, *f),
            Value::Decimal(s) => var(out, 0x04, s.as_bytes()),
            Value::Text(s) => var(out, 0x05, s.as_bytes()),
            Value::Bytes(b) => var(out, 0x06, b),
            Value::Date(d) => {
                out.push(0x07);
                out.extend_from_slice(&d.to_le_bytes());
            }
            Value::Time(t) => {
                out.push(0x08);
                out.extend_from_slice(&t.to_le_bytes());
            }
            Value::TimeTz { nanos, offset_secs } => {
                out.push(0x09);
                out.extend_from_slice(&nanos.to_le_bytes());
                out.extend_from_slice(&offset_secs.to_le_bytes());
            }
            Value::Timestamp { secs, nanos } => ts(out, 0x0a, *secs, *nanos),
            Value::TimestampTz { secs, nanos } => ts(out, 0x0b, *secs, *nanos),
            Value::TimestampOffset {
                secs,
                nanos,
                offset_secs,
            } => {
                ts(out, 0x10, *secs, *nanos);
                out.extend_from_slice(&offset_secs.to_le_bytes());
            }
            Value::Interval(iv) => {
                out.push(0x0c);
                out.extend_from_slice(&iv.months.to_le_bytes());
                out.extend_from_slice(&iv.days.to_le_bytes());
                out.extend_from_slice(&iv.micros.to_le_bytes());
            }
            Value::Uuid(u) => {
                out.push(0x0d);
                out.extend_from_slice(u);
            }
            Value::Json(s) => var(out, 0x0e, s.as_bytes()),
            Value::Native(s) => var(out, 0x0f, s.as_bytes()),
        }
    }

    #[test]
    fn canonical_bytes_equal_the_reference_for_every_kind() {
        let values = vec![
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::Int16(-7),
            Value::Int32(i32::MIN),
            Value::Int64(i64::MAX),
            Value::Float32(-1.5),
            Value::Float64(f64::NAN),
            Value::Float64(-0.0),
            Value::Decimal("-12.3400".into()),
            Value::Text(String::new()),
            Value::Text("Müller ✓".into()),
            Value::Bytes(vec![0, 255, 7]),
            Value::Date(-719_162),
            Value::Time(86_399_999_999_999),
            Value::TimeTz {
                nanos: 1_000,
                offset_secs: -3_600,
            },
            Value::Timestamp {
                secs: -62_135_596_800,
                nanos: 999_999_999,
            },
            Value::TimestampTz {
                secs: 1_700_000_000,
                nanos: 1,
            },
            Value::TimestampOffset {
                secs: 1_700_000_000,
                nanos: 100,
                offset_secs: -50_400,
            },
            Value::Interval(crate::value::Interval {
                months: -14,
                days: 3,
                micros: -5,
            }),
            Value::Uuid([0xab; 16]),
            Value::Json("{\"a\": [1, null]}".into()),
            Value::Native("(1,2)".into()),
        ];
        let mut fast = Vec::new();
        let mut reference = Vec::new();
        for v in &values {
            fast.clear();
            reference.clear();
            canonical_bytes(v, &mut fast);
            reference_bytes(v, &mut reference);
            assert_eq!(fast, reference, "{v:?}");
        }
        // Whole rows too, so the row hash is unchanged.
        let mut buf = Vec::new();
        reference.clear();
        for v in &values {
            reference_bytes(v, &mut reference);
        }
        assert_eq!(row_hash(&values, &mut buf), xxh3_64(&reference));
    }

    #[test]
    fn order_independent_and_duplicates_count() {
        let a = [Value::Int64(1), Value::Text("a".into())];
        let b = [Value::Int64(2), Value::Null];
        let mut x = TableChecksum::new();
        x.add_row(&a);
        x.add_row(&b);
        let mut y = TableChecksum::new();
        y.add_row(&b);
        y.add_row(&a);
        assert_eq!(x.value(), y.value());
        let mut z = TableChecksum::new();
        z.add_row(&a);
        z.add_row(&a);
        assert_ne!(z.value(), 0);
        assert_ne!(z.value(), x.value());
    }

    #[test]
    fn integer_width_does_not_matter_but_type_class_does() {
        let mut buf = Vec::new();
        let h16 = row_hash(&[Value::Int16(7)], &mut buf);
        let h64 = row_hash(&[Value::Int64(7)], &mut buf);
        let ht = row_hash(&[Value::Text("7".into())], &mut buf);
        assert_eq!(h16, h64);
        assert_ne!(h64, ht);
        // NULL differs from empty text and from empty bytes.
        let n = row_hash(&[Value::Null], &mut buf);
        let e = row_hash(&[Value::Text(String::new())], &mut buf);
        let b = row_hash(&[Value::Bytes(vec![])], &mut buf);
        assert!(n != e && e != b && n != b);
    }
}
