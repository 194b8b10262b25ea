//! Comments (`COMMENT ON`) on relations, columns, functions, types,
//! schemas, constraints and triggers, each its own object so that it follows
//! the object it describes.

use bru_core::{Error, ObjectDef, ObjectKind};

use crate::conn::Conn;

use super::{each_row, object, USER_NAMESPACE};

/// The comments on user objects, as `COMMENT ON` statements.
pub(super) fn read_comments(conn: &Conn) -> Result<Vec<ObjectDef>, Error> {
    each_row(
        conn,
        &format!(
            "SELECT n.nspname::text,
                    c.relname::text || CASE WHEN d.objsubid > 0 THEN '.' || a.attname::text ELSE '' END,
                    pg_catalog.format('COMMENT ON %s %s IS %L',
                      CASE WHEN d.objsubid > 0 THEN 'COLUMN'
                           ELSE CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                WHEN 'S' THEN 'SEQUENCE' WHEN 'i' THEN 'INDEX' WHEN 'I' THEN 'INDEX'
                                ELSE 'TABLE' END END,
                      c.oid::pg_catalog.regclass::text ||
                        CASE WHEN d.objsubid > 0 THEN '.' || pg_catalog.quote_ident(a.attname) ELSE '' END,
                      d.description)
             FROM pg_catalog.pg_description d
             JOIN pg_catalog.pg_class c ON d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND c.oid = d.objoid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
             WHERE {USER_NAMESPACE}
             UNION ALL
             SELECT n.nspname::text, p.oid::pg_catalog.regprocedure::text,
                    pg_catalog.format('COMMENT ON %s %s IS %L', CASE p.prokind WHEN 'p' THEN 'PROCEDURE'
                      WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
                      CASE WHEN p.prokind = 'a' AND p.pronargs = 0
                           THEN pg_catalog.left(p.oid::pg_catalog.regprocedure::text, -2) || '(*)'
                           ELSE p.oid::pg_catalog.regprocedure::text END, d.description)
             FROM pg_catalog.pg_description d
             JOIN pg_catalog.pg_proc p ON d.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND p.oid = d.objoid
             JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
             WHERE {USER_NAMESPACE}
             UNION ALL
             SELECT n.nspname::text, t.typname::text,
                    pg_catalog.format('COMMENT ON %s %s IS %L', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
                      pg_catalog.format_type(t.oid, NULL), d.description)
             FROM pg_catalog.pg_description d
             JOIN pg_catalog.pg_type t ON d.classoid = 'pg_catalog.pg_type'::pg_catalog.regclass AND t.oid = d.objoid
             JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
             WHERE {USER_NAMESPACE}
             UNION ALL
             SELECT n.nspname::text, n.nspname::text,
                    pg_catalog.format('COMMENT ON SCHEMA %I IS %L', n.nspname, d.description)
             FROM pg_catalog.pg_description d
             JOIN pg_catalog.pg_namespace n ON d.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND n.oid = d.objoid
             WHERE {USER_NAMESPACE}
             UNION ALL
             SELECT n.nspname::text, con.conname::text,
                    CASE WHEN con.contypid <> 0
                      THEN pg_catalog.format('COMMENT ON CONSTRAINT %I ON DOMAIN %s IS %L', con.conname,
                             pg_catalog.format_type(con.contypid, NULL), d.description)
                      ELSE pg_catalog.format('COMMENT ON CONSTRAINT %I ON %s IS %L', con.conname,
                             con.conrelid::pg_catalog.regclass::text, d.description) END
             FROM pg_catalog.pg_description d
             JOIN pg_catalog.pg_constraint con ON d.classoid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND con.oid = d.objoid
             JOIN pg_catalog.pg_namespace n ON n.oid = con.connamespace
             WHERE {USER_NAMESPACE}
             UNION ALL
             SELECT n.nspname::text, t.tgname::text,
                    pg_catalog.format('COMMENT ON TRIGGER %I ON %s IS %L', t.tgname, c.oid::pg_catalog.regclass::text, d.description)
             FROM pg_catalog.pg_description d
             JOIN pg_catalog.pg_trigger t ON d.classoid = 'pg_catalog.pg_trigger'::pg_catalog.regclass AND t.oid = d.objoid
             JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE {USER_NAMESPACE}
             ORDER BY 1, 2, 3"
        ),
        &[],
        "reading comments",
        |r| {
            let schema: String = get!(r, 0);
            let name: String = get!(r, 1);
            Ok(object(
                ObjectKind::Comment,
                Some(&schema),
                &name,
                get!(r, 2),
            ))
        },
    )
}
