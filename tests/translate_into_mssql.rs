//! Cross-engine schema translation into SQL Server, through the real `bru`
//! binary, against the server `BRU_TEST_MSSQL_URL` names (one `SKIPPED`
//! line without it): a SQLite archive's CHECKs, defaults, generated
//! columns, a partial index and views arrive in T-SQL, enforced and
//! computed by the server; what has no exact translation (an expression
//! index, text ordered by SQL Server's collation) is listed with its
//! construct. Each translated view returns the rows SQLite returns, and
//! text equality is exact (`'North'` is neither `'NORTH'` nor `'North '`,
//! which SQL Server's default collation would take for it).

mod util;

use std::path::Path;

use bru_testsupport::mssql::{self, MssqlServer};
use util::{bru, bru_ok, Dir};

const SCHEMA: &str = "
CREATE TABLE sites (id INTEGER PRIMARY KEY, name TEXT NOT NULL CHECK (name <> ''), region TEXT);
CREATE TABLE shifts (
  id INTEGER PRIMARY KEY,
  site_id INTEGER REFERENCES sites(id),
  hours INTEGER NOT NULL DEFAULT 8 CHECK (hours > 0 AND hours <= 24),
  rate REAL DEFAULT 1.5,
  note TEXT DEFAULT 'none',
  double_hours INTEGER GENERATED ALWAYS AS (hours * 2) STORED
  TAG_COLUMN
);
CREATE INDEX long_shifts ON shifts (hours) WHERE hours > 10;
CREATE INDEX by_note ON shifts (lower(note));
INSERT INTO sites VALUES (1, 'North', 'N'), (2, 'NORTH', NULL), (3, 'North ', 'E'), (4, 'Süd', 'S');
INSERT INTO shifts (id, site_id, hours, rate, note) VALUES
  (10, 1, 12, 2.5, 'fast'), (11, 1, 3, NULL, NULL), (12, 2, 7, 0.25, 'night'),
  (13, NULL, 20, 1, 'day'), (14, 4, 1, 3, 'Süß');
CREATE VIEW site_hours AS SELECT s.id, count(*) AS n, sum(h.hours) AS total
  FROM sites s JOIN shifts h ON h.site_id = s.id GROUP BY s.id;
CREATE VIEW labels AS SELECT id, coalesce(note, '-') || '@' || id AS label,
  CASE WHEN hours >= 10 THEN 'long' ELSE 'short' END AS kind FROM shifts;
CREATE VIEW norths AS SELECT id FROM sites WHERE name = 'North';
CREATE VIEW in_list AS SELECT id, CASE name WHEN 'NORTH' THEN 1 ELSE 0 END AS upper_north
  FROM sites WHERE name IN ('Süd', 'north', 'NORTH');
CREATE VIEW first_two AS SELECT id, hours FROM shifts ORDER BY hours DESC, id LIMIT 2 OFFSET 1;
CREATE VIEW flags AS SELECT id, hours > 10 AS long, site_id IS NULL AS orphan FROM shifts;
CREATE VIEW nullable_sort AS SELECT id, site_id FROM shifts ORDER BY site_id LIMIT 3;
CREATE VIEW avg_hours AS SELECT site_id, avg(hours) AS a, max(hours) / 2 AS half
  FROM shifts WHERE site_id IS NOT NULL GROUP BY site_id;
CREATE VIEW by_name AS SELECT name FROM sites ORDER BY name;
CREATE VIEW north_hours AS SELECT n.id, sum(h.hours) AS total
  FROM norths n JOIN shifts h ON h.site_id = n.id GROUP BY n.id;
";

const VIEWS: [&str; 9] = [
    "site_hours",
    "labels",
    "norths",
    "in_list",
    "first_two",
    "flags",
    "nullable_sort",
    "avg_hours",
    "north_hours",
];

/// Two rows as equal: cell by cell, numbers by value (SQLite writes the
/// double 7 as `7`, the SQL Server helper as `7.0`), NULL as empty.
fn same_row(a: &str, b: &str) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.split('|').collect(), b.split('|').collect());
    a.len() == b.len()
        && a.iter().zip(&b).all(|(x, y)| {
            let y = if *y == "NULL" { "" } else { y };
            x == &y || matches!((x.parse::<f64>(), y.parse::<f64>()), (Ok(p), Ok(q)) if p == q)
        })
}

fn sqlite_one(path: &Path, sql: &str) -> String {
    let conn = rusqlite::Connection::open(path).expect("open sqlite");
    conn.query_row(sql, [], |r| r.get::<_, String>(0))
        .expect("one value")
}

#[test]
fn sqlite_checks_defaults_generated_columns_and_views_arrive_in_sql_server() {
    let test = "sqlite_checks_defaults_generated_columns_and_views_arrive_in_sql_server";
    let Some(server) = MssqlServer::from_env(test) else {
        return;
    };
    // Babelfish refuses a computed column of text ("generation expression
    // is not immutable": its nvarchar `+` is not), which SQL Server takes:
    // there the column is plain, with the source's values, and listed.
    let babelfish = mssql::is_babelfish(server.url());
    let tag = ", tag TEXT GENERATED ALWAYS AS (note || '!') VIRTUAL";
    let dir = Dir::new();
    let db = dir.path("src.db");
    rusqlite::Connection::open(&db)
        .and_then(|c| c.execute_batch(&SCHEMA.replace("TAG_COLUMN", tag)))
        .expect("source schema");
    let archive = dir.path("sq.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &util::url(&db), archive, "--quiet"]);
    let url = server.create_db("mtr_into");

    // --dry-run shows every translation and every skip.
    let plan = bru_ok(&["restore", archive, &url, "--dry-run"]);
    let plan = String::from_utf8_lossy(&plan.stdout).into_owned();
    for want in [
        "translated: table sites: CHECK: translated from sqlite:",
        "translated: table shifts: column note: default: translated from sqlite: N'none'",
        "translated: table shifts: column double_hours: generated: translated from sqlite:",
        "translated: table shifts: index long_shifts: translated from sqlite: (\"hours\") WHERE",
        "translated: view norths: translated from sqlite: CREATE VIEW \"dbo\".\"norths\"",
    ] {
        assert!(plan.contains(want), "{want} in {plan}");
    }
    for (what, construct) in [
        ("table shifts: index by_note", "an index on an expression"),
        ("view by_name", "ORDER BY text"),
    ] {
        let line = plan
            .lines()
            .find(|l| l.starts_with(&format!("left out: {what}: not translated from sqlite")))
            .unwrap_or_else(|| panic!("{what} in {plan}"));
        assert!(line.contains(construct), "{line}");
    }

    let out = bru_ok(&["restore", archive, &url]);
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        summary.contains("column tag: the generated expression"),
        babelfish,
        "{summary}"
    );
    // Every translated view gives SQLite's rows.
    for view in VIEWS {
        let want = bru_testsupport::sqlite::unaligned_rows(&db, view);
        assert!(!want.is_empty(), "{view} has rows to compare");
        let got: Vec<String> = mssql::query(&url, &format!("SELECT * FROM dbo.{view}"))
            .into_iter()
            .map(|r| r.join("|"))
            .collect();
        let mut got = got;
        got.sort();
        assert!(
            want.len() == got.len() && want.iter().zip(&got).all(|(a, b)| same_row(a, b)),
            "view {view}: SQLite {want:?}, SQL Server {got:?}"
        );
    }
    assert_eq!(
        mssql::query(&url, "SELECT id FROM dbo.norths"),
        [["1".to_owned()]]
    );

    // The tables' rows compare equal, generated columns included; what
    // differs is the index left out (listed above), and on Babelfish the
    // partial index's name (PostgreSQL's, with a hash).
    let cmp = bru(&["compare", &util::url(&db), &url, "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&cmp.stdout).expect("compare --json");
    for table in report["tables"].as_array().expect("tables") {
        if table["status"] == "extra_in_target" {
            continue;
        }
        assert!(
            table["rows_a"] == table["rows_b"] && table["checksum_a"] == table["checksum_b"],
            "{table}"
        );
        for diff in table["schema"].as_array().into_iter().flatten() {
            let diff = diff.as_str().unwrap_or_default();
            let expected = diff.starts_with("index by_note")
                || (babelfish && diff.starts_with("index long_shifts"));
            assert!(expected, "{diff} in {table}");
        }
    }

    // The CHECKs hold; defaults and generated columns are the server's.
    // (The integer keys are identities, SQLite's rowids.)
    for bad in [
        "INSERT INTO dbo.shifts (hours) VALUES (0)",
        "INSERT INTO dbo.shifts (hours) VALUES (25)",
        "INSERT INTO dbo.sites (name) VALUES (N'')",
    ] {
        let e = mssql::try_exec(&url, bad).expect_err(bad);
        assert!(e.to_lowercase().contains("check"), "{bad}: {e}");
    }
    mssql::exec(&url, "INSERT INTO dbo.sites (name) VALUES (N' ')");
    mssql::exec(&url, "INSERT INTO dbo.shifts DEFAULT VALUES");
    assert_eq!(
        mssql::query(
            &url,
            "SELECT hours, rate, note, double_hours FROM dbo.shifts \
             WHERE id = (SELECT MAX(id) FROM dbo.shifts)"
        ),
        [["8", "1.5", "none", "16"].map(str::to_owned)]
    );
    assert_eq!(
        sqlite_one(&db, "SELECT tag FROM shifts WHERE id = 14"),
        mssql::query(&url, "SELECT tag FROM dbo.shifts WHERE id = 14")[0][0]
    );
    server.drop_db("mtr_into");
}

const PG_SCHEMA: &str = r#"
CREATE SCHEMA wfm;
CREATE TABLE wfm.sites (
    id integer PRIMARY KEY,
    name text NOT NULL,
    CONSTRAINT site_name_present CHECK (name <> '')
);
CREATE TABLE wfm.shifts (
    id bigint PRIMARY KEY,
    site_id integer REFERENCES wfm.sites (id),
    hours integer NOT NULL DEFAULT 8,
    rate numeric(8,2) DEFAULT 1.25,
    note text DEFAULT 'none',
    approved boolean NOT NULL DEFAULT false,
    created timestamptz DEFAULT now(),
    double_hours bigint GENERATED ALWAYS AS (hours * 2) STORED,
    CHECK (hours > 0 AND hours <= 24),
    CHECK (rate >= 0)
);
CREATE INDEX approved_long ON wfm.shifts (hours) WHERE approved AND hours > 10;
INSERT INTO wfm.sites VALUES (1, 'North'), (2, 'NORTH'), (3, 'North ');
INSERT INTO wfm.shifts (id, site_id, hours, rate, note, approved) VALUES
  (10, 1, 12, 1.5, 'fast', true), (11, 1, 3, 0.25, NULL, false), (12, 2, 7, NULL, 'night', true),
  (13, 3, 20, 2.5, 'day', false), (14, NULL, 1, 0, 'zzz', true);
CREATE VIEW wfm.site_hours AS
  SELECT s.id, count(*) AS n, sum(h.hours) AS total, sum(h.hours) FILTER (WHERE h.approved) AS ok
  FROM wfm.sites s JOIN wfm.shifts h ON h.site_id = s.id GROUP BY s.id;
CREATE VIEW wfm.site_totals AS
  SELECT s.id, count(*) AS n, sum(h.hours) AS total
  FROM wfm.sites s JOIN wfm.shifts h ON h.site_id = s.id WHERE s.name = 'North' GROUP BY s.id;
CREATE VIEW wfm.labels AS
  SELECT id, coalesce(note, '-') || '@' || id AS label, approved AND hours > 5 AS busy,
         CASE WHEN rate >= 1 THEN 'high' ELSE 'low' END AS band
  FROM wfm.shifts;
CREATE VIEW wfm.first_two AS
  SELECT id, site_id FROM wfm.shifts ORDER BY site_id, id LIMIT 2 OFFSET 1;
"#;

#[test]
fn postgres_checks_defaults_and_views_arrive_in_sql_server() {
    let test = "postgres_checks_defaults_and_views_arrive_in_sql_server";
    let Some(server) = MssqlServer::from_env(test) else {
        return;
    };
    // In a schema of its own: Babelfish keeps `public` for PostgreSQL's.
    let Some((pg, src)) = bru_testsupport::pg::TestServer::start_with_db("pg2ms", PG_SCHEMA) else {
        return;
    };
    let dir = Dir::new();
    let archive = dir.path("pg.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &pg.url(&src), archive, "--quiet"]);
    let url = server.create_db("mtr_from_pg");
    let out = bru_ok(&["restore", archive, &url]);
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    for want in [
        "translated: table wfm.sites: CHECK site_name_present: translated from postgres:",
        "translated: table wfm.shifts: CHECK shifts_rate_check: translated from postgres:",
        "translated: table wfm.shifts: column approved: default: translated from postgres: CAST(0 AS bit)",
        "translated: table wfm.shifts: column rate: default: translated from postgres: 1.25",
        "translated: table wfm.shifts: column double_hours: generated: translated from postgres:",
        "translated: table wfm.shifts: index approved_long: translated from postgres:",
        "translated: view wfm.site_totals: translated from postgres:",
        "translated: view wfm.labels: translated from postgres:",
        "translated: view wfm.first_two: translated from postgres:",
        "skipped: table wfm.shifts: column created: default: not translated from postgres",
        "skipped: view wfm.site_hours: not translated from postgres (",
    ] {
        assert!(summary.contains(want), "{want} in {summary}");
    }
    for view in ["site_totals", "labels", "first_two"] {
        let mut want: Vec<String> = pg
            .psql(&src, &format!("SELECT * FROM wfm.{view}"))
            .lines()
            // psql writes booleans as t and f, SQL Server's bits are 1 and 0
            // (no text cell of these views is t or f).
            .map(|l| {
                l.split('|')
                    .map(|c| match c {
                        "t" => "1",
                        "f" => "0",
                        c => c,
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        want.sort();
        let mut got: Vec<String> = mssql::query(&url, &format!("SELECT * FROM wfm.{view}"))
            .into_iter()
            .map(|r| r.join("|"))
            .collect();
        got.sort();
        assert!(
            want.len() == got.len() && want.iter().zip(&got).all(|(a, b)| same_row(a, b)),
            "view {view}: PostgreSQL {want:?}, SQL Server {got:?}"
        );
    }
    assert_eq!(
        mssql::query(&url, "SELECT id FROM wfm.site_totals"),
        [["1".to_owned()]]
    );
    let e = mssql::try_exec(&url, "INSERT INTO wfm.shifts (id, hours) VALUES (99, 30)")
        .expect_err("hours CHECK");
    assert!(e.to_lowercase().contains("check"), "{e}");
    mssql::exec(&url, "INSERT INTO wfm.shifts (id) VALUES (98)");
    assert_eq!(
        mssql::query(
            &url,
            "SELECT hours, CAST(rate AS nvarchar(10)), note, approved, double_hours \
             FROM wfm.shifts WHERE id = 98"
        ),
        [["8", "1.25", "none", "0", "16"].map(str::to_owned)]
    );
    server.drop_db("mtr_from_pg");
}
