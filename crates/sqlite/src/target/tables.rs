//! Pre-data: which tables exist, what `--clean` drops (the archive's own
//! objects and what SQLite records as theirs) and dropping it, creating a table from its own SQL or the
//! neutral model, checking an existing one for `--data-only`, and reading a
//! target table's columns.

use bru_core::{Dropped, Error, ObjectDef, ObjectKind, Result, TableDef, TableName};

use crate::createsql::parse_create_table;
use crate::ddl;
use crate::error::sql_err;
use crate::quote::ident;
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

    /// What `--clean` drops ([`bru_core::Target::clean_plan`]), each with
    /// the schema entry to drop it by.
    ///
    /// The archive's own: a table or view that holds the name of one of its
    /// tables (SQLite gives both one namespace, so a view named like an
    /// archive table would make its CREATE TABLE fail), its views, virtual
    /// tables and triggers by name and kind, and the indexes it declares by
    /// name when they sit on a table not dropped anyway. With them goes what SQLite
    /// records as theirs (`tbl_name`): the triggers on a dropped table or
    /// view, and its indexes, of which those the archive does not declare
    /// are listed. SQLite records nothing for a view that reads a table, so
    /// such a view is left alone (SQLite does not refuse to drop the table,
    /// and the view works again once the table is back); nothing here reads
    /// SQL text.
    pub(super) fn clean_entries(
        &self,
        tables: &[TableDef],
        objects: &[ObjectDef],
    ) -> Result<Vec<(SchemaEntry, Dropped)>> {
        let schema = self.schema_entries()?;
        let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        // An archive table's name is taken by a table or a view; a view's or
        // virtual table's only by one of its own kind. One of the other kind
        // with that name (a table of the user's named like an archive view)
        // is not the archive's: it is refused here, before anything is
        // dropped, rather than dropped or left to fail the CREATE later.
        let relation_names: Vec<(&str, &[&str])> = tables
            .iter()
            .map(|t| (t.name.name.as_str(), &["table", "view"][..]))
            .chain(objects.iter().filter_map(|o| match o.kind {
                ObjectKind::View => Some((o.name.name.as_str(), &["view"][..])),
                ObjectKind::VirtualTable => Some((o.name.name.as_str(), &["table"][..])),
                _ => None,
            }))
            .collect();
        for o in objects {
            let own = match o.kind {
                ObjectKind::View => "view",
                ObjectKind::VirtualTable => "table",
                _ => continue,
            };
            let clash = schema.iter().find(|e| {
                matches!(e.kind.as_str(), "table" | "view")
                    && e.kind != own
                    && same(&e.name, &o.name.name)
            });
            if let Some(e) = clash {
                return Err(Error::engine(
                    "listing what --clean drops",
                    format!(
                        "the target's {} has the name of the archive's {} {}, and is not the \
                         archive's to drop; rename or drop it, then restore again",
                        e.describe(),
                        o.kind,
                        o.name
                    ),
                ));
            }
        }
        let trigger_names: Vec<&str> = objects
            .iter()
            .filter(|o| o.kind == ObjectKind::Trigger)
            .map(|o| o.name.name.as_str())
            .collect();
        let declared_on = |table: &str, index: &str| {
            tables
                .iter()
                .filter(|t| same(&t.name.name, table))
                .any(|t| t.indexes.iter().any(|i| same(&i.name, index)))
        };
        let declared = |index: &str| {
            tables
                .iter()
                .any(|t| t.indexes.iter().any(|i| same(&i.name, index)))
        };
        let relations: Vec<&SchemaEntry> = schema
            .iter()
            .filter(|e| {
                relation_names
                    .iter()
                    .any(|(n, kinds)| same(n, &e.name) && kinds.contains(&e.kind.as_str()))
            })
            .collect();
        let mut out: Vec<(SchemaEntry, Dropped)> = relations
            .iter()
            .map(|r| ((*r).clone(), Dropped::own(r.describe())))
            .collect();
        for e in &schema {
            let on = relations.iter().find(|r| same(&r.name, &e.tbl));
            let dropped = match (e.kind.as_str(), on) {
                ("trigger", _) if trigger_names.iter().any(|n| same(n, &e.name)) => {
                    Dropped::own(e.describe())
                }
                ("trigger", Some(on)) => Dropped::dependent(e.describe(), on.describe()),
                ("index", Some(on)) if e.has_sql && !declared_on(&e.tbl, &e.name) => {
                    Dropped::dependent(e.describe(), on.describe())
                }
                ("index", None) if e.has_sql && declared(&e.name) => Dropped::own(e.describe()),
                _ => continue,
            };
            out.push((e.clone(), dropped));
        }
        Ok(out)
    }

    /// Drops what [`SqliteTarget::clean_entries`] lists, in one transaction,
    /// after checking that it is still `plan` ([`bru_core::Target::clean`]).
    pub(super) fn clean_drop(
        &mut self,
        tables: &[TableDef],
        objects: &[ObjectDef],
        plan: &[Dropped],
    ) -> Result<()> {
        let ctx = "dropping the archive's objects (--clean)";
        self.in_transaction(ctx, |this| {
            let entries = this.clean_entries(tables, objects)?;
            if !entries.iter().map(|(_, d)| d).eq(plan.iter()) {
                return Err(Error::engine(
                    ctx,
                    "the target changed since the drops were listed; run the restore again",
                ));
            }
            // Triggers and indexes first, then views, then tables (which take
            // their own triggers and indexes with them).
            for kind in ["trigger", "index", "view", "table"] {
                for (e, d) in &entries {
                    if e.kind == kind && d.depends_on.is_none() {
                        let what = kind.to_ascii_uppercase();
                        this.exec(&format!("DROP {what} IF EXISTS {}", ident(&e.name)), || {
                            format!("dropping {}", e.describe())
                        })?;
                    }
                }
            }
            Ok(())
        })
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
            _ if table.columns.is_empty() => Err(Error::Unsupported(format!(
                "table {} has no columns (all were dropped in the source), and a SQLite \
                 table must have one; leave it out with --exclude '{}'",
                table.name, table.name
            ))),
            _ => {
                self.skipped.extend(ddl::left_out(table));
                let sql = ddl::create_table(table);
                if ddl::is_translated(table) {
                    // Its defaults and CHECKs derive from the archive.
                    let allowed = Allowed::new(Creates::Table, &table.name.name, None);
                    self.exec_archive(&sql, allowed, context).map(|_| ())
                } else {
                    self.exec(&sql, context)
                }
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

    /// The target's tables, views, triggers and indexes, but SQLite's own
    /// (`sqlite_sequence`, `sqlite_stat1`, ...).
    fn schema_entries(&self) -> Result<Vec<SchemaEntry>> {
        let ctx = "reading the target's schema";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT type, name, tbl_name, sql IS NOT NULL FROM sqlite_schema \
                 WHERE type IN ('table', 'view', 'trigger', 'index') \
                 AND name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY rowid",
            )
            .map_err(|e| sql_err(ctx, e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(SchemaEntry {
                    kind: r.get(0)?,
                    name: r.get(1)?,
                    tbl: r.get(2)?,
                    has_sql: r.get(3)?,
                })
            })
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

/// One row of `sqlite_schema`.
#[derive(Debug, Clone)]
pub(super) struct SchemaEntry {
    /// `table`, `view`, `trigger` or `index`.
    pub(super) kind: String,
    pub(super) name: String,
    /// The table or view a trigger or index belongs to.
    pub(super) tbl: String,
    /// False for the indexes SQLite makes for a key itself.
    pub(super) has_sql: bool,
}

impl SchemaEntry {
    /// `table sites`, `trigger sites_audit`.
    fn describe(&self) -> String {
        format!("{} {}", self.kind, self.name)
    }
}
