//! What a backup, restore or verify did, per table: for the summary table
//! the CLI prints and for `--json`.

use bru_core::ObjectDef;

use crate::CastCount;
use serde::Serialize;

/// One table's line in a summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TableSummary {
    /// Qualified table name.
    pub table: String,
    /// Rows read: from the source (backup) or from the archive (restore,
    /// verify).
    pub rows: u64,
    /// Rows written by this run: into the archive (backup) or the target
    /// (restore).
    pub rows_loaded: u64,
    /// Restore with `--resume`: rows the interrupted restore had already
    /// loaded (`rows = rows_loaded + rows_resumed`).
    pub rows_resumed: u64,
    /// Uncompressed encoded bytes.
    pub raw_bytes: u64,
    /// Compressed bytes in the archive.
    pub stored_bytes: u64,
    /// Applying a delta archive: target rows deleted (deleted or re-keyed
    /// at the source).
    #[serde(skip_serializing_if = "is_zero")]
    pub rows_deleted: u64,
    /// Transient errors met and retried (a failure that was not retried
    /// stops the run with an error instead).
    pub errors: u64,
    pub seconds: f64,
}

/// The result of a backup, restore or verify.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub tables: Vec<TableSummary>,
    /// Objects (views, triggers...) created or stored.
    pub objects: Vec<String>,
    /// Objects or features not carried, each with the reason. Never empty
    /// silently: anything bru did not restore is listed here.
    pub skipped: Vec<String>,
    /// Restore with `--clean`: every object dropped, as
    /// `view public.v (depends on table public.sites)` for one dropped only
    /// because it depends on one of the archive's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<String>,
    /// Restore with `--cast` rules: each rule with the values it converted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub casts: Vec<CastCount>,
    /// A restore from another engine's archive: each view, CHECK, default
    /// and index expression translated into the target's SQL, with the
    /// text (what could not be is in `skipped`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub translated: Vec<String>,
    pub seconds: f64,
    /// `restore --resume` found no unfinished restore but every table of the
    /// archive already there: a restore that finished earlier. Nothing was
    /// done.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub nothing_to_resume: bool,
}

/// How an object is named in a summary or a listing: `kind name`, as in
/// `view hr.v_agents`. One spelling for backup, restore, verify and list, so
/// that what each reports can be compared line by line.
pub(crate) fn object_name(object: &ObjectDef) -> String {
    format!("{} {}", object.kind, object.name)
}

/// [`object_name`] of each object, in order.
pub(crate) fn object_names(objects: &[ObjectDef]) -> Vec<String> {
    objects.iter().map(object_name).collect()
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
