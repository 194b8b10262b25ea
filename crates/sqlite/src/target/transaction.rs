//! How steps start and end their transactions: IMMEDIATE, so that two
//! sessions of a shared target never both hold a read lock while waiting to
//! write; committed when the step succeeds and rolled back when it fails,
//! so a retried step starts from a clean state.

use bru_core::Result;
use rusqlite::Connection;

use crate::error::sql_err;

use super::SqliteTarget;

impl SqliteTarget {
    /// Runs `body` in one transaction: committed if it succeeds, rolled back
    /// if it fails (so a retried step starts from a clean state).
    pub(super) fn in_transaction<T>(
        &mut self,
        context: &str,
        body: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        begin(&self.conn, context)?;
        let result = body(self);
        end_transaction(&self.conn, context, result)
    }

    /// Commits the open transaction, if there is one.
    pub(super) fn commit(&self, context: &str) -> Result<()> {
        commit(&self.conn, context)
    }

    /// Runs one statement, naming what it was for if it fails.
    pub(super) fn exec(&self, sql: &str, context: impl FnOnce() -> String) -> Result<()> {
        self.conn
            .execute(sql, [])
            .map(|_| ())
            .map_err(|e| sql_err(context(), e))
    }
}

/// Starts a write transaction unless one is open. IMMEDIATE takes the write
/// lock at once, so two sessions of a shared target never both hold a read
/// lock while waiting to write (which SQLite would answer with BUSY at once).
pub(super) fn begin(conn: &Connection, context: &str) -> Result<()> {
    if conn.is_autocommit() {
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| sql_err(context, e))?;
    }
    Ok(())
}

/// Commits the open transaction of `conn`, if there is one.
fn commit(conn: &Connection, context: &str) -> Result<()> {
    if !conn.is_autocommit() {
        conn.execute_batch("COMMIT")
            .map_err(|e| sql_err(context, e))?;
    }
    Ok(())
}

/// Ends the transaction [`begin`] opened once its body gave `result`:
/// commits it after a success, rolls it back after a failure (whose error
/// is returned as is).
pub(super) fn end_transaction<T>(conn: &Connection, context: &str, result: Result<T>) -> Result<T> {
    match result {
        Ok(value) => {
            commit(conn, context)?;
            Ok(value)
        }
        Err(e) => {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            Err(e)
        }
    }
}
