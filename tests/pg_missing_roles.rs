//! A PostgreSQL archive whose policy or user mapping names a role the
//! target does not have (a restore creates no roles). pg_restore reports
//! the error and goes on without the object; bru stops, since a policy left
//! out changes who sees which rows, with one error line that names the
//! object and the role and says what to do; once the role is created, the
//! same restore with `--resume` finishes with `pg_dump --schema-only` equal
//! to the source's.

mod util;

use bru_testsupport::pg::TestServer;
use util::{bru_fails, bru_ok, Dir};

/// Backs up a database made by `sql` (which names role `role`), then drops
/// the database and the role, and restores into a new database: the
/// restore fails naming `what` and the role; with the role created again,
/// `--resume` finishes the restore and the schema is the source's.
fn case(server: &TestServer, dir: &Dir, hint: &str, role: &str, sql: &str, what: &str) {
    server.psql("postgres", &format!("CREATE ROLE {role}"));
    let src = server.create_db(&format!("{hint}_src"));
    server.psql(&src, sql);
    let schema = server.dump_schema(&src);
    let archive = dir.path(&format!("{hint}.db"));
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &server.url(&src), archive, "--quiet"]);
    server.psql("postgres", &format!("DROP DATABASE {src}"));
    server.psql("postgres", &format!("DROP ROLE {role}"));
    let dst = server.create_db(&format!("{hint}_dst"));
    bru_fails(
        &["restore", archive, &server.url(&dst), "--quiet"],
        &[
            what,
            &format!("names role {role}"),
            "create it in the target",
        ],
    );
    server.psql("postgres", &format!("CREATE ROLE {role}"));
    bru_ok(&["restore", archive, &server.url(&dst), "--resume", "--quiet"]);
    assert_eq!(schema, server.dump_schema(&dst), "{hint}");
}

#[test]
fn a_missing_role_stops_the_restore_naming_it() {
    let Some(server) = TestServer::start() else {
        return;
    };
    let dir = Dir::new();
    case(
        &server,
        &dir,
        "policy_role",
        "mr_reader",
        "CREATE TABLE public.t (id integer);
         INSERT INTO public.t VALUES (1);
         ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;
         CREATE POLICY p ON public.t AS RESTRICTIVE FOR SELECT TO mr_reader, CURRENT_USER USING (id > 0);",
        "creating policy public.p",
    );
    case(
        &server,
        &dir,
        "mapping_role",
        "mr_mapped",
        "CREATE TABLE public.t (id integer);
         CREATE FOREIGN DATA WRAPPER mr_w;
         CREATE SERVER mr_s FOREIGN DATA WRAPPER mr_w;
         CREATE USER MAPPING FOR mr_mapped SERVER mr_s OPTIONS (user 'x');",
        "creating user mapping for mr_mapped server mr_s",
    );
}
