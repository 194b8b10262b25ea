//! The archive is data, never code. Each test takes a real archive, edits
//! its catalog as an attacker would (rusqlite on the archive's own tables,
//! the catalog CRC recomputed as FORMAT.md describes it), and restores it
//! into a target holding an unrelated table `victim` with rows. The restore
//! must fail naming the catalog entry, before the target is touched: the
//! victim and its rows are still there, the target's schema is as it was
//! (no trigger planted), no file was written; and `bru verify` fails on the
//! same archive. The untouched archive still restores and verifies.
//!
//! SQLite targets: a table's, an index's and a view's DDL replaced by
//! `DROP TABLE victim`, `DELETE FROM victim`, `VACUUM INTO`, `ATTACH`, and
//! a trigger moved onto the victim. PostgreSQL targets (skipped without
//! `initdb` on PATH): a view's DDL followed by `DELETE FROM victim` or
//! `COPY … TO PROGRAM`, and a table's DDL replaced by `DROP TABLE victim`.

mod util;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use bru_testsupport::archive::tamper;
use bru_testsupport::pg::TestServer;
use bru_testsupport::sqlite::{dump, run_sql};
use serde_json::Value;
use util::{bru_fails, bru_ok, schema, url, Dir};

/// Whether `json` is the object of `kind` (as the archive spells it) named
/// `name`.
fn is_object(json: &Value, kind: &str, name: &str) -> bool {
    json["kind"] == kind && json["name"]["name"] == name
}

// ---------------------------------------------------------------- SQLite

/// A small SQLite source: a table with an index, a view over it and a
/// trigger on it, backed up into a new archive in `dir`. Returns the
/// archive.
fn sqlite_archive(dir: &Dir) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let src = dir.path(&format!("src-{n}.sqlite"));
    run_sql(
        &src,
        "CREATE TABLE sites (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         CREATE INDEX sites_name ON sites (name);
         CREATE VIEW site_names AS SELECT name FROM sites;
         CREATE TRIGGER sites_touch AFTER UPDATE ON sites BEGIN SELECT 1; END;
         INSERT INTO sites (name) VALUES ('north'), ('south'), ('east');",
    );
    let archive = dir.path(&format!("archive-{n}.db"));
    bru_ok(&["backup", &url(&src), archive.to_str().unwrap(), "--quiet"]);
    archive
}

/// A target holding the unrelated table `victim` with three rows.
fn sqlite_target(dir: &Dir, name: &str) -> PathBuf {
    let target = dir.path(name);
    run_sql(
        &target,
        "CREATE TABLE victim (a TEXT); INSERT INTO victim VALUES ('x'), ('y'), ('z');",
    );
    target
}

/// Restores the tampered `archive` into a fresh victim target, expecting
/// a refusal whose one line holds every word of `expect`; then checks the
/// target is exactly as it was, `files` were not written, and verify fails
/// naming the entry too.
fn assert_refused(dir: &Dir, archive: &Path, expect: &[&str], files: &[PathBuf]) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let target = sqlite_target(dir, &format!("target-{n}.sqlite"));
    let schema_before = schema(&target);
    let rows_before = dump(&target);
    let a = archive.to_str().unwrap();
    let mut words = vec!["catalog entry", "altered"];
    words.extend_from_slice(expect);
    bru_fails(&["restore", a, &url(&target), "--quiet"], &words);
    assert_eq!(
        schema(&target),
        schema_before,
        "the target's schema changed"
    );
    assert_eq!(dump(&target), rows_before, "the target's rows changed");
    for f in files {
        assert!(!f.exists(), "{} was written", f.display());
    }
    bru_fails(&["verify", a, "--quiet"], &words);
}

#[test]
fn an_untouched_sqlite_archive_restores_and_verifies() {
    let dir = Dir::new();
    let archive = sqlite_archive(&dir);
    let a = archive.to_str().unwrap();
    bru_ok(&["verify", a, "--quiet"]);
    let target = sqlite_target(&dir, "t.sqlite");
    bru_ok(&["restore", a, &url(&target), "--quiet"]);
    let objects = schema(&target);
    for name in ["sites_name", "site_names", "sites_touch", "victim"] {
        assert!(
            objects.iter().any(|o| o.contains(&format!(" {name} on "))),
            "{name} missing: {objects:?}"
        );
    }
    let rows = dump(&target);
    assert_eq!(rows.iter().find(|(t, _)| t == "victim").unwrap().1.len(), 3);
    assert_eq!(rows.iter().find(|(t, _)| t == "sites").unwrap().1.len(), 3);
}

#[test]
fn a_table_or_index_ddl_that_drops_another_table_is_refused() {
    let dir = Dir::new();
    let archive = sqlite_archive(&dir);
    tamper(&archive, |what, t| {
        what == "table" && {
            t["native"]["create"] = "DROP TABLE victim".into();
            true
        }
    });
    assert_refused(&dir, &archive, &["table sites", "does not create"], &[]);

    let archive = sqlite_archive(&dir);
    tamper(&archive, |what, t| {
        what == "table" && {
            t["indexes"][0]["native_ddl"] = "DROP TABLE victim".into();
            true
        }
    });
    assert_refused(&dir, &archive, &["table sites", "index sites_name"], &[]);

    // The real statement with a second one after it.
    let archive = sqlite_archive(&dir);
    tamper(&archive, |what, t| {
        what == "table" && {
            let create = t["native"]["create"].as_str().unwrap().to_owned();
            t["native"]["create"] = format!("{create}; DROP TABLE victim").into();
            true
        }
    });
    assert_refused(&dir, &archive, &["table sites", "second statement"], &[]);
}

#[test]
fn a_view_ddl_that_deletes_rows_or_writes_files_is_refused() {
    let dir = Dir::new();
    let stolen = dir.path("stolen.db");
    let attached = dir.path("attached.db");
    let attacks = [
        ("DELETE FROM victim".to_owned(), "does not create"),
        (
            format!("VACUUM INTO '{}'", stolen.display()),
            "does not create",
        ),
        (
            format!("ATTACH DATABASE '{}' AS a", attached.display()),
            "does not create",
        ),
        (
            format!(
                "CREATE VIEW site_names AS SELECT 1; ATTACH DATABASE '{}' AS a",
                attached.display()
            ),
            "second statement",
        ),
        (
            "CREATE VIEW victim_copy AS SELECT * FROM victim".to_owned(),
            "not \"site_names\"",
        ),
    ];
    for (sql, why) in attacks {
        let archive = sqlite_archive(&dir);
        tamper(&archive, |what, o| {
            what == "object" && is_object(o, "view", "site_names") && {
                o["ddl"] = sql.clone().into();
                true
            }
        });
        assert_refused(
            &dir,
            &archive,
            &["view site_names", why],
            &[stolen.clone(), attached.clone()],
        );
    }
}

#[test]
fn a_view_that_would_leave_the_target_s_own_in_place_is_refused() {
    // With IF NOT EXISTS (which SQLite never stores), a target's own view of
    // the name stays, and the archive's INSTEAD OF trigger goes onto it:
    // an insert into the target's view then emptied the victim.
    let dir = Dir::new();
    let src = dir.path("ine-src.sqlite");
    run_sql(
        &src,
        "CREATE TABLE sites (id INTEGER PRIMARY KEY, name TEXT);
         CREATE VIEW v AS SELECT name FROM sites;
         CREATE TRIGGER vt INSTEAD OF INSERT ON v BEGIN INSERT INTO sites (name) VALUES (new.name); END;",
    );
    let archive = dir.path("ine.db");
    bru_ok(&["backup", &url(&src), archive.to_str().unwrap(), "--quiet"]);
    tamper(&archive, |what, o| {
        what == "object" && {
            if is_object(o, "view", "v") {
                o["ddl"] = "CREATE VIEW IF NOT EXISTS v AS SELECT name FROM sites".into();
            } else {
                o["ddl"] =
                    "CREATE TRIGGER vt INSTEAD OF INSERT ON v BEGIN DELETE FROM victim; END".into();
            }
            true
        }
    });
    let target = sqlite_target(&dir, "ine-target.sqlite");
    run_sql(&target, "CREATE VIEW v AS SELECT a AS name FROM victim;");
    let a = archive.to_str().unwrap();
    let words = ["catalog entry", "altered", "view v", "IF NOT EXISTS"];
    bru_fails(&["restore", a, &url(&target), "--quiet"], &words);
    let triggers = schema(&target);
    assert!(
        !triggers.iter().any(|o| o.contains("vt")),
        "a trigger was planted: {triggers:?}"
    );
    bru_fails(&["verify", a, "--quiet"], &words);
}

#[test]
fn a_trigger_on_a_table_the_archive_does_not_create_is_refused() {
    let dir = Dir::new();
    let planted = "CREATE TRIGGER sites_touch AFTER INSERT ON victim BEGIN DELETE FROM victim; END";
    // Moved onto the victim, the entry still saying it is on sites.
    let archive = sqlite_archive(&dir);
    tamper(&archive, |what, o| {
        what == "object" && is_object(o, "trigger", "sites_touch") && {
            o["ddl"] = planted.into();
            true
        }
    });
    assert_refused(
        &dir,
        &archive,
        &["trigger sites_touch", "not on its declared table"],
        &[],
    );
    // And the entry saying so too.
    let archive = sqlite_archive(&dir);
    tamper(&archive, |what, o| {
        what == "object" && is_object(o, "trigger", "sites_touch") && {
            o["ddl"] = planted.into();
            o["table"] = serde_json::json!({ "name": "victim" });
            true
        }
    });
    assert_refused(
        &dir,
        &archive,
        &["trigger sites_touch", "not a table or view of the archive"],
        &[],
    );
}

// ------------------------------------------------------------ PostgreSQL

/// A small PostgreSQL source: a table with rows and a view over it.
const PG_SOURCE: &str = "
CREATE TABLE public.t (id integer PRIMARY KEY, note text);
INSERT INTO public.t SELECT g, 'n' || g FROM generate_series(1, 20) g;
CREATE VIEW public.v AS SELECT id, note FROM public.t WHERE id > 2;
";

/// A database holding the unrelated table `victim` with three rows.
fn pg_target(server: &TestServer) -> String {
    let db = server.create_db("hostile_dst");
    server.psql(
        &db,
        "CREATE TABLE public.victim (a text); INSERT INTO public.victim VALUES ('x'), ('y'), ('z');",
    );
    db
}

/// Restores the tampered `archive` into a fresh victim database, expecting
/// a refusal naming `entry` and `why`; checks the victim's rows, that the
/// database has no other table, that `file` was not written, and that
/// verify fails too.
fn assert_pg_refused(server: &TestServer, archive: &Path, expect: &[&str], file: &Path) {
    let db = pg_target(server);
    let a = archive.to_str().unwrap();
    let mut words = vec!["catalog entry", "altered"];
    words.extend_from_slice(expect);
    bru_fails(&["restore", a, &server.url(&db), "--quiet"], &words);
    assert_eq!(
        server.psql(
            &db,
            "SELECT string_agg(a, ',' ORDER BY a) FROM public.victim"
        ),
        "x,y,z\n"
    );
    assert_eq!(server.tables(&db), vec!["public.victim".to_string()]);
    assert!(!file.exists(), "{} was written", file.display());
    bru_fails(&["verify", a, "--quiet"], &words);
}

#[test]
fn postgres_archive_sql_runs_only_as_the_object_it_declares() {
    let Some((server, src)) = TestServer::start_with_db("hostile_src", PG_SOURCE) else {
        return;
    };
    let dir = Dir::new();
    let archive = dir.path("pg.db");
    let a = archive.to_str().unwrap().to_owned();
    bru_ok(&["backup", &server.url(&src), &a, "--quiet"]);
    let touched = dir.path("touched-by-copy");

    // The untouched archive restores and verifies.
    bru_ok(&["verify", &a, "--quiet"]);
    let db = pg_target(&server);
    bru_ok(&["restore", &a, &server.url(&db), "--quiet"]);
    assert_eq!(server.psql(&db, "SELECT count(*) FROM public.v"), "18\n");
    assert_eq!(
        server.psql(&db, "SELECT count(*) FROM public.victim"),
        "3\n"
    );

    let attacks = [
        ("; DELETE FROM public.victim;".to_owned(), "view public.v"),
        (
            format!(
                ";\nCOPY (select 1) TO PROGRAM 'touch {}'",
                touched.display()
            ),
            "view public.v",
        ),
    ];
    for (tail, entry) in attacks {
        let copy = dir.path("tampered.db");
        std::fs::copy(&archive, &copy).unwrap();
        tamper(&copy, |what, o| {
            what == "object" && is_object(o, "view", "v") && {
                let ddl = o["ddl"].as_str().unwrap().to_owned();
                o["ddl"] = format!("{ddl}{tail}").into();
                true
            }
        });
        assert_pg_refused(&server, &copy, &[entry, "second statement"], &touched);
    }

    let copy = dir.path("tampered-table.db");
    std::fs::copy(&archive, &copy).unwrap();
    tamper(&copy, |what, t| {
        what == "table" && {
            t["native"]["create"] = "DROP TABLE public.victim".into();
            true
        }
    });
    assert_pg_refused(&server, &copy, &["table public.t", "starts with"], &touched);

    // CREATE TABLE … AS runs its query, a data-modifying WITH with it.
    let copy = dir.path("tampered-ctas.db");
    std::fs::copy(&archive, &copy).unwrap();
    tamper(&copy, |what, t| {
        what == "table" && {
            t["native"]["create"] = "CREATE TABLE public.t (id, note) AS WITH d AS \
                (DELETE FROM public.victim RETURNING 1, a) SELECT * FROM d"
                .into();
            true
        }
    });
    assert_pg_refused(
        &server,
        &copy,
        &["table public.t", "from a query"],
        &touched,
    );

    // A constraint goes after ALTER TABLE … ADD CONSTRAINT <name>, which
    // takes a list of actions: a second one would reach the victim.
    let copy = dir.path("tampered-constraint.db");
    std::fs::copy(&archive, &copy).unwrap();
    tamper(&copy, |what, t| {
        what == "table" && {
            t["properties"]["postgres.constraint.t_pkey"] =
                "PRIMARY KEY (id), ADD CONSTRAINT zz FOREIGN KEY (note) REFERENCES public.victim(a)"
                    .into();
            true
        }
    });
    assert_pg_refused(
        &server,
        &copy,
        &[
            "table public.t",
            "constraint t_pkey",
            "goes on after its clause",
        ],
        &touched,
    );
}

#[test]
fn owners_and_grants_are_only_for_what_the_archive_creates() {
    let source = "
        CREATE ROLE bru_hostile_role;
        CREATE TABLE public.t (id integer GENERATED ALWAYS AS IDENTITY, s serial, note text);
        INSERT INTO public.t (note) VALUES ('a'), ('b');
        CREATE SEQUENCE public.free_seq;
        CREATE FUNCTION public.f() RETURNS integer LANGUAGE sql AS 'SELECT 1';
        GRANT USAGE ON SEQUENCE public.t_id_seq TO bru_hostile_role;
        GRANT EXECUTE ON FUNCTION public.f() TO bru_hostile_role;
    ";
    let Some((server, src)) = TestServer::start_with_db("owners_src", source) else {
        return;
    };
    let dir = Dir::new();
    let archive = dir.path("owners.db");
    let a = archive.to_str().unwrap().to_owned();
    bru_ok(&["backup", &server.url(&src), &a, "--quiet"]);
    bru_ok(&["verify", &a, "--quiet"]);
    // The target's own function and sequence, beside the victim.
    let target = || {
        let db = pg_target(&server);
        server.psql(
            &db,
            "CREATE SEQUENCE public.victim_seq; \
             CREATE FUNCTION public.victim_f() RETURNS integer LANGUAGE sql AS 'SELECT 1';",
        );
        db
    };
    let db = target();
    bru_ok(&["restore", &a, &server.url(&db), "--quiet"]);
    assert_eq!(server.psql(&db, "SELECT count(*) FROM public.t"), "2\n");

    let owners = "SELECT string_agg(r, ',' ORDER BY r) FROM (\
         SELECT proowner::regrole::text AS r FROM pg_catalog.pg_proc WHERE proname = 'victim_f' \
         UNION ALL SELECT relowner::regrole::text FROM pg_catalog.pg_class WHERE relname = 'victim_seq' \
         UNION ALL SELECT coalesce(relacl::text, '-') FROM pg_catalog.pg_class WHERE relname = 'victim_seq' \
         UNION ALL SELECT 'owned by ' || count(*) FROM pg_catalog.pg_depend \
             WHERE objid = 'public.victim_seq'::pg_catalog.regclass AND deptype = 'a') o";
    let attacks = [
        (
            "owner",
            "f()",
            "victim_f()",
            "ALTER FUNCTION public.victim_f() OWNER TO bru_hostile_role",
        ),
        (
            "owner",
            "free_seq",
            "victim_seq",
            "ALTER SEQUENCE public.victim_seq OWNER TO bru_hostile_role",
        ),
        (
            "privileges",
            "f()",
            "victim_seq",
            "GRANT ALL ON SEQUENCE public.victim_seq TO bru_hostile_role",
        ),
        // Owned by the archive's table, the target's sequence would be
        // dropped with it.
        (
            "sequence ownership",
            "t_s_seq",
            "victim_seq",
            "ALTER SEQUENCE public.victim_seq OWNED BY public.t.s",
        ),
    ];
    for (n, (kind, from, to, ddl)) in attacks.into_iter().enumerate() {
        let copy = dir.path(&format!("owners-{n}.db"));
        std::fs::copy(&archive, &copy).unwrap();
        tamper(&copy, |what, o| {
            what == "object" && o["kind"]["other"] == kind && o["name"]["name"] == from && {
                o["name"]["name"] = to.into();
                o["ddl"] = ddl.into();
                true
            }
        });
        let db = target();
        let before = server.psql(&db, owners);
        let c = copy.to_str().unwrap();
        let entry = format!("{kind} public.{to}");
        let words = ["catalog entry", "altered", &entry, "does not create"];
        bru_fails(&["restore", c, &server.url(&db), "--quiet"], &words);
        assert_eq!(server.psql(&db, owners), before, "{ddl}");
        bru_fails(&["verify", c, "--quiet"], &words);
    }
}

#[test]
fn a_unicode_escaped_name_is_not_taken_for_another() {
    // The archive's own table is named `vi\0063tim`, literally; the
    // server reads U&"vi\0063tim" as victim.
    let source = r#"
        CREATE TABLE public."vi\0063tim" (a text);
        CREATE TABLE public.sites (a text);
        CREATE FUNCTION public.nuke() RETURNS trigger LANGUAGE plpgsql
            AS $$BEGIN DELETE FROM public.victim; RETURN NULL; END$$;
        CREATE TRIGGER trg AFTER INSERT ON public.sites
            FOR EACH STATEMENT EXECUTE FUNCTION public.nuke();
    "#;
    let Some((server, src)) = TestServer::start_with_db("unicode_src", source) else {
        return;
    };
    let dir = Dir::new();
    let archive = dir.path("unicode.db");
    let a = archive.to_str().unwrap().to_owned();
    bru_ok(&["backup", &server.url(&src), &a, "--quiet"]);
    bru_ok(&["verify", &a, "--quiet"]);
    for on in [r#"U&"vi\0063tim""#, r#"U&"vi!0063tim" UESCAPE '!'"#] {
        let copy = dir.path("unicode-tampered.db");
        std::fs::copy(&archive, &copy).unwrap();
        tamper(&copy, |what, o| {
            what == "object" && is_object(o, "trigger", "trg") && {
                let ddl = o["ddl"]
                    .as_str()
                    .unwrap()
                    .replace("public.sites", &format!("public.{on}"));
                o["ddl"] = ddl.into();
                o["table"]["name"] = r"vi\0063tim".into();
                true
            }
        });
        assert_pg_refused(
            &server,
            &copy,
            &["trigger public.trg", "names no table"],
            &dir.path("none"),
        );
    }
}

#[test]
fn a_sqlite_expression_stays_one_expression_in_a_postgres_target() {
    let Some(server) = TestServer::start() else {
        return;
    };
    let dir = Dir::new();
    let src = dir.path("expr-src.sqlite");
    run_sql(
        &src,
        "CREATE TABLE sites (name TEXT PRIMARY KEY, n INT DEFAULT 0 CHECK (n >= 0));
         INSERT INTO sites VALUES ('x', 1), ('y', 2);",
    );
    let archive = dir.path("expr.db");
    let a = archive.to_str().unwrap().to_owned();
    bru_ok(&["backup", &url(&src), &a, "--quiet"]);
    let db = pg_target(&server);
    bru_ok(&["restore", &a, &server.url(&db), "--quiet"]);
    assert_eq!(server.psql(&db, "SELECT count(*) FROM public.sites"), "2\n");

    // The PostgreSQL target splices a SQLite default into `ALTER TABLE …
    // SET DEFAULT <expr>` and a CHECK into `ADD CONSTRAINT … CHECK (<expr>)`:
    // a `,` or an unopened `)` there adds an ALTER TABLE action, here a
    // foreign key onto the victim (the E'' string hides the `,` from
    // SQLite's lexer, not from PostgreSQL's).
    // The neutral model's foreign keys, which the target builds as
    // ALTER TABLE … ADD CONSTRAINT … REFERENCES <ref_table>.
    let copy = dir.path("expr-fk.db");
    std::fs::copy(&archive, &copy).unwrap();
    tamper(&copy, |kind, t| {
        kind == "table"
            && {
                t["foreign_keys"] = serde_json::json!([{
                    "name": "zz", "columns": ["name"], "ref_table": {"name": "victim"}, "ref_columns": ["a"],
                }]);
                true
            }
    });
    let target = server.create_db("expr_dst_fk");
    server.psql(
        &target,
        "CREATE TABLE public.victim (a text PRIMARY KEY); \
         INSERT INTO public.victim VALUES ('x'), ('y'), ('z');",
    );
    let c = copy.to_str().unwrap();
    let words = [
        "catalog entry",
        "altered",
        "table sites",
        "foreign key to victim",
    ];
    bru_fails(&["restore", c, &server.url(&target), "--quiet"], &words);
    assert_eq!(server.tables(&target), vec!["public.victim".to_string()]);
    bru_fails(&["verify", c, "--quiet"], &words);

    let fk = "ADD CONSTRAINT zz FOREIGN KEY (name) REFERENCES public.victim(a)";
    let attacks = [
        ("default", format!("0, {fk}"), "column n: the default"),
        (
            "default",
            format!("E'\\'' , {fk} --'"),
            "column n: the default",
        ),
        (
            "check",
            format!("n >= 0), {fk}, ADD CHECK (true"),
            "the CHECK",
        ),
    ];
    for (n, (what, expr, why)) in attacks.into_iter().enumerate() {
        let copy = dir.path(&format!("expr-{n}.db"));
        std::fs::copy(&archive, &copy).unwrap();
        tamper(&copy, |kind, t| {
            kind == "table" && {
                match what {
                    "default" => t["columns"][1]["default"] = expr.clone().into(),
                    _ => t["checks"][0]["expr"] = expr.clone().into(),
                }
                true
            }
        });
        let target = server.create_db(&format!("expr_dst_{n}"));
        server.psql(
            &target,
            "CREATE TABLE public.victim (a text PRIMARY KEY); \
             INSERT INTO public.victim VALUES ('x'), ('y'), ('z');",
        );
        let c = copy.to_str().unwrap();
        let words = ["catalog entry", "altered", "table sites", why];
        bru_fails(&["restore", c, &server.url(&target), "--quiet"], &words);
        assert_eq!(
            server.tables(&target),
            vec!["public.victim".to_string()],
            "{expr}"
        );
        assert_eq!(
            server.psql(
                &target,
                "SELECT count(*) FROM pg_catalog.pg_constraint WHERE contype = 'f'"
            ),
            "0\n"
        );
        bru_fails(&["verify", c, "--quiet"], &words);
    }
}

#[test]
fn sql_of_an_engine_this_build_does_not_have_is_never_run() {
    let dir = Dir::new();
    let archive = sqlite_archive(&dir);
    tamper(&archive, |what, o| {
        what == "object" && is_object(o, "view", "site_names") && {
            o["engine"] = "oracle".into();
            o["ddl"] = "DROP TABLE victim".into();
            true
        }
    });
    let a = archive.to_str().unwrap();
    // No engine of this build can check it, and none runs it.
    bru_ok(&["verify", a, "--quiet"]);
    let target = sqlite_target(&dir, "foreign.sqlite");
    let summary = dir.path("summary.json");
    bru_ok(&[
        "restore",
        a,
        &url(&target),
        "--quiet",
        "--summary-json",
        summary.to_str().unwrap(),
    ]);
    let rows = dump(&target);
    assert_eq!(rows.iter().find(|(t, _)| t == "victim").unwrap().1.len(), 3);
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.contains("site_names") && summary.contains("oracle"),
        "the view is listed as skipped: {summary}"
    );
}

/// The three ways an archive's PostgreSQL entries could still change an
/// object the target had: a function's `CREATE OR REPLACE` replacing the
/// target's own of the same signature, a comment entry edited to describe
/// a function, type, domain, schema or sequence of the target's, and a
/// schema the target had (kept by `CREATE SCHEMA IF NOT EXISTS`) getting
/// the archive's owner, privileges and comment.
#[test]
fn the_target_s_own_functions_comments_and_schemas_stay_its_own() {
    let source = "
        CREATE ROLE bru_schema_owner;
        CREATE SCHEMA hr;
        ALTER SCHEMA hr OWNER TO bru_schema_owner;
        GRANT USAGE ON SCHEMA hr TO PUBLIC;
        COMMENT ON SCHEMA hr IS 'the archive''s hr';
        CREATE TABLE hr.staff (id integer PRIMARY KEY);
        INSERT INTO hr.staff VALUES (1), (2);
        CREATE FUNCTION public.f(integer) RETURNS integer LANGUAGE sql AS 'SELECT 1';
        COMMENT ON FUNCTION public.f(integer) IS 'the archive''s f';
        CREATE TYPE public.mood AS ENUM ('calm');
        COMMENT ON TYPE public.mood IS 'the archive''s mood';
    ";
    let Some((server, src)) = TestServer::start_with_db("gaps_src", source) else {
        return;
    };
    let dir = Dir::new();
    let archive = dir.path("gaps.db");
    let a = archive.to_str().unwrap().to_owned();
    bru_ok(&["backup", &server.url(&src), &a, "--quiet"]);
    bru_ok(&["verify", &a, "--quiet"]);

    // A function of the target's own with the archive's signature is
    // neither replaced nor left behind: the restore stops, naming it, and
    // --clean lists it, drops it and creates the archive's.
    let db = server.create_db("gaps_fn");
    server.psql(
        &db,
        "CREATE FUNCTION public.f(integer) RETURNS integer LANGUAGE sql AS 'SELECT 2'",
    );
    let target = server.url(&db);
    bru_fails(
        &["restore", &a, &target, "--quiet"],
        &["function public.f(integer)", "already exists", "--clean"],
    );
    assert_eq!(server.psql(&db, "SELECT public.f(0)"), "2\n");
    let out = bru_ok(&["restore", &a, &target, "--clean", "--dry-run"]);
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(
        plan.contains("would drop: function public.f(integer)\n"),
        "{plan}"
    );
    assert_eq!(server.psql(&db, "SELECT public.f(0)"), "2\n");
    bru_ok(&["restore", &a, &target, "--clean", "--quiet"]);
    assert_eq!(server.psql(&db, "SELECT public.f(0)"), "1\n");

    // A schema the target had keeps its owner, privileges and comment.
    let db = server.create_db("gaps_schema");
    server.psql(&db, "CREATE SCHEMA hr; COMMENT ON SCHEMA hr IS 'mine';");
    let schema = "SELECT nspowner::regrole::text || ' ' || coalesce(nspacl::text, '-') || ' ' \
                  || coalesce(obj_description(oid, 'pg_namespace'), '-') \
                  FROM pg_catalog.pg_namespace WHERE nspname = 'hr'";
    let before = server.psql(&db, schema);
    let summary = dir.path("schema.json");
    bru_ok(&[
        "restore",
        &a,
        &server.url(&db),
        "--quiet",
        "--summary-json",
        summary.to_str().unwrap(),
    ]);
    assert_eq!(server.psql(&db, schema), before);
    assert_eq!(server.psql(&db, "SELECT count(*) FROM hr.staff"), "2\n");
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.contains("schema hr was the target's before the restore"),
        "{summary}"
    );
    // Into a database without it, the schema is the archive's, whole.
    let db = server.create_db("gaps_fresh");
    bru_ok(&["restore", &a, &server.url(&db), "--quiet"]);
    assert_eq!(
        server.psql(&db, schema),
        "bru_schema_owner {bru_schema_owner=UC/bru_schema_owner,=U/bru_schema_owner} the archive's hr\n"
    );

    // Comment entries edited to describe the target's own objects.
    let attacks = [
        (
            "public.f(integer)",
            "public.victim(integer)",
            "COMMENT ON FUNCTION public.victim(integer) IS 'x'",
            "function public.victim",
        ),
        (
            "public.f(integer)",
            "public.f(integer)",
            "COMMENT ON FUNCTION public.f(text) IS 'x'",
            "comments on function public.f, not on",
        ),
        (
            "mood",
            "victim",
            "COMMENT ON TYPE public.victim IS 'x'",
            "type public.victim",
        ),
        (
            "mood",
            "victim",
            "COMMENT ON DOMAIN public.victim IS 'x'",
            "type public.victim",
        ),
        (
            "hr",
            "victim",
            "COMMENT ON SCHEMA victim IS 'x'",
            "schema victim",
        ),
        (
            "mood",
            "victim_seq",
            "COMMENT ON SEQUENCE public.victim_seq IS 'x'",
            "sequence public.victim_seq",
        ),
    ];
    let nowhere = dir.path("never-written");
    for (n, (from, to, ddl, why)) in attacks.into_iter().enumerate() {
        let copy = dir.path(&format!("comment-{n}.db"));
        std::fs::copy(&archive, &copy).unwrap();
        tamper(&copy, |what, o| {
            what == "object" && is_object(o, "comment", from) && {
                o["name"]["name"] = to.into();
                if ddl.contains("SCHEMA") {
                    o["name"]["schema"] = to.into();
                }
                o["ddl"] = ddl.into();
                true
            }
        });
        assert_pg_refused(&server, &copy, &[why], &nowhere);
    }
}

// ------------------------------------------------------------ SQL Server

/// An archive's SQL Server view (the SQLite source's view re-badged as
/// SQL Server's, as an attacker may write any engine's name) whose text
/// goes on after the view with another statement, in each way a T-SQL
/// batch allows: after `;`, after nothing (T-SQL needs no `;`), after a
/// sqlcmd `GO` line (not T-SQL: the server gets one batch), and hidden
/// from a naive reader behind a nested comment. `bru verify` refuses each,
/// and so does `bru restore` into SQLite and PostgreSQL, before the target
/// is touched: no SQL Server is needed, since the archive is refused
/// before any target would run it. The same entry with the view alone
/// verifies and restores (the SQLite target lists it as skipped).
#[test]
fn a_sql_server_view_that_goes_on_with_drop_table_is_refused() {
    let hostile = [
        "CREATE VIEW site_names AS SELECT name FROM sites; DROP TABLE victim",
        "CREATE VIEW site_names AS SELECT name FROM sites DROP TABLE victim",
        "CREATE VIEW site_names AS SELECT name FROM sites\nGO\nDROP TABLE victim",
        "CREATE VIEW site_names AS SELECT name FROM sites /* /* */ */ DELETE FROM victim",
        "DROP TABLE victim; CREATE VIEW site_names AS SELECT name FROM sites",
    ];
    let server = TestServer::start();
    for ddl in hostile {
        let dir = Dir::new();
        let archive = sqlite_archive(&dir);
        tamper(&archive, |what, o| {
            what == "object" && is_object(o, "view", "site_names") && {
                o["engine"] = "mssql".into();
                o["ddl"] = ddl.into();
                true
            }
        });
        assert_refused(&dir, &archive, &["site_names"], &[]);
        if let Some(server) = &server {
            assert_pg_refused(server, &archive, &["site_names"], &dir.path("none"));
        }
    }

    let dir = Dir::new();
    let archive = sqlite_archive(&dir);
    tamper(&archive, |what, o| {
        what == "object" && is_object(o, "view", "site_names") && {
            o["engine"] = "mssql".into();
            o["ddl"] = "CREATE VIEW site_names AS SELECT name FROM sites".into();
            true
        }
    });
    let a = archive.to_str().unwrap();
    bru_ok(&["verify", a, "--quiet"]);
    let target = sqlite_target(&dir, "clean.sqlite");
    let summary = dir.path("summary.json");
    bru_ok(&[
        "restore",
        a,
        &url(&target),
        "--quiet",
        "--summary-json",
        summary.to_str().unwrap(),
    ]);
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.contains("site_names"),
        "the SQL Server view is listed as skipped: {summary}"
    );
    let rows = dump(&target);
    assert_eq!(rows.iter().find(|(t, _)| t == "victim").unwrap().1.len(), 3);
}

/// A table's fragments that a SQL Server target splices into its DDL are
/// checked even in an archive restored elsewhere: a SQLite table's default
/// edited to `(0) DROP TABLE victim` (one balanced text with no `;`, which
/// the SQLite and PostgreSQL checkers take for one expression, but which
/// T-SQL, needing no `;`, reads as a second statement) is refused by `bru
/// verify` and by a restore into SQLite.
#[test]
fn a_default_that_would_break_out_of_sql_server_ddl_is_refused() {
    let dir = Dir::new();
    let archive = sqlite_archive(&dir);
    tamper(&archive, |what, t| {
        what == "table" && t["name"]["name"] == "sites" && {
            t["columns"][1]["default"] = "(0) DROP TABLE victim".into();
            true
        }
    });
    assert_refused(&dir, &archive, &["sites", "DROP"], &[]);
}
