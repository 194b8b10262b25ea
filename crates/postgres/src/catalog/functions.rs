//! Functions, procedures and window functions from their own
//! `pg_get_functiondef`, each named by its signature (`f(integer)`, without
//! the schema), so that overloads are distinct entries. Aggregates, which
//! `pg_get_functiondef` refuses, are read by [`super::aggregates`]. Where a function goes (before the tables, or after them when it
//! uses a table's row type or its SQL body reads a table) is the dependency
//! sort's to decide ([`super::order`]). The functions a `CREATE TYPE … AS
//! RANGE` makes (its constructors) are the type's, never read.

use bru_core::{Error, ObjectKind, Section};

use crate::conn::Conn;
use crate::quote::ident;

use super::{each_row, not_extension_member, object, Read, USER_NAMESPACE};

/// Functions and procedures, each with its catalog row.
pub(super) fn read_functions(conn: &Conn) -> Result<Vec<Read>, Error> {
    each_row(
        conn,
        &format!(
            "SELECT n.nspname::text, p.proname::text, p.prokind::text,
                    p.oid::pg_catalog.regprocedure::text,
                    pg_catalog.pg_get_functiondef(p.oid),
                    p.oid
             FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
             WHERE p.prokind <> 'a' AND {USER_NAMESPACE} AND {}
               AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                               WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                                 AND d.objid = p.oid AND d.deptype = 'i')
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
            let oid: u32 = get!(r, 5);
            let name = signature
                .strip_prefix(&format!("{}.", ident(&schema)))
                .unwrap_or(&signature)
                .to_owned();
            let def = if kind == "w" {
                // A kind the restore makes after the tables by default: a
                // window function goes before them, unless the sort finds
                // it needs them.
                let mut o = object(ObjectKind::WindowFunction, Some(&schema), &name, def);
                o.section = Some(Section::PreData);
                o
            } else {
                object(ObjectKind::Function, Some(&schema), &name, def)
            };
            Ok(Read::new(def, "pg_proc", oid))
        },
    )
}
