//! The shapes of the module, sequence and schema texts a SQL Server
//! archive holds (see the parent module for what is allowed and why).

use bru_core::{Declared, ObjectDef, ObjectKind, TableName};

use super::lex::{shorten, tokenize, Kind, Token};
use super::{names_declared, qualified_name, STATEMENT_WORDS};

/// Words that write or run something, refused anywhere in a view's query
/// or an inline function's (no view may hold them at any depth); the other
/// [`STATEMENT_WORDS`] only at its top level, where a statement could begin.
const WRITE_WORDS: &[&str] = &[
    "ALTER", "CREATE", "DELETE", "DENY", "DROP", "EXEC", "EXECUTE", "GRANT", "INSERT", "INTO",
    "MERGE", "REVOKE", "TRUNCATE", "UPDATE",
];

/// A token stream with a position, over one text.
struct Cur<'a> {
    src: &'a str,
    toks: Vec<Token>,
    at: usize,
}

impl<'a> Cur<'a> {
    fn new(src: &'a str) -> Result<Cur<'a>, String> {
        Ok(Cur {
            src,
            toks: tokenize(src)?,
            at: 0,
        })
    }

    fn peek(&self) -> Option<Token> {
        self.toks.get(self.at).copied()
    }

    fn peek_word(&self, w: &str) -> bool {
        self.peek().is_some_and(|t| t.is_word(self.src, w))
    }

    fn word(&mut self, w: &str) -> bool {
        if self.peek_word(w) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, w: &str) -> Result<(), String> {
        if self.word(w) {
            Ok(())
        } else {
            Err(format!("expected {w}, found {}", self.found()))
        }
    }

    fn punct(&mut self, c: char) -> bool {
        if self.peek().is_some_and(|t| t.is_punct(self.src, c)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// What comes next, for messages.
    fn found(&self) -> String {
        match self.peek() {
            Some(t) => format!("`{}`", shorten(&self.src[t.start..])),
            None => "the end of the text".into(),
        }
    }

    /// A (possibly qualified) name.
    fn name(&mut self) -> Result<Vec<String>, String> {
        match qualified_name(self.src, &self.toks[self.at..]) {
            Some((parts, n)) => {
                self.at += n;
                Ok(parts)
            }
            None => Err(format!("expected a name, found {}", self.found())),
        }
    }

    /// Skips a balanced `( … )` that starts here.
    fn skip_parens(&mut self) -> Result<(), String> {
        let mut depth = 0usize;
        while let Some(t) = self.peek() {
            self.at += 1;
            if t.is_punct(self.src, '(') {
                depth += 1;
            } else if t.is_punct(self.src, ')') {
                if depth == 0 {
                    return Err("a `)` closes nothing".into());
                }
                depth -= 1;
                if depth == 0 {
                    return Ok(());
                }
            }
            if depth == 0 {
                return Err(format!("expected `(`, found `{}`", t.text(self.src)));
            }
        }
        Err("a `(` is never closed".into())
    }

    /// Nothing but `;` until the end.
    fn end(&mut self, after: &str) -> Result<(), String> {
        while self.punct(';') {}
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(format!(
                "has text after {after}: {} (one text creates one object)",
                self.found()
            )),
        }
    }
}

/// A view, function, procedure or trigger: `sys.sql_modules.definition`.
pub(super) fn check(object: &ObjectDef, archive: &Declared) -> Result<(), String> {
    let mut c = Cur::new(&object.ddl)?;
    c.expect("CREATE")
        .map_err(|e| format!("does not start with CREATE ({e})"))?;
    if c.word("OR") {
        c.expect("ALTER")?;
    }
    let what = match c.peek() {
        Some(t) if t.kind == Kind::Word => t.text(c.src).to_ascii_uppercase(),
        _ => String::new(),
    };
    let fits = match &object.kind {
        ObjectKind::View => what == "VIEW",
        ObjectKind::Trigger => what == "TRIGGER",
        ObjectKind::Function | ObjectKind::TableFunction => {
            matches!(what.as_str(), "FUNCTION" | "PROC" | "PROCEDURE")
        }
        ObjectKind::Other(k) if k == "procedure" => matches!(what.as_str(), "PROC" | "PROCEDURE"),
        _ => false,
    };
    if !fits {
        return Err(format!(
            "is declared a {} but creates {}",
            object.kind,
            if what.is_empty() {
                c.found()
            } else {
                format!("a {}", what.to_ascii_lowercase())
            }
        ));
    }
    c.at += 1;
    let parts = c.name()?;
    names_declared(&parts, &object.name)?;
    match what.as_str() {
        "VIEW" => view(&mut c),
        "FUNCTION" => function(&mut c),
        "TRIGGER" => trigger(&mut c, object, archive),
        // A procedure's body is the rest of the batch (see the parent
        // module): any body is the declared procedure's.
        _ => Ok(()),
    }
}

/// `[(columns)] [WITH attributes] AS <query>`.
fn view(c: &mut Cur) -> Result<(), String> {
    if c.peek().is_some_and(|t| t.is_punct(c.src, '(')) {
        c.skip_parens()?;
    }
    if c.word("WITH") {
        loop {
            if !(c.word("SCHEMABINDING") || c.word("ENCRYPTION") || c.word("VIEW_METADATA")) {
                return Err(format!("has an unknown view attribute {}", c.found()));
            }
            if !c.punct(',') {
                break;
            }
        }
    }
    c.expect("AS")?;
    query(c, "the view's query")
}

/// One query (a view's, an inline function's), to the end of the text:
/// no statement may begin after it. At its top level no statement keyword
/// and no second SELECT but after UNION, EXCEPT or INTERSECT; at any depth
/// no word that writes.
fn query(c: &mut Cur, what: &str) -> Result<(), String> {
    let src = c.src;
    let start = c.at;
    let mut depth = 0usize;
    let mut selects = 0usize;
    let first = c.peek().ok_or_else(|| format!("{what} is empty"))?;
    if !(first.is_word(src, "SELECT") || first.is_word(src, "WITH") || first.is_punct(src, '(')) {
        return Err(format!(
            "{what} does not start with SELECT, WITH or `(`: {}",
            c.found()
        ));
    }
    while let Some(t) = c.peek() {
        let prev = (c.at > start).then(|| c.toks[c.at - 1]);
        let next = c.toks.get(c.at + 1).copied();
        if t.is_punct(src, ';') {
            return c.end(what);
        }
        if t.is_punct(src, '(') {
            depth += 1;
        } else if t.is_punct(src, ')') {
            depth = depth
                .checked_sub(1)
                .ok_or_else(|| format!("{what} has a `)` that closes what it did not open"))?;
        } else if t.kind == Kind::Word {
            let w = t.text(src);
            // `MERGE JOIN` is a join hint, `OFFSET n ROWS FETCH NEXT m ROWS
            // ONLY` ends an ordered query: neither begins a statement.
            let join_hint = (w.eq_ignore_ascii_case("MERGE")
                && next.is_some_and(|n| n.is_word(src, "JOIN")))
                || (w.eq_ignore_ascii_case("FETCH") && offset_fetch(c));
            if !join_hint && WRITE_WORDS.iter().any(|s| w.eq_ignore_ascii_case(s)) {
                return Err(format!("{what} holds `{w}`, which no view or query runs"));
            }
            if depth == 0 {
                if w.eq_ignore_ascii_case("SELECT") {
                    selects += 1;
                    let set_op = prev.is_some_and(|p| {
                        ["UNION", "ALL", "EXCEPT", "INTERSECT"]
                            .iter()
                            .any(|o| p.is_word(src, o))
                    });
                    if selects > 1 && !set_op {
                        return Err(format!(
                            "has a second statement after {what}: `{}`",
                            shorten(&src[t.start..])
                        ));
                    }
                } else if w.eq_ignore_ascii_case("WITH") && c.at > start {
                    // A table hint `WITH (NOLOCK)` or the closing `WITH
                    // CHECK OPTION`; any other WITH begins a statement.
                    let hint = next.is_some_and(|n| n.is_punct(src, '('));
                    let check_option = next.is_some_and(|n| n.is_word(src, "CHECK"))
                        && c.toks
                            .get(c.at + 2)
                            .is_some_and(|n| n.is_word(src, "OPTION"));
                    if check_option {
                        c.at += 3;
                        return c.end(what);
                    }
                    if !hint {
                        return Err(format!(
                            "has a second statement after {what}: `{}`",
                            shorten(&src[t.start..])
                        ));
                    }
                } else if !join_hint && STATEMENT_WORDS.iter().any(|s| w.eq_ignore_ascii_case(s)) {
                    return Err(format!(
                        "has a second statement after {what}: `{}`",
                        shorten(&src[t.start..])
                    ));
                }
            }
        }
        c.at += 1;
    }
    if depth != 0 {
        return Err(format!("{what} leaves a `(` unclosed"));
    }
    Ok(())
}

/// Whether the FETCH at `c` is the one of `OFFSET n ROWS FETCH NEXT m ROWS
/// ONLY` with literal counts (never a cursor's `FETCH NEXT FROM`).
fn offset_fetch(c: &Cur) -> bool {
    let src = c.src;
    let at = |d: isize| {
        c.at.checked_add_signed(d)
            .and_then(|i| c.toks.get(i))
            .copied()
    };
    let word =
        |d: isize, words: &[&str]| at(d).is_some_and(|t| words.iter().any(|w| t.is_word(src, w)));
    let number = |d: isize| at(d).is_some_and(|t| t.kind == Kind::Number);
    word(-3, &["OFFSET"])
        && number(-2)
        && word(-1, &["ROWS", "ROW"])
        && word(1, &["NEXT", "FIRST"])
        && number(2)
        && word(3, &["ROWS", "ROW"])
        && word(4, &["ONLY"])
}

/// `(parameters) RETURNS …`, to where CREATE FUNCTION's grammar ends: a
/// scalar or multi-statement function's `BEGIN … END`, an inline one's
/// `RETURN` query. CLR functions (`EXTERNAL NAME`) are refused.
fn function(c: &mut Cur) -> Result<(), String> {
    if !c.peek().is_some_and(|t| t.is_punct(c.src, '(')) {
        return Err(format!("expected the parameter list, found {}", c.found()));
    }
    c.skip_parens()?;
    c.expect("RETURNS")?;
    let inline = if c.word("TABLE") {
        true
    } else if c
        .peek()
        .is_some_and(|t| t.kind == Kind::Word && t.text(c.src).starts_with('@'))
    {
        // `@t TABLE (columns)`: a multi-statement function.
        c.at += 1;
        c.expect("TABLE")?;
        c.skip_parens()?;
        false
    } else {
        // The scalar type: a name and its arguments.
        c.name()?;
        if c.peek().is_some_and(|t| t.is_punct(c.src, '(')) {
            c.skip_parens()?;
        }
        false
    };
    // Options up to AS, BEGIN or RETURN.
    loop {
        let Some(t) = c.peek() else {
            return Err("ends before the function's body".into());
        };
        if t.is_word(c.src, "AS") {
            c.at += 1;
            break;
        }
        if t.is_word(c.src, "BEGIN") || t.is_word(c.src, "RETURN") {
            break;
        }
        if t.is_word(c.src, "EXTERNAL") {
            return Err("is a CLR function (EXTERNAL NAME), which bru does not restore".into());
        }
        if t.is_word(c.src, "EXEC") || t.is_word(c.src, "EXECUTE") {
            // EXECUTE AS CALLER | SELF | OWNER | 'user'
            c.at += 1;
            c.expect("AS")?;
            c.at += 1;
            continue;
        }
        let option = matches!(t.kind, Kind::Word)
            || t.is_punct(c.src, ',')
            || t.is_punct(c.src, '=')
            || t.is_punct(c.src, '(')
            || t.is_punct(c.src, ')');
        if !option {
            return Err(format!("has {} among the function's options", c.found()));
        }
        c.at += 1;
    }
    if c.peek_word("EXTERNAL") {
        return Err("is a CLR function (EXTERNAL NAME), which bru does not restore".into());
    }
    if inline {
        c.expect("RETURN")?;
        return query(c, "the function's query");
    }
    block(c)?;
    c.end("the function's END")
}

/// A `BEGIN … END` block that starts here, to its matching END: BEGIN and
/// CASE open, END closes. `BEGIN TRAN[SACTION]`, `BEGIN DISTRIBUTED`,
/// `BEGIN DIALOG` and `BEGIN CONVERSATION` are statements, not blocks:
/// counting one would make the checker look for the function's end past
/// the server's, so they are not counted (a miscount the other way only
/// ends the body early, and what follows is refused).
fn block(c: &mut Cur) -> Result<(), String> {
    c.expect("BEGIN")?;
    let mut depth = 1usize;
    while let Some(t) = c.peek() {
        c.at += 1;
        if t.is_word(c.src, "BEGIN") {
            let stmt = [
                "TRAN",
                "TRANSACTION",
                "DISTRIBUTED",
                "DIALOG",
                "CONVERSATION",
            ]
            .iter()
            .any(|w| c.peek_word(w));
            if !stmt {
                depth += 1;
            }
        } else if t.is_word(c.src, "CASE") {
            depth += 1;
        } else if t.is_word(c.src, "END") {
            depth -= 1;
            if depth == 0 {
                // `END TRY` / `END CATCH` do not end a function's body.
                return Ok(());
            }
        }
    }
    Err("its BEGIN is never closed by an END".into())
}

/// `ON <table or view>`: one the archive creates, the entry's own table.
fn trigger(c: &mut Cur, object: &ObjectDef, archive: &Declared) -> Result<(), String> {
    c.expect("ON")?;
    if c.peek_word("DATABASE") || c.peek_word("ALL") {
        return Err(
            "is a DDL trigger (ON DATABASE / ALL SERVER), which bru does not restore".into(),
        );
    }
    let on = c.name()?;
    let table = object
        .table
        .as_ref()
        .ok_or("is a trigger whose entry names no table")?;
    names_declared(&on, table).map_err(|e| format!("is on another table: its ON {e}"))?;
    let same = |r: &TableName| {
        let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        eq(&r.name, &table.name)
            && eq(
                r.schema.as_deref().unwrap_or("dbo"),
                table.schema.as_deref().unwrap_or("dbo"),
            )
    };
    if !archive.relations.iter().any(same) {
        return Err(format!(
            "is on {table}, which is not a table or view of the archive"
        ));
    }
    // A DML trigger lives in its table's schema.
    let schema = object.name.schema.as_deref().unwrap_or("dbo");
    if !schema.eq_ignore_ascii_case(table.schema.as_deref().unwrap_or("dbo")) {
        return Err(format!(
            "is declared in schema {schema}, not in its table's ({table})"
        ));
    }
    Ok(())
}

/// A sequence: its `CREATE SEQUENCE <name> [AS type] [START WITH n]
/// [INCREMENT BY n] [MINVALUE n | NO MINVALUE] [MAXVALUE n | NO MAXVALUE]
/// [[NO] CYCLE] [CACHE [n] | NO CACHE]` and its data statement `ALTER
/// SEQUENCE <name> RESTART WITH n`, as the source writes them.
pub(super) fn sequence(object: &ObjectDef) -> Result<(), String> {
    let mut c = Cur::new(&object.ddl)?;
    c.expect("CREATE")?;
    c.expect("SEQUENCE")?;
    names_declared(&c.name()?, &object.name)?;
    loop {
        if c.word("AS") {
            // The type: every token up to the next option, checked as a
            // type spelling (`bigint`, `decimal(18,0)`, `[dbo].[id_type]`).
            let from = c.peek().map_or(c.src.len(), |t| t.start);
            let mut to = from;
            while let Some(t) = c.peek() {
                let option = [
                    "START",
                    "INCREMENT",
                    "MINVALUE",
                    "MAXVALUE",
                    "NO",
                    "CYCLE",
                    "CACHE",
                ]
                .iter()
                .any(|w| t.is_word(c.src, w));
                if option || t.is_punct(c.src, ';') {
                    break;
                }
                to = t.end;
                c.at += 1;
            }
            super::native_type(&c.src[from..to])?;
        } else if c.word("START") {
            c.expect("WITH")?;
            number(&mut c)?;
        } else if c.word("INCREMENT") {
            c.expect("BY")?;
            number(&mut c)?;
        } else if c.word("MINVALUE") || c.word("MAXVALUE") {
            number(&mut c)?;
        } else if c.word("NO") {
            if !(c.word("MINVALUE") || c.word("MAXVALUE") || c.word("CYCLE") || c.word("CACHE")) {
                return Err(format!("has NO {}", c.found()));
            }
        } else if c.word("CYCLE") {
        } else if c.word("CACHE") {
            if c.peek().is_some_and(|t| t.kind == Kind::Number) {
                c.at += 1;
            }
        } else {
            break;
        }
    }
    c.end("the CREATE SEQUENCE")?;
    if let Some(data) = &object.data {
        let mut c = Cur::new(data)?;
        c.expect("ALTER")?;
        c.expect("SEQUENCE")?;
        names_declared(&c.name()?, &object.name)?;
        c.expect("RESTART")?;
        c.expect("WITH")?;
        number(&mut c)?;
        c.end("the ALTER SEQUENCE")?;
    }
    Ok(())
}

/// A number, with its sign.
fn number(c: &mut Cur) -> Result<(), String> {
    let _ = c.punct('-') || c.punct('+');
    match c.peek() {
        Some(t) if t.kind == Kind::Number && !t.text(c.src).starts_with('$') => {
            c.at += 1;
            Ok(())
        }
        _ => Err(format!("expected a number, found {}", c.found())),
    }
}

/// `CREATE SCHEMA <name>` and nothing else (a
/// CREATE SCHEMA may otherwise hold CREATE TABLE and GRANT statements).
pub(super) fn schema(object: &ObjectDef) -> Result<(), String> {
    let mut c = Cur::new(&object.ddl)?;
    c.expect("CREATE")?;
    c.expect("SCHEMA")?;
    let parts = c.name()?;
    let declared = object.name.schema.as_deref().unwrap_or(&object.name.name);
    if parts.len() != 1 || !parts[0].eq_ignore_ascii_case(declared) && object.name.name != parts[0]
    {
        return Err(format!(
            "creates schema {}, not the declared {}",
            parts.join("."),
            object.name
        ));
    }
    // The source never writes an owner: one here would hand the schema,
    // and everything restored into it, to a principal of the target.
    if c.word("AUTHORIZATION") {
        return Err(
            "gives the schema an owner (AUTHORIZATION), which a backup never writes".into(),
        );
    }
    c.end("the CREATE SCHEMA")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared() -> Declared {
        Declared {
            relations: vec![
                TableName::new(Some("dbo"), "t"),
                TableName::new(Some("sales"), "orders"),
            ],
            ..Declared::default()
        }
    }

    fn obj(kind: ObjectKind, schema: &str, name: &str, ddl: &str) -> ObjectDef {
        ObjectDef::new(kind, TableName::new(Some(schema), name), "mssql", ddl)
    }

    fn ok(o: &ObjectDef) {
        if let Err(e) = super::super::check_object(o, &declared()) {
            panic!("refused {}: {e}", o.ddl);
        }
    }

    fn refused(o: &ObjectDef, why: &str) {
        match super::super::check_object(o, &declared()) {
            Ok(()) => panic!("accepted {}", o.ddl),
            Err(e) => assert!(e.contains(why), "{}: {e}", o.ddl),
        }
    }

    #[test]
    fn views_are_one_query_of_the_declared_name() {
        let v = |ddl: &str| obj(ObjectKind::View, "dbo", "v", ddl);
        ok(&v("CREATE VIEW [dbo].[v] AS SELECT a FROM t"));
        ok(&v(
            "CREATE VIEW \"dbo\".\"v\" (\"a\") AS SELECT a FROM t ORDER BY a OFFSET 1 ROWS FETCH NEXT 2 ROWS ONLY",
        ));
        refused(
            &v("CREATE VIEW dbo.v AS SELECT a FROM t ROWS FETCH NEXT FROM c"),
            "second statement",
        );
        ok(&v("-- made by hand\r\ncreate view v as select a from t;"));
        ok(&v("CREATE OR ALTER VIEW dbo.v (x) WITH SCHEMABINDING AS SELECT a FROM dbo.t WITH (NOLOCK) UNION ALL SELECT 1"));
        ok(&v(
            "CREATE VIEW dbo.v AS WITH c AS (SELECT a FROM t) SELECT a FROM c",
        ));
        ok(&v(
            "CREATE VIEW dbo.v AS SELECT a FROM t WHERE a > 0 WITH CHECK OPTION",
        ));
        ok(&v("CREATE VIEW dbo.v AS SELECT 'x; DROP TABLE t' AS [a]]; DROP], a /* ; DELETE */ FROM t x INNER MERGE JOIN t y ON x.a = y.a"));
        refused(
            &v("CREATE VIEW dbo.v AS SELECT a FROM t; DROP TABLE x"),
            "text after",
        );
        refused(
            &v("CREATE VIEW dbo.v AS SELECT a FROM t DROP TABLE x"),
            "DROP",
        );
        refused(
            &v("CREATE VIEW dbo.v AS SELECT a FROM t\nGO\nDROP TABLE x"),
            "second statement",
        );
        refused(
            &v("CREATE VIEW dbo.v AS SELECT a FROM t PRINT 1"),
            "second statement",
        );
        refused(
            &v("CREATE VIEW dbo.v AS SELECT a FROM t SELECT * INTO x FROM t"),
            "INTO",
        );
        refused(
            &v("CREATE VIEW dbo.v AS SELECT a FROM t SELECT 1"),
            "second statement",
        );
        refused(
            &v("CREATE VIEW dbo.v AS SELECT a FROM t WITH x AS (SELECT 1) DELETE FROM t"),
            "DELETE",
        );
        refused(
            &v("CREATE VIEW dbo.v AS SELECT a FROM (SELECT 1 a) x EXEC('drop table t')"),
            "EXEC",
        );
        refused(
            &v("DROP TABLE x; CREATE VIEW dbo.v AS SELECT 1 a"),
            "does not start with CREATE",
        );
        refused(
            &v("CREATE VIEW dbo.other AS SELECT 1 a"),
            "not the declared",
        );
        refused(&v("CREATE VIEW sales.v AS SELECT 1 a"), "not the declared");
        refused(&v("CREATE TABLE dbo.v (a int)"), "creates a table");
        refused(&v("CREATE VIEW dbo.v AS SELECT 'a"), "unterminated");
        refused(
            &v("CREATE VIEW dbo.v AS SELECT a FROM t /* */ */ DROP TABLE x"),
            "DROP",
        );
        refused(&v("CREATE VIEW dbo.v AS SELECT a) FROM t"), "closes");
        // Without a schema the name is the session's default schema's.
        refused(
            &obj(
                ObjectKind::View,
                "sales",
                "v",
                "CREATE VIEW v AS SELECT 1 a",
            ),
            "without its schema",
        );
    }

    #[test]
    fn functions_end_where_their_grammar_ends() {
        let f = |ddl: &str| obj(ObjectKind::Function, "dbo", "f", ddl);
        ok(&f(
            "CREATE FUNCTION dbo.f (@a int) RETURNS int AS BEGIN RETURN @a + 1 END",
        ));
        ok(&f("CREATE FUNCTION dbo.f(@a decimal(18,2)) RETURNS decimal(18,2) WITH SCHEMABINDING, RETURNS NULL ON NULL INPUT AS BEGIN DECLARE @b int = CASE WHEN @a > 0 THEN 1 ELSE 0 END; IF @b = 1 BEGIN SET @b = 2 END RETURN @b END;"));
        ok(&f(
            "CREATE FUNCTION dbo.f() RETURNS TABLE AS RETURN (SELECT a FROM dbo.t)",
        ));
        ok(&f(
            "CREATE FUNCTION dbo.f() RETURNS TABLE AS RETURN SELECT a FROM dbo.t",
        ));
        ok(&f("CREATE FUNCTION dbo.f() RETURNS @r TABLE (a int) WITH EXECUTE AS OWNER AS BEGIN INSERT @r SELECT a FROM t RETURN END"));
        refused(
            &f("CREATE FUNCTION dbo.f() RETURNS int AS BEGIN RETURN 1 END; DROP TABLE x"),
            "text after",
        );
        refused(
            &f("CREATE FUNCTION dbo.f() RETURNS int AS BEGIN RETURN 1 END DROP TABLE x"),
            "text after",
        );
        refused(&f("CREATE FUNCTION dbo.f() RETURNS int AS BEGIN BEGIN TRAN RETURN 1 END DROP TABLE x END"), "text after");
        refused(
            &f("CREATE FUNCTION dbo.f() RETURNS int AS BEGIN RETURN 1"),
            "never closed",
        );
        refused(
            &f("CREATE FUNCTION dbo.f() RETURNS @t TABLE ) AS BEGIN RETURN END"),
            "closes nothing",
        );
        refused(
            &f("CREATE FUNCTION dbo.f() RETURNS TABLE AS RETURN SELECT 1 a; DELETE FROM t"),
            "text after",
        );
        refused(
            &f("CREATE FUNCTION dbo.f() RETURNS TABLE AS RETURN SELECT 1 a DELETE FROM t"),
            "DELETE",
        );
        refused(
            &f("CREATE FUNCTION dbo.f() RETURNS int AS EXTERNAL NAME a.b.c"),
            "CLR",
        );
        refused(
            &f("CREATE FUNCTION dbo.g() RETURNS int AS BEGIN RETURN 1 END"),
            "not the declared",
        );
    }

    #[test]
    fn procedures_and_triggers_create_the_declared_object() {
        let p = |ddl: &str| obj(ObjectKind::Other("procedure".into()), "dbo", "p", ddl);
        // A procedure's body is the batch's rest, as T-SQL has it.
        ok(&p("CREATE PROCEDURE dbo.p @a int AS BEGIN SELECT @a END"));
        ok(&p(
            "create or alter proc [dbo].[p] as delete from t; select 1",
        ));
        refused(
            &p("DELETE FROM t; CREATE PROCEDURE dbo.p AS SELECT 1"),
            "does not start with CREATE",
        );
        refused(&p("CREATE PROCEDURE dbo.q AS SELECT 1"), "not the declared");
        refused(
            &p("CREATE FUNCTION dbo.p() RETURNS int AS BEGIN RETURN 1 END"),
            "creates a function",
        );

        let mut t = obj(
            ObjectKind::Trigger,
            "dbo",
            "trg",
            "CREATE TRIGGER [dbo].[trg] ON [dbo].[t] AFTER INSERT AS SET NOCOUNT ON; UPDATE t SET a = 1",
        );
        t.table = Some(TableName::new(Some("dbo"), "t"));
        ok(&t);
        let mut other = t.clone();
        other.ddl =
            "CREATE TRIGGER dbo.trg ON dbo.victim AFTER INSERT AS DELETE FROM victim".into();
        refused(&other, "another table");
        let mut undeclared = t.clone();
        undeclared.table = Some(TableName::new(Some("dbo"), "victim"));
        undeclared.ddl = "CREATE TRIGGER dbo.trg ON dbo.victim AFTER INSERT AS SELECT 1".into();
        refused(&undeclared, "not a table or view of the archive");
        let mut ddl = t.clone();
        ddl.ddl = "CREATE TRIGGER trg ON DATABASE FOR CREATE_TABLE AS SELECT 1".into();
        refused(&ddl, "DDL trigger");
        let mut none = t.clone();
        none.table = None;
        refused(&none, "names no table");
    }

    #[test]
    fn sequences_and_schemas_have_the_sources_shape() {
        let mut s = obj(
            ObjectKind::Sequence,
            "dbo",
            "s",
            "CREATE SEQUENCE [dbo].[s] AS bigint START WITH 1 INCREMENT BY -1 MINVALUE -9223372036854775808 MAXVALUE 10 NO CYCLE CACHE 50",
        );
        s.data = Some("ALTER SEQUENCE [dbo].[s] RESTART WITH 7".into());
        ok(&s);
        let mut user_type = s.clone();
        user_type.ddl = "CREATE SEQUENCE [dbo].[s] AS [dbo].[id_type] START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE 100 CYCLE CACHE".into();
        ok(&user_type);
        let mut bad = s.clone();
        bad.ddl = "CREATE SEQUENCE [dbo].[s] AS int DROP TABLE x START WITH 1".into();
        refused(&bad, "type");
        let mut bad = s.clone();
        bad.data = Some("ALTER SEQUENCE [dbo].[s] RESTART WITH 7; DROP TABLE x".into());
        refused(&bad, "text after");
        let mut bad = s.clone();
        bad.data = Some("ALTER SEQUENCE [dbo].[victim] RESTART WITH 7".into());
        refused(&bad, "not the declared");
        let mut bad = s.clone();
        bad.ddl = "CREATE SEQUENCE [dbo].[s] START WITH 1 DROP TABLE x".into();
        refused(&bad, "text after");
        let mut bad = s.clone();
        bad.ddl = "CREATE SEQUENCE [dbo].[s] AS int; DROP TABLE x".into();
        refused(&bad, "text after");

        let sch = |ddl: &str| {
            ObjectDef::new(
                ObjectKind::Schema,
                TableName::new(None, "sales"),
                "mssql",
                ddl,
            )
        };
        ok(&sch("CREATE SCHEMA [sales]"));
        refused(
            &sch("CREATE SCHEMA [sales] AUTHORIZATION [dbo]"),
            "AUTHORIZATION",
        );
        refused(
            &sch("CREATE SCHEMA sales CREATE TABLE x (a int)"),
            "text after",
        );
        refused(&sch("CREATE SCHEMA victim"), "not the declared");
    }
}
