//! What a crafted archive file can make the reader do (issue 9): run no SQL
//! of its own (plain tables only, `trusted_schema=OFF`), make it hold no
//! more metadata or catalog than the documented bounds, and raise the
//! limits on its chunks no further than the caps. The recorded limits
//! themselves: what the writer records, and what an archive written before
//! them reads with.

use std::path::{Path, PathBuf};

use bru_core::{Catalog, RowBatch, SourceInfo, Value};
use bru_format::{
    encode_chunk, ArchiveReader, ArchiveWriter, ChunkLimits, TableTotals, WriterOptions,
    DEFAULT_CHUNK_BYTES, MAX_CATALOG_ENTRIES, MAX_CHUNK_BYTES, MAX_COLUMNS, MAX_VALUE_BYTES,
};
use bru_testsupport::archive::reseal_catalog;
use bru_testsupport::tables::int_table;
use rusqlite::Connection;

/// An archive of one table `t` (2 columns) in one chunk whose longest value
/// is 11 bytes, written with `chunk_bytes`.
fn archive(dir: &Path, chunk_bytes: usize) -> PathBuf {
    let path = dir.join("a.db");
    let mut w = ArchiveWriter::create(
        &path,
        &SourceInfo {
            engine: "sqlite".into(),
            version: "3.50.0".into(),
            database: "t.sqlite".into(),
        },
        &WriterOptions {
            force: false,
            compress_level: 3,
            tool_version: "0.1.0-test".into(),
            chunk_bytes,
        },
    )
    .unwrap();
    let ids = w
        .write_catalog(&Catalog {
            tables: vec![int_table("t", 2)],
            objects: vec![],
        })
        .unwrap();
    let mut b = RowBatch::new(2);
    b.push_row([Value::Int64(1), Value::Text("hello world".into())]);
    b.push_row([Value::Int64(2), Value::Null]);
    let chunk = encode_chunk(&b, 3).unwrap();
    assert_eq!(chunk.max_value_len, 11);
    w.write_chunk(ids[0], &chunk).unwrap();
    w.finish_table(
        ids[0],
        &TableTotals {
            rows: 2,
            raw_bytes: chunk.raw_len,
            stored_bytes: chunk.data.len() as u64,
            chunks: 1,
            checksum: 0,
        },
    )
    .unwrap();
    w.finish().unwrap();
    path
}

fn sql(path: &Path, statements: &str) {
    Connection::open(path)
        .unwrap()
        .execute_batch(statements)
        .unwrap();
}

fn open_error(path: &Path) -> String {
    match ArchiveReader::open(path) {
        Ok(_) => panic!("{} should be refused", path.display()),
        Err(e) => e.to_string(),
    }
}

/// Reads and decodes the one chunk of table `t`.
fn decode_first(path: &Path) -> Result<RowBatch, bru_format::Error> {
    let r = ArchiveReader::open(path)?;
    let t = r.tables()?.remove(0);
    let stored = r.chunks(t.id)?.next().unwrap()?;
    r.decode(&t, &stored)
}

#[test]
fn the_writer_records_its_chunk_size_and_longest_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive(dir.path(), 256 << 10);
    let r = ArchiveReader::open(&path).unwrap();
    assert_eq!(
        r.meta().limits,
        ChunkLimits {
            chunk_bytes: 256 << 10,
            max_value_bytes: 11,
        }
    );
    assert_eq!(decode_first(&path).unwrap().row_count(), 2);
}

#[test]
fn an_archive_written_before_the_limits_reads_with_the_documented_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive(dir.path(), DEFAULT_CHUNK_BYTES);
    sql(
        &path,
        "DELETE FROM bru_meta WHERE key IN ('chunk_bytes', 'max_value_bytes')",
    );
    let r = ArchiveReader::open(&path).unwrap();
    assert_eq!(r.meta().limits, ChunkLimits::default());
    assert_eq!(
        ChunkLimits::default(),
        ChunkLimits {
            chunk_bytes: 4 << 20,
            max_value_bytes: 1 << 30,
        }
    );
    assert_eq!(decode_first(&path).unwrap().row_count(), 2);
}

#[test]
fn metadata_claiming_larger_limits_is_capped() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive(dir.path(), DEFAULT_CHUNK_BYTES);
    sql(
        &path,
        "UPDATE bru_meta SET value = '18446744073709551615' WHERE key IN ('chunk_bytes', 'max_value_bytes')",
    );
    let r = ArchiveReader::open(&path).unwrap();
    assert_eq!(r.meta().limits.chunk_bytes, MAX_CHUNK_BYTES);
    assert_eq!(r.meta().limits.max_value_bytes, MAX_VALUE_BYTES);
    sql(
        &path,
        "UPDATE bru_meta SET value = 'lots' WHERE key = 'chunk_bytes'",
    );
    let msg = open_error(&path);
    assert!(msg.contains("invalid chunk_bytes \"lots\""), "{msg}");
}

#[test]
fn a_value_longer_than_the_longest_recorded_is_refused_naming_table_and_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive(dir.path(), DEFAULT_CHUNK_BYTES);
    // The real chunk holds an 11-byte value: an archive claiming 10 is
    // refused at that value, before it is copied.
    sql(
        &path,
        "UPDATE bru_meta SET value = '10' WHERE key = 'max_value_bytes'",
    );
    let msg = decode_first(&path).unwrap_err().to_string();
    assert!(
        msg.contains("table t, chunk 0: column 1: a value declares 11 bytes, more than the 10"),
        "{msg}"
    );
}

#[test]
fn a_schema_that_would_run_sql_is_refused_before_anything_is_read() {
    let cases = [
        ("CREATE VIEW bru_v AS SELECT 1", "view \"bru_v\""),
        (
            "CREATE TRIGGER bru_tr AFTER INSERT ON bru_meta BEGIN DELETE FROM bru_meta; END",
            "trigger \"bru_tr\"",
        ),
        (
            "ALTER TABLE bru_chunks ADD COLUMN g INTEGER GENERATED ALWAYS AS (row_count * 2)",
            "table bru_chunks has generated columns",
        ),
        (
            "DROP TABLE bru_objects; CREATE VIEW bru_objects AS SELECT 0 AS id, '' AS def",
            "view \"bru_objects\"",
        ),
    ];
    for (statement, expect) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = archive(dir.path(), DEFAULT_CHUNK_BYTES);
        sql(&path, statement);
        let msg = open_error(&path);
        assert!(
            msg.contains("is damaged") && msg.contains(expect),
            "{statement}: {msg}"
        );
    }
    // An unknown plain table is ignored, as FORMAT.md asks of readers.
    let dir = tempfile::tempdir().unwrap();
    let path = archive(dir.path(), DEFAULT_CHUNK_BYTES);
    sql(&path, "CREATE TABLE bru_future (x INTEGER)");
    assert_eq!(decode_first(&path).unwrap().row_count(), 2);
}

#[test]
fn oversized_metadata_and_catalog_entries_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive(dir.path(), DEFAULT_CHUNK_BYTES);
    sql(
        &path,
        "INSERT INTO bru_meta (key, value) VALUES ('x', zeroblob(100000))",
    );
    let msg = open_error(&path);
    assert!(msg.contains("metadata has"), "{msg}");

    // A definition beyond SQLite's length limit (64 MiB + 1 KiB) is refused
    // by SQLite itself before it is handed over.
    let dir = tempfile::tempdir().unwrap();
    let path = archive(dir.path(), DEFAULT_CHUNK_BYTES);
    sql(
        &path,
        "INSERT INTO bru_objects (id, def) VALUES (0, CAST(zeroblob(67200000) AS TEXT))",
    );
    let r = ArchiveReader::open(&path).unwrap();
    let msg = r.catalog().unwrap_err().to_string();
    assert!(
        msg.contains("is damaged") && msg.contains("larger than any bru writes"),
        "{msg}"
    );
}

#[test]
fn a_table_declaring_more_columns_than_any_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = archive(dir.path(), DEFAULT_CHUNK_BYTES);
    // As an attacker would: a definition with 32768 columns, and the
    // catalog CRC recomputed (FORMAT.md, "Catalog checksum").
    let def = serde_json::to_string(&int_table("t", MAX_COLUMNS + 1)).unwrap();
    let conn = Connection::open(&path).unwrap();
    conn.execute("UPDATE bru_tables SET def = ?1", [&def])
        .unwrap();
    reseal_catalog(&conn);
    drop(conn);
    let r = ArchiveReader::open(&path).unwrap();
    let msg = r.catalog().unwrap_err().to_string();
    assert!(
        msg.contains("table t declares 32768 columns, more than any database has"),
        "{msg}"
    );
    let msg = r.chunks(0).err().unwrap().to_string();
    assert!(msg.contains("32768 columns"), "{msg}");
}

#[test]
fn the_catalog_holds_a_bounded_number_of_definitions_written_and_read() {
    // Read: more definitions than the bound is refused before one is
    // parsed (tiny ones parse into far more memory than their bytes).
    let dir = tempfile::tempdir().unwrap();
    let path = archive(dir.path(), DEFAULT_CHUNK_BYTES);
    sql(
        &path,
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {MAX_CATALOG_ENTRIES})
             INSERT INTO bru_objects (id, def) SELECT i, '{{}}' FROM n"
        ),
    );
    let r = ArchiveReader::open(&path).unwrap();
    let msg = r.catalog().unwrap_err().to_string();
    assert!(
        msg.contains(&format!(
            "1 table and {} object definitions, more than the {MAX_CATALOG_ENTRIES}",
            MAX_CATALOG_ENTRIES + 1
        )),
        "{msg}"
    );

    // Written: the writer refuses what no reader would load.
    let dir = tempfile::tempdir().unwrap();
    let mut w = ArchiveWriter::create(
        &dir.path().join("w.db"),
        &SourceInfo {
            engine: "sqlite".into(),
            version: "3.50.0".into(),
            database: "t.sqlite".into(),
        },
        &WriterOptions {
            force: false,
            compress_level: 3,
            tool_version: "0.1.0-test".into(),
            chunk_bytes: DEFAULT_CHUNK_BYTES,
        },
    )
    .unwrap();
    let view = bru_core::ObjectDef::new(
        bru_core::ObjectKind::View,
        bru_core::TableName::bare("v"),
        "sqlite",
        "CREATE VIEW v AS SELECT 1",
    );
    let catalog = Catalog {
        tables: vec![int_table("t", 1)],
        objects: vec![view; MAX_CATALOG_ENTRIES],
    };
    let msg = w.write_catalog(&catalog).unwrap_err().to_string();
    assert!(
        msg.contains(&format!("{} definitions", MAX_CATALOG_ENTRIES + 1)),
        "{msg}"
    );
}
