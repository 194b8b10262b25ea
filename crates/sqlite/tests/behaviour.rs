//! Snapshot isolation, loud failures, and the target's table management.

mod common;

use bru_core::{
    BatchLimits, Column, ColumnType, Dropped, Error, Interval, ObjectDef, ObjectKind,
    ObjectOutcome, RowBatch, Source, TableDef, TableName, Target, Value,
};
use bru_sqlite::{SqliteSource, SqliteTarget};
use bru_testsupport::sqlite::{cell, run_sql, table_rows};
use bru_testsupport::tables::column;
use rusqlite::Connection;

fn read_all(source: &mut SqliteSource, table: &TableDef) -> bru_core::Result<Vec<Vec<Value>>> {
    let mut rows = Vec::new();
    source.read_table(table, BatchLimits::default(), &mut |b| {
        rows.extend(b.rows().map(<[Value]>::to_vec));
        Ok(())
    })?;
    Ok(rows)
}

#[test]
fn the_source_reads_one_snapshot_while_another_connection_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.sqlite");
    let writer = Connection::open(&path).unwrap();
    writer
        .execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
             INSERT INTO t (v) VALUES ('a'), ('b');",
        )
        .unwrap();

    let mut source = SqliteSource::open(&path).unwrap();
    writer
        .execute_batch("INSERT INTO t (v) VALUES ('c'); CREATE TABLE later (x);")
        .unwrap();
    let catalog = source.catalog().unwrap();
    assert_eq!(
        catalog.tables.len(),
        1,
        "a table created after open is not seen"
    );
    writer.execute("DELETE FROM t WHERE v = 'a'", []).unwrap();
    let rows = read_all(&mut source, &catalog.tables[0]).unwrap();
    assert_eq!(
        rows,
        [
            [Value::Int64(1), Value::Text("a".into())],
            [Value::Int64(2), Value::Text("b".into())]
        ]
    );
    drop(source);
    let fresh = SqliteSource::open(&path).unwrap().catalog().unwrap();
    assert_eq!(fresh.tables.len(), 2);
}

#[test]
fn missing_and_foreign_files_are_refused_without_creating_anything() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.sqlite");
    let err = SqliteSource::open(&missing).err().unwrap();
    assert!(matches!(err, Error::Connect { .. }));
    assert!(err.to_string().contains("no such file"), "{err}");
    assert!(err.to_string().contains("nope.sqlite"), "{err}");
    assert!(!missing.exists());

    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "this is plainly not a database, but it is long enough ".repeat(20),
    )
    .unwrap();
    for err in [
        SqliteSource::open(&text).err().unwrap(),
        SqliteTarget::open(&text).err().unwrap(),
    ] {
        assert!(matches!(err, Error::Connect { .. }));
        assert!(err.to_string().contains("not a SQLite database"), "{err}");
    }

    let err = SqliteTarget::open(&dir.path().join("no/such/dir/x.sqlite"))
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("does not exist; create it first"),
        "{err}"
    );
}

#[test]
fn invalid_utf8_text_is_reported_with_table_column_and_rowid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.sqlite");
    run_sql(
        &path,
        "CREATE TABLE notes (a INTEGER, body TEXT);
         INSERT INTO notes VALUES (1, 'fine'), (2, CAST(x'ff41' AS TEXT));
         CREATE TABLE keyed (k TEXT PRIMARY KEY, body TEXT) WITHOUT ROWID;
         INSERT INTO keyed VALUES ('key1', CAST(x'c3' AS TEXT));",
    );
    let mut source = SqliteSource::open(&path).unwrap();
    let catalog = source.catalog().unwrap();
    let err = read_all(&mut source, &catalog.tables[0]).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Value { .. }));
    assert!(msg.contains("table notes, column body"), "{msg}");
    assert!(msg.contains("rowid 2"), "{msg}");
    assert!(msg.contains("x'ff41'"), "{msg}");
    assert!(msg.contains("not valid UTF-8"), "{msg}");
    let msg = read_all(&mut source, &catalog.tables[1])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("primary key (k = \"key1\")"), "{msg}");
}

#[test]
fn batches_respect_row_and_byte_limits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.sqlite");
    let _conn = run_sql(
        &path,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, pad BLOB);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
         INSERT INTO t SELECT i, zeroblob(996) FROM n;",
    );
    let mut source = SqliteSource::open(&path).unwrap();
    let table = source.catalog().unwrap().tables.remove(0);
    let mut sizes = Vec::new();
    let mut next_id = 1;
    let limits = BatchLimits {
        max_rows: 300,
        max_bytes: 100_000,
    };
    source
        .read_table(&table, limits, &mut |b| {
            for row in b.rows() {
                assert_eq!(row[0], Value::Int64(next_id), "rows in rowid order");
                next_id += 1;
            }
            sizes.push(b.row_count());
            Ok(())
        })
        .unwrap();
    // Each row is 8 + 1000 bytes, so the byte limit ends a batch at 100 rows.
    assert_eq!(sizes, vec![100; 10]);
    let limits = BatchLimits {
        max_rows: 300,
        max_bytes: usize::MAX,
    };
    sizes.clear();
    source
        .read_table(&table, limits, &mut |b| {
            sizes.push(b.row_count());
            Ok(())
        })
        .unwrap();
    assert_eq!(sizes, [300, 300, 300, 100]);
    // An error from the sink stops the read and comes back as is.
    let err = source
        .read_table(&table, limits, &mut |_| {
            Err(Error::Unsupported("stop".into()))
        })
        .unwrap_err();
    assert_eq!(err.to_string(), "stop");
}

/// A table as another engine (here "postgres") would describe it.
fn foreign_table(name: &str, columns: Vec<Column>) -> TableDef {
    let key = columns[0].name.clone();
    TableDef::new(TableName::new(Some("public"), name), columns).with_primary_key(&[&key])
}

/// Values of every neutral type, loaded into a table generated from the
/// neutral model, read back by the SQLite source as the documented forms.
#[test]
fn foreign_values_are_stored_in_their_documented_forms() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite");
    let types = [
        ("id", ColumnType::Int32),
        ("flag", ColumnType::Bool),
        ("small", ColumnType::Int16),
        ("f32", ColumnType::Float32),
        (
            "amount",
            ColumnType::Decimal {
                precision: Some(40),
                scale: Some(2),
            },
        ),
        (
            "name",
            ColumnType::Text {
                max_len: Some(10),
                fixed: false,
                national: true,
            },
        ),
        ("raw", ColumnType::Binary { max_len: None }),
        ("day", ColumnType::Date),
        (
            "at",
            ColumnType::Timestamp {
                tz: true,
                precision: Some(6),
            },
        ),
        (
            "clock",
            ColumnType::Time {
                tz: true,
                precision: None,
            },
        ),
        ("span", ColumnType::Interval),
        ("uid", ColumnType::Uuid),
        ("doc", ColumnType::Json { binary: true }),
        (
            "addr",
            ColumnType::Native {
                name: "inet".into(),
            },
        ),
    ];
    let table = foreign_table(
        "everything",
        types.iter().map(|(n, t)| column(n, t.clone())).collect(),
    );
    let mut uuid = [0u8; 16];
    uuid[15] = 0xab;
    let row = vec![
        Value::Int32(1),
        Value::Bool(true),
        Value::Int16(-32768),
        Value::Float32(0.1),
        Value::Decimal("12345678901234567890123456789012345678.50".into()),
        Value::Text("a\0b ✓".into()),
        Value::Bytes(vec![]),
        Value::Date(19_782),
        Value::TimestampTz {
            secs: 1_709_210_096,
            nanos: 123_456_000,
        },
        Value::TimeTz {
            nanos: 0,
            offset_secs: 3600,
        },
        Value::Interval(Interval {
            months: 1,
            days: -2,
            micros: 3_000_000,
        }),
        Value::Uuid(uuid),
        Value::Json("123".into()),
        Value::Native("10.0.0.1/8".into()),
    ];
    let mut target = SqliteTarget::open(&path).unwrap();
    target.create_table(&table).unwrap();
    let mut loader = target.load(&table).unwrap();
    loader
        .write_batch(&RowBatch::from_values(row.len(), row))
        .unwrap();
    assert_eq!(loader.finish().unwrap(), 1);
    target.finish_table(&table).unwrap();
    target.finish().unwrap();
    drop(target);

    let mut source = SqliteSource::open(&path).unwrap();
    let catalog = source.catalog().unwrap();
    let back = &catalog.tables[0];
    assert_eq!(back.name, TableName::bare("everything"));
    // The generated declared types map back to the same neutral types
    // (integers and floats widen: SQLite has one of each).
    for (col, (name, ty)) in back.columns.iter().zip(&types) {
        assert_eq!(&col.name, name);
        let widened = match ty {
            ColumnType::Int16 | ColumnType::Int32 => ColumnType::Int64,
            ColumnType::Float32 => ColumnType::Float64,
            ColumnType::Native { .. } => ColumnType::Text {
                max_len: None,
                fixed: false,
                national: false,
            },
            other => other.clone(),
        };
        assert_eq!(col.ty, widened, "column {name}");
    }
    let text = |s: &str| Value::Text(s.into());
    assert_eq!(
        read_all(&mut source, back).unwrap(),
        [vec![
            Value::Int64(1),
            Value::Int64(1),
            Value::Int64(-32768),
            Value::Float64(f64::from(0.1f32)),
            text("12345678901234567890123456789012345678.50"),
            text("a\0b ✓"),
            Value::Bytes(vec![]),
            text("2024-02-29"),
            text("2024-02-29 12:34:56.123456+00:00"),
            text("00:00:00+01:00"),
            text("P1M-2DT3S"),
            text("00000000-0000-0000-0000-0000000000ab"),
            text("123"),
            text("10.0.0.1/8"),
        ]]
    );
}

#[test]
fn values_sqlite_would_change_are_refused_naming_table_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite");
    let table = foreign_table(
        "measures",
        vec![
            column("id", ColumnType::Int64),
            column("reading", ColumnType::Float64),
            column(
                "count_text",
                ColumnType::Decimal {
                    precision: None,
                    scale: None,
                },
            ),
        ],
    );
    let mut target = SqliteTarget::open(&path).unwrap();
    target.create_table(&table).unwrap();
    let cases = [
        (Value::Float64(f64::NAN), "reading", "NaN"),
        (Value::Float64(-0.0), "reading", "-0.0"),
    ];
    for (bad, column, needle) in cases {
        let mut loader = target.load(&table).unwrap();
        // A good row first: it is rolled back with the failed load.
        let rows = vec![
            Value::Int64(100),
            Value::Float64(1.0),
            Value::Null,
            Value::Int64(1),
            bad,
            Value::Decimal("1.50".into()),
        ];
        let err = loader
            .write_batch(&RowBatch::from_values(3, rows))
            .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Value { .. }), "{msg}");
        assert!(
            msg.contains(&format!("table public.measures, column {column}")),
            "{msg}"
        );
        assert!(msg.contains(needle), "{msg}");
    }
    // A decimal stays exact text (TEXT affinity), trailing zero included.
    let mut loader = target.load(&table).unwrap();
    let row = vec![
        Value::Int64(1),
        Value::Float64(f64::INFINITY),
        Value::Decimal("1.50".into()),
    ];
    loader.write_batch(&RowBatch::from_values(3, row)).unwrap();
    loader.finish().unwrap();
    target.finish().unwrap();
    drop(target);
    let conn = Connection::open(&path).unwrap();
    let rows = table_rows(&conn, "measures");
    assert_eq!(rows.len(), 1, "the failed loads left no rows behind");
    assert_eq!(
        rows[0][1..],
        [
            cell(&rusqlite::types::Value::Integer(1)),
            cell(&rusqlite::types::Value::Real(f64::INFINITY)),
            cell(&rusqlite::types::Value::Text("1.50".into())),
        ]
    );
}

/// Text from another engine that a numeric-affinity column would turn into
/// a number is refused; the same text from SQLite (already through the
/// same affinity) is not checked again.
#[test]
fn numeric_looking_text_into_a_numeric_column_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite");
    run_sql(
        &path,
        "CREATE TABLE existing (id INTEGER PRIMARY KEY, code NUMERIC)",
    );
    let table = foreign_table(
        "existing",
        vec![
            column("id", ColumnType::Int64),
            column(
                "code",
                ColumnType::Text {
                    max_len: None,
                    fixed: false,
                    national: false,
                },
            ),
        ],
    );
    let mut target = SqliteTarget::open(&path).unwrap();
    target.check_table(&table).unwrap();
    let mut loader = target.load(&table).unwrap();
    let ok = RowBatch::from_values(2, vec![Value::Int64(1), Value::Text("A-7".into())]);
    loader.write_batch(&ok).unwrap();
    let bad = RowBatch::from_values(2, vec![Value::Int64(2), Value::Text("007".into())]);
    let msg = loader.write_batch(&bad).unwrap_err().to_string();
    assert!(msg.contains("column code"), "{msg}");
    assert!(msg.contains("\"007\""), "{msg}");
    assert!(msg.contains("would turn this text into a number"), "{msg}");
}

#[test]
fn existing_tables_clean_and_data_only_checks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite");
    run_sql(
        &path,
        "CREATE TABLE Agents (id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE other (x);
         CREATE VIEW agent_names AS SELECT name FROM agents;
         CREATE VIEW names_again AS SELECT * FROM agent_names;
         CREATE VIEW unrelated AS SELECT x FROM other;
         CREATE TRIGGER other_ai AFTER INSERT ON other BEGIN DELETE FROM \"agents\"; END;",
    );
    let mut target = SqliteTarget::open(&path).unwrap();
    let wanted = [TableName::bare("agents"), TableName::bare("sites")];
    assert_eq!(
        target.existing_tables(&wanted).unwrap(),
        [TableName::bare("agents")]
    );

    let mut agents = foreign_table(
        "agents",
        vec![
            column("id", ColumnType::Int64),
            column("name", ColumnType::Int64),
            column("email", ColumnType::Int64),
            column("phone", ColumnType::Int64),
        ],
    );
    let msg = target.check_table(&agents).unwrap_err().to_string();
    assert!(msg.contains("lacks column(s) email, phone"), "{msg}");
    agents.columns.truncate(2);
    target.check_table(&agents).unwrap();
    let sites = foreign_table("sites", vec![column("id", ColumnType::Int64)]);
    let msg = target.check_table(&sites).unwrap_err().to_string();
    assert!(msg.contains("does not exist"), "{msg}");

    // --clean drops the table alone: SQLite records no view's table, and
    // the views and the trigger on `other` only name it in their SQL.
    let plan = target.clean_plan(&[agents.clone()], &[]).unwrap();
    assert_eq!(plan, [Dropped::own("table Agents")]);
    target.clean(&[agents.clone()], &[], &plan).unwrap();
    target.finish().unwrap();
    drop(target);
    let conn = Connection::open(&path).unwrap();
    let left: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        left,
        [
            "agent_names",
            "names_again",
            "other",
            "other_ai",
            "unrelated"
        ]
    );
}

#[test]
fn objects_from_other_engines_are_skipped_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut target = SqliteTarget::open(&dir.path().join("t.sqlite")).unwrap();
    let object = |engine: &str, kind: ObjectKind, ddl: &str| {
        ObjectDef::new(kind, TableName::bare("o"), engine, ddl)
    };
    assert_eq!(
        target
            .create_object(&object(
                "postgres",
                ObjectKind::View,
                "CREATE VIEW o AS SELECT 1"
            ))
            .unwrap(),
        ObjectOutcome::Skipped("written for postgres".into())
    );
    assert_eq!(
        target
            .create_object(&object("sqlite", ObjectKind::Sequence, ""))
            .unwrap(),
        ObjectOutcome::Skipped("SQLite has no sequence".into())
    );
    // A resumed restore may repeat the step: the same view is created the
    // first time and left alone the second...
    let view = object("sqlite", ObjectKind::View, "CREATE VIEW o AS SELECT 1");
    for _ in 0..2 {
        assert_eq!(target.create_object(&view).unwrap(), ObjectOutcome::Created);
    }
    // ...but another view of the same name is an error, not silently kept.
    let err = target
        .create_object(&object(
            "sqlite",
            ObjectKind::View,
            "CREATE VIEW o AS SELECT 2",
        ))
        .unwrap_err();
    assert!(err.to_string().contains("creating view \"o\""), "{err}");
}

#[test]
fn a_wal_target_stays_wal_whether_or_not_the_restore_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.sqlite");
    Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x);")
        .unwrap();
    let table = foreign_table("u", vec![column("id", ColumnType::Int64)]);
    {
        let mut target = SqliteTarget::open(&path).unwrap();
        target.create_table(&table).unwrap();
        let mut loader = target.load(&table).unwrap();
        loader
            .write_batch(&RowBatch::from_values(1, vec![Value::Int64(1)]))
            .unwrap();
        // Dropped mid-load, without finish.
    }
    let conn = Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM u", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0, "the unfinished load was rolled back");
    drop(conn);
    let mut target = SqliteTarget::open(&path).unwrap();
    target.finish().unwrap();
    drop(target);
    let mode: String = Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

/// SQLite text that would be converted because the existing target column
/// has another affinity than the source column is refused too.
#[test]
fn sqlite_text_into_a_column_of_another_affinity_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("s.sqlite");
    let dst = dir.path().join("d.sqlite");
    Connection::open(&src)
        .unwrap()
        .execute_batch("CREATE TABLE codes (c TEXT); INSERT INTO codes VALUES ('007');")
        .unwrap();
    Connection::open(&dst)
        .unwrap()
        .execute_batch("CREATE TABLE codes (c NUMERIC);")
        .unwrap();
    let mut source = SqliteSource::open(&src).unwrap();
    let table = source.catalog().unwrap().tables.remove(0);
    let mut target = SqliteTarget::open(&dst).unwrap();
    target.check_table(&table).unwrap();
    let mut loader = target.load(&table).unwrap();
    let err = source
        .read_table(&table, BatchLimits::default(), &mut |b| {
            loader.write_batch(&b)
        })
        .unwrap_err();
    assert!(err.to_string().contains("table codes, column c"), "{err}");
}
