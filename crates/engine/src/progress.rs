//! Progress reporting, injected by the caller (the CLI draws bars; tests and
//! libraries pass [`NoProgress`]).

/// Receives progress events. Methods may be called from several threads.
pub trait Progress: Sync {
    /// The whole run's size, once known: how many tables, and their rows and
    /// (uncompressed) bytes when known.
    fn totals(&self, tables: usize, rows: Option<u64>, bytes: Option<u64>) {
        let _ = (tables, rows, bytes);
    }
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
    /// Something the user should see even in a quiet log, such as a step
    /// retried after a transient error. The default passes it to
    /// [`Progress::message`].
    fn warning(&self, text: &str) {
        self.message(text);
    }
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}
