//! The restore journal, one mechanism for every target.
//!
//! A resumable target ([`crate::Target::journal`]) keeps a table of opaque
//! text keys in the database it restores into: the steps the engine has
//! finished ([`crate::RestoreJournal::mark`]) and the chunks of rows it has
//! committed ([`crate::TableLoader::commit_chunk`], in the same transaction
//! as the rows, so that after a crash either both are there or neither is).
//!
//! What differs between engines is only SQL: how the table is created if
//! missing, how one key is inserted ignoring a duplicate, how its keys are
//! read, how one is deleted, how its existence is checked, how it is dropped.
//! A target describes that in a [`JournalSql`], implements the three
//! primitives of [`SqlSession`] on its connection, and hands both to a
//! [`Journal`], whose
//! [`Journal::keys`], [`Journal::mark`], [`Journal::commit_chunk`],
//! [`Journal::forget`] and [`Journal::clear`] are the whole logic. This
//! module does no I/O itself.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Result;

/// The name of every engine's restore journal table.
pub const JOURNAL_TABLE: &str = "_bru_restore_journal";

/// Whether `name` is the restore journal's table, which backups and
/// compares leave out: it is bru's, not the database's.
pub fn is_journal_table(name: &crate::TableName) -> bool {
    name.name == JOURNAL_TABLE
}

/// The statements of one engine's restore journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalSql {
    /// Creates the journal table if it does not exist; runs inside a
    /// transaction (may be several statements).
    pub create: &'static str,
    /// Inserts one key, its one parameter, doing nothing if it is there.
    pub insert: &'static str,
    /// A query that returns a row when the journal table exists and none
    /// when it does not.
    pub exists: &'static str,
    /// A query that returns every key, as text, in its first column.
    pub select: &'static str,
    /// Drops the journal table if it exists.
    pub drop: &'static str,
    /// Deletes one key, its one parameter.
    pub delete: &'static str,
}

/// The primitives a target's connection offers the journal. They take
/// `&self` so that one session can be lent to the journal while the target
/// keeps using it; a driver whose client needs `&mut` (tiberius) keeps it
/// in a `RefCell`.
pub trait SqlSession {
    /// Runs one or more statements without parameters.
    fn batch(&self, sql: &str, context: &str) -> Result<()>;

    /// Runs one statement with `key` as its one parameter.
    fn execute_key(&self, sql: &str, key: &str, context: &str) -> Result<()>;

    /// Runs a query and returns the first column of every row, as text.
    fn texts(&self, sql: &str, context: &str) -> Result<Vec<String>>;

    /// Starts a transaction; the default runs `BEGIN` (T-SQL would run
    /// `BEGIN TRANSACTION`).
    fn begin(&self, context: &str) -> Result<()> {
        self.batch("BEGIN", context)
    }

    /// Commits the open transaction; the default runs `COMMIT`.
    fn commit(&self, context: &str) -> Result<()> {
        self.batch("COMMIT", context)
    }

    /// Rolls the open transaction back; the default runs `ROLLBACK`.
    fn rollback(&self, context: &str) -> Result<()> {
        self.batch("ROLLBACK", context)
    }

    /// Runs `body` in one transaction: committed if it succeeds, rolled back
    /// if it fails. The default brackets it with [`SqlSession::begin`] and
    /// [`SqlSession::commit`] (or [`SqlSession::rollback`]); an engine that
    /// joins a transaction already open overrides it.
    fn transaction<T>(&self, context: &str, body: impl FnOnce(&Self) -> Result<T>) -> Result<T>
    where
        Self: Sized,
    {
        self.begin(context)?;
        match body(self) {
            Ok(value) => {
                self.commit(context)?;
                Ok(value)
            }
            Err(e) => {
                // Leave the session usable; the error that stopped the body
                // is the one to report.
                let _ = self.rollback(context);
                Err(e)
            }
        }
    }
}

const READING: &str = "reading the restore journal";
const WRITING: &str = "writing the restore journal";
const REMOVING: &str = "removing the restore journal";

/// A target's restore journal: its SQL, and whether its table is known to
/// exist.
#[derive(Debug)]
pub struct Journal {
    sql: JournalSql,
    /// `None`: the table's existence is never assumed, and every write
    /// creates it if missing first. `Some`: whether it is known to exist
    /// (see [`Journal::remembering`]).
    known: Option<AtomicBool>,
}

impl Journal {
    /// A journal that creates its table if missing before every write.
    pub const fn new(sql: JournalSql) -> Journal {
        Journal { sql, known: None }
    }

    /// A journal, shared by the sessions of one restore, that remembers its
    /// table exists once it has created or found it, so that later writes
    /// skip the create statement (which may take a lock).
    pub const fn remembering(sql: JournalSql) -> Journal {
        Journal {
            sql,
            known: Some(AtomicBool::new(false)),
        }
    }

    fn known(&self) -> bool {
        self.known
            .as_ref()
            .is_some_and(|k| k.load(Ordering::Relaxed))
    }

    fn set_known(&self, exists: bool) {
        if let Some(k) = &self.known {
            k.store(exists, Ordering::Relaxed);
        }
    }

    /// The keys in the journal, or `None` when there is no journal
    /// ([`crate::RestoreJournal::keys`]).
    pub fn keys<S: SqlSession>(&self, session: &S) -> Result<Option<Vec<String>>> {
        if session.texts(self.sql.exists, READING)?.is_empty() {
            return Ok(None);
        }
        let keys = session.texts(self.sql.select, READING)?;
        self.set_known(true);
        Ok(Some(keys))
    }

    /// Records `key` and commits it ([`crate::RestoreJournal::mark`]): in a
    /// transaction that creates the journal if missing and inserts the key,
    /// or, once the journal is known to exist, with the insert alone.
    pub fn mark<S: SqlSession>(&self, session: &S, key: &str) -> Result<()> {
        if self.known() {
            return session.execute_key(self.sql.insert, key, WRITING);
        }
        session.transaction(WRITING, |s| self.record(s, key, WRITING))?;
        self.set_known(true);
        Ok(())
    }

    /// Records `key` in the transaction `session` has open, which holds a
    /// chunk's rows, and commits both together
    /// ([`crate::TableLoader::commit_chunk`]). A transaction must be open: a
    /// loader that has written no rows since its last commit records the key
    /// alone with [`Journal::mark`]. A failure is reported with `context`,
    /// which names the loader's table: the commit is the chunk's rows too.
    pub fn commit_chunk<S: SqlSession>(&self, session: &S, key: &str, context: &str) -> Result<()> {
        self.record(session, key, context)?;
        session.commit(context)?;
        self.set_known(true);
        Ok(())
    }

    /// Removes `keys` in one transaction
    /// ([`crate::RestoreJournal::forget`]); nothing when there are none.
    pub fn forget<S: SqlSession>(&self, session: &S, keys: &[String]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        session.transaction(WRITING, |s| {
            keys.iter()
                .try_for_each(|k| s.execute_key(self.sql.delete, k, WRITING))
        })
    }

    /// Removes the journal ([`crate::RestoreJournal::clear`]).
    pub fn clear<S: SqlSession>(&self, session: &S) -> Result<()> {
        session.transaction(REMOVING, |s| s.batch(self.sql.drop, REMOVING))?;
        self.set_known(false);
        Ok(())
    }

    /// Creates the journal unless it is known to exist, and inserts `key`,
    /// in the caller's transaction.
    fn record<S: SqlSession>(&self, session: &S, key: &str, context: &str) -> Result<()> {
        if !self.known() {
            session.batch(self.sql.create, context)?;
        }
        session.execute_key(self.sql.insert, key, context)
    }
}
