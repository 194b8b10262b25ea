//! Dates, times, timestamps, intervals and uuids that arrive as text (SQLite
//! keeps them so), parsed by bru rather than by the server.
//!
//! PostgreSQL's own input functions are lenient in ways that change values
//! without a word: a timestamp without time zone drops a UTC offset, a date
//! drops a time of day, `now` becomes the time of the load, and a column's
//! precision rounds fractional seconds. bru's rule is that a value is kept
//! exactly or refused, so these texts are parsed here, strictly, into the
//! neutral [`Value`] and sent in binary; anything that would not mean the
//! same date, time or duration in the target column is refused with the
//! reason. The forms accepted are the ISO ones bru itself writes into SQLite
//! (see the SQLite crate's `values` module) plus their usual variants: a `T`
//! between date and time, `Z` or `±HH[:MM]` offsets, uuids in any case, with
//! or without hyphens and braces.

use bru_core::value::{DATE_NEG_INFINITY, DATE_POS_INFINITY, TS_NEG_INFINITY, TS_POS_INFINITY};
use bru_core::{calendar, Interval, Value};

use crate::numeric::split_decimal;
use crate::values::Wire;

const NANOS_PER_SEC: i64 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// Parses `text` for a column that travels as `wire` (one of the date,
/// time, interval and uuid wires) and keeps `precision` fractional second
/// digits (`None`: PostgreSQL's six). Fails, with the reason, when the text
/// is not one of the accepted forms or the column could not keep it as
/// written.
pub(crate) fn parse(wire: Wire, precision: Option<u8>, text: &str) -> Result<Value, String> {
    let t = text.trim_matches(|c: char| c == ' ');
    if t.len() != text.len() {
        return Err("the text has leading or trailing spaces".into());
    }
    // Every form parsed here is ASCII; checking once also keeps the parsers'
    // fixed-position slices on character boundaries.
    if !t.is_ascii() {
        return Err("the text has characters that no date, time, interval or uuid has".into());
    }
    let v = match wire {
        Wire::Date => Value::Date(parse_date_only(t)?),
        Wire::Time => {
            let (nanos, rest) = time_of_day(t)?;
            if !rest.is_empty() {
                return Err(zone_refusal(rest, "a time without time zone"));
            }
            check_precision(nanos as u64 % NANOS_PER_SEC as u64, precision)?;
            Value::Time(nanos)
        }
        Wire::TimeTz => {
            let (nanos, rest) = time_of_day(t)?;
            let offset_secs = if rest.is_empty() { 0 } else { offset(rest)? };
            check_precision(nanos as u64 % NANOS_PER_SEC as u64, precision)?;
            Value::TimeTz { nanos, offset_secs }
        }
        Wire::Timestamp | Wire::TimestampTz => {
            let tz = wire == Wire::TimestampTz;
            let (secs, nanos) = timestamp(t, tz)?;
            check_precision(u64::from(nanos), precision)?;
            if tz {
                Value::TimestampTz { secs, nanos }
            } else {
                Value::Timestamp { secs, nanos }
            }
        }
        Wire::Interval => Value::Interval(interval(t)?),
        Wire::Uuid => Value::Uuid(uuid(t)?),
        other => return Err(format!("text is not parsed for a {other:?} column")),
    };
    Ok(v)
}

fn zone_refusal(rest: &str, column: &str) -> String {
    if rest.starts_with(['+', '-', 'Z', 'z']) {
        format!(
            "the text has a UTC offset ({rest}), which {column} column cannot keep; \
             declare the column WITH TIME ZONE or store local times"
        )
    } else {
        format!("unexpected text {rest:?} after the value")
    }
}

/// Refuses fractional digits the column would round away.
fn check_precision(frac_nanos: u64, precision: Option<u8>) -> Result<(), String> {
    let p = u32::from(precision.unwrap_or(6).min(6));
    if !frac_nanos.is_multiple_of(10u64.pow(9 - p)) {
        return Err(if p == 6 {
            "PostgreSQL keeps microseconds; the nanoseconds would be lost".into()
        } else {
            format!("the column keeps {p} fractional second digits; the value would be rounded")
        });
    }
    Ok(())
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn number(s: &str, what: &str) -> Result<i64, String> {
    if !digits(s) || s.len() > 12 {
        return Err(format!("{what} {s:?} is not a number"));
    }
    // At most 12 ASCII digits: no overflow (and no parse machinery, as this
    // runs several times for every date and time of a migration).
    Ok(s.bytes().fold(0, |n, b| n * 10 + i64::from(b - b'0')))
}

/// A date at the start of `t`: `[-]YYYY-MM-DD` (a leading `-` is an
/// astronomical year, as bru writes them), optionally followed by ` BC`
/// later on; returns the day number and the rest of the text.
fn date_prefix(t: &str) -> Result<(i64, &str), String> {
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t),
    };
    let year_len = body
        .bytes()
        .position(|b| b == b'-')
        .ok_or("not a date (YYYY-MM-DD)")?;
    let year_s = &body[..year_len];
    if year_s.len() < 4 {
        return Err("not a date (YYYY-MM-DD, with a four-digit year)".into());
    }
    let after = &body[year_len + 1..];
    if after.len() < 5 || after.as_bytes()[2] != b'-' {
        return Err("not a date (YYYY-MM-DD)".into());
    }
    let mut year = number(year_s, "year")?;
    let month = number(&after[..2], "month")?;
    let day = number(&after[3..5], "day")?;
    let mut rest = &after[5..];
    if neg {
        year = -year;
    }
    if let Some(r) = rest.strip_suffix(" BC") {
        if neg || year == 0 {
            return Err("a BC date with a year that is not positive".into());
        }
        year = 1 - year;
        rest = r;
    }
    if !(1..=12).contains(&month) {
        return Err(format!("month {month} does not exist"));
    }
    if day < 1 || day > calendar::days_in_month(year, month) {
        return Err(format!(
            "day {day} does not exist in month {month} of {year}"
        ));
    }
    Ok((calendar::days_from_civil(year, month, day), rest))
}

fn parse_date_only(t: &str) -> Result<i32, String> {
    match t {
        "infinity" | "+infinity" => return Ok(DATE_POS_INFINITY),
        "-infinity" => return Ok(DATE_NEG_INFINITY),
        _ => {}
    }
    let (days, rest) = date_prefix(t)?;
    if !rest.is_empty() {
        return Err(format!(
            "a date column cannot keep the time of day or zone {rest:?}"
        ));
    }
    i32::try_from(days)
        .ok()
        .filter(|d| *d != DATE_POS_INFINITY && *d != DATE_NEG_INFINITY)
        .ok_or_else(|| "out of the range of date".into())
}

/// A time of day at the start of `t`: `HH:MM[:SS[.fraction]]`, up to
/// 24:00:00; returns nanoseconds since midnight and the rest of the text.
fn time_of_day(t: &str) -> Result<(i64, &str), String> {
    let b = t.as_bytes();
    if b.len() < 5 || b[2] != b':' {
        return Err("not a time of day (HH:MM:SS)".into());
    }
    let h = number(&t[..2], "hour")?;
    let m = number(&t[3..5], "minute")?;
    let mut rest = &t[5..];
    let mut s = 0;
    let mut frac = 0i64;
    if let Some(r) = rest.strip_prefix(':') {
        if r.len() < 2 {
            return Err("not a time of day (HH:MM:SS)".into());
        }
        s = number(&r[..2], "second")?;
        rest = &r[2..];
        if let Some(r) = rest.strip_prefix('.') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return Err("a fraction of a second without digits".into());
            }
            let significant = r[..n].trim_end_matches('0');
            if significant.len() > 9 {
                return Err("more than nine fractional second digits".into());
            }
            frac = if significant.is_empty() {
                0
            } else {
                number(significant, "fraction")? * 10i64.pow(9 - significant.len() as u32)
            };
            rest = &r[n..];
        }
    }
    if m > 59 || s > 59 {
        return Err("minutes and seconds must be below 60".into());
    }
    let nanos = ((h * 60 + m) * 60 + s) * NANOS_PER_SEC + frac;
    if h > 24 || nanos > SECS_PER_DAY * NANOS_PER_SEC {
        return Err("a time of day after 24:00:00".into());
    }
    Ok((nanos, rest))
}

/// A UTC offset: `Z`, `±HH`, `±HHMM`, `±HH:MM` or `±HH:MM:SS`, in seconds
/// east of UTC.
fn offset(t: &str) -> Result<i32, String> {
    if t == "Z" || t == "z" {
        return Ok(0);
    }
    let bad = || format!("{t:?} is not a UTC offset (Z or ±HH:MM)");
    let (sign, body) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return Err(bad()),
    };
    let parts: Vec<&str> = if body.contains(':') {
        body.split(':').collect()
    } else if body.len() == 4 {
        vec![&body[..2], &body[2..]]
    } else {
        vec![body]
    };
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.len() != 2 || !digits(p)) {
        return Err(bad());
    }
    let n: Vec<i32> = parts.iter().map(|p| p.parse().unwrap_or(99)).collect();
    let (h, m, s) = (n[0], *n.get(1).unwrap_or(&0), *n.get(2).unwrap_or(&0));
    if h > 15 || m > 59 || s > 59 {
        return Err(bad());
    }
    Ok(sign * (h * 3600 + m * 60 + s))
}

/// A timestamp: a date, then optionally `T` or a space and a time of day,
/// then (only with `tz`) an optional offset; returns UTC seconds (with `tz`)
/// or local seconds since 1970, and nanoseconds.
fn timestamp(t: &str, tz: bool) -> Result<(i64, u32), String> {
    match t {
        "infinity" | "+infinity" => return Ok((TS_POS_INFINITY, 0)),
        "-infinity" => return Ok((TS_NEG_INFINITY, 0)),
        _ => {}
    }
    // " BC" ends the text, after the time and offset.
    let (core, bc) = match t.strip_suffix(" BC") {
        Some(c) => (c, " BC"),
        None => (t, ""),
    };
    // Both separators are ASCII, so a byte position is a char boundary.
    let date_end = core
        .bytes()
        .skip(1)
        .position(|b| b == b' ' || b == b'T')
        .map_or(core.len(), |i| i + 1);
    let date_text = if bc.is_empty() {
        std::borrow::Cow::Borrowed(&core[..date_end])
    } else {
        std::borrow::Cow::Owned(format!("{}{bc}", &core[..date_end]))
    };
    let (days, rest) = date_prefix(&date_text)?;
    if !rest.is_empty() {
        return Err(format!("unexpected text {rest:?} after the date"));
    }
    let mut nanos = 0;
    let mut zone = "";
    if date_end < core.len() {
        let (n, after) = time_of_day(&core[date_end + 1..])?;
        nanos = n;
        zone = after;
    }
    let mut secs = days * SECS_PER_DAY + nanos / NANOS_PER_SEC;
    if !zone.is_empty() {
        if !tz {
            return Err(zone_refusal(zone, "a timestamp without time zone"));
        }
        secs -= i64::from(offset(zone)?);
    }
    Ok((secs, (nanos % NANOS_PER_SEC) as u32))
}

/// An ISO 8601 duration (`P1Y2M3DT4H5M6.5S`, `-PT1H30M`, weeks as `W`),
/// each field with an optional sign; only seconds may have a fraction,
/// because PostgreSQL spreads other fractions over smaller units.
fn interval(t: &str) -> Result<Interval, String> {
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t),
    };
    let body = body
        .strip_prefix('P')
        .ok_or("not an ISO 8601 duration (P1Y2M3DT4H5M6S)")?;
    if body.is_empty() {
        return Err("an empty ISO 8601 duration".into());
    }
    let (date_part, time_part) = match body.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return Err("a duration with T but no time fields".into()),
        None => (body, None),
    };
    let mut iv = Interval {
        months: 0,
        days: 0,
        micros: 0,
    };
    let overflow = || "out of the range of interval".to_string();
    for (n, frac, unit) in fields(date_part)? {
        if frac != 0 {
            return Err("only seconds may have a fraction in a duration".into());
        }
        let n = i32::try_from(n).map_err(|_| overflow())?;
        let add = |a: i32, b: i32, k: i32| b.checked_mul(k).and_then(|x| a.checked_add(x));
        match unit {
            'Y' => iv.months = add(iv.months, n, 12).ok_or_else(overflow)?,
            'M' => iv.months = add(iv.months, n, 1).ok_or_else(overflow)?,
            'W' => iv.days = add(iv.days, n, 7).ok_or_else(overflow)?,
            'D' => iv.days = add(iv.days, n, 1).ok_or_else(overflow)?,
            u => return Err(format!("unit {u} is not a date unit of a duration")),
        }
    }
    for (n, frac, unit) in fields(time_part.unwrap_or(""))? {
        let per = match unit {
            'H' => 3_600_000_000,
            'M' => 60_000_000,
            'S' => 1_000_000,
            u => return Err(format!("unit {u} is not a time unit of a duration")),
        };
        if frac != 0 && unit != 'S' {
            return Err("only seconds may have a fraction in a duration".into());
        }
        if frac % 1000 != 0 {
            return Err("PostgreSQL keeps microseconds; the nanoseconds would be lost".into());
        }
        let f = frac / 1000;
        iv.micros = n
            .checked_mul(per)
            .and_then(|x| x.checked_add(f))
            .and_then(|x| iv.micros.checked_add(x))
            .ok_or_else(overflow)?;
    }
    if neg {
        iv.months = iv.months.checked_neg().ok_or_else(overflow)?;
        iv.days = iv.days.checked_neg().ok_or_else(overflow)?;
        iv.micros = iv.micros.checked_neg().ok_or_else(overflow)?;
    }
    Ok(iv)
}

/// The `<number><unit>` fields of one part of a duration, as (whole,
/// fraction in nanoseconds, unit), both carrying the field's sign.
fn fields(mut s: &str) -> Result<Vec<(i64, i64, char)>, String> {
    let mut out = Vec::new();
    while !s.is_empty() {
        let end = s
            .find(|c: char| c.is_ascii_alphabetic())
            .ok_or_else(|| format!("duration field {s:?} has no unit"))?;
        let (num, unit) = (&s[..end], s[end..].chars().next().unwrap_or('?'));
        let (neg, whole, frac) = split_decimal(num);
        let mut n = number(whole, "duration field")?;
        if neg {
            n = -n;
        }
        let frac = if frac.is_empty() {
            0
        } else {
            let f = frac.trim_end_matches('0');
            if !digits(frac) || f.len() > 9 {
                return Err(format!("duration fraction {frac:?} is not exact"));
            }
            if f.is_empty() {
                0
            } else {
                number(f, "fraction")? * 10i64.pow(9 - f.len() as u32)
            }
        };
        out.push((n, if neg { -frac } else { frac }, unit));
        s = &s[end + 1..];
    }
    Ok(out)
}

/// A uuid: 32 hex digits, with or without hyphens, optionally in braces.
fn uuid(t: &str) -> Result<[u8; 16], String> {
    let inner = t
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(t);
    let hex: Vec<u8> = inner.bytes().filter(|b| *b != b'-').collect();
    let hyphens = inner.len() - hex.len();
    let standard = hyphens == 4
        && [8, 13, 18, 23]
            .iter()
            .all(|&i| inner.as_bytes().get(i) == Some(&b'-'));
    if hex.len() != 32 || !(hyphens == 0 || standard) {
        return Err("not a uuid (32 hex digits)".into());
    }
    let mut out = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).map_err(|_| "not a uuid")?;
        out[i] = u8::from_str_radix(s, 16).map_err(|_| "not a uuid (32 hex digits)")?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_text_is_refused_wherever_it_is() {
        for t in [
            "2024-01-0é",
            "é-1ü",
            "2024-é1-01",
            "2024-01-01 12:5ü",
            "12:00:0ü",
            "12:5ü",
        ] {
            for wire in [
                Wire::Date,
                Wire::Time,
                Wire::TimeTz,
                Wire::Timestamp,
                Wire::Uuid,
            ] {
                refused(wire, None, t);
            }
        }
    }

    fn ok(wire: Wire, t: &str) -> Value {
        parse(wire, None, t).unwrap_or_else(|e| panic!("{t}: {e}"))
    }

    fn refused(wire: Wire, p: Option<u8>, t: &str) -> String {
        match parse(wire, p, t) {
            Ok(v) => panic!("{t} was accepted as {v:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn dates() {
        assert_eq!(ok(Wire::Date, "1970-01-01"), Value::Date(0));
        assert_eq!(ok(Wire::Date, "2024-02-29"), Value::Date(19_782));
        assert_eq!(ok(Wire::Date, "0000-01-01"), Value::Date(-719_528));
        assert_eq!(ok(Wire::Date, "0001-01-01 BC"), Value::Date(-719_528));
        assert_eq!(ok(Wire::Date, "-0001-12-31"), Value::Date(-719_529));
        assert_eq!(ok(Wire::Date, "10000-01-01"), Value::Date(2_932_897));
        assert_eq!(ok(Wire::Date, "infinity"), Value::Date(DATE_POS_INFINITY));
        refused(Wire::Date, None, "2024-02-30");
        refused(Wire::Date, None, "2023-02-29");
        refused(Wire::Date, None, "2024-13-01");
        refused(Wire::Date, None, "today");
        refused(Wire::Date, None, " 2024-01-01");
        assert!(refused(Wire::Date, None, "2024-03-01 12:00").contains("time of day"));
        refused(Wire::Date, None, "Mar 1 2024");
    }

    #[test]
    fn timestamps_keep_the_instant_or_refuse() {
        let local = Value::Timestamp {
            secs: 1_709_251_265,
            nanos: 0,
        };
        assert_eq!(ok(Wire::Timestamp, "2024-03-01 00:01:05"), local);
        assert_eq!(ok(Wire::Timestamp, "2024-03-01T00:01:05"), local);
        let e = refused(Wire::Timestamp, None, "2024-03-01T00:01:05-03:00");
        assert!(e.contains("UTC offset") && e.contains("-03:00"), "{e}");
        refused(Wire::Timestamp, None, "2024-03-01 00:01:05Z");
        refused(Wire::Timestamp, None, "now");
        assert_eq!(
            ok(Wire::TimestampTz, "2024-03-01T00:01:05-03:00"),
            Value::TimestampTz {
                secs: 1_709_251_265 + 3 * 3600,
                nanos: 0
            }
        );
        assert_eq!(
            ok(Wire::TimestampTz, "2024-03-31T00:30:00Z"),
            ok(Wire::TimestampTz, "2024-03-31 00:30:00+00")
        );
        assert_eq!(
            ok(Wire::Timestamp, "2024-03-31 01:59:59.123456"),
            Value::Timestamp {
                secs: 1_711_850_399,
                nanos: 123_456_000
            }
        );
        refused(Wire::Timestamp, None, "2024-03-31 01:59:59.1234567");
        let e = refused(Wire::Timestamp, Some(0), "2024-03-31 01:59:59.5");
        assert!(e.contains("rounded"), "{e}");
        assert!(parse(Wire::Timestamp, Some(0), "2024-03-31 01:59:59.000").is_ok());
        assert_eq!(
            ok(Wire::Timestamp, "-infinity"),
            Value::Timestamp {
                secs: TS_NEG_INFINITY,
                nanos: 0
            }
        );
        assert_eq!(
            ok(Wire::Timestamp, "0044-03-15 12:00:00 BC"),
            ok(Wire::Timestamp, "-0043-03-15 12:00:00")
        );
        refused(Wire::Timestamp, None, "2024-03-01 25:00:00");
        refused(Wire::Timestamp, None, "2024-03-01 12:60:00");
    }

    #[test]
    fn times() {
        assert_eq!(ok(Wire::Time, "00:00:00"), Value::Time(0));
        assert_eq!(
            ok(Wire::Time, "23:59:59.999999"),
            Value::Time(86_399_999_999_000)
        );
        assert_eq!(ok(Wire::Time, "24:00:00"), Value::Time(86_400_000_000_000));
        assert_eq!(ok(Wire::Time, "08:30"), Value::Time(30_600_000_000_000));
        refused(Wire::Time, None, "24:00:01");
        assert!(refused(Wire::Time, None, "08:30:00+02:00").contains("offset"));
        refused(Wire::Time, None, "2024-01-01 08:30:00");
        refused(Wire::Time, None, "allballs");
        assert_eq!(
            ok(Wire::TimeTz, "08:30:00-05:00"),
            Value::TimeTz {
                nanos: 30_600_000_000_000,
                offset_secs: -5 * 3600
            }
        );
        assert_eq!(
            ok(Wire::TimeTz, "08:30:00+0530"),
            ok(Wire::TimeTz, "08:30:00+05:30")
        );
    }

    #[test]
    fn intervals() {
        assert_eq!(
            ok(Wire::Interval, "P1Y2M3DT4H5M6.5S"),
            Value::Interval(Interval {
                months: 14,
                days: 3,
                micros: 14_706_500_000
            })
        );
        assert_eq!(
            ok(Wire::Interval, "-PT1H30M"),
            Value::Interval(Interval {
                months: 0,
                days: 0,
                micros: -5_400_000_000
            })
        );
        assert_eq!(
            ok(Wire::Interval, "PT-1H-30M"),
            ok(Wire::Interval, "-PT1H30M")
        );
        assert_eq!(
            ok(Wire::Interval, "PT-0.5S"),
            Value::Interval(Interval {
                months: 0,
                days: 0,
                micros: -500_000
            })
        );
        assert_eq!(ok(Wire::Interval, "P2W"), ok(Wire::Interval, "P14D"));
        refused(Wire::Interval, None, "P1.5M");
        refused(Wire::Interval, None, "1 day");
        refused(Wire::Interval, None, "P");
        refused(Wire::Interval, None, "PT");
    }

    #[test]
    fn uuids() {
        let u = Value::Uuid([
            0xf4, 0x7a, 0xc1, 0x0b, 0x58, 0xcc, 0x43, 0x72, 0xa5, 0x67, 0x0e, 0x02, 0xb2, 0xc3,
            0xd4, 0x79,
        ]);
        assert_eq!(ok(Wire::Uuid, "f47ac10b-58cc-4372-a567-0e02b2c3d479"), u);
        assert_eq!(ok(Wire::Uuid, "{F47AC10B-58CC-4372-A567-0E02B2C3D479}"), u);
        assert_eq!(ok(Wire::Uuid, "f47ac10b58cc4372a5670e02b2c3d479"), u);
        refused(Wire::Uuid, None, "f47ac10b-58cc-4372-a567-0e02b2c3d47");
        refused(Wire::Uuid, None, "f47ac10b-58cc4372-a567-0e02-b2c3d479");
    }
}
