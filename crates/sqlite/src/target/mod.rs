//! SQLite as a restore target.
//!
//! The restore is a bulk load into a file nobody else uses yet, so the
//! connection trades durability for speed until [`Target::finish`]:
//! `synchronous=OFF`, a 16 MiB page cache, an exclusive lock, and foreign
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
//! [`RestoreJournal::keys`]), which the end of a restore drops. Post-data
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
//!
//! The module is laid out by concern: [`settings`] opens the file for the
//! load and puts it back; [`transaction`] is how every step starts and ends
//! its transaction; [`tables`] is pre-data (listing, dropping, creating and
//! checking tables); [`load`] plans a table's INSERT and streams its rows;
//! [`post_data`] creates indexes, AUTOINCREMENT values, views, triggers and
//! virtual tables' index checks; [`journal`] plugs the target into
//! [`bru_core::journal`]; [`guard`] runs the archive's own SQL one checked
//! statement at a time under an authorizer.

use std::path::PathBuf;
use std::time::Duration;

use bru_core::{
    Dropped, ObjectDef, ObjectOutcome, RestoreJournal, Result, TableDef, TableLoader, TableName,
    Target,
};
use rusqlite::Connection;

use crate::error::sql_err;
use crate::vtab;
use crate::ENGINE_NAME;

mod delta;
mod guard;
mod journal;
mod load;
mod post_data;
mod settings;
mod tables;
mod transaction;

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

impl Target for SqliteTarget {
    fn engine(&self) -> &'static str {
        ENGINE_NAME
    }

    /// One namespace (the schema is dropped), names compared without regard
    /// to ASCII case.
    fn name_here(&self, table: &TableName) -> TableName {
        TableName::bare(&table.name.to_ascii_lowercase())
    }

    fn existing_tables(&mut self, tables: &[TableName]) -> Result<Vec<TableName>> {
        self.tables_among(tables)
    }

    /// The archive's tables, views, triggers and indexes by name, and the
    /// triggers and indexes SQLite records on them (see
    /// `SqliteTarget::clean_entries`).
    fn clean_plan(&mut self, tables: &[TableDef], objects: &[ObjectDef]) -> Result<Vec<Dropped>> {
        Ok(self
            .clean_entries(tables, objects)?
            .into_iter()
            .map(|(_, d)| d)
            .collect())
    }

    fn clean(
        &mut self,
        tables: &[TableDef],
        objects: &[ObjectDef],
        plan: &[Dropped],
    ) -> Result<()> {
        self.clean_drop(tables, objects, plan)
    }

    fn create_table(&mut self, table: &TableDef) -> Result<()> {
        self.create_from_ddl(table)
    }

    fn check_table(&mut self, table: &TableDef) -> Result<()> {
        self.check_columns(table)
    }

    fn load<'a>(&'a mut self, table: &TableDef) -> Result<Box<dyn TableLoader + 'a>> {
        Ok(Box::new(self.open_loader(table)?))
    }

    fn upsert<'a>(
        &'a mut self,
        table: &TableDef,
        key: &[usize],
    ) -> Result<Box<dyn TableLoader + 'a>> {
        Ok(Box::new(self.open_upserter(table, key)?))
    }

    fn delete_rows(
        &mut self,
        table: &TableDef,
        key: &[usize],
        keys: &[Vec<bru_core::Value>],
    ) -> Result<u64> {
        self.delete_keys(table, key, keys)
    }

    /// Creates the table's indexes (see `SqliteTarget::create_indexes`).
    fn finish_table(&mut self, table: &TableDef) -> Result<()> {
        self.create_indexes(table)
    }

    fn restore_identity(&mut self, table: &TableDef) -> Result<()> {
        self.set_autoincrement(table)
    }

    fn create_object(&mut self, object: &ObjectDef) -> Result<ObjectOutcome> {
        self.create_other_object(object)
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

    fn journal(&mut self) -> Option<&mut dyn RestoreJournal> {
        Some(self)
    }

    fn finish(&mut self) -> Result<()> {
        let ctx = "finishing the restore";
        self.commit(ctx)?;
        self.restore_settings().map_err(|e| sql_err(ctx, e))?;
        self.finished = true;
        Ok(())
    }
}

/// The error for archive SQL that the target's own check refused (the
/// restore checked it before it started, so only a caller that skipped that
/// check sees this).
fn untrusted(context: &str, reason: String) -> bru_core::Error {
    bru_core::Error::engine(
        context,
        format!("the archive's SQL {reason}; the archive was altered, restore one you trust"),
    )
}

/// The column of a virtual table that holds its rowid as data (see the
/// `vtab` module), if it has one.
fn rowid_column(table: &TableDef) -> Option<&str> {
    table.property(vtab::MODULE_PROPERTY)?;
    table.property(vtab::ROWID_COLUMN_PROPERTY)
}

/// Post-data steps leave alone what exists already (an index or object
/// with the same SQL), as [`RestoreJournal`] requires.
impl RestoreJournal for SqliteTarget {
    fn keys(&mut self) -> Result<Option<Vec<String>>> {
        journal::JOURNAL.keys(&journal::Session(&self.conn))
    }

    fn mark(&mut self, key: &str) -> Result<()> {
        journal::JOURNAL.mark(&journal::Session(&self.conn), key)
    }

    fn clear(&mut self) -> Result<()> {
        journal::JOURNAL.clear(&journal::Session(&self.conn))
    }

    fn forget(&mut self, keys: &[String]) -> Result<()> {
        journal::JOURNAL.forget(&journal::Session(&self.conn), keys)
    }
}
