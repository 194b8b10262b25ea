//! The names a translation may refer to, and how each engine resolves and
//! writes them.
//!
//! SQLite resolves identifiers ignoring ASCII case, whatever their quoting
//! (`[Order Details]`, `` `x` ``, `"x"`); PostgreSQL folds an unquoted one
//! to lower case and takes a quoted one as it is. The target text always
//! quotes, with the catalog's spelling, so that a translated view reads the
//! tables exactly as the restore named them: a SQLite table `Orders` is
//! PostgreSQL's `"public"."Orders"`, a PostgreSQL `hr.staff` is SQLite's
//! `"staff"`, and SQL Server's `"dbo"."Orders"` / `"hr"."staff"`.

use bru_core::{TableDef, TableName};
use sqlparser::ast::Ident;

use crate::{Dialect, Kind};

/// A table or view a translation can read, with its columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    /// The name in the archive.
    pub name: TableName,
    /// Its columns, with their kinds, in order.
    pub columns: Vec<(String, Kind)>,
}

/// The relations of the archive that translations may name: its tables
/// (from their definitions) and the views translated so far.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    relations: Vec<Relation>,
}

impl Catalog {
    /// The catalog of `tables`.
    pub fn new<'t>(tables: impl IntoIterator<Item = &'t TableDef>) -> Catalog {
        Catalog {
            relations: tables
                .into_iter()
                .map(|t| Relation {
                    name: t.name.clone(),
                    columns: t
                        .columns
                        .iter()
                        .map(|c| (c.name.clone(), Kind::of(&c.ty)))
                        .collect(),
                })
                .collect(),
        }
    }

    /// Adds a relation (a view just translated) that later views may read.
    pub fn add(&mut self, relation: Relation) {
        self.relations.push(relation);
    }

    /// The relation that `parts` (`[schema.]name` as written in `from`'s
    /// dialect) names.
    pub(crate) fn find(&self, from: Dialect, parts: &[Ident]) -> Option<&Relation> {
        let (schema, name) = match parts {
            [name] => (None, name),
            [schema, name] => (Some(schema), name),
            _ => return None,
        };
        let default_schema = |s: &Option<String>| match from {
            // SQLite's main schema; PostgreSQL's public when unqualified.
            Dialect::Sqlite => s.is_none() || s.as_deref() == Some("main"),
            // SQL Server's dbo, the schema an unqualified name finds first.
            Dialect::Mssql => s.is_none() || s.as_deref() == Some("dbo"),
            Dialect::Postgres => s.is_none() || s.as_deref() == Some("public"),
        };
        let mut found = self.relations.iter().filter(|r| {
            same(from, name, &r.name.name)
                && match schema {
                    None => default_schema(&r.name.schema),
                    Some(s) if from == Dialect::Sqlite && same(from, s, "main") => {
                        default_schema(&r.name.schema)
                    }
                    Some(s) => r.name.schema.as_deref().is_some_and(|rs| same(from, s, rs)),
                }
        });
        let first = found.next()?;
        // Two that match (names differing only in case, in SQLite): none.
        found.next().is_none().then_some(first)
    }
}

/// Whether identifier `ident`, as written in `from`'s dialect, names
/// `name` (a name as the catalog spells it).
pub(crate) fn same(from: Dialect, ident: &Ident, name: &str) -> bool {
    match from {
        Dialect::Postgres if ident.quote_style.is_none() => ident.value.to_lowercase() == name,
        Dialect::Postgres => ident.value == name,
        // SQL Server's identifiers follow the database's collation, which
        // ignores case unless it is a _CS or _BIN one.
        _ => ident.value.eq_ignore_ascii_case(name),
    }
}

/// `name` quoted for any target (all double `"`: the SQL Server target's
/// sessions run with `QUOTED_IDENTIFIER ON`, and a module keeps that).
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// How the restore names relation `name` in the target, qualified there.
pub(crate) fn target_relation(to: Dialect, name: &TableName) -> String {
    match to {
        Dialect::Postgres => format!(
            "{}.{}",
            quote(name.schema.as_deref().unwrap_or("public")),
            quote(&name.name)
        ),
        Dialect::Mssql => format!(
            "{}.{}",
            quote(name.schema.as_deref().unwrap_or("dbo")),
            quote(&name.name)
        ),
        Dialect::Sqlite => quote(&name.name),
    }
}

/// The name a restore into `to` gives relation `name`.
pub fn target_name(to: Dialect, name: &TableName) -> TableName {
    match to {
        Dialect::Postgres => TableName {
            schema: Some(name.schema.clone().unwrap_or_else(|| "public".into())),
            name: name.name.clone(),
        },
        Dialect::Mssql => TableName {
            schema: Some(name.schema.clone().unwrap_or_else(|| "dbo".into())),
            name: name.name.clone(),
        },
        Dialect::Sqlite => TableName::bare(&name.name),
    }
}
