//! The target's refusals and its restore of tables from another engine.

use bru_core::{
    Column, ColumnType, Error, ForeignKey, Identity, IdentityKind, IndexDef, PrimaryKey, RowBatch,
    TableDef, TableName, Target, Value,
};
use bru_postgres::testing::TestServer;
use bru_postgres::PgTarget;

fn col(name: &str, ty: ColumnType, nullable: bool) -> Column {
    Column {
        name: name.into(),
        ty,
        native_type: String::new(),
        nullable,
        default: None,
        identity: None,
        generated: None,
    }
}

fn text() -> ColumnType {
    ColumnType::Text {
        max_len: None,
        fixed: false,
        national: false,
    }
}

/// Two tables as a SQLite archive describes them: no schema, no native
/// PostgreSQL DDL.
fn sqlite_tables() -> (TableDef, TableDef) {
    let mut id = col("id", ColumnType::Int64, false);
    id.identity = Some(Identity {
        kind: IdentityKind::Autoincrement,
        start: None,
        increment: None,
        last_value: Some(41),
    });
    let sites = TableDef {
        name: TableName::bare("sites"),
        columns: vec![
            id,
            col("name", text(), false),
            col(
                "budget",
                ColumnType::Decimal {
                    precision: Some(10),
                    scale: Some(2),
                },
                true,
            ),
            col("opened", ColumnType::Date, true),
            col("flags", ColumnType::Native { name: "".into() }, true),
        ],
        primary_key: Some(PrimaryKey {
            name: None,
            columns: vec!["id".into()],
        }),
        uniques: vec![],
        indexes: vec![IndexDef {
            name: "sites_name".into(),
            columns: vec!["name".into()],
            unique: true,
            predicate: None,
            method: None,
            native_ddl: Some("CREATE UNIQUE INDEX sites_name ON sites(name)".into()),
        }],
        foreign_keys: vec![],
        checks: vec![
            bru_core::CheckConstraint {
                name: Some("name_not_empty".into()),
                expr: "length(name) > 0".into(),
            },
            // SQLite's own SQL that PostgreSQL does not have.
            bru_core::CheckConstraint {
                name: Some("sqlite_only".into()),
                expr: "typeof(name) = 'text'".into(),
            },
        ],
        native: Some(bru_core::NativeDdl {
            engine: "sqlite".into(),
            create: "CREATE TABLE sites (...)".into(),
        }),
        properties: Default::default(),
        estimated_rows: None,
        created_after: Vec::new(),
    };
    let agents = TableDef {
        name: TableName::bare("agents"),
        columns: vec![
            col("id", ColumnType::Int64, false),
            col("site_id", ColumnType::Int64, true),
        ],
        primary_key: Some(PrimaryKey {
            name: None,
            columns: vec!["id".into()],
        }),
        foreign_keys: vec![ForeignKey {
            name: None,
            columns: vec!["site_id".into()],
            ref_table: TableName::bare("sites"),
            ref_columns: vec!["id".into()],
            on_delete: bru_core::FkAction::Cascade,
            on_update: bru_core::FkAction::NoAction,
            deferrable: false,
            initially_deferred: false,
        }],
        ..sites.clone()
    };
    let agents = TableDef {
        uniques: vec![],
        indexes: vec![],
        checks: vec![],
        ..agents
    };
    (sites, agents)
}

#[test]
fn tables_from_another_engine_and_values_that_do_not_fit() {
    let Some(server) = TestServer::start() else {
        return;
    };
    let db = server.create_db("xengine");
    let mut target = PgTarget::open(&server.url(&db)).expect("open");
    let (sites, agents) = sqlite_tables();

    // Foreign key first in the finish order: it waits for its table.
    for t in [&agents, &sites] {
        target.create_table(t).expect("create");
    }
    assert_eq!(
        target
            .existing_tables(&[sites.name.clone(), TableName::bare("nope")])
            .expect("existing"),
        vec![sites.name.clone()]
    );

    let mut loader = target.load(&sites).expect("load");
    let mut batch = RowBatch::new(5);
    batch.push_row([
        Value::Int64(1),
        Value::Text("Lyon".into()),
        Value::Decimal("1234.50".into()),
        // SQLite keeps dates as text.
        Value::Text("2022-01-08".into()),
        Value::Native("a|b".into()),
    ]);
    batch.push_row([
        Value::Int64(41),
        Value::Text("Porto ☀".into()),
        Value::Null,
        Value::Null,
        Value::Text("x".into()),
    ]);
    loader.write_batch(&batch).expect("write");
    assert_eq!(loader.finish().expect("finish"), 2);

    // A text in an integer column is refused, naming table, column, value.
    let mut loader = target.load(&agents).expect("load");
    let mut bad = RowBatch::new(2);
    bad.push_row([Value::Int64(1), Value::Text("one".into())]);
    match loader.write_batch(&bad) {
        Err(Error::Value {
            table,
            column,
            value,
            ..
        }) => {
            assert_eq!(table, "public.agents");
            assert_eq!(column, "site_id");
            assert!(value.contains("one"), "{value}");
        }
        other => panic!("expected a value error, got {other:?}"),
    }
    drop(loader);
    // The failed load left nothing behind and the connection works.
    let mut loader = target.load(&agents).expect("load again");
    let mut good = RowBatch::new(2);
    good.push_row([Value::Int64(1), Value::Int64(41)]);
    loader.write_batch(&good).expect("write");
    assert_eq!(loader.finish().expect("finish"), 1);

    // A decimal the column would round is refused too.
    let mut loader = target.load(&sites).expect("load");
    let mut rounded = RowBatch::new(5);
    rounded.push_row([
        Value::Int64(2),
        Value::Text("Oslo".into()),
        Value::Decimal("1.005".into()),
        Value::Null,
        Value::Null,
    ]);
    assert!(matches!(
        loader.write_batch(&rounded),
        Err(Error::Value { ref column, .. }) if column == "budget"
    ));
    drop(loader);

    for t in [&agents, &sites] {
        target.restore_identity(t).expect("identity");
        target.finish_table(t).expect("finish table");
    }
    for t in [&agents, &sites] {
        target.add_foreign_keys(t).expect("foreign keys");
    }
    target.finish().expect("finish");
    // The check PostgreSQL cannot read is reported, the other one exists.
    let skipped = target.take_skipped();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(skipped[0].contains("sqlite_only"), "{skipped:?}");
    assert_eq!(
        server.psql(&db, "SELECT conname FROM pg_constraint WHERE contype = 'c' AND conrelid = 'public.sites'::regclass"),
        "name_not_empty\n"
    );
    assert_eq!(
        server.psql(
            &db,
            "SELECT id, name, budget, opened, flags FROM public.sites ORDER BY id"
        ),
        "1|Lyon|1234.50|2022-01-08|a|b\n41|Porto ☀|||x\n"
    );
    // The identity continues after the archived last value, the foreign key
    // and the unique index exist.
    assert_eq!(
        server.psql(
            &db,
            "INSERT INTO public.sites (name) VALUES ('New') RETURNING id"
        ),
        "42\n"
    );
    assert_eq!(
        server.psql(
            &db,
            "SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid = 'public.agents'::regclass"
        ),
        "agents_site_id_fkey\n"
    );
    assert_eq!(
        server.psql(
            &db,
            "SELECT indexname FROM pg_indexes WHERE indexname = 'sites_name'"
        ),
        "sites_name\n"
    );

    // --data-only checks: a missing column and an incompatible type are
    // named before any row is written.
    server.psql(&db, "CREATE TABLE public.narrow (id integer, name integer)");
    let narrow = TableDef {
        name: TableName::bare("narrow"),
        columns: vec![
            col("id", ColumnType::Int32, false),
            col("name", text(), true),
            col("extra", text(), true),
        ],
        ..agents.clone()
    };
    let err = target.check_table(&narrow).expect_err("incompatible table");
    let msg = err.to_string();
    assert!(msg.contains("column extra is missing"), "{msg}");
    assert!(msg.contains("column name is integer"), "{msg}");

    // --clean drops what exists.
    target
        .drop_tables(&[sites.name.clone(), agents.name.clone()])
        .expect("drop");
    assert!(target
        .existing_tables(&[sites.name.clone(), agents.name.clone()])
        .expect("existing")
        .is_empty());
}
