//! Cast rules (`--cast`, `--cast-file`) through the real `bru` binary: a
//! cross-engine migration that is refused by name without a rule, naming
//! the rule that would accept the value, and succeeds with it, the rows
//! exactly as the rule says and the summary counting what it converted;
//! rules that are not of the grammar, or match no column, are one error
//! line before anything is written.

mod util;

use bru_testsupport::pg::TestServer;
use util::{bru_fails, bru_ok, url, Dir};

/// Backs up the fixture (the demo's database) and returns it with its
/// archive.
fn fixture_archive(dir: &Dir) -> (std::path::PathBuf, String) {
    let src = dir.fixture("wfm.sqlite", 0);
    let archive = dir.path("wfm.db");
    let archive = archive.to_str().expect("utf-8 path").to_owned();
    bru_ok(&["backup", &url(&src), &archive, "--quiet"]);
    (src, archive)
}

/// `(id, text)` rows of a SQLite query.
fn sqlite_rows(path: &std::path::Path, sql: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).expect("open");
    let mut stmt = conn.prepare(sql).expect("prepare");
    stmt.query_map([], |r| {
        Ok(format!(
            "{}|{}",
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?
        ))
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

fn pg_rows(server: &TestServer, db: &str, sql: &str) -> Vec<String> {
    server.psql(db, sql).lines().map(str::to_owned).collect()
}

/// The `casts` of a `--summary-json` file, as (rule, converted).
fn summary_casts(path: &std::path::Path) -> Vec<(String, u64)> {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("summary")).expect("json");
    json["casts"]
        .as_array()
        .expect("casts in the summary")
        .iter()
        .map(|c| {
            (
                c["rule"].as_str().expect("rule").to_owned(),
                c["converted"].as_u64().expect("count"),
            )
        })
        .collect()
}

#[test]
fn migrations_refused_without_a_rule_succeed_with_it() {
    let Some(server) = TestServer::start() else {
        return;
    };
    sqlite_offsets_into_postgres(&server);
    postgres_negative_zero_into_sqlite(&server);
}

/// The demo's database into PostgreSQL: `audit_log.at` is a DATETIME whose
/// trigger-written values carry a UTC offset, which a `timestamp` column
/// cannot keep.
fn sqlite_offsets_into_postgres(server: &TestServer) {
    let dir = Dir::new();
    let (src, archive) = fixture_archive(&dir);
    // edge_values.v holds every storage class in one column, which no
    // PostgreSQL column can; its refusal is tested in pg_roundtrip.
    let offsets = sqlite_rows(
        &src,
        "SELECT id, at FROM audit_log WHERE length(at) > 19 ORDER BY id",
    );
    assert!(!offsets.is_empty(), "the fixture has offsets");

    let db = server.create_db("cast_refused");
    let line = bru_fails(
        &[
            "restore",
            &archive,
            &server.url(&db),
            "--exclude",
            "edge_values",
            "--quiet",
        ],
        &[
            "table",
            "audit_log",
            "column at",
            "UTC offset",
            "--cast 'audit_log.at=timestamptz'",
            "--cast 'audit_log.at:timestamp-offset=utc'",
        ],
    );
    assert!(
        offsets.iter().any(|r| {
            let (_, text) = r.split_once('|').expect("id|at");
            line.contains(&format!("{text:?}"))
        }),
        "the refused value is named: {line}"
    );

    // The column as timestamptz: every instant kept. SQLite's own strftime
    // reads an offset the same way, so it says what each instant is.
    let expected = sqlite_rows(
        &src,
        "SELECT id, CAST(strftime('%s', at) AS TEXT) FROM audit_log ORDER BY id",
    );
    let all_at = expected.len() as u64;
    let db = server.create_db("cast_tz");
    let summary = dir.path("tz.json");
    let out = bru_ok(&[
        "restore",
        &archive,
        &server.url(&db),
        "--exclude",
        "edge_values",
        "--cast",
        "audit_log.at=timestamptz",
        "--summary-json",
        summary.to_str().expect("utf-8 path"),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "cast --cast 'audit_log.at=timestamptz': {all_at} value(s) converted"
        )),
        "{text}"
    );
    assert_eq!(
        summary_casts(&summary),
        [("audit_log.at=timestamptz".to_owned(), all_at)]
    );
    assert_eq!(
        server.psql(
            &db,
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = 'public.audit_log'::regclass AND attname = 'at'"
        ),
        "timestamp with time zone\n"
    );
    assert_eq!(
        pg_rows(
            server,
            &db,
            "SELECT id || '|' || extract(epoch FROM at)::bigint FROM audit_log ORDER BY id"
        ),
        expected
    );

    // Or stored as UTC in the timestamp column, from a rules file; texts
    // without an offset are unchanged, and only the others are counted.
    let rules = dir.path("rules.txt");
    std::fs::write(
        &rules,
        "# audit times are written with offsets by a trigger\n\n\
         main.audit_log.at:timestamp-offset=utc   # as UTC\n",
    )
    .expect("rules file");
    let db = server.create_db("cast_utc");
    let summary = dir.path("utc.json");
    bru_ok(&[
        "restore",
        &archive,
        &server.url(&db),
        "--exclude",
        "edge_values",
        "--cast-file",
        rules.to_str().expect("utf-8 path"),
        "--summary-json",
        summary.to_str().expect("utf-8 path"),
        "--quiet",
    ]);
    assert_eq!(
        summary_casts(&summary),
        [(
            "main.audit_log.at:timestamp-offset=utc".to_owned(),
            offsets.len() as u64
        )]
    );
    assert_eq!(
        pg_rows(
            server,
            &db,
            "SELECT id || '|' || to_char(at, 'YYYY-MM-DD HH24:MI:SS') FROM audit_log ORDER BY id"
        ),
        sqlite_rows(&src, "SELECT id, datetime(at) FROM audit_log ORDER BY id")
    );
    // Every other table arrived whole.
    for table in ["sites", "agents", "schedules", "interval_stats"] {
        let count = sqlite_rows(&src, &format!("SELECT count(*), '' FROM {table}"));
        assert_eq!(
            server.psql(&db, &format!("SELECT count(*) || '|' FROM public.{table}")),
            format!("{}\n", count[0]),
            "{table}"
        );
    }
}

/// A PostgreSQL double precision -0.0 into SQLite, whose REAL column would
/// store 0: refused, then stored as 0 by a glob rule, and only that value.
fn postgres_negative_zero_into_sqlite(server: &TestServer) {
    let dir = Dir::new();
    let db = server.create_db("cast_zero");
    server.psql(
        &db,
        "CREATE TABLE public.m (id integer PRIMARY KEY, x double precision, y double precision);
         INSERT INTO public.m VALUES (1, '-0', 1.5), (2, 2.5, '-0'), (3, -1, NULL), (4, 0, 0);",
    );
    let archive = dir.path("pg.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &server.url(&db), archive, "--quiet"]);

    let target = dir.path("refused.sqlite");
    bru_fails(
        &["restore", archive, &url(&target), "--quiet"],
        &[
            "public.m",
            "column x",
            "-0.0",
            "--cast 'public.m.x:float-negative-zero=zero'",
        ],
    );

    let target = dir.path("zero.sqlite");
    let summary = dir.path("zero.json");
    bru_ok(&[
        "restore",
        archive,
        &url(&target),
        "--cast",
        "*.*:float-negative-zero=zero",
        "--summary-json",
        summary.to_str().expect("utf-8 path"),
        "--quiet",
    ]);
    assert_eq!(
        summary_casts(&summary),
        [("*.*:float-negative-zero=zero".to_owned(), 2)]
    );
    let conn = rusqlite::Connection::open(&target).expect("open");
    let rows: Vec<(i64, Option<u64>, Option<u64>)> = conn
        .prepare("SELECT id, x, y FROM m ORDER BY id")
        .expect("prepare")
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get::<_, Option<f64>>(1)?.map(f64::to_bits),
                r.get::<_, Option<f64>>(2)?.map(f64::to_bits),
            ))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let bits = |f: f64| Some(f.to_bits());
    assert_eq!(
        rows,
        [
            (1, bits(0.0), bits(1.5)),
            (2, bits(2.5), bits(0.0)),
            (3, bits(-1.0), None),
            (4, bits(0.0), bits(0.0)),
        ]
    );
}

#[test]
fn rules_outside_the_grammar_or_matching_nothing_are_refused_before_anything_is_written() {
    let dir = Dir::new();
    let (_, archive) = fixture_archive(&dir);
    let target = dir.path("target.sqlite");
    let t = url(&target);
    for (rule, expect) in [
        (
            "audit_log.at=varchar",
            &["\"audit_log.at=varchar\"", "unknown column type"][..],
        ),
        (
            "audit_log.at:offset=utc",
            &["unknown value conversion", ":timestamp-offset=utc"],
        ),
        ("audit_log.at", &["write TABLE.COLUMN=timestamptz"]),
        ("at=timestamptz", &["names 1 part"]),
        ("audit_log.a(t)=timestamptz", &["regular-expression"]),
        (
            "audit_log.nope=timestamptz",
            &["matches no column", "bru list"],
        ),
        ("nope.at:timestamp-offset=utc", &["matches no column"]),
        (
            "audit_log.actor=timestamptz",
            &["applies to timestamp columns", "audit_log.actor (text)"],
        ),
    ] {
        let mut expect = expect.to_vec();
        expect.push("cast rule");
        bru_fails(&["restore", &archive, &t, "--cast", rule], &expect);
        assert!(!target.exists(), "{rule}: nothing may be written");
    }
    // The same in a rules file names the file and line.
    let rules = dir.path("rules.txt");
    std::fs::write(&rules, "# ok\naudit_log.at=timestamptz\naudit_log.at=int\n").expect("rules");
    bru_fails(
        &[
            "restore",
            &archive,
            &t,
            "--cast-file",
            rules.to_str().expect("utf-8 path"),
        ],
        &["rules.txt line 3", "unknown column type"],
    );
    bru_fails(
        &[
            "restore",
            &archive,
            &t,
            "--cast-file",
            dir.path("missing.txt").to_str().expect("utf-8 path"),
        ],
        &["--cast-file", "missing.txt"],
    );
    assert!(!target.exists());
}

#[test]
fn a_dry_run_shows_the_columns_each_rule_applies_to() {
    let dir = Dir::new();
    let (_, archive) = fixture_archive(&dir);
    let target = dir.path("target.sqlite");
    let out = bru_ok(&[
        "restore",
        &archive,
        &url(&target),
        "--dry-run",
        "--cast",
        "*.at:timestamp-offset=utc",
        "--cast",
        "*.*:float-negative-zero=zero",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l == "cast --cast '*.at:timestamp-offset=utc' applies to audit_log.at"),
        "{text}"
    );
    let zero = text
        .lines()
        .find(|l| l.starts_with("cast --cast '*.*:float-negative-zero=zero' applies to "))
        .unwrap_or_else(|| panic!("{text}"));
    // REAL, FLOAT and DOUBLE PRECISION columns, and the untyped one.
    for column in [
        "interval_stats.aht_seconds",
        "interval_stats.service_level",
        "edge_values.r",
        "edge_values.v",
    ] {
        assert!(zero.contains(column), "{column}: {zero}");
    }
    assert!(!zero.contains("audit_log.at"), "{zero}");
    let json = bru_ok(&[
        "restore",
        &archive,
        &url(&target),
        "--dry-run",
        "--json",
        "--cast",
        "audit_log.at=timestamptz",
    ]);
    let plan: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json plan");
    assert_eq!(
        plan["casts"],
        serde_json::json!([{"rule": "audit_log.at=timestamptz", "columns": ["audit_log.at"]}])
    );
    assert!(!target.exists(), "a dry run writes nothing");
}
