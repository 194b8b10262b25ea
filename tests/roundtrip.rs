//! The whole loop through the real binary: backup, list, verify, restore,
//! and a value-by-value comparison of the restored database with the source.

mod util;

use std::sync::atomic::{AtomicBool, Ordering};

use bru_testsupport::sqlite::{dump, run_sql};
use util::{bru_ok, schema, url, Dir};

#[test]
fn sqlite_backup_list_verify_restore_is_exact() {
    let dir = Dir::new();
    let src = dir.fixture("wfm.sqlite", 0);
    let archive = dir.path("wfm.db");
    let restored = dir.path("restored.sqlite");
    let a = archive.to_str().unwrap();

    bru_ok(&["backup", &url(&src), a, "--quiet"]);

    let out = bru_ok(&["list", a, "--json"]);
    let listing: serde_json::Value = serde_json::from_slice(&out.stdout).expect("list --json");
    assert_eq!(listing["meta"]["state"], "complete");
    assert_eq!(listing["meta"]["source"]["engine"], "sqlite");
    let tables = listing["tables"].as_array().expect("tables array");
    let names: Vec<&str> = tables
        .iter()
        .map(|t| t["table"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"edge_values"), "{names:?}");
    assert!(names.contains(&"interval_stats"), "{names:?}");

    let out = bru_ok(&["verify", a]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("is whole"));

    bru_ok(&["restore", a, &url(&restored), "--quiet"]);

    let (before, after) = (dump(&src), dump(&restored));
    assert_eq!(before.len(), after.len());
    for ((t1, rows1), (t2, rows2)) in before.iter().zip(&after) {
        assert_eq!(t1, t2);
        assert_eq!(rows1.len(), rows2.len(), "row count of {t1}");
        for (r1, r2) in rows1.iter().zip(rows2) {
            assert_eq!(r1, r2, "a row of {t1} differs");
        }
    }
    assert_eq!(schema(&src), schema(&restored));

    // The listing's row counts are the source's row counts.
    for t in tables {
        let name = t["table"].as_str().unwrap();
        let rows = before.iter().find(|(n, _)| n == name).map(|(_, r)| r.len());
        assert_eq!(
            t["rows"].as_u64().map(|n| n as usize),
            rows,
            "rows of {name}"
        );
    }
}

#[test]
fn many_small_chunks_round_trip_and_summary_json_is_complete() {
    let dir = Dir::new();
    let src = dir.fixture("wfm.sqlite", 1);
    let archive = dir.path("wfm.db");
    let restored = dir.path("restored.sqlite");
    let a = archive.to_str().unwrap();

    let out = bru_ok(&[
        "backup",
        &url(&src),
        a,
        "--chunk-size",
        "64KiB",
        "--jobs",
        "2",
        "--json",
    ]);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json summary");
    let stats = summary["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "interval_stats")
        .expect("interval_stats in summary");
    assert!(stats["rows"].as_u64().unwrap() > 10_000);
    assert!(stats["stored_bytes"].as_u64().unwrap() < stats["raw_bytes"].as_u64().unwrap());

    let out = bru_ok(&["list", a, "--json"]);
    let listing: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let chunks = listing["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "interval_stats")
        .unwrap()["chunks"]
        .as_u64()
        .unwrap();
    assert!(
        chunks > 10,
        "64KiB chunks should split interval_stats, got {chunks}"
    );

    bru_ok(&["verify", a, "--quiet"]);
    bru_ok(&["restore", a, &url(&restored), "--jobs", "2", "--quiet"]);
    assert_eq!(dump(&src), dump(&restored));
}

#[test]
fn include_and_exclude_select_tables() {
    let dir = Dir::new();
    let src = dir.fixture("wfm.sqlite", 0);
    let archive = dir.path("part.db");
    let a = archive.to_str().unwrap();
    bru_ok(&[
        "backup",
        &url(&src),
        a,
        "--include",
        "a*",
        "--include",
        "sites",
        "--exclude",
        "audit_*",
        "--quiet",
    ]);
    let out = bru_ok(&["list", a, "--json"]);
    let listing: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut names: Vec<String> = listing["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["agents", "sites"]);

    // Restore a subset of the subset.
    let restored = dir.path("sites.sqlite");
    bru_ok(&[
        "restore",
        a,
        &url(&restored),
        "--include",
        "sites",
        "--quiet",
    ]);
    let tables: Vec<String> = dump(&restored).into_iter().map(|(t, _)| t).collect();
    assert_eq!(tables, ["sites"]);
}

/// Needs the `demo` feature (on by default), which builds `bru demo`.
#[cfg(feature = "demo")]
#[test]
fn demo_runs_the_whole_loop() {
    let dir = Dir::new();
    let demo_dir = dir.path("demo");
    let out = bru_ok(&["demo", "--dir", demo_dir.to_str().unwrap(), "--scale", "0"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("hold exactly the archive's rows"), "{text}");
    assert_eq!(
        dump(&demo_dir.join("wfm.sqlite")),
        dump(&demo_dir.join("restored.sqlite"))
    );
    // Running it again starts over rather than failing on existing files.
    bru_ok(&[
        "demo",
        "--dir",
        demo_dir.to_str().unwrap(),
        "--scale",
        "0",
        "--quiet",
    ]);
}

/// Rows of the WAL test's table: enough for the backup to split it between
/// its readers (it splits tables of 100 000 rows and more).
const WAL_ROWS: i64 = 150_000;

/// The `k`th transaction of the WAL test's writer: an update moving money
/// between two rows, an insert, a delete, each at a place of the table that
/// depends on `k` only, and the count of transactions.
fn wal_transaction(k: i64) -> String {
    let at = |prime: i64| (k * prime) % WAL_ROWS + 1;
    format!(
        "UPDATE account SET balance = balance - {k} WHERE id = {};
         UPDATE account SET balance = balance + {k} WHERE id = {};
         INSERT INTO account (balance, note) VALUES ({k}, 'k{k}');
         DELETE FROM account WHERE id = {};
         UPDATE version SET k = {k};",
        at(7919),
        at(104_729),
        at(15_485_863)
    )
}

/// A backup with `--jobs 2` of a WAL-mode database that a writer keeps
/// changing, committing all the while, holds exactly one committed state:
/// that of the `k`th transaction, for the `k` it holds, rebuilt here from a
/// copy made before the first one. Two readers on two snapshots would give
/// rows of several.
#[test]
fn a_wal_backup_at_jobs_2_while_a_writer_commits_is_one_snapshot() {
    let dir = Dir::new();
    let src = dir.path("wal.sqlite");
    let initial = dir.path("initial.sqlite");
    let writer = run_sql(
        &src,
        &format!(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE account (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL, note TEXT);
             CREATE TABLE version (k INTEGER NOT NULL);
             INSERT INTO version VALUES (0);
             WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {WAL_ROWS})
             INSERT INTO account (balance, note) SELECT 100, 'n' || i FROM c;"
        ),
    );
    writer
        .execute_batch(&format!("VACUUM INTO '{}'", initial.display()))
        .unwrap();
    let archive = dir.path("wal.db");
    let restored = dir.path("restored.sqlite");
    let a = archive.to_str().unwrap();

    let stop = &AtomicBool::new(false);
    let (during, last) = std::thread::scope(|scope| {
        let writing = scope.spawn(move || {
            let mut k = 0;
            while !stop.load(Ordering::Relaxed) {
                k += 1;
                writer
                    .execute_batch(&format!("BEGIN; {} COMMIT;", wal_transaction(k)))
                    .unwrap();
            }
            k
        });
        // Some transactions before the backup starts, so that the WAL
        // holds them and the source's snapshot has a handle.
        while writer_k(&src) < 3 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let started = writer_k(&src);
        bru_ok(&["backup", &url(&src), a, "--jobs", "2", "--force", "--quiet"]);
        let ended = writer_k(&src);
        stop.store(true, Ordering::Relaxed);
        (ended - started, writing.join().unwrap())
    });
    assert!(during > 0, "the writer committed during the backup");

    bru_ok(&["restore", a, &url(&restored), "--quiet"]);
    let conn = rusqlite::Connection::open(&restored).unwrap();
    let k: i64 = conn
        .query_row("SELECT k FROM version", [], |r| r.get(0))
        .unwrap();
    assert!((3..=last).contains(&k), "k {k}, last {last}");
    drop(conn);
    let replay = run_sql(&initial, "BEGIN");
    for k in 1..=k {
        replay.execute_batch(&wal_transaction(k)).unwrap();
    }
    replay.execute_batch("COMMIT").unwrap();
    drop(replay);
    let (expected, got) = (dump(&initial), dump(&restored));
    assert_eq!(expected.len(), got.len());
    for ((t1, rows1), (t2, rows2)) in expected.iter().zip(&got) {
        assert_eq!(t1, t2);
        assert_eq!(rows1.len(), rows2.len(), "row count of {t1} at k = {k}");
        assert!(rows1 == rows2, "the rows of {t1} are not those at k = {k}");
    }
}

/// The writer's transaction count, as a new connection sees it.
fn writer_k(path: &std::path::Path) -> i64 {
    bru_testsupport::sqlite::open_read_only(path)
        .query_row("SELECT k FROM version", [], |r| r.get(0))
        .unwrap()
}
