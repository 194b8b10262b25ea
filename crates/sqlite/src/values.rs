//! Converting cells between bru's [`Value`] and SQLite.
//!
//! **Reading** goes by each cell's storage class, never by the declared
//! type, because SQLite lets one column hold integers, reals, text and blobs
//! side by side: INTEGER → `Int64`, REAL → `Float64`, TEXT → `Text`, BLOB →
//! `Bytes`, NULL → `Null`. Text that is not valid UTF-8 is refused (see
//! [`from_sqlite`]) rather than repaired, since repair would change it.
//!
//! **Writing** maps each neutral value to a storage class: integers and
//! bools → INTEGER; floats → REAL; text, decimals, JSON and native values →
//! TEXT; bytes → BLOB (an empty blob stays an empty blob); temporal values,
//! intervals and UUIDs → canonical text:
//! - date `YYYY-MM-DD`; time `HH:MM:SS[.fffffffff]` (trailing zeros of the
//!   fraction dropped) and, with a zone, `+HH:MM`;
//! - timestamp `YYYY-MM-DD HH:MM:SS[.fffffffff]`; with a zone it is written
//!   in UTC with the suffix `+00:00`;
//! - ±infinite dates and timestamps as `infinity` / `-infinity`;
//! - interval as an ISO 8601 duration in PostgreSQL's `iso_8601` style, e.g.
//!   `P1Y2M3DT4H5M6.5S`, `P-1D`, `PT0S`;
//! - UUID in lowercase hyphenated form.
//!
//! SQLite would then apply the column's affinity and may convert the value
//! (REAL 2.0 into an INTEGER column becomes 2; -0.0 into a REAL column
//! becomes 0; the text `007` into a NUMERIC column becomes 7; NaN becomes
//! NULL). [`affinity_change`] predicts each of these so the loader can refuse
//! the value, naming it, instead of letting SQLite change it silently.

use bru_core::value::{DATE_NEG_INFINITY, DATE_POS_INFINITY, TS_NEG_INFINITY, TS_POS_INFINITY};
use bru_core::{calendar, Interval, Value};
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};

use crate::types::Affinity;

/// The neutral value of one SQLite cell. Fails with the raw bytes when a
/// TEXT cell is not valid UTF-8.
pub fn from_sqlite(v: ValueRef<'_>) -> Result<Value, Vec<u8>> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int64(i),
        ValueRef::Real(r) => Value::Float64(r),
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => Value::Text(s.to_owned()),
            Err(_) => return Err(t.to_vec()),
        },
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
    })
}

/// The SQLite value to bind for `v`, borrowing text and blobs. Fails with
/// the reason when the value has no exact SQLite form (NaN, a time of day
/// outside 0..24h, a date beyond the supported range).
pub fn to_sqlite(v: &Value) -> Result<ToSqlOutput<'_>, String> {
    let owned_text = |s: String| ToSqlOutput::Owned(SqlValue::Text(s));
    Ok(match v {
        Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
        Value::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*b))),
        Value::Int16(i) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*i))),
        Value::Int32(i) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*i))),
        Value::Int64(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
        Value::Float32(f) => real(f64::from(*f))?,
        Value::Float64(f) => real(*f)?,
        Value::Decimal(s) | Value::Text(s) | Value::Json(s) | Value::Native(s) => {
            ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
        }
        Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        Value::Date(days) => owned_text(format_date(*days)?),
        Value::Time(nanos) => owned_text(format_time(*nanos)?),
        Value::TimeTz { nanos, offset_secs } => owned_text(format!(
            "{}{}",
            format_time(*nanos)?,
            format_offset(*offset_secs)
        )),
        Value::Timestamp { secs, nanos } => owned_text(format_timestamp(*secs, *nanos)?),
        Value::TimestampTz { secs, nanos } => {
            let ts = format_timestamp(*secs, *nanos)?;
            if *secs == TS_POS_INFINITY || *secs == TS_NEG_INFINITY {
                owned_text(ts)
            } else {
                owned_text(format!("{ts}+00:00"))
            }
        }
        // SQL Server's datetimeoffset: the local time and its offset, the
        // ISO text SQL Server itself prints, which keeps both exactly.
        Value::TimestampOffset {
            secs,
            nanos,
            offset_secs,
        } => {
            let local = secs
                .checked_add(i64::from(*offset_secs))
                .ok_or("the timestamp with its offset is out of range")?;
            owned_text(format!(
                "{}{}",
                format_timestamp(local, *nanos)?,
                format_offset(*offset_secs)
            ))
        }
        Value::Interval(iv) => owned_text(format_interval(iv)),
        Value::Uuid(u) => owned_text(format_uuid(u)),
    })
}

fn real(f: f64) -> Result<ToSqlOutput<'static>, String> {
    if f.is_nan() {
        return Err("SQLite cannot store NaN: it would become NULL".into());
    }
    Ok(ToSqlOutput::Borrowed(ValueRef::Real(f)))
}

/// If SQLite's `aff`inity would change `v` on insert, the reason (naming
/// what it would become); `None` if `v` is stored as is. `check_text`
/// enables the check of text into numeric columns: text from a SQLite
/// source already went through the same affinity and cannot change again.
pub fn affinity_change(aff: Affinity, v: &ValueRef<'_>, check_text: bool) -> Option<String> {
    match (*v, aff) {
        (ValueRef::Integer(_), Affinity::Text) => {
            Some("a column with TEXT affinity would turn the integer into text".into())
        }
        (ValueRef::Integer(_), Affinity::Real) => {
            Some("a column with REAL affinity would turn the integer into a real".into())
        }
        (ValueRef::Real(_), Affinity::Text) => {
            Some("a column with TEXT affinity would turn the real into rounded text".into())
        }
        (ValueRef::Real(r), Affinity::Integer | Affinity::Numeric) => {
            integral_real(r).map(|i| {
                format!("a column with INTEGER or NUMERIC affinity would store the real as the integer {i}")
            })
        }
        (ValueRef::Real(r), Affinity::Real) if r == 0.0 && r.is_sign_negative() => Some(
            "a column with REAL affinity stores -0.0 as 0; declare the column without a type to keep the sign"
                .into(),
        ),
        (ValueRef::Text(t), Affinity::Integer | Affinity::Numeric | Affinity::Real)
            if check_text && looks_numeric(t) =>
        {
            Some("a column with numeric affinity would turn this text into a number".into())
        }
        _ => None,
    }
}

/// The integer SQLite would store for the real `r` in an INTEGER or NUMERIC
/// column (its `sqlite3VdbeIntegerAffinity` rule), or `None`.
fn integral_real(r: f64) -> Option<i64> {
    // `as` saturates like SQLite's doubleToInt64.
    let i = r as i64;
    (r == i as f64 && i > i64::MIN && i < i64::MAX).then_some(i)
}

/// True if SQLite's numeric affinity would convert the text `t`: a
/// well-formed integer or real literal, optionally surrounded by spaces.
fn looks_numeric(t: &[u8]) -> bool {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let start = t.iter().position(|b| !is_space(b)).unwrap_or(t.len());
    let end = t
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |p| p + 1);
    let s = &t[start..end];
    let mut i = usize::from(matches!(s.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let from = *i;
        while s.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - from
    };
    let mut mantissa = digits(&mut i);
    if s.get(i) == Some(&b'.') {
        i += 1;
        mantissa += digits(&mut i);
    }
    if mantissa == 0 {
        return false;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == s.len()
}

/// A date as `YYYY-MM-DD` (years beyond 0..9999 get a sign or more digits).
pub fn format_date(days: i32) -> Result<String, String> {
    match days {
        DATE_POS_INFINITY => return Ok("infinity".into()),
        DATE_NEG_INFINITY => return Ok("-infinity".into()),
        _ => {}
    }
    Ok(format_days(i64::from(days)))
}

fn format_days(days: i64) -> String {
    let (y, m, d) = calendar::civil_from_days(days);
    if y < 0 {
        format!("-{:04}-{m:02}-{d:02}", -y)
    } else {
        format!("{y:04}-{m:02}-{d:02}")
    }
}

/// `.fffffffff` with trailing zeros dropped, or nothing for whole seconds.
fn format_fraction(nanos: u32) -> String {
    if nanos == 0 {
        return String::new();
    }
    let digits = format!("{nanos:09}");
    format!(".{}", digits.trim_end_matches('0'))
}

/// A time of day as `HH:MM:SS[.f]`; 24:00:00 is allowed (PostgreSQL has it).
pub fn format_time(nanos: i64) -> Result<String, String> {
    const DAY: i64 = 86_400 * 1_000_000_000;
    if !(0..=DAY).contains(&nanos) {
        return Err(format!(
            "time of day {nanos} ns is outside 00:00:00..24:00:00"
        ));
    }
    let secs = nanos / 1_000_000_000;
    let frac = (nanos % 1_000_000_000) as u32;
    Ok(format!(
        "{:02}:{:02}:{:02}{}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        format_fraction(frac)
    ))
}

/// A zone offset as `+HH:MM` (or `+HH:MM:SS` when it has seconds).
fn format_offset(offset_secs: i32) -> String {
    let sign = if offset_secs < 0 { '-' } else { '+' };
    let a = offset_secs.unsigned_abs();
    let seconds = a % 60;
    if seconds == 0 {
        format!("{sign}{:02}:{:02}", a / 3600, a / 60 % 60)
    } else {
        format!("{sign}{:02}:{:02}:{seconds:02}", a / 3600, a / 60 % 60)
    }
}

/// A date-time as `YYYY-MM-DD HH:MM:SS[.f]`, or `±infinity`.
pub fn format_timestamp(secs: i64, nanos: u32) -> Result<String, String> {
    match secs {
        TS_POS_INFINITY => return Ok("infinity".into()),
        TS_NEG_INFINITY => return Ok("-infinity".into()),
        _ => {}
    }
    if nanos >= 1_000_000_000 {
        return Err(format!("timestamp nanoseconds {nanos} are not below 1e9"));
    }
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    Ok(format!(
        "{} {:02}:{:02}:{:02}{}",
        format_days(days),
        sod / 3600,
        sod / 60 % 60,
        sod % 60,
        format_fraction(nanos)
    ))
}

/// An interval as an ISO 8601 duration, PostgreSQL `iso_8601` style: each
/// field carries its own sign, zero fields are left out, `PT0S` is zero.
pub fn format_interval(iv: &Interval) -> String {
    let mut out = String::from("P");
    let years = iv.months / 12;
    let months = iv.months % 12;
    for (n, unit) in [(years, 'Y'), (months, 'M'), (iv.days, 'D')] {
        if n != 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    let neg = iv.micros < 0;
    let abs = iv.micros.unsigned_abs();
    let (h, m, s, us) = (
        abs / 3_600_000_000,
        abs / 60_000_000 % 60,
        abs / 1_000_000 % 60,
        abs % 1_000_000,
    );
    let sign = if neg { "-" } else { "" };
    if abs != 0 {
        out.push('T');
        if h != 0 {
            out.push_str(&format!("{sign}{h}H"));
        }
        if m != 0 {
            out.push_str(&format!("{sign}{m}M"));
        }
        if s != 0 || us != 0 {
            let frac = if us == 0 {
                String::new()
            } else {
                format!(".{}", format!("{us:06}").trim_end_matches('0'))
            };
            out.push_str(&format!("{sign}{s}{frac}S"));
        }
    }
    if out == "P" {
        out.push_str("T0S");
    }
    out
}

/// A UUID in lowercase hyphenated form.
pub fn format_uuid(u: &[u8; 16]) -> String {
    let hex: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(v: &Value) -> String {
        match to_sqlite(v).unwrap() {
            ToSqlOutput::Owned(SqlValue::Text(s)) => s,
            ToSqlOutput::Borrowed(ValueRef::Text(t)) => String::from_utf8(t.to_vec()).unwrap(),
            other => panic!("not text: {other:?}"),
        }
    }

    #[test]
    fn dates_and_timestamps() {
        assert_eq!(text_of(&Value::Date(0)), "1970-01-01");
        assert_eq!(text_of(&Value::Date(-1)), "1969-12-31");
        assert_eq!(text_of(&Value::Date(19_723)), "2024-01-01");
        assert_eq!(text_of(&Value::Date(-719_528)), "0000-01-01");
        assert_eq!(text_of(&Value::Date(-719_529)), "-0001-12-31");
        assert_eq!(text_of(&Value::Date(2_932_897)), "10000-01-01");
        assert_eq!(text_of(&Value::Date(DATE_POS_INFINITY)), "infinity");
        assert_eq!(text_of(&Value::Date(DATE_NEG_INFINITY)), "-infinity");
        assert_eq!(
            text_of(&Value::Timestamp {
                secs: 1_700_000_000,
                nanos: 120_000_000
            }),
            "2023-11-14 22:13:20.12"
        );
        assert_eq!(
            text_of(&Value::Timestamp { secs: -1, nanos: 1 }),
            "1969-12-31 23:59:59.000000001"
        );
        assert_eq!(
            text_of(&Value::TimestampTz { secs: 0, nanos: 0 }),
            "1970-01-01 00:00:00+00:00"
        );
        assert_eq!(
            text_of(&Value::TimestampTz {
                secs: TS_NEG_INFINITY,
                nanos: 0
            }),
            "-infinity"
        );
        assert!(to_sqlite(&Value::Timestamp {
            secs: 0,
            nanos: 1_000_000_000
        })
        .is_err());
        // 2000-01-01 00:30 UTC written at -05:00 and at +14:00.
        assert_eq!(
            text_of(&Value::TimestampOffset {
                secs: 946_686_600,
                nanos: 100,
                offset_secs: -5 * 3600
            }),
            "1999-12-31 19:30:00.0000001-05:00"
        );
        assert_eq!(
            text_of(&Value::TimestampOffset {
                secs: 946_686_600,
                nanos: 0,
                offset_secs: 14 * 3600
            }),
            "2000-01-01 14:30:00+14:00"
        );
    }

    #[test]
    fn times_intervals_uuids() {
        assert_eq!(text_of(&Value::Time(0)), "00:00:00");
        assert_eq!(text_of(&Value::Time(45_296_500_000_000)), "12:34:56.5");
        assert_eq!(text_of(&Value::Time(86_400 * 1_000_000_000)), "24:00:00");
        assert!(to_sqlite(&Value::Time(-1)).is_err());
        assert_eq!(
            text_of(&Value::TimeTz {
                nanos: 3_600_000_000_000,
                offset_secs: -(5 * 3600 + 30 * 60)
            }),
            "01:00:00-05:30"
        );
        let iv = |months, days, micros| Interval {
            months,
            days,
            micros,
        };
        assert_eq!(format_interval(&iv(0, 0, 0)), "PT0S");
        assert_eq!(
            format_interval(&iv(14, 3, 4 * 3_600_000_000 + 5 * 60_000_000 + 6_500_000)),
            "P1Y2M3DT4H5M6.5S"
        );
        assert_eq!(format_interval(&iv(-1, -1, -1_500_000)), "P-1M-1DT-1.5S");
        assert_eq!(
            text_of(&Value::Uuid([
                0xA0, 0xEE, 0xBC, 0x99, 0x9C, 0x0B, 0x4E, 0xF8, 0xBB, 0x6D, 0x6B, 0xB9, 0xBD, 0x38,
                0x0A, 0x11
            ])),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
        );
    }

    #[test]
    fn nan_is_refused_and_empty_blob_stays_a_blob() {
        assert!(to_sqlite(&Value::Float64(f64::NAN)).is_err());
        assert!(to_sqlite(&Value::Float32(f32::NAN)).is_err());
        assert_eq!(
            to_sqlite(&Value::Bytes(vec![])).unwrap(),
            ToSqlOutput::Borrowed(ValueRef::Blob(&[]))
        );
        assert_eq!(
            to_sqlite(&Value::Bool(true)).unwrap(),
            ToSqlOutput::Borrowed(ValueRef::Integer(1))
        );
    }

    #[test]
    fn affinity_changes_are_predicted() {
        let int = ValueRef::Integer(7);
        assert!(affinity_change(Affinity::Integer, &int, true).is_none());
        assert!(affinity_change(Affinity::Text, &int, true).is_some());
        assert!(affinity_change(Affinity::Numeric, &ValueRef::Real(2.0), true).is_some());
        assert!(affinity_change(Affinity::Numeric, &ValueRef::Real(2.5), true).is_none());
        assert!(affinity_change(Affinity::Integer, &ValueRef::Real(9.3e18), true).is_none());
        assert!(affinity_change(Affinity::Real, &ValueRef::Real(-0.0), true).is_some());
        assert!(affinity_change(Affinity::Blob, &ValueRef::Real(-0.0), true).is_none());
        for numeric in [" 12 ", "-1.5e3", ".5", "5.", "+7"] {
            let v = ValueRef::Text(numeric.as_bytes());
            assert!(
                affinity_change(Affinity::Numeric, &v, true).is_some(),
                "{numeric}"
            );
            assert!(affinity_change(Affinity::Numeric, &v, false).is_none());
        }
        for text in ["1e", "1.2.3", "2024-01-01", "12:00", "", "-", "1\0", "0x10"] {
            let v = ValueRef::Text(text.as_bytes());
            assert!(
                affinity_change(Affinity::Numeric, &v, true).is_none(),
                "{text}"
            );
        }
    }
}
