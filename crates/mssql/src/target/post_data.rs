//! Post-data for one table: the identity reseeded to the source's current
//! value, then the primary key, unique constraints, indexes and checks
//! ([`MssqlTarget::add_keys_and_indexes`]), and the foreign keys once the
//! tables they join are loaded. Each statement is one step that a resumed
//! restore may run again: "already exists" for an object an earlier
//! attempt may have made counts as done (named keys; unnamed ones get a
//! name made from the table and columns, see [`super::ddl`]).

use bru_core::{Error, TableDef};

use super::ddl;
use super::quote::{nstr, qualified};
use super::session::{cell_int, text_param};
use super::MssqlTarget;

impl MssqlTarget {
    /// Sets the identity of `table` to the archive's last value
    /// ([`bru_core::Target::restore_identity`]): `DBCC CHECKIDENT … RESEED`,
    /// which is idempotent. A table that never received a row hands out
    /// the reseed value itself next, one that did the value plus the
    /// increment; so the former is reseeded one increment further, and
    /// both hand out what the source would have next.
    pub(super) fn reseed(&mut self, table: &TableDef) -> bru_core::Result<()> {
        let Some((column, id)) = table
            .columns
            .iter()
            .find_map(|c| c.identity.as_ref().map(|i| (c, i)))
        else {
            return Ok(());
        };
        let Some(last) = id.last_value else {
            return Ok(());
        };
        let q = qualified(&table.name);
        let context = format!("setting the identity of {}.{}", table.name, column.name);
        let rows = self.session.rows(
            "SELECT CAST(last_value AS bigint), CAST(increment_value AS bigint) \
               FROM sys.identity_columns WHERE object_id = OBJECT_ID(@P1)",
            vec![text_param(&q)],
            &context,
        )?;
        let Some(row) = rows.into_iter().next() else {
            // The target column is no identity (another engine's second
            // identity column, reported when the table was created).
            return Ok(());
        };
        let mut cells = row.into_iter();
        let used = cells.next().and_then(cell_int);
        let increment = cells.next().and_then(cell_int).unwrap_or(1);
        let value = if used.is_some() {
            last
        } else {
            last.checked_add(increment).ok_or_else(|| {
                Error::engine(
                    &context,
                    format!("the identity's last value {last} is at its limit"),
                )
            })?
        };
        self.session.batch(
            &format!(
                "DBCC CHECKIDENT ({}, RESEED, {value}) WITH NO_INFOMSGS",
                checkident_name(&table.name)
            ),
            &context,
        )
    }

    /// The primary key, unique constraints, indexes and checks of `table`
    /// ([`bru_core::Target::finish_table`]).
    pub(super) fn add_keys_and_indexes(&mut self, table: &TableDef) -> bru_core::Result<()> {
        let t = &table.name;
        if let Some((name, sql)) = ddl::primary_key(table)? {
            self.run_once(
                &format!("primary key {name} on {t}"),
                &sql,
                &format!("adding primary key {name} to {t}"),
            )?;
        }
        for u in &table.uniques {
            let (name, sql) = ddl::unique(table, u)?;
            self.run_once(
                &format!("unique {name} on {t}"),
                &sql,
                &format!("adding unique constraint {name} to {t}"),
            )?;
        }
        for ix in &table.indexes {
            match ddl::index(table, ix)? {
                Ok(statements) => {
                    self.run_once(
                        &format!("index {} on {t}", ix.name),
                        &together(&statements),
                        &format!("creating index {} on {t}", ix.name),
                    )?;
                }
                Err(line) => self.shared.skip(line),
            }
        }
        for c in &table.checks {
            match ddl::check(table, c) {
                Ok((name, statements)) => {
                    self.run_once(
                        &format!("check {name} on {t}"),
                        &together(&statements),
                        &format!("adding check constraint {name} to {t}"),
                    )?;
                }
                Err(line) => self.shared.skip(line),
            }
        }
        Ok(())
    }

    /// The foreign keys of `table` ([`bru_core::Target::add_foreign_keys`]).
    pub(super) fn add_table_foreign_keys(&mut self, table: &TableDef) -> bru_core::Result<()> {
        for fk in &table.foreign_keys {
            let (name, statements, skipped) = ddl::foreign_key(table, fk);
            self.run_once(
                &format!("foreign key {name} on {}", table.name),
                &together(&statements),
                &format!("adding foreign key {name} to {}", table.name),
            )?;
            for line in skipped {
                self.shared.skip(line);
            }
        }
        Ok(())
    }
}

/// `statements` as one batch in one transaction, so a resumed restore
/// finds all of them done or none (the session runs with XACT_ABORT ON).
fn together(statements: &[String]) -> String {
    match statements {
        [one] => one.clone(),
        many => format!(
            "BEGIN TRANSACTION;\n{};\nCOMMIT TRANSACTION",
            many.join(";\n")
        ),
    }
}

/// The table name DBCC CHECKIDENT takes, as a string literal:
/// `'schema.name'` when both are plain identifiers (Babelfish reads a
/// bracketed name, or an `N'…'` string, there as part of the schema's
/// name), else `N'[schema].[name]'`.
fn checkident_name(table: &bru_core::TableName) -> String {
    let plain = |s: &str| {
        s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let schema = super::quote::schema_of(table);
    if plain(schema) && plain(&table.name) {
        format!("'{schema}.{}'", table.name)
    } else {
        nstr(&qualified(table))
    }
}
