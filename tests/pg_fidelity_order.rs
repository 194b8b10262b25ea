//! PostgreSQL objects in dependency order, and the types that need it,
//! through the real `bru` binary against one throwaway server: each case
//! is a database whose `pg_dump --schema-only` and rows must come back the
//! same after PG → archive → PG, with nothing skipped.
//!
//! The schemas are built so that creating their objects by oid (or by
//! kind) fails: a function whose SQL body calls one created after it, a
//! domain whose CHECK calls a function created after the domain, a
//! `SUPPORT` function created after the function naming it, base and range
//! types whose I/O or canonical functions take the type itself (a shell
//! type first), and a domain's NOT VALID check that the table's rows break.

mod util;

use bru_testsupport::pg::TestServer;
use util::{bru_ok, Dir};

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
CREATE FUNCTION public.f(integer) RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION public.f(integer, integer) RETURNS integer LANGUAGE sql AS 'SELECT 2';
COMMENT ON PROCEDURE public.p(text) IS 'the text one';
COMMENT ON FUNCTION public.f(integer, integer) IS 'the two-argument one';
CREATE FUNCTION public.thing_id(t public.things) RETURNS integer LANGUAGE sql RETURN t.id;
CREATE FUNCTION public.count_things() RETURNS bigint LANGUAGE sql
    BEGIN ATOMIC SELECT count(*) FROM public.things; END;
CREATE VIEW public.counted AS SELECT public.count_things() AS n;
"#;

/// Domains (collation, NOT VALID check), range types with every option,
/// base types with C I/O functions, and a shell type that stays one.
const TYPES_SQL: &str = r#"
CREATE DOMAIN public.things_dom AS integer;
CREATE TABLE public.thethings (stuff public.things_dom);
INSERT INTO public.thethings VALUES (55);
ALTER DOMAIN public.things_dom ADD CONSTRAINT meow CHECK (VALUE < 11) NOT VALID;
COMMENT ON CONSTRAINT meow ON DOMAIN public.things_dom IS 'the rows break it';
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
CREATE TYPE public.mytext (INPUT = public.mytext_in, OUTPUT = public.mytext_out,
    RECEIVE = public.mytext_recv, SEND = public.mytext_send,
    LIKE = text, COLLATABLE = true, DELIMITER = ';');
COMMENT ON TYPE public.myint IS 'an int4 of our own';
CREATE TABLE public.based (i public.myint, t public.mytext, a public.myint[]);
INSERT INTO public.based VALUES ('42', 'hello', '{1,2}');
CREATE TYPE public.just_shell;
"#;

/// Backs up database `src` (built from `sql`), restores it into a new
/// database, and asserts that nothing was skipped and that schema and rows
/// are the source's.
fn round_trip(server: &TestServer, dir: &Dir, case: &str, sql: &str) {
    let src = server.create_db(&format!("{case}_src"));
    server.psql(&src, sql);
    let archive = dir.path(&format!("{case}.db"));
    let archive = archive.to_str().expect("utf-8 path");
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
}

#[test]
fn objects_come_back_in_dependency_order_with_their_types() {
    let Some(server) = TestServer::start() else {
        return;
    };
    let dir = Dir::new();
    round_trip(&server, &dir, "order", ORDER_SQL);
    round_trip(&server, &dir, "types", TYPES_SQL);
}
