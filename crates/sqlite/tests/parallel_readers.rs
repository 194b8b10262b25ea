//! Parallel reading of one SQLite snapshot: row estimates, rowid-range
//! parts that hold every row exactly once, and extra readers that see the
//! first connection's snapshot (rollback journal) or are refused (WAL, a
//! writer waiting to commit, a file replaced under the path).

use std::path::Path;
use std::time::{Duration, Instant};

use bru_core::{BatchLimits, Error, Source, TableDef, TablePart, Value};
use bru_sqlite::SqliteSource;
use bru_testsupport::sqlite::run_sql;
use rusqlite::{Connection, ErrorCode};

/// Small batches, so that parts span several of them.
const LIMITS: BatchLimits = BatchLimits {
    max_rows: 7,
    max_bytes: 1 << 20,
};

type Rows = Vec<Vec<Value>>;

fn read_whole(source: &mut dyn Source, table: &TableDef) -> Rows {
    let mut rows = Vec::new();
    source
        .read_table(table, LIMITS, &mut |b| {
            rows.extend(b.rows().map(<[Value]>::to_vec));
            Ok(())
        })
        .unwrap();
    rows
}

fn read_part(source: &mut dyn Source, table: &TableDef, part: &TablePart) -> Rows {
    let mut rows = Vec::new();
    source
        .read_table_part(table, part, LIMITS, &mut |b| {
            assert!(b.row_count() <= LIMITS.max_rows);
            rows.extend(b.rows().map(<[Value]>::to_vec));
            Ok(())
        })
        .unwrap();
    rows
}

/// The rows as a sorted multiset, comparable with `assert_eq!`.
fn multiset(rows: &Rows) -> Vec<String> {
    let mut keys: Vec<String> = rows.iter().map(|r| format!("{r:?}")).collect();
    keys.sort();
    keys
}

fn table<'a>(catalog: &'a bru_core::Catalog, name: &str) -> &'a TableDef {
    catalog
        .tables
        .iter()
        .find(|t| t.name.name == name)
        .unwrap_or_else(|| panic!("no table {name}"))
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int64(i) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

/// Rowids with gaps, negative ones and both extremes: the ranges of a
/// split are made from min and max alone, so every row between must still
/// land in exactly one part.
const ROWIDS: [i64; 12] = [
    i64::MIN,
    -1_000_000,
    -3,
    -1,
    0,
    1,
    2,
    50,
    51,
    1_000_000_007,
    i64::MAX - 1,
    i64::MAX,
];

fn make_rowid_tables(path: &Path) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE plain (n INTEGER, label TEXT, payload BLOB);
         CREATE TABLE keyed (id INTEGER PRIMARY KEY, label TEXT, payload BLOB);
         CREATE TABLE auto (id INTEGER PRIMARY KEY AUTOINCREMENT, label TEXT);
         CREATE TABLE named (rowid INTEGER PRIMARY KEY, label TEXT);
         CREATE TABLE dup (x INTEGER);
         CREATE TABLE shadowed (rowid TEXT, _rowid_ TEXT, oid TEXT);
         CREATE TABLE wr (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID;
         CREATE TABLE empty (a INTEGER);",
    )
    .unwrap();
    let inserts = [
        "INSERT INTO plain (rowid, n, label, payload) VALUES (?1, ?1, ?2, ?3)",
        "INSERT INTO keyed (id, label, payload) VALUES (?1, ?2, ?3)",
        "INSERT INTO auto (id, label) VALUES (?1, ?2)",
        "INSERT INTO named (rowid, label) VALUES (?1, ?2)",
    ];
    let mut stmts: Vec<_> = inserts.iter().map(|s| conn.prepare(s).unwrap()).collect();
    let mut insert = |rowid: i64, label: &str, payload: Option<Vec<u8>>| {
        for stmt in &mut stmts {
            let params: Vec<Box<dyn rusqlite::ToSql>> = vec![
                Box::new(rowid),
                Box::new(label.to_owned()),
                Box::new(payload.clone()),
            ];
            let n = stmt.parameter_count();
            stmt.execute(rusqlite::params_from_iter(params.iter().take(n)))
                .unwrap();
        }
    };
    for (i, &r) in ROWIDS.iter().enumerate() {
        insert(r, &format!("row {i}"), Some(vec![i as u8; i]));
    }
    // A dense run as well, so most parts hold several batches.
    for r in 100..400i64 {
        insert(r, "dense", None);
    }
    // Equal rows: a multiset, not a set.
    conn.execute_batch(
        "INSERT INTO dup (x) VALUES (1), (1), (1), (2), (2);
         INSERT INTO shadowed VALUES ('a', 'b', 'c'), ('d', 'e', 'f');
         INSERT INTO wr VALUES ('x', 1), ('y', 2), ('z', 3);",
    )
    .unwrap();
}

#[test]
fn parts_hold_every_row_exactly_once_in_rowid_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ranges.sqlite");
    make_rowid_tables(&path);
    let mut source = SqliteSource::open(&path).unwrap();
    let catalog = source.catalog().unwrap();

    for name in ["keyed", "auto", "named"] {
        let def = table(&catalog, name);
        let whole = read_whole(&mut source, def);
        assert_eq!(whole.len(), ROWIDS.len() + 300, "{name}");
        for parts in 1..=6 {
            let split = source.split_table(def, parts).unwrap();
            if parts >= 2 {
                assert_eq!(split.len(), parts, "{name} is split as asked: {split:?}");
            } else {
                assert_eq!(split, vec![TablePart::whole()]);
            }
            let mut all = Vec::new();
            for part in &split {
                let rows = read_part(&mut source, def, part);
                // The first column holds the rowid.
                let keys: Vec<i64> = rows.iter().map(|r| int(&r[0])).collect();
                assert!(
                    keys.windows(2).all(|w| w[0] < w[1]),
                    "{name} {}: rows in rowid order: {keys:?}",
                    part.label
                );
                all.extend(rows);
            }
            assert_eq!(multiset(&all), multiset(&whole), "{name} in {parts} parts");
        }
    }
}

#[test]
fn no_more_parts_than_rowids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("few.sqlite");
    run_sql(
        &path,
        "CREATE TABLE few (id INTEGER PRIMARY KEY, v TEXT);
             INSERT INTO few VALUES (1, 'a'), (2, 'a'), (3, 'a'), (4, 'b'), (5, 'b');",
    );
    let mut source = SqliteSource::open(&path).unwrap();
    let catalog = source.catalog().unwrap();
    let def = table(&catalog, "few");
    let split = source.split_table(def, 8).unwrap();
    assert_eq!(split.len(), 5, "{split:?}");
    let rows: Rows = split
        .iter()
        .flat_map(|p| read_part(&mut source, def, p))
        .collect();
    assert_eq!(rows, read_whole(&mut source, def));
}

#[test]
fn tables_whose_rowid_is_not_data_are_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("whole.sqlite");
    make_rowid_tables(&path);
    let mut source = SqliteSource::open(&path).unwrap();
    let catalog = source.catalog().unwrap();
    // Without an INTEGER PRIMARY KEY, a table is restored in the order its
    // rows were read, with new rowids, so it is read whole, in rowid order.
    for name in ["plain", "dup", "shadowed", "wr", "empty"] {
        let def = table(&catalog, name);
        let split = source.split_table(def, 4).unwrap();
        assert_eq!(split, vec![TablePart::whole()], "{name}");
        assert_eq!(
            read_part(&mut source, def, &split[0]),
            read_whole(&mut source, def),
            "{name}"
        );
    }
    // plain's n column holds its rowid.
    let plain: Vec<i64> = read_whole(&mut source, table(&catalog, "plain"))
        .iter()
        .map(|r| int(&r[0]))
        .collect();
    let mut sorted = plain.clone();
    sorted.sort_unstable();
    assert_eq!(plain, sorted);
    assert_eq!(plain.len(), ROWIDS.len() + 300);
}

#[test]
fn a_part_this_source_did_not_make_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("refuse.sqlite");
    make_rowid_tables(&path);
    let mut source = SqliteSource::open(&path).unwrap();
    let catalog = source.catalog().unwrap();
    let plain = table(&catalog, "plain");
    for filter in [
        "1 = 1",
        "_rowid_ >= 1 OR 1",
        "_rowid_ >= 1; DELETE FROM plain",
        "ctid >= '(0,0)'::pg_catalog.tid",
    ] {
        let part = TablePart {
            label: "forged".into(),
            filter: Some(filter.into()),
        };
        let err = source
            .read_table_part(plain, &part, LIMITS, &mut |_| Ok(()))
            .unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)), "{filter}: {err}");
        assert!(err.to_string().contains("plain"), "{err}");
    }
    // A range on a table without a rowid is refused too.
    let wr = table(&catalog, "wr");
    let keyed = table(&catalog, "keyed");
    let part = source.split_table(keyed, 2).unwrap().remove(0);
    let err = source
        .read_table_part(wr, &part, LIMITS, &mut |_| Ok(()))
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err}");
}

#[test]
fn estimated_rows_are_cheap_and_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("estimates.sqlite");
    run_sql(
        &path,
        "CREATE TABLE dense (id INTEGER PRIMARY KEY, v TEXT);
             WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5000)
             INSERT INTO dense (v) SELECT 'x' || i FROM c;
             CREATE TABLE shifted (v TEXT);
             INSERT INTO shifted (rowid, v) VALUES (-10, 'a'), (-9, 'b'), (10, 'c');
             CREATE TABLE wr (k INTEGER PRIMARY KEY, v TEXT) WITHOUT ROWID;
             INSERT INTO wr SELECT id, v FROM dense WHERE id <= 42;
             CREATE TABLE empty (a);",
    );
    let estimates = |path: &Path| -> Vec<(String, Option<u64>)> {
        let catalog = SqliteSource::open(path).unwrap().catalog().unwrap();
        catalog
            .tables
            .iter()
            .map(|t| (t.name.name.clone(), t.estimated_rows))
            .collect()
    };
    let expect = |wr: u64| {
        vec![
            ("dense".to_owned(), Some(5000)),
            // The rowid span: an overestimate when rowids have gaps.
            ("shifted".to_owned(), Some(21)),
            ("wr".to_owned(), Some(wr)),
            ("empty".to_owned(), Some(0)),
        ]
    };
    // Without statistics a WITHOUT ROWID table is counted.
    assert_eq!(estimates(&path), expect(42));
    // With them, ANALYZE's count is used, even once it is stale.
    run_sql(&path, "ANALYZE; DELETE FROM wr WHERE k > 40;");
    assert_eq!(estimates(&path), expect(42));
}

fn make_accounts(path: &Path, wal: bool) -> Connection {
    let conn = Connection::open(path).unwrap();
    if wal {
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
    conn.execute_batch(
        "CREATE TABLE account (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
         WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 2000)
         INSERT INTO account (balance) SELECT 100 FROM c;",
    )
    .unwrap();
    conn.busy_timeout(Duration::from_millis(50)).unwrap();
    conn
}

fn busy(result: rusqlite::Result<()>) -> bool {
    matches!(
        result.err().and_then(|e| e.sqlite_error_code()),
        Some(ErrorCode::DatabaseBusy)
    )
}

#[test]
fn extra_readers_see_the_first_connections_snapshot_in_rollback_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollback.sqlite");
    let writer = make_accounts(&path, false);
    let mut source = SqliteSource::open(&path).unwrap();
    let catalog = source.catalog().unwrap();
    let account = table(&catalog, "account");
    let before = read_whole(&mut source, account);
    assert_eq!(before.len(), 2000);

    // A writer with changes in hand cannot commit while the source is open.
    writer
        .execute_batch(
            "BEGIN IMMEDIATE;
             UPDATE account SET balance = balance - 10 WHERE id = 1;
             UPDATE account SET balance = balance + 10 WHERE id = 2;
             INSERT INTO account (balance) VALUES (1);",
        )
        .unwrap();
    let mut reader = source
        .open_reader()
        .unwrap()
        .expect("a second reader in rollback-journal mode");
    assert!(busy(writer.execute_batch("COMMIT")), "the commit must wait");

    // The writer now holds PENDING, so no new reader can start: the source
    // gives up after a short wait instead of hanging or failing.
    let started = Instant::now();
    assert!(source.open_reader().unwrap().is_none());
    assert!(started.elapsed() < Duration::from_secs(10));

    // Both readers, reading parts in turn from two threads, see the rows
    // as they were when the source was opened.
    let parts = source.split_table(account, 4).unwrap();
    assert_eq!(parts.len(), 4);
    let (first, second) = parts.split_at(2);
    let (mut rows, theirs) = std::thread::scope(|scope| {
        let theirs = scope.spawn(|| {
            second
                .iter()
                .flat_map(|p| read_part(reader.as_mut(), account, p))
                .collect::<Rows>()
        });
        let ours: Rows = first
            .iter()
            .flat_map(|p| read_part(&mut source, account, p))
            .collect();
        (ours, theirs.join().unwrap())
    });
    rows.extend(theirs);
    assert_eq!(rows, before);
    assert_eq!(read_whole(reader.as_mut(), account), before);

    // Once both are gone the writer commits, so it was only their locks
    // that held it back.
    drop(reader);
    drop(source);
    writer.execute_batch("COMMIT").unwrap();
    let mut after = SqliteSource::open(&path).unwrap();
    assert_eq!(read_whole(&mut after, account).len(), 2001);
}

#[test]
fn no_extra_readers_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.sqlite");
    let writer = make_accounts(&path, true);
    let mut source = SqliteSource::open(&path).unwrap();
    let catalog = source.catalog().unwrap();
    let account = table(&catalog, "account");
    // In WAL mode the writer commits during the backup, and a new
    // connection would see it: so there is none.
    writer
        .execute_batch("UPDATE account SET balance = 0 WHERE id = 1")
        .unwrap();
    assert!(source.open_reader().unwrap().is_none());
    // The one reader still reads the snapshot, in parts too.
    let rows: Rows = source
        .split_table(account, 3)
        .unwrap()
        .iter()
        .flat_map(|p| read_part(&mut source, account, p))
        .collect();
    assert_eq!(rows.len(), 2000);
    assert!(rows.iter().all(|r| int(&r[1]) == 100));
}

#[test]
fn no_extra_reader_when_the_path_names_another_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("original.sqlite");
    let other = dir.path().join("replacement.sqlite");
    drop(make_accounts(&path, false));
    {
        let conn = make_accounts(&other, false);
        conn.execute_batch("CREATE TABLE extra (x); DELETE FROM account WHERE id > 10;")
            .unwrap();
    }
    let mut source = SqliteSource::open(&path).unwrap();
    std::fs::rename(&other, &path).unwrap();
    assert!(source.open_reader().unwrap().is_none());
    // The source itself still reads the file it opened.
    let catalog = source.catalog().unwrap();
    assert_eq!(
        read_whole(&mut source, table(&catalog, "account")).len(),
        2000
    );
}

/// Set in the environment of a child copy of this test binary, which then
/// acts as a writer in another process (see the test below).
const WRITER_ENV: &str = "BRU_TEST_OTHER_PROCESS_WRITER";

/// Not a test on its own (hence ignored): the child process of
/// [`write_from_another_process`], which tries to commit a change to the
/// database named by [`WRITER_ENV`] and reports how that went by its exit
/// code (0 committed, 3 busy, 4 other error).
#[test]
#[ignore = "helper process of a_writer_in_another_process_waits_for_the_source_and_its_readers"]
fn other_process_writer() {
    let Some(path) = std::env::var_os(WRITER_ENV) else {
        return;
    };
    let conn = Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_millis(200)).unwrap();
    let code = match conn
        .execute_batch("BEGIN IMMEDIATE; UPDATE account SET balance = balance + 1; COMMIT;")
    {
        Ok(()) => 0,
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) => 3,
        Err(_) => 4,
    };
    std::process::exit(code);
}

/// Runs [`other_process_writer`] in a child process on `path`.
fn write_from_another_process(path: &Path) -> i32 {
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "other_process_writer",
            "--ignored",
            "--test-threads",
            "1",
        ])
        .env(WRITER_ENV, path)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    status.code().unwrap_or(-1)
}

/// Within one process SQLite tracks its own locks, so only a writer in
/// another process shows that the file locks themselves hold: opening the
/// sources and readers must not lose them (closing any descriptor of the
/// file drops all of a process's POSIX locks on it).
#[test]
fn a_writer_in_another_process_waits_for_the_source_and_its_readers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locks.sqlite");
    drop(make_accounts(&path, false));
    let mut source = SqliteSource::open(&path).unwrap();
    let catalog = source.catalog().unwrap();
    let account = table(&catalog, "account");
    assert_eq!(
        write_from_another_process(&path),
        3,
        "busy with the source open"
    );
    let mut reader = source.open_reader().unwrap().expect("a second reader");
    assert_eq!(
        write_from_another_process(&path),
        3,
        "busy with a reader open"
    );
    drop(source);
    assert_eq!(
        write_from_another_process(&path),
        3,
        "busy while the reader reads"
    );
    assert!(read_whole(reader.as_mut(), account)
        .iter()
        .all(|r| int(&r[1]) == 100));
    drop(reader);
    assert_eq!(
        write_from_another_process(&path),
        0,
        "free once both are gone"
    );
}
