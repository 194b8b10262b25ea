//! Translating the SQL of a schema from one engine's dialect into another's:
//! view queries, CHECK expressions, column defaults, generation
//! expressions, index expressions and partial-index predicates.
//!
//! A cross-engine restore used to list every such object as skipped,
//! "written for sqlite". This crate parses the source's text with a real SQL
//! parser ([`sqlparser`], in the source engine's dialect), resolves every
//! name against the archive's catalog, and writes the target's text itself,
//! with the target's quoting. It translates **exactly or not at all**:
//!
//! - only the constructs of a fixed table (docs/type-mapping.md, "SQL
//!   translation") are written, each chosen so that it gives the same value
//!   for every input, NULL included; everything else is a [`Refusal`] that
//!   names the construct (a function, an operator on a kind of value, a
//!   piece of syntax), which the restore lists as the object's reason to be
//!   skipped, with the source text;
//! - operators are checked against the kinds of their operands, inferred
//!   from the catalog's column types ([`Kind`]): SQLite's `/` on integers
//!   truncates and gives NULL for a zero divisor, PostgreSQL's truncates and
//!   fails, so it is written `a / NULLIF(b, 0)`; `+` on text, arithmetic on
//!   SQLite NUMERIC columns (floating point there, exact decimal in
//!   PostgreSQL) and comparisons of SQLite's date/time texts with a
//!   PostgreSQL timestamp are refused;
//! - text ordering is byte order in SQLite and the database's collation in
//!   PostgreSQL: ordering comparisons, `min`/`max` and `ORDER BY` on text
//!   are written with `COLLATE "C"`, which is byte order;
//! - into SQL Server, whose default collation ignores case and trailing
//!   spaces, text equality is written on the texts' bytes and every other
//!   comparison of text (ordering, DISTINCT, GROUP BY, text functions) is
//!   refused; it has no boolean values, so a condition used as a value
//!   becomes a CASE and a boolean column used as a condition `= 1`;
//! - identifiers are resolved as the source engine resolves them (SQLite:
//!   ignoring ASCII case) and written as the restore names the objects (the
//!   catalog's spelling, quoted; SQLite's tables in PostgreSQL's `public`).
//!
//! The crate knows no engine's code: it takes the engine names of the
//! archive (`sqlite`, `postgres`, `mssql`) and returns text, which the
//! target then runs through its own trust checks like any other statement.

mod expr;
mod kind;
mod names;
#[cfg(test)]
mod tests;

use std::fmt;

pub use kind::Kind;
pub use names::{target_name, Catalog, Relation};

/// A SQL dialect bru reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
    Mssql,
}

impl Dialect {
    /// The dialect of engine `name` (`sqlite`, `postgres`, `mssql`), as
    /// archives and targets name their engines.
    pub fn of_engine(name: &str) -> Option<Dialect> {
        match name {
            "sqlite" => Some(Dialect::Sqlite),
            "postgres" => Some(Dialect::Postgres),
            "mssql" => Some(Dialect::Mssql),
            _ => None,
        }
    }

    /// The engine's name, as the archive spells it.
    pub fn engine(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
            Dialect::Mssql => "mssql",
        }
    }

    /// The name people know the engine by.
    pub fn display_name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
            Dialect::Mssql => "SQL Server",
        }
    }

    fn parser(self) -> Box<dyn sqlparser::dialect::Dialect> {
        match self {
            Dialect::Sqlite => Box::new(sqlparser::dialect::SQLiteDialect {}),
            Dialect::Postgres => Box::new(sqlparser::dialect::PostgreSqlDialect {}),
            Dialect::Mssql => Box::new(sqlparser::dialect::MsSqlDialect {}),
        }
    }
}

/// Why a text was not translated: the construct that has no exact
/// translation (or that the table does not cover), as one phrase for the
/// restore summary, e.g. "`+` on text (SQLite adds the texts' numeric
/// values)".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refusal {}

pub(crate) type Result<T> = std::result::Result<T, Refusal>;

pub(crate) fn refuse<T>(what: impl Into<String>) -> Result<T> {
    Err(Refusal(what.into()))
}

/// What an expression of a table is, which decides how it is read: a CHECK
/// or a partial-index predicate is a condition (SQLite takes a number as
/// one, PostgreSQL wants a boolean), a default is a value for its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprRole<'a> {
    /// A CHECK constraint.
    Check,
    /// A partial index's WHERE.
    Predicate,
    /// An index expression.
    IndexExpr,
    /// The generation expression of the named column.
    Generated(&'a str),
    /// The default of the named column.
    Default(&'a str),
}

/// One direction of translation: from the archive's engine into the
/// target's, with the archive's catalog to resolve names.
pub struct Translator<'a> {
    pub(crate) from: Dialect,
    pub(crate) to: Dialect,
    pub(crate) catalog: &'a Catalog,
}

/// A translated view: its `CREATE VIEW` in the target's dialect, the
/// relations it reads (as the catalog names them), and its columns with
/// their kinds, which views over it need.
#[derive(Debug, Clone, PartialEq)]
pub struct TranslatedView {
    pub ddl: String,
    pub reads: Vec<bru_core::TableName>,
    pub columns: Vec<(String, Kind)>,
}

impl<'a> Translator<'a> {
    /// A translator from `from` to `to`, or a refusal when the pair is not
    /// one the table covers (every pair of SQLite, PostgreSQL and SQL
    /// Server).
    pub fn new(from: Dialect, to: Dialect, catalog: &'a Catalog) -> Result<Translator<'a>> {
        match (from, to) {
            (Dialect::Sqlite, Dialect::Postgres | Dialect::Mssql)
            | (Dialect::Postgres, Dialect::Sqlite | Dialect::Mssql)
            | (Dialect::Mssql, Dialect::Postgres | Dialect::Sqlite) => {
                Ok(Translator { from, to, catalog })
            }
            _ => refuse(format!(
                "no translation from {} to {} yet",
                from.display_name(),
                to.display_name()
            )),
        }
    }

    /// The expression `sql` of table `table` (a CHECK, default, index
    /// expression or predicate, as `role` says), in the target's dialect.
    pub fn expression(
        &self,
        table: &bru_core::TableName,
        role: ExprRole<'_>,
        sql: &str,
    ) -> Result<String> {
        let parsed = parse_expr(self.from, sql)?;
        expr::table_expression(self, table, role, &parsed)
    }

    /// The view `name` created by `ddl` (the source's `CREATE VIEW`), in
    /// the target's dialect, named as the restore names it.
    pub fn view(&self, name: &bru_core::TableName, ddl: &str) -> Result<TranslatedView> {
        expr::query::view(self, name, ddl)
    }
}

fn parse_expr(dialect: Dialect, sql: &str) -> Result<sqlparser::ast::Expr> {
    let d = dialect.parser();
    let mut parser = sqlparser::parser::Parser::new(d.as_ref())
        .try_with_sql(sql)
        .map_err(|e| Refusal(format!("{} cannot parse it: {e}", parser_name(dialect))))?;
    let e = parser
        .parse_expr()
        .map_err(|e| Refusal(format!("{} cannot parse it: {e}", parser_name(dialect))))?;
    // Nothing may follow the expression.
    if parser.peek_token().token != sqlparser::tokenizer::Token::EOF {
        return refuse(format!(
            "{} cannot parse it: text after the expression",
            parser_name(dialect)
        ));
    }
    Ok(e)
}

fn parser_name(dialect: Dialect) -> String {
    format!("the {} SQL parser", dialect.display_name())
}
