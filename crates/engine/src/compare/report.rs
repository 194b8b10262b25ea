//! What a compare found: per table, the row counts and checksums of both
//! sides, its status, schema differences, and the differing keys it named.

use serde::Serialize;

/// The result of [`crate::compare_databases`] or [`crate::verify_against`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct CompareReport {
    /// Side A (the source: an archive or a database), as shown.
    pub a: String,
    /// Side B (the target database), as shown.
    pub b: String,
    pub tables: Vec<TableReport>,
    /// What this compare did not compare, and why (across engines, what
    /// the neutral model cannot compare).
    pub not_compared: Vec<String>,
    /// The tables found equal by the two servers' own digests of their
    /// rows, without sending the rows (two databases of one engine).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_digest: Vec<String>,
    pub seconds: f64,
}

impl CompareReport {
    /// Whether every table and its schema matched.
    pub fn matches(&self) -> bool {
        self.tables.iter().all(|t| t.status == TableStatus::Match)
    }

    /// The tables that did not match.
    pub fn differing(&self) -> impl Iterator<Item = &TableReport> {
        self.tables
            .iter()
            .filter(|t| t.status != TableStatus::Match)
    }
}

/// One table of either side.
#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    /// The table's name on side A (on side B for a table only B has).
    pub table: String,
    /// Rows on side A, when the table is there (and was read).
    pub rows_a: Option<u64>,
    pub rows_b: Option<u64>,
    /// The content checksums over the columns compared, as 16 hex digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_a: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_b: Option<String>,
    pub status: TableStatus,
    /// Differences of its definition, one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub schema: Vec<String>,
    /// The differing rows found by narrowing down, by key.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<RowDiff>,
    /// Whether more rows differ than `diffs` names (`--max-diffs`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub more_diffs: bool,
    /// Why the differing rows were not named, when they were not (no
    /// primary key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_narrowed: Option<String>,
}

impl TableReport {
    pub(crate) fn new(table: String, status: TableStatus) -> Self {
        TableReport {
            table,
            rows_a: None,
            rows_b: None,
            checksum_a: None,
            checksum_b: None,
            status,
            schema: Vec::new(),
            diffs: Vec::new(),
            more_diffs: false,
            not_narrowed: None,
        }
    }
}

/// How a table compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableStatus {
    /// Same definition, same rows.
    Match,
    /// Other rows (counts or checksums differ).
    Differs,
    /// The same rows, but the definition differs.
    SchemaDiffers,
    /// Side A has it, side B does not.
    MissingInTarget,
    /// Side B has it, side A does not.
    ExtraInTarget,
}

impl TableStatus {
    /// As the per-table table prints it.
    pub fn label(self) -> &'static str {
        match self {
            TableStatus::Match => "match",
            TableStatus::Differs => "differs",
            TableStatus::SchemaDiffers => "schema differs",
            TableStatus::MissingInTarget => "missing in target",
            TableStatus::ExtraInTarget => "extra in target",
        }
    }
}

/// One differing row, by its primary key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowDiff {
    pub kind: DiffKind,
    /// The key as `column=value`, comma-separated for a composite key.
    pub key: String,
    /// For `changed`: the columns whose values differ.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
}

/// What is different about a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    /// On side A, not on side B.
    MissingInTarget,
    /// On side B, not on side A.
    ExtraInTarget,
    /// On both, with other values.
    Changed,
}

impl DiffKind {
    pub fn label(self) -> &'static str {
        match self {
            DiffKind::MissingInTarget => "missing in target",
            DiffKind::ExtraInTarget => "extra in target",
            DiffKind::Changed => "changed",
        }
    }
}
