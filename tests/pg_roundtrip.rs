//! PostgreSQL through the real `bru` binary, against throwaway servers:
//! PG → archive → PG is indistinguishable from the source (pg_dump
//! --schema-only with owners and GRANTs, every table's rows, every
//! sequence); `--no-owner` / `--no-privileges` leave owners and GRANTs
//! out, and a role the target lacks is listed as skipped; SQLite and
//! PostgreSQL archives cross over through the neutral model; a backup taken
//! while a writer moves money between accounts sees one consistent
//! snapshot; connection failures are one line without the password.

mod util;

use std::process::{Command, Stdio};

use bru_testsupport::pg::{TestServer, SCHEMA_SQL, TORTURE_SQL};
use util::{bru, bru_fails, bru_ok, Dir};

/// Restores `archive` with `--quiet` and `flags` into a new database named
/// after `hint`, and returns that database.
fn restore_quietly(server: &TestServer, archive: &str, hint: &str, flags: &[&str]) -> String {
    let db = server.create_db(hint);
    let url = server.url(&db);
    let mut args = vec!["restore", archive, url.as_str()];
    args.extend_from_slice(flags);
    args.push("--quiet");
    bru_ok(&args);
    db
}

/// Restores `archive` with `--jobs 2` into a new database named after
/// `hint`, asserts that nothing was skipped, and returns that database.
fn restore_everything(server: &TestServer, archive: &str, hint: &str) -> String {
    let db = server.create_db(hint);
    let out = bru_ok(&["restore", archive, &server.url(&db), "--jobs", "2"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.to_lowercase().contains("skipped"), "{stderr}");
    db
}

#[test]
fn postgres_round_trip_through_an_archive_is_indistinguishable() {
    let Some((server, src)) = TestServer::start_with_db("rt_src", SCHEMA_SQL) else {
        return;
    };
    let dir = Dir::new();
    server.psql(&src, TORTURE_SQL);
    let archive = dir.path("pg.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&[
        "backup",
        &server.url(&src),
        archive,
        "--jobs",
        "2",
        "--quiet",
    ]);
    bru_ok(&["verify", archive]);

    let dst = restore_everything(&server, archive, "rt_dst");
    server.assert_same_schema(&src, &dst);
    assert_eq!(server.contents(&src), server.contents(&dst));
    // The journal of the finished restore is gone.
    assert_eq!(
        server.psql(
            &dst,
            "SELECT to_regclass('public._bru_restore_journal') IS NULL"
        ),
        "t\n"
    );

    // --data-only into the schema alone gives the same rows, and the
    // target's triggers did not fire on them.
    let schema_only = restore_quietly(&server, archive, "rt_schema", &["--schema-only"]);
    server.assert_same_schema(&src, &schema_only);
    // Every sequence starts over, as in a schema made by hand: those owned
    // by a column (serial and identity) and standalone ones. --data-only
    // sets them all to the archive's values, as pg_restore --data-only does.
    let reset = server.psql(
        &schema_only,
        "SELECT count(pg_catalog.setval(c.oid, 1, false)),
                count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass
                        AND d.deptype IN ('a', 'i')))
           FROM pg_class c WHERE c.relkind = 'S'",
    );
    let (all, standalone) = reset.trim().split_once('|').expect("two counts");
    assert_ne!(all, "0", "the schema has sequences");
    assert_ne!(standalone, "0", "the schema has a standalone sequence");
    bru_ok(&[
        "restore",
        archive,
        &server.url(&schema_only),
        "--data-only",
        "--quiet",
    ]);
    assert_eq!(server.contents(&src), server.contents(&schema_only));
}

#[test]
fn sqlite_and_postgres_archives_cross_over() {
    let Some(server) = TestServer::start() else {
        return;
    };
    let dir = Dir::new();
    let sqlite = dir.fixture("source.sqlite", 0);
    let as_is = dir.path("as_is.db");
    let as_is = as_is.to_str().expect("utf-8 path");
    bru_ok(&["backup", &util::url(&sqlite), as_is, "--quiet"]);

    // audit_log.at is a DATETIME whose trigger-written values carry a UTC
    // offset ('2024-03-01T00:01:05-03:00'); a PostgreSQL timestamp without
    // time zone cannot keep it, so the value is refused by name.
    let refused = |hint: &str, exclude: &str, expect: &[&str]| {
        let db = server.create_db(hint);
        bru_fails(
            &[
                "restore",
                as_is,
                &server.url(&db),
                "--quiet",
                "--exclude",
                exclude,
            ],
            expect,
        );
    };
    refused(
        "cross_refused",
        "edge_values",
        &["audit_log", "column at", "UTC offset"],
    );
    // The untyped column edge_values.v holds integers, reals, text and
    // blobs side by side; PostgreSQL has no such column, and a value that
    // does not fit is refused by name, never changed.
    refused(
        "cross_refused_v",
        "audit_log",
        &["edge_values", "column v", "cannot store value"],
    );

    // The rest of the data check runs on a copy whose offsets are written
    // as local times, as an application storing local times would.
    {
        let conn = rusqlite::Connection::open(&sqlite).expect("open the fixture");
        conn.execute(
            "UPDATE audit_log SET at = replace(substr(at, 1, 19), 'T', ' ') WHERE length(at) > 19",
            [],
        )
        .expect("rewrite offsets");
    }
    let from_sqlite = dir.path("from_sqlite.db");
    let from_sqlite = from_sqlite.to_str().expect("utf-8 path");
    bru_ok(&["backup", &util::url(&sqlite), from_sqlite, "--quiet"]);
    let db = server.create_db("cross");
    let out = bru_ok(&[
        "restore",
        from_sqlite,
        &server.url(&db),
        "--jobs",
        "2",
        "--exclude",
        "edge_values",
    ]);
    let summary =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    // Generated columns are SQLite SQL, translated: PostgreSQL computes
    // them (the values are compared with SQLite's below).
    for want in [
        "column calls_abandoned: generated: translated from sqlite:",
        "column full_name: generated: translated from sqlite:",
    ] {
        assert!(summary.contains(want), "{want} in {summary}");
    }
    assert_eq!(
        server
            .psql(
                &db,
                "SELECT attgenerated::text FROM pg_attribute \
                 WHERE attrelid = 'public.interval_stats'::regclass AND attname = 'calls_abandoned'"
            )
            .trim(),
        "s"
    );

    // Typed values come back in their canonical text: a TIME written
    // '13:00' is the time 13:00:00, and returns as such. The comparison
    // below is against those canonical texts.
    {
        let conn = rusqlite::Connection::open(&sqlite).expect("open the fixture");
        conn.execute(
            "UPDATE schedules SET shift_start = time(shift_start), shift_end = time(shift_end)",
            [],
        )
        .expect("canonical times");
    }
    // Every SQLite table arrived with all its rows.
    let mut original = bru_testsupport::sqlite::dump(&sqlite);
    original.retain(|(t, _)| t != "edge_values");
    for (table, rows) in &original {
        let count = server.psql(&db, &format!("SELECT count(*) FROM public.\"{table}\""));
        assert_eq!(count.trim(), rows.len().to_string(), "table {table}");
    }

    // And back: PostgreSQL → archive → SQLite holds the same values.
    let from_pg = dir.path("from_pg.db");
    let from_pg = from_pg.to_str().expect("utf-8 path");
    bru_ok(&["backup", &server.url(&db), from_pg, "--quiet"]);
    let back = dir.path("back.sqlite");
    let out = bru_ok(&["restore", from_pg, &util::url(&back), "--jobs", "2"]);
    let summary_back =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let back_rows = bru_testsupport::sqlite::dump(&back);
    for ((table, a), (table_b, b)) in original.iter().zip(&back_rows) {
        assert_eq!(table, table_b);
        assert_eq!(a.len(), b.len(), "rows of {table}");
        // Values are compared where SQLite's storage class survives the
        // trip: a SQLite DECIMAL column holding REALs comes back as the
        // exact decimal text (docs/type-mapping.md), a different class.
        if table != "agents" {
            if let Some((x, y)) = a.iter().zip(b).find(|(x, y)| x != y) {
                panic!("table {table}: a value changed on the way:\n  {x}\n  {y}");
            }
        }
    }
    // Objects written for one engine are listed as skipped by the other,
    // never dropped silently.
    let objects = server.psql(
        &db,
        "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal",
    );
    if util::schema(&sqlite).iter().any(|s| s.contains("TRIGGER")) {
        assert_eq!(objects, "0\n");
        assert!(summary.to_lowercase().contains("skipped"), "{summary}");
    }
    let _ = summary_back;
}

#[test]
fn a_backup_during_transfers_sees_one_consistent_total() {
    // Big enough that the backup takes a while and the table is read in
    // page ranges by both readers.
    let Some((server, src)) = TestServer::start_with_db(
        "bank",
        "CREATE TABLE accounts (id integer PRIMARY KEY, amount bigint NOT NULL, pad text);
         INSERT INTO accounts SELECT g, 1000, repeat('p', 60) FROM generate_series(1, 400000) g;
         CREATE TABLE transfers (n bigint NOT NULL);
         INSERT INTO transfers VALUES (0);
         CREATE TABLE stop (flag boolean);",
    ) else {
        return;
    };
    let dir = Dir::new();
    server.psql(&src, "VACUUM ANALYZE");
    let total = server.psql(&src, "SELECT sum(amount) FROM accounts");
    // One psql session moves money between random accounts, one
    // transaction per transfer, until told to stop.
    let mut writer = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(server.url(&src))
        .args([
            "-c",
            "DO $$ DECLARE a int; b int; BEGIN
               LOOP
                 EXIT WHEN EXISTS (SELECT 1 FROM stop);
                 a := 1 + floor(random() * 400000)::int; b := 1 + floor(random() * 400000)::int;
                 UPDATE accounts SET amount = amount - 7 WHERE id = a;
                 UPDATE accounts SET amount = amount + 7 WHERE id = b;
                 UPDATE transfers SET n = n + 1;
                 COMMIT;
               END LOOP; END $$",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("start the writer");
    let count = || -> u64 {
        server
            .psql(&src, "SELECT n FROM transfers")
            .trim()
            .parse()
            .expect("transfer count")
    };
    while count() < 200 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let before = count();
    let archive = dir.path("bank.db");
    let archive = archive.to_str().expect("utf-8 path");
    let backup = bru(&[
        "backup",
        &server.url(&src),
        archive,
        "--jobs",
        "2",
        "--quiet",
    ]);
    let after = count();
    server.psql(&src, "INSERT INTO stop VALUES (true)");
    let status = writer.wait().expect("writer");
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    assert!(status.success(), "the writer failed");
    assert!(
        after > before,
        "the source did not change during the backup"
    );

    let dst = restore_quietly(&server, archive, "bank_restored", &["--jobs", "2"]);
    assert_eq!(server.psql(&dst, "SELECT sum(amount) FROM accounts"), total);
    assert_eq!(
        server.psql(&dst, "SELECT count(*) FROM accounts"),
        "400000\n"
    );
    let restored: u64 = server
        .psql(&dst, "SELECT n FROM transfers")
        .trim()
        .parse()
        .expect("transfer count");
    assert!(
        (before..=after).contains(&restored),
        "restored {restored} transfers, the backup ran from {before} to {after}"
    );
    // Money did move in the snapshot: not every account still holds 1000.
    if restored > 0 {
        assert_ne!(
            server.psql(&dst, "SELECT count(*) FROM accounts WHERE amount <> 1000"),
            "0\n"
        );
    }
}

#[test]
fn connection_failures_are_one_line_without_the_password() {
    let Some(server) = TestServer::start() else {
        return;
    };
    if !server.is_local() {
        return;
    }
    let dir = Dir::new();
    let db = server.create_db("login");
    server.psql(&db, "CREATE ROLE ann LOGIN PASSWORD 'Right-Horse-42'");
    let sock = server.socket_dir();
    let archive = dir.path("x.db");
    let archive = archive.to_str().expect("utf-8 path");
    let wrong = format!(
        "postgresql://ann:Wr0ng-Battery-7@/{db}?host={}&port=5432",
        sock.display()
    );
    let line = bru_fails(&["backup", &wrong, archive], &["ann", "password"]);
    assert!(!line.contains("Wr0ng-Battery-7"), "{line}");
    let line = bru_fails(&["restore", archive, &wrong], &[]);
    assert!(!line.contains("Wr0ng-Battery-7"), "{line}");

    let gone = dir.path("no-server");
    std::fs::create_dir_all(&gone).expect("dir");
    let unreachable = format!(
        "postgresql://ann:Wr0ng-Battery-7@/{db}?host={}&port=5432",
        gone.display()
    );
    let line = bru_fails(&["backup", &unreachable, archive], &["cannot open"]);
    assert!(!line.contains("Wr0ng-Battery-7"), "{line}");
}

#[test]
fn data_only_refuses_an_interval_that_a_restricted_column_would_cut() {
    let Some((server, src)) = TestServer::start_with_db(
        "iv_src",
        "CREATE TABLE public.iv (id int PRIMARY KEY, d interval); \
         INSERT INTO public.iv VALUES (1, '2 days'), (2, '1 day 03:00:00.5')",
    ) else {
        return;
    };
    let dir = Dir::new();
    let archive = dir.path("iv.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &server.url(&src), archive, "--quiet"]);
    // The same table, but its column keeps days only (and no fraction).
    let restricted = "CREATE TABLE public.iv (id int PRIMARY KEY, d interval day)";
    let dst = server.create_db("iv_day");
    server.psql(&dst, restricted);
    bru_fails(
        &[
            "restore",
            archive,
            &server.url(&dst),
            "--data-only",
            "--quiet",
        ],
        &["iv", "column d", "cut or rounded"],
    );
    // Not a false alarm: the server itself would have cut the value.
    assert_eq!(
        server.psql(&dst, "SELECT '1 day 03:00:00.5'::interval day"),
        "1 day\n"
    );
    let dst = server.create_db("iv_frac");
    server.psql(
        &dst,
        "CREATE TABLE public.iv (id int PRIMARY KEY, d interval(0))",
    );
    bru_fails(
        &[
            "restore",
            archive,
            &server.url(&dst),
            "--data-only",
            "--quiet",
        ],
        &["iv", "column d", "cut or rounded"],
    );
    // Values that fit go in unchanged.
    server.psql(&src, "DELETE FROM public.iv WHERE id = 2");
    bru_ok(&["backup", &server.url(&src), archive, "--quiet", "--force"]);
    let dst = server.create_db("iv_fits");
    server.psql(&dst, restricted);
    bru_ok(&[
        "restore",
        archive,
        &server.url(&dst),
        "--data-only",
        "--quiet",
    ]);
    assert_eq!(server.psql(&dst, "SELECT d FROM public.iv"), "2 days\n");
}

/// Roles (cluster-wide, so named after this process) and objects they own
/// or are granted: a schema, a table with table and column grants (one
/// made by a grantee holding the grant option), a view, a function whose
/// EXECUTE is taken from PUBLIC, a sequence with USAGE granted, an enum.
fn privileges_sql(owner: &str, reader: &str) -> String {
    format!(
        "CREATE ROLE {owner}; CREATE ROLE {reader};
         CREATE SCHEMA acl AUTHORIZATION {owner};
         GRANT USAGE ON SCHEMA acl TO {reader};
         CREATE TABLE acl.ledger (id serial PRIMARY KEY, amount numeric, secret text);
         INSERT INTO acl.ledger (amount, secret) VALUES (10, 'a'), (20, 'b');
         ALTER TABLE acl.ledger OWNER TO {owner};
         GRANT SELECT ON acl.ledger TO {reader};
         GRANT INSERT ON acl.ledger TO {reader} WITH GRANT OPTION;
         GRANT SELECT (amount), UPDATE (amount) ON acl.ledger TO PUBLIC;
         SET ROLE {reader}; GRANT INSERT ON acl.ledger TO PUBLIC; RESET ROLE;
         CREATE VIEW acl.totals AS SELECT sum(amount) AS total FROM acl.ledger;
         ALTER VIEW acl.totals OWNER TO {owner};
         GRANT SELECT ON acl.totals TO {reader};
         CREATE FUNCTION acl.twice(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x * 2';
         ALTER FUNCTION acl.twice(integer) OWNER TO {owner};
         REVOKE EXECUTE ON FUNCTION acl.twice(integer) FROM PUBLIC;
         GRANT EXECUTE ON FUNCTION acl.twice(integer) TO {reader};
         CREATE SEQUENCE acl.tickets;
         GRANT USAGE ON SEQUENCE acl.tickets TO {reader};
         CREATE TYPE acl.mood AS ENUM ('calm', 'busy');
         ALTER TYPE acl.mood OWNER TO {owner};
         CREATE TABLE public.plain (id integer);
         ALTER TABLE public.plain OWNER TO {reader};"
    )
}

/// Objects of schema `acl` (and public.plain) not owned by the connecting
/// user, and those with any privilege recorded (object or column).
fn foreign_owned_and_granted(server: &TestServer, db: &str) -> (String, String) {
    let owned = server.psql(
        db,
        "SELECT count(*) FROM (
           SELECT c.relowner AS o FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'acl' OR c.relname = 'plain'
           UNION ALL SELECT p.proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'acl'
           UNION ALL SELECT t.typowner FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'acl'
           UNION ALL SELECT nspowner FROM pg_namespace WHERE nspname = 'acl') x
         WHERE o <> (SELECT oid FROM pg_roles WHERE rolname = current_user)",
    );
    let granted = server.psql(
        db,
        "SELECT count(*) FROM (
           SELECT c.relacl::text AS a FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'acl'
           UNION ALL SELECT a.attacl::text FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'acl'
           UNION ALL SELECT p.proacl::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'acl'
           UNION ALL SELECT nspacl::text FROM pg_namespace WHERE nspname = 'acl') x
         WHERE a IS NOT NULL",
    );
    (owned.trim().to_owned(), granted.trim().to_owned())
}

#[test]
fn owners_and_privileges_round_trip_and_can_be_left_out() {
    let Some(server) = TestServer::start() else {
        return;
    };
    let dir = Dir::new();
    let pid = std::process::id();
    let (owner, reader) = (format!("bru_owner_{pid}"), format!("bru_reader_{pid}"));
    let src = server.create_db("acl_src");
    server.psql(&src, SCHEMA_SQL);
    server.psql(&src, &privileges_sql(&owner, &reader));
    let archive = dir.path("acl.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &server.url(&src), archive, "--quiet"]);

    // PG → archive → PG: pg_dump --schema-only (with owners and GRANTs)
    // is the same.
    let dst = restore_everything(&server, archive, "acl_dst");
    let dump = server.dump_schema(&dst);
    for expected in [
        format!("ALTER TABLE acl.ledger OWNER TO {owner};"),
        format!("GRANT SELECT ON TABLE acl.ledger TO {reader};"),
        "GRANT SELECT(amount),UPDATE(amount) ON TABLE acl.ledger TO PUBLIC;".into(),
        format!("GRANT USAGE ON SEQUENCE acl.tickets TO {reader};"),
        format!("ALTER FUNCTION acl.twice(x integer) OWNER TO {owner};"),
    ] {
        assert!(dump.contains(&expected), "{expected} missing:\n{dump}");
    }
    server.assert_same_schema(&src, &dst);
    assert_eq!(server.contents(&src), server.contents(&dst));
    let (owned, granted) = foreign_owned_and_granted(&server, &dst);
    assert_ne!(owned, "0");
    assert_ne!(granted, "0");

    // --dry-run leaves them out of the plan.
    let all = bru_ok(&["restore", archive, &server.url(&dst), "--dry-run"]);
    let bare = bru_ok(&[
        "restore",
        archive,
        &server.url(&dst),
        "--dry-run",
        "-O",
        "-x",
    ]);
    let (all, bare) = (
        String::from_utf8_lossy(&all.stdout).into_owned(),
        String::from_utf8_lossy(&bare.stdout).into_owned(),
    );
    assert!(
        all.contains("owner acl.ledger") && all.contains("privileges acl.ledger"),
        "{all}"
    );
    assert!(
        !bare.contains("owner ") && !bare.contains("privileges "),
        "{bare}"
    );

    // --no-owner: everything belongs to the restoring user, GRANTs stay.
    let no_owner = restore_quietly(&server, archive, "acl_no_owner", &["--no-owner"]);
    let (owned, granted) = foreign_owned_and_granted(&server, &no_owner);
    assert_eq!(owned, "0", "{}", server.dump_schema(&no_owner));
    assert_ne!(granted, "0");
    let dump = server.dump_schema(&no_owner);
    assert!(!dump.contains(&format!("OWNER TO {owner}")), "{dump}");
    assert!(dump.contains(&format!("TO {reader}")), "{dump}");

    // --no-acl (--no-privileges): owners stay, no GRANTs at all.
    let no_acl = restore_quietly(&server, archive, "acl_no_acl", &["--no-acl"]);
    let (owned, granted) = foreign_owned_and_granted(&server, &no_acl);
    assert_ne!(owned, "0");
    assert_eq!(granted, "0", "{}", server.dump_schema(&no_acl));
    let dump = server.dump_schema(&no_acl);
    assert!(!dump.contains("GRANT "), "{dump}");
    assert!(dump.contains(&format!("OWNER TO {owner}")), "{dump}");
    assert_eq!(server.contents(&src), server.contents(&no_acl));
}

#[test]
fn a_role_missing_in_the_target_is_listed_as_skipped() {
    let Some(server) = TestServer::start() else {
        return;
    };
    let dir = Dir::new();
    let gone = format!("bru_gone_{}", std::process::id());
    let src = server.create_db("gone_src");
    server.psql(
        &src,
        &format!(
            "CREATE ROLE {gone};
             CREATE TABLE public.kept (id integer PRIMARY KEY, v text);
             INSERT INTO public.kept VALUES (1, 'x');
             ALTER TABLE public.kept OWNER TO {gone};
             CREATE TABLE public.shared (id integer);
             GRANT SELECT ON public.shared TO {gone};
             ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO {gone};"
        ),
    );
    let archive = dir.path("gone.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &server.url(&src), archive, "--quiet"]);
    server.psql(
        &src,
        &format!(
            "REASSIGN OWNED BY {gone} TO CURRENT_USER; DROP OWNED BY {gone}; DROP ROLE {gone};"
        ),
    );

    let dst = server.create_db("gone_dst");
    let out = bru_ok(&["restore", archive, &server.url(&dst)]);
    let summary =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    for what in ["owner public.kept", "privileges public.shared"] {
        let line = summary
            .lines()
            .find(|l| l.contains("skipped") && l.contains(what))
            .unwrap_or_else(|| panic!("{what} not listed as skipped:\n{summary}"));
        assert!(
            line.contains(&format!("role \"{gone}\" does not exist in the target")),
            "{line}"
        );
    }
    // So are the default privileges that grant to it.
    assert!(
        summary.lines().any(|l| l.contains("skipped")
            && l.contains("default privileges")
            && l.contains(&format!("role \"{gone}\" does not exist in the target"))),
        "{summary}"
    );
    // Everything else arrived: the table, its rows, owned by the restorer.
    assert_eq!(server.psql(&dst, "SELECT v FROM public.kept"), "x\n");
    assert_eq!(
        server.psql(
            &dst,
            "SELECT relacl IS NULL FROM pg_class WHERE relname = 'shared'"
        ),
        "t\n"
    );
}

#[test]
fn a_trigger_and_a_view_on_a_foreign_table_are_listed_as_not_carried_with_it() {
    // bru lists a foreign table that inherits from a table but does not
    // carry it (a plain one it carries: tests/pg_fidelity_kinds2.rs); what
    // hangs on it (a trigger) or reads it (a view) cannot be created
    // without it, so it is skipped and listed by name, and the archive
    // still verifies.
    let setup = "CREATE TABLE sites (id int PRIMARY KEY);
        INSERT INTO sites VALUES (1), (2);
        CREATE FOREIGN DATA WRAPPER bru_fdw;
        CREATE SERVER bru_srv FOREIGN DATA WRAPPER bru_fdw;
        CREATE TABLE remote_base (id int);
        CREATE FOREIGN TABLE remote_sites () INHERITS (remote_base) SERVER bru_srv;
        CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
        CREATE TRIGGER remote_stamp BEFORE INSERT ON remote_sites
            FOR EACH ROW EXECUTE FUNCTION stamp();
        CREATE VIEW remote_ids AS SELECT id FROM remote_sites;
        COMMENT ON FOREIGN TABLE remote_sites IS 'elsewhere';
        COMMENT ON COLUMN remote_sites.id IS 'their id';
        COMMENT ON TABLE sites IS 'ours';";
    let Some((server, src)) = TestServer::start_with_db("ft_src", setup) else {
        return;
    };
    let dir = Dir::new();
    let archive = dir.path("ft.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &server.url(&src), archive, "--quiet"]);
    bru_ok(&["verify", archive, "--quiet"]);
    let dst = server.create_db("ft_dst");
    let out = bru_ok(&["restore", archive, &server.url(&dst)]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["remote_sites", "remote_stamp", "remote_ids"] {
        assert!(
            text.lines().any(
                |l| l.contains(name) && l.to_lowercase().contains("not carried")
                    || l.contains(name) && l.to_lowercase().contains("skipped")
            ),
            "{name} is not listed as skipped:\n{text}"
        );
    }
    // The comments on the foreign table and its column go with it, listed;
    // the archive's own table keeps its comment.
    for comment in [
        "comment public.remote_sites,",
        "comment public.remote_sites.id",
    ] {
        assert!(
            text.lines()
                .any(|l| l.contains(comment) && l.contains("not carried")),
            "{comment} is not listed as not carried:\n{text}"
        );
    }
    assert_eq!(
        server
            .psql(&dst, "SELECT obj_description('sites'::regclass)")
            .trim(),
        "ours"
    );
    assert_eq!(server.contents(&src), server.contents(&dst));
}
