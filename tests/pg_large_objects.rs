//! PostgreSQL large objects are not carried yet: each one is listed by its
//! oid as not carried (with its owner, privileges and comment) by the
//! restore, never lost without a word, and the rest of the database is
//! restored as usual.

mod util;

use bru_testsupport::pg::TestServer;
use util::{bru_ok, Dir};

#[test]
fn each_large_object_is_listed_as_not_carried_by_oid() {
    let setup = "CREATE ROLE bru_lo_reader;
        CREATE TABLE docs (id int PRIMARY KEY, body oid);
        INSERT INTO docs VALUES (1, lo_from_bytea(0, 'hello')), (2, lo_from_bytea(0, ''));
        SELECT lo_create(424242);
        COMMENT ON LARGE OBJECT 424242 IS 'a scan';
        GRANT SELECT ON LARGE OBJECT 424242 TO bru_lo_reader;";
    let Some((server, src)) = TestServer::start_with_db("lo_src", setup) else {
        return;
    };
    let oids: Vec<String> = server
        .psql(&src, "SELECT oid FROM pg_largeobject_metadata ORDER BY oid")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(oids.len(), 3, "{oids:?}");
    let dir = Dir::new();
    let archive = dir.path("lo.db");
    let archive = archive.to_str().expect("utf-8 path");
    bru_ok(&["backup", &server.url(&src), archive, "--quiet"]);
    bru_ok(&["verify", archive, "--quiet"]);

    let dst = server.create_db("lo_dst");
    let out = bru_ok(&["restore", archive, &server.url(&dst)]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    for oid in &oids {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("large object {oid}")))
            .unwrap_or_else(|| panic!("large object {oid} is not listed:\n{text}"));
        assert!(
            line.starts_with("skipped") && line.contains("not carried"),
            "{line}"
        );
    }
    let scan = text
        .lines()
        .find(|l| l.contains("large object 424242 ("))
        .expect("listed");
    assert!(
        scan.contains("privileges") && scan.contains("a comment") && scan.contains("owner"),
        "{scan}"
    );
    // The table itself is restored, with the oids it held.
    assert_eq!(
        server.sorted_rows(&src, "public.docs"),
        server.sorted_rows(&dst, "public.docs")
    );
    assert_eq!(
        server.psql(&dst, "SELECT count(*) FROM pg_largeobject_metadata"),
        "0\n"
    );
}
