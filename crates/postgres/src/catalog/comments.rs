//! Comments (`COMMENT ON`) on relations (foreign tables included), columns,
//! functions, types, schemas, constraints, triggers, policies, text search
//! objects, foreign data wrappers and servers, publications and
//! subscriptions, operators, operator classes and families, collations,
//! conversions, languages, casts, transforms and access methods, each its
//! own object so that it follows the object it describes, and named as
//! that object is. (An event trigger's comment comes with it: see `misc`.)

use bru_core::{Error, ObjectDef, ObjectKind};

use crate::conn::Conn;

use super::acl::IDENTITY;
use super::{each_row, not_extension_member, object, USER_NAMESPACE};

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
                                WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END END,
                      c.oid::pg_catalog.regclass::text ||
                        CASE WHEN d.objsubid > 0 THEN '.' || pg_catalog.quote_ident(a.attname) ELSE '' END,
                      d.description)
             FROM pg_catalog.pg_description d
             JOIN pg_catalog.pg_class c ON d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND c.oid = d.objoid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
             WHERE {USER_NAMESPACE} AND {ext_class}
             UNION ALL
             SELECT n.nspname::text, p.oid::pg_catalog.regprocedure::text,
                    pg_catalog.format('COMMENT ON %s %s IS %L', CASE p.prokind WHEN 'p' THEN 'PROCEDURE'
                      WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
                      CASE WHEN p.prokind IN ('f', 'p', 'w') THEN {IDENTITY}
                           WHEN p.prokind = 'a' AND p.pronargs = 0
                           THEN pg_catalog.left(p.oid::pg_catalog.regprocedure::text, -2) || '(*)'
                           ELSE p.oid::pg_catalog.regprocedure::text END,
                      d.description)
             FROM pg_catalog.pg_description d
             JOIN pg_catalog.pg_proc p ON d.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND p.oid = d.objoid
             JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
             WHERE {USER_NAMESPACE} AND {ext_proc}
             UNION ALL
             SELECT n.nspname::text, t.typname::text,
                    pg_catalog.format('COMMENT ON %s %s IS %L', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
                      pg_catalog.format_type(t.oid, NULL), d.description)
             FROM pg_catalog.pg_description d
             JOIN pg_catalog.pg_type t ON d.classoid = 'pg_catalog.pg_type'::pg_catalog.regclass AND t.oid = d.objoid
             JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
             WHERE {USER_NAMESPACE} AND {ext_type}
             UNION ALL
             SELECT n.nspname::text, n.nspname::text,
                    pg_catalog.format('COMMENT ON SCHEMA %I IS %L', n.nspname, d.description)
             FROM pg_catalog.pg_description d
             JOIN pg_catalog.pg_namespace n ON d.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND n.oid = d.objoid
             WHERE {USER_NAMESPACE}
               AND NOT (n.nspname = 'public' AND d.description = 'standard public schema')
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
             UNION ALL
             SELECT n.nspname::text, pol.polname::text,
                    pg_catalog.format('COMMENT ON POLICY %I ON %s IS %L', pol.polname, c.oid::pg_catalog.regclass::text, d.description)
             FROM pg_catalog.pg_description d
             JOIN pg_catalog.pg_policy pol ON d.classoid = 'pg_catalog.pg_policy'::pg_catalog.regclass AND pol.oid = d.objoid
             JOIN pg_catalog.pg_class c ON c.oid = pol.polrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE {USER_NAMESPACE}
             UNION ALL
             SELECT n.nspname::text, x.name, pg_catalog.format('COMMENT ON %s %I.%I IS %L', x.kind, n.nspname, x.name, d.description)
             FROM pg_catalog.pg_description d
             JOIN (SELECT 'pg_catalog.pg_ts_parser'::pg_catalog.regclass AS class, oid, prsnamespace AS nsp,
                          prsname::text AS name, 'TEXT SEARCH PARSER' AS kind FROM pg_catalog.pg_ts_parser
                   UNION ALL SELECT 'pg_catalog.pg_ts_template'::pg_catalog.regclass, oid, tmplnamespace, tmplname::text,
                          'TEXT SEARCH TEMPLATE' FROM pg_catalog.pg_ts_template
                   UNION ALL SELECT 'pg_catalog.pg_ts_dict'::pg_catalog.regclass, oid, dictnamespace, dictname::text,
                          'TEXT SEARCH DICTIONARY' FROM pg_catalog.pg_ts_dict
                   UNION ALL SELECT 'pg_catalog.pg_ts_config'::pg_catalog.regclass, oid, cfgnamespace, cfgname::text,
                          'TEXT SEARCH CONFIGURATION' FROM pg_catalog.pg_ts_config) x
               ON d.classoid = x.class AND d.objoid = x.oid
             JOIN pg_catalog.pg_namespace n ON n.oid = x.nsp
             WHERE {USER_NAMESPACE}
             UNION ALL
             SELECT NULL, x.name, pg_catalog.format('COMMENT ON %s %I IS %L', x.kind, x.name, d.description)
             FROM pg_catalog.pg_description d
             JOIN (SELECT 'pg_catalog.pg_foreign_data_wrapper'::pg_catalog.regclass AS class, oid,
                          fdwname::text AS name, 'FOREIGN DATA WRAPPER' AS kind FROM pg_catalog.pg_foreign_data_wrapper
                   UNION ALL SELECT 'pg_catalog.pg_foreign_server'::pg_catalog.regclass, oid, srvname::text, 'SERVER'
                          FROM pg_catalog.pg_foreign_server
                   UNION ALL SELECT 'pg_catalog.pg_publication'::pg_catalog.regclass, oid, pubname::text, 'PUBLICATION'
                          FROM pg_catalog.pg_publication) x
               ON d.classoid = x.class AND d.objoid = x.oid
             UNION ALL
             SELECT NULL, s.subname::text, pg_catalog.format('COMMENT ON SUBSCRIPTION %I IS %L', s.subname, d.description)
             FROM pg_catalog.pg_description d
             JOIN pg_catalog.pg_subscription s ON d.classoid = 'pg_catalog.pg_subscription'::pg_catalog.regclass AND s.oid = d.objoid
             JOIN pg_catalog.pg_database db ON db.oid = s.subdbid
             WHERE db.datname = pg_catalog.current_database()
            -- Only the subscriptions bru carries (see publications.rs).
            AND pg_catalog.has_column_privilege('pg_catalog.pg_subscription', 'subconninfo', 'SELECT')
             UNION ALL
             {others}
             ORDER BY 1, 2, 3",
            others = other_kinds(),
            // An extension's members are its own (CREATE EXTENSION makes
            // them, comments included), as pg_dump leaves them out.
            ext_class = not_extension_member("pg_class", "c.oid"),
            ext_proc = not_extension_member("pg_proc", "p.oid"),
            ext_type = not_extension_member("pg_type", "t.oid"),
        ),
        &[],
        "reading comments",
        |r| {
            let schema: Option<String> = get!(r, 0);
            let name: String = get!(r, 1);
            Ok(object(
                ObjectKind::Comment,
                schema.as_deref(),
                &name,
                get!(r, 2),
            ))
        },
    )
}

/// The comments on the kinds of modules `operators` and `misc` (columns:
/// schema, the object's entry name, the statement), leaving out an
/// extension's objects, whose comments its CREATE EXTENSION makes.
fn other_kinds() -> String {
    let described = |class: &str, alias: &str| {
        format!(
            "FROM pg_catalog.pg_description d
             JOIN pg_catalog.{class} {alias} ON d.classoid = 'pg_catalog.{class}'::pg_catalog.regclass
              AND {alias}.oid = d.objoid AND {}",
            not_extension_member(class, &format!("{alias}.oid"))
        )
    };
    let in_schema = |column: &str| {
        format!("JOIN pg_catalog.pg_namespace n ON n.oid = {column} WHERE {USER_NAMESPACE}")
    };
    let using = super::operators::using;
    [
        format!(
            "SELECT n.nspname::text, {op}, pg_catalog.format('COMMENT ON OPERATOR %s IS %L',
                    o.oid::pg_catalog.regoperator::text, d.description)
             {} {}",
            described("pg_operator", "o"),
            in_schema("o.oprnamespace"),
            op = super::operators::UNQUALIFIED_OPERATOR,
        ),
        format!(
            "SELECT n.nspname::text, {u}, pg_catalog.format('COMMENT ON OPERATOR FAMILY %I.%s IS %L',
                    n.nspname, {u}, d.description)
             {} JOIN pg_catalog.pg_am am ON am.oid = f.opfmethod {}",
            described("pg_opfamily", "f"),
            in_schema("f.opfnamespace"),
            u = using("f.opfname", "am.amname"),
        ),
        format!(
            "SELECT n.nspname::text, {u}, pg_catalog.format('COMMENT ON OPERATOR CLASS %I.%s IS %L',
                    n.nspname, {u}, d.description)
             {} JOIN pg_catalog.pg_am am ON am.oid = c.opcmethod {}",
            described("pg_opclass", "c"),
            in_schema("c.opcnamespace"),
            u = using("c.opcname", "am.amname"),
        ),
        format!(
            "SELECT n.nspname::text, c.collname::text,
                    pg_catalog.format('COMMENT ON COLLATION %I.%I IS %L', n.nspname, c.collname, d.description)
             {} {}",
            described("pg_collation", "c"),
            in_schema("c.collnamespace"),
        ),
        format!(
            "SELECT n.nspname::text, c.conname::text,
                    pg_catalog.format('COMMENT ON CONVERSION %I.%I IS %L', n.nspname, c.conname, d.description)
             {} {}",
            described("pg_conversion", "c"),
            in_schema("c.connamespace"),
        ),
        format!(
            "SELECT NULL, l.lanname::text, pg_catalog.format('COMMENT ON LANGUAGE %I IS %L', l.lanname, d.description)
             {} WHERE l.lanispl AND l.oid >= 16384",
            described("pg_language", "l"),
        ),
        format!(
            "SELECT NULL, pg_catalog.format('(%s AS %s)', pg_catalog.format_type(c.castsource, NULL),
                      pg_catalog.format_type(c.casttarget, NULL)),
                    pg_catalog.format('COMMENT ON CAST (%s AS %s) IS %L', pg_catalog.format_type(c.castsource, NULL),
                      pg_catalog.format_type(c.casttarget, NULL), d.description)
             {} WHERE c.oid >= 16384",
            described("pg_cast", "c"),
        ),
        format!(
            "SELECT NULL, pg_catalog.format('FOR %s LANGUAGE %I', pg_catalog.format_type(t.trftype, NULL), l.lanname),
                    pg_catalog.format('COMMENT ON TRANSFORM FOR %s LANGUAGE %I IS %L',
                      pg_catalog.format_type(t.trftype, NULL), l.lanname, d.description)
             {} JOIN pg_catalog.pg_language l ON l.oid = t.trflang WHERE t.oid >= 16384",
            described("pg_transform", "t"),
        ),
        format!(
            "SELECT NULL, a.amname::text, pg_catalog.format('COMMENT ON ACCESS METHOD %I IS %L', a.amname, d.description)
             {} WHERE a.oid >= 16384",
            described("pg_am", "a"),
        ),
    ]
    .join("\n             UNION ALL\n             ")
}
