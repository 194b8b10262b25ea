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
