//! One snapshot for the whole backup, shared by extra connections.

use bru_core::{BatchLimits, Source, Value};
use bru_postgres::PgSource;
use bru_testsupport::pg::TestServer;

fn total(src: &mut PgSource, table: &bru_core::TableDef) -> (i64, usize) {
    let mut sum = 0i64;
    let mut rows = 0usize;
    src.read_table(
        table,
        BatchLimits {
            max_rows: 100,
            max_bytes: 1 << 20,
        },
        &mut |b| {
            for r in b.rows() {
                rows += 1;
                if let Value::Int64(v) = r[1] {
                    sum += v;
                }
            }
            Ok(())
        },
    )
    .expect("read");
    (sum, rows)
}

#[test]
fn readers_share_one_snapshot_while_writers_go_on() {
    let Some((server, db)) = TestServer::start_with_db(
        "snap",
        "CREATE TABLE accounts (id integer PRIMARY KEY, amount bigint NOT NULL);
         INSERT INTO accounts SELECT g, 1000 FROM generate_series(1, 500) g;",
    ) else {
        return;
    };
    let url = server.url(&db);
    let mut first = PgSource::open(&url).expect("open");
    let catalog = first.catalog().expect("catalog");
    let table = catalog
        .tables
        .iter()
        .find(|t| t.name.name == "accounts")
        .expect("accounts in the catalog")
        .clone();
    // Money moves and rows arrive after the snapshot was taken.
    server.psql(
        &db,
        "UPDATE accounts SET amount = amount - 300 WHERE id = 1;
         UPDATE accounts SET amount = amount + 300 WHERE id = 2;
         INSERT INTO accounts VALUES (501, 7);
         DELETE FROM accounts WHERE id = 3;",
    );
    let mut second =
        PgSource::open_with_snapshot(&url, first.snapshot_id()).expect("join the snapshot");
    assert_eq!(total(&mut first, &table), (500_000, 500));
    assert_eq!(total(&mut second, &table), (500_000, 500));
    // A fresh snapshot sees the changes.
    let mut fresh = PgSource::open(&url).expect("open");
    assert_eq!(total(&mut fresh, &table), (500_000 - 1000 + 7, 500));
    // A snapshot that does not exist is a clear error.
    let err = PgSource::open_with_snapshot(&url, "00000003-0000001B-1")
        .err()
        .expect("unknown snapshot is refused");
    assert!(err.to_string().contains("snapshot"), "{err}");
}
