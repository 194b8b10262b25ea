//! The translation of each construct of the table, and the refusal of what
//! it does not cover, on plain text (the same queries run on both engines
//! in tests/translate_*.rs).

use bru_core::{Column, ColumnType, TableDef, TableName};

use crate::{Catalog, Dialect, ExprRole, Translator};

fn text() -> ColumnType {
    ColumnType::Text {
        max_len: None,
        fixed: false,
        national: false,
    }
}

fn catalog(schema: Option<&str>) -> Catalog {
    let products = TableDef::new(
        TableName::new(schema, "Products"),
        vec![
            Column::new("ProductID", ColumnType::Int64, "INTEGER"),
            Column::new("ProductName", text(), "TEXT"),
            Column::new(
                "UnitPrice",
                ColumnType::Decimal {
                    precision: None,
                    scale: None,
                },
                "NUMERIC",
            ),
            Column::new("Discontinued", text(), "TEXT"),
            Column::new("Weight", ColumnType::Float64, "REAL"),
            Column::new(
                "Shipped",
                ColumnType::Timestamp {
                    tz: false,
                    precision: None,
                },
                "DATETIME",
            ),
        ],
    );
    let orders = TableDef::new(
        TableName::new(schema, "Order Details"),
        vec![
            Column::new("ProductID", ColumnType::Int64, "INTEGER"),
            Column::new("Quantity", ColumnType::Int64, "INTEGER"),
        ],
    );
    Catalog::new([&products, &orders])
}

fn to_pg(sql: &str) -> Result<String, String> {
    let c = catalog(None);
    let t = Translator::new(Dialect::Sqlite, Dialect::Postgres, &c).unwrap();
    t.view(&TableName::bare("v"), sql)
        .map(|v| v.ddl)
        .map_err(|e| e.0)
}

fn check_pg(sql: &str) -> Result<String, String> {
    let c = catalog(None);
    let t = Translator::new(Dialect::Sqlite, Dialect::Postgres, &c).unwrap();
    t.expression(&TableName::bare("Products"), ExprRole::Check, sql)
        .map_err(|e| e.0)
}

#[test]
fn bracket_quoted_checks_become_double_quoted() {
    assert_eq!(check_pg("[Weight]>=(0)").unwrap(), "(\"Weight\" >= (0))");
    assert_eq!(check_pg("`productid` > 0").unwrap(), "(\"ProductID\" > 0)");
    // A NUMERIC column compared with an integer: exact.
    assert_eq!(
        check_pg("[UnitPrice]>=(0)").unwrap(),
        "(\"UnitPrice\" >= (0))"
    );
}

#[test]
fn a_text_column_compared_with_an_integer_compares_text() {
    let v = to_pg("CREATE VIEW v AS SELECT ProductID FROM Products WHERE Discontinued=0").unwrap();
    assert!(v.contains("\"Discontinued\" = '0'"), "{v}");
}

#[test]
fn integer_division_keeps_sqlite_null_for_zero() {
    let v =
        to_pg("CREATE VIEW v AS SELECT Quantity / ProductID AS q FROM [Order Details]").unwrap();
    assert!(v.contains("NULLIF("), "{v}");
}

#[test]
fn refusals_name_the_construct() {
    let r = to_pg("CREATE VIEW v AS SELECT ProductName + ' ' AS x FROM Products").unwrap_err();
    assert!(r.contains("`+` on text"), "{r}");
    let r = to_pg("CREATE VIEW v AS SELECT UnitPrice * 2 AS x FROM Products").unwrap_err();
    assert!(r.contains("NUMERIC/DECIMAL"), "{r}");
    let r = to_pg(
        "CREATE VIEW v AS SELECT ProductID FROM Products WHERE Shipped > datetime('1997-01-01')",
    )
    .unwrap_err();
    assert!(r.contains("date"), "{r}");
    let r = to_pg("CREATE VIEW v AS SELECT ProductName FROM Products WHERE ProductName LIKE 'a%'")
        .unwrap_err();
    assert!(r.contains("LIKE"), "{r}");
    let r = to_pg("CREATE VIEW v AS SELECT ProductID, max(Weight) AS w FROM Products").unwrap_err();
    assert!(r.contains("neither grouped nor aggregated"), "{r}");
    let r = to_pg("CREATE VIEW v AS SELECT ProductID + 1 FROM Products").unwrap_err();
    assert!(r.contains("without a name"), "{r}");
}

#[test]
fn a_union_ordered_by_text_sorts_bytes_with_nulls_first() {
    let v = to_pg(
        "CREATE VIEW v AS SELECT ProductName FROM Products UNION SELECT 'x' ORDER BY ProductName",
    )
    .unwrap();
    assert!(v.contains("COLLATE \"C\" ASC NULLS FIRST"), "{v}");
}

#[test]
fn postgres_views_come_back_for_sqlite() {
    let c = catalog(Some("public"));
    let t = Translator::new(Dialect::Postgres, Dialect::Sqlite, &c).unwrap();
    let v = t
        .view(
            &TableName::new(Some("public"), "v"),
            "CREATE VIEW public.v AS\n SELECT p.\"ProductID\",\n    COALESCE(p.\"ProductName\", 'none'::text) AS name\n   FROM public.\"Products\" p\n  WHERE (p.\"Weight\" > (2)::double precision);",
        )
        .unwrap();
    assert_eq!(
        v.ddl,
        "CREATE VIEW \"v\" (\"ProductID\", \"name\") AS\nSELECT \"p\".\"ProductID\", COALESCE(\"p\".\"ProductName\", 'none') AS \"name\" FROM \"Products\" AS \"p\" WHERE ((\"p\".\"Weight\" > CAST((2) AS REAL)))"
    );
}

/// A SQL Server table as the mssql source describes it (schema dbo).
fn mssql_catalog() -> Catalog {
    let decimal = ColumnType::Decimal {
        precision: Some(10),
        scale: Some(2),
    };
    let t = TableDef::new(
        TableName::new(Some("dbo"), "Shifts"),
        vec![
            Column::new("Id", ColumnType::Int32, "int"),
            Column::new("Hours", ColumnType::Int32, "int"),
            Column::new("Rate", decimal, "decimal(10,2)"),
            Column::new("Weight", ColumnType::Float64, "float"),
            Column::new("Note", text(), "nvarchar(20)"),
            Column::new("Active", ColumnType::Bool, "bit"),
            Column::new("Token", ColumnType::Uuid, "uniqueidentifier"),
        ],
    );
    Catalog::new([&t])
}

fn mssql(to: Dialect, role: ExprRole<'_>, sql: &str) -> Result<String, String> {
    let c = mssql_catalog();
    let t = Translator::new(Dialect::Mssql, to, &c).unwrap();
    t.expression(&TableName::new(Some("dbo"), "Shifts"), role, sql)
        .map_err(|e| e.0)
}

#[test]
fn sql_server_checks_and_defaults_as_sys_catalogs_write_them() {
    let pg = Dialect::Postgres;
    assert_eq!(
        mssql(pg, ExprRole::Check, "([Hours]>(0) AND [Hours]<=(24))").unwrap(),
        "(((\"Hours\" > (0)) AND (\"Hours\" <= (24))))"
    );
    // A decimal compared with a number: exact in both.
    assert_eq!(
        mssql(pg, ExprRole::Check, "([rate]>=(0))").unwrap(),
        "((\"Rate\" >= (0)))"
    );
    // A bit column compared with 1 is a boolean in PostgreSQL, 0/1 in SQLite.
    assert_eq!(
        mssql(pg, ExprRole::Check, "([Active]=(1) OR [Hours]<(8))").unwrap(),
        "(((\"Active\" = true) OR (\"Hours\" < (8))))"
    );
    assert_eq!(
        mssql(Dialect::Sqlite, ExprRole::Check, "([Active]=(1))").unwrap(),
        "((\"Active\" = 1))"
    );
    // Integer division: both fail on zero and truncate toward zero.
    assert_eq!(
        mssql(pg, ExprRole::Check, "([Hours]/[Id]>=(0))").unwrap(),
        "(((\"Hours\" / \"Id\") >= (0)))"
    );
    let d = |col: &'static str| ExprRole::Default(col);
    assert_eq!(mssql(pg, d("Hours"), "((8))").unwrap(), "((8))");
    assert_eq!(mssql(pg, d("Rate"), "((1.50))").unwrap(), "1.50");
    assert_eq!(mssql(pg, d("Note"), "(N'none')").unwrap(), "('none')");
    assert_eq!(mssql(pg, d("Active"), "((1))").unwrap(), "true");
    assert_eq!(
        mssql(pg, d("Token"), "(newid())").unwrap(),
        "gen_random_uuid()"
    );
    assert_eq!(
        mssql(pg, d("Note"), "(N'a'+N'b')").unwrap(),
        "(('a' || 'b'))"
    );
}

#[test]
fn sql_server_constructs_without_an_exact_translation_are_named() {
    let pg = Dialect::Postgres;
    for (role, sql, construct) in [
        (ExprRole::Check, "([Note]<>N'')", "collation"),
        (ExprRole::Check, "([Note] IN ('a','b'))", "collation"),
        (ExprRole::Check, "(len([Note])>(0))", "trailing spaces"),
        (ExprRole::Check, "(upper([Note])=[Note])", "upper"),
        (ExprRole::Check, "([Note]+[Hours]>(0))", "converts the text"),
        (ExprRole::Check, "([Rate]*(2)>(1))", "decimal"),
        (ExprRole::Default("Note"), "(getdate())", "current time"),
        (ExprRole::Default("Hours"), "(isnull(NULL,N'x'))", "isnull"),
    ] {
        let e = mssql(pg, role, sql).expect_err(sql);
        assert!(e.contains(construct), "{sql}: {e}");
    }
    // Into SQLite: no uuid function, decimals are text there, and a zero
    // divisor gives NULL instead of failing.
    for (role, sql, construct) in [
        (ExprRole::Default("Token"), "(newid())", "uuid"),
        (ExprRole::Check, "([Rate]>=(0))", "decimal"),
        (ExprRole::Check, "([Hours]/[Id]>=(0))", "zero"),
    ] {
        let e = mssql(Dialect::Sqlite, role, sql).expect_err(sql);
        assert!(e.contains(construct), "{sql}: {e}");
    }
}

#[test]
fn sql_server_views_with_top_isnull_and_brackets() {
    let c = mssql_catalog();
    let t = Translator::new(Dialect::Mssql, Dialect::Postgres, &c).unwrap();
    let v = t
        .view(
            &TableName::new(Some("dbo"), "Busy"),
            "CREATE VIEW [dbo].[Busy] AS SELECT TOP 5 [Id], ISNULL([Hours], 0) * 2 AS [Double], \
             [Note] + N'!' AS Label FROM [dbo].[Shifts] WHERE [Active] = 1 ORDER BY [Id] DESC",
        )
        .unwrap();
    assert_eq!(
        v.ddl,
        "CREATE VIEW \"dbo\".\"Busy\" (\"Id\", \"Double\", \"Label\") AS\nSELECT \"dbo\".\"Shifts\".\"Id\", (COALESCE(\"dbo\".\"Shifts\".\"Hours\", 0) * CAST(2 AS bigint)) AS \"Double\", (\"dbo\".\"Shifts\".\"Note\" || '!') AS \"Label\" FROM \"dbo\".\"Shifts\" WHERE (\"dbo\".\"Shifts\".\"Active\" = true) ORDER BY \"dbo\".\"Shifts\".\"Id\" DESC NULLS LAST LIMIT 5"
    );
    for (sql, construct) in [
        (
            "CREATE VIEW v AS SELECT TOP 5 Id FROM Shifts",
            "without ORDER BY",
        ),
        (
            "CREATE VIEW v AS SELECT TOP 5 Id FROM Shifts ORDER BY Note",
            "ORDER BY text",
        ),
        (
            "CREATE VIEW v AS SELECT Id FROM Shifts WHERE Note = 'x'",
            "collation",
        ),
        (
            "CREATE VIEW v AS SELECT avg(Hours) AS h FROM Shifts",
            "truncated",
        ),
    ] {
        let e = t
            .view(&TableName::new(Some("dbo"), "v"), sql)
            .expect_err(sql)
            .0;
        assert!(e.contains(construct), "{sql}: {e}");
    }
}

fn into_mssql(from: Dialect, sql: &str) -> Result<String, String> {
    let c = catalog(None);
    let t = Translator::new(from, Dialect::Mssql, &c).unwrap();
    t.view(&TableName::bare("v"), sql)
        .map(|v| v.ddl)
        .map_err(|e| e.0)
}

fn mssql_expr(role: ExprRole<'_>, sql: &str) -> Result<String, String> {
    let c = catalog(None);
    let t = Translator::new(Dialect::Sqlite, Dialect::Mssql, &c).unwrap();
    t.expression(&TableName::bare("Products"), role, sql)
        .map_err(|e| e.0)
}

#[test]
fn sqlite_into_sql_server_writes_t_sql() {
    let v = into_mssql(
        Dialect::Sqlite,
        "CREATE VIEW v AS SELECT ProductID, ProductName || '!' AS n, Weight > 1 AS heavy, \
         count(*) OVER () AS c FROM Products",
    );
    assert!(
        v.unwrap_err().contains("window"),
        "window functions refused"
    );
    let v = into_mssql(
        Dialect::Sqlite,
        "CREATE VIEW v AS SELECT ProductID, ProductName || 'é' AS n, Weight > 1 AS heavy \
         FROM Products WHERE ProductName = 'Chai' ORDER BY ProductID DESC LIMIT 5 OFFSET 2",
    )
    .unwrap();
    assert_eq!(
        v,
        "CREATE VIEW \"dbo\".\"v\" (\"ProductID\", \"n\", \"heavy\") AS\n\
         SELECT \"dbo\".\"Products\".\"ProductID\", (\"dbo\".\"Products\".\"ProductName\" + N'é') AS \"n\", \
         (CASE WHEN (\"dbo\".\"Products\".\"Weight\" > 1) THEN 1 WHEN NOT ((\"dbo\".\"Products\".\"Weight\" > 1)) THEN 0 END) AS \"heavy\" \
         FROM \"dbo\".\"Products\" \
         WHERE ((CAST(CAST(\"dbo\".\"Products\".\"ProductName\" AS nvarchar(max)) AS varbinary(max)) + 0x01) = (CAST(CAST(N'Chai' AS nvarchar(max)) AS varbinary(max)) + 0x01)) \
         ORDER BY \"dbo\".\"Products\".\"ProductID\" DESC \
         OFFSET 2 ROWS FETCH NEXT 5 ROWS ONLY"
    );
    // count is COUNT_BIG, an int sum is summed as bigint, 2^31 is a bigint.
    let v = into_mssql(
        Dialect::Sqlite,
        "CREATE VIEW v AS SELECT count(*) AS n, sum(Quantity) AS q, avg(Quantity) AS a, \
         max(Quantity) + 3000000000 AS m, 7 / 2 AS half FROM [Order Details]",
    )
    .unwrap();
    for want in [
        "COUNT_BIG(*)",
        "sum(CAST(\"dbo\".\"Order Details\".\"Quantity\" AS bigint))",
        "CAST(3000000000 AS bigint)",
        "(CAST(7 AS bigint) / NULLIF(CAST(2 AS bigint), 0))",
        "/ NULLIF(COUNT_BIG(",
    ] {
        assert!(v.contains(want), "{want} in {v}");
    }
}

#[test]
fn what_sql_server_compares_by_collation_is_refused_by_name() {
    for (sql, construct) in [
        (
            "SELECT ProductID FROM Products WHERE ProductName < 'b'",
            "ordering comparison of text",
        ),
        (
            "SELECT DISTINCT ProductName FROM Products",
            "DISTINCT of text",
        ),
        (
            "SELECT ProductName, count(*) AS n FROM Products GROUP BY ProductName",
            "GROUP BY text",
        ),
        (
            "SELECT ProductName FROM Products UNION SELECT Discontinued FROM Products",
            "text columns",
        ),
        ("SELECT max(ProductName) AS m FROM Products", "of text"),
        (
            "SELECT ProductID FROM Products ORDER BY ProductName",
            "ORDER BY text",
        ),
        (
            "SELECT upper(ProductName) AS u FROM Products",
            "into SQL Server",
        ),
        ("SELECT ProductID FROM Products LIMIT 3", "without ORDER BY"),
        (
            "SELECT n FROM (SELECT count(*) FROM Products) AS x",
            "without a name",
        ),
    ] {
        let e = into_mssql(Dialect::Sqlite, &format!("CREATE VIEW v AS {sql}")).unwrap_err();
        assert!(e.contains(construct), "{sql}: {e}");
    }
    // UNION ALL of text keeps duplicates: no comparison, translated.
    into_mssql(
        Dialect::Sqlite,
        "CREATE VIEW v AS SELECT ProductName FROM Products UNION ALL SELECT Discontinued FROM Products",
    )
    .unwrap();
}

#[test]
fn table_expressions_into_sql_server() {
    assert_eq!(
        mssql_expr(ExprRole::Check, "[Weight]>=(0) AND ProductName <> ''").unwrap(),
        "((\"Weight\" >= (0)) AND ((CAST(CAST(\"ProductName\" AS nvarchar(max)) AS varbinary(max)) + 0x01) <> (CAST(CAST(N'' AS nvarchar(max)) AS varbinary(max)) + 0x01)))"
    );
    assert_eq!(
        mssql_expr(ExprRole::Default("Weight"), "1.5").unwrap(),
        "1.5E0"
    );
    assert_eq!(
        mssql_expr(ExprRole::Default("ProductName"), "'n/a'").unwrap(),
        "N'n/a'"
    );
    assert_eq!(
        mssql_expr(ExprRole::Predicate, "Weight > 10 AND ProductID IS NOT NULL").unwrap(),
        "((\"Weight\" > 10) AND (\"ProductID\" IS NOT NULL))"
    );
    let e = mssql_expr(ExprRole::Predicate, "Weight > 10 OR ProductID > 2").unwrap_err();
    assert!(e.contains("filtered indexes"), "{e}");
    let e = mssql_expr(ExprRole::Predicate, "ProductName = 'x'").unwrap_err();
    assert!(e.contains("filtered indexes"), "{e}");
    let e = mssql_expr(ExprRole::IndexExpr, "abs(Weight)").unwrap_err();
    assert!(e.contains("indexes columns"), "{e}");
    assert_eq!(
        mssql_expr(ExprRole::Generated("ProductID"), "Quantity * 2").unwrap_err(),
        "the name Quantity, which names no column in reach"
    );
    assert_eq!(
        mssql_expr(ExprRole::Generated("ProductID"), "ProductID * 2").unwrap(),
        "(\"ProductID\" * CAST(2 AS bigint))"
    );
}

#[test]
fn postgres_into_sql_server_booleans_and_decimals() {
    let c = {
        let t = TableDef::new(
            TableName::new(Some("public"), "shifts"),
            vec![
                Column::new("id", ColumnType::Int64, "bigint"),
                Column::new("approved", ColumnType::Bool, "boolean"),
                Column::new(
                    "rate",
                    ColumnType::Decimal {
                        precision: Some(10),
                        scale: Some(2),
                    },
                    "numeric(10,2)",
                ),
            ],
        );
        Catalog::new([&t])
    };
    let t = Translator::new(Dialect::Postgres, Dialect::Mssql, &c).unwrap();
    let name = TableName::new(Some("public"), "shifts");
    assert_eq!(
        t.expression(&name, ExprRole::Check, "((rate >= 1.5) OR approved)")
            .unwrap(),
        "((((\"rate\" >= 1.5)) OR (\"approved\" = 1)))"
    );
    assert_eq!(
        t.expression(&name, ExprRole::Default("approved"), "false")
            .unwrap(),
        "CAST(0 AS bit)"
    );
    assert!(t
        .expression(&name, ExprRole::Check, "((rate * 2) > 3)")
        .unwrap_err()
        .0
        .contains("SQL Server's decimal"));
    let v = t
        .view(
            &TableName::new(Some("public"), "ok"),
            "CREATE VIEW public.ok AS SELECT id, (id > 3) AS big FROM public.shifts WHERE approved \
             ORDER BY id",
        )
        .unwrap();
    assert!(
        v.ddl
            .contains("CAST((CASE WHEN ((\"public\".\"shifts\".\"id\" > 3)) THEN 1")
            && v.ddl
                .contains("WHERE (\"public\".\"shifts\".\"approved\" = 1)")
            && v.ddl.contains("IS NULL THEN 1 ELSE 0 END) ASC")
            && v.ddl.ends_with("OFFSET 0 ROWS"),
        "{}",
        v.ddl
    );
}
