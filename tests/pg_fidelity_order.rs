//! PostgreSQL objects in dependency order, and the types that need it,
//! through the real `bru` binary against one throwaway server: each case
//! is a database whose `pg_dump --schema-only` and rows must come back the
//! same after PG → archive → PG, with nothing skipped.
//!
//! The schemas are built so that creating their objects by oid (or by
//! kind) fails: a function whose SQL body calls one created after it, a
//! domain whose CHECK calls a function created after the domain, a view
//! replaced to read a view created after it, a
//! `SUPPORT` function created after the function naming it, overloaded
//! procedures that only their OUT arguments tell apart, base and range
//! types whose I/O or canonical functions take the type itself (a shell
//! type first), and a domain's NOT VALID check that the table's rows break.

mod util;

use std::path::{Path, PathBuf};

use bru_testsupport::archive::tamper;
use bru_testsupport::pg::TestServer;
use serde_json::Value;
use util::{bru_fails, bru_ok, Dir};

/// Functions, domains and procedures whose oid order is not their
/// dependency order.
const ORDER_SQL: &str = r#"
CREATE FUNCTION public.b(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x';
CREATE FUNCTION public.a(x integer) RETURNS integer LANGUAGE sql IMMUTABLE RETURN x + 1;
CREATE OR REPLACE FUNCTION public.b(x integer) RETURNS integer LANGUAGE sql IMMUTABLE
    BEGIN ATOMIC SELECT public.a(x); END;
CREATE DOMAIN public.small AS integer CHECK (VALUE > 0);
CREATE FUNCTION public.is_small(v integer) RETURNS boolean LANGUAGE sql IMMUTABLE
    RETURN v < public.b(100);
ALTER DOMAIN public.small ADD CONSTRAINT small_max CHECK (public.is_small(VALUE));
CREATE TABLE public.things (id public.small PRIMARY KEY, note text);
INSERT INTO public.things VALUES (1, 'one'), (2, 'two');
CREATE FUNCTION public.h() RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE TYPE public.later AS ENUM ('x', 'yy');
CREATE OR REPLACE FUNCTION public.h() RETURNS integer LANGUAGE sql
    BEGIN ATOMIC SELECT length(('yy'::public.later)::text); END;
CREATE FUNCTION public.series(integer, integer) RETURNS SETOF integer
    LANGUAGE internal STRICT AS 'generate_series_int4';
CREATE FUNCTION public.series_support(internal) RETURNS internal
    LANGUAGE internal STRICT AS 'generate_series_int4_support';
ALTER FUNCTION public.series(integer, integer) SUPPORT public.series_support;
CREATE PROCEDURE public.p(integer) LANGUAGE sql AS 'SELECT 1';
CREATE PROCEDURE public.p(text) LANGUAGE sql AS 'SELECT 2';
CREATE PROCEDURE public.ptest10(OUT a int, IN b int, INOUT c int) LANGUAGE sql
    AS 'SELECT b - c, c';
CREATE PROCEDURE public.ptest10(IN a int, IN b int, IN c int) LANGUAGE sql AS 'SELECT a + b - c';
GRANT EXECUTE ON PROCEDURE public.ptest10(OUT a int, IN b int, INOUT c int) TO PUBLIC;
REVOKE EXECUTE ON PROCEDURE public.ptest10(IN a int, IN b int, IN c int) FROM PUBLIC;
COMMENT ON PROCEDURE public.ptest10(OUT a int, IN b int, INOUT c int) IS 'with OUT';
CREATE FUNCTION public.f(integer) RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION public.f(integer, integer) RETURNS integer LANGUAGE sql AS 'SELECT 2';
COMMENT ON PROCEDURE public.p(text) IS 'the text one';
COMMENT ON FUNCTION public.f(integer, integer) IS 'the two-argument one';
CREATE FUNCTION public.thing_id(t public.things) RETURNS integer LANGUAGE sql RETURN t.id;
CREATE FUNCTION public.count_things() RETURNS bigint LANGUAGE sql
    BEGIN ATOMIC SELECT count(*) FROM public.things; END;
CREATE VIEW public.counted AS SELECT public.count_things() AS n;
CREATE VIEW public.v_first AS SELECT 1 AS x;
CREATE VIEW public.v_later AS SELECT 2 AS z, note FROM public.things;
CREATE OR REPLACE VIEW public.v_first AS SELECT 1 AS x, (SELECT max(z) FROM public.v_later) AS y;
CREATE TYPE public.pair AS (x integer);
CREATE TYPE public.color AS ENUM ('red', 'green');
ALTER TYPE public.pair ADD ATTRIBUTE c public.color;
CREATE TABLE public.pairs (p public.pair);
INSERT INTO public.pairs VALUES (ROW(1, 'green'));
"#;

/// Domains (collation, NOT VALID check), range types with every option,
/// base types with C I/O functions, and a shell type that stays one.
const TYPES_SQL: &str = r#"
CREATE DOMAIN public.things_dom AS integer;
CREATE TABLE public.thethings (stuff public.things_dom);
INSERT INTO public.thethings VALUES (55);
ALTER DOMAIN public.things_dom ADD CONSTRAINT meow CHECK (VALUE < 11) NOT VALID;
COMMENT ON CONSTRAINT meow ON DOMAIN public.things_dom IS 'the rows break it';
ALTER DOMAIN public.things_dom ADD CONSTRAINT purr CHECK (VALUE > 100) NOT VALID;
CREATE DOMAIN public.ctext AS text COLLATE "C" DEFAULT 'x' NOT NULL;
CREATE TYPE public.floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
CREATE TYPE public.textrange_c AS RANGE (subtype = text, collation = "C",
    multirange_type_name = public.textranges_c);
CREATE TYPE public.textrange_p AS RANGE (subtype = text, subtype_opclass = text_pattern_ops);
CREATE TYPE public.myint4r;
CREATE FUNCTION public.myint4r_canon(public.myint4r) RETURNS public.myint4r
    LANGUAGE internal IMMUTABLE STRICT AS 'int4range_canonical';
CREATE TYPE public.myint4r AS RANGE (subtype = int4, canonical = public.myint4r_canon);
CREATE TABLE public.ranges (f public.floatrange, t public.textrange_c, m public.textranges_c,
    i public.myint4r, c public.ctext);
INSERT INTO public.ranges VALUES ('[1.5,2.5)', '[a,b)', '{[a,b), [c,d]}', '[1,5]', 'y');
CREATE TYPE public.myint;
CREATE FUNCTION public.myint_in(cstring) RETURNS public.myint
    LANGUAGE internal IMMUTABLE STRICT AS 'int4in';
CREATE FUNCTION public.myint_out(public.myint) RETURNS cstring
    LANGUAGE internal IMMUTABLE STRICT AS 'int4out';
CREATE FUNCTION public.myint_recv(internal) RETURNS public.myint
    LANGUAGE internal IMMUTABLE STRICT AS 'int4recv';
CREATE FUNCTION public.myint_send(public.myint) RETURNS bytea
    LANGUAGE internal IMMUTABLE STRICT AS 'int4send';
CREATE TYPE public.myint (INPUT = public.myint_in, OUTPUT = public.myint_out,
    RECEIVE = public.myint_recv, SEND = public.myint_send,
    INTERNALLENGTH = 4, PASSEDBYVALUE, ALIGNMENT = int4, DEFAULT = '7', CATEGORY = 'N');
CREATE TYPE public.mytext;
CREATE FUNCTION public.mytext_in(cstring) RETURNS public.mytext
    LANGUAGE internal IMMUTABLE STRICT AS 'textin';
CREATE FUNCTION public.mytext_out(public.mytext) RETURNS cstring
    LANGUAGE internal IMMUTABLE STRICT AS 'textout';
CREATE FUNCTION public.mytext_recv(internal) RETURNS public.mytext
    LANGUAGE internal IMMUTABLE STRICT AS 'textrecv';
CREATE FUNCTION public.mytext_send(public.mytext) RETURNS bytea
    LANGUAGE internal IMMUTABLE STRICT AS 'textsend';
CREATE FUNCTION public.mytext_typmod_in(cstring[]) RETURNS integer
    LANGUAGE internal IMMUTABLE STRICT AS 'varchartypmodin';
CREATE FUNCTION public.mytext_typmod_out(integer) RETURNS cstring
    LANGUAGE internal IMMUTABLE STRICT AS 'varchartypmodout';
CREATE TYPE public.mytext (INPUT = public.mytext_in, OUTPUT = public.mytext_out,
    RECEIVE = public.mytext_recv, SEND = public.mytext_send,
    TYPMOD_IN = public.mytext_typmod_in, TYPMOD_OUT = public.mytext_typmod_out,
    LIKE = text, COLLATABLE = true, DELIMITER = ';');
CREATE TYPE public.mypoint;
CREATE FUNCTION public.mypoint_in(cstring) RETURNS public.mypoint
    LANGUAGE internal IMMUTABLE STRICT AS 'point_in';
CREATE FUNCTION public.mypoint_out(public.mypoint) RETURNS cstring
    LANGUAGE internal IMMUTABLE STRICT AS 'point_out';
CREATE TYPE public.mypoint (INPUT = public.mypoint_in, OUTPUT = public.mypoint_out,
    INTERNALLENGTH = 16, ALIGNMENT = double, ELEMENT = float8,
    SUBSCRIPT = raw_array_subscript_handler, CATEGORY = 'G', PREFERRED = true);
COMMENT ON TYPE public.myint IS 'an int4 of our own';
CREATE TABLE public.based (i public.myint, t public.mytext(10), a public.myint[]);
INSERT INTO public.based VALUES ('42', 'hello', '{1,2}');
CREATE TYPE public.just_shell;
"#;

/// Backs up database `src` (built from `sql`), restores it into a new
/// database, and asserts that nothing was skipped and that schema and rows
/// are the source's. Returns the archive.
fn round_trip(server: &TestServer, dir: &Dir, case: &str, sql: &str) -> PathBuf {
    let src = server.create_db(&format!("{case}_src"));
    server.psql(&src, sql);
    let path = dir.path(&format!("{case}.db"));
    let archive = path.to_str().expect("utf-8 path");
    bru_ok(&["backup", &server.url(&src), archive, "--quiet"]);
    bru_ok(&["verify", archive]);
    let dst = server.create_db(&format!("{case}_dst"));
    let out = bru_ok(&["restore", archive, &server.url(&dst)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.to_lowercase().contains("skipped"),
        "{case}: {stderr}"
    );
    server.assert_same_schema(&src, &dst);
    assert_eq!(server.contents(&src), server.contents(&dst), "{case}");
    path
}

/// A copy of `archive` at `copy` whose first catalog object of `kind` (as
/// the archive spells it: `"type"`, `{"other": "shell type"}`) named
/// `name` has been edited by `edit`, and resealed as an attacker would.
fn tampered(archive: &Path, copy: &Path, kind: Value, name: &str, edit: &dyn Fn(&mut Value)) {
    std::fs::copy(archive, copy).expect("copy archive");
    let mut done = false;
    tamper(copy, |what, o| {
        let first = !done && what == "object" && o["kind"] == kind && o["name"]["name"] == name;
        if first {
            edit(o);
            done = true;
        }
        first
    });
}

/// An edit of an archive entry: its kind and name, the edit, and the words
/// the refusal must contain.
type Tampering<'a> = (Value, &'a str, &'a dyn Fn(&mut Value), &'a [&'a str]);

/// Each edited entry of the kinds this file adds (a second statement,
/// another object's name) is refused by restore and by verify, before
/// anything runs.
fn edited_type_entries_are_refused(server: &TestServer, dir: &Dir, archive: &Path) {
    let drop = |o: &mut Value| {
        let ddl = o["ddl"].as_str().unwrap().to_owned();
        o["ddl"] = format!("{ddl}; DROP TABLE public.victim").into();
    };
    let shell = serde_json::json!({"other": "shell type"});
    let domain_constraint = serde_json::json!({"other": "domain constraint"});
    let ty = Value::from("type");
    let cases: [Tampering; 6] = [
        (
            domain_constraint.clone(),
            "things_dom",
            &drop,
            &["domain constraint public.things_dom", "second statement"],
        ),
        (
            domain_constraint,
            "things_dom",
            &|o: &mut Value| {
                o["name"]["name"] = "victim_dom".into();
                o["ddl"] =
                    "ALTER DOMAIN public.victim_dom ADD CONSTRAINT c CHECK (VALUE > 0) NOT VALID"
                        .into();
            },
            &["domain constraint public.victim_dom", "does not create"],
        ),
        (
            shell.clone(),
            "myint",
            &drop,
            &["shell type public.myint", "second statement"],
        ),
        (
            shell,
            "myint",
            &|o: &mut Value| o["ddl"] = "CREATE TYPE public.victim_t".into(),
            &["shell type public.myint", "not public.myint"],
        ),
        (
            ty.clone(),
            "mytext",
            &drop,
            &["type public.mytext", "second statement"],
        ),
        (
            ty,
            "floatrange",
            &|o: &mut Value| {
                o["ddl"] = "CREATE TYPE public.victim_r AS RANGE (subtype = int4)".into();
            },
            &["type public.floatrange", "not public.floatrange"],
        ),
    ];
    for (i, (kind, name, edit, expect)) in cases.into_iter().enumerate() {
        let copy = dir.path(&format!("tampered-{i}.db"));
        tampered(archive, &copy, kind, name, edit);
        let copy = copy.to_str().expect("utf-8 path");
        let db = server.create_db("tampered");
        server.psql(
            &db,
            "CREATE TABLE public.victim (a int); CREATE DOMAIN public.victim_dom AS int;",
        );
        let mut words = vec!["catalog entry", "altered"];
        words.extend_from_slice(expect);
        bru_fails(&["restore", copy, &server.url(&db), "--quiet"], &words);
        bru_fails(&["verify", copy, "--quiet"], &words);
        assert_eq!(server.tables(&db), vec!["public.victim".to_string()]);
    }
}

#[test]
fn objects_come_back_in_dependency_order_with_their_types() {
    let Some(server) = TestServer::start() else {
        return;
    };
    let dir = Dir::new();
    let order = round_trip(&server, &dir, "order", ORDER_SQL);
    // Leaving out the table leaves out, and lists, what needs it: the
    // functions over it or reading it, the view calling one, their owners.
    let db = server.create_db("order_without_things");
    let out = bru_ok(&[
        "restore",
        order.to_str().expect("utf-8 path"),
        &server.url(&db),
        "--exclude",
        "public.things",
    ]);
    let summary = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for skipped in [
        "function public.thing_id(public.things)",
        "function public.count_things()",
        "view public.counted",
        "owner public.count_things()",
    ] {
        assert!(summary.contains(skipped), "{skipped} not listed: {summary}");
    }
    assert_eq!(server.psql(&db, "SELECT public.b(1), public.h()"), "2|2\n");
    let types = round_trip(&server, &dir, "types", TYPES_SQL);
    edited_type_entries_are_refused(&server, &dir, &types);
}
