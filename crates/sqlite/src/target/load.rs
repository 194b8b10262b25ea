//! Data: planning one table's INSERT (which archive column goes to which
//! target column, under which affinity, and whether its text needs the
//! numeric-text check), and [`SqliteLoader`], which binds every row to that
//! one prepared statement. A chunk's rows commit with its restore-journal
//! key.

use bru_core::{Error, Result, RowBatch, TableDef, TableLoader};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, Statement};

use crate::error::sql_err;
use crate::quote::{ident, ident_list};
use crate::types::{affinity, Affinity};
use crate::values::{affinity_change, to_sqlite};
use crate::ENGINE_NAME;

use super::journal::{Session, JOURNAL};
use super::transaction::begin;
use super::{rowid_column, SqliteTarget};

/// Where each INSERT parameter comes from and what it checks.
struct Planned {
    /// For each INSERT parameter, the archive column it takes.
    positions: Vec<usize>,
    /// The target column names, parallel to `positions`.
    columns: Vec<String>,
    affinities: Vec<Affinity>,
    /// Whether text bound to each parameter needs the numeric-text check.
    check_text: Vec<bool>,
}

impl SqliteTarget {
    /// A loader for the rows of `table` ([`bru_core::Target::load`]), which
    /// must exist in the target with every column the archive holds.
    pub(super) fn open_loader(&mut self, table: &TableDef) -> Result<SqliteLoader<'_>> {
        self.open_writer(table, None)
    }

    /// A loader whose rows replace those with the same values in the key
    /// columns `key` (positions in `table.columns`), for a delta archive:
    /// `INSERT … ON CONFLICT (key) DO UPDATE`, which updates the row in
    /// place (a REPLACE would delete it first, and run the foreign keys'
    /// ON DELETE actions).
    pub(super) fn open_upserter(
        &mut self,
        table: &TableDef,
        key: &[usize],
    ) -> Result<SqliteLoader<'_>> {
        self.open_writer(table, Some(key))
    }

    fn open_writer(&mut self, table: &TableDef, key: Option<&[usize]>) -> Result<SqliteLoader<'_>> {
        let name = table.name.name.as_str();
        let present = self.target_columns(name)?;
        if present.is_empty() {
            return Err(Error::engine(
                format!("loading table \"{}\"", table.name),
                "the table does not exist in the target",
            ));
        }
        let strict = self.table_is_strict(name)?;
        let plan = plan_columns(table, &present, strict)?;
        let mut sql = insert_sql(name, &plan.columns);
        if let Some(key) = key.filter(|k| !k.is_empty()) {
            let key_names: Vec<String> =
                key.iter().map(|&i| table.columns[i].name.clone()).collect();
            let set: Vec<String> = plan
                .columns
                .iter()
                .filter(|c| !key_names.iter().any(|k| k.eq_ignore_ascii_case(c)))
                .map(|c| format!("{0} = excluded.{0}", ident(c)))
                .collect();
            sql.push_str(&format!(" ON CONFLICT ({}) ", ident_list(&key_names)));
            if set.is_empty() {
                sql.push_str("DO NOTHING");
            } else {
                sql.push_str(&format!("DO UPDATE SET {}", set.join(", ")));
            }
        }
        let context = format!("loading table \"{}\"", table.name);
        let conn = &self.conn;
        let stmt = conn.prepare(&sql).map_err(|e| sql_err(&context, e))?;
        Ok(SqliteLoader {
            conn,
            stmt,
            table: table.name.to_string(),
            column_count: table.columns.len(),
            positions: plan.positions,
            columns: plan.columns,
            affinities: plan.affinities,
            check_text: plan.check_text,
            rows: 0,
            finished: false,
        })
    }
}

/// Matches the archive columns of `table` to the target's columns
/// `present` (`(name, declared type, hidden)`, of a STRICT table when
/// `strict`). Fails if a column is missing.
fn plan_columns(
    table: &TableDef,
    present: &[(String, String, i64)],
    strict: bool,
) -> Result<Planned> {
    // Text from a SQLite source already went through its column's
    // affinity and cannot change again under the same one; text from
    // another engine, or headed for a different affinity, might.
    let sqlite_origin = table.native.as_ref().filter(|n| n.engine == ENGINE_NAME);
    let source_strict = table.property("sqlite.strict") == Some("true");
    let mut plan = Planned {
        positions: Vec::new(),
        columns: Vec::new(),
        affinities: Vec::new(),
        check_text: Vec::new(),
    };
    let rowid_column = rowid_column(table);
    for (pos, col) in table.columns.iter().enumerate() {
        // A virtual table's rowid, carried as data: inserted as the
        // rowid under a name no column of the table takes.
        if rowid_column == Some(col.name.as_str()) {
            plan.positions.push(pos);
            plan.columns.push(col.name.clone());
            plan.affinities.push(Affinity::Integer);
            plan.check_text.push(false);
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
        plan.positions.push(pos);
        plan.columns.push(tname.clone());
        plan.affinities.push(target_affinity);
        plan.check_text.push(
            sqlite_origin.is_none() || affinity(&col.native_type, source_strict) != target_affinity,
        );
    }
    Ok(plan)
}

/// The INSERT of one row into table `name`, its values bound by position.
fn insert_sql(name: &str, columns: &[String]) -> String {
    if columns.is_empty() {
        format!("INSERT INTO {} DEFAULT VALUES", ident(name))
    } else {
        let params: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            ident(name),
            ident_list(columns),
            params.join(", ")
        )
    }
}

/// Inserts the rows of one table through one prepared statement.
pub(super) struct SqliteLoader<'a> {
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
        // Joins the transaction holding the chunk's rows (or opens one when
        // there are none) and commits the key with them.
        let context = format!("committing a chunk of table \"{}\"", self.table);
        begin(self.conn, &context)?;
        JOURNAL.commit_chunk(&Session(self.conn), key, &context)
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
