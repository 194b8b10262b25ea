//! The kinds of values an expression yields, as far as translation needs
//! them: which operators, functions and comparisons mean the same in both
//! engines depends on them, not on the exact declared type.

use bru_core::ColumnType;

/// The kind of a value, from the catalog's column types and the operators
/// applied to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A 64-bit (or narrower) integer.
    Int,
    /// A double-precision float.
    Float,
    /// An exact decimal (SQLite NUMERIC/DECIMAL columns, which SQLite
    /// computes in floating point; PostgreSQL numeric).
    Decimal,
    Text,
    /// A boolean column (SQLite keeps 0 and 1; PostgreSQL boolean).
    Bool,
    /// The result of a comparison or of AND/OR/NOT: 0/1 in SQLite, boolean
    /// in PostgreSQL.
    Truth,
    /// A date, time, timestamp or interval (text in SQLite).
    Temporal,
    /// The NULL literal: any kind.
    Null,
    /// A uuid (SQL Server's uniqueidentifier, PostgreSQL's uuid).
    Uuid,
    /// Anything else (blobs, json, another engine's own types).
    Other,
}

impl Kind {
    /// The kind of a column of neutral type `ty`.
    pub fn of(ty: &ColumnType) -> Kind {
        match ty {
            ColumnType::Int16 | ColumnType::Int32 | ColumnType::Int64 => Kind::Int,
            ColumnType::Float64 => Kind::Float,
            ColumnType::Decimal { .. } => Kind::Decimal,
            ColumnType::Text { .. } => Kind::Text,
            ColumnType::Bool => Kind::Bool,
            ColumnType::Uuid => Kind::Uuid,
            ColumnType::Date
            | ColumnType::Time { .. }
            | ColumnType::Timestamp { .. }
            | ColumnType::Interval => Kind::Temporal,
            _ => Kind::Other,
        }
    }

    /// Int, Float or Decimal.
    pub(crate) fn is_number(self) -> bool {
        matches!(self, Kind::Int | Kind::Float | Kind::Decimal)
    }

    /// How a refusal names the kind.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Kind::Int => "an integer",
            Kind::Float => "a floating-point value",
            Kind::Decimal => "a decimal",
            Kind::Text => "text",
            Kind::Bool => "a boolean",
            Kind::Truth => "a condition",
            Kind::Temporal => "a date/time value",
            Kind::Null => "NULL",
            Kind::Uuid => "a uuid",
            Kind::Other => "a value of another type",
        }
    }

    /// The kind of a value that is either `self` or `other` (a CASE, a
    /// COALESCE, a UNION's column), when both engines give it the same
    /// values: kinds that match, or NULL with anything.
    pub(crate) fn unify(self, other: Kind) -> Option<Kind> {
        match (self, other) {
            (Kind::Null, k) | (k, Kind::Null) => Some(k),
            (Kind::Truth, Kind::Truth) => Some(Kind::Truth),
            (a, b) if a == b => Some(a),
            _ => None,
        }
    }
}
