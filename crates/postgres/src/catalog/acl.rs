//! Owners and privileges, as pg_dump records them: one
//! [`ObjectKind::Owner`] object per object bru carries, then one
//! [`ObjectKind::Privileges`] object (`REVOKE ALL`, then the ACL's `GRANT`s,
//! column grants included) per object whose ACL is not the default.
//!
//! The privileges of the system's own objects that pg_dump dumps too
//! (schemas `public` and `pg_catalog`, and the relations of `pg_catalog`
//! with their columns and its functions: "dumpable ACLs of system objects")
//! are one
//! [`ObjectKind::SystemPrivileges`] object each, holding what pg_dump's
//! `buildACLCommands` holds: the `REVOKE`s of the initial privileges
//! (`pg_init_privs`, else the kind's default) the object no longer has, then
//! the `GRANT`s of what it has beyond them. The archive does not create
//! these objects, so a restore applies them only when asked
//! (`--system-privileges`). The built-in trusted language `sql` is carried
//! the same way (pg_dump leaves built-in languages out); changed privileges
//! of `pg_catalog`'s types, which pg_dump dumps too, are listed as not
//! carried. Like pg_dump, bru leaves `information_schema`
//! out: initdb records no initial privileges for it, so there is nothing
//! to tell a changed grant from the ones every database starts with.

use std::collections::HashMap;

use bru_core::{Error, ObjectDef, ObjectKind, TableName};

use crate::conn::Conn;
use crate::quote::ident;

use super::{by_relation, not_extension_member, object, USER_NAMESPACE};

/// One `aclexplode` entry: `grantor` grants `privilege` to `grantee`
/// (quoted role names, `PUBLIC` for everyone).
struct AclEntry {
    grantor: String,
    grantee: String,
    privilege: String,
    grantable: bool,
}

/// The objects bru carries whose owner and privileges it records, in the
/// order their owners are set: schemas, types, tables, sequences (after
/// the tables, whose ALTER OWNER also moves the sequences they own), views,
/// functions (aggregates and window functions included), then operators,
/// operator families and classes, collations, conversions and procedural
/// languages (with a trusted language's grants, as pg_dump), text search
/// dictionaries and configurations, foreign data wrappers, foreign servers,
/// publications, subscriptions, large objects (named by their oid). Columns: order, oid, schema, name, ALTER
/// keyword, GRANT keyword (NULL for an object that has no privileges), the
/// object as SQL names it, owner, ACL.
fn owned_objects() -> String {
    format!(
        "SELECT 0 AS ord, n.oid, NULL::text AS schema, n.nspname::text AS name, 'SCHEMA' AS alter_kind,
                'SCHEMA' AS grant_kind, pg_catalog.quote_ident(n.nspname) AS target, n.nspowner AS owner,
                n.nspacl AS acl
           FROM pg_catalog.pg_namespace n
          WHERE {USER_NAMESPACE} AND n.nspname <> 'public' AND {}
         UNION ALL
         SELECT 1, t.oid, n.nspname::text, t.typname::text,
                CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
                CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
                pg_catalog.format_type(t.oid, NULL), t.typowner, t.typacl
           FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
          WHERE {USER_NAMESPACE} AND {}
            AND (t.typtype IN ('e', 'd', 'r', 'b')
                 OR (t.typtype = 'p' AND NOT t.typisdefined)
                 OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c'))
            AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)
         UNION ALL
         SELECT CASE c.relkind WHEN 'S' THEN 3 WHEN 'v' THEN 4 WHEN 'm' THEN 4 WHEN 'f' THEN 4 ELSE 2 END,
                c.oid, n.nspname::text, c.relname::text,
                CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                     WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                c.oid::pg_catalog.regclass::text, c.relowner, c.relacl
           FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {USER_NAMESPACE} AND {}
            AND NOT (c.relkind = 'f' AND (c.relispartition
                     OR EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid)))
         UNION ALL
         SELECT 5, p.oid, n.nspname::text, p.oid::pg_catalog.regprocedure::text,
                CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
                CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
                {IDENTITY}, p.proowner, p.proacl
           FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
          WHERE p.prokind IN ('f', 'p', 'w', 'a') AND {USER_NAMESPACE} AND {}
            AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                            WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                              AND d.objid = p.oid AND d.deptype = 'i')
         UNION ALL
         SELECT 6, o.oid, n.nspname::text, {operator_name}, 'OPERATOR', 'OPERATOR',
                o.oid::pg_catalog.regoperator::text, o.oprowner, NULL
           FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
          WHERE o.oprcode <> 0 AND {USER_NAMESPACE} AND {}
         UNION ALL
         SELECT 6, f.oid, n.nspname::text,
                pg_catalog.quote_ident(f.opfname) || ' USING ' || pg_catalog.quote_ident(am.amname),
                'OPERATOR FAMILY', 'OPERATOR FAMILY',
                pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(f.opfname) || ' USING ' ||
                  pg_catalog.quote_ident(am.amname),
                f.opfowner, NULL
           FROM pg_catalog.pg_opfamily f JOIN pg_catalog.pg_namespace n ON n.oid = f.opfnamespace
           JOIN pg_catalog.pg_am am ON am.oid = f.opfmethod
          WHERE {USER_NAMESPACE} AND {}
         UNION ALL
         SELECT 6, c.oid, n.nspname::text,
                pg_catalog.quote_ident(c.opcname) || ' USING ' || pg_catalog.quote_ident(am.amname),
                'OPERATOR CLASS', 'OPERATOR CLASS',
                pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.opcname) || ' USING ' ||
                  pg_catalog.quote_ident(am.amname),
                c.opcowner, NULL
           FROM pg_catalog.pg_opclass c JOIN pg_catalog.pg_namespace n ON n.oid = c.opcnamespace
           JOIN pg_catalog.pg_am am ON am.oid = c.opcmethod
          WHERE {USER_NAMESPACE} AND {}
         UNION ALL
         SELECT 6, c.oid, n.nspname::text, c.collname::text, 'COLLATION', 'COLLATION',
                pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.collname), c.collowner, NULL
           FROM pg_catalog.pg_collation c JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
          WHERE {USER_NAMESPACE} AND {}
         UNION ALL
         SELECT 6, c.oid, n.nspname::text, c.conname::text, 'CONVERSION', 'CONVERSION',
                pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.conname), c.conowner, NULL
           FROM pg_catalog.pg_conversion c JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace
          WHERE {USER_NAMESPACE} AND {}
         UNION ALL
         SELECT 6, l.oid, NULL, l.lanname::text, 'LANGUAGE', 'LANGUAGE', pg_catalog.quote_ident(l.lanname),
                l.lanowner, CASE WHEN l.lanpltrusted THEN l.lanacl END
           FROM pg_catalog.pg_language l
          WHERE l.lanispl AND l.oid >= 16384 AND {}
         UNION ALL
         SELECT 6, dc.oid, n.nspname::text, dc.dictname::text, 'TEXT SEARCH DICTIONARY', NULL,
                pg_catalog.format('%I.%I', n.nspname, dc.dictname), dc.dictowner, NULL
           FROM pg_catalog.pg_ts_dict dc JOIN pg_catalog.pg_namespace n ON n.oid = dc.dictnamespace
          WHERE {USER_NAMESPACE} AND {}
         UNION ALL
         SELECT 6, c.oid, n.nspname::text, c.cfgname::text, 'TEXT SEARCH CONFIGURATION', NULL,
                pg_catalog.format('%I.%I', n.nspname, c.cfgname), c.cfgowner, NULL
           FROM pg_catalog.pg_ts_config c JOIN pg_catalog.pg_namespace n ON n.oid = c.cfgnamespace
          WHERE {USER_NAMESPACE} AND {}
         UNION ALL
         SELECT 7, w.oid, NULL, w.fdwname::text, 'FOREIGN DATA WRAPPER', 'FOREIGN DATA WRAPPER',
                pg_catalog.quote_ident(w.fdwname), w.fdwowner, w.fdwacl
           FROM pg_catalog.pg_foreign_data_wrapper w WHERE {}
         UNION ALL
         SELECT 8, s.oid, NULL, s.srvname::text, 'SERVER', 'FOREIGN SERVER',
                pg_catalog.quote_ident(s.srvname), s.srvowner, s.srvacl
           FROM pg_catalog.pg_foreign_server s WHERE {}
         UNION ALL
         SELECT 9, p.oid, NULL, p.pubname::text, 'PUBLICATION', NULL,
                pg_catalog.quote_ident(p.pubname), p.pubowner, NULL
           FROM pg_catalog.pg_publication p
         UNION ALL
         SELECT 10, s.oid, NULL, s.subname::text, 'SUBSCRIPTION', NULL,
                pg_catalog.quote_ident(s.subname), s.subowner, NULL
           FROM pg_catalog.pg_subscription s JOIN pg_catalog.pg_database db ON db.oid = s.subdbid
          WHERE db.datname = pg_catalog.current_database()
            -- Only the subscriptions bru carries (see publications.rs).
            AND pg_catalog.has_column_privilege('pg_catalog.pg_subscription', 'subconninfo', 'SELECT')
         UNION ALL
         SELECT 11, m.oid, NULL, m.oid::text, 'LARGE OBJECT', 'LARGE OBJECT', m.oid::text,
                m.lomowner, m.lomacl
           FROM pg_catalog.pg_largeobject_metadata m",
        not_extension_member("pg_namespace", "n.oid"),
        not_extension_member("pg_type", "t.oid"),
        not_extension_member("pg_class", "c.oid"),
        not_extension_member("pg_proc", "p.oid"),
        not_extension_member("pg_operator", "o.oid"),
        not_extension_member("pg_opfamily", "f.oid"),
        not_extension_member("pg_opclass", "c.oid"),
        not_extension_member("pg_collation", "c.oid"),
        not_extension_member("pg_conversion", "c.oid"),
        not_extension_member("pg_language", "l.oid"),
        not_extension_member("pg_ts_dict", "dc.oid"),
        not_extension_member("pg_ts_config", "c.oid"),
        not_extension_member("pg_foreign_data_wrapper", "w.oid"),
        not_extension_member("pg_foreign_server", "s.oid"),
        operator_name = super::operators::UNQUALIFIED_OPERATOR,
    )
}

/// How a statement names function `p`, as pg_dump does: with its identity
/// arguments (a procedure's OUT ones too, with their modes), which no two
/// routines share; its `regprocedure` (input types only) is ambiguous for
/// overloaded procedures.
pub(super) const IDENTITY: &str =
    "pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname) \
     || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')'";

/// The `ord` of tables, views (the relations that have columns),
/// functions and other objects in [`owned_objects`].
const TABLES: i32 = 2;
const VIEWS: i32 = 4;
const FUNCTIONS: i32 = 5;
/// The `ord` of operators, operator families and classes, collations,
/// conversions and languages.
const OTHERS: i32 = 6;

/// `aclexplode(<acl>)` as four arrays in ACL order (grantors, grantees,
/// privileges, grant options), role names quoted.
fn exploded(acl: &str) -> String {
    let part = |expr: &str| {
        format!(
            "ARRAY(SELECT {expr} FROM pg_catalog.aclexplode({acl}) WITH ORDINALITY \
             e(grantor, grantee, privilege_type, is_grantable, i) ORDER BY e.i)"
        )
    };
    [
        part("pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(e.grantor)::text)"),
        part(
            "CASE WHEN e.grantee = 0 THEN 'PUBLIC' \
             ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(e.grantee)::text) END",
        ),
        part("e.privilege_type"),
        part("e.is_grantable"),
    ]
    .join(", ")
}

macro_rules! acl_entries {
    ($row:expr, $first:expr) => {{
        let grantors: Vec<String> = get!($row, $first);
        let grantees: Vec<String> = get!($row, $first + 1);
        let privileges: Vec<String> = get!($row, $first + 2);
        let grantable: Vec<bool> = get!($row, $first + 3);
        grantors
            .into_iter()
            .zip(grantees)
            .zip(privileges.into_iter().zip(grantable))
            .map(|((grantor, grantee), (privilege, grantable))| AclEntry {
                grantor,
                grantee,
                privilege,
                grantable,
            })
            .collect::<Vec<AclEntry>>()
    }};
}

/// Owners and privileges of the objects bru carries, as pg_dump records
/// them: one [`ObjectKind::Owner`] object per object (`ALTER ... OWNER TO`),
/// then one [`ObjectKind::Privileges`] object per object whose ACL, or one of
/// whose columns' ACL, is not the default. Both come after every other
/// object, because changing an owner rewrites the ACL and a GRANT needs
/// its object.
pub(super) fn read_owners_and_privileges(conn: &Conn) -> Result<Vec<ObjectDef>, Error> {
    let rows = conn.query(
        &format!(
            "WITH o AS ({}) SELECT o.ord, o.oid, o.schema, o.name, o.alter_kind, o.grant_kind, o.target,
                    pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(o.owner)::text), o.acl IS NOT NULL, {}
             FROM o ORDER BY o.ord, o.oid",
            owned_objects(),
            exploded("o.acl")
        ),
        &[],
        "reading owners and privileges",
    )?;
    let mut columns = read_column_privileges(conn)?;
    let (mut owners, mut privileges) = (Vec::new(), Vec::new());
    for r in &rows {
        let ord: i32 = get!(r, 0);
        let oid: u32 = get!(r, 1);
        let schema: Option<String> = get!(r, 2);
        let name: String = get!(r, 3);
        let alter_kind: String = get!(r, 4);
        let grant_kind: Option<String> = get!(r, 5);
        let target: String = get!(r, 6);
        let owner: String = get!(r, 7);
        let has_acl: bool = get!(r, 8);
        let entries = acl_entries!(r, 9);
        // Functions are named by their signature, without the schema.
        let name = match (&schema, ord) {
            (Some(s), FUNCTIONS) | (Some(s), OTHERS) => name
                .strip_prefix(&format!("{}.", ident(s)))
                .unwrap_or(&name)
                .to_owned(),
            _ => name,
        };
        // A table's owner and grants go wherever its table goes: a
        // restore with --include/--exclude leaves them out with it.
        let table = (ord == TABLES).then(|| TableName::new(schema.as_deref(), &name));
        // A view's owner and grants depend on the view: a restore that
        // leaves the view out (it reads a table left out) leaves them out.
        let depends_on = (ord == VIEWS).then(|| vec![TableName::new(schema.as_deref(), &name)]);
        // ALTER AGGREGATE names an aggregate of no arguments `agg(*)`,
        // where GRANT … ON FUNCTION says `agg()`.
        let altered = match target.strip_suffix("()") {
            Some(agg) if alter_kind == "AGGREGATE" => format!("{agg}(*)"),
            _ => target.clone(),
        };
        let mut owned = object(
            ObjectKind::Owner,
            schema.as_deref(),
            &name,
            format!("ALTER {alter_kind} {altered} OWNER TO {owner}"),
        );
        owned.table = table.clone();
        owned.depends_on = depends_on.clone();
        owners.push(owned);
        let on = format!("{} {target}", grant_kind.as_deref().unwrap_or_default());
        let mut statements = Vec::new();
        if has_acl {
            // As pg_dump: start from no privileges at all, then grant
            // exactly what the ACL holds.
            statements.push(format!("REVOKE ALL ON {on} FROM PUBLIC"));
            statements.push(format!("REVOKE ALL ON {on} FROM {owner}"));
            statements.extend(grants(&on, &owner, &entries, None));
        }
        let relation = (TABLES..=VIEWS).contains(&ord);
        for (column, entries) in relation
            .then(|| columns.remove(&oid))
            .flatten()
            .unwrap_or_default()
        {
            statements.extend(grants(&on, &owner, &entries, Some(&column)));
        }
        if !statements.is_empty() {
            let mut granted = object(
                ObjectKind::Privileges,
                schema.as_deref(),
                &name,
                statements.join(";\n"),
            );
            granted.table = table;
            granted.depends_on = depends_on;
            privileges.push(granted);
        }
    }
    owners.extend(privileges);
    Ok(owners)
}

/// The system objects whose privileges are carried (see the module docs),
/// each with its current ACL and its base ACL (its `pg_init_privs`, else
/// the kind's default, as pg_dump's `dumpACL`). A relation is named with its
/// schema by hand: `regclass` leaves `pg_catalog` out, since every session
/// searches it. Columns: oid, column number
/// (0 for the object itself), schema, name, GRANT keyword, the object as
/// SQL names it, the quoted column, owner, ACL, base ACL.
const SYSTEM_OBJECTS: &str = "
    SELECT n.oid, 0::int2 AS sub, NULL::text AS schema, n.nspname::text AS name,
           'SCHEMA' AS grant_kind, pg_catalog.quote_ident(n.nspname) AS target,
           NULL::text AS col, n.nspowner AS owner,
           COALESCE(n.nspacl, pg_catalog.acldefault('n'::pg_catalog.char, n.nspowner)) AS acl,
           COALESCE(pip.initprivs, pg_catalog.acldefault('n'::pg_catalog.char, n.nspowner)) AS base
      FROM pg_catalog.pg_namespace n
      LEFT JOIN pg_catalog.pg_init_privs pip ON pip.objoid = n.oid
       AND pip.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND pip.objsubid = 0
     WHERE n.nspname IN ('public', 'pg_catalog')
    UNION ALL
    SELECT c.oid, 0, n.nspname::text, c.relname::text,
           CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
           pg_catalog.format('%I.%I', n.nspname, c.relname), NULL, c.relowner,
           COALESCE(c.relacl, pg_catalog.acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::pg_catalog.char, c.relowner)),
           COALESCE(pip.initprivs, pg_catalog.acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::pg_catalog.char, c.relowner))
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_catalog.pg_init_privs pip ON pip.objoid = c.oid
       AND pip.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND pip.objsubid = 0
     WHERE n.nspname = 'pg_catalog' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
    UNION ALL
    SELECT c.oid, a.attnum, n.nspname::text, c.relname::text, 'TABLE', pg_catalog.format('%I.%I', n.nspname, c.relname),
           pg_catalog.quote_ident(a.attname), c.relowner,
           COALESCE(a.attacl, '{}'), COALESCE(pip.initprivs, '{}')
      FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_catalog.pg_init_privs pip ON pip.objoid = c.oid
       AND pip.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND pip.objsubid = a.attnum
     WHERE n.nspname = 'pg_catalog' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND NOT a.attisdropped AND (a.attacl IS NOT NULL OR pip.initprivs IS NOT NULL)
    UNION ALL
    SELECT p.oid, 0, n.nspname::text,
           pg_catalog.quote_ident(p.proname) || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',
           CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
           pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname)
             || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',
           NULL, p.proowner,
           COALESCE(p.proacl, pg_catalog.acldefault('f'::pg_catalog.char, p.proowner)),
           COALESCE(pip.initprivs, pg_catalog.acldefault('f'::pg_catalog.char, p.proowner))
      FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      LEFT JOIN pg_catalog.pg_init_privs pip ON pip.objoid = p.oid
       AND pip.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND pip.objsubid = 0
     WHERE n.nspname = 'pg_catalog'
    UNION ALL
    SELECT l.oid, 0, NULL, l.lanname::text, 'LANGUAGE', pg_catalog.quote_ident(l.lanname), NULL,
           l.lanowner,
           COALESCE(l.lanacl, pg_catalog.acldefault('l'::pg_catalog.char, l.lanowner)),
           COALESCE(pip.initprivs, pg_catalog.acldefault('l'::pg_catalog.char, l.lanowner))
      FROM pg_catalog.pg_language l
      LEFT JOIN pg_catalog.pg_init_privs pip ON pip.objoid = l.oid
       AND pip.classoid = 'pg_catalog.pg_language'::pg_catalog.regclass AND pip.objsubid = 0
     WHERE l.oid < 16384 AND l.lanpltrusted";

/// The other system objects whose privileges pg_dump dumps when they
/// differ from their initial ones, which bru does not carry yet: the types
/// of `pg_catalog`. Columns: schema, name, what the object is.
const OTHER_SYSTEM_OBJECTS: &str = "
    SELECT n.nspname::text, pg_catalog.quote_ident(t.typname), 'type'
      FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
      LEFT JOIN pg_catalog.pg_init_privs pip ON pip.objoid = t.oid
       AND pip.classoid = 'pg_catalog.pg_type'::pg_catalog.regclass AND pip.objsubid = 0
     WHERE n.nspname = 'pg_catalog'
       AND COALESCE(t.typacl, pg_catalog.acldefault('T'::pg_catalog.char, t.typowner))::text[]
           IS DISTINCT FROM COALESCE(pip.initprivs, pg_catalog.acldefault('T'::pg_catalog.char, t.typowner))::text[]
    ORDER BY 1, 2";

/// The privileges of the system's own objects that differ from their
/// initial ones (see the module docs): one [`ObjectKind::SystemPrivileges`]
/// object per schema, relation or function, a relation's column grants
/// included, with the
/// statements pg_dump writes: first the `REVOKE`s of each initial ACL item
/// the object no longer has, then the `GRANT`s of each item it has beyond
/// them, in ACL order. Items are compared whole (grantee, grantor and
/// privileges), as pg_dump compares their text.
pub(super) fn read_system_privileges(conn: &Conn) -> Result<Vec<ObjectDef>, Error> {
    // NULL when none (aclexplode refuses an empty, dimensionless array).
    let missing = |of: &str, from: &str| {
        format!(
            "(SELECT pg_catalog.array_agg(x ORDER BY u.i) FROM pg_catalog.unnest(o.{of}) \
             WITH ORDINALITY u(x, i) WHERE NOT x = ANY(o.{from}))"
        )
    };
    let rows = conn.query(
        &format!(
            "WITH o AS ({SYSTEM_OBJECTS}), d AS (
                SELECT o.*, {} AS revoked, {} AS granted FROM o)
             SELECT d.oid, d.sub, d.schema, d.name, d.grant_kind, d.target, d.col,
                    pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(d.owner)::text), {}, {}
               FROM d WHERE d.revoked IS NOT NULL OR d.granted IS NOT NULL
              ORDER BY d.oid, d.sub",
            missing("base", "acl"),
            missing("acl", "base"),
            exploded("d.revoked"),
            exploded("d.granted"),
        ),
        &[],
        "reading the privileges of system objects",
    )?;
    // By catalog row: the object's oid and kind.
    let mut objects: Vec<((u32, String), ObjectDef)> = Vec::new();
    for r in &rows {
        let oid: u32 = get!(r, 0);
        let schema: Option<String> = get!(r, 2);
        let name: String = get!(r, 3);
        let grant_kind: String = get!(r, 4);
        let target: String = get!(r, 5);
        let column: Option<String> = get!(r, 6);
        let owner: String = get!(r, 7);
        let revoked = acl_entries!(r, 8);
        let granted = acl_entries!(r, 12);
        let on = format!("{grant_kind} {target}");
        let key = (oid, grant_kind);
        let mut statements = revokes(&on, &revoked, column.as_deref());
        statements.extend(grants(&on, &owner, &granted, column.as_deref()));
        match objects.last_mut() {
            // A relation's column grants go with its own.
            Some((last, o)) if *last == key => {
                o.ddl.push_str(";\n");
                o.ddl.push_str(&statements.join(";\n"));
            }
            _ => objects.push((
                key,
                object(
                    ObjectKind::SystemPrivileges,
                    schema.as_deref(),
                    &name,
                    statements.join(";\n"),
                ),
            )),
        }
    }
    let mut objects: Vec<ObjectDef> = objects.into_iter().map(|(_, o)| o).collect();
    for r in &conn.query(
        OTHER_SYSTEM_OBJECTS,
        &[],
        "reading the privileges of system types",
    )? {
        let schema: Option<String> = get!(r, 0);
        let name: String = get!(r, 1);
        let what: String = get!(r, 2);
        objects.push(ObjectDef::not_carried(
            ObjectKind::SystemPrivileges,
            TableName::new(schema.as_deref(), &name),
            crate::ENGINE_NAME,
            format!(
                "the privileges of system {what} {name} differ from its initial ones, and bru \
                 carries a system object's privileges only for schemas public and pg_catalog, \
                 pg_catalog's relations and functions and the built-in languages: grant them \
                 again by hand"
            ),
        ));
    }
    Ok(objects)
}

/// The REVOKE statements that take `entries` off `on` (off `column` only
/// when given): one per grantee, in ACL order, as pg_dump revokes each
/// initial ACL item an object no longer has.
fn revokes(on: &str, entries: &[AclEntry], column: Option<&str>) -> Vec<String> {
    let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
    for e in entries {
        let privilege = match column {
            Some(c) => format!("{} ({c})", e.privilege),
            None => e.privilege.clone(),
        };
        match groups.iter_mut().find(|(g, _)| *g == e.grantee) {
            Some(group) if !group.1.contains(&privilege) => group.1.push(privilege),
            Some(_) => {}
            None => groups.push((&e.grantee, vec![privilege])),
        }
    }
    groups
        .into_iter()
        .map(|(grantee, privileges)| {
            format!("REVOKE {} ON {on} FROM {grantee}", privileges.join(", "))
        })
        .collect()
}

/// Column ACLs of user relations: table oid → (quoted column, entries), in
/// column order.
type ColumnAcls = HashMap<u32, Vec<(String, Vec<AclEntry>)>>;

/// The column ACLs of user relations.
fn read_column_privileges(conn: &Conn) -> Result<ColumnAcls, Error> {
    by_relation(
        conn,
        &format!(
            "SELECT a.attrelid, pg_catalog.quote_ident(a.attname), {}
             FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped
               AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {USER_NAMESPACE} AND {}
             ORDER BY a.attrelid, a.attnum",
            exploded("a.attacl"),
            not_extension_member("pg_class", "c.oid")
        ),
        &[],
        "reading column privileges",
        |r| {
            let column: String = get!(r, 1);
            let entries = acl_entries!(r, 2);
            Ok((column, entries))
        },
    )
}

/// The GRANT statements that give `entries` on `on` (to `column` only
/// when given): one per grantor, grantee and grant option, in ACL order so
/// the target's ACL lists them in the same order. A grant whose grantor is
/// not the owner is made as the grantor, as pg_dump does.
fn grants(on: &str, owner: &str, entries: &[AclEntry], column: Option<&str>) -> Vec<String> {
    let mut groups: Vec<(&str, &str, bool, Vec<String>)> = Vec::new();
    for e in entries {
        let privilege = match column {
            Some(c) => format!("{} ({c})", e.privilege),
            None => e.privilege.clone(),
        };
        match groups
            .iter_mut()
            .find(|(g, r, o, _)| *g == e.grantor && *r == e.grantee && *o == e.grantable)
        {
            Some(group) => group.3.push(privilege),
            None => groups.push((&e.grantor, &e.grantee, e.grantable, vec![privilege])),
        }
    }
    groups
        .into_iter()
        .map(|(grantor, grantee, grantable, privileges)| {
            let grant = format!(
                "GRANT {} ON {on} TO {grantee}{}",
                privileges.join(", "),
                if grantable { " WITH GRANT OPTION" } else { "" }
            );
            if grantor == owner {
                grant
            } else {
                format!(
                    "SET SESSION AUTHORIZATION {grantor};\n{grant};\nRESET SESSION AUTHORIZATION"
                )
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(grantor: &str, grantee: &str, privilege: &str, grantable: bool) -> AclEntry {
        AclEntry {
            grantor: grantor.into(),
            grantee: grantee.into(),
            privilege: privilege.into(),
            grantable,
        }
    }

    #[test]
    fn grants_group_by_grantee_and_option_in_acl_order() {
        let entries = [
            entry("ann", "ann", "SELECT", false),
            entry("ann", "ann", "INSERT", false),
            entry("ann", "PUBLIC", "SELECT", false),
            entry("ann", "bob", "SELECT", true),
            entry("ann", "bob", "UPDATE", false),
            entry("bob", "\"Cy\"", "SELECT", false),
        ];
        assert_eq!(
            grants("TABLE s.t", "ann", &entries, None),
            vec![
                "GRANT SELECT, INSERT ON TABLE s.t TO ann".to_string(),
                "GRANT SELECT ON TABLE s.t TO PUBLIC".into(),
                "GRANT SELECT ON TABLE s.t TO bob WITH GRANT OPTION".into(),
                "GRANT UPDATE ON TABLE s.t TO bob".into(),
                "SET SESSION AUTHORIZATION bob;\nGRANT SELECT ON TABLE s.t TO \"Cy\";\nRESET SESSION AUTHORIZATION".into(),
            ]
        );
        assert_eq!(
            grants("TABLE s.t", "ann", &entries[4..5], Some("c")),
            vec!["GRANT UPDATE (c) ON TABLE s.t TO bob".to_string()]
        );
    }
}
