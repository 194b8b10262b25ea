//! `bru verify ARCHIVE --against URL` and `bru compare A B` through the
//! real binary, against real databases: a restore compares equal (exit 0);
//! one changed value, one deleted row and one inserted row are each named
//! by key, with the changed column (exit 3); a table without a primary key
//! is reported by counts and checksums; a SQLite database migrated into
//! PostgreSQL compares equal, and a change on either side is found; a wrong
//! URL is one error line (exit 1), a missing table and different columns
//! one line each (exit 3).

mod util;

use std::path::Path;

use bru_testsupport::pg::TestServer;
use util::{bru, bru_exits, bru_fails, bru_ok, url, Dir};

/// Exit code of a compare that found differences.
const DIFFERS: i32 = 3;

/// A small WFM-like schema: an integer key, a text key, a composite key
/// and a table without any key, with the types a migration maps.
const PG_SCHEMA: &str = "
CREATE TABLE site (id int PRIMARY KEY, name text NOT NULL, opened date);
CREATE TABLE agent (id bigint PRIMARY KEY, site_id int NOT NULL REFERENCES site(id),
  login varchar(64) NOT NULL UNIQUE, full_name text NOT NULL, hourly_rate numeric(10,2),
  active boolean NOT NULL DEFAULT true, external_id uuid NOT NULL, skills jsonb,
  created_at timestamptz NOT NULL);
CREATE INDEX agent_site ON agent(site_id);
CREATE TABLE queue (code text PRIMARY KEY, label text);
CREATE TABLE interval_stats (site_id int NOT NULL REFERENCES site(id), queue int NOT NULL,
  interval_start timestamp NOT NULL, handled int NOT NULL, aht double precision,
  PRIMARY KEY (site_id, queue, interval_start));
CREATE TABLE audit_note (at timestamptz NOT NULL, note text);
INSERT INTO site SELECT g, 'Site ' || g, date '2010-01-01' + g FROM generate_series(1, 20) g;
INSERT INTO agent SELECT g, 1 + g % 20, 'agent' || g, 'Name ' || g, round(10 + g % 4000 / 100.0, 2),
  g % 17 <> 0, md5('agent' || g)::uuid, jsonb_build_object('level', g % 5, 'skills', jsonb_build_array('voice', g % 7)),
  timestamptz '2020-01-01 00:00+00' + g * interval '1 minute' FROM generate_series(1, 3000) g;
INSERT INTO queue SELECT 'Q' || g, 'queue ' || g FROM generate_series(1, 50) g;
INSERT INTO interval_stats SELECT 1 + g % 20, g % 7, timestamp '2026-01-01' + (g / 140) * interval '15 minutes',
  g % 100, g / 3.0 FROM generate_series(1, 5000) g;
INSERT INTO audit_note SELECT timestamptz '2026-01-01 00:00+00' + g * interval '1 second', 'note ' || g
  FROM generate_series(1, 500) g;
";

/// Asserts that `report` (human output) names each of `lines`.
fn names(report: &str, lines: &[&str]) {
    for line in lines {
        assert!(report.contains(line), "report lacks {line:?}:\n{report}");
    }
}

/// The `--json` report of `args` (which must exit with `code`).
fn json(args: &[&str], code: i32) -> serde_json::Value {
    let mut args = args.to_vec();
    args.push("--json");
    serde_json::from_str(&bru_exits(&args, code)).expect("the --json report is JSON")
}

#[test]
fn postgres_restore_verifies_against_its_archive_and_each_change_is_named() {
    let Some((server, src)) = TestServer::start_with_db("cmp_src", PG_SCHEMA) else {
        return;
    };
    let dir = Dir::new();
    let archive = dir.path("pg.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &server.url(&src), archive, "--quiet"]);
    let dst = server.create_db("cmp_dst");
    let dst_url = server.url(&dst);
    bru_ok(&["restore", archive, &dst_url, "--quiet"]);

    let verify = ["verify", archive, "--against", &dst_url, "--jobs", "2"];
    let report = bru_exits(&verify, 0);
    names(
        &report,
        &[
            "MATCH: all 5 tables match",
            "public.agent",
            "3000",
            "one moment",
        ],
    );
    bru_exits(&["compare", &server.url(&src), &dst_url, "--jobs", "2"], 0);

    server.psql(
        &dst,
        "UPDATE agent SET full_name = 'Changed' WHERE id = 1234;
         DELETE FROM agent WHERE id = 77;
         INSERT INTO agent VALUES (5000, 1, 'new', 'New', 1, true, md5('x')::uuid, NULL, now());
         UPDATE queue SET label = 'x' WHERE code = 'Q7';
         UPDATE interval_stats SET aht = aht + 1 WHERE site_id = 3 AND queue = 2
           AND interval_start = (SELECT min(interval_start) FROM interval_stats WHERE site_id = 3 AND queue = 2);
         UPDATE audit_note SET note = 'changed' WHERE note = 'note 9';",
    );
    for args in [&verify[..], &["compare", &server.url(&src), &dst_url]] {
        let report = bru_exits(args, DIFFERS);
        names(
            &report,
            &[
                "table public.agent: changed: id=1234: column(s) full_name",
                "table public.agent: missing in target: id=77",
                "table public.agent: extra in target: id=5000",
                "table public.queue: changed: code=\"Q7\": column(s) label",
                // A timestamp key as an operator would type it.
                "table public.interval_stats: changed: site_id=3, queue=2, \
                 interval_start=2026-01-01 00:00:00: column(s) aht",
                "table public.audit_note: rows differ (500 rows",
                "no primary key: counts and checksums only",
                "DIFFERS: 4 of 5 tables differ",
            ],
        );
        assert!(!report.contains("table public.site:"), "{report}");
    }
    let j = json(&verify, DIFFERS);
    assert_eq!(j["verdict"], "differs");
    let agent = j["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["table"] == "public.agent")
        .expect("agent in the report");
    assert_eq!(agent["rows_a"], 3000);
    assert_eq!(agent["rows_b"], 3000);
    assert_eq!(agent["diffs"].as_array().expect("diffs").len(), 3);
    // --max-diffs bounds what is named, and says more differ.
    let one = bru_exits(
        &["compare", &server.url(&src), &dst_url, "--max-diffs", "1"],
        DIFFERS,
    );
    names(&one, &["more rows differ than the 1 named"]);

    // A table only one side has, and a column only one side has: one
    // line each.
    server.psql(&dst, "CREATE TABLE extra_t (id int); ALTER TABLE site ADD COLUMN region text; ALTER TABLE queue DROP COLUMN label;");
    let report = bru_exits(&["compare", &server.url(&src), &dst_url], DIFFERS);
    names(
        &report,
        &[
            "table public.extra_t extra in target",
            "table public.site: column region extra in target",
            "table public.queue: column label missing in target",
        ],
    );
    // A wrong URL is an error: one line, exit 1.
    let line = bru_fails(
        &["compare", &server.url(&src), &server.url("no_such_db_here")],
        &["compare of", "no_such_db_here"],
    );
    assert_eq!(
        bru(&["compare", &server.url(&src), &server.url("no_such_db_here")])
            .status
            .code(),
        Some(1),
        "{line}"
    );
    bru_fails(
        &["verify", archive, "--against", "oracle://x/y"],
        &["not supported"],
    );
}

/// A SQLite database with the types a migration maps: dates and
/// timestamps as text, booleans as 0/1, decimals as reals and integers,
/// uuids and JSON as text.
fn sqlite_db(path: &Path) {
    let conn = rusqlite::Connection::open(path).expect("create sqlite db");
    conn.execute_batch(
        "CREATE TABLE site (id INTEGER PRIMARY KEY, name TEXT NOT NULL, opened DATE);
         CREATE TABLE agent (id INTEGER PRIMARY KEY, site_id INTEGER NOT NULL REFERENCES site(id),
           login VARCHAR(64) NOT NULL UNIQUE, hourly_rate DECIMAL(10,2), active BOOLEAN NOT NULL,
           external_id UUID, skills JSON, created_at TIMESTAMP NOT NULL);
         CREATE TABLE queue (code TEXT PRIMARY KEY, label TEXT);
         CREATE TABLE note (at TIMESTAMP, body TEXT);",
    )
    .expect("schema");
    let tx = conn.unchecked_transaction().expect("tx");
    for i in 1..=20i64 {
        tx.execute(
            "INSERT INTO site VALUES (?1, 'Site ' || ?1, date('2010-01-01', '+' || ?1 || ' days'))",
            [i],
        )
        .expect("site");
    }
    for i in 1..=2000i64 {
        let rate: Box<dyn rusqlite::ToSql> = if i % 3 == 0 {
            Box::new(10 + i % 40)
        } else {
            Box::new((1000 + i % 4000) as f64 / 100.0)
        };
        tx.execute(
            "INSERT INTO agent VALUES (?1, 1 + ?1 % 20, 'agent' || ?1, ?2, ?1 % 17 <> 0,
               printf('%08x-0000-4000-8000-%012x', ?1, ?1), '{\"level\": ' || (?1 % 5) || ', \"a\": [1, 2]}',
               datetime('2020-01-01 00:00:00', '+' || ?1 || ' minutes'))",
            rusqlite::params![i, rate],
        )
        .expect("agent");
    }
    for i in 1..=30i64 {
        tx.execute("INSERT INTO queue VALUES ('Q' || ?1, 'queue ' || ?1)", [i])
            .expect("queue");
    }
    for i in 1..=100i64 {
        tx.execute(
            "INSERT INTO note VALUES (datetime('2026-01-01', '+' || ?1 || ' seconds'), 'note ' || ?1)",
            [i],
        )
        .expect("note");
    }
    tx.commit().expect("commit");
}

#[test]
fn sqlite_restore_verifies_against_its_archive_and_each_change_is_named() {
    let dir = Dir::new();
    let src = dir.path("src.sqlite");
    sqlite_db(&src);
    let archive = dir.path("s.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &url(&src), archive, "--quiet"]);
    let dst = dir.path("dst.sqlite");
    bru_ok(&["restore", archive, &url(&dst), "--quiet"]);
    let verify = ["verify", archive, "--against", &url(&dst)];
    names(&bru_exits(&verify, 0), &["MATCH: all 4 tables match"]);

    let conn = rusqlite::Connection::open(&dst).expect("open dst");
    conn.execute_batch(
        "UPDATE agent SET login = 'changed' WHERE id = 1500;
         DELETE FROM agent WHERE id = 3;
         INSERT INTO agent VALUES (9999, 1, 'new', 1, 1, NULL, NULL, '2026-01-01 00:00:00');
         UPDATE note SET body = 'x' WHERE body = 'note 5';",
    )
    .expect("change dst");
    drop(conn);
    let report = bru_exits(&verify, DIFFERS);
    names(
        &report,
        &[
            "table agent: changed: id=1500: column(s) login",
            "table agent: missing in target: id=3",
            "table agent: extra in target: id=9999",
            "table note: rows differ",
            "no primary key",
            "DIFFERS: 2 of 4 tables differ",
        ],
    );
    let report = bru_exits(
        &["compare", &url(&src), &url(&dst), "--include", "agent"],
        DIFFERS,
    );
    names(&report, &["table agent: extra in target: id=9999"]);
    assert!(!report.contains("note"), "{report}");
}

#[test]
fn sqlite_migrated_into_postgres_compares_equal_and_changes_on_either_side_are_found() {
    let Some(server) = TestServer::start() else {
        return;
    };
    let dir = Dir::new();
    let src = dir.path("src.sqlite");
    sqlite_db(&src);
    let archive = dir.path("s.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &url(&src), archive, "--quiet"]);
    let db = server.create_db("cmp_mig");
    let pg = server.url(&db);
    bru_ok(&["restore", archive, &pg, "--quiet"]);

    let report = bru_exits(&["compare", &url(&src), &pg, "--jobs", "2"], 0);
    names(&report, &["MATCH: all 4 tables match", "different engines"]);
    bru_exits(&["verify", archive, "--against", &pg], 0);

    server.psql(&db, "UPDATE agent SET hourly_rate = hourly_rate + 0.01 WHERE id = 42; DELETE FROM queue WHERE code = 'Q3';");
    let report = bru_exits(&["compare", &url(&src), &pg], DIFFERS);
    names(
        &report,
        &[
            "table agent: changed: id=42: column(s) hourly_rate",
            "table queue: missing in target: code=\"Q3\"",
        ],
    );
    let report = bru_exits(&["verify", archive, "--against", &pg], DIFFERS);
    names(
        &report,
        &["table agent: changed: id=42: column(s) hourly_rate"],
    );

    // A change on the SQLite side is found the same way.
    server.psql(&db, "UPDATE agent SET hourly_rate = hourly_rate - 0.01 WHERE id = 42; INSERT INTO queue VALUES ('Q3', 'queue 3');");
    bru_exits(&["compare", &url(&src), &pg], 0);
    let conn = rusqlite::Connection::open(&src).expect("open src");
    conn.execute_batch("UPDATE agent SET created_at = '2021-05-05 10:00:00' WHERE id = 7;")
        .expect("change src");
    drop(conn);
    let report = bru_exits(&["compare", &url(&src), &pg], DIFFERS);
    names(
        &report,
        &["table agent: changed: id=7: column(s) created_at"],
    );
}

/// Two PostgreSQL databases: equal tables are found equal inside the
/// servers (the rows are not sent), whatever each database's own output
/// settings; a value that reads the same under two different settings
/// (4 March under DMY, 3 April under MDY) is still a difference, found and
/// named by reading the rows.
#[test]
fn postgres_databases_digest_equal_tables_in_the_servers_under_any_settings() {
    let schema = "CREATE TABLE shift (id int PRIMARY KEY, day date NOT NULL, at timestamptz NOT NULL,
                    len interval, rate double precision, raw bytea);
                  INSERT INTO shift SELECT g, date '2024-01-01' + g, timestamptz '2024-01-01 00:00+00' + g * interval '1 hour',
                    g * interval '1 minute', g / 3.0, decode(md5(g::text), 'hex') FROM generate_series(1, 500) g;
                  CREATE TABLE note (id int PRIMARY KEY, day date);
                  INSERT INTO note VALUES (1, date '2024-03-04');
                  CREATE TABLE val (id int PRIMARY KEY, f float8, n numeric);
                  INSERT INTO val VALUES (1, 0, 1.0), (2, 1.5, 2);";
    let Some((server, a)) = TestServer::start_with_db("dig_a", schema) else {
        return;
    };
    let b = server.create_db("dig_b");
    server.psql(&b, schema);
    server.psql(&b, "UPDATE note SET day = date '2024-04-03'");
    // Values PostgreSQL's own hashes take as equal: -0 and 0, 1.0 and 1.00.
    server.psql(&b, "UPDATE val SET f = '-0', n = 1.00 WHERE id = 1");
    // Each database writes dates, times and floats its own way.
    server.psql(
        &a,
        &format!("ALTER DATABASE {a} SET DateStyle = 'SQL, DMY'; ALTER DATABASE {a} SET TimeZone = 'Asia/Tokyo'; ALTER DATABASE {a} SET extra_float_digits = 0"),
    );
    server.psql(
        &b,
        &format!("ALTER DATABASE {b} SET DateStyle = 'SQL, MDY'; ALTER DATABASE {b} SET bytea_output = 'escape'"),
    );
    let report = bru_exits(
        &["compare", &server.url(&a), &server.url(&b), "--jobs", "2"],
        DIFFERS,
    );
    names(
        &report,
        &[
            "compared inside the servers: 1 table(s)",
            "table public.note: changed: id=1: column(s) day",
            "table public.val: changed: id=1: column(s) f, n",
            "DIFFERS: 2 of 3 tables differ",
        ],
    );
    let j = json(&["compare", &server.url(&a), &server.url(&b)], DIFFERS);
    assert_eq!(j["by_digest"], serde_json::json!(["public.shift"]), "{j}");
    server.psql(
        &b,
        "UPDATE note SET day = date '2024-03-04'; UPDATE val SET f = 0, n = 1.0 WHERE id = 1",
    );
    let report = bru_exits(&["compare", &server.url(&a), &server.url(&b)], 0);
    names(
        &report,
        &[
            "compared inside the servers: 3 table(s)",
            "MATCH: all 3 tables match, 503 rows",
        ],
    );
}
