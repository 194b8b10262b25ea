//! Large objects into the target (see `crate::catalog::large_objects` for
//! how they are carried): each one created with `lo_create(oid)` for exactly
//! the oid its entry declares, then its pieces written with
//! `lo_put(oid, offset, data)`, one transaction per chunk committed with its
//! journal key, like a table's rows.
//!
//! A large object the target already has is never written over: its
//! creation fails naming the oid (`--clean` unlinks the archive's own oids
//! first, as `pg_restore --clean` does with `lo_unlink`). `--data-only`
//! writes into existing, empty large objects of the archive's oids (a
//! `--schema-only` restore creates them empty, with their owner, privileges
//! and comment), and refuses, before anything is written, an oid the target
//! lacks or one that already holds data. The pieces' rows may only name the
//! oids their table lists, which the restore checked are the archive's own
//! large objects (`crate::trust`).

use std::collections::HashSet;

use bru_core::{Dropped, Error, ErrorKind, ObjectDef, ObjectKind, RowBatch, TableDef, TableLoader};
use tokio_postgres::Statement;

use crate::catalog::large_objects::{pieces_oids, LARGE_OBJECT};
use crate::conn::Conn;

use super::{PgTarget, Shared};

/// Whether `object` is a large object's entry.
pub(super) fn is_large_object(object: &ObjectDef) -> bool {
    matches!(&object.kind, ObjectKind::Other(k) if k == LARGE_OBJECT)
}

/// Whether `table` is the large objects' pieces.
pub(super) fn is_pieces(table: &TableDef) -> bool {
    pieces_oids(table).is_some()
}

/// The oids `table` (the pieces) writes into, or the error naming it.
fn listed(table: &TableDef) -> bru_core::Result<Vec<u32>> {
    pieces_oids(table)
        .unwrap_or_else(|| Ok(Vec::new()))
        .map_err(|e| super::untrusted(&format!("loading {}", table.name), e))
}

/// The oid an entry of a large object (or its comment, owner…) is named by.
fn oid_of(object: &ObjectDef) -> bru_core::Result<u32> {
    object.name.name.parse().map_err(|_| {
        super::untrusted(
            &format!("creating {} {}", object.kind, object.name),
            "names no large object oid".into(),
        )
    })
}

impl PgTarget {
    /// Which of `oids` the target has.
    fn existing_large_objects(&mut self, oids: &[u32]) -> bru_core::Result<Vec<u32>> {
        let rows = self.live()?.query(
            "SELECT m.oid FROM pg_catalog.pg_largeobject_metadata m
              WHERE m.oid = ANY($1::pg_catalog.oid[]) ORDER BY m.oid",
            &[&oids],
            "looking for the archive's large objects in the target",
        )?;
        rows.iter()
            .map(|r| {
                r.try_get(0)
                    .map_err(|e| Error::engine("reading large object oids", e))
            })
            .collect()
    }

    /// Creates the large object `object` declares, with `lo_create` of its
    /// oid. One the target already has is an error naming it, unless this
    /// restore (or the one it resumes) made it.
    pub(super) fn create_large_object(&mut self, object: &ObjectDef) -> bru_core::Result<()> {
        let oid = oid_of(object)?;
        let context = format!("creating large object {oid}");
        let key = format!("{LARGE_OBJECT} {oid}");
        let may_exist = self.shared.may_exist(&key);
        if !self.existing_large_objects(&[oid])?.is_empty() {
            if may_exist {
                return Ok(());
            }
            return Err(Error::engine_kind(
                ErrorKind::AlreadyExists,
                context,
                format!(
                    "large object {oid} already exists in the target, which the archive may \
                     not write over; restore with --clean to unlink the archive's large \
                     objects first, or remove it with SELECT pg_catalog.lo_unlink({oid})"
                ),
            ));
        }
        self.live()?.execute_one(&object.ddl, &context)
    }

    /// `--data-only`: every large object the pieces write into exists in
    /// the target and is empty; otherwise an error naming the first that
    /// does not, before anything is written.
    pub(super) fn check_large_objects(&mut self, table: &TableDef) -> bru_core::Result<()> {
        let oids = listed(table)?;
        let existing: HashSet<u32> = self.existing_large_objects(&oids)?.into_iter().collect();
        let context = "checking the existing large objects";
        if let Some(missing) = oids.iter().find(|o| !existing.contains(o)) {
            return Err(Error::engine(
                context,
                format!(
                    "large object {missing} does not exist in the target; --data-only writes \
                     into the archive's large objects, which a --schema-only restore creates \
                     (or restore without --data-only)"
                ),
            ));
        }
        let rows = self.live()?.query(
            "SELECT m.oid FROM pg_catalog.pg_largeobject_metadata m
              WHERE m.oid = ANY($1::pg_catalog.oid[])
                AND pg_catalog.length(pg_catalog.lo_get(m.oid, 0, 1)) > 0
              ORDER BY m.oid LIMIT 1",
            &[&oids],
            context,
        )?;
        if let Some(r) = rows.first() {
            let oid: u32 = r.try_get(0).map_err(|e| Error::engine(context, e))?;
            return Err(Error::engine(
                context,
                format!(
                    "large object {oid} already holds data in the target; --data-only writes \
                     only into empty large objects (empty it with \
                     SELECT pg_catalog.lo_unlink({oid}), pg_catalog.lo_create({oid}), or \
                     restore with --clean and without --data-only)"
                ),
            ));
        }
        Ok(())
    }

    /// A loader for the pieces `table` holds.
    pub(super) fn open_pieces_loader(
        &mut self,
        table: &TableDef,
    ) -> bru_core::Result<PiecesLoader<'_>> {
        let allowed = listed(table)?.into_iter().collect();
        let conn = self.live()?;
        let put = conn
            .block_on(conn.client.prepare(
                "SELECT pg_catalog.lo_put($1::pg_catalog.oid, $2::pg_catalog.int8, $3::pg_catalog.bytea)",
            ))
            .map_err(|e| conn.err("preparing to write large objects", &e))?;
        Ok(PiecesLoader {
            conn: &self.conn,
            shared: &self.shared,
            put,
            allowed,
            context: format!("loading {}", table.name),
            rows: 0,
            written: 0,
            in_tx: false,
        })
    }

    /// `--clean`: the archive's large objects the target has, each to be
    /// unlinked.
    pub(super) fn large_objects_to_clean(
        &mut self,
        objects: &[ObjectDef],
    ) -> bru_core::Result<Vec<u32>> {
        let oids = objects
            .iter()
            .filter(|o| is_large_object(o))
            .map(oid_of)
            .collect::<bru_core::Result<Vec<u32>>>()?;
        if oids.is_empty() {
            return Ok(Vec::new());
        }
        self.existing_large_objects(&oids)
    }
}

/// How `--clean` lists an unlinked large object.
pub(super) fn dropped(oid: u32) -> Dropped {
    Dropped::own(format!("{LARGE_OBJECT} {oid}"))
}

/// The statement that unlinks `oids`, as `pg_restore --clean` does
/// (pg_backup_db.c: `SELECT pg_catalog.lo_unlink(oid)`).
pub(super) fn unlink(oids: &[u32]) -> String {
    let listed: Vec<String> = oids.iter().map(u32::to_string).collect();
    format!(
        "SELECT pg_catalog.lo_unlink(m.oid) FROM pg_catalog.pg_largeobject_metadata m \
         WHERE m.oid IN ({})",
        listed.join(", ")
    )
}

/// Writes the pieces of large objects, one transaction per chunk.
pub(super) struct PiecesLoader<'a> {
    conn: &'a Conn,
    shared: &'a Shared,
    put: Statement,
    /// The oids the pieces may write into.
    allowed: HashSet<u32>,
    context: String,
    /// Pieces committed.
    rows: u64,
    /// Pieces written in the open transaction.
    written: u64,
    in_tx: bool,
}

impl PiecesLoader<'_> {
    fn commit(&mut self, key: Option<&str>) -> bru_core::Result<()> {
        match key {
            Some(key) => self
                .shared
                .journal
                .commit_chunk(self.conn, key, &self.context)?,
            None => self.conn.batch("COMMIT", &self.context)?,
        }
        self.in_tx = false;
        self.rows += std::mem::take(&mut self.written);
        Ok(())
    }
}

impl TableLoader for PiecesLoader<'_> {
    fn write_batch(&mut self, batch: &RowBatch) -> bru_core::Result<()> {
        if batch.column_count() != 3 {
            return Err(Error::engine(
                &self.context,
                format!(
                    "a batch of large object pieces has {} columns, not 3",
                    batch.column_count()
                ),
            ));
        }
        for row in batch.rows() {
            let piece = match row {
                [bru_core::Value::Int64(oid), bru_core::Value::Int64(offset), bru_core::Value::Bytes(data)] => {
                    u32::try_from(*oid)
                        .ok()
                        .filter(|o| self.allowed.contains(o))
                        .map(|o| (o, *offset, data))
                        .filter(|(_, offset, _)| *offset >= 0)
                }
                _ => None,
            };
            let Some((oid, offset, data)) = piece else {
                return Err(super::untrusted(
                    &self.context,
                    format!(
                        "holds a piece ({}) that is not for one of the archive's large objects \
                         at an offset of 0 or more",
                        row.iter()
                            .map(|v| match v {
                                bru_core::Value::Bytes(b) => format!("{} bytes", b.len()),
                                other => other.describe(),
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            };
            if !self.in_tx {
                self.conn.batch("BEGIN", &self.context)?;
                self.in_tx = true;
            }
            self.conn
                .block_on(self.conn.client.execute(&self.put, &[&oid, &offset, data]))
                .map_err(|e| {
                    self.conn
                        .err(&format!("writing large object {oid} at {offset}"), &e)
                })?;
            self.written += 1;
        }
        Ok(())
    }

    fn commit_chunk(&mut self, key: &str) -> bru_core::Result<()> {
        if !self.in_tx {
            return self.shared.journal.mark(self.conn, key);
        }
        self.commit(Some(key))
    }

    fn finish(mut self: Box<Self>) -> bru_core::Result<u64> {
        if self.in_tx {
            self.commit(None)?;
        }
        Ok(self.rows)
    }
}

impl Drop for PiecesLoader<'_> {
    fn drop(&mut self) {
        if self.in_tx {
            let _ = self.conn.batch("ROLLBACK", &self.context);
        }
    }
}
