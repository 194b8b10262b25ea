//! SQLite as a restore target.
//!
//! The restore is a bulk load into a file nobody else uses yet, so the
//! connection trades durability for speed until [`Target::finish`]:
//! `synchronous=OFF`, a 64 MiB page cache, an exclusive lock, and foreign
//! keys and CHECK constraints not enforced. The rows come from a database
//! that already enforced its own constraints; re-checking them would only
//! slow the load, and a source that holds rows violating them (SQLite
//! permits that) must still restore exactly. `finish` commits and puts the
//! file back to an ordinary state: its original journal mode (DELETE for a
//! new file), `synchronous=FULL`, normal locking.
//!
//! The rollback journal stays on disk (`TRUNCATE`, or the file's own WAL), so
//! a restore killed at any moment leaves the file at its last commit: that is
//! what makes `--resume` exact. Each chunk's rows commit together with their
//! entry in the restore journal table (`_bru_restore_journal`, see
//! [`Target::journal_keys`]), which the end of a restore drops. Post-data
//! steps leave alone an index, view or trigger that already exists with the
//! same SQL, because a resumed restore may repeat a step that was done just
//! before the interruption.
//!
//! Foreign keys are not checked at the end either: rows that broke them in
//! the source are restored as they were (`PRAGMA foreign_key_check` lists
//! them).
//!
//! Rows go through one prepared INSERT per table, with values bound by
//! position. A virtual table (see the `vtab` module) is created from its own
//! DDL and loaded the same way, its rowid column inserted as the rowid; its
//! module builds its index from the inserts, and its `full-text index` or
//! `R-tree index` object then checks (or, over external content, rebuilds)
//! that index. Indexes are created after the rows, and triggers after
//! everything, so they never fire on restored rows.
//!
//! A SQLite file takes one writer at a time, so [`SqliteTarget::open`] gives a
//! single-session target (`open_worker` returns `None`) and the restore runs
//! every step on it. [`SqliteTarget::open_shared`] gives one whose
//! `open_worker` hands out more connections to the same file, in normal
//! locking mode: their writes take turns on SQLite's file lock (waiting up to
//! the busy timeout, and reported as transient beyond it). That is slower than
//! one session for SQLite itself; it exists so that the parallel restore
//! executor runs against a real multi-session database without a server.

use crate::error::sql_err;
use crate::ENGINE_NAME;
use bru_core::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bru_core::{
    Error, IdentityKind, ObjectDef, ObjectKind, ObjectOutcome, Result, RowBatch, TableDef,
    TableLoader, TableName, Target,
};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Statement};

use crate::createsql::parse_create_table;
use crate::ddl;
use crate::quote::{ident, ident_list};
use crate::sqltext::{tokenize, Kind};
use crate::types::{affinity, Affinity};
use crate::values::{affinity_change, to_sqlite};
use crate::vtab;

const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Settings for the duration of the load (see the module docs). The journal
/// mode and locking mode are set separately. The page cache is a fixed
/// 64 MiB and temporary storage stays on disk: index builds sort through
/// temp files, and keeping those in memory would make peak RSS grow with the
/// size of the largest table.
const FAST_LOAD: &str = "PRAGMA synchronous = OFF;
PRAGMA cache_size = -65536;
PRAGMA temp_store = FILE;
PRAGMA foreign_keys = OFF;
PRAGMA ignore_check_constraints = ON;";

/// The table holding the restore journal's keys.
const JOURNAL_TABLE: &str = "_bru_restore_journal";

/// Writes into a SQLite database (created if missing).
pub struct SqliteTarget {
    conn: Connection,
    path: PathBuf,
    /// The journal mode to put back in `finish` (`delete` or `wal`).
    journal_mode: String,
    /// Whether `open_worker` hands out more connections (see the module docs).
    shared: bool,
    /// How long a statement waits for another connection's lock.
    busy_timeout: Duration,
    finished: bool,
    /// What was left out of tables from other engines, for the summary.
    skipped: Vec<String>,
}

impl Drop for SqliteTarget {
    /// A restore abandoned before `finish` rolls back its open transaction
    /// and still leaves the file in its original journal mode (a WAL
    /// database must not silently become a rollback-journal one).
    fn drop(&mut self) {
        if !self.finished {
            if !self.conn.is_autocommit() {
                let _ = self.conn.execute_batch("ROLLBACK");
            }
            let _ = self.restore_settings();
        }
    }
}

impl SqliteTarget {
    /// Opens or creates the database at `path`, as a single-session target.
    /// Fails with [`bru_core::Error::Connect`] if the parent directory does
    /// not exist, the path is a directory, or the file is not a SQLite
    /// database.
    pub fn open(path: &Path) -> bru_core::Result<Self> {
        Self::open_mode(path, false)
    }

    /// Like [`SqliteTarget::open`], but [`Target::open_worker`] opens further
    /// connections to the same file, whose writes take turns on SQLite's file
    /// lock (see the module docs). Fails as `open` does.
    pub fn open_shared(path: &Path) -> bru_core::Result<Self> {
        Self::open_mode(path, true)
    }

    /// How long a statement waits for a lock held by another connection
    /// before failing with SQLITE_BUSY (which [`Target::is_transient`] calls
    /// transient); 30 s by default. Workers opened later inherit it.
    pub fn set_busy_timeout(&mut self, timeout: Duration) -> bru_core::Result<()> {
        self.conn
            .busy_timeout(timeout)
            .map_err(|e| sql_err("setting the busy timeout", e))?;
        self.busy_timeout = timeout;
        Ok(())
    }

    fn open_mode(path: &Path, shared: bool) -> bru_core::Result<Self> {
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
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| connect(e.to_string()))?;
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

    /// Runs `body` in one transaction: committed if it succeeds, rolled back
    /// if it fails (so a retried step starts from a clean state).
    fn in_transaction<T>(
        &mut self,
        context: &str,
        body: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        self.begin(context)?;
        match body(self) {
            Ok(value) => {
                self.commit(context)?;
                Ok(value)
            }
            Err(e) => {
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
                Err(e)
            }
        }
    }

    /// The SQL of the schema object `name` of `kind` (`index`, `view`,
    /// `trigger`), if it exists.
    fn existing_sql(&self, kind: &str, name: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT coalesce(sql, '') FROM sqlite_schema WHERE type = ?1 AND name = ?2 COLLATE NOCASE",
                [kind, name],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| sql_err(format!("looking up {kind} \"{name}\""), e))
    }

    fn journal_exists(&self) -> Result<bool> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [JOURNAL_TABLE],
                |r| r.get(0),
            )
            .map_err(|e| sql_err("looking for the restore journal", e))?;
        Ok(n > 0)
    }

    fn begin(&self, context: &str) -> Result<()> {
        begin(&self.conn, context)
    }

    fn commit(&self, context: &str) -> Result<()> {
        if !self.conn.is_autocommit() {
            self.conn
                .execute_batch("COMMIT")
                .map_err(|e| sql_err(context, e))?;
        }
        Ok(())
    }

    /// `(name, sql, kind, tbl_name)` of the views and triggers.
    fn views_and_triggers(&self) -> Result<Vec<(String, String, String, String)>> {
        let ctx = "reading the target's views and triggers";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT name, coalesce(sql, ''), type, tbl_name FROM sqlite_schema \
                 WHERE type IN ('view', 'trigger')",
            )
            .map_err(|e| sql_err(ctx, e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(|e| sql_err(ctx, e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| sql_err(ctx, e))
    }

    /// The target's columns of `table`: `(name, declared type, hidden)`.
    fn target_columns(&self, table: &str) -> Result<Vec<(String, String, i64)>> {
        let ctx = format!("reading the columns of target table \"{table}\"");
        let mut stmt = self
            .conn
            .prepare("SELECT name, coalesce(type, ''), hidden FROM pragma_table_xinfo(?1)")
            .map_err(|e| sql_err(&ctx, e))?;
        let rows = stmt
            .query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(|e| sql_err(&ctx, e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| sql_err(ctx, e))
    }

    fn table_is_strict(&self, table: &str) -> Result<bool> {
        let sql: Option<String> = self
            .conn
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
                [table],
                |r| r.get(0),
            )
            .map_err(|e| sql_err(format!("reading target table \"{table}\""), e))?;
        Ok(sql.is_some_and(|s| parse_create_table(&s).strict))
    }

    fn table_names(&self) -> Result<Vec<String>> {
        let ctx = "listing the target's tables";
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
            .map_err(|e| sql_err(ctx, e))?;
        let rows = stmt
            .query_map([], |r| r.get(0))
            .map_err(|e| sql_err(ctx, e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| sql_err(ctx, e))
    }

    /// Puts the file back to an ordinary state (see the module docs).
    fn restore_settings(&self) -> rusqlite::Result<()> {
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

    fn exec(&self, sql: &str, context: impl FnOnce() -> String) -> Result<()> {
        self.conn
            .execute(sql, [])
            .map(|_| ())
            .map_err(|e| sql_err(context(), e))
    }
}

impl SqliteTarget {
    /// Runs the statement of a `full-text index` or `R-tree index` object:
    /// an FTS index's integrity check or rebuild (an INSERT of the FTS
    /// command), or an R-tree's `rtreecheck` (a SELECT that must answer
    /// `ok`). Both may run again on a resumed restore. Fails with
    /// [`Error::Engine`] naming the table when the check finds the index
    /// does not match the rows.
    fn check_or_rebuild_index(&mut self, object: &ObjectDef) -> Result<ObjectOutcome> {
        let context = || format!("checking the {} of table \"{}\"", object.kind, object.name);
        let is_select = tokenize(&object.ddl)
            .first()
            .is_some_and(|t| t.is_word(&object.ddl, "SELECT"));
        if is_select {
            let answer: String = self
                .conn
                .query_row(&object.ddl, [], |r| r.get(0))
                .map_err(|e| sql_err(context(), e))?;
            if answer != "ok" {
                return Err(Error::engine(context(), answer));
            }
        } else {
            self.in_transaction(&context(), |this| this.exec(&object.ddl, context))?;
        }
        Ok(ObjectOutcome::Created)
    }
}

/// The column of a virtual table that holds its rowid as data (see the
/// `vtab` module), if it has one.
fn rowid_column(table: &TableDef) -> Option<&str> {
    table.property(vtab::MODULE_PROPERTY)?;
    table.property(vtab::ROWID_COLUMN_PROPERTY)
}

/// True if `sql` mentions `name` as an identifier (quoted or not).
fn mentions(sql: &str, names: &[String]) -> bool {
    tokenize(sql).iter().any(|t| {
        matches!(t.kind, Kind::Word | Kind::Quoted | Kind::Str)
            && names.iter().any(|n| t.name(sql).eq_ignore_ascii_case(n))
    })
}

/// Starts a write transaction unless one is open. IMMEDIATE takes the write
/// lock at once, so two sessions of a shared target never both hold a read
/// lock while waiting to write (which SQLite would answer with BUSY at once).
fn begin(conn: &Connection, context: &str) -> Result<()> {
    if conn.is_autocommit() {
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| sql_err(context, e))?;
    }
    Ok(())
}

/// Adds `key` to the restore journal, creating it if needed, inside the
/// caller's transaction.
fn insert_journal_key(conn: &Connection, key: &str) -> Result<()> {
    let context = "writing the restore journal";
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {JOURNAL_TABLE} (key TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID"
    ))
    .map_err(|e| sql_err(context, e))?;
    conn.execute(
        &format!("INSERT OR IGNORE INTO {JOURNAL_TABLE} (key) VALUES (?1)"),
        [key],
    )
    .map_err(|e| sql_err(context, e))?;
    Ok(())
}

impl Target for SqliteTarget {
    fn engine(&self) -> &'static str {
        ENGINE_NAME
    }

    fn existing_tables(&mut self, tables: &[TableName]) -> Result<Vec<TableName>> {
        let present = self.table_names()?;
        Ok(tables
            .iter()
            .filter(|t| present.iter().any(|p| p.eq_ignore_ascii_case(&t.name)))
            .cloned()
            .collect())
    }

    /// Drops the tables, their triggers, and every view or trigger whose
    /// text mentions a dropped table or view (found by identifier, so a
    /// view that merely contains the name in a string is dropped too:
    /// erring towards dropping keeps the later CREATE from failing).
    fn drop_tables(&mut self, tables: &[TableName]) -> Result<()> {
        let ctx = "dropping tables (--clean)";
        self.begin(ctx)?;
        let mut dropped: Vec<String> = tables.iter().map(|t| t.name.clone()).collect();
        let mut objects = self.views_and_triggers()?;
        loop {
            let (hit, rest): (Vec<_>, Vec<_>) =
                objects.into_iter().partition(|(_, sql, _, tbl)| {
                    dropped.iter().any(|d| d.eq_ignore_ascii_case(tbl)) || mentions(sql, &dropped)
                });
            objects = rest;
            if hit.is_empty() {
                break;
            }
            for (name, _, kind, _) in hit {
                let what = if kind == "view" { "VIEW" } else { "TRIGGER" };
                self.exec(&format!("DROP {what} IF EXISTS {}", ident(&name)), || {
                    format!("dropping {kind} \"{name}\"")
                })?;
                dropped.push(name);
            }
        }
        for t in tables {
            self.exec(&format!("DROP TABLE IF EXISTS {}", ident(&t.name)), || {
                format!("dropping table \"{}\"", t.name)
            })?;
        }
        self.commit(ctx)
    }

    fn create_table(&mut self, table: &TableDef) -> Result<()> {
        let sql = match &table.native {
            Some(native) if native.engine == ENGINE_NAME => native.create.clone(),
            _ => {
                self.skipped.extend(ddl::left_out(table));
                ddl::create_table(table)
            }
        };
        self.exec(&sql, || format!("creating table \"{}\"", table.name))
    }

    fn check_table(&mut self, table: &TableDef) -> Result<()> {
        let present = self.target_columns(&table.name.name)?;
        let context = format!(
            "checking target table \"{}\" for a data-only restore",
            table.name
        );
        if present.is_empty() {
            return Err(Error::engine(
                context,
                "the table does not exist; restore without --data-only to create it",
            ));
        }
        let missing: Vec<&str> = table
            .columns
            .iter()
            .filter(|c| {
                rowid_column(table) != Some(c.name.as_str())
                    && !present
                        .iter()
                        .any(|(p, _, _)| p.eq_ignore_ascii_case(&c.name))
            })
            .map(|c| c.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(Error::engine(
                context,
                format!(
                    "the table lacks column(s) {} that the archive holds; add them or restore without --data-only",
                    missing.join(", ")
                ),
            ));
        }
        Ok(())
    }

    fn load<'a>(&'a mut self, table: &TableDef) -> Result<Box<dyn TableLoader + 'a>> {
        let name = table.name.name.as_str();
        let present = self.target_columns(name)?;
        if present.is_empty() {
            return Err(Error::engine(
                format!("loading table \"{}\"", table.name),
                "the table does not exist in the target",
            ));
        }
        let strict = self.table_is_strict(name)?;
        // Text from a SQLite source already went through its column's
        // affinity and cannot change again under the same one; text from
        // another engine, or headed for a different affinity, might.
        let sqlite_origin = table.native.as_ref().filter(|n| n.engine == ENGINE_NAME);
        let source_strict = table.property("sqlite.strict") == Some("true");
        let mut positions = Vec::new();
        let mut columns = Vec::new();
        let mut affinities = Vec::new();
        let mut check_text = Vec::new();
        let rowid_column = rowid_column(table);
        for (pos, col) in table.columns.iter().enumerate() {
            // A virtual table's rowid, carried as data: inserted as the
            // rowid under a name no column of the table takes.
            if rowid_column == Some(col.name.as_str()) {
                positions.push(pos);
                columns.push(col.name.clone());
                affinities.push(Affinity::Integer);
                check_text.push(false);
                continue;
            }
            let Some((tname, declared, hidden)) = present
                .iter()
                .find(|(p, _, _)| p.eq_ignore_ascii_case(&col.name))
            else {
                return Err(Error::engine(
                    format!("loading table \"{}\"", table.name),
                    format!("the target table has no column \"{}\"", col.name),
                ));
            };
            // Generated columns (hidden 2 and 3) are computed by SQLite
            // from the others. A virtual table's hidden column (1) that the
            // archive holds, an FTS4 language id, is data.
            if *hidden == 2 || *hidden == 3 {
                continue;
            }
            let target_affinity = affinity(declared, strict);
            positions.push(pos);
            columns.push(tname.clone());
            affinities.push(target_affinity);
            check_text.push(
                sqlite_origin.is_none()
                    || affinity(&col.native_type, source_strict) != target_affinity,
            );
        }
        let sql = if columns.is_empty() {
            format!("INSERT INTO {} DEFAULT VALUES", ident(name))
        } else {
            let params: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
            format!(
                "INSERT INTO {} ({}) VALUES ({})",
                ident(name),
                ident_list(&columns),
                params.join(", ")
            )
        };
        let context = format!("loading table \"{}\"", table.name);
        let conn = &self.conn;
        let stmt = conn.prepare(&sql).map_err(|e| sql_err(&context, e))?;
        Ok(Box::new(SqliteLoader {
            conn,
            stmt,
            table: table.name.to_string(),
            column_count: table.columns.len(),
            positions,
            columns,
            affinities,
            check_text,
            rows: 0,
            finished: false,
        }))
    }

    /// Creates the table's indexes in one transaction. An index that already
    /// exists with the same SQL is left alone (a resumed restore may repeat
    /// this step).
    fn finish_table(&mut self, table: &TableDef) -> Result<()> {
        let context = format!("finishing table \"{}\"", table.name);
        self.in_transaction(&context, |this| {
            let native = table.native.as_ref().is_some_and(|n| n.engine == ENGINE_NAME);
            for index in &table.indexes {
                let sql = match (&index.native_ddl, native) {
                    (Some(ddl), true) => Some(ddl.clone()),
                    _ => ddl::create_index(table, index),
                };
                let Some(sql) = sql else {
                    this.skipped.push(format!(
                        "index {} on table {}: an expression or partial index written in another engine's SQL",
                        index.name, table.name
                    ));
                    continue;
                };
                if this.existing_sql("index", &index.name)?.as_deref() == Some(sql.as_str()) {
                    continue;
                }
                this.exec(&sql, || {
                    format!(
                        "creating index \"{}\" on table \"{}\"",
                        index.name, table.name
                    )
                })?;
            }
            Ok(())
        })
    }

    fn restore_identity(&mut self, table: &TableDef) -> Result<()> {
        let context = format!(
            "setting the AUTOINCREMENT value of table \"{}\"",
            table.name
        );
        let last_value = table.columns.iter().find_map(|c| {
            c.identity
                .as_ref()
                .filter(|i| i.kind == IdentityKind::Autoincrement)
                .and_then(|i| i.last_value)
        });
        let Some(seq) = last_value else {
            return Ok(());
        };
        self.in_transaction(&context, |this| {
            let has_sequence_table = this
                .table_names()?
                .iter()
                .any(|n| n.eq_ignore_ascii_case("sqlite_sequence"));
            if !has_sequence_table {
                return Ok(());
            }
            let ctx = || context.clone();
            let name = table.name.name.as_str();
            let updated = this
                .conn
                .execute(
                    "UPDATE sqlite_sequence SET seq = ?1 WHERE name = ?2",
                    rusqlite::params![seq, name],
                )
                .map_err(|e| sql_err(ctx(), e))?;
            if updated == 0 {
                this.conn
                    .execute(
                        "INSERT INTO sqlite_sequence (name, seq) VALUES (?1, ?2)",
                        rusqlite::params![name, seq],
                    )
                    .map_err(|e| sql_err(ctx(), e))?;
            }
            Ok(())
        })
    }

    fn create_object(&mut self, object: &ObjectDef) -> Result<ObjectOutcome> {
        if object.engine != ENGINE_NAME {
            return Ok(ObjectOutcome::Skipped(format!(
                "written for {}",
                object.engine
            )));
        }
        if let ObjectKind::Other(kind) = &object.kind {
            if kind == "full-text index" || kind == "R-tree index" {
                return self.check_or_rebuild_index(object);
            }
        }
        let creatable = match &object.kind {
            ObjectKind::View | ObjectKind::Trigger => true,
            ObjectKind::Other(kind) => kind == "virtual table",
            _ => false,
        };
        if !creatable {
            return Ok(ObjectOutcome::Skipped(format!(
                "SQLite has no {}",
                object.kind
            )));
        }
        // A resumed restore may repeat this step: the same object with the
        // same SQL is already what was asked for.
        let kind = match &object.kind {
            ObjectKind::View => "view",
            ObjectKind::Trigger => "trigger",
            _ => "table",
        };
        if self.existing_sql(kind, &object.name.name)?.as_deref() != Some(object.ddl.as_str()) {
            self.exec(&object.ddl, || {
                format!("creating {} \"{}\"", object.kind, object.name)
            })?;
        }
        if let Some(reason) = vtab::not_carried_reason(&object.ddl) {
            self.skipped
                .push(format!("rows of virtual table {}: {reason}", object.name));
        }
        Ok(ObjectOutcome::Created)
    }

    fn take_skipped(&mut self) -> Vec<String> {
        std::mem::take(&mut self.skipped)
    }

    fn open_worker(&mut self) -> Result<Option<Box<dyn Target + Send>>> {
        if !self.shared {
            return Ok(None);
        }
        let mut worker = SqliteTarget::open_mode(&self.path, true)?;
        worker.journal_mode = self.journal_mode.clone();
        worker.set_busy_timeout(self.busy_timeout)?;
        Ok(Some(Box::new(worker)))
    }

    fn resumable(&self) -> bool {
        true
    }

    fn journal_keys(&mut self) -> Result<Option<Vec<String>>> {
        if !self.journal_exists()? {
            return Ok(None);
        }
        let ctx = "reading the restore journal";
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT key FROM {JOURNAL_TABLE}"))
            .map_err(|e| sql_err(ctx, e))?;
        let keys = stmt
            .query_map([], |r| r.get(0))
            .map_err(|e| sql_err(ctx, e))?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(|e| sql_err(ctx, e))?;
        Ok(Some(keys))
    }

    fn journal_mark(&mut self, key: &str) -> Result<()> {
        self.in_transaction("writing the restore journal", |this| {
            insert_journal_key(&this.conn, key)
        })
    }

    fn journal_clear(&mut self) -> Result<()> {
        self.in_transaction("removing the restore journal", |this| {
            this.exec(&format!("DROP TABLE IF EXISTS {JOURNAL_TABLE}"), || {
                "removing the restore journal".into()
            })
        })
    }

    fn finish(&mut self) -> Result<()> {
        let ctx = "finishing the restore";
        self.commit(ctx)?;
        self.restore_settings().map_err(|e| sql_err(ctx, e))?;
        self.finished = true;
        Ok(())
    }
}

/// Inserts the rows of one table through one prepared statement.
struct SqliteLoader<'a> {
    conn: &'a Connection,
    stmt: Statement<'a>,
    table: String,
    column_count: usize,
    /// For each INSERT parameter, the archive column it takes.
    positions: Vec<usize>,
    /// The target column names, parallel to `positions`.
    columns: Vec<String>,
    affinities: Vec<Affinity>,
    /// Whether text bound to each parameter needs the numeric-text check.
    check_text: Vec<bool>,
    rows: u64,
    /// Set by `finish`; a loader dropped without it rolls back the rows
    /// written since the last commit (its last [`TableLoader::commit_chunk`],
    /// or all of them), so a failed load never leaves half a chunk behind.
    finished: bool,
}

impl Drop for SqliteLoader<'_> {
    fn drop(&mut self) {
        if !self.finished && !self.conn.is_autocommit() {
            // Nothing to report to: the error that stopped the load is
            // already on its way to the caller.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl SqliteLoader<'_> {
    fn value_error(&self, k: usize, value: &bru_core::Value, reason: String) -> Error {
        Error::Value {
            table: self.table.clone(),
            column: self.columns[k].clone(),
            value: value.describe(),
            reason,
        }
    }
}

impl TableLoader for SqliteLoader<'_> {
    fn write_batch(&mut self, batch: &RowBatch) -> Result<()> {
        begin(self.conn, &format!("loading table \"{}\"", self.table))?;
        if batch.column_count() != self.column_count {
            return Err(Error::engine(
                format!("loading table \"{}\"", self.table),
                format!(
                    "a batch has {} columns but the table has {}",
                    batch.column_count(),
                    self.column_count
                ),
            ));
        }
        for row in batch.rows() {
            for (k, &pos) in self.positions.iter().enumerate() {
                let value = &row[pos];
                let out = to_sqlite(value).map_err(|reason| self.value_error(k, value, reason))?;
                let view = match &out {
                    ToSqlOutput::Borrowed(v) => *v,
                    ToSqlOutput::Owned(v) => ValueRef::from(v),
                    _ => ValueRef::Null,
                };
                if let Some(reason) = affinity_change(self.affinities[k], &view, self.check_text[k])
                {
                    return Err(self.value_error(k, value, reason));
                }
                self.stmt
                    .raw_bind_parameter(k + 1, out)
                    .map_err(|e| sql_err(format!("loading table \"{}\"", self.table), e))?;
            }
            self.stmt.raw_execute().map_err(|e| {
                sql_err(
                    format!(
                        "inserting row {} into table \"{}\"",
                        self.rows + 1,
                        self.table
                    ),
                    e,
                )
            })?;
            self.rows += 1;
        }
        Ok(())
    }

    fn commit_chunk(&mut self, key: &str) -> Result<()> {
        let context = format!("committing a chunk of table \"{}\"", self.table);
        begin(self.conn, &context)?;
        insert_journal_key(self.conn, key)?;
        self.conn
            .execute_batch("COMMIT")
            .map_err(|e| sql_err(context, e))
    }

    fn finish(mut self: Box<Self>) -> Result<u64> {
        self.finished = true;
        if !self.conn.is_autocommit() {
            self.conn
                .execute_batch("COMMIT")
                .map_err(|e| sql_err(format!("committing table \"{}\"", self.table), e))?;
        }
        Ok(self.rows)
    }
}
