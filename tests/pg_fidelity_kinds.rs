//! PostgreSQL object kinds beyond tables, views and functions, each round
//! tripped through the real `bru` binary (backup, verify, `bru list`,
//! restore) against one throwaway server, one database per kind: the
//! restored database's `pg_dump --schema-only` equals the source's, nothing
//! is skipped, and `bru list` names every object of the kind.
//!
//! The kinds share one server (it is slow to start), so they run as the
//! cases of one test, each in its own databases; every case runs, and the
//! test fails naming each kind that failed.

mod util;

use std::panic::{catch_unwind, AssertUnwindSafe};

use bru_testsupport::pg::TestServer;
use util::{bru_ok, Dir};

/// One object kind's case: the SQL that makes the source database, and
/// what `bru list` must show for it (each a line fragment).
struct Case {
    kind: &'static str,
    sql: &'static str,
    listed: &'static [&'static str],
}

const CASES: &[Case] = &[Case {
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
}];

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
