//! Values and row batches.
//!
//! A [`Value`] is one cell. Its variant is chosen per cell, not per column,
//! because SQLite lets one column hold integers, reals, text and blobs side by
//! side; the archive must keep each cell's own storage class to round-trip it.
//!
//! Temporal values use fixed integer encodings so that no engine's range or
//! precision is lost (see FORMAT.md, "Value encodings"):
//! - dates are days since 1970-01-01, with `i32::MIN`/`i32::MAX` for
//!   -infinity/+infinity;
//! - timestamps are seconds since 1970-01-01 00:00:00 plus nanoseconds, with
//!   `i64::MIN`/`i64::MAX` seconds for -infinity/+infinity;
//! - times are nanoseconds since midnight;
//! - a timestamp with a UTC offset ([`Value::TimestampOffset`], SQL
//!   Server's `datetimeoffset`) is the instant in UTC, as
//!   [`Value::TimestampTz`] holds it, plus the offset east of UTC in
//!   seconds that the local time had: the local time is the instant plus
//!   the offset. Two values with the same instant and different offsets
//!   are different values.

/// The sentinel day number for a date of +infinity.
pub const DATE_POS_INFINITY: i32 = i32::MAX;
/// The sentinel day number for a date of -infinity.
pub const DATE_NEG_INFINITY: i32 = i32::MIN;
/// The sentinel seconds for a timestamp of +infinity.
pub const TS_POS_INFINITY: i64 = i64::MAX;
/// The sentinel seconds for a timestamp of -infinity.
pub const TS_NEG_INFINITY: i64 = i64::MIN;

/// A calendar interval in PostgreSQL's three-field model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interval {
    pub months: i32,
    pub days: i32,
    pub micros: i64,
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Float32(f32),
    Float64(f64),
    /// Exact decimal text: `-?[0-9]+(\.[0-9]+)?`, or `NaN`, `Infinity`,
    /// `-Infinity`. Kept as text so any number of digits is exact.
    Decimal(String),
    /// Character data; may contain NUL and any Unicode.
    Text(String),
    Bytes(Vec<u8>),
    /// Days since 1970-01-01 (see the module docs for infinities).
    Date(i32),
    /// Nanoseconds since midnight.
    Time(i64),
    /// Nanoseconds since midnight, and the zone's offset east of UTC in seconds.
    TimeTz {
        nanos: i64,
        offset_secs: i32,
    },
    /// A local date-time: seconds since the epoch and nanoseconds (0..1e9).
    Timestamp {
        secs: i64,
        nanos: u32,
    },
    /// An instant, stored in UTC: seconds since the epoch and nanoseconds.
    TimestampTz {
        secs: i64,
        nanos: u32,
    },
    /// An instant with the UTC offset it was written in (SQL Server's
    /// `datetimeoffset`): `secs`/`nanos` are the instant in UTC, as in
    /// [`Value::TimestampTz`]; `offset_secs` is the offset east of UTC
    /// (-14:00..=+14:00 in SQL Server), so the local time is the instant
    /// plus `offset_secs`.
    TimestampOffset {
        secs: i64,
        nanos: u32,
        offset_secs: i32,
    },
    Interval(Interval),
    Uuid([u8; 16]),
    Json(String),
    /// A value of an engine-native type in that engine's canonical text form.
    Native(String),
}

impl Value {
    /// True for SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// An estimate of the bytes this value takes in a chunk, used to bound
    /// batches by size rather than by row count.
    pub fn approx_size(&self) -> usize {
        match self {
            // NULL counts as a byte so that wide all-NULL rows still bound
            // a batch by size.
            Value::Null | Value::Bool(_) => 1,
            Value::Int16(_) => 2,
            Value::Int32(_) | Value::Float32(_) | Value::Date(_) => 4,
            Value::Int64(_) | Value::Float64(_) | Value::Time(_) => 8,
            Value::TimeTz { .. } | Value::Timestamp { .. } | Value::TimestampTz { .. } => 12,
            Value::Interval(_) | Value::Uuid(_) | Value::TimestampOffset { .. } => 16,
            Value::Decimal(s) | Value::Text(s) | Value::Json(s) | Value::Native(s) => s.len() + 4,
            Value::Bytes(b) => b.len() + 4,
        }
    }

    /// A short name of the variant, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int16(_) => "int16",
            Value::Int32(_) => "int32",
            Value::Int64(_) => "int64",
            Value::Float32(_) => "float32",
            Value::Float64(_) => "float64",
            Value::Decimal(_) => "decimal",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytes",
            Value::Date(_) => "date",
            Value::Time(_) => "time",
            Value::TimeTz { .. } => "timetz",
            Value::Timestamp { .. } => "timestamp",
            Value::TimestampTz { .. } => "timestamptz",
            Value::TimestampOffset { .. } => "timestamp with offset",
            Value::Interval(_) => "interval",
            Value::Uuid(_) => "uuid",
            Value::Json(_) => "json",
            Value::Native(_) => "native",
        }
    }

    /// A bounded, printable rendering for error messages: long text and
    /// blobs are cut so one bad value cannot flood the terminal.
    pub fn describe(&self) -> String {
        const MAX: usize = 80;
        let full = match self {
            Value::Null => return "NULL".into(),
            Value::Bytes(b) => {
                let hex: String = b.iter().take(MAX / 2).map(|x| format!("{x:02x}")).collect();
                let more = if b.len() > MAX / 2 { "…" } else { "" };
                return format!("x'{hex}{more}' ({} bytes)", b.len());
            }
            Value::Decimal(s) => s.clone(),
            Value::Text(s) | Value::Json(s) | Value::Native(s) => format!("{s:?}"),
            Value::Bool(b) => b.to_string(),
            Value::Int16(i) => i.to_string(),
            Value::Int32(i) => i.to_string(),
            Value::Int64(i) => i.to_string(),
            Value::Float32(f) => f.to_string(),
            Value::Float64(f) => f.to_string(),
            Value::Date(d) => shown::date(*d),
            Value::Time(n) => shown::time(*n),
            Value::TimeTz { nanos, offset_secs } => {
                format!("{}{}", shown::time(*nanos), shown::offset(*offset_secs))
            }
            Value::Timestamp { secs, nanos } => shown::timestamp(*secs, *nanos),
            Value::TimestampTz { secs, nanos } => {
                let t = shown::timestamp(*secs, *nanos);
                if shown::is_infinite(*secs) {
                    t
                } else {
                    format!("{t}+00")
                }
            }
            Value::TimestampOffset {
                secs,
                nanos,
                offset_secs,
            } => shown::with_offset(*secs, *nanos, *offset_secs),
            Value::Interval(i) => format!(
                "{} months {} days {} microseconds",
                i.months, i.days, i.micros
            ),
            Value::Uuid(u) => shown::uuid(u),
        };
        if full.chars().count() > MAX {
            let cut: String = full.chars().take(MAX).collect();
            format!("{cut}…")
        } else {
            full
        }
    }

    /// Bitwise equality: like `==`, but floats compare by bits, so NaN equals
    /// the same NaN and -0.0 differs from 0.0. This is what "round-trips
    /// exactly" means for bru.
    pub fn same_as(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Float32(a), Value::Float32(b)) => a.to_bits() == b.to_bits(),
            (Value::Float64(a), Value::Float64(b)) => a.to_bits() == b.to_bits(),
            (a, b) => a == b,
        }
    }
}

/// How [`Value::describe`] spells temporal values and UUIDs: ISO 8601 text
/// in the proleptic Gregorian calendar, as an operator would type them.
mod shown {
    use crate::calendar::civil_from_days;

    const NANOS_PER_SEC: i64 = 1_000_000_000;

    pub(super) fn is_infinite(secs: i64) -> bool {
        secs == i64::MIN || secs == i64::MAX
    }

    fn ymd(days: i64) -> String {
        let (y, m, d) = civil_from_days(days);
        if y < 0 {
            format!("-{:04}-{m:02}-{d:02}", -y)
        } else {
            format!("{y:04}-{m:02}-{d:02}")
        }
    }

    pub(super) fn date(days: i32) -> String {
        match days {
            i32::MAX => "infinity".into(),
            i32::MIN => "-infinity".into(),
            d => ymd(i64::from(d)),
        }
    }

    /// `HH:MM:SS` and, when there are any, the fractional digits without
    /// trailing zeros.
    pub(super) fn time(nanos: i64) -> String {
        let secs = nanos.div_euclid(NANOS_PER_SEC);
        let frac = nanos.rem_euclid(NANOS_PER_SEC);
        let mut s = format!(
            "{:02}:{:02}:{:02}",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        );
        if frac != 0 {
            let digits = format!("{frac:09}");
            s.push('.');
            s.push_str(digits.trim_end_matches('0'));
        }
        s
    }

    pub(super) fn timestamp(secs: i64, nanos: u32) -> String {
        match secs {
            i64::MAX => "infinity".into(),
            i64::MIN => "-infinity".into(),
            s => {
                let days = s.div_euclid(86_400);
                let in_day = s.rem_euclid(86_400);
                let t = time(in_day * NANOS_PER_SEC + i64::from(nanos));
                format!("{} {t}", ymd(days))
            }
        }
    }

    /// `+HH:MM` east of UTC.
    pub(super) fn offset(offset_secs: i32) -> String {
        let sign = if offset_secs < 0 { '-' } else { '+' };
        let a = offset_secs.unsigned_abs();
        let mut s = format!("{sign}{:02}:{:02}", a / 3600, (a / 60) % 60);
        if !a.is_multiple_of(60) {
            s.push_str(&format!(":{:02}", a % 60));
        }
        s
    }

    /// The local time (the instant plus the offset) and the offset, as
    /// SQL Server prints a `datetimeoffset`.
    pub(super) fn with_offset(secs: i64, nanos: u32, offset_secs: i32) -> String {
        if is_infinite(secs) {
            return timestamp(secs, nanos);
        }
        let local = secs.saturating_add(i64::from(offset_secs));
        format!("{} {}", timestamp(local, nanos), offset(offset_secs))
    }

    /// Lowercase and hyphenated, as every engine prints one.
    pub(super) fn uuid(u: &[u8; 16]) -> String {
        let mut s = String::with_capacity(36);
        for (i, b) in u.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                s.push('-');
            }
            s.push_str(&format!("{b:02x}"));
        }
        s
    }
}

/// A bounded batch of rows of one table, stored row-major in one flat vector
/// (row `r`, column `c` is `values[r * column_count + c]`), so that filling a
/// batch allocates once rather than once per row.
///
/// The row count is kept explicitly: a table with zero columns (PostgreSQL
/// allows them) still has rows, and they must not be lost.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RowBatch {
    column_count: usize,
    rows: usize,
    values: Vec<Value>,
}

impl RowBatch {
    /// An empty batch for rows of `column_count` columns.
    pub fn new(column_count: usize) -> Self {
        RowBatch {
            column_count,
            rows: 0,
            values: Vec::new(),
        }
    }

    /// A batch of `rows` rows of a zero-column table.
    pub fn of_empty_rows(rows: usize) -> Self {
        RowBatch {
            column_count: 0,
            rows,
            values: Vec::new(),
        }
    }

    /// An empty batch with room for `rows` rows.
    pub fn with_capacity(column_count: usize, rows: usize) -> Self {
        RowBatch {
            column_count,
            rows: 0,
            values: Vec::with_capacity(column_count * rows),
        }
    }

    /// Builds a batch from row-major values.
    ///
    /// # Panics
    /// If `values.len()` is not a multiple of `column_count` (a programming
    /// error, not bad input).
    pub fn from_values(column_count: usize, values: Vec<Value>) -> Self {
        assert!(
            column_count == 0 && values.is_empty()
                || column_count > 0 && values.len().is_multiple_of(column_count),
            "row batch with {} values is not a whole number of {column_count}-column rows",
            values.len()
        );
        RowBatch {
            column_count,
            rows: values.len().checked_div(column_count).unwrap_or(0),
            values,
        }
    }

    /// Appends one row.
    ///
    /// # Panics
    /// If the row does not have `column_count` values.
    pub fn push_row<I: IntoIterator<Item = Value>>(&mut self, row: I) {
        let before = self.values.len();
        self.values.extend(row);
        assert_eq!(
            self.values.len() - before,
            self.column_count,
            "row has the wrong number of columns"
        );
        self.rows += 1;
    }

    pub fn column_count(&self) -> usize {
        self.column_count
    }

    pub fn row_count(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Row `r` as a slice of `column_count` values.
    pub fn row(&self, r: usize) -> &[Value] {
        &self.values[r * self.column_count..(r + 1) * self.column_count]
    }

    /// Iterates over the rows.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &[Value]> + '_ {
        (0..self.rows).map(move |r| self.row(r))
    }

    /// The value at row `r`, column `c`.
    pub fn get(&self, r: usize, c: usize) -> &Value {
        &self.values[r * self.column_count + c]
    }

    /// All values, row-major.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// Takes the values out, row-major.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// Approximate encoded size of all values, in bytes.
    pub fn approx_size(&self) -> usize {
        self.values.iter().map(Value::approx_size).sum()
    }

    pub fn clear(&mut self) {
        self.values.clear();
        self.rows = 0;
    }

    /// Gives the batch's vector, emptied, to the next batch a source fills
    /// ([`spare_values`]). Called by whoever is done with a batch (backup,
    /// once it is encoded); dropping a batch instead is always correct.
    pub fn recycle(self) {
        let mut values = self.values;
        values.clear();
        if values.capacity() == 0
            || values.capacity() * std::mem::size_of::<Value>() > MAX_SPARE_BYTES
        {
            return;
        }
        let mut spares = SPARES.lock().unwrap_or_else(|e| e.into_inner());
        if spares.len() < MAX_SPARES {
            spares.push(values);
        }
    }
}

/// Why batches are recycled: a source fills a batch on its reader thread
/// and the batch is freed on a worker once encoded, so each batch's vector
/// (megabytes) was a new allocation, grown by doubling from empty; with
/// freed memory returned to the system after 10 ms (the CLI's allocator
/// setting), every batch faulted its pages in afresh. A PostgreSQL backup
/// spent about 15 % of its CPU zeroing those pages and 3 % copying grown
/// vectors. A few spent vectors are kept here instead, process-wide (the
/// threads that free and the threads that fill differ), each at most
/// [`MAX_SPARE_BYTES`], so what is kept is bounded: at most
/// `MAX_SPARES × MAX_SPARE_BYTES` bytes beside the batches in flight.
/// One is kept: two cut a backup's CPU a little more but kept a second
/// batch's worth of memory (about 20 MiB at `--jobs 2`) resident.
static SPARES: std::sync::Mutex<Vec<Vec<Value>>> = std::sync::Mutex::new(Vec::new());

/// The most spent vectors kept ([`RowBatch::recycle`]).
const MAX_SPARES: usize = 1;

/// The largest spent vector kept, in bytes of its capacity.
const MAX_SPARE_BYTES: usize = 16 << 20;

/// An empty vector for a new batch's values: a recycled one
/// ([`RowBatch::recycle`]) with room from an earlier batch, or a new one.
pub fn spare_values() -> Vec<Value> {
    SPARES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .pop()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recycled_vectors_come_back_empty_and_bounded() {
        let mut batch = RowBatch::new(2);
        batch.push_row([Value::Int64(1), Value::Text("a".into())]);
        batch.recycle();
        // Other tests recycle too: whatever comes back is empty.
        for _ in 0..=MAX_SPARES {
            assert!(spare_values().is_empty());
        }
        let huge = RowBatch::from_values(
            1,
            Vec::with_capacity(MAX_SPARE_BYTES / std::mem::size_of::<Value>() + 1),
        );
        huge.recycle();
        for _ in 0..=MAX_SPARES {
            let v = spare_values();
            assert!(v.capacity() * std::mem::size_of::<Value>() <= MAX_SPARE_BYTES);
        }
    }

    #[test]
    fn batch_rows_and_get() {
        let mut b = RowBatch::new(2);
        b.push_row([Value::Int64(1), Value::Text("a".into())]);
        b.push_row([Value::Null, Value::Bytes(vec![])]);
        assert_eq!(b.row_count(), 2);
        assert_eq!(b.get(1, 1), &Value::Bytes(vec![]));
        assert_eq!(b.rows().count(), 2);
        assert_eq!(b.row(0)[1], Value::Text("a".into()));
    }

    #[test]
    fn zero_column_rows_are_counted() {
        let mut b = RowBatch::new(0);
        b.push_row([]);
        b.push_row([]);
        assert_eq!(b.row_count(), 2);
        assert_eq!(b.rows().count(), 2);
        assert!(b.rows().all(|r| r.is_empty()));
        assert_eq!(RowBatch::of_empty_rows(5).row_count(), 5);
        b.clear();
        assert!(b.is_empty());
    }

    #[test]
    fn same_as_is_bitwise_for_floats() {
        assert!(!Value::Float64(0.0).same_as(&Value::Float64(-0.0)));
        assert!(Value::Float64(f64::NAN).same_as(&Value::Float64(f64::NAN)));
        assert!(Value::Float64(1.5).same_as(&Value::Float64(1.5)));
    }

    #[test]
    fn describe_spells_values_as_an_operator_types_them() {
        let d = |v: Value| v.describe();
        assert_eq!(d(Value::Int64(-7)), "-7");
        assert_eq!(d(Value::Bool(true)), "true");
        assert_eq!(d(Value::Decimal("-12.50".into())), "-12.50");
        assert_eq!(d(Value::Text("a\"b".into())), "\"a\\\"b\"");
        assert_eq!(d(Value::Date(0)), "1970-01-01");
        assert_eq!(d(Value::Date(-719_528)), "0000-01-01");
        assert_eq!(d(Value::Date(2_932_896)), "9999-12-31");
        assert_eq!(d(Value::Date(DATE_NEG_INFINITY)), "-infinity");
        assert_eq!(d(Value::Time(3_723_000_000_000)), "01:02:03");
        assert_eq!(d(Value::Time(86_399_999_999_900)), "23:59:59.9999999");
        assert_eq!(
            d(Value::Timestamp {
                secs: -1,
                nanos: 500_000_000
            }),
            "1969-12-31 23:59:59.5"
        );
        assert_eq!(
            d(Value::TimestampTz { secs: 0, nanos: 0 }),
            "1970-01-01 00:00:00+00"
        );
        assert_eq!(
            d(Value::TimestampTz {
                secs: TS_POS_INFINITY,
                nanos: 0
            }),
            "infinity"
        );
        assert_eq!(
            d(Value::TimestampOffset {
                secs: 0,
                nanos: 0,
                offset_secs: -(14 * 3600)
            }),
            "1969-12-31 10:00:00 -14:00"
        );
        assert_eq!(
            d(Value::TimeTz {
                nanos: 0,
                offset_secs: 5 * 3600 + 30 * 60
            }),
            "00:00:00+05:30"
        );
        let mut u = [0u8; 16];
        u[0] = 0xab;
        u[15] = 0x01;
        assert_eq!(d(Value::Uuid(u)), "ab000000-0000-0000-0000-000000000001");
    }

    #[test]
    fn describe_cuts_long_values() {
        let long = Value::Text("x".repeat(1000));
        assert!(long.describe().chars().count() <= 81);
        let blob = Value::Bytes(vec![0xab; 1000]);
        assert!(blob.describe().ends_with("(1000 bytes)"));
    }
}
