//! Table definitions for tests, built with bru-core's constructors.

use bru_core::{Column, ColumnType, IndexDef, TableDef, TableName};

/// Unbounded, varying text.
pub fn text() -> ColumnType {
    ColumnType::Text {
        max_len: None,
        fixed: false,
        national: false,
    }
}

/// A nullable column as another engine describes it: a neutral type and no
/// native type name.
pub fn column(name: &str, ty: ColumnType) -> Column {
    Column::new(name, ty, "")
}

/// Table `name` with `columns` nullable INTEGER columns `c0`, `c1`...
pub fn int_table(name: &str, columns: usize) -> TableDef {
    TableDef::new(
        TableName::bare(name),
        (0..columns)
            .map(|i| Column::new(format!("c{i}"), ColumnType::Int64, "INTEGER"))
            .collect(),
    )
}

/// A plain (not partial, default method) index on `columns`, with its
/// native CREATE INDEX statement.
pub fn index(name: &str, columns: &[&str], unique: bool, native_ddl: &str) -> IndexDef {
    IndexDef {
        name: name.into(),
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        unique,
        predicate: None,
        method: None,
        native_ddl: Some(native_ddl.into()),
    }
}
