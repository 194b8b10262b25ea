//! Cases where two parts of the PostgreSQL fidelity work met (the
//! dependency sort, the new object kinds, the trust rules), each found
//! when they were put together: a table with row-level security and a
//! serial column (the security entry must not be taken for the table, or
//! the sequence goes after it), an extension member's comment (the
//! extension's own, left out as pg_dump does, never refused as a comment
//! on something the archive does not create), and a window function of the
//! target's own (never replaced by the archive's `CREATE OR REPLACE`).

mod util;

use bru_testsupport::pg::TestServer;
use util::{bru_fails, bru_ok, Dir};

#[test]
fn fidelity_parts_work_together() {
    let source = "
        CREATE TABLE public.notes (id serial PRIMARY KEY, body text);
        INSERT INTO public.notes (body) VALUES ('a'), ('b'), ('c');
        ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
        CREATE POLICY mine ON public.notes USING (body <> 'x');
        CREATE FUNCTION public.rn() RETURNS bigint LANGUAGE internal WINDOW
            AS 'window_row_number';
    ";
    let Some((server, src)) = TestServer::start_with_db("merge_src", source) else {
        return;
    };
    // An extension whose type carries a comment, where the server has it.
    let with_cube = server
        .try_psql(&src, "CREATE EXTENSION IF NOT EXISTS cube")
        .is_ok();
    if !with_cube {
        eprintln!("extension cube not installed: its comment case is not run");
    }
    let dir = Dir::new();
    let archive = dir.path("merge.db");
    let a = archive.to_str().unwrap();
    bru_ok(&["backup", &server.url(&src), a, "--quiet"]);
    bru_ok(&["verify", a, "--quiet"]);

    let db = server.create_db("merge_dst");
    bru_ok(&["restore", a, &server.url(&db), "--quiet"]);
    server.assert_same_schema(&src, &db);
    assert_eq!(server.contents(&src), server.contents(&db));
    assert_eq!(
        server.psql(&db, "SELECT nextval('public.notes_id_seq')"),
        "4\n"
    );

    // The target's own window function of the archive's signature stays.
    let db = server.create_db("merge_own");
    server.psql(
        &db,
        "CREATE FUNCTION public.rn() RETURNS bigint LANGUAGE internal WINDOW AS 'window_rank'",
    );
    bru_fails(
        &["restore", a, &server.url(&db), "--quiet"],
        &["window function public.rn()", "already exists"],
    );
    assert_eq!(
        server.psql(&db, "SELECT prosrc FROM pg_proc WHERE proname = 'rn'"),
        "window_rank\n"
    );
}
