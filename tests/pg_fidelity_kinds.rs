//! PostgreSQL object kinds beyond tables, views and functions, each round
//! tripped through the real `bru` binary (backup, verify, `bru list`,
//! restore) against one throwaway server, one database per kind: the
//! restored database's `pg_dump --schema-only` equals the source's, nothing
//! is skipped, and `bru list` names every object of the kind. Then each
//! kind's entry, edited to go on with `DROP TABLE public.victim`, is
//! refused by restore and verify, and the victim keeps its rows.
//!
//! The kinds share one server (it is slow to start), so they run as the
//! cases of one test, each in its own databases; every case runs, and the
//! test fails naming each kind that failed.

mod util;

use std::panic::{catch_unwind, AssertUnwindSafe};

use std::path::Path;

use bru_testsupport::archive::reseal_catalog;
use bru_testsupport::pg::TestServer;
use rusqlite::{params, Connection};
use serde_json::Value;
use util::{bru_fails, bru_ok, Dir};

/// One object kind's case: the SQL that makes the source database, and
/// what `bru list` must show for it (each a line fragment).
struct Case {
    kind: &'static str,
    sql: &'static str,
    listed: &'static [&'static str],
    /// The kinds (as the archive spells `{"other": kind}`) whose first
    /// entry, edited to go on with a second statement, must be refused.
    edited: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        kind: "aggregates",
        sql: r#"
            CREATE ROLE kinds_agg_owner;
            -- The well-known sample database's case: a view uses it.
            CREATE FUNCTION public._group_concat(text, text) RETURNS text
                LANGUAGE sql IMMUTABLE
                AS $$SELECT CASE WHEN $2 IS NULL THEN $1 WHEN $1 IS NULL THEN $2
                                 ELSE $1 || ', ' || $2 END$$;
            CREATE AGGREGATE public.group_concat(text) (SFUNC = public._group_concat, STYPE = text);
            CREATE TABLE public.actor (id int PRIMARY KEY, name text);
            INSERT INTO public.actor VALUES (1, 'a'), (2, 'b');
            CREATE VIEW public.actor_info AS SELECT public.group_concat(name) AS names FROM public.actor;
            COMMENT ON AGGREGATE public.group_concat(text) IS 'joins with commas';
            ALTER AGGREGATE public.group_concat(text) OWNER TO kinds_agg_owner;
            REVOKE ALL ON FUNCTION public.group_concat(text) FROM PUBLIC;
            -- Moving aggregate, initial conditions, parallel, combine.
            CREATE FUNCTION public.int_add(bigint, integer) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
                AS 'SELECT $1 + $2';
            CREATE FUNCTION public.int_sub(bigint, integer) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
                AS 'SELECT $1 - $2';
            CREATE FUNCTION public.big_add(bigint, bigint) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
                AS 'SELECT $1 + $2';
            CREATE AGGREGATE public.msum(integer) (
                SFUNC = public.int_add, STYPE = bigint, INITCOND = '0',
                COMBINEFUNC = public.big_add, SSPACE = 8,
                MSFUNC = public.int_add, MINVFUNC = public.int_sub, MSTYPE = bigint, MINITCOND = '0',
                MSSPACE = 16, PARALLEL = SAFE);
            -- Serial/deserial with an internal state, final function modes.
            CREATE AGGREGATE public.my_avg(numeric) (
                SFUNC = pg_catalog.numeric_avg_accum, STYPE = internal, SSPACE = 128,
                FINALFUNC = pg_catalog.numeric_avg, COMBINEFUNC = pg_catalog.numeric_avg_combine,
                SERIALFUNC = pg_catalog.numeric_avg_serialize,
                DESERIALFUNC = pg_catalog.numeric_avg_deserialize,
                FINALFUNC_MODIFY = SHAREABLE, PARALLEL = RESTRICTED);
            -- Sort operator (a min/max-like aggregate), no arguments.
            CREATE AGGREGATE public.my_max(integer) (SFUNC = pg_catalog.int4larger, STYPE = integer,
                SORTOP = OPERATOR(pg_catalog.>));
            CREATE FUNCTION public.count_step(bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT $1 + 1';
            CREATE AGGREGATE public.my_count(*) (SFUNC = public.count_step, STYPE = bigint, INITCOND = '0');
            COMMENT ON AGGREGATE public.my_count(*) IS 'counts';
            ALTER AGGREGATE public.my_count(*) OWNER TO kinds_agg_owner;
            -- Ordered-set and hypothetical-set aggregates.
            CREATE AGGREGATE public.my_pct(double precision ORDER BY anyelement) (
                SFUNC = pg_catalog.ordered_set_transition, STYPE = internal,
                FINALFUNC = pg_catalog.percentile_disc_final, FINALFUNC_EXTRA);
            CREATE AGGREGATE public.my_rank(VARIADIC "any" ORDER BY VARIADIC "any") (
                SFUNC = pg_catalog.ordered_set_transition_multi, STYPE = internal,
                FINALFUNC = pg_catalog.rank_final, FINALFUNC_EXTRA, HYPOTHETICAL);
            -- A window function (C-language, WINDOW).
            CREATE FUNCTION public.my_row_number() RETURNS bigint LANGUAGE internal WINDOW IMMUTABLE
                AS 'window_row_number';
            COMMENT ON FUNCTION public.my_row_number() IS 'numbers rows';
        "#,
        listed: &[
            "group_concat(text)",
            "msum(integer)",
            "my_avg(numeric)",
            "my_max(integer)",
            "my_count()",
            "my_pct(double precision,anyelement)",
            "my_rank(\"any\")",
            "my_row_number()",
        ],
        edited: &["aggregate", "window function"],
    },
    Case {
        kind: "operators",
        sql: r#"
            CREATE ROLE kinds_op_owner;
            CREATE FUNCTION public.abs_eq(integer, integer) RETURNS boolean LANGUAGE sql IMMUTABLE
                AS 'SELECT abs($1) = abs($2)';
            CREATE FUNCTION public.abs_ne(integer, integer) RETURNS boolean LANGUAGE sql IMMUTABLE
                AS 'SELECT abs($1) <> abs($2)';
            CREATE FUNCTION public.abs_lt(integer, integer) RETURNS boolean LANGUAGE sql IMMUTABLE
                AS 'SELECT abs($1) < abs($2)';
            CREATE FUNCTION public.abs_gt(integer, integer) RETURNS boolean LANGUAGE sql IMMUTABLE
                AS 'SELECT abs($1) > abs($2)';
            CREATE FUNCTION public.abs_cmp(integer, integer) RETURNS integer LANGUAGE sql IMMUTABLE
                AS 'SELECT pg_catalog.btint4cmp(abs($1), abs($2))';
            CREATE FUNCTION public.abs_cmp8(integer, bigint) RETURNS integer LANGUAGE sql IMMUTABLE
                AS 'SELECT pg_catalog.btint8cmp(abs($1), abs($2))';
            -- Each names the other before it exists: the first makes a
            -- shell of the second, which the second fills in.
            CREATE OPERATOR public.=== (FUNCTION = public.abs_eq, LEFTARG = integer, RIGHTARG = integer,
                COMMUTATOR = OPERATOR(public.===), NEGATOR = OPERATOR(public.!==),
                RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
            CREATE OPERATOR public.!== (FUNCTION = public.abs_ne, LEFTARG = integer, RIGHTARG = integer,
                COMMUTATOR = OPERATOR(public.!==), NEGATOR = OPERATOR(public.===));
            CREATE OPERATOR public.<<< (FUNCTION = public.abs_lt, LEFTARG = integer, RIGHTARG = integer,
                COMMUTATOR = OPERATOR(public.>>>));
            CREATE OPERATOR public.>>> (FUNCTION = public.abs_gt, LEFTARG = integer, RIGHTARG = integer,
                COMMUTATOR = OPERATOR(public.<<<));
            -- A prefix operator.
            CREATE OPERATOR public.~~~ (FUNCTION = pg_catalog.int4um, RIGHTARG = integer);
            CREATE OPERATOR FAMILY public.abs_ops USING btree;
            CREATE OPERATOR CLASS public.abs_int_ops FOR TYPE integer USING btree FAMILY public.abs_ops AS
                OPERATOR 1 public.<<<, OPERATOR 3 public.===, OPERATOR 5 public.>>>,
                FUNCTION 1 public.abs_cmp(integer, integer);
            -- A member loose in the family, not in a class.
            ALTER OPERATOR FAMILY public.abs_ops USING btree
                ADD FUNCTION 1 (integer, bigint) public.abs_cmp8(integer, bigint);
            -- A default class of its own family, with STORAGE.
            CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');
            CREATE OPERATOR CLASS public.mood_hash_ops DEFAULT FOR TYPE public.mood USING hash AS
                OPERATOR 1 pg_catalog.=(anyenum, anyenum), FUNCTION 1 pg_catalog.hashenum(anyenum);
            CREATE OPERATOR CLASS public.int_gist_like_ops FOR TYPE integer USING gin AS
                STORAGE integer, OPERATOR 1 pg_catalog.=(integer, integer),
                FUNCTION 1 pg_catalog.btint4cmp(integer, integer);
            CREATE TABLE public.nums (a integer, m public.mood);
            INSERT INTO public.nums VALUES (-3, 'ok'), (2, 'sad');
            CREATE INDEX nums_abs ON public.nums (a public.abs_int_ops);
            -- An aggregate sorting by a user operator comes after it.
            CREATE AGGREGATE public.abs_max(integer) (SFUNC = pg_catalog.int4larger, STYPE = integer,
                SORTOP = OPERATOR(public.>>>));
            COMMENT ON OPERATOR public.===(integer, integer) IS 'equal in absolute value';
            COMMENT ON OPERATOR CLASS public.abs_int_ops USING btree IS 'by absolute value';
            COMMENT ON OPERATOR FAMILY public.abs_ops USING btree IS 'absolute values';
            ALTER OPERATOR public.<<<(integer, integer) OWNER TO kinds_op_owner;
            ALTER OPERATOR FAMILY public.abs_ops USING btree OWNER TO kinds_op_owner;
            ALTER OPERATOR CLASS public.abs_int_ops USING btree OWNER TO kinds_op_owner;
        "#,
        listed: &[
            "===(integer,integer)",
            "!==(integer,integer)",
            "~~~(NONE,integer)",
            "abs_ops USING btree",
            "abs_int_ops USING btree",
            "mood_hash_ops USING hash",
            "int_gist_like_ops USING gin",
            "abs_max(integer)",
        ],
        edited: &["operator", "operator family", "operator class"],
    },
    Case {
        kind: "casts",
        sql: r#"
            CREATE TYPE public.temp AS ENUM ('cold', 'hot');
            CREATE FUNCTION public.temp_of(integer) RETURNS public.temp LANGUAGE sql IMMUTABLE
                AS $$SELECT CASE WHEN $1 > 20 THEN 'hot'::public.temp ELSE 'cold'::public.temp END$$;
            CREATE CAST (integer AS public.temp) WITH FUNCTION public.temp_of(integer) AS ASSIGNMENT;
            CREATE CAST (public.temp AS text) WITH INOUT AS IMPLICIT;
            -- money is an int8 inside: binary-compatible with bigint.
            CREATE CAST (money AS bigint) WITHOUT FUNCTION;
            COMMENT ON CAST (integer AS public.temp) IS 'by threshold';
            CREATE TABLE public.readings (id integer, t public.temp DEFAULT 25);
            INSERT INTO public.readings (id) VALUES (1);
        "#,
        listed: &[
            "(integer AS public.temp)",
            "(public.temp AS text)",
            "(money AS bigint)",
        ],
        edited: &["cast"],
    },
    Case {
        kind: "collations",
        sql: r#"
            CREATE ROLE kinds_coll_owner;
            CREATE COLLATION public.german (provider = icu, locale = 'de-DE');
            CREATE COLLATION public.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
            CREATE COLLATION public.c_copy (provider = libc, locale = 'C');
            CREATE COLLATION public.mixed (provider = libc, lc_collate = 'C', lc_ctype = 'POSIX');
            CREATE TABLE public.people (name text COLLATE public.german, tag text COLLATE public.ci,
                                        code text COLLATE public.mixed);
            INSERT INTO public.people VALUES ('Ärger', 'A', 'x'), ('zebra', 'a', 'y');
            CREATE INDEX people_name ON public.people (name COLLATE public.c_copy);
            COMMENT ON COLLATION public.german IS 'German';
            ALTER COLLATION public.ci OWNER TO kinds_coll_owner;
        "#,
        listed: &["german", "ci", "c_copy", "mixed"],
        edited: &["collation"],
    },
    Case {
        kind: "conversions",
        sql: r#"
            CREATE ROLE kinds_conv_owner;
            CREATE CONVERSION public.my_conv FOR 'UTF8' TO 'LATIN1' FROM pg_catalog.utf8_to_iso8859_1;
            CREATE DEFAULT CONVERSION public.my_default_conv FOR 'LATIN1' TO 'UTF8'
                FROM pg_catalog.iso8859_1_to_utf8;
            COMMENT ON CONVERSION public.my_conv IS 'to latin1';
            ALTER CONVERSION public.my_conv OWNER TO kinds_conv_owner;
        "#,
        listed: &["my_conv", "my_default_conv"],
        edited: &["conversion"],
    },
    Case {
        kind: "languages and transforms",
        sql: r#"
            CREATE ROLE kinds_lang_owner;
            CREATE ROLE kinds_lang_user;
            CREATE FUNCTION public.my_handler() RETURNS language_handler LANGUAGE c
                AS '$libdir/plpgsql', 'plpgsql_call_handler';
            CREATE FUNCTION public.my_inline(internal) RETURNS void LANGUAGE c
                AS '$libdir/plpgsql', 'plpgsql_inline_handler';
            CREATE FUNCTION public.my_validator(oid) RETURNS void LANGUAGE c
                AS '$libdir/plpgsql', 'plpgsql_validator';
            CREATE TRUSTED LANGUAGE mylang HANDLER public.my_handler INLINE public.my_inline
                VALIDATOR public.my_validator;
            CREATE LANGUAGE myuntrusted HANDLER public.my_handler;
            CREATE FUNCTION public.in_mylang() RETURNS integer LANGUAGE mylang AS 'begin return 1; end';
            COMMENT ON LANGUAGE mylang IS 'plpgsql again';
            REVOKE USAGE ON LANGUAGE mylang FROM PUBLIC;
            GRANT USAGE ON LANGUAGE mylang TO kinds_lang_user;
            ALTER LANGUAGE mylang OWNER TO kinds_lang_owner;
            CREATE TYPE public.tr_type AS ENUM ('x');
            CREATE FUNCTION public.tr_from(internal) RETURNS internal LANGUAGE internal IMMUTABLE
                AS 'int4recv';
            CREATE FUNCTION public.tr_to(internal) RETURNS public.tr_type LANGUAGE internal IMMUTABLE
                AS 'enum_recv';
            CREATE TRANSFORM FOR public.tr_type LANGUAGE mylang (
                FROM SQL WITH FUNCTION public.tr_from(internal), TO SQL WITH FUNCTION public.tr_to(internal));
            CREATE TRANSFORM FOR integer LANGUAGE myuntrusted (FROM SQL WITH FUNCTION public.tr_from(internal));
            COMMENT ON TRANSFORM FOR public.tr_type LANGUAGE mylang IS 'both ways';
        "#,
        listed: &[
            "mylang",
            "myuntrusted",
            "FOR public.tr_type LANGUAGE mylang",
            "FOR integer LANGUAGE myuntrusted",
            "in_mylang()",
        ],
        edited: &["language", "transform"],
    },
    Case {
        kind: "access methods",
        sql: r#"
            CREATE ACCESS METHOD myheap TYPE TABLE HANDLER heap_tableam_handler;
            CREATE ACCESS METHOD mybtree TYPE INDEX HANDLER bthandler;
            COMMENT ON ACCESS METHOD mybtree IS 'btree again';
            -- (btree's handler works for btree only, so no class uses this.)
            CREATE TABLE public.am_t (a integer) USING myheap;
            INSERT INTO public.am_t SELECT g FROM generate_series(1, 10) g;
            CREATE INDEX am_t_a ON public.am_t (a);
            CREATE MATERIALIZED VIEW public.am_mv USING myheap AS SELECT a FROM public.am_t;
        "#,
        listed: &["myheap", "mybtree"],
        edited: &["access method"],
    },
    Case {
        kind: "event triggers",
        sql: r#"
            CREATE FUNCTION public.on_ddl() RETURNS event_trigger LANGUAGE plpgsql
                AS $$BEGIN RAISE NOTICE 'ddl %', tg_tag; END$$;
            CREATE EVENT TRIGGER et_start ON ddl_command_start EXECUTE FUNCTION public.on_ddl();
            CREATE EVENT TRIGGER et_tags ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'DROP TABLE')
                EXECUTE FUNCTION public.on_ddl();
            ALTER EVENT TRIGGER et_tags DISABLE;
            CREATE EVENT TRIGGER et_always ON sql_drop EXECUTE FUNCTION public.on_ddl();
            ALTER EVENT TRIGGER et_always ENABLE ALWAYS;
            COMMENT ON EVENT TRIGGER et_start IS 'notices';
            CREATE TABLE public.after_triggers (a integer);
            INSERT INTO public.after_triggers VALUES (1);
        "#,
        listed: &["et_start", "et_tags", "et_always"],
        edited: &["event trigger"],
    },
];

/// Backs up the database `case` makes, lists and verifies the archive,
/// restores it into a new database and compares the two.
fn round_trip(server: &TestServer, dir: &Dir, case: &Case) {
    let hint = case.kind.replace(' ', "_");
    let src = server.create_db(&format!("{hint}_src"));
    server.psql(&src, case.sql);
    let archive = dir.path(&format!("{hint}.db"));
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &server.url(&src), archive, "--quiet"]);
    bru_ok(&["verify", archive]);
    let list = String::from_utf8_lossy(&bru_ok(&["list", archive]).stdout).to_string();
    for name in case.listed {
        assert!(
            list.lines()
                .any(|l| l.contains(name) && !l.to_lowercase().contains("not carried")),
            "bru list does not show {name} as carried:\n{list}"
        );
    }
    let dst = server.create_db(&format!("{hint}_dst"));
    let out = bru_ok(&["restore", archive, &server.url(&dst)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.to_lowercase().contains("skipped"), "{stderr}");
    server.assert_same_schema(&src, &dst);
    assert_eq!(server.contents(&src), server.contents(&dst));

    for kind in case.edited {
        let edited = dir.path(&format!("{hint}_{}.db", kind.replace(' ', "_")));
        std::fs::copy(archive, &edited).expect("copy the archive");
        let name = append_to_first(&edited, kind, ";\nDROP TABLE public.victim");
        let victim = server.create_db(&format!("{hint}_victim"));
        server.psql(
            &victim,
            "CREATE TABLE public.victim (a text); INSERT INTO public.victim VALUES ('x');",
        );
        let e = edited.to_str().expect("utf-8 path");
        bru_fails(
            &["restore", e, &server.url(&victim), "--quiet"],
            &["catalog entry", kind, &name, "altered"],
        );
        assert_eq!(
            server.psql(&victim, "SELECT string_agg(a, ',') FROM public.victim"),
            "x\n",
            "{kind} {name}"
        );
        assert_eq!(server.tables(&victim), vec!["public.victim".to_string()]);
        bru_fails(
            &["verify", e, "--quiet"],
            &["catalog entry", kind, "altered"],
        );
    }
}

/// Appends `sql` to the DDL of the first object of `{"other": kind}` in
/// `archive`'s catalog, as an attacker would (the catalog CRC recomputed),
/// and returns that object's name.
fn append_to_first(archive: &Path, kind: &str, sql: &str) -> String {
    let conn = Connection::open(archive).expect("open archive");
    let rows: Vec<(i64, String)> = conn
        .prepare("SELECT id, def FROM bru_objects ORDER BY id")
        .expect("read objects")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("read objects")
        .collect::<Result<_, _>>()
        .expect("read objects");
    for (id, def) in rows {
        let mut json: Value = serde_json::from_str(&def).expect("catalog JSON");
        if json["kind"]["other"] != kind {
            continue;
        }
        let ddl = format!("{}{sql}", json["ddl"].as_str().expect("ddl"));
        json["ddl"] = Value::String(ddl);
        conn.execute(
            "UPDATE bru_objects SET def = ?1 WHERE id = ?2",
            params![serde_json::to_string(&json).expect("JSON"), id],
        )
        .expect("edit the object");
        reseal_catalog(&conn);
        return json["name"]["name"].as_str().expect("name").to_owned();
    }
    panic!("the archive has no {kind}");
}

#[test]
fn each_object_kind_round_trips_with_pg_dump_equality() {
    let Some(server) = TestServer::start() else {
        return;
    };
    let dir = Dir::new();
    let failed: Vec<String> = CASES
        .iter()
        .filter_map(|case| {
            catch_unwind(AssertUnwindSafe(|| round_trip(&server, &dir, case)))
                .err()
                .map(|e| {
                    let why = e
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    format!("{}: {why}", case.kind)
                })
        })
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}
