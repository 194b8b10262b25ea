//! PostgreSQL's binary `numeric` format, to and from exact decimal text.
//!
//! On the wire a numeric is: digit count, weight (the power of 10000 of the
//! first digit), sign, display scale, then base-10000 digits. Text is what
//! bru keeps ([`bru_core::Value::Decimal`]), so any number of digits is
//! exact and the declared scale (`1.50` vs `1.5`) survives; the conversion
//! follows PostgreSQL's own `numeric_out` so the text is identical to what
//! `SELECT x::text` prints.

use bytes::BufMut;

const POS: u16 = 0x0000;
const NEG: u16 = 0x4000;
const NAN: u16 = 0xC000;
const PINF: u16 = 0xD000;
const NINF: u16 = 0xF000;
/// The largest display scale the format can carry.
const DSCALE_MAX: usize = 0x3FFF;

/// Decodes a binary numeric into decimal text (`-?[0-9]+(\.[0-9]+)?`,
/// `NaN`, `Infinity` or `-Infinity`). Fails on a truncated or malformed
/// value, with the reason.
pub(crate) fn decode(b: &[u8]) -> Result<String, String> {
    if b.len() < 8 {
        return Err(format!("numeric value of {} bytes is too short", b.len()));
    }
    let ndigits = u16::from_be_bytes([b[0], b[1]]) as usize;
    let weight = i16::from_be_bytes([b[2], b[3]]) as i64;
    let sign = u16::from_be_bytes([b[4], b[5]]);
    let dscale = u16::from_be_bytes([b[6], b[7]]) as usize;
    match sign {
        NAN => return Ok("NaN".into()),
        PINF => return Ok("Infinity".into()),
        NINF => return Ok("-Infinity".into()),
        POS | NEG => {}
        other => return Err(format!("numeric value has an unknown sign 0x{other:04x}")),
    }
    if b.len() != 8 + 2 * ndigits {
        return Err(format!(
            "numeric value declares {ndigits} digits but has {} bytes",
            b.len()
        ));
    }
    let mut digits = Vec::with_capacity(ndigits);
    for i in 0..ndigits {
        let d = i16::from_be_bytes([b[8 + 2 * i], b[9 + 2 * i]]);
        if !(0..10000).contains(&d) {
            return Err(format!("numeric digit {d} is out of range"));
        }
        digits.push(d as u16);
    }
    let digit = |j: i64| -> u16 {
        if j >= 0 && (j as usize) < digits.len() {
            digits[j as usize]
        } else {
            0
        }
    };
    let mut out = String::with_capacity(ndigits * 4 + 4);
    if sign == NEG {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        for j in 0..=weight {
            if j == 0 {
                out.push_str(&digit(0).to_string());
            } else {
                out.push_str(&format!("{:04}", digit(j)));
            }
        }
    }
    if dscale > 0 {
        out.push('.');
        let mut written = 0;
        let mut j = weight + 1;
        while written < dscale {
            let group = format!("{:04}", digit(j));
            let take = (dscale - written).min(4);
            out.push_str(&group[..take]);
            written += take;
            j += 1;
        }
    }
    Ok(out)
}

/// Encodes decimal text into the binary numeric format, keeping the scale
/// as written. Fails, with the reason, on text that is not a plain decimal
/// or is beyond the format's range.
pub(crate) fn encode(text: &str, out: &mut impl BufMut) -> Result<(), String> {
    let special = match text {
        "NaN" => Some(NAN),
        "Infinity" | "+Infinity" => Some(PINF),
        "-Infinity" => Some(NINF),
        _ => None,
    };
    if let Some(sign) = special {
        out.put_slice(&0u16.to_be_bytes());
        out.put_slice(&0i16.to_be_bytes());
        out.put_slice(&sign.to_be_bytes());
        out.put_slice(&0u16.to_be_bytes());
        return Ok(());
    }
    let (neg, int, frac) = split_decimal(text);
    let plain = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !plain(int) || !plain(frac) {
        return Err("not a decimal number".into());
    }
    if frac.len() > DSCALE_MAX {
        return Err(format!(
            "{} digits after the decimal point; PostgreSQL keeps at most {DSCALE_MAX}",
            frac.len()
        ));
    }
    let int = int.trim_start_matches('0');
    // Align both parts on base-10000 group boundaries around the point.
    let int_groups = int.len().div_ceil(4);
    let mut all = String::with_capacity(int_groups * 4 + frac.len() + 4);
    for _ in 0..(int_groups * 4 - int.len()) {
        all.push('0');
    }
    all.push_str(int);
    all.push_str(frac);
    while !(all.len() - int_groups * 4).is_multiple_of(4) {
        all.push('0');
    }
    let mut groups: Vec<u16> = all
        .as_bytes()
        .chunks(4)
        .map(|c| c.iter().fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0')))
        .collect();
    let mut weight = int_groups as i64 - 1;
    let lead = groups.iter().take_while(|g| **g == 0).count();
    groups.drain(..lead);
    weight -= lead as i64;
    while groups.last() == Some(&0) {
        groups.pop();
    }
    let sign = if groups.is_empty() {
        weight = 0;
        POS
    } else if neg {
        NEG
    } else {
        POS
    };
    let weight =
        i16::try_from(weight).map_err(|_| "too large for PostgreSQL numeric".to_string())?;
    let ndigits = u16::try_from(groups.len())
        .map_err(|_| "too many digits for PostgreSQL numeric".to_string())?;
    out.put_slice(&ndigits.to_be_bytes());
    out.put_slice(&weight.to_be_bytes());
    out.put_slice(&sign.to_be_bytes());
    out.put_slice(&(frac.len() as u16).to_be_bytes());
    for g in groups {
        out.put_slice(&g.to_be_bytes());
    }
    Ok(())
}

/// Whether `text` can go into a `numeric(p, scale)` column without the
/// server rounding it: digits beyond `scale` must all be zero.
pub(crate) fn fits_scale(text: &str, scale: u32) -> bool {
    match text.split_once('.') {
        Some((_, frac)) => frac.bytes().skip(scale as usize).all(|c| c == b'0'),
        None => true,
    }
}

/// A decimal's sign (`-`, or `+` or none), and its digits before and after
/// the decimal point (either may be empty), unchecked.
pub(crate) fn split_decimal(text: &str) -> (bool, &str, &str) {
    let (neg, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    (neg, int, frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(text: &str) -> String {
        let mut b = Vec::new();
        encode(text, &mut b).unwrap();
        decode(&b).unwrap()
    }

    #[test]
    fn round_trips_keep_digits_and_scale() {
        for t in [
            "0",
            "0.00",
            "1",
            "-1",
            "10000",
            "9999.9999",
            "0.0001",
            "0.00001",
            "-0.5",
            "123456789012345678901234567890.123456789012345678901234567890",
            "1.50",
            "100000000",
            "0.000000000000000000001",
            "NaN",
            "Infinity",
            "-Infinity",
        ] {
            assert_eq!(round(t), t, "{t}");
        }
        assert_eq!(round("007.10"), "7.10");
        assert_eq!(round("-0.000"), "0.000");
        let huge = format!("{}.{}", "9".repeat(1000), "1".repeat(1000));
        assert_eq!(round(&huge), huge);
    }

    #[test]
    fn rejects_what_is_not_a_plain_decimal() {
        let mut b = Vec::new();
        for bad in ["", ".", "1e5", "abc", "1.2.3", "--1", " 1"] {
            assert!(encode(bad, &mut b).is_err(), "{bad:?}");
        }
        assert!(decode(&[0, 1, 0, 0]).is_err());
        assert!(decode(&[0, 2, 0, 0, 0, 0, 0, 0, 0, 1]).is_err());
    }

    #[test]
    fn scale_check() {
        assert!(fits_scale("1.2300", 2));
        assert!(!fits_scale("1.235", 2));
        assert!(fits_scale("12", 0));
    }
}
