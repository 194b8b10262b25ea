//! Restore into SQL Server, in pg_restore's phases.
//!
//! Tables are created bare ([`ddl`]: columns, types, collations, named
//! defaults, computed columns, identity; no keys or indexes), then loaded
//! ([`load`]: TDS bulk load through a stage table, or batched
//! parameterized INSERTs; each chunk one transaction that commits with its
//! journal key), the identity kept with `SET IDENTITY_INSERT` and
//! reseeded afterwards with `DBCC CHECKIDENT` to the source's current
//! value. Then, per table, the primary key, unique constraints, indexes
//! and checks ([`post_data`]), foreign keys once the tables they join are
//! loaded, and only after all of that triggers, views and the other
//! modules ([`objects`]), so no trigger fires on a restored row.
//!
//! **Bulk load, through a stage.** tiberius's `bulk_insert` writes
//! `INSERT BULK` with no options, so straight into the table it cannot
//! keep identity values (`KEEP_IDENTITY`), and it encodes values itself:
//! it panics on `money`, mis-encodes `date`, and Babelfish corrupts
//! bulk-loaded decimals. So [`bulk`] bulk-loads into a session temp table
//! of the few types tiberius encodes exactly, with every other value as the
//! exact text bru writes for it ([`values`]), and moves the rows into the
//! table with `INSERT … SELECT` and the same casts the INSERT path uses.
//! Tables with a `sql_variant` column, and every table when
//! `BRU_MSSQL_BULK=off`, take parameterized INSERTs of up to 1000 rows and
//! 2000 parameters.
//!
//! Restores are resumable: `dbo._bru_restore_journal` ([`journal`])
//! records what is done, each chunk's key in the chunk's own transaction.
//! Post-data steps take "already exists" as done when an earlier attempt
//! may have made the object.
//!
//! Every T-SQL text from the archive was checked by [`crate::trust`] before
//! the restore started, and is checked again where it runs.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bru_core::{
    Declared, Dropped, Error, Journal, ObjectDef, ObjectOutcome, RestoreJournal, TableDef,
    TableLoader, TableName, Target,
};

mod bulk;
mod clean;
mod ddl;
mod journal;
mod load;
mod objects;
mod post_data;
pub(crate) mod quote;
mod session;
mod tables;
mod values;

use session::Session;

/// A SQL Server database being restored into. [`Target::open_worker`]
/// opens more sessions that share this one's state.
pub struct MssqlTarget {
    session: Session,
    shared: Arc<Shared>,
}

/// What the sessions of one restore share.
struct Shared {
    /// What was left out, for [`Target::take_skipped`].
    skipped: Mutex<Vec<String>>,
    /// A journal from an interrupted restore was found.
    resuming: AtomicBool,
    journal: Journal,
    /// Steps already attempted in this restore.
    attempted: Mutex<HashSet<String>>,
    /// Rows go through TDS bulk load where they can ([`bulk`]).
    bulk: AtomicBool,
}

impl Shared {
    fn skip(&self, line: String) {
        self.skipped
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line);
    }

    /// Whether "already exists" for step `key` means it was done before
    /// (a resumed restore, or a retry of the same step).
    fn may_exist(&self, key: &str) -> bool {
        let first = self
            .attempted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_owned());
        !first || self.resuming.load(Ordering::Relaxed)
    }
}

impl MssqlTarget {
    /// Connects to `url` (`mssql://` or `sqlserver://`).
    pub fn open(url: &str) -> bru_core::Result<Self> {
        Ok(MssqlTarget {
            session: Session::open(url)?,
            shared: Arc::new(Shared {
                skipped: Mutex::default(),
                resuming: AtomicBool::default(),
                journal: Journal::remembering(journal::JOURNAL_SQL),
                attempted: Mutex::default(),
                bulk: AtomicBool::new(bulk::enabled_by_env()),
            }),
        })
    }

    /// Whether rows go through TDS bulk load where they can (the default,
    /// unless `BRU_MSSQL_BULK=off`) or always through INSERTs, for this
    /// target and its workers.
    pub fn use_bulk_load(&self, on: bool) {
        self.shared.bulk.store(on, Ordering::Relaxed);
    }

    /// Runs `sql` for step `key`; "already exists" counts as done when an
    /// earlier attempt may have made it. Returns whether it ran.
    fn run_once(&mut self, key: &str, sql: &str, context: &str) -> bru_core::Result<bool> {
        let may_exist = self.shared.may_exist(key);
        match self.session.batch(sql, context) {
            Ok(()) => Ok(true),
            Err(e) if may_exist && e.is(bru_core::ErrorKind::AlreadyExists) => {
                let _ = self
                    .session
                    .batch("IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION", context);
                Ok(false)
            }
            Err(e) => {
                let _ = self
                    .session
                    .batch("IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION", context);
                Err(e)
            }
        }
    }
}

/// What the archive declares around one table, for checking its T-SQL
/// again where it runs: the table, the tables its foreign keys reference,
/// and its own keys and indexes.
fn declared_for(table: &TableDef) -> Declared {
    let catalog = bru_core::Catalog {
        tables: vec![table.clone()],
        objects: Vec::new(),
    };
    let mut d = Declared::of(&catalog);
    d.relations
        .extend(table.foreign_keys.iter().map(|f| f.ref_table.clone()));
    d
}

/// The error for archive T-SQL the trust check refused here (the restore
/// checked it before it started, so only a caller that skipped that check
/// sees this).
fn untrusted(context: &str, reason: String) -> Error {
    Error::engine(
        context,
        format!("the archive's T-SQL {reason}; the archive was altered, restore one you trust"),
    )
}

impl Target for MssqlTarget {
    fn engine(&self) -> &'static str {
        crate::ENGINE_NAME
    }

    fn existing_tables(&mut self, tables: &[TableName]) -> bru_core::Result<Vec<TableName>> {
        self.tables_among(tables)
    }

    /// A table of an engine without schemas lands in `dbo`.
    fn name_here(&self, table: &TableName) -> TableName {
        TableName::new(Some(quote::schema_of(table)), &table.name)
    }

    fn clean_plan(
        &mut self,
        tables: &[TableDef],
        objects: &[ObjectDef],
    ) -> bru_core::Result<Vec<Dropped>> {
        self.clean_list(tables, objects)
    }

    fn clean(
        &mut self,
        tables: &[TableDef],
        objects: &[ObjectDef],
        plan: &[Dropped],
    ) -> bru_core::Result<()> {
        self.clean_drop(tables, objects, plan)
    }

    fn create_table(&mut self, table: &TableDef) -> bru_core::Result<()> {
        self.create_bare_table(table)
    }

    fn check_table(&mut self, table: &TableDef) -> bru_core::Result<()> {
        self.check_columns(table)
    }

    fn load<'a>(&'a mut self, table: &TableDef) -> bru_core::Result<Box<dyn TableLoader + 'a>> {
        Ok(Box::new(self.open_loader(table)?))
    }

    fn restore_identity(&mut self, table: &TableDef) -> bru_core::Result<()> {
        self.reseed(table)
    }

    fn finish_table(&mut self, table: &TableDef) -> bru_core::Result<()> {
        self.add_keys_and_indexes(table)
    }

    fn add_foreign_keys(&mut self, table: &TableDef) -> bru_core::Result<()> {
        self.add_table_foreign_keys(table)
    }

    fn open_worker(&mut self) -> bru_core::Result<Option<Box<dyn Target + Send>>> {
        Ok(Some(Box::new(MssqlTarget {
            session: self.session.reopen()?,
            shared: Arc::clone(&self.shared),
        })))
    }

    fn create_object(&mut self, object: &ObjectDef) -> bru_core::Result<ObjectOutcome> {
        self.create_module(object)
    }

    fn restore_object_data(&mut self, object: &ObjectDef) -> bru_core::Result<ObjectOutcome> {
        self.set_object_data(object)
    }

    fn finish(&mut self) -> bru_core::Result<()> {
        Ok(())
    }

    fn take_skipped(&mut self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .shared
                .skipped
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    fn journal(&mut self) -> Option<&mut dyn RestoreJournal> {
        Some(self)
    }
}

/// Every step of this target leaves alone what exists already
/// (`MssqlTarget::run_once`), as [`RestoreJournal`] requires.
impl RestoreJournal for MssqlTarget {
    fn keys(&mut self) -> bru_core::Result<Option<Vec<String>>> {
        let keys = self.shared.journal.keys(&self.session)?;
        if keys.is_some() {
            self.shared.resuming.store(true, Ordering::Relaxed);
        }
        Ok(keys)
    }

    fn mark(&mut self, key: &str) -> bru_core::Result<()> {
        self.shared.journal.mark(&self.session, key)
    }

    fn clear(&mut self) -> bru_core::Result<()> {
        self.shared.journal.clear(&self.session)
    }

    fn forget(&mut self, keys: &[String]) -> bru_core::Result<()> {
        self.shared.journal.forget(&self.session, keys)
    }
}
