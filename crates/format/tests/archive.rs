//! Writer → reader round trips on real files, and damaged archives each
//! rejected with the message a user needs.

use std::path::{Path, PathBuf};
use std::process::Command;

use bru_core::{
    Catalog, ObjectDef, ObjectKind, RowBatch, SourceInfo, TableChecksum, TableName, Value,
};
use bru_format::{
    encode_chunk, ArchiveReader, ArchiveState, ArchiveWriter, EncodedChunk, Error, TableEntry,
    TableTotals, WriterOptions, FORMAT_VERSION, MAX_RAW_LEN,
};
use bru_testsupport::tables::int_table;
use rusqlite::Connection;

fn source() -> SourceInfo {
    SourceInfo {
        engine: "sqlite".into(),
        version: "3.50.0".into(),
        database: "wfm.sqlite".into(),
    }
}

fn options(force: bool) -> WriterOptions {
    WriterOptions {
        force,
        compress_level: 3,
        tool_version: "0.1.0-test".into(),
        chunk_bytes: bru_format::DEFAULT_CHUNK_BYTES,
    }
}

/// Bytes that zstd cannot shrink, from a fixed seed.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A batch of `rows` rows: an integer, a text with NUL and non-ASCII, and
/// an incompressible blob of `blob` bytes.
fn batch(rows: usize, first: i64, blob: usize) -> RowBatch {
    let mut b = RowBatch::new(3);
    for r in 0..rows {
        let id = first + r as i64;
        b.push_row([
            Value::Int64(id),
            if id % 5 == 0 {
                Value::Null
            } else {
                Value::Text(format!("row\0{id} é"))
            },
            Value::Bytes(noise(blob, 2 * id as u64)),
        ]);
    }
    b
}

/// Tables written by [`write_sample`]: name and chunks.
fn sample() -> Vec<(&'static str, Vec<RowBatch>)> {
    vec![
        (
            "agents",
            vec![batch(10, 0, 10), batch(10, 10, 10), batch(7, 20, 10)],
        ),
        ("empty", vec![]),
        // One chunk of ~6 KB of noise, split into parts of 1000 bytes.
        ("audit", vec![batch(3, 100, 2000)]),
    ]
}

fn catalog_of(tables: &[(&str, Vec<RowBatch>)]) -> Catalog {
    Catalog {
        tables: tables.iter().map(|(n, _)| int_table(n, 3)).collect(),
        objects: vec![ObjectDef::new(
            ObjectKind::View,
            TableName::bare("v_agents"),
            "sqlite",
            "CREATE VIEW v_agents AS SELECT * FROM agents",
        )],
    }
}

/// Writes `tables` (finishing each table and the archive); returns the
/// totals written per table.
fn write_archive(path: &Path, tables: &[(&str, Vec<RowBatch>)]) -> Vec<TableTotals> {
    let mut w = ArchiveWriter::create(path, &source(), &options(false)).unwrap();
    w.set_part_len(1000);
    let ids = w.write_catalog(&catalog_of(tables)).unwrap();
    let mut all = Vec::new();
    for (id, (_, batches)) in ids.iter().zip(tables) {
        let totals = write_table(&mut w, *id, batches);
        w.finish_table(*id, &totals).unwrap();
        all.push(totals);
    }
    let meta = w.finish().unwrap();
    assert_eq!(meta.state, ArchiveState::Complete);
    all
}

fn write_table(w: &mut ArchiveWriter, id: i64, batches: &[RowBatch]) -> TableTotals {
    let mut totals = TableTotals::default();
    let mut sum = TableChecksum::new();
    for b in batches {
        let chunk = encode_chunk(b, 3).unwrap();
        w.write_chunk(id, &chunk).unwrap();
        b.rows().for_each(|r| sum.add_row(r));
        totals.rows += chunk.row_count;
        totals.raw_bytes += chunk.raw_len;
        totals.stored_bytes += chunk.data.len() as u64;
        totals.chunks += 1;
    }
    totals.checksum = sum.value();
    totals
}

fn sample_archive(dir: &Path) -> PathBuf {
    let path = dir.join("backup.db");
    write_archive(&path, &sample());
    path
}

/// Reads and decodes every chunk of every table.
fn read_all(path: &Path) -> Result<Vec<(TableEntry, Vec<RowBatch>)>, Error> {
    let r = ArchiveReader::open(path)?;
    r.require_complete()?;
    let mut out = Vec::new();
    for t in r.tables()? {
        let mut batches = Vec::new();
        for stored in r.chunks(t.id)? {
            batches.push(r.decode(&t, &stored?)?);
        }
        out.push((t, batches));
    }
    Ok(out)
}

fn err_of<T>(r: Result<T, Error>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

fn sql(path: &Path, statement: &str) {
    Connection::open(path)
        .unwrap()
        .execute_batch(statement)
        .unwrap();
}

#[test]
fn several_tables_and_chunks_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backup.db");
    let tables = sample();
    let totals = write_archive(&path, &tables);

    let r = ArchiveReader::open(&path).unwrap();
    let meta = r.meta();
    assert_eq!(meta.format_version, FORMAT_VERSION);
    assert_eq!(meta.state, ArchiveState::Complete);
    assert_eq!(meta.source, source());
    assert_eq!(meta.tool_version, "0.1.0-test");
    assert_eq!(meta.compress_level, 3);
    assert!(meta.created_at.ends_with('Z') && meta.created_at.len() == 20);
    r.require_complete().unwrap();
    assert_eq!(r.catalog().unwrap(), catalog_of(&tables));
    assert_eq!(r.path(), path);

    let read = read_all(&path).unwrap();
    assert_eq!(read.len(), tables.len());
    for ((entry, batches), ((name, written), totals)) in read.iter().zip(tables.iter().zip(&totals))
    {
        assert_eq!(entry.def.name.name, *name);
        assert_eq!(entry.totals.as_ref(), Some(totals));
        assert_eq!(r.chunk_count(entry.id).unwrap(), written.len() as u64);
        assert_eq!(batches.len(), written.len());
        let mut sum = TableChecksum::new();
        for (got, want) in batches.iter().zip(written) {
            assert_eq!(got, want);
            got.rows().for_each(|row| sum.add_row(row));
        }
        assert_eq!(sum.value(), totals.checksum);
    }

    // The big chunk really was split into parts, none above the part size.
    let conn = Connection::open(&path).unwrap();
    let (parts, stored, longest): (i64, i64, i64) = conn
        .query_row(
            "SELECT parts, stored_len, (SELECT max(length(data)) FROM bru_chunk_parts) \
             FROM bru_chunks WHERE table_id = 2",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert!(stored > 6000, "{stored} stored bytes");
    assert_eq!(parts, (stored + 999) / 1000);
    assert!(longest <= 1000);
    let (page_size, app_id, version): (i64, i64, i64) = conn
        .query_row(
            "SELECT * FROM pragma_page_size, pragma_application_id, pragma_user_version",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (page_size, app_id, version),
        (65536, 0x6272_7531, FORMAT_VERSION as i64)
    );
    let journal: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "delete");
}

#[test]
fn a_flipped_byte_in_a_chunk_is_a_crc_mismatch_naming_table_and_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_archive(dir.path());
    // Find the stored bytes of chunk 1 of `agents` in the raw file and flip
    // one in the middle.
    let stored = {
        let r = ArchiveReader::open(&path).unwrap();
        let chunk = r.chunks(0).unwrap().nth(1).unwrap().unwrap();
        chunk.chunk.data
    };
    let mut file = std::fs::read(&path).unwrap();
    let at = file
        .windows(stored.len())
        .position(|w| w == stored)
        .expect("chunk bytes are in the file");
    file[at + stored.len() / 2] ^= 0x01;
    std::fs::write(&path, &file).unwrap();

    let r = ArchiveReader::open(&path).unwrap();
    let mut chunks = r.chunks(0).unwrap();
    assert!(chunks.next().unwrap().is_ok());
    let err = chunks.next().unwrap().unwrap_err();
    assert!(matches!(err, Error::CrcMismatch { seq: 1, .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("table agents, chunk 1: CRC mismatch") && msg.contains("backup.db"),
        "{msg}"
    );
    assert!(chunks.next().is_none(), "iteration stops after an error");
}

#[test]
fn a_truncated_file_is_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_archive(dir.path());
    let len = std::fs::metadata(&path).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len / 2).unwrap();
    drop(file);
    let msg = err_of(ArchiveReader::open(&path));
    assert!(msg.contains("is damaged: the file is truncated"), "{msg}");

    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(50)
        .unwrap();
    let msg = err_of(ArchiveReader::open(&path));
    assert!(msg.contains("truncated"), "{msg}");
}

#[test]
fn a_missing_chunk_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_archive(dir.path());
    sql(
        &path,
        "DELETE FROM bru_chunks WHERE table_id = 0 AND seq = 1",
    );
    let msg = err_of(read_all(&path));
    assert!(msg.contains("missing chunk 1 of table agents"), "{msg}");

    // The last chunk gone: only the totals can tell.
    let path = dir.path().join("last.db");
    write_archive(&path, &sample());
    sql(
        &path,
        "DELETE FROM bru_chunks WHERE table_id = 0 AND seq = 2",
    );
    let msg = err_of(read_all(&path));
    assert!(msg.contains("missing chunk 2 of table agents"), "{msg}");

    // A chunk more than the totals record.
    let path = dir.path().join("extra.db");
    write_archive(&path, &sample());
    sql(&path, "UPDATE bru_tables SET chunks = 2 WHERE id = 0");
    let msg = err_of(read_all(&path));
    assert!(msg.contains("more chunks than the 2"), "{msg}");

    // A missing part of a chunk.
    let path = dir.path().join("part.db");
    write_archive(&path, &sample());
    sql(
        &path,
        "DELETE FROM bru_chunk_parts WHERE part = 2 AND chunk_id = \
         (SELECT id FROM bru_chunks WHERE table_id = 2 AND seq = 0)",
    );
    let msg = err_of(read_all(&path));
    assert!(msg.contains("chunk 0 of table audit declares"), "{msg}");
}

#[test]
fn every_archive_has_its_own_id() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    write_archive(&a, &sample());
    write_archive(&b, &sample());
    let id = |p: &Path| ArchiveReader::open(p).unwrap().meta().archive_id.clone();
    let (ia, ib) = (id(&a), id(&b));
    assert_eq!(ia.len(), 32, "{ia}");
    assert!(ia
        .bytes()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    assert_ne!(ia, ib, "two archives made in the same second share an id");
}

#[test]
fn chunks_from_starts_mid_table_with_the_same_checks() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_archive(dir.path());
    let r = ArchiveReader::open(&path).unwrap();
    let seqs = |first: u64| -> Vec<u64> {
        r.chunks_from(0, first)
            .unwrap()
            .map(|c| c.unwrap().seq)
            .collect()
    };
    assert_eq!(seqs(0), [0, 1, 2]);
    assert_eq!(seqs(1), [1, 2]);
    assert_eq!(seqs(3), Vec::<u64>::new());
    drop(r);

    // A gap after the start is still found; one before it is not read.
    sql(
        &path,
        "DELETE FROM bru_chunks WHERE table_id = 0 AND seq = 1",
    );
    let r = ArchiveReader::open(&path).unwrap();
    let from_two: Vec<u64> = r
        .chunks_from(0, 2)
        .unwrap()
        .map(|c| c.unwrap().seq)
        .collect();
    assert_eq!(from_two, [2]);
    let msg = r
        .chunks_from(0, 1)
        .unwrap()
        .find_map(|c| c.err())
        .map(|e| e.to_string())
        .expect("a missing chunk");
    assert!(msg.contains("missing chunk 1 of table agents"), "{msg}");
}

#[test]
fn a_tampered_catalog_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_archive(dir.path());
    sql(
        &path,
        "UPDATE bru_tables SET def = replace(def, '\"c1\"', '\"cx\"') WHERE id = 0",
    );
    let r = ArchiveReader::open(&path).unwrap();
    let msg = err_of(r.catalog());
    assert!(
        msg.contains("the catalog does not match its checksum") && msg.contains("changed"),
        "{msg}"
    );
    assert!(err_of(r.tables()).contains("checksum"));

    // Swapping a table into the object list is caught too.
    let path = dir.path().join("moved.db");
    write_archive(&path, &sample());
    sql(&path, "DELETE FROM bru_objects");
    let msg = err_of(ArchiveReader::open(&path).unwrap().catalog());
    assert!(msg.contains("does not match its checksum"), "{msg}");
}

#[test]
fn plain_sqlite_random_bytes_empty_and_directories_are_not_archives() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.db");
    sql(&plain, "CREATE TABLE t (x); INSERT INTO t VALUES (1);");
    let msg = err_of(ArchiveReader::open(&plain));
    assert!(
        msg.contains(
            "is not a bru archive: it is an SQLite database without the bru application id"
        ),
        "{msg}"
    );

    let random = dir.path().join("random.db");
    std::fs::write(&random, noise(10_000, 42)).unwrap();
    let msg = err_of(ArchiveReader::open(&random));
    assert!(
        msg.contains("is not a bru archive: it is not an SQLite database"),
        "{msg}"
    );

    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let msg = err_of(ArchiveReader::open(&empty));
    assert!(
        msg.contains("is not a bru archive: the file is empty"),
        "{msg}"
    );

    let msg = err_of(ArchiveReader::open(dir.path()));
    assert!(msg.contains("it is a directory"), "{msg}");

    let missing = dir.path().join("missing.db");
    let msg = err_of(ArchiveReader::open(&missing));
    assert_eq!(msg, format!("no such file: {}", missing.display()));
    assert!(!missing.exists(), "opening must not create the file");
}

#[test]
fn a_chunk_declaring_a_huge_length_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_archive(dir.path());
    let decode_first = |path: &Path| -> Result<RowBatch, Error> {
        let r = ArchiveReader::open(path)?;
        let t = r.tables()?.remove(0);
        let stored = r.chunks(t.id)?.next().unwrap()?;
        r.decode(&t, &stored)
    };

    sql(
        &path,
        "UPDATE bru_chunks SET raw_len = 1 << 40 WHERE table_id = 0 AND seq = 0",
    );
    let msg = err_of(decode_first(&path));
    assert!(
        msg.contains(
            "table agents, chunk 0: it declares 1099511627776 uncompressed bytes, more than the"
        ),
        "{msg}"
    );

    // At the archive's own limit the length is accepted, but decompression
    // stops where the data ends: no buffer of that size is made.
    let limit = {
        let r = ArchiveReader::open(&path).unwrap();
        let t = r.tables().unwrap().remove(0);
        r.meta().limits.max_raw_len(t.def.columns.len() as u64)
    };
    assert!(limit < MAX_RAW_LEN);
    let started = std::time::Instant::now();
    sql(
        &path,
        &format!("UPDATE bru_chunks SET raw_len = {limit} WHERE table_id = 0 AND seq = 0"),
    );
    let msg = err_of(decode_first(&path));
    assert!(msg.contains("decompression yields"), "{msg}");
    assert!(started.elapsed().as_secs() < 5);

    // A huge stored length is refused before reading any part.
    sql(
        &path,
        "UPDATE bru_chunks SET raw_len = 1, stored_len = 1 << 50",
    );
    let msg = err_of(decode_first(&path));
    assert!(msg.contains("above the limit"), "{msg}");
    sql(&path, "UPDATE bru_chunks SET stored_len = 4000000000");
    let msg = err_of(decode_first(&path));
    assert!(
        msg.contains("declares 4000000000 stored bytes, more than the"),
        "{msg}"
    );
    sql(&path, "UPDATE bru_chunks SET stored_len = 4000000");
    let msg = err_of(decode_first(&path));
    assert!(
        msg.contains("declares 4000000 stored bytes but its parts hold"),
        "{msg}"
    );

    // A chunk body that claims many rows but holds few bytes: the writer
    // refuses more cells than its chunk size allows, the reader fewer that
    // the bytes present cannot hold.
    let path = dir.path().join("rows.db");
    let crafted = |rows: u64| {
        let mut body = b"BRUC\x01".to_vec();
        body.extend_from_slice(&3u32.to_le_bytes());
        body.extend_from_slice(&rows.to_le_bytes());
        let data = zstd::bulk::compress(&body, 3).unwrap();
        EncodedChunk {
            row_count: rows,
            raw_len: body.len() as u64,
            crc32: crc32fast::hash(&data),
            data,
            max_value_len: 0,
        }
    };
    let mut w = ArchiveWriter::create(&path, &source(), &options(false)).unwrap();
    w.write_catalog(&catalog_of(&[("agents", vec![])])).unwrap();
    let msg = err_of(w.write_chunk(0, &crafted(1 << 25)));
    assert!(msg.contains("larger than a reader accepts"), "{msg}");
    drop(w);
    std::fs::remove_file(&path).unwrap();
    let chunk = crafted(1 << 20);
    let mut w = ArchiveWriter::create(&path, &source(), &options(false)).unwrap();
    w.write_catalog(&catalog_of(&[("agents", vec![])])).unwrap();
    w.write_chunk(0, &chunk).unwrap();
    let totals = TableTotals {
        chunks: 1,
        ..Default::default()
    };
    w.finish_table(0, &totals).unwrap();
    drop(w);
    let r = ArchiveReader::open(&path).unwrap();
    let t = r.tables().unwrap().remove(0);
    let stored = r.chunks(0).unwrap().next().unwrap().unwrap();
    let msg = err_of(r.decode(&t, &stored));
    assert!(msg.contains("but only 0 bytes follow the header"), "{msg}");
}

#[test]
fn a_newer_format_version_asks_for_an_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_archive(dir.path());
    // Version 2 is a delta archive's, 3 an encrypted one's: the newest a
    // reader knows.
    let newer = bru_format::ENCRYPTED_FORMAT_VERSION + 1;
    sql(&path, &format!("PRAGMA user_version = {newer}"));
    let msg = err_of(ArchiveReader::open(&path));
    assert!(
        msg.contains(&format!(
            "has format version {newer}, which is newer than this bru supports ({}); upgrade bru",
            newer - 1
        )),
        "{msg}"
    );
    // A full archive's metadata under a delta's version is damaged.
    sql(
        &path,
        &format!("PRAGMA user_version = {}", bru_format::DELTA_FORMAT_VERSION),
    );
    let msg = err_of(ArchiveReader::open(&path));
    assert!(msg.contains("damaged"), "{msg}");
    let _ = FORMAT_VERSION;
}

#[test]
fn a_writer_dropped_without_finish_leaves_an_incomplete_archive() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backup.db");
    let tables = sample();
    {
        let mut w = ArchiveWriter::create(&path, &source(), &options(false)).unwrap();
        // Even before the catalog, the file is an archive in progress.
        let r = ArchiveReader::open(&path).unwrap();
        assert_eq!(r.meta().state, ArchiveState::InProgress);
        assert_eq!(r.catalog().unwrap(), Catalog::default());

        w.write_catalog(&catalog_of(&tables)).unwrap();
        let totals = write_table(&mut w, 0, &tables[0].1);
        w.finish_table(0, &totals).unwrap();
        // Written but not committed: lost with the writer.
        w.write_chunk(2, &encode_chunk(&tables[2].1[0], 3).unwrap())
            .unwrap();
        // A reader meanwhile (`bru list` during a backup) sees the last commit.
        let r = ArchiveReader::open(&path).unwrap();
        assert_eq!(r.meta().state, ArchiveState::InProgress);
        assert_eq!(r.chunk_count(0).unwrap(), 3);
        assert_eq!(r.chunk_count(2).unwrap(), 0);
    }
    let r = ArchiveReader::open(&path).unwrap();
    assert_eq!(r.meta().state, ArchiveState::InProgress);
    let msg = err_of(r.require_complete());
    assert_eq!(
        msg,
        format!(
            "archive {} is incomplete: the backup did not finish; take a new backup",
            path.display()
        )
    );
    let entries = r.tables().unwrap();
    assert!(entries[0].totals.is_some());
    assert!(entries[2].totals.is_none());
    assert_eq!(r.chunks(0).unwrap().count(), 3);
    assert_eq!(r.chunks(2).unwrap().count(), 0);
}

#[test]
fn an_existing_file_is_not_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backup.db");
    std::fs::write(&path, b"precious").unwrap();
    let msg = err_of(ArchiveWriter::create(&path, &source(), &options(false)));
    assert_eq!(
        msg,
        format!(
            "{} already exists; use --force to overwrite it",
            path.display()
        )
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");

    // With force, the old file and a stale journal of it are replaced.
    let journal = dir.path().join("backup.db-journal");
    std::fs::write(&journal, noise(4096, 7)).unwrap();
    let w = ArchiveWriter::create(&path, &source(), &options(true)).unwrap();
    assert!(!journal.exists());
    w.write_catalog_and_finish_empty();
    let r = ArchiveReader::open(&path).unwrap();
    r.require_complete().unwrap();
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("backup.db")]);
}

/// Finishing an archive of an empty database.
trait FinishEmpty {
    fn write_catalog_and_finish_empty(self);
}

impl FinishEmpty for ArchiveWriter {
    fn write_catalog_and_finish_empty(mut self) {
        self.write_catalog(&Catalog::default()).unwrap();
        self.finish().unwrap();
    }
}

#[test]
fn writer_misuse_is_an_error_not_a_complete_archive() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backup.db");
    let mut w = ArchiveWriter::create(&path, &source(), &options(false)).unwrap();
    let chunk = encode_chunk(&batch(1, 0, 1), 3).unwrap();
    assert!(err_of(w.write_chunk(0, &chunk)).contains("before the catalog"));
    w.write_catalog(&catalog_of(&sample())).unwrap();
    assert!(err_of(w.write_catalog(&Catalog::default())).contains("already written"));
    assert!(err_of(w.write_chunk(9, &chunk)).contains("no table with id 9"));
    let mut bad = chunk.clone();
    bad.crc32 ^= 1;
    assert!(err_of(w.write_chunk(0, &bad)).contains("CRC"));
    w.write_chunk(0, &chunk).unwrap();
    let totals = TableTotals {
        chunks: 2,
        ..Default::default()
    };
    assert!(err_of(w.finish_table(0, &totals)).contains("totals say 2 chunks but 1 were written"));
    let msg = err_of(w.finish());
    assert!(msg.contains("table agents was not finished"), "{msg}");
    let r = ArchiveReader::open(&path).unwrap();
    assert_eq!(r.meta().state, ArchiveState::InProgress);
}

/// Set in the environment of the child process that plays a backup killed
/// in the middle of a transaction.
const KILL_ENV: &str = "BRU_FORMAT_TEST_KILL_AT";

/// Not a test on its own (hence ignored): run as a child process by the
/// test below, with [`KILL_ENV`] set, it writes one finished table and part
/// of another, then kills itself with SIGKILL in the middle of an
/// uncommitted transaction.
#[test]
#[ignore = "helper process of a_backup_killed_mid_transaction_leaves_an_incomplete_but_readable_archive"]
fn killed_writer_child() {
    let Some(path) = std::env::var_os(KILL_ENV) else {
        return;
    };
    let path = PathBuf::from(path);
    let tables = sample();
    let mut w = ArchiveWriter::create(&path, &source(), &options(false)).unwrap();
    w.write_catalog(&catalog_of(&tables)).unwrap();
    let totals = write_table(&mut w, 0, &tables[0].1);
    w.finish_table(0, &totals).unwrap();
    // 40 MiB of noise: more than SQLite's page cache, so pages are spilled
    // into the file before the commit that never comes.
    for i in 0..10 {
        let big = RowBatch::from_values(
            3,
            vec![
                Value::Int64(i),
                Value::Null,
                Value::Bytes(noise(4 << 20, i as u64)),
            ],
        );
        w.write_chunk(2, &encode_chunk(&big, 1).unwrap()).unwrap();
    }
    // SIGKILL: no destructor runs, SQLite gets no chance to roll back.
    let _ = Command::new("kill")
        .args(["-KILL", &std::process::id().to_string()])
        .status();
    std::process::exit(1);
}

#[test]
fn a_backup_killed_mid_transaction_leaves_an_incomplete_but_readable_archive() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("killed.db");
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "killed_writer_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(KILL_ENV, &path)
        .status()
        .unwrap();
    assert!(!status.success(), "the child was meant to die");
    let journal = dir.path().join("killed.db-journal");
    assert!(journal.exists(), "the killed writer leaves a hot journal");

    let r = ArchiveReader::open(&path).unwrap();
    assert!(
        !journal.exists(),
        "opening rolled the interrupted transaction back"
    );
    assert_eq!(r.meta().state, ArchiveState::InProgress);
    assert!(err_of(r.require_complete()).contains("is incomplete"));
    let entries = r.tables().unwrap();
    assert_eq!(entries[0].totals.map(|t| t.chunks), Some(3));
    assert!(entries[2].totals.is_none());
    let agents: Vec<_> = r
        .chunks(0)
        .unwrap()
        .map(|c| r.decode(&entries[0], &c.unwrap()).unwrap())
        .collect();
    assert_eq!(agents, sample().remove(0).1);
    assert_eq!(r.chunks(2).unwrap().count(), 0);
}
