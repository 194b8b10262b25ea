//! Functions, procedures and window functions from their own
//! `pg_get_functiondef`, split by whether they need the tables first.
//! Aggregates, which `pg_get_functiondef` refuses, are read by
//! [`super::aggregates`].

use bru_core::{Error, ObjectDef, ObjectKind, Section};

use crate::conn::Conn;
use crate::quote::ident;

use super::{each_row, not_extension_member, object, USER_NAMESPACE};

/// Functions and procedures. Those whose signature uses a table's row type
/// need the table first: they come back in the second list with the kind
/// [`ObjectKind::TableFunction`], which the restore creates after the tables.
/// A window function (`prokind` 'w', `CREATE FUNCTION … WINDOW`) is an
/// [`ObjectKind::WindowFunction`] in the section its signature needs.
pub(super) fn read_functions(conn: &Conn) -> Result<(Vec<ObjectDef>, Vec<ObjectDef>), Error> {
    let rows = each_row(
        conn,
        &format!(
            "SELECT n.nspname::text, p.proname::text, p.prokind::text,
                    p.oid::pg_catalog.regprocedure::text,
                    pg_catalog.pg_get_functiondef(p.oid),
                    EXISTS (SELECT 1 FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_type t ON t.oid = d.refobjid
                            JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
                            WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid
                              AND d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass
                              AND c.relkind IN ('r', 'p', 'v', 'm', 'f'))
             FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
             WHERE p.prokind <> 'a' AND {USER_NAMESPACE} AND {}
             ORDER BY p.oid",
            not_extension_member("pg_proc", "p.oid")
        ),
        &[],
        "reading functions",
        |r| {
            let schema: String = get!(r, 0);
            let kind: String = get!(r, 2);
            let signature: String = get!(r, 3);
            let def: String = get!(r, 4);
            let needs_tables: bool = get!(r, 5);
            let name = signature
                .strip_prefix(&format!("{}.", ident(&schema)))
                .unwrap_or(&signature)
                .to_owned();
            Ok(match kind.as_str() {
                "w" => {
                    let mut o = object(ObjectKind::WindowFunction, Some(&schema), &name, def);
                    o.section = Some(if needs_tables {
                        Section::PostData
                    } else {
                        Section::PreData
                    });
                    (needs_tables, o)
                }
                _ if needs_tables => {
                    (true, object(ObjectKind::TableFunction, Some(&schema), &name, def))
                }
                _ => (false, object(ObjectKind::Function, Some(&schema), &name, def)),
            })
        },
    )?;
    let (post, pre): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(post, _)| *post);
    Ok((
        pre.into_iter().map(|(_, o)| o).collect(),
        post.into_iter().map(|(_, o)| o).collect(),
    ))
}
