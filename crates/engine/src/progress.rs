//! Progress reporting, injected by the caller (the CLI draws bars; tests and
//! libraries pass [`NoProgress`]).

/// Receives progress events. Methods may be called from several threads.
pub trait Progress: Sync {
    /// Work on a table starts. `rows` and `bytes` are the totals expected,
    /// when known (from the archive on restore, from estimates on backup).
    fn table_started(&self, table: &str, rows: Option<u64>, bytes: Option<u64>) {
        let _ = (table, rows, bytes);
    }
    /// `rows` more rows and `bytes` more (uncompressed) bytes of `table` done.
    fn advance(&self, table: &str, rows: u64, bytes: u64) {
        let _ = (table, rows, bytes);
    }
    /// Work on a table ended.
    fn table_finished(&self, table: &str) {
        let _ = table;
    }
    /// A phase or step worth a log line (e.g. "building indexes").
    fn message(&self, text: &str) {
        let _ = text;
    }
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}
