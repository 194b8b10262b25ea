//! Table names as the target holds them: clashes and `--schema-prefix`.
//!
//! A target with one namespace (SQLite) cannot hold `a.staff` and
//! `b.staff` of a PostgreSQL archive: both would be `staff`, and the second
//! restore step into it would fail half-way; nor two indexes `staff_name`
//! of two schemas. [`clashes`] finds such tables and indexes with
//! [`bru_core::Target::name_here`] before anything is written, and the
//! error names them with the two ways forward: `--exclude` one of them, or
//! [`prefix_schemas`] (`--schema-prefix`), which restores `a.staff` as
//! `a_staff`, with its indexes (`a_staff_pkey`: index names share the one
//! namespace too) and every foreign key that points to it. The SQL of a view
//! or trigger names the old table and cannot be rewritten safely, so such
//! objects are skipped and listed.

use std::collections::{BTreeMap, BTreeSet};

use bru_core::{ObjectDef, TableDef, TableName, Target};

use super::selection::JobTable;
use crate::summary::object_name;

/// `schema.name` as `schema_name`, without a schema; a name without a
/// schema stays as it is.
pub(crate) fn prefixed(name: &TableName) -> TableName {
    match &name.schema {
        Some(s) => TableName::bare(&format!("{s}_{}", name.name)),
        None => name.clone(),
    }
}

/// `--schema-prefix`: renames the tables of `tables` (their indexes, the
/// foreign keys between them and the tables they are created after), and
/// keeps of `objects` only those that name no renamed table; the others are
/// returned as skipped lines, with the reason.
pub(crate) fn prefix_schemas(
    tables: &mut [TableDef],
    objects: Vec<ObjectDef>,
) -> (Vec<ObjectDef>, Vec<String>) {
    let renamed: BTreeSet<TableName> = tables
        .iter()
        .filter(|t| t.name.schema.is_some())
        .map(|t| t.name.clone())
        .collect();
    let rename = |n: &TableName| {
        if renamed.contains(n) {
            prefixed(n)
        } else {
            n.clone()
        }
    };
    for t in tables.iter_mut() {
        if let Some(schema) = t.name.schema.clone() {
            for index in &mut t.indexes {
                index.name = format!("{schema}_{}", index.name);
            }
        }
        t.name = rename(&t.name);
        for fk in &mut t.foreign_keys {
            fk.ref_table = rename(&fk.ref_table);
        }
        for parent in &mut t.created_after {
            *parent = rename(parent);
        }
    }
    let mut kept = Vec::new();
    let mut skipped = Vec::new();
    for o in objects {
        let names = o
            .table
            .iter()
            .chain(o.depends_on.iter().flatten())
            .find(|n| renamed.contains(n));
        match names {
            Some(n) => skipped.push(format!(
                "{}: its SQL names table {n}, which --schema-prefix restores as {}",
                object_name(&o),
                prefixed(n)
            )),
            None => kept.push(o),
        }
    }
    (kept, skipped)
}

/// [`prefix_schemas`] on the selected tables of a restore, whose names
/// (for the summary and the journal keys) follow their definitions.
pub(crate) fn prefix_job_tables(
    tables: &mut [JobTable],
    objects: Vec<ObjectDef>,
) -> (Vec<ObjectDef>, Vec<String>) {
    let mut defs: Vec<TableDef> = tables.iter().map(|t| t.entry.def.clone()).collect();
    let (kept, skipped) = prefix_schemas(&mut defs, objects);
    for (t, def) in tables.iter_mut().zip(defs) {
        t.name = def.name.to_string();
        t.entry.def = def;
    }
    (kept, skipped)
}

/// Archive objects that would have one name in the target.
#[derive(Debug)]
pub(crate) struct Clash {
    /// The name they would share there.
    pub here: TableName,
    /// Each as `table a.staff` or `index a.staff_name`.
    pub items: Vec<String>,
    /// The table of the last of them, for an `--exclude` example.
    pub table: TableName,
}

/// The tables, and the indexes (which share the one namespace of a
/// SQLite database with the tables), that would have one name in `target`,
/// in name order.
pub(crate) fn clashes(target: &dyn Target, tables: &[&TableDef]) -> Vec<Clash> {
    let mut by_name: BTreeMap<TableName, Vec<(String, TableName)>> = BTreeMap::new();
    for t in tables {
        let mut add = |what: &str, name: TableName| {
            by_name
                .entry(target.name_here(&name))
                .or_default()
                .push((format!("{what} {name}"), t.name.clone()));
        };
        add("table", t.name.clone());
        for index in &t.indexes {
            add(
                "index",
                TableName::new(t.name.schema.as_deref(), &index.name),
            );
        }
    }
    by_name
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(here, v)| Clash {
            here,
            table: v.last().map(|(_, t)| t.clone()).expect("two at least"),
            items: v.into_iter().map(|(item, _)| item).collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bru_core::{FkAction, ForeignKey, IndexDef, ObjectKind};

    #[test]
    fn prefix_renames_tables_indexes_and_foreign_keys_and_skips_views() {
        let name = |s: &str, n: &str| TableName::new(Some(s), n);
        let mut staff = TableDef::new(name("a", "staff"), Vec::new());
        staff.indexes.push(IndexDef {
            name: "staff_email".into(),
            columns: vec!["email".into()],
            unique: true,
            predicate: None,
            method: None,
            native_ddl: None,
        });
        let mut other = TableDef::new(name("b", "staff"), Vec::new());
        other.foreign_keys.push(ForeignKey {
            name: None,
            columns: vec!["boss".into()],
            ref_table: name("a", "staff"),
            ref_columns: vec!["id".into()],
            on_delete: FkAction::default(),
            on_update: FkAction::default(),
            deferrable: false,
            initially_deferred: false,
        });
        let mut view = ObjectDef::new(ObjectKind::View, name("a", "v"), "postgres", "CREATE VIEW");
        view.depends_on = Some(vec![name("a", "staff")]);
        let mut func = ObjectDef::new(ObjectKind::Function, name("a", "f"), "postgres", "CREATE");
        func.depends_on = Some(Vec::new());
        let mut tables = vec![staff, other];
        let (kept, skipped) = prefix_schemas(&mut tables, vec![view, func]);
        assert_eq!(tables[0].name, TableName::bare("a_staff"));
        assert_eq!(tables[0].indexes[0].name, "a_staff_email");
        assert_eq!(tables[1].name, TableName::bare("b_staff"));
        assert_eq!(
            tables[1].foreign_keys[0].ref_table,
            TableName::bare("a_staff")
        );
        assert_eq!(kept.len(), 1);
        assert_eq!(
            skipped,
            ["view a.v: its SQL names table a.staff, which --schema-prefix restores as a_staff"]
        );
    }
}
