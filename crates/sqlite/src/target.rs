//! SQLite as a restore target.
//!
//! The restore is a bulk load into a file nobody else uses yet, so the
//! connection trades durability for speed until [`Target::finish`]:
//! `synchronous=OFF`, an in-memory rollback journal (a failed load can still
//! roll back), a 64 MiB page cache, an exclusive lock, and foreign keys and
//! CHECK constraints not enforced. The rows come from a database that already
//! enforced its own constraints; re-checking them would only slow the load,
//! and a source that holds rows violating them (SQLite permits that) must
//! still restore exactly. `finish` commits and puts the file back to an
//! ordinary state: its original journal mode (DELETE for a new file),
//! `synchronous=FULL`, normal locking.
//!
//! Foreign keys are not checked at the end either: rows that broke them in
//! the source are restored as they were (`PRAGMA foreign_key_check` lists
//! them).
//!
//! Each table loads in one transaction through one prepared INSERT, with
//! values bound by position. Indexes are created after the rows, and
//! triggers after everything, so they never fire on restored rows.

use std::path::Path;
use std::time::Duration;

use bru_core::{
    Error, IdentityKind, ObjectDef, ObjectKind, ObjectOutcome, Result, RowBatch, TableDef,
    TableLoader, TableName, Target,
};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags, Statement};

use crate::createsql::parse_create_table;
use crate::ddl;
use crate::quote::{ident, ident_list};
use crate::sqltext::{tokenize, Kind};
use crate::types::{affinity, Affinity};
use crate::values::{affinity_change, to_sqlite};

const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Settings for the duration of the load (see the module docs).
const FAST_LOAD: &str = "PRAGMA synchronous = OFF;
PRAGMA journal_mode = MEMORY;
PRAGMA cache_size = -65536;
PRAGMA temp_store = MEMORY;
PRAGMA locking_mode = EXCLUSIVE;
PRAGMA foreign_keys = OFF;
PRAGMA ignore_check_constraints = ON;";

/// Writes into a SQLite database (created if missing).
pub struct SqliteTarget {
    conn: Connection,
    /// The journal mode to put back in `finish` (`delete` or `wal`).
    journal_mode: String,
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
    /// Opens or creates the database at `path`. Fails with
    /// [`bru_core::Error::Connect`] if the parent directory does not exist,
    /// the path is a directory, or the file is not a SQLite database.
    pub fn open(path: &Path) -> bru_core::Result<Self> {
        let connect = |message: String| Error::Connect {
            what: format!("SQLite database {}", path.display()),
            message,
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
        conn.execute_batch(FAST_LOAD)
            .map_err(|e| connect(format!("setting up for the load: {e}")))?;
        Ok(SqliteTarget {
            conn,
            journal_mode,
            finished: false,
            skipped: Vec::new(),
        })
    }

    fn begin(&self, context: &str) -> Result<()> {
        if self.conn.is_autocommit() {
            self.conn
                .execute_batch("BEGIN")
                .map_err(|e| Error::engine(context, e))?;
        }
        Ok(())
    }

    fn commit(&self, context: &str) -> Result<()> {
        if !self.conn.is_autocommit() {
            self.conn
                .execute_batch("COMMIT")
                .map_err(|e| Error::engine(context, e))?;
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
            .map_err(|e| Error::engine(ctx, e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(|e| Error::engine(ctx, e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| Error::engine(ctx, e))
    }

    /// The target's columns of `table`: `(name, declared type, hidden)`.
    fn target_columns(&self, table: &str) -> Result<Vec<(String, String, i64)>> {
        let ctx = format!("reading the columns of target table \"{table}\"");
        let mut stmt = self
            .conn
            .prepare("SELECT name, coalesce(type, ''), hidden FROM pragma_table_xinfo(?1)")
            .map_err(|e| Error::engine(&ctx, e))?;
        let rows = stmt
            .query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(|e| Error::engine(&ctx, e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| Error::engine(ctx, e))
    }

    fn table_is_strict(&self, table: &str) -> Result<bool> {
        let sql: Option<String> = self
            .conn
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
                [table],
                |r| r.get(0),
            )
            .map_err(|e| Error::engine(format!("reading target table \"{table}\""), e))?;
        Ok(sql.is_some_and(|s| parse_create_table(&s).strict))
    }

    fn table_names(&self) -> Result<Vec<String>> {
        let ctx = "listing the target's tables";
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
            .map_err(|e| Error::engine(ctx, e))?;
        let rows = stmt
            .query_map([], |r| r.get(0))
            .map_err(|e| Error::engine(ctx, e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| Error::engine(ctx, e))
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
            .map_err(|e| Error::engine(context(), e))
    }
}

/// True if `sql` mentions `name` as an identifier (quoted or not).
fn mentions(sql: &str, names: &[String]) -> bool {
    tokenize(sql).iter().any(|t| {
        matches!(t.kind, Kind::Word | Kind::Quoted | Kind::Str)
            && names.iter().any(|n| t.name(sql).eq_ignore_ascii_case(n))
    })
}

impl Target for SqliteTarget {
    fn engine(&self) -> &'static str {
        "sqlite"
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
            Some(native) if native.engine == "sqlite" => native.create.clone(),
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
                !present
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
        let sqlite_origin = table.native.as_ref().filter(|n| n.engine == "sqlite");
        let source_strict = table.property("sqlite.strict") == Some("true");
        let mut positions = Vec::new();
        let mut columns = Vec::new();
        let mut affinities = Vec::new();
        let mut check_text = Vec::new();
        for (pos, col) in table.columns.iter().enumerate() {
            let Some((tname, declared, hidden)) = present
                .iter()
                .find(|(p, _, _)| p.eq_ignore_ascii_case(&col.name))
            else {
                return Err(Error::engine(
                    format!("loading table \"{}\"", table.name),
                    format!("the target table has no column \"{}\"", col.name),
                ));
            };
            // Generated columns are computed by SQLite from the others.
            if *hidden != 0 {
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
        self.begin(&context)?;
        let conn = &self.conn;
        let stmt = conn.prepare(&sql).map_err(|e| Error::engine(&context, e))?;
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

    fn finish_table(&mut self, table: &TableDef) -> Result<()> {
        let context = format!("finishing table \"{}\"", table.name);
        self.begin(&context)?;
        let native = table.native.as_ref().is_some_and(|n| n.engine == "sqlite");
        for index in &table.indexes {
            let sql = match (&index.native_ddl, native) {
                (Some(ddl), true) => Some(ddl.clone()),
                _ => ddl::create_index(table, index),
            };
            match sql {
                Some(sql) => self.exec(&sql, || {
                    format!(
                        "creating index \"{}\" on table \"{}\"",
                        index.name, table.name
                    )
                })?,
                None => self.skipped.push(format!(
                    "index {} on table {}: an expression or partial index written in another engine's SQL",
                    index.name, table.name
                )),
            }
        }
        self.commit(&context)
    }

    fn restore_identity(&mut self, table: &TableDef) -> Result<()> {
        let context = format!(
            "setting the AUTOINCREMENT value of table \"{}\"",
            table.name
        );
        self.begin(&context)?;
        let last_value = table.columns.iter().find_map(|c| {
            c.identity
                .as_ref()
                .filter(|i| i.kind == IdentityKind::Autoincrement)
                .and_then(|i| i.last_value)
        });
        let has_sequence_table = self
            .table_names()?
            .iter()
            .any(|n| n.eq_ignore_ascii_case("sqlite_sequence"));
        if let (Some(seq), true) = (last_value, has_sequence_table) {
            let ctx = || context.clone();
            let name = table.name.name.as_str();
            let updated = self
                .conn
                .execute(
                    "UPDATE sqlite_sequence SET seq = ?1 WHERE name = ?2",
                    rusqlite::params![seq, name],
                )
                .map_err(|e| Error::engine(ctx(), e))?;
            if updated == 0 {
                self.conn
                    .execute(
                        "INSERT INTO sqlite_sequence (name, seq) VALUES (?1, ?2)",
                        rusqlite::params![name, seq],
                    )
                    .map_err(|e| Error::engine(ctx(), e))?;
            }
        }
        self.commit(&context)
    }

    fn create_object(&mut self, object: &ObjectDef) -> Result<ObjectOutcome> {
        if object.engine != "sqlite" {
            return Ok(ObjectOutcome::Skipped(format!(
                "written for {}",
                object.engine
            )));
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
        self.exec(&object.ddl, || {
            format!("creating {} \"{}\"", object.kind, object.name)
        })?;
        Ok(ObjectOutcome::Created)
    }

    fn take_skipped(&mut self) -> Vec<String> {
        std::mem::take(&mut self.skipped)
    }

    fn finish(&mut self) -> Result<()> {
        let ctx = "finishing the restore";
        self.commit(ctx)?;
        self.restore_settings().map_err(|e| Error::engine(ctx, e))?;
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
    /// Set by `finish`; a loader dropped without it rolls its rows back, so
    /// a failed table never leaves half its rows behind.
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
                    .map_err(|e| Error::engine(format!("loading table \"{}\"", self.table), e))?;
            }
            self.stmt.raw_execute().map_err(|e| {
                Error::engine(
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

    fn finish(mut self: Box<Self>) -> Result<u64> {
        self.finished = true;
        if !self.conn.is_autocommit() {
            self.conn
                .execute_batch("COMMIT")
                .map_err(|e| Error::engine(format!("committing table \"{}\"", self.table), e))?;
        }
        Ok(self.rows)
    }
}
