//! `bru_engine::compare`: a restored database compares equal with its
//! archive, and one changed value, one missing row or one extra row is
//! found and named.

mod common;

use bru_engine::{Error, RestoreMode};
use bru_sqlite::SqliteSource;
use common::*;

#[test]
fn a_restore_compares_equal_and_any_change_is_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = fixture(dir.path());
    let archive = dir.path().join("backup.db");
    let restored = dir.path().join("restored.sqlite");
    backup(&source, &archive, &backup_options()).expect("backup");
    restore(&archive, &restored, &restore_options(RestoreMode::Full)).expect("restore");

    let compare = || {
        let mut database = SqliteSource::open(&restored).expect("open restored");
        bru_engine::compare(&archive, &mut database)
    };
    let matches = compare().expect("a fresh restore compares equal");
    let conn = open(&source);
    assert_eq!(matches.len(), tables(&conn).len());
    for m in &matches {
        assert_eq!(m.rows, row_count(&conn, &m.table) as u64, "{}", m.table);
    }

    let changes = [
        "UPDATE agents SET last_name = last_name || 'x' WHERE rowid = (SELECT min(rowid) FROM agents)",
        "DELETE FROM agents WHERE rowid = (SELECT max(rowid) FROM agents)",
    ];
    for change in changes {
        let before = std::fs::read(&restored).expect("read restored");
        open(&restored).execute_batch(change).expect(change);
        match compare() {
            Err(Error::Differs { table, .. }) => assert_eq!(table, "agents", "{change}"),
            other => panic!("{change}: expected a difference in agents, got {other:?}"),
        }
        std::fs::write(&restored, before).expect("put the restore back");
        compare().expect("the restore put back compares equal again");
    }
}
