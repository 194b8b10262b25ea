//! The proleptic Gregorian calendar that [`Value::Date`] and
//! [`Value::Timestamp`] count in: days since 1970-01-01, year 0 being
//! 1 BC.
//!
//! Every engine turns dates to and from that day count (PostgreSQL's text
//! input, SQLite's ISO text, SQL Server's text columns, `compare`'s
//! normalisation), so the arithmetic lives once, here, beside the values.
//! The conversions are Howard Hinnant's `days_from_civil` and
//! `civil_from_days` (<https://howardhinnant.github.io/date_algorithms.html>),
//! exact over the whole `i64` day range that matters here.
//!
//! [`Value::Date`]: crate::Value::Date
//! [`Value::Timestamp`]: crate::Value::Timestamp

/// Whether `year` (astronomical: 0 is 1 BC) is a leap year.
pub fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// The number of days of `month` (1 to 12) in `year`; 0 for a month that
/// does not exist.
pub fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        _ => 0,
    }
}

/// Days since 1970-01-01 of year `y`, month `m`, day `d`, which the caller
/// has checked exist (see [`days_in_month`]).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of exactly `YYYY-MM-DD` (four-digit year, two-digit
/// month and day, a day that exists), or `None` for any other text. This is
/// the strict ISO 8601 form that SQL Server, SQLite and JSON write; engines
/// with a wider grammar (PostgreSQL's BC years) parse their own around
/// [`days_from_civil`].
pub fn parse_iso_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    (d >= 1 && d <= days_in_month(y, m)).then(|| days_from_civil(y, m, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_counts_round_trip_over_the_calendar_edges() {
        for (text, days) in [
            ("1970-01-01", 0),
            ("0001-01-01", -719_162),
            ("1900-01-01", -25_567),
            ("2000-02-29", 11_016),
            ("9999-12-31", 2_932_896),
        ] {
            assert_eq!(parse_iso_date(text), Some(days), "{text}");
            let (y, m, d) = civil_from_days(days);
            assert_eq!(format!("{y:04}-{m:02}-{d:02}"), text);
        }
        for days in (-800_000..3_000_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), days);
        }
    }

    #[test]
    fn only_real_days_in_the_strict_form_parse() {
        for bad in [
            "1900-02-29",
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "2024-01-00",
            "24-01-01",
            "2024-1-01",
            "2024/01/01",
            "2024-01-01 ",
            "+024-01-01",
            "２０２４-01-01",
            "",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad:?}");
        }
        assert_eq!(parse_iso_date("2024-02-29"), Some(19_782));
        assert!(is_leap(2000) && !is_leap(1900) && is_leap(0));
    }
}
