//! Helpers shared by the integration tests: restoring one SQLite file into
//! another through the Source and Target traits, and dumping a database
//! cell by cell with each cell's storage class.

#![allow(dead_code)]

use std::path::Path;

use bru_core::{BatchLimits, Catalog, ObjectOutcome, Source, Target};
use bru_sqlite::{SqliteSource, SqliteTarget};
use rusqlite::types::Value as SqlValue;
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

/// One cell as `class:exact value` (reals by their bits, text and blobs in
/// hex), so comparing strings compares storage class and value exactly.
pub fn cell(v: SqlValue) -> String {
    match v {
        SqlValue::Null => "null".into(),
        SqlValue::Integer(i) => format!("integer:{i}"),
        SqlValue::Real(r) => format!("real:{:016x}", r.to_bits()),
        SqlValue::Text(t) => format!("text:{}", hex(t.as_bytes())),
        SqlValue::Blob(b) => format!("blob:{}", hex(&b)),
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Every row of `table` in rowid order (with the rowid first), or primary
/// key order for a WITHOUT ROWID table.
pub fn dump_table(conn: &Connection, table: &str) -> Vec<Vec<String>> {
    let quoted = format!("\"{}\"", table.replace('"', "\"\""));
    let with_rowid = format!("SELECT _rowid_, * FROM {quoted} ORDER BY _rowid_");
    let mut stmt = match conn.prepare(&with_rowid) {
        Ok(s) => s,
        Err(_) => {
            let pk: Vec<String> = conn
                .prepare("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")
                .unwrap()
                .query_map([table], |r| r.get::<_, String>(0))
                .unwrap()
                .map(|n| format!("\"{}\"", n.unwrap()))
                .collect();
            conn.prepare(&format!(
                "SELECT * FROM {quoted} ORDER BY {}",
                pk.join(", ")
            ))
            .unwrap()
        }
    };
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n)
            .map(|i| r.get::<_, SqlValue>(i).map(cell))
            .collect::<rusqlite::Result<Vec<_>>>()
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
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
