//! The restore journal of the SQLite target: each chunk's rows commit with
//! their journal key, rows after the last commit roll back, post-data steps
//! can be repeated, forgotten keys go, and a shared target's workers write
//! to the same file.

use bru_core::{Column, ColumnType, RestoreJournal, RowBatch, TableDef, TableName, Target, Value};
use bru_sqlite::SqliteTarget;
use bru_testsupport::tables::index;
use rusqlite::Connection;

fn table() -> TableDef {
    let mut t = TableDef::new(
        TableName::bare("t"),
        vec![Column::new("id", ColumnType::Int64, "INTEGER")],
    )
    .with_native("sqlite", "CREATE TABLE t (id INTEGER)");
    t.indexes = vec![index("t_id", &["id"], false, "CREATE INDEX t_id ON t (id)")];
    t
}

fn batch(ids: std::ops::Range<i64>) -> RowBatch {
    RowBatch::from_values(1, ids.map(Value::Int64).collect())
}

fn ids(path: &std::path::Path) -> Vec<i64> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn.prepare("SELECT id FROM t ORDER BY id").unwrap();
    let rows = stmt.query_map([], |r| r.get(0)).unwrap();
    rows.map(|r| r.unwrap()).collect()
}

#[test]
fn chunks_commit_with_their_key_and_the_rest_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite");
    let def = table();
    {
        let mut target = SqliteTarget::open(&path).unwrap();
        assert!(target.journal().is_some());
        assert_eq!(target.keys().unwrap(), None, "no journal yet");
        target.mark("archive x").unwrap();
        target.create_table(&def).unwrap();
        let mut loader = target.load(&def).unwrap();
        loader.write_batch(&batch(0..10)).unwrap();
        loader.commit_chunk("chunk 0 of table t").unwrap();
        loader.write_batch(&batch(10..20)).unwrap();
        // Dropped without finish, as when the process dies mid-chunk.
    }
    assert_eq!(ids(&path), (0..10).collect::<Vec<_>>());

    let mut target = SqliteTarget::open(&path).unwrap();
    let mut keys = target.keys().unwrap().expect("a journal");
    keys.sort();
    assert_eq!(keys, ["archive x", "chunk 0 of table t"]);
    // Forgotten keys are gone, the others stay; an unknown key is no error.
    target.mark("loaded table t").unwrap();
    target
        .forget(&[
            "chunk 0 of table t".into(),
            "loaded table t".into(),
            "nope".into(),
        ])
        .unwrap();
    assert_eq!(target.keys().unwrap().expect("a journal"), ["archive x"]);
    target.forget(&[]).unwrap();
    // SQLite keeps what it committed: nothing is ever found emptied.
    assert_eq!(target.emptied(&[TableName::bare("t")]).unwrap(), []);

    // Post-data steps may be repeated on resume.
    target.finish_table(&def).unwrap();
    target.finish_table(&def).unwrap();
    target.clear().unwrap();
    assert_eq!(target.keys().unwrap(), None);
    target.finish().unwrap();
}

#[test]
fn a_shared_target_hands_out_workers_on_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite");
    let def = table();
    let mut single = SqliteTarget::open(&dir.path().join("single.sqlite")).unwrap();
    assert!(
        single.open_worker().unwrap().is_none(),
        "one writer by default"
    );
    single.finish().unwrap();

    let mut main = SqliteTarget::open_shared(&path).unwrap();
    main.create_table(&def).unwrap();
    let mut workers: Vec<_> = (0..3)
        .map(|_| main.open_worker().unwrap().unwrap())
        .collect();
    std::thread::scope(|s| {
        for (i, worker) in workers.iter_mut().enumerate() {
            let def = &def;
            s.spawn(move || {
                let start = i as i64 * 100;
                let mut loader = worker.load(def).unwrap();
                for k in 0..10 {
                    let from = start + k * 10;
                    loader.write_batch(&batch(from..from + 10)).unwrap();
                    loader.commit_chunk(&format!("chunk {from}")).unwrap();
                }
                assert_eq!(loader.finish().unwrap(), 100);
            });
        }
    });
    drop(workers);
    assert_eq!(main.keys().unwrap().unwrap().len(), 30);
    main.clear().unwrap();
    main.finish().unwrap();
    drop(main);
    assert_eq!(ids(&path), (0..300).collect::<Vec<_>>());
}
