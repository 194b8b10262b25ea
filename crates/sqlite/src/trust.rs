//! The archive is data, never code: a check of the SQLite statements an
//! archive holds before anything runs them.
//!
//! SQLite records each schema object as the one `CREATE` statement that
//! made it (`sqlite_schema.sql`), and bru carries exactly that text. So an
//! entry is trusted only if its text is one statement of the shape SQLite
//! stores for the entry's kind, naming the entry's own object:
//!
//! | entry | the one statement |
//! |---|---|
//! | table | `CREATE [VIRTUAL] TABLE [main.]<name> (…` or `… USING …` |
//! | index of a table | `CREATE [UNIQUE] INDEX [main.]<index> ON <table> (…` |
//! | view | `CREATE VIEW [main.]<name> …` |
//! | trigger | `CREATE TRIGGER [main.]<name> … ON <table> …`, on the entry's table, one the archive creates |
//! | virtual table | `CREATE VIRTUAL TABLE [main.]<name> USING …` |
//! | full-text index | `INSERT INTO <t>(<t>) VALUES('rebuild')` or `('integrity-check')` |
//! | R-tree index | `SELECT rtreecheck('<t>')` |
//!
//! Never `IF NOT EXISTS`: SQLite removes it from what it stores, and with
//! it an archive's view would quietly leave the target's own view of that
//! name in place, with the archive's INSTEAD OF trigger on it.
//!
//! Names compare as SQLite compares them (ASCII case-insensitively, quotes
//! removed). The text is read with the tokenizer of [`crate::sqltext`], so a
//! `;` or a keyword inside a string, a quoted name or a comment is never
//! mistaken for one outside; a trigger's body (`BEGIN … END`) is part of
//! its statement. What comes after the statement may only be a `;`:
//! anything else is a second statement, and the entry is refused.
//!
//! Expressions that a target of another engine puts into its own SQL (a
//! column's default, CHECK or generation expression, an index predicate)
//! must not hold a `;` either. They are that engine's to execute, one
//! statement at a time.
//!
//! What this does not stop, by design (as with any dump): a trigger or a
//! view the archive declares can have any body. A trigger fires only on its
//! own table, which the archive creates, and the target creates triggers
//! after every row is in; a view runs nothing until it is queried, and
//! with `trusted_schema=OFF` functions with side effects are refused inside
//! views and triggers.

use bru_core::{ObjectDef, ObjectKind, TableDef, TableName};

use crate::sqltext::{tokenize, Kind, Token};

/// Checks `table`'s CREATE TABLE and its indexes' definitions, and that
/// its expressions hold no `;` ([`bru_core::Engine::check_table_sql`]).
/// Another engine's table passes: a SQLite target builds it from the
/// neutral model and leaves its expressions out (module `ddl`).
pub fn check_table(table: &TableDef) -> Result<(), String> {
    let Some(native) = table
        .native
        .as_ref()
        .filter(|n| n.engine == crate::ENGINE_NAME)
    else {
        return Ok(());
    };
    check_create_table(&native.create, &table.name.name)?;
    for index in &table.indexes {
        if let Some(ddl) = &index.native_ddl {
            check_index(ddl, &index.name, &table.name.name)
                .map_err(|e| format!("index {}: {e}", index.name))?;
        }
    }
    for c in &table.columns {
        let exprs = [
            c.default.as_deref(),
            c.generated.as_ref().map(|g| g.expr.as_str()),
        ];
        for e in exprs.into_iter().flatten() {
            single_expression(e).map_err(|m| format!("column {}: {m}", c.name))?;
        }
    }
    for check in &table.checks {
        single_expression(&check.expr)?;
    }
    for index in &table.indexes {
        if let Some(p) = &index.predicate {
            single_expression(p).map_err(|m| format!("index {}: {m}", index.name))?;
        }
    }
    Ok(())
}

/// Checks the statement of `object` ([`bru_core::Engine::check_object_sql`]).
/// `relations` are the tables and views the archive creates, which a
/// trigger must be on; `None` (at execution time, in the target) skips that
/// part, which the restore checked before it started.
pub fn check_object(object: &ObjectDef, relations: Option<&[TableName]>) -> Result<(), String> {
    let name = object.name.name.as_str();
    let sql = object.ddl.as_str();
    match &object.kind {
        ObjectKind::View => {
            let mut c = statement(sql)?;
            c.create()?;
            c.expect("VIEW")?;
            c.no_if_not_exists()?;
            c.object_name("view", name)
        }
        ObjectKind::VirtualTable => {
            let mut c = statement(sql)?;
            c.create()?;
            c.expect("VIRTUAL")?;
            c.expect("TABLE")?;
            c.no_if_not_exists()?;
            c.object_name("virtual table", name)?;
            c.expect("USING")
        }
        ObjectKind::Trigger => {
            let mut c = statement(sql)?;
            c.create()?;
            c.expect("TRIGGER")?;
            c.no_if_not_exists()?;
            c.object_name("trigger", name)?;
            let on = c.skip_to_word("ON")?;
            let table = c
                .name()
                .ok_or_else(|| format!("names no table after {on}"))?;
            let declared = object.table.as_ref().map_or(name, |t| t.name.as_str());
            if !table.eq_ignore_ascii_case(declared) {
                return Err(format!(
                    "is a trigger on table \"{table}\", not on its declared table \"{declared}\""
                ));
            }
            if let Some(relations) = relations {
                if !relations
                    .iter()
                    .any(|r| r.name.eq_ignore_ascii_case(&table))
                {
                    return Err(format!(
                        "is a trigger on \"{table}\", which is not a table or view of the archive"
                    ));
                }
            }
            Ok(())
        }
        ObjectKind::FullTextIndex => {
            let mut c = statement(sql)?;
            c.expect("INSERT")?;
            c.expect("INTO")?;
            c.object_name("full-text table", name)?;
            c.punct('(')?;
            c.object_name("full-text table", name)?;
            c.punct(')')?;
            c.expect("VALUES")?;
            c.punct('(')?;
            let command = c.string()?;
            if command != "rebuild" && command != "integrity-check" {
                return Err(format!(
                    "runs the full-text command {command:?}, not 'rebuild' or 'integrity-check'"
                ));
            }
            c.punct(')')?;
            c.end()
        }
        ObjectKind::RTreeIndex => {
            let mut c = statement(sql)?;
            c.expect("SELECT")?;
            c.expect("rtreecheck")?;
            c.punct('(')?;
            let table = c.string()?;
            if !table.eq_ignore_ascii_case(name) {
                return Err(format!("checks R-tree \"{table}\", not \"{name}\""));
            }
            c.punct(')')?;
            c.end()
        }
        other => Err(format!(
            "is of kind {other}, which SQLite archives do not hold"
        )),
    }
}

/// Checks a table's `CREATE TABLE` (or `CREATE VIRTUAL TABLE`).
fn check_create_table(sql: &str, name: &str) -> Result<(), String> {
    let mut c = statement(sql)?;
    c.create()?;
    let is_virtual = c.word("VIRTUAL");
    c.expect("TABLE")?;
    c.no_if_not_exists()?;
    c.object_name("table", name)?;
    if is_virtual {
        c.expect("USING")
    } else {
        c.punct('(')
    }
}

/// Checks an index's `CREATE INDEX`: the index `name`, on `table`.
fn check_index(sql: &str, name: &str, table: &str) -> Result<(), String> {
    let mut c = statement(sql)?;
    c.create()?;
    c.word("UNIQUE");
    c.expect("INDEX")?;
    c.no_if_not_exists()?;
    c.object_name("index", name)?;
    c.expect("ON")?;
    let on = c.name().ok_or("names no table after ON")?;
    if !on.eq_ignore_ascii_case(table) {
        return Err(format!("is an index on \"{on}\", not on table \"{table}\""));
    }
    c.punct('(')
}

/// An expression that a target puts inside its own statement: no `;`.
fn single_expression(expr: &str) -> Result<(), String> {
    if tokenize(expr).iter().any(|t| t.is_punct(expr, ';')) {
        return Err(format!(
            "the expression `{}` holds a `;`, which would end the statement it goes into",
            shorten(expr)
        ));
    }
    Ok(())
}

/// The first statement of `sql` (a trigger's with its whole body), after
/// checking that nothing but `;` follows it.
fn statement(sql: &str) -> Result<Cursor<'_>, String> {
    let mut tokens = tokenize(sql);
    let end = statement_end(sql, &tokens);
    if let Some(extra) = tokens[end..].iter().find(|t| !t.is_punct(sql, ';')) {
        return Err(format!(
            "holds a second statement after its own: `{}`",
            shorten(&sql[extra.start..])
        ));
    }
    if end == 0 {
        return Err("holds no statement".into());
    }
    tokens.truncate(end);
    Ok(Cursor { sql, tokens, at: 0 })
}

/// The index just past the first statement of `tokens` (before its `;`,
/// or the end). A `CREATE [TEMP] TRIGGER` ends with the `END` that closes
/// its `BEGIN` (a `CASE … END` inside counts too), so its body's `;`s are
/// its own and anything after that `END` is another statement. A word
/// after a `.` (`new.begin`) is a column, not a keyword.
fn statement_end(sql: &str, tokens: &[Token]) -> usize {
    let word = |i: usize, kw: &str| tokens.get(i).is_some_and(|t| t.is_word(sql, kw));
    let is_trigger = word(0, "CREATE")
        && (word(1, "TRIGGER")
            || ((word(1, "TEMP") || word(1, "TEMPORARY")) && word(2, "TRIGGER")));
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate() {
        let after_dot = i > 0 && tokens[i - 1].is_punct(sql, '.');
        if is_trigger && !after_dot {
            if t.is_word(sql, "BEGIN") || (depth > 0 && t.is_word(sql, "CASE")) {
                depth += 1;
                continue;
            }
            if depth > 0 && t.is_word(sql, "END") {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
                continue;
            }
        }
        if depth == 0 && t.is_punct(sql, ';') {
            return i;
        }
    }
    tokens.len()
}

/// `s` cut to its first line and 60 characters, for a message.
fn shorten(s: &str) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    match line.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_owned(),
    }
}

/// Reads the head of one statement token by token.
struct Cursor<'s> {
    sql: &'s str,
    tokens: Vec<Token>,
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    /// What the next token is, for a message.
    fn found(&self) -> String {
        match self.peek() {
            Some(t) => format!("`{}`", shorten(&self.sql[t.start..])),
            None => "the end of the statement".into(),
        }
    }

    /// Takes the bare word `kw` if it is next.
    fn word(&mut self, kw: &str) -> bool {
        let hit = self.peek().is_some_and(|t| t.is_word(self.sql, kw));
        if hit {
            self.at += 1;
        }
        hit
    }

    fn expect(&mut self, kw: &str) -> Result<(), String> {
        if self.word(kw) {
            Ok(())
        } else {
            Err(format!(
                "is not the statement its kind needs: expected {kw} but found {}",
                self.found()
            ))
        }
    }

    /// `CREATE`, as the first word.
    fn create(&mut self) -> Result<(), String> {
        if self.word("CREATE") {
            return Ok(());
        }
        Err(format!(
            "does not create its object: it starts with {}",
            self.found()
        ))
    }

    fn punct(&mut self, c: char) -> Result<(), String> {
        if self.peek().is_some_and(|t| t.is_punct(self.sql, c)) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("expected `{c}` but found {}", self.found()))
        }
    }

    /// Refuses `IF NOT EXISTS`, which SQLite removes from the statement it
    /// stores: with it, the statement would leave an object of the target's
    /// own of that name in place (and a trigger the archive puts on it).
    fn no_if_not_exists(&mut self) -> Result<(), String> {
        let start = self.at;
        if self.word("IF") && self.word("NOT") && self.word("EXISTS") {
            return Err(
                "says IF NOT EXISTS, which SQLite never stores: it would keep an object of the \
                 target's own in place of the archive's"
                    .into(),
            );
        }
        self.at = start;
        Ok(())
    }

    /// A name (bare, quoted, or a string used as a name), unquoted.
    fn name(&mut self) -> Option<String> {
        let t = *self.peek()?;
        if matches!(t.kind, Kind::Word | Kind::Quoted | Kind::Str) {
            self.at += 1;
            Some(t.name(self.sql))
        } else {
            None
        }
    }

    /// A string literal's value.
    fn string(&mut self) -> Result<String, String> {
        match self.peek().copied() {
            Some(t) if t.kind == Kind::Str => {
                self.at += 1;
                Ok(t.name(self.sql))
            }
            _ => Err(format!("expected a string but found {}", self.found())),
        }
    }

    /// The object's name, `[main.]name`, which must be `declared`.
    fn object_name(&mut self, what: &str, declared: &str) -> Result<(), String> {
        let first = self
            .name()
            .ok_or_else(|| format!("names no {what}: found {}", self.found()))?;
        let name = if self.peek().is_some_and(|t| t.is_punct(self.sql, '.')) {
            self.at += 1;
            if !first.eq_ignore_ascii_case("main") {
                return Err(format!(
                    "creates its {what} in database \"{first}\", not in the target's main database"
                ));
            }
            self.name()
                .ok_or_else(|| format!("names no {what} after \"{first}.\""))?
        } else {
            first
        };
        if name.eq_ignore_ascii_case(declared) {
            Ok(())
        } else {
            Err(format!("creates {what} \"{name}\", not \"{declared}\""))
        }
    }

    /// Skips to just past the next bare word `kw`; returns it.
    fn skip_to_word(&mut self, kw: &'static str) -> Result<&'static str, String> {
        while let Some(t) = self.peek() {
            let hit = t.is_word(self.sql, kw);
            self.at += 1;
            if hit {
                return Ok(kw);
            }
        }
        Err(format!("has no {kw}"))
    }

    /// Nothing may follow.
    fn end(&self) -> Result<(), String> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(format!("goes on after its statement: {}", self.found())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bru_core::NativeDdl;

    fn object(kind: ObjectKind, name: &str, ddl: &str) -> ObjectDef {
        ObjectDef::new(kind, TableName::bare(name), crate::ENGINE_NAME, ddl)
    }

    fn trigger(name: &str, table: &str, ddl: &str) -> ObjectDef {
        ObjectDef {
            table: Some(TableName::bare(table)),
            ..object(ObjectKind::Trigger, name, ddl)
        }
    }

    fn relations() -> Vec<TableName> {
        vec![TableName::bare("sites"), TableName::bare("v")]
    }

    fn check(o: &ObjectDef) -> Result<(), String> {
        check_object(o, Some(&relations()))
    }

    #[test]
    fn the_statements_sqlite_stores_pass() {
        let ok = [
            object(
                ObjectKind::View,
                "v",
                "CREATE VIEW v AS SELECT 1 AS \"x;\" -- ; drop",
            ),
            object(
                ObjectKind::View,
                "My View",
                "CREATE VIEW \"my view\"(a) AS SELECT ';'",
            ),
            object(ObjectKind::View, "v", "CREATE VIEW main.[v] AS SELECT 1;"),
            trigger(
                "t",
                "sites",
                "CREATE TRIGGER t AFTER UPDATE OF a ON sites BEGIN \
                 UPDATE sites SET b = CASE WHEN new.a THEN 1 ELSE 2 END; \
                 DELETE FROM sites WHERE 0; END",
            ),
            trigger(
                "ti",
                "v",
                "CREATE TRIGGER ti INSTEAD OF INSERT ON \"v\" BEGIN SELECT 1; END",
            ),
            object(
                ObjectKind::VirtualTable,
                "docs",
                "CREATE VIRTUAL TABLE docs USING fts5(body, content='')",
            ),
            object(
                ObjectKind::FullTextIndex,
                "docs",
                "INSERT INTO \"docs\"(\"docs\") VALUES('rebuild')",
            ),
            object(ObjectKind::RTreeIndex, "box", "SELECT rtreecheck('box')"),
        ];
        for o in &ok {
            assert_eq!(check(o), Ok(()), "{}", o.ddl);
        }
    }

    #[test]
    fn other_statements_and_other_objects_are_refused() {
        let refused = [
            (
                object(ObjectKind::View, "v", "DROP TABLE victim"),
                "does not create",
            ),
            (
                object(ObjectKind::View, "v", "DELETE FROM victim"),
                "does not create",
            ),
            (
                object(ObjectKind::View, "v", "VACUUM INTO '/tmp/x'"),
                "does not create",
            ),
            (
                object(ObjectKind::View, "v", "ATTACH DATABASE '/tmp/x' AS a"),
                "does not create",
            ),
            (
                object(
                    ObjectKind::View,
                    "v",
                    "CREATE VIEW v AS SELECT 1; DROP TABLE victim",
                ),
                "second statement",
            ),
            (
                object(ObjectKind::View, "v", "CREATE VIEW w AS SELECT 1"),
                "not \"v\"",
            ),
            (
                object(ObjectKind::View, "v", "CREATE TABLE v(a)"),
                "expected VIEW",
            ),
            (
                object(ObjectKind::View, "v", "CREATE VIEW a.v AS SELECT 1"),
                "database \"a\"",
            ),
            (
                object(ObjectKind::View, "v", "CREATE TEMP VIEW v AS SELECT 1"),
                "expected VIEW",
            ),
            (
                trigger(
                    "t",
                    "sites",
                    "CREATE TRIGGER t AFTER INSERT ON victim BEGIN DELETE FROM victim; END",
                ),
                "not on its declared table",
            ),
            (
                trigger(
                    "t",
                    "victim",
                    "CREATE TRIGGER t AFTER INSERT ON victim BEGIN SELECT 1; END",
                ),
                "not a table or view of the archive",
            ),
            (
                trigger(
                    "t",
                    "sites",
                    "CREATE TRIGGER t AFTER INSERT ON sites BEGIN SELECT 1; END; DROP TABLE victim",
                ),
                "second statement",
            ),
            (
                object(
                    ObjectKind::FullTextIndex,
                    "docs",
                    "INSERT INTO victim(victim) VALUES('rebuild')",
                ),
                "not \"docs\"",
            ),
            (
                object(
                    ObjectKind::FullTextIndex,
                    "docs",
                    "INSERT INTO docs(docs) VALUES('delete-all')",
                ),
                "delete-all",
            ),
            (
                object(
                    ObjectKind::RTreeIndex,
                    "box",
                    "SELECT rtreecheck('box'), writefile('/tmp/x', 1)",
                ),
                "goes on",
            ),
            (object(ObjectKind::Function, "f", "SELECT 1"), "do not hold"),
            (
                object(
                    ObjectKind::View,
                    "v",
                    "CREATE VIEW IF NOT EXISTS main.[v] AS SELECT 1;",
                ),
                "IF NOT EXISTS",
            ),
            (
                trigger(
                    "t",
                    "sites",
                    "CREATE TRIGGER IF NOT EXISTS t AFTER INSERT ON sites BEGIN SELECT 1; END",
                ),
                "IF NOT EXISTS",
            ),
            (
                object(ObjectKind::View, "trigger", "CREATE VIEW trigger AS SELECT 1 AS begin; DROP TABLE victim"),
                "second statement",
            ),
            (
                trigger("t", "sites", "CREATE TRIGGER t AFTER INSERT ON sites WHEN new.begin BEGIN SELECT 1; END DROP TABLE victim"),
                "second statement",
            ),
        ];
        for (o, why) in &refused {
            let err = check(o).expect_err(&o.ddl);
            assert!(err.contains(why), "{}: {err}", o.ddl);
        }
    }

    fn table(create: &str) -> TableDef {
        let mut t = TableDef::new(
            TableName::bare("sites"),
            vec![bru_testsupport::tables::column(
                "id",
                bru_core::ColumnType::Int64,
            )],
        );
        t.native = Some(NativeDdl {
            engine: crate::ENGINE_NAME.into(),
            create: create.into(),
        });
        t
    }

    #[test]
    fn a_table_creates_itself_and_its_indexes_on_itself() {
        assert_eq!(
            check_table(&table("CREATE TABLE \"Sites\" (id INTEGER)")),
            Ok(())
        );
        assert_eq!(
            check_table(&table("CREATE VIRTUAL TABLE sites USING rtree(id, a, b)")),
            Ok(())
        );
        let err = check_table(&table("DROP TABLE victim")).unwrap_err();
        assert!(err.contains("does not create"), "{err}");
        let err = check_table(&table("CREATE TABLE sites(id); DROP TABLE victim")).unwrap_err();
        assert!(err.contains("second statement"), "{err}");
        let err = check_table(&table("CREATE TABLE victim2(id)")).unwrap_err();
        assert!(err.contains("not \"sites\""), "{err}");

        let mut t = table("CREATE TABLE sites(id)");
        t.indexes.push(bru_testsupport::tables::index(
            "i",
            &["id"],
            false,
            "CREATE INDEX i ON victim(id)",
        ));
        let err = check_table(&t).unwrap_err();
        assert!(err.contains("index i") && err.contains("victim"), "{err}");
        t.indexes[0].native_ddl = Some("CREATE UNIQUE INDEX IF NOT EXISTS i ON sites(id)".into());
        let err = check_table(&t).unwrap_err();
        assert!(err.contains("IF NOT EXISTS"), "{err}");
        let err = check_table(&table("CREATE TABLE IF NOT EXISTS sites(id)")).unwrap_err();
        assert!(err.contains("IF NOT EXISTS"), "{err}");
        t.indexes[0].native_ddl = Some("CREATE UNIQUE INDEX i ON sites(id)".into());
        assert_eq!(check_table(&t), Ok(()));
        t.columns[0].default = Some("0); DROP TABLE victim; --".into());
        let err = check_table(&t).unwrap_err();
        assert!(err.contains("column id") && err.contains(';'), "{err}");
    }
}
