//! Privileges on PostgreSQL's own objects, as pg_dump dumps them: schema
//! `public`'s ACL and the grants on `pg_catalog` tables and their columns,
//! where they differ from the initial privileges (`pg_init_privs`). They are
//! carried as "system privileges" entries and, since they change objects of
//! the target's own that no archive creates, applied only with `restore
//! --system-privileges` (then `pg_dump --schema-only` of the target equals
//! the source's); without it each is listed as skipped by name, naming the
//! option, in the summary and in `bru list`. An edited entry is refused
//! before anything runs. One throwaway server is shared by the tests of this
//! file (one database, and roles of its own, per test).

mod util;

use std::sync::{Arc, Mutex, Weak};

use bru_testsupport::archive::tamper;
use bru_testsupport::pg::TestServer;
use serde_json::Value;
use util::{bru_fails, bru_ok, Dir};

/// The server the tests running now share: started by the first, stopped
/// when the last one running lets it go.
fn server() -> Option<Arc<TestServer>> {
    static SHARED: Mutex<Weak<TestServer>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = shared.upgrade() {
        return Some(s);
    }
    let s = Arc::new(TestServer::start()?);
    *shared = Arc::downgrade(&s);
    Some(s)
}

/// Creates role `name` (cluster-wide, so each test names its own).
fn role(server: &TestServer, name: &str) {
    server.psql(
        "postgres",
        &format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') \
             THEN CREATE ROLE \"{name}\"; END IF; END $$"
        ),
    );
}

/// A database whose schema public and pg_catalog tables have privileges of
/// their own (as PostgreSQL's regression database has): `public` open to
/// everyone again (`=UC`), a column grant on `pg_authid` and a table grant
/// on `pg_class`, plus a user table. Returns the database and the archive
/// of its backup.
fn source(server: &TestServer, dir: &Dir, hint: &str, grantee: &str) -> (String, String) {
    role(server, grantee);
    let src = server.create_db(&format!("{hint}_src"));
    server.psql(
        &src,
        &format!(
            "CREATE TABLE public.t (id integer); INSERT INTO public.t VALUES (1);
             GRANT ALL ON SCHEMA public TO PUBLIC;
             GRANT SELECT (rolname, rolsuper) ON pg_catalog.pg_authid TO {grantee};
             GRANT SELECT ON pg_catalog.pg_class TO {grantee} WITH GRANT OPTION;
             REVOKE SELECT ON pg_catalog.pg_settings FROM PUBLIC;
             GRANT CREATE ON SCHEMA pg_catalog TO {grantee};
             GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_file(text) TO {grantee};
             REVOKE EXECUTE ON FUNCTION pg_catalog.now() FROM PUBLIC;"
        ),
    );
    let archive = dir.path(&format!("{hint}.db"));
    let archive = archive.to_str().expect("utf-8 path").to_owned();
    bru_ok(&["backup", &server.url(&src), &archive, "--quiet"]);
    bru_ok(&["verify", &archive, "--quiet"]);
    (src, archive)
}

/// The system privileges entries the source's changes make.
const ENTRIES: [&str; 7] = [
    "system privileges public",
    "system privileges pg_catalog",
    "system privileges pg_catalog.pg_read_file(text)",
    "system privileges pg_catalog.now()",
    "system privileges pg_catalog.pg_authid",
    "system privileges pg_catalog.pg_class",
    "system privileges pg_catalog.pg_settings",
];

#[test]
fn with_the_option_system_privileges_round_trip_as_pg_dump_dumps_them() {
    let Some(server) = server() else { return };
    let dir = Dir::new();
    let (src, archive) = source(&server, &dir, "sys_with", "sys_with_reader");
    let dst = server.create_db("sys_with_dst");
    let out = bru_ok(&[
        "restore",
        &archive,
        &server.url(&dst),
        "--system-privileges",
    ]);
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!output.to_lowercase().contains("skipped"), "{output}");
    server.assert_same_schema(&src, &dst);
    // pg_dump shows them (so the equality above covers them).
    let dump = server.dump_schema(&dst);
    for line in [
        "GRANT ALL ON SCHEMA public TO PUBLIC;",
        "GRANT SELECT(rolname) ON TABLE pg_catalog.pg_authid TO sys_with_reader;",
        "GRANT SELECT ON TABLE pg_catalog.pg_class TO sys_with_reader WITH GRANT OPTION;",
        "GRANT CREATE ON SCHEMA pg_catalog TO sys_with_reader;",
        "GRANT ALL ON FUNCTION pg_catalog.pg_read_file(text) TO sys_with_reader;",
        "REVOKE ALL ON FUNCTION pg_catalog.now() FROM PUBLIC;",
        "REVOKE SELECT,UPDATE ON TABLE pg_catalog.pg_settings FROM PUBLIC;",
        "GRANT UPDATE ON TABLE pg_catalog.pg_settings TO PUBLIC;",
    ] {
        assert!(dump.contains(line), "{line} not in:\n{dump}");
    }
}

#[test]
fn without_the_option_each_is_listed_as_skipped_naming_it() {
    let Some(server) = server() else { return };
    let dir = Dir::new();
    let (src, archive) = source(&server, &dir, "sys_without", "sys_without_reader");
    let dst = server.create_db("sys_without_dst");
    let summary = dir.path("summary.json");
    bru_ok(&[
        "restore",
        &archive,
        &server.url(&dst),
        "--quiet",
        "--summary-json",
        summary.to_str().expect("utf-8 path"),
    ]);
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary")).unwrap();
    let skipped: Vec<&str> = summary["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| s.as_str().expect("a string"))
        .collect();
    for entry in ENTRIES {
        assert!(
            skipped
                .iter()
                .any(|s| s.starts_with(&format!("{entry}: ")) && s.contains("--system-privileges")),
            "{entry} not skipped naming --system-privileges: {skipped:?}"
        );
    }
    assert_eq!(skipped.len(), ENTRIES.len(), "{skipped:?}");
    // The target's own schema public and catalogs are as they were.
    let acl = "SELECT (SELECT nspacl::text FROM pg_namespace WHERE nspname = 'public'),
                      (SELECT relacl::text FROM pg_class WHERE oid = 'pg_catalog.pg_class'::regclass),
                      (SELECT proacl::text FROM pg_proc WHERE oid = 'pg_catalog.now()'::regprocedure),
                      (SELECT nspacl::text FROM pg_namespace WHERE nspname = 'pg_catalog'),
                      (SELECT count(*) FROM pg_attribute
                        WHERE attrelid = 'pg_catalog.pg_authid'::regclass AND attacl IS NOT NULL)";
    let fresh = server.create_db("sys_without_fresh");
    assert_eq!(server.psql(&dst, acl), server.psql(&fresh, acl));
    assert_ne!(server.psql(&src, acl), server.psql(&dst, acl));
    // The user's own objects are all there.
    assert_eq!(server.contents(&src), server.contents(&dst));
    // The listing says which option applies them.
    let list = bru_ok(&["list", &archive]);
    let list = String::from_utf8_lossy(&list.stdout);
    for entry in ENTRIES {
        assert!(
            list.lines()
                .any(|l| l.contains(&format!("{entry} (restored only with --system-privileges)"))),
            "{entry} not listed with --system-privileges:\n{list}"
        );
    }
    // --no-privileges leaves them out with the other grants.
    let bare = server.create_db("sys_without_bare");
    bru_ok(&[
        "restore",
        &archive,
        &server.url(&bare),
        "--no-privileges",
        "--quiet",
    ]);
    assert_eq!(server.psql(&bare, acl), server.psql(&fresh, acl));
}

/// The privileges of system objects bru does not carry yet (a type of
/// pg_catalog) are listed as not carried by name, with or without the
/// option, and the restore goes on; a built-in language's are carried.
#[test]
fn system_privileges_bru_does_not_carry_are_listed_by_name() {
    let Some(server) = server() else { return };
    let dir = Dir::new();
    role(&server, "sys_other_reader");
    let src = server.create_db("sys_other_src");
    server.psql(
        &src,
        "CREATE TABLE public.t (id integer);
         REVOKE USAGE ON TYPE pg_catalog.money FROM PUBLIC;
         REVOKE USAGE ON LANGUAGE sql FROM PUBLIC;
         GRANT USAGE ON LANGUAGE sql TO sys_other_reader;",
    );
    let archive = dir.path("other.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &server.url(&src), archive, "--quiet"]);
    for (i, option) in ["--system-privileges", "--jobs=1"].iter().enumerate() {
        let dst = server.create_db(&format!("sys_other_dst{i}"));
        let out = bru_ok(&["restore", archive, &server.url(&dst), option]);
        let stderr = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stderr.lines().any(|l| l.starts_with("skipped: ")
                && l.contains("system privileges pg_catalog.money")
                && l.contains("grant them again by hand")),
            "{option}: pg_catalog.money not listed:\n{stderr}"
        );
        let language = "SELECT lanacl FROM pg_language WHERE lanname = 'sql'";
        if i == 0 {
            assert!(!stderr.contains("system privileges sql"), "{stderr}");
            assert_eq!(server.psql(&src, language), server.psql(&dst, language));
        } else {
            assert!(
                stderr.contains("system privileges sql: changes an object"),
                "{stderr}"
            );
            assert_ne!(server.psql(&src, language), server.psql(&dst, language));
        }
    }
}

/// An edited system privileges entry (a grant on a user table of the
/// target's, an ALTER of a system object, a second statement, another
/// system object than its own) is refused whole by verify and restore,
/// naming the entry, before anything runs: even with
/// `--system-privileges`, and the target is left as it was.
#[test]
fn an_edited_system_privileges_entry_is_refused_before_anything_runs() {
    let Some(server) = server() else { return };
    let dir = Dir::new();
    let (_src, original) = source(&server, &dir, "sys_hostile", "sys_hostile_reader");
    let target = server.create_db("sys_hostile_dst");
    server.psql(
        &target,
        "CREATE TABLE public.victim (id integer); INSERT INTO public.victim VALUES (1);",
    );
    let system = |j: &Value, name: &str| {
        j["kind"]["other"] == "system privileges" && j["name"]["name"] == name
    };
    type Edit = Box<dyn Fn(&mut Value) -> bool>;
    let cases: Vec<(&str, Edit, &[&str])> = vec![
        (
            "user table",
            Box::new(move |j| {
                system(j, "pg_class") && {
                    j["name"]["schema"] = "public".into();
                    j["name"]["name"] = "victim".into();
                    j["ddl"] = "GRANT ALL ON TABLE public.victim TO PUBLIC".into();
                    true
                }
            }),
            &["system privileges public.victim", "not a system object"],
        ),
        (
            "alter",
            Box::new(move |j| {
                system(j, "public") && {
                    j["ddl"] = "ALTER SCHEMA public OWNER TO sys_hostile_reader".into();
                    true
                }
            }),
            &["system privileges public", "starts with `ALTER"],
        ),
        (
            "second statement",
            Box::new(move |j| {
                system(j, "pg_authid") && {
                    let ddl = format!("{};\nDELETE FROM public.victim", j["ddl"].as_str().unwrap());
                    j["ddl"] = ddl.into();
                    true
                }
            }),
            &[
                "system privileges pg_catalog.pg_authid",
                "starts with `DELETE",
            ],
        ),
        (
            "other system object",
            Box::new(move |j| {
                system(j, "pg_settings") && {
                    j["ddl"] = "GRANT SELECT ON TABLE pg_catalog.pg_authid TO PUBLIC".into();
                    true
                }
            }),
            &[
                "system privileges pg_catalog.pg_settings",
                "names table pg_catalog.pg_authid",
            ],
        ),
    ];
    for (what, edit, words) in cases {
        let copy = dir.path(&format!("{}.db", what.replace(' ', "_")));
        std::fs::copy(&original, &copy).unwrap();
        tamper(&copy, |kind, j| kind == "object" && edit(j));
        let c = copy.to_str().unwrap();
        bru_fails(&["verify", c, "--quiet"], words);
        bru_fails(
            &[
                "restore",
                c,
                &server.url(&target),
                "--system-privileges",
                "--quiet",
            ],
            words,
        );
    }
    assert_eq!(
        server.psql(&target, "SELECT count(*) FROM public.victim"),
        "1\n"
    );
    assert_eq!(
        server.psql(
            &target,
            "SELECT count(*) FROM pg_class WHERE relname = 't' AND relnamespace = 'public'::regnamespace"
        ),
        "0\n"
    );
    assert_eq!(
        server.psql(
            &target,
            "SELECT has_table_privilege('public', 'public.victim', 'SELECT')"
        ),
        "f\n"
    );
}
