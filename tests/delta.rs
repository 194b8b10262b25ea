//! Two-step migration through the real binary: a full backup and restore,
//! then writers change the source (inserts, updates, deletes, a primary-key
//! update, rows in the largest table, a table without a key, an
//! AUTOINCREMENT), `bru backup --since` takes a delta and `bru restore`
//! applies it; the target then compares equal with the source (`bru
//! compare`, exit 0). A chain of three deltas; deltas applied out of order,
//! twice, onto a target someone changed, or onto another chain's target are
//! refused before anything is written; an apply killed with SIGKILL runs
//! again with `--resume` to the exact state. PostgreSQL → PostgreSQL with
//! cascading foreign keys and a sequence, and SQLite → PostgreSQL across
//! engines.

mod util;

use std::path::Path;

use bru_testsupport::pg::TestServer;
use util::{bru, bru_exits, bru_fails, bru_ok, url, Dir};

fn sqlite(path: &Path, sql: &str) {
    rusqlite::Connection::open(path)
        .and_then(|c| c.execute_batch(sql))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn compare_matches(a: &str, b: &str) {
    let out = bru(&["compare", a, b]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "compare {a} {b}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// Changes of a writer while the application runs.
const CHANGES_1: &str = "
    UPDATE interval_stats SET calls_handled = calls_handled - 1, note = 'fixed'
     WHERE id % 97 = 0 AND calls_handled > 0;
    DELETE FROM interval_stats WHERE id % 101 = 0;
    INSERT INTO interval_stats (id, site_id, interval_start, calls_offered, calls_handled)
         SELECT id + 10000000, site_id, interval_start, 5, 4 FROM interval_stats WHERE id % 89 = 0;
    UPDATE interval_stats SET id = id + 20000000 WHERE id % 103 = 0;
    UPDATE sites SET name = name || ' (renamed)' WHERE id = 1;
    INSERT INTO audit_log (at, actor, action) VALUES ('2026-12-01 10:00:00', 'ann', 'login');
    INSERT INTO notes (body) VALUES ('added after the full backup');
    DELETE FROM notes WHERE body = 'first';
";

#[test]
fn sqlite_chain_of_three_deltas_is_exact_and_refuses_every_wrong_order() {
    let dir = Dir::new();
    let src = dir.fixture("wfm.sqlite", 2);
    sqlite(
        &src,
        "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('first'), ('second');",
    );
    let (s, base, d1, d2, d3) = (
        url(&src),
        dir.path("base.db"),
        dir.path("d1.db"),
        dir.path("d2.db"),
        dir.path("d3.db"),
    );
    let (base, d1, d2, d3) = (
        base.to_str().unwrap(),
        d1.to_str().unwrap(),
        d2.to_str().unwrap(),
        d3.to_str().unwrap(),
    );
    bru_ok(&["backup", &s, base, "--quiet"]);
    let target = dir.path("target.sqlite");
    let t = url(&target);
    bru_ok(&["restore", base, &t, "--quiet"]);

    sqlite(&src, CHANGES_1);
    // A chain without a change slot has none to drop with its last delta.
    bru_fails(
        &["backup", &s, d1, "--since", base, "--drop-slot", "bru_wfm"],
        &["records no change slot"],
    );
    assert!(!Path::new(d1).exists(), "a refused delta wrote its archive");
    let out = bru_ok(&["backup", &s, d1, "--since", base]);
    let summary = text(&out);
    // Only a few rows of the large table, not all of them.
    let delta_rows: u64 = summary
        .lines()
        .find(|l| l.starts_with("interval_stats"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or_else(|| panic!("{summary}"));
    let all: i64 = rusqlite::Connection::open(&src)
        .unwrap()
        .query_row("SELECT count(*) FROM interval_stats", [], |r| r.get(0))
        .unwrap();
    let all = all as u64;
    assert!(
        delta_rows > 0 && delta_rows * 3 < all,
        "{delta_rows} of {all} rows in the delta"
    );
    // list and verify read a delta.
    let listed = text(&bru_ok(&["list", d1]));
    assert!(listed.contains("delta"), "{listed}");
    bru_ok(&["verify", d1, "--quiet"]);
    bru_fails(&["verify", d1, "--against", &s], &["bru compare"]);

    // A delta before its base's restore, onto another target: refused.
    let other = dir.path("other.sqlite");
    bru_fails(&["restore", d1, &url(&other)], &["does not exist"]);
    assert!(!other.exists(), "a refused delta created the target");

    // --dry-run says what the delta changes and touches nothing; a SQL
    // Server target is refused before it is connected to.
    let plan = text(&bru_ok(&["restore", d1, &t, "--dry-run"]));
    assert!(
        plan.contains("position 1 of the chain") && plan.contains("table interval_stats: "),
        "{plan}"
    );
    bru_fails(
        &["restore", d1, "mssql://sa:x@127.0.0.1:1/none?encrypt=off"],
        &["not supported yet"],
    );
    bru_ok(&["restore", d1, &t, "--quiet"]);
    compare_matches(&s, &t);
    let again = bru_fails(&["restore", d1, &t], &["already applied"]);
    assert!(again.contains("position 1"), "{again}");

    sqlite(
        &src,
        "UPDATE agents SET email = 'new' || id || '@example.com' WHERE id % 7 = 0;
         DELETE FROM notes;",
    );
    bru_ok(&["backup", &s, d2, "--since", d1, "--quiet"]);
    sqlite(
        &src,
        "INSERT INTO audit_log (at, actor, action) VALUES ('2026-12-02 10:00:00', 'bob', 'x');
         UPDATE interval_stats SET aht_seconds = 1.5 WHERE id % 13 = 0;",
    );
    bru_ok(&["backup", &s, d3, "--since", d2, "--quiet"]);
    let out_of_order = bru_fails(&["restore", d3, &t], &["position 2 next"]);
    assert!(out_of_order.contains("position 3"), "{out_of_order}");
    // A delta of another database against this chain's archive: refused.
    let elsewhere = dir.fixture("elsewhere.sqlite", 1);
    let bad = dir.path("bad.db");
    bru_fails(
        &[
            "backup",
            &url(&elsewhere),
            bad.to_str().unwrap(),
            "--since",
            d2,
        ],
        &["was taken from"],
    );
    assert!(!bad.exists(), "a refused delta left an archive");
    bru_ok(&["restore", d2, &t, "--quiet"]);
    bru_ok(&["restore", d3, &t, "--quiet"]);
    compare_matches(&s, &t);
    // The AUTOINCREMENT goes on after the source's last value.
    let seq = |p: &Path| -> i64 {
        rusqlite::Connection::open(p)
            .unwrap()
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(seq(&src), seq(&target));

    // A target restored from the base but changed by someone else since:
    // refused, and nothing written.
    let edited = dir.path("edited.sqlite");
    bru_ok(&["restore", base, &url(&edited), "--quiet"]);
    sqlite(
        &edited,
        "DELETE FROM interval_stats WHERE id = 3; UPDATE sites SET name = 'x' WHERE id = 1;",
    );
    bru_fails(&["restore", d1, &url(&edited)], &["does not hold the rows"]);
    let name: String = rusqlite::Connection::open(&edited)
        .unwrap()
        .query_row("SELECT name FROM sites WHERE id = 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(name, "x", "nothing was written");
    // Another chain's delta onto this chain's target.
    let src2 = dir.fixture("other.sqlite", 1);
    let base2 = dir.path("base2.db");
    bru_ok(&["backup", &url(&src2), base2.to_str().unwrap(), "--quiet"]);
    sqlite(&src2, "UPDATE sites SET seats = seats + 1;");
    let d2_1 = dir.path("d2_1.db");
    bru_ok(&[
        "backup",
        &url(&src2),
        d2_1.to_str().unwrap(),
        "--since",
        base2.to_str().unwrap(),
        "--quiet",
    ]);
    bru_fails(
        &["restore", d2_1.to_str().unwrap(), &t],
        &["another migration"],
    );
}

#[test]
fn schema_changes_since_the_base_are_refused_by_name() {
    let dir = Dir::new();
    let src = dir.fixture("wfm.sqlite", 1);
    let base = dir.path("base.db");
    bru_ok(&["backup", &url(&src), base.to_str().unwrap(), "--quiet"]);
    let delta = dir.path("d.db");
    let d = delta.to_str().unwrap();
    sqlite(&src, "CREATE TABLE later (id INTEGER PRIMARY KEY);");
    bru_fails(
        &["backup", &url(&src), d, "--since", base.to_str().unwrap()],
        &["table later was added"],
    );
    // A base whose recorded states were edited: refused as damaged.
    let edited = dir.path("edited.db");
    std::fs::copy(&base, &edited).unwrap();
    sqlite(
        &edited,
        "UPDATE bru_table_state SET state = replace(state, '\"rows\":', '\"rows\":1') \
         WHERE table_id = 0;",
    );
    bru_fails(
        &["backup", &url(&src), d, "--since", edited.to_str().unwrap()],
        &["table states do not match their checksum"],
    );
    sqlite(
        &src,
        "DROP TABLE later; ALTER TABLE sites ADD COLUMN region TEXT;",
    );
    bru_fails(
        &["backup", &url(&src), d, "--since", base.to_str().unwrap()],
        &["column region"],
    );
}

/// Kills `bru restore ARGS` with SIGKILL once it has written some rows;
/// false when it ended first.
fn kill_apply(args: &[&str]) -> bool {
    util::kill_restore_when(args, |line| {
        line.starts_with("bru: ") && line.contains(" rows of ") && !line.starts_with("bru: 0 ")
    })
    .is_ok()
}

#[test]
fn a_delta_apply_killed_midway_is_finished_exactly_by_resume() {
    let dir = Dir::new();
    let src = dir.fixture("wfm.sqlite", 3);
    let base = dir.path("base.db");
    let (s, b) = (url(&src), base.to_str().unwrap().to_owned());
    bru_ok(&["backup", &s, &b, "--quiet"]);
    let delta = dir.path("d.db");
    let d = delta.to_str().unwrap();
    sqlite(
        &src,
        "UPDATE interval_stats SET note = 'changed ' || id WHERE id % 3 = 0;
         DELETE FROM interval_stats WHERE id % 11 = 0;",
    );
    bru_ok(&[
        "backup",
        &s,
        d,
        "--since",
        &b,
        "--quiet",
        "--chunk-size",
        "4KiB",
    ]);
    let mut killed = false;
    for attempt in 0..5 {
        let target = dir.path(&format!("t{attempt}.sqlite"));
        let t = url(&target);
        bru_ok(&["restore", &b, &t, "--quiet"]);
        if kill_apply(&[d, &t]) {
            killed = true;
            // Not yet the source's state; the resume finishes it.
            bru_ok(&["restore", d, &t, "--resume", "--quiet"]);
            compare_matches(&s, &t);
            bru_fails(&["restore", d, &t], &["already applied"]);
            break;
        }
        compare_matches(&s, &t);
    }
    assert!(killed, "no apply could be killed before it ended");
}

const PG_SCHEMA: &str = "
CREATE TABLE site (id integer PRIMARY KEY, name text NOT NULL);
CREATE TABLE agent (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    site_id integer NOT NULL REFERENCES site (id) ON DELETE CASCADE,
    login text NOT NULL UNIQUE,
    rate numeric(8,2)
);
CREATE TABLE punch (
    id bigint PRIMARY KEY,
    agent_id bigint REFERENCES agent (id) ON DELETE SET NULL ON UPDATE CASCADE,
    at timestamptz NOT NULL,
    kind text NOT NULL
);
CREATE TABLE tag (code text PRIMARY KEY, label text);
CREATE TABLE freeform (a int, b text);
CREATE TABLE stat (site int, at timestamptz, day date, n int, PRIMARY KEY (site, at, day));
CREATE SEQUENCE ticket_no START 100;
INSERT INTO site SELECT g, 'site ' || g FROM generate_series(1, 20) g;
INSERT INTO agent (site_id, login, rate) SELECT 1 + g % 20, 'a' || g, g * 0.5 FROM generate_series(1, 2000) g;
INSERT INTO punch SELECT g, 1 + g % 2000, timestamptz '2026-01-01' + g * interval '1 minute',
       CASE WHEN g % 2 = 0 THEN 'in' ELSE 'out' END FROM generate_series(1, 30000) g;
INSERT INTO tag VALUES ('a', 'A'), ('b', 'B'), ('c', NULL);
INSERT INTO freeform VALUES (1, 'x'), (2, 'y');
INSERT INTO stat SELECT g % 7, timestamptz '2026-01-01 00:00:00.123456+00' + g * interval '15 minutes',
       date '2026-01-01' + g / 96, g FROM generate_series(1, 5000) g;
SELECT nextval('ticket_no');
";

const PG_CHANGES: &str = "
UPDATE punch SET kind = 'fix' WHERE id % 211 = 0;
DELETE FROM site WHERE id = 20;
INSERT INTO agent (site_id, login, rate) VALUES (1, 'late', 9.75);
UPDATE agent SET id = id + 100000 WHERE id = 7;
INSERT INTO punch SELECT 100000 + g, 1, now(), 'in' FROM generate_series(1, 50) g;
UPDATE tag SET code = 'z' WHERE code = 'b';
INSERT INTO freeform VALUES (3, 'z');
UPDATE stat SET n = -n WHERE n % 50 = 0;
DELETE FROM stat WHERE n % 77 = 0;
UPDATE stat SET at = at + interval '1 year' WHERE n % 91 = 0;
SELECT nextval('ticket_no'); SELECT nextval('ticket_no');
";

#[test]
fn postgres_delta_with_cascades_sequences_and_a_keyless_table_is_exact() {
    let Some((pg, src)) = TestServer::start_with_db("dsrc", PG_SCHEMA) else {
        return;
    };
    let dir = Dir::new();
    let base = dir.path("base.db");
    let delta = dir.path("d1.db");
    let (b, d) = (base.to_str().unwrap(), delta.to_str().unwrap());
    // Without wal_level = logical, --slot says so once and the chain
    // takes the generic method.
    let out = bru_ok(&["backup", &pg.url(&src), b, "--slot", "bru_nolog"]);
    let said = text(&out);
    assert_eq!(
        said.matches("change slot bru_nolog: not created").count(),
        1,
        "{said}"
    );
    assert!(said.contains("wal_level"), "{said}");
    let dst = pg.create_db("ddst");
    bru_ok(&["restore", b, &pg.url(&dst), "--quiet"]);
    pg.psql(&src, PG_CHANGES);
    bru_ok(&["backup", &pg.url(&src), d, "--since", b, "--quiet"]);
    let out = bru_ok(&["restore", d, &pg.url(&dst)]);
    let summary = text(&out);
    assert!(summary.contains("rows deleted"), "{summary}");
    compare_matches(&pg.url(&src), &pg.url(&dst));
    let seq = |db: &str| pg.psql(db, "SELECT last_value FROM ticket_no");
    assert_eq!(seq(&src), seq(&dst));
    // The identity goes on after the source's.
    pg.psql(
        &dst,
        "INSERT INTO agent (site_id, login) VALUES (1, 'after')",
    );
    pg.psql(
        &src,
        "INSERT INTO agent (site_id, login) VALUES (1, 'after')",
    );
    assert_eq!(
        pg.psql(&src, "SELECT max(id) FROM agent WHERE login = 'after'"),
        pg.psql(&dst, "SELECT max(id) FROM agent WHERE login = 'after'")
    );
    bru_exits(&["restore", d, &pg.url(&dst)], 1);
}

#[test]
fn sqlite_migrated_into_postgres_in_two_steps_compares_equal() {
    let Some(pg) = TestServer::start() else {
        return;
    };
    let dir = Dir::new();
    let src = dir.path("src.sqlite");
    sqlite(
        &src,
        "CREATE TABLE site (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE agent (id INTEGER PRIMARY KEY AUTOINCREMENT,
                             site_id INTEGER REFERENCES site (id) ON DELETE CASCADE,
                             login TEXT UNIQUE, rate NUMERIC(8,2), hired DATE);
         CREATE TABLE stat (id INTEGER PRIMARY KEY, agent_id INTEGER, calls INTEGER, note TEXT);
         CREATE TABLE code (code TEXT PRIMARY KEY, label TEXT);
         CREATE TABLE notes (body TEXT);
         WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 10)
         INSERT INTO site SELECT i, 'site ' || i FROM g;
         WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 5000)
         INSERT INTO stat SELECT i, i % 300, i % 17, NULL FROM g;
         WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 300)
         INSERT INTO agent (site_id, login, rate, hired)
              SELECT 1 + i % 10, 'a' || i, i * 0.25, '2024-01-' || printf('%02d', 1 + i % 28) FROM g;
         INSERT INTO code VALUES ('x', 'X'), ('y', NULL);
         INSERT INTO notes VALUES ('first'), ('second');",
    );
    let base = dir.path("base.db");
    let delta = dir.path("d1.db");
    let (b, d) = (base.to_str().unwrap(), delta.to_str().unwrap());
    bru_ok(&["backup", &url(&src), b, "--quiet"]);
    let dst = pg.create_db("fromsqlite");
    bru_ok(&["restore", b, &pg.url(&dst), "--quiet"]);
    sqlite(
        &src,
        "UPDATE stat SET note = 'n' || id WHERE id % 37 = 0;
         DELETE FROM stat WHERE id % 41 = 0;
         UPDATE stat SET id = id + 100000 WHERE id % 43 = 0;
         INSERT INTO agent (site_id, login, rate, hired) VALUES (2, 'late', 1.5, '2026-12-01');
         UPDATE agent SET rate = rate + 0.01 WHERE id % 9 = 0;
         DELETE FROM site WHERE id = 10;
         UPDATE code SET code = 'z' WHERE code = 'y';
         INSERT INTO notes VALUES ('third');",
    );
    bru_ok(&["backup", &url(&src), d, "--since", b, "--quiet"]);
    bru_ok(&["restore", d, &pg.url(&dst), "--quiet"]);
    compare_matches(&url(&src), &pg.url(&dst));
}

/// The chain's slot position, as `bru list` does not show it: read from
/// the archive's metadata.
fn slot_of(archive: &Path) -> Option<String> {
    let conn = bru_testsupport::sqlite::open_read_only(archive);
    conn.query_row(
        "SELECT value FROM bru_meta WHERE key = 'change_slot'",
        [],
        |r| r.get(0),
    )
    .ok()
}

#[test]
fn postgres_fast_path_reads_the_slot_and_is_exact_with_writers_during_the_backup() {
    let Some(pg) = TestServer::start_logical() else {
        return;
    };
    let src = pg.create_db("fsrc");
    pg.psql(&src, PG_SCHEMA);
    let dir = Dir::new();
    let p = |name: &str| dir.path(name).to_str().unwrap().to_owned();
    let (base, d1, d2, d3) = (p("base.db"), p("d1.db"), p("d2.db"), p("d3.db"));
    let s = pg.url(&src);
    // Writers commit while the full backup runs: each change is in the
    // base, or named by the slot, or both, and lands exactly once.
    let stop = std::sync::atomic::AtomicBool::new(false);
    // Stops the writer however the backup ends: a failed backup panics,
    // and the scope would otherwise wait for the writer for ever.
    struct StopOnDrop<'a>(&'a std::sync::atomic::AtomicBool);
    impl Drop for StopOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || n < 5 {
                n += 1;
                pg.psql(
                    &src,
                    &format!(
                        "INSERT INTO punch VALUES ({}, 1, now(), 'during');
                         UPDATE punch SET kind = 'w{n}' WHERE id = {n};
                         DELETE FROM punch WHERE id = {};
                         INSERT INTO freeform VALUES ({n}, 'during');",
                        200_000 + n,
                        1000 + n
                    ),
                );
            }
        });
        let _stop = StopOnDrop(&stop);
        bru_ok(&[
            "backup",
            &s,
            &base,
            "--quiet",
            "--slot",
            "bru_fast",
            "--chunk-size",
            "16KiB",
        ]);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        writer.join().unwrap();
    });
    assert_eq!(slot_of(Path::new(&base)).as_deref(), Some("bru_fast"));
    let dst = pg.create_db("fdst");
    let t = pg.url(&dst);
    bru_ok(&["restore", &base, &t, "--quiet"]);

    pg.psql(&src, PG_CHANGES);
    bru_ok(&["backup", &s, &d1, "--since", &base, "--quiet"]);
    let plan = text(&bru_ok(&["restore", &d1, &t, "--dry-run"]));
    assert!(plan.contains("changed keys"), "{plan}");
    // punch: 142 updated, 50 inserted, about 1500 set null by the cascade
    // from site 20's agents, and the writers' rows; no bucket neighbours,
    // as the generic method carries (a generic delta of the same changes,
    // which leaves the slot where it is, for comparison).
    let punch_rows = |archive: &str| -> i64 {
        bru_testsupport::sqlite::open_read_only(Path::new(archive))
            .query_row(
                "SELECT coalesce(sum(rows), 0) FROM bru_tables WHERE name LIKE '%punch%'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    let generic = p("generic.db");
    bru_ok(&[
        "backup",
        &s,
        &generic,
        "--since",
        &base,
        "--generic",
        "--quiet",
    ]);
    let (fast, slow) = (punch_rows(&d1), punch_rows(&generic));
    assert!(
        fast < 2000 && fast < slow,
        "punch rows: {fast} in the fast delta, {slow} in the generic one"
    );
    bru_ok(&["restore", &d1, &t, "--quiet"]);
    compare_matches(&s, &t);

    // A second delta: a key changed twice, a TRUNCATE, a keyless change.
    pg.psql(
        &src,
        "UPDATE punch SET kind = 'again' WHERE id = 211;
         UPDATE punch SET kind = 'twice' WHERE id = 211;
         DELETE FROM punch WHERE id BETWEEN 500 AND 599;
         TRUNCATE tag; INSERT INTO tag VALUES ('q', 'Q');
         UPDATE freeform SET b = 'changed' WHERE a = 1;",
    );
    bru_ok(&["backup", &s, &d2, "--since", &d1, "--quiet"]);
    // d1's position is behind the slot now: a delta since it would name
    // changes d2 already holds as if they were d1's next.
    bru_fails(&["backup", &s, &d3, "--since", &d1], &["moved past"]);
    // A generic delta after a slot delta has no sums to compare with.
    bru_fails(
        &["backup", &s, &d3, "--since", &d2, "--generic"],
        &["change slot", "without --generic"],
    );

    // The apply of a slot delta killed midway, then resumed: exact.
    pg.psql(&src, "UPDATE punch SET kind = kind || '!';");
    bru_ok(&[
        "backup",
        &s,
        &d3,
        "--since",
        &d2,
        "--quiet",
        "--chunk-size",
        "4KiB",
    ]);
    bru_ok(&["restore", &d2, &t, "--quiet"]);
    let killed = kill_apply(&[&d3, &t]);
    if killed {
        bru_ok(&["restore", &d3, &t, "--resume", "--quiet"]);
    }
    eprintln!("the apply of d3 was killed midway: {killed}");
    compare_matches(&s, &t);
    bru_fails(&["restore", &d3, &t], &["already applied"]);

    // The chain's last delta drops the slot once it is complete: not
    // another slot's name (refused before anything is written), then the
    // chain's; the archive records no slot, and applies exactly.
    pg.psql(&src, "UPDATE punch SET kind = 'last' WHERE id = 212;");
    let d4 = p("d4.db");
    bru_fails(
        &[
            "backup",
            &s,
            &d4,
            "--since",
            &d3,
            "--drop-slot",
            "bru_other",
        ],
        &["change slot is bru_fast, not bru_other"],
    );
    assert!(!Path::new(&d4).exists());
    let out = text(&bru_ok(&[
        "backup",
        &s,
        &d4,
        "--since",
        &d3,
        "--drop-slot",
        "bru_fast",
    ]));
    assert!(out.contains("dropped change slot bru_fast"), "{out}");
    assert_eq!(slot_of(Path::new(&d4)), None);
    let slots = || pg.psql("postgres", "SELECT count(*) FROM pg_replication_slots");
    assert_eq!(slots().trim(), "0");
    bru_ok(&["restore", &d4, &t, "--quiet"]);
    compare_matches(&s, &t);

    // A slot on its own is dropped once, then there is none.
    pg.psql(
        &src,
        "SELECT 1 FROM pg_create_logical_replication_slot('bru_alone', 'test_decoding')",
    );
    bru_ok(&["backup", &s, "--drop-slot", "bru_alone"]);
    bru_fails(
        &["backup", &s, "--drop-slot", "bru_alone"],
        &["no change slot bru_alone"],
    );
    assert_eq!(slots().trim(), "0");
}
