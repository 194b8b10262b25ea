//! tiberius's decoded cells ([`ColumnData`]) as bru [`Value`]s, exactly
//! (the mapping is in [`crate::types`]).
//!
//! The epochs differ: `date` and `datetime2` count days from 0001-01-01,
//! `datetime` and `smalldatetime` from 1900-01-01, bru from 1970-01-01.
//! `datetime` ticks in 1/300 s; its nanoseconds are the tick rounded to
//! the nanosecond (tick 1 is 3_333_333 ns), which rounds back to the same
//! tick. `datetimeoffset`'s date and time are UTC on the wire, which is
//! what [`Value::TimestampOffset`] holds, with the offset in seconds.

use bru_core::Value;
use tiberius::ColumnData;

/// Days from 0001-01-01 to 1970-01-01.
pub const DAYS_0001_TO_1970: i64 = 719_162;
/// Days from 1900-01-01 to 1970-01-01.
pub const DAYS_1900_TO_1970: i64 = 25_567;

/// How one column's cells become values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decode {
    /// By the cell's own type.
    Plain,
    /// A native fallback read as bytes: [`Value::Native`] `0x` + hex.
    NativeHex,
    /// A native type read as text (xml, hierarchyid, sql_variant):
    /// [`Value::Native`].
    NativeText,
    /// A decimal read as text ([`crate::types::Fallback::DecimalText`]).
    DecimalText,
}

/// The value of one cell; `Err` says why it cannot be carried exactly.
pub fn decode(cell: ColumnData<'static>, how: Decode) -> Result<Value, String> {
    Ok(match cell {
        ColumnData::U8(v) => opt(v, |v| Value::Int16(v.into())),
        ColumnData::I16(v) => opt(v, Value::Int16),
        ColumnData::I32(v) => opt(v, Value::Int32),
        ColumnData::I64(v) => opt(v, Value::Int64),
        ColumnData::F32(v) => opt(v, Value::Float32),
        ColumnData::F64(v) => opt(v, Value::Float64),
        ColumnData::Bit(v) => opt(v, Value::Bool),
        ColumnData::String(v) => match (v, how) {
            (None, _) => Value::Null,
            (Some(s), Decode::DecimalText) => Value::Decimal(decimal_from_text(&s)?),
            (Some(s), Decode::Plain) => Value::Text(s.into_owned()),
            (Some(s), _) => Value::Native(s.into_owned()),
        },
        ColumnData::Guid(v) => opt(v, |u| Value::Uuid(*u.as_bytes())),
        ColumnData::Binary(v) => opt(v, |b| match how {
            Decode::NativeHex => Value::Native(hex(&b)),
            _ => Value::Bytes(b.into_owned()),
        }),
        ColumnData::Numeric(v) => opt(v, |n| Value::Decimal(decimal_text(n.value(), n.scale()))),
        ColumnData::Xml(v) => opt(v, |x| Value::Native(x.into_owned().into_string())),
        ColumnData::DateTime(v) => opt(v, |d| {
            let (secs, nanos) = datetime(d.days(), d.seconds_fragments());
            Value::Timestamp { secs, nanos }
        }),
        ColumnData::SmallDateTime(v) => opt(v, |d| Value::Timestamp {
            secs: (i64::from(d.days()) - DAYS_1900_TO_1970) * 86_400
                + i64::from(d.seconds_fragments()) * 60,
            nanos: 0,
        }),
        ColumnData::Date(v) => match v {
            None => Value::Null,
            Some(d) => Value::Date(date_days(d.days())?),
        },
        ColumnData::Time(v) => match v {
            None => Value::Null,
            Some(t) => Value::Time(time_nanos(t.increments(), t.scale())?),
        },
        ColumnData::DateTime2(v) => match v {
            None => Value::Null,
            Some(d) => {
                let (secs, nanos) =
                    datetime2(d.date().days(), d.time().increments(), d.time().scale())?;
                Value::Timestamp { secs, nanos }
            }
        },
        ColumnData::DateTimeOffset(v) => match v {
            None => Value::Null,
            Some(d) => {
                let dt = d.datetime2();
                let (secs, nanos) =
                    datetime2(dt.date().days(), dt.time().increments(), dt.time().scale())?;
                Value::TimestampOffset {
                    secs,
                    nanos,
                    offset_secs: i32::from(d.offset()) * 60,
                }
            }
        },
    })
}

fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Value) -> Value {
    v.map_or(Value::Null, f)
}

/// `0x` and lowercase hex.
pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * b.len());
    s.push_str("0x");
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// The exact text of the decimal `value` × 10^-`scale`, with all `scale`
/// fraction digits (as SQL Server shows `decimal(p,s)`).
pub fn decimal_text(value: i128, scale: u8) -> String {
    let neg = value < 0;
    let digits = value.unsigned_abs().to_string();
    let scale = usize::from(scale);
    let body = if scale == 0 {
        digits
    } else {
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        format!("{int}.{frac}")
    };
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

/// SQL Server's text of a decimal (`0.5`, `-.5`, `12.30`) as bru's exact
/// decimal text (`-?[0-9]+(\.[0-9]+)?`).
pub fn decimal_from_text(s: &str) -> Result<String, String> {
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let int = if int.is_empty() { "0" } else { int };
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) || (body.contains('.') && frac.is_empty()) {
        return Err(format!("the server sent {s:?} for a decimal"));
    }
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push_str(int);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    Ok(out)
}

/// bru's day number of a `date` (days since 0001-01-01).
pub fn date_days(days: u32) -> Result<i32, String> {
    i32::try_from(i64::from(days) - DAYS_0001_TO_1970)
        .map_err(|_| format!("date day number {days} is out of range"))
}

/// Nanoseconds since midnight of a `time(scale)` of `increments`.
pub fn time_nanos(increments: u64, scale: u8) -> Result<i64, String> {
    if scale > 7 {
        return Err(format!("time scale {scale} is beyond SQL Server's 7"));
    }
    let nanos = u128::from(increments) * 10u128.pow(9 - u32::from(scale));
    // 24:00:00 itself is what Babelfish holds for 23:59:59.9999999 (it
    // rounds to microseconds, and PostgreSQL's day ends at 24:00:00):
    // carried exactly, as a PostgreSQL time; a SQL Server target refuses
    // it by name. Anything later is no time of day at all.
    if nanos > 86_400 * 1_000_000_000 {
        return Err(format!(
            "the server sent a time of {increments} units at scale {scale}, which is past 24:00:00"
        ));
    }
    Ok(nanos as i64)
}

/// Seconds since the epoch and nanoseconds of a `datetime2`.
pub fn datetime2(days: u32, increments: u64, scale: u8) -> Result<(i64, u32), String> {
    let day = i64::from(days) - DAYS_0001_TO_1970;
    let nanos = time_nanos(increments, scale)?;
    Ok((
        day * 86_400 + nanos / 1_000_000_000,
        (nanos % 1_000_000_000) as u32,
    ))
}

/// Seconds since the epoch and nanoseconds of a `datetime` (days since
/// 1900-01-01, may be negative back to 1753; 1/300 s ticks since midnight).
pub fn datetime(days: i32, ticks: u32) -> (i64, u32) {
    let secs = (i64::from(days) - DAYS_1900_TO_1970) * 86_400 + i64::from(ticks / 300);
    let rem = u64::from(ticks % 300);
    // rem/300 s in ns, rounded to the nearest: (rem·10^7 + 1) / 3.
    let nanos = ((rem * 10_000_000 + 1) / 3) as u32;
    (secs, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use tiberius::numeric::Numeric;
    use tiberius::time::{Date, DateTime, DateTime2, DateTimeOffset, SmallDateTime, Time};

    fn plain(c: ColumnData<'static>) -> Value {
        decode(c, Decode::Plain).unwrap()
    }

    #[test]
    fn decimals_are_exact_at_the_edges() {
        let max38 = 10i128.pow(38) - 1;
        // decimal(38,38) comes as text (tiberius's Numeric refuses scale 38).
        let nines = format!("0.{}", "9".repeat(38));
        for (sent, want) in [
            (format!(".{}", "9".repeat(38)), nines.clone()),
            (nines.clone(), nines.clone()),
            (
                format!("-.{}1", "0".repeat(37)),
                format!("-0.{}1", "0".repeat(37)),
            ),
        ] {
            assert_eq!(
                decode(
                    ColumnData::String(Some(Cow::Owned(sent))),
                    Decode::DecimalText
                )
                .unwrap(),
                Value::Decimal(want)
            );
        }
        assert!(decimal_from_text("1e5").is_err());
        assert!(decimal_from_text("1.").is_err());
        assert_eq!(
            plain(ColumnData::Numeric(Some(Numeric::new_with_scale(
                max38, 37
            )))),
            Value::Decimal(format!("9.{}", "9".repeat(37)))
        );
        assert_eq!(
            plain(ColumnData::Numeric(Some(Numeric::new_with_scale(
                -max38, 0
            )))),
            Value::Decimal(format!("-{}", "9".repeat(38)))
        );
        assert_eq!(decimal_text(-5, 3), "-0.005");
        assert_eq!(decimal_text(0, 2), "0.00");
        assert_eq!(decimal_text(150, 2), "1.50");
        assert_eq!(decimal_text(1, 38), format!("0.{}1", "0".repeat(37)));
        // money's limits as read through CAST(… AS decimal(19,4)).
        assert_eq!(decimal_text(i64::MAX.into(), 4), "922337203685477.5807");
        assert_eq!(decimal_text(i64::MIN.into(), 4), "-922337203685477.5808");
        assert_eq!(decimal_text(2_147_483_647, 4), "214748.3647");
        assert_eq!(decimal_text(-2_147_483_648, 4), "-214748.3648");
    }

    #[test]
    fn datetime2_at_the_ends_of_its_range() {
        // 0001-01-01 00:00:00
        assert_eq!(
            plain(ColumnData::DateTime2(Some(DateTime2::new(
                Date::new(0),
                Time::new(0, 7)
            )))),
            Value::Timestamp {
                secs: -62_135_596_800,
                nanos: 0
            }
        );
        // 9999-12-31 23:59:59.9999999
        let last_day = 3_652_058;
        assert_eq!(
            plain(ColumnData::DateTime2(Some(DateTime2::new(
                Date::new(last_day),
                Time::new(863_999_999_999, 7)
            )))),
            Value::Timestamp {
                secs: 253_402_300_799,
                nanos: 999_999_900
            }
        );
        assert_eq!(
            plain(ColumnData::Date(Some(Date::new(719_162)))),
            Value::Date(0)
        );
        assert_eq!(
            plain(ColumnData::Date(Some(Date::new(0)))),
            Value::Date(-719_162)
        );
        assert_eq!(plain(ColumnData::DateTime2(None)), Value::Null);
    }

    #[test]
    fn times_keep_100ns_units() {
        assert_eq!(
            plain(ColumnData::Time(Some(Time::new(1, 7)))),
            Value::Time(100)
        );
        assert_eq!(
            plain(ColumnData::Time(Some(Time::new(123, 3)))),
            Value::Time(123_000_000)
        );
        assert_eq!(
            plain(ColumnData::Time(Some(Time::new(863_999_999_999, 7)))),
            Value::Time(86_399_999_999_900)
        );
        // 24:00:00 (Babelfish's 23:59:59.9999999) is kept; later is refused.
        assert_eq!(
            plain(ColumnData::Time(Some(Time::new(864_000_000_000, 7)))),
            Value::Time(86_400_000_000_000)
        );
        assert!(decode(
            ColumnData::Time(Some(Time::new(864_000_000_001, 7))),
            Decode::Plain
        )
        .is_err());
    }

    #[test]
    fn datetimeoffset_keeps_the_instant_and_the_offset() {
        // 2024-03-01 12:00:00 UTC written at +14:00 and at -14:00.
        let days = 738_945; // 2024-03-01 since 0001-01-01
        for offset_min in [14 * 60, -14 * 60, 0] {
            let v = plain(ColumnData::DateTimeOffset(Some(DateTimeOffset::new(
                DateTime2::new(Date::new(days), Time::new(12 * 3600 * 10_000_000 + 5, 7)),
                offset_min,
            ))));
            assert_eq!(
                v,
                Value::TimestampOffset {
                    secs: 1_709_294_400,
                    nanos: 500,
                    offset_secs: i32::from(offset_min) * 60
                }
            );
        }
    }

    #[test]
    fn datetime_ticks_round_to_the_nanosecond() {
        // 1900-01-01 00:00:00.003 (tick 1)
        assert_eq!(
            plain(ColumnData::DateTime(Some(DateTime::new(0, 1)))),
            Value::Timestamp {
                secs: -2_208_988_800,
                nanos: 3_333_333
            }
        );
        // tick 2 = 6.666…ms rounds up
        assert_eq!(datetime(0, 2).1, 6_666_667);
        assert_eq!(datetime(0, 299).1, 996_666_667);
        // 1753-01-01 (the earliest datetime), 9999-12-31 23:59:59.997
        assert_eq!(datetime(-53_690, 0).0, -6_847_804_800);
        assert_eq!(
            datetime(2_958_463, 25_919_999),
            (253_402_300_799, 996_666_667)
        );
        assert_eq!(
            plain(ColumnData::SmallDateTime(Some(SmallDateTime::new(
                25_567, 61
            )))),
            Value::Timestamp {
                secs: 3660,
                nanos: 0
            }
        );
    }

    #[test]
    fn uuids_are_in_rfc_4122_order() {
        let u = tiberius::Uuid::parse_str("6f9619ff-8b86-d011-b42d-00c04fc964ff").unwrap();
        assert_eq!(
            plain(ColumnData::Guid(Some(u))),
            Value::Uuid([
                0x6f, 0x96, 0x19, 0xff, 0x8b, 0x86, 0xd0, 0x11, 0xb4, 0x2d, 0x00, 0xc0, 0x4f, 0xc9,
                0x64, 0xff
            ])
        );
    }

    #[test]
    fn empty_is_not_null_and_natives_keep_their_text() {
        assert_eq!(
            plain(ColumnData::String(Some(Cow::Borrowed("")))),
            Value::Text(String::new())
        );
        assert_eq!(plain(ColumnData::String(None)), Value::Null);
        assert_eq!(
            plain(ColumnData::Binary(Some(Cow::Borrowed(&[])))),
            Value::Bytes(vec![])
        );
        assert_eq!(plain(ColumnData::Binary(None)), Value::Null);
        assert_eq!(
            plain(ColumnData::String(Some(Cow::Borrowed("a😀b")))),
            Value::Text("a😀b".into())
        );
        assert_eq!(
            decode(
                ColumnData::Binary(Some(Cow::Borrowed(&[0, 0xab]))),
                Decode::NativeHex
            )
            .unwrap(),
            Value::Native("0x00ab".into())
        );
        assert_eq!(
            decode(
                ColumnData::String(Some(Cow::Borrowed("int:5"))),
                Decode::NativeText
            )
            .unwrap(),
            Value::Native("int:5".into())
        );
        assert_eq!(plain(ColumnData::U8(Some(255))), Value::Int16(255));
        assert!(plain(ColumnData::F64(Some(-0.0))).same_as(&Value::Float64(-0.0)));
    }
}
