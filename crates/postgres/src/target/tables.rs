//! Pre-data: which tables exist, and creating a
//! table bare (columns, defaults, identity, NOT NULL), waiting for a parent
//! table another session is still creating.

use std::collections::HashSet;
use std::sync::PoisonError;
use std::time::{Duration, Instant};

use bru_core::{Error, ErrorKind, TableDef, TableName};

use crate::ddl;
use crate::quote::{ident, target_name};
use crate::ENGINE_NAME;

use super::{same_engine, PgTarget};

/// How long creating a partition or child waits for its parent table.
const PARENT_WAIT: Duration = Duration::from_secs(120);

impl PgTarget {
    /// Which of `tables` exist in the target ([`bru_core::Target::existing_tables`]).
    pub(super) fn tables_among(
        &mut self,
        tables: &[TableName],
    ) -> bru_core::Result<Vec<TableName>> {
        let rows = self.live()?.query(
            "SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class c
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')",
            &[],
            "listing the target's tables",
        )?;
        let mut existing = HashSet::new();
        for r in &rows {
            let s: String = r
                .try_get(0)
                .map_err(|e| Error::engine("listing tables", e))?;
            let n: String = r
                .try_get(1)
                .map_err(|e| Error::engine("listing tables", e))?;
            existing.insert(TableName::new(Some(&s), &n));
        }
        Ok(tables
            .iter()
            .filter(|t| existing.contains(&target_name(t)))
            .cloned()
            .collect())
    }

    /// Creates `table` without its keys and indexes, with its schema
    /// ([`bru_core::Target::create_table`]).
    pub(super) fn create_bare_table(&mut self, table: &TableDef) -> bru_core::Result<()> {
        let name = target_name(&table.name);
        let context = format!("creating table {name}");
        let create = match &table.native {
            Some(n) if n.engine == ENGINE_NAME => {
                // Checked before the restore started; again where it runs.
                crate::trust::check_table(table, None)
                    .map_err(|e| super::untrusted(&context, e))?;
                n.create.clone()
            }
            _ => {
                // Its defaults go into statements of ours below.
                crate::trust::check_table(table, None)
                    .map_err(|e| super::untrusted(&context, e))?;
                ddl::create_table(table)
            }
        };
        let schema = name.schema.as_deref().unwrap_or("public");
        let sql = format!("CREATE SCHEMA IF NOT EXISTS {};\n{create}", ident(schema));
        // A partition or inheriting child needs its parent, which another
        // session may still be creating: wait for it rather than fail.
        let has_parent = table.property("postgres.partition_of").is_some()
            || table.property("postgres.inherits").is_some();
        let deadline = Instant::now() + PARENT_WAIT;
        // Two sessions creating tables of one new schema at once: both run
        // CREATE SCHEMA IF NOT EXISTS, and the one that loses the race on
        // pg_namespace gets 23505 (an archive of another engine, whose
        // schemas are no entries of their own, as SQL Server's): the
        // schema is there on the next try.
        let mut schema_race = 3;
        // One transaction: the table exists whole or not at all.
        let created = loop {
            match self.run_once(&format!("table {name}"), &sql, &context) {
                Err(e)
                    if has_parent
                        && e.is(ErrorKind::UndefinedObject)
                        && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e)
                    if e.is(ErrorKind::UniqueViolation)
                        && e.to_string().contains("pg_namespace")
                        && schema_race > 0 =>
                {
                    schema_race -= 1;
                }
                other => break other?,
            }
        };
        if !created {
            return Ok(());
        }
        self.shared
            .created
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.clone());
        if !same_engine(table) && !ddl::generates(table) {
            for c in &table.columns {
                if let Some(g) = &c.generated {
                    self.shared.skip(format!(
                        "table {name}, column {}: the generated expression `{}` (another \
                         engine's SQL) was not carried; the column holds the source's values",
                        c.name, g.expr
                    ));
                }
            }
        }
        // A default is another engine's SQL from the archive: one
        // statement, through the extended protocol.
        for (column, sql) in ddl::defaults(table) {
            if let Err(e) = self.live()?.execute_one(&sql, &context) {
                if e.is_transient() {
                    return Err(e);
                }
                self.shared.skip(format!(
                    "table {name}, column {column}: the default was not carried: {e}"
                ));
            }
        }
        Ok(())
    }
}
