//! Portable column types.
//!
//! A [`ColumnType`] describes what a column holds in engine-neutral terms. The
//! engine's own type text is kept next to it in [`crate::Column::native_type`],
//! so a same-engine restore can reproduce the declaration exactly while a
//! cross-engine restore maps through this enum.

use serde::{Deserialize, Serialize};

/// The neutral type of a column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ColumnType {
    Bool,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    /// Exact decimal. `None` precision means unconstrained (PostgreSQL
    /// `numeric`, SQLite `NUMERIC`); values are kept as exact decimal text.
    Decimal {
        precision: Option<u32>,
        scale: Option<u32>,
    },
    /// Character data. `max_len` is in characters; `fixed` is CHAR(n);
    /// `national` is SQL Server's NCHAR/NVARCHAR.
    Text {
        max_len: Option<u32>,
        fixed: bool,
        national: bool,
    },
    /// Byte strings, with an optional maximum length in bytes.
    Binary {
        max_len: Option<u32>,
    },
    Date,
    /// Time of day; `precision` is the number of fractional second digits.
    Time {
        tz: bool,
        precision: Option<u8>,
    },
    /// Date and time; with `tz` the value is an instant in UTC.
    Timestamp {
        tz: bool,
        precision: Option<u8>,
    },
    Interval,
    Uuid,
    /// JSON text; `binary` marks PostgreSQL's jsonb.
    Json {
        binary: bool,
    },
    /// A type with no portable counterpart. Values travel as
    /// [`crate::Value::Native`] text in the engine's canonical form, so nothing
    /// is dropped; only the same engine can restore it natively.
    Native {
        name: String,
    },
}

impl ColumnType {
    /// A short human-readable name, used in listings and error messages.
    pub fn display_name(&self) -> String {
        match self {
            ColumnType::Bool => "bool".into(),
            ColumnType::Int16 => "int16".into(),
            ColumnType::Int32 => "int32".into(),
            ColumnType::Int64 => "int64".into(),
            ColumnType::Float32 => "float32".into(),
            ColumnType::Float64 => "float64".into(),
            ColumnType::Decimal {
                precision: Some(p),
                scale,
            } => format!("decimal({p},{})", scale.unwrap_or(0)),
            ColumnType::Decimal { .. } => "decimal".into(),
            ColumnType::Text { max_len, fixed, .. } => match (max_len, fixed) {
                (Some(n), true) => format!("char({n})"),
                (Some(n), false) => format!("varchar({n})"),
                (None, _) => "text".into(),
            },
            ColumnType::Binary { max_len: Some(n) } => format!("binary({n})"),
            ColumnType::Binary { max_len: None } => "binary".into(),
            ColumnType::Date => "date".into(),
            ColumnType::Time { tz: false, .. } => "time".into(),
            ColumnType::Time { tz: true, .. } => "timetz".into(),
            ColumnType::Timestamp { tz: false, .. } => "timestamp".into(),
            ColumnType::Timestamp { tz: true, .. } => "timestamptz".into(),
            ColumnType::Interval => "interval".into(),
            ColumnType::Uuid => "uuid".into(),
            ColumnType::Json { binary: false } => "json".into(),
            ColumnType::Json { binary: true } => "jsonb".into(),
            ColumnType::Native { name } => format!("native({name})"),
        }
    }
}
