//! Helpers shared by the integration tests: restoring one SQLite file into
//! another through the Source and Target traits, and listing a database's
//! schema and tables (its rows are dumped by bru_testsupport::sqlite).

#![allow(dead_code)]

use std::path::Path;

use bru_core::{BatchLimits, Catalog, ObjectOutcome, Source, Target};
use bru_sqlite::{SqliteSource, SqliteTarget};
use rusqlite::Connection;

/// What a restore did: the catalog, the rows loaded per table, the number
/// of batches read, and each object's outcome.
pub struct Restored {
    pub catalog: Catalog,
    pub rows: Vec<u64>,
    pub batches: usize,
    pub outcomes: Vec<ObjectOutcome>,
}

/// Restores `src` into `dst`, driving the Target phases in order.
pub fn restore(src: &Path, dst: &Path, limits: BatchLimits) -> bru_core::Result<Restored> {
    let mut source = SqliteSource::open(src)?;
    let catalog = source.catalog()?;
    let mut target = SqliteTarget::open(dst)?;
    for t in &catalog.tables {
        target.create_table(t)?;
    }
    let mut rows = Vec::new();
    let mut batches = 0;
    for t in &catalog.tables {
        let mut loader = target.load(t)?;
        source.read_table(t, limits, &mut |b| {
            assert!(b.row_count() >= 1 && b.row_count() <= limits.max_rows);
            assert_eq!(b.column_count(), t.columns.len());
            batches += 1;
            loader.write_batch(&b)
        })?;
        rows.push(loader.finish()?);
        target.restore_identity(t)?;
    }
    for t in &catalog.tables {
        target.finish_table(t)?;
    }
    let mut outcomes = Vec::new();
    for o in &catalog.objects {
        outcomes.push(target.create_object(o)?);
    }
    target.finish()?;
    Ok(Restored {
        catalog,
        rows,
        batches,
        outcomes,
    })
}

/// The schema as `(type, name, tbl_name, sql)`, sorted.
pub fn schema(conn: &Connection) -> Vec<(String, String, String, Option<String>)> {
    conn.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Names of all tables, including sqlite_sequence.
pub fn tables(conn: &Connection) -> Vec<String> {
    conn.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}
