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

#[cfg(test)]
mod tests {
    use super::*;
    use bru_core::{ObjectDef, TableDef};

    fn view(engine: &str, ddl: &str) -> ObjectDef {
        ObjectDef::new(ObjectKind::View, TableName::bare("v"), engine, ddl)
    }

    fn catalog(objects: Vec<ObjectDef>) -> Catalog {
        Catalog {
            tables: vec![TableDef::new(TableName::bare("sites"), Vec::new())],
            objects,
        }
    }

    const ENGINES: &[&dyn Engine] = &[&bru_sqlite::ENGINE];

    #[test]
    fn an_entry_is_checked_by_the_engine_that_wrote_it() {
        let ok = catalog(vec![view("sqlite", "CREATE VIEW v AS SELECT * FROM sites")]);
        check_catalog(&ok, ENGINES).expect("a plain view");

        let bad = catalog(vec![view("sqlite", "DELETE FROM victim")]);
        let err = check_catalog(&bad, ENGINES).unwrap_err().to_string();
        assert!(
            err.contains("catalog entry view v") && err.contains("altered"),
            "{err}"
        );
    }

    #[test]
    fn what_no_engine_of_the_build_runs_is_not_checked() {
        // Another engine's SQL, and an object that was not carried, are
        // never run by any target of this build.
        let foreign = catalog(vec![view("mssql", "DROP TABLE victim")]);
        check_catalog(&foreign, ENGINES).expect("another engine's entry");
        let not_carried = catalog(vec![ObjectDef::not_carried(
            ObjectKind::Aggregate,
            TableName::bare("agg"),
            "sqlite",
            "an aggregate",
        )]);
        check_catalog(&not_carried, ENGINES).expect("a not-carried entry");
        // Without the engine in the list, nothing is checked, and nothing
        // of that engine runs either.
        let bad = catalog(vec![view("sqlite", "DELETE FROM victim")]);
        check_catalog(&bad, &[]).expect("no engine, no check");
    }

    #[test]
    fn triggers_may_be_on_the_archive_s_tables_and_views() {
        let trigger = |table: &str| ObjectDef {
            table: Some(TableName::bare(table)),
            ..ObjectDef::new(
                ObjectKind::Trigger,
                TableName::bare("t"),
                "sqlite",
                format!("CREATE TRIGGER t INSTEAD OF INSERT ON {table} BEGIN SELECT 1; END"),
            )
        };
        let on_view = catalog(vec![
            view("sqlite", "CREATE VIEW v AS SELECT * FROM sites"),
            trigger("v"),
        ]);
        check_catalog(&on_view, ENGINES).expect("a trigger on the archive's view");
        let err = check_catalog(&catalog(vec![trigger("victim")]), ENGINES)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("trigger t") && err.contains("not a table or view of the archive"),
            "{err}"
        );
    }
}
