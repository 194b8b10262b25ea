//! PostgreSQL object kinds carried as pg_dump carries them, each round
//! tripped PG → archive → PG through the real `bru` binary with `pg_dump
//! --schema-only` equality: text search parsers, templates, dictionaries
//! and configurations; foreign data wrappers, servers, user mappings and
//! foreign tables (with what hangs on them); row-level security and
//! policies; publications and subscriptions; default privileges. One
//! throwaway server is shared by the tests of this file (one database, and
//! roles of its own, per test).

mod util;

use std::sync::{Arc, Mutex, Weak};

use bru_testsupport::pg::TestServer;
use util::{bru, bru_ok, Dir};

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

/// Creates `roles` (cluster-wide, so each test names its own).
fn roles(server: &TestServer, roles: &[&str]) {
    for r in roles {
        server.psql(
            "postgres",
            &format!(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{r}') \
                 THEN CREATE ROLE \"{r}\"; END IF; END $$"
            ),
        );
    }
}

/// Backs up a new database made by `sql`, restores it into another, and
/// asserts that pg_dump sees no difference and that nothing was skipped.
/// Returns the two databases and bru's output (both runs).
fn round_trip(server: &TestServer, hint: &str, sql: &str) -> (String, String, String) {
    let src = server.create_db(&format!("{hint}_src"));
    server.psql(&src, sql);
    let dir = Dir::new();
    let archive = dir.path("k.db");
    let archive = archive.to_str().expect("utf-8 path");
    let backup = bru_ok(&["backup", &server.url(&src), archive]);
    bru_ok(&["verify", archive]);
    let dst = server.create_db(&format!("{hint}_dst"));
    let list = bru_ok(&["list", archive]);
    let restore = bru(&["restore", archive, &server.url(&dst)]);
    assert!(
        restore.status.success(),
        "{}\narchive:\n{}",
        String::from_utf8_lossy(&restore.stderr),
        String::from_utf8_lossy(&list.stdout)
    );
    let output: String = [backup, restore, list]
        .iter()
        .map(|o| {
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            )
        })
        .collect();
    let lower = output.to_lowercase();
    assert!(
        !lower.contains("skipped") && !lower.contains("not carried"),
        "{output}"
    );
    server.assert_same_schema(&src, &dst);
    (src, dst, output)
}

#[test]
fn text_search_objects_round_trip() {
    let Some(server) = server() else { return };
    roles(&server, &["k2_ts_owner"]);
    let (src, dst, _) = round_trip(
        &server,
        "ts",
        r#"
        CREATE SCHEMA ts;
        CREATE TEXT SEARCH PARSER ts.prs (START = prsd_start, GETTOKEN = prsd_nexttoken,
            END = prsd_end, HEADLINE = prsd_headline, LEXTYPES = prsd_lextype);
        CREATE TEXT SEARCH PARSER ts."Bare" (START = prsd_start, GETTOKEN = prsd_nexttoken,
            END = prsd_end, LEXTYPES = prsd_lextype);
        CREATE TEXT SEARCH TEMPLATE ts.tpl (INIT = dsimple_init, LEXIZE = dsimple_lexize);
        CREATE TEXT SEARCH TEMPLATE ts.lex_only (LEXIZE = dsimple_lexize);
        CREATE TEXT SEARCH DICTIONARY ts.dict (TEMPLATE = ts.tpl, STOPWORDS = english, ACCEPT = false);
        CREATE TEXT SEARCH DICTIONARY ts.stem (TEMPLATE = snowball, LANGUAGE = 'english');
        CREATE TEXT SEARCH CONFIGURATION ts.cfg (PARSER = ts.prs);
        ALTER TEXT SEARCH CONFIGURATION ts.cfg ADD MAPPING FOR asciiword, word WITH ts.dict, ts.stem, simple;
        ALTER TEXT SEARCH CONFIGURATION ts.cfg ADD MAPPING FOR int WITH simple;
        CREATE TEXT SEARCH CONFIGURATION ts.copy (COPY = pg_catalog.english);
        CREATE TEXT SEARCH CONFIGURATION ts.empty (PARSER = "default");
        ALTER TEXT SEARCH DICTIONARY ts.dict OWNER TO k2_ts_owner;
        ALTER TEXT SEARCH CONFIGURATION ts.copy OWNER TO k2_ts_owner;
        COMMENT ON TEXT SEARCH PARSER ts.prs IS 'a parser';
        COMMENT ON TEXT SEARCH TEMPLATE ts.tpl IS 'a template';
        COMMENT ON TEXT SEARCH DICTIONARY ts.dict IS 'a dictionary';
        COMMENT ON TEXT SEARCH CONFIGURATION ts.cfg IS 'a configuration';
        -- The tables need the configuration first: a default and an index.
        CREATE TABLE ts.docs (
            body text,
            tsv tsvector DEFAULT to_tsvector('ts.cfg'::regconfig, 'x')
        );
        CREATE INDEX docs_fts ON ts.docs USING gin (to_tsvector('ts.copy'::regconfig, body));
        INSERT INTO ts.docs (body) VALUES ('the quick brown foxes');
        "#,
    );
    // The restored configuration parses and maps as the source's does.
    let parse = "SELECT to_tsvector('ts.cfg', 'Jumping the 42 foxes')::text";
    let parsed = server.psql(&src, parse);
    assert_eq!(server.psql(&dst, parse), parsed);
    assert_eq!(parsed, "'fox':3 'jump':1\n");
}

#[test]
fn foreign_data_wrappers_servers_user_mappings_and_foreign_tables_round_trip() {
    let Some(server) = server() else { return };
    roles(&server, &["k2_fdw_owner", "k2_fdw_user"]);
    let (_, _, output) = round_trip(
        &server,
        "fdw",
        r#"
        CREATE FOREIGN DATA WRAPPER w VALIDATOR postgresql_fdw_validator;
        CREATE FOREIGN DATA WRAPPER "Bare" OPTIONS (debug 'true', "Mixed" 'a\b');
        CREATE SERVER s TYPE 'pg' VERSION '15' FOREIGN DATA WRAPPER w
            OPTIONS (host 'db.example', dbname 'it''s');
        CREATE SERVER "Other" FOREIGN DATA WRAPPER "Bare";
        CREATE USER MAPPING FOR k2_fdw_user SERVER s OPTIONS (user 'remote', password 'k2-secret-pw');
        CREATE USER MAPPING FOR PUBLIC SERVER s;
        CREATE USER MAPPING FOR k2_fdw_owner SERVER "Other";
        ALTER SERVER "Other" OWNER TO k2_fdw_owner;
        GRANT USAGE ON FOREIGN DATA WRAPPER w TO k2_fdw_user;
        GRANT USAGE ON FOREIGN SERVER s TO k2_fdw_user WITH GRANT OPTION;
        COMMENT ON FOREIGN DATA WRAPPER w IS 'a wrapper';
        COMMENT ON SERVER s IS 'a server';
        CREATE FUNCTION public.dflt() RETURNS integer LANGUAGE sql AS 'SELECT 7';
        CREATE FOREIGN TABLE public.ft (
            id integer OPTIONS (column_name 'ID') NOT NULL,
            name text COLLATE "C" DEFAULT 'none',
            n integer DEFAULT public.dflt(),
            CONSTRAINT ft_id_positive CHECK (id > 0)
        ) SERVER "Other" OPTIONS (schema_name 'remote', table_name 'things');
        CREATE FOREIGN TABLE public."No Columns" () SERVER s;
        ALTER FOREIGN TABLE public.ft OWNER TO k2_fdw_owner;
        GRANT SELECT ON public.ft TO k2_fdw_user;
        GRANT UPDATE (name) ON public.ft TO k2_fdw_user;
        COMMENT ON FOREIGN TABLE public.ft IS 'a foreign table';
        COMMENT ON COLUMN public.ft.name IS 'a foreign column';
        CREATE FUNCTION public.tg() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
        CREATE TRIGGER ft_tg BEFORE INSERT ON public.ft FOR EACH ROW EXECUTE FUNCTION public.tg();
        CREATE VIEW public.ft_names AS SELECT name FROM public.ft;
        "#,
    );
    // The archive holds the password (it is the database's data); bru's
    // own output never shows it.
    assert!(!output.contains("k2-secret-pw"), "{output}");
}

#[test]
fn row_level_security_and_policies_round_trip() {
    let Some(server) = server() else { return };
    roles(&server, &["k2_rls_a", "k2_rls_b"]);
    round_trip(
        &server,
        "rls",
        r#"
        CREATE TABLE public.accounts (id integer PRIMARY KEY, owner name, balance numeric);
        CREATE TABLE public.notes (id integer, body text);
        CREATE TABLE public.forced_only (id integer);
        ALTER TABLE public.accounts ENABLE ROW LEVEL SECURITY;
        ALTER TABLE public.accounts FORCE ROW LEVEL SECURITY;
        ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
        ALTER TABLE public.forced_only FORCE ROW LEVEL SECURITY;
        CREATE POLICY own ON public.accounts USING (owner = current_user);
        CREATE POLICY "No Debt" ON public.accounts AS RESTRICTIVE FOR UPDATE TO k2_rls_a, k2_rls_b
            USING (balance >= 0) WITH CHECK (balance >= 0);
        CREATE POLICY ins ON public.accounts FOR INSERT TO PUBLIC WITH CHECK (id > 0);
        CREATE POLICY sel ON public.notes FOR SELECT TO k2_rls_a USING (body <> ';');
        CREATE POLICY del ON public.notes FOR DELETE USING (true);
        CREATE POLICY own ON public.notes USING (id > 0);
        COMMENT ON POLICY own ON public.accounts IS 'rows of their own';
        INSERT INTO public.accounts VALUES (1, 'a', 10);
        "#,
    );
}

#[test]
fn a_policy_goes_with_its_table() {
    let Some(server) = server() else { return };
    let src = server.create_db("rls_filter_src");
    server.psql(
        &src,
        "CREATE TABLE public.kept (id integer); CREATE TABLE public.left_out (id integer);
         ALTER TABLE public.left_out ENABLE ROW LEVEL SECURITY;
         CREATE POLICY p ON public.left_out USING (true);
         CREATE POLICY p ON public.kept USING (id > 0);",
    );
    let dir = Dir::new();
    let archive = dir.path("k.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &server.url(&src), archive, "--quiet"]);
    let dst = server.create_db("rls_filter_dst");
    bru_ok(&[
        "restore",
        archive,
        &server.url(&dst),
        "--exclude",
        "public.left_out",
        "--quiet",
    ]);
    assert_eq!(
        server.psql(
            &dst,
            "SELECT string_agg(tablename || '.' || policyname, ',') FROM pg_policies"
        ),
        "kept.p\n"
    );
}

#[test]
fn publications_and_subscriptions_round_trip() {
    let Some(server) = server() else { return };
    roles(&server, &["k2_pub_owner"]);
    let (_, dst, output) = round_trip(
        &server,
        "pub",
        r#"
        CREATE SCHEMA sales;
        CREATE TABLE sales.orders (id integer PRIMARY KEY, total numeric, note text);
        CREATE TABLE public.items (id integer PRIMARY KEY, "Name" text, price numeric);
        CREATE TABLE public.parts (id integer) PARTITION BY RANGE (id);
        CREATE PUBLICATION everything FOR ALL TABLES WITH (publish = 'insert, update');
        CREATE PUBLICATION some_items FOR TABLE public.items (id, "Name") WHERE (price > 0),
            TABLE public.parts WITH (publish_via_partition_root = true);
        CREATE PUBLICATION by_schema FOR TABLES IN SCHEMA sales WITH (publish = 'delete, truncate');
        CREATE PUBLICATION "Empty";
        ALTER PUBLICATION "Empty" OWNER TO k2_pub_owner;
        COMMENT ON PUBLICATION some_items IS 'a publication';
        CREATE SUBSCRIPTION sub CONNECTION 'host=/nonexistent dbname=x password=k2-sub-pw'
            PUBLICATION some_items, "Empty" WITH (connect = false, binary = true, synchronous_commit = 'local');
        CREATE SUBSCRIPTION noslot CONNECTION 'dbname=x' PUBLICATION some_items
            WITH (connect = false, slot_name = NONE);
        COMMENT ON SUBSCRIPTION sub IS 'a subscription';
        "#,
    );
    assert!(!output.contains("k2-sub-pw"), "{output}");
    // Created as pg_dump creates it: disabled, its slot name kept, and the
    // summary says it must be enabled by hand.
    assert_eq!(
        server.psql(
            &dst,
            "SELECT string_agg(subname || ':' || subenabled || ':' || coalesce(subslotname::text, '-'), ',' ORDER BY subname)
             FROM pg_subscription s JOIN pg_database d ON d.oid = s.subdbid WHERE d.datname = current_database()"
        ),
        "noslot:false:-,sub:false:sub\n"
    );
    assert!(output.contains("enable it by hand"), "{output}");
}

#[test]
fn default_privileges_round_trip() {
    let Some(server) = server() else { return };
    roles(&server, &["k2_dp_owner", "k2_dp_reader", "k2 dp spaced"]);
    let (src, dst, _) = round_trip(
        &server,
        "defacl",
        r#"
        CREATE SCHEMA app;
        GRANT USAGE, CREATE ON SCHEMA app TO k2_dp_owner;
        ALTER DEFAULT PRIVILEGES FOR ROLE k2_dp_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
        ALTER DEFAULT PRIVILEGES FOR ROLE k2_dp_owner REVOKE USAGE ON TYPES FROM PUBLIC;
        ALTER DEFAULT PRIVILEGES FOR ROLE k2_dp_owner GRANT SELECT ON TABLES TO k2_dp_reader WITH GRANT OPTION;
        ALTER DEFAULT PRIVILEGES FOR ROLE k2_dp_owner REVOKE INSERT ON TABLES FROM k2_dp_owner;
        ALTER DEFAULT PRIVILEGES FOR ROLE k2_dp_owner IN SCHEMA app GRANT SELECT, UPDATE ON TABLES TO "k2 dp spaced";
        ALTER DEFAULT PRIVILEGES FOR ROLE k2_dp_owner IN SCHEMA app GRANT USAGE ON SEQUENCES TO k2_dp_reader;
        ALTER DEFAULT PRIVILEGES FOR ROLE k2_dp_owner GRANT USAGE ON SCHEMAS TO k2_dp_reader;
        CREATE TABLE app.t (id integer);
        "#,
    );
    // They apply to what the role creates next, as in the source.
    server.psql(
        &dst,
        "SET ROLE k2_dp_owner; CREATE TABLE app.later (id integer); RESET ROLE;",
    );
    let acl = server.psql(
        &dst,
        "SELECT string_agg(pg_get_userbyid(a.grantee) || ':' || a.privilege_type || ':' || a.is_grantable,
                           ',' ORDER BY pg_get_userbyid(a.grantee)::text COLLATE \"C\", a.privilege_type)
         FROM pg_class c, aclexplode(c.relacl) a WHERE c.relname = 'later' AND a.grantee <> c.relowner",
    );
    assert_eq!(
        acl,
        "k2 dp spaced:SELECT:false,k2 dp spaced:UPDATE:false,k2_dp_reader:SELECT:true\n"
    );
    // --no-privileges leaves them out, as pg_restore's does.
    let dir = Dir::new();
    let archive = dir.path("k.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &server.url(&src), archive, "--quiet"]);
    let bare = server.create_db("defacl_bare");
    bru_ok(&[
        "restore",
        archive,
        &server.url(&bare),
        "--no-privileges",
        "--quiet",
    ]);
    assert_eq!(
        server.psql(&bare, "SELECT count(*) FROM pg_default_acl"),
        "0\n"
    );
    assert_eq!(
        server.psql(&src, "SELECT count(*) > 0 FROM pg_default_acl"),
        "t\n"
    );
}

/// An archive whose entries of the new kinds were edited (a second
/// statement, another object's name, a publication the archive does not
/// create) is refused whole by verify and restore, naming the entry, and
/// the target's own objects are left alone.
#[test]
fn an_edited_entry_of_each_new_kind_is_refused() {
    let Some(server) = server() else { return };
    let src = server.create_db("k2_hostile_src");
    server.psql(
        &src,
        "CREATE TABLE public.t (id integer);
         CREATE TEXT SEARCH DICTIONARY public.dict (TEMPLATE = simple);
         CREATE FOREIGN DATA WRAPPER k2w;
         CREATE SERVER k2s FOREIGN DATA WRAPPER k2w;
         CREATE USER MAPPING FOR PUBLIC SERVER k2s OPTIONS (password 'k2-hostile-pw');
         CREATE POLICY p ON public.t USING (true);
         CREATE PUBLICATION k2p FOR TABLE public.t;
         ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;",
    );
    let target = server.create_db("k2_hostile_dst");
    server.psql(
        &target,
        "CREATE TABLE public.victim (id integer); INSERT INTO public.victim VALUES (1);
         CREATE PUBLICATION theirs;",
    );
    let dir = Dir::new();
    let original = dir.path("k.db");
    bru_ok(&[
        "backup",
        &server.url(&src),
        original.to_str().unwrap(),
        "--quiet",
    ]);
    type Edit = fn(&mut serde_json::Value) -> bool;
    let cases: [(&str, Edit, &[&str]); 6] = [
        (
            "policy",
            |j| {
                j["kind"]["other"] == "policy" && {
                    j["ddl"] =
                        "CREATE POLICY p ON public.t USING (true); DELETE FROM public.victim"
                            .into();
                    true
                }
            },
            &["policy public.p", "second statement"],
        ),
        (
            "policy elsewhere",
            |j| {
                j["kind"]["other"] == "policy" && {
                    j["ddl"] = "CREATE POLICY p ON public.victim USING (false)".into();
                    true
                }
            },
            &["policy public.p", "not on its declared table"],
        ),
        (
            "dictionary",
            |j| {
                j["kind"]["other"] == "text search dictionary" && {
                    j["ddl"] =
                        "CREATE TEXT SEARCH DICTIONARY public.other (TEMPLATE = simple)".into();
                    true
                }
            },
            &["text search dictionary public.dict", "not public.dict"],
        ),
        (
            "user mapping",
            |j| {
                j["kind"]["other"] == "user mapping" && {
                    let ddl = format!("{}; DROP TABLE public.victim", j["ddl"].as_str().unwrap());
                    j["ddl"] = ddl.into();
                    true
                }
            },
            &["user mapping", "not shown"],
        ),
        (
            "publication table",
            |j| {
                j["kind"]["other"] == "publication table" && {
                    j["name"]["name"] = "theirs".into();
                    j["ddl"] = "ALTER PUBLICATION theirs ADD TABLE ONLY public.t".into();
                    true
                }
            },
            &["publication table theirs", "does not create"],
        ),
        (
            "default privileges",
            |j| {
                j["kind"]["other"] == "default privileges" && {
                    let ddl = format!(
                        "{};\nGRANT SELECT ON public.victim TO PUBLIC",
                        j["ddl"].as_str().unwrap()
                    );
                    j["ddl"] = ddl.into();
                    true
                }
            },
            &["default privileges", "starts with `GRANT"],
        ),
    ];
    for (what, edit, words) in cases {
        let copy = dir.path(&format!("{}.db", what.replace(' ', "_")));
        std::fs::copy(&original, &copy).unwrap();
        tamper_objects(&copy, edit);
        let c = copy.to_str().unwrap();
        let line = util::bru_fails(&["verify", c, "--quiet"], words);
        assert!(!line.contains("k2-hostile-pw"), "{what}: {line}");
        let line = util::bru_fails(&["restore", c, &server.url(&target), "--quiet"], words);
        assert!(!line.contains("k2-hostile-pw"), "{what}: {line}");
    }
    assert_eq!(
        server.psql(&target, "SELECT count(*) FROM public.victim"),
        "1\n"
    );
    assert_eq!(
        server.psql(&target, "SELECT count(*) FROM pg_policy"),
        "0\n"
    );
}

/// A backup by a role that may not read a subscription's connection or a
/// user mapping's options (not a superuser) lists them as not carried
/// instead of dropping them or their options silently, and the archive
/// still restores.
#[test]
fn what_a_plain_role_cannot_read_is_listed_as_not_carried() {
    let Some(server) = server() else { return };
    roles(&server, &["k2_plain"]);
    server.psql("postgres", "ALTER ROLE k2_plain LOGIN PASSWORD 'k2-login'");
    let src = server.create_db("k2_plain_src");
    server.psql(
        &src,
        "CREATE TABLE public.t (id integer); INSERT INTO public.t VALUES (1);
         ALTER TABLE public.t OWNER TO k2_plain;
         CREATE FOREIGN DATA WRAPPER k2pw;
         CREATE SERVER k2ps FOREIGN DATA WRAPPER k2pw;
         CREATE USER MAPPING FOR PUBLIC SERVER k2ps OPTIONS (password 'k2-plain-pw');
         CREATE PUBLICATION k2pp;
         CREATE SUBSCRIPTION k2psub CONNECTION 'dbname=x password=k2-plain-pw' PUBLICATION k2pp
             WITH (connect = false);
         COMMENT ON SUBSCRIPTION k2psub IS 'theirs';",
    );
    let url = server.url(&src);
    let plain = url.replacen("://bru@", "://k2_plain:k2-login@", 1);
    assert_ne!(plain, url, "the test server's URL names its superuser");
    let dir = Dir::new();
    let archive = dir.path("k.db");
    let archive = archive.to_str().expect("utf-8 path");
    let backup = bru_ok(&["backup", &plain, archive]);
    let dst = server.create_db("k2_plain_dst");
    let restore = bru_ok(&["restore", archive, &server.url(&dst)]);
    let output = format!(
        "{}{}{}{}",
        String::from_utf8_lossy(&backup.stdout),
        String::from_utf8_lossy(&backup.stderr),
        String::from_utf8_lossy(&restore.stdout),
        String::from_utf8_lossy(&restore.stderr)
    );
    assert!(!output.contains("k2-plain-pw"), "{output}");
    for what in ["user mapping for public server k2ps", "k2psub"] {
        assert!(
            output
                .lines()
                .any(|l| l.contains(what) && l.contains("superuser")),
            "{what} is not listed as not carried:\n{output}"
        );
    }
    // The rest arrived: the server, the publication, the table's rows.
    assert_eq!(
        server.psql(
            &dst,
            "SELECT (SELECT count(*) FROM pg_foreign_server WHERE srvname = 'k2ps')
                  + (SELECT count(*) FROM pg_publication WHERE pubname = 'k2pp')
                  + (SELECT count(*) FROM public.t)"
        ),
        "3\n"
    );
}

/// [`bru_testsupport::archive::tamper`] over the object entries only.
fn tamper_objects(archive: &std::path::Path, mut edit: impl FnMut(&mut serde_json::Value) -> bool) {
    bru_testsupport::archive::tamper(archive, |what, o| what == "object" && edit(o));
}
