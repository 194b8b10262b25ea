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
//! A table is also checked by every other engine of the build, for the
//! expressions its targets would splice into their own SQL when they build
//! it from the neutral model (a PostgreSQL target sets a SQLite column's
//! default with `ALTER TABLE … SET DEFAULT <expr>`).
//!
//! An entry written by an engine this build does not have is not checked
//! otherwise: no target of this build runs another engine's DDL (each target compares
//! `ObjectDef::engine` and `NativeDdl::engine` with its own name and builds
//! such tables from the neutral model). Objects that were not carried
//! (`ObjectDef::not_carried`) are never run, so they are not checked either.
//!
//! No entry's SQL text may be longer than [`MAX_ENTRY_SQL`] (4 MiB): the
//! checkers read a text into tokens, some 24 bytes each, so 60 MB of `,1`
//! took gigabytes.
//!
//! A table's foreign keys must be to tables of the archive.
//!
//! An owner, privileges or sequence ownership entry must be for an object
//! the archive creates (its engine's check makes its statements name the
//! entry's object), so that it never hands a function, sequence or type of
//! the target's own to another role, nor a sequence of the target's own to
//! a table of the archive (dropped with it).
//!
//! The targets check again as they execute (one statement at a time, with
//! SQLite's authorizer and PostgreSQL's extended protocol): this is the
//! first line, the one that names the entry and runs before anything.

use bru_core::{Catalog, Declared, Engine, ObjectDef, ObjectKind, TableName};

use crate::{Error, Result};

/// Checks every entry of `catalog` with the engine among `engines` that
/// wrote it. Fails with [`Error::UntrustedSql`] on the
/// first entry that does not pass.
/// The longest SQL text one entry may hold, in bytes: far above any real
/// view, function or table definition, and a bound on what checking it
/// takes (a token of some 24 bytes for each byte of `,,,,` or `a;a;`).
pub(crate) const MAX_ENTRY_SQL: usize = 4 << 20;

/// Refuses an entry whose SQL text is longer than [`MAX_ENTRY_SQL`].
fn bounded<'t>(texts: impl IntoIterator<Item = &'t str>) -> std::result::Result<(), String> {
    match texts.into_iter().map(str::len).find(|&n| n > MAX_ENTRY_SQL) {
        Some(n) => Err(format!(
            "holds {n} bytes of SQL in one statement text, more than the {MAX_ENTRY_SQL} any \
             backup writes"
        )),
        None => Ok(()),
    }
}

/// At backup, so that an archive never holds what its restore refuses: an
/// object whose SQL text is longer than [`MAX_ENTRY_SQL`] is not carried
/// (listed as skipped, with the reason), and a table whose SQL is fails
/// the backup, naming it.
/// Returns what it left out, for the backup's list of what it skipped.
pub(crate) fn bound_for_backup(catalog: &mut Catalog) -> Result<Vec<String>> {
    let mut skipped = Vec::new();
    for table in &catalog.tables {
        if bounded(table_texts(table)).is_err() {
            let bytes = table_texts(table).map(str::len).max().unwrap_or(0);
            return Err(Error::SqlTooLong {
                table: table.name.to_string(),
                bytes,
                max: MAX_ENTRY_SQL,
            });
        }
    }
    for object in &mut catalog.objects {
        if object.not_carried.is_some() {
            continue;
        }
        if let Err(reason) =
            bounded(std::iter::once(object.ddl.as_str()).chain(object.data.as_deref()))
        {
            let reason = format!("its SQL is too long to carry: it {reason}");
            skipped.push(format!("{} {}: {reason}", object.kind, object.name));
            let mut left_out = ObjectDef::not_carried(
                object.kind.clone(),
                object.name.clone(),
                object.engine.clone(),
                reason,
            );
            left_out.table = object.table.take();
            left_out.depends_on = std::mem::take(&mut object.depends_on);
            *object = left_out;
        }
    }
    Ok(skipped)
}

/// The SQL texts of `table` that a target may run or splice.
fn table_texts(table: &bru_core::TableDef) -> impl Iterator<Item = &str> {
    table
        .native
        .iter()
        .map(|n| n.create.as_str())
        .chain(table.indexes.iter().filter_map(|i| i.native_ddl.as_deref()))
        .chain(table.indexes.iter().filter_map(|i| i.predicate.as_deref()))
        .chain(table.columns.iter().filter_map(|c| c.default.as_deref()))
        .chain(
            table
                .columns
                .iter()
                .filter_map(|c| c.generated.as_ref().map(|g| g.expr.as_str())),
        )
        .chain(table.checks.iter().map(|c| c.expr.as_str()))
        .chain(table.properties.values().map(String::as_str))
}

pub(crate) fn check_catalog(catalog: &Catalog, engines: &[&dyn Engine]) -> Result<()> {
    let archive = Declared::of(catalog);
    let engine = |name: &str| engines.iter().copied().find(|e| e.name() == name);
    let untrusted = |entry: String, reason: String| Error::UntrustedSql { entry, reason };
    // Every engine, not only the writer: a target builds another engine's
    // table from the neutral model, splicing its expressions (defaults,
    // CHECKs) into its own SQL, and only it knows how it reads them.
    for table in &catalog.tables {
        let texts = table_texts(table);
        bounded(texts).map_err(|reason| untrusted(format!("table {}", table.name), reason))?;
        // A target builds a foreign key from the neutral model when it has
        // no definition of its own engine's; a backup leaves out one to a
        // table it leaves out (module `filter`), so every one is to a table
        // of the archive. Compared ignoring ASCII case, as SQLite writes a
        // reference the way its DDL spells it.
        let same = |a: &TableName, b: &TableName| {
            let eq = |x: &str, y: &str| x.eq_ignore_ascii_case(y);
            eq(&a.name, &b.name)
                && match (&a.schema, &b.schema) {
                    (Some(x), Some(y)) => eq(x, y),
                    (None, None) => true,
                    _ => false,
                }
        };
        if let Some(fk) = table
            .foreign_keys
            .iter()
            .find(|fk| !catalog.tables.iter().any(|t| same(&t.name, &fk.ref_table)))
        {
            return Err(untrusted(
                format!("table {}", table.name),
                format!(
                    "has a foreign key to {}, which is not a table of the archive",
                    fk.ref_table
                ),
            ));
        }
        for e in engines {
            e.check_table_sql(table, &archive)
                .map_err(|reason| untrusted(format!("table {}", table.name), reason))?;
        }
    }
    for object in &catalog.objects {
        if object.not_carried.is_some() {
            continue;
        }
        bounded(std::iter::once(object.ddl.as_str()).chain(object.data.as_deref()))
            .map_err(|reason| untrusted(format!("{} {}", object.kind, object.name), reason))?;
        // A domain constraint alters a domain: one of the archive's types.
        let created = match object.kind {
            ObjectKind::Owner | ObjectKind::Privileges | ObjectKind::SequenceOwnership => {
                Some(creates(catalog, &object.name))
            }
            ObjectKind::DomainConstraint => Some(catalog.objects.iter().any(|o| {
                o.not_carried.is_none() && o.kind == ObjectKind::Type && o.name == object.name
            })),
            _ => None,
        };
        if created == Some(false) && engine(&object.engine).is_some() {
            return Err(untrusted(
                format!("{} {}", object.kind, object.name),
                format!(
                    "is for {}, which the archive does not create (it would change an object \
                     of the target's own)",
                    object.name
                ),
            ));
        }
        if let ObjectKind::Other(kind) = &object.kind {
            if let Some(publication) = MEMBERSHIPS
                .iter()
                .find(|(k, _)| k == kind)
                .map(|(_, of)| ObjectKind::Other((*of).into()))
            {
                let created = catalog.objects.iter().any(|o| {
                    o.not_carried.is_none()
                        && o.kind == publication
                        && o.name.name == object.name.name
                });
                if !created {
                    return Err(untrusted(
                        format!("{} {}", object.kind, object.name),
                        format!(
                            "adds to {publication} {}, which the archive does not create (it \
                             would change one of the target's own)",
                            object.name.name
                        ),
                    ));
                }
            }
        }
        if let Some(e) = engine(&object.engine) {
            e.check_object_sql(object, &archive)
                .map_err(|reason| untrusted(format!("{} {}", object.kind, object.name), reason))?;
        }
    }
    Ok(())
}

/// The kinds of entry that add to another object of the archive (a
/// PostgreSQL publication's table or schema, `ALTER PUBLICATION p ADD …`),
/// with the kind of that object, which the entry names: it must be one the
/// archive creates.
const MEMBERSHIPS: &[(&str, &str)] = &[
    ("publication table", "publication"),
    ("publication schema", "publication"),
];

/// Whether the archive creates an object named `name` that can have an
/// owner and privileges: a table, or an entry it carries (a schema, type,
/// sequence, view, function), or the sequence of a table's identity column,
/// which comes with the table (PostgreSQL names it `<table>_<column>_seq`,
/// shortened to fit).
fn creates(catalog: &Catalog, name: &TableName) -> bool {
    let identity_sequence = |t: &bru_core::TableDef| {
        t.name.schema == name.schema
            && t.columns.iter().any(|c| c.identity.is_some())
            && name
                .name
                .strip_prefix(t.name.name.as_str())
                .is_some_and(|rest| rest.starts_with('_'))
    };
    catalog
        .tables
        .iter()
        .any(|t| t.name == *name || identity_sequence(t))
        || catalog.objects.iter().any(|o| {
            o.not_carried.is_none()
                && o.name == *name
                && !matches!(
                    o.kind,
                    ObjectKind::Owner
                        | ObjectKind::Privileges
                        | ObjectKind::SystemPrivileges
                        | ObjectKind::Comment
                        | ObjectKind::SequenceOwnership
                        | ObjectKind::DomainConstraint
                )
        })
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
    fn an_entry_s_sql_is_bounded_before_an_engine_reads_it() {
        let long = format!(
            "CREATE VIEW v AS SELECT 1{}",
            ",1".repeat(MAX_ENTRY_SQL / 2)
        );
        let err = check_catalog(&catalog(vec![view("sqlite", &long)]), ENGINES)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("catalog entry view v") && err.contains("bytes of SQL"),
            "{err}"
        );
        let mut big_default = catalog(Vec::new());
        big_default.tables[0]
            .columns
            .push(bru_testsupport::tables::column(
                "a",
                bru_core::ColumnType::Int64,
            ));
        big_default.tables[0].columns[0].default = Some("1".repeat(MAX_ENTRY_SQL + 1));
        let err = check_catalog(&big_default, ENGINES)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("catalog entry table sites") && err.contains("bytes of SQL"),
            "{err}"
        );
    }

    #[test]
    fn a_backup_carries_no_sql_longer_than_a_restore_checks() {
        let long = format!(
            "CREATE VIEW v AS SELECT 1{}",
            ",1".repeat(MAX_ENTRY_SQL / 2)
        );
        let mut c = catalog(vec![view("sqlite", &long)]);
        let skipped = bound_for_backup(&mut c).unwrap();
        assert!(
            skipped[0].starts_with("view v: its SQL is too long"),
            "{skipped:?}"
        );
        let reason = c.objects[0].not_carried.as_deref().expect("not carried");
        assert!(reason.contains("too long to carry"), "{reason}");
        check_catalog(&c, ENGINES).expect("a not-carried entry is not checked");
        let mut c = catalog(Vec::new());
        c.tables[0].checks.push(bru_core::CheckConstraint {
            name: None,
            expr: "1".repeat(MAX_ENTRY_SQL + 1),
        });
        let err = bound_for_backup(&mut c).unwrap_err().to_string();
        assert!(
            err.contains("table sites") && err.contains("--exclude"),
            "{err}"
        );
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
