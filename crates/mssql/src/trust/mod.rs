//! Checks of the T-SQL an archive holds, before a restore runs any of it:
//! an archive is data, never code (README, "Trust").
//!
//! A SQL Server batch can hold any number of statements, with or without
//! `;` between them, so every text is read with a real T-SQL lexer
//! ([`lex`]: `[a]]b]` and `"…"` names, `N'…'` strings with `''`, `--` and
//! nested `/* */` comments; `GO` is not T-SQL and separates nothing) and
//! held to the one shape the SQL Server source writes:
//!
//! - **Modules** (views, procedures, functions, triggers: the text of
//!   `sys.sql_modules.definition`): exactly one `CREATE [OR ALTER]
//!   VIEW|PROCEDURE|PROC|FUNCTION|TRIGGER` of the object the entry declares,
//!   with nothing before it but comments (module `modules`). A view's body is
//!   one query with nothing after it; a function's body ends where CREATE
//!   FUNCTION's grammar ends (its `BEGIN … END`, or its `RETURN` query), with
//!   nothing after that. A procedure's or trigger's body runs to the end of
//!   the batch in T-SQL, which the trust model allows: an archive may create
//!   its declared objects with any body, as pg_restore runs any function
//!   body. A trigger must be `ON` a table or view the archive creates.
//! - **Sequences**: the `CREATE SEQUENCE` and `ALTER SEQUENCE … RESTART
//!   WITH` the source writes, and nothing else.
//! - **Table fragments** the SQL Server target splices into its own DDL
//!   ([`check_table`]): a column's type spelling (a strict grammar of SQL
//!   Server's types), default, CHECK, computed-column and filtered-index
//!   expressions (one expression each: balanced parentheses, no `;`, no
//!   `,` outside parentheses, no statement keyword outside strings and no
//!   subquery, which SQL Server forbids in all four), and collation names.
//!   **The target wraps each spliced expression in parentheses of its own**
//!   (`DEFAULT (…)`, `CHECK (…)`, `AS (…)`, `WHERE (…)`), so that even a
//!   keyword the checker did not list cannot begin a statement.
//!   Names are any text: the target quotes them.
//!
//! A module's name, written without a schema, is created in the restoring
//! session's default schema; the checker accepts that only for an object
//! declared in `dbo` (the default schema of a database owner, as whoever
//! restores a database is). The target runs `CREATE OR ALTER` as `CREATE`,
//! so even in another default schema nothing of the target's is replaced.
//!
//! What this does not stop, by design: a declared module can do anything
//! the restoring login may do once something calls it, a default or CHECK
//! expression can call any function the target has.

pub mod lex;
mod modules;

use bru_core::{Declared, ObjectDef, ObjectKind, TableDef, TableName};

use lex::{shorten, tokenize_with_comments, Kind, Token};

/// The words that begin a T-SQL statement (or are only ever part of one
/// that does something besides computing a value). None may appear outside
/// strings in an expression the target splices, and none at the top level
/// of a view's query, where they would start a second statement.
pub(crate) const STATEMENT_WORDS: &[&str] = &[
    "ALTER",
    "BACKUP",
    "BEGIN",
    "BREAK",
    "BULK",
    "CHECKPOINT",
    "CLOSE",
    "COMMIT",
    "CONTINUE",
    "CREATE",
    "DBCC",
    "DEALLOCATE",
    "DECLARE",
    "DELETE",
    "DENY",
    "DISABLE",
    "DROP",
    "ENABLE",
    "EXEC",
    "EXECUTE",
    "FETCH",
    "GO",
    "GOTO",
    "GRANT",
    "IF",
    "INSERT",
    "INTO",
    "KILL",
    "MERGE",
    "OPEN",
    "OPENDATASOURCE",
    "OPENQUERY",
    "OPENROWSET",
    "PRINT",
    "RAISERROR",
    "READTEXT",
    "RECONFIGURE",
    "RESTORE",
    "RETURN",
    "REVERT",
    "REVOKE",
    "ROLLBACK",
    "SAVE",
    "SET",
    "SETUSER",
    "SHUTDOWN",
    "THROW",
    "TRUNCATE",
    "UPDATE",
    "UPDATETEXT",
    "USE",
    "WAITFOR",
    "WHILE",
    "WRITETEXT",
];

/// Checks what the SQL Server target splices from `table` into its own
/// DDL ([`bru_core::Engine::check_table_sql`]). Called for the tables of
/// every engine, since the target builds any table from the neutral model:
/// the expressions are checked for all of them; the type spellings and
/// SQL Server properties for a table SQL Server wrote (see
/// [`is_mssql_table`]; the target uses `native_type` only for those, and
/// only through [`native_type`]).
pub fn check_table(table: &TableDef, archive: &Declared) -> Result<(), String> {
    let _ = archive;
    if let Some(n) = &table.native {
        if n.engine == crate::ENGINE_NAME {
            return Err(
                "holds a CREATE TABLE text of its own, which the SQL Server source never \
                 writes (the target builds its DDL from the table's columns)"
                    .into(),
            );
        }
    }
    let mssql = is_mssql_table(table);
    let expr = |e: &str| {
        if mssql {
            expression(e)
        } else {
            foreign_expression(e)
        }
    };
    for c in &table.columns {
        let col = |e: String| format!("column {}: {e}", c.name);
        if mssql {
            native_type(&c.native_type).map_err(col)?;
        }
        if let Some(d) = &c.default {
            expr(d).map_err(|e| col(format!("the default {e}")))?;
        }
        if let Some(g) = &c.generated {
            expr(&g.expr).map_err(|e| col(format!("the computed expression {e}")))?;
        }
    }
    for check in &table.checks {
        let name = check.name.as_deref().unwrap_or("(unnamed)");
        expr(&check.expr).map_err(|e| format!("CHECK {name}: {e}"))?;
    }
    for index in &table.indexes {
        if let Some(p) = &index.predicate {
            expr(p).map_err(|e| format!("index {}: the filter {e}", index.name))?;
        }
    }
    for (key, value) in &table.properties {
        if key.starts_with("mssql.") && key.ends_with(".collation") {
            collation(value).map_err(|e| format!("property {key}: {e}"))?;
        }
        if key.starts_with("mssql.") && key.ends_with(".alias_type") {
            type_name(value).map_err(|e| format!("property {key}: {e}"))?;
        }
    }
    Ok(())
}

/// The property the SQL Server source sets (to `true`) on every table it
/// writes, so that [`is_mssql_table`] knows it even for a heap table
/// with no key, collation or default, which has no other `mssql.`
/// property. Another engine's table never has an `mssql.` property.
pub use crate::props::TABLE_MARKER;

/// Whether SQL Server wrote `table`: it has a SQL Server property
/// (`mssql.…`: [`TABLE_MARKER`], or any of module `props`). Its
/// `native_type`s are then T-SQL, checked by [`native_type`] and used by
/// the target; another engine's table is mapped from its neutral types.
pub fn is_mssql_table(table: &TableDef) -> bool {
    table.properties.keys().any(|k| k.starts_with("mssql."))
}

/// Checks the statements of `object` and its data statement
/// ([`bru_core::Engine::check_object_sql`]).
pub fn check_object(object: &ObjectDef, archive: &Declared) -> Result<(), String> {
    match &object.kind {
        ObjectKind::View | ObjectKind::Function | ObjectKind::Trigger => {
            modules::check(object, archive)
        }
        ObjectKind::Other(k) if k == "procedure" => modules::check(object, archive),
        ObjectKind::Sequence => modules::sequence(object),
        ObjectKind::Schema => modules::schema(object),
        other => Err(format!(
            "is a {other}, which the SQL Server engine never writes (this build restores SQL \
             Server views, procedures, functions, triggers, sequences and schemas)"
        )),
    }
}

/// Checks one expression the target splices into its DDL: a default, a
/// CHECK, a computed column or an index filter. It must stay one
/// expression as SQL Server reads it (no `;`, no `,` outside parentheses,
/// no `)` closing what it did not open, every `(` closed), and hold no
/// statement keyword or query outside strings: SQL Server allows no
/// subquery in any of the four places.
pub fn expression(expr: &str) -> Result<(), String> {
    check_expression(expr, true)
}

/// [`expression`] for a table another engine wrote, whose expressions the
/// target may splice too (a PostgreSQL `CHECK ((qty > 0))` reads the same
/// in T-SQL): statement keywords are refused only outside parentheses,
/// where they could start a statement of their own (the target wraps
/// every spliced expression in parentheses of its own, inside which no
/// statement can begin), so that a column named `open` in a parenthesized
/// CHECK is not taken for one.
pub fn foreign_expression(expr: &str) -> Result<(), String> {
    check_expression(expr, false)
}

fn check_expression(expr: &str, strict: bool) -> Result<(), String> {
    let lexed = tokenize_with_comments(expr).map_err(|e| format!("`{}` {e}", shorten(expr)))?;
    let tokens = lexed.tokens;
    let refuse = |why: String| {
        Err(format!(
            "`{}` is not one T-SQL expression: {why}",
            shorten(expr)
        ))
    };
    if lexed.ends_in_line_comment {
        return refuse(
            "it ends in a `--` comment, which would hide the rest of the line it goes into".into(),
        );
    }
    if tokens.is_empty() {
        return refuse("it is empty".into());
    }
    let mut depth = 0usize;
    for t in &tokens {
        if t.is_punct(expr, ';') {
            return refuse("it has a `;`, which would end the statement it goes into".into());
        }
        if t.is_punct(expr, '(') {
            depth += 1;
        } else if t.is_punct(expr, ')') {
            depth = match depth.checked_sub(1) {
                Some(d) => d,
                None => return refuse("it has a `)` that closes what it did not open".into()),
            };
        } else if depth == 0 && t.is_punct(expr, ',') {
            return refuse("it has a `,` outside parentheses".into());
        } else if t.kind == Kind::Word && (strict || depth == 0) {
            let w = t.text(expr);
            if w.eq_ignore_ascii_case("SELECT") || w.eq_ignore_ascii_case("WITH") {
                return refuse(format!(
                    "it holds a query (`{w}`), which SQL Server allows in no default, CHECK, \
                     computed column or index filter"
                ));
            }
            if STATEMENT_WORDS.iter().any(|s| w.eq_ignore_ascii_case(s)) {
                return refuse(format!("it holds the statement keyword `{w}`"));
            }
        }
    }
    if depth != 0 {
        return refuse("a `(` is never closed".into());
    }
    Ok(())
}

/// Checks a column's T-SQL type spelling before the target splices it:
/// one of SQL Server's types with its length, precision or scale in range
/// (`nvarchar(50)`, `varchar(max)`, `decimal(38,38)`, `datetime2(7)`,
/// `float`, `money`, …), or a user type as bracketed `[schema].[name]`.
pub fn native_type(spelling: &str) -> Result<(), String> {
    let bad = |why: &str| {
        Err(format!(
            "the type `{}` is not a SQL Server type spelling: {why}",
            shorten(spelling)
        ))
    };
    let lexed = tokenize_with_comments(spelling)
        .map_err(|e| format!("the type `{}` {e}", shorten(spelling)))?;
    let (tokens, comments) = (lexed.tokens, lexed.comments);
    if comments > 0 {
        return bad("it holds a comment");
    }
    if tokens.first().is_some_and(|t| t.kind == Kind::Quoted) {
        return type_name(spelling);
    }
    let text = |t: &Token| t.text(spelling);
    let Some((head, rest)) = tokens.split_first() else {
        return bad("it is empty");
    };
    if head.kind != Kind::Word {
        return bad("it does not start with a type name");
    }
    let name = text(head).to_ascii_lowercase();
    // The arguments: `(n)`, `(max)`, `(p,s)` or none.
    let args: Vec<&str> = match rest {
        [] => Vec::new(),
        [open, inner @ .., close]
            if open.is_punct(spelling, '(') && close.is_punct(spelling, ')') =>
        {
            let mut args = Vec::new();
            for (i, t) in inner.iter().enumerate() {
                if i % 2 == 1 {
                    if !t.is_punct(spelling, ',') {
                        return bad("its arguments are not a list");
                    }
                } else if t.kind == Kind::Number || t.is_word(spelling, "max") {
                    args.push(text(t));
                } else {
                    return bad("an argument is not a number or `max`");
                }
            }
            if inner.is_empty() || inner.len() % 2 == 0 {
                return bad("its arguments are not a list");
            }
            args
        }
        _ => return bad("it has text after the type name that is not `(…)`"),
    };
    let num = |a: &str, lo: u32, hi: u32| a.parse::<u32>().ok().filter(|n| (lo..=hi).contains(n));
    let ok = match (name.as_str(), args.as_slice()) {
        (
            "tinyint" | "smallint" | "int" | "bigint" | "bit" | "money" | "smallmoney" | "real"
            | "date" | "datetime" | "smalldatetime" | "uniqueidentifier" | "xml" | "sql_variant"
            | "hierarchyid" | "geography" | "geometry" | "rowversion" | "timestamp" | "text"
            | "ntext" | "image" | "sysname",
            [],
        ) => true,
        ("float", []) => true,
        ("float", [n]) => num(n, 1, 53).is_some(),
        ("decimal" | "numeric", []) => true,
        ("decimal" | "numeric", [p]) => num(p, 1, 38).is_some(),
        ("decimal" | "numeric", [p, s]) => {
            num(p, 1, 38).is_some_and(|p| num(s, 0, 38).is_some_and(|s| s <= p))
        }
        ("char" | "binary", []) => true,
        ("char" | "binary", [n]) => num(n, 1, 8000).is_some(),
        ("varchar" | "varbinary", []) => true,
        ("varchar" | "varbinary", [n]) => {
            n.eq_ignore_ascii_case("max") || num(n, 1, 8000).is_some()
        }
        ("nchar", []) => true,
        ("nchar", [n]) => num(n, 1, 4000).is_some(),
        ("nvarchar", []) => true,
        ("nvarchar", [n]) => n.eq_ignore_ascii_case("max") || num(n, 1, 4000).is_some(),
        ("time" | "datetime2" | "datetimeoffset", []) => true,
        ("time" | "datetime2" | "datetimeoffset", [n]) => num(n, 0, 7).is_some(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        bad("not a type with these arguments")
    }
}

/// A user type's name as the target splices it: `[name]` or
/// `[schema].[name]`, bracketed.
fn type_name(spelling: &str) -> Result<(), String> {
    let lexed = tokenize_with_comments(spelling)
        .map_err(|e| format!("the type `{}` {e}", shorten(spelling)))?;
    let (tokens, comments) = (lexed.tokens, lexed.comments);
    let ok = comments == 0
        && match tokens.as_slice() {
            [n] => n.kind == Kind::Quoted && n.text(spelling).starts_with('['),
            [s, dot, n] => {
                [s, n]
                    .iter()
                    .all(|t| t.kind == Kind::Quoted && t.text(spelling).starts_with('['))
                    && dot.is_punct(spelling, '.')
            }
            _ => false,
        };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the type name `{}` is not `[schema].[name]`",
            shorten(spelling)
        ))
    }
}

/// A collation name, spliced bare after COLLATE: letters, digits and `_`.
pub fn collation(name: &str) -> Result<(), String> {
    if !name.is_empty()
        && name.len() <= 128
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a collation name (letters, digits and `_`)",
            shorten(name)
        ))
    }
}

/// The parts of a name as T-SQL reads the tokens `tokens` (`a`, `a.b`,
/// `[a].[b]`), and how many tokens they took; `None` if `tokens` does not
/// start with a name.
pub(crate) fn qualified_name(src: &str, tokens: &[Token]) -> Option<(Vec<String>, usize)> {
    let mut parts = Vec::new();
    let mut i = 0;
    loop {
        let t = tokens.get(i)?;
        if !matches!(t.kind, Kind::Word | Kind::Quoted) {
            return None;
        }
        parts.push(t.name(src)?);
        i += 1;
        if tokens.get(i).is_some_and(|t| t.is_punct(src, '.')) && parts.len() < 4 {
            i += 1;
        } else {
            return Some((parts, i));
        }
    }
}

/// Whether the name `parts` (from [`qualified_name`]) is `declared`: the
/// same schema and name, compared as SQL Server's default case-insensitive
/// collations do (ASCII case), or the same name without a schema for an
/// object declared in `dbo` (the session's default schema).
pub(crate) fn names_declared(parts: &[String], declared: &TableName) -> Result<(), String> {
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b) || a == b;
    let schema = declared.schema.as_deref().unwrap_or("dbo");
    let ok = match parts {
        [name] => eq(name, &declared.name) && eq(schema, "dbo"),
        [s, name] => eq(s, schema) && eq(name, &declared.name),
        _ => false,
    };
    if ok {
        Ok(())
    } else if parts.len() == 1 && eq(&parts[0], &declared.name) {
        Err(format!(
            "names {} without its schema, which would create it in the restoring session's \
             default schema, not in {schema}",
            parts[0]
        ))
    } else {
        Err(format!(
            "creates {}, not the declared {}",
            parts.join("."),
            declared
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bru_core::{CheckConstraint, Column, ColumnType, Generated, IndexDef};

    #[test]
    fn expressions_are_one_expression() {
        for ok in [
            "((0))",
            "(getdate())",
            "(N'it''s; DROP TABLE x')",
            "([a]+[b])",
            "([x]>(0) AND [y] IS NOT NULL)",
            "(CONVERT([bit],(0)))",
            "(case when [a]>(1) then N'x' else N'y' end)",
            "([dbo].[f]([a],(2)))",
            "([select]>(0))",
            "(newid())",
            "nextval('s'::regclass)",
            "-- comment\n(1)",
            "(1) -- comment\n",
            "(1) /* comment */",
        ] {
            assert!(expression(ok).is_ok(), "{ok}: {:?}", expression(ok));
        }
        for (bad, why) in [
            ("(0); DROP TABLE victim", "`;`"),
            ("(0)) DROP TABLE victim", "closes"),
            ("((0)", "never closed"),
            ("0, b int", "`,`"),
            ("(0) DROP TABLE victim", "DROP"),
            ("((select max(a) from t))", "query"),
            ("(1) exec('drop table t')", "exec"),
            ("(1) /* x", "unterminated"),
            ("N'abc", "unterminated"),
            ("[a", "unterminated"),
            ("", "empty"),
            ("  -- only a comment\n", "empty"),
            ("(1) WAITFOR DELAY '1:00'", "WAITFOR"),
            // Spliced before another fragment, the comment would hide the
            // line up to a line break inside that fragment's string.
            ("(1) --", "comment"),
        ] {
            let e = expression(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn type_spellings_follow_sql_servers_grammar() {
        for ok in [
            "int",
            "nvarchar(50)",
            "NVARCHAR(4000)",
            "varchar(max)",
            "varbinary(max)",
            "decimal(18,2)",
            "decimal(38,38)",
            "numeric(1,0)",
            "datetime2(7)",
            "time(0)",
            "datetimeoffset(3)",
            "float",
            "float(24)",
            "money",
            "smallmoney",
            "uniqueidentifier",
            "sql_variant",
            "rowversion",
            "xml",
            "[dbo].[phone]",
            "[a]]b].[c d]",
        ] {
            assert!(native_type(ok).is_ok(), "{ok}: {:?}", native_type(ok));
        }
        for bad in [
            "",
            "int; DROP TABLE x",
            "int) DROP TABLE x --",
            "nvarchar(5000)",
            "nchar(max)",
            "decimal(39,0)",
            "decimal(10,11)",
            "datetime2(8)",
            "char(0)",
            "int /* x */",
            "varchar(10) collate x",
            "nvarchar(10,2)",
            "nvarchar(",
            "varchar(10",
            "[dbo].[t] DROP",
            "dbo.phone",
            "character varying(20)",
            "int,",
        ] {
            assert!(native_type(bad).is_err(), "{bad} accepted");
        }
    }

    fn table() -> TableDef {
        let mut t = TableDef::new(
            TableName::new(Some("dbo"), "t"),
            vec![Column::new("a", ColumnType::Int32, "int")],
        );
        t.properties
            .insert("mssql.pk.clustered".into(), "true".into());
        t
    }

    #[test]
    fn tables_are_checked_fragment_by_fragment() {
        let d = Declared::default();
        assert!(check_table(&table(), &d).is_ok());

        let mut t = table();
        t.columns[0].native_type = "int) ; DROP TABLE victim --".into();
        assert!(check_table(&t, &d).unwrap_err().contains("column a"));
        // Another engine's spelling is not spliced, so not refused...
        t.properties.clear();
        assert!(check_table(&t, &d).is_ok());
        // ...but its expressions are, as for every table.
        t.columns[0].default = Some("0; DROP TABLE victim".into());
        assert!(check_table(&t, &d).unwrap_err().contains("default"));
        t.columns[0].default = Some("(0) DROP TABLE victim".into());
        assert!(check_table(&t, &d).unwrap_err().contains("DROP"));
        // A keyword inside parentheses starts nothing there.
        t.columns[0].default = None;
        t.checks.push(CheckConstraint {
            name: None,
            expr: "(open >= 0)".into(),
        });
        assert!(check_table(&t, &d).is_ok());

        let mut t = table();
        t.columns[0].generated = Some(Generated {
            expr: "(1)) DROP TABLE victim (".into(),
            stored: false,
        });
        assert!(check_table(&t, &d)
            .unwrap_err()
            .contains("computed expression"));

        let mut t = table();
        t.checks.push(CheckConstraint {
            name: Some("ck".into()),
            expr: "([a]>(0)) DROP TABLE victim".into(),
        });
        assert!(check_table(&t, &d).unwrap_err().contains("CHECK ck"));

        let mut t = table();
        let ix = IndexDef {
            name: "ix".into(),
            columns: vec!["a".into()],
            unique: false,
            predicate: Some("([a] IS NOT NULL); DROP TABLE victim".into()),
            method: None,
            native_ddl: None,
        };
        t.indexes.push(ix);
        assert!(check_table(&t, &d).unwrap_err().contains("index ix"));

        let mut t = table();
        t.properties.insert(
            "mssql.column.a.collation".into(),
            "Latin1_General_BIN2 DROP TABLE x".into(),
        );
        assert!(check_table(&t, &d).unwrap_err().contains("collation"));
        let mut t = table();
        t.properties.insert(
            "mssql.column.a.collation".into(),
            "Latin1_General_BIN2".into(),
        );
        assert!(check_table(&t, &d).is_ok());

        let mut t = table();
        t.native = Some(bru_core::NativeDdl {
            engine: "mssql".into(),
            create: "CREATE TABLE t (a int)".into(),
        });
        assert!(check_table(&t, &d).is_err());
    }
}
