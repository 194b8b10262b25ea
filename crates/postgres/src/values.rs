//! Per-type conversion between PostgreSQL's binary send/receive formats and
//! bru's neutral [`Value`]s, with no I/O.
//!
//! A [`Wire`] is chosen per column from its type OID. Types bru has a neutral
//! counterpart for travel in binary; every other type (arrays, enums,
//! domains, ranges, network types, money, tsvector...) travels as
//! PostgreSQL's canonical text ([`Wire::NativeText`]): the source selects it
//! with `::text` and the target casts it back, so nothing depends on binary
//! formats bru does not know.
//!
//! Encoding refuses anything the column cannot hold exactly and says why;
//! the caller adds the table, column and value.

use bru_core::value::{DATE_NEG_INFINITY, DATE_POS_INFINITY, TS_NEG_INFINITY, TS_POS_INFINITY};
use bru_core::{ColumnType, Interval, Value};
use bytes::{BufMut, BytesMut};

use crate::numeric;

/// Seconds from 1970-01-01 (bru's epoch) to 2000-01-01 (PostgreSQL's).
const PG_EPOCH_SECS: i64 = 946_684_800;
const PG_EPOCH_DAYS: i32 = 10_957;
const USECS_PER_SEC: i64 = 1_000_000;

/// Type OIDs of the built-in types bru moves in binary.
pub(crate) mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const JSON: u32 = 114;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const DATE: u32 = 1082;
    pub const TIME: u32 = 1083;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const INTERVAL: u32 = 1186;
    pub const TIMETZ: u32 = 1266;
    pub const NUMERIC: u32 = 1700;
    pub const UUID: u32 = 2950;
    pub const JSONB: u32 = 3802;
}

/// How one column's values travel in a binary COPY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wire {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    /// `numeric`, with the declared scale when there is one.
    Numeric {
        scale: Option<u32>,
    },
    Text,
    Bytea,
    Date,
    Time,
    TimeTz,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
    Json,
    Jsonb,
    /// Any other type, as canonical text.
    NativeText,
}

impl Wire {
    /// The wire form for a column of type `type_oid` with `typmod`.
    pub fn for_type(type_oid: u32, typmod: i32) -> Wire {
        match type_oid {
            oid::BOOL => Wire::Bool,
            oid::INT2 => Wire::Int2,
            oid::INT4 => Wire::Int4,
            oid::INT8 => Wire::Int8,
            oid::FLOAT4 => Wire::Float4,
            oid::FLOAT8 => Wire::Float8,
            oid::NUMERIC => Wire::Numeric {
                scale: numeric_typmod(typmod).map(|(_, s)| s),
            },
            oid::TEXT | oid::VARCHAR | oid::BPCHAR => Wire::Text,
            oid::BYTEA => Wire::Bytea,
            oid::DATE => Wire::Date,
            oid::TIME => Wire::Time,
            oid::TIMETZ => Wire::TimeTz,
            oid::TIMESTAMP => Wire::Timestamp,
            oid::TIMESTAMPTZ => Wire::TimestampTz,
            oid::INTERVAL => Wire::Interval,
            oid::UUID => Wire::Uuid,
            oid::JSON => Wire::Json,
            oid::JSONB => Wire::Jsonb,
            _ => Wire::NativeText,
        }
    }

    /// True for columns moved as text.
    pub fn is_text_fallback(self) -> bool {
        self == Wire::NativeText
    }
}

/// `(precision, scale)` of a `numeric(p,s)` typmod; `None` for an
/// unconstrained numeric or a negative scale (PostgreSQL 15 allows one,
/// bru's neutral model does not).
pub(crate) fn numeric_typmod(typmod: i32) -> Option<(u32, u32)> {
    if typmod < 4 {
        return None;
    }
    let t = typmod - 4;
    let precision = ((t >> 16) & 0xffff) as u32;
    // The scale is an 11-bit signed field.
    let raw = t & 0x7ff;
    let scale = if raw & 0x400 != 0 { raw - 0x800 } else { raw };
    u32::try_from(scale).ok().map(|s| (precision, s))
}

/// The neutral type of a column of type `type_oid` with `typmod`, or `None`
/// when it has no neutral counterpart (the caller makes it
/// [`ColumnType::Native`]).
pub(crate) fn neutral_type(type_oid: u32, typmod: i32) -> Option<ColumnType> {
    let len = || (typmod >= 4).then(|| (typmod - 4) as u32);
    let precision = || (typmod >= 0).then_some(typmod as u8);
    Some(match type_oid {
        oid::BOOL => ColumnType::Bool,
        oid::INT2 => ColumnType::Int16,
        oid::INT4 => ColumnType::Int32,
        oid::INT8 => ColumnType::Int64,
        oid::FLOAT4 => ColumnType::Float32,
        oid::FLOAT8 => ColumnType::Float64,
        oid::NUMERIC => {
            if typmod < 4 {
                ColumnType::Decimal {
                    precision: None,
                    scale: None,
                }
            } else {
                match numeric_typmod(typmod) {
                    Some((p, s)) => ColumnType::Decimal {
                        precision: Some(p),
                        scale: Some(s),
                    },
                    // A negative scale (`numeric(5,-2)` rounds to hundreds)
                    // has no neutral form; its values are still exact
                    // decimals, and a PostgreSQL restore creates the
                    // column with its own type (`native_type`).
                    None => ColumnType::Decimal {
                        precision: None,
                        scale: None,
                    },
                }
            }
        }
        oid::TEXT => ColumnType::Text {
            max_len: None,
            fixed: false,
            national: false,
        },
        oid::VARCHAR => ColumnType::Text {
            max_len: len(),
            fixed: false,
            national: false,
        },
        oid::BPCHAR => ColumnType::Text {
            max_len: len(),
            fixed: true,
            national: false,
        },
        oid::BYTEA => ColumnType::Binary { max_len: None },
        oid::DATE => ColumnType::Date,
        oid::TIME => ColumnType::Time {
            tz: false,
            precision: precision(),
        },
        oid::TIMETZ => ColumnType::Time {
            tz: true,
            precision: precision(),
        },
        oid::TIMESTAMP => ColumnType::Timestamp {
            tz: false,
            precision: precision(),
        },
        oid::TIMESTAMPTZ => ColumnType::Timestamp {
            tz: true,
            precision: precision(),
        },
        oid::INTERVAL => ColumnType::Interval,
        oid::UUID => ColumnType::Uuid,
        oid::JSON => ColumnType::Json { binary: false },
        oid::JSONB => ColumnType::Json { binary: true },
        _ => return None,
    })
}

fn fixed<const N: usize>(b: &[u8], what: &str) -> Result<[u8; N], String> {
    b.try_into()
        .map_err(|_| format!("{what} value of {} bytes where {N} were expected", b.len()))
}

fn utf8(b: &[u8]) -> Result<String, String> {
    String::from_utf8(b.to_vec()).map_err(|_| "text that is not valid UTF-8".to_string())
}

/// Decodes one non-NULL field of a binary COPY.
pub(crate) fn decode(wire: Wire, b: &[u8]) -> Result<Value, String> {
    Ok(match wire {
        Wire::Bool => Value::Bool(fixed::<1>(b, "bool")?[0] != 0),
        Wire::Int2 => Value::Int16(i16::from_be_bytes(fixed(b, "int2")?)),
        Wire::Int4 => Value::Int32(i32::from_be_bytes(fixed(b, "int4")?)),
        Wire::Int8 => Value::Int64(i64::from_be_bytes(fixed(b, "int8")?)),
        Wire::Float4 => Value::Float32(f32::from_bits(u32::from_be_bytes(fixed(b, "float4")?))),
        Wire::Float8 => Value::Float64(f64::from_bits(u64::from_be_bytes(fixed(b, "float8")?))),
        Wire::Numeric { .. } => Value::Decimal(numeric::decode(b)?),
        Wire::Text => Value::Text(utf8(b)?),
        Wire::NativeText => Value::Native(utf8(b)?),
        Wire::Bytea => Value::Bytes(b.to_vec()),
        Wire::Date => {
            let d = i32::from_be_bytes(fixed(b, "date")?);
            Value::Date(match d {
                i32::MAX => DATE_POS_INFINITY,
                i32::MIN => DATE_NEG_INFINITY,
                d => d
                    .checked_add(PG_EPOCH_DAYS)
                    .ok_or_else(|| format!("date {d} is out of range"))?,
            })
        }
        Wire::Time => Value::Time(i64::from_be_bytes(fixed(b, "time")?) * 1000),
        Wire::TimeTz => {
            let b: [u8; 12] = fixed(b, "timetz")?;
            let micros = i64::from_be_bytes(b[..8].try_into().map_err(|_| "timetz")?);
            // PostgreSQL stores the zone as seconds west of UTC.
            let west = i32::from_be_bytes(b[8..].try_into().map_err(|_| "timetz")?);
            Value::TimeTz {
                nanos: micros * 1000,
                offset_secs: -west,
            }
        }
        Wire::Timestamp => {
            let (secs, nanos) = timestamp_from_pg(i64::from_be_bytes(fixed(b, "timestamp")?));
            Value::Timestamp { secs, nanos }
        }
        Wire::TimestampTz => {
            let (secs, nanos) = timestamp_from_pg(i64::from_be_bytes(fixed(b, "timestamptz")?));
            Value::TimestampTz { secs, nanos }
        }
        Wire::Interval => {
            let b: [u8; 16] = fixed(b, "interval")?;
            let mut micros = [0u8; 8];
            micros.copy_from_slice(&b[..8]);
            Value::Interval(Interval {
                micros: i64::from_be_bytes(micros),
                days: i32::from_be_bytes([b[8], b[9], b[10], b[11]]),
                months: i32::from_be_bytes([b[12], b[13], b[14], b[15]]),
            })
        }
        Wire::Uuid => Value::Uuid(fixed(b, "uuid")?),
        Wire::Json => Value::Json(utf8(b)?),
        Wire::Jsonb => match b.split_first() {
            Some((1, rest)) => Value::Json(utf8(rest)?),
            Some((v, _)) => return Err(format!("jsonb format version {v} is not supported")),
            None => return Err("empty jsonb value".into()),
        },
    })
}

fn timestamp_from_pg(micros: i64) -> (i64, u32) {
    match micros {
        i64::MAX => (TS_POS_INFINITY, 0),
        i64::MIN => (TS_NEG_INFINITY, 0),
        m => {
            // PostgreSQL's range reaches 294276 AD, close enough to i64's
            // limit in microseconds that the shift of epoch needs i128.
            let total = i128::from(m) + i128::from(PG_EPOCH_SECS * USECS_PER_SEC);
            let per_sec = i128::from(USECS_PER_SEC);
            (
                total.div_euclid(per_sec) as i64,
                (total.rem_euclid(per_sec) * 1000) as u32,
            )
        }
    }
}

fn timestamp_to_pg(secs: i64, nanos: u32) -> Result<i64, String> {
    match secs {
        TS_POS_INFINITY => return Ok(i64::MAX),
        TS_NEG_INFINITY => return Ok(i64::MIN),
        _ => {}
    }
    if !nanos.is_multiple_of(1000) {
        return Err("PostgreSQL keeps microseconds; the nanoseconds would be lost".into());
    }
    let micros = (i128::from(secs) - i128::from(PG_EPOCH_SECS)) * i128::from(USECS_PER_SEC)
        + i128::from(nanos / 1000);
    i64::try_from(micros)
        .ok()
        .filter(|us| *us != i64::MAX && *us != i64::MIN)
        .ok_or_else(|| "out of PostgreSQL's timestamp range".to_string())
}

fn int_value(v: &Value) -> Option<i64> {
    match v {
        Value::Int16(i) => Some(i64::from(*i)),
        Value::Int32(i) => Some(i64::from(*i)),
        Value::Int64(i) => Some(*i),
        _ => None,
    }
}

/// Why a timestamp with its UTC offset (SQL Server's `datetimeoffset`) is
/// refused: timestamptz keeps the instant, not the offset.
const OFFSET_REFUSED: &str = "PostgreSQL's timestamp with time zone keeps the instant but not \
     the UTC offset this value was written in (restore into SQL Server to keep both, or accept \
     the instant alone with a --cast rule)";

fn mismatch(v: &Value, wire: Wire) -> String {
    format!("a {} value does not fit a {wire:?} column", v.kind_name())
}

/// Encodes one non-NULL value for a column whose wire form is `wire`.
/// Fails, with the reason, if the column cannot hold the value exactly.
pub(crate) fn encode(wire: Wire, v: &Value, out: &mut BytesMut) -> Result<(), String> {
    let range = |what: &str| format!("out of the range of {what}");
    match wire {
        Wire::Bool => match v {
            Value::Bool(b) => out.put_u8(u8::from(*b)),
            // SQLite keeps booleans as 0 and 1.
            Value::Int16(_) | Value::Int32(_) | Value::Int64(_) => match int_value(v) {
                Some(0) => out.put_u8(0),
                Some(1) => out.put_u8(1),
                _ => return Err("only 0 and 1 can become a boolean".into()),
            },
            _ => return Err(mismatch(v, wire)),
        },
        Wire::Int2 => {
            let i = int_value(v).ok_or_else(|| mismatch(v, wire))?;
            out.put_i16(i16::try_from(i).map_err(|_| range("smallint"))?);
        }
        Wire::Int4 => {
            let i = int_value(v).ok_or_else(|| mismatch(v, wire))?;
            out.put_i32(i32::try_from(i).map_err(|_| range("integer"))?);
        }
        Wire::Int8 => out.put_i64(int_value(v).ok_or_else(|| mismatch(v, wire))?),
        Wire::Float4 => {
            let f = match v {
                Value::Float32(f) => *f,
                Value::Float64(d) if (*d as f32) as f64 == *d || d.is_nan() => *d as f32,
                _ => match int_value(v) {
                    Some(i) if (i as f32) as i64 == i && i.unsigned_abs() < 1 << 24 => i as f32,
                    _ => return Err(format!("{} is not exact as a real", v.kind_name())),
                },
            };
            out.put_u32(f.to_bits());
        }
        Wire::Float8 => {
            let f = match v {
                Value::Float64(f) => *f,
                Value::Float32(f) => f64::from(*f),
                _ => match int_value(v) {
                    Some(i) if i.unsigned_abs() <= 1 << 53 => i as f64,
                    _ => return Err(format!("{} is not exact as a double", v.kind_name())),
                },
            };
            out.put_u64(f.to_bits());
        }
        Wire::Numeric { scale } => {
            // Decimal text as it is, without a copy per value.
            let made;
            let text: &str = match v {
                Value::Decimal(s) | Value::Text(s) => s,
                Value::Float32(f) => {
                    made = float_text(f64::from(*f));
                    &made
                }
                Value::Float64(f) => {
                    made = float_text(*f);
                    &made
                }
                _ => {
                    made = int_value(v)
                        .map(|i| i.to_string())
                        .ok_or_else(|| mismatch(v, wire))?;
                    &made
                }
            };
            if let Some(s) = scale {
                if !numeric::fits_scale(text, s) {
                    return Err(format!(
                        "the column keeps {s} decimal places; it would be rounded"
                    ));
                }
            }
            numeric::encode(text, out)?;
        }
        Wire::Text | Wire::Json | Wire::NativeText => {
            let s = match (wire, v) {
                // Another engine's native values are canonical text.
                (Wire::Text, Value::Text(s) | Value::Native(s)) => s,
                (Wire::Json, Value::Json(s) | Value::Text(s)) => s,
                (Wire::NativeText, Value::Native(s) | Value::Text(s) | Value::Json(s)) => s,
                (Wire::NativeText, Value::Decimal(s)) => s,
                _ => return Err(mismatch(v, wire)),
            };
            if s.contains('\0') {
                return Err("PostgreSQL text cannot hold the NUL character".into());
            }
            out.put_slice(s.as_bytes());
        }
        Wire::Jsonb => match v {
            Value::Json(s) | Value::Text(s) => {
                if s.contains('\0') {
                    return Err("PostgreSQL text cannot hold the NUL character".into());
                }
                out.put_u8(1);
                out.put_slice(s.as_bytes());
            }
            _ => return Err(mismatch(v, wire)),
        },
        Wire::Bytea => match v {
            Value::Bytes(b) => out.put_slice(b),
            _ => return Err(mismatch(v, wire)),
        },
        Wire::Date => match v {
            Value::Date(d) => out.put_i32(match *d {
                DATE_POS_INFINITY => i32::MAX,
                DATE_NEG_INFINITY => i32::MIN,
                d => d.checked_sub(PG_EPOCH_DAYS).ok_or_else(|| range("date"))?,
            }),
            _ => return Err(mismatch(v, wire)),
        },
        Wire::Time => match v {
            Value::Time(n) => out.put_i64(micros_of_day(*n)?),
            _ => return Err(mismatch(v, wire)),
        },
        Wire::TimeTz => match v {
            Value::TimeTz { nanos, offset_secs } => {
                out.put_i64(micros_of_day(*nanos)?);
                out.put_i32(-offset_secs);
            }
            _ => return Err(mismatch(v, wire)),
        },
        Wire::Timestamp => match v {
            Value::Timestamp { secs, nanos } => out.put_i64(timestamp_to_pg(*secs, *nanos)?),
            _ => return Err(mismatch(v, wire)),
        },
        Wire::TimestampTz => match v {
            Value::TimestampTz { secs, nanos } => out.put_i64(timestamp_to_pg(*secs, *nanos)?),
            Value::TimestampOffset { .. } => return Err(OFFSET_REFUSED.into()),
            _ => return Err(mismatch(v, wire)),
        },
        Wire::Interval => match v {
            Value::Interval(iv) => {
                out.put_i64(iv.micros);
                out.put_i32(iv.days);
                out.put_i32(iv.months);
            }
            _ => return Err(mismatch(v, wire)),
        },
        Wire::Uuid => match v {
            Value::Uuid(u) => out.put_slice(u),
            _ => return Err(mismatch(v, wire)),
        },
    }
    Ok(())
}

/// The common fixed-width cases of [`encode`], with their length prefix:
/// writes the field (length, then bytes) and returns `true`, or writes
/// nothing and returns `false` when `v` needs the general path (another
/// pairing of wire and value, a value it would refuse or change, a special
/// date). Only for columns without [`crate::target`] value checks. The bytes
/// are exactly those [`encode`] writes inside a length-prefixed field; this
/// runs for nearly every value of a restore, so it skips the placeholder
/// length and the general match.
#[inline]
pub(crate) fn encode_field_fast(wire: Wire, v: &Value, out: &mut BytesMut) -> bool {
    match (wire, v) {
        (Wire::Int8, Value::Int64(i)) => {
            out.put_i32(8);
            out.put_i64(*i);
        }
        (Wire::Int4, Value::Int32(i)) => {
            out.put_i32(4);
            out.put_i32(*i);
        }
        (Wire::Int2, Value::Int16(i)) => {
            out.put_i32(2);
            out.put_i16(*i);
        }
        (Wire::Bool, Value::Bool(b)) => {
            out.put_i32(1);
            out.put_u8(u8::from(*b));
        }
        (Wire::Float8, Value::Float64(f)) => {
            out.put_i32(8);
            out.put_u64(f.to_bits());
        }
        (Wire::Float4, Value::Float32(f)) => {
            out.put_i32(4);
            out.put_u32(f.to_bits());
        }
        (Wire::Text, Value::Text(s)) => {
            let Ok(len) = i32::try_from(s.len()) else {
                return false;
            };
            if s.contains('\0') {
                return false;
            }
            out.put_i32(len);
            out.put_slice(s.as_bytes());
        }
        (Wire::Date, Value::Date(d)) if *d != DATE_POS_INFINITY && *d != DATE_NEG_INFINITY => {
            let Some(days) = d.checked_sub(PG_EPOCH_DAYS) else {
                return false;
            };
            out.put_i32(4);
            out.put_i32(days);
        }
        (Wire::Timestamp, Value::Timestamp { secs, nanos })
        | (Wire::TimestampTz, Value::TimestampTz { secs, nanos }) => {
            let Ok(micros) = timestamp_to_pg(*secs, *nanos) else {
                return false;
            };
            out.put_i32(8);
            out.put_i64(micros);
        }
        _ => return false,
    }
    true
}

fn micros_of_day(nanos: i64) -> Result<i64, String> {
    if nanos % 1000 != 0 {
        return Err("PostgreSQL keeps microseconds; the nanoseconds would be lost".into());
    }
    Ok(nanos / 1000)
}

/// A float as exact decimal text for a numeric column: Rust prints the
/// shortest text that reads back to the same bits.
fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_field_path_writes_what_encode_writes() {
        let cases = [
            (Wire::Int8, Value::Int64(i64::MIN)),
            (Wire::Int4, Value::Int32(-5)),
            (Wire::Int2, Value::Int16(i16::MAX)),
            (Wire::Bool, Value::Bool(true)),
            (Wire::Float8, Value::Float64(-0.0)),
            (Wire::Float4, Value::Float32(f32::NAN)),
            (Wire::Text, Value::Text("Müller".into())),
            (Wire::Text, Value::Text(String::new())),
            (Wire::Date, Value::Date(0)),
            (Wire::Date, Value::Date(-800_000)),
            (
                Wire::Timestamp,
                Value::Timestamp {
                    secs: 1_700_000_000,
                    nanos: 123_456_000,
                },
            ),
            (Wire::TimestampTz, Value::TimestampTz { secs: -1, nanos: 0 }),
        ];
        for (wire, v) in cases {
            let mut fast = BytesMut::new();
            assert!(encode_field_fast(wire, &v, &mut fast), "{v:?}");
            let mut body = BytesMut::new();
            encode(wire, &v, &mut body).expect("encodes");
            let mut slow = BytesMut::new();
            slow.put_i32(body.len() as i32);
            slow.put_slice(&body);
            assert_eq!(fast, slow, "{wire:?} {v:?}");
        }
        // Values the general path refuses or treats specially are left to it.
        let general = [
            (Wire::Text, Value::Text("a\0b".into())),
            (Wire::Date, Value::Date(DATE_POS_INFINITY)),
            (Wire::Timestamp, Value::Timestamp { secs: 0, nanos: 1 }),
            (Wire::Int4, Value::Int64(1)),
            (Wire::Json, Value::Text("{}".into())),
        ];
        for (wire, v) in general {
            let mut out = BytesMut::new();
            assert!(!encode_field_fast(wire, &v, &mut out), "{v:?}");
            assert!(out.is_empty());
        }
    }

    fn round(wire: Wire, v: Value) -> Value {
        let mut b = BytesMut::new();
        encode(wire, &v, &mut b).unwrap();
        decode(wire, &b).unwrap()
    }

    #[test]
    fn binary_round_trips_edge_values() {
        let cases = [
            (Wire::Int2, Value::Int16(i16::MIN)),
            (Wire::Int8, Value::Int64(i64::MAX)),
            (Wire::Float8, Value::Float64(-0.0)),
            (Wire::Float8, Value::Float64(f64::NEG_INFINITY)),
            (Wire::Float4, Value::Float32(f32::MIN_POSITIVE)),
            (Wire::Date, Value::Date(DATE_POS_INFINITY)),
            (Wire::Date, Value::Date(DATE_NEG_INFINITY)),
            (Wire::Date, Value::Date(-2_000_000)),
            (
                Wire::Timestamp,
                Value::Timestamp {
                    secs: -62_000_000_000,
                    nanos: 123_456_000,
                },
            ),
            (
                Wire::TimestampTz,
                Value::TimestampTz {
                    secs: TS_POS_INFINITY,
                    nanos: 0,
                },
            ),
            (
                Wire::Timestamp,
                Value::Timestamp {
                    secs: 9_224_318_015_999,
                    nanos: 999_999_000,
                },
            ),
            (
                Wire::TimeTz,
                Value::TimeTz {
                    nanos: 3_600_000_000_000,
                    offset_secs: -5 * 3600,
                },
            ),
            (
                Wire::Interval,
                Value::Interval(Interval {
                    months: -14,
                    days: 3,
                    micros: -1,
                }),
            ),
            (Wire::Jsonb, Value::Json("{\"a\": 1}".into())),
            (Wire::Uuid, Value::Uuid([7; 16])),
        ];
        for (wire, v) in cases {
            assert!(round(wire, v.clone()).same_as(&v), "{wire:?} {v:?}");
        }
        let nan = round(Wire::Float8, Value::Float64(f64::NAN));
        assert!(nan.same_as(&Value::Float64(f64::NAN)));
    }

    #[test]
    fn refuses_what_does_not_fit() {
        let mut b = BytesMut::new();
        assert!(encode(Wire::Int4, &Value::Text("5".into()), &mut b).is_err());
        assert!(encode(Wire::Int2, &Value::Int64(70000), &mut b).is_err());
        assert!(encode(Wire::Text, &Value::Text("a\0b".into()), &mut b).is_err());
        assert!(encode(
            Wire::Timestamp,
            &Value::Timestamp { secs: 0, nanos: 1 },
            &mut b
        )
        .is_err());
        assert!(encode(
            Wire::Numeric { scale: Some(2) },
            &Value::Decimal("1.005".into()),
            &mut b
        )
        .is_err());
        assert!(encode(Wire::Float4, &Value::Float64(0.1), &mut b).is_err());
    }

    #[test]
    fn numeric_typmods() {
        assert_eq!(numeric_typmod(-1), None);
        assert_eq!(numeric_typmod(((10 << 16) | 2) + 4), Some((10, 2)));
        assert_eq!(numeric_typmod(((10 << 16) | 0x7fe) + 4), None);
    }
}
