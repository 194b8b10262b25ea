//! SQL Server types and the neutral model, both ways.
//!
//! **Source side** ([`from_sys`]): a column's base type as `sys.types`
//! names it, with `sys.columns.max_length` / `precision` / `scale`, becomes
//! a [`ColumnType`] and the exact T-SQL spelling kept in
//! [`bru_core::Column::native_type`] (`nvarchar(50)`, `varchar(max)`,
//! `decimal(18,2)`, `datetime2(7)`, `float`, `money`, …). An alias type
//! (`CREATE TYPE dbo.phone FROM varchar(20)`) is spelled as its base type,
//! so a restore never needs the alias to exist; the alias's name is kept in
//! the column property [`crate::props::COLUMN_ALIAS_TYPE`].
//!
//! **Target side** ([`tsql_type`]): a neutral type from any engine becomes a
//! T-SQL spelling, or an error text saying why no T-SQL type holds it
//! exactly. A same-engine restore uses `native_type` instead (after the
//! trust checker has checked it).
//!
//! **Values** (decoded in `source/values.rs`, encoded by the target):
//! - `tinyint` travels as `Int16` (native `tinyint`): a restore into
//!   `tinyint` checks the range 0..=255.
//! - `money` / `smallmoney` are `Decimal{19,4}` / `Decimal{10,4}`: the
//!   source reads them through `CAST(… AS decimal(19,4))` /
//!   `decimal(10,4)` because tiberius decodes money as an `f64`, which
//!   loses digits beyond 2^53 ten-thousandths.
//! - `nchar`/`nvarchar`: `max_len` counts **UTF-16 code units**, as SQL
//!   Server does, not characters: a character outside the Basic
//!   Multilingual Plane (an emoji) takes two. A target must measure values
//!   with [`utf16_len`] against it. `char`/`varchar` lengths are bytes in
//!   the column's code page (characters for single-byte collations).
//! - `datetime` is `Timestamp{precision 3}`, but its clock ticks in 1/300
//!   s: the nanoseconds are the tick's exact value rounded to the
//!   nanosecond (tick 1 = 3_333_333 ns), and a target converts back by
//!   rounding to the nearest tick, which gives the same tick again.
//! - `datetimeoffset(n)` is `Timestamp{tz: true}` with values
//!   [`bru_core::Value::TimestampOffset`] (the UTC instant plus the
//!   offset), so the offset survives.
//! - `uniqueidentifier` is `Uuid` in RFC 4122 byte order (the order of its
//!   text form), which is what tiberius's `Uuid` already holds.
//!
//! **The native fallback** ([`Fallback`]): types tiberius cannot decode, or
//! whose text form is the exact one, are read through a CAST and restored
//! through the inverse CAST. Their values travel as
//! [`bru_core::Value::Native`] text:
//! - `xml`: the document text (read directly; restored by `CAST(… AS xml)`).
//! - `hierarchyid`: its canonical path text (`/1/3/`), read by `CAST(… AS
//!   nvarchar(4000))` and restored by `CAST(… AS hierarchyid)`; `ToString`
//!   and `Parse` are exact inverses.
//! - `geography`, `geometry`, `rowversion`/`timestamp` and any type not
//!   listed here (CLR types): the serialized bytes as `0x` followed by
//!   lowercase hex, read by `CAST(… AS varbinary(max))` and restored by
//!   `CONVERT(varbinary(max), …, 1)` then a CAST to the type. A
//!   `rowversion` column cannot be written at all: the server sets it.
//! - `sql_variant`: `<base type>:<text>`, e.g. `int:5`,
//!   `nvarchar(10):abc`, `decimal(18,2):1.50`, `float:1.5E+000` (the base
//!   type with its length, precision or scale as the server reports them
//!   through `SQL_VARIANT_PROPERTY`, and the value converted with a style
//!   that is exact for it: 3 for floats, 121 for dates and times, 1 for
//!   binaries). A restore casts the text back to the base type, then to
//!   `sql_variant`.

use bru_core::ColumnType;

/// A column's type as the catalog gives it: the base type's name in
/// `sys.types` and `sys.columns.max_length` (bytes; -1 for `(max)`),
/// `precision` and `scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SysType<'a> {
    pub name: &'a str,
    pub max_length: i16,
    pub precision: u8,
    pub scale: u8,
}

/// A column's neutral type and its exact T-SQL spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    pub ty: ColumnType,
    pub native_type: String,
}

/// How a type's values are read and written when they do not travel
/// through tiberius's own decoding (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// `money`: read as `decimal(19,4)`.
    Money,
    /// `smallmoney`: read as `decimal(10,4)`.
    SmallMoney,
    /// `hierarchyid`: read as its path text.
    PathText,
    /// `geography`, `geometry`, `rowversion`, CLR types: read as bytes,
    /// carried as `0x` hex text.
    Bytes,
    /// `sql_variant`: read as `<base type>:<text>`.
    Variant,
    /// `decimal(38,38)` / `numeric(38,38)`: read as text, because
    /// tiberius's `Numeric` panics on a scale of 38 (decoding and
    /// encoding). Values stay [`bru_core::Value::Decimal`]; a target must
    /// also write them as text through `CAST(… AS decimal(38,38))`.
    DecimalText,
}

impl Fallback {
    /// The fallback a column of T-SQL type `native_type` (as
    /// [`from_sys`] spells it) is read and written through, if any.
    pub fn of(native_type: &str) -> Option<Fallback> {
        let base = native_type
            .split('(')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match base.as_str() {
            "decimal" | "numeric" if native_type.replace(' ', "").ends_with(",38)") => {
                Some(Fallback::DecimalText)
            }
            "money" => Some(Fallback::Money),
            "smallmoney" => Some(Fallback::SmallMoney),
            "hierarchyid" => Some(Fallback::PathText),
            "sql_variant" => Some(Fallback::Variant),
            "geography" | "geometry" | "rowversion" | "timestamp" => Some(Fallback::Bytes),
            b if KNOWN.contains(&b) => None,
            _ => Some(Fallback::Bytes),
        }
    }

    /// The select-list expression that reads column `quoted` (already a
    /// bracketed identifier) through this fallback.
    pub fn select_expr(self, quoted: &str) -> String {
        match self {
            Fallback::Money => format!("CAST({quoted} AS decimal(19,4))"),
            Fallback::SmallMoney => format!("CAST({quoted} AS decimal(10,4))"),
            Fallback::PathText => format!("CAST({quoted} AS nvarchar(4000))"),
            Fallback::Bytes => format!("CAST({quoted} AS varbinary(max))"),
            Fallback::Variant => variant_select(quoted),
            Fallback::DecimalText => format!("CAST({quoted} AS varchar(48))"),
        }
    }
}

/// Every base type [`from_sys`] maps without a fallback.
const KNOWN: &[&str] = &[
    "tinyint",
    "smallint",
    "int",
    "bigint",
    "bit",
    "decimal",
    "numeric",
    "real",
    "float",
    "char",
    "varchar",
    "nchar",
    "nvarchar",
    "text",
    "ntext",
    "binary",
    "varbinary",
    "image",
    "date",
    "time",
    "datetime",
    "smalldatetime",
    "datetime2",
    "datetimeoffset",
    "uniqueidentifier",
    "xml",
    "sysname",
];

/// `sql_variant` as `<base type>:<text>` (module docs), NULL for NULL.
fn variant_select(c: &str) -> String {
    let prop = |p: &str| format!("SQL_VARIANT_PROPERTY({c}, '{p}')");
    let base = format!("CAST({} AS nvarchar(128))", prop("BaseType"));
    // A sql_variant holds at most 8000 bytes, so a reported length beyond
    // that (Babelfish reports 65535 for any string) is spelt as the
    // largest the type can hold in a sql_variant, which holds the value.
    let len = format!(
        "CASE WHEN CAST({l} AS int) > 8000 THEN N'8000' ELSE CAST({l} AS nvarchar(10)) END",
        l = prop("MaxLength")
    );
    let nlen = format!(
        "CASE WHEN CAST({l} AS int) > 8000 THEN N'4000' ELSE CAST(CAST({l} AS int) / 2 AS nvarchar(10)) END",
        l = prop("MaxLength")
    );
    let prec = format!("CAST({} AS nvarchar(10))", prop("Precision"));
    let scale = format!("CAST({} AS nvarchar(10))", prop("Scale"));
    format!(
        "CASE WHEN {c} IS NULL THEN NULL ELSE {base} + \
         CASE {base} \
         WHEN N'decimal' THEN N'(' + {prec} + N',' + {scale} + N')' \
         WHEN N'numeric' THEN N'(' + {prec} + N',' + {scale} + N')' \
         WHEN N'datetime2' THEN N'(' + {scale} + N')' \
         WHEN N'datetimeoffset' THEN N'(' + {scale} + N')' \
         WHEN N'time' THEN N'(' + {scale} + N')' \
         WHEN N'char' THEN N'(' + {len} + N')' \
         WHEN N'varchar' THEN N'(' + {len} + N')' \
         WHEN N'binary' THEN N'(' + {len} + N')' \
         WHEN N'varbinary' THEN N'(' + {len} + N')' \
         WHEN N'nchar' THEN N'(' + {nlen} + N')' \
         WHEN N'nvarchar' THEN N'(' + {nlen} + N')' \
         ELSE N'' END + N':' + \
         CASE {base} \
         WHEN N'float' THEN LTRIM(CONVERT(nvarchar(max), CAST({c} AS float), 3)) \
         WHEN N'real' THEN LTRIM(CONVERT(nvarchar(max), CAST({c} AS real), 3)) \
         WHEN N'datetime' THEN CONVERT(nvarchar(max), CAST({c} AS datetime), 121) \
         WHEN N'smalldatetime' THEN CONVERT(nvarchar(max), CAST({c} AS smalldatetime), 121) \
         WHEN N'datetime2' THEN CONVERT(nvarchar(max), CAST({c} AS datetime2(7)), 121) \
         WHEN N'datetimeoffset' THEN CONVERT(nvarchar(max), CAST({c} AS datetimeoffset(7)), 121) \
         WHEN N'date' THEN CONVERT(nvarchar(max), CAST({c} AS date), 121) \
         WHEN N'time' THEN CONVERT(nvarchar(max), CAST({c} AS time(7)), 121) \
         WHEN N'binary' THEN CONVERT(nvarchar(max), CAST({c} AS varbinary(8000)), 1) \
         WHEN N'varbinary' THEN CONVERT(nvarchar(max), CAST({c} AS varbinary(8000)), 1) \
         WHEN N'money' THEN CAST(CAST({c} AS decimal(19,4)) AS nvarchar(max)) \
         WHEN N'smallmoney' THEN CAST(CAST({c} AS decimal(10,4)) AS nvarchar(max)) \
         ELSE CAST({c} AS nvarchar(max)) END END"
    )
}

/// The neutral type and T-SQL spelling of a base type (module docs).
/// Types it does not know become [`ColumnType::Native`] under their own
/// name, read through [`Fallback::Bytes`].
pub fn from_sys(t: &SysType) -> Mapped {
    let name = t.name.to_ascii_lowercase();
    let m = |ty: ColumnType, native: String| Mapped {
        ty,
        native_type: native,
    };
    // max_length -1 is (max); national types count 2 bytes a unit.
    let len = |per: i16| (t.max_length >= 0).then(|| (t.max_length / per) as u32);
    let spell = |n: Option<u32>| n.map_or("max".to_owned(), |n| n.to_string());
    match name.as_str() {
        "tinyint" => m(ColumnType::Int16, name),
        "smallint" => m(ColumnType::Int16, name),
        "int" => m(ColumnType::Int32, name),
        "bigint" => m(ColumnType::Int64, name),
        "bit" => m(ColumnType::Bool, name),
        "decimal" | "numeric" => m(
            ColumnType::Decimal {
                precision: Some(t.precision.into()),
                scale: Some(t.scale.into()),
            },
            format!("{name}({},{})", t.precision, t.scale),
        ),
        "money" => m(
            ColumnType::Decimal {
                precision: Some(19),
                scale: Some(4),
            },
            name,
        ),
        "smallmoney" => m(
            ColumnType::Decimal {
                precision: Some(10),
                scale: Some(4),
            },
            name,
        ),
        "real" => m(ColumnType::Float32, name),
        // float(1..24) is stored as real; a float column here is float(53).
        "float" => m(ColumnType::Float64, name),
        "char" | "varchar" | "nchar" | "nvarchar" | "sysname" => {
            let national = name.starts_with('n') || name == "sysname";
            let n = len(if national { 2 } else { 1 });
            let fixed = name == "char" || name == "nchar";
            let native = if name == "sysname" {
                "sysname".to_owned()
            } else {
                format!("{name}({})", spell(n))
            };
            m(
                ColumnType::Text {
                    max_len: n,
                    fixed,
                    national,
                },
                native,
            )
        }
        "text" | "ntext" => m(
            ColumnType::Text {
                max_len: None,
                fixed: false,
                national: name == "ntext",
            },
            name,
        ),
        "binary" | "varbinary" => {
            let n = len(1);
            m(
                ColumnType::Binary { max_len: n },
                format!("{name}({})", spell(n)),
            )
        }
        "image" => m(ColumnType::Binary { max_len: None }, name),
        "date" => m(ColumnType::Date, name),
        "time" => m(
            ColumnType::Time {
                tz: false,
                precision: Some(t.scale),
            },
            format!("time({})", t.scale),
        ),
        "datetime" => m(
            ColumnType::Timestamp {
                tz: false,
                precision: Some(3),
            },
            name,
        ),
        "smalldatetime" => m(
            ColumnType::Timestamp {
                tz: false,
                precision: Some(0),
            },
            name,
        ),
        "datetime2" => m(
            ColumnType::Timestamp {
                tz: false,
                precision: Some(t.scale),
            },
            format!("datetime2({})", t.scale),
        ),
        "datetimeoffset" => m(
            ColumnType::Timestamp {
                tz: true,
                precision: Some(t.scale),
            },
            format!("datetimeoffset({})", t.scale),
        ),
        "uniqueidentifier" => m(ColumnType::Uuid, name),
        // `timestamp` is rowversion's old name; spell it the current way.
        "timestamp" | "rowversion" => native("rowversion"),
        _ => native(&name),
    }
}

fn native(name: &str) -> Mapped {
    Mapped {
        ty: ColumnType::Native { name: name.into() },
        native_type: name.into(),
    }
}

/// The T-SQL type that holds a neutral type exactly, for a column that
/// comes from another engine; `Err` says why none does and what to do.
/// A column from SQL Server itself keeps its `native_type` instead.
pub fn tsql_type(ty: &ColumnType) -> Result<String, String> {
    Ok(match ty {
        ColumnType::Bool => "bit".into(),
        ColumnType::Int16 => "smallint".into(),
        ColumnType::Int32 => "int".into(),
        ColumnType::Int64 => "bigint".into(),
        ColumnType::Float32 => "real".into(),
        ColumnType::Float64 => "float".into(),
        ColumnType::Decimal {
            precision: Some(p),
            scale,
        } => {
            let s = scale.unwrap_or(0);
            if !(1..=38).contains(p) || s > *p {
                return Err(format!(
                    "SQL Server's decimal holds at most 38 digits with a scale no larger \
                     than the precision, not decimal({p},{s})"
                ));
            }
            format!("decimal({p},{s})")
        }
        ColumnType::Decimal {
            precision: None, ..
        } => {
            return Err(
                "an unconstrained numeric has no exact SQL Server type (decimal holds \
                 at most 38 digits); declare the column with a precision and scale in the \
                 source, or restore into another engine"
                    .into(),
            )
        }
        // Text from other engines is Unicode: national types keep every
        // character whatever the database's collation.
        ColumnType::Text { max_len, fixed, .. } => match (max_len, fixed) {
            (Some(n @ 1..=4000), true) => format!("nchar({n})"),
            (Some(n @ 1..=4000), false) => format!("nvarchar({n})"),
            _ => "nvarchar(max)".into(),
        },
        ColumnType::Binary { max_len } => match max_len {
            Some(n @ 1..=8000) => format!("varbinary({n})"),
            _ => "varbinary(max)".into(),
        },
        ColumnType::Date => "date".into(),
        ColumnType::Time {
            tz: false,
            precision,
        } => format!("time({})", precision.unwrap_or(7).min(7)),
        ColumnType::Time { tz: true, .. } => {
            return Err(
                "SQL Server has no time-of-day type with a UTC offset (time with \
                 time zone); restore into PostgreSQL, or change the column to time or \
                 timestamp with time zone in the source"
                    .into(),
            )
        }
        ColumnType::Timestamp { tz, precision } => {
            let p = precision.unwrap_or(7).min(7);
            if *tz {
                format!("datetimeoffset({p})")
            } else {
                format!("datetime2({p})")
            }
        }
        ColumnType::Interval => {
            return Err(
                "SQL Server has no interval type; restore into PostgreSQL, or \
                 store the interval as text or a number of seconds in the source"
                    .into(),
            )
        }
        ColumnType::Uuid => "uniqueidentifier".into(),
        ColumnType::Json { .. } => "nvarchar(max)".into(),
        ColumnType::Native { name } => {
            return Err(format!(
                "the native type {name} of another engine has no SQL Server counterpart; \
                 restore into that engine, or change the column to a portable type in the source"
            ))
        }
    })
}

/// The length of `s` in UTF-16 code units, as SQL Server measures
/// `nchar`/`nvarchar` (a character outside the BMP counts 2).
pub fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sys(name: &str, max_length: i16, precision: u8, scale: u8) -> Mapped {
        from_sys(&SysType {
            name,
            max_length,
            precision,
            scale,
        })
    }

    #[test]
    fn spellings_are_exact() {
        for (t, native) in [
            (sys("nvarchar", 100, 0, 0), "nvarchar(50)"),
            (sys("nvarchar", -1, 0, 0), "nvarchar(max)"),
            (sys("varchar", -1, 0, 0), "varchar(max)"),
            (sys("char", 10, 0, 0), "char(10)"),
            (sys("nchar", 8, 0, 0), "nchar(4)"),
            (sys("decimal", 9, 18, 2), "decimal(18,2)"),
            (sys("numeric", 17, 38, 38), "numeric(38,38)"),
            (sys("datetime2", 8, 27, 7), "datetime2(7)"),
            (sys("time", 4, 12, 3), "time(3)"),
            (sys("datetimeoffset", 10, 34, 7), "datetimeoffset(7)"),
            (sys("float", 8, 53, 0), "float"),
            (sys("real", 4, 24, 0), "real"),
            (sys("money", 8, 19, 4), "money"),
            (sys("varbinary", -1, 0, 0), "varbinary(max)"),
            (sys("binary", 16, 0, 0), "binary(16)"),
            (sys("timestamp", 8, 0, 0), "rowversion"),
            (sys("hierarchyid", 892, 0, 0), "hierarchyid"),
        ] {
            assert_eq!(t.native_type, native);
        }
    }

    #[test]
    fn neutral_types() {
        assert_eq!(sys("tinyint", 1, 3, 0).ty, ColumnType::Int16);
        assert_eq!(
            sys("nvarchar", 100, 0, 0).ty,
            ColumnType::Text {
                max_len: Some(50),
                fixed: false,
                national: true
            }
        );
        assert_eq!(
            sys("varchar", -1, 0, 0).ty,
            ColumnType::Text {
                max_len: None,
                fixed: false,
                national: false
            }
        );
        assert_eq!(
            sys("money", 8, 19, 4).ty,
            ColumnType::Decimal {
                precision: Some(19),
                scale: Some(4)
            }
        );
        assert_eq!(
            sys("smallmoney", 4, 10, 4).ty,
            ColumnType::Decimal {
                precision: Some(10),
                scale: Some(4)
            }
        );
        assert_eq!(
            sys("datetime", 8, 23, 3).ty,
            ColumnType::Timestamp {
                tz: false,
                precision: Some(3)
            }
        );
        assert_eq!(
            sys("smalldatetime", 4, 16, 0).ty,
            ColumnType::Timestamp {
                tz: false,
                precision: Some(0)
            }
        );
        assert_eq!(
            sys("datetimeoffset", 10, 34, 7).ty,
            ColumnType::Timestamp {
                tz: true,
                precision: Some(7)
            }
        );
        assert_eq!(
            sys("xml", -1, 0, 0).ty,
            ColumnType::Native { name: "xml".into() }
        );
        assert_eq!(
            sys("geography", -1, 0, 0).ty,
            ColumnType::Native {
                name: "geography".into()
            }
        );
        assert_eq!(
            sys("image", 16, 0, 0).ty,
            ColumnType::Binary { max_len: None }
        );
    }

    #[test]
    fn fallbacks() {
        assert_eq!(Fallback::of("money"), Some(Fallback::Money));
        assert_eq!(Fallback::of("smallmoney"), Some(Fallback::SmallMoney));
        assert_eq!(Fallback::of("sql_variant"), Some(Fallback::Variant));
        assert_eq!(Fallback::of("hierarchyid"), Some(Fallback::PathText));
        assert_eq!(Fallback::of("geometry"), Some(Fallback::Bytes));
        assert_eq!(Fallback::of("rowversion"), Some(Fallback::Bytes));
        assert_eq!(Fallback::of("some_clr_type"), Some(Fallback::Bytes));
        assert_eq!(Fallback::of("nvarchar(max)"), None);
        assert_eq!(Fallback::of("xml"), None);
        assert_eq!(Fallback::of("decimal(18,2)"), None);
        assert_eq!(Fallback::of("decimal(38,37)"), None);
        assert_eq!(Fallback::of("numeric(38,38)"), Some(Fallback::DecimalText));
        assert_eq!(
            Fallback::Money.select_expr("[m]"),
            "CAST([m] AS decimal(19,4))"
        );
        assert!(Fallback::Variant
            .select_expr("[v]")
            .starts_with("CASE WHEN [v] IS NULL"));
    }

    #[test]
    fn inverse_mapping() {
        let t = |ty: ColumnType| tsql_type(&ty);
        assert_eq!(t(ColumnType::Bool).unwrap(), "bit");
        assert_eq!(
            t(ColumnType::Decimal {
                precision: Some(38),
                scale: Some(38)
            })
            .unwrap(),
            "decimal(38,38)"
        );
        assert!(t(ColumnType::Decimal {
            precision: Some(39),
            scale: Some(2)
        })
        .is_err());
        assert!(t(ColumnType::Decimal {
            precision: None,
            scale: None
        })
        .unwrap_err()
        .contains("38 digits"));
        assert_eq!(
            t(ColumnType::Text {
                max_len: Some(20),
                fixed: false,
                national: false
            })
            .unwrap(),
            "nvarchar(20)"
        );
        assert_eq!(
            t(ColumnType::Text {
                max_len: Some(5000),
                fixed: false,
                national: false
            })
            .unwrap(),
            "nvarchar(max)"
        );
        assert_eq!(
            t(ColumnType::Binary { max_len: None }).unwrap(),
            "varbinary(max)"
        );
        assert_eq!(
            t(ColumnType::Timestamp {
                tz: false,
                precision: Some(6)
            })
            .unwrap(),
            "datetime2(6)"
        );
        assert_eq!(
            t(ColumnType::Timestamp {
                tz: true,
                precision: None
            })
            .unwrap(),
            "datetimeoffset(7)"
        );
        assert_eq!(
            t(ColumnType::Time {
                tz: false,
                precision: Some(9)
            })
            .unwrap(),
            "time(7)"
        );
        assert!(t(ColumnType::Time {
            tz: true,
            precision: None
        })
        .is_err());
        assert!(t(ColumnType::Interval).is_err());
        assert_eq!(t(ColumnType::Uuid).unwrap(), "uniqueidentifier");
        assert!(t(ColumnType::Native {
            name: "tsvector".into()
        })
        .unwrap_err()
        .contains("tsvector"));
    }

    #[test]
    fn utf16_units() {
        assert_eq!(utf16_len(""), 0);
        assert_eq!(utf16_len("abc"), 3);
        assert_eq!(utf16_len("é"), 1);
        assert_eq!(utf16_len("😀"), 2);
        assert_eq!(utf16_len("a😀b"), 4);
    }
}
