//! What a view reads, as SQLite's own parser resolves it.
//!
//! Preparing `SELECT * FROM "view"` makes SQLite expand the view (and the
//! views it reads) and ask the authorizer for every column of every table
//! and view it reads (`SQLITE_READ`); those are the view's dependencies, recorded
//! in [`bru_core::ObjectDef::depends_on`] so that a filtered backup or restore leaves
//! out a view over a table it leaves out. Nothing is run: the statement is
//! only prepared. A trigger depends on its table (`ObjectDef::table`) and
//! records no more. A view SQLite cannot prepare (it reads a table that is
//! gone) records none, and the filter falls back to its SQL's identifiers.

use std::sync::{Arc, Mutex};

use bru_core::{Catalog, ObjectKind, TableName};
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::Connection;

use crate::quote::ident;

/// Sets `depends_on` of every object in `catalog` this engine can answer
/// for: views from the tables their query reads, everything else (which
/// hangs on its table, if any) to none beyond that.
pub(crate) fn record_dependencies(conn: &mut Connection, catalog: &mut Catalog) {
    let reads: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&reads);
    let installed = conn
        .authorizer(Some(move |ctx: AuthContext<'_>| {
            if let AuthAction::Read { table_name, .. } = ctx.action {
                if let Ok(mut seen) = seen.lock() {
                    if !seen.iter().any(|t| t.eq_ignore_ascii_case(table_name)) {
                        seen.push(table_name.to_owned());
                    }
                }
            }
            Authorization::Allow
        }))
        .is_ok();
    for object in &mut catalog.objects {
        if object.kind != ObjectKind::View {
            object.depends_on = Some(Vec::new());
            continue;
        }
        if !installed {
            continue;
        }
        if let Ok(mut r) = reads.lock() {
            r.clear();
        }
        let sql = format!("SELECT * FROM main.{}", ident(&object.name.name));
        if conn.prepare(&sql).is_ok() {
            let tables = reads.lock().map(|r| r.clone()).unwrap_or_default();
            object.depends_on = Some(
                tables
                    .iter()
                    .filter(|t| !t.eq_ignore_ascii_case(&object.name.name))
                    .map(|t| TableName::bare(t))
                    .collect(),
            );
        }
    }
    let _ = conn.authorizer(None::<fn(AuthContext<'_>) -> Authorization>);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::read_catalog;

    #[test]
    fn views_depend_on_the_tables_sqlite_reads_not_on_strings() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE agents(id, n); CREATE TABLE sites(id); CREATE TABLE foo(y);
             CREATE VIEW v_agents AS SELECT * FROM agents;
             CREATE VIEW v2 AS SELECT a.n FROM v_agents a JOIN sites s ON s.id = a.id;
             CREATE VIEW labels AS SELECT 'agents' AS label, y FROM foo;
             CREATE TRIGGER t AFTER INSERT ON agents BEGIN DELETE FROM sites; END;",
        )
        .unwrap();
        let mut catalog = read_catalog(&conn).unwrap();
        record_dependencies(&mut conn, &mut catalog);
        let deps = |name: &str| {
            let o = catalog
                .objects
                .iter()
                .find(|o| o.name.name == name)
                .unwrap();
            let mut d: Vec<String> = o
                .depends_on
                .clone()
                .unwrap()
                .into_iter()
                .map(|t| t.name)
                .collect();
            d.sort();
            d
        };
        assert_eq!(deps("v_agents"), ["agents"]);
        // The views it reads, and through them their tables.
        assert_eq!(deps("v2"), ["agents", "sites", "v_agents"]);
        assert_eq!(deps("labels"), ["foo"]);
        assert!(deps("t").is_empty());
        // The authorizer is gone again.
        conn.execute_batch("SELECT * FROM v2").unwrap();
    }
}
