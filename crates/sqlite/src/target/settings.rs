//! Opening the file for the load and putting it back: the fast-load
//! settings (see the module docs of [`super`]), the journal mode kept for
//! `finish`, single-session or shared locking, and the busy timeout.

use std::path::Path;
use std::time::Duration;

use bru_core::{Error, ErrorKind};
use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::error::sql_err;

use super::SqliteTarget;

pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Settings for the duration of the load (see the module docs). The journal
/// mode and locking mode are set separately. The page cache is a fixed
/// 16 MiB (SQLite's index sorter takes its memory budget from it too; at
/// 64 MiB a restore of the WFM dataset peaked at 190-197 MiB, at 16 MiB at
/// 91-99 MiB, at scale 3 and 10 alike, in the same time: BENCHMARKS.md,
/// "Memory (issue 16)") and temporary storage stays on disk: index builds sort through
/// temp files, and keeping those in memory would make peak RSS grow with the
/// size of the largest table. `trusted_schema = OFF` is not for speed: an
/// archive's views and triggers may not call functions with side effects
/// (see the `guard` module).
const FAST_LOAD: &str = "PRAGMA synchronous = OFF;
PRAGMA cache_size = -16384;
PRAGMA temp_store = FILE;
PRAGMA foreign_keys = OFF;
PRAGMA ignore_check_constraints = ON;
PRAGMA trusted_schema = OFF;";

impl SqliteTarget {
    /// Opens or creates the database at `path`, as a single-session target.
    /// Fails with [`bru_core::Error::Connect`] if the parent directory does
    /// not exist, the path is a directory, or the file is not a SQLite
    /// database.
    pub fn open(path: &Path) -> bru_core::Result<Self> {
        Self::open_mode(path, false)
    }

    /// Opens the database at `path` only to look at it (`restore --dry-run
    /// --clean`): no setting of the file changes, and a write through it
    /// fails (`query_only`). `None` when there is no file yet. Fails as
    /// [`SqliteTarget::open`] does for a directory or a file that is not a
    /// SQLite database.
    pub fn open_read_only(path: &Path) -> bru_core::Result<Option<Self>> {
        let connect = |message: String| {
            Error::connect(
                ErrorKind::Other,
                format!("SQLite database {}", path.display()),
                message,
            )
        };
        if !path.exists() {
            return Ok(None);
        }
        if path.is_dir() {
            return Err(connect("is a directory, not a database file".into()));
        }
        // Read-write without create, but query_only: a read-only connection
        // to a WAL database would leave its -wal and -shm files behind,
        // where this one, the last to close, removes them as it found them.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| connect(e.to_string()))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| connect(e.to_string()))?;
        conn.execute_batch("PRAGMA query_only = ON")
            .map_err(|e| connect(e.to_string()))?;
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|e| match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => {
                connect("not a SQLite database (the file header is wrong)".into())
            }
            _ => connect(e.to_string()),
        })?;
        Ok(Some(SqliteTarget {
            conn,
            path: path.to_owned(),
            journal_mode: String::new(),
            shared: false,
            busy_timeout: BUSY_TIMEOUT,
            // Nothing to put back when it is dropped.
            finished: true,
            skipped: Vec::new(),
        }))
    }

    /// Like [`SqliteTarget::open`], but [`bru_core::Target::open_worker`] opens further
    /// connections to the same file, whose writes take turns on SQLite's file
    /// lock (see the module docs). Fails as `open` does.
    pub fn open_shared(path: &Path) -> bru_core::Result<Self> {
        Self::open_mode(path, true)
    }

    /// How long a statement waits for a lock held by another connection
    /// before failing with SQLITE_BUSY (an error of kind
    /// [`bru_core::ErrorKind::Transient`], which the restore retries); 30 s
    /// by default. Workers opened later inherit it.
    pub fn set_busy_timeout(&mut self, timeout: Duration) -> bru_core::Result<()> {
        self.conn
            .busy_timeout(timeout)
            .map_err(|e| sql_err("setting the busy timeout", e))?;
        self.busy_timeout = timeout;
        Ok(())
    }

    /// Opens the file at `path` for the load, in shared (normal) or
    /// exclusive locking mode.
    pub(super) fn open_mode(path: &Path, shared: bool) -> bru_core::Result<Self> {
        let connect = |message: String| {
            Error::connect(
                ErrorKind::Other,
                format!("SQLite database {}", path.display()),
                message,
            )
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.is_dir() {
                return Err(connect(format!(
                    "directory {} does not exist; create it first",
                    parent.display()
                )));
            }
        }
        if path.is_dir() {
            return Err(connect("is a directory, not a database file".into()));
        }
        // A device (/dev/null) opens, and fails at the first write with a
        // --resume hint that cannot help.
        if path.exists() && !path.is_file() {
            return Err(connect(
                "is not a regular file; restore into a database file".into(),
            ));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        // SQLite's own message ("unable to open database file: PATH")
        // names the path the error line already names, and no next step.
        let conn = Connection::open_with_flags(path, flags).map_err(|e| {
            match e.sqlite_error_code() {
                Some(ErrorCode::CannotOpen) | Some(ErrorCode::PermissionDenied) => connect(
                    "cannot be opened or created; check that you may write the file and its directory"
                        .into(),
                ),
                _ => connect(e.to_string()),
            }
        })?;
        // A file the process may not write opens read-only without a word;
        // the restore would fail at its first write, with a --resume hint
        // that cannot help.
        if conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false) {
            return Err(connect(
                "is read-only; make it writable or restore into another file".into(),
            ));
        }
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| connect(e.to_string()))?;
        let journal_mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .map_err(|e| match e.sqlite_error_code() {
                Some(ErrorCode::NotADatabase) => {
                    connect("not a SQLite database (the file header is wrong)".into())
                }
                _ => connect(e.to_string()),
            })?;
        let journal_mode = if journal_mode.eq_ignore_ascii_case("wal") {
            "wal".to_owned()
        } else {
            "delete".to_owned()
        };
        // A WAL file keeps its WAL; otherwise the rollback journal is
        // truncated rather than deleted at each commit (cheaper, and as safe).
        let load_journal = if journal_mode == "wal" {
            "wal"
        } else {
            "truncate"
        };
        let locking = if shared { "NORMAL" } else { "EXCLUSIVE" };
        conn.execute_batch(&format!(
            "{FAST_LOAD}\nPRAGMA journal_mode = {load_journal};\nPRAGMA locking_mode = {locking};"
        ))
        .map_err(|e| connect(format!("setting up for the load: {e}")))?;
        Ok(SqliteTarget {
            conn,
            path: path.to_owned(),
            journal_mode,
            shared,
            busy_timeout: BUSY_TIMEOUT,
            finished: false,
            skipped: Vec::new(),
        })
    }

    /// Puts the file back to an ordinary state (see the module docs).
    pub(super) fn restore_settings(&self) -> rusqlite::Result<()> {
        self.conn.execute_batch(&format!(
            "PRAGMA ignore_check_constraints = OFF;
             PRAGMA locking_mode = NORMAL;
             PRAGMA journal_mode = {};
             PRAGMA synchronous = FULL;",
            self.journal_mode
        ))?;
        // Leaving exclusive locking mode takes effect at the next access.
        self.conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|_| ())
    }
}
