//! Cross-engine schema translation through the real `bru` binary,
//! PostgreSQL (a throwaway server) → SQLite: CHECKs (named and not),
//! defaults, a partial index, an expression index and an index on a column
//! whose name PostgreSQL quotes arrive in SQLite translated and enforced;
//! what has no exact translation (a `now()` default, a CHECK over the
//! database's collation) is listed by name with its construct; views with
//! joins, aggregates, CASE, COALESCE, concatenation and LIMIT/OFFSET return
//! the same rows in SQLite as in PostgreSQL; generated columns are computed
//! by SQLite when translated, else plain and listed.

mod util;

use std::path::Path;

use bru_testsupport::pg::TestServer;
use util::{bru_ok, Dir};

const SCHEMA: &str = r#"
CREATE TABLE sites (
    id integer PRIMARY KEY,
    name text NOT NULL,
    "Region Code" text,
    CONSTRAINT site_name_present CHECK (length(name) > 0)
);
CREATE TABLE shifts (
    id bigint PRIMARY KEY,
    site_id integer REFERENCES sites (id),
    hours integer NOT NULL DEFAULT 8,
    rate double precision DEFAULT 0,
    note text DEFAULT 'none',
    approved boolean NOT NULL DEFAULT false,
    created timestamptz DEFAULT now(),
    double_hours bigint GENERATED ALWAYS AS (hours * 2) STORED,
    tag text GENERATED ALWAYS AS (note || '!') STORED,
    pay numeric GENERATED ALWAYS AS (hours * 1.5) STORED,
    CHECK (hours > 0 AND hours <= 24),
    CHECK (rate >= 0 OR rate IS NULL),
    CONSTRAINT note_after_a CHECK (note > 'a')
);
CREATE INDEX long_shifts ON shifts (hours) WHERE hours > 10;
CREATE INDEX by_abs_rate ON shifts (abs(rate));
CREATE INDEX by_region ON sites ("Region Code");
INSERT INTO sites VALUES (1, 'North', 'N1'), (2, 'South', NULL), (3, 'east', 'E');
INSERT INTO shifts (id, site_id, hours, rate, note, approved) VALUES
  (10, 1, 12, 1.5, 'fast', true),
  (11, 1, 3, 0.25, 'slow', false),
  (12, 2, 7, NULL, 'night', true),
  (13, 3, 20, 2.5, 'day', false),
  (14, NULL, 1, 0, 'zzz', true);

CREATE VIEW site_hours AS
  SELECT s.name, count(*) AS n, sum(h.hours) AS total
  FROM sites s JOIN shifts h ON h.site_id = s.id GROUP BY s.name;
CREATE VIEW labels AS
  SELECT id, coalesce(note, '-') || '@' || id AS label,
         CASE WHEN hours >= 10 THEN 'long' ELSE 'short' END AS kind
  FROM shifts;
CREATE VIEW first_two AS
  SELECT id, hours FROM shifts ORDER BY hours DESC, id LIMIT 2 OFFSET 1;
"#;

const VIEWS: [&str; 3] = ["site_hours", "labels", "first_two"];

fn sqlite_one(path: &Path, sql: &str) -> String {
    rusqlite::Connection::open(path)
        .expect("open sqlite")
        .query_row(sql, [], |r| {
            Ok(match r.get_ref(0)? {
                rusqlite::types::ValueRef::Null => "NULL".to_owned(),
                rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                rusqlite::types::ValueRef::Real(v) => format!("{v}"),
                rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                rusqlite::types::ValueRef::Blob(_) => "blob".to_owned(),
            })
        })
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[test]
fn postgres_checks_defaults_indexes_and_views_arrive_in_sqlite_translated_or_named() {
    let Some(server) = TestServer::start() else {
        return;
    };
    let db = server.create_db("pgsrc");
    server.psql(&db, SCHEMA);
    let dir = Dir::new();
    let archive = dir.path("pg.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &server.url(&db), archive, "--quiet"]);

    // --dry-run lists every translation and every skip, and creates nothing.
    let sqlite = dir.path("target.sqlite");
    let plan = bru_ok(&["restore", archive, &util::url(&sqlite), "--dry-run"]);
    let plan = String::from_utf8_lossy(&plan.stdout).into_owned();
    assert!(!sqlite.exists(), "a dry run created the target");
    for want in [
        "translated: table public.shifts: CHECK shifts_hours_check: translated from postgres:",
        "translated: table public.sites: CHECK site_name_present: translated from postgres:",
        "translated: table public.shifts: column hours: default: translated from postgres: 8",
        "translated: table public.shifts: index long_shifts: translated from postgres:",
        "translated: table public.shifts: index by_abs_rate: translated from postgres:",
        "translated: view public.site_hours: translated from postgres: CREATE VIEW",
        "translated: table public.shifts: column double_hours: generated: translated from postgres: ",
        "translated: table public.shifts: column tag: generated: translated from postgres: ",
    ] {
        assert!(plan.contains(want), "{want} in {plan}");
    }
    for (what, construct) in [
        (
            "table public.shifts: column created: default",
            "the function now(",
        ),
        ("table public.shifts: CHECK note_after_a", "collation"),
        (
            "table public.shifts: column pay: generated",
            "a cast to NUMERIC",
        ),
    ] {
        let line = plan
            .lines()
            .find(|l| l.starts_with(&format!("left out: {what}: not translated from postgres")))
            .unwrap_or_else(|| panic!("{what} in {plan}"));
        assert!(line.contains(construct), "{line}");
    }

    let out = bru_ok(&["restore", archive, &util::url(&sqlite)]);
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        summary.contains("skipped: table public.shifts: column created: default: not translated"),
        "{summary}"
    );
    assert_eq!(sqlite_one(&sqlite, "SELECT count(*) FROM shifts"), "5");

    // Each view gives the rows PostgreSQL gives.
    for view in VIEWS {
        let pg = server.psql(&db, &format!("SELECT * FROM public.{view}"));
        let mut want: Vec<String> = pg.lines().map(str::to_owned).collect();
        want.sort();
        assert!(!want.is_empty(), "{view} has rows to compare");
        assert_eq!(
            bru_testsupport::sqlite::unaligned_rows(&sqlite, view),
            want,
            "view {view}"
        );
    }

    // The CHECKs hold in SQLite, with their names.
    let conn = rusqlite::Connection::open(&sqlite).expect("open sqlite");
    for bad in [
        "INSERT INTO shifts (id, hours) VALUES (99, 0)",
        "INSERT INTO shifts (id, hours) VALUES (99, 25)",
        "INSERT INTO shifts (id, rate) VALUES (99, -1)",
        "INSERT INTO sites (id, name) VALUES (99, '')",
    ] {
        let e = conn.execute(bad, []).expect_err(bad).to_string();
        assert!(e.contains("CHECK constraint failed"), "{bad}: {e}");
    }
    let e = conn
        .execute("INSERT INTO sites (id, name) VALUES (98, '')", [])
        .expect_err("empty name")
        .to_string();
    assert!(e.contains("site_name_present"), "{e}");
    // The note CHECK was left out (listed above): SQLite accepts what it
    // would have refused in PostgreSQL, and nothing else.
    conn.execute("INSERT INTO shifts (id, note) VALUES (97, '0')", [])
        .expect("no note CHECK");

    // Defaults give PostgreSQL's values.
    conn.execute("INSERT INTO shifts (id) VALUES (96)", [])
        .expect("defaults");
    let row: (i64, f64, String, i64, Option<String>) = conn
        .query_row(
            "SELECT hours, rate, note, approved, created FROM shifts WHERE id = 96",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .expect("row 96");
    assert_eq!(row, (8, 0.0, "none".to_owned(), 0, None));

    // SQLite computes the translated generated columns, for the restored
    // rows as PostgreSQL did and for new ones; the untranslated one is a
    // plain column with PostgreSQL's values.
    let generated: (i64, String, String) = conn
        .query_row(
            "SELECT double_hours, tag, CAST(pay AS TEXT) FROM shifts WHERE id = 10",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("row 10");
    assert_eq!(generated, (24, "fast!".to_owned(), "18.0".to_owned()));
    let new_row: (i64, String) = conn
        .query_row(
            "SELECT double_hours, tag FROM shifts WHERE id = 96",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row 96");
    assert_eq!(new_row, (16, "none!".to_owned()));
    let table_sql = sqlite_one(
        &sqlite,
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'shifts'",
    );
    assert!(
        table_sql.contains("GENERATED ALWAYS AS") && !table_sql.contains("1.5"),
        "{table_sql}"
    );

    // The partial and expression indexes, and the quoted column's index as
    // a plain one.
    let sql = |name: &str| {
        sqlite_one(
            &sqlite,
            &format!("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = '{name}'"),
        )
    };
    assert!(
        sql("long_shifts").contains("WHERE"),
        "{}",
        sql("long_shifts")
    );
    assert!(
        sql("by_abs_rate").contains("abs("),
        "{}",
        sql("by_abs_rate")
    );
    assert_eq!(
        sql("by_region"),
        "CREATE INDEX \"by_region\" ON \"sites\" (\"Region Code\")"
    );
}
