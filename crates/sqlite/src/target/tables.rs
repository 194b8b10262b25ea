//! Pre-data: which tables exist, dropping them with the views and triggers
//! that depend on them (`--clean`), creating a table from its own SQL or the
//! neutral model, checking an existing one for `--data-only`, and reading a
//! target table's columns.

use bru_core::{Error, Result, TableDef, TableName};

use crate::createsql::parse_create_table;
use crate::ddl;
use crate::error::sql_err;
use crate::quote::ident;
use crate::sqltext::{tokenize, Kind};
use crate::ENGINE_NAME;

use crate::{trust, vtab};

use super::guard::{Allowed, Creates};
use super::{rowid_column, untrusted, SqliteTarget};

impl SqliteTarget {
    /// Which of `tables` exist ([`bru_core::Target::existing_tables`]).
    pub(super) fn tables_among(&mut self, tables: &[TableName]) -> Result<Vec<TableName>> {
        let present = self.table_names()?;
        Ok(tables
            .iter()
            .filter(|t| present.iter().any(|p| p.eq_ignore_ascii_case(&t.name)))
            .cloned()
            .collect())
    }

    /// Drops the tables, their triggers, and every view or trigger whose
    /// text mentions a dropped table or view (found by identifier, so a
    /// view that merely contains the name in a string is dropped too:
    /// erring towards dropping keeps the later CREATE from failing).
    pub(super) fn drop_with_dependents(&mut self, tables: &[TableName]) -> Result<()> {
        let ctx = "dropping tables (--clean)";
        self.begin(ctx)?;
        let mut dropped: Vec<String> = tables.iter().map(|t| t.name.clone()).collect();
        let mut objects = self.views_and_triggers()?;
        loop {
            let (hit, rest): (Vec<_>, Vec<_>) =
                objects.into_iter().partition(|(_, sql, _, tbl)| {
                    dropped.iter().any(|d| d.eq_ignore_ascii_case(tbl)) || mentions(sql, &dropped)
                });
            objects = rest;
            if hit.is_empty() {
                break;
            }
            for (name, _, kind, _) in hit {
                let what = if kind == "view" { "VIEW" } else { "TRIGGER" };
                self.exec(&format!("DROP {what} IF EXISTS {}", ident(&name)), || {
                    format!("dropping {kind} \"{name}\"")
                })?;
                dropped.push(name);
            }
        }
        for t in tables {
            self.exec(&format!("DROP TABLE IF EXISTS {}", ident(&t.name)), || {
                format!("dropping table \"{}\"", t.name)
            })?;
        }
        self.commit(ctx)
    }

    /// Creates `table` ([`bru_core::Target::create_table`]).
    /// The archive's own CREATE TABLE runs checked, under the authorizer
    /// (see the `guard` module).
    pub(super) fn create_from_ddl(&mut self, table: &TableDef) -> Result<()> {
        let context = || format!("creating table \"{}\"", table.name);
        match &table.native {
            Some(native) if native.engine == ENGINE_NAME => {
                trust::check_table(table).map_err(|e| untrusted(&context(), e))?;
                let creates = if table.property(vtab::MODULE_PROPERTY).is_some() {
                    Creates::VirtualTable
                } else {
                    Creates::Table
                };
                let allowed = Allowed::new(creates, &table.name.name, None);
                self.exec_archive(&native.create, allowed, context)
                    .map(|_| ())
            }
            _ => {
                self.skipped.extend(ddl::left_out(table));
                self.exec(&ddl::create_table(table), context)
            }
        }
    }

    /// Checks that every archive column exists in the target table
    /// ([`bru_core::Target::check_table`]).
    pub(super) fn check_columns(&mut self, table: &TableDef) -> Result<()> {
        let present = self.target_columns(&table.name.name)?;
        let context = format!(
            "checking target table \"{}\" for a data-only restore",
            table.name
        );
        if present.is_empty() {
            return Err(Error::engine(
                context,
                "the table does not exist; restore without --data-only to create it",
            ));
        }
        let missing: Vec<&str> = table
            .columns
            .iter()
            .filter(|c| {
                rowid_column(table) != Some(c.name.as_str())
                    && !present
                        .iter()
                        .any(|(p, _, _)| p.eq_ignore_ascii_case(&c.name))
            })
            .map(|c| c.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(Error::engine(
                context,
                format!(
                    "the table lacks column(s) {} that the archive holds; add them or restore without --data-only",
                    missing.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// `(name, sql, kind, tbl_name)` of the views and triggers.
    fn views_and_triggers(&self) -> Result<Vec<(String, String, String, String)>> {
        let ctx = "reading the target's views and triggers";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT name, coalesce(sql, ''), type, tbl_name FROM sqlite_schema \
                 WHERE type IN ('view', 'trigger')",
            )
            .map_err(|e| sql_err(ctx, e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(|e| sql_err(ctx, e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| sql_err(ctx, e))
    }

    /// The target's columns of `table`: `(name, declared type, hidden)`.
    pub(super) fn target_columns(&self, table: &str) -> Result<Vec<(String, String, i64)>> {
        let ctx = format!("reading the columns of target table \"{table}\"");
        let mut stmt = self
            .conn
            .prepare("SELECT name, coalesce(type, ''), hidden FROM pragma_table_xinfo(?1)")
            .map_err(|e| sql_err(&ctx, e))?;
        let rows = stmt
            .query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(|e| sql_err(&ctx, e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| sql_err(ctx, e))
    }

    /// Whether the target table is STRICT.
    pub(super) fn table_is_strict(&self, table: &str) -> Result<bool> {
        let sql: Option<String> = self
            .conn
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
                [table],
                |r| r.get(0),
            )
            .map_err(|e| sql_err(format!("reading target table \"{table}\""), e))?;
        Ok(sql.is_some_and(|s| parse_create_table(&s).strict))
    }

    /// The names of every table in the target.
    pub(super) fn table_names(&self) -> Result<Vec<String>> {
        let ctx = "listing the target's tables";
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
            .map_err(|e| sql_err(ctx, e))?;
        let rows = stmt
            .query_map([], |r| r.get(0))
            .map_err(|e| sql_err(ctx, e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| sql_err(ctx, e))
    }
}

/// True if `sql` mentions `name` as an identifier (quoted or not).
fn mentions(sql: &str, names: &[String]) -> bool {
    tokenize(sql).iter().any(|t| {
        matches!(t.kind, Kind::Word | Kind::Quoted | Kind::Str)
            && names.iter().any(|n| t.name(sql).eq_ignore_ascii_case(n))
    })
}
