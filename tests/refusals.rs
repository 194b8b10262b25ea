//! Bad input: every case gives one clear error line and a non-zero exit,
//! never a panic, and never damages what is already there.

mod util;

use std::io::Write;

use bru_testsupport::sqlite::{dump, run_sql};
use util::{bru_fails, bru_ok, url, Dir};

fn backup(dir: &Dir) -> (std::path::PathBuf, std::path::PathBuf) {
    let src = dir.fixture("wfm.sqlite", 0);
    let archive = dir.path("wfm.db");
    bru_ok(&["backup", &url(&src), archive.to_str().unwrap(), "--quiet"]);
    (src, archive)
}

#[test]
fn existing_archive_is_not_overwritten_without_force() {
    let dir = Dir::new();
    let (src, archive) = backup(&dir);
    let a = archive.to_str().unwrap();
    let before = std::fs::read(&archive).unwrap();
    bru_fails(
        &["backup", &url(&src), a, "--quiet"],
        &["exists", "--force"],
    );
    assert_eq!(
        std::fs::read(&archive).unwrap(),
        before,
        "archive was modified"
    );
    bru_ok(&["backup", &url(&src), a, "--force", "--quiet"]);
    bru_ok(&["verify", a, "--quiet"]);
}

#[test]
fn restore_over_existing_tables_is_refused_listing_them_all() {
    let dir = Dir::new();
    let (src, archive) = backup(&dir);
    let a = archive.to_str().unwrap();
    let target = dir.path("target.sqlite");
    run_sql(
        &target,
        "CREATE TABLE sites(x); INSERT INTO sites VALUES (1);
             CREATE TABLE agents(y); CREATE TABLE unrelated(z); INSERT INTO unrelated VALUES (7);",
    );
    bru_fails(
        &["restore", a, &url(&target), "--quiet"],
        &["sites", "agents", "--clean"],
    );
    // Nothing was touched.
    let tables: Vec<String> = dump(&target).into_iter().map(|(t, _)| t).collect();
    assert_eq!(tables, ["agents", "sites", "unrelated"]);

    bru_ok(&["restore", a, &url(&target), "--clean", "--quiet"]);
    let mut after = dump(&target);
    let unrelated = after.iter().position(|(t, _)| t == "unrelated").unwrap();
    assert_eq!(after.remove(unrelated).1, ["integer:7"]);
    assert_eq!(after, dump(&src));
}

#[test]
fn schema_only_then_data_only_equals_full_restore() {
    let dir = Dir::new();
    let (src, archive) = backup(&dir);
    let a = archive.to_str().unwrap();
    let target = dir.path("target.sqlite");
    bru_ok(&["restore", a, &url(&target), "--schema-only", "--quiet"]);
    assert!(dump(&target).iter().all(|(_, rows)| rows.is_empty()));
    bru_ok(&["restore", a, &url(&target), "--data-only", "--quiet"]);
    assert_eq!(dump(&target), dump(&src));
}

#[test]
fn missing_and_foreign_files_are_named() {
    let dir = Dir::new();
    let missing = dir.path("nope.db");
    let m = missing.to_str().unwrap();
    for cmd in ["list", "verify"] {
        bru_fails(&[cmd, m], &["nope.db"]);
    }
    let target = dir.path("t.sqlite");
    bru_fails(&["restore", m, &url(&target)], &["nope.db"]);
    bru_fails(
        &[
            "backup",
            &url(&dir.path("missing.sqlite")),
            dir.path("x.db").to_str().unwrap(),
        ],
        &["missing.sqlite"],
    );
    assert!(
        !dir.path("x.db").exists(),
        "a failed backup must not leave an archive"
    );

    // A plain SQLite database is not an archive.
    let plain = dir.path("plain.sqlite");
    rusqlite::Connection::open(&plain)
        .unwrap()
        .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        .unwrap();
    for cmd in ["list", "verify"] {
        bru_fails(&[cmd, plain.to_str().unwrap()], &["not a bru archive"]);
    }

    // Random bytes are not an archive either.
    let random = dir.path("random.db");
    let mut f = std::fs::File::create(&random).unwrap();
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for _ in 0..65536 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        f.write_all(&x.to_le_bytes()).unwrap();
    }
    drop(f);
    for cmd in ["list", "verify"] {
        bru_fails(&[cmd, random.to_str().unwrap()], &["not a bru archive"]);
    }
}

#[test]
fn bad_endpoints_and_patterns_are_refused() {
    let dir = Dir::new();
    let out = dir.path("x.db");
    let o = out.to_str().unwrap();
    bru_fails(&["backup", "wfm.sqlite", o], &["sqlite://"]);
    bru_fails(
        &["backup", "oracle://bob:hunter2@localhost/wfm", o],
        &["not supported"],
    );
    // Nothing listens on port 1 of localhost: an unreachable server is one
    // line, and the password never shows.
    let line = bru_fails(
        &["backup", "postgres://bob:hunter2@127.0.0.1:1/wfm", o],
        &["cannot open", "127.0.0.1"],
    );
    assert!(!line.contains("hunter2"), "password leaked: {line}");
    assert!(
        !dir.path("x.db").exists(),
        "a failed backup must not leave an archive"
    );
    let src = dir.fixture("wfm.sqlite", 0);
    bru_fails(
        &["backup", &url(&src), o, "--include", "a[", "--quiet"],
        &["a["],
    );
}
