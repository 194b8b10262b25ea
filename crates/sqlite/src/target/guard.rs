//! Running an archive's own SQL: one statement, checked, under an
//! authorizer.
//!
//! The restore checked every entry before it started ([`crate::trust`]);
//! this is the second line, at the moment a statement from the archive runs:
//!
//! - the entry is checked again ([`crate::trust`]'s shape and name);
//! - it runs through `prepare`, which refuses a text with a second
//!   statement after the first;
//! - while it is prepared and stepped, an authorizer allows only what
//!   creating the declared object takes: creating that very object (a
//!   virtual table's shadow tables too), reading, calling functions, and
//!   writing the schema table and, for a virtual table or its full-text
//!   index, that table and its shadow tables (and FTS5's read of
//!   `PRAGMA data_version` and R-tree's of `PRAGMA page_size`). ATTACH, DETACH, every other PRAGMA,
//!   transaction control, every DROP, ALTER, and writes to any other table
//!   are denied. VACUUM has no authorizer code in some SQLite versions: the
//!   check of the statement's head refuses it.
//!
//! Target connections also run with `trusted_schema = OFF` (see
//! `settings`), so a view or trigger cannot call a function with side
//! effects once it exists.

use bru_core::Result;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};

use crate::error::sql_err;

use super::SqliteTarget;

/// What an archive statement may create and write.
pub(super) struct Allowed {
    /// What it creates.
    pub(super) creates: Creates,
    /// The object's name.
    pub(super) name: String,
    /// The table of an index or trigger.
    pub(super) table: Option<String>,
}

/// The kind of object an archive statement creates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Creates {
    Table,
    /// A virtual table, with its shadow tables.
    VirtualTable,
    Index,
    View,
    Trigger,
    /// Nothing: an FTS command (which writes the table and its shadow
    /// tables) or an R-tree check.
    IndexCheck,
}

impl Allowed {
    pub(super) fn new(creates: Creates, name: &str, table: Option<&str>) -> Allowed {
        Allowed {
            creates,
            name: name.to_owned(),
            table: table.map(str::to_owned),
        }
    }

    /// Whether `name` is the object itself.
    fn is_self(&self, name: &str) -> bool {
        name.eq_ignore_ascii_case(&self.name)
    }

    /// Whether `name` is the object or one of its shadow tables
    /// (`<name>_data`, `<name>_node`…), for a virtual table.
    fn is_self_or_shadow(&self, name: &str) -> bool {
        let virtual_table = matches!(self.creates, Creates::VirtualTable | Creates::IndexCheck);
        self.is_self(name)
            || (virtual_table
                && name
                    .get(..self.name.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(&self.name))
                && name.as_bytes().get(self.name.len()) == Some(&b'_'))
    }

    fn on_table(&self, table: &str) -> bool {
        self.table
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(table))
    }

    /// The authorizer's answer to `action`.
    fn decide(&self, action: AuthAction<'_>) -> Authorization {
        use AuthAction as A;
        let schema_table = |t: &str| {
            [
                "sqlite_master",
                "sqlite_schema",
                "sqlite_sequence",
                "sqlite_stat1",
            ]
            .iter()
            .any(|s| t.eq_ignore_ascii_case(s))
        };
        let allowed = match action {
            A::Select | A::Read { .. } | A::Function { .. } | A::Recursive => true,
            // AUTOINCREMENT's first table makes `sqlite_sequence`.
            A::CreateTable { table_name } if table_name.eq_ignore_ascii_case("sqlite_sequence") => {
                self.creates == Creates::Table
            }
            A::CreateTable { table_name } => match self.creates {
                Creates::Table => self.is_self(table_name),
                Creates::VirtualTable => self.is_self_or_shadow(table_name),
                _ => false,
            },
            A::CreateVtable { table_name, .. } => {
                matches!(self.creates, Creates::VirtualTable | Creates::Table)
                    && self.is_self(table_name)
            }
            A::CreateIndex {
                index_name,
                table_name,
            } => match self.creates {
                Creates::Index => self.is_self(index_name) && self.on_table(table_name),
                // A shadow table's own indexes (its primary key).
                Creates::VirtualTable | Creates::Table => self.is_self_or_shadow(table_name),
                _ => false,
            },
            // Reads that the virtual table modules make: FTS5 whether its
            // cached structure is current, R-tree the page size it sizes
            // nodes by.
            A::Pragma {
                pragma_name,
                pragma_value: None,
            } => ["data_version", "page_size"]
                .iter()
                .any(|p| pragma_name.eq_ignore_ascii_case(p)),
            // Building the new index.
            A::Reindex { index_name } => self.creates == Creates::Index && self.is_self(index_name),
            A::CreateView { view_name } => self.creates == Creates::View && self.is_self(view_name),
            A::CreateTrigger {
                trigger_name,
                table_name,
            } => {
                self.creates == Creates::Trigger
                    && self.is_self(trigger_name)
                    && self.on_table(table_name)
            }
            A::Insert { table_name } | A::Delete { table_name } | A::Update { table_name, .. } => {
                schema_table(table_name)
                    || (matches!(
                        self.creates,
                        Creates::VirtualTable | Creates::IndexCheck | Creates::Table
                    ) && self.is_self_or_shadow(table_name))
            }
            _ => false,
        };
        if allowed {
            Authorization::Allow
        } else {
            Authorization::Deny
        }
    }
}

impl SqliteTarget {
    /// Runs `sql`, a statement from the archive, as one statement under the
    /// authorizer for `allowed` (see the module docs). A SELECT (an R-tree
    /// check) returns its one text answer.
    pub(super) fn exec_archive(
        &mut self,
        sql: &str,
        allowed: Allowed,
        context: impl FnOnce() -> String,
    ) -> Result<Option<String>> {
        self.conn
            .authorizer(Some(move |ctx: AuthContext<'_>| allowed.decide(ctx.action)))
            .map_err(|e| sql_err("installing the authorizer for the archive's SQL", e))?;
        let result = run_one(&self.conn, sql);
        let reset = self
            .conn
            .authorizer(None::<fn(AuthContext<'_>) -> Authorization>);
        let answer = result.map_err(|e| sql_err(context(), e))?;
        reset.map_err(|e| sql_err("removing the authorizer for the archive's SQL", e))?;
        Ok(answer)
    }
}

/// Prepares `sql` (which refuses a second statement) and steps it; returns
/// the first column of its first row, if it has one.
fn run_one(conn: &rusqlite::Connection, sql: &str) -> rusqlite::Result<Option<String>> {
    let mut stmt = conn.prepare(sql)?;
    if stmt.column_count() == 0 {
        stmt.raw_execute()?;
        return Ok(None);
    }
    let mut rows = stmt.raw_query();
    match rows.next()? {
        Some(row) => Ok(Some(row.get(0)?)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    fn target() -> (tempfile::TempDir, SqliteTarget) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE victim(a); INSERT INTO victim VALUES (1), (2); CREATE TABLE sites(id)",
        )
        .unwrap();
        drop(conn);
        let target = SqliteTarget::open(&path).unwrap();
        (dir, target)
    }

    fn victim_rows(t: &SqliteTarget) -> i64 {
        t.conn
            .query_row("SELECT count(*) FROM victim", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn the_declared_object_is_created() {
        let (dir, mut t) = target();
        let ctx = || "creating".to_owned();
        t.exec_archive(
            "CREATE VIEW v AS SELECT * FROM victim",
            Allowed::new(Creates::View, "v", None),
            ctx,
        )
        .unwrap();
        t.exec_archive(
            "CREATE INDEX i ON sites(id)",
            Allowed::new(Creates::Index, "i", Some("sites")),
            ctx,
        )
        .unwrap();
        t.exec_archive(
            "CREATE TRIGGER tr AFTER INSERT ON sites BEGIN DELETE FROM victim; END",
            Allowed::new(Creates::Trigger, "tr", Some("sites")),
            ctx,
        )
        .unwrap();
        t.exec_archive(
            "CREATE VIRTUAL TABLE docs USING fts5(body)",
            Allowed::new(Creates::VirtualTable, "docs", None),
            ctx,
        )
        .unwrap();
        let ok = t
            .exec_archive(
                "INSERT INTO docs(docs) VALUES('integrity-check')",
                Allowed::new(Creates::IndexCheck, "docs", None),
                ctx,
            )
            .unwrap();
        assert_eq!(ok, None);
        assert_eq!(victim_rows(&t), 2);
        drop(dir);
    }

    #[test]
    fn anything_else_is_denied_and_changes_nothing() {
        let (dir, mut t) = target();
        let outside = dir.path().join("copy.sqlite");
        let attacks = [
            (
                "DROP TABLE victim".to_owned(),
                Allowed::new(Creates::View, "v", None),
            ),
            (
                "DELETE FROM victim".to_owned(),
                Allowed::new(Creates::View, "v", None),
            ),
            (
                "CREATE VIEW v AS SELECT 1; DELETE FROM victim".to_owned(),
                Allowed::new(Creates::View, "v", None),
            ),
            (
                "CREATE VIEW w AS SELECT 1".to_owned(),
                Allowed::new(Creates::View, "v", None),
            ),
            (
                "CREATE TRIGGER tr AFTER INSERT ON victim BEGIN SELECT 1; END".to_owned(),
                Allowed::new(Creates::Trigger, "tr", Some("sites")),
            ),
            (
                format!("ATTACH DATABASE '{}' AS a", outside.display()),
                Allowed::new(Creates::View, "v", None),
            ),
            (
                "PRAGMA writable_schema = ON".to_owned(),
                Allowed::new(Creates::View, "v", None),
            ),
            ("COMMIT".to_owned(), Allowed::new(Creates::View, "v", None)),
            (
                "INSERT INTO victim VALUES (3)".to_owned(),
                Allowed::new(Creates::IndexCheck, "docs", None),
            ),
            (
                "CREATE TABLE victim_2 AS SELECT * FROM victim".to_owned(),
                Allowed::new(Creates::Table, "sites2", None),
            ),
        ];
        for (sql, allowed) in attacks {
            let err = t.exec_archive(&sql, allowed, || "attack".to_owned());
            assert!(err.is_err(), "{sql} ran");
        }
        assert_eq!(victim_rows(&t), 2);
        assert!(!outside.exists());
        let objects: i64 = t
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name NOT IN ('victim', 'sites')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(objects, 0);
        // The authorizer is gone afterwards: bru's own statements run.
        t.exec("DELETE FROM sites", || "own".into()).unwrap();
    }
}
