//! The archive is data, never code, for SQL Server: hostile catalog
//! entries, as an attacker would edit them into an archive, go through the
//! engine's checks as a restore calls them ([`bru_core::Engine`]'s
//! `check_object_sql` / `check_table_sql`) and are refused, each with one
//! line that says what is wrong; the entries the SQL Server source writes
//! pass. Unit-level: no server (the CLI-level test is
//! tests/hostile_archive.rs in the workspace root).

use bru_core::{Column, ColumnType, Declared, Engine, ObjectDef, ObjectKind, TableDef, TableName};
use bru_mssql::ENGINE;

fn archive() -> Declared {
    Declared {
        relations: vec![
            TableName::new(Some("dbo"), "shifts"),
            TableName::new(Some("dbo"), "v_open"),
        ],
        ..Declared::default()
    }
}

fn object(kind: ObjectKind, name: &str, ddl: &str) -> ObjectDef {
    let mut o = ObjectDef::new(kind, TableName::new(Some("dbo"), name), "mssql", ddl);
    if o.kind == ObjectKind::Trigger {
        o.table = Some(TableName::new(Some("dbo"), "shifts"));
    }
    o
}

fn refused(o: &ObjectDef) -> String {
    match ENGINE.check_object_sql(o, &archive()) {
        Ok(()) => panic!("accepted: {}", o.ddl),
        Err(e) => {
            assert!(!e.contains('\n'), "one line: {e}");
            e
        }
    }
}

#[test]
fn the_sources_own_entries_pass() {
    let ok = [
        object(
            ObjectKind::View,
            "v_open",
            "CREATE VIEW [dbo].[v_open]\r\nAS\r\n-- open shifts\r\nSELECT s.[id], s.[starts] FROM [dbo].[shifts] AS s WHERE s.[ends] IS NULL",
        ),
        object(
            ObjectKind::Function,
            "hours",
            "CREATE FUNCTION dbo.hours (@a datetime2(7), @b datetime2(7))\nRETURNS decimal(9,2)\nAS\nBEGIN\n  RETURN CAST(DATEDIFF(minute, @a, @b) AS decimal(9,2)) / 60\nEND",
        ),
        object(
            ObjectKind::Function,
            "open_shifts",
            "CREATE FUNCTION [dbo].[open_shifts]() RETURNS TABLE AS RETURN (SELECT [id] FROM [dbo].[shifts] WHERE [ends] IS NULL)",
        ),
        object(
            ObjectKind::Other("procedure".into()),
            "close_shift",
            "CREATE PROCEDURE dbo.close_shift @id int AS\nSET NOCOUNT ON;\nUPDATE dbo.shifts SET ends = SYSUTCDATETIME() WHERE id = @id;",
        ),
        object(
            ObjectKind::Trigger,
            "shifts_audit",
            "CREATE TRIGGER dbo.shifts_audit ON dbo.shifts AFTER UPDATE AS BEGIN SET NOCOUNT ON; END",
        ),
    ];
    for o in ok {
        if let Err(e) = ENGINE.check_object_sql(&o, &archive()) {
            panic!("refused {}: {e}", o.ddl);
        }
    }
}

#[test]
fn modules_that_do_more_than_create_the_declared_object_are_refused() {
    let cases: &[(ObjectKind, &str, &str, &str)] = &[
        // Something before the CREATE.
        (ObjectKind::View, "v_open", "DROP TABLE dbo.victim\nCREATE VIEW dbo.v_open AS SELECT 1 AS a", "does not start with CREATE"),
        (ObjectKind::View, "v_open", "/* x */ EXEC('DROP TABLE victim'); CREATE VIEW dbo.v_open AS SELECT 1 AS a", "does not start with CREATE"),
        // Another statement after a view or a function, with or without `;`.
        (ObjectKind::View, "v_open", "CREATE VIEW dbo.v_open AS SELECT 1 AS a; DROP TABLE victim", "text after"),
        (ObjectKind::View, "v_open", "CREATE VIEW dbo.v_open AS SELECT 1 AS a UPDATE victim SET a = 0", "UPDATE"),
        (ObjectKind::View, "v_open", "CREATE VIEW dbo.v_open AS SELECT 1 AS a\nGO\nTRUNCATE TABLE victim", "second statement"),
        (ObjectKind::View, "v_open", "CREATE VIEW dbo.v_open AS SELECT N'it''s' AS [a]]b] SHUTDOWN", "second statement"),
        (ObjectKind::Function, "f", "CREATE FUNCTION dbo.f() RETURNS int AS BEGIN RETURN 1 END GRANT CONTROL TO public", "text after"),
        (ObjectKind::Function, "f", "CREATE FUNCTION dbo.f() RETURNS int AS BEGIN RETURN (CASE WHEN 1=1 THEN 1 END) END; DROP TABLE victim", "text after"),
        // Another object than the declared one.
        (ObjectKind::View, "v_open", "CREATE OR ALTER VIEW dbo.victim_report AS SELECT 1 AS a", "not the declared"),
        (ObjectKind::View, "v_open", "CREATE PROCEDURE dbo.v_open AS DROP TABLE victim", "creates a procedure"),
        (ObjectKind::Other("procedure".into()), "p", "CREATE PROCEDURE dbo.[p]]x] AS SELECT 1", "not the declared"),
        // A trigger on a table of the target's own, or a DDL trigger.
        (ObjectKind::Trigger, "shifts_audit", "CREATE TRIGGER dbo.shifts_audit ON dbo.victim AFTER INSERT AS DELETE FROM victim", "another table"),
        (ObjectKind::Trigger, "shifts_audit", "CREATE TRIGGER shifts_audit ON ALL SERVER FOR LOGON AS ROLLBACK", "DDL trigger"),
        // What the lexer must not be fooled by.
        (ObjectKind::View, "v_open", "CREATE VIEW dbo.v_open AS SELECT 'a", "unterminated"),
        (ObjectKind::View, "v_open", "CREATE VIEW dbo.v_open AS SELECT 1 AS a /* /* */ DROP TABLE victim", "unterminated"),
        (ObjectKind::View, "v_open", "CREATE VIEW dbo.v_open AS SELECT 1 AS [a; DROP TABLE victim", "unterminated"),
        // A kind the source never writes.
        (ObjectKind::Type, "t", "CREATE TYPE dbo.t FROM int", "never writes"),
    ];
    for (kind, name, ddl, why) in cases {
        let e = refused(&object(kind.clone(), name, ddl));
        assert!(e.contains(why), "{ddl}: {e}");
    }
}

#[test]
fn table_fragments_the_target_splices_are_checked() {
    let table = |edit: &dyn Fn(&mut TableDef)| {
        let mut t = TableDef::new(
            TableName::new(Some("dbo"), "shifts"),
            vec![
                Column::new("id", ColumnType::Int32, "int"),
                Column::new(
                    "note",
                    ColumnType::Text {
                        max_len: Some(50),
                        fixed: false,
                        national: true,
                    },
                    "nvarchar(50)",
                ),
            ],
        );
        t.properties
            .insert("mssql.pk.clustered".into(), "true".into());
        edit(&mut t);
        ENGINE.check_table_sql(&t, &archive())
    };
    assert!(table(&|_| {}).is_ok());
    assert!(table(&|t| t.columns[1].default = Some("(N'')".into())).is_ok());
    for (edit, why) in [
        (
            Box::new(|t: &mut TableDef| {
                t.columns[1].native_type = "nvarchar(50)) DROP TABLE victim --".into()
            }) as Box<dyn Fn(&mut TableDef)>,
            "not a SQL Server type",
        ),
        (
            Box::new(|t: &mut TableDef| {
                t.columns[1].default = Some("(N'x') DROP TABLE victim".into())
            }),
            "DROP",
        ),
        (
            Box::new(|t: &mut TableDef| {
                t.columns[1].default = Some("((select top 1 a from victim))".into())
            }),
            "query",
        ),
        (
            // A `--` comment ended by a bare carriage return: what follows
            // is read as text of the expression, and refused.
            Box::new(|t: &mut TableDef| {
                t.columns[1].default = Some("(1 --'\r) DROP TABLE victim SELECT (1)".into())
            }),
            "DROP",
        ),
        (
            Box::new(|t: &mut TableDef| {
                t.properties.insert(
                    "mssql.column.note.collation".into(),
                    "Latin1_General_BIN2 NOT NULL) DROP TABLE victim --".into(),
                );
            }),
            "collation",
        ),
    ] {
        let e = table(&*edit).unwrap_err();
        assert!(e.contains(why), "{e}");
    }
}
