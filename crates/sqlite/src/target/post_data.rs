//! Post-data: a table's indexes (after its rows), its AUTOINCREMENT value,
//! and the views, triggers and virtual tables created after everything, with
//! full-text and R-tree index objects checked or rebuilt. Each step leaves
//! alone an object that already exists with the same SQL, because a resumed
//! restore may repeat it.

use bru_core::{Error, IdentityKind, ObjectDef, ObjectKind, ObjectOutcome, Result, TableDef};
use rusqlite::OptionalExtension;

use crate::ddl;
use crate::error::sql_err;
use crate::sqltext::tokenize;
use crate::{trust, vtab, ENGINE_NAME};

use super::guard::{Allowed, Creates};
use super::{untrusted, SqliteTarget};

impl SqliteTarget {
    /// Creates the table's indexes in one transaction. An index that already
    /// exists with the same SQL is left alone (a resumed restore may repeat
    /// this step).
    pub(super) fn create_indexes(&mut self, table: &TableDef) -> Result<()> {
        let context = format!("finishing table \"{}\"", table.name);
        self.in_transaction(&context, |this| {
            let native = table.native.as_ref().is_some_and(|n| n.engine == ENGINE_NAME);
            if native {
                trust::check_table(table).map_err(|e| untrusted(&context, e))?;
            }
            for index in &table.indexes {
                let (sql, own) = match (&index.native_ddl, native) {
                    (Some(ddl), true) => (Some(ddl.clone()), true),
                    // A translated index's expressions derive from the archive.
                    _ => (ddl::create_index(table, index), ddl::is_translated(table)),
                };
                let Some(sql) = sql else {
                    this.skipped.push(format!(
                        "index {} on table {}: an expression or partial index written in another engine's SQL",
                        index.name, table.name
                    ));
                    continue;
                };
                if this.existing_sql("index", &index.name)?.as_deref() == Some(sql.as_str()) {
                    continue;
                }
                let context = || {
                    format!(
                        "creating index \"{}\" on table \"{}\"",
                        index.name, table.name
                    )
                };
                if own {
                    let allowed =
                        Allowed::new(Creates::Index, &index.name, Some(&table.name.name));
                    this.exec_archive(&sql, allowed, context)?;
                } else {
                    this.exec(&sql, context)?;
                }
            }
            Ok(())
        })
    }

    /// Sets the AUTOINCREMENT value of `table` in `sqlite_sequence`
    /// ([`bru_core::Target::restore_identity`]).
    pub(super) fn set_autoincrement(&mut self, table: &TableDef) -> Result<()> {
        let context = format!(
            "setting the AUTOINCREMENT value of table \"{}\"",
            table.name
        );
        let last_value = table.columns.iter().find_map(|c| {
            c.identity
                .as_ref()
                .filter(|i| i.kind == IdentityKind::Autoincrement)
                .and_then(|i| i.last_value)
        });
        let Some(seq) = last_value else {
            return Ok(());
        };
        self.in_transaction(&context, |this| {
            let has_sequence_table = this
                .table_names()?
                .iter()
                .any(|n| n.eq_ignore_ascii_case("sqlite_sequence"));
            if !has_sequence_table {
                return Ok(());
            }
            let ctx = || context.clone();
            let name = table.name.name.as_str();
            let updated = this
                .conn
                .execute(
                    "UPDATE sqlite_sequence SET seq = ?1 WHERE name = ?2",
                    rusqlite::params![seq, name],
                )
                .map_err(|e| sql_err(ctx(), e))?;
            if updated == 0 {
                this.conn
                    .execute(
                        "INSERT INTO sqlite_sequence (name, seq) VALUES (?1, ?2)",
                        rusqlite::params![name, seq],
                    )
                    .map_err(|e| sql_err(ctx(), e))?;
            }
            Ok(())
        })
    }

    /// Creates a view, trigger or virtual table, or checks a full-text or
    /// R-tree index ([`bru_core::Target::create_object`]).
    pub(super) fn create_other_object(&mut self, object: &ObjectDef) -> Result<ObjectOutcome> {
        if object.engine != ENGINE_NAME {
            return Ok(ObjectOutcome::Skipped(format!(
                "written for {}",
                object.engine
            )));
        }
        if matches!(
            object.kind,
            ObjectKind::FullTextIndex | ObjectKind::RTreeIndex
        ) {
            return self.check_or_rebuild_index(object);
        }
        let creatable = matches!(
            object.kind,
            ObjectKind::View | ObjectKind::Trigger | ObjectKind::VirtualTable
        );
        if !creatable {
            return Ok(ObjectOutcome::Skipped(format!(
                "SQLite has no {}",
                object.kind
            )));
        }
        let context = || format!("creating {} \"{}\"", object.kind, object.name);
        trust::check_object(object, None).map_err(|e| untrusted(&context(), e))?;
        // A resumed restore may repeat this step: the same object with the
        // same SQL is already what was asked for.
        let (kind, creates) = match &object.kind {
            ObjectKind::View => ("view", Creates::View),
            ObjectKind::Trigger => ("trigger", Creates::Trigger),
            _ => ("table", Creates::VirtualTable),
        };
        if self.existing_sql(kind, &object.name.name)?.as_deref() != Some(object.ddl.as_str()) {
            let table = object.table.as_ref().map(|t| t.name.as_str());
            let allowed = Allowed::new(creates, &object.name.name, table);
            self.exec_archive(&object.ddl, allowed, context)?;
        }
        if let Some(reason) = vtab::not_carried_reason(&object.ddl) {
            self.skipped
                .push(format!("rows of virtual table {}: {reason}", object.name));
        }
        Ok(ObjectOutcome::Created)
    }

    /// Runs the statement of a `full-text index` or `R-tree index` object:
    /// an FTS index's integrity check or rebuild (an INSERT of the FTS
    /// command), or an R-tree's `rtreecheck` (a SELECT that must answer
    /// `ok`). Both may run again on a resumed restore. Fails with
    /// [`Error::Engine`] naming the table when the check finds the index
    /// does not match the rows.
    fn check_or_rebuild_index(&mut self, object: &ObjectDef) -> Result<ObjectOutcome> {
        let context = || format!("checking the {} of table \"{}\"", object.kind, object.name);
        trust::check_object(object, None).map_err(|e| untrusted(&context(), e))?;
        let allowed = || Allowed::new(Creates::IndexCheck, &object.name.name, None);
        let is_select = tokenize(&object.ddl)
            .first()
            .is_some_and(|t| t.is_word(&object.ddl, "SELECT"));
        if is_select {
            let answer = self.exec_archive(&object.ddl, allowed(), context)?;
            if answer.as_deref() != Some("ok") {
                return Err(Error::engine(
                    context(),
                    answer.unwrap_or_else(|| "no answer".into()),
                ));
            }
        } else {
            self.in_transaction(&context(), |this| {
                this.exec_archive(&object.ddl, allowed(), context)
                    .map(|_| ())
            })?;
        }
        Ok(ObjectOutcome::Created)
    }

    /// The SQL of the schema object `name` of `kind` (`index`, `view`,
    /// `trigger`), if it exists.
    fn existing_sql(&self, kind: &str, name: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT coalesce(sql, '') FROM sqlite_schema WHERE type = ?1 AND name = ?2 COLLATE NOCASE",
                [kind, name],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| sql_err(format!("looking up {kind} \"{name}\""), e))
    }
}
