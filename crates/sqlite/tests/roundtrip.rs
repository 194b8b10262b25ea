//! A SQLite database holding every edge case, restored into a new file
//! through SqliteSource and SqliteTarget, then compared cell by cell (storage
//! class and exact value) and statement by statement.

mod common;

use std::path::Path;

use bru_core::{
    BatchLimits, ColumnType, FkAction, IdentityKind, ObjectKind, ObjectOutcome, Source, TableName,
};
use bru_sqlite::SqliteSource;
use bru_testsupport::sqlite::{run_sql, table_rows};
use common::{restore, schema, tables};
use rusqlite::types::Value as V;
use rusqlite::{params, Connection};

const SCHEMA: &str = r#"
CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE child (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE ON UPDATE SET NULL
        DEFERRABLE INITIALLY DEFERRED,
    qty INT CONSTRAINT qty_pos CHECK (qty >= 0),
    price DECIMAL(10,2) DEFAULT 0,
    note VARCHAR(20) COLLATE NOCASE,
    total REAL GENERATED ALWAYS AS (qty * price) STORED,
    label TEXT AS (upper(note)) VIRTUAL,
    CHECK (length(note) <= 20)
);
CREATE TABLE vals (v, r REAL, i INTEGER, t TEXT, b BLOB);
CREATE TABLE pairs (a TEXT, b INTEGER, payload BLOB, PRIMARY KEY (a, b)) WITHOUT ROWID;
CREATE TABLE strict_t (id INTEGER PRIMARY KEY, x ANY, y TEXT) STRICT;
CREATE TABLE "we""ird name" ("select" TEXT, "a b" INTEGER, CONSTRAINT u_sel UNIQUE ("select", "a b"));
CREATE TABLE no_pk (a DATE, b DATETIME, c BOOLEAN, d UUID, e JSON);
CREATE UNIQUE INDEX child_note_u ON child (note) WHERE note IS NOT NULL;
CREATE INDEX child_expr ON child (lower(note), qty DESC);
CREATE INDEX vals_i ON vals (i);
CREATE VIEW v_child AS SELECT c.id, p.name FROM child c JOIN parent p ON p.id = c.parent_id;
CREATE VIEW v_v AS SELECT * FROM v_child WHERE id > 1;
CREATE TRIGGER child_ai AFTER INSERT ON child
BEGIN
    UPDATE parent SET name = name || '!' WHERE id = NEW.parent_id;
END;
"#;

fn build_source(path: &Path) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    conn.execute_batch(
        "INSERT INTO parent VALUES (1, 'one'), (2, 'two'), (10, 'ten');
         INSERT INTO child (parent_id, qty, price, note) VALUES (1, 2, 1.25, 'a'), (2, 0, 3, NULL),
                (10, 7, '9.99', 'Zed'), (1, 1, 1, 'gone');
         DELETE FROM child WHERE note = 'gone';",
    )
    .unwrap();
    // A row that breaks a CHECK must still restore exactly (SQLite lets a
    // database hold one when checks were off).
    conn.execute_batch(
        "PRAGMA ignore_check_constraints = ON;
         INSERT INTO child (parent_id, qty, price, note) VALUES (2, -5, 0.5, 'bad');
         PRAGMA ignore_check_constraints = OFF;",
    )
    .unwrap();
    let mut ins = conn
        .prepare("INSERT INTO vals (v, r, i, t, b) VALUES (?1, ?2, ?3, ?4, ?5)")
        .unwrap();
    let rows: Vec<[V; 5]> = vec![
        [
            V::Integer(i64::MIN),
            V::Real(f64::INFINITY),
            V::Integer(i64::MIN),
            V::Text(String::new()),
            V::Blob(vec![]),
        ],
        [
            V::Integer(i64::MAX),
            V::Real(f64::NEG_INFINITY),
            V::Integer(i64::MAX),
            V::Null,
            V::Null,
        ],
        [
            V::Real(-0.0),
            V::Real(-0.0),
            V::Integer(0),
            V::Text("nul\0inside".into()),
            V::Blob(vec![0, 0xff, 0]),
        ],
        [
            V::Real(f64::INFINITY),
            V::Real(5e-324),
            V::Null,
            V::Text("héllo ✓ 日本 🎉".into()),
            V::Text("text in a blob column".into()),
        ],
        [
            V::Text("nul\0".into()),
            V::Real(1.5),
            V::Real(2.5),
            V::Text("007".into()),
            V::Integer(42),
        ],
        [
            V::Blob(vec![]),
            V::Real(f64::MAX),
            V::Text("not a number".into()),
            V::Integer(7),
            V::Real(0.1),
        ],
        [V::Null, V::Null, V::Null, V::Null, V::Blob(vec![1])],
        [
            V::Text(String::new()),
            V::Real(-1e-300),
            V::Integer(-1),
            V::Real(0.30000000000000004),
            V::Text(String::new()),
        ],
    ];
    for r in &rows {
        ins.execute(params![r[0], r[1], r[2], r[3], r[4]]).unwrap();
    }
    conn.execute_batch(
        "INSERT INTO pairs VALUES ('b', 2, x''), ('a', 9, NULL), ('a', 1, x'00'), ('', -3, x'ff');
         INSERT INTO strict_t VALUES (1, 1, 'x'), (2, 1.5, 'y'), (3, 'text', NULL), (4, x'01', ''),
                (5, NULL, 'z');
         INSERT INTO \"we\"\"ird name\" VALUES ('from', 1), (NULL, NULL);
         INSERT INTO no_pk VALUES ('2024-02-29', '2024-02-29 12:34:56.789', 1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"k\": [1, 2]}'),
                (20240229, 1709210096, 0, x'a0eebc999c0b4ef8bb6d6bb9bd380a11', '123');",
    )
    .unwrap();
}

#[test]
fn every_edge_case_round_trips_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("source.sqlite");
    let dst = dir.path().join("restored.sqlite");
    build_source(&src);

    let limits = BatchLimits {
        max_rows: 3,
        max_bytes: 1 << 20,
    };
    let restored = restore(&src, &dst, limits).unwrap();
    assert!(restored
        .outcomes
        .iter()
        .all(|o| *o == ObjectOutcome::Created));
    let loaded: u64 = restored.rows.iter().sum();
    // parent 3, child 4, vals 8, pairs 4, strict_t 5, weird 2, no_pk 2.
    assert_eq!(loaded, 28);
    // vals (8 rows) and strict_t (5 rows) needed more than one batch of 3.
    assert!(restored.batches >= 12, "{} batches", restored.batches);

    let a = Connection::open(&src).unwrap();
    let b = Connection::open(&dst).unwrap();
    assert_eq!(schema(&a), schema(&b));
    assert_eq!(tables(&a), tables(&b));
    for t in tables(&a) {
        let rows = table_rows(&a, &t);
        assert!(!rows.is_empty(), "{t} has rows");
        assert_eq!(rows, table_rows(&b, &t), "table {t}");
    }
    // The trigger fired once per child row in the source; it was created
    // after the rows in the target, so it did not fire a second time.
    let names: Vec<String> = b
        .prepare("SELECT name FROM parent ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(names, ["one!!", "two!!", "ten!"]);
    // The restored file is an ordinary, healthy database.
    let mode: String = b
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
    // integrity_check also reports the row that breaks a CHECK, in both.
    let integrity = |c: &Connection| -> Vec<String> {
        c.prepare("PRAGMA integrity_check")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(integrity(&b), ["CHECK constraint failed in child"]);
    assert_eq!(integrity(&a), integrity(&b));
    let fk_violations = |c: &Connection| -> i64 {
        c.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap()
    };
    assert_eq!(fk_violations(&a), fk_violations(&b));
    // AUTOINCREMENT continues after the deleted row's id, as in the source.
    b.execute("INSERT INTO child (parent_id, qty) VALUES (1, 1)", [])
        .unwrap();
    let next: i64 = b
        .query_row("SELECT max(id) FROM child", [], |r| r.get(0))
        .unwrap();
    assert_eq!(next, 6);
}

/// What SQLite keeps of -0.0 depends on the column: a REAL column stores an
/// integral real as an integer on disk and reads back +0.0, while a column
/// without a type keeps the sign. bru reproduces whichever the source holds.
#[test]
fn negative_zero_is_kept_where_sqlite_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("s.sqlite");
    build_source(&src);
    let mut source = SqliteSource::open(&src).unwrap();
    let catalog = source.catalog().unwrap();
    let vals = catalog
        .tables
        .iter()
        .find(|t| t.name.name == "vals")
        .unwrap();
    let mut third_row = Vec::new();
    source
        .read_table(vals, BatchLimits::default(), &mut |b| {
            third_row = b.row(2).to_vec();
            Ok(())
        })
        .unwrap();
    let bits = |v: &bru_core::Value| match v {
        bru_core::Value::Float64(f) => f.to_bits(),
        other => panic!("not a real: {other:?}"),
    };
    assert_eq!(
        bits(&third_row[0]),
        (-0.0f64).to_bits(),
        "untyped column keeps -0.0"
    );
    assert_eq!(
        bits(&third_row[1]),
        0.0f64.to_bits(),
        "REAL column holds +0.0"
    );
}

#[test]
fn catalog_describes_keys_constraints_and_objects() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("s.sqlite");
    build_source(&src);
    run_sql(
        &src,
        "CREATE VIRTUAL TABLE docs USING fts5 (body);
             CREATE VIRTUAL TABLE bare USING fts5 (body, content='');",
    );
    let mut source = SqliteSource::open(&src).unwrap();
    let info = source.info();
    assert_eq!(info.engine, "sqlite");
    assert_eq!(info.database, "s.sqlite");
    assert_eq!(info.version, rusqlite::version());
    let catalog = source.catalog().unwrap();
    let names: Vec<&str> = catalog
        .tables
        .iter()
        .map(|t| t.name.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "parent",
            "child",
            "vals",
            "pairs",
            "strict_t",
            "we\"ird name",
            "no_pk",
            "docs"
        ],
        "no sqlite_sequence, no FTS shadow tables; the FTS table's rows are carried"
    );
    let table = |n: &str| catalog.tables.iter().find(|t| t.name.name == n).unwrap();

    let parent = table("parent");
    assert_eq!(parent.primary_key.as_ref().unwrap().columns, ["id"]);
    assert_eq!(parent.uniques.len(), 1);
    assert_eq!(parent.uniques[0].columns, ["name"]);
    assert_eq!(
        parent.columns[0].identity.as_ref().unwrap().kind,
        IdentityKind::ByDefault
    );
    assert!(!parent.columns[0].nullable && !parent.columns[1].nullable);

    let child = table("child");
    let id = &child.columns[0];
    let identity = id.identity.as_ref().unwrap();
    assert_eq!(identity.kind, IdentityKind::Autoincrement);
    assert_eq!(identity.last_value, Some(5));
    let col = |n: &str| child.columns.iter().find(|c| c.name == n).unwrap();
    assert_eq!(col("qty").ty, ColumnType::Int64);
    assert_eq!(
        col("price").ty,
        ColumnType::Decimal {
            precision: Some(10),
            scale: Some(2)
        }
    );
    assert_eq!(col("price").native_type, "DECIMAL(10,2)");
    assert_eq!(col("price").default.as_deref(), Some("0"));
    assert_eq!(
        col("note").ty,
        ColumnType::Text {
            max_len: Some(20),
            fixed: false,
            national: false
        }
    );
    let total = col("total").generated.as_ref().unwrap();
    assert_eq!((total.expr.as_str(), total.stored), ("qty * price", true));
    let label = col("label").generated.as_ref().unwrap();
    assert_eq!((label.expr.as_str(), label.stored), ("upper(note)", false));
    assert_eq!(child.checks.len(), 2);
    assert_eq!(child.checks[0].name.as_deref(), Some("qty_pos"));
    assert_eq!(child.checks[0].expr, "qty >= 0");
    assert_eq!(child.checks[1].expr, "length(note) <= 20");
    let fk = &child.foreign_keys[0];
    assert_eq!(fk.columns, ["parent_id"]);
    assert_eq!(fk.ref_table, TableName::bare("parent"));
    assert_eq!(fk.ref_columns, ["id"]);
    assert_eq!(
        (fk.on_delete, fk.on_update),
        (FkAction::Cascade, FkAction::SetNull)
    );
    assert!(fk.deferrable && fk.initially_deferred);
    assert_eq!(child.indexes.len(), 2);
    let partial = &child.indexes[0];
    assert_eq!(partial.name, "child_note_u");
    assert!(partial.unique);
    assert_eq!(partial.columns, ["note"]);
    assert_eq!(partial.predicate.as_deref(), Some("note IS NOT NULL"));
    assert!(partial
        .native_ddl
        .as_deref()
        .unwrap()
        .starts_with("CREATE UNIQUE INDEX child_note_u"));
    let expr = &child.indexes[1];
    assert_eq!(expr.columns, ["lower(note)", "qty"]);
    assert!(!expr.unique && expr.predicate.is_none());
    let native = child.native.as_ref().unwrap();
    assert_eq!(native.engine, "sqlite");
    assert!(native.create.starts_with("CREATE TABLE child ("));

    let pairs = table("pairs");
    assert_eq!(pairs.property("sqlite.without_rowid"), Some("true"));
    assert_eq!(pairs.primary_key.as_ref().unwrap().columns, ["a", "b"]);
    assert!(pairs.columns[0].identity.is_none());
    assert!(!pairs.columns[0].nullable);
    let strict = table("strict_t");
    assert_eq!(strict.property("sqlite.strict"), Some("true"));
    assert_eq!(
        strict.columns[1].ty,
        ColumnType::Native { name: "ANY".into() }
    );
    let weird = table("we\"ird name");
    assert_eq!(weird.uniques[0].name.as_deref(), Some("u_sel"));
    assert_eq!(weird.uniques[0].columns, ["select", "a b"]);
    let no_pk = table("no_pk");
    let types: Vec<&ColumnType> = no_pk.columns.iter().map(|c| &c.ty).collect();
    assert_eq!(
        types,
        [
            &ColumnType::Date,
            &ColumnType::Timestamp {
                tz: false,
                precision: None
            },
            &ColumnType::Bool,
            &ColumnType::Uuid,
            &ColumnType::Json { binary: false }
        ]
    );
    assert!(no_pk.primary_key.is_none());

    let objects: Vec<(String, &str, Option<&str>)> = catalog
        .objects
        .iter()
        .map(|o| {
            assert_eq!(o.engine, "sqlite");
            (
                o.kind.to_string(),
                o.name.name.as_str(),
                o.table.as_ref().map(|t| t.name.as_str()),
            )
        })
        .collect();
    assert_eq!(
        objects,
        [
            ("view".to_owned(), "v_child", None),
            ("view".to_owned(), "v_v", None),
            ("trigger".to_owned(), "child_ai", Some("child")),
            ("full-text index".to_owned(), "docs", Some("docs")),
            ("virtual table".to_owned(), "bare", None),
        ]
    );
    // Virtual table content is backed up: the FTS table is a table whose
    // native DDL recreates it, with its rowid as a first column.
    let docs = table("docs");
    assert_eq!(docs.property("sqlite.virtual_module"), Some("fts5"));
    assert_eq!(docs.property("sqlite.rowid_column"), Some("rowid"));
    let names: Vec<&str> = docs.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["rowid", "body"]);
    assert!(docs.native.as_ref().unwrap().create.contains("fts5"));
    // A contentless FTS table has no rows to read: it stays DDL only.
    let bare = catalog.objects.last().unwrap();
    assert_eq!(bare.kind, ObjectKind::VirtualTable);
    assert!(bare.ddl.contains("content=''"));
}
