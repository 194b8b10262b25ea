//! SQLite as a backup source: one read transaction, rows by storage class.
//!
//! [`SqliteSource::open`] starts a transaction and reads once, which is the
//! moment SQLite takes the snapshot; the transaction stays open for the
//! object's lifetime, so [`Source::catalog`] and every
//! [`Source::read_table`] see the same database state even while other
//! connections write (in WAL mode they keep writing; in rollback-journal
//! mode they wait for the backup to finish).
//!
//! Rows are read in rowid order (primary key order for WITHOUT ROWID
//! tables), so two backups of the same data produce the same chunks.
//!
//! A rowid is data only when a column holds it (`INTEGER PRIMARY KEY`),
//! and then it is read like any column. Tables without such a column are
//! restored in rowid order but get new, dense rowids, as SQLite's own VACUUM
//! may also give them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bru_core::{
    BatchLimits, Catalog, Error, Result, RowBatch, Source, SourceInfo, TableDef, Value,
};
use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::catalog::read_catalog;
use crate::quote::{ident, ident_list};
use crate::values::from_sqlite;

/// How long to wait for another connection's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads one SQLite database inside a single read transaction (one snapshot).
pub struct SqliteSource {
    conn: Connection,
    path: PathBuf,
}

impl SqliteSource {
    /// Opens the database at `path` read-only and starts the snapshot.
    /// Fails with [`bru_core::Error::Connect`] if the file is missing or is
    /// not a SQLite database. The file is never created or modified.
    pub fn open(path: &Path) -> bru_core::Result<Self> {
        let connect = |message: String| Error::Connect {
            what: format!("SQLite database {}", path.display()),
            message,
        };
        if path.is_dir() {
            return Err(connect("is a directory, not a database file".into()));
        }
        if !path.exists() {
            return Err(connect("no such file".into()));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| connect(e.to_string()))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| connect(e.to_string()))?;
        conn.execute_batch("BEGIN")
            .map_err(|e| connect(e.to_string()))?;
        // The first read inside the transaction takes the snapshot. It is
        // also the first time SQLite looks at the file's header.
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|e| match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => {
                connect("not a SQLite database (the file header is wrong)".into())
            }
            _ => connect(e.to_string()),
        })?;
        Ok(SqliteSource {
            conn,
            path: path.to_owned(),
        })
    }

    /// The name a rowid can be selected by in `table`: the first of SQLite's
    /// three spellings that no column shadows; `None` for WITHOUT ROWID.
    fn rowid_name(table: &TableDef) -> Option<&'static str> {
        if table.property("sqlite.without_rowid") == Some("true") {
            return None;
        }
        ["_rowid_", "rowid", "oid"]
            .into_iter()
            .find(|r| !table.columns.iter().any(|c| c.name.eq_ignore_ascii_case(r)))
    }
}

impl Source for SqliteSource {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            engine: "sqlite".into(),
            version: rusqlite::version().to_owned(),
            database: self
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| self.path.display().to_string()),
        }
    }

    fn catalog(&mut self) -> Result<Catalog> {
        read_catalog(&self.conn)
    }

    fn read_table(
        &mut self,
        table: &TableDef,
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> Result<()>,
    ) -> Result<()> {
        let ncols = table.columns.len();
        if ncols == 0 {
            return Ok(());
        }
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        let rowid = Self::rowid_name(table);
        let mut sql = format!("SELECT {}", ident_list(&names));
        if let Some(r) = rowid {
            sql.push_str(&format!(", {r}"));
        }
        sql.push_str(&format!(" FROM {}", ident(&table.name.name)));
        match (rowid, &table.primary_key) {
            (Some(r), _) => sql.push_str(&format!(" ORDER BY {r}")),
            (None, Some(pk)) => sql.push_str(&format!(" ORDER BY {}", ident_list(&pk.columns))),
            (None, None) => {}
        }
        let ctx = || format!("reading table \"{}\"", table.name);
        let mut stmt = self
            .conn
            .prepare(&sql)
            .map_err(|e| Error::engine(ctx(), e))?;
        let mut rows = stmt.query([]).map_err(|e| Error::engine(ctx(), e))?;

        let max_rows = limits.max_rows.max(1);
        let mut values: Vec<Value> = Vec::new();
        let mut batch_rows = 0usize;
        let mut batch_bytes = 0usize;
        while let Some(row) = rows.next().map_err(|e| Error::engine(ctx(), e))? {
            for (i, name) in names.iter().enumerate() {
                let cell = row.get_ref(i).map_err(|e| Error::engine(ctx(), e))?;
                let value = from_sqlite(cell).map_err(|bytes| Error::Value {
                    table: table.name.to_string(),
                    column: (*name).to_owned(),
                    value: Value::Bytes(bytes).describe(),
                    reason: format!(
                        "the text in the row with {} is not valid UTF-8; bru does not alter text, \
                         so fix the value in the source (or store it as a BLOB)",
                        describe_row(table, rowid.map(|_| ncols), row)
                    ),
                })?;
                batch_bytes += value.approx_size();
                values.push(value);
            }
            batch_rows += 1;
            if batch_rows >= max_rows || batch_bytes >= limits.max_bytes {
                sink(RowBatch::from_values(ncols, std::mem::take(&mut values)))?;
                batch_rows = 0;
                batch_bytes = 0;
            }
        }
        if batch_rows > 0 {
            sink(RowBatch::from_values(ncols, values))?;
        }
        Ok(())
    }
}

/// Names a row for an error message: by rowid, or by primary key values.
fn describe_row(table: &TableDef, rowid_at: Option<usize>, row: &rusqlite::Row<'_>) -> String {
    if let Some(at) = rowid_at {
        if let Ok(id) = row.get::<_, i64>(at) {
            return format!("rowid {id}");
        }
    }
    let Some(pk) = &table.primary_key else {
        return "no rowid or primary key".into();
    };
    let parts: Vec<String> = pk
        .columns
        .iter()
        .filter_map(|c| {
            let i = table.column_index(c)?;
            let v = from_sqlite(row.get_ref(i).ok()?).unwrap_or(Value::Null);
            Some(format!("{c} = {}", v.describe()))
        })
        .collect();
    format!("primary key ({})", parts.join(", "))
}
