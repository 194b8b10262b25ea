//! The trait methods a planned, parallel, resumable restore and backup call:
//! ctid-range parts read by several readers on one snapshot, the restore
//! journal with chunks committed together with their keys, idempotent
//! post-data steps on resume, worker sessions, COPY FREEZE, triggers kept
//! off during loads into existing tables, transient errors and reconnects.

use std::collections::BTreeSet;

use bru_core::{
    BatchLimits, ObjectOutcome, RestoreJournal, RowBatch, Source, TableDef, Target, Value,
};
use bru_postgres::{PgSource, PgTarget};
use bru_testsupport::pg::TestServer;

const LIMITS: BatchLimits = BatchLimits {
    max_rows: 5000,
    max_bytes: 1 << 20,
};

fn table(src: &mut PgSource, name: &str) -> TableDef {
    src.catalog()
        .expect("catalog")
        .tables
        .into_iter()
        .find(|t| t.name.name == name)
        .unwrap_or_else(|| panic!("{name} in the catalog"))
}

/// The ids (first column, bigint) read from one part.
fn ids(src: &mut dyn Source, t: &TableDef, part: &bru_core::TablePart) -> Vec<i64> {
    let mut out = Vec::new();
    src.read_table_part(t, part, LIMITS, &mut |b| {
        for r in b.rows() {
            match r[0] {
                Value::Int64(v) => out.push(v),
                ref v => panic!("unexpected id {v:?}"),
            }
        }
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    out
}

#[test]
fn page_ranges_read_by_several_readers_hold_every_row_once() {
    let Some((server, db)) = TestServer::start_with_db(
        "split",
        "CREATE TABLE big (id bigint, pad text);
         INSERT INTO big SELECT g, repeat('x', 200) FROM generate_series(1, 120000) g;
         DELETE FROM big WHERE id % 7 = 0;",
    ) else {
        return;
    };
    let url = server.url(&db);
    let mut src = PgSource::open(&url).expect("open");
    let t = table(&mut src, "big");
    // Rows written after the snapshot, some on new pages past the split.
    server.psql(
        &db,
        "INSERT INTO big SELECT g, repeat('y', 200) FROM generate_series(200001, 230000) g;
         UPDATE big SET id = -id WHERE id < 100;",
    );
    let parts = src.split_table(&t, 3).expect("split");
    assert_eq!(parts.len(), 3, "{parts:?}");
    assert!(parts
        .last()
        .and_then(|p| p.filter.as_deref())
        .is_some_and(|f| !f.contains('<')));
    let mut seen = Vec::new();
    for p in &parts {
        let mut reader = src
            .open_reader()
            .expect("reader")
            .expect("postgres has readers");
        seen.extend(ids(reader.as_mut(), &t, p));
    }
    let unique: BTreeSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "a row was read twice");
    let expected: BTreeSet<i64> = (1..=120000).filter(|i| i % 7 != 0).collect();
    assert_eq!(unique, expected);

    // Small tables, and parts the source did not make, stay whole / refused.
    server.psql(&db, "CREATE TABLE small (id bigint)");
    let mut src = PgSource::open(&url).expect("open");
    let small = table(&mut src, "small");
    assert_eq!(
        src.split_table(&small, 4).expect("split"),
        vec![bru_core::TablePart::whole()]
    );
    let forged = bru_core::TablePart {
        label: "forged".into(),
        filter: Some("true; DROP TABLE big".into()),
    };
    assert!(src
        .read_table_part(&small, &forged, LIMITS, &mut |_| Ok(()))
        .is_err());
}

fn batch(from: i64, to: i64) -> RowBatch {
    let mut b = RowBatch::new(2);
    for i in from..to {
        b.push_row([Value::Int64(i), Value::Text(format!("row {i}"))]);
    }
    b
}

#[test]
fn interrupted_restore_resumes_from_its_journal() {
    let Some((server, src_db)) = TestServer::start_with_db("jsrc", "CREATE TABLE parent (id bigint PRIMARY KEY, note text);
         CREATE TABLE child (id bigint PRIMARY KEY, parent_id bigint REFERENCES parent(id), note text);
         CREATE INDEX child_note ON child (note);
         CREATE VIEW parent_notes AS SELECT note FROM parent;") else {
        return;
    };
    let mut src = PgSource::open(&server.url(&src_db)).expect("open");
    let catalog = src.catalog().expect("catalog");
    let parent = catalog
        .tables
        .iter()
        .find(|t| t.name.name == "parent")
        .expect("parent");
    let child = catalog
        .tables
        .iter()
        .find(|t| t.name.name == "child")
        .expect("child");
    let view = catalog
        .objects
        .iter()
        .find(|o| o.name.name == "parent_notes")
        .expect("view");

    let db = server.create_db("jdst");
    let url = server.url(&db);
    {
        let mut target = PgTarget::open(&url).expect("open");
        assert!(target.journal().is_some());
        assert_eq!(target.keys().expect("keys"), None);
        target.create_table(parent).expect("create");
        target.create_table(child).expect("create");
        target.mark("create parent").expect("mark");
        let mut loader = target.load(parent).expect("load");
        loader.write_batch(&batch(1, 1001)).expect("write");
        loader.commit_chunk("parent/0").expect("commit");
        loader.write_batch(&batch(1001, 2001)).expect("write");
        // The restore dies here: the second chunk is not committed.
        drop(loader);
    }
    assert_eq!(server.psql(&db, "SELECT count(*) FROM parent"), "1000\n");

    let mut target = PgTarget::open(&url).expect("reopen");
    let keys = target.keys().expect("keys").expect("a journal");
    assert_eq!(
        keys.into_iter().collect::<BTreeSet<_>>(),
        ["create parent", "parent/0"]
            .map(String::from)
            .into_iter()
            .collect()
    );
    let mut loader = target.load(parent).expect("load");
    loader.write_batch(&batch(1001, 2001)).expect("write");
    loader.commit_chunk("parent/1").expect("commit");
    assert_eq!(loader.finish().expect("finish"), 1000);
    let mut loader = target.load(child).expect("load");
    let mut rows = RowBatch::new(3);
    rows.push_row([Value::Int64(1), Value::Int64(5), Value::Null]);
    loader.write_batch(&rows).expect("write");
    loader.commit_chunk("child/0").expect("commit");
    assert_eq!(loader.finish().expect("finish"), 1);
    // Post-data steps run twice (done before the crash, then again on
    // resume) leave one of each.
    for _ in 0..2 {
        for t in [parent, child] {
            target.finish_table(t).expect("finish table");
        }
        target.add_foreign_keys(child).expect("foreign keys");
        assert_eq!(
            target.create_object(view).expect("view"),
            ObjectOutcome::Created
        );
    }
    target.finish().expect("finish");
    assert_eq!(
        server.psql(&db, "SELECT count(*), sum(id) FROM parent"),
        "2000|2001000\n"
    );
    assert_eq!(
        server.psql(
            &db,
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'child'::regclass"
        ),
        "2\n"
    );
    assert_eq!(
        server.psql(
            &db,
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'child'"
        ),
        "2\n"
    );
    target.clear().expect("clear");
    assert_eq!(target.keys().expect("keys"), None);
    assert_eq!(
        server.psql(
            &db,
            "SELECT count(*) FROM pg_class WHERE relname = '_bru_restore_journal'"
        ),
        "0\n"
    );
}

#[test]
fn workers_load_one_table_together_and_the_first_load_is_frozen() {
    let Some((server, src_db)) = TestServer::start_with_db(
        "wsrc",
        "CREATE TABLE t (id bigint, note text); CREATE TABLE f (id bigint, note text)",
    ) else {
        return;
    };
    let mut src = PgSource::open(&server.url(&src_db)).expect("open");
    let t = table(&mut src, "t");
    let f = table(&mut src, "f");
    let db = server.create_db("wdst");
    server.psql(&db, "CREATE EXTENSION pg_visibility");
    let mut target = PgTarget::open(&server.url(&db)).expect("open");
    target.create_table(&t).expect("create");
    target.create_table(&f).expect("create");

    // A table loaded by one session in one go is written frozen.
    let mut loader = target.load(&f).expect("load");
    loader.write_batch(&batch(0, 20000)).expect("write");
    assert_eq!(loader.finish().expect("finish"), 20000);
    assert_eq!(
        server.psql(
            &db,
            "SELECT bool_and(all_frozen) FROM pg_visibility_map('public.f')"
        ),
        "t\n"
    );

    // Four sessions load parts of one table at once, committing chunks.
    let workers: Vec<_> = (0..4)
        .map(|_| {
            target
                .open_worker()
                .expect("worker")
                .expect("postgres has workers")
        })
        .collect();
    std::thread::scope(|s| {
        for (w, mut worker) in workers.into_iter().enumerate() {
            let t = &t;
            s.spawn(move || {
                let mut loader = worker.load(t).expect("load");
                for c in 0..5i64 {
                    let from = (w as i64 * 5 + c) * 1000;
                    loader
                        .write_batch(&batch(from, from + 1000))
                        .expect("write");
                    loader.commit_chunk(&format!("t/{w}/{c}")).expect("commit");
                }
                assert_eq!(loader.finish().expect("finish"), 5000);
            });
        }
    });
    assert_eq!(
        server.psql(&db, "SELECT count(*), count(DISTINCT id), sum(id) FROM t"),
        "20000|20000|199990000\n"
    );
    assert_eq!(
        server.psql(&db, "SELECT count(*) FROM public._bru_restore_journal"),
        "20\n"
    );
}

#[test]
fn loads_into_existing_tables_do_not_fire_triggers() {
    let Some((server, db)) = TestServer::start_with_db(
        "trg",
        "CREATE TABLE t (id bigint, note text);
         CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'trigger fired'; END $$;
         CREATE TRIGGER no_rows BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION refuse();
         CREATE TRIGGER always_on BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION refuse();
         ALTER TABLE t ENABLE ALWAYS TRIGGER always_on;
         CREATE TRIGGER off BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION refuse();
         ALTER TABLE t DISABLE TRIGGER off;",
    ) else {
        return;
    };
    let mut src = PgSource::open(&server.url(&db)).expect("open");
    let t = table(&mut src, "t");
    let mut target = PgTarget::open(&server.url(&db)).expect("open");
    target.check_table(&t).expect("check");
    let mut loader = target.load(&t).expect("load");
    loader.write_batch(&batch(0, 10)).expect("write");
    loader.commit_chunk("t/0").expect("commit");
    loader.write_batch(&batch(10, 20)).expect("write");
    assert_eq!(loader.finish().expect("finish"), 20);
    assert_eq!(server.psql(&db, "SELECT count(*) FROM t"), "20\n");
    // Every trigger is back in the state it was in.
    assert_eq!(
        server.psql(
            &db,
            "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 't'::regclass ORDER BY 1"
        ),
        "always_on|A\nno_rows|O\noff|D\n"
    );
    assert!(server
        .try_psql(&db, "INSERT INTO t VALUES (1, 'x')")
        .is_err());
}

#[test]
fn a_restarted_server_is_a_transient_error_and_the_session_reconnects() {
    let Some(server) = TestServer::start() else {
        return;
    };
    if !server.is_local() {
        return;
    }
    let db = server.create_db("restart");
    server.psql(&db, "CREATE TABLE t (id bigint, note text)");
    let mut src = PgSource::open(&server.url(&db)).expect("open");
    let t = table(&mut src, "t");
    drop(src);
    let mut target = PgTarget::open(&server.url(&db)).expect("open");
    let mut loader = target.load(&t).expect("load");
    loader.write_batch(&batch(0, 10)).expect("write");
    loader.commit_chunk("t/0").expect("commit");
    loader.write_batch(&batch(10, 20)).expect("write");
    server.restart();
    let err = loader
        .commit_chunk("t/1")
        .expect_err("the server went away mid-load");
    drop(loader);
    assert!(err.is_transient(), "{err}");
    // The retried step runs on a new connection.
    let mut loader = target.load(&t).expect("load after the restart");
    loader.write_batch(&batch(10, 20)).expect("write");
    loader.commit_chunk("t/1").expect("commit");
    assert_eq!(loader.finish().expect("finish"), 10);
    assert_eq!(server.psql(&db, "SELECT count(*) FROM t"), "20\n");
    assert!(
        !bru_core::Error::engine("x", "relation does not exist [SQLSTATE 42P01]").is_transient()
    );
}
