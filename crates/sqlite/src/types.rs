//! Declared SQLite types: their affinity, their neutral [`ColumnType`], and
//! the declared type bru writes for a neutral type.
//!
//! # Declared type → `ColumnType` (backup)
//! SQLite accepts any text as a column type and derives only an *affinity*
//! from it. bru keeps the declared text in `Column::native_type` and maps it,
//! case-insensitively, first by common names and then by affinity:
//!
//! | declared (base name, before any `(…)`)               | ColumnType                     |
//! |------------------------------------------------------|--------------------------------|
//! | BOOL, BOOLEAN                                        | Bool                           |
//! | DATE                                                 | Date                           |
//! | DATETIME, TIMESTAMP (`(p)` = precision)              | Timestamp                      |
//! | TIMESTAMPTZ, TIMESTAMP WITH TIME ZONE                | Timestamp with tz              |
//! | TIME / TIMETZ, TIME WITH TIME ZONE                   | Time / Time with tz            |
//! | INTERVAL                                             | Interval                       |
//! | UUID, GUID, UNIQUEIDENTIFIER                         | Uuid                           |
//! | JSON, JSON_TEXT / JSONB, JSONB_TEXT                  | Json / Json binary             |
//! | DECIMAL, NUMERIC, DECIMAL_TEXT, NUMERIC_TEXT `(p,s)` | Decimal                        |
//! | VARCHAR(n), CHARACTER VARYING, VARYING CHARACTER     | Text (max_len n)               |
//! | NVARCHAR(n), NATIONAL VARYING CHARACTER              | Text, national                 |
//! | CHAR(n), CHARACTER(n) / NCHAR(n), NATIVE CHARACTER   | Text, fixed (national)         |
//! | BINARY(n), VARBINARY(n)                              | Binary (max_len n)             |
//! | (empty), ANY                                         | Native "ANY": any storage class|
//! | otherwise, by affinity: INTEGER → Int64, TEXT → Text, BLOB → Binary, REAL → Float64, NUMERIC → Decimal |
//!
//! So INT, BIGINT, TINYINT, … are Int64 (every SQLite integer is 64-bit),
//! REAL, DOUBLE, FLOAT are Float64, TEXT and CLOB are Text, BLOB is Binary.
//! The neutral type is a description for other engines: SQLite values are
//! still read cell by cell by storage class, whatever the declared type.
//!
//! # `ColumnType` → declared type (restoring another engine's table)
//! The declared type must have an affinity that leaves bru's value forms
//! unchanged, because SQLite converts values on insert by affinity:
//! - Decimal → `DECIMAL_TEXT(p,s)`: TEXT affinity (the name contains
//!   "TEXT"), so `1.50` and 40-digit values stay exact text. `DECIMAL`
//!   would have NUMERIC affinity and turn `1.50` into the REAL 1.5.
//! - Json → `JSON_TEXT` / `JSONB_TEXT`: TEXT affinity, so the JSON document
//!   `123` stays text rather than becoming the integer 123.
//! - Native → `TEXT`: canonical text of a type SQLite does not know.
//! - Date, Time, Timestamp, Uuid, Interval keep their usual names (NUMERIC or,
//!   for INTERVAL, INTEGER affinity): their text forms always contain `-`,
//!   `:` or a leading `P`, which SQLite never reads as a number, so the
//!   affinity cannot change them.
//! - Bool, integers → BOOLEAN / SMALLINT / INTEGER / BIGINT; floats → FLOAT /
//!   REAL; binary → BLOB (not VARBINARY, whose affinity would be NUMERIC).

use bru_core::ColumnType;

/// SQLite's column affinity (<https://sqlite.org/datatype3.html>, 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Affinity {
    Integer,
    Text,
    Blob,
    Real,
    Numeric,
}

/// The affinity SQLite gives a column declared as `declared`. In a STRICT
/// table, `ANY` columns take values as they are, which is BLOB affinity.
pub fn affinity(declared: &str, strict: bool) -> Affinity {
    let upper = declared.to_ascii_uppercase();
    if strict && upper.trim() == "ANY" {
        return Affinity::Blob;
    }
    if upper.contains("INT") {
        Affinity::Integer
    } else if upper.contains("CHAR") || upper.contains("CLOB") || upper.contains("TEXT") {
        Affinity::Text
    } else if upper.contains("BLOB") || upper.trim().is_empty() {
        Affinity::Blob
    } else if upper.contains("REAL") || upper.contains("FLOA") || upper.contains("DOUB") {
        Affinity::Real
    } else {
        Affinity::Numeric
    }
}

/// The neutral type for a column declared as `declared` (see the module
/// docs for the table).
pub fn column_type(declared: &str) -> ColumnType {
    let upper = declared.trim().to_ascii_uppercase();
    let (base, params) = match upper.find('(') {
        Some(p) => (upper[..p].trim(), parse_params(&upper[p + 1..])),
        None => (upper.as_str(), Vec::new()),
    };
    let base = base.split_whitespace().collect::<Vec<_>>().join(" ");
    let first = params.first().copied().flatten();
    let second = params.get(1).copied().flatten();
    let precision = first.and_then(|p| u8::try_from(p).ok());
    let text = |max_len, fixed, national| ColumnType::Text {
        max_len,
        fixed,
        national,
    };
    match base.as_str() {
        "BOOL" | "BOOLEAN" => ColumnType::Bool,
        "DATE" => ColumnType::Date,
        "DATETIME" | "TIMESTAMP" | "TIMESTAMP WITHOUT TIME ZONE" => ColumnType::Timestamp {
            tz: false,
            precision,
        },
        "TIMESTAMPTZ" | "TIMESTAMP WITH TIME ZONE" => ColumnType::Timestamp {
            tz: true,
            precision,
        },
        "TIME" | "TIME WITHOUT TIME ZONE" => ColumnType::Time {
            tz: false,
            precision,
        },
        "TIMETZ" | "TIME WITH TIME ZONE" => ColumnType::Time {
            tz: true,
            precision,
        },
        "INTERVAL" => ColumnType::Interval,
        "UUID" | "GUID" | "UNIQUEIDENTIFIER" => ColumnType::Uuid,
        "JSON" | "JSON_TEXT" => ColumnType::Json { binary: false },
        "JSONB" | "JSONB_TEXT" => ColumnType::Json { binary: true },
        "DECIMAL" | "NUMERIC" | "DECIMAL_TEXT" | "NUMERIC_TEXT" => ColumnType::Decimal {
            precision: first,
            scale: second,
        },
        "VARCHAR" | "CHARACTER VARYING" | "VARYING CHARACTER" => text(first, false, false),
        "NVARCHAR" | "NATIONAL VARYING CHARACTER" | "NATIONAL CHARACTER VARYING" => {
            text(first, false, true)
        }
        "CHAR" | "CHARACTER" => text(first, true, false),
        "NCHAR" | "NATIVE CHARACTER" | "NATIONAL CHARACTER" => text(first, true, true),
        "TEXT" | "CLOB" => text(None, false, false),
        "BINARY" | "VARBINARY" | "BLOB" => ColumnType::Binary { max_len: first },
        "" | "ANY" => ColumnType::Native { name: "ANY".into() },
        _ => match affinity(declared, false) {
            Affinity::Integer => ColumnType::Int64,
            Affinity::Text => text(None, false, false),
            Affinity::Blob => ColumnType::Binary { max_len: None },
            Affinity::Real => ColumnType::Float64,
            Affinity::Numeric => ColumnType::Decimal {
                precision: None,
                scale: None,
            },
        },
    }
}

/// Parses `10, 2)` into numbers; an entry that is not a number is `None`.
fn parse_params(inner: &str) -> Vec<Option<u32>> {
    let inner = inner.split(')').next().unwrap_or("");
    inner.split(',').map(|p| p.trim().parse().ok()).collect()
}

/// The declared type bru writes for `ty` when it generates a table (see the
/// module docs for why each was chosen).
pub fn declared_type(ty: &ColumnType) -> String {
    let with_len = |name: &str, n: Option<u32>| match n {
        Some(n) => format!("{name}({n})"),
        None => name.to_owned(),
    };
    let with_precision = |name: &str, p: Option<u8>| match p {
        Some(p) => format!("{name}({p})"),
        None => name.to_owned(),
    };
    match ty {
        ColumnType::Bool => "BOOLEAN".into(),
        ColumnType::Int16 => "SMALLINT".into(),
        ColumnType::Int32 => "INTEGER".into(),
        ColumnType::Int64 => "BIGINT".into(),
        ColumnType::Float32 => "FLOAT".into(),
        ColumnType::Float64 => "REAL".into(),
        ColumnType::Decimal {
            precision: Some(p),
            scale,
        } => format!("DECIMAL_TEXT({p},{})", scale.unwrap_or(0)),
        ColumnType::Decimal { .. } => "DECIMAL_TEXT".into(),
        ColumnType::Text {
            max_len: None,
            national: false,
            ..
        } => "TEXT".into(),
        ColumnType::Text {
            max_len,
            fixed,
            national,
        } => {
            let name = match (fixed, national) {
                (false, false) => "VARCHAR",
                (false, true) => "NVARCHAR",
                (true, false) => "CHAR",
                (true, true) => "NCHAR",
            };
            with_len(name, *max_len)
        }
        ColumnType::Binary { .. } => "BLOB".into(),
        ColumnType::Date => "DATE".into(),
        ColumnType::Time { tz, precision } => {
            with_precision(if *tz { "TIMETZ" } else { "TIME" }, *precision)
        }
        ColumnType::Timestamp { tz, precision } => {
            with_precision(if *tz { "TIMESTAMPTZ" } else { "TIMESTAMP" }, *precision)
        }
        ColumnType::Interval => "INTERVAL".into(),
        ColumnType::Uuid => "UUID".into(),
        ColumnType::Json { binary: false } => "JSON_TEXT".into(),
        ColumnType::Json { binary: true } => "JSONB_TEXT".into(),
        ColumnType::Native { .. } => "TEXT".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affinity_follows_sqlite_rules() {
        assert_eq!(affinity("BIGINT", false), Affinity::Integer);
        assert_eq!(affinity("INTERVAL", false), Affinity::Integer);
        assert_eq!(affinity("VARCHAR(10)", false), Affinity::Text);
        assert_eq!(affinity("DECIMAL_TEXT(10,2)", false), Affinity::Text);
        assert_eq!(affinity("", false), Affinity::Blob);
        assert_eq!(affinity("DOUBLE PRECISION", false), Affinity::Real);
        assert_eq!(affinity("DECIMAL(10,2)", false), Affinity::Numeric);
        assert_eq!(affinity("ANY", false), Affinity::Numeric);
        assert_eq!(affinity("ANY", true), Affinity::Blob);
    }

    #[test]
    fn common_names_map_to_neutral_types() {
        assert_eq!(column_type("boolean"), ColumnType::Bool);
        assert_eq!(column_type("UNSIGNED BIG INT"), ColumnType::Int64);
        assert_eq!(column_type("double"), ColumnType::Float64);
        assert_eq!(
            column_type("NUMERIC(12, 3)"),
            ColumnType::Decimal {
                precision: Some(12),
                scale: Some(3)
            }
        );
        assert_eq!(
            column_type("nvarchar(40)"),
            ColumnType::Text {
                max_len: Some(40),
                fixed: false,
                national: true
            }
        );
        assert_eq!(column_type(""), ColumnType::Native { name: "ANY".into() });
        assert_eq!(
            column_type("datetime"),
            ColumnType::Timestamp {
                tz: false,
                precision: None
            }
        );
        assert_eq!(column_type("MONEY"), column_type("NUMERIC"));
    }

    /// Every generated declaration maps back to the type it came from, so a
    /// foreign table restored into SQLite and backed up again keeps its
    /// neutral types (floats and integers widen, as SQLite has one of each).
    #[test]
    fn declared_types_map_back() {
        let types = [
            ColumnType::Bool,
            ColumnType::Int64,
            ColumnType::Float64,
            ColumnType::Decimal {
                precision: Some(10),
                scale: Some(2),
            },
            ColumnType::Text {
                max_len: Some(5),
                fixed: true,
                national: false,
            },
            ColumnType::Binary { max_len: None },
            ColumnType::Date,
            ColumnType::Time {
                tz: true,
                precision: Some(3),
            },
            ColumnType::Timestamp {
                tz: true,
                precision: None,
            },
            ColumnType::Interval,
            ColumnType::Uuid,
            ColumnType::Json { binary: true },
        ];
        for ty in types {
            assert_eq!(column_type(&declared_type(&ty)), ty, "{ty:?}");
        }
        assert_eq!(
            affinity(&declared_type(&ColumnType::Json { binary: false }), false),
            Affinity::Text
        );
    }
}
