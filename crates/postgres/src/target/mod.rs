//! PostgreSQL as a restore target.
//!
//! Phases follow pg_restore's: tables are created bare (columns, defaults,
//! identity, NOT NULL); rows are loaded with binary COPY; then constraints
//! and indexes, foreign keys once the tables they join are loaded, and only
//! after that triggers, so no trigger fires on restored rows. Into existing
//! tables (`--data-only`), the table's enabled user triggers are disabled
//! inside each load transaction and enabled again before it commits, so
//! they stay off for restored rows and nothing is left disabled by a crash.
//!
//! The first load transaction into a table created by this restore takes
//! the table's lock without waiting, checks that it is still empty, and
//! TRUNCATEs it, so that COPY FREEZE writes the rows already frozen (no
//! later vacuum pass over the whole table). When another session is loading
//! the same table (a big table split between workers), or the table already
//! holds rows, the load falls back to a plain COPY instead of waiting.
//!
//! Restores are resumable: a `public._bru_restore_journal` table records
//! the keys the engine hands to [`RestoreJournal::mark`] and
//! [`TableLoader::commit_chunk`], the latter in the same transaction as the
//! chunk's rows. Post-data steps look up what already exists (constraints
//! and indexes by name) or accept "already exists" from the server on a
//! resumed restore, so a step done just before a crash is not done twice.
//! A session whose connection was lost reconnects at its next step.
//!
//! Columns of types without a neutral counterpart (arrays, enums,
//! domains...) arrive as canonical text. Their table is loaded through a
//! temporary staging table where those columns are `text`, then inserted
//! with a cast, so the server's own input functions parse them. Text bound
//! for `jsonb` from anything but a PostgreSQL jsonb column takes the same
//! path, and is refused if jsonb would not keep it as written.
//!
//! No value is changed on the way in: dates, times, timestamps, intervals
//! and uuids that arrive as text (from SQLite) are parsed strictly by
//! [`crate::text_input`] rather than by the server's lenient input
//! functions, and values that a column's modifier would round, pad or cut
//! (`timestamp(0)`, `char(n)`, `varchar(n)`) are refused, naming the table,
//! column and value.
//!
//! The module is laid out by phase and concern: [`session`] opens and
//! configures sessions; [`tables`] is pre-data (listing and creating
//! tables), after [`clean`], which lists what `--clean` drops and drops it; [`checks`] reads a target table's columns and what each
//! can keep; [`load`] plans a table's load and [`copy`] streams its rows;
//! [`sequences`] sets identity and sequence counters; [`post_data`] adds keys,
//! indexes and foreign keys; [`objects`] creates every other object;
//! [`large_objects`] creates large objects and writes their pieces;
//! [`resume`] is what makes repeated steps harmless; [`journal`] plugs the
//! target into [`bru_core::journal`].

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bru_core::{
    Dropped, IndexPart, Journal, ObjectDef, ObjectOutcome, RestoreJournal, TableDef, TableLoader,
    TableName, Target,
};

use crate::conn::{Conn, Settings};
use crate::ENGINE_NAME;

mod checks;
mod clean;
mod copy;
mod delta;
mod journal;
mod large_objects;
mod load;
mod objects;
mod post_data;
mod resume;
mod sequences;
mod session;
mod tables;

/// Writes into one PostgreSQL database. [`Target::open_worker`] opens more
/// sessions on the same database that share this one's state.
pub struct PgTarget {
    conn: Conn,
    shared: Arc<Shared>,
}

/// What the sessions of one restore share.
struct Shared {
    /// Tables this restore created (their first load may TRUNCATE and
    /// FREEZE).
    created: Mutex<HashSet<TableName>>,
    /// What was left out, for [`Target::take_skipped`].
    skipped: Mutex<Vec<String>>,
    /// A journal from an earlier, interrupted restore was found: objects
    /// that already exist were made by it.
    resuming: AtomicBool,
    /// The restore journal, which remembers once its table is known to
    /// exist.
    journal: Journal,
    /// Objects already attempted in this restore: a retry after a lost
    /// connection may find one that was created before the connection
    /// dropped.
    attempted: Mutex<HashSet<String>>,
    /// The archive's schemas that the target had before the restore (its
    /// `CREATE SCHEMA IF NOT EXISTS` kept them): their owner, privileges and
    /// comment stay the target's own (module `objects`).
    own_schemas: Mutex<HashSet<String>>,
    /// The restore runs on more than one session (see [`session::open_session`]).
    several_sessions: AtomicBool,
    /// `pg_postmaster_start_time()` when the first session opened: a
    /// session opened under another start time reconnects after a server
    /// restart (see `session::same_server_run`).
    server_started: Mutex<Option<String>>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            created: Mutex::default(),
            skipped: Mutex::default(),
            resuming: AtomicBool::default(),
            journal: Journal::remembering(journal::JOURNAL_SQL),
            attempted: Mutex::default(),
            own_schemas: Mutex::default(),
            several_sessions: AtomicBool::default(),
            server_started: Mutex::default(),
        }
    }
}

impl Shared {
    fn created(&self, name: &TableName) -> bool {
        self.created
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(name)
    }

    fn skip(&self, line: String) {
        self.skipped
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line);
    }
}

impl PgTarget {
    /// Connects to `url` (`postgres://` or `postgresql://`, with libpq's
    /// environment variables and password file as fallbacks).
    ///
    /// Fails with [`bru_core::Error::Connect`] if the server cannot be reached or
    /// refuses the login.
    pub fn open(url: &str) -> bru_core::Result<PgTarget> {
        let shared = Arc::<Shared>::default();
        Ok(PgTarget {
            conn: session::open_session(Settings::resolve(url)?, &shared)?,
            shared,
        })
    }

    /// This session's connection, opened again first if it was lost (the
    /// server restarted, the network dropped), so that a step retried after
    /// a transient error runs on a live session.
    fn live(&mut self) -> bru_core::Result<&Conn> {
        if self.conn.client.is_closed() {
            self.conn = session::open_session(self.conn.settings.clone(), &self.shared)?;
        }
        Ok(&self.conn)
    }

    /// The endpoint as `postgres user@host:port/db` (never the password).
    pub fn endpoint(&self) -> &str {
        &self.conn.settings.endpoint
    }
}

impl Target for PgTarget {
    fn engine(&self) -> &'static str {
        ENGINE_NAME
    }

    fn existing_tables(&mut self, tables: &[TableName]) -> bru_core::Result<Vec<TableName>> {
        // The large objects' pieces are no relation of the target's
        // (module `large_objects`): each large object is looked for when
        // it is created.
        let pieces = crate::catalog::large_objects::pieces_table_name();
        let tables: Vec<TableName> = tables.iter().filter(|t| **t != pieces).cloned().collect();
        self.tables_among(&tables)
    }

    /// The archive's relations by name and what `DROP … CASCADE` takes
    /// with them (see `PgTarget::clean_list`).
    fn clean_plan(
        &mut self,
        tables: &[TableDef],
        objects: &[ObjectDef],
    ) -> bru_core::Result<Vec<Dropped>> {
        Ok(self.clean_list(tables, objects)?.1)
    }

    fn clean(
        &mut self,
        tables: &[TableDef],
        objects: &[ObjectDef],
        plan: &[Dropped],
    ) -> bru_core::Result<()> {
        self.clean_drop(tables, objects, plan)
    }

    /// The large objects' pieces are no table: the large objects are
    /// created by their own entries (module `large_objects`).
    fn create_table(&mut self, table: &TableDef) -> bru_core::Result<()> {
        if large_objects::is_pieces(table) {
            return Ok(());
        }
        self.create_bare_table(table)
    }

    fn check_table(&mut self, table: &TableDef) -> bru_core::Result<()> {
        if large_objects::is_pieces(table) {
            return self.check_large_objects(table);
        }
        self.check_columns(table)
    }

    fn load<'a>(&'a mut self, table: &TableDef) -> bru_core::Result<Box<dyn TableLoader + 'a>> {
        if large_objects::is_pieces(table) {
            return Ok(Box::new(self.open_pieces_loader(table)?));
        }
        Ok(Box::new(self.open_loader(table)?))
    }

    fn upsert<'a>(
        &'a mut self,
        table: &TableDef,
        key: &[usize],
    ) -> bru_core::Result<Box<dyn TableLoader + 'a>> {
        if large_objects::is_pieces(table) {
            return Err(bru_core::Error::Unsupported(
                "a delta of large objects (take a new full backup)".into(),
            ));
        }
        Ok(Box::new(self.open_upserter(table, key)?))
    }

    fn delete_rows(
        &mut self,
        table: &TableDef,
        key: &[usize],
        keys: &[Vec<bru_core::Value>],
    ) -> bru_core::Result<u64> {
        self.delete_keys(table, key, keys)
    }

    fn restore_identity(&mut self, table: &TableDef) -> bru_core::Result<()> {
        if large_objects::is_pieces(table) {
            return Ok(());
        }
        self.set_counters(table)
    }

    fn finish_table(&mut self, table: &TableDef) -> bru_core::Result<()> {
        if large_objects::is_pieces(table) {
            return Ok(());
        }
        self.add_keys_and_indexes(table)
    }

    fn build_index(&mut self, table: &TableDef, part: IndexPart) -> bru_core::Result<()> {
        if large_objects::is_pieces(table) {
            return Ok(());
        }
        self.build_one_index(table, part)
    }

    fn add_foreign_keys(&mut self, table: &TableDef) -> bru_core::Result<()> {
        if large_objects::is_pieces(table) {
            return Ok(());
        }
        self.add_table_foreign_keys(table)
    }

    fn open_worker(&mut self) -> bru_core::Result<Option<Box<dyn Target + Send>>> {
        if !self.shared.several_sessions.swap(true, Ordering::Relaxed) {
            session::no_parallel_index_builds(self.live()?)?;
        }
        Ok(Some(Box::new(PgTarget {
            conn: session::open_session(self.conn.settings.clone(), &self.shared)?,
            shared: Arc::clone(&self.shared),
        })))
    }

    fn restore_object_data(&mut self, object: &ObjectDef) -> bru_core::Result<ObjectOutcome> {
        self.set_object_data(object)
    }

    fn create_object(&mut self, object: &ObjectDef) -> bru_core::Result<ObjectOutcome> {
        self.create_other_object(object)
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

    fn finish(&mut self) -> bru_core::Result<()> {
        Ok(())
    }
}

/// Every step of this target leaves alone what exists already (see
/// the `resume` module), as [`RestoreJournal`] requires.
impl RestoreJournal for PgTarget {
    fn keys(&mut self) -> bru_core::Result<Option<Vec<String>>> {
        self.read_journal()
    }

    fn mark(&mut self, key: &str) -> bru_core::Result<()> {
        self.mark_journal(key)
    }

    fn clear(&mut self) -> bru_core::Result<()> {
        self.clear_journal()
    }

    fn forget(&mut self, keys: &[String]) -> bru_core::Result<()> {
        self.forget_journal(keys)
    }

    fn emptied(&mut self, tables: &[TableName]) -> bru_core::Result<Vec<TableName>> {
        let pieces = crate::catalog::large_objects::pieces_table_name();
        let tables: Vec<TableName> = tables.iter().filter(|t| **t != pieces).cloned().collect();
        self.emptied_tables(&tables)
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

fn same_engine(table: &TableDef) -> bool {
    table
        .native
        .as_ref()
        .is_some_and(|n| n.engine == ENGINE_NAME)
}
