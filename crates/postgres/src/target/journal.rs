//! The target's restore journal: the SQL of `public._bru_restore_journal`
//! and the session primitives that plug a connection into
//! [`bru_core::journal`], which holds the logic shared with every other
//! target; and the one thing only this target can lose, the rows of an
//! unlogged table after a crash ([`PgTarget::emptied_tables`]).
//!
//! Concurrent sessions creating the journal serialize on an advisory lock
//! held until their transaction ends, so only one creates it and the others
//! then see it.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bru_core::{Error, JournalSql, SqlSession, TableName};

use crate::conn::Conn;
use crate::quote::{qualified, target_name};

use super::PgTarget;

/// The statements of the journal table `public._bru_restore_journal`.
pub(super) const JOURNAL_SQL: JournalSql = JournalSql {
    create: "SELECT pg_catalog.pg_advisory_xact_lock(7262737); \
             CREATE TABLE IF NOT EXISTS public._bru_restore_journal (key text PRIMARY KEY, \
             done_at timestamptz NOT NULL DEFAULT pg_catalog.now())",
    insert: "INSERT INTO public._bru_restore_journal (key) VALUES ($1) ON CONFLICT DO NOTHING",
    exists: "SELECT 'present'::text \
             WHERE pg_catalog.to_regclass('public._bru_restore_journal') IS NOT NULL",
    select: "SELECT key FROM public._bru_restore_journal",
    drop: "DROP TABLE IF EXISTS public._bru_restore_journal",
    delete: "DELETE FROM public._bru_restore_journal WHERE key = $1",
};

impl SqlSession for Conn {
    fn batch(&self, sql: &str, context: &str) -> bru_core::Result<()> {
        Conn::batch(self, sql, context)
    }

    fn execute_key(&self, sql: &str, key: &str, context: &str) -> bru_core::Result<()> {
        self.block_on(self.client.execute(sql, &[&key]))
            .map(|_| ())
            .map_err(|e| self.err(context, &e))
    }

    fn texts(&self, sql: &str, context: &str) -> bru_core::Result<Vec<String>> {
        self.query(sql, &[], context)?
            .iter()
            .map(|r| r.try_get(0).map_err(|e| Error::engine(context, e)))
            .collect()
    }
}

impl PgTarget {
    /// [`bru_core::RestoreJournal::keys`]: a journal found means this
    /// restore resumes an interrupted one.
    pub(super) fn read_journal(&mut self) -> bru_core::Result<Option<Vec<String>>> {
        let shared = Arc::clone(&self.shared);
        let keys = shared.journal.keys(self.live()?)?;
        if let Some(keys) = &keys {
            shared.resuming.store(true, Ordering::Relaxed);
            shared.note_own_schemas(keys);
        }
        Ok(keys)
    }

    /// [`bru_core::RestoreJournal::mark`].
    pub(super) fn mark_journal(&mut self, key: &str) -> bru_core::Result<()> {
        let shared = Arc::clone(&self.shared);
        shared.journal.mark(self.live()?, key)
    }

    /// [`bru_core::RestoreJournal::forget`].
    pub(super) fn forget_journal(&mut self, keys: &[String]) -> bru_core::Result<()> {
        let shared = Arc::clone(&self.shared);
        shared.journal.forget(self.live()?, keys)
    }

    /// [`bru_core::RestoreJournal::emptied`]: the unlogged ones among
    /// `tables` that hold no row. Crash recovery resets every unlogged
    /// table to empty, and only that: an unlogged table that kept its rows
    /// (a clean restart, no restart) kept all of them, so an empty one is
    /// exactly one the server emptied.
    pub(super) fn emptied_tables(
        &mut self,
        tables: &[TableName],
    ) -> bru_core::Result<Vec<TableName>> {
        let context = "looking for unlogged tables emptied by a server restart";
        let mut emptied = Vec::new();
        for table in tables {
            let t = target_name(table);
            let schema = t.schema.clone().unwrap_or_else(|| "public".into());
            let conn = self.live()?;
            let unlogged = conn.query(
                "SELECT 1 FROM pg_catalog.pg_class c
                   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = $1 AND c.relname = $2 AND c.relpersistence = 'u'",
                &[&schema, &t.name],
                context,
            )?;
            if unlogged.is_empty() {
                continue;
            }
            let any = conn.query(
                &format!("SELECT 1 FROM {} LIMIT 1", qualified(&t)),
                &[],
                context,
            )?;
            if any.is_empty() {
                emptied.push(table.clone());
            }
        }
        Ok(emptied)
    }

    /// [`bru_core::RestoreJournal::clear`].
    pub(super) fn clear_journal(&mut self) -> bru_core::Result<()> {
        let shared = Arc::clone(&self.shared);
        shared.journal.clear(self.live()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statement_names_the_journal_table() {
        let sql = JOURNAL_SQL;
        for s in [
            sql.create, sql.insert, sql.exists, sql.select, sql.drop, sql.delete,
        ] {
            assert!(s.contains("public._bru_restore_journal"), "{s}");
        }
    }
}
