//! The archive is data, never code: before a restore plans anything, and in
//! verify, every catalog entry's SQL text is checked by the engine that
//! wrote it ([`Engine::check_table_sql`], [`Engine::check_object_sql`]).
//! Each statement must create (or alter, comment, grant, own) exactly the
//! object the entry declares, of its kind and name, and a trigger, rule or
//! index must be on a table or view the archive itself creates. One entry
//! that does anything else (a second statement, a `DROP`, a trigger on a
//! table the archive does not hold, `ATTACH`, `VACUUM INTO`…) refuses the
//! whole archive, naming the entry, before a target is touched.
//!
//! An entry written by an engine this build does not have is not checked:
//! no target of this build runs another engine's DDL (each target compares
//! `ObjectDef::engine` and `NativeDdl::engine` with its own name and builds
//! such tables from the neutral model). Objects that were not carried
//! (`ObjectDef::not_carried`) are never run, so they are not checked either.
//!
//! The targets check again as they execute (one statement at a time, with
//! SQLite's authorizer and PostgreSQL's extended protocol): this is the
//! first line, the one that names the entry and runs before anything.

use bru_core::{Catalog, Engine, ObjectKind, TableName};

use crate::{Error, Result};

/// Checks every entry of `catalog` with the engine among `engines` that
/// wrote it. Fails with [`Error::UntrustedSql`] on the
/// first entry that does not pass.
pub(crate) fn check_catalog(catalog: &Catalog, engines: &[&dyn Engine]) -> Result<()> {
    let relations = relations(catalog);
    let engine = |name: &str| engines.iter().copied().find(|e| e.name() == name);
    let untrusted = |entry: String, reason: String| Error::UntrustedSql { entry, reason };
    for table in &catalog.tables {
        let Some(native) = &table.native else {
            continue;
        };
        if let Some(e) = engine(&native.engine) {
            e.check_table_sql(table, &relations)
                .map_err(|reason| untrusted(format!("table {}", table.name), reason))?;
        }
    }
    for object in &catalog.objects {
        if object.not_carried.is_some() {
            continue;
        }
        if let Some(e) = engine(&object.engine) {
            e.check_object_sql(object, &relations)
                .map_err(|reason| untrusted(format!("{} {}", object.kind, object.name), reason))?;
        }
    }
    Ok(())
}

/// The tables and views the archive creates: what its triggers, rules and
/// indexes may be on.
fn relations(catalog: &Catalog) -> Vec<TableName> {
    let mut out: Vec<TableName> = catalog.tables.iter().map(|t| t.name.clone()).collect();
    out.extend(
        catalog
            .objects
            .iter()
            .filter(|o| {
                o.not_carried.is_none()
                    && matches!(
                        o.kind,
                        ObjectKind::View | ObjectKind::MaterializedView | ObjectKind::VirtualTable
                    )
            })
            .map(|o| o.name.clone()),
    );
    out
}
