//! The [`bru_core::TableDef::properties`] keys the SQL Server source
//! records and the SQL Server target reads: the facts of a table that the
//! neutral model has no field for. Every key starts with `mssql.`; other
//! engines' targets ignore them (they are SQL Server physical design, not
//! data).
//!
//! Keys about one column, index or constraint name it after the kind:
//! `mssql.column.<column>.<attr>`, `mssql.index.<index>.<attr>`,
//! `mssql.pk.<attr>`, `mssql.unique.<constraint>.<attr>`,
//! `mssql.check.<constraint>.<attr>`, `mssql.fk.<constraint>.<attr>`.
//! Names may contain dots, so never split a key: build it with [`key`] from
//! the names the table already holds and look it up.
//!
//! Values are `true` for flags (a flag that is off is absent), names as
//! they are, and lists of column names as a JSON array of strings.
//! Anything spliced into T-SQL from a property (a collation name, a default
//! constraint name) is checked by the trust checker first.

use bru_core::TableDef;

/// Table: set (`true`) on every table the SQL Server source writes, so
/// that a target knows its `native_type`s are T-SQL spellings even when
/// nothing else about the table needs a property (no key, index,
/// collation or named default); the trust checker's `is_mssql_table`
/// sees it as it sees any `mssql.` key.
pub const TABLE_MARKER: &str = "mssql.table";

/// Column: the collation, when it differs from the database default
/// (`Latin1_General_BIN2`).
pub const COLUMN_COLLATION: &str = "collation";
/// Column: the name of its default constraint (`DF_t_c`); the default's
/// expression itself is [`bru_core::Column::default`].
pub const COLUMN_DEFAULT_NAME: &str = "default_name";
/// Column: the alias type it was declared with (`[dbo].[phone]`); its
/// `native_type` is the alias's base type.
pub const COLUMN_ALIAS_TYPE: &str = "alias_type";
/// Column: an identity or computed column marked NOT FOR REPLICATION.
pub const COLUMN_NOT_FOR_REPLICATION: &str = "not_for_replication";
/// Column: declared SPARSE.
pub const COLUMN_SPARSE: &str = "sparse";
/// Column: declared ROWGUIDCOL.
pub const COLUMN_ROWGUIDCOL: &str = "rowguidcol";

/// Primary key, unique constraint or index: clustered.
pub const CLUSTERED: &str = "clustered";
/// Primary key, unique constraint or index: the key columns sorted
/// descending, as a JSON array of column names (absent when none are).
pub const DESCENDING: &str = "descending";
/// Index: its INCLUDE columns, a JSON array of column names.
pub const INCLUDE: &str = "include";

/// Check or foreign key constraint: NOT FOR REPLICATION.
pub const NOT_FOR_REPLICATION: &str = "not_for_replication";
/// Check or foreign key constraint: disabled (`NOCHECK CONSTRAINT`).
pub const DISABLED: &str = "disabled";
/// Check or foreign key constraint: enabled but not trusted (added or
/// re-enabled `WITH NOCHECK`).
pub const NOT_TRUSTED: &str = "not_trusted";

/// What a key is about.
#[derive(Debug, Clone, Copy)]
pub enum On<'a> {
    Column(&'a str),
    Index(&'a str),
    PrimaryKey,
    Unique(&'a str),
    Check(&'a str),
    ForeignKey(&'a str),
}

/// The property key of `attr` about `on`.
pub fn key(on: On, attr: &str) -> String {
    match on {
        On::Column(c) => format!("mssql.column.{c}.{attr}"),
        On::Index(i) => format!("mssql.index.{i}.{attr}"),
        On::PrimaryKey => format!("mssql.pk.{attr}"),
        On::Unique(u) => format!("mssql.unique.{u}.{attr}"),
        On::Check(c) => format!("mssql.check.{c}.{attr}"),
        On::ForeignKey(f) => format!("mssql.fk.{f}.{attr}"),
    }
}

/// The value of `attr` about `on` in `table`.
pub fn get<'t>(table: &'t TableDef, on: On, attr: &str) -> Option<&'t str> {
    table.property(&key(on, attr))
}

/// Whether the flag `attr` about `on` is set in `table`.
pub fn flag(table: &TableDef, on: On, attr: &str) -> bool {
    get(table, on, attr) == Some("true")
}

/// A JSON list of names (for [`DESCENDING`] and [`INCLUDE`]) read back;
/// `Err` when the archive holds something else there.
pub fn names(table: &TableDef, on: On, attr: &str) -> Result<Vec<String>, String> {
    match get(table, on, attr) {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(text).map_err(|_| {
            format!(
                "property {} of table {} is not a list of column names",
                key(on, attr),
                table.name
            )
        }),
    }
}

/// A list of names as [`names`] reads it back.
pub fn names_value(list: &[String]) -> String {
    serde_json::to_string(list).expect("a list of strings always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use bru_core::TableName;

    #[test]
    fn keys_and_lists_round_trip() {
        let mut t = TableDef::new(TableName::new(Some("dbo"), "t"), Vec::new());
        t.properties.insert(
            key(On::Index("ix.a"), INCLUDE),
            names_value(&["b".into(), "c,d\"".into()]),
        );
        t.properties
            .insert(key(On::PrimaryKey, CLUSTERED), "true".into());
        assert_eq!(
            names(&t, On::Index("ix.a"), INCLUDE).unwrap(),
            vec!["b".to_owned(), "c,d\"".to_owned()]
        );
        assert!(flag(&t, On::PrimaryKey, CLUSTERED));
        assert!(!flag(&t, On::Unique("u"), CLUSTERED));
        assert_eq!(
            names(&t, On::Index("x"), INCLUDE).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            key(On::Column("a.b"), COLUMN_COLLATION),
            "mssql.column.a.b.collation"
        );
        t.properties
            .insert(key(On::Index("bad"), INCLUDE), "drop table".into());
        assert!(names(&t, On::Index("bad"), INCLUDE).is_err());
    }
}
