//! PostgreSQL large objects carried whole, through the real `bru` binary
//! and one throwaway server per test: several large objects (one empty, one
//! of 10 MB that spans many pieces and chunks, one with its own owner,
//! privileges and comment) round-trip PG → archive → PG with the same
//! contents (md5 per oid), owners, ACLs and comments and an equal
//! `pg_dump -s`; `--schema-only` creates them empty with their owner,
//! privileges and comment and `--data-only` then fills them; a large object
//! the target already has is refused by oid and left alone, and `--clean`
//! unlinks only the archive's own; an edited archive that names an oid it
//! does not create, or adds a statement, is refused before anything runs;
//! a restore killed while writing the pieces resumes to the same objects.

mod util;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bru_testsupport::archive::tamper;
use bru_testsupport::pg::TestServer;
use util::{bru_fails, bru_ok, Dir};

/// Roles (made only when missing: a server given by `BRU_TEST_PG_URL` may
/// have them), a table whose rows hold large object oids, an empty large
/// object, one of 10 MB (330 000 md5 texts), and one with an owner, a grant
/// and a comment.
const SOURCE_SQL: &str = r"
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bru_lo_owner') THEN CREATE ROLE bru_lo_owner; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bru_lo_reader') THEN CREATE ROLE bru_lo_reader; END IF;
END $$;
CREATE TABLE docs (id int PRIMARY KEY, body oid);
INSERT INTO docs VALUES (1, lo_from_bytea(0, 'hello')), (2, lo_from_bytea(0, ''));
INSERT INTO docs VALUES (3, lo_from_bytea(0,
  convert_to((SELECT string_agg(md5(i::text), '' ORDER BY i) FROM generate_series(1, 330000) i), 'UTF8')));
SELECT lo_create(424242);
SELECT lo_put(424242, 0, '\x00ff00fe'::bytea);
ALTER LARGE OBJECT 424242 OWNER TO bru_lo_owner;
COMMENT ON LARGE OBJECT 424242 IS 'a scan, it''s quoted';
GRANT SELECT ON LARGE OBJECT 424242 TO bru_lo_reader;
";

/// Every large object of `db`: oid, owner, ACL, comment, size and md5.
fn large_objects(server: &TestServer, db: &str) -> Vec<String> {
    server
        .psql(
            db,
            "SELECT m.oid, pg_get_userbyid(m.lomowner), coalesce(m.lomacl::text, '-'),
                    coalesce(obj_description(m.oid, 'pg_largeobject'), '-'),
                    length(lo_get(m.oid)), md5(lo_get(m.oid))
               FROM pg_largeobject_metadata m ORDER BY m.oid",
        )
        .lines()
        .map(str::to_owned)
        .collect()
}

/// `state` with every object's contents empty: what `--schema-only` makes.
fn emptied(state: &[String]) -> Vec<String> {
    state
        .iter()
        .map(|line| {
            let mut fields: Vec<&str> = line.split('|').collect();
            let n = fields.len();
            fields[n - 2] = "0";
            fields[n - 1] = "d41d8cd98f00b204e9800998ecf8427e";
            fields.join("|")
        })
        .collect()
}

fn restore(server: &TestServer, archive: &str, db: &str, flags: &[&str]) -> String {
    let url = server.url(db);
    let mut args = vec!["restore", archive, url.as_str()];
    args.extend_from_slice(flags);
    let out = bru_ok(&args);
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn large_objects_round_trip_with_owner_acl_comment_and_contents() {
    let Some((server, src)) = TestServer::start_with_db("lo_src", SOURCE_SQL) else {
        return;
    };
    let source = large_objects(&server, &src);
    assert_eq!(source.len(), 4, "{source:?}");
    assert!(
        source.iter().any(|l| l.contains("|10560000|")),
        "the 10 MB object: {source:?}"
    );
    let dir = Dir::new();
    let archive = dir.path("lo.db");
    let archive = archive.to_str().expect("utf-8 path");
    // 1 MiB chunks: the 10 MB object spans ten or more of them.
    bru_ok(&[
        "backup",
        &server.url(&src),
        archive,
        "--chunk-size",
        "1MiB",
        "--quiet",
    ]);
    bru_ok(&["verify", archive, "--quiet"]);
    let listed = String::from_utf8_lossy(&bru_ok(&["list", archive]).stdout).into_owned();
    // The pieces table shows the bytes (10.56 MB in 11 chunks or more), the
    // objects each large object by oid.
    assert!(listed.contains("pg_catalog.pg_largeobject"), "{listed}");
    assert!(listed.contains("large object 424242"), "{listed}");
    assert!(listed.contains("10.56"), "{listed}");

    // The whole database.
    let dst = server.create_db("lo_dst");
    let text = restore(&server, archive, &dst, &["--jobs", "2"]);
    assert!(!text.contains("skipped"), "{text}");
    assert_eq!(large_objects(&server, &dst), source);
    server.assert_same_schema(&src, &dst);
    assert_eq!(
        server.sorted_rows(&src, "public.docs"),
        server.sorted_rows(&dst, "public.docs")
    );

    // Again into the same database: every large object exists there.
    // --clean unlinks them (and drops the table) and restores them again.
    restore(&server, archive, &dst, &["--clean", "--quiet"]);
    assert_eq!(large_objects(&server, &dst), source);

    // --schema-only: the objects, empty, with owner, ACL and comment; then
    // --data-only fills them.
    let split = server.create_db("lo_split");
    restore(&server, archive, &split, &["--schema-only", "--quiet"]);
    assert_eq!(large_objects(&server, &split), emptied(&source));
    restore(&server, archive, &split, &["--data-only", "--quiet"]);
    assert_eq!(large_objects(&server, &split), source);
    // Now they hold data, which --data-only never writes over.
    let err = bru_fails(
        &["restore", archive, &server.url(&split), "--data-only"],
        &["large object", "already holds data"],
    );
    assert!(err.contains("lo_unlink"), "{err}");
    assert_eq!(large_objects(&server, &split), source);
    // --data-only into a database that lacks one of them.
    let lacking = server.create_db("lo_lacking");
    restore(&server, archive, &lacking, &["--schema-only", "--quiet"]);
    server.psql(&lacking, "SELECT lo_unlink(424242)");
    bru_fails(
        &["restore", archive, &server.url(&lacking), "--data-only"],
        &["large object 424242 does not exist in the target"],
    );

    // A target that already has one of the archive's oids, and one of its
    // own: refused by oid; --clean unlinks the archive's only.
    let clash = server.create_db("lo_clash");
    server.psql(
        &clash,
        "SELECT lo_create(424242); SELECT lo_from_bytea(777, 'the target''s own');",
    );
    let own = large_objects(&server, &clash);
    bru_fails(
        &["restore", archive, &server.url(&clash)],
        &[
            "large object 424242 already exists in the target",
            "--clean",
        ],
    );
    let own_777: Vec<String> = own
        .iter()
        .filter(|l| l.starts_with("777|"))
        .cloned()
        .collect();
    assert!(large_objects(&server, &clash).contains(&own_777[0]));
    let text = restore(&server, archive, &clash, &["--clean"]);
    assert!(text.contains("large object 424242"), "{text}");
    let mut expected = source.clone();
    expected.extend(own_777.clone());
    expected.sort();
    let mut got = large_objects(&server, &clash);
    got.sort();
    assert_eq!(got, expected);

    // A backup of one table leaves the large objects out (as pg_dump -t),
    // each listed as skipped with its owner, grants and comment.
    let only_docs = dir.path("docs.db");
    let only_docs = only_docs.to_str().expect("utf-8 path");
    let out = bru_ok(&["backup", &server.url(&src), only_docs, "--include", "docs"]);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("large object 424242"), "{text}");
    let docs = server.create_db("lo_docs");
    restore(&server, only_docs, &docs, &["--quiet"]);
    assert!(large_objects(&server, &docs).is_empty());
    assert_eq!(
        server.sorted_rows(&src, "public.docs"),
        server.sorted_rows(&docs, "public.docs")
    );

    // Into SQLite: the large objects are PostgreSQL's, listed as skipped
    // by oid; their pieces arrive as a table of (loid, offset, data).
    let file = dir.path("lo.sqlite");
    let out = bru_ok(&["restore", archive, &util::url(&file)]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("written for postgres: large object"),
        "{text}"
    );
    let conn = rusqlite::Connection::open(&file).expect("open the SQLite copy");
    let pieces: (i64, i64) = conn
        .query_row(
            "SELECT count(*), sum(length(data)) FROM pg_largeobject",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("read the pieces");
    assert_eq!(pieces, (43, 10_560_009), "pieces in SQLite");

    hostile_archives_are_refused(&server, archive, &dir);
}

/// Edited archives: an owner, grant or comment on an oid the archive does
/// not create, a large object entry with a second statement or another
/// oid, pieces listing an oid the archive does not create. Each is refused
/// by verify and restore before anything runs, and the target's own large
/// object stays as it was.
fn hostile_archives_are_refused(server: &TestServer, archive: &str, dir: &Dir) {
    let victim = server.create_db("lo_victim");
    server.psql(&victim, "SELECT lo_from_bytea(777, 'the target''s own');");
    let before = large_objects(server, &victim);
    type Edit = fn(&str, &mut serde_json::Value) -> bool;
    let edits: [(&str, Edit); 7] = [
        ("owner of another oid", |what, json| {
            what == "object"
                && json["kind"] == serde_json::json!({"other": "owner"})
                && json["name"]["name"] == "424242"
                && {
                    json["ddl"] = "ALTER LARGE OBJECT 777 OWNER TO bru_lo_owner".into();
                    true
                }
        }),
        ("grant on another oid", |what, json| {
            what == "object"
                && json["kind"] == serde_json::json!({"other": "privileges"})
                && json["name"]["name"] == "424242"
                && {
                    json["ddl"] = "GRANT SELECT, UPDATE ON LARGE OBJECT 777 TO PUBLIC".into();
                    true
                }
        }),
        ("comment on another oid", |what, json| {
            what == "object" && json["kind"] == "comment" && json["name"]["name"] == "424242" && {
                json["ddl"] = "COMMENT ON LARGE OBJECT 777 IS 'mine'".into();
                true
            }
        }),
        ("a second statement", |what, json| {
            what == "object"
                && json["kind"] == serde_json::json!({"other": "large object"})
                && json["name"]["name"] == "424242"
                && {
                    json["ddl"] = "SELECT pg_catalog.lo_create('424242'); \
                                   SELECT pg_catalog.lo_unlink('777')"
                        .into();
                    true
                }
        }),
        ("another function", |what, json| {
            what == "object"
                && json["kind"] == serde_json::json!({"other": "large object"})
                && json["name"]["name"] == "424242"
                && {
                    json["ddl"] = "SELECT pg_catalog.lo_unlink('777')".into();
                    true
                }
        }),
        ("pieces for another oid", |what, json| {
            what == "table" && json["properties"]["postgres.large_objects"].is_string() && {
                let listed = json["properties"]["postgres.large_objects"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                json["properties"]["postgres.large_objects"] = format!("{listed},777").into();
                true
            }
        }),
        ("pieces as a plain catalog table", |what, json| {
            what == "table"
                && json["properties"]
                    .as_object_mut()
                    .and_then(|p| p.remove("postgres.large_objects"))
                    .is_some()
        }),
    ];
    for (i, (what, edit)) in edits.into_iter().enumerate() {
        let copy = dir.path(&format!("hostile-{i}.db"));
        std::fs::copy(archive, &copy).expect("copy the archive");
        tamper(&copy, edit);
        let copy = copy.to_str().expect("utf-8 path");
        let verified = bru_fails(&["verify", copy], &["archive"]);
        let named = |text: &str| text.contains("large object") || text.contains("system schema");
        assert!(named(&verified), "{what}: {verified}");
        let restored = bru_fails(&["restore", copy, &server.url(&victim)], &["archive"]);
        assert!(named(&restored), "{what}: {restored}");
        assert_eq!(large_objects(server, &victim), before, "{what}");
        assert_eq!(
            server.psql(
                &victim,
                "SELECT count(*) FROM pg_class WHERE relname = 'docs'"
            ),
            "0\n",
            "{what}: nothing ran"
        );
    }
}

#[test]
fn a_restore_killed_while_writing_large_objects_resumes_to_the_same_objects() {
    let setup =
        "SELECT lo_from_bytea(0, convert_to((SELECT string_agg(md5((i * k)::text), '' ORDER BY i)
                   FROM generate_series(1, 400000) i), 'UTF8')) FROM generate_series(1, 3) k;";
    let Some((server, src)) = TestServer::start_with_db("lo_resume_src", setup) else {
        return;
    };
    let source = large_objects(&server, &src);
    let dir = Dir::new();
    let archive = dir.path("lo.db");
    let archive = archive.to_str().expect("utf-8 path");
    // Small chunks: one piece (256 KiB) each, some 150 commits.
    bru_ok(&[
        "backup",
        &server.url(&src),
        archive,
        "--chunk-size",
        "64KiB",
        "--quiet",
    ]);
    let dst = server.create_db("lo_resume_dst");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bru"))
        .args(["restore", archive, &server.url(&dst), "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start bru restore");
    let journaled = || {
        server
            .try_psql(
                &dst,
                "SELECT count(*) FROM public._bru_restore_journal WHERE key LIKE 'chunk %'",
            )
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for bru") {
            panic!("the restore ended ({status}) before it could be killed");
        }
        if journaled() >= 5 {
            child.kill().expect("SIGKILL bru");
            child.wait().expect("wait for bru");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(300), "too slow");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_ne!(large_objects(&server, &dst), source, "killed half way");
    restore(&server, archive, &dst, &["--resume", "--quiet"]);
    assert_eq!(large_objects(&server, &dst), source);
}
