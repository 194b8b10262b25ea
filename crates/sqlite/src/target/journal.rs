//! The target's restore journal: the SQL of `_bru_restore_journal` and the
//! session primitives that plug a connection into [`bru_core::journal`],
//! which holds the logic shared with every other target. Every write
//! creates the table if it is missing, since each connection of a shared
//! target keeps its own state.

use bru_core::{Journal, JournalSql, Result, SqlSession};
use rusqlite::Connection;

use crate::error::sql_err;

use super::transaction::{begin, end_transaction};

/// The statements of the journal table `_bru_restore_journal`.
const JOURNAL_SQL: JournalSql = JournalSql {
    create: "CREATE TABLE IF NOT EXISTS _bru_restore_journal \
             (key TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID",
    insert: "INSERT OR IGNORE INTO _bru_restore_journal (key) VALUES (?1)",
    exists: "SELECT name FROM sqlite_schema \
             WHERE type = 'table' AND name = '_bru_restore_journal'",
    select: "SELECT key FROM _bru_restore_journal",
    drop: "DROP TABLE IF EXISTS _bru_restore_journal",
};

/// The journal of every SQLite target.
pub(super) static JOURNAL: Journal = Journal::new(JOURNAL_SQL);

/// A connection as the journal sees it.
pub(super) struct Session<'a>(pub(super) &'a Connection);

impl SqlSession for Session<'_> {
    fn batch(&self, sql: &str, context: &str) -> Result<()> {
        self.0.execute_batch(sql).map_err(|e| sql_err(context, e))
    }

    fn execute_key(&self, sql: &str, key: &str, context: &str) -> Result<()> {
        self.0
            .execute(sql, [key])
            .map(|_| ())
            .map_err(|e| sql_err(context, e))
    }

    fn texts(&self, sql: &str, context: &str) -> Result<Vec<String>> {
        let mut stmt = self.0.prepare(sql).map_err(|e| sql_err(context, e))?;
        let rows = stmt
            .query_map([], |r| r.get(0))
            .map_err(|e| sql_err(context, e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| sql_err(context, e))
    }

    /// Joins the transaction that is open, else opens one (IMMEDIATE, see
    /// [`begin`]).
    fn transaction<T>(&self, context: &str, body: impl FnOnce(&Self) -> Result<T>) -> Result<T> {
        begin(self.0, context)?;
        end_transaction(self.0, context, body(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statement_names_the_journal_table() {
        let sql = JOURNAL_SQL;
        for s in [sql.create, sql.insert, sql.exists, sql.select, sql.drop] {
            assert!(s.contains("_bru_restore_journal"), "{s}");
        }
    }
}
