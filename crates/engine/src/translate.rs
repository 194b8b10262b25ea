//! A cross-engine restore's schema translation: before the plan is built,
//! the archive's views, CHECKs, defaults, partial-index predicates and
//! index expressions written for another engine are translated into the
//! target's SQL by `bru-translate`, or left out and listed with the
//! construct that has no exact translation and the source text.
//!
//! It runs at [`crate::RestoreJob::open`], where the target's engine is
//! known from [`crate::RestoreOptions::target_engine`] but the target is
//! not opened, so `--dry-run` shows every translation and every skip before
//! anything is touched. A translated view becomes an object of the target's
//! engine (so the target runs it through its own trust checks, which allow
//! only the declared `CREATE VIEW`); a view that reads a view left out is
//! left out with it, naming it.
//!
//! Table expressions are translated for both directions. A table whose
//! expressions were translated is marked [`TableDef::translated_for`] with
//! the target's engine, which is how a target that builds its tables from
//! the neutral model (SQLite) knows it may write them; what could not be
//! translated is removed from the table first and listed.

use bru_core::{ObjectDef, ObjectKind, TableDef, TableName};
use bru_translate::{Catalog, Dialect, ExprRole, Relation, Translator};

use crate::summary::object_name;

/// What the translation did, one line each, for `--dry-run` and the
/// summary.
#[derive(Debug, Default)]
pub(crate) struct Translations {
    /// `view v: translated from sqlite: CREATE VIEW …`.
    pub translated: Vec<String>,
    /// `view v: not translated from sqlite (reason): source text`.
    pub skipped: Vec<String>,
}

/// Translates, for a target of engine `target`, what `tables` and
/// `objects` hold in another engine's SQL (see the module docs). A table
/// without its engine's own DDL (SQL Server's tables carry none) is in the
/// SQL of `source`, the archive's engine. Objects left out are removed
/// from `objects`.
pub(crate) fn translate(
    target: &str,
    source: &str,
    tables: &mut [&mut TableDef],
    objects: &mut Vec<ObjectDef>,
) -> Translations {
    let mut out = Translations::default();
    let Some(to) = Dialect::of_engine(target) else {
        return out;
    };
    let mut catalog = Catalog::new(tables.iter().map(|t| &**t));
    for table in tables.iter_mut() {
        translate_table(to, source, &catalog, table, &mut out);
    }
    let mut left_out: Vec<TableName> = Vec::new();
    let mut kept = Vec::with_capacity(objects.len());
    for mut object in std::mem::take(objects) {
        let foreign_view = object.kind == ObjectKind::View
            && object.engine != target
            && object.not_carried.is_none();
        let Some(from) = foreign_view
            .then(|| Dialect::of_engine(&object.engine))
            .flatten()
        else {
            kept.push(object);
            continue;
        };
        let what = object_name(&object);
        let reads_left_out = object
            .depends_on
            .iter()
            .flatten()
            .find(|d| left_out.contains(d));
        let result = match reads_left_out {
            Some(d) => Err(format!("it reads view {d}, which is not translated")),
            None => Translator::new(from, to, &catalog)
                .and_then(|t| t.view(&object.name, &object.ddl))
                .map_err(|r| r.to_string()),
        };
        match result {
            Ok(view) => {
                out.translated.push(format!(
                    "{what}: translated from {}: {}",
                    object.engine,
                    one_line(&view.ddl)
                ));
                catalog.add(Relation {
                    name: object.name.clone(),
                    columns: view.columns,
                });
                object.name = bru_translate::target_name(to, &object.name);
                object.engine = target.to_owned();
                object.ddl = view.ddl;
                object.depends_on = Some(
                    view.reads
                        .iter()
                        .map(|r| bru_translate::target_name(to, r))
                        .collect(),
                );
                kept.push(object);
            }
            Err(reason) => {
                out.skipped.push(format!(
                    "{what}: not translated from {} ({reason}): {}",
                    object.engine,
                    one_line(&object.ddl)
                ));
                left_out.push(object.name.clone());
            }
        }
    }
    *objects = kept;
    out
}

/// A table's CHECKs, defaults, index expressions and predicates.
fn translate_table(
    to: Dialect,
    source: &str,
    catalog: &Catalog,
    table: &mut TableDef,
    out: &mut Translations,
) {
    let engine = table.native.as_ref().map_or(source, |n| n.engine.as_str());
    let Some(from) = Dialect::of_engine(engine) else {
        return;
    };
    if from == to {
        return;
    }
    let Ok(t) = Translator::new(from, to, catalog) else {
        return;
    };
    table.translated_for = Some(to.engine().to_owned());
    let name = table.name.clone();
    let engine = from.engine();
    let mut note = |ok: Result<String, String>, what: String, source: &str| match ok {
        Ok(sql) => {
            out.translated.push(format!(
                "table {name}: {what}: translated from {engine}: {sql}"
            ));
            Some(sql)
        }
        Err(reason) => {
            out.skipped.push(format!(
                "table {name}: {what}: not translated from {engine} ({reason}): {source}"
            ));
            None
        }
    };
    let checks = std::mem::take(&mut table.checks);
    for mut check in checks {
        let what = match &check.name {
            Some(n) => format!("CHECK {n}"),
            None => "CHECK".to_owned(),
        };
        let r = t
            .expression(&name, ExprRole::Check, &check.expr)
            .map_err(|e| e.to_string());
        if let Some(sql) = note(r, what, &check.expr) {
            check.expr = sql;
            table.checks.push(check);
        }
    }
    for c in 0..table.columns.len() {
        let column = &table.columns[c];
        let (Some(default), None, None) = (&column.default, &column.generated, &column.identity)
        else {
            continue;
        };
        let r = t
            .expression(&name, ExprRole::Default(&column.name), default)
            .map_err(|e| e.to_string());
        let what = format!("column {}: default", column.name);
        let source = default.clone();
        table.columns[c].default = note(r, what, &source);
    }
    // The target computes a translated generated column; one that is not
    // translated is a plain column holding the source's values, listed.
    for c in 0..table.columns.len() {
        let Some(g) = table.columns[c].generated.clone() else {
            continue;
        };
        let column = table.columns[c].name.clone();
        let in_key = table
            .primary_key
            .as_ref()
            .is_some_and(|pk| pk.columns.contains(&column));
        let r = if to == Dialect::Sqlite && in_key {
            Err("a generated column in the primary key, which SQLite does not allow".to_owned())
        } else {
            t.expression(&name, ExprRole::Generated(&column), &g.expr)
                .map_err(|e| e.to_string())
        };
        let what = format!("column {column}: generated");
        table.columns[c].generated = note(r, what, &g.expr).map(|expr| bru_core::Generated {
            expr,
            stored: g.stored,
        });
    }
    let indexes = std::mem::take(&mut table.indexes);
    for mut index in indexes {
        let mut failed = None;
        let mut columns = Vec::with_capacity(index.columns.len());
        for c in &index.columns {
            if let Some(i) = plain_column(from, table, c) {
                columns.push(table.columns[i].name.clone());
                continue;
            }
            match t.expression(&name, ExprRole::IndexExpr, c) {
                Ok(sql) => columns.push(sql),
                Err(e) => {
                    failed = Some((e.to_string(), c.clone()));
                    break;
                }
            }
        }
        let predicate = match (&failed, &index.predicate) {
            (None, Some(p)) => match t.expression(&name, ExprRole::Predicate, p) {
                Ok(sql) => Some(sql),
                Err(e) => {
                    failed = Some((e.to_string(), p.clone()));
                    None
                }
            },
            _ => None,
        };
        let changed = columns != index.columns || predicate.is_some();
        let what = format!("index {}", index.name);
        match failed {
            Some((reason, source)) => {
                note(Err(reason), what, &source);
            }
            None => {
                if changed {
                    let shown: Vec<String> = columns
                        .iter()
                        .map(|c| match table.column_index(c) {
                            Some(_) => format!("\"{}\"", c.replace('"', "\"\"")),
                            None => c.clone(),
                        })
                        .collect();
                    let shown = format!(
                        "({}){}",
                        shown.join(", "),
                        predicate
                            .as_deref()
                            .map(|p| format!(" WHERE {p}"))
                            .unwrap_or_default()
                    );
                    note(Ok(shown), what, "");
                }
                index.columns = columns;
                index.predicate = predicate;
                table.indexes.push(index);
            }
        }
    }
}

/// The column that index column `c` names, when it is a plain column:
/// PostgreSQL's `pg_get_indexdef` quotes a name that needs it (`"Site Id"`).
fn plain_column(from: Dialect, table: &TableDef, c: &str) -> Option<usize> {
    if let Some(i) = table.column_index(c) {
        return Some(i);
    }
    let inner = c.strip_prefix('"')?.strip_suffix('"')?;
    if from != Dialect::Postgres || inner.replace("\"\"", "").contains('"') {
        return None;
    }
    table.column_index(&inner.replace("\"\"", "\""))
}

/// `sql` on one line, for a summary line.
fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}
