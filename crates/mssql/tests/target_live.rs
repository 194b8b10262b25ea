//! The SQL Server target driven directly, as a restore drives it, with a
//! table SQL Server itself wrote (native types, a named default, a
//! computed column, an identity, a clustered key, a filtered index with
//! included and descending columns, a check, a foreign key) and modules,
//! against the server `BRU_TEST_MSSQL_URL` names (one `SKIPPED` line
//! without it). Checks the values read back, the identity, what a value
//! out of range is told, and that `--clean` lists and drops what depends on
//! the tables.

use bru_core::{
    CheckConstraint, Column, ColumnType, ForeignKey, Identity, IdentityKind, IndexDef, ObjectDef,
    ObjectKind, ObjectOutcome, RowBatch, TableDef, TableName, Target, Value,
};
use bru_mssql::props::{self, On};
use bru_mssql::MssqlTarget;
use bru_testsupport::mssql::{self, MssqlServer};

fn text(n: u32, national: bool) -> ColumnType {
    ColumnType::Text {
        max_len: Some(n),
        fixed: false,
        national,
    }
}

fn tables() -> (TableDef, TableDef) {
    let name = |n: &str| TableName::new(Some("dbo"), n);
    let mut team = TableDef::new(
        name("team"),
        vec![
            Column::new("id", ColumnType::Int16, "tinyint").not_null(),
            Column::new("label", text(30, true), "nvarchar(30)").not_null(),
        ],
    )
    .with_primary_key(&["id"]);
    team.primary_key.as_mut().unwrap().name = Some("PK_team".into());
    team.properties
        .insert(props::key(On::PrimaryKey, props::CLUSTERED), "true".into());

    let mut agent = TableDef::new(
        name("agent"),
        vec![
            Column::new("id", ColumnType::Int32, "int")
                .not_null()
                .with_identity(Identity {
                    kind: IdentityKind::ByDefault,
                    start: Some(100),
                    increment: Some(10),
                    last_value: Some(150),
                }),
            Column::new("team_id", ColumnType::Int16, "tinyint").not_null(),
            Column::new("login", text(20, false), "varchar(20)").not_null(),
            Column::new(
                "pay",
                ColumnType::Decimal {
                    precision: Some(19),
                    scale: Some(4),
                },
                "money",
            )
            .with_default("((0))"),
            Column::new(
                "hired",
                ColumnType::Timestamp {
                    tz: false,
                    precision: Some(3),
                },
                "datetime",
            ),
            Column::new(
                "seen",
                ColumnType::Timestamp {
                    tz: true,
                    precision: Some(6),
                },
                "datetimeoffset(6)",
            ),
            Column::new("badge", ColumnType::Uuid, "uniqueidentifier"),
            Column::new(
                "doubled",
                ColumnType::Decimal {
                    precision: Some(20),
                    scale: Some(4),
                },
                "decimal(20,4)",
            )
            .with_generated(bru_core::Generated {
                expr: "([pay]/(2))".into(),
                stored: false,
            }),
        ],
    )
    .with_primary_key(&["id"]);
    agent.primary_key.as_mut().unwrap().name = Some("PK_agent".into());
    agent.properties.insert(
        props::key(On::Column("pay"), props::COLUMN_DEFAULT_NAME),
        "DF_agent_pay".into(),
    );
    agent.indexes.push(IndexDef {
        name: "IX_agent_login".into(),
        columns: vec!["login".into(), "hired".into()],
        unique: false,
        predicate: Some("([team_id]>(0))".into()),
        method: None,
        native_ddl: None,
    });
    agent.properties.insert(
        props::key(On::Index("IX_agent_login"), props::DESCENDING),
        props::names_value(&["hired".into()]),
    );
    agent.properties.insert(
        props::key(On::Index("IX_agent_login"), props::INCLUDE),
        props::names_value(&["pay".into()]),
    );
    agent.checks.push(CheckConstraint {
        name: Some("CK_agent_login".into()),
        expr: "(len([login])>(0))".into(),
    });
    agent.foreign_keys.push(ForeignKey {
        name: Some("FK_agent_team".into()),
        columns: vec!["team_id".into()],
        ref_table: name("team"),
        ref_columns: vec!["id".into()],
        on_delete: bru_core::FkAction::Cascade,
        on_update: bru_core::FkAction::NoAction,
        deferrable: false,
        initially_deferred: false,
    });
    (team, agent)
}

fn load(
    target: &mut MssqlTarget,
    table: &TableDef,
    rows: Vec<Vec<Value>>,
) -> bru_core::Result<u64> {
    let mut batch = RowBatch::new(table.columns.len());
    for r in rows {
        batch.push_row(r);
    }
    let mut loader = target.load(table)?;
    loader.write_batch(&batch)?;
    loader.finish()
}

#[test]
fn a_sql_server_table_restores_with_its_own_declarations() {
    let Some(server) =
        MssqlServer::from_env("a_sql_server_table_restores_with_its_own_declarations")
    else {
        return;
    };
    let url = server.create_db("mtgt_native");
    let (team, agent) = tables();
    let mut t = MssqlTarget::open(&url).unwrap();
    t.create_table(&team).unwrap();
    t.create_table(&agent).unwrap();
    load(
        &mut t,
        &team,
        vec![
            vec![Value::Int16(1), Value::Text("Nord 😀".into())],
            vec![Value::Int16(255), Value::Text(String::new())],
        ],
    )
    .unwrap();
    let badge = [
        0x6f, 0x96, 0x19, 0xff, 0x8b, 0x86, 0xd0, 0x11, 0xb4, 0x2d, 0x00, 0xc0, 0x4f, 0xc9, 0x64,
        0xff,
    ];
    let rows = vec![
        vec![
            Value::Int32(100),
            Value::Int16(1),
            Value::Text("ann".into()),
            Value::Decimal("922337203685477.5807".into()),
            // 2026-01-02 03:04:05 and two datetime ticks.
            Value::Timestamp {
                secs: 1_767_323_045,
                nanos: 6_666_667,
            },
            Value::TimestampOffset {
                secs: 1_767_323_045,
                nanos: 123_456_000,
                offset_secs: -14 * 3600,
            },
            Value::Uuid(badge),
            Value::Null,
        ],
        vec![
            Value::Int32(150),
            Value::Int16(255),
            Value::Text("bob".into()),
            Value::Decimal("-922337203685477.5808".into()),
            Value::Null,
            Value::TimestampOffset {
                secs: 0,
                nanos: 0,
                offset_secs: 14 * 3600,
            },
            Value::Null,
            Value::Null,
        ],
    ];
    assert_eq!(load(&mut t, &agent, rows).unwrap(), 2);
    t.restore_identity(&agent).unwrap();
    t.finish_table(&team).unwrap();
    t.finish_table(&agent).unwrap();
    t.add_foreign_keys(&agent).unwrap();

    // A value the column cannot hold is refused by name, nothing written.
    let bad = vec![vec![Value::Int16(256), Value::Text("x".into())]];
    let e = load(&mut t, &team, bad).unwrap_err().to_string();
    assert!(
        e.contains("table dbo.team, column id: cannot store value 256: tinyint holds 0 to 255"),
        "{e}"
    );

    let view = ObjectDef {
        depends_on: Some(vec![TableName::new(Some("dbo"), "agent")]),
        ..ObjectDef::new(
            ObjectKind::View,
            TableName::new(Some("dbo"), "agent_pay"),
            "mssql",
            "CREATE VIEW dbo.agent_pay AS SELECT login, pay FROM dbo.agent",
        )
    };
    assert_eq!(t.create_object(&view).unwrap(), ObjectOutcome::Created);
    let proc = ObjectDef::new(
        ObjectKind::Other("procedure".into()),
        TableName::new(Some("dbo"), "agent_count"),
        "mssql",
        "CREATE PROCEDURE dbo.agent_count AS SELECT COUNT(*) FROM dbo.agent",
    );
    assert_eq!(t.create_object(&proc).unwrap(), ObjectOutcome::Created);
    let pg = ObjectDef::new(
        ObjectKind::View,
        TableName::new(Some("public"), "v"),
        "postgres",
        "CREATE VIEW v AS SELECT 1",
    );
    assert!(
        matches!(t.create_object(&pg).unwrap(), ObjectOutcome::Skipped(r) if r.contains("postgres"))
    );
    assert!(t.take_skipped().is_empty());
    drop(t);

    let got = mssql::query(
        &url,
        "SELECT id, team_id, login, CAST(pay AS nvarchar(30)), hired, seen, badge, \
                CAST(doubled AS nvarchar(40)) FROM dbo.agent",
    );
    assert_eq!(got.len(), 2);
    assert_eq!(got[0][0..4], ["100", "1", "ann", "922337203685477.5807"]);
    assert_eq!(got[0][4], "2026-01-02 03:04:05.007");
    assert_eq!(got[0][5], "2026-01-01 13:04:05.123456 -14:00");
    assert_eq!(got[0][6], "6F9619FF-8B86-D011-B42D-00C04FC964FF");
    assert_eq!(got[1][3], "-922337203685477.5808");
    assert_eq!(got[1][5], "1970-01-01 14:00:00.000000 +14:00");
    assert_eq!(
        mssql::query(&url, "SELECT id, label FROM dbo.team"),
        [["1", "Nord 😀"], ["255", ""]]
    );
    // The identity goes on after the source's last value.
    mssql::exec(
        &url,
        "INSERT INTO dbo.agent (team_id, login) VALUES (1, 'cy')",
    );
    assert_eq!(
        mssql::query(
            &url,
            "SELECT MAX(id), MIN(CAST(pay AS int)) FROM dbo.agent WHERE login = 'cy'"
        ),
        [["160", "0"]]
    );
    // The check, the foreign key and its cascade work.
    assert!(mssql::try_exec(
        &url,
        "INSERT INTO dbo.agent (team_id, login) VALUES (1, '')"
    )
    .is_err());
    assert!(mssql::try_exec(
        &url,
        "INSERT INTO dbo.agent (team_id, login) VALUES (7, 'x')"
    )
    .is_err());
    mssql::exec(&url, "DELETE FROM dbo.team WHERE id = 255");
    assert_eq!(
        mssql::query(&url, "SELECT COUNT(*) FROM dbo.agent"),
        [["2"]]
    );

    // --clean lists the archive's tables and objects, and drops them.
    let mut t = MssqlTarget::open(&url).unwrap();
    let objects = vec![view.clone(), proc.clone()];
    let plan = t
        .clean_plan(&[team.clone(), agent.clone()], &objects)
        .unwrap();
    let listed: Vec<String> = plan.iter().map(|d| d.to_string()).collect();
    for want in [
        "table dbo.team",
        "table dbo.agent",
        "view dbo.agent_pay",
        "procedure dbo.agent_count",
    ] {
        assert!(listed.iter().any(|l| l == want), "{want} not in {listed:?}");
    }
    t.clean(&[team.clone(), agent.clone()], &objects, &plan)
        .unwrap();
    assert_eq!(
        mssql::query(&url, "SELECT COUNT(*) FROM sys.objects WHERE name IN ('team', 'agent', 'agent_pay', 'agent_count')"),
        [["0"]]
    );
    drop(t);
    server.drop_db("mtgt_native");
}

#[test]
fn data_only_loads_fire_no_trigger_and_leave_it_enabled() {
    let Some(server) =
        MssqlServer::from_env("data_only_loads_fire_no_trigger_and_leave_it_enabled")
    else {
        return;
    };
    let url = server.create_db("mtgt_dataonly");
    mssql::exec(
        &url,
        "CREATE TABLE dbo.team (id tinyint NOT NULL PRIMARY KEY, label nvarchar(30) NOT NULL); \
         CREATE TABLE dbo.fired (n int)",
    );
    mssql::exec(
        &url,
        "CREATE TRIGGER dbo.team_ins ON dbo.team AFTER INSERT AS INSERT INTO dbo.fired VALUES (1)",
    );
    let (team, _) = tables();
    let mut t = MssqlTarget::open(&url).unwrap();
    t.check_table(&team).unwrap();
    load(
        &mut t,
        &team,
        vec![vec![Value::Int16(7), Value::Text("x".into())]],
    )
    .unwrap();
    drop(t);
    assert_eq!(
        mssql::query(&url, "SELECT id, label FROM dbo.team"),
        [["7", "x"]]
    );
    assert_eq!(
        mssql::query(&url, "SELECT COUNT(*) FROM dbo.fired"),
        [["0"]]
    );
    assert_eq!(
        mssql::query(
            &url,
            "SELECT CAST(is_disabled AS int) FROM sys.triggers WHERE name = 'team_ins'"
        ),
        [["0"]]
    );
    // The trigger does fire on other inserts.
    mssql::exec(&url, "INSERT INTO dbo.team VALUES (8, N'y')");
    assert_eq!(
        mssql::query(&url, "SELECT COUNT(*) FROM dbo.fired"),
        [["1"]]
    );
    // A missing column is told before anything is written.
    mssql::exec(&url, "CREATE TABLE dbo.agent (id int)");
    let (_, agent) = tables();
    let mut t = MssqlTarget::open(&url).unwrap();
    let e = t.check_table(&agent).unwrap_err().to_string();
    assert!(e.contains("column team_id does not exist"), "{e}");
    drop(t);
    server.drop_db("mtgt_dataonly");
}
