//! User types: enums, composite types and domains (with their defaults,
//! NOT NULL and checks) as `CREATE TYPE` / `CREATE DOMAIN`; range and base
//! types are listed as not carried.

use bru_core::{Error, ObjectDef, ObjectKind};

use crate::conn::Conn;

use super::{each_row, not_carried, not_extension_member, object, USER_NAMESPACE};

/// Enums, composites and domains; range and base types as not carried.
pub(super) fn read_types(conn: &Conn) -> Result<Vec<ObjectDef>, Error> {
    // Enums, composites and domains, in creation order so that a type built
    // on another comes after it.
    each_row(
        conn,
        &format!(
            "SELECT t.oid, n.nspname::text, t.typname::text, t.typtype::text,
                    pg_catalog.format_type(t.oid, NULL),
                    ARRAY(SELECT pg_catalog.quote_literal(e.enumlabel) FROM pg_catalog.pg_enum e
                          WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder),
                    ARRAY(SELECT pg_catalog.quote_ident(a.attname) || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
                          FROM pg_catalog.pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0
                          AND NOT a.attisdropped ORDER BY a.attnum),
                    pg_catalog.format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault,
                    ARRAY(SELECT 'CONSTRAINT ' || pg_catalog.quote_ident(c.conname) || ' ' || pg_catalog.pg_get_constraintdef(c.oid)
                          FROM pg_catalog.pg_constraint c WHERE c.contypid = t.oid ORDER BY c.conname)
             FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
             WHERE {USER_NAMESPACE} AND {}
               AND (t.typtype IN ('e', 'd', 'r', 'b')
                    OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c'))
               AND NOT (t.typtype = 'b' AND t.typelem <> 0 AND t.typlen = -1)
             ORDER BY t.oid",
            not_extension_member("pg_type", "t.oid")
        ),
        &[],
        "reading types",
        |r| {
            let schema: String = get!(r, 1);
            let name: String = get!(r, 2);
            let kind: String = get!(r, 3);
            let qname: String = get!(r, 4);
            let ddl = match kind.as_str() {
                "e" => {
                    let labels: Vec<String> = get!(r, 5);
                    format!("CREATE TYPE {qname} AS ENUM ({})", labels.join(", "))
                }
                "c" => {
                    let attrs: Vec<String> = get!(r, 6);
                    format!("CREATE TYPE {qname} AS ({})", attrs.join(", "))
                }
                "d" => {
                    let base: String = get!(r, 7);
                    let not_null: bool = get!(r, 8);
                    let default: Option<String> = get!(r, 9);
                    let checks: Vec<String> = get!(r, 10);
                    let mut d = format!("CREATE DOMAIN {qname} AS {base}");
                    if let Some(def) = default {
                        d.push_str(&format!(" DEFAULT {def}"));
                    }
                    if not_null {
                        d.push_str(" NOT NULL");
                    }
                    for c in checks {
                        d.push(' ');
                        d.push_str(&c);
                    }
                    d
                }
                "r" => {
                    let reason = format!("range type {qname}");
                    return Ok(not_carried(ObjectKind::Type, Some(&schema), &name, reason));
                }
                _ => {
                    let reason = format!("base type {qname}");
                    return Ok(not_carried(ObjectKind::Type, Some(&schema), &name, reason));
                }
            };
            Ok(object(ObjectKind::Type, Some(&schema), &name, ddl))
        },
    )
}
