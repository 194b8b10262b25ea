//! Parallel reading of one SQLite snapshot: row estimates, rowid-range
//! parts that hold every row exactly once, and extra readers that see the
//! first connection's snapshot (rollback journal: its lock; WAL: SQLite's
//! snapshot handle, or a WAL still without transactions) or are refused (a
//! writer waiting to commit, a commit to a WAL without a snapshot, a file
//! replaced under the path).

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

/// The changes a writer commits during a backup: every kind of row change.
const CHANGES: [&str; 3] = [
    "UPDATE account SET balance = balance - 10 WHERE id = 1;
     UPDATE account SET balance = balance + 10 WHERE id = 2;",
    "INSERT INTO account (balance) VALUES (7), (8), (9);",
    "DELETE FROM account WHERE id BETWEEN 3 AND 5 OR id > 1990;",
];

/// Reads `parts` of `account` on `readers`, a thread each, and returns the
/// rows in part order, while `writer` keeps committing changes (and trying
/// to checkpoint them) on a thread of its own.
fn read_while_writing(
    readers: Vec<&mut (dyn Source + Send)>,
    account: &TableDef,
    parts: &[TablePart],
    writer: &mut Connection,
) -> Rows {
    let per = parts.len().div_ceil(readers.len());
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let done = &done;
        let writing = scope.spawn(move || {
            let mut commits = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) || commits < 3 {
                writer
                    .execute_batch(CHANGES[commits % CHANGES.len()])
                    .unwrap();
                writer
                    .execute_batch("PRAGMA wal_checkpoint(PASSIVE)")
                    .unwrap();
                commits += 1;
            }
            commits
        });
        let threads: Vec<_> = readers
            .into_iter()
            .zip(parts.chunks(per))
            .map(|(reader, mine)| {
                scope.spawn(move || {
                    mine.iter()
                        .flat_map(|p| read_part(reader, account, p))
                        .collect::<Rows>()
                })
            })
            .collect();
        let rows = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(writing.join().unwrap() >= 3);
        rows
    })
}

/// A connection that has written keeps the WAL file with its transactions,
/// as an application that has the database open does: then the first
/// connection's snapshot has a handle, and extra readers open it.
#[test]
fn extra_readers_open_the_first_connections_wal_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.sqlite");
    let mut writer = make_accounts(&path, true);
    let mut source = SqliteSource::open(&path).unwrap();
    let catalog = source.catalog().unwrap();
    let account = table(&catalog, "account");
    let before = read_whole(&mut source, account);
    assert_eq!(before.len(), 2000);
    assert!(before.iter().all(|r| int(&r[1]) == 100));

    // Commits before the extra readers start, and a checkpoint that copies
    // what it can into the database file: a new connection would see them
    // all.
    for change in CHANGES {
        writer.execute_batch(change).unwrap();
    }
    writer
        .execute_batch("PRAGMA wal_checkpoint(PASSIVE)")
        .unwrap();
    let mut first = source
        .open_reader()
        .unwrap()
        .expect("an extra reader in WAL mode");
    // A full checkpoint cannot get past the source's snapshot, so a reader
    // opened after it still gets onto that snapshot.
    writer.busy_timeout(Duration::from_millis(1)).unwrap();
    writer
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    writer.execute_batch(CHANGES[2]).unwrap();
    let mut second = source
        .open_reader()
        .unwrap()
        .expect("another extra reader after a checkpoint");
    let fresh = Connection::open(&path).unwrap();
    let now: i64 = fresh
        .query_row("SELECT count(*) FROM account", [], |r| r.get(0))
        .unwrap();
    assert_ne!(now, 2000, "the writer's commits are visible to others");

    // All three, reading parts at once while the writer keeps committing,
    // see exactly the rows as they were when the source was opened.
    let parts = source.split_table(account, 6).unwrap();
    assert_eq!(parts.len(), 6);
    let rows = read_while_writing(
        vec![&mut source, first.as_mut(), second.as_mut()],
        account,
        &parts,
        &mut writer,
    );
    assert_eq!(rows, before);
    assert_eq!(read_whole(first.as_mut(), account), before);
    let catalog_seen = first.catalog().unwrap();
    assert_eq!(catalog_seen.tables, catalog.tables);

    // An extra reader holds the snapshot of its own: it keeps reading it
    // once the source is gone, checkpoints and all.
    drop(source);
    writer.execute_batch(CHANGES[0]).unwrap();
    writer
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    assert_eq!(read_whole(second.as_mut(), account), before);
    drop((first, second));
    let mut after = SqliteSource::open(&path).unwrap();
    assert_ne!(read_whole(&mut after, account), before);
}

/// The last connection to close a WAL database deletes its WAL: then no
/// transaction was ever written to the next one, SQLite has no snapshot to
/// hand out, and an extra reader is one that finds the WAL still empty.
#[test]
fn extra_readers_of_a_wal_without_transactions_until_a_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("idle.sqlite");
    drop(make_accounts(&path, true));
    assert!(!dir.path().join("idle.sqlite-wal").exists());
    let mut source = SqliteSource::open(&path).unwrap();
    let catalog = source.catalog().unwrap();
    let account = table(&catalog, "account");
    let mut reader = source
        .open_reader()
        .unwrap()
        .expect("an extra reader while the WAL is empty");

    // Once a writer commits, a new connection would see the commit, and
    // there is no snapshot to put it on: no more readers.
    let mut writer = Connection::open(&path).unwrap();
    writer.execute_batch(CHANGES[1]).unwrap();
    assert!(source.open_reader().unwrap().is_none());

    // The two that read see the rows as they were, in parts too, while the
    // writer goes on.
    let parts = source.split_table(account, 4).unwrap();
    let rows = read_while_writing(
        vec![&mut source, reader.as_mut()],
        account,
        &parts,
        &mut writer,
    );
    assert_eq!(rows.len(), 2000);
    assert!(rows.iter().all(|r| int(&r[1]) == 100));
    assert_eq!(rows, read_whole(reader.as_mut(), account));
    drop(source);
    assert_eq!(read_whole(reader.as_mut(), account), rows);
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
/// database named by [`WRITER_ENV`], then (in WAL mode) to checkpoint it
/// all, and reports how the commit went by its exit code (0 committed, 3
/// busy, 4 other error).
#[test]
#[ignore = "helper process of a_writer_in_another_process_waits_for_the_source_and_its_readers"]
fn other_process_writer() {
    let Some(path) = std::env::var_os(WRITER_ENV) else {
        return;
    };
    let conn = Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_millis(200)).unwrap();
    let code = match conn.execute_batch(
        "BEGIN IMMEDIATE; UPDATE account SET balance = balance + 1; COMMIT;
         PRAGMA wal_checkpoint(TRUNCATE);",
    ) {
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

/// In WAL mode a writer in another process commits while the source and
/// its readers are open, and checkpoints as far as they let it: the readers
/// keep the first connection's snapshot, whether that has a handle (a
/// connection of this process keeps the WAL's transactions) or not (the
/// WAL was empty; then no reader joins after the commit).
#[test]
fn wal_readers_keep_the_snapshot_while_another_process_writes() {
    for keep_wal in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal-locks.sqlite");
        let writer = make_accounts(&path, true);
        let _writer = keep_wal.then_some(writer);
        let mut source = SqliteSource::open(&path).unwrap();
        let catalog = source.catalog().unwrap();
        let account = table(&catalog, "account");
        let mut readers = vec![source.open_reader().unwrap().expect("a reader")];
        assert_eq!(
            write_from_another_process(&path),
            0,
            "WAL: the writer commits"
        );
        assert_eq!(write_from_another_process(&path), 0, "and again");
        match source.open_reader().unwrap() {
            Some(reader) if keep_wal => readers.push(reader),
            None if !keep_wal => {}
            other => panic!("keep_wal {keep_wal}: reader {}", other.is_some()),
        }
        drop(source);
        for reader in &mut readers {
            let rows = read_whole(reader.as_mut(), account);
            assert_eq!(rows.len(), 2000);
            assert!(
                rows.iter().all(|r| int(&r[1]) == 100),
                "keep_wal {keep_wal}"
            );
        }
        drop(readers);
        let mut after = SqliteSource::open(&path).unwrap();
        assert!(read_whole(&mut after, account)
            .iter()
            .all(|r| int(&r[1]) == 102));
    }
}
