//! Archives that must be refused: a flipped byte in a chunk, a missing chunk,
//! tampered totals, and the incomplete archive a failed backup leaves.

mod common;

use std::path::Path;

use bru_core::{BatchLimits, Catalog, RowBatch, Source, SourceInfo, TableDef};
use bru_engine::{NoProgress, RestoreMode};
use bru_format::ArchiveState;
use bru_sqlite::SqliteSource;
use common::*;
use rusqlite::params;

/// Backs up the fixture into `dir` with small chunks so that the larger
/// tables span several chunks (schedules at least four).
fn small_chunk_archive(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let source = fixture(dir);
    let archive = dir.join("backup.db");
    let mut options = backup_options();
    options.chunk_bytes = 512;
    backup(&source, &archive, &options).expect("backup");
    let schedules = bru_engine::list(&archive)
        .expect("list")
        .tables
        .into_iter()
        .find(|t| t.table == "schedules")
        .and_then(|t| t.chunks);
    assert!(schedules >= Some(4), "schedules has {schedules:?} chunks");
    (source, archive)
}

/// The archive's own SQLite connection, for damaging it on purpose.
fn raw(archive: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(archive).expect("open archive with SQLite")
}

/// The id and the first stored part of chunk `seq` of `table`; `extra` adds
/// SQL conditions on the chunk `c`.
fn chunk_part(conn: &rusqlite::Connection, table: &str, seq: i64, extra: &str) -> (i64, Vec<u8>) {
    conn.query_row(
        &format!(
            "SELECT p.chunk_id, p.data FROM bru_chunk_parts p \
             JOIN bru_chunks c ON c.id = p.chunk_id \
             JOIN bru_tables t ON t.id = c.table_id \
             WHERE t.name = ?1 AND c.seq = ?2 {extra} ORDER BY p.part LIMIT 1"
        ),
        params![table, seq],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap_or_else(|e| panic!("find chunk {seq} of {table}: {e}"))
}

/// The message of the error `verify` must end with (`what` if it does not).
fn verify_error(archive: &Path, what: &str) -> String {
    bru_engine::verify(archive, 2, &[&bru_sqlite::ENGINE], &NoProgress)
        .expect_err(what)
        .to_string()
}

#[test]
fn verify_and_restore_catch_a_flipped_byte_in_a_chunk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, archive) = small_chunk_archive(dir.path());
    let conn = raw(&archive);
    let (chunk_id, data) = chunk_part(&conn, "agents", 1, "");
    let mut data = data;
    let middle = data.len() / 2;
    data[middle] ^= 0x5a;
    conn.execute(
        "UPDATE bru_chunk_parts SET data = ?1 WHERE chunk_id = ?2 AND part = 0",
        params![data, chunk_id],
    )
    .expect("damage chunk");
    drop(conn);

    let msg = verify_error(&archive, "verify must fail");
    assert!(msg.contains("agents") && msg.contains("chunk 1"), "{msg}");
    assert!(msg.contains("backup.db"), "archive not named: {msg}");

    let target = dir.path().join("target.sqlite");
    let err = restore(&archive, &target, &restore_options(RestoreMode::Full))
        .expect_err("restore must fail");
    let msg = err.to_string();
    assert!(msg.contains("agents") && msg.contains("chunk 1"), "{msg}");
}

#[test]
fn verify_names_the_chunk_whose_body_does_not_decode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, archive) = small_chunk_archive(dir.path());
    let conn = raw(&archive);
    // Damage the bytes and record a matching CRC, so that the reader accepts
    // the chunk and the decoder on a worker thread is what finds the damage.
    let (chunk_id, data) = chunk_part(&conn, "schedules", 3, "AND c.parts = 1");
    let mut data = data;
    let len = data.len();
    data.truncate(len - 4);
    conn.execute(
        "UPDATE bru_chunk_parts SET data = ?1 WHERE chunk_id = ?2",
        params![data, chunk_id],
    )
    .expect("damage chunk");
    conn.execute(
        "UPDATE bru_chunks SET crc32 = ?1, stored_len = ?2 WHERE id = ?3",
        params![crc32fast::hash(&data), data.len() as i64, chunk_id],
    )
    .expect("fix up the CRC");
    drop(conn);

    let msg = verify_error(&archive, "verify must fail");
    assert!(
        msg.contains("schedules") && msg.contains("chunk 3"),
        "{msg}"
    );
    assert!(msg.contains("backup.db"), "archive not named: {msg}");
}

#[test]
fn verify_catches_a_missing_chunk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, archive) = small_chunk_archive(dir.path());
    let conn = raw(&archive);
    conn.execute_batch(
        "DELETE FROM bru_chunk_parts WHERE chunk_id IN (SELECT c.id FROM bru_chunks c \
           JOIN bru_tables t ON t.id = c.table_id WHERE t.name = 'schedules' AND c.seq = 2);
         DELETE FROM bru_chunks WHERE table_id = (SELECT id FROM bru_tables WHERE name = 'schedules') \
           AND seq = 2;",
    )
    .expect("remove chunk");
    drop(conn);

    let msg = verify_error(&archive, "verify must fail");
    assert!(
        msg.contains("schedules") && msg.contains("chunk 2"),
        "{msg}"
    );
}

#[test]
fn verify_catches_tampered_totals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, archive) = small_chunk_archive(dir.path());
    raw(&archive)
        .execute(
            "UPDATE bru_tables SET rows = rows + 1 WHERE name = 'sites'",
            [],
        )
        .expect("tamper rows");
    let msg = verify_error(&archive, "row count");
    assert!(msg.contains("sites") && msg.contains("row count"), "{msg}");

    raw(&archive)
        .execute_batch(
            "UPDATE bru_tables SET rows = rows - 1 WHERE name = 'sites';
             UPDATE bru_tables SET checksum = '0123456789abcdef' WHERE name = 'schedules';",
        )
        .expect("tamper checksum");
    let msg = verify_error(&archive, "checksum");
    assert!(
        msg.contains("schedules") && msg.contains("checksum"),
        "{msg}"
    );

    let target = dir.path().join("target.sqlite");
    let err = restore(&archive, &target, &restore_options(RestoreMode::Full))
        .expect_err("restore must fail on the checksum");
    assert!(err.to_string().contains("schedules"), "{err}");
}

/// The real SQLite source, with a fault injected into the stream of one
/// table: after `batches` batches the stream fails, as a dropped connection
/// or a read error would.
struct FailingMidway {
    inner: SqliteSource,
    table: &'static str,
    batches: usize,
}

impl Source for FailingMidway {
    fn info(&self) -> SourceInfo {
        self.inner.info()
    }

    fn catalog(&mut self) -> bru_core::Result<Catalog> {
        self.inner.catalog()
    }

    fn read_table(
        &mut self,
        table: &TableDef,
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> bru_core::Result<()>,
    ) -> bru_core::Result<()> {
        if table.name.name != self.table {
            return self.inner.read_table(table, limits, sink);
        }
        let mut left = self.batches;
        self.inner.read_table(table, limits, &mut |batch| {
            if left == 0 {
                return Err(bru_core::Error::engine(
                    "reading schedules",
                    "injected failure",
                ));
            }
            left -= 1;
            sink(batch)
        })
    }
}

#[test]
fn a_backup_that_fails_midway_leaves_an_incomplete_archive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = fixture(dir.path());
    let archive = dir.path().join("broken.db");
    let mut failing = FailingMidway {
        inner: SqliteSource::open(&source).expect("open source"),
        table: "schedules",
        batches: 2,
    };
    let mut options = backup_options();
    options.chunk_bytes = 512;
    let err = bru_engine::backup(&mut failing, &archive, &options, &NoProgress)
        .expect_err("backup must fail");
    let msg = err.to_string();
    assert!(
        msg.contains("schedules") && msg.contains("injected failure"),
        "{msg}"
    );

    let listing = bru_engine::list(&archive).expect("list works on incomplete archives");
    assert_eq!(listing.meta.state, ArchiveState::InProgress);
    let stats = listing
        .tables
        .iter()
        .find(|t| t.table == "schedules")
        .expect("schedules listed");
    assert_eq!(stats.rows, None);

    let err = bru_engine::verify(&archive, 2, &[&bru_sqlite::ENGINE], &NoProgress)
        .expect_err("verify must refuse");
    assert!(err.to_string().contains("incomplete"), "{err}");
    let target = dir.path().join("target.sqlite");
    let err = restore(&archive, &target, &restore_options(RestoreMode::Full))
        .expect_err("restore must refuse");
    assert!(err.to_string().contains("incomplete"), "{err}");
    assert!(
        !target.exists() || tables(&open(&target)).is_empty(),
        "restore touched the target"
    );
}
