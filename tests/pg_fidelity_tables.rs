//! PostgreSQL tables as pg_dump keeps them, through the real `bru` binary:
//! each case builds a schema in a database of its own on one shared
//! throwaway server, backs it up, restores it into a fresh database, and
//! compares `pg_dump --schema-only` and every table's rows with the
//! source's. The cases are the table, column and index properties that
//! PostgreSQL's regression database exercises (issue 10): zero-column tables
//! with rows, dropped columns, unusual typmods, typed tables, multiple
//! inheritance, partitions with their own column order, and the `ALTER
//! TABLE … SET …` properties.

mod util;

use std::panic::{catch_unwind, AssertUnwindSafe};

use bru_testsupport::archive::tamper;
use bru_testsupport::pg::TestServer;
use rusqlite::Connection;
use serde_json::Value;
use util::{bru_fails, bru_ok, Dir};

/// Backs up database `src` of `server`, restores it into a new database,
/// and asserts that schema and rows are the same; returns the restore's
/// stderr.
fn round_trip(server: &TestServer, dir: &Dir, src: &str) -> String {
    let archive = dir.path(&format!("{src}.db"));
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &server.url(src), archive, "--quiet"]);
    bru_ok(&["verify", archive, "--quiet"]);
    let dst = server.create_db(&format!("{src}_dst"));
    let out = bru_ok(&["restore", archive, &server.url(&dst)]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.to_lowercase().contains("skipped"), "{stderr}");
    server.assert_same_schema(src, &dst);
    assert_eq!(server.contents(src), server.contents(&dst));
    stderr
}

/// Creates a database named after `case` holding `sql`, and round-trips it.
fn case(server: &TestServer, dir: &Dir, case: &str, sql: &str) {
    let src = server.create_db(case);
    server.psql(&src, sql);
    round_trip(server, dir, &src);
}

const ZERO_COLUMNS: &str = "
CREATE TABLE public.nocols (a int);
INSERT INTO public.nocols SELECT g FROM generate_series(1, 5) g;
ALTER TABLE public.nocols DROP COLUMN a;
CREATE TABLE public.nocols_empty ();
";

const DROPPED_COLUMNS: &str = "
CREATE TABLE public.holes (a int, b text, c int, d text, e date);
ALTER TABLE public.holes DROP COLUMN b;
ALTER TABLE public.holes DROP COLUMN d;
ALTER TABLE public.holes ADD COLUMN f text DEFAULT 'x';
INSERT INTO public.holes (a, c, e) VALUES (1, 2, '2020-01-02'), (3, NULL, NULL);
";

const TYPMODS: &str = "
CREATE TABLE public.typmods (
    n1 numeric(5,-2), n2 numeric(3,5), n3 numeric(10,0), b bit(3), vb bit varying(7),
    i1 interval year to month, i2 interval(3), i3 interval day to second(2),
    t time(2), tz timetz(1), ts timestamp(0), tstz timestamp(3) with time zone,
    ca character(4)[], vc character varying(3)[][]
);
INSERT INTO public.typmods VALUES (12300, 0.00123, 7, B'101', B'11', '1 year 2 months',
    '1.2345 seconds', '1 day 2.345 seconds', '12:34:56.789', '01:02:03.45+02',
    '2020-01-01 01:02:03.6', '2020-01-01 01:02:03.4567+00', '{ab,cdef}', '{{a,b},{c,d}}');
";

const TYPED_TABLES: &str = "
CREATE TYPE public.person AS (id int, name text, born date);
CREATE TABLE public.people OF public.person (
    id WITH OPTIONS PRIMARY KEY,
    name WITH OPTIONS NOT NULL DEFAULT 'nobody'
);
CREATE TABLE public.people2 OF public.person;
INSERT INTO public.people VALUES (1, 'ann', '2000-01-01');
";

const INHERITANCE: &str = "
CREATE TABLE public.p1 (a int NOT NULL, b text, CONSTRAINT p1_a CHECK (a > 0));
CREATE TABLE public.p2 (b text, c int DEFAULT 3, CONSTRAINT p2_c CHECK (c < 100) NO INHERIT);
CREATE TABLE public.kid (d int, b text NOT NULL, CONSTRAINT kid_d CHECK (d <> 0))
    INHERITS (public.p1, public.p2);
ALTER TABLE public.kid ADD CONSTRAINT p1_a CHECK (a > 0);
CREATE TABLE public.gen_parent (x int, y int GENERATED ALWAYS AS (x * 2) STORED);
CREATE TABLE public.gen_kid (z int GENERATED ALWAYS AS (x * 3) STORED) INHERITS (public.gen_parent);
CREATE TABLE public.gen_merge (x int, y int GENERATED ALWAYS AS (x * 2) STORED);
ALTER TABLE public.gen_merge INHERIT public.gen_parent;
CREATE TABLE public.p_def (a int DEFAULT 5, b int DEFAULT 6);
CREATE TABLE public.c_def (b int) INHERITS (public.p_def);
ALTER TABLE ONLY public.c_def ALTER COLUMN a DROP DEFAULT;
ALTER TABLE ONLY public.c_def ALTER COLUMN b DROP DEFAULT;
INSERT INTO public.gen_merge (x) VALUES (4);
INSERT INTO public.kid (a, b, c, d) VALUES (1, 'one', 4, 5);
INSERT INTO public.gen_kid (x) VALUES (7);
";

const ROW_TYPE_CHECK: &str = "
CREATE TABLE public.rowcheck (a int, b int);
CREATE FUNCTION public.rowcheck_ok(r public.rowcheck) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS 'SELECT $1.a < $1.b';
ALTER TABLE public.rowcheck ADD CONSTRAINT rowcheck_ok CHECK (public.rowcheck_ok(rowcheck.*));
INSERT INTO public.rowcheck VALUES (1, 2);
CREATE TABLE public.likec (a int, CONSTRAINT likec_a UNIQUE (a), CONSTRAINT likec_b CHECK (a > 0));
CREATE INDEX likec_b ON public.likec (a DESC);
INSERT INTO public.likec VALUES (1), (2);
";

const PARTITIONS: &str = "
CREATE TABLE public.parted (a int NOT NULL, b text, c int, PRIMARY KEY (a, c))
    PARTITION BY RANGE (c);
CREATE TABLE public.part1 (b text, c int NOT NULL, a int NOT NULL DEFAULT 7);
ALTER TABLE public.parted ATTACH PARTITION public.part1 FOR VALUES FROM (0) TO (10);
CREATE TABLE public.part2 PARTITION OF public.parted (b DEFAULT 'two') FOR VALUES FROM (10) TO (20);
CREATE INDEX parted_b ON public.parted (b);
CREATE FUNCTION public.trg() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER parted_t BEFORE INSERT ON public.parted FOR EACH ROW EXECUTE FUNCTION public.trg();
ALTER TABLE public.part1 DISABLE TRIGGER parted_t;
INSERT INTO public.parted VALUES (1, 'x', 1), (2, 'y', 12);
CREATE TABLE public.part3 (a int NOT NULL, b text, c int NOT NULL, CONSTRAINT part3_own_pk PRIMARY KEY (a, c));
CREATE INDEX part3_own_b ON public.part3 (b);
ALTER TABLE public.parted ATTACH PARTITION public.part3 FOR VALUES FROM (20) TO (30);
CREATE TABLE public.lparted (a int, b int) PARTITION BY LIST (a);
CREATE TABLE public.lpart (b int, a int);
CREATE INDEX lpart_idx ON public.lpart (b);
CREATE INDEX lparted_idx ON ONLY public.lparted (b);
ALTER TABLE public.lparted ATTACH PARTITION public.lpart FOR VALUES IN (1);
CREATE TABLE public.ldef PARTITION OF public.lparted DEFAULT;
";

const PROPERTIES: &str = "
CREATE TABLE public.props (a int, b text, c text, d int PRIMARY KEY, e jsonb)
    WITH (fillfactor = 70, toast.autovacuum_enabled = false);
ALTER TABLE public.props ALTER COLUMN b SET STORAGE EXTERNAL;
ALTER TABLE public.props ALTER COLUMN c SET COMPRESSION pglz;
ALTER TABLE public.props ALTER COLUMN a SET STATISTICS 500;
ALTER TABLE public.props ALTER COLUMN a SET (n_distinct = -0.5, n_distinct_inherited = 10);
ALTER TABLE public.props REPLICA IDENTITY FULL;
CREATE UNIQUE INDEX props_a ON public.props (a);
CREATE INDEX props_expr ON public.props ((a + d));
ALTER INDEX public.props_expr ALTER COLUMN 1 SET STATISTICS 300;
ALTER TABLE public.props CLUSTER ON props_a;
CREATE TABLE public.ri (a int NOT NULL);
CREATE UNIQUE INDEX ri_a ON public.ri (a);
ALTER TABLE public.ri REPLICA IDENTITY USING INDEX ri_a;
CREATE TABLE public.rn (a int);
ALTER TABLE public.rn REPLICA IDENTITY NOTHING;
CREATE UNLOGGED SEQUENCE public.useq;
CREATE TABLE public.id_logged (a int GENERATED ALWAYS AS IDENTITY);
ALTER SEQUENCE public.id_logged_a_seq SET UNLOGGED;
CREATE UNLOGGED TABLE public.id_unlogged (a int GENERATED ALWAYS AS IDENTITY);
ALTER SEQUENCE public.id_unlogged_a_seq SET LOGGED;
INSERT INTO public.id_logged DEFAULT VALUES;
CREATE RULE rn_rule AS ON INSERT TO public.rn DO ALSO NOTIFY rn;
ALTER TABLE public.rn DISABLE RULE rn_rule;
CREATE STATISTICS public.props_st ON a, d FROM public.props;
ALTER STATISTICS public.props_st SET STATISTICS 42;
INSERT INTO public.props VALUES (1, 'b', 'c', 2, '{}');
";

/// A materialized view's columns keep what pg_dump sets on them with
/// `ALTER TABLE ONLY` (the regression database's `compressmv`).
const MATVIEW_COLUMNS: &str = "
CREATE TABLE public.src (a int, b text);
INSERT INTO public.src VALUES (1, 'x');
CREATE MATERIALIZED VIEW public.mv AS SELECT a, b, b AS c FROM public.src;
ALTER MATERIALIZED VIEW public.mv ALTER COLUMN b SET COMPRESSION lz4;
ALTER MATERIALIZED VIEW public.mv ALTER COLUMN a SET STATISTICS 250;
ALTER MATERIALIZED VIEW public.mv ALTER COLUMN c SET STORAGE MAIN;
ALTER MATERIALIZED VIEW public.mv ALTER COLUMN a SET (n_distinct = 7);
CREATE INDEX mv_a ON public.mv (a);
";

/// A check of its own on the shared server, beyond the round-trip cases.
type Check = fn(&TestServer, &Dir);

/// An edit of a catalog entry ([`tamper`]).
type Edit = Box<dyn Fn(&str, &mut Value) -> bool>;

#[test]
fn tables_round_trip_with_every_property_pg_dump_keeps() {
    let Some(server) = TestServer::start() else {
        return;
    };
    let dir = Dir::new();
    let cases: &[(&str, &str)] = &[
        ("zero_columns", ZERO_COLUMNS),
        ("dropped_columns", DROPPED_COLUMNS),
        ("typmods", TYPMODS),
        ("typed_tables", TYPED_TABLES),
        ("inheritance", INHERITANCE),
        ("row_type_check", ROW_TYPE_CHECK),
        ("partitions", PARTITIONS),
        ("properties", PROPERTIES),
        ("matview_columns", MATVIEW_COLUMNS),
    ];
    let only = std::env::var("BRU_CASE").ok();
    let mut failed = Vec::new();
    for (name, sql) in cases {
        if only.as_deref().is_some_and(|o| o != *name) {
            continue;
        }
        if catch_unwind(AssertUnwindSafe(|| case(&server, &dir, name, sql))).is_err() {
            failed.push(*name);
        }
    }
    let extra: [(&str, Check); 4] = [
        ("tablespace", tablespace),
        ("zero_to_sqlite", zero_columns_into_sqlite),
        ("into_sqlite", properties_stay_in_postgres),
        ("edited_entries", edited_table_statements_are_refused),
    ];
    for (name, run) in extra {
        if only.as_deref().is_none_or(|o| o == name)
            && catch_unwind(AssertUnwindSafe(|| run(&server, &dir))).is_err()
        {
            failed.push(name);
        }
    }
    assert!(
        failed.is_empty(),
        "cases that did not round-trip: {failed:?}"
    );
}

/// SQLite has no table without columns: a restore of one is refused by the
/// table's name, with the way out, instead of dropping its rows.
fn zero_columns_into_sqlite(server: &TestServer, dir: &Dir) {
    let src = server.create_db("zero_to_sqlite");
    server.psql(&src, ZERO_COLUMNS);
    let archive = dir.path("zero_to_sqlite.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &server.url(&src), archive, "--quiet"]);
    let target = util::url(&dir.path("zero.sqlite"));
    bru_fails(
        &["restore", archive, &target, "--quiet"],
        &["public.nocols", "no columns", "--exclude"],
    );
}

/// A table in a tablespace other than the default stays there (the
/// tablespace, a server-wide object, is the test server's own, in a
/// directory owned by the user the server runs as).
fn tablespace(server: &TestServer, dir: &Dir) {
    use std::os::unix::fs::MetadataExt;
    let data = server.psql("postgres", "SHOW data_directory");
    let owner = std::fs::metadata(data.trim()).expect("the data directory");
    let space = dir.path("space");
    std::fs::create_dir(&space).unwrap();
    std::os::unix::fs::chown(&space, Some(owner.uid()), Some(owner.gid())).unwrap();
    server.psql(
        "postgres",
        &format!("CREATE TABLESPACE bru_space LOCATION '{}'", space.display()),
    );
    case(
        server,
        dir,
        "tablespace",
        "CREATE TABLE public.spaced (a int PRIMARY KEY USING INDEX TABLESPACE bru_space, b int)
             TABLESPACE bru_space;
         CREATE INDEX spaced_b ON public.spaced (b) TABLESPACE bru_space;
         CREATE TABLE public.plain (a int PRIMARY KEY, b int);
         CREATE INDEX plain_b ON public.plain (b);
         INSERT INTO public.spaced VALUES (1, 2);",
    );
}

/// PostgreSQL-only properties (column options, partitions attached after
/// creation, typed and inheriting tables, late CHECKs, after-index
/// statements) do not get in the way of a restore into SQLite, which builds
/// each table from the neutral model with every row.
fn properties_stay_in_postgres(server: &TestServer, dir: &Dir) {
    let src = server.create_db("into_sqlite");
    for sql in [
        DROPPED_COLUMNS,
        TYPED_TABLES,
        INHERITANCE,
        ROW_TYPE_CHECK,
        PARTITIONS,
        PROPERTIES,
    ] {
        server.psql(&src, sql);
    }
    let archive = dir.path("into_sqlite.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &server.url(&src), archive, "--quiet"]);
    let target = dir.path("into.sqlite");
    bru_ok(&["restore", archive, &util::url(&target), "--quiet"]);
    let conn = Connection::open(&target).expect("open the SQLite target");
    for (table, rows) in [
        ("holes", 2),
        ("people", 1),
        ("kid", 1),
        ("gen_kid", 1),
        ("rowcheck", 1),
        ("part1", 1),
        ("part2", 1),
        ("props", 1),
    ] {
        let n: i64 = conn
            .query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
                r.get(0)
            })
            .unwrap_or_else(|e| panic!("table {table}: {e}"));
        assert_eq!(n, rows, "rows of {table}");
    }
}

/// The statements a backup writes after a CREATE TABLE, after a table's
/// indexes, after a rule and for a late CHECK, edited to reach a table of
/// the target's own: the restore and verify refuse the archive, and the
/// target's table is untouched.
fn edited_table_statements_are_refused(server: &TestServer, dir: &Dir) {
    let src = server.create_db("edited_src");
    server.psql(&src, PROPERTIES);
    server.psql(&src, ROW_TYPE_CHECK);
    let archive = dir.path("edited.db");
    bru_ok(&[
        "backup",
        &server.url(&src),
        archive.to_str().unwrap(),
        "--quiet",
    ]);
    let is_table = |t: &Value, name: &str| t["name"]["name"] == name;
    let edits: [(&str, Edit); 5] = [
        (
            "table public.props",
            Box::new(move |what, t| {
                what == "table" && is_table(t, "props") && {
                    let create = t["native"]["create"].as_str().unwrap().to_owned();
                    t["native"]["create"] = format!(
                        "{create};\nALTER TABLE ONLY public.victim ALTER COLUMN a SET STATISTICS 5"
                    )
                    .into();
                    true
                }
            }),
        ),
        (
            "table public.props",
            Box::new(move |what, t| {
                what == "table" && is_table(t, "props") && {
                    t["properties"]["postgres.after_indexes.000"] =
                        "ALTER TABLE ONLY public.props CLUSTER ON props_a; DROP TABLE public.victim"
                            .into();
                    true
                }
            }),
        ),
        (
            "table public.ri",
            Box::new(move |what, t| {
                what == "table" && is_table(t, "ri") && {
                    t["properties"]["postgres.after_indexes.000"] =
                        "ALTER TABLE ONLY public.victim REPLICA IDENTITY USING INDEX ri_a".into();
                    true
                }
            }),
        ),
        (
            "rule public.rn_rule",
            Box::new(move |what, o| {
                what == "object" && o["name"]["name"] == "rn_rule" && {
                    let ddl = o["ddl"].as_str().unwrap().replace(
                        "ALTER TABLE public.rn DISABLE",
                        "ALTER TABLE public.victim DISABLE",
                    );
                    o["ddl"] = ddl.into();
                    true
                }
            }),
        ),
        (
            "check constraint public.rowcheck_ok",
            Box::new(move |what, o| {
                what == "object"
                    && o["name"]["name"] == "rowcheck_ok"
                    && o["kind"]["other"] == "check constraint"
                    && {
                        let ddl = o["ddl"].as_str().unwrap().to_owned();
                        o["ddl"] = format!("{ddl}; DELETE FROM public.victim").into();
                        true
                    }
            }),
        ),
    ];
    for (i, (entry, edit)) in edits.iter().enumerate() {
        let copy = dir.path(&format!("edited-{i}.db"));
        std::fs::copy(&archive, &copy).unwrap();
        tamper(&copy, edit);
        let copy = copy.to_str().unwrap();
        let db = server.create_db("edited_dst");
        server.psql(&db, "CREATE TABLE public.victim (a int PRIMARY KEY); INSERT INTO public.victim VALUES (1), (2)");
        bru_fails(
            &["restore", copy, &server.url(&db), "--quiet"],
            &["catalog entry", "altered", entry],
        );
        bru_fails(
            &["verify", copy, "--quiet"],
            &["catalog entry", "altered", entry],
        );
        assert_eq!(server.tables(&db), vec!["public.victim".to_string()]);
        assert_eq!(
            server.psql(&db, "SELECT count(*) FROM public.victim"),
            "2\n"
        );
    }
}
