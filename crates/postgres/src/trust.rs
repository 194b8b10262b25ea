//! The archive is data, never code: a check of the PostgreSQL statements an
//! archive holds before anything runs them.
//!
//! The catalog readers (module `catalog`) write a few statement shapes per
//! kind of entry, and only those pass: every statement of the entry (split
//! by [`crate::sqltext`], which honours every quoting and comment form) must
//! be one of the shapes of its kind, naming the entry's own object, fully
//! qualified as bru's sessions (empty `search_path`) need it:
//!
//! | entry | its statements |
//! |---|---|
//! | table | `CREATE [UNLOGGED] TABLE <table> (…`, `… OF <type> [(…)]` or `… PARTITION OF …`, never `… AS <query>`; then any of `ALTER TABLE ONLY <table> ALTER COLUMN <c> SET STATISTICS\|STORAGE\|COMPRESSION\|(options)\|NOT NULL\|DEFAULT <one expression>`, `ALTER TABLE ONLY <table> REPLICA IDENTITY FULL\|NOTHING`, and for a partition `ALTER TABLE ONLY <parent> ATTACH PARTITION <table> FOR VALUES …\|DEFAULT`, the parent a table of the archive |
//! | after a table's indexes (`postgres.after_indexes.*`) | `ALTER TABLE ONLY <table> CLUSTER ON <i>`, `… REPLICA IDENTITY USING INDEX <i>`, `ALTER INDEX <schema>.<i> ALTER COLUMN n SET STATISTICS n`, `ALTER INDEX <schema>.<i> SET TABLESPACE <t>`, `ALTER INDEX <schema>.<i> ATTACH PARTITION <s>.<index>`, `<i>` an index or key of that table |
//! | index of a table | `CREATE [UNIQUE] INDEX [IF NOT EXISTS] <index> ON [ONLY] <table> …` |
//! | constraint of a table (`postgres.constraint.*`) | one clause, `PRIMARY KEY`, `UNIQUE`, `CHECK`, `FOREIGN KEY`, `EXCLUDE` or `NOT NULL`, with no `;` and no `,` outside its parentheses |
//! | schema | `CREATE SCHEMA [IF NOT EXISTS] <name>` |
//! | extension | `CREATE EXTENSION [IF NOT EXISTS] <name> [WITH] [SCHEMA s] [VERSION v] [CASCADE]` |
//! | type | `CREATE TYPE <name> AS …` or `CREATE DOMAIN <name> AS …` |
//! | function | `CREATE [OR REPLACE] FUNCTION\|PROCEDURE <name>(…` |
//! | sequence | `CREATE [UNLOGGED] SEQUENCE <name> …` (never `IF NOT EXISTS`), then `SELECT pg_catalog.setval('<name>', n, true\|false)` |
//! | sequence ownership | `ALTER SEQUENCE <name> OWNED BY <table>.<column>` |
//! | view | `CREATE [RECURSIVE] VIEW <name> …` |
//! | materialized view | `CREATE MATERIALIZED VIEW <name> …`, its indexes (`CREATE [UNIQUE] INDEX <i> ON <name> …`), `REFRESH MATERIALIZED VIEW <name>` |
//! | trigger | `CREATE [OR REPLACE] [CONSTRAINT] TRIGGER <name> … ON <table> …`, then `ALTER TABLE [ONLY] <table or a table of the archive: a partition's clone> ENABLE\|DISABLE [ALWAYS\|REPLICA] TRIGGER <name>` |
//! | rule | `CREATE [OR REPLACE] RULE <name> AS ON <event> TO <table> …`, then `ALTER TABLE [ONLY] <table> DISABLE\|ENABLE ALWAYS\|ENABLE REPLICA RULE <name>` |
//! | statistics | `CREATE STATISTICS [IF NOT EXISTS] <name> … FROM <table>`, then `ALTER STATISTICS <name> SET STATISTICS n` |
//! | exclusion constraint | `ALTER TABLE [ONLY] <table> ADD CONSTRAINT <name> EXCLUDE …` |
//! | check constraint (one calling a function of the user's) | `ALTER TABLE [ONLY] <table> ADD CONSTRAINT <name> CHECK …` |
//! | comment | `COMMENT ON <kind> <name> IS '…'` |
//! | owner | `ALTER <kind> <name> OWNER TO <role>` |
//! | privileges | `REVOKE ALL ON <kind> <name> FROM <role>`, `GRANT … ON <kind> <name> TO <role> [WITH GRANT OPTION]`, each alone or between `SET SESSION AUTHORIZATION <role>` and `RESET SESSION AUTHORIZATION` |
//!
//! A trigger, rule, exclusion constraint or sequence ownership must be on
//! the entry's declared table, and that must be a table or view the
//! archive creates, as must the table or view an owner or grant is for. A
//! comment must be on the object its entry names (which may be one the
//! archive lists but does not carry, a foreign table say: a comment sets
//! only a comment). Names compare as the server resolves them: a bare word folded to
//! lower case, a quoted one exactly; a `U&"…"` name, whose escapes the server
//! decodes, is refused (no catalog reader writes one).
//!
//! What this does not stop, by design (as with `pg_restore`): an object the
//! archive declares can have any body. A function, a trigger's function, a
//! rule's actions, a view's query or a column default can do anything the
//! restoring role may do once something calls it; a materialized view's
//! query runs when the restore refreshes it, and a CHECK's or an index's
//! expression when the restore adds it over the rows.

use bru_core::{ObjectDef, ObjectKind, TableDef, TableName};

use crate::quote::target_name;
use crate::sqltext::{split, tokenize, Kind, Token};
use crate::ENGINE_NAME;

/// The words that may begin a constraint's definition.
const CONSTRAINT_HEADS: &[&str] = &["PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "EXCLUDE", "NOT"];

/// Checks `table`'s own CREATE TABLE, its indexes' definitions and its
/// constraint definitions ([`bru_core::Engine::check_table_sql`]). A
/// partition's or child's parent, and a foreign key's referenced table,
/// must be among `relations`, the tables the archive creates (`None`, at
/// execution time in the target, skips that part).
pub fn check_table(table: &TableDef, relations: Option<&[TableName]>) -> Result<(), String> {
    let Some(native) = table.native.as_ref().filter(|n| n.engine == ENGINE_NAME) else {
        return check_foreign_expressions(table);
    };
    let name = parts(&target_name(&table.name));
    let create = native.create.as_str();
    let mut statements = split(create).into_iter();
    let mut c = Cursor::new(create, statements.next().ok_or("holds no statement")?);
    for alter in statements {
        table_alter(Cursor::new(create, alter), &name, relations)?;
    }
    c.expect("CREATE")?;
    c.word("UNLOGGED");
    c.expect("TABLE")?;
    c.object_name("table", &name)?;
    if c.word("OF") {
        // A typed table: its type, then column options or nothing.
        c.qname().ok_or("names no type after OF")?;
        if c.peek().is_none() {
            return check_table_parts(table, &name, relations);
        }
    }
    if !(c.peek_punct('(') || c.peek_word("PARTITION")) {
        return Err(format!(
            "is not a CREATE TABLE: found {} after the name",
            c.found()
        ));
    }
    // What else the statement may reach: the parent it joins, never a
    // table it references (bru adds foreign keys after the rows), and never
    // a query (`CREATE TABLE t (a) AS …`, whose query runs, data-modifying
    // WITH and all).
    let mut depth = 0usize;
    while let Some(t) = c.peek().copied() {
        c.any_token();
        if t.is_punct(create, '(') {
            depth += 1;
        } else if t.is_punct(create, ')') {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && (t.is_word(create, "AS") || t.is_word(create, "EXECUTE")) {
            return Err(format!(
                "creates its table from a query (`{}`), which no backup writes",
                shorten(&create[t.start..])
            ));
        }
        if t.is_word(create, "REFERENCES") {
            return Err(
                "declares a foreign key inside its CREATE TABLE, which no backup writes".into(),
            );
        }
        if t.is_word(create, "PARTITION") && c.word("OF") {
            let parent = c.qname().ok_or("names no table after PARTITION OF")?;
            in_archive(relations, &parent, "is a partition of")?;
        }
        if t.is_word(create, "INHERITS") {
            c.punct('(')?;
            loop {
                let parent = c.qname().ok_or("names no table in INHERITS")?;
                in_archive(relations, &parent, "inherits from")?;
                if !c.punct_opt(',') {
                    break;
                }
            }
            c.punct(')')?;
        }
    }
    check_table_parts(table, &name, relations)
}

/// The parts of `table` (named `name`) besides its CREATE TABLE: its
/// indexes, its constraints and its post-data statements.
fn check_table_parts(
    table: &TableDef,
    name: &[String],
    relations: Option<&[TableName]>,
) -> Result<(), String> {
    for index in &table.indexes {
        if let Some(ddl) = &index.native_ddl {
            check_index(ddl, &index.name, name)
                .map_err(|e| format!("index {}: {e}", index.name))?;
        }
    }
    for (key, def) in &table.properties {
        if let Some(n) = key.strip_prefix("postgres.constraint.") {
            check_constraint(def, relations).map_err(|e| format!("constraint {n}: {e}"))?;
        }
        if key.starts_with(crate::catalog::AFTER_INDEXES) {
            after_indexes(table, name, def).map_err(|e| format!("`{}` {e}", shorten(def)))?;
        }
    }
    Ok(())
}

/// A statement run once `table`'s (named `name`) keys and indexes exist:
/// `ALTER TABLE ONLY <name> CLUSTER ON <i>`, `ALTER TABLE ONLY <name>
/// REPLICA IDENTITY USING INDEX <i>`, `ALTER INDEX <schema>.<i> ALTER
/// COLUMN n SET STATISTICS n`, `ALTER INDEX <schema>.<i> SET TABLESPACE
/// <t>` or `ALTER INDEX <schema>.<i> ATTACH PARTITION <s>.<index>`, where
/// `<i>` is an index or key of the table itself.
fn after_indexes(table: &TableDef, name: &[String], sql: &str) -> Result<(), String> {
    let own = |index: &str| {
        table.indexes.iter().any(|i| i.name == index)
            || table
                .properties
                .contains_key(&format!("postgres.constraint.{index}"))
    };
    let mut c = one_statement(sql)?;
    c.expect("ALTER")?;
    let index = if c.word("INDEX") {
        let index = c.qname().ok_or("names no index")?;
        if index.len() != name.len() || index[..index.len() - 1] != name[..name.len() - 1] {
            return Err(format!(
                "is on index {}, outside the table's schema",
                index.join(".")
            ));
        }
        if c.word("ATTACH") {
            // Its partition's index: the server refuses one that is not
            // on a partition of this index's table (both the archive's).
            c.expect("PARTITION")?;
            match c.qname() {
                Some(i) if i.len() == 2 => {}
                _ => return Err(format!("names no partition's index: found {}", c.found())),
            }
        } else if c.word("SET") {
            c.expect("TABLESPACE")?;
            match c.qname() {
                Some(space) if space.len() == 1 => {}
                _ => return Err(format!("names no tablespace: found {}", c.found())),
            }
        } else {
            c.expect("ALTER")?;
            c.expect("COLUMN")?;
            c.number()?;
            c.expect("SET")?;
            c.expect("STATISTICS")?;
            c.punct_opt('-');
            c.number()?;
        }
        index.last().cloned().unwrap_or_default()
    } else {
        c.expect("TABLE")?;
        c.expect("ONLY")?;
        c.object_name("table", name)?;
        if c.word("REPLICA") {
            c.expect("IDENTITY")?;
            c.expect("USING")?;
            c.expect("INDEX")?;
        } else {
            c.expect("CLUSTER")?;
            c.expect("ON")?;
        }
        match c.qname() {
            Some(i) if i.len() == 1 => i[0].clone(),
            _ => return Err(format!("names no index of the table: found {}", c.found())),
        }
    };
    c.end()?;
    if own(&index) {
        Ok(())
    } else {
        Err(format!(
            "is on {index}, which is not an index or key of the table"
        ))
    }
}

/// One statement after a table's CREATE TABLE, on table `name`: `ALTER
/// TABLE ONLY <name>` with one of `ALTER COLUMN <c> SET STATISTICS n |
/// SET STORAGE s | SET COMPRESSION m | SET (options) | SET NOT NULL | SET
/// DEFAULT <one expression>`, `REPLICA IDENTITY FULL|NOTHING|DEFAULT`; or,
/// for a partition, `ALTER TABLE ONLY <parent> ATTACH PARTITION <name>
/// FOR VALUES …|DEFAULT` with the parent among `relations`.
fn table_alter(
    mut c: Cursor<'_>,
    name: &[String],
    relations: Option<&[TableName]>,
) -> Result<(), String> {
    let head = shorten(&c.sql[c.tokens.first().map_or(0, |t| t.start)..]);
    let refuse = |e: String| {
        format!("holds a second statement `{head}` that is not one a backup writes after its CREATE TABLE: it {e}")
    };
    let check = |c: &mut Cursor<'_>| -> Result<(), String> {
        c.expect("ALTER")?;
        c.expect("TABLE")?;
        c.expect("ONLY")?;
        let on = c.qname().ok_or("names no table")?;
        if on != name {
            // Only a partition's attachment names another table: its parent.
            in_archive(relations, &on, "attaches itself to")?;
            c.expect("ATTACH")?;
            c.expect("PARTITION")?;
            c.object_name("table", name)?;
            if c.word("DEFAULT") {
                return c.end();
            }
            c.expect("FOR")?;
            c.expect("VALUES")?;
            return one_clause(c);
        }
        if c.word("REPLICA") {
            c.expect("IDENTITY")?;
            if !(c.word("FULL") || c.word("NOTHING")) {
                c.expect("DEFAULT")?;
            }
            return c.end();
        }
        c.expect("ALTER")?;
        c.expect("COLUMN")?;
        match c.qname() {
            Some(col) if col.len() == 1 => {}
            _ => return Err(format!("names no column: found {}", c.found())),
        }
        c.expect("SET")?;
        if c.word("STATISTICS") {
            c.punct_opt('-');
            c.number()?;
        } else if c.word("STORAGE") || c.word("COMPRESSION") {
            match c.peek() {
                Some(t) if t.kind == Kind::Word => c.any_token(),
                _ => return Err(format!("expected a method but found {}", c.found())),
            }
        } else if c.word("NOT") {
            c.expect("NULL")?;
        } else if c.word("DEFAULT") {
            let start = c.peek().map(|t| t.start).ok_or("sets no default")?;
            let end = c.tokens.last().map_or(start, |t| t.end);
            foreign_expression(&c.sql[start..end])?;
            return Ok(());
        } else {
            // `(name = value, …)`: names, numbers and strings only.
            c.punct('(')?;
            loop {
                match c.peek() {
                    Some(t) if t.is_punct(c.sql, ')') => {
                        c.any_token();
                        break;
                    }
                    Some(t)
                        if matches!(t.kind, Kind::Word | Kind::Num | Kind::Str)
                            || ['=', ',', '-', '+', '.']
                                .iter()
                                .any(|p| t.is_punct(c.sql, *p)) =>
                    {
                        c.any_token()
                    }
                    _ => return Err(format!("has {} in its options", c.found())),
                }
            }
        }
        c.end()
    };
    check(&mut c).map_err(refuse)
}

/// The expressions of another engine's table that the target splices into
/// its own statements (module `ddl`): a column's default after `ALTER TABLE
/// … ALTER COLUMN … SET DEFAULT`, a CHECK inside `ADD CONSTRAINT … CHECK
/// (…)`, an index's expression and predicate inside its `CREATE INDEX`.
/// Each must stay one expression as PostgreSQL reads it: no `;`, no `,`
/// outside parentheses (another ALTER TABLE action) and no `)` closing
/// what it did not open. Read with PostgreSQL's lexer, since the server is
/// what parses them (another engine's lexer reads `E'\''` differently).
fn check_foreign_expressions(table: &TableDef) -> Result<(), String> {
    for c in &table.columns {
        if let Some(d) = &c.default {
            foreign_expression(d).map_err(|e| format!("column {}: the default {e}", c.name))?;
        }
    }
    for check in &table.checks {
        foreign_expression(&check.expr).map_err(|e| format!("the CHECK {e}"))?;
    }
    for index in &table.indexes {
        let in_index = |e: String| format!("index {}: {e}", index.name);
        if let Some(p) = &index.predicate {
            foreign_expression(p).map_err(in_index)?;
        }
        for c in index
            .columns
            .iter()
            .filter(|c| table.column_index(c).is_none())
        {
            foreign_expression(c).map_err(in_index)?;
        }
    }
    Ok(())
}

/// One expression of another engine's SQL (see
/// [`check_foreign_expressions`]).
fn foreign_expression(expr: &str) -> Result<(), String> {
    let mut depth = 0usize;
    for t in tokenize(expr) {
        let bad = if t.is_punct(expr, ';') {
            Some("`;`")
        } else if t.is_punct(expr, '(') {
            depth += 1;
            None
        } else if t.is_punct(expr, ')') {
            match depth.checked_sub(1) {
                Some(d) => {
                    depth = d;
                    None
                }
                None => Some("`)` that closes what it did not open"),
            }
        } else if depth == 0 && t.is_punct(expr, ',') {
            Some("`,` outside parentheses")
        } else {
            None
        };
        if let Some(bad) = bad {
            return Err(format!(
                "`{}` is not one expression: it has a {bad}, which would go on with the \
                 statement it goes into",
                shorten(expr)
            ));
        }
    }
    Ok(())
}

/// Refuses `table` unless it is among `relations` (the tables and views
/// the archive creates); `None` accepts it.
fn in_archive(relations: Option<&[TableName]>, table: &[String], what: &str) -> Result<(), String> {
    match relations {
        Some(r) if !r.iter().any(|r| parts(&target_name(r)) == table) => Err(format!(
            "{what} {}, which is not a table or view of the archive",
            table.join(".")
        )),
        _ => Ok(()),
    }
}

/// Checks the statements of `object` and its data statement
/// ([`bru_core::Engine::check_object_sql`]). `relations` are the tables and
/// views the archive creates; `None` (at execution time, in the target)
/// skips that part, which the restore checked before it started.
pub fn check_object(object: &ObjectDef, relations: Option<&[TableName]>) -> Result<(), String> {
    let check = Check { object, relations };
    let statements = split(&object.ddl);
    if statements.is_empty() {
        return Err("holds no statement".into());
    }
    check.statements(&object.ddl, statements)?;
    if let Some(data) = &object.data {
        if object.kind != ObjectKind::Sequence {
            return Err(format!("{} has no data statement", object.kind));
        }
        let mut c = one_statement(data).map_err(|e| format!("its data statement {e}"))?;
        check
            .setval(&mut c)
            .map_err(|e| format!("its data statement {e}"))?;
    }
    Ok(())
}

/// Checks an index's `CREATE INDEX`: index `name` on `table`.
fn check_index(sql: &str, name: &str, table: &[String]) -> Result<(), String> {
    let mut c = one_statement(sql)?;
    c.expect("CREATE")?;
    c.word("UNIQUE");
    c.expect("INDEX")?;
    c.word("CONCURRENTLY");
    c.if_not_exists();
    let index = c
        .qname()
        .ok_or_else(|| format!("names no index: found {}", c.found()))?;
    let stored = crate::ddl::stored_name(name);
    if index.len() != 1 || (index[0] != name && index[0] != stored) {
        return Err(format!("creates index {}, not {name}", index.join(".")));
    }
    c.expect("ON")?;
    c.word("ONLY");
    let on = c.qname().ok_or("names no table after ON")?;
    if on != table {
        return Err(format!(
            "is an index on {}, not on table {}",
            on.join("."),
            table.join(".")
        ));
    }
    Ok(())
}

/// A constraint's definition, which the target puts after `ALTER TABLE …
/// ADD CONSTRAINT <name>`: one clause of a known kind, no `;`, and a
/// foreign key only to a table of the archive.
fn check_constraint(def: &str, relations: Option<&[TableName]>) -> Result<(), String> {
    let tokens = tokenize(def);
    if tokens.iter().any(|t| t.is_punct(def, ';')) {
        return Err(
            "its definition holds a `;`, which would end the statement it goes into".into(),
        );
    }
    if !tokens
        .first()
        .is_some_and(|t| CONSTRAINT_HEADS.iter().any(|h| t.is_word(def, h)))
    {
        return Err(format!(
            "its definition `{}` is not a PRIMARY KEY, UNIQUE, CHECK, FOREIGN KEY, EXCLUDE or NOT NULL clause",
            shorten(def)
        ));
    }
    // `ALTER TABLE` takes a list of actions: a `,` outside parentheses
    // would add one of its own (a foreign key to any table, INHERIT, OWNER
    // TO…), as would a `)` that closes what the definition did not open.
    let mut depth = 0usize;
    for t in &tokens {
        if t.is_punct(def, '(') {
            depth += 1;
        } else if t.is_punct(def, ')') {
            depth = depth.checked_sub(1).ok_or_else(|| {
                format!(
                    "its definition `{}` closes a parenthesis it did not open",
                    shorten(def)
                )
            })?;
        } else if depth == 0 && t.is_punct(def, ',') {
            return Err(format!(
                "its definition `{}` goes on after its clause: `{}`",
                shorten(def),
                shorten(&def[t.start..])
            ));
        }
    }
    let mut c = Cursor::new(def, tokens);
    if c.word("FOREIGN") {
        c.skip_to_word("REFERENCES")?;
        let referenced = c.qname().ok_or("names no table after REFERENCES")?;
        in_archive(relations, &referenced, "references")?;
    }
    Ok(())
}

/// Refuses a `,` outside parentheses in what is left of `c`: in an
/// `ALTER TABLE`, it would begin another action.
fn one_clause(c: &Cursor<'_>) -> Result<(), String> {
    let mut depth = 0usize;
    for t in &c.tokens[c.at..] {
        if t.is_punct(c.sql, '(') {
            depth += 1;
        } else if t.is_punct(c.sql, ')') {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && t.is_punct(c.sql, ',') {
            return Err(format!(
                "goes on after its constraint: `{}`",
                shorten(&c.sql[t.start..])
            ));
        }
    }
    Ok(())
}

/// `t` as name parts: `[schema, name]`.
fn parts(t: &TableName) -> Vec<String> {
    match &t.schema {
        Some(s) => vec![s.clone(), t.name.clone()],
        None => vec![t.name.clone()],
    }
}

/// The one statement of `sql`: refused if there are more.
fn one_statement(sql: &str) -> Result<Cursor<'_>, String> {
    let mut statements = split(sql);
    match statements.len() {
        0 => Err("holds no statement".into()),
        1 => Ok(Cursor::new(sql, statements.remove(0))),
        _ => Err(format!(
            "holds a second statement after its own: `{}`",
            shorten(&sql[statements[1][0].start..])
        )),
    }
}

/// `s` cut to its first line and 60 characters, for a message.
fn shorten(s: &str) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    match line.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_owned(),
    }
}

/// The name of a function as its entry records it (`f(integer)`, or
/// `public.f(integer)` for a comment): its name parts before `(`.
fn routine_name(signature: &str) -> Vec<String> {
    let tokens = tokenize(signature);
    let mut c = Cursor::new(signature, tokens);
    c.qname().unwrap_or_default()
}

/// One entry's check.
struct Check<'a> {
    object: &'a ObjectDef,
    relations: Option<&'a [TableName]>,
}

impl Check<'_> {
    /// The entry's own name, as parts.
    fn declared(&self) -> Vec<String> {
        parts(&self.object.name)
    }

    /// The entry's declared table, as the target names it.
    fn table(&self) -> Result<Vec<String>, String> {
        let t = self
            .object
            .table
            .as_ref()
            .ok_or_else(|| format!("{} declares no table", self.object.kind))?;
        Ok(parts(&target_name(t)))
    }

    /// Refuses `table` unless it is the entry's declared table.
    fn on_declared_table(&self, table: &[String]) -> Result<(), String> {
        let declared = self.table()?;
        if table != declared {
            return Err(format!(
                "is on {}, not on its declared table {}",
                table.join("."),
                declared.join(".")
            ));
        }
        self.archive_relation(table)
    }

    /// Refuses `table` unless the archive creates it.
    fn archive_relation(&self, table: &[String]) -> Result<(), String> {
        in_archive(self.relations, table, "is on")
    }

    fn statements(&self, sql: &str, statements: Vec<Vec<Token>>) -> Result<(), String> {
        let kind = &self.object.kind;
        let mut rest = statements.into_iter().map(|s| Cursor::new(sql, s));
        let Some(mut first) = rest.next() else {
            return Err("holds no statement".into());
        };
        let only_one = |rest: &mut dyn Iterator<Item = Cursor<'_>>| match rest.next() {
            None => Ok(()),
            Some(c) => Err(format!(
                "holds a second statement after its own: {}",
                c.found()
            )),
        };
        let declared = self.declared();
        match kind {
            ObjectKind::Schema => {
                first.expect("CREATE")?;
                first.expect("SCHEMA")?;
                first.if_not_exists();
                first.object_name("schema", &declared)?;
                first.end()?;
                only_one(&mut rest)
            }
            ObjectKind::Extension => {
                first.expect("CREATE")?;
                first.expect("EXTENSION")?;
                first.if_not_exists();
                first.object_name("extension", &declared)?;
                first.word("WITH");
                if first.word("SCHEMA") {
                    first.qname().ok_or("names no schema after SCHEMA")?;
                }
                if first.word("VERSION") {
                    first.any_token();
                }
                first.word("CASCADE");
                first.end()?;
                only_one(&mut rest)
            }
            ObjectKind::Type => {
                first.expect("CREATE")?;
                if !first.word("DOMAIN") {
                    first.expect("TYPE")?;
                }
                first.object_name("type", &declared)?;
                first.expect("AS")?;
                only_one(&mut rest)
            }
            ObjectKind::Function | ObjectKind::TableFunction => {
                first.expect("CREATE")?;
                first.or_replace();
                if !first.word("PROCEDURE") {
                    first.expect("FUNCTION")?;
                }
                let mut name = vec![];
                name.extend(self.object.name.schema.clone());
                name.extend(routine_name(&self.object.name.name).into_iter().last());
                first.object_name("function", &name)?;
                first.punct('(')?;
                only_one(&mut rest)
            }
            ObjectKind::Sequence => {
                first.expect("CREATE")?;
                first.word("UNLOGGED");
                first.expect("SEQUENCE")?;
                // Never IF NOT EXISTS: with it, the setval after it would
                // set a sequence of the target's own.
                first.object_name("sequence", &declared)?;
                // Ownership is its own entry, checked there.
                if first.skip_to_word("OWNED").is_ok() {
                    return Err("gives the sequence an owning column, which is the sequence ownership entry's to do".into());
                }
                if let Some(mut c) = rest.next() {
                    self.setval(&mut c)?;
                }
                only_one(&mut rest)
            }
            ObjectKind::SequenceOwnership => {
                first.expect("ALTER")?;
                first.expect("SEQUENCE")?;
                first.object_name("sequence", &declared)?;
                first.expect("OWNED")?;
                first.expect("BY")?;
                let column = first.qname().ok_or("names no column after OWNED BY")?;
                if column.len() != 3 {
                    return Err(format!(
                        "gives the sequence to {}, not to a schema.table.column",
                        column.join(".")
                    ));
                }
                self.archive_relation(&column[..2])?;
                first.end()?;
                only_one(&mut rest)
            }
            ObjectKind::View => {
                first.expect("CREATE")?;
                // Never OR REPLACE, which no catalog reader writes: it would
                // replace a view of the target's own of the same name.
                first.word("RECURSIVE");
                first.expect("VIEW")?;
                first.object_name("view", &declared)?;
                only_one(&mut rest)
            }
            ObjectKind::MaterializedView => {
                first.expect("CREATE")?;
                first.expect("MATERIALIZED")?;
                first.expect("VIEW")?;
                // Never IF NOT EXISTS: the REFRESH and indexes after it
                // would be on a materialized view of the target's own.
                first.object_name("materialized view", &declared)?;
                for mut c in rest {
                    if c.word("REFRESH") {
                        c.expect("MATERIALIZED")?;
                        c.expect("VIEW")?;
                        c.word("CONCURRENTLY");
                        c.object_name("materialized view", &declared)?;
                        if c.word("WITH") {
                            c.word("NO");
                            c.expect("DATA")?;
                        }
                        c.end()?;
                    } else {
                        c.expect("CREATE")?;
                        c.word("UNIQUE");
                        c.expect("INDEX")?;
                        c.word("CONCURRENTLY");
                        c.if_not_exists();
                        let index = c.qname().ok_or("names no index")?;
                        if index.len() != 1 {
                            return Err(format!(
                                "creates index {} outside the view's schema",
                                index.join(".")
                            ));
                        }
                        c.expect("ON")?;
                        c.word("ONLY");
                        c.object_name("materialized view", &declared)?;
                    }
                }
                Ok(())
            }
            ObjectKind::Trigger => {
                first.expect("CREATE")?;
                first.or_replace();
                first.word("CONSTRAINT");
                first.expect("TRIGGER")?;
                let name = [self.object.name.name.clone()];
                first.object_name("trigger", &name)?;
                first.skip_to_word("ON")?;
                let table = first.qname().ok_or("names no table after ON")?;
                self.on_declared_table(&table)?;
                for mut c in rest {
                    c.expect("ALTER")?;
                    c.expect("TABLE")?;
                    c.word("ONLY");
                    // Its own table, or a partition with its clone of the
                    // trigger, which must be a table of the archive.
                    let on = c.qname().ok_or("names no table")?;
                    if on != table {
                        self.archive_relation(&on)?;
                    }
                    if !c.word("DISABLE") {
                        c.expect("ENABLE")?;
                        if !c.word("ALWAYS") {
                            c.word("REPLICA");
                        }
                    }
                    c.expect("TRIGGER")?;
                    c.object_name("trigger", &name)?;
                    c.end()?;
                }
                Ok(())
            }
            ObjectKind::Rule => {
                first.expect("CREATE")?;
                first.or_replace();
                first.expect("RULE")?;
                first.object_name("rule", std::slice::from_ref(&self.object.name.name))?;
                first.expect("AS")?;
                first.expect("ON")?;
                first.any_token();
                first.expect("TO")?;
                let table = first.qname().ok_or("names no table after TO")?;
                self.on_declared_table(&table)?;
                // Then, for a rule not enabled as by default, its state.
                if let Some(mut c) = rest.next() {
                    c.expect("ALTER")?;
                    c.expect("TABLE")?;
                    c.word("ONLY");
                    c.object_name("table", &table)?;
                    if !c.word("DISABLE") {
                        c.expect("ENABLE")?;
                        if !c.word("ALWAYS") {
                            c.expect("REPLICA")?;
                        }
                    }
                    c.expect("RULE")?;
                    c.object_name("rule", std::slice::from_ref(&self.object.name.name))?;
                    c.end()?;
                }
                only_one(&mut rest)
            }
            ObjectKind::Statistics => {
                first.expect("CREATE")?;
                first.expect("STATISTICS")?;
                first.if_not_exists();
                first.object_name("statistics", &declared)?;
                first.skip_to_word("FROM")?;
                let table = first.qname().ok_or("names no table after FROM")?;
                self.archive_relation(&table)?;
                first.end()?;
                // Then its statistics target, when set.
                if let Some(mut c) = rest.next() {
                    c.expect("ALTER")?;
                    c.expect("STATISTICS")?;
                    c.object_name("statistics", &declared)?;
                    c.expect("SET")?;
                    c.expect("STATISTICS")?;
                    c.punct_opt('-');
                    c.number()?;
                    c.end()?;
                }
                only_one(&mut rest)
            }
            ObjectKind::ExclusionConstraint => {
                first.expect("ALTER")?;
                first.expect("TABLE")?;
                first.word("ONLY");
                let table = first.qname().ok_or("names no table")?;
                self.on_declared_table(&table)?;
                first.expect("ADD")?;
                first.expect("CONSTRAINT")?;
                first.object_name("constraint", std::slice::from_ref(&self.object.name.name))?;
                first.expect("EXCLUDE")?;
                // One action: a `,` outside parentheses would add another.
                one_clause(&first)?;
                only_one(&mut rest)
            }
            ObjectKind::CheckConstraint => {
                first.expect("ALTER")?;
                first.expect("TABLE")?;
                first.word("ONLY");
                let table = first.qname().ok_or("names no table")?;
                self.on_declared_table(&table)?;
                first.expect("ADD")?;
                first.expect("CONSTRAINT")?;
                first.object_name("constraint", std::slice::from_ref(&self.object.name.name))?;
                first.expect("CHECK")?;
                // One action: a `,` outside parentheses would add another.
                one_clause(&first)?;
                only_one(&mut rest)
            }
            ObjectKind::Comment => {
                self.comment(&mut first)?;
                only_one(&mut rest)
            }
            ObjectKind::Owner => {
                first.expect("ALTER")?;
                self.owned_object(&mut first)?;
                first.expect("OWNER")?;
                first.expect("TO")?;
                first.role()?;
                first.end()?;
                only_one(&mut rest)
            }
            ObjectKind::Privileges => {
                let mut acting = false;
                for mut c in std::iter::once(first).chain(rest) {
                    if c.word("SET") {
                        c.expect("SESSION")?;
                        c.expect("AUTHORIZATION")?;
                        c.role()?;
                        c.end()?;
                        acting = true;
                    } else if c.word("RESET") {
                        c.expect("SESSION")?;
                        c.expect("AUTHORIZATION")?;
                        c.end()?;
                        acting = false;
                    } else {
                        let to = if c.word("REVOKE") {
                            "FROM"
                        } else {
                            c.expect("GRANT")?;
                            "TO"
                        };
                        c.skip_to_word("ON")?;
                        self.owned_object(&mut c)?;
                        c.expect(to)?;
                        c.role()?;
                        if c.word("WITH") {
                            c.expect("GRANT")?;
                            c.expect("OPTION")?;
                        }
                        c.end()?;
                    }
                }
                if acting {
                    return Err("leaves SET SESSION AUTHORIZATION without its RESET".into());
                }
                Ok(())
            }
            other => Err(format!(
                "is of kind {other}, which no PostgreSQL restore runs"
            )),
        }
    }

    /// `SELECT pg_catalog.setval('<the sequence>', n, true|false)`.
    fn setval(&self, c: &mut Cursor<'_>) -> Result<(), String> {
        c.expect("SELECT")?;
        c.object_name("function", &["pg_catalog".into(), "setval".into()])?;
        c.punct('(')?;
        let literal = c
            .string()
            .ok_or_else(|| format!("expected the sequence's name, found {}", c.found()))?;
        let named = routine_name(&literal);
        if named != self.declared() {
            return Err(format!(
                "sets sequence {literal}, not {}",
                self.declared().join(".")
            ));
        }
        c.punct(',')?;
        c.punct_opt('-');
        c.number()?;
        c.punct(',')?;
        if !c.word("true") {
            c.expect("false")?;
        }
        c.punct(')')?;
        c.end()
    }

    /// `<kind> <name>` of an owner's ALTER or a grant's ON, which must name
    /// the entry's object.
    fn owned_object(&self, c: &mut Cursor<'_>) -> Result<(), String> {
        let kind = c.object_kind()?;
        let name = c
            .qname()
            .ok_or_else(|| format!("names no object: found {}", c.found()))?;
        let declared = match kind {
            "FUNCTION" | "PROCEDURE" => {
                c.skip_parens()?;
                let mut d = vec![];
                d.extend(self.object.name.schema.clone());
                d.extend(routine_name(&self.object.name.name).into_iter().last());
                d
            }
            _ => self.declared(),
        };
        if name != declared {
            return Err(format!(
                "is for {} {}, not for {}",
                kind.to_ascii_lowercase(),
                name.join("."),
                declared.join(".")
            ));
        }
        if matches!(kind, "TABLE" | "VIEW" | "MATERIALIZED VIEW") {
            self.archive_relation(&name)?;
        }
        Ok(())
    }

    /// `COMMENT ON <kind> <name> IS <string or NULL>`, on the entry's
    /// object.
    fn comment(&self, c: &mut Cursor<'_>) -> Result<(), String> {
        c.expect("COMMENT")?;
        c.expect("ON")?;
        let declared = &self.object.name;
        let schema = declared.schema.clone();
        if c.word("CONSTRAINT") || c.word("TRIGGER") {
            c.object_name("object", std::slice::from_ref(&declared.name))?;
            c.expect("ON")?;
            let domain = c.word("DOMAIN");
            let on = c.qname().ok_or("names no table")?;
            if on.first() != schema.as_ref() {
                return Err(format!(
                    "is for an object of {}, not of schema {:?}",
                    on.join("."),
                    schema
                ));
            }
            // A comment may only describe what the archive creates: the
            // table (or view) of a constraint or trigger is the archive's.
            if !domain {
                self.archive_relation(&on)?;
            }
        } else {
            let kind = c.object_kind().or_else(|_| {
                if c.word("COLUMN") {
                    Ok("COLUMN")
                } else if c.word("INDEX") {
                    Ok("INDEX")
                } else if c.word("AGGREGATE") {
                    Ok("AGGREGATE")
                } else {
                    Err(format!(
                        "comments on something bru does not carry: {}",
                        c.found()
                    ))
                }
            })?;
            let name = c.qname().ok_or("names no object")?;
            let matches = match kind {
                "SCHEMA" => name == [declared.name.clone()],
                "COLUMN" => {
                    name.len() == 3
                        && name.first() == schema.as_ref()
                        && format!("{}.{}", name[1], name[2]) == declared.name
                }
                "FUNCTION" | "PROCEDURE" | "AGGREGATE" => {
                    c.skip_parens()?;
                    name == routine_name(&declared.name)
                }
                _ => name == parts(declared),
            };
            if !matches {
                return Err(format!(
                    "comments on {} {}, not on {declared}",
                    kind.to_ascii_lowercase(),
                    name.join(".")
                ));
            }
            // A relation's (or its column's) comment is on a table or view
            // the archive creates, never on one of the target's own.
            match kind {
                "TABLE" | "VIEW" | "MATERIALIZED VIEW" => self.archive_relation(&name)?,
                "COLUMN" => self.archive_relation(&name[..2])?,
                _ => {}
            }
        }
        c.expect("IS")?;
        if c.string().is_none() {
            c.expect("NULL")?;
        }
        c.end()
    }
}

/// Reads one statement token by token.
struct Cursor<'s> {
    sql: &'s str,
    tokens: Vec<Token>,
    at: usize,
}

impl<'s> Cursor<'s> {
    fn new(sql: &'s str, tokens: Vec<Token>) -> Self {
        Cursor { sql, tokens, at: 0 }
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn found(&self) -> String {
        match self.peek() {
            Some(t) => format!("`{}`", shorten(&self.sql[t.start..])),
            None => "the end of the statement".into(),
        }
    }

    fn peek_word(&self, kw: &str) -> bool {
        self.peek().is_some_and(|t| t.is_word(self.sql, kw))
    }

    fn peek_punct(&self, c: char) -> bool {
        self.peek().is_some_and(|t| t.is_punct(self.sql, c))
    }

    fn word(&mut self, kw: &str) -> bool {
        let hit = self.peek_word(kw);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn expect(&mut self, kw: &str) -> Result<(), String> {
        if self.word(kw) {
            return Ok(());
        }
        if self.at == 0 {
            Err(format!(
                "is not the statement its kind needs: it starts with {}",
                self.found()
            ))
        } else {
            Err(format!(
                "is not the statement its kind needs: expected {kw} but found {}",
                self.found()
            ))
        }
    }

    fn punct(&mut self, c: char) -> Result<(), String> {
        if self.punct_opt(c) {
            Ok(())
        } else {
            Err(format!("expected `{c}` but found {}", self.found()))
        }
    }

    fn punct_opt(&mut self, c: char) -> bool {
        let hit = self.peek_punct(c);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn any_token(&mut self) {
        self.at += 1;
    }

    fn number(&mut self) -> Result<(), String> {
        match self.peek() {
            Some(t) if t.kind == Kind::Num => {
                self.at += 1;
                Ok(())
            }
            _ => Err(format!("expected a number but found {}", self.found())),
        }
    }

    fn string(&mut self) -> Option<String> {
        let s = self.peek()?.string(self.sql)?;
        self.at += 1;
        Some(s)
    }

    fn if_not_exists(&mut self) {
        let start = self.at;
        if !(self.word("IF") && self.word("NOT") && self.word("EXISTS")) {
            self.at = start;
        }
    }

    fn or_replace(&mut self) {
        let start = self.at;
        if !(self.word("OR") && self.word("REPLACE")) {
            self.at = start;
        }
    }

    /// A possibly qualified name, as parts. A `U&"…"` name is none: the
    /// server decodes its escapes (`U&"vi\0063tim"` is `victim`, with any
    /// UESCAPE character), which no catalog reader writes.
    fn qname(&mut self) -> Option<Vec<String>> {
        let sql = self.sql;
        let part = |t: &Token| {
            let unicode = t.kind == Kind::Quoted && !t.text(sql).starts_with('"');
            if unicode {
                None
            } else {
                t.name(sql)
            }
        };
        let mut out = vec![part(self.peek()?)?];
        self.at += 1;
        while self.peek_punct('.') {
            // `public.` then no name is no name (not `public`).
            let part = self.tokens.get(self.at + 1).and_then(part)?;
            out.push(part);
            self.at += 2;
        }
        Some(out)
    }

    /// The object's name, which must be `declared`.
    fn object_name(&mut self, what: &str, declared: &[String]) -> Result<(), String> {
        let name = self
            .qname()
            .ok_or_else(|| format!("names no {what}: found {}", self.found()))?;
        if name == declared {
            Ok(())
        } else {
            Err(format!(
                "names {what} {}, not {}",
                name.join("."),
                declared.join(".")
            ))
        }
    }

    /// A role: `PUBLIC`, `CURRENT_USER`… or a name.
    fn role(&mut self) -> Result<(), String> {
        match self.peek() {
            Some(t) if matches!(t.kind, Kind::Word | Kind::Quoted) => {
                self.at += 1;
                Ok(())
            }
            _ => Err(format!("expected a role but found {}", self.found())),
        }
    }

    /// The kind word(s) of an owner's ALTER or a grant's ON.
    fn object_kind(&mut self) -> Result<&'static str, String> {
        for kind in [
            "SCHEMA",
            "TYPE",
            "DOMAIN",
            "TABLE",
            "VIEW",
            "SEQUENCE",
            "FUNCTION",
            "PROCEDURE",
        ] {
            if self.word(kind) {
                return Ok(kind);
            }
        }
        let start = self.at;
        if self.word("MATERIALIZED") && self.word("VIEW") {
            return Ok("MATERIALIZED VIEW");
        }
        self.at = start;
        Err(format!(
            "is for something bru does not carry: {}",
            self.found()
        ))
    }

    /// Skips a parenthesized list (a function's argument types).
    fn skip_parens(&mut self) -> Result<(), String> {
        self.punct('(')?;
        let mut depth = 1usize;
        while let Some(t) = self.peek().copied() {
            self.at += 1;
            if t.is_punct(self.sql, '(') {
                depth += 1;
            } else if t.is_punct(self.sql, ')') {
                depth -= 1;
                if depth == 0 {
                    return Ok(());
                }
            }
        }
        Err("has an unclosed `(`".into())
    }

    /// Skips to just past the next bare word `kw` outside parentheses.
    fn skip_to_word(&mut self, kw: &str) -> Result<(), String> {
        let mut depth = 0usize;
        while let Some(t) = self.peek().copied() {
            self.at += 1;
            if t.is_punct(self.sql, '(') {
                depth += 1;
            } else if t.is_punct(self.sql, ')') {
                depth = depth.saturating_sub(1);
            } else if depth == 0 && t.is_word(self.sql, kw) {
                return Ok(());
            }
        }
        Err(format!("has no {kw}"))
    }

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

    fn object(kind: ObjectKind, schema: Option<&str>, name: &str, ddl: &str) -> ObjectDef {
        ObjectDef::new(kind, TableName::new(schema, name), ENGINE_NAME, ddl)
    }

    fn on(mut o: ObjectDef, table: &str) -> ObjectDef {
        o.table = Some(TableName::new(Some("public"), table));
        o
    }

    fn relations() -> Vec<TableName> {
        ["t", "v", "mv", "p", "vi\\0063tim", "vi!0063tim"]
            .iter()
            .map(|n| TableName::new(Some("public"), n))
            .collect()
    }

    fn check(o: &ObjectDef) -> Result<(), String> {
        check_object(o, Some(&relations()))
    }

    /// What the catalog readers write, kind by kind.
    #[test]
    fn the_shapes_the_catalog_writes_pass() {
        use ObjectKind as K;
        let p = Some("public");
        let mut seq = object(
            K::Sequence,
            p,
            "S",
            "CREATE SEQUENCE public.\"S\" AS bigint START WITH 1 INCREMENT BY 1 MINVALUE 1 \
             MAXVALUE 9223372036854775807 CACHE 1; SELECT pg_catalog.setval('public.\"S\"', 7, true)",
        );
        seq.data = Some("SELECT pg_catalog.setval('public.\"S\"', 1, false)".into());
        let ok = [
            object(K::Schema, None, "Hr", "CREATE SCHEMA IF NOT EXISTS \"Hr\""),
            object(K::Extension, None, "pg_trgm", "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"),
            object(K::Type, p, "mood", "CREATE TYPE public.mood AS ENUM ('a;', 'b')"),
            object(K::Type, p, "pos", "CREATE DOMAIN public.pos AS integer DEFAULT 1 NOT NULL CHECK ((VALUE > 0))"),
            object(
                K::Function,
                p,
                "f(integer)",
                "CREATE OR REPLACE FUNCTION public.f(a integer)\n RETURNS integer\n LANGUAGE plpgsql\n\
                 AS $function$begin delete from victim; return 1; end$function$\n",
            ),
            object(
                K::TableFunction,
                p,
                "g()",
                "CREATE OR REPLACE FUNCTION public.g()\n RETURNS integer\n LANGUAGE sql\n\
                 BEGIN ATOMIC\n SELECT 1;\n SELECT CASE WHEN true THEN 2 END;\nEND",
            ),
            seq,
            object(K::SequenceOwnership, p, "S", "ALTER SEQUENCE public.\"S\" OWNED BY public.t.id"),
            object(K::View, p, "v", "CREATE VIEW public.v WITH (security_barrier=true) AS\n SELECT ';' AS x"),
            object(
                K::MaterializedView,
                p,
                "mv",
                "CREATE MATERIALIZED VIEW public.mv AS\n SELECT 1 AS a\nWITH NO DATA;\n\
                 CREATE UNIQUE INDEX mv_a ON public.mv USING btree (a);\nREFRESH MATERIALIZED VIEW public.mv",
            ),
            on(
                object(
                    K::Trigger,
                    p,
                    "trg",
                    "CREATE TRIGGER trg AFTER UPDATE OF a ON public.t FOR EACH ROW EXECUTE FUNCTION public.f();\n\
                     ALTER TABLE public.t DISABLE TRIGGER trg",
                ),
                "t",
            ),
            on(
                object(
                    K::Rule,
                    p,
                    "r",
                    "CREATE RULE r AS\n    ON INSERT TO public.v DO INSTEAD ( INSERT INTO public.t VALUES (1); \
                     UPDATE public.t SET a = 2; );",
                ),
                "v",
            ),
            object(K::Statistics, p, "st", "CREATE STATISTICS public.st (ndistinct) ON a, b FROM public.t"),
            on(
                object(
                    K::ExclusionConstraint,
                    p,
                    "t_ex",
                    "ALTER TABLE ONLY public.t ADD CONSTRAINT t_ex EXCLUDE USING gist (r WITH &&)",
                ),
                "t",
            ),
            object(K::Comment, p, "t.a", "COMMENT ON COLUMN public.t.a IS 'it''s; DROP'"),
            object(K::Comment, p, "t", "COMMENT ON TABLE public.t IS 'x'"),
            object(K::Comment, p, "public.f(integer)", "COMMENT ON FUNCTION public.f(integer) IS 'x'"),
            object(K::Comment, p, "mood", "COMMENT ON TYPE public.mood IS 'x'"),
            object(K::Comment, Some("hr"), "hr", "COMMENT ON SCHEMA hr IS 'x'"),
            object(K::Comment, p, "t_pkey", "COMMENT ON CONSTRAINT t_pkey ON public.t IS 'x'"),
            object(K::Comment, p, "trg", "COMMENT ON TRIGGER trg ON public.t IS 'x'"),
            object(K::Owner, p, "t", "ALTER TABLE public.t OWNER TO \"Ann\""),
            object(K::Owner, p, "f(integer)", "ALTER FUNCTION public.f(integer) OWNER TO ann"),
            object(K::Owner, None, "hr", "ALTER SCHEMA hr OWNER TO ann"),
            object(K::Owner, p, "mv", "ALTER MATERIALIZED VIEW public.mv OWNER TO ann"),
            object(
                K::Privileges,
                p,
                "t",
                "REVOKE ALL ON TABLE public.t FROM PUBLIC;\nREVOKE ALL ON TABLE public.t FROM ann;\n\
                 GRANT SELECT, UPDATE (a) ON TABLE public.t TO bob WITH GRANT OPTION;\n\
                 SET SESSION AUTHORIZATION bob;\nGRANT SELECT ON TABLE public.t TO \"Cy\";\nRESET SESSION AUTHORIZATION",
            ),
        ];
        for o in &ok {
            assert_eq!(check(o), Ok(()), "{} {}: {}", o.kind, o.name, o.ddl);
        }
    }

    #[test]
    fn other_statements_and_other_objects_are_refused() {
        use ObjectKind as K;
        let p = Some("public");
        let refused = [
            (
                object(K::View, p, "v", "CREATE VIEW public.v AS SELECT 1; DELETE FROM public.victim;"),
                "second statement",
            ),
            (
                object(K::View, p, "v", "CREATE VIEW public.v AS SELECT 1;\nCOPY (select 1) TO PROGRAM 'touch /tmp/x'"),
                "second statement",
            ),
            (object(K::View, p, "v", "DROP TABLE public.victim"), "starts with `DROP"),
            (object(K::View, p, "v", "CREATE VIEW public.victim AS SELECT 1"), "not public.v"),
            (object(K::View, p, "v", "CREATE VIEW v AS SELECT 1"), "not public.v"),
            (object(K::View, p, "v", "CREATE TABLE public.v (a int)"), "expected VIEW"),
            (
                object(K::Function, p, "f()", "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END; DROP TABLE public.victim"),
                "second statement",
            ),
            (object(K::Schema, None, "hr", "CREATE SCHEMA hr CREATE TABLE hr.x (a int)"), "goes on"),
            (
                on(object(K::Trigger, p, "trg", "CREATE TRIGGER trg AFTER INSERT ON public.victim FOR EACH ROW EXECUTE FUNCTION public.f()"), "t"),
                "not on its declared table",
            ),
            (
                on(object(K::Trigger, p, "trg", "CREATE TRIGGER trg AFTER INSERT ON public.victim FOR EACH ROW EXECUTE FUNCTION public.f()"), "victim"),
                "not a table or view of the archive",
            ),
            (
                on(object(K::Trigger, p, "trg", "CREATE TRIGGER trg AFTER INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.f(); ALTER TABLE public.victim DISABLE TRIGGER trg"), "t"),
                "public.victim, which is not a table or view of the archive",
            ),
            (object(K::Owner, p, "t", "ALTER TABLE public.victim OWNER TO ann"), "not for public.t"),
            (object(K::View, p, "victim_v", "CREATE OR REPLACE VIEW public.victim_v AS SELECT 1"), "expected VIEW"),
            (object(K::Statistics, p, "st", "CREATE STATISTICS public.st (ndistinct) ON a, b FROM public.victim"), "not a table or view of the archive"),
            (
                on(object(K::ExclusionConstraint, p, "t_ex", "ALTER TABLE ONLY public.t ADD CONSTRAINT t_ex EXCLUDE USING gist (r WITH &&), INHERIT public.victim"), "t"),
                "goes on after its constraint",
            ),
            // The server decodes U& escapes: these name public.victim.
            (
                on(object(K::Trigger, p, "trg", "CREATE TRIGGER trg AFTER INSERT ON public.U&\"vi\\0063tim\" FOR EACH ROW EXECUTE FUNCTION public.f()"), "vi\\0063tim"),
                "names no table",
            ),
            (
                on(object(K::Trigger, p, "trg", "CREATE TRIGGER trg AFTER INSERT ON public.U&\"vi!0063tim\" UESCAPE '!' FOR EACH ROW EXECUTE FUNCTION public.f()"), "vi!0063tim"),
                "names no table",
            ),
            (object(K::Owner, p, "vi\\0063tim", "ALTER TABLE public.u&\"vi\\0063tim\" OWNER TO ann"), "names no object"),
            (object(K::Owner, p, "victim", "ALTER TABLE public.victim OWNER TO ann"), "not a table or view of the archive"),
            (object(K::Privileges, p, "t", "GRANT ann TO bob"), "has no ON"),
            (object(K::Privileges, p, "t", "SET SESSION AUTHORIZATION bob; GRANT SELECT ON TABLE public.t TO cy"), "without its RESET"),
            (object(K::Privileges, p, "t", "GRANT SELECT ON TABLE public.t TO bob; DROP TABLE public.victim"), "starts with `DROP"),
            (object(K::Comment, p, "t", "COMMENT ON TABLE public.t IS 'x'; DROP TABLE public.victim"), "second statement"),
            (object(K::Comment, p, "t", "COMMENT ON TABLE public.victim IS 'x'"), "not on public.t"),
            (object(K::Comment, p, "victim", "COMMENT ON TABLE public.victim IS 'x'"), "not a table or view of the archive"),
            (object(K::Comment, p, "victim.a", "COMMENT ON COLUMN public.victim.a IS 'x'"), "not a table or view of the archive"),
            (object(K::Comment, p, "victim_pkey", "COMMENT ON CONSTRAINT victim_pkey ON public.victim IS 'x'"), "not a table or view of the archive"),
            (object(K::Comment, p, "t", "COMMENT ON TABLE public.t IS 'x' || pg_catalog.pg_sleep(1)"), "goes on"),
            (object(K::Other("policy".into()), p, "pol", "CREATE POLICY pol ON public.t"), "no PostgreSQL restore runs"),
            (
                object(K::Sequence, p, "s", "CREATE SEQUENCE public.s OWNED BY public.victim.a"),
                "owning column",
            ),
            (
                object(K::Sequence, p, "s", "CREATE SEQUENCE public.s; SELECT pg_catalog.setval('public.victim_seq', 1, true)"),
                "sets sequence public.victim_seq",
            ),
            (
                object(K::Sequence, p, "s", "CREATE SEQUENCE public.s; SELECT pg_catalog.setval('public.s', 1, true), pg_catalog.pg_sleep(1)"),
                "goes on",
            ),
            // With IF NOT EXISTS, a sequence or materialized view of the
            // target's own would be set or refreshed.
            (
                object(K::Sequence, p, "victim_seq", "CREATE SEQUENCE IF NOT EXISTS public.victim_seq; SELECT pg_catalog.setval('public.victim_seq', 9, true)"),
                "names sequence if,",
            ),
            (
                object(K::MaterializedView, p, "mv", "CREATE MATERIALIZED VIEW IF NOT EXISTS public.mv AS SELECT 1; REFRESH MATERIALIZED VIEW public.mv"),
                "names materialized view if,",
            ),
        ];
        for (o, why) in &refused {
            let err = check(o).expect_err(&o.ddl);
            assert!(err.contains(why), "{}: {err}", o.ddl);
        }
    }

    fn check_table_alone(t: &TableDef) -> Result<(), String> {
        check_table(t, Some(&relations()))
    }

    fn table(create: &str) -> TableDef {
        let mut t = TableDef::new(TableName::new(Some("public"), "t"), Vec::new());
        t.native = Some(bru_core::NativeDdl {
            engine: ENGINE_NAME.into(),
            create: create.into(),
        });
        t
    }

    #[test]
    fn another_engines_expressions_stay_one_expression() {
        let mut t = TableDef::new(
            TableName::bare("sites"),
            vec![bru_testsupport::tables::column(
                "a",
                bru_core::ColumnType::Int64,
            )],
        );
        t.native = Some(bru_core::NativeDdl {
            engine: "sqlite".into(),
            create: "CREATE TABLE sites (a INT DEFAULT (1 + 2) CHECK (a > 0))".into(),
        });
        t.columns[0].default = Some("(abs(-1) + 2)".into());
        t.checks.push(bru_core::CheckConstraint {
            name: None,
            expr: "a > 0 AND a IN (1, 2, ';')".into(),
        });
        assert_eq!(check_table(&t, Some(&relations())), Ok(()));
        let fk = "ADD CONSTRAINT zz FOREIGN KEY (a) REFERENCES public.victim(a)";
        for (default, check, why) in [
            (format!("0, {fk}"), "true", "column a: the default"),
            (
                format!("E'\\'' , {fk} --'"),
                "true",
                "`,` outside parentheses",
            ),
            ("0; DROP TABLE public.victim".into(), "true", "`;`"),
            (
                "0".into(),
                "true), INHERIT public.victim, ADD CHECK (true",
                "the CHECK",
            ),
        ] {
            t.columns[0].default = Some(default.clone());
            t.checks[0].expr = check.into();
            let err = check_table(&t, Some(&relations())).unwrap_err();
            assert!(err.contains(why), "{default} / {check}: {err}");
        }
        // A table of no engine's (no native DDL) is checked the same.
        t.native = None;
        let err = check_table(&t, None).unwrap_err();
        assert!(err.contains("INHERIT"), "{err}");
    }

    #[test]
    fn a_table_creates_itself_its_indexes_and_one_clause_constraints() {
        assert_eq!(
            check_table_alone(&table("CREATE UNLOGGED TABLE public.t (\n    a integer\n)")),
            Ok(())
        );
        assert_eq!(
            check_table_alone(&table(
                "CREATE TABLE public.t PARTITION OF public.p FOR VALUES IN (1)"
            )),
            Ok(())
        );
        let err = check_table_alone(&table("DROP TABLE public.victim")).unwrap_err();
        assert!(err.contains("starts with `DROP"), "{err}");
        let err = check_table_alone(&table(
            "CREATE TABLE public.t (a int); DROP TABLE public.victim",
        ))
        .unwrap_err();
        assert!(err.contains("second statement"), "{err}");
        let err = check_table_alone(&table("CREATE TABLE public.victim2 (a int)")).unwrap_err();
        assert!(err.contains("not public.t"), "{err}");
        for (create, why) in [
            (
                "CREATE TABLE public.t PARTITION OF public.victim DEFAULT",
                "partition of public.victim",
            ),
            (
                "CREATE TABLE public.t (a int) INHERITS (public.p, public.victim)",
                "inherits from public.victim",
            ),
            (
                "CREATE TABLE public.t (a int REFERENCES public.victim (a))",
                "foreign key",
            ),
            // A query runs, and a data-modifying WITH with it.
            (
                "CREATE TABLE public.t (a) AS WITH d AS (DELETE FROM public.victim RETURNING a) SELECT a FROM d",
                "from a query",
            ),
            ("CREATE TABLE public.t (a) AS EXECUTE p", "from a query"),
            (
                "CREATE TABLE public.t (a) WITH (fillfactor = 70) AS SELECT 1",
                "from a query",
            ),
        ] {
            let err = check_table_alone(&table(create)).unwrap_err();
            assert!(err.contains(why), "{create}: {err}");
        }
        for ok in [
            "CREATE TABLE public.t (a int) INHERITS (public.p) PARTITION BY RANGE (a)",
            "CREATE TABLE public.t (\n    a integer GENERATED ALWAYS AS IDENTITY,\n    b integer GENERATED ALWAYS AS ((a * 2)) STORED\n) WITH (fillfactor='70')",
        ] {
            assert_eq!(check_table_alone(&table(ok)), Ok(()), "{ok}");
        }
        let mut fk = table("CREATE TABLE public.t (a int)");
        fk.properties.insert(
            "postgres.constraint.t_a_fkey".into(),
            "FOREIGN KEY (a) REFERENCES public.victim(a) ON DELETE CASCADE".into(),
        );
        let err = check_table_alone(&fk).unwrap_err();
        assert!(
            err.contains("t_a_fkey") && err.contains("references public.victim"),
            "{err}"
        );
        fk.properties.insert(
            "postgres.constraint.t_a_fkey".into(),
            "FOREIGN KEY (a) REFERENCES public.p(a) ON DELETE CASCADE".into(),
        );
        assert_eq!(check_table_alone(&fk), Ok(()));
        // ALTER TABLE takes a list of actions: one clause only.
        for (def, why) in [
            (
                "CHECK ((a > 0)), ADD CONSTRAINT zz FOREIGN KEY (a) REFERENCES public.victim(a)",
                "goes on after its clause",
            ),
            (
                "CHECK ((a > 0)), INHERIT public.victim",
                "goes on after its clause",
            ),
            ("CHECK ((a > 0))), OWNER TO ann", "did not open"),
            // The server ends a `--` comment at `\r` as well as `\n`.
            (
                "CHECK ((a > 0)) --\r, ADD CONSTRAINT zz FOREIGN KEY (a) REFERENCES public.victim(a)\n",
                "goes on after its clause",
            ),
        ] {
            fk.properties
                .insert("postgres.constraint.t_a_fkey".into(), def.into());
            let err = check_table_alone(&fk).unwrap_err();
            assert!(
                err.contains("t_a_fkey") && err.contains(why),
                "{def}: {err}"
            );
        }
        for def in [
            "EXCLUDE USING gist (a WITH =, b WITH &&)",
            "UNIQUE (a, b) INCLUDE (c)",
            "FOREIGN KEY (a, b) REFERENCES public.p(a, b)",
        ] {
            fk.properties
                .insert("postgres.constraint.t_a_fkey".into(), def.into());
            assert_eq!(check_table_alone(&fk), Ok(()), "{def}");
        }
        let err = check_table_alone(&table("CREATE TABLE public.victim3 (a int)")).unwrap_err();
        assert!(err.contains("not public.t"), "{err}");

        let mut t = table("CREATE TABLE public.t (a integer)");
        t.indexes.push(bru_core::IndexDef {
            name: "t_a".into(),
            columns: vec!["a".into()],
            unique: false,
            predicate: None,
            method: None,
            native_ddl: Some("CREATE INDEX t_a ON ONLY public.t USING btree (a)".into()),
        });
        t.properties.insert(
            "postgres.constraint.t_pkey".into(),
            "PRIMARY KEY (a)".into(),
        );
        assert_eq!(check_table(&t, Some(&relations())), Ok(()));
        t.indexes[0].native_ddl = Some("CREATE INDEX t_a ON public.victim USING btree (a)".into());
        let err = check_table(&t, Some(&relations())).unwrap_err();
        assert!(err.contains("index t_a") && err.contains("victim"), "{err}");
        t.indexes.clear();
        t.properties.insert(
            "postgres.constraint.t_check".into(),
            "CHECK (true); DROP TABLE public.victim".into(),
        );
        let err = check_table(&t, Some(&relations())).unwrap_err();
        assert!(err.contains("constraint t_check"), "{err}");
    }

    /// The statements after a CREATE TABLE, and the ones run after its
    /// indexes, are on the table itself (a partition's ATTACH on a parent
    /// of the archive), one action each.
    #[test]
    fn table_alterations_are_on_the_table_itself() {
        let ok = "CREATE TABLE public.t (\n    a integer\n);\n\
            ALTER TABLE ONLY public.t ALTER COLUMN a SET STATISTICS 500;\n\
            ALTER TABLE ONLY public.t ALTER COLUMN a SET (n_distinct=-0.5, n_distinct_inherited=10);\n\
            ALTER TABLE ONLY public.t ALTER COLUMN a SET STORAGE EXTERNAL;\n\
            ALTER TABLE ONLY public.t ALTER COLUMN a SET COMPRESSION pglz;\n\
            ALTER TABLE ONLY public.t ALTER COLUMN a SET NOT NULL;\n\
            ALTER TABLE ONLY public.t ALTER COLUMN a SET DEFAULT public.f(1, 2);\n\
            ALTER TABLE ONLY public.t REPLICA IDENTITY FULL;\n\
            ALTER TABLE ONLY public.p ATTACH PARTITION public.t FOR VALUES FROM (0) TO (10)";
        assert_eq!(check_table_alone(&table(ok)), Ok(()));
        assert_eq!(
            check_table_alone(&table("CREATE TABLE public.t OF public.ty")),
            Ok(())
        );
        assert_eq!(
            check_table_alone(&table(
                "CREATE TABLE public.t OF public.ty (\n    a WITH OPTIONS NOT NULL\n)"
            )),
            Ok(())
        );
        let create = "CREATE TABLE public.t (\n    a integer\n)";
        for (alter, why) in [
            (
                "ALTER TABLE ONLY public.victim ALTER COLUMN a SET STATISTICS 5",
                "attaches itself to public.victim, which is not a table or view of the archive",
            ),
            (
                "ALTER TABLE ONLY public.p ATTACH PARTITION public.victim DEFAULT",
                "names table public.victim, not public.t",
            ),
            (
                "ALTER TABLE ONLY public.p ATTACH PARTITION public.t FOR VALUES IN (1), DETACH PARTITION public.x",
                "goes on after its constraint",
            ),
            (
                "ALTER TABLE ONLY public.t ALTER COLUMN a SET DEFAULT 1, OWNER TO mallory",
                "not one expression",
            ),
            (
                "ALTER TABLE ONLY public.t ALTER COLUMN a SET (n_distinct = (SELECT 1))",
                "in its options",
            ),
            (
                "ALTER TABLE ONLY public.t ALTER COLUMN a SET STATISTICS 5 OWNER TO mallory",
                "goes on after its statement",
            ),
            ("ALTER TABLE ONLY public.t OWNER TO mallory", "expected ALTER"),
            ("ALTER TABLE public.t REPLICA IDENTITY FULL", "expected ONLY"),
            ("DROP TABLE public.victim", "second statement `DROP TABLE"),
        ] {
            let err = check_table_alone(&table(&format!("{create};\n{alter}"))).unwrap_err();
            assert!(err.contains(why), "{alter}: {err}");
        }

        let mut t = table(create);
        t.indexes.push(bru_core::IndexDef {
            name: "t_i".into(),
            columns: vec!["a".into()],
            unique: false,
            predicate: None,
            method: None,
            native_ddl: Some("CREATE INDEX t_i ON public.t USING btree (a)".into()),
        });
        t.properties.insert(
            "postgres.constraint.t_pkey".into(),
            "PRIMARY KEY (a)".into(),
        );
        let after = |sql: &str| {
            let mut t = t.clone();
            t.properties
                .insert(format!("{}000", crate::catalog::AFTER_INDEXES), sql.into());
            check_table_alone(&t)
        };
        for sql in [
            "ALTER TABLE ONLY public.t CLUSTER ON t_i",
            "ALTER TABLE ONLY public.t REPLICA IDENTITY USING INDEX t_pkey",
            "ALTER INDEX public.t_i ALTER COLUMN 1 SET STATISTICS 300",
            "ALTER INDEX public.t_pkey SET TABLESPACE fast",
            "ALTER INDEX public.t_i ATTACH PARTITION other.part_a_idx",
        ] {
            assert_eq!(after(sql), Ok(()), "{sql}");
        }
        for (sql, why) in [
            (
                "ALTER TABLE ONLY public.t CLUSTER ON victim_idx",
                "not an index or key of the table",
            ),
            (
                "ALTER INDEX public.victim_idx ALTER COLUMN 1 SET STATISTICS 3",
                "not an index or key",
            ),
            (
                "ALTER INDEX other.t_i ALTER COLUMN 1 SET STATISTICS 3",
                "outside the table's schema",
            ),
            (
                "ALTER TABLE ONLY public.victim CLUSTER ON t_i",
                "names table public.victim",
            ),
            (
                "ALTER TABLE ONLY public.t CLUSTER ON t_i; DROP TABLE public.victim",
                "second statement",
            ),
            (
                "ALTER TABLE ONLY public.t SET TABLESPACE x",
                "expected CLUSTER",
            ),
        ] {
            let err = after(sql).unwrap_err();
            assert!(err.contains(why), "{sql}: {err}");
        }
    }

    /// A CHECK that waits for its functions, a rule's state, a statistics
    /// target and an unlogged sequence: their own object, one action.
    #[test]
    fn late_checks_rule_states_and_statistics_targets_are_on_their_own_object() {
        use ObjectKind as K;
        let p = Some("public");
        for o in [
            on(object(K::CheckConstraint, p, "t_ok", "ALTER TABLE public.t ADD CONSTRAINT t_ok CHECK (public.ok(t.*))"), "t"),
            on(object(K::Rule, p, "r", "CREATE RULE r AS ON INSERT TO public.t DO ALSO NOTIFY t;\nALTER TABLE public.t DISABLE RULE r"), "t"),
            object(K::Statistics, p, "st", "CREATE STATISTICS public.st ON a, b FROM public.t;\nALTER STATISTICS public.st SET STATISTICS 42"),
            object(K::Sequence, p, "s", "CREATE UNLOGGED SEQUENCE public.s AS bigint START WITH 1"),
            on(object(K::Trigger, p, "trg", "CREATE TRIGGER trg AFTER INSERT ON public.p FOR EACH ROW EXECUTE FUNCTION public.f();\nALTER TABLE ONLY public.t DISABLE TRIGGER trg"), "p"),
        ] {
            assert_eq!(check(&o), Ok(()), "{}", o.ddl);
        }
        for (o, why) in [
            (on(object(K::CheckConstraint, p, "t_ok", "ALTER TABLE public.victim ADD CONSTRAINT t_ok CHECK (true)"), "t"), "victim"),
            (on(object(K::CheckConstraint, p, "t_ok", "ALTER TABLE public.t ADD CONSTRAINT other CHECK (true)"), "t"), "names constraint other"),
            (on(object(K::CheckConstraint, p, "t_ok", "ALTER TABLE public.t ADD CONSTRAINT t_ok CHECK (true), OWNER TO mallory"), "t"), "goes on after its constraint"),
            (on(object(K::CheckConstraint, p, "t_ok", "ALTER TABLE public.t ADD CONSTRAINT t_ok CHECK (true); DROP TABLE public.t"), "t"), "second statement"),
            (on(object(K::CheckConstraint, p, "t_ok", "ALTER TABLE public.t ADD CONSTRAINT t_ok UNIQUE (a)"), "t"), "expected CHECK"),
            (on(object(K::Rule, p, "r", "CREATE RULE r AS ON INSERT TO public.t DO ALSO NOTIFY t;\nALTER TABLE public.victim DISABLE RULE r"), "t"), "names table public.victim"),
            (on(object(K::Rule, p, "r", "CREATE RULE r AS ON INSERT TO public.t DO ALSO NOTIFY t;\nALTER TABLE public.t DISABLE RULE other"), "t"), "names rule other"),
            (object(K::Statistics, p, "st", "CREATE STATISTICS public.st ON a, b FROM public.t;\nALTER STATISTICS public.victim SET STATISTICS 1"), "names statistics public.victim"),
            (object(K::Statistics, p, "st", "CREATE STATISTICS public.st ON a, b FROM public.t;\nALTER STATISTICS public.st OWNER TO mallory"), "expected SET"),
            (on(object(K::Trigger, p, "trg", "CREATE TRIGGER trg AFTER INSERT ON public.p FOR EACH ROW EXECUTE FUNCTION public.f();\nALTER TABLE ONLY public.t DISABLE TRIGGER other"), "p"), "names trigger other"),
        ] {
            let err = check(&o).expect_err(&o.ddl);
            assert!(err.contains(why), "{}: {err}", o.ddl);
        }
    }
}
