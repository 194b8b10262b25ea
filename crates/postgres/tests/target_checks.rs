//! The target's refusals and its restore of tables from another engine.

use bru_core::{
    ColumnType, Dropped, Error, ForeignKey, Identity, IdentityKind, RowBatch, TableDef, TableName,
    Target, Value,
};
use bru_postgres::PgTarget;
use bru_testsupport::pg::TestServer;
use bru_testsupport::tables::{column, index, text};

/// A server, a new database named after `hint` and a target on it, or
/// `None` when no server can be started.
fn start(hint: &str) -> Option<(TestServer, String, PgTarget)> {
    let server = TestServer::start()?;
    let db = server.create_db(hint);
    let target = PgTarget::open(&server.url(&db)).expect("open");
    Some((server, db, target))
}

/// Two tables as a SQLite archive describes them: no schema, no native
/// PostgreSQL DDL.
fn sqlite_tables() -> (TableDef, TableDef) {
    let id = column("id", ColumnType::Int64)
        .not_null()
        .with_identity(Identity {
            kind: IdentityKind::Autoincrement,
            start: None,
            increment: None,
            last_value: Some(41),
        });
    let mut sites = TableDef::new(
        TableName::bare("sites"),
        vec![
            id,
            column("name", text()).not_null(),
            column(
                "budget",
                ColumnType::Decimal {
                    precision: Some(10),
                    scale: Some(2),
                },
            ),
            column("opened", ColumnType::Date),
            column("flags", ColumnType::Native { name: "".into() }),
        ],
    )
    .with_primary_key(&["id"])
    .with_native("sqlite", "CREATE TABLE sites (...)");
    sites.indexes = vec![index(
        "sites_name",
        &["name"],
        true,
        "CREATE UNIQUE INDEX sites_name ON sites(name)",
    )];
    sites.checks = vec![
        bru_core::CheckConstraint {
            name: Some("name_not_empty".into()),
            expr: "length(name) > 0".into(),
        },
        // SQLite's own SQL that PostgreSQL does not have.
        bru_core::CheckConstraint {
            name: Some("sqlite_only".into()),
            expr: "typeof(name) = 'text'".into(),
        },
    ];
    let mut agents = TableDef::new(
        TableName::bare("agents"),
        vec![
            column("id", ColumnType::Int64).not_null(),
            column("site_id", ColumnType::Int64),
        ],
    )
    .with_primary_key(&["id"])
    .with_native("sqlite", "CREATE TABLE sites (...)");
    agents.foreign_keys = vec![ForeignKey {
        name: None,
        columns: vec!["site_id".into()],
        ref_table: TableName::bare("sites"),
        ref_columns: vec!["id".into()],
        on_delete: bru_core::FkAction::Cascade,
        on_update: bru_core::FkAction::NoAction,
        deferrable: false,
        initially_deferred: false,
    }];
    (sites, agents)
}

#[test]
fn tables_from_another_engine_and_values_that_do_not_fit() {
    let Some((server, db, mut target)) = start("xengine") else {
        return;
    };
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
            column("id", ColumnType::Int32).not_null(),
            column("name", text()),
            column("extra", text()),
        ],
        ..agents.clone()
    };
    let err = target.check_table(&narrow).expect_err("incompatible table");
    let msg = err.to_string();
    assert!(msg.contains("column extra is missing"), "{msg}");
    assert!(msg.contains("column name is integer"), "{msg}");

    // --clean drops what exists.
    let both = [sites.clone(), agents.clone()];
    let plan = target.clean_plan(&both, &[]).expect("clean plan");
    assert_eq!(
        plan,
        [
            Dropped::own("table public.agents"),
            Dropped::own("table public.sites")
        ]
    );
    target.clean(&both, &[], &plan).expect("drop");
    assert!(target
        .existing_tables(&[sites.name.clone(), agents.name.clone()])
        .expect("existing")
        .is_empty());
}

/// Every SQLite text or number that PostgreSQL would quietly change on the
/// way in (an offset dropped, a date's time cut, a fraction rounded, a
/// char(n) padded, jsonb's rewrite) is refused by name; what it keeps
/// exactly goes in.
#[test]
fn texts_from_another_engine_are_kept_exactly_or_refused() {
    let Some((server, db, mut target)) = start("xvalues") else {
        return;
    };
    let fixed = |n| ColumnType::Text {
        max_len: Some(n),
        fixed: true,
        national: false,
    };
    let varying = |n| ColumnType::Text {
        max_len: Some(n),
        fixed: false,
        national: false,
    };
    let columns = vec![
        column(
            "ts",
            ColumnType::Timestamp {
                tz: false,
                precision: None,
            },
        ),
        column(
            "ts0",
            ColumnType::Timestamp {
                tz: false,
                precision: Some(0),
            },
        ),
        column(
            "tstz",
            ColumnType::Timestamp {
                tz: true,
                precision: None,
            },
        ),
        column("d", ColumnType::Date),
        column(
            "tm",
            ColumnType::Time {
                tz: false,
                precision: None,
            },
        ),
        column("iv", ColumnType::Interval),
        column("u", ColumnType::Uuid),
        column("ch", fixed(3)),
        column("vc", varying(3)),
        column("j", ColumnType::Json { binary: true }),
        column("flag", ColumnType::Bool),
        column("i", ColumnType::Int32),
        column("r", ColumnType::Float32),
        column(
            "n",
            ColumnType::Decimal {
                precision: Some(5),
                scale: Some(2),
            },
        ),
    ];
    let width = columns.len();
    let table = TableDef::new(TableName::bare("texts"), columns)
        .with_native("sqlite", "CREATE TABLE texts (...)");
    target.create_table(&table).expect("create");
    let position = |name: &str| table.column_index(name).expect("column");
    let row_with = |cells: &[(&str, Value)]| {
        let mut row = vec![Value::Null; width];
        for (name, v) in cells {
            row[position(name)] = v.clone();
        }
        RowBatch::from_values(width, row)
    };
    let t = |s: &str| Value::Text(s.into());

    let refusals: Vec<(&str, Value, &str)> = vec![
        ("ts", t("2024-03-01T00:01:05-03:00"), "UTC offset"),
        ("ts", t("2024-03-01 00:01:05Z"), "UTC offset"),
        ("ts", t("now"), "not a date"),
        ("ts", t("2024-02-30 10:00:00"), "does not exist"),
        ("ts0", t("2024-03-01 00:01:05.5"), "rounded"),
        ("d", t("2024-03-01 12:00:00"), "time of day"),
        ("d", t("today"), "not a date"),
        ("d", t(" 2024-03-01"), "spaces"),
        ("tm", t("12:00:00+02:00"), "UTC offset"),
        ("iv", t("1.5 months"), "ISO 8601"),
        ("u", t("not-a-uuid"), "uuid"),
        ("ch", t("ab"), "padded"),
        ("ch", t("abcd"), "do not fit"),
        ("vc", t("abc "), "do not fit"),
        ("j", t("{\"b\":1, \"a\":2}"), "jsonb would keep it"),
        ("flag", t("yes"), "does not fit"),
        ("flag", Value::Int64(2), "only 0 and 1"),
        ("i", t("1e3"), "does not fit"),
        ("i", t(" 12 "), "does not fit"),
        ("i", Value::Float64(1000.0), "does not fit"),
        ("r", Value::Float64(0.1), "not exact"),
        ("r", t("0.1"), "not exact"),
        ("n", t("1.005"), "rounded"),
        ("n", t(" 12"), "not a decimal"),
        ("n", t("1e3"), "not a decimal"),
    ];
    for (column, value, why) in refusals {
        let batch = row_with(&[(column, value.clone())]);
        let mut loader = target.load(&table).expect("load");
        let result = loader.write_batch(&batch).and_then(|()| loader.finish());
        match result {
            Err(Error::Value {
                table: tn,
                column: c,
                reason,
                ..
            }) => {
                assert_eq!(
                    (tn.as_str(), c.as_str()),
                    ("public.texts", column),
                    "{value:?}"
                );
                assert!(reason.contains(why), "{column} {value:?}: {reason}");
            }
            other => panic!("{column} {value:?} should be refused, got {other:?}"),
        }
    }
    assert_eq!(server.psql(&db, "SELECT count(*) FROM public.texts"), "0\n");

    // What the columns keep exactly goes in, and reads back as the same
    // value.
    let good = row_with(&[
        ("ts", t("2024-03-01T00:01:05")),
        ("ts0", t("2024-03-01 00:01:05.000")),
        ("tstz", t("2024-03-01T00:01:05-03:00")),
        ("d", t("0044-03-15 BC")),
        ("tm", t("24:00:00")),
        ("iv", t("-PT1H30M")),
        ("u", t("{F47AC10B-58CC-4372-A567-0E02B2C3D479}")),
        ("ch", t("ab ")),
        ("vc", t("abc")),
        ("j", t("{\"a\": 2, \"b\": 1}")),
        ("flag", Value::Int64(1)),
        ("i", Value::Int64(-7)),
        ("r", Value::Float64(0.5)),
        ("n", t("1.50")),
    ]);
    let mut loader = target.load(&table).expect("load");
    loader.write_batch(&good).expect("write");
    assert_eq!(loader.finish().expect("finish"), 1);
    assert_eq!(
        server.psql(
            &db,
            "SET TimeZone = UTC; SET IntervalStyle = postgres; \
             SELECT ts, ts0, tstz, d, tm, iv, u, format('%s|', ch), vc, j, flag, i, r, n FROM public.texts"
        )
        .lines()
        .last()
        .unwrap_or_default(),
        "2024-03-01 00:01:05|2024-03-01 00:01:05|2024-03-01 03:01:05+00|0044-03-15 BC|24:00:00|\
         -01:30:00|f47ac10b-58cc-4372-a567-0e02b2c3d479|ab ||abc|{\"a\": 2, \"b\": 1}|t|-7|0.5|1.50"
    );
}

/// A generated column from another engine is written in that engine's SQL
/// (here SQLite's `iif`, which PostgreSQL lacks): the column is plain,
/// holds the source's values, and the expression is reported as skipped.
#[test]
fn generated_columns_from_another_engine_hold_the_source_values() {
    let Some((server, db, mut target)) = start("xgenerated") else {
        return;
    };
    let sign = column("sign", ColumnType::Int64).with_generated(bru_core::Generated {
        expr: "iif(a > 0, 1, -1)".into(),
        stored: false,
    });
    let table = TableDef::new(
        TableName::bare("gen"),
        vec![column("a", ColumnType::Int64), sign],
    );
    target.create_table(&table).expect("create");
    let skipped = target.take_skipped();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(
        skipped[0].contains("column sign") && skipped[0].contains("iif(a > 0, 1, -1)"),
        "{skipped:?}"
    );
    let mut loader = target.load(&table).expect("load");
    let rows = RowBatch::from_values(
        2,
        vec![
            Value::Int64(5),
            Value::Int64(1),
            Value::Int64(-2),
            Value::Int64(-1),
        ],
    );
    loader.write_batch(&rows).expect("write");
    assert_eq!(loader.finish().expect("finish"), 2);
    assert_eq!(
        server.psql(&db, "SELECT a, sign FROM public.gen ORDER BY a"),
        "-2|-1\n5|1\n"
    );
}
