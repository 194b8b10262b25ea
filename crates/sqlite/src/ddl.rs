//! Generating SQLite DDL from the neutral model, for tables that come from
//! another engine (a SQLite table is recreated from its own `CREATE` text).
//!
//! What the generated table keeps and leaves out, and why:
//! - column types per [`crate::types::declared_type`], chosen so SQLite's
//!   affinity cannot alter the values; NOT NULL is kept;
//! - a single integer primary key column is declared `INTEGER` so it becomes
//!   the rowid (SQLite's identity: new rows get max+1);
//! - PRIMARY KEY, UNIQUE and FOREIGN KEY constraints are kept (they are
//!   column lists, the same in every dialect);
//! - defaults, CHECK constraints, index expressions and partial-index
//!   predicates are written in the source engine's SQL. The restore
//!   translates them into SQLite's first (`bru-translate`, exactly or not at
//!   all, listing what it could not translate) and marks the table
//!   [`TableDef::translated_for`] `sqlite`; only then are they written, and
//!   those statements run under the archive guard like a SQLite archive's own
//!   DDL, since their text derives from the archive. Without that mark
//!   (nothing translated them) they are left out and listed;
//! - a generation expression the restore translated is written
//!   (`GENERATED ALWAYS AS (…) STORED` or `VIRTUAL`, as the source had it),
//!   and SQLite computes the column, which the loader leaves out; one it did
//!   not translate is left out and listed, and the column is an ordinary
//!   one holding the source's computed values;
//! - indexes on plain columns are always kept.

use bru_core::{ColumnType, IndexDef, TableDef};

use crate::quote::{ident, ident_list};
use crate::types::declared_type;

/// What [`create_table`] leaves out of `table`, one line each, for the
/// restore summary.
pub fn left_out(table: &TableDef) -> Vec<String> {
    let engine = table
        .native
        .as_ref()
        .map_or("another engine", |n| n.engine.as_str());
    let translated = is_translated(table);
    let mut notes = Vec::new();
    for c in &table.columns {
        let kept = translated && writes_default(c);
        if let Some(default) = c.default.as_ref().filter(|_| !kept) {
            notes.push(format!(
                "table {}, column {}: default {default} (written for {engine})",
                table.name, c.name
            ));
        }
        if let Some(g) = c.generated.as_ref().filter(|_| !translated) {
            notes.push(format!(
                "table {}, column {}: generation expression {} (written for {engine}); the column holds the source's computed values",
                table.name, c.name, g.expr
            ));
        }
    }
    for check in table.checks.iter().filter(|_| !translated) {
        notes.push(format!(
            "table {}: CHECK ({}) (written for {engine})",
            table.name, check.expr
        ));
    }
    notes
}

/// Whether the restore translated `table`'s expressions into SQLite's SQL.
pub fn is_translated(table: &TableDef) -> bool {
    table.translated_into(crate::ENGINE_NAME)
}

/// Whether a translated table's column keeps its default: not an identity's
/// (the rowid or AUTOINCREMENT carries it) or a generated column's.
fn writes_default(c: &bru_core::Column) -> bool {
    c.default.is_some() && c.identity.is_none() && c.generated.is_none()
}

/// The `CREATE TABLE` statement for `table`.
pub fn create_table(table: &TableDef) -> String {
    let translated = is_translated(table);
    let single_int_pk = table
        .primary_key
        .as_ref()
        .and_then(|pk| match &pk.columns[..] {
            [only] => table
                .columns
                .iter()
                .find(|c| &c.name == only)
                .filter(|c| {
                    matches!(
                        c.ty,
                        ColumnType::Int16 | ColumnType::Int32 | ColumnType::Int64
                    )
                })
                .map(|c| c.name.as_str()),
            _ => None,
        });
    let mut parts: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            let ty = if Some(c.name.as_str()) == single_int_pk {
                "INTEGER".to_owned()
            } else {
                declared_type(&c.ty)
            };
            let not_null = if c.nullable { "" } else { " NOT NULL" };
            let default = match &c.default {
                Some(d) if translated && writes_default(c) => format!(" DEFAULT ({d})"),
                _ => String::new(),
            };
            let generated = match &c.generated {
                Some(g) if translated => format!(
                    " GENERATED ALWAYS AS ({}) {}",
                    g.expr,
                    if g.stored { "STORED" } else { "VIRTUAL" }
                ),
                _ => String::new(),
            };
            format!("{} {ty}{not_null}{default}{generated}", ident(&c.name))
        })
        .collect();
    if let Some(pk) = &table.primary_key {
        parts.push(format!("PRIMARY KEY ({})", ident_list(&pk.columns)));
    }
    for u in &table.uniques {
        parts.push(format!("UNIQUE ({})", ident_list(&u.columns)));
    }
    for fk in &table.foreign_keys {
        let mut clause = format!(
            "FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}",
            ident_list(&fk.columns),
            ident(&fk.ref_table.name),
            ident_list(&fk.ref_columns),
            fk.on_delete.sql(),
            fk.on_update.sql()
        );
        if fk.deferrable {
            clause.push_str(" DEFERRABLE");
            if fk.initially_deferred {
                clause.push_str(" INITIALLY DEFERRED");
            }
        }
        parts.push(clause);
    }
    for check in table.checks.iter().filter(|_| translated) {
        parts.push(match &check.name {
            Some(n) => format!("CONSTRAINT {} CHECK ({})", ident(n), check.expr),
            None => format!("CHECK ({})", check.expr),
        });
    }
    format!(
        "CREATE TABLE {} (\n  {}\n)",
        ident(&table.name.name),
        parts.join(",\n  ")
    )
}

/// The `CREATE INDEX` statement for `index` on `table`, or `None` when the
/// index uses expressions or a predicate in another engine's SQL (the table
/// was not translated into SQLite's). A translated table's index columns
/// that are not column names are expressions in SQLite's SQL.
pub fn create_index(table: &TableDef, index: &IndexDef) -> Option<String> {
    let translated = is_translated(table);
    let plain_columns = index
        .columns
        .iter()
        .all(|c| table.column_index(c).is_some());
    if index.columns.is_empty() || (!translated && (index.predicate.is_some() || !plain_columns)) {
        return None;
    }
    let columns: Vec<String> = index
        .columns
        .iter()
        .map(|c| match table.column_index(c) {
            Some(_) => ident(c),
            None => c.clone(),
        })
        .collect();
    let predicate = index
        .predicate
        .as_ref()
        .map(|p| format!(" WHERE {p}"))
        .unwrap_or_default();
    Some(format!(
        "CREATE {}INDEX {} ON {} ({}){predicate}",
        if index.unique { "UNIQUE " } else { "" },
        ident(&index.name),
        ident(&table.name.name),
        columns.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bru_core::{Column, FkAction, ForeignKey, PrimaryKey, TableName};

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

    #[test]
    fn generates_keys_and_text_affinity_decimals() {
        let table = TableDef {
            name: TableName::new(Some("public"), "order"),
            columns: vec![
                col("id", ColumnType::Int64, false),
                col(
                    "amount",
                    ColumnType::Decimal {
                        precision: Some(12),
                        scale: Some(2),
                    },
                    true,
                ),
                col("site", ColumnType::Int32, true),
            ],
            primary_key: Some(PrimaryKey {
                name: None,
                columns: vec!["id".into()],
            }),
            uniques: vec![],
            indexes: vec![],
            foreign_keys: vec![ForeignKey {
                name: None,
                columns: vec!["site".into()],
                ref_table: TableName::new(Some("public"), "sites"),
                ref_columns: vec!["id".into()],
                on_delete: FkAction::Cascade,
                on_update: FkAction::NoAction,
                deferrable: true,
                initially_deferred: true,
            }],
            checks: vec![],
            native: None,
            properties: Default::default(),
            estimated_rows: None,
            created_after: Vec::new(),
            translated_for: None,
        };
        let sql = create_table(&table);
        assert_eq!(
            sql,
            "CREATE TABLE \"order\" (\n  \"id\" INTEGER NOT NULL,\n  \"amount\" DECIMAL_TEXT(12,2),\n  \
             \"site\" INTEGER,\n  PRIMARY KEY (\"id\"),\n  FOREIGN KEY (\"site\") REFERENCES \"sites\" (\"id\") \
             ON DELETE CASCADE ON UPDATE NO ACTION DEFERRABLE INITIALLY DEFERRED\n)"
        );
        let expr_index = IndexDef {
            name: "ix".into(),
            columns: vec!["lower(name)".into()],
            unique: false,
            predicate: None,
            method: None,
            native_ddl: None,
        };
        assert_eq!(create_index(&table, &expr_index), None);
        let plain = IndexDef {
            columns: vec!["site".into()],
            ..expr_index
        };
        assert_eq!(
            create_index(&table, &plain).as_deref(),
            Some("CREATE INDEX \"ix\" ON \"order\" (\"site\")")
        );
    }
}
