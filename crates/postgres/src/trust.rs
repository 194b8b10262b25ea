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
//! | type | `CREATE TYPE <name>` (a shell), `CREATE TYPE <name> (…)` (a base type), `CREATE TYPE <name> AS [ENUM\|RANGE] (…)`, or `CREATE DOMAIN <name> AS …` |
//! | shell type | `CREATE TYPE <name>` |
//! | domain constraint | `ALTER DOMAIN <name> ADD CONSTRAINT <c> CHECK (…) NOT VALID`, on a domain the archive creates |
//! | function, window function | `CREATE [OR REPLACE] FUNCTION\|PROCEDURE <name>(…` |
//! | aggregate | `CREATE AGGREGATE <name>(…` (never `OR REPLACE`) |
//! | operator, cast, collation… | see module `kinds` |
//! | sequence | `CREATE [UNLOGGED] SEQUENCE <name> …` (never `IF NOT EXISTS`), then `SELECT pg_catalog.setval('<name>', n, true\|false)` |
//! | sequence ownership | `ALTER SEQUENCE <name> OWNED BY <table>.<column>` |
//! | view | `CREATE [RECURSIVE] VIEW <name> …` |
//! | materialized view | `CREATE MATERIALIZED VIEW <name> …`, then its columns' `ALTER TABLE ONLY <name> ALTER COLUMN <c> SET STATISTICS\|STORAGE\|COMPRESSION\|(options)`, its indexes (`CREATE [UNIQUE] INDEX <i> ON <name> …`), `REFRESH MATERIALIZED VIEW <name>` |
//! | trigger | `CREATE [OR REPLACE] [CONSTRAINT] TRIGGER <name> … ON <table> …`, then `ALTER TABLE [ONLY] <table or a table of the archive: a partition's clone> ENABLE\|DISABLE [ALWAYS\|REPLICA] TRIGGER <name>` |
//! | rule | `CREATE [OR REPLACE] RULE <name> AS ON <event> TO <table> …`, then `ALTER TABLE [ONLY] <table> DISABLE\|ENABLE ALWAYS\|ENABLE REPLICA RULE <name>` |
//! | statistics | `CREATE STATISTICS [IF NOT EXISTS] <name> … FROM <table>`, then `ALTER STATISTICS <name> SET STATISTICS n` |
//! | exclusion constraint | `ALTER TABLE [ONLY] <table> ADD CONSTRAINT <name> EXCLUDE …` |
//! | text search parser, template, dictionary | `CREATE TEXT SEARCH PARSER\|TEMPLATE\|DICTIONARY <name> ( option = value, … )` |
//! | text search configuration | `CREATE TEXT SEARCH CONFIGURATION <name> ( PARSER = p )`, then `ALTER TEXT SEARCH CONFIGURATION <name> ADD MAPPING FOR <tokens> WITH <dictionaries>` |
//! | foreign data wrapper | `CREATE FOREIGN DATA WRAPPER <name> [HANDLER f] [VALIDATOR f] [OPTIONS (…)]` |
//! | server | `CREATE SERVER <name> [TYPE '…'] [VERSION '…'] FOREIGN DATA WRAPPER w [OPTIONS (…)]` |
//! | user mapping (named `for <role> server <server>`) | `CREATE USER MAPPING FOR <role> SERVER <server> [OPTIONS (…)]` |
//! | foreign table | `CREATE FOREIGN TABLE <name> ( … ) SERVER s [OPTIONS (…)]`, no REFERENCES |
//! | row level security (named after its table) | `ALTER TABLE [ONLY] <table> ENABLE\|FORCE ROW LEVEL SECURITY`, at most both |
//! | policy | `CREATE POLICY <name> ON <table> [AS …] [FOR cmd] [TO roles] [USING (…)] [WITH CHECK (…)]` |
//! | publication | `CREATE PUBLICATION <name> [FOR ALL TABLES] WITH ( option = value, … )` |
//! | publication table (named after its publication) | `ALTER PUBLICATION <name> ADD TABLE [ONLY] <table> [(columns)] [WHERE (…)]` |
//! | publication schema | `ALTER PUBLICATION <name> ADD TABLES IN SCHEMA <its schema>` |
//! | subscription | `CREATE SUBSCRIPTION <name> CONNECTION '…' PUBLICATION p, … WITH ( connect = false, … )` |
//! | default privileges (named `for role <role> on <types>`) | `ALTER DEFAULT PRIVILEGES FOR ROLE <role> [IN SCHEMA <its schema>] GRANT … ON <types> TO … \| REVOKE … ON <types> FROM …` |
//! | check constraint (one calling a function of the user's) | `ALTER TABLE [ONLY] <table> ADD CONSTRAINT <name> CHECK …` |
//! | large object (named by its oid) | exactly `SELECT pg_catalog.lo_create('<oid>')` |
//! | large object pieces (the table with `postgres.large_objects`) | no statement: columns `loid oid`, `offset bigint`, `data bytea` and nothing else; every oid it lists a large object of the archive |
//! | comment | `COMMENT ON <kind> <name> IS '…'` (`LARGE OBJECT <oid>`: one of the archive's) |
//! | owner | `ALTER <kind> <name> OWNER TO <role>` (`LARGE OBJECT <oid>`: one of the archive's) |
//! | privileges | `REVOKE ALL ON <kind> <name> FROM <role>`, `GRANT … ON <kind> <name> TO <role> [WITH GRANT OPTION]`, each alone or between `SET SESSION AUTHORIZATION <role>` and `RESET SESSION AUTHORIZATION` |
//! | system privileges (named `public` or `pg_catalog`, a schema; `sql`, `c` or `internal`, a built-in language; or a relation or function `f(identity arguments)` of `pg_catalog`) | `REVOKE <privileges> ON SCHEMA <name> FROM <role>` and `GRANT <privileges> ON SCHEMA <name> TO <role> [WITH GRANT OPTION]` (USAGE, CREATE), `ON LANGUAGE sql\|c\|internal` (USAGE), or the same `ON TABLE\|SEQUENCE pg_catalog.<relation>` (SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER, USAGE, each with a column list or not) or `ON FUNCTION\|PROCEDURE pg_catalog.<f(identity arguments)>` (EXECUTE); each alone or between `SET SESSION AUTHORIZATION <role>` and `RESET SESSION AUTHORIZATION` |
//!
//! None of the kinds of the second block may hold a `;` even inside
//! parentheses, and a refused user mapping or subscription is never quoted
//! back (its options or connection may hold a password).
//!
//! A trigger, rule, exclusion constraint, sequence ownership, policy, row
//! level security or publication table must be on the entry's declared
//! table, and that must be a table or view the
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

use bru_core::{Declared, ObjectDef, ObjectKind, TableDef, TableName};

use crate::catalog::{defaults, foreign, large_objects, policies, publications, textsearch};
use crate::quote::{ident, target_name};
use crate::sqltext::{split, tokenize, Kind, Token};
use crate::ENGINE_NAME;

mod kinds;

/// The words that may begin a constraint's definition.
const CONSTRAINT_HEADS: &[&str] = &["PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "EXCLUDE", "NOT"];

/// The large objects' pieces (module `catalog::large_objects`): a table
/// with the pieces property is exactly the table a backup writes (its name,
/// its three columns, nothing else), and every oid it lists, which its rows
/// may write into, is a large object the archive creates. So a restore
/// writes only into large objects it created itself (or, `--data-only`,
/// into the target's large objects of the archive's oids).
///
/// Any other table in a system schema (`pg_catalog`, `pg_toast`, any
/// `pg_*`, `information_schema`) is refused: no backup writes one, and a
/// `--data-only` restore would COPY into the target's own catalog (its
/// `pg_largeobject` pages, its roles).
pub fn check_large_object_pieces(table: &TableDef, archive: &Declared) -> Result<(), String> {
    let Some(oids) = large_objects::pieces_oids(table) else {
        let schema = target_name(&table.name).schema.unwrap_or_default();
        if schema.starts_with("pg_") || schema == "information_schema" {
            return Err(format!(
                "is in the system schema {schema}, where no backup takes a table from"
            ));
        }
        return Ok(());
    };
    let oids = oids?;
    let shape: Vec<(&str, &str)> = table
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.native_type.as_str()))
        .collect();
    if table.name != large_objects::pieces_table_name()
        || shape != [("loid", "oid"), ("offset", "bigint"), ("data", "bytea")]
        || table.native.is_some()
        || table.primary_key.is_some()
        || !table.uniques.is_empty()
        || !table.indexes.is_empty()
        || !table.foreign_keys.is_empty()
        || !table.checks.is_empty()
        || !table.created_after.is_empty()
        || table.properties.len() != 1
    {
        return Err(format!(
            "has the property {} but is not the table of large object pieces a backup writes",
            large_objects::PIECES_PROPERTY
        ));
    }
    for oid in oids {
        let declared = archive.objects.iter().any(|(k, n)| {
            matches!(k, ObjectKind::Other(k) if k == large_objects::LARGE_OBJECT)
                && n.schema.is_none()
                && n.name == oid.to_string()
        });
        if !declared {
            return Err(format!(
                "writes into large object {oid}, which the archive does not create (it would \
                 change a large object of the target's own)"
            ));
        }
    }
    Ok(())
}

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
        if c.word("NOT") {
            c.expect("NULL")?;
        } else if c.word("DEFAULT") {
            let start = c.peek().map(|t| t.start).ok_or("sets no default")?;
            let end = c.tokens.last().map_or(start, |t| t.end);
            foreign_expression(&c.sql[start..end])?;
            return Ok(());
        } else {
            column_setting(c)?;
        }
        c.end()
    };
    check(&mut c).map_err(refuse)
}

/// After `ALTER TABLE ONLY <relation> ALTER COLUMN <c> SET`, one of what a
/// backup sets on a table's or materialized view's column with no column
/// line: `STATISTICS n`, `STORAGE s`, `COMPRESSION m` or `(name = value,
/// …)` of names, numbers and strings only.
fn column_setting(c: &mut Cursor<'_>) -> Result<(), String> {
    if c.word("STATISTICS") {
        c.punct_opt('-');
        c.number()?;
    } else if c.word("STORAGE") || c.word("COMPRESSION") {
        match c.peek() {
            Some(t) if t.kind == Kind::Word => c.any_token(),
            _ => return Err(format!("expected a method but found {}", c.found())),
        }
    } else {
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
    Ok(())
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
        if let Some(g) = &c.generated {
            foreign_expression(&g.expr)
                .map_err(|e| format!("column {}: the generation expression {e}", c.name))?;
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
pub fn check_object(object: &ObjectDef, archive: Option<&Declared>) -> Result<(), String> {
    let check = Check {
        object,
        relations: archive.map(|a| a.relations.as_slice()),
        archive,
    };
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

/// Whether the routine `statement` names (`public.f(a integer, OUT b
/// text)`, its identity arguments) is the one `declared` names by its
/// `regprocedure` text (`public.f(integer)`): the same input argument
/// types (OUT ones left out), each read past its mode and, where it has
/// one, its name. An
/// argument of several words is taken whole or without its first word
/// (`double precision`, `x double precision`): either way PostgreSQL reads
/// a type that must be the declared one.
fn same_signature(statement: &str, declared: &str) -> bool {
    if statement == declared {
        return true;
    }
    let args = |sql: &str| -> Option<Vec<Vec<String>>> {
        let tokens = tokenize(sql);
        let open = tokens.iter().position(|t| t.is_punct(sql, '('))?;
        let mut out = vec![Vec::new()];
        let mut depth = 0usize;
        for t in &tokens[open + 1..] {
            if t.is_punct(sql, '(') || t.is_punct(sql, '[') {
                depth += 1;
            } else if t.is_punct(sql, ')') || t.is_punct(sql, ']') {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            } else if depth == 0 && t.is_punct(sql, ',') {
                out.push(Vec::new());
                continue;
            }
            let text = t.text(sql);
            // Words fold to lowercase, as PostgreSQL reads them; quoted
            // names do not.
            out.last_mut()?.push(if text.starts_with('"') {
                text.to_owned()
            } else {
                text.to_ascii_lowercase()
            });
        }
        if out.len() == 1 && out[0].is_empty() {
            out.clear();
        }
        Some(out)
    };
    let (Some(named), Some(types)) = (args(statement), args(declared)) else {
        return false;
    };
    // A procedure's OUT arguments are in its identity, not in its
    // `regprocedure` (the input types).
    let named: Vec<&Vec<String>> = named
        .iter()
        .filter(|a| a.first().map(String::as_str) != Some("out") || a.len() < 2)
        .collect();
    named.len() == types.len()
        && named.iter().zip(&types).all(|(arg, ty)| {
            let arg = match arg.first().map(String::as_str) {
                Some("in" | "out" | "inout" | "variadic") if arg.len() > 1 => &arg[1..],
                _ => &arg[..],
            };
            arg == &ty[..] || (arg.len() > 1 && arg[1..] == ty[..])
        })
}

/// One entry's check.
struct Check<'a> {
    object: &'a ObjectDef,
    relations: Option<&'a [TableName]>,
    /// What the archive creates; `None` at execution time, in the target,
    /// where the restore checked it before.
    archive: Option<&'a Declared>,
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

    /// Refuses `name` (as parts) unless the archive creates an object of
    /// one of `kinds` by that name, so that an entry never alters or
    /// comments an object of the target's own; `what` names it.
    fn archive_object(
        &self,
        kinds: &[ObjectKind],
        name: &[String],
        what: &str,
    ) -> Result<(), String> {
        let Some(archive) = self.archive else {
            return Ok(());
        };
        // Schema public is every database's, and the archive's public
        // goes into the target's (as pg_restore restores its comment).
        if kinds.contains(&ObjectKind::Schema) && name == ["public"] {
            return Ok(());
        }
        // A schema is named by itself, every other object in its schema.
        let found = archive.objects.iter().any(|(k, n)| {
            kinds.contains(k)
                && if *k == ObjectKind::Schema {
                    n.schema.is_none() && [n.name.clone()] == name
                } else {
                    parts(&target_name(n)) == name
                }
        });
        if found {
            return Ok(());
        }
        Err(format!(
            "is on {what} {}, which the archive does not create (it would change an object \
             of the target's own)",
            name.join(".")
        ))
    }

    /// Refuses index `name` (as parts) unless it is an index of a table
    /// the archive creates, or of a materialized view it creates (whose
    /// entry holds its indexes' statements).
    fn archive_index(&self, name: &[String]) -> Result<(), String> {
        let Some(archive) = self.archive else {
            return Ok(());
        };
        if archive
            .indexes
            .iter()
            .any(|n| parts(&target_name(n)) == name)
        {
            return Ok(());
        }
        // A materialized view's index is created by the view's own entry,
        // checked to be on the view: one of the archive's views in the
        // index's schema is taken as its owner.
        let in_schema = |n: &TableName| parts(&target_name(n)).first() == name.first();
        if archive
            .objects
            .iter()
            .any(|(k, n)| *k == ObjectKind::MaterializedView && in_schema(n))
        {
            return Ok(());
        }
        Err(format!(
            "is on index {}, which is not an index of a table or materialized view of the \
             archive (it would change an object of the target's own)",
            name.join(".")
        ))
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
                if first.word("DOMAIN") {
                    first.object_name("domain", &declared)?;
                    first.expect("AS")?;
                    return only_one(&mut rest);
                }
                first.expect("TYPE")?;
                first.object_name("type", &declared)?;
                // A shell that stays one: nothing after the name.
                if first.peek().is_some() {
                    // A base type's options, or AS ENUM (…), AS RANGE (…),
                    // AS (…): one parenthesized list, then the end.
                    if first.word("AS") && !first.word("ENUM") {
                        first.word("RANGE");
                    }
                    first.skip_parens()?;
                    first.end()?;
                }
                only_one(&mut rest)
            }
            ObjectKind::ShellType => {
                first.expect("CREATE")?;
                first.expect("TYPE")?;
                first.object_name("type", &declared)?;
                first.end()?;
                only_one(&mut rest)
            }
            ObjectKind::DomainConstraint => {
                first.expect("ALTER")?;
                first.expect("DOMAIN")?;
                first.object_name("domain", &declared)?;
                first.expect("ADD")?;
                first.expect("CONSTRAINT")?;
                first
                    .qname()
                    .filter(|n| n.len() == 1)
                    .ok_or("names no constraint after CONSTRAINT")?;
                first.expect("CHECK")?;
                first.skip_parens()?;
                first.expect("NOT")?;
                first.expect("VALID")?;
                first.end()?;
                only_one(&mut rest)
            }
            ObjectKind::Aggregate => {
                // Never OR REPLACE (no catalog reader writes it): it would
                // replace an aggregate of the target's own.
                first.expect("CREATE")?;
                first.expect("AGGREGATE")?;
                let mut name = vec![];
                name.extend(self.object.name.schema.clone());
                name.extend(routine_name(&self.object.name.name).into_iter().last());
                first.object_name("aggregate", &name)?;
                first.punct('(')?;
                only_one(&mut rest)
            }
            ObjectKind::Other(k) if kinds::KINDS.contains(&k.as_str()) => {
                self.other_kind(k, first, rest)
            }
            // Exactly pg_dump's statement for the oid the entry is named by.
            ObjectKind::Other(k) if k == large_objects::LARGE_OBJECT => {
                let oid = self.large_object_oid()?;
                if first.whole() != large_objects::create_statement(oid) {
                    return Err(format!(
                        "is not {}: {}",
                        large_objects::create_statement(oid),
                        first.found()
                    ));
                }
                only_one(&mut rest)
            }
            ObjectKind::Function | ObjectKind::TableFunction | ObjectKind::WindowFunction => {
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
                    } else if c.word("ALTER") {
                        // A column's statistics target, storage,
                        // compression or options, as for a table.
                        c.expect("TABLE")?;
                        c.expect("ONLY")?;
                        c.object_name("materialized view", &declared)?;
                        c.expect("ALTER")?;
                        c.expect("COLUMN")?;
                        match c.qname() {
                            Some(col) if col.len() == 1 => {}
                            _ => return Err(format!("names no column: found {}", c.found())),
                        }
                        c.expect("SET")?;
                        column_setting(&mut c)?;
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
            ObjectKind::ExclusionConstraint | ObjectKind::CheckConstraint => {
                first.expect("ALTER")?;
                first.expect("TABLE")?;
                first.word("ONLY");
                let table = first.qname().ok_or("names no table")?;
                self.on_declared_table(&table)?;
                first.expect("ADD")?;
                first.expect("CONSTRAINT")?;
                first.object_name("constraint", std::slice::from_ref(&self.object.name.name))?;
                first.expect(if *kind == ObjectKind::CheckConstraint {
                    "CHECK"
                } else {
                    "EXCLUDE"
                })?;
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
            ObjectKind::SystemPrivileges => {
                let on = self.system_object()?;
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
                        c.privilege_list(on)?;
                        c.expect("ON")?;
                        let also = match on {
                            "TABLE" => "SEQUENCE",
                            "FUNCTION" => "PROCEDURE",
                            _ => on,
                        };
                        if !(c.word(on) || c.word(also)) {
                            return Err(format!(
                                "is not the statement its kind needs: expected {on} but found {}",
                                c.found()
                            ));
                        }
                        if on == "FUNCTION" {
                            // Named exactly as the backup names it: its
                            // identity arguments, which tell overloads apart.
                            let start = c.at;
                            let expected = format!("pg_catalog.{}", self.object.name.name);
                            c.qname().ok_or("names no function")?;
                            c.skip_parens()?;
                            if c.text_from(start) != expected {
                                return Err(format!(
                                    "names function {}, not {expected}",
                                    shorten(c.text_from(start))
                                ));
                            }
                        } else {
                            c.object_name(&on.to_ascii_lowercase(), &declared)?;
                        }
                        c.expect(to)?;
                        c.role()?;
                        if to == "TO" && c.word("WITH") {
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
            ObjectKind::Other(other) => {
                let kind = other.as_str();
                // A user mapping's options and a subscription's connection
                // may hold a password: a refusal never quotes them back.
                let secret = kind == foreign::USER_MAPPING || kind == publications::SUBSCRIPTION;
                let checked = self.other(kind, first, &mut rest);
                // Not even the reason: it may quote a token of the text.
                match checked {
                    Err(_) if secret => Err(format!(
                        "is not the statement a backup writes for a {kind} (the text is not \
                         shown, since it may hold a password)"
                    )),
                    other => other,
                }
            }
            other => Err(format!(
                "is of kind {other}, which no PostgreSQL restore runs"
            )),
        }
    }

    /// The kind of system object a [`ObjectKind::SystemPrivileges`] entry
    /// is for, as its GRANTs say it: `SCHEMA` for schema `public` or
    /// `pg_catalog` (named without a schema), `LANGUAGE` for a built-in
    /// language (`sql`, `c`, `internal`), `FUNCTION` for a function of
    /// `pg_catalog` (named `f(identity arguments)`), `TABLE` for a relation
    /// of `pg_catalog`. Any other
    /// name refuses the entry: it would be an object the archive neither
    /// creates nor may change.
    fn system_object(&self) -> Result<&'static str, String> {
        let name = &self.object.name;
        match name.schema.as_deref() {
            None if name.name == "public" || name.name == "pg_catalog" => Ok("SCHEMA"),
            None if ["sql", "c", "internal"].contains(&name.name.as_str()) => Ok("LANGUAGE"),
            Some("pg_catalog") if name.name.contains('(') => Ok("FUNCTION"),
            Some("pg_catalog") => Ok("TABLE"),
            _ => Err(format!(
                "is for {name}, which is not a system object (schema public, or a relation of \
                 pg_catalog); privileges on an object of the user's go \
                 in a privileges entry for an object the archive creates"
            )),
        }
    }

    /// The statements of the kinds named by their engine's name
    /// ([`ObjectKind::Other`]): text search objects, foreign data wrappers,
    /// servers, user mappings and foreign tables, row-level security and
    /// policies, publications and their tables and schemas, subscriptions,
    /// default privileges. None of them may hold a `;` anywhere, even in
    /// parentheses (no statement of theirs a backup writes has one outside
    /// a literal).
    fn other(
        &self,
        kind: &str,
        mut first: Cursor<'_>,
        rest: &mut dyn Iterator<Item = Cursor<'_>>,
    ) -> Result<(), String> {
        let declared = self.declared();
        first.no_semicolon()?;
        let mut rest: Vec<Cursor<'_>> = rest.collect();
        for c in &rest {
            c.no_semicolon()?;
        }
        let only_one = |rest: &[Cursor<'_>]| match rest.first() {
            None => Ok(()),
            Some(c) => Err(format!(
                "holds a second statement after its own: {}",
                c.found()
            )),
        };
        let text_search = |c: &mut Cursor<'_>, what: &str| -> Result<(), String> {
            c.expect("CREATE")?;
            c.expect("TEXT")?;
            c.expect("SEARCH")?;
            c.expect(what)?;
            c.object_name(
                &format!("text search {}", what.to_ascii_lowercase()),
                &declared,
            )?;
            c.definition_list()?;
            c.end()
        };
        match kind {
            textsearch::PARSER => {
                text_search(&mut first, "PARSER")?;
                only_one(&rest)
            }
            textsearch::TEMPLATE => {
                text_search(&mut first, "TEMPLATE")?;
                only_one(&rest)
            }
            textsearch::DICTIONARY => {
                text_search(&mut first, "DICTIONARY")?;
                only_one(&rest)
            }
            textsearch::CONFIGURATION => {
                text_search(&mut first, "CONFIGURATION")?;
                for c in &mut rest {
                    c.expect("ALTER")?;
                    c.expect("TEXT")?;
                    c.expect("SEARCH")?;
                    c.expect("CONFIGURATION")?;
                    c.object_name("text search configuration", &declared)?;
                    c.expect("ADD")?;
                    c.expect("MAPPING")?;
                    c.expect("FOR")?;
                    c.name_list("token type")?;
                    c.expect("WITH")?;
                    c.name_list("dictionary")?;
                    c.end()?;
                }
                Ok(())
            }
            foreign::WRAPPER => {
                first.expect("CREATE")?;
                first.expect("FOREIGN")?;
                first.expect("DATA")?;
                first.expect("WRAPPER")?;
                first.object_name("foreign data wrapper", &declared)?;
                if first.word("HANDLER") {
                    first.qname().ok_or("names no function after HANDLER")?;
                }
                if first.word("VALIDATOR") {
                    first.qname().ok_or("names no function after VALIDATOR")?;
                }
                first.options()?;
                first.end()?;
                only_one(&rest)
            }
            foreign::SERVER => {
                first.expect("CREATE")?;
                first.expect("SERVER")?;
                first.object_name("server", &declared)?;
                if first.word("TYPE") {
                    first.string().ok_or("has no string after TYPE")?;
                }
                if first.word("VERSION") {
                    first.string().ok_or("has no string after VERSION")?;
                }
                first.expect("FOREIGN")?;
                first.expect("DATA")?;
                first.expect("WRAPPER")?;
                first.qname().ok_or("names no foreign data wrapper")?;
                first.options()?;
                first.end()?;
                only_one(&rest)
            }
            foreign::USER_MAPPING => {
                first.expect("CREATE")?;
                first.expect("USER")?;
                first.expect("MAPPING")?;
                first.expect("FOR")?;
                let role = first.role_name().ok_or("names no role after FOR")?;
                first.expect("SERVER")?;
                let server = first.qname().ok_or("names no server")?;
                let [server] = server.as_slice() else {
                    return Err("names a qualified server".into());
                };
                let name = foreign::user_mapping_name(&role, server);
                if self.object.name.schema.is_some() || name != self.object.name.name {
                    return Err(format!(
                        "creates user mapping {name}, not {}",
                        self.object.name
                    ));
                }
                first.options()?;
                first.end()?;
                only_one(&rest)
            }
            foreign::FOREIGN_TABLE => {
                first.expect("CREATE")?;
                first.expect("FOREIGN")?;
                first.expect("TABLE")?;
                first.object_name("foreign table", &declared)?;
                // Its columns: nothing in them reaches another object but
                // a REFERENCES, which a foreign table cannot have and no
                // backup writes.
                let start = first.at;
                first.skip_parens()?;
                if first.tokens[start..first.at]
                    .iter()
                    .any(|t| t.is_word(first.sql, "REFERENCES"))
                {
                    return Err("declares a foreign key, which no backup writes".into());
                }
                first.expect("SERVER")?;
                first.qname().ok_or("names no server")?;
                first.options()?;
                first.end()?;
                only_one(&rest)
            }
            policies::ROW_SECURITY => {
                let table = self.table()?;
                if declared != table {
                    return Err(format!(
                        "is named {}, not after its table {}",
                        declared.join("."),
                        table.join(".")
                    ));
                }
                rest.insert(0, first);
                if rest.len() > 2 {
                    return Err("holds more statements than ENABLE and FORCE".into());
                }
                for c in &mut rest {
                    c.expect("ALTER")?;
                    c.expect("TABLE")?;
                    c.word("ONLY");
                    let on = c.qname().ok_or("names no table")?;
                    self.on_declared_table(&on)?;
                    if !c.word("FORCE") {
                        c.expect("ENABLE")?;
                    }
                    c.expect("ROW")?;
                    c.expect("LEVEL")?;
                    c.expect("SECURITY")?;
                    c.end()?;
                }
                Ok(())
            }
            policies::POLICY => {
                first.expect("CREATE")?;
                first.expect("POLICY")?;
                first.object_name("policy", std::slice::from_ref(&self.object.name.name))?;
                first.expect("ON")?;
                let table = first.qname().ok_or("names no table after ON")?;
                self.on_declared_table(&table)?;
                if first.word("AS") && !first.word("PERMISSIVE") {
                    first.expect("RESTRICTIVE")?;
                }
                if first.word("FOR") {
                    let command = ["ALL", "SELECT", "INSERT", "UPDATE", "DELETE"];
                    if !command.iter().any(|w| first.word(w)) {
                        return Err(format!("has no command after FOR: found {}", first.found()));
                    }
                }
                if first.word("TO") {
                    loop {
                        first.role()?;
                        if !first.punct_opt(',') {
                            break;
                        }
                    }
                }
                if first.word("USING") {
                    first.skip_parens()?;
                }
                if first.word("WITH") {
                    first.expect("CHECK")?;
                    first.skip_parens()?;
                }
                first.end()?;
                only_one(&rest)
            }
            publications::PUBLICATION => {
                first.expect("CREATE")?;
                first.expect("PUBLICATION")?;
                first.object_name("publication", &declared)?;
                if first.word("FOR") {
                    first.expect("ALL")?;
                    first.expect("TABLES")?;
                }
                first.expect("WITH")?;
                first.definition_list()?;
                first.end()?;
                only_one(&rest)
            }
            publications::PUBLICATION_TABLE => {
                first.expect("ALTER")?;
                first.expect("PUBLICATION")?;
                first.object_name("publication", std::slice::from_ref(&self.object.name.name))?;
                first.expect("ADD")?;
                first.expect("TABLE")?;
                first.word("ONLY");
                let table = first.qname().ok_or("names no table")?;
                self.on_declared_table(&table)?;
                if first.peek_punct('(') {
                    first.punct('(')?;
                    first.name_list("column")?;
                    first.punct(')')?;
                }
                if first.word("WHERE") {
                    first.skip_parens()?;
                }
                first.end()?;
                only_one(&rest)
            }
            publications::PUBLICATION_SCHEMA => {
                first.expect("ALTER")?;
                first.expect("PUBLICATION")?;
                first.object_name("publication", std::slice::from_ref(&self.object.name.name))?;
                first.expect("ADD")?;
                first.expect("TABLES")?;
                first.expect("IN")?;
                first.expect("SCHEMA")?;
                let schema = self
                    .object
                    .name
                    .schema
                    .clone()
                    .ok_or("declares no schema")?;
                first.object_name("schema", &[schema])?;
                first.end()?;
                only_one(&rest)
            }
            publications::SUBSCRIPTION => {
                first.expect("CREATE")?;
                first.expect("SUBSCRIPTION")?;
                first.object_name("subscription", &declared)?;
                first.expect("CONNECTION")?;
                first.string().ok_or("has no string after CONNECTION")?;
                first.expect("PUBLICATION")?;
                first.name_list("publication")?;
                first.expect("WITH")?;
                let start = first.at;
                first.definition_list()?;
                // Never connecting: no slot is made on the publisher and
                // the subscription starts disabled.
                let connect_false = first.tokens[start..first.at].windows(3).any(|w| {
                    w[0].is_word(first.sql, "connect")
                        && w[1].is_punct(first.sql, '=')
                        && w[2].is_word(first.sql, "false")
                });
                if !connect_false {
                    return Err("connects to its publisher: it lacks connect = false".into());
                }
                first.end()?;
                only_one(&rest)
            }
            defaults::DEFAULT_PRIVILEGES => {
                rest.insert(0, first);
                for c in &mut rest {
                    c.expect("ALTER")?;
                    c.expect("DEFAULT")?;
                    c.expect("PRIVILEGES")?;
                    c.expect("FOR")?;
                    c.expect("ROLE")?;
                    let role = c.role_name().ok_or("names no role after FOR ROLE")?;
                    let schema = if c.word("IN") {
                        c.expect("SCHEMA")?;
                        let s = c.qname().ok_or("names no schema")?;
                        let [s] = s.as_slice() else {
                            return Err("names a qualified schema".into());
                        };
                        Some(s.clone())
                    } else {
                        None
                    };
                    let grant = if c.word("REVOKE") {
                        let start = c.at;
                        if !(c.word("GRANT") && c.word("OPTION") && c.word("FOR")) {
                            c.at = start;
                        }
                        false
                    } else {
                        c.expect("GRANT")?;
                        true
                    };
                    c.name_list("privilege")?;
                    c.expect("ON")?;
                    let types = ["TABLES", "SEQUENCES", "FUNCTIONS", "TYPES", "SCHEMAS"]
                        .into_iter()
                        .find(|w| c.word(w))
                        .ok_or_else(|| {
                            format!("names no object type after ON: found {}", c.found())
                        })?;
                    let name = defaults::entry_name(&role, types);
                    if name != self.object.name.name || schema != self.object.name.schema {
                        return Err(format!(
                            "sets default privileges {name}{}, not {}",
                            schema
                                .map(|s| format!(" in schema {s}"))
                                .unwrap_or_default(),
                            self.object.name
                        ));
                    }
                    c.expect(if grant { "TO" } else { "FROM" })?;
                    c.role()?;
                    if grant && c.word("WITH") {
                        c.expect("GRANT")?;
                        c.expect("OPTION")?;
                    }
                    c.end()?;
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
        if c.word("LARGE") {
            c.expect("OBJECT")?;
            return self.on_large_object(c);
        }
        if self.named_kind(c)?.is_some() {
            return Ok(());
        }
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
        if matches!(
            kind,
            "TABLE" | "VIEW" | "MATERIALIZED VIEW" | "FOREIGN TABLE"
        ) {
            self.archive_relation(&name)?;
        }
        Ok(())
    }

    /// The oid a large object's entry (or its owner's, privileges' or
    /// comment's) is named by: no schema, and the oid's decimal digits as
    /// PostgreSQL prints them.
    fn large_object_oid(&self) -> Result<u32, String> {
        let name = &self.object.name;
        name.name
            .parse::<u32>()
            .ok()
            .filter(|oid| name.schema.is_none() && oid.to_string() == name.name)
            .ok_or_else(|| format!("is named {name}, which is no large object oid"))
    }

    /// The `<oid>` after `LARGE OBJECT`: the entry's own, and a large
    /// object the archive creates (never one of the target's own).
    fn on_large_object(&self, c: &mut Cursor<'_>) -> Result<(), String> {
        let oid = self.large_object_oid()?;
        let found = c.found();
        let t = c
            .peek()
            .filter(|t| t.kind == Kind::Num)
            .ok_or_else(|| format!("names no large object: found {found}"))?;
        if t.text(c.sql) != oid.to_string() {
            return Err(format!(
                "is on large object {}, not on {oid}",
                t.text(c.sql)
            ));
        }
        c.any_token();
        let Some(archive) = self.archive else {
            return Ok(());
        };
        let created = archive.objects.iter().any(|(k, n)| {
            matches!(k, ObjectKind::Other(k) if k == large_objects::LARGE_OBJECT)
                && n.schema.is_none()
                && n.name == oid.to_string()
        });
        if created {
            Ok(())
        } else {
            Err(format!(
                "is on large object {oid}, which the archive does not create (it would change \
                 an object of the target's own)"
            ))
        }
    }

    /// `COMMENT ON <kind> <name> IS <string or NULL>`, on the entry's
    /// object.
    fn comment(&self, c: &mut Cursor<'_>) -> Result<(), String> {
        c.expect("COMMENT")?;
        c.expect("ON")?;
        let declared = &self.object.name;
        let schema = declared.schema.clone();
        if c.word("CONSTRAINT") || c.word("TRIGGER") || c.word("POLICY") {
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
            // table (or view) of a constraint or trigger, or the domain of
            // a constraint, is the archive's.
            if domain {
                self.archive_object(&[ObjectKind::Type], &on, "domain")?;
            } else {
                self.archive_relation(&on)?;
            }
        } else if c.word("LARGE") {
            c.expect("OBJECT")?;
            self.on_large_object(c)?;
        } else if self.named_kind(c)?.is_some() {
            // An aggregate, operator, cast… (module `kinds`), checked there.
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
            let from = c.at;
            let name = c.qname().ok_or("names no object")?;
            let matches = match kind {
                "SCHEMA" => name == [declared.name.clone()],
                "COLUMN" => {
                    name.len() == 3
                        && name.first() == schema.as_ref()
                        && format!("{}.{}", name[1], name[2]) == declared.name
                }
                // Named by its `regprocedure` text; the statement by its
                // identity arguments (with names and modes, as pg_dump):
                // the argument types must be the entry's, or the comment
                // is on another overload.
                "FUNCTION" | "PROCEDURE" | "AGGREGATE" => {
                    c.skip_parens()?;
                    name == routine_name(&declared.name)
                        && same_signature(c.text_from(from), &declared.name)
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
            // So is a routine's, type's, schema's, sequence's or index's.
            match kind {
                "TABLE" | "VIEW" | "MATERIALIZED VIEW" | "FOREIGN TABLE" => {
                    self.archive_relation(&name)?
                }
                "COLUMN" => self.archive_relation(&name[..2])?,
                "FUNCTION" | "PROCEDURE" | "AGGREGATE" => {
                    let schema = schema.as_deref().unwrap_or_default();
                    let own = declared
                        .name
                        .strip_prefix(&format!("{}.", ident(schema)))
                        .unwrap_or(&declared.name);
                    self.archive_object(
                        &[
                            ObjectKind::Function,
                            ObjectKind::TableFunction,
                            ObjectKind::Aggregate,
                            ObjectKind::WindowFunction,
                        ],
                        &[schema.to_owned(), own.to_owned()],
                        &kind.to_ascii_lowercase(),
                    )?
                }
                "TYPE" | "DOMAIN" => self.archive_object(&[ObjectKind::Type], &name, "type")?,
                "SCHEMA" => self.archive_object(&[ObjectKind::Schema], &name, "schema")?,
                "SEQUENCE" => self.archive_object(&[ObjectKind::Sequence], &name, "sequence")?,
                "INDEX" => self.archive_index(&name)?,
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

    /// The statement's text from token `from` to the last one read.
    fn text_from(&self, from: usize) -> &str {
        match (
            self.tokens.get(from),
            self.at.checked_sub(1).and_then(|i| self.tokens.get(i)),
        ) {
            (Some(a), Some(b)) if from < self.at => &self.sql[a.start..b.end],
            _ => "",
        }
    }

    /// The statement's text from its first token to its last.
    fn whole(&self) -> &str {
        match (self.tokens.first(), self.tokens.last()) {
            (Some(a), Some(b)) => &self.sql[a.start..b.end],
            _ => "",
        }
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

    /// The privileges of a GRANT or REVOKE on a system object of kind `on`
    /// (see `system_object`), comma-separated: on a `SCHEMA` `USAGE` and
    /// `CREATE`; on a `LANGUAGE` `USAGE`; on a `FUNCTION` `EXECUTE`; on a `TABLE` (or sequence)
    /// `SELECT`, `INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`, `REFERENCES`,
    /// `TRIGGER` and `USAGE`, each with a list of columns or not.
    fn privilege_list(&mut self, on: &str) -> Result<(), String> {
        let (privileges, columns): (&[&str], bool) = match on {
            "SCHEMA" => (&["USAGE", "CREATE"], false),
            "LANGUAGE" => (&["USAGE"], false),
            "FUNCTION" => (&["EXECUTE"], false),
            _ => (
                &[
                    "SELECT",
                    "INSERT",
                    "UPDATE",
                    "DELETE",
                    "TRUNCATE",
                    "REFERENCES",
                    "TRIGGER",
                    "USAGE",
                ],
                true,
            ),
        };
        loop {
            if !privileges.iter().any(|p| self.word(p)) {
                return Err(format!("expected a privilege but found {}", self.found()));
            }
            if columns && self.punct_opt('(') {
                loop {
                    match self.qname() {
                        Some(c) if c.len() == 1 => {}
                        _ => return Err(format!("names no column: found {}", self.found())),
                    }
                    if !self.punct_opt(',') {
                        break;
                    }
                }
                self.punct(')')?;
            }
            if !self.punct_opt(',') {
                return Ok(());
            }
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
            "SERVER",
            "PUBLICATION",
            "SUBSCRIPTION",
        ] {
            if self.word(kind) {
                return Ok(kind);
            }
        }
        for (kind, words) in [
            ("MATERIALIZED VIEW", &["MATERIALIZED", "VIEW"][..]),
            ("FOREIGN TABLE", &["FOREIGN", "TABLE"]),
            ("FOREIGN DATA WRAPPER", &["FOREIGN", "DATA", "WRAPPER"]),
            ("FOREIGN SERVER", &["FOREIGN", "SERVER"]),
            ("TEXT SEARCH PARSER", &["TEXT", "SEARCH", "PARSER"]),
            ("TEXT SEARCH TEMPLATE", &["TEXT", "SEARCH", "TEMPLATE"]),
            ("TEXT SEARCH DICTIONARY", &["TEXT", "SEARCH", "DICTIONARY"]),
            (
                "TEXT SEARCH CONFIGURATION",
                &["TEXT", "SEARCH", "CONFIGURATION"],
            ),
        ] {
            let start = self.at;
            if words.iter().all(|w| self.word(w)) {
                return Ok(kind);
            }
            self.at = start;
        }
        Err(format!(
            "is for something bru does not carry: {}",
            self.found()
        ))
    }

    /// A role as a name (`PUBLIC` is `public`), for a statement whose role
    /// is part of its object's name.
    fn role_name(&mut self) -> Option<String> {
        let t = *self.peek()?;
        let quoted = t.kind == Kind::Quoted && t.text(self.sql).starts_with('"');
        if !(t.kind == Kind::Word || quoted) {
            return None;
        }
        self.at += 1;
        t.name(self.sql)
    }

    /// Refuses a `;` anywhere in the statement, in parentheses too.
    fn no_semicolon(&self) -> Result<(), String> {
        match self.tokens.iter().find(|t| t.is_punct(self.sql, ';')) {
            Some(t) => Err(format!(
                "holds a `;` in parentheses, which no backup writes: `{}`",
                shorten(&self.sql[t.start..])
            )),
            None => Ok(()),
        }
    }

    /// `name, name, …`: names (or qualified names), at least one.
    fn name_list(&mut self, what: &str) -> Result<(), String> {
        loop {
            self.qname()
                .ok_or_else(|| format!("names no {what}: found {}", self.found()))?;
            if !self.punct_opt(',') {
                return Ok(());
            }
        }
    }

    /// One value of an option: a literal of any form, a number (maybe
    /// negative), a word, or a qualified name.
    fn value(&mut self) -> Result<(), String> {
        self.punct_opt('-');
        match self.peek().map(|t| t.kind) {
            Some(Kind::Str | Kind::Num) => {
                self.at += 1;
                Ok(())
            }
            Some(Kind::Word | Kind::Quoted) => self
                .qname()
                .map(|_| ())
                .ok_or_else(|| format!("expected a value but found {}", self.found())),
            _ => Err(format!("expected a value but found {}", self.found())),
        }
    }

    /// `( name = value, … )`: the definition list of a text search object
    /// or the `WITH` of a publication or subscription.
    fn definition_list(&mut self) -> Result<(), String> {
        self.punct('(')?;
        loop {
            self.qname()
                .ok_or_else(|| format!("names no option: found {}", self.found()))?;
            self.punct('=')?;
            self.value()?;
            if !self.punct_opt(',') {
                break;
            }
        }
        self.punct(')')
    }

    /// `[OPTIONS ( name 'value', … )]`: a foreign object's options.
    fn options(&mut self) -> Result<(), String> {
        if !self.word("OPTIONS") {
            return Ok(());
        }
        self.punct('(')?;
        loop {
            self.qname()
                .ok_or_else(|| format!("names no option: found {}", self.found()))?;
            match self.peek() {
                Some(t) if t.kind == Kind::Str => self.at += 1,
                _ => {
                    return Err(format!(
                        "expected an option's value but found {}",
                        self.found()
                    ))
                }
            }
            if !self.punct_opt(',') {
                break;
            }
        }
        self.punct(')')
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

    /// What the archive of these tests creates besides `relations`.
    fn archive() -> Declared {
        let p = Some("public");
        Declared {
            relations: relations(),
            objects: vec![
                (ObjectKind::Function, TableName::new(p, "f(integer)")),
                (ObjectKind::Type, TableName::new(p, "mood")),
                (ObjectKind::Type, TableName::new(p, "posint")),
                (ObjectKind::Schema, TableName::bare("hr")),
                (ObjectKind::Sequence, TableName::new(p, "s")),
                (
                    ObjectKind::MaterializedView,
                    TableName::new(Some("reports"), "mv"),
                ),
            ],
            indexes: vec![TableName::new(p, "t_a_idx")],
        }
    }

    fn check(o: &ObjectDef) -> Result<(), String> {
        check_object(o, Some(&archive()))
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
            object(K::Type, p, "just_shell", "CREATE TYPE public.just_shell"),
            object(K::ShellType, p, "myint", "CREATE TYPE public.myint"),
            object(
                K::Type,
                p,
                "myint",
                "CREATE TYPE public.myint (\n    INTERNALLENGTH = 4,\n    INPUT = public.myint_in,\n    \
                 OUTPUT = public.myint_out,\n    DEFAULT = '7',\n    CATEGORY = 'N',\n    DELIMITER = ';',\n    \
                 ALIGNMENT = int4,\n    STORAGE = plain,\n    PASSEDBYVALUE\n)",
            ),
            object(
                K::Type,
                p,
                "fr",
                "CREATE TYPE public.fr AS RANGE (\n    subtype = double precision,\n    \
                 multirange_type_name = public.frs,\n    subtype_diff = float8mi\n)",
            ),
            object(
                K::DomainConstraint,
                p,
                "pos",
                "ALTER DOMAIN public.pos ADD CONSTRAINT meow CHECK ((VALUE < 11)) NOT VALID",
            ),
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
                 ALTER TABLE ONLY public.mv ALTER COLUMN a SET COMPRESSION lz4;\n\
                 ALTER TABLE ONLY public.mv ALTER COLUMN a SET STATISTICS 50;\n\
                 ALTER TABLE ONLY public.mv ALTER COLUMN a SET STORAGE MAIN;\n\
                 ALTER TABLE ONLY public.mv ALTER COLUMN a SET (n_distinct=-0.5);\n\
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
            object(K::Comment, p, "public.f(integer)", "COMMENT ON FUNCTION public.f(a integer) IS 'x'"),
            object(K::Comment, p, "public.f(integer)", "COMMENT ON FUNCTION public.f(IN \"A b\" integer) IS 'x'"),
            object(K::Comment, p, "public.f(integer)", "COMMENT ON PROCEDURE public.f(OUT a text, INOUT b integer) IS 'x'"),
            object(K::Comment, p, "mood", "COMMENT ON TYPE public.mood IS 'x'"),
            object(K::Comment, Some("hr"), "hr", "COMMENT ON SCHEMA hr IS 'x'"),
            object(K::Comment, p, "t_pkey", "COMMENT ON CONSTRAINT t_pkey ON public.t IS 'x'"),
            object(K::Comment, p, "trg", "COMMENT ON TRIGGER trg ON public.t IS 'x'"),
            object(K::Comment, p, "posint_check", "COMMENT ON CONSTRAINT posint_check ON DOMAIN public.posint IS 'x'"),
            object(K::Comment, p, "s", "COMMENT ON SEQUENCE public.s IS 'x'"),
            object(K::Comment, p, "t_a_idx", "COMMENT ON INDEX public.t_a_idx IS 'x'"),
            object(K::Comment, Some("reports"), "mv_idx", "COMMENT ON INDEX reports.mv_idx IS 'x'"),
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

    /// Large objects: exactly `lo_create` of the entry's oid; owners,
    /// grants and comments only on an oid the archive creates; the pieces
    /// only of the backup's shape and only for the archive's oids.
    #[test]
    fn large_objects_create_and_alter_only_their_own_oid() {
        use ObjectKind as K;
        let lo = || K::Other(large_objects::LARGE_OBJECT.into());
        let mut declared = archive();
        declared.objects.push((lo(), TableName::bare("16400")));
        let check = |o: &ObjectDef| check_object(o, Some(&declared));
        for ok in [
            object(lo(), None, "16400", "SELECT pg_catalog.lo_create('16400')"),
            object(K::Owner, None, "16400", "ALTER LARGE OBJECT 16400 OWNER TO ann"),
            object(
                K::Privileges,
                None,
                "16400",
                "REVOKE ALL ON LARGE OBJECT 16400 FROM PUBLIC;\nGRANT SELECT ON LARGE OBJECT 16400 TO bob",
            ),
            object(K::Comment, None, "16400", "COMMENT ON LARGE OBJECT 16400 IS 'a scan'"),
        ] {
            assert_eq!(check(&ok), Ok(()), "{}", ok.ddl);
        }
        let refused = [
            (
                object(lo(), None, "16400", "SELECT pg_catalog.lo_create('16401')"),
                "is not",
            ),
            (
                object(
                    lo(),
                    None,
                    "16400",
                    "SELECT pg_catalog.lo_create('16400'); SELECT pg_catalog.lo_unlink('9')",
                ),
                "second statement",
            ),
            (
                object(lo(), None, "16400", "SELECT pg_catalog.lo_unlink('16400')"),
                "is not",
            ),
            (
                object(
                    lo(),
                    None,
                    "16400",
                    "SELECT pg_catalog.lo_create(/* */ '16400')",
                ),
                "is not",
            ),
            (
                object(
                    lo(),
                    Some("public"),
                    "16400",
                    "SELECT pg_catalog.lo_create('16400')",
                ),
                "no large object oid",
            ),
            (
                object(
                    lo(),
                    None,
                    "016400",
                    "SELECT pg_catalog.lo_create('016400')",
                ),
                "no large object oid",
            ),
            (
                object(K::Owner, None, "16400", "ALTER LARGE OBJECT 9 OWNER TO ann"),
                "not on 16400",
            ),
            (
                object(K::Owner, None, "9", "ALTER LARGE OBJECT 9 OWNER TO ann"),
                "does not create",
            ),
            (
                object(
                    K::Privileges,
                    None,
                    "9",
                    "GRANT SELECT ON LARGE OBJECT 9 TO bob",
                ),
                "does not create",
            ),
            (
                object(K::Comment, None, "9", "COMMENT ON LARGE OBJECT 9 IS 'x'"),
                "does not create",
            ),
            (
                object(
                    K::Comment,
                    None,
                    "16400",
                    "COMMENT ON LARGE OBJECT 16400 IS 'x'; SELECT 1",
                ),
                "second statement",
            ),
        ];
        for (o, why) in refused {
            let err = check(&o).expect_err(&o.ddl);
            assert!(err.contains(why), "{}: {err}", o.ddl);
        }
        // The pieces: the backup's table, for the archive's oids only.
        let pieces = |listed: &str| {
            let mut t = TableDef::new(
                large_objects::pieces_table_name(),
                vec![
                    bru_core::Column::new("loid", bru_core::ColumnType::Int64, "oid"),
                    bru_core::Column::new("offset", bru_core::ColumnType::Int64, "bigint"),
                    bru_core::Column::new(
                        "data",
                        bru_core::ColumnType::Binary { max_len: None },
                        "bytea",
                    ),
                ],
            );
            t.properties
                .insert(large_objects::PIECES_PROPERTY.into(), listed.into());
            t
        };
        assert_eq!(
            check_large_object_pieces(&pieces("16400"), &declared),
            Ok(())
        );
        let err = check_large_object_pieces(&pieces("16400,9"), &declared).unwrap_err();
        assert!(err.contains("large object 9"), "{err}");
        let err = check_large_object_pieces(&pieces("x"), &declared).unwrap_err();
        assert!(err.contains("oid"), "{err}");
        let mut renamed = pieces("16400");
        renamed.name = TableName::new(Some("public"), "victim");
        assert!(check_large_object_pieces(&renamed, &declared).is_err());
        let mut extra = pieces("16400");
        extra.columns[0].native_type = "integer".into();
        assert!(check_large_object_pieces(&extra, &declared).is_err());
        // Without the property it is a table of the system's, refused
        // like any other in a system schema.
        let mut plain = pieces("16400");
        plain.properties.clear();
        let err = check_large_object_pieces(&plain, &declared).unwrap_err();
        assert!(err.contains("system schema pg_catalog"), "{err}");
        plain.name = TableName::new(Some("information_schema"), "sql_parts");
        assert!(check_large_object_pieces(&plain, &declared).is_err());
        plain.name = TableName::new(Some("public"), "t");
        assert_eq!(check_large_object_pieces(&plain, &declared), Ok(()));
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
            (object(K::ShellType, p, "myint", "CREATE TYPE public.myint; DROP TABLE public.victim"), "second statement"),
            (object(K::ShellType, p, "myint", "CREATE TYPE public.victim"), "not public.myint"),
            (object(K::ShellType, p, "myint", "CREATE TYPE public.myint AS ENUM ('a')"), "goes on"),
            (object(K::Type, p, "myint", "CREATE TYPE public.myint (INPUT = f, OUTPUT = g), public.victim"), "goes on"),
            (object(K::Type, p, "myint", "CREATE TYPE public.myint (INPUT = f); DROP TABLE public.victim"), "second statement"),
            (object(K::Type, p, "r", "CREATE TYPE public.victim AS RANGE (subtype = int4)"), "not public.r"),
            (object(K::Type, p, "r", "CREATE TYPE public.r AS RANGE (subtype = int4) x"), "goes on"),
            (object(K::Type, p, "pos", "CREATE DOMAIN public.victim AS integer"), "not public.pos"),
            (
                object(K::DomainConstraint, p, "pos", "ALTER DOMAIN public.victim ADD CONSTRAINT c CHECK (VALUE > 0) NOT VALID"),
                "not public.pos",
            ),
            (object(K::DomainConstraint, p, "pos", "ALTER DOMAIN public.pos DROP CONSTRAINT c"), "expected ADD"),
            (
                object(K::DomainConstraint, p, "pos", "ALTER DOMAIN public.pos ADD CONSTRAINT c CHECK (VALUE > 0)"),
                "expected NOT",
            ),
            (
                object(K::DomainConstraint, p, "pos", "ALTER DOMAIN public.pos ADD CONSTRAINT c CHECK (VALUE > 0) NOT VALID; DROP TABLE public.victim"),
                "second statement",
            ),
            (
                object(K::DomainConstraint, p, "pos", "ALTER DOMAIN public.pos ADD CONSTRAINT c CHECK (VALUE > 0) NOT VALID, OWNER TO bob"),
                "goes on",
            ),
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
            // Comments on a routine, type, domain, schema, sequence or index
            // of the target's own, named as the entry declares it.
            (object(K::Comment, p, "public.victim(integer)", "COMMENT ON FUNCTION public.victim(integer) IS 'x'"), "which the archive does not create"),
            (object(K::Comment, p, "public.f(integer)", "COMMENT ON FUNCTION public.f(text) IS 'x'"), "comments on function public.f, not on"),
            (object(K::Comment, p, "public.f(integer)", "COMMENT ON FUNCTION public.f(a text) IS 'x'"), "comments on function public.f, not on"),
            (object(K::Comment, p, "public.f(integer)", "COMMENT ON FUNCTION public.f(integer, integer) IS 'x'"), "comments on function public.f, not on"),
            (object(K::Comment, p, "victim", "COMMENT ON TYPE public.victim IS 'x'"), "which the archive does not create"),
            (object(K::Comment, p, "victim", "COMMENT ON DOMAIN public.victim IS 'x'"), "which the archive does not create"),
            (object(K::Comment, p, "c", "COMMENT ON CONSTRAINT c ON DOMAIN public.victim IS 'x'"), "which the archive does not create"),
            (object(K::Comment, Some("victim"), "victim", "COMMENT ON SCHEMA victim IS 'x'"), "which the archive does not create"),
            (object(K::Comment, p, "victim", "COMMENT ON SEQUENCE public.victim IS 'x'"), "which the archive does not create"),
            (object(K::Comment, p, "victim_idx", "COMMENT ON INDEX public.victim_idx IS 'x'"), "not an index of a table"),
            (object(K::Comment, p, "t", "COMMENT ON TABLE public.t IS 'x' || pg_catalog.pg_sleep(1)"), "goes on"),
            (object(K::Other("widget".into()), p, "w", "CREATE WIDGET public.w (FUNCTION = public.f)"), "no PostgreSQL restore runs"),
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
            // A materialized view's column settings are on its own columns
            // only, and only the settings a backup writes.
            (
                object(K::MaterializedView, p, "mv", "CREATE MATERIALIZED VIEW public.mv AS SELECT 1 AS a WITH NO DATA; ALTER TABLE ONLY public.victim ALTER COLUMN a SET STORAGE MAIN"),
                "names materialized view public.victim",
            ),
            (
                object(K::MaterializedView, p, "mv", "CREATE MATERIALIZED VIEW public.mv AS SELECT 1 AS a WITH NO DATA; ALTER TABLE ONLY public.mv ALTER COLUMN a SET DEFAULT 1"),
                "expected `(`",
            ),
            (
                object(K::MaterializedView, p, "mv", "CREATE MATERIALIZED VIEW public.mv AS SELECT 1 AS a WITH NO DATA; ALTER TABLE ONLY public.mv OWNER TO mallory"),
                "expected ALTER",
            ),
        ];
        for (o, why) in &refused {
            let err = check(o).expect_err(&o.ddl);
            assert!(err.contains(why), "{}: {err}", o.ddl);
        }
    }

    /// The privileges of system objects pass only as the grants and
    /// revokes the catalog reader writes, on the entry's own system object.
    #[test]
    fn system_privileges_are_grants_on_their_own_system_object() {
        let system = |schema, name, ddl| object(ObjectKind::SystemPrivileges, schema, name, ddl);
        let pg = Some("pg_catalog");
        for o in [
            system(
                None,
                "public",
                "REVOKE USAGE ON SCHEMA public FROM PUBLIC;\nGRANT USAGE, CREATE ON SCHEMA public TO PUBLIC",
            ),
            system(
                pg,
                "pg_authid",
                "GRANT SELECT (rolname), SELECT (rolsuper) ON TABLE pg_catalog.pg_authid TO bru;\n\
                 REVOKE SELECT (subconninfo) ON TABLE pg_catalog.pg_authid FROM PUBLIC",
            ),
            system(None, "pg_catalog", "GRANT CREATE ON SCHEMA pg_catalog TO ann"),
            system(None, "sql", "REVOKE USAGE ON LANGUAGE sql FROM PUBLIC;\nGRANT USAGE ON LANGUAGE sql TO ann"),
            system(
                pg,
                "pg_read_file(text)",
                "REVOKE EXECUTE ON FUNCTION pg_catalog.pg_read_file(text) FROM PUBLIC;\n\
                 GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_file(text) TO ann WITH GRANT OPTION",
            ),
            system(
                pg,
                "pg_class",
                "SET SESSION AUTHORIZATION ann;\nGRANT SELECT ON TABLE pg_catalog.pg_class TO \"Bob\" \
                 WITH GRANT OPTION;\nRESET SESSION AUTHORIZATION",
            ),
        ] {
            check(&o).unwrap_or_else(|e| panic!("{}: {e}", o.ddl));
        }
        let refused = [
            // A user table, which a privileges entry of the archive's own
            // objects would have to name.
            (system(Some("public"), "victim", "GRANT SELECT ON TABLE public.victim TO mallory"), "not a system object"),
            // Another system object than the entry's.
            (system(pg, "pg_class", "GRANT SELECT ON TABLE pg_catalog.pg_authid TO mallory"), "names table pg_catalog.pg_authid"),
            (system(pg, "pg_read_file(text)", "GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_file(text, bigint, bigint) TO mallory"), "names function pg_catalog.pg_read_file(text, bigint, bigint)"),
            (system(pg, "pg_read_file(text)", "GRANT EXECUTE ON FUNCTION public.pg_read_file(text) TO mallory"), "names function public.pg_read_file(text)"),
            (system(pg, "pg_read_file(text)", "GRANT SELECT ON FUNCTION pg_catalog.pg_read_file(text) TO mallory"), "expected a privilege"),
            (system(pg, "pg_class", "GRANT EXECUTE ON TABLE pg_catalog.pg_class TO mallory"), "expected a privilege"),
            (system(None, "pg_catalog", "GRANT SELECT ON SCHEMA pg_catalog TO mallory"), "expected a privilege"),
            (system(None, "hr", "GRANT CREATE ON SCHEMA hr TO mallory"), "not a system object"),
            (system(None, "plpgsql", "GRANT USAGE ON LANGUAGE plpgsql TO mallory"), "not a system object"),
            (system(None, "sql", "GRANT USAGE ON LANGUAGE plpgsql TO mallory"), "names language plpgsql"),
            (system(None, "sql", "GRANT USAGE ON SCHEMA sql TO mallory"), "expected LANGUAGE"),
            (system(None, "sql", "GRANT CREATE ON LANGUAGE sql TO mallory"), "expected a privilege"),
            (system(Some("information_schema"), "tables", "GRANT SELECT ON TABLE information_schema.tables TO mallory"), "not a system object"),
            (system(Some("pg_toast"), "pg_toast_1", "GRANT SELECT ON TABLE pg_toast.pg_toast_1 TO mallory"), "not a system object"),
            (system(None, "public", "GRANT ALL ON SCHEMA pg_catalog TO mallory"), "expected a privilege"),
            (system(None, "public", "GRANT CREATE ON SCHEMA pg_catalog TO mallory"), "names schema pg_catalog"),
            (system(None, "public", "GRANT CREATE ON TABLE public TO mallory"), "expected SCHEMA"),
            // Not a grant: an ALTER of the system object, a second
            // statement of another shape, a role grant.
            (system(None, "public", "ALTER SCHEMA public OWNER TO mallory"), "starts with `ALTER"),
            (system(pg, "pg_proc", "GRANT SELECT ON TABLE pg_catalog.pg_proc TO bru; DROP TABLE public.t"), "starts with `DROP"),
            (system(pg, "pg_proc", "GRANT SELECT ON TABLE pg_catalog.pg_proc TO bru; UPDATE pg_catalog.pg_proc SET prosrc = ''"), "starts with `UPDATE"),
            (system(pg, "pg_authid", "GRANT pg_read_server_files TO mallory"), "expected a privilege"),
            (system(pg, "pg_authid", "GRANT SELECT ON TABLE pg_catalog.pg_authid TO bru, mallory"), "goes on after its statement"),
            (system(pg, "pg_authid", "GRANT SELECT ON ALL TABLES IN SCHEMA pg_catalog TO mallory"), "expected TABLE"),
            (system(pg, "pg_authid", "GRANT SELECT (rolpassword; ON TABLE pg_catalog.pg_authid TO m"), "expected `)`"),
            (system(pg, "pg_authid", "SET SESSION AUTHORIZATION mallory; GRANT SELECT ON TABLE pg_catalog.pg_authid TO bru"), "without its RESET"),
            (system(pg, "pg_authid", "SET ROLE mallory"), "expected SESSION"),
            (system(pg, "pg_authid", "REVOKE SELECT ON TABLE pg_catalog.pg_authid FROM bru WITH GRANT OPTION"), "goes on after its statement"),
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

#[cfg(test)]
mod kinds2_tests {
    //! The shapes of the text search, foreign data, row-level security,
    //! replication and default privileges entries: what the catalog writes
    //! passes; a second statement, another object's name, or another shape
    //! is refused.

    use super::*;

    fn other(kind: &str, schema: Option<&str>, name: &str, ddl: &str) -> ObjectDef {
        ObjectDef::new(
            ObjectKind::Other(kind.into()),
            TableName::new(schema, name),
            ENGINE_NAME,
            ddl,
        )
    }

    fn on(mut o: ObjectDef, table: &str) -> ObjectDef {
        o.table = Some(TableName::new(Some("public"), table));
        o
    }

    fn check(o: &ObjectDef) -> Result<(), String> {
        let relations: Vec<TableName> = ["t", "ft"]
            .iter()
            .map(|n| TableName::new(Some("public"), n))
            .collect();
        let archive = Declared {
            relations,
            ..Default::default()
        };
        check_object(o, Some(&archive))
    }

    fn written() -> Vec<ObjectDef> {
        let p = Some("public");
        vec![
            other(
                textsearch::PARSER,
                p,
                "prs",
                "CREATE TEXT SEARCH PARSER public.prs (\n    START = prsd_start,\n    GETTOKEN = prsd_nexttoken,\n    \
                 END = prsd_end,\n    HEADLINE = prsd_headline,\n    LEXTYPES = prsd_lextype )",
            ),
            other(
                textsearch::TEMPLATE,
                p,
                "tpl",
                "CREATE TEXT SEARCH TEMPLATE public.tpl (\n    INIT = dsimple_init,\n    LEXIZE = dsimple_lexize )",
            ),
            other(
                textsearch::DICTIONARY,
                p,
                "dict",
                "CREATE TEXT SEARCH DICTIONARY public.dict (\n    TEMPLATE = pg_catalog.snowball,\n    \
                 language = 'english', stopwords = E'eng\\\\lish', maxlen = -3 )",
            ),
            other(
                textsearch::CONFIGURATION,
                p,
                "cfg",
                "CREATE TEXT SEARCH CONFIGURATION public.cfg (\n    PARSER = pg_catalog.\"default\" );\n\
                 ALTER TEXT SEARCH CONFIGURATION public.cfg\n    ADD MAPPING FOR asciiword WITH english_stem, public.dict;\n\
                 ALTER TEXT SEARCH CONFIGURATION public.cfg\n    ADD MAPPING FOR \"word\" WITH simple",
            ),
            other(
                foreign::WRAPPER,
                None,
                "w",
                "CREATE FOREIGN DATA WRAPPER w HANDLER public.h VALIDATOR postgresql_fdw_validator OPTIONS (\n    debug 'true'\n)",
            ),
            other(foreign::WRAPPER, None, "bare", "CREATE FOREIGN DATA WRAPPER bare"),
            other(
                foreign::SERVER,
                None,
                "S",
                "CREATE SERVER \"S\" TYPE 'pg' VERSION '15' FOREIGN DATA WRAPPER w OPTIONS (\n    host 'h;x',\n    port '5432'\n)",
            ),
            other(
                foreign::USER_MAPPING,
                None,
                "for public server \"S\"",
                "CREATE USER MAPPING FOR public SERVER \"S\" OPTIONS (\n    password 'se''cret'\n)",
            ),
            other(foreign::USER_MAPPING, None, "for \"Ann\" server s", "CREATE USER MAPPING FOR \"Ann\" SERVER s"),
            other(
                foreign::FOREIGN_TABLE,
                p,
                "ft",
                "CREATE FOREIGN TABLE public.ft (\n    a integer OPTIONS (\n    column_name 'x'\n) COLLATE pg_catalog.\"C\" \
                 DEFAULT 1 NOT NULL,\n    b text,\n    CONSTRAINT ft_a CHECK ((a > 0))\n)\nSERVER s OPTIONS (\n    table_name 't;'\n)",
            ),
            other(foreign::FOREIGN_TABLE, p, "ft", "CREATE FOREIGN TABLE public.ft ()\nSERVER s"),
            on(
                other(
                    policies::ROW_SECURITY,
                    p,
                    "t",
                    "ALTER TABLE ONLY public.t ENABLE ROW LEVEL SECURITY;\nALTER TABLE ONLY public.t FORCE ROW LEVEL SECURITY",
                ),
                "t",
            ),
            on(
                other(
                    policies::POLICY,
                    p,
                    "p",
                    "CREATE POLICY p ON public.t AS RESTRICTIVE FOR UPDATE TO \"Ann\", public \
                     USING ((a > 0)) WITH CHECK ((b = ';'::text))",
                ),
                "t",
            ),
            on(other(policies::POLICY, p, "q", "CREATE POLICY q ON public.t"), "t"),
            other(
                publications::PUBLICATION,
                None,
                "pub",
                "CREATE PUBLICATION pub FOR ALL TABLES WITH (publish = 'insert, update', publish_via_partition_root = true)",
            ),
            on(
                other(
                    publications::PUBLICATION_TABLE,
                    None,
                    "pub",
                    "ALTER PUBLICATION pub ADD TABLE ONLY public.t (a, \"B\") WHERE ((a > 1))",
                ),
                "t",
            ),
            other(
                publications::PUBLICATION_SCHEMA,
                Some("hr"),
                "pub",
                "ALTER PUBLICATION pub ADD TABLES IN SCHEMA hr",
            ),
            other(
                publications::SUBSCRIPTION,
                None,
                "sub",
                "CREATE SUBSCRIPTION sub CONNECTION 'host=h password=x' PUBLICATION pub, \"P2\" \
                 WITH (connect = false, slot_name = 'sub', binary = true, synchronous_commit = \"local\")",
            ),
            other(
                defaults::DEFAULT_PRIVILEGES,
                None,
                "for role \"Ann\" on tables",
                "ALTER DEFAULT PRIVILEGES FOR ROLE \"Ann\" REVOKE ALL ON TABLES FROM \"Ann\";\n\
                 ALTER DEFAULT PRIVILEGES FOR ROLE \"Ann\" REVOKE GRANT OPTION FOR SELECT ON TABLES FROM bob;\n\
                 ALTER DEFAULT PRIVILEGES FOR ROLE \"Ann\" GRANT SELECT, INSERT ON TABLES TO bob WITH GRANT OPTION",
            ),
            other(
                defaults::DEFAULT_PRIVILEGES,
                Some("hr"),
                "for role ann on functions",
                "ALTER DEFAULT PRIVILEGES FOR ROLE ann IN SCHEMA hr GRANT EXECUTE ON FUNCTIONS TO PUBLIC",
            ),
            ObjectDef::new(
                ObjectKind::Owner,
                TableName::new(p, "dict"),
                ENGINE_NAME,
                "ALTER TEXT SEARCH DICTIONARY public.dict OWNER TO ann",
            ),
            ObjectDef::new(ObjectKind::Owner, TableName::bare("S"), ENGINE_NAME, "ALTER SERVER \"S\" OWNER TO ann"),
            ObjectDef::new(ObjectKind::Owner, TableName::new(p, "ft"), ENGINE_NAME, "ALTER FOREIGN TABLE public.ft OWNER TO ann"),
            ObjectDef::new(
                ObjectKind::Privileges,
                TableName::bare("S"),
                ENGINE_NAME,
                "REVOKE ALL ON FOREIGN SERVER \"S\" FROM PUBLIC;\nGRANT USAGE ON FOREIGN SERVER \"S\" TO bob",
            ),
            ObjectDef::new(
                ObjectKind::Privileges,
                TableName::bare("w"),
                ENGINE_NAME,
                "GRANT USAGE ON FOREIGN DATA WRAPPER w TO bob",
            ),
            ObjectDef::new(ObjectKind::Comment, TableName::new(p, "p"), ENGINE_NAME, "COMMENT ON POLICY p ON public.t IS 'x'"),
            ObjectDef::new(ObjectKind::Comment, TableName::new(p, "cfg"), ENGINE_NAME, "COMMENT ON TEXT SEARCH CONFIGURATION public.cfg IS 'x'"),
            ObjectDef::new(ObjectKind::Comment, TableName::bare("pub"), ENGINE_NAME, "COMMENT ON PUBLICATION pub IS 'x'"),
            ObjectDef::new(ObjectKind::Comment, TableName::new(p, "ft"), ENGINE_NAME, "COMMENT ON FOREIGN TABLE public.ft IS 'x'"),
        ]
    }

    #[test]
    fn the_shapes_the_catalog_writes_pass() {
        for o in &written() {
            assert_eq!(check(o), Ok(()), "{} {}: {}", o.kind, o.name, o.ddl);
        }
    }

    /// Every entry above, edited: a second statement after its own is
    /// refused, whatever its kind.
    #[test]
    fn a_second_statement_is_refused_in_every_kind() {
        for mut o in written() {
            o.ddl.push_str(";\nDROP TABLE public.victim");
            let err = check(&o).expect_err(&o.ddl);
            assert!(
                err.contains("second statement")
                    || err.contains("starts with `DROP")
                    || err.contains("more statements than ENABLE and FORCE")
                    || err.contains("the text is not shown"),
                "{}: {err}",
                o.ddl
            );
        }
    }

    #[test]
    fn other_objects_and_other_shapes_are_refused() {
        let p = Some("public");
        let refused = [
            (other(textsearch::PARSER, p, "prs", "CREATE TEXT SEARCH PARSER public.victim (START = a, GETTOKEN = b, END = c, LEXTYPES = d)"), "not public.prs"),
            (other(textsearch::DICTIONARY, p, "d", "CREATE TEXT SEARCH DICTIONARY public.d (TEMPLATE = simple; DROP TABLE public.victim)"), "`;` in parentheses"),
            (other(textsearch::DICTIONARY, p, "d", "CREATE TEXT SEARCH DICTIONARY public.d (TEMPLATE = (SELECT 1))"), "expected a value"),
            (other(textsearch::TEMPLATE, p, "tpl", "CREATE TEXT SEARCH DICTIONARY public.tpl (TEMPLATE = simple)"), "expected TEMPLATE"),
            (
                other(textsearch::CONFIGURATION, p, "cfg", "CREATE TEXT SEARCH CONFIGURATION public.cfg (PARSER = \"default\"); ALTER TEXT SEARCH CONFIGURATION public.victim ADD MAPPING FOR word WITH simple"),
                "not public.cfg",
            ),
            (
                other(textsearch::CONFIGURATION, p, "cfg", "CREATE TEXT SEARCH CONFIGURATION public.cfg (PARSER = \"default\"); ALTER TEXT SEARCH CONFIGURATION public.cfg DROP MAPPING FOR word"),
                "expected ADD",
            ),
            (other(foreign::WRAPPER, None, "w", "CREATE FOREIGN DATA WRAPPER victim"), "not w"),
            (other(foreign::SERVER, None, "s", "CREATE SERVER s FOREIGN DATA WRAPPER w OPTIONS (host (SELECT 1))"), "option's value"),
            (other(foreign::USER_MAPPING, None, "for ann server s", "CREATE USER MAPPING FOR bob SERVER s OPTIONS (password 'hunter2')"), "user mapping"),
            (other(foreign::USER_MAPPING, None, "for ann server s", "ALTER USER MAPPING FOR ann SERVER s OPTIONS (SET password 'hunter2')"), "user mapping"),
            (other(foreign::FOREIGN_TABLE, p, "ft", "CREATE FOREIGN TABLE public.victim (a int) SERVER s"), "not public.ft"),
            (other(foreign::FOREIGN_TABLE, p, "ft", "CREATE FOREIGN TABLE public.ft (a int REFERENCES public.victim) SERVER s"), "foreign key"),
            (other(foreign::FOREIGN_TABLE, p, "ft", "CREATE FOREIGN TABLE public.ft (a int) INHERITS (public.victim) SERVER s"), "expected SERVER"),
            (on(other(policies::ROW_SECURITY, p, "t", "ALTER TABLE ONLY public.victim ENABLE ROW LEVEL SECURITY"), "t"), "not on its declared table"),
            (on(other(policies::ROW_SECURITY, p, "t", "ALTER TABLE ONLY public.t DISABLE ROW LEVEL SECURITY"), "t"), "expected ENABLE"),
            (on(other(policies::ROW_SECURITY, p, "victim", "ALTER TABLE ONLY public.victim ENABLE ROW LEVEL SECURITY"), "victim"), "not a table or view of the archive"),
            (on(other(policies::POLICY, p, "p", "CREATE POLICY p ON public.victim USING (true)"), "t"), "not on its declared table"),
            (on(other(policies::POLICY, p, "p", "CREATE POLICY other ON public.t USING (true)"), "t"), "names policy other"),
            (on(other(policies::POLICY, p, "p", "CREATE POLICY p ON public.t USING (true) WITH CHECK (true), public.victim"), "t"), "goes on"),
            (other(publications::PUBLICATION, None, "pub", "CREATE PUBLICATION pub FOR TABLE public.victim WITH (publish = 'insert')"), "expected ALL"),
            (on(other(publications::PUBLICATION_TABLE, None, "pub", "ALTER PUBLICATION pub ADD TABLE ONLY public.victim"), "t"), "not on its declared table"),
            (on(other(publications::PUBLICATION_TABLE, None, "pub", "ALTER PUBLICATION other ADD TABLE ONLY public.t"), "t"), "names publication other"),
            (on(other(publications::PUBLICATION_TABLE, None, "pub", "ALTER PUBLICATION pub OWNER TO bob"), "t"), "expected ADD"),
            (other(publications::PUBLICATION_SCHEMA, Some("hr"), "pub", "ALTER PUBLICATION pub ADD TABLES IN SCHEMA victim"), "names schema victim"),
            (other(publications::SUBSCRIPTION, None, "sub", "CREATE SUBSCRIPTION sub CONNECTION 'password=hunter2' PUBLICATION pub WITH (slot_name = 'sub')"), "subscription"),
            (other(publications::SUBSCRIPTION, None, "sub", "CREATE SUBSCRIPTION victim CONNECTION 'password=hunter2' PUBLICATION pub WITH (connect = false)"), "subscription"),
            (other(defaults::DEFAULT_PRIVILEGES, None, "for role ann on tables", "ALTER DEFAULT PRIVILEGES FOR ROLE bob GRANT ALL ON TABLES TO PUBLIC"), "not for role ann on tables"),
            (other(defaults::DEFAULT_PRIVILEGES, None, "for role ann on tables", "ALTER DEFAULT PRIVILEGES FOR ROLE ann GRANT ALL ON SEQUENCES TO PUBLIC"), "not for role ann on tables"),
            (other(defaults::DEFAULT_PRIVILEGES, None, "for role ann on tables", "ALTER DEFAULT PRIVILEGES FOR ROLE ann IN SCHEMA hr GRANT ALL ON TABLES TO PUBLIC"), "in schema hr"),
            (other(defaults::DEFAULT_PRIVILEGES, None, "for role ann on tables", "GRANT ALL ON ALL TABLES IN SCHEMA public TO PUBLIC"), "starts with `GRANT"),
            (ObjectDef::new(ObjectKind::Owner, TableName::new(p, "ft"), ENGINE_NAME, "ALTER FOREIGN TABLE public.victim OWNER TO ann"), "not for public.ft"),
            (ObjectDef::new(ObjectKind::Owner, TableName::new(p, "victim"), ENGINE_NAME, "ALTER FOREIGN TABLE public.victim OWNER TO ann"), "not a table or view of the archive"),
            (ObjectDef::new(ObjectKind::Comment, TableName::new(p, "p"), ENGINE_NAME, "COMMENT ON POLICY p ON public.victim IS 'x'"), "not a table or view of the archive"),
            (ObjectDef::new(ObjectKind::Comment, TableName::new(p, "victim"), ENGINE_NAME, "COMMENT ON FOREIGN TABLE public.victim IS 'x'"), "not a table or view of the archive"),
        ];
        for (o, why) in &refused {
            let err = check(o).expect_err(&o.ddl);
            assert!(err.contains(why), "{}: {err}", o.ddl);
        }
    }

    /// A refused user mapping or subscription never shows its text, which
    /// may hold a password.
    #[test]
    fn a_refusal_never_quotes_a_password() {
        for o in [
            other(foreign::USER_MAPPING, None, "for ann server s", "CREATE USER MAPPING FOR ann SERVER s OPTIONS (password 'hunter2'); SELECT 1"),
            other(foreign::USER_MAPPING, None, "for ann server s", "CREATE USER MAPPING FOR ann SERVER s OPTIONS (password 'hunter2') hunter2"),
            other(foreign::USER_MAPPING, None, "for ann server s", "CREATE USER MAPPING FOR ann SERVER s OPTIONS (password 'x' 'hunter2')"),
            other(foreign::USER_MAPPING, None, "for ann server s", "CREATE USER MAPPING FOR hunter2 SERVER s"),
            other(publications::SUBSCRIPTION, None, "sub", "CREATE SUBSCRIPTION sub CONNECTION 'password=hunter2' PUBLICATION pub WITH (connect = true) hunter2"),
        ] {
            let err = check(&o).expect_err(&o.ddl);
            assert!(!err.contains("hunter2"), "{err}");
        }
    }
}
