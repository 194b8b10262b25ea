//! Memory stays bounded on hostile archives (issue 9): a real archive's one
//! chunk is replaced, as an attacker would, by a crafted body whose CRC and
//! totals are recomputed so that only the decoder's own bounds stand in the
//! way, and `bru verify` and `bru restore` run under an address-space cap
//! (`prlimit --as`) far below what the attacks took before (3–12 GB).
//!
//! The two attacks of the issue: a chunk claiming 2^25 all-NULL rows of 3
//! columns (a 576 KB archive that decoded to gigabytes of NULLs), and a
//! chunk of three 1 GiB text values (a 700 KB archive: zstd shrinks a run of
//! one byte to almost nothing). Both must be refused cleanly: a non-zero
//! exit, one error line naming the table and chunk, no panic, and the
//! process not killed by the cap. Skipped with one SKIPPED line where
//! `prlimit` is missing.

mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use util::{bru_ok, url, Dir};

use bru_testsupport::archive::reseal_catalog;

/// The address-space cap: a normal verify and restore of the test archive
/// pass under it (checked first), with room for mimalloc's reservations.
const CAP: u64 = 1 << 30;

fn prlimit_available() -> bool {
    Command::new("prlimit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `bru` under the address-space cap.
fn bru_capped(args: &[&str]) -> Output {
    Command::new("prlimit")
        .arg(format!("--as={CAP}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_bru"))
        .args(args)
        .output()
        .expect("run prlimit")
}

/// A SQLite database with one table `t` of three columns, and its archive.
fn backup(dir: &Dir) -> PathBuf {
    let src = dir.path("src.sqlite");
    let conn = rusqlite::Connection::open(&src).unwrap();
    conn.execute_batch(
        "CREATE TABLE t (a INTEGER, b TEXT, c BLOB);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
         INSERT INTO t SELECT i, 'row ' || i, NULL FROM n;",
    )
    .unwrap();
    drop(conn);
    let archive = dir.path("a.db");
    bru_ok(&["backup", &url(&src), archive.to_str().unwrap(), "-q"]);
    archive
}

/// A piece of a chunk body: bytes as they are, or one byte repeated.
enum Piece {
    Raw(Vec<u8>),
    Run(u8, u64),
}

/// A zstd frame (RFC 8878) of raw and RLE blocks holding `pieces`, built by
/// hand as an attacker would: a run of one byte costs 4 bytes per 128 KiB,
/// so gigabytes fit in kilobytes. No content size in the header, a 128 KiB
/// window (the block size limit).
fn zstd_frame(pieces: &[Piece]) -> Vec<u8> {
    const BLOCK: u64 = 128 << 10;
    let mut blocks: Vec<(u32, Vec<u8>)> = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Raw(bytes) => {
                for b in bytes.chunks(BLOCK as usize) {
                    blocks.push(((b.len() as u32) << 3, b.to_vec()));
                }
            }
            Piece::Run(byte, mut n) => {
                while n > 0 {
                    let len = n.min(BLOCK);
                    blocks.push((((len as u32) << 3) | (1 << 1), vec![*byte]));
                    n -= len;
                }
            }
        }
    }
    let mut out = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3];
    let last = blocks.len() - 1;
    for (i, (header, content)) in blocks.into_iter().enumerate() {
        let header = header | u32::from(i == last);
        out.extend_from_slice(&header.to_le_bytes()[..3]);
        out.extend_from_slice(&content);
    }
    out
}

/// The body header (FORMAT.md, "Chunk body") for 3 columns and `rows` rows.
fn header(rows: u64) -> Vec<u8> {
    let mut h = b"BRUC\x01".to_vec();
    h.extend_from_slice(&3u32.to_le_bytes());
    h.extend_from_slice(&rows.to_le_bytes());
    h
}

/// Replaces the one chunk of table `t` in `archive` by `pieces` (a body of
/// `rows` rows), with its CRC, lengths and the table's totals recomputed.
fn plant(archive: &Path, rows: u64, pieces: &[Piece]) {
    let raw_len: u64 = pieces
        .iter()
        .map(|p| match p {
            Piece::Raw(b) => b.len() as u64,
            Piece::Run(_, n) => *n,
        })
        .sum();
    let data = zstd_frame(pieces);
    let conn = rusqlite::Connection::open(archive).unwrap();
    let chunk: i64 = conn
        .query_row(
            "SELECT id FROM bru_chunks WHERE table_id = 0 AND seq = 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let chunks: i64 = conn
        .query_row("SELECT chunks FROM bru_tables WHERE id = 0", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(chunks, 1, "the test table must fit in one chunk");
    conn.execute_batch("BEGIN").unwrap();
    conn.execute("DELETE FROM bru_chunk_parts WHERE chunk_id = ?1", [chunk])
        .unwrap();
    conn.execute(
        "INSERT INTO bru_chunk_parts (chunk_id, part, data) VALUES (?1, 0, ?2)",
        rusqlite::params![chunk, data],
    )
    .unwrap();
    conn.execute(
        "UPDATE bru_chunks SET row_count = ?2, raw_len = ?3, stored_len = ?4, crc32 = ?5, \
         parts = 1 WHERE id = ?1",
        rusqlite::params![
            chunk,
            rows as i64,
            raw_len as i64,
            data.len() as i64,
            i64::from(crc32fast::hash(&data))
        ],
    )
    .unwrap();
    conn.execute(
        "UPDATE bru_tables SET rows = ?1, raw_bytes = ?2, stored_bytes = ?3 WHERE id = 0",
        rusqlite::params![rows as i64, raw_len as i64, data.len() as i64],
    )
    .unwrap();
    conn.execute_batch("COMMIT").unwrap();
}

/// Asserts that `bru args` under the cap failed cleanly: a non-zero exit
/// code (not a signal from the cap), no panic or allocation failure, and
/// exactly one error line naming table `t` and chunk 0.
fn refused_cleanly(args: &[&str]) -> String {
    let out = bru_capped(args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.code().is_some_and(|c| c != 0),
        "bru {args:?} under a {CAP}-byte cap should fail with an exit code, got {:?}: {stderr}",
        out.status
    );
    for bad in [
        "panicked",
        "memory allocation",
        "out of memory",
        "RUST_BACKTRACE",
    ] {
        assert!(!stderr.contains(bad), "bru {args:?}: {stderr}");
    }
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "bru {args:?}: one error line, got: {stderr}"
    );
    let line = lines[0];
    assert!(line.starts_with("bru: error: "), "{line}");
    assert!(
        line.contains("table main.t, chunk 0") || line.contains("table t, chunk 0"),
        "bru {args:?}: the error names the table and chunk: {line}"
    );
    println!("bru {}: {line}", args[0]);
    line.to_string()
}

/// Verify and restore (into a new SQLite file `target`) of `archive` both
/// refuse it cleanly; returns the verify line.
fn both_refuse(dir: &Dir, archive: &Path, target: &str) -> String {
    let a = archive.to_str().unwrap();
    let line = refused_cleanly(&["verify", a, "-q"]);
    let target = dir.path(target);
    refused_cleanly(&["restore", a, &url(&target), "-q"]);
    line
}

/// Before any attack: the untouched archive verifies and restores under the
/// same cap, so a refusal below is the decoder's and not the cap's.
fn normal_runs_fit_under_the_cap(dir: &Dir, archive: &Path) {
    let a = archive.to_str().unwrap();
    let target = dir.path("normal.sqlite");
    for args in [
        vec!["verify", a, "-q"],
        vec!["restore", a, &url(&target), "-q"],
    ] {
        let out = bru_capped(&args);
        assert!(
            out.status.success(),
            "bru {args:?} must pass under the {CAP}-byte cap: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_chunk_of_2_pow_24_all_null_rows_is_refused_under_a_1_gib_cap() {
    if !prlimit_available() {
        println!("SKIPPED: prlimit is not installed");
        return;
    }
    let dir = Dir::new();
    let archive = backup(&dir);
    normal_runs_fit_under_the_cap(&dir, &archive);
    // Three all-NULL columns: a bitmap of 2^21 bytes of ones and mode 0
    // each, 6 MiB of body in a few hundred bytes of zstd (within the body
    // a 2 MiB-chunk archive may declare, so the cell count is what gives
    // it away), and 50 M cells, 1.6 GB if they were decoded.
    let rows: u64 = 1 << 24;
    let bitmap = rows / 8;
    let mut pieces = vec![Piece::Raw(header(rows))];
    for _ in 0..3 {
        pieces.push(Piece::Raw((bitmap + 1).to_le_bytes().to_vec()));
        pieces.push(Piece::Run(0xff, bitmap));
        pieces.push(Piece::Raw(vec![0]));
    }
    plant(&archive, rows, &pieces);
    assert!(std::fs::metadata(&archive).unwrap().len() < 1 << 20);
    let line = both_refuse(&dir, &archive, "out.sqlite");
    assert!(line.contains("cells"), "{line}");
}

#[test]
fn a_chunk_of_1_gib_text_values_is_refused_under_a_1_gib_cap() {
    if !prlimit_available() {
        println!("SKIPPED: prlimit is not installed");
        return;
    }
    let dir = Dir::new();
    let archive = backup(&dir);
    // One row of three text values of 1 GiB of 'a' each: 3 GiB of body.
    let value: u64 = 1 << 30;
    let mut pieces = vec![Piece::Raw(header(1))];
    for _ in 0..3 {
        let mut head = (1 + 1 + 1 + 5 + value).to_le_bytes().to_vec();
        // Bitmap (the row is not NULL), uniform mode, text tag, then the
        // LEB128 length 2^30.
        head.extend_from_slice(&[0x00, 1, 0x08, 0x80, 0x80, 0x80, 0x80, 0x04]);
        pieces.push(Piece::Raw(head));
        pieces.push(Piece::Run(b'a', value));
    }
    plant(&archive, 1, &pieces);
    assert!(std::fs::metadata(&archive).unwrap().len() < 1 << 20);
    let line = both_refuse(&dir, &archive, "out.sqlite");
    assert!(line.contains("uncompressed bytes"), "{line}");

    // The same chunk declaring a small length, so that the length check
    // passes: decompression stops one byte past it.
    let conn = rusqlite::Connection::open(&archive).unwrap();
    conn.execute("UPDATE bru_chunks SET raw_len = 1000000", [])
        .unwrap();
    conn.execute("UPDATE bru_tables SET raw_bytes = 1000000", [])
        .unwrap();
    drop(conn);
    let line = both_refuse(&dir, &archive, "out2.sqlite");
    assert!(line.contains("decompression yields more"), "{line}");
}

#[test]
fn totals_claiming_2_pow_63_in_every_table_are_refused_without_a_panic() {
    // Found by crafting totals by hand: `bru list` summed the totals of four
    // tables and overflowed (a panic in a debug build, a wrong sum in a
    // release one).
    let dir = Dir::new();
    let src = dir.path("src.sqlite");
    let conn = rusqlite::Connection::open(&src).unwrap();
    for t in ["t", "u", "v", "w"] {
        conn.execute_batch(&format!(
            "CREATE TABLE {t} (a INTEGER); INSERT INTO {t} VALUES (1), (2);"
        ))
        .unwrap();
    }
    drop(conn);
    let archive = dir.path("a.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &url(&src), a, "-q"]);
    for field in ["rows", "raw_bytes", "stored_bytes", "chunks"] {
        let conn = rusqlite::Connection::open(&archive).unwrap();
        let backup: Vec<(i64, i64)> = conn
            .prepare(&format!("SELECT id, {field} FROM bru_tables"))
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        conn.execute(&format!("UPDATE bru_tables SET {field} = ?1"), [i64::MAX])
            .unwrap();
        drop(conn);
        let out = util::bru(&["list", a]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "list with {field} = 2^63 - 1: {stderr}"
        );
        for args in [
            vec!["verify", a, "-q"],
            vec![
                "restore",
                a,
                &url(&dir.path(&format!("{field}.sqlite"))),
                "-q",
            ],
        ] {
            util::bru_fails(&args, &["is damaged", "table"]);
        }
        let conn = rusqlite::Connection::open(&archive).unwrap();
        for (id, value) in backup {
            conn.execute(
                &format!("UPDATE bru_tables SET {field} = ?2 WHERE id = ?1"),
                [id, value],
            )
            .unwrap();
        }
    }
}

#[test]
fn a_catalog_of_a_million_and_a_half_tiny_objects_is_refused_under_a_1_gib_cap() {
    if !prlimit_available() {
        println!("SKIPPED: prlimit is not installed");
        return;
    }
    // 1.5 million definitions of some 60 bytes (90 MB, within the catalog's
    // byte bound) parse into some 700 bytes each: before the bound on their
    // number, verify, list and restore died of a failed 500 MB allocation.
    let dir = Dir::new();
    let archive = backup(&dir);
    let conn = rusqlite::Connection::open(&archive).unwrap();
    conn.execute_batch(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1499999)
         INSERT INTO bru_objects (id, def) SELECT i, '{\"kind\":\"view\",\"name\":{\"name\":\"v'
             || i || '\"},\"engine\":\"mssql\",\"ddl\":\"x\"}' FROM n;",
    )
    .unwrap();
    reseal_catalog(&conn);
    drop(conn);
    let a = archive.to_str().unwrap();
    let target = dir.path("objects.sqlite");
    for args in [
        vec!["verify", a, "-q"],
        vec!["list", a],
        vec!["restore", a, &url(&target), "-q"],
    ] {
        let out = bru_capped(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.code().is_some_and(|c| c != 0),
            "bru {args:?} should fail with an exit code, got {:?}: {stderr}",
            out.status
        );
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "bru {args:?}: one error line: {stderr}");
        assert!(
            lines[0].starts_with("bru: error: ")
                && lines[0].contains("1500000 object definitions, more than the 524288"),
            "bru {args:?}: {stderr}"
        );
    }
}

#[test]
fn a_view_of_60_mb_of_sql_is_refused_under_a_1_gib_cap() {
    if !prlimit_available() {
        println!("SKIPPED: prlimit is not installed");
        return;
    }
    // Checking an entry's SQL reads it into tokens of some 24 bytes each:
    // 60 MB of `,1` (within the catalog's bounds) took a 800 MB allocation
    // and verify and restore aborted under the cap.
    let dir = Dir::new();
    let archive = backup(&dir);
    let ddl = format!("CREATE VIEW v AS SELECT 1{}", ",1".repeat(30_000_000));
    let def = serde_json::json!({
        "kind": "view", "name": {"name": "v"}, "engine": "sqlite", "ddl": ddl,
        "depends_on": [{"name": "t"}],
    });
    let conn = rusqlite::Connection::open(&archive).unwrap();
    conn.execute(
        "INSERT INTO bru_objects (id, def) VALUES (0, ?1)",
        [def.to_string()],
    )
    .unwrap();
    reseal_catalog(&conn);
    drop(conn);
    let a = archive.to_str().unwrap();
    let target = dir.path("view.sqlite");
    for args in [
        vec!["verify", a, "-q"],
        vec!["restore", a, &url(&target), "-q"],
    ] {
        let out = bru_capped(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.code().is_some_and(|c| c != 0),
            "bru {args:?} should fail with an exit code, got {:?}: {stderr}",
            out.status
        );
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "bru {args:?}: one error line: {stderr}");
        assert!(
            lines[0].contains("catalog entry view v holds 60000025 bytes of SQL"),
            "bru {args:?}: {stderr}"
        );
    }
}
