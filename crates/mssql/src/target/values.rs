//! Value encoding for SQL Server: how each archive value is written into a
//! target column, and the checks that make it exact or refused.
//!
//! The column's own type in the target (read from `sys.columns`, so the
//! same rules serve a fresh table and `--data-only`) decides the
//! [`Enc`]oding. Integers, floats, bits, strings, binaries and uuids travel
//! as typed RPC parameters. Decimals, money and every date and time type
//! travel as exact text that bru writes itself, converted by a `CAST` in
//! the statement: no driver encoding of those types is involved (tiberius
//! mis-encodes some of them, and panics on others in bulk load), and the
//! server's string-to-type conversion of ISO 8601 text does not depend on
//! `SET DATEFORMAT` or the language.
//!
//! Whatever the server would round, pad, cut or wrap is refused first,
//! naming the value, since SQL Server's casts round without a word: digits
//! beyond a `decimal`'s scale, fractional seconds beyond a type's
//! precision (and beyond microseconds on Babelfish, which keeps no more),
//! a `datetime` that is not one of its 1/300 s ticks, a `smalldatetime`
//! with seconds, a value outside a type's range, a string longer than its
//! column (`nchar`/`nvarchar` lengths in UTF-16 code units, see
//! [`crate::types::utf16_len`]) or shorter than its fixed length, a
//! character a `char`/`varchar` column's code page cannot hold.

use std::borrow::Cow;

use bru_core::{calendar, Value};
use tiberius::{ColumnData, ToSql, Uuid};

use crate::types::utf16_len;

/// How a target column's character data is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodePage {
    /// UTF-16 (`nchar`, `nvarchar`, `ntext`): every character, lengths in
    /// UTF-16 code units.
    Utf16,
    /// A `_UTF8` collation: every character, lengths in UTF-8 bytes.
    Utf8,
    /// Windows-1252 (the Latin1_General and SQL_Latin1 collations).
    Cp1252,
    /// Babelfish's `varchar`, a PostgreSQL string in the database's
    /// UTF-8: every character, lengths in characters.
    Chars,
    /// Any other code page: only ASCII is known to be kept.
    Ascii,
}

impl CodePage {
    /// From `COLLATIONPROPERTY(collation, 'CodePage')`.
    pub(crate) fn from_code_page(cp: Option<i32>, babelfish: bool) -> CodePage {
        match cp {
            Some(65001) => CodePage::Utf8,
            Some(1252) => CodePage::Cp1252,
            None if babelfish => CodePage::Chars,
            _ => CodePage::Ascii,
        }
    }

    /// The stored length of `s`, or `None` if a character cannot be held.
    fn len(self, s: &str) -> Result<usize, char> {
        match self {
            CodePage::Utf16 => Ok(utf16_len(s)),
            CodePage::Utf8 => Ok(s.len()),
            CodePage::Chars => Ok(s.chars().count()),
            CodePage::Cp1252 => match s.chars().find(|c| !in_cp1252(*c)) {
                Some(c) => Err(c),
                None => Ok(s.chars().count()),
            },
            CodePage::Ascii => match s.chars().find(|c| !c.is_ascii()) {
                Some(c) => Err(c),
                None => Ok(s.len()),
            },
        }
    }
}

/// Whether Windows-1252 has `c`.
fn in_cp1252(c: char) -> bool {
    const HIGH: &str = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ";
    (c as u32) < 0x80 || ((c as u32) >= 0xa0 && (c as u32) <= 0xff) || HIGH.contains(c)
}

/// A target column's type as `sys.columns` and `sys.types` give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SqlType {
    /// The base type's name, lower case (`nvarchar`, `decimal`, …); an
    /// alias type is given by its base type.
    pub(crate) name: String,
    /// `sys.columns.max_length`: bytes, -1 for `(max)`.
    pub(crate) max_length: i16,
    pub(crate) precision: u8,
    pub(crate) scale: u8,
    /// For character types: how they are stored.
    pub(crate) code_page: CodePage,
}

/// How values are written into one target column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Enc {
    Bit,
    /// An integer type with its range.
    Int {
        name: &'static str,
        min: i64,
        max: i64,
    },
    Real,
    Float,
    /// `decimal(p,s)` / `numeric(p,s)`.
    Decimal {
        precision: u8,
        scale: u8,
    },
    /// `money` (`small`: `smallmoney`).
    Money {
        small: bool,
    },
    /// Character data: maximum length (None: max, text, ntext), whether
    /// it is fixed (`char`, `nchar`), and how it is stored.
    Text {
        max: Option<usize>,
        fixed: bool,
        code_page: CodePage,
    },
    Binary {
        max: Option<usize>,
        fixed: bool,
    },
    Date,
    Time {
        scale: u8,
    },
    DateTime,
    SmallDateTime,
    DateTime2 {
        scale: u8,
    },
    DateTimeOffset {
        scale: u8,
    },
    Uuid,
    Xml,
    /// `hierarchyid`: its path text.
    PathText,
    /// A type whose values travel as `0x` hex of its serialized bytes
    /// (geography, geometry, CLR types), by its name.
    HexBytes {
        type_name: String,
    },
    /// `sql_variant`: `<base type>:<text>`.
    Variant,
}

/// The earliest and latest days of `date` and `datetime2`: 0001-01-01 and
/// 9999-12-31, in days since 1970-01-01.
const DAY_MIN: i64 = -719_162;
const DAY_MAX: i64 = 2_932_896;
/// `datetime` starts at 1753-01-01.
const DATETIME_DAY_MIN: i64 = -79_622;
/// `smalldatetime`: 1900-01-01 to 2079-06-06.
const SMALL_DAY_MIN: i64 = -25_567;
const SMALL_DAY_MAX: i64 = 39_969;

impl Enc {
    /// The encoding of a column of type `t`; `Err` for a type no value can
    /// be written into (`rowversion`, which the server sets).
    pub(crate) fn of(t: &SqlType) -> Result<Enc, String> {
        let len = |per: usize| (t.max_length >= 0).then(|| t.max_length as usize / per);
        Ok(match t.name.as_str() {
            "bit" => Enc::Bit,
            "tinyint" => Enc::Int {
                name: "tinyint",
                min: 0,
                max: 255,
            },
            "smallint" => Enc::Int {
                name: "smallint",
                min: i16::MIN.into(),
                max: i16::MAX.into(),
            },
            "int" => Enc::Int {
                name: "int",
                min: i32::MIN.into(),
                max: i32::MAX.into(),
            },
            "bigint" => Enc::Int {
                name: "bigint",
                min: i64::MIN,
                max: i64::MAX,
            },
            "real" => Enc::Real,
            "float" => {
                if t.precision > 0 && t.precision <= 24 {
                    Enc::Real
                } else {
                    Enc::Float
                }
            }
            "decimal" | "numeric" => Enc::Decimal {
                precision: t.precision,
                scale: t.scale,
            },
            "money" => Enc::Money { small: false },
            "smallmoney" => Enc::Money { small: true },
            "char" | "varchar" => Enc::Text {
                max: len(1),
                fixed: t.name == "char",
                code_page: t.code_page,
            },
            "text" => Enc::Text {
                max: None,
                fixed: false,
                code_page: t.code_page,
            },
            "nchar" | "nvarchar" | "sysname" => Enc::Text {
                max: len(2),
                fixed: t.name == "nchar",
                code_page: CodePage::Utf16,
            },
            "ntext" => Enc::Text {
                max: None,
                fixed: false,
                code_page: CodePage::Utf16,
            },
            "binary" | "varbinary" => Enc::Binary {
                max: len(1),
                fixed: t.name == "binary",
            },
            "image" => Enc::Binary {
                max: None,
                fixed: false,
            },
            "date" => Enc::Date,
            "time" => Enc::Time { scale: t.scale },
            "datetime" => Enc::DateTime,
            "smalldatetime" => Enc::SmallDateTime,
            "datetime2" => Enc::DateTime2 { scale: t.scale },
            "datetimeoffset" => Enc::DateTimeOffset { scale: t.scale },
            "uniqueidentifier" => Enc::Uuid,
            "xml" => Enc::Xml,
            "hierarchyid" => Enc::PathText,
            "sql_variant" => Enc::Variant,
            "timestamp" | "rowversion" => {
                return Err("a rowversion column is set by the server and cannot be written".into())
            }
            other => Enc::HexBytes {
                type_name: other.to_owned(),
            },
        })
    }
}

impl Enc {
    /// For an encoding whose values travel as exact text: the expression
    /// that turns that text (`@P`) into the column's type, the same for
    /// every value of the column. `None` for the encodings that travel as
    /// typed parameters, and for `sql_variant`, whose expression depends
    /// on each value's base type.
    pub(crate) fn cast_sql(&self) -> Option<String> {
        Some(match self {
            Enc::Decimal { precision, scale } => {
                format!("CAST(@P AS decimal({precision},{scale}))")
            }
            Enc::Money { small } => {
                let (p, name) = if *small {
                    (10, "smallmoney")
                } else {
                    (19, "money")
                };
                format!("CAST(CAST(@P AS decimal({p},4)) AS {name})")
            }
            Enc::Date => "CAST(@P AS date)".into(),
            Enc::Time { scale } => format!("CAST(@P AS time({scale}))"),
            Enc::DateTime => "CAST(@P AS datetime)".into(),
            Enc::SmallDateTime => "CAST(@P AS smalldatetime)".into(),
            Enc::DateTime2 { scale } => format!("CAST(@P AS datetime2({scale}))"),
            Enc::DateTimeOffset { scale } => format!("CAST(@P AS datetimeoffset({scale}))"),
            Enc::Xml => "CAST(@P AS xml)".into(),
            Enc::PathText => "CAST(@P AS hierarchyid)".into(),
            Enc::HexBytes { type_name } => format!(
                "CAST(CONVERT(varbinary(max), @P, 1) AS {})",
                crate::target::quote::ident(type_name)
            ),
            Enc::Bit
            | Enc::Int { .. }
            | Enc::Real
            | Enc::Float
            | Enc::Text { .. }
            | Enc::Binary { .. }
            | Enc::Uuid
            | Enc::Variant => return None,
        })
    }
}

/// One statement parameter.
#[derive(Debug)]
pub(crate) struct Param(pub(crate) ColumnData<'static>);

impl ToSql for Param {
    fn to_sql(&self) -> ColumnData<'_> {
        self.0.clone()
    }
}

/// A value ready for the statement: the parameter and the expression that
/// turns it into the column's type (`@P` stands for the parameter).
///
/// NULL is the literal `NULL` in the statement, with no parameter:
/// tiberius sends a NULL parameter as TDS's NULLTYPE, which Babelfish
/// refuses ("Data type 0x1F is unknown"), and a NULL literal goes into a
/// column of any type.
#[derive(Debug)]
pub(crate) struct Encoded {
    /// `None` for NULL.
    pub(crate) param: Option<Param>,
    /// `None`: the parameter itself; `Some`: an expression such as
    /// `CAST(@P AS date)`, or `NULL`.
    pub(crate) expr: Option<Cow<'static, str>>,
}

impl Encoded {
    fn plain(data: ColumnData<'static>) -> Encoded {
        Encoded {
            param: Some(Param(data)),
            expr: None,
        }
    }

    fn cast(text: String, expr: impl Into<Cow<'static, str>>) -> Encoded {
        Encoded {
            param: Some(Param(ColumnData::String(Some(Cow::Owned(text))))),
            expr: Some(expr.into()),
        }
    }

    /// `text`, turned into the type of `enc` by its [`Enc::cast_sql`].
    fn cast_to(text: String, enc: &Enc) -> Encoded {
        let expr = enc.cast_sql().unwrap_or_else(|| "@P".into());
        Encoded::cast(text, expr)
    }

    fn null() -> Encoded {
        Encoded {
            param: None,
            expr: Some(Cow::Borrowed("NULL")),
        }
    }
}

/// Encodes `value` for a column of encoding `enc`; `babelfish` when the
/// server is Babelfish (datetime2 and datetimeoffset keep microseconds
/// only). `Err` is the reason the value cannot be stored exactly.
pub(crate) fn encode(enc: &Enc, value: &Value, babelfish: bool) -> Result<Encoded, String> {
    if value.is_null() {
        return Ok(Encoded::null());
    }
    // Text where a date, time, timestamp or uuid goes (SQLite keeps them
    // so) is parsed strictly here, never by the server's lenient input.
    if let Value::Text(t) = value {
        if let Some(parsed) = from_text(enc, t)? {
            return encode(enc, &parsed, babelfish);
        }
    }
    match enc {
        Enc::Bit => match value {
            Value::Bool(b) => Ok(Encoded::plain(ColumnData::Bit(Some(*b)))),
            v => match integer(v) {
                Some(0) => Ok(Encoded::plain(ColumnData::Bit(Some(false)))),
                Some(1) => Ok(Encoded::plain(ColumnData::Bit(Some(true)))),
                _ => Err(mismatch(v, "bit")),
            },
        },
        Enc::Int { name, min, max } => {
            let i = integer(value).ok_or_else(|| mismatch(value, name))?;
            if i < *min || i > *max {
                return Err(format!("{name} holds {min} to {max}"));
            }
            Ok(Encoded::plain(match *name {
                "tinyint" => ColumnData::U8(Some(i as u8)),
                "smallint" => ColumnData::I16(Some(i as i16)),
                "int" => ColumnData::I32(Some(i as i32)),
                _ => ColumnData::I64(Some(i)),
            }))
        }
        Enc::Real => {
            let f = match value {
                Value::Float32(f) => *f,
                Value::Float64(f) if (*f as f32) as f64 == *f || f.is_nan() => *f as f32,
                Value::Float64(_) => return Err("real holds only single-precision values".into()),
                v => match integer(v) {
                    Some(i) if i.unsigned_abs() <= 1 << 24 => i as f32,
                    _ => return Err(mismatch(v, "real")),
                },
            };
            if !f.is_finite() {
                return Err("SQL Server's real holds no NaN or infinity".into());
            }
            Ok(Encoded::plain(ColumnData::F32(Some(f))))
        }
        Enc::Float => {
            let f = match value {
                Value::Float32(f) => f64::from(*f),
                Value::Float64(f) => *f,
                v => match integer(v) {
                    Some(i) if i.unsigned_abs() <= 1 << 53 => i as f64,
                    _ => return Err(mismatch(v, "float")),
                },
            };
            if !f.is_finite() {
                return Err("SQL Server's float holds no NaN or infinity".into());
            }
            Ok(Encoded::plain(ColumnData::F64(Some(f))))
        }
        Enc::Decimal { precision, scale } => {
            let text = decimal_text(value)?;
            let exact = fit_decimal(&text, *precision, *scale)?;
            Ok(Encoded::cast_to(exact, enc))
        }
        Enc::Money { small } => {
            let text = decimal_text(value)?;
            let (p, name, lo, hi) = if *small {
                (10, "smallmoney", "-214748.3648", "214748.3647")
            } else {
                (19, "money", "-922337203685477.5808", "922337203685477.5807")
            };
            let exact = fit_decimal(&text, p, 4)?;
            if decimal_cmp(&exact, lo).is_lt() || decimal_cmp(&exact, hi).is_gt() {
                return Err(format!("{name} holds {lo} to {hi}"));
            }
            Ok(Encoded::cast_to(exact, enc))
        }
        Enc::Text {
            max,
            fixed,
            code_page,
        } => {
            let s = match value {
                Value::Text(s) | Value::Json(s) => s,
                v => return Err(mismatch(v, "character data")),
            };
            let len = code_page.len(s).map_err(|c| {
                format!(
                    "the column's code page has no character {c:?} (U+{:04X}); use nvarchar, or a UTF-8 collation",
                    c as u32
                )
            })?;
            check_len(len, *max, *fixed, code_units(*code_page))?;
            Ok(Encoded::plain(ColumnData::String(Some(Cow::Owned(
                s.clone(),
            )))))
        }
        Enc::Binary { max, fixed } => {
            let Value::Bytes(b) = value else {
                return Err(mismatch(value, "binary data"));
            };
            check_len(b.len(), *max, *fixed, "bytes")?;
            Ok(Encoded::plain(ColumnData::Binary(Some(Cow::Owned(
                b.clone(),
            )))))
        }
        Enc::Date => {
            let Value::Date(d) = value else {
                return Err(mismatch(value, "date"));
            };
            let d = i64::from(*d);
            in_days(d, DAY_MIN, DAY_MAX, "date", "0001-01-01 to 9999-12-31")?;
            Ok(Encoded::cast_to(date_text(d), enc))
        }
        Enc::Time { scale } => {
            let Value::Time(n) = value else {
                return Err(mismatch(value, "time"));
            };
            if !(0..86_400_000_000_000).contains(n) {
                return Err("time holds 00:00:00 to 23:59:59.9999999".into());
            }
            let frac = fraction(*n % 1_000_000_000, *scale, babelfish, "time")?;
            let secs = n / 1_000_000_000;
            Ok(Encoded::cast_to(format!("{}{frac}", clock(secs)), enc))
        }
        Enc::DateTime2 { scale } => {
            let (secs, nanos) = local(value, "datetime2")?;
            let (day, tod) = split(secs);
            in_days(
                day,
                DAY_MIN,
                DAY_MAX,
                "datetime2",
                "0001-01-01 to 9999-12-31",
            )?;
            let frac = fraction(i64::from(nanos), *scale, babelfish, "datetime2")?;
            Ok(Encoded::cast_to(
                format!("{}T{}{frac}", date_text(day), clock(tod)),
                enc,
            ))
        }
        Enc::DateTime => {
            let (secs, nanos) = local(value, "datetime")?;
            let (day, tod) = split(secs);
            in_days(
                day,
                DATETIME_DAY_MIN,
                DAY_MAX,
                "datetime",
                "1753-01-01 to 9999-12-31",
            )?;
            let ms = datetime_millis(nanos)?;
            Ok(Encoded::cast_to(
                format!("{}T{}.{ms:03}", date_text(day), clock(tod)),
                enc,
            ))
        }
        Enc::SmallDateTime => {
            let (secs, nanos) = local(value, "smalldatetime")?;
            let (day, tod) = split(secs);
            if !(SMALL_DAY_MIN..=SMALL_DAY_MAX).contains(&day)
                || day == SMALL_DAY_MAX && tod >= 86_340
            {
                return Err("smalldatetime holds 1900-01-01 00:00 to 2079-06-06 23:59".into());
            }
            if tod % 60 != 0 || nanos != 0 {
                return Err("smalldatetime holds whole minutes only".into());
            }
            Ok(Encoded::cast_to(
                format!("{}T{}", date_text(day), clock(tod)),
                enc,
            ))
        }
        Enc::DateTimeOffset { scale } => {
            let (utc, nanos, offset) = match value {
                Value::TimestampTz { secs, nanos } => (*secs, *nanos, 0),
                Value::TimestampOffset {
                    secs,
                    nanos,
                    offset_secs,
                } => (*secs, *nanos, *offset_secs),
                v => return Err(mismatch(v, "datetimeoffset")),
            };
            if offset % 60 != 0 || offset.abs() > 14 * 3600 {
                return Err(
                    "datetimeoffset holds offsets of whole minutes from -14:00 to +14:00".into(),
                );
            }
            finite(utc)?;
            // The UTC instant must be in range, and so must the local time.
            let (day, _) = split(utc);
            in_days(
                day,
                DAY_MIN,
                DAY_MAX,
                "datetimeoffset",
                "0001-01-01 to 9999-12-31 (UTC)",
            )?;
            let (lday, ltod) = split(utc + i64::from(offset));
            in_days(
                lday,
                DAY_MIN,
                DAY_MAX,
                "datetimeoffset",
                "0001-01-01 to 9999-12-31 (local time)",
            )?;
            let frac = fraction(i64::from(nanos), *scale, babelfish, "datetimeoffset")?;
            let sign = if offset < 0 { '-' } else { '+' };
            let o = offset.unsigned_abs();
            Ok(Encoded::cast_to(
                format!(
                    "{}T{}{frac}{sign}{:02}:{:02}",
                    date_text(lday),
                    clock(ltod),
                    o / 3600,
                    o % 3600 / 60
                ),
                enc,
            ))
        }
        Enc::Uuid => match value {
            Value::Uuid(b) => Ok(Encoded::plain(ColumnData::Guid(Some(Uuid::from_bytes(*b))))),
            v => Err(mismatch(v, "uniqueidentifier")),
        },
        Enc::Xml => match value {
            Value::Native(s) | Value::Text(s) => Ok(Encoded::cast_to(s.clone(), enc)),
            v => Err(mismatch(v, "xml")),
        },
        Enc::PathText => match value {
            Value::Native(s) => Ok(Encoded::cast_to(s.clone(), enc)),
            v => Err(mismatch(v, "hierarchyid")),
        },
        Enc::HexBytes { type_name } => match value {
            Value::Native(s) if is_hex(s) => Ok(Encoded::cast_to(s.clone(), enc)),
            Value::Native(_) => Err(format!(
                "a {type_name} value travels as 0x followed by hex digits"
            )),
            v => Err(mismatch(v, type_name)),
        },
        Enc::Variant => match value {
            Value::Native(s) => variant(s),
            v => Err(mismatch(v, "sql_variant")),
        },
    }
}

/// The neutral value that `text` spells for a column of encoding `enc`:
/// `YYYY-MM-DD`, `HH:MM:SS[.f]`, `YYYY-MM-DD[ T]HH:MM:SS[.f]` (with `Z` or
/// `±HH:MM` for datetimeoffset), a uuid's 36 characters. `Ok(None)` when
/// the column takes text as it is; `Err` when it is none of those forms.
fn from_text(enc: &Enc, text: &str) -> Result<Option<Value>, String> {
    let bad = |what: &str| format!("the text is not {what}");
    Ok(Some(match enc {
        Enc::Date => Value::Date(
            calendar::parse_iso_date(text).ok_or_else(|| bad("a date YYYY-MM-DD"))? as i32,
        ),
        Enc::Time { .. } => {
            Value::Time(parse_time(text).ok_or_else(|| bad("a time HH:MM:SS[.f]"))?)
        }
        Enc::DateTime | Enc::DateTime2 { .. } | Enc::SmallDateTime => {
            let (secs, nanos, zone) =
                parse_timestamp(text).ok_or_else(|| bad("a timestamp YYYY-MM-DD HH:MM:SS[.f]"))?;
            if zone.is_some() {
                return Err("the text has a UTC offset, which this column does not keep".into());
            }
            Value::Timestamp { secs, nanos }
        }
        Enc::DateTimeOffset { .. } => {
            let (local, nanos, zone) = parse_timestamp(text)
                .ok_or_else(|| bad("a timestamp YYYY-MM-DD HH:MM:SS[.f]±HH:MM"))?;
            let offset = zone.ok_or_else(|| {
                "the text has no UTC offset, which datetimeoffset needs".to_owned()
            })?;
            Value::TimestampOffset {
                secs: local - i64::from(offset),
                nanos,
                offset_secs: offset,
            }
        }
        Enc::Uuid => {
            let hex: String = text.chars().filter(|c| *c != '-').collect();
            let shaped =
                text.len() == 36 && [8, 13, 18, 23].iter().all(|&i| text.as_bytes()[i] == b'-');
            if !shaped || hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad("a uuid"));
            }
            let mut b = [0u8; 16];
            for (i, byte) in b.iter_mut().enumerate() {
                *byte =
                    u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad("a uuid"))?;
            }
            Value::Uuid(b)
        }
        _ => return Ok(None),
    }))
}

fn digits_n(s: &str, n: usize) -> Option<i64> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
}

/// Nanoseconds since midnight of `HH:MM:SS[.fffffffff]`.
fn parse_time(s: &str) -> Option<i64> {
    let (clock, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut parts = clock.split(':');
    let h = digits_n(parts.next()?, 2)?;
    let m = digits_n(parts.next()?, 2)?;
    let sec = digits_n(parts.next()?, 2)?;
    if parts.next().is_some() || h > 23 || m > 59 || sec > 59 {
        return None;
    }
    if s.contains('.')
        && (frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let nanos: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    Some(((h * 60 + m) * 60 + sec) * 1_000_000_000 + nanos)
}

/// `YYYY-MM-DD[ T]HH:MM:SS[.f][Z|±HH:MM]` as local seconds, nanoseconds
/// and the offset east of UTC in seconds, if one is written.
fn parse_timestamp(s: &str) -> Option<(i64, u32, Option<i32>)> {
    if s.len() < 19 || !s.is_char_boundary(10) || !s.is_char_boundary(11) {
        return None;
    }
    let day = calendar::parse_iso_date(&s[..10])?;
    if !matches!(s.as_bytes()[10], b' ' | b'T') {
        return None;
    }
    let rest = &s[11..];
    let (clock, zone) = if let Some(c) = rest.strip_suffix('Z') {
        (c, Some(0))
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let z = &rest[i + 1..];
        let (zh, zm) = z.split_once(':')?;
        let (zh, zm) = (digits_n(zh, 2)?, digits_n(zm, 2)?);
        if zh > 14 || zm > 59 {
            return None;
        }
        let secs = (zh * 3600 + zm * 60) as i32;
        (
            &rest[..i],
            Some(if rest.as_bytes()[i] == b'-' {
                -secs
            } else {
                secs
            }),
        )
    } else {
        (rest, None)
    };
    let t = parse_time(clock)?;
    Some((
        day * 86_400 + t / 1_000_000_000,
        (t % 1_000_000_000) as u32,
        zone,
    ))
}

fn mismatch(value: &Value, ty: &str) -> String {
    format!(
        "a {} value does not go into a {ty} column",
        value.kind_name()
    )
}

/// An integer value, as any integer variant or integral decimal text.
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Int16(i) => Some((*i).into()),
        Value::Int32(i) => Some((*i).into()),
        Value::Int64(i) => Some(*i),
        Value::Decimal(s) => s.parse().ok(),
        _ => None,
    }
}

/// The decimal text of an exact number value.
fn decimal_text(value: &Value) -> Result<String, String> {
    match value {
        Value::Decimal(s) => Ok(s.clone()),
        // Decimal text (SQLite's DECIMAL_TEXT): checked by fit_decimal.
        Value::Text(s) => Ok(s.clone()),
        Value::Int16(i) => Ok(i.to_string()),
        Value::Int32(i) => Ok(i.to_string()),
        Value::Int64(i) => Ok(i.to_string()),
        // A float (SQLite's NUMERIC affinity turns `12.50` or `22.24` into
        // one) goes in as the shortest decimal that reads back to the same
        // bits, as the PostgreSQL target writes it into numeric, and then
        // must fit the column's precision and scale (fit_decimal).
        Value::Float64(f) => float_text(*f),
        Value::Float32(f) => float_text(f64::from(*f)),
        v => Err(mismatch(v, "decimal")),
    }
}

/// A finite float as the shortest decimal text that reads back to the same
/// bits (Rust's `Display` of `f64` never uses an exponent).
fn float_text(f: f64) -> Result<String, String> {
    if !f.is_finite() {
        return Err("SQL Server's decimal holds no NaN or infinity".into());
    }
    Ok(format!("{f}"))
}

/// `text` (`-?digits(.digits)?`) as it fits `decimal(precision, scale)`:
/// trailing zeros of the fraction beyond the scale dropped, any other digit
/// beyond it, or too many integer digits, refused.
pub(crate) fn fit_decimal(text: &str, precision: u8, scale: u8) -> Result<String, String> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(
            "not a finite decimal number (SQL Server's decimal holds no NaN or infinity)".into(),
        );
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > usize::from(scale) {
        return Err(format!(
            "it has {} digits after the point; the column keeps {scale}",
            frac.len()
        ));
    }
    let int = int.trim_start_matches('0');
    let room = usize::from(precision - scale.min(precision));
    if int.len() > room {
        return Err(format!(
            "it has {} digits before the point; decimal({precision},{scale}) keeps {room}",
            int.len()
        ));
    }
    let int = if int.is_empty() { "0" } else { int };
    let zero = int == "0" && frac.is_empty();
    let sign = if neg && !zero { "-" } else { "" };
    Ok(if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    })
}

/// Compares two normalized decimal texts (from [`fit_decimal`]).
fn decimal_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let parts = |s: &str| {
        let (neg, body) = s.strip_prefix('-').map_or((false, s), |b| (true, b));
        let (i, f) = body.split_once('.').unwrap_or((body, ""));
        (neg, i.to_owned(), f.to_owned())
    };
    let (an, ai, af) = parts(a);
    let (bn, bi, bf) = parts(b);
    let magnitude = ai
        .len()
        .cmp(&bi.len())
        .then_with(|| ai.cmp(&bi))
        .then_with(|| {
            let w = af.len().max(bf.len());
            format!("{af:0<w$}").cmp(&format!("{bf:0<w$}"))
        });
    match (an, bn) {
        (false, false) => magnitude,
        (true, true) => magnitude.reverse(),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
    }
}

fn code_units(cp: CodePage) -> &'static str {
    match cp {
        CodePage::Utf16 => "UTF-16 code units",
        CodePage::Utf8 | CodePage::Ascii => "bytes",
        CodePage::Cp1252 | CodePage::Chars => "characters",
    }
}

fn check_len(len: usize, max: Option<usize>, fixed: bool, unit: &str) -> Result<(), String> {
    match max {
        Some(m) if len > m => Err(format!("it is {len} {unit} long; the column holds {m}")),
        Some(m) if fixed && len != m => Err(format!(
            "it is {len} {unit} long; the fixed-length column would pad it to {m}"
        )),
        _ => Ok(()),
    }
}

fn finite(secs: i64) -> Result<(), String> {
    if secs == bru_core::value::TS_POS_INFINITY || secs == bru_core::value::TS_NEG_INFINITY {
        Err("SQL Server has no infinite timestamps".into())
    } else {
        Ok(())
    }
}

/// A local date-time value's seconds and nanoseconds.
fn local(value: &Value, ty: &str) -> Result<(i64, u32), String> {
    match value {
        Value::Timestamp { secs, nanos } => {
            finite(*secs)?;
            Ok((*secs, *nanos))
        }
        Value::TimestampTz { .. } | Value::TimestampOffset { .. } => Err(format!(
            "{ty} keeps no time zone (the value is an instant); restore into datetimeoffset"
        )),
        v => Err(mismatch(v, ty)),
    }
}

/// Seconds since the epoch as (day since the epoch, second of the day).
fn split(secs: i64) -> (i64, i64) {
    (secs.div_euclid(86_400), secs.rem_euclid(86_400))
}

fn in_days(day: i64, min: i64, max: i64, ty: &str, range: &str) -> Result<(), String> {
    if day < min || day > max {
        Err(format!("{ty} holds {range}"))
    } else {
        Ok(())
    }
}

/// `HH:MM:SS` of a second of the day.
fn clock(secs: i64) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// `.fffffff` for `nanos`, refused if the type's `scale` (or Babelfish's
/// microseconds) would round it.
fn fraction(nanos: i64, scale: u8, babelfish: bool, ty: &str) -> Result<String, String> {
    let unit = 10_i64.pow(9 - u32::from(scale.min(7)));
    if nanos % unit != 0 {
        return Err(format!(
            "it has more fractional digits than {ty}({scale}) keeps"
        ));
    }
    if babelfish && nanos % 1000 != 0 {
        return Err(format!(
            "this server (Babelfish) keeps {ty} to the microsecond only"
        ));
    }
    Ok(if nanos == 0 {
        String::new()
    } else {
        format!(".{:07}", nanos / 100)
    })
}

/// The milliseconds SQL Server writes for the `datetime` tick that
/// `nanos` is (types.rs: a tick's exact value rounded to the nanosecond),
/// refused if `nanos` is not one.
pub(crate) fn datetime_millis(nanos: u32) -> Result<u32, String> {
    let n = u64::from(nanos);
    let tick = (n * 300 + 500_000_000) / 1_000_000_000;
    let back = (tick * 1_000_000_000 + 150) / 300;
    if tick >= 300 || back != n {
        return Err(
            "datetime keeps 1/300 s ticks (.000, .003, .007…); use datetime2 for this value".into(),
        );
    }
    // SQL Server reads .mmm back to the nearest tick: round(tick × 10/3).
    Ok(((tick * 10 + 1) / 3) as u32)
}

/// `YYYY-MM-DD` of a day since 1970-01-01 (proleptic Gregorian, years
/// 1..9999, which every caller has checked).
pub(crate) fn date_text(days: i64) -> String {
    let (y, m, d) = calendar::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

fn is_hex(s: &str) -> bool {
    s.strip_prefix("0x")
        .is_some_and(|h| h.len() % 2 == 0 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The base types a `sql_variant` value may name, and the CONVERT style
/// that reads their text exactly (see [`crate::types`]).
const VARIANT_BASES: &[(&str, Option<u8>)] = &[
    ("bit", None),
    ("tinyint", None),
    ("smallint", None),
    ("int", None),
    ("bigint", None),
    ("decimal", None),
    ("numeric", None),
    ("money", None),
    ("smallmoney", None),
    ("float", None),
    ("real", None),
    ("char", None),
    ("varchar", None),
    ("nchar", None),
    ("nvarchar", None),
    ("binary", Some(1)),
    ("varbinary", Some(1)),
    ("date", Some(121)),
    ("time", Some(121)),
    ("datetime", Some(121)),
    ("smalldatetime", Some(121)),
    ("datetime2", Some(121)),
    ("datetimeoffset", Some(121)),
    ("uniqueidentifier", None),
];

/// A `sql_variant` value `<base type>:<text>`: the text converted to its
/// base type, then to sql_variant. The base type is spliced into the
/// statement, so it must be one of [`VARIANT_BASES`] with at most a
/// numeric length (or `max`), precision and scale.
fn variant(s: &str) -> Result<Encoded, String> {
    let bad = || format!("not a sql_variant value (<base type>:<text>): {s:?}");
    let (base, text) = s.split_once(':').ok_or_else(bad)?;
    let (name, args) = match base.split_once('(') {
        Some((n, rest)) => (n, Some(rest.strip_suffix(')').ok_or_else(bad)?)),
        None => (base, None),
    };
    let style = VARIANT_BASES
        .iter()
        .find(|(b, _)| *b == name)
        .map(|(_, style)| *style)
        .ok_or_else(bad)?;
    if let Some(args) = args {
        let ok = args.split(',').count() <= 2
            && args.split(',').all(|a| {
                // `(max)`: the source's spelling of a length beyond any
                // declarable one (Babelfish reports 65535).
                a.eq_ignore_ascii_case("max")
                    || (!a.is_empty() && a.len() <= 4 && a.bytes().all(|b| b.is_ascii_digit()))
            });
        if !ok {
            return Err(bad());
        }
    }
    let base = match args {
        Some(a) => format!("{name}({a})"),
        None => name.to_owned(),
    };
    let convert = match style {
        Some(style) => format!("CONVERT({base}, @P, {style})"),
        None => format!("CONVERT({base}, @P)"),
    };
    Ok(Encoded::cast(
        text.to_owned(),
        format!("CAST({convert} AS sql_variant)"),
    ))
}

/// The encoding of a column of type `name` as `sys.columns` describes it,
/// for the tests of this module and of the bulk-load stage.
#[cfg(test)]
pub(crate) fn test_enc(
    name: &str,
    max_length: i16,
    precision: u8,
    scale: u8,
    code_page: CodePage,
) -> Enc {
    Enc::of(&SqlType {
        name: name.into(),
        max_length,
        precision,
        scale,
        code_page,
    })
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(name: &str, max_length: i16, precision: u8, scale: u8) -> Enc {
        test_enc(name, max_length, precision, scale, CodePage::Cp1252)
    }

    fn text(e: &Encoded) -> Option<String> {
        match e.param.as_ref().map(|p| &p.0) {
            Some(ColumnData::String(s)) => s.as_ref().map(|s| s.to_string()),
            _ => None,
        }
    }

    fn ok(enc: &Enc, v: Value) -> Encoded {
        encode(enc, &v, false).unwrap_or_else(|e| panic!("{v:?}: {e}"))
    }

    fn refused(enc: &Enc, v: Value) -> String {
        match encode(enc, &v, false) {
            Ok(e) => panic!("{v:?} accepted as {e:?}"),
            Err(e) => e,
        }
    }

    const DAY: i64 = 86_400;

    #[test]
    fn decimals_keep_every_digit_or_are_refused() {
        let d = ty("decimal", 17, 38, 38);
        let max = format!("0.{}", "9".repeat(38));
        assert_eq!(text(&ok(&d, Value::Decimal(max.clone()))), Some(max));
        assert_eq!(
            text(&ok(&d, Value::Decimal("-0.5".into()))),
            Some("-0.5".into())
        );
        assert!(refused(&d, Value::Decimal("1.0".into())).contains("before the point"));
        assert!(refused(&d, Value::Decimal(format!("0.{}1", "0".repeat(38)))).contains("after"));
        assert!(refused(&d, Value::Decimal("NaN".into())).contains("NaN"));
        let d = ty("decimal", 9, 18, 2);
        assert_eq!(
            ok(&d, Value::Decimal("12.50".into())).expr.as_deref(),
            Some("CAST(@P AS decimal(18,2))")
        );
        assert_eq!(
            text(&ok(&d, Value::Decimal("-0012.500".into()))),
            Some("-12.5".into())
        );
        assert_eq!(text(&ok(&d, Value::Int64(7))), Some("7".into()));
        assert_eq!(
            text(&ok(&d, Value::Decimal("-0.00".into()))),
            Some("0".into())
        );
        assert!(refused(&d, Value::Decimal("1.234".into())).contains("2"));
    }

    #[test]
    fn floats_go_into_decimals_as_their_shortest_text() {
        let d = ty("decimal", 9, 8, 2);
        assert_eq!(text(&ok(&d, Value::Float64(12.5))), Some("12.5".into()));
        assert_eq!(
            text(&ok(&d, Value::Float64(-999_999.75))),
            Some("-999999.75".into())
        );
        assert_eq!(text(&ok(&d, Value::Float64(3.0))), Some("3".into()));
        assert_eq!(text(&ok(&d, Value::Float64(0.1))), Some("0.1".into()));
        assert_eq!(text(&ok(&d, Value::Float64(22.24))), Some("22.24".into()));
        let e = refused(&d, Value::Float64(0.125));
        assert!(
            e.contains("3 digits after the point; the column keeps 2"),
            "{e}"
        );
        assert!(refused(&d, Value::Float64(f64::INFINITY)).contains("infinity"));
        assert_eq!(float_text(2f64.powi(70)).unwrap(), "1180591620717411300000");
    }

    #[test]
    fn money_limits() {
        let m = ty("money", 8, 19, 4);
        for v in ["922337203685477.5807", "-922337203685477.5808", "0.0001"] {
            assert_eq!(text(&ok(&m, Value::Decimal(v.into()))), Some(v.into()));
        }
        assert!(refused(&m, Value::Decimal("922337203685477.5808".into())).contains("money holds"));
        assert!(refused(&m, Value::Decimal("-922337203685477.5809".into())).contains("money"));
        assert!(refused(&m, Value::Decimal("0.00001".into())).contains("after"));
        let s = ty("smallmoney", 4, 10, 4);
        assert_eq!(
            ok(&s, Value::Decimal("214748.3647".into())).expr.as_deref(),
            Some("CAST(CAST(@P AS decimal(10,4)) AS smallmoney)")
        );
        assert!(refused(&s, Value::Decimal("214748.3648".into())).contains("smallmoney holds"));
        assert!(ok(&s, Value::Decimal("-214748.3648".into())).expr.is_some());
    }

    #[test]
    fn integers_are_range_checked() {
        let t = ty("tinyint", 1, 3, 0);
        assert!(matches!(
            ok(&t, Value::Int16(255)).param.unwrap().0,
            ColumnData::U8(Some(255))
        ));
        assert!(refused(&t, Value::Int16(256)).contains("0 to 255"));
        assert!(refused(&t, Value::Int16(-1)).contains("0 to 255"));
        let i = ty("int", 4, 10, 0);
        assert!(refused(&i, Value::Int64(1 << 31)).contains("int holds"));
        assert!(refused(&i, Value::Text("1".into())).contains("text value"));
        let b = ty("bit", 1, 1, 0);
        assert!(matches!(
            ok(&b, Value::Int64(1)).param.unwrap().0,
            ColumnData::Bit(Some(true))
        ));
        assert!(refused(&b, Value::Int64(2)).contains("bit"));
    }

    #[test]
    fn floats_keep_their_bits() {
        let f = ty("float", 8, 53, 0);
        assert!(
            matches!(ok(&f, Value::Float32(0.1)).param.unwrap().0, ColumnData::F64(Some(x)) if x == f64::from(0.1f32))
        );
        assert!(refused(&f, Value::Float64(f64::NAN)).contains("NaN"));
        let r = ty("real", 4, 24, 0);
        assert!(refused(&r, Value::Float64(0.1)).contains("single"));
        assert!(
            matches!(ok(&r, Value::Float64(0.5)).param.unwrap().0, ColumnData::F32(Some(x)) if x == 0.5)
        );
    }

    #[test]
    fn strings_are_measured_in_the_column_units() {
        let n = ty("nvarchar", 8, 0, 0);
        assert!(ok(&n, Value::Text("😀😀".into())).expr.is_none());
        assert!(refused(&n, Value::Text("😀😀a".into())).contains("5 UTF-16 code units"));
        let nc = ty("nchar", 4, 0, 0);
        assert!(refused(&nc, Value::Text("a".into())).contains("pad"));
        assert!(ok(&nc, Value::Text("ab".into())).expr.is_none());
        let v = ty("varchar", 3, 0, 0);
        assert!(ok(&v, Value::Text("é€a".into())).expr.is_none());
        assert!(refused(&v, Value::Text("Ω".into())).contains("U+03A9"));
        let utf8 = Enc::Text {
            max: Some(3),
            fixed: false,
            code_page: CodePage::Utf8,
        };
        assert!(refused(&utf8, Value::Text("éé".into())).contains("4 bytes"));
        // Empty differs from NULL.
        assert_eq!(
            text(&ok(&n, Value::Text(String::new()))),
            Some(String::new())
        );
        let null = ok(&n, Value::Null);
        assert!(null.param.is_none());
        assert_eq!(null.expr.as_deref(), Some("NULL"));
        let vb = ty("varbinary", -1, 0, 0);
        assert!(
            matches!(ok(&vb, Value::Bytes(vec![])).param.unwrap().0, ColumnData::Binary(Some(ref b)) if b.is_empty())
        );
        assert!(ok(&vb, Value::Null).param.is_none());
        let b = ty("binary", 2, 0, 0);
        assert!(refused(&b, Value::Bytes(vec![1])).contains("pad"));
        assert!(refused(&b, Value::Bytes(vec![1, 2, 3])).contains("holds 2"));
    }

    #[test]
    fn dates_at_the_edges() {
        let d = ty("date", 3, 10, 0);
        assert_eq!(
            text(&ok(&d, Value::Date(DAY_MIN as i32))),
            Some("0001-01-01".into())
        );
        assert_eq!(
            text(&ok(&d, Value::Date(DAY_MAX as i32))),
            Some("9999-12-31".into())
        );
        assert_eq!(text(&ok(&d, Value::Date(0))), Some("1970-01-01".into()));
        assert_eq!(
            text(&ok(&d, Value::Date(19_782))),
            Some("2024-02-29".into())
        );
        assert!(refused(&d, Value::Date(DAY_MIN as i32 - 1)).contains("0001-01-01"));
        assert!(refused(&d, Value::Date(i32::MAX)).contains("9999"));
        assert_eq!(ok(&d, Value::Null).expr.as_deref(), Some("NULL"));
    }

    #[test]
    fn datetime2_at_the_edges() {
        let t = ty("datetime2", 8, 27, 7);
        let first = Value::Timestamp {
            secs: DAY_MIN * DAY,
            nanos: 0,
        };
        assert_eq!(text(&ok(&t, first)), Some("0001-01-01T00:00:00".into()));
        let last = Value::Timestamp {
            secs: DAY_MAX * DAY + DAY - 1,
            nanos: 999_999_900,
        };
        assert_eq!(
            text(&ok(&t, last.clone())),
            Some("9999-12-31T23:59:59.9999999".into())
        );
        assert!(encode(&t, &last, true).unwrap_err().contains("Babelfish"));
        assert!(refused(&t, Value::Timestamp { secs: 0, nanos: 50 }).contains("datetime2(7)"));
        assert!(refused(
            &t,
            Value::Timestamp {
                secs: (DAY_MAX + 1) * DAY,
                nanos: 0
            }
        )
        .contains("9999-12-31"));
        let t0 = ty("datetime2", 6, 19, 0);
        assert!(refused(
            &t0,
            Value::Timestamp {
                secs: 0,
                nanos: 1000
            }
        )
        .contains("datetime2(0)"));
        assert!(refused(&t, Value::TimestampTz { secs: 0, nanos: 0 }).contains("datetimeoffset"));
        assert!(refused(
            &t,
            Value::Timestamp {
                secs: i64::MAX,
                nanos: 0
            }
        )
        .contains("infinite"));
    }

    #[test]
    fn datetime_ticks() {
        let dt = ty("datetime", 8, 23, 3);
        let at = |nanos| Value::Timestamp { secs: 0, nanos };
        assert_eq!(
            text(&ok(&dt, at(3_333_333))),
            Some("1970-01-01T00:00:00.003".into())
        );
        assert_eq!(
            text(&ok(&dt, at(6_666_667))),
            Some("1970-01-01T00:00:00.007".into())
        );
        assert_eq!(
            text(&ok(&dt, at(996_666_667))),
            Some("1970-01-01T00:00:00.997".into())
        );
        assert!(refused(&dt, at(1_000_000)).contains("1/300"));
        assert!(refused(&dt, at(3_000_000)).contains("1/300"));
        assert!(refused(&dt, at(999_999_999)).contains("1/300"));
        for tick in 0..300u64 {
            let nanos = ((tick * 1_000_000_000 + 150) / 300) as u32;
            let ms = datetime_millis(nanos).unwrap();
            // SQL Server reads .mmm as the nearest tick.
            assert_eq!((u64::from(ms) * 3 + 5) / 10, tick, "tick {tick}");
        }
        assert!(refused(
            &dt,
            Value::Timestamp {
                secs: -79_623 * DAY,
                nanos: 0
            }
        )
        .contains("1753"));
        let sdt = ty("smalldatetime", 4, 16, 0);
        assert!(refused(&sdt, Value::Timestamp { secs: 30, nanos: 0 }).contains("minutes"));
        assert_eq!(
            text(&ok(&sdt, Value::Timestamp { secs: 60, nanos: 0 })),
            Some("1970-01-01T00:01:00".into())
        );
        assert!(refused(
            &sdt,
            Value::Timestamp {
                secs: SMALL_DAY_MAX * DAY + 86_340,
                nanos: 0
            }
        )
        .contains("2079"));
    }

    #[test]
    fn datetimeoffset_keeps_the_offset() {
        let t = ty("datetimeoffset", 10, 34, 7);
        let v = |offset_secs| Value::TimestampOffset {
            secs: 0,
            nanos: 100,
            offset_secs,
        };
        assert_eq!(
            text(&ok(&t, v(14 * 3600))),
            Some("1970-01-01T14:00:00.0000001+14:00".into())
        );
        assert_eq!(
            text(&ok(&t, v(-14 * 3600))),
            Some("1969-12-31T10:00:00.0000001-14:00".into())
        );
        assert!(refused(&t, v(14 * 3600 + 60)).contains("14:00"));
        assert!(refused(&t, v(30)).contains("whole minutes"));
        assert_eq!(
            text(&ok(&t, Value::TimestampTz { secs: 0, nanos: 0 })),
            Some("1970-01-01T00:00:00+00:00".into())
        );
        // The UTC instant 0001-01-01 00:00 at -01:00 is local 0000-12-31.
        assert!(refused(
            &t,
            Value::TimestampOffset {
                secs: DAY_MIN * DAY,
                nanos: 0,
                offset_secs: -3600
            }
        )
        .contains("local time"));
    }

    #[test]
    fn times_of_day() {
        let t = ty("time", 5, 16, 7);
        assert_eq!(
            text(&ok(&t, Value::Time(86_399_999_999_900))),
            Some("23:59:59.9999999".into())
        );
        let t3 = ty("time", 4, 12, 3);
        assert!(refused(&t3, Value::Time(1_000)).contains("time(3)"));
        assert_eq!(
            ok(&t3, Value::Time(0)).expr.as_deref(),
            Some("CAST(@P AS time(3))")
        );
    }

    #[test]
    fn uuids_keep_rfc_4122_order() {
        let u = ty("uniqueidentifier", 16, 0, 0);
        let bytes = [
            0x6f, 0x96, 0x19, 0xff, 0x8b, 0x86, 0xd0, 0x11, 0xb4, 0x2d, 0x00, 0xc0, 0x4f, 0xc9,
            0x64, 0xff,
        ];
        match ok(&u, Value::Uuid(bytes)).param.unwrap().0 {
            ColumnData::Guid(Some(g)) => {
                assert_eq!(g.to_string(), "6f9619ff-8b86-d011-b42d-00c04fc964ff")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn text_from_sqlite_is_parsed_strictly() {
        let d = ty("date", 3, 10, 0);
        assert_eq!(
            text(&ok(&d, Value::Text("2024-02-29".into()))),
            Some("2024-02-29".into())
        );
        assert_eq!(
            text(&ok(&d, Value::Text("0001-01-01".into()))),
            Some("0001-01-01".into())
        );
        assert!(refused(&d, Value::Text("2023-02-29".into())).contains("not a date"));
        assert!(refused(&d, Value::Text("now".into())).contains("not a date"));
        let t = ty("datetime2", 8, 27, 7);
        assert_eq!(
            text(&ok(&t, Value::Text("2026-01-02 03:04:05.123456".into()))),
            Some("2026-01-02T03:04:05.1234560".into())
        );
        assert!(refused(&t, Value::Text("2026-01-02 03:04:05+00:00".into())).contains("offset"));
        assert!(
            refused(&t, Value::Text("2026-01-02 03:04:05.0000000001".into()))
                .contains("not a timestamp")
        );
        let o = ty("datetimeoffset", 10, 34, 7);
        assert_eq!(
            text(&ok(&o, Value::Text("2026-01-02 03:04:05-05:30".into()))),
            Some("2026-01-02T03:04:05-05:30".into())
        );
        assert!(refused(&o, Value::Text("2026-01-02 03:04:05".into())).contains("no UTC offset"));
        let u = ty("uniqueidentifier", 16, 0, 0);
        assert!(matches!(
            ok(
                &u,
                Value::Text("6f9619ff-8b86-d011-b42d-00c04fc964ff".into())
            )
            .param
            .unwrap()
            .0,
            ColumnData::Guid(Some(_))
        ));
        assert!(
            refused(&u, Value::Text("6f9619ff8b86d011b42d00c04fc964ff".into())).contains("uuid")
        );
        let tm = ty("time", 5, 16, 7);
        assert_eq!(
            text(&ok(&tm, Value::Text("23:59:59.5".into()))),
            Some("23:59:59.5000000".into())
        );
        assert!(refused(&tm, Value::Text("24:00:00".into())).contains("not a time"));
        let dec = ty("decimal", 9, 10, 2);
        assert_eq!(
            text(&ok(&dec, Value::Text("1.50".into()))),
            Some("1.5".into())
        );
        assert!(refused(&dec, Value::Text("abc".into())).contains("not a finite decimal"));
    }

    #[test]
    fn native_fallbacks() {
        let x = ty("xml", -1, 0, 0);
        assert_eq!(
            ok(&x, Value::Native("<a/>".into())).expr.as_deref(),
            Some("CAST(@P AS xml)")
        );
        let g = ty("geography", -1, 0, 0);
        assert_eq!(
            ok(&g, Value::Native("0xE6100000".into())).expr.as_deref(),
            Some("CAST(CONVERT(varbinary(max), @P, 1) AS [geography])")
        );
        assert!(refused(&g, Value::Native("POINT(1 2)".into())).contains("hex"));
        let v = ty("sql_variant", 8016, 0, 0);
        let e = ok(&v, Value::Native("int:5".into()));
        assert_eq!(
            e.expr.as_deref(),
            Some("CAST(CONVERT(int, @P) AS sql_variant)")
        );
        assert_eq!(text(&e), Some("5".into()));
        let e = ok(&v, Value::Native("decimal(18,2):1.50".into()));
        assert_eq!(
            e.expr.as_deref(),
            Some("CAST(CONVERT(decimal(18,2), @P) AS sql_variant)")
        );
        let e = ok(
            &v,
            Value::Native("datetime2(7):2020-01-01 00:00:00.0000000".into()),
        );
        assert_eq!(
            e.expr.as_deref(),
            Some("CAST(CONVERT(datetime2(7), @P, 121) AS sql_variant)")
        );
        for bad in [
            "int",
            "int); DROP TABLE x; --:5",
            "xml:<a/>",
            "decimal(1,2,3):1",
            "int(x):1",
        ] {
            assert!(
                refused(&v, Value::Native(bad.into())).contains("sql_variant"),
                "{bad}"
            );
        }
        assert!(Enc::of(&SqlType {
            name: "rowversion".into(),
            max_length: 8,
            precision: 0,
            scale: 0,
            code_page: CodePage::Ascii
        })
        .is_err());
    }
}
