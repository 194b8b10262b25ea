//! The one place where values of two engines are brought to one form before
//! they are compared.
//!
//! Within one engine nothing is changed: two PostgreSQL databases, or a
//! database and an archive of its own engine, compare their values exactly
//! as the backup's checksum sees them, so `12.5` and `12.50` in a numeric
//! column differ. Across engines, bru's mapping stores some values in
//! another form, exactly (docs/type-mapping.md): SQLite keeps dates,
//! timestamps, uuids and JSON as text, booleans as 0/1, and decimals as
//! integers, reals or text, where PostgreSQL and SQL Server have types. So a
//! column compared across engines has a [`Norm`], chosen from the neutral
//! types of both sides (the one that is not plain text), and each side's
//! value is put into the typed form the restore would have written: text
//! parsed by the same strict ISO forms the PostgreSQL target accepts, a
//! decimal as its shortest exact text (`12.50` and the SQLite REAL `12.5`
//! are one value, as the restore makes them), JSON with its object keys
//! sorted and no spaces (as `jsonb` keeps it). A value that does not parse
//! is left as it is, so it compares unequal rather than being guessed at.

use std::fmt::Write as _;

use bru_core::value::{DATE_NEG_INFINITY, DATE_POS_INFINITY, TS_NEG_INFINITY, TS_POS_INFINITY};
use bru_core::{calendar, ColumnType, Value};

/// How one column's values are brought to a common form across engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Norm {
    /// Compared as they are.
    Exact,
    Bool,
    Decimal,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Uuid,
    Json,
}

impl Norm {
    /// The form for a column of neutral types `a` and `b` on two sides;
    /// `Exact` when both sides are one engine.
    pub(crate) fn for_columns(same_engine: bool, a: &ColumnType, b: &ColumnType) -> Norm {
        if same_engine {
            return Norm::Exact;
        }
        match Norm::of(a) {
            Norm::Exact => Norm::of(b),
            n => n,
        }
    }

    fn of(ty: &ColumnType) -> Norm {
        match ty {
            ColumnType::Bool => Norm::Bool,
            ColumnType::Decimal { .. } => Norm::Decimal,
            ColumnType::Date => Norm::Date,
            ColumnType::Time { tz: false, .. } => Norm::Time,
            ColumnType::Timestamp { tz: false, .. } => Norm::Timestamp,
            ColumnType::Timestamp { tz: true, .. } => Norm::TimestampTz,
            ColumnType::Uuid => Norm::Uuid,
            ColumnType::Json { .. } => Norm::Json,
            _ => Norm::Exact,
        }
    }

    /// `v` in the common form, or `None` when it is already in it (or does
    /// not parse, and so stays as it is).
    pub(crate) fn apply(self, v: &Value) -> Option<Value> {
        match (self, v) {
            (Norm::Exact, _) | (_, Value::Null) => None,
            (Norm::Bool, Value::Int64(0)) => Some(Value::Bool(false)),
            (Norm::Bool, Value::Int64(1)) => Some(Value::Bool(true)),
            (Norm::Decimal, Value::Int64(i)) => Some(Value::Decimal(i.to_string())),
            (Norm::Decimal, Value::Int32(i)) => Some(Value::Decimal(i.to_string())),
            (Norm::Decimal, Value::Int16(i)) => Some(Value::Decimal(i.to_string())),
            (Norm::Decimal, Value::Float64(f)) => Some(Value::Decimal(float_decimal(*f))),
            (Norm::Decimal, Value::Float32(f)) => {
                Some(Value::Decimal(float_decimal(f64::from(*f))))
            }
            (Norm::Decimal, Value::Decimal(s) | Value::Text(s)) => {
                canonical_decimal(s).map(Value::Decimal)
            }
            (Norm::Date, Value::Text(s)) => parse_date(s).map(Value::Date),
            (Norm::Time, Value::Text(s)) => parse_time(s).map(Value::Time),
            (Norm::Timestamp, Value::Text(s)) => match parse_timestamp(s)? {
                (secs, nanos, None) => Some(Value::Timestamp { secs, nanos }),
                (_, _, Some(_)) => None,
            },
            (Norm::TimestampTz, Value::Text(s)) => {
                let (secs, nanos, offset) = parse_timestamp(s)?;
                let secs = match secs {
                    TS_POS_INFINITY | TS_NEG_INFINITY => secs,
                    _ => secs - i64::from(offset.unwrap_or(0)),
                };
                Some(Value::TimestampTz { secs, nanos })
            }
            // An instant with its offset is the instant where the other
            // side keeps no offset (SQL Server's datetimeoffset into
            // timestamptz, by its cast rule).
            (Norm::TimestampTz, Value::TimestampOffset { secs, nanos, .. }) => {
                Some(Value::TimestampTz {
                    secs: *secs,
                    nanos: *nanos,
                })
            }
            (Norm::Uuid, Value::Text(s)) => parse_uuid(s).map(Value::Uuid),
            (Norm::Uuid, Value::Bytes(b)) if b.len() == 16 => {
                let mut u = [0u8; 16];
                u.copy_from_slice(b);
                Some(Value::Uuid(u))
            }
            (Norm::Json, Value::Text(s) | Value::Json(s)) => canonical_json(s).map(Value::Json),
            _ => None,
        }
    }
}

/// The shortest decimal text that reads back as `f` (Rust's `Display`,
/// which never uses an exponent), as the targets write a float into a
/// decimal column.
fn float_decimal(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        (if f > 0.0 { "Infinity" } else { "-Infinity" }).into()
    } else {
        canonical_decimal(&format!("{f}")).unwrap_or_else(|| format!("{f}"))
    }
}

/// `-?digits[.digits]` without leading zeros, trailing fractional zeros or
/// a negative zero; `None` for text that is no such decimal (left alone).
fn canonical_decimal(s: &str) -> Option<String> {
    if matches!(s, "NaN" | "Infinity" | "-Infinity") {
        return Some(s.to_owned());
    }
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let mut out = String::with_capacity(s.len());
    if negative && !(int.is_empty() && frac.is_empty()) {
        out.push('-');
    }
    out.push_str(if int.is_empty() { "0" } else { int });
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    Some(out)
}

fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `YYYY-MM-DD` (or the infinities) as days since 1970-01-01.
fn parse_date(s: &str) -> Option<i32> {
    match s {
        "infinity" => return Some(DATE_POS_INFINITY),
        "-infinity" => return Some(DATE_NEG_INFINITY),
        _ => {}
    }
    let days = calendar::parse_iso_date(s)?;
    i32::try_from(days).ok()
}

/// `HH:MM[:SS[.fraction]]` as nanoseconds since midnight.
fn parse_time(s: &str) -> Option<i64> {
    let (clock, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut parts = clock.split(':');
    let h = digits(parts.next().filter(|p| p.len() == 2)?)?;
    let m = digits(parts.next().filter(|p| p.len() == 2)?)?;
    let sec = match parts.next() {
        Some(p) if p.len() == 2 => digits(p)?,
        Some(_) => return None,
        None if frac.is_empty() => 0,
        None => return None,
    };
    if parts.next().is_some() || frac.len() > 9 || (s.contains('.') && frac.is_empty()) {
        return None;
    }
    let nanos = if frac.is_empty() {
        0
    } else {
        digits(frac)? * 10i64.pow(9 - frac.len() as u32)
    };
    // 24:00:00 is the end of the day, as PostgreSQL allows.
    let valid = (h < 24 && m < 60 && sec < 60) || (h == 24 && m == 0 && sec == 0 && nanos == 0);
    valid.then_some(((h * 60 + m) * 60 + sec) * 1_000_000_000 + nanos)
}

/// `date[ T]time[Z|±HH[:MM]]`: seconds since the epoch as written (local),
/// nanoseconds, and the offset east of UTC in seconds when one is written.
fn parse_timestamp(s: &str) -> Option<(i64, u32, Option<i32>)> {
    match s {
        "infinity" => return Some((TS_POS_INFINITY, 0, None)),
        "-infinity" => return Some((TS_NEG_INFINITY, 0, None)),
        _ => {}
    }
    if s.len() < 10 || !s.is_ascii() {
        return None;
    }
    let days = calendar::parse_iso_date(&s[..10])?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some((days * 86_400, 0, None));
    }
    let rest = rest.strip_prefix([' ', 'T'])?;
    let (clock, offset) = match rest.find(['Z', '+', '-']) {
        Some(at) => (&rest[..at], Some(parse_offset(&rest[at..])?)),
        None => (rest, None),
    };
    let nanos = parse_time(clock)?;
    let secs = days * 86_400 + nanos / 1_000_000_000;
    Some((secs, (nanos % 1_000_000_000) as u32, offset))
}

/// `Z`, `±HH`, `±HH:MM` or `±HHMM` as seconds east of UTC.
fn parse_offset(s: &str) -> Option<i32> {
    if s == "Z" {
        return Some(0);
    }
    let sign = if s.starts_with('-') { -1 } else { 1 };
    let body = s[1..].replace(':', "");
    let (h, m) = match body.len() {
        2 => (digits(&body)?, 0),
        4 => (digits(&body[..2])?, digits(&body[2..])?),
        _ => return None,
    };
    (h <= 15 && m < 60).then(|| sign * (h * 3600 + m * 60) as i32)
}

/// 32 hex digits, in any case, with or without hyphens and braces.
fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let s = s
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(s);
    let hex: Vec<u8> = s.bytes().filter(|&b| b != b'-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        let text = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

/// JSON text with object keys sorted, duplicates resolved as `jsonb` does
/// (the last wins) and no insignificant white space; `None` when it is not
/// JSON.
fn canonical_json(s: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(s).ok()?;
    let mut out = String::with_capacity(s.len());
    write_json(&v, &mut out);
    Some(out)
}

fn write_json(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{}", serde_json::Value::String(k.clone()));
                out.push(':');
                write_json(&map[k], out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_compare_by_value_across_engines() {
        let n = Norm::Decimal;
        let d = |s: &str| Some(Value::Decimal(s.into()));
        assert_eq!(n.apply(&Value::Decimal("12.50".into())), d("12.5"));
        assert_eq!(n.apply(&Value::Float64(12.5)), d("12.5"));
        assert_eq!(n.apply(&Value::Float64(22.24)), d("22.24"));
        assert_eq!(n.apply(&Value::Int64(12)), d("12"));
        assert_eq!(n.apply(&Value::Text("-000.000".into())), d("0"));
        assert_eq!(n.apply(&Value::Decimal("-0.0100".into())), d("-0.01"));
        assert_eq!(n.apply(&Value::Text("12,5".into())), None);
        assert_ne!(
            n.apply(&Value::Decimal("12.51".into())),
            n.apply(&Value::Float64(12.5))
        );
    }

    #[test]
    fn texts_become_the_typed_values_the_restore_writes() {
        assert_eq!(
            Norm::Date.apply(&Value::Text("1970-01-02".into())),
            Some(Value::Date(1))
        );
        assert_eq!(
            Norm::Date.apply(&Value::Text("2000-03-01".into())),
            Some(Value::Date(11_017))
        );
        assert_eq!(Norm::Date.apply(&Value::Text("2001-02-29".into())), None);
        assert_eq!(
            Norm::Timestamp.apply(&Value::Text("1970-01-01T00:01:05.5".into())),
            Some(Value::Timestamp {
                secs: 65,
                nanos: 500_000_000
            })
        );
        assert_eq!(
            Norm::TimestampTz.apply(&Value::Text("1970-01-01 03:00:00+03:00".into())),
            Some(Value::TimestampTz { secs: 0, nanos: 0 })
        );
        assert_eq!(
            Norm::Time.apply(&Value::Text("01:00".into())),
            Some(Value::Time(3_600_000_000_000))
        );
        let u = Norm::Uuid.apply(&Value::Text(
            "{0A0B0C0D-0000-0000-0000-0000000000FF}".into(),
        ));
        let mut bytes = [0u8; 16];
        bytes[..4].copy_from_slice(&[10, 11, 12, 13]);
        bytes[15] = 255;
        assert_eq!(u, Some(Value::Uuid(bytes)));
        assert_eq!(Norm::Bool.apply(&Value::Int64(1)), Some(Value::Bool(true)));
        assert_eq!(Norm::Bool.apply(&Value::Int64(2)), None);
        assert_eq!(
            Norm::Json.apply(&Value::Text("{\"b\": 1, \"a\": [true, null]}".into())),
            Some(Value::Json("{\"a\":[true,null],\"b\":1}".into()))
        );
    }

    #[test]
    fn one_engine_compares_exactly() {
        let t = ColumnType::Decimal {
            precision: None,
            scale: None,
        };
        assert_eq!(Norm::for_columns(true, &t, &t), Norm::Exact);
        let text = ColumnType::Text {
            max_len: None,
            fixed: false,
            national: false,
        };
        assert_eq!(Norm::for_columns(false, &text, &t), Norm::Decimal);
        assert_eq!(Norm::Exact.apply(&Value::Decimal("1.0".into())), None);
    }
}
