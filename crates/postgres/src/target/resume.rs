//! What makes a step safe to repeat on a resumed restore or a retry:
//! "already exists" counted as done when an earlier attempt may have made
//! the object, waiting for the sessions of an interrupted run to let go of
//! a table, and the constraints and indexes a table already has.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::PoisonError;

use bru_core::{Error, ErrorKind, TableName};

use crate::quote::target_name;

use super::{PgTarget, Shared};

impl Shared {
    /// Whether an "already exists" error for `key` means the step was done
    /// before (resumed restore, or a retry of the same step).
    pub(super) fn may_exist(&self, key: &str) -> bool {
        let first = self
            .attempted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_owned());
        !first || self.resuming.load(Ordering::Relaxed)
    }
}

impl PgTarget {
    /// Runs `sql` for object `key`, one statement at a time in one
    /// transaction ([`crate::conn::Conn::execute_each`]: the text may come
    /// from the archive); "already exists" counts as done when the object
    /// may have been made by an earlier attempt ([`Shared::may_exist`]).
    /// Returns whether the statements ran.
    pub(super) fn run_once(
        &mut self,
        key: &str,
        sql: &str,
        context: &str,
    ) -> bru_core::Result<bool> {
        let may_exist = self.shared.may_exist(key);
        match self.live()?.execute_each(sql, context) {
            Ok(()) => Ok(true),
            Err(e) if may_exist && e.is(ErrorKind::AlreadyExists) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// On a resumed restore, waits until no earlier session still works on
    /// table `q` before post-data steps check what exists. A bru killed
    /// during `CREATE INDEX` leaves its server session building the index
    /// (PostgreSQL notices the dead client only when it next writes to it);
    /// checking before that session ends would miss the index and then
    /// collide with it (23505 on pg_class). `SHARE ROW EXCLUSIVE` conflicts
    /// with the locks CREATE INDEX and ALTER TABLE take, so taking it (and
    /// letting it go at once) waits exactly for them.
    ///
    /// [`bru_core::Target::build_index`] waits in `SHARE` mode instead, which lets
    /// this run's other index builds on the table go on; it does not wait
    /// for an earlier session's `CREATE INDEX` either, so a build that then
    /// collides with that index counts the collision as done.
    pub(super) fn settle_earlier_run(&mut self, q: &str, context: &str) -> bru_core::Result<()> {
        self.settle_earlier_run_in(q, "SHARE ROW EXCLUSIVE", context)
    }

    /// [`PgTarget::settle_earlier_run`] with the lock `mode` to wait in.
    pub(super) fn settle_earlier_run_in(
        &mut self,
        q: &str,
        mode: &str,
        context: &str,
    ) -> bru_core::Result<()> {
        if !self.shared.resuming.load(Ordering::Relaxed) {
            return Ok(());
        }
        let conn = self.live()?;
        let result = conn.batch(
            &format!("BEGIN; LOCK TABLE {q} IN {mode} MODE; COMMIT"),
            &format!("{context}: waiting for the sessions of the interrupted restore"),
        );
        if result.is_err() {
            // Leave the session usable for a retry.
            let _ = conn.batch("ROLLBACK", context);
        }
        result
    }

    /// The constraints and the indexes on `table`. An index of the same
    /// name on another table is not the archive's: it is no sign that the
    /// index was built, and the archive's then fails to be created, naming
    /// it, rather than being left out without a word.
    pub(super) fn existing_names(&mut self, table: &TableName) -> bru_core::Result<Existing> {
        let t = target_name(table);
        let schema = t.schema.clone().unwrap_or_else(|| "public".into());
        let context = format!("reading the constraints and indexes of {t}");
        let rows = self.live()?.query(
            "SELECT true, con.conname::text FROM pg_catalog.pg_constraint con
               JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relname = $2
             UNION ALL
             SELECT false, c.relname::text FROM pg_catalog.pg_class c
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
               JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
              WHERE n.nspname = $1 AND t.relname = $2 AND c.relkind IN ('i', 'I')",
            &[&schema, &t.name],
            &context,
        )?;
        let mut existing = Existing::default();
        for r in &rows {
            let constraint: bool = r.try_get(0).map_err(|e| Error::engine(&context, e))?;
            let name: String = r.try_get(1).map_err(|e| Error::engine(&context, e))?;
            if constraint {
                existing.constraints.insert(name);
            } else {
                existing.indexes.insert(name);
            }
        }
        Ok(existing)
    }
}

/// What [`PgTarget::existing_names`] found.
#[derive(Default)]
pub(super) struct Existing {
    /// Constraints on the table.
    pub(super) constraints: HashSet<String>,
    /// Indexes on the table.
    pub(super) indexes: HashSet<String>,
}
