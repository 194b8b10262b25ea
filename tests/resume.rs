//! Planned, resumable restores through the real binary: `bru restore` killed
//! with SIGKILL at several points (while loading a many-chunk table, while
//! building indexes, and while resuming), then `--resume`, compared row by
//! row and schema object by object with the source; the refusals around an
//! unfinished restore; `--dry-run`; `--summary-json`; and `--jobs`.

mod util;

use std::path::{Path, PathBuf};
use std::process::Command;

use bru_testsupport::sqlite::dump;
use util::{bru, bru_fails, bru_ok, schema, url, Dir};

/// A scale-3 fixture and its archive in chunks of 4 KiB, so that the big
/// tables have thousands of chunks (and as many journal commits).
fn archive(dir: &Dir) -> (PathBuf, PathBuf) {
    let src = dir.fixture("wfm.sqlite", 3);
    let archive = dir.path("wfm.db");
    bru_ok(&[
        "backup",
        &url(&src),
        archive.to_str().unwrap(),
        "--chunk-size",
        "4KiB",
        "--quiet",
    ]);
    (src, archive)
}

/// [`util::kill_restore_when`], which must kill the restore.
fn kill_restore_when(args: &[&str], when: impl Fn(&str) -> bool) -> String {
    util::kill_restore_when(args, when).unwrap_or_else(|printed| {
        panic!("bru restore {args:?} ended before it could be killed; it printed:\n{printed}")
    })
}

/// `N` of a plain progress line `bru: N rows of M, ...`, as a fraction of M.
fn fraction_done(line: &str) -> Option<f64> {
    let rest = line.strip_prefix("bru: ")?;
    let (done, rest) = rest.split_once(" rows of ")?;
    let total = rest.split(',').next()?;
    Some(done.parse::<f64>().ok()? / total.parse::<f64>().ok()?.max(1.0))
}

fn has_journal(path: &Path) -> bool {
    let conn = rusqlite::Connection::open(path).expect("open target");
    conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE name = '_bru_restore_journal'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .expect("query")
        > 0
}

fn assert_same(src: &Path, restored: &Path) {
    let (before, after) = (dump(src), dump(restored));
    assert_eq!(before.len(), after.len(), "table lists differ");
    for ((t1, rows1), (t2, rows2)) in before.iter().zip(&after) {
        assert_eq!(t1, t2);
        assert_eq!(rows1.len(), rows2.len(), "row count of {t1}");
        for (r1, r2) in rows1.iter().zip(rows2) {
            assert_eq!(r1, r2, "a row of {t1} differs");
        }
    }
    assert_eq!(schema(src), schema(restored), "schema differs");
}

#[test]
fn killed_while_loading_then_resumed_twice_is_exact() {
    let dir = Dir::new();
    let (src, archive) = archive(&dir);
    let a = archive.to_str().unwrap();
    let target = dir.path("restored.sqlite");
    let t = url(&target);

    let line = kill_restore_when(&[a, &t, "--jobs", "2"], |l| {
        fraction_done(l).is_some_and(|f| f > 0.2)
    });
    assert!(
        has_journal(&target),
        "killed at {line:?}: the journal is there"
    );

    // Without --resume the unfinished restore is refused, with one line.
    bru_fails(
        &["restore", a, &t],
        &["did not finish", "--resume", "--clean"],
    );

    // The resume is itself killed further on, then resumed again.
    kill_restore_when(&[a, &t, "--resume"], |l| {
        fraction_done(l).is_some_and(|f| f > 0.6)
    });
    let json = dir.path("summary.json");
    bru_ok(&[
        "restore",
        a,
        &t,
        "--resume",
        "--quiet",
        "--summary-json",
        json.to_str().unwrap(),
    ]);
    assert_same(&src, &target);
    assert!(
        !has_journal(&target),
        "a finished restore leaves no journal"
    );

    util::assert_resumed_summary(&json);
}

#[test]
fn killed_while_building_indexes_then_resumed_is_exact() {
    let dir = Dir::new();
    let (src, archive) = archive(&dir);
    let a = archive.to_str().unwrap();
    for table in ["interval_stats", "agents"] {
        let target = dir.path(&format!("restored-{table}.sqlite"));
        let t = url(&target);
        let marker = format!("indexes and constraints of table {table}");
        kill_restore_when(&[a, &t], |l| l.contains(&marker));
        assert!(has_journal(&target), "killed before the end");
        bru_ok(&["restore", a, &t, "--resume", "--quiet"]);
        assert_same(&src, &target);
        assert!(!has_journal(&target));
    }
}

#[test]
fn resuming_with_another_archive_is_refused() {
    let dir = Dir::new();
    let (_, archive) = archive(&dir);
    let a = archive.to_str().unwrap();
    let other_src = dir.fixture("other.sqlite", 0);
    let other = dir.path("other.db");
    let o = other.to_str().unwrap();
    bru_ok(&["backup", &url(&other_src), o, "--quiet"]);

    let target = dir.path("restored.sqlite");
    let t = url(&target);
    kill_restore_when(&[a, &t], |l| fraction_done(l).is_some_and(|f| f > 0.1));
    bru_fails(
        &["restore", o, &t, "--resume"],
        &["another archive", "wfm.sqlite", "other.db"],
    );
    // --clean starts over with whatever archive.
    bru_ok(&["restore", o, &t, "--clean", "--quiet"]);
    assert_same(&other_src, &target);
    assert!(!has_journal(&target));
}

#[test]
fn dry_run_prints_the_plan_and_touches_nothing() {
    let dir = Dir::new();
    let (_, archive) = archive(&dir);
    let a = archive.to_str().unwrap();
    let target = dir.path("never.sqlite");
    let out = bru_ok(&["restore", a, &url(&target), "--dry-run", "--jobs", "3"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!target.exists(), "--dry-run created the target");
    for expected in [
        "3 session(s)",
        "create table interval_stats",
        "load table interval_stats, chunks 0-",
        "indexes and constraints of table agents",
        "foreign keys of table schedules",
        "create view agent_daily_summary",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }

    let out = bru_ok(&["restore", a, &url(&target), "--dry-run", "--json"]);
    assert!(!target.exists());
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = plan["steps"].as_array().unwrap();
    assert!(steps.iter().any(|s| s["action"]["kind"] == "load_chunks"));
    for s in steps {
        for d in s["deps"].as_array().unwrap() {
            assert!(d.as_u64().unwrap() < steps.len() as u64);
        }
    }
}

#[test]
fn a_restore_refused_before_writing_leaves_no_target_file() {
    let dir = Dir::new();
    let (_, archive) = archive(&dir);
    let a = archive.to_str().unwrap();
    let target = dir.path("new.sqlite");
    // A data-only restore needs the tables to exist: refused before any row.
    let json = dir.path("failed.json");
    let out = bru(&[
        "restore",
        a,
        &url(&target),
        "--data-only",
        "--quiet",
        "--summary-json",
        json.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(!target.exists(), "an empty target file was left behind");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(summary["status"], "failed");
    assert!(
        summary["error"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{summary}"
    );
}

#[test]
fn summary_json_and_jobs_give_the_same_restore() {
    let dir = Dir::new();
    let (src, archive) = archive(&dir);
    let a = archive.to_str().unwrap();
    let counts: std::collections::BTreeMap<String, usize> = dump(&src)
        .into_iter()
        .map(|(t, rows)| (t, rows.len()))
        .collect();

    let backup_json = dir.path("backup.json");
    let again = dir.path("again.db");
    bru_ok(&[
        "backup",
        &url(&src),
        again.to_str().unwrap(),
        "--quiet",
        "--summary-json",
        backup_json.to_str().unwrap(),
    ]);
    let backup: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&backup_json).unwrap()).unwrap();
    assert_eq!(backup["operation"], "backup");
    assert_eq!(backup["status"], "ok");

    for jobs in ["1", "2", "4"] {
        let target = dir.path(&format!("jobs-{jobs}.sqlite"));
        let json = dir.path(&format!("jobs-{jobs}.json"));
        bru_ok(&[
            "restore",
            a,
            &url(&target),
            "--jobs",
            jobs,
            "--quiet",
            "--summary-json",
            json.to_str().unwrap(),
        ]);
        assert_same(&src, &target);
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        assert_eq!(summary["operation"], "restore");
        assert_eq!(summary["status"], "ok");
        let tables = summary["tables"].as_array().unwrap();
        assert_eq!(tables.len(), counts.len());
        for t in tables {
            let name = t["table"].as_str().unwrap();
            let rows = counts[name] as u64;
            assert_eq!(t["rows"].as_u64(), Some(rows), "{name}");
            assert_eq!(t["rows_loaded"].as_u64(), Some(rows), "{name}");
            assert_eq!(t["rows_resumed"].as_u64(), Some(0), "{name}");
            assert_eq!(t["errors"].as_u64(), Some(0), "{name}");
            assert!(t["seconds"].as_f64().unwrap() >= 0.0);
        }
        let backed_up = backup["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["table"].as_str().unwrap(), t["rows"].as_u64().unwrap()))
            .collect::<Vec<_>>();
        for (name, rows) in backed_up {
            assert_eq!(rows, counts[name] as u64, "{name}");
        }
    }
}

#[test]
fn plain_progress_lines_when_stderr_is_not_a_terminal() {
    let dir = Dir::new();
    let (_, archive) = archive(&dir);
    let target = dir.path("logged.sqlite");
    let out = Command::new(env!("CARGO_BIN_EXE_bru"))
        .args(["restore", archive.to_str().unwrap(), &url(&target)])
        .env("BRU_PROGRESS_INTERVAL", "0.01")
        .output()
        .expect("run bru");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| fraction_done(l).is_some() && l.contains("MB/s")),
        "{stderr}"
    );
    assert!(
        stderr.contains("table interval_stats done: 270005 rows"),
        "{stderr}"
    );
    // --quiet: nothing at all.
    let quiet = dir.path("quiet.sqlite");
    let out = Command::new(env!("CARGO_BIN_EXE_bru"))
        .args([
            "restore",
            archive.to_str().unwrap(),
            &url(&quiet),
            "--quiet",
        ])
        .env("BRU_PROGRESS_INTERVAL", "0.01")
        .output()
        .expect("run bru");
    assert!(out.status.success());
    assert!(out.stderr.is_empty() && out.stdout.is_empty());
}
