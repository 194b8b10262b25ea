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
    delete: "DELETE FROM _bru_restore_journal WHERE key = ?1",
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

    fn journal_table_exists(conn: &Connection) -> bool {
        conn.query_row(JOURNAL_SQL.exists, [], |_| Ok(())).is_ok()
    }

    /// The shared logic of `bru_core::journal::Journal`, on a real SQLite
    /// database: keys round-trip, a duplicate key is one key, a chunk's key
    /// commits with the transaction it is in, and clear removes the table.
    #[test]
    fn keys_marks_chunks_and_clear_round_trip() {
        let conn = Connection::open_in_memory().unwrap();
        let session = Session(&conn);
        let journal = Journal::new(JOURNAL_SQL);
        assert_eq!(journal.keys(&session).unwrap(), None);
        journal.mark(&session, "a").unwrap();
        journal.mark(&session, "a").unwrap();
        conn.execute_batch("BEGIN").unwrap();
        let context = "committing a chunk of table \"t\"";
        journal.commit_chunk(&session, "b", context).unwrap();
        assert!(conn.is_autocommit(), "commit_chunk commits");
        let mut keys = journal.keys(&session).unwrap().expect("a journal");
        keys.sort();
        assert_eq!(keys, ["a", "b"]);
        // The commit is the chunk's rows too: a failure (here: no
        // transaction is open) names the table.
        let err = journal.commit_chunk(&session, "c", context).unwrap_err();
        assert!(err.to_string().starts_with(context), "{err}");
        journal.clear(&session).unwrap();
        assert!(!journal_table_exists(&conn));
        assert_eq!(journal.keys(&session).unwrap(), None);
    }

    /// A journal that does not remember its table creates it before every
    /// write, so a table dropped behind its back comes back; a remembering
    /// one skips the create once it knows the table, and after `clear`
    /// creates it again.
    #[test]
    fn only_a_remembering_journal_skips_the_create() {
        let conn = Connection::open_in_memory().unwrap();
        let session = Session(&conn);

        let plain = Journal::new(JOURNAL_SQL);
        plain.mark(&session, "a").unwrap();
        conn.execute_batch(JOURNAL_SQL.drop).unwrap();
        plain.mark(&session, "b").unwrap();
        assert_eq!(plain.keys(&session).unwrap(), Some(vec!["b".to_owned()]));
        plain.clear(&session).unwrap();

        let remembering = Journal::remembering(JOURNAL_SQL);
        remembering.mark(&session, "a").unwrap();
        conn.execute_batch(JOURNAL_SQL.drop).unwrap();
        assert!(
            remembering.mark(&session, "b").is_err(),
            "a remembering journal must not run its create again"
        );
        remembering.clear(&session).unwrap();
        remembering.mark(&session, "c").unwrap();
        assert_eq!(
            remembering.keys(&session).unwrap(),
            Some(vec!["c".to_owned()])
        );
    }

    #[test]
    fn every_statement_names_the_journal_table() {
        let sql = JOURNAL_SQL;
        for s in [sql.create, sql.insert, sql.exists, sql.select, sql.drop] {
            assert!(s.contains("_bru_restore_journal"), "{s}");
        }
    }
}
