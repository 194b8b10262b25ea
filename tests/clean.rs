//! `restore --clean` drops only what the archive holds and what the target
//! engine records as depending on it, never what merely names an archive
//! object in its SQL text, and lists every drop in `--dry-run` (text and
//! JSON) and in the summary (text and `--summary-json`).
//!
//! SQLite records a trigger's and an index's table, and nothing for views:
//! a view over another table that mentions `'sites'` in a string, and a
//! trigger on another table whose body says `select 'sites'`, survive. In
//! PostgreSQL, `pg_depend` records a view over an archive table and a
//! foreign key from another table to it: both go with the table's
//! `DROP … CASCADE`, and both are listed first. A restore over an earlier
//! one drops the archive's types too, and ends equal to the source.
//!
//! Refused before anything is dropped: a user's table that holds an archive
//! view's name (it is not the archive's), and a drop whose list changed
//! since it was made (a trigger or view added in between).

mod util;

use std::path::Path;

use bru_core::{Dropped, ObjectDef, TableDef, Target};
use bru_format::ArchiveReader;
use bru_postgres::PgTarget;
use bru_sqlite::SqliteTarget;
use bru_testsupport::pg::TestServer;
use bru_testsupport::sqlite::{dump, open_read_only, run_sql};
use util::{bru_fails, bru_ok, url, Dir};

/// The source of the SQLite archive: a table with an index, a view over it
/// and a trigger on it.
const SQLITE_SOURCE: &str = "
CREATE TABLE sites (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO sites VALUES (1, 'Lyon'), (2, 'Porto');
CREATE INDEX sites_name ON sites (name);
CREATE VIEW site_names AS SELECT name FROM sites;
CREATE TRIGGER sites_stamp AFTER INSERT ON sites BEGIN SELECT 1; END;";

/// A SQLite target that already holds the archive's objects (in other
/// versions), a trigger and an index on its table that the archive does not
/// hold, and objects that only name `sites` inside SQL strings.
const SQLITE_TARGET: &str = "
CREATE TABLE sites (id INTEGER PRIMARY KEY, name TEXT, old TEXT);
INSERT INTO sites VALUES (9, 'old', 'x');
CREATE VIEW site_names AS SELECT name, old FROM sites;
CREATE TRIGGER sites_stamp AFTER DELETE ON sites BEGIN SELECT 2; END;
CREATE TRIGGER sites_extra AFTER UPDATE ON sites BEGIN SELECT 3; END;
CREATE INDEX sites_old ON sites (old);
CREATE TABLE foo (y);
INSERT INTO foo VALUES (7);
CREATE VIEW labels AS select 'sites' as label, y from foo;
CREATE TABLE bar (z);
CREATE TRIGGER bar_note AFTER INSERT ON bar BEGIN select 'sites'; END;";

/// What `--clean` drops from [`SQLITE_TARGET`].
const SQLITE_DROPS: [&str; 5] = [
    "table sites",
    "view site_names",
    "trigger sites_stamp",
    "trigger sites_extra (depends on table sites)",
    "index sites_old (depends on table sites)",
];

/// `name -> sql` of every schema object of a SQLite file, sorted.
fn sqlite_objects(path: &Path) -> Vec<(String, String)> {
    let conn = open_read_only(path);
    let mut stmt = conn
        .prepare(
            "SELECT name, coalesce(sql, '') FROM sqlite_schema \
             WHERE name NOT LIKE 'sqlite_autoindex%' ORDER BY name",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows
}

/// The `dropped` member of a JSON document, as strings.
/// The object kinds of the fidelity work (aggregates, collations,
/// conversions, text search objects, foreign data wrappers, servers and
/// foreign tables, publications, procedural languages, access methods,
/// event triggers): restoring again with `--clean` over an
/// earlier restore drops each by name, lists it, and creates it again.
#[test]
fn postgres_clean_drops_the_archives_objects_of_every_kind_it_creates_by_name() {
    let Some((server, src)) = TestServer::start_with_db(
        "clean_kinds_src",
        "CREATE SCHEMA k;
         CREATE TABLE k.t (id integer, name text COLLATE \"C\");
         CREATE COLLATION k.nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
         CREATE CONVERSION k.myconv FOR 'LATIN1' TO 'UTF8' FROM iso8859_1_to_utf8;
         CREATE TEXT SEARCH DICTIONARY k.dict (TEMPLATE = simple);
         CREATE TEXT SEARCH CONFIGURATION k.cfg (PARSER = default);
         ALTER TEXT SEARCH CONFIGURATION k.cfg ADD MAPPING FOR word WITH k.dict;
         CREATE FUNCTION k.add(integer, integer) RETURNS integer LANGUAGE sql AS 'SELECT $1 + $2';
         CREATE AGGREGATE k.total(integer) (SFUNC = k.add, STYPE = integer, INITCOND = '0');
         CREATE FOREIGN DATA WRAPPER clean_w;
         CREATE SERVER clean_s FOREIGN DATA WRAPPER clean_w;
         CREATE FOREIGN TABLE k.ft (a integer) SERVER clean_s;
         CREATE PUBLICATION clean_p FOR TABLE k.t;
         CREATE FUNCTION k.handler() RETURNS language_handler
             AS '$libdir/plpgsql', 'plpgsql_call_handler' LANGUAGE c;
         CREATE LANGUAGE clean_lang HANDLER k.handler;
         CREATE ACCESS METHOD clean_am TYPE TABLE HANDLER heap_tableam_handler;
         CREATE TABLE k.on_am (a integer) USING clean_am;
         CREATE FUNCTION k.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END';
         CREATE EVENT TRIGGER clean_evt ON ddl_command_end EXECUTE FUNCTION k.on_ddl();
         INSERT INTO k.t VALUES (1, 'a');",
    ) else {
        return;
    };
    let dir = Dir::new();
    let archive = dir.path("pg.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &server.url(&src), a, "--quiet"]);
    let db = server.create_db("clean_kinds_dst");
    let t = server.url(&db);
    bru_ok(&["restore", a, &t, "--quiet"]);
    // Restored again over the first restore: every object is there by
    // name, and only --clean lets the restore create them again.
    let summary = dir.path("summary.json");
    bru_ok(&[
        "restore",
        a,
        &t,
        "--clean",
        "--quiet",
        "--summary-json",
        summary.to_str().unwrap(),
    ]);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    let dropped = dropped_of(&report);
    for own in [
        "collation k.nocase",
        "conversion k.myconv",
        "text search dictionary k.dict",
        "text search configuration k.cfg",
        "function k.total(integer)",
        "foreign-data wrapper clean_w",
        "server clean_s",
        "foreign table k.ft",
        "publication clean_p",
        "language clean_lang",
        "access method clean_am",
        "event trigger clean_evt",
    ] {
        assert!(dropped.iter().any(|d| d == own), "{own}: {dropped:?}");
    }
    server.assert_same_schema(&src, &db);
    assert_eq!(server.contents(&src), server.contents(&db));
}

fn dropped_of(json: &serde_json::Value) -> Vec<String> {
    json["dropped"]
        .as_array()
        .unwrap_or_else(|| panic!("no dropped list in {json}"))
        .iter()
        .map(|d| d.as_str().expect("a string").to_owned())
        .collect()
}

#[test]
fn sqlite_clean_drops_only_the_archives_objects_and_what_sqlite_records_on_them() {
    let dir = Dir::new();
    let src = dir.path("src.sqlite");
    run_sql(&src, SQLITE_SOURCE);
    let archive = dir.path("a.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &url(&src), a, "--quiet"]);
    let target = dir.path("target.sqlite");
    run_sql(&target, SQLITE_TARGET);
    let t = url(&target);
    let before = std::fs::read(&target).unwrap();

    // --dry-run lists every drop and changes nothing.
    let out = bru_ok(&["restore", a, &t, "--clean", "--dry-run"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--clean would drop 5 object(s) first:"),
        "{text}"
    );
    for d in SQLITE_DROPS {
        assert!(text.contains(&format!("would drop: {d}\n")), "{d}: {text}");
    }
    assert!(
        !text.contains("labels") && !text.contains("bar_note"),
        "{text}"
    );
    let out = bru_ok(&["restore", a, &t, "--clean", "--dry-run", "--json"]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan JSON");
    assert!(plan["steps"].as_array().is_some_and(|s| !s.is_empty()));
    assert_eq!(dropped_of(&plan), SQLITE_DROPS);
    assert_eq!(std::fs::read(&target).unwrap(), before, "dry run wrote");

    // The real run drops exactly that, and says so.
    let summary = dir.path("summary.json");
    bru_ok(&[
        "restore",
        a,
        &t,
        "--clean",
        "--quiet",
        "--summary-json",
        summary.to_str().unwrap(),
    ]);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    assert_eq!(report["status"], "ok");
    assert_eq!(dropped_of(&report), SQLITE_DROPS);

    // The archive's objects are its own again; what only named `sites`
    // in a string is untouched, rows and all.
    let source = sqlite_objects(&src);
    let after = sqlite_objects(&target);
    for object in &source {
        assert!(after.contains(object), "{object:?} not restored: {after:?}");
    }
    let names: Vec<&str> = after.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "bar",
            "bar_note",
            "foo",
            "labels",
            "site_names",
            "sites",
            "sites_name",
            "sites_stamp"
        ]
    );
    let fresh = dir.path("fresh.sqlite");
    run_sql(&fresh, SQLITE_TARGET);
    let untouched = sqlite_objects(&fresh);
    for name in ["labels", "bar_note", "foo", "bar"] {
        let sql = |list: &[(String, String)]| list.iter().find(|(n, _)| n == name).cloned();
        assert_eq!(sql(&after), sql(&untouched), "{name} changed");
    }
    let rows: Vec<(String, Vec<String>)> = dump(&target);
    let rows_of = |table: &str| {
        rows.iter()
            .find(|(t, _)| t == table)
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    };
    assert_eq!(rows_of("sites"), dump(&src)[0].1);
    assert_eq!(rows_of("foo"), ["integer:7"]);
    let conn = open_read_only(&target);
    let label: String = conn
        .query_row("SELECT label || ':' || y FROM labels", [], |r| r.get(0))
        .unwrap();
    assert_eq!(label, "sites:7", "the view still works");

    // Over its own restore, --clean drops the archive's objects alone, and
    // the text summary lists them.
    let out = bru_ok(&["restore", a, &t, "--clean"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for d in ["table sites", "view site_names", "trigger sites_stamp"] {
        assert!(text.contains(&format!("dropped: {d}\n")), "{d}: {text}");
    }
    assert_eq!(text.matches("dropped: ").count(), 3, "{text}");
}

#[test]
fn sqlite_dry_run_clean_into_a_missing_file_creates_nothing() {
    let dir = Dir::new();
    let src = dir.path("src.sqlite");
    run_sql(&src, SQLITE_SOURCE);
    let archive = dir.path("a.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &url(&src), a, "--quiet"]);
    let target = dir.path("new.sqlite");
    let out = bru_ok(&["restore", a, &url(&target), "--clean", "--dry-run"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--clean would drop nothing"), "{text}");
    assert!(!target.exists(), "the dry run created the target");
}

/// The source of the PostgreSQL archive: a table and a view over it.
const PG_SOURCE: &str = "
CREATE TABLE sites (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO sites VALUES (1, 'Lyon'), (2, 'Porto');
CREATE INDEX sites_by_name ON sites (name);
CREATE VIEW site_names AS SELECT name FROM sites;";

/// A PostgreSQL target holding the archive's table, index and view, an
/// index the archive does not declare, two views that really depend on the
/// table (one through the other), a foreign key from another table to it,
/// and a view whose text only names `sites` in a string.
const PG_TARGET: &str = "
CREATE TABLE sites (id int PRIMARY KEY, name text);
INSERT INTO sites VALUES (9, 'old');
CREATE INDEX sites_by_name ON sites (name);
CREATE INDEX sites_old ON sites (id, name);
CREATE VIEW site_names AS SELECT name, id FROM sites;
CREATE VIEW busy_sites AS SELECT id FROM sites WHERE id > 1;
CREATE VIEW busier AS SELECT id FROM busy_sites;
CREATE TABLE foo (y int);
INSERT INTO foo VALUES (7);
CREATE VIEW labels AS SELECT 'sites' AS label, y FROM foo;
CREATE TABLE visits (id int, site_id int REFERENCES sites (id));
INSERT INTO visits VALUES (1, NULL);";

/// What `--clean` drops from [`PG_TARGET`]: the archive's view and table
/// (by name), then what `DROP … CASCADE` takes with the table.
const PG_DROPS: [&str; 6] = [
    "view public.site_names",
    "table public.sites",
    "constraint visits_site_id_fkey on table public.visits (depends on table public.sites)",
    "index public.sites_old (depends on table public.sites)",
    "view public.busier (depends on table public.sites)",
    "view public.busy_sites (depends on table public.sites)",
];

#[test]
fn postgres_clean_drops_real_dependents_by_cascade_and_lists_them() {
    let Some((server, src)) = TestServer::start_with_db("clean_src", PG_SOURCE) else {
        return;
    };
    let dir = Dir::new();
    let archive = dir.path("pg.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &server.url(&src), a, "--quiet"]);
    let db = server.create_db("clean_dst");
    server.psql(&db, PG_TARGET);
    let t = server.url(&db);

    let out = bru_ok(&["restore", a, &t, "--clean", "--dry-run", "--json"]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan JSON");
    assert_eq!(dropped_of(&plan), PG_DROPS);
    let out = bru_ok(&["restore", a, &t, "--clean", "--dry-run"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for d in PG_DROPS {
        assert!(text.contains(&format!("would drop: {d}\n")), "{d}: {text}");
    }
    // The dry run dropped nothing.
    assert_eq!(
        server.psql(
            &db,
            "SELECT count(*) FROM pg_views WHERE schemaname = 'public'"
        ),
        "4\n"
    );

    let summary = dir.path("summary.json");
    let out = bru_ok(&[
        "restore",
        a,
        &t,
        "--clean",
        "--summary-json",
        summary.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    for d in PG_DROPS {
        assert!(text.contains(&format!("dropped: {d}\n")), "{d}: {text}");
    }
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    assert_eq!(dropped_of(&report), PG_DROPS);

    // The archive's table and view are back as the source has them; the
    // views over the table and the foreign key are gone; the unrelated
    // view and both other tables, rows and all, are untouched.
    assert_eq!(
        server.psql(&db, "SELECT id, name FROM sites ORDER BY id"),
        "1|Lyon\n2|Porto\n"
    );
    let view = "SELECT pg_get_viewdef('public.site_names'::regclass)";
    assert_eq!(server.psql(&db, view), server.psql(&src, view));
    assert_eq!(
        server.psql(
            &db,
            "SELECT string_agg(viewname, ',' ORDER BY viewname) FROM pg_views \
             WHERE schemaname = 'public'"
        ),
        "labels,site_names\n"
    );
    assert_eq!(server.psql(&db, "SELECT label, y FROM labels"), "sites|7\n");
    assert_eq!(server.psql(&db, "SELECT id, site_id FROM visits"), "1|\n");
    assert_eq!(
        server.psql(
            &db,
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'public.visits'::regclass"
        ),
        "0\n"
    );
}

#[test]
fn postgres_an_index_of_the_archives_name_on_another_table_is_no_index_of_the_archive() {
    let Some((server, src)) = TestServer::start_with_db("clean_idx_src", PG_SOURCE) else {
        return;
    };
    let dir = Dir::new();
    let archive = dir.path("pg.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &server.url(&src), a, "--quiet"]);
    let db = server.create_db("clean_idx_dst");
    // An index of the user's on another table, named like the archive's
    // index on sites: an index name is one per schema.
    server.psql(
        &db,
        "CREATE TABLE other (id int PRIMARY KEY, name text); INSERT INTO other VALUES (3, 'x');
         CREATE INDEX sites_by_name ON other (name);",
    );
    let t = server.url(&db);
    let on_sites = "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' \
                    AND tablename = 'sites' AND indexname = 'sites_by_name'";

    // Without --clean the archive's index cannot be created: the restore
    // fails naming it, rather than taking the other table's index for it.
    let line = bru_fails(
        &["restore", a, &t, "--quiet"],
        &["sites_by_name", "already exists"],
    );
    assert!(line.contains("--clean"), "{line}");
    assert_eq!(server.psql(&db, on_sites), "0\n");

    // --clean drops it by name, lists it in --dry-run and the summary, the
    // same list, and the archive's index is then on sites.
    let drop = "index public.sites_by_name on table public.other";
    let out = bru_ok(&["restore", a, &t, "--clean", "--dry-run", "--json"]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan JSON");
    let planned = dropped_of(&plan);
    assert!(planned.contains(&drop.to_owned()), "{planned:?}");
    let summary = dir.path("summary.json");
    bru_ok(&[
        "restore",
        a,
        &t,
        "--clean",
        "--quiet",
        "--summary-json",
        summary.to_str().unwrap(),
    ]);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    assert_eq!(dropped_of(&report), planned);
    assert_eq!(server.psql(&db, on_sites), "1\n");
    assert_eq!(server.psql(&db, "SELECT id, name FROM other"), "3|x\n");

    // An index that a constraint of the other table owns is refused.
    let db2 = server.create_db("clean_idx_dst2");
    server.psql(
        &db2,
        "CREATE TABLE other (name text, CONSTRAINT sites_by_name UNIQUE (name));",
    );
    let t2 = server.url(&db2);
    for dry_run in [true, false] {
        let mut args = vec!["restore", a, t2.as_str(), "--clean", "--quiet"];
        if dry_run {
            args.push("--dry-run");
        }
        bru_fails(&args, &["sites_by_name", "constraint", "rename it"]);
    }
    assert_eq!(
        server.psql(
            &db2,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ),
        "1\n"
    );
}

#[test]
fn postgres_clean_over_an_earlier_restore_lists_the_archives_objects_and_restores_exactly() {
    let Some((server, src)) =
        TestServer::start_with_db("clean_again_src", bru_testsupport::pg::SCHEMA_SQL)
    else {
        return;
    };
    let dir = Dir::new();
    let archive = dir.path("pg.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &server.url(&src), a, "--quiet"]);
    let db = server.create_db("clean_again_dst");
    let t = server.url(&db);
    bru_ok(&["restore", a, &t, "--quiet"]);
    let summary = dir.path("summary.json");
    bru_ok(&[
        "restore",
        a,
        &t,
        "--clean",
        "--quiet",
        "--summary-json",
        summary.to_str().unwrap(),
    ]);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    let dropped = dropped_of(&report);
    // The archive's tables, views, sequences and types by name (a type too,
    // or its CREATE TYPE would fail), and what goes with them, each
    // depending on one of those.
    for own in [
        "table hr.site",
        "table \"Sales Dept\".calls_2024",
        "view hr.senior",
        "materialized view hr.calls_per_agent",
        "sequence hr.badge_seq",
        "type hr.level",
    ] {
        assert!(dropped.iter().any(|d| d == own), "{own}: {dropped:?}");
    }
    assert!(
        dropped
            .iter()
            .any(|d| d == "trigger agent_touch on table hr.agent (depends on table hr.agent)"),
        "{dropped:?}"
    );
    for d in &dropped {
        if let Some((_, on)) = d.split_once(" (depends on ") {
            let on = on.trim_end_matches(')');
            assert!(dropped.iter().any(|o| o == on), "{d}: {dropped:?}");
        }
    }
    server.assert_same_schema(&src, &db);
    assert_eq!(server.contents(&src), server.contents(&db));
}

#[test]
fn sqlite_clean_refuses_a_user_table_named_like_an_archive_view() {
    let dir = Dir::new();
    let src = dir.path("src.sqlite");
    run_sql(&src, SQLITE_SOURCE);
    let archive = dir.path("a.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &url(&src), a, "--quiet"]);
    let target = dir.path("target.sqlite");
    run_sql(
        &target,
        "CREATE TABLE sites (id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE site_names (note TEXT); INSERT INTO site_names VALUES ('mine');",
    );
    let before = (sqlite_objects(&target), dump(&target));
    let t = url(&target);
    for dry_run in [true, false] {
        let mut args = vec!["restore", a, t.as_str(), "--clean", "--quiet"];
        if dry_run {
            args.push("--dry-run");
        }
        let line = bru_fails(
            &args,
            &[
                "table site_names",
                "archive's view site_names",
                "rename or drop it",
            ],
        );
        // Refused before anything is written: nothing to --resume.
        assert!(!line.contains("--resume"), "{line}");
        assert_eq!((sqlite_objects(&target), dump(&target)), before);
    }
}

#[test]
fn postgres_clean_refuses_a_user_table_named_like_an_archive_view() {
    let Some((server, src)) = TestServer::start_with_db("clean_clash_src", PG_SOURCE) else {
        return;
    };
    let dir = Dir::new();
    let archive = dir.path("pg.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &server.url(&src), a, "--quiet"]);
    let db = server.create_db("clean_clash_dst");
    server.psql(
        &db,
        "CREATE TABLE sites (id int); INSERT INTO sites VALUES (5);
         CREATE TABLE site_names (note text); INSERT INTO site_names VALUES ('mine');",
    );
    let t = server.url(&db);
    for dry_run in [true, false] {
        let mut args = vec!["restore", a, t.as_str(), "--clean", "--quiet"];
        if dry_run {
            args.push("--dry-run");
        }
        let line = bru_fails(
            &args,
            &[
                "table public.site_names",
                "archive's view public.site_names",
                "rename or drop it",
            ],
        );
        // Refused before anything is written: nothing to --resume.
        assert!(!line.contains("--resume"), "{line}");
        assert_eq!(
            server.psql(
                &db,
                "SELECT (SELECT note FROM site_names), (SELECT id FROM sites)"
            ),
            "mine|5\n"
        );
    }
}

/// The archive's tables and objects, as a restore asks the target about them.
fn archive_catalog(archive: &Path) -> (Vec<TableDef>, Vec<ObjectDef>) {
    let reader = ArchiveReader::open(archive).expect("open archive");
    let tables = reader
        .tables()
        .expect("tables")
        .into_iter()
        .map(|e| e.def)
        .collect();
    (tables, reader.catalog().expect("catalog").objects)
}

#[test]
fn sqlite_clean_refuses_to_drop_more_than_it_listed() {
    let dir = Dir::new();
    let src = dir.path("src.sqlite");
    run_sql(&src, SQLITE_SOURCE);
    let archive = dir.path("a.db");
    bru_ok(&["backup", &url(&src), archive.to_str().unwrap(), "--quiet"]);
    let (tables, objects) = archive_catalog(&archive);
    let path = dir.path("target.sqlite");
    run_sql(
        &path,
        "CREATE TABLE sites (id INTEGER PRIMARY KEY, name TEXT);",
    );
    let mut target = SqliteTarget::open_shared(&path).expect("open target");
    let plan = target.clean_plan(&tables, &objects).expect("plan");
    assert_eq!(plan, [Dropped::own("table sites")]);
    // Another connection adds a trigger on the table after the listing.
    run_sql(
        &path,
        "CREATE TRIGGER late AFTER INSERT ON sites BEGIN SELECT 1; END;",
    );
    let err = target
        .clean(&tables, &objects, &plan)
        .expect_err("the target changed");
    assert!(
        err.to_string()
            .contains("changed since the drops were listed"),
        "{err}"
    );
    drop(target);
    let names: Vec<String> = sqlite_objects(&path).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["late", "sites"], "nothing was dropped");
}

#[test]
fn postgres_clean_refuses_to_drop_more_than_it_listed() {
    let Some((server, src)) = TestServer::start_with_db("clean_late_src", PG_SOURCE) else {
        return;
    };
    let dir = Dir::new();
    let archive = dir.path("pg.db");
    bru_ok(&[
        "backup",
        &server.url(&src),
        archive.to_str().unwrap(),
        "--quiet",
    ]);
    let (tables, objects) = archive_catalog(&archive);
    let db = server.create_db("clean_late_dst");
    server.psql(&db, "CREATE TABLE sites (id int PRIMARY KEY, name text);");
    let mut target = PgTarget::open(&server.url(&db)).expect("connect");
    let plan = target.clean_plan(&tables, &objects).expect("plan");
    assert_eq!(plan, [Dropped::own("table public.sites")]);
    // Another session adds a view over the table after the listing.
    server.psql(&db, "CREATE VIEW late AS SELECT id FROM sites;");
    let err = target
        .clean(&tables, &objects, &plan)
        .expect_err("the target changed");
    assert!(
        err.to_string()
            .contains("changed since the drops were listed"),
        "{err}"
    );
    // Nothing was dropped, and the session is usable again.
    assert_eq!(
        target.clean_plan(&tables, &objects).expect("plan again"),
        [
            Dropped::own("table public.sites"),
            Dropped::dependent("view public.late", "table public.sites")
        ]
    );
    drop(target);
    assert_eq!(
        server.psql(&db, "SELECT count(*) FROM late"),
        "0\n",
        "the view is still there"
    );
}

#[test]
fn sqlite_dry_run_clean_leaves_a_wal_target_as_it_found_it() {
    let dir = Dir::new();
    let src = dir.path("src.sqlite");
    run_sql(&src, SQLITE_SOURCE);
    let archive = dir.path("a.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &url(&src), a, "--quiet"]);
    let target = dir.path("target.sqlite");
    run_sql(
        &target,
        "PRAGMA journal_mode = WAL; CREATE TABLE sites (x);",
    );
    let files = || {
        let mut names: Vec<String> = std::fs::read_dir(dir.tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let before = (files(), std::fs::read(&target).unwrap());
    let out = bru_ok(&["restore", a, &url(&target), "--clean", "--dry-run"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("would drop: table sites\n"), "{text}");
    assert_eq!((files(), std::fs::read(&target).unwrap()), before);
}
