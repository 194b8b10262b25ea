//! T-SQL built from the neutral model: CREATE TABLE (columns, types,
//! collations, named defaults, computed columns, identity), and the
//! post-data statements (primary key, unique constraints, indexes, foreign
//! keys, checks).
//!
//! A table that SQL Server itself wrote ([`is_mssql`]) keeps its native
//! types, collations, default constraint names, computed expressions,
//! filtered-index predicates, clustering and check options as the source
//! recorded them (every fragment was checked by [`crate::trust`] before
//! the restore starts; the target checks the table again where it runs).
//! A table of another engine is mapped through [`crate::types::tsql_type`]:
//! a column no T-SQL type holds exactly is refused, naming table, column
//! and type. Another engine's SQL (defaults, CHECK expressions,
//! generated-column expressions, partial-index predicates) is written only
//! when the restore translated it into T-SQL (`bru-translate`, exactly or
//! not at all; the table is then marked [`TableDef::translated_for`]
//! `mssql`, a mark no archive can set): a translated generation expression
//! becomes a `PERSISTED` computed column cast to the column's type, which
//! the loader leaves out. Without the mark it is never spliced: a default
//! that is a plain literal is written as one, everything else is reported
//! as left out, by name and text, in [`Built::skipped`].

use bru_core::{
    CheckConstraint, Column, Error, FkAction, ForeignKey, IndexDef, TableDef, UniqueConstraint,
};

use crate::props::{self, On};
use crate::target::quote::{ident, nstr, qualified};
use crate::types::tsql_type;

/// Whether `table` was written by the SQL Server source: it carries the
/// `mssql.table` marker or other `mssql.` properties (see
/// [`crate::trust::is_mssql_table`], the one rule the trust checker and
/// the target share).
pub(crate) fn is_mssql(table: &TableDef) -> bool {
    crate::trust::is_mssql_table(table)
}

/// A statement and what was left out of it.
#[derive(Debug, Default)]
pub(crate) struct Built {
    pub(crate) sql: String,
    pub(crate) skipped: Vec<String>,
}

/// `expr` in parentheses unless it already is one parenthesized whole, as
/// `sys.default_constraints` and `sys.computed_columns` give it
/// (`((0))`), so a round trip keeps the text as it was. Text holding a
/// comment is always wrapped, on lines of its own, so that no quote or
/// parenthesis inside a comment can make the expression look closed when
/// it is not, and no `--` comment can swallow the closing parenthesis.
pub(crate) fn parenthesized(expr: &str) -> String {
    let e = expr.trim();
    if e.contains("--") || e.contains("/*") {
        format!("(\n{e}\n)")
    } else if e.starts_with('(') && closes_at_end(e) {
        e.to_owned()
    } else {
        format!("({e})")
    }
}

/// Whether the `(` at the start of `e` closes at its last character
/// (quoted strings and bracketed names skipped; `e` holds no comment).
fn closes_at_end(e: &str) -> bool {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let chars: Vec<char> = e.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' => quote = Some('\''),
                '[' => quote = Some(']'),
                '"' => quote = Some('"'),
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return i == chars.len() - 1;
                    }
                }
                _ => {}
            },
        }
    }
    false
}

/// The CREATE TABLE statement of `table`, with no keys or indexes.
pub(crate) fn create_table(table: &TableDef) -> Result<Built, Error> {
    let mssql = is_mssql(table);
    let mut built = Built::default();
    let mut defs = Vec::with_capacity(table.columns.len());
    let mut identity_taken = false;
    for c in &table.columns {
        let def = if mssql {
            mssql_column(table, c)
        } else {
            foreign_column(table, c, &mut identity_taken, &mut built.skipped)?
        };
        defs.push(def);
    }
    if defs.is_empty() {
        return Err(Error::Unsupported(format!(
            "table {}: SQL Server tables need at least one column; restore it into PostgreSQL",
            table.name
        )));
    }
    built.sql = format!(
        "CREATE TABLE {} (\n    {}\n)",
        qualified(&table.name),
        defs.join(",\n    ")
    );
    Ok(built)
}

/// A column of SQL Server's own, as the source recorded it.
fn mssql_column(table: &TableDef, c: &Column) -> String {
    let on = On::Column(&c.name);
    let mut d = ident(&c.name);
    if let Some(g) = &c.generated {
        d.push_str(" AS ");
        d.push_str(&parenthesized(&g.expr));
        if g.stored {
            d.push_str(" PERSISTED");
            if !c.nullable {
                d.push_str(" NOT NULL");
            }
        }
        return d;
    }
    d.push(' ');
    d.push_str(&c.native_type);
    if props::flag(table, on, props::COLUMN_SPARSE) {
        d.push_str(" SPARSE");
    }
    if let Some(coll) = props::get(table, on, props::COLUMN_COLLATION) {
        d.push_str(" COLLATE ");
        d.push_str(coll);
    }
    if let Some(id) = &c.identity {
        d.push_str(&format!(
            " IDENTITY({}, {})",
            id.start.unwrap_or(1),
            id.increment.unwrap_or(1)
        ));
        if props::flag(table, on, props::COLUMN_NOT_FOR_REPLICATION) {
            d.push_str(" NOT FOR REPLICATION");
        }
    }
    if props::flag(table, on, props::COLUMN_ROWGUIDCOL) {
        d.push_str(" ROWGUIDCOL");
    }
    d.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
    if let Some(expr) = &c.default {
        if let Some(name) = props::get(table, on, props::COLUMN_DEFAULT_NAME) {
            d.push_str(" CONSTRAINT ");
            d.push_str(&ident(name));
        }
        d.push_str(" DEFAULT ");
        d.push_str(&parenthesized(expr));
    }
    d
}

/// A column of another engine, mapped through the neutral type.
fn foreign_column(
    table: &TableDef,
    c: &Column,
    identity_taken: &mut bool,
    skipped: &mut Vec<String>,
) -> Result<String, Error> {
    let ty = tsql_type(&c.ty).map_err(|why| {
        Error::Unsupported(format!(
            "table {}, column {}: type {} ({}): {why}",
            table.name,
            c.name,
            c.native_type,
            c.ty.display_name()
        ))
    })?;
    let translated = is_translated(table);
    if let Some(g) = c.generated.as_ref().filter(|_| translated) {
        // SQL Server computes it; the cast keeps the column's own type
        // (an expression's type follows T-SQL's rules), and PERSISTED lets
        // it be NOT NULL.
        let mut d = format!(
            "{} AS CAST({} AS {ty}) PERSISTED",
            ident(&c.name),
            parenthesized(&g.expr)
        );
        if !c.nullable {
            d.push_str(" NOT NULL");
        }
        return Ok(d);
    }
    let mut d = format!("{} {ty}", ident(&c.name));
    if let Some(g) = &c.generated {
        skipped.push(format!(
            "table {}, column {}: the generated expression `{}` (another engine's SQL) was \
             not carried; the column holds the source's values",
            table.name, c.name, g.expr
        ));
    }
    if let Some(id) = &c.identity {
        let integer = matches!(ty.as_str(), "smallint" | "int" | "bigint");
        if integer && !*identity_taken {
            *identity_taken = true;
            d.push_str(&format!(
                " IDENTITY({}, {})",
                id.start.unwrap_or(1),
                id.increment.unwrap_or(1)
            ));
        } else {
            skipped.push(format!(
                "table {}, column {}: the identity was not carried ({}); the column holds the \
                 source's values",
                table.name,
                c.name,
                if integer {
                    "SQL Server allows one identity column a table"
                } else {
                    "SQL Server's identity columns are integers"
                }
            ));
        }
    }
    d.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
    // The restore translated the defaults of columns without identity or
    // generation (an identity's default is its sequence).
    let translated_default = translated && c.identity.is_none() && c.generated.is_none();
    if let Some(expr) = c.default.as_ref().filter(|_| translated_default) {
        d.push_str(" DEFAULT ");
        d.push_str(&parenthesized(expr));
    } else if let Some(expr) = &c.default {
        match plain_literal(expr, &ty) {
            Some(Some(lit)) => {
                d.push_str(" DEFAULT ");
                d.push_str(&lit);
            }
            // DEFAULT NULL is what no default means.
            Some(None) => {}
            None => skipped.push(format!(
                "table {}, column {}: the default `{expr}` (another engine's SQL) was not carried",
                table.name, c.name
            )),
        }
    }
    Ok(d)
}

/// Whether the restore translated `table`'s expressions (another engine's)
/// into T-SQL.
pub(crate) fn is_translated(table: &TableDef) -> bool {
    table.translated_into(crate::ENGINE_NAME)
}

/// A default of another engine as a T-SQL literal when it is a plain
/// literal: a number, a quoted string (PostgreSQL's `'x'::type` cast of
/// one too), `true`/`false` for a bit column, or NULL (`Some(None)`).
/// `None` for anything else.
pub(crate) fn plain_literal(expr: &str, tsql: &str) -> Option<Option<String>> {
    let mut e = expr.trim();
    while let Some(inner) = e
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .filter(|_| closes_at_end(e))
    {
        e = inner.trim();
    }
    if e.eq_ignore_ascii_case("null") {
        return Some(None);
    }
    if tsql == "bit" {
        return match e.to_ascii_lowercase().as_str() {
            "true" | "1" | "'t'" | "'true'" => Some(Some("1".into())),
            "false" | "0" | "'f'" | "'false'" => Some(Some("0".into())),
            _ => None,
        };
    }
    let number = |s: &str| {
        let body = s.strip_prefix('-').unwrap_or(s);
        let (i, f) = body.split_once('.').unwrap_or((body, "0"));
        !i.is_empty()
            && i.bytes().all(|b| b.is_ascii_digit())
            && !f.is_empty()
            && f.bytes().all(|b| b.is_ascii_digit())
    };
    if number(e) {
        return Some(Some(e.to_owned()));
    }
    // A quoted string, optionally with a PostgreSQL cast to a plain type
    // name (`'a'::text`, `'x'::character varying`).
    let rest = e.strip_prefix('\'')?;
    let mut text = String::new();
    let mut chars = rest.char_indices().peekable();
    let mut end = None;
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if chars.peek().map(|(_, n)| *n) == Some('\'') {
                chars.next();
                text.push('\'');
            } else {
                end = Some(i + 1);
                break;
            }
        } else {
            text.push(c);
        }
    }
    let tail = rest[end?..].trim();
    let cast_ok = tail.is_empty()
        || tail.strip_prefix("::").is_some_and(|t| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'_')
        });
    if !cast_ok {
        return None;
    }
    // A string into a number column stays a number only if it is one.
    let numeric = matches!(
        tsql.split('(').next().unwrap_or_default(),
        "smallint" | "int" | "bigint" | "real" | "float" | "decimal"
    );
    if numeric {
        return number(&text).then_some(Some(text));
    }
    let textual = tsql.starts_with("nvarchar") || tsql.starts_with("nchar");
    textual.then(|| Some(nstr(&text)))
}

/// `[a] ASC, [b] DESC` for a key of `columns`, descending as recorded.
fn key_columns(columns: &[String], descending: &[String]) -> String {
    columns
        .iter()
        .map(|c| {
            let dir = if descending.contains(c) {
                "DESC"
            } else {
                "ASC"
            };
            format!("{} {dir}", ident(c))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn list(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `CLUSTERED ` or `NONCLUSTERED ` for a SQL Server key or index, nothing
/// for another engine's (the server's default).
fn clustering(table: &TableDef, on: On) -> &'static str {
    if !is_mssql(table) {
        ""
    } else if props::flag(table, on, props::CLUSTERED) {
        "CLUSTERED "
    } else {
        "NONCLUSTERED "
    }
}

fn descending(table: &TableDef, on: On) -> Result<Vec<String>, Error> {
    props::names(table, on, props::DESCENDING).map_err(Error::Unsupported)
}

/// A key's name: its own, or one made from the table and columns, so that
/// a resumed restore finds it by name.
fn key_name(table: &TableDef, name: &Option<String>, kind: &str, columns: &[String]) -> String {
    name.clone().unwrap_or_else(|| {
        let mut n = format!("{kind}_{}_{}", table.name.name, columns.join("_"));
        if n.chars().count() > 128 {
            n = n.chars().take(128).collect();
        }
        n
    })
}

/// The primary key, as `(name, ALTER TABLE … ADD CONSTRAINT …)`.
pub(crate) fn primary_key(table: &TableDef) -> Result<Option<(String, String)>, Error> {
    let Some(pk) = &table.primary_key else {
        return Ok(None);
    };
    let name = key_name(table, &pk.name, "PK", &pk.columns);
    let desc = descending(table, On::PrimaryKey)?;
    Ok(Some((
        name.clone(),
        format!(
            "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY {}({})",
            qualified(&table.name),
            ident(&name),
            clustering(table, On::PrimaryKey),
            key_columns(&pk.columns, &desc)
        ),
    )))
}

/// A unique constraint, as `(name, ALTER TABLE … ADD CONSTRAINT …)`.
pub(crate) fn unique(table: &TableDef, u: &UniqueConstraint) -> Result<(String, String), Error> {
    let name = key_name(table, &u.name, "UQ", &u.columns);
    let on = On::Unique(u.name.as_deref().unwrap_or_default());
    let desc = descending(table, on)?;
    Ok((
        name.clone(),
        format!(
            "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE {}({})",
            qualified(&table.name),
            ident(&name),
            clustering(table, on),
            key_columns(&u.columns, &desc)
        ),
    ))
}

/// A secondary index's CREATE INDEX (and ALTER INDEX … DISABLE when the
/// source had it disabled), or why it is left out (another engine's
/// expression or partial index, or an access method SQL Server does not
/// have).
pub(crate) fn index(table: &TableDef, ix: &IndexDef) -> Result<Result<Vec<String>, String>, Error> {
    let on = On::Index(&ix.name);
    let mssql = is_mssql(table);
    // A translated table's predicate is T-SQL; its expression keys were
    // left out by the translation (SQL Server indexes columns only).
    let translated = !mssql && is_translated(table);
    if !mssql {
        let expression = ix.columns.iter().find(|c| table.column_index(c).is_none());
        let why = if let Some(e) = expression {
            Some(format!(
                "its key `{e}` is an expression of another engine's SQL"
            ))
        } else if let Some(p) = ix.predicate.as_ref().filter(|_| !translated) {
            Some(format!("its predicate `{p}` is another engine's SQL"))
        } else {
            ix.method
                .as_ref()
                .filter(|m| !m.eq_ignore_ascii_case("btree"))
                .map(|m| format!("SQL Server has no {m} indexes"))
        };
        if let Some(why) = why {
            return Ok(Err(format!(
                "table {}: index {} was not carried: {why}",
                table.name, ix.name
            )));
        }
    }
    let desc = descending(table, on)?;
    let include = props::names(table, on, props::INCLUDE).map_err(Error::Unsupported)?;
    let mut sql = format!(
        "CREATE {}{}INDEX {} ON {} ({})",
        if ix.unique { "UNIQUE " } else { "" },
        clustering(table, on),
        ident(&ix.name),
        qualified(&table.name),
        key_columns(&ix.columns, &desc)
    );
    if !include.is_empty() {
        sql.push_str(&format!(" INCLUDE ({})", list(&include)));
    }
    if let Some(p) = ix.predicate.as_ref().filter(|_| mssql || translated) {
        sql.push_str(" WHERE ");
        sql.push_str(&parenthesized(p));
    }
    let mut statements = vec![sql];
    if mssql && props::flag(table, on, props::DISABLED) {
        statements.push(format!(
            "ALTER INDEX {} ON {} DISABLE",
            ident(&ix.name),
            qualified(&table.name)
        ));
    }
    Ok(Ok(statements))
}

fn action(a: FkAction) -> &'static str {
    match a {
        // SQL Server has no RESTRICT; NO ACTION refuses the same changes
        // (checked at the end of the statement rather than at once).
        FkAction::NoAction | FkAction::Restrict => "NO ACTION",
        other => other.sql(),
    }
}

/// A foreign key's statements (`ALTER TABLE … ADD CONSTRAINT …`, and a
/// `NOCHECK CONSTRAINT` when it was disabled), with its name, and what of
/// it SQL Server cannot keep (deferrable).
pub(crate) fn foreign_key(table: &TableDef, fk: &ForeignKey) -> (String, Vec<String>, Vec<String>) {
    let name = key_name(table, &fk.name, "FK", &fk.columns);
    let on = On::ForeignKey(fk.name.as_deref().unwrap_or_default());
    let q = qualified(&table.name);
    let mssql = is_mssql(table);
    let nocheck = mssql && props::flag(table, on, props::NOT_TRUSTED);
    let mut sql = vec![format!(
        "ALTER TABLE {q} {}ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) \
         ON DELETE {} ON UPDATE {}{}",
        if nocheck { "WITH NOCHECK " } else { "" },
        ident(&name),
        list(&fk.columns),
        qualified(&fk.ref_table),
        list(&fk.ref_columns),
        action(fk.on_delete),
        action(fk.on_update),
        if mssql && props::flag(table, on, props::NOT_FOR_REPLICATION) {
            " NOT FOR REPLICATION"
        } else {
            ""
        }
    )];
    if mssql && props::flag(table, on, props::DISABLED) {
        sql.push(format!(
            "ALTER TABLE {q} NOCHECK CONSTRAINT {}",
            ident(&name)
        ));
    }
    let mut skipped = Vec::new();
    if fk.deferrable {
        skipped.push(format!(
            "table {}: foreign key {name} is checked at once: SQL Server has no deferrable \
             constraints",
            table.name
        ));
    }
    (name, sql, skipped)
}

/// A check constraint's statements, with its name; `Err` with the line
/// for the summary when it is another engine's SQL.
pub(crate) fn check(
    table: &TableDef,
    c: &CheckConstraint,
) -> Result<(String, Vec<String>), String> {
    let name = c.name.clone().unwrap_or_else(|| {
        key_name(
            table,
            &None,
            "CK",
            &[format!(
                "{}",
                table.checks.iter().position(|x| x == c).unwrap_or(0)
            )],
        )
    });
    if !is_mssql(table) {
        if is_translated(table) {
            return Ok((
                name.clone(),
                vec![format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} CHECK {}",
                    qualified(&table.name),
                    ident(&name),
                    parenthesized(&c.expr)
                )],
            ));
        }
        return Err(format!(
            "table {}: check constraint {name} `{}` (another engine's SQL) was not carried",
            table.name, c.expr
        ));
    }
    let on = On::Check(c.name.as_deref().unwrap_or_default());
    let q = qualified(&table.name);
    let nocheck = props::flag(table, on, props::NOT_TRUSTED);
    let mut sql = vec![format!(
        "ALTER TABLE {q} {}ADD CONSTRAINT {} CHECK {}{}",
        if nocheck { "WITH NOCHECK " } else { "" },
        ident(&name),
        if props::flag(table, on, props::NOT_FOR_REPLICATION) {
            "NOT FOR REPLICATION "
        } else {
            ""
        },
        parenthesized(&c.expr)
    )];
    if props::flag(table, on, props::DISABLED) {
        sql.push(format!(
            "ALTER TABLE {q} NOCHECK CONSTRAINT {}",
            ident(&name)
        ));
    }
    Ok((name, sql))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bru_core::{ColumnType, Generated, Identity, IdentityKind, TableName};

    fn mssql_table() -> TableDef {
        let id = Column::new("id", ColumnType::Int32, "int")
            .not_null()
            .with_identity(Identity {
                kind: IdentityKind::ByDefault,
                start: Some(100),
                increment: Some(5),
                last_value: Some(120),
            });
        let name = Column::new(
            "name",
            ColumnType::Text {
                max_len: Some(50),
                fixed: false,
                national: true,
            },
            "nvarchar(50)",
        )
        .not_null()
        .with_default("(N'x')");
        let total = Column::new(
            "total",
            ColumnType::Decimal {
                precision: Some(18),
                scale: Some(2),
            },
            "decimal(18,2)",
        )
        .with_generated(Generated {
            expr: "([id]*(2))".into(),
            stored: true,
        });
        let mut t = TableDef::new(TableName::new(Some("dbo"), "orders"), vec![id, name, total])
            .with_primary_key(&["id"]);
        t.primary_key.as_mut().unwrap().name = Some("PK_orders".into());
        t.properties.insert(
            props::key(On::Column("name"), props::COLUMN_DEFAULT_NAME),
            "DF_orders_name".into(),
        );
        t.properties.insert(
            props::key(On::Column("name"), props::COLUMN_COLLATION),
            "Latin1_General_BIN2".into(),
        );
        t.properties
            .insert(props::key(On::PrimaryKey, props::CLUSTERED), "true".into());
        t
    }

    #[test]
    fn a_sql_server_table_keeps_its_own_declarations() {
        let t = mssql_table();
        let b = create_table(&t).unwrap();
        assert_eq!(
            b.sql,
            "CREATE TABLE [dbo].[orders] (\n    [id] int IDENTITY(100, 5) NOT NULL,\n    \
             [name] nvarchar(50) COLLATE Latin1_General_BIN2 NOT NULL CONSTRAINT \
             [DF_orders_name] DEFAULT (N'x'),\n    [total] AS ([id]*(2)) PERSISTED\n)"
        );
        assert!(b.skipped.is_empty());
        let (name, pk) = primary_key(&t).unwrap().unwrap();
        assert_eq!(name, "PK_orders");
        assert_eq!(
            pk,
            "ALTER TABLE [dbo].[orders] ADD CONSTRAINT [PK_orders] PRIMARY KEY CLUSTERED ([id] ASC)"
        );
    }

    #[test]
    fn indexes_keep_include_filter_and_order() {
        let mut t = mssql_table();
        t.indexes.push(IndexDef {
            name: "ix_name".into(),
            columns: vec!["name".into(), "id".into()],
            unique: true,
            predicate: Some("([name]<>N'')".into()),
            method: None,
            native_ddl: None,
        });
        t.properties.insert(
            props::key(On::Index("ix_name"), props::DESCENDING),
            props::names_value(&["id".into()]),
        );
        t.properties.insert(
            props::key(On::Index("ix_name"), props::INCLUDE),
            props::names_value(&["total".into()]),
        );
        assert_eq!(
            index(&t, &t.indexes[0]).unwrap().unwrap()[0],
            "CREATE UNIQUE NONCLUSTERED INDEX [ix_name] ON [dbo].[orders] ([name] ASC, [id] DESC) \
             INCLUDE ([total]) WHERE ([name]<>N'')"
        );
    }

    #[test]
    fn another_engines_table_is_mapped_and_its_sql_reported() {
        let mut t = TableDef::new(
            TableName::new(Some("public"), "sites"),
            vec![
                Column::new("id", ColumnType::Int64, "bigint")
                    .not_null()
                    .with_identity(Identity {
                        kind: IdentityKind::Always,
                        start: None,
                        increment: None,
                        last_value: Some(3),
                    }),
                Column::new(
                    "label",
                    ColumnType::Text {
                        max_len: Some(20),
                        fixed: false,
                        national: false,
                    },
                    "character varying(20)",
                )
                .with_default("'none'::character varying"),
                Column::new("active", ColumnType::Bool, "boolean").with_default("true"),
                Column::new(
                    "at",
                    ColumnType::Timestamp {
                        tz: true,
                        precision: Some(6),
                    },
                    "timestamp with time zone",
                )
                .with_default("now()"),
            ],
        );
        t.checks.push(CheckConstraint {
            name: Some("label_ok".into()),
            expr: "length(label) > 0".into(),
        });
        let b = create_table(&t).unwrap();
        assert_eq!(
            b.sql,
            "CREATE TABLE [public].[sites] (\n    [id] bigint IDENTITY(1, 1) NOT NULL,\n    \
             [label] nvarchar(20) NULL DEFAULT N'none',\n    [active] bit NULL DEFAULT 1,\n    \
             [at] datetimeoffset(6) NULL\n)"
        );
        assert_eq!(b.skipped.len(), 1);
        assert!(
            b.skipped[0].contains("column at: the default `now()`"),
            "{:?}",
            b.skipped
        );
        let why = check(&t, &t.checks[0]).unwrap_err();
        assert!(why.contains("label_ok `length(label) > 0`"), "{why}");

        t.columns
            .push(Column::new("span", ColumnType::Interval, "interval"));
        let e = create_table(&t).unwrap_err().to_string();
        assert!(
            e.contains("table public.sites, column span: type interval"),
            "{e}"
        );
    }

    #[test]
    fn only_plain_literals_are_spliced() {
        assert_eq!(plain_literal("0", "int"), Some(Some("0".into())));
        assert_eq!(
            plain_literal("(-1.5)", "decimal(5,2)"),
            Some(Some("-1.5".into()))
        );
        assert_eq!(
            plain_literal("'it''s'::text", "nvarchar(max)"),
            Some(Some("N'it''s'".into()))
        );
        assert_eq!(plain_literal("NULL::text", "nvarchar(max)"), None);
        assert_eq!(plain_literal("NULL", "int"), Some(None));
        assert_eq!(plain_literal("'5'::integer", "int"), Some(Some("5".into())));
        assert_eq!(plain_literal("'x'", "int"), None);
        assert_eq!(plain_literal("'2020-01-01'::date", "date"), None);
        assert_eq!(plain_literal("nextval('s'::regclass)", "int"), None);
        assert_eq!(plain_literal("'a' || 'b'", "nvarchar(max)"), None);
        assert_eq!(
            plain_literal("'a'); DROP TABLE x; --", "nvarchar(max)"),
            None
        );
        assert_eq!(plain_literal("CURRENT_TIMESTAMP", "datetime2(7)"), None);
    }

    #[test]
    fn parentheses_are_added_once() {
        assert_eq!(parenthesized("((0))"), "((0))");
        assert_eq!(parenthesized("(1)+(2)"), "((1)+(2))");
        assert_eq!(parenthesized("getdate()"), "(getdate())");
        assert_eq!(parenthesized("(N')')"), "(N')')");
        // A quote in a comment cannot make it look closed, and a `--`
        // comment cannot swallow the closing parenthesis.
        assert_eq!(
            parenthesized("(1=1 --')\r) DROP TABLE v SELECT (1)"),
            "(\n(1=1 --')\r) DROP TABLE v SELECT (1)\n)"
        );
        assert_eq!(parenthesized("1 -- one"), "(\n1 -- one\n)");
    }

    #[test]
    fn foreign_keys_and_checks_as_recorded() {
        let mut t = mssql_table();
        t.foreign_keys.push(ForeignKey {
            name: Some("FK_o_c".into()),
            columns: vec!["id".into()],
            ref_table: TableName::new(Some("dbo"), "customers"),
            ref_columns: vec!["id".into()],
            on_delete: FkAction::Cascade,
            on_update: FkAction::Restrict,
            deferrable: false,
            initially_deferred: false,
        });
        t.properties.insert(
            props::key(On::ForeignKey("FK_o_c"), props::DISABLED),
            "true".into(),
        );
        let (name, sql, skipped) = foreign_key(&t, &t.foreign_keys[0]);
        assert_eq!(name, "FK_o_c");
        assert!(skipped.is_empty());
        assert_eq!(
            sql,
            vec![
                "ALTER TABLE [dbo].[orders] ADD CONSTRAINT [FK_o_c] FOREIGN KEY ([id]) \
                 REFERENCES [dbo].[customers] ([id]) ON DELETE CASCADE ON UPDATE NO ACTION"
                    .to_owned(),
                "ALTER TABLE [dbo].[orders] NOCHECK CONSTRAINT [FK_o_c]".to_owned()
            ]
        );
        t.checks.push(CheckConstraint {
            name: Some("CK_name".into()),
            expr: "(len([name])>(0))".into(),
        });
        t.properties.insert(
            props::key(On::Check("CK_name"), props::NOT_TRUSTED),
            "true".into(),
        );
        let (_, sql) = check(&t, &t.checks[0]).unwrap();
        assert_eq!(
            sql,
            vec!["ALTER TABLE [dbo].[orders] WITH NOCHECK ADD CONSTRAINT [CK_name] CHECK (len([name])>(0))"]
        );
    }
}
