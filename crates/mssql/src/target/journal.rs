//! The target's restore journal, `dbo._bru_restore_journal`, plugged into
//! [`bru_core::journal`] (which holds the logic shared with every target)
//! through the three session primitives and T-SQL's transaction
//! statements.
//!
//! Two sessions may both find the journal missing and create it: the
//! create runs under an exclusive application lock held to the end of its
//! transaction, so the second waits and then finds the table.

use bru_core::{JournalSql, SqlSession};

use super::session::{text_param, Session};

/// The statements of the journal table.
pub(super) const JOURNAL_SQL: JournalSql = JournalSql {
    create: "EXEC sp_getapplock @Resource = N'bru_restore_journal', @LockMode = N'Exclusive', \
             @LockOwner = N'Transaction'; \
             IF OBJECT_ID(N'dbo._bru_restore_journal', N'U') IS NULL \
             CREATE TABLE dbo._bru_restore_journal ([key] nvarchar(450) NOT NULL PRIMARY KEY, \
             done_at datetime2 NOT NULL DEFAULT SYSUTCDATETIME())",
    insert: "IF NOT EXISTS (SELECT 1 FROM dbo._bru_restore_journal WHERE [key] = @P1) \
             INSERT INTO dbo._bru_restore_journal ([key]) VALUES (@P1)",
    exists: "SELECT N'present' WHERE OBJECT_ID(N'dbo._bru_restore_journal', N'U') IS NOT NULL",
    select: "SELECT [key] FROM dbo._bru_restore_journal",
    drop: "IF OBJECT_ID(N'dbo._bru_restore_journal', N'U') IS NOT NULL \
           DROP TABLE dbo._bru_restore_journal",
    delete: "DELETE FROM dbo._bru_restore_journal WHERE [key] = @P1",
};

/// The journal table's name, which the target's own listings leave out.
pub(super) const JOURNAL_TABLE: &str = "_bru_restore_journal";

impl SqlSession for Session {
    fn batch(&self, sql: &str, context: &str) -> bru_core::Result<()> {
        Session::batch(self, sql, context)
    }

    fn execute_key(&self, sql: &str, key: &str, context: &str) -> bru_core::Result<()> {
        self.execute(sql, vec![text_param(key)], context)
            .map(|_| ())
    }

    fn texts(&self, sql: &str, context: &str) -> bru_core::Result<Vec<String>> {
        Session::texts(self, sql, context)
    }

    fn begin(&self, context: &str) -> bru_core::Result<()> {
        Session::batch(self, "BEGIN TRANSACTION", context)
    }

    fn commit(&self, context: &str) -> bru_core::Result<()> {
        Session::batch(self, "COMMIT TRANSACTION", context)
    }

    fn rollback(&self, context: &str) -> bru_core::Result<()> {
        Session::batch(self, "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION", context)
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
            assert!(s.contains("dbo._bru_restore_journal"), "{s}");
        }
        assert!(sql.insert.contains("@P1") && sql.delete.contains("@P1"));
    }
}
