//! Foreign data wrappers, foreign servers, user mappings and foreign
//! tables, as pg_dump's `dumpForeignDataWrapper`, `dumpForeignServer`,
//! `dumpUserMappings` and the foreign-table branch of `dumpTableSchema`
//! write them.
//!
//! Wrappers, servers and user mappings are pre-data ([`Section::PreData`]),
//! as in pg_dump. A foreign table has no rows of bru's to copy (they live on
//! the foreign server): it is schema only, as with pg_dump, and created
//! after the tables (post-data, before the views that may read it), so a
//! function its defaults or checks call exists already.
//!
//! A user mapping's options may hold a password: pg_dump dumps them, and so
//! does bru, since the archive is the database's data. Its name (what
//! summaries and listings print) is only the role and the server; the trust
//! check never quotes its statement back in a message (module
//! [`crate::trust`]).

use bru_core::{Error, ObjectDef, ObjectKind, Section};

use crate::conn::Conn;
use crate::quote::{ident, quote_literal};

use super::{
    by_relation, each_row, not_carried, not_extension_member, object, Read, USER_NAMESPACE,
};

/// The kind names, as the archive spells them.
pub(crate) const WRAPPER: &str = "foreign data wrapper";
pub(crate) const SERVER: &str = "server";
pub(crate) const USER_MAPPING: &str = "user mapping";
pub(crate) const FOREIGN_TABLE: &str = "foreign table";

/// `pg_options_to_table(<expr>)` as two arrays, names then values, in the
/// catalog's order.
fn option_arrays(expr: &str) -> String {
    format!(
        "ARRAY(SELECT o.option_name::text FROM pg_catalog.pg_options_to_table({expr}) o),
         ARRAY(SELECT o.option_value::text FROM pg_catalog.pg_options_to_table({expr}) o)"
    )
}

/// ` OPTIONS (\n    a 'x',\n    b 'y'\n)` for `names` and `values`, or
/// nothing when there are none.
fn options_clause(names: &[String], values: &[String]) -> String {
    if names.is_empty() {
        return String::new();
    }
    let list: Vec<String> = names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{} {}", ident(n), quote_literal(v)))
        .collect();
    format!(" OPTIONS (\n    {}\n)", list.join(",\n    "))
}

/// The name of a user mapping's entry: `for <role> server <server>`, both
/// quoted as SQL names them (`public` for the mapping for PUBLIC).
pub(crate) fn user_mapping_name(role: &str, server: &str) -> String {
    format!("for {} server {}", ident(role), ident(server))
}

/// A pre-data object of kind `kind` named `name` (no schema).
fn pre_data(kind: &str, name: &str, ddl: String, class: &'static str, oid: u32) -> Read {
    let mut def = object(ObjectKind::Other(kind.into()), None, name, ddl);
    def.section = Some(Section::PreData);
    Read::new(def, class, oid)
}

/// Wrappers, then servers, then user mappings, each in oid order.
pub(super) fn read_foreign_servers(conn: &Conn) -> Result<Vec<Read>, Error> {
    let mut out = each_row(
        conn,
        &format!(
            "SELECT w.oid, w.fdwname::text,
                    CASE WHEN w.fdwhandler <> 0 THEN w.fdwhandler::pg_catalog.regproc::text END,
                    CASE WHEN w.fdwvalidator <> 0 THEN w.fdwvalidator::pg_catalog.regproc::text END,
                    {}
             FROM pg_catalog.pg_foreign_data_wrapper w WHERE {} ORDER BY w.oid",
            option_arrays("w.fdwoptions"),
            not_extension_member("pg_foreign_data_wrapper", "w.oid")
        ),
        &[],
        "reading foreign data wrappers",
        |r| {
            let name: String = get!(r, 1);
            let handler: Option<String> = get!(r, 2);
            let validator: Option<String> = get!(r, 3);
            let names: Vec<String> = get!(r, 4);
            let values: Vec<String> = get!(r, 5);
            let mut ddl = format!("CREATE FOREIGN DATA WRAPPER {}", ident(&name));
            if let Some(h) = handler {
                ddl.push_str(&format!(" HANDLER {h}"));
            }
            if let Some(v) = validator {
                ddl.push_str(&format!(" VALIDATOR {v}"));
            }
            ddl.push_str(&options_clause(&names, &values));
            Ok(pre_data(
                WRAPPER,
                &name,
                ddl,
                "pg_foreign_data_wrapper",
                get!(r, 0),
            ))
        },
    )?;
    out.extend(each_row(
        conn,
        &format!(
            "SELECT s.oid, s.srvname::text, s.srvtype, s.srvversion, w.fdwname::text, {}
             FROM pg_catalog.pg_foreign_server s
             JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw
             WHERE {} ORDER BY s.oid",
            option_arrays("s.srvoptions"),
            not_extension_member("pg_foreign_server", "s.oid")
        ),
        &[],
        "reading foreign servers",
        |r| {
            let name: String = get!(r, 1);
            let stype: Option<String> = get!(r, 2);
            let version: Option<String> = get!(r, 3);
            let wrapper: String = get!(r, 4);
            let names: Vec<String> = get!(r, 5);
            let values: Vec<String> = get!(r, 6);
            let mut ddl = format!("CREATE SERVER {}", ident(&name));
            if let Some(t) = stype.filter(|t| !t.is_empty()) {
                ddl.push_str(&format!(" TYPE {}", quote_literal(&t)));
            }
            if let Some(v) = version.filter(|v| !v.is_empty()) {
                ddl.push_str(&format!(" VERSION {}", quote_literal(&v)));
            }
            ddl.push_str(&format!(" FOREIGN DATA WRAPPER {}", ident(&wrapper)));
            ddl.push_str(&options_clause(&names, &values));
            Ok(pre_data(
                SERVER,
                &name,
                ddl,
                "pg_foreign_server",
                get!(r, 0),
            ))
        },
    )?);
    out.extend(read_user_mappings(conn)?);
    Ok(out)
}

/// User mappings, from `pg_user_mapping` itself when the backup's role may
/// read it (a superuser), whose options are complete. Otherwise from the
/// `pg_user_mappings` view pg_dump reads, which shows a mapping's options
/// as NULL to a role that may not see them: pg_dump then dumps the mapping
/// without its options; bru lists such a mapping as not carried instead,
/// since it cannot tell hidden options from none.
fn read_user_mappings(conn: &Conn) -> Result<Vec<Read>, Error> {
    let readable = conn.query(
        "SELECT pg_catalog.has_table_privilege('pg_catalog.pg_user_mapping', 'SELECT')",
        &[],
        "reading user mappings",
    )?;
    let readable: bool = match readable.first() {
        Some(r) => get!(r, 0),
        None => false,
    };
    let (from, options, hidden) = if readable {
        (
            "pg_catalog.pg_user_mapping u JOIN pg_catalog.pg_foreign_server s ON s.oid = u.umserver",
            "u.umoptions",
            "false",
        )
    } else {
        (
            "pg_catalog.pg_user_mappings u JOIN pg_catalog.pg_foreign_server s ON s.oid = u.srvid",
            "u.umoptions",
            "u.umoptions IS NULL",
        )
    };
    let oid = if readable { "u.oid" } else { "u.umid" };
    each_row(
        conn,
        &format!(
            "SELECT {oid}, CASE WHEN u.umuser = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(u.umuser)::text END,
                    s.srvname::text, {}, {hidden}
             FROM {from}
             WHERE {} ORDER BY s.oid, 2",
            option_arrays(options),
            not_extension_member("pg_foreign_server", "s.oid")
        ),
        &[],
        "reading user mappings",
        |r| {
            let role: String = get!(r, 1);
            let server: String = get!(r, 2);
            let names: Vec<String> = get!(r, 3);
            let values: Vec<String> = get!(r, 4);
            let hidden: bool = get!(r, 5);
            let name = user_mapping_name(&role, &server);
            let kind = ObjectKind::Other(USER_MAPPING.into());
            if hidden {
                let reason = format!(
                    "user mapping {name}: the backup's role may not read its options (they may \
                     hold a password); back up as a superuser to carry it"
                );
                return Ok(Read::new(not_carried(kind, None, &name, reason), "pg_user_mapping", get!(r, 0)));
            }
            let ddl = format!(
                "CREATE USER MAPPING FOR {} SERVER {}{}",
                ident(&role),
                ident(&server),
                options_clause(&names, &values)
            );
            Ok(pre_data(USER_MAPPING, &name, ddl, "pg_user_mapping", get!(r, 0)))
        },
    )
}

/// One column of a foreign table.
struct Column {
    name: String,
    ty: String,
    not_null: bool,
    default: Option<String>,
    generated: bool,
    collation: Option<String>,
    options: String,
}

/// Foreign tables: `CREATE FOREIGN TABLE` with their columns (type, column
/// options, collation, default or generated expression, NOT NULL), CHECK
/// constraints, server and options. One that is a partition or inherits
/// from a table is listed as not carried.
pub(super) fn read_foreign_tables(conn: &Conn) -> Result<Vec<Read>, Error> {
    let mut columns = by_relation(
        conn,
        &format!(
            "SELECT a.attrelid, a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod),
                    a.attnotnull, pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), a.attgenerated <> '',
                    CASE WHEN a.attcollation <> t.typcollation
                      THEN pg_catalog.format('%I.%I', cn.nspname, co.collname) END,
                    {}
             FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
             LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
             LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
             LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
             WHERE c.relkind = 'f' AND a.attnum > 0 AND NOT a.attisdropped AND {USER_NAMESPACE}
             ORDER BY a.attrelid, a.attnum",
            option_arrays("a.attfdwoptions")
        ),
        &[],
        "reading foreign table columns",
        |r| {
            let names: Vec<String> = get!(r, 7);
            let values: Vec<String> = get!(r, 8);
            Ok(Column {
                name: get!(r, 1),
                ty: get!(r, 2),
                not_null: get!(r, 3),
                default: get!(r, 4),
                generated: get!(r, 5),
                collation: get!(r, 6),
                options: options_clause(&names, &values),
            })
        },
    )?;
    let mut checks = by_relation(
        conn,
        "SELECT con.conrelid, pg_catalog.format('CONSTRAINT %I %s', con.conname,
                pg_catalog.pg_get_constraintdef(con.oid))
         FROM pg_catalog.pg_constraint con JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
         WHERE c.relkind = 'f' AND con.contype = 'c' AND NOT con.coninhcount > 0
         ORDER BY con.conrelid, con.conname",
        &[],
        "reading foreign table constraints",
        |r| -> Result<String, Error> { Ok(get!(r, 1)) },
    )?;
    each_row(
        conn,
        &format!(
            "SELECT c.oid, n.nspname::text, c.relname::text, c.oid::pg_catalog.regclass::text,
                    s.srvname::text, {},
                    c.relispartition OR EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid)
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = c.oid
             JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
             WHERE c.relkind = 'f' AND {USER_NAMESPACE} AND {} ORDER BY c.oid",
            option_arrays("ft.ftoptions"),
            not_extension_member("pg_class", "c.oid")
        ),
        &[],
        "reading foreign tables",
        |r| {
            let oid: u32 = get!(r, 0);
            let schema: String = get!(r, 1);
            let name: String = get!(r, 2);
            let qname: String = get!(r, 3);
            let server: String = get!(r, 4);
            let names: Vec<String> = get!(r, 5);
            let values: Vec<String> = get!(r, 6);
            let inherits: bool = get!(r, 7);
            let kind = ObjectKind::Other(FOREIGN_TABLE.into());
            if inherits {
                let reason = format!(
                    "foreign table {qname} is a partition or inherits from a table, which bru \
                     does not carry yet"
                );
                return Ok(Read::new(not_carried(kind, Some(&schema), &name, reason), "pg_class", oid));
            }
            let mut lines: Vec<String> = columns
                .remove(&oid)
                .unwrap_or_default()
                .iter()
                .map(column_sql)
                .collect();
            lines.extend(checks.remove(&oid).unwrap_or_default());
            let body = if lines.is_empty() {
                String::new()
            } else {
                format!("\n    {}\n", lines.join(",\n    "))
            };
            let ddl = format!(
                "CREATE FOREIGN TABLE {qname} ({body})\nSERVER {}{}",
                ident(&server),
                options_clause(&names, &values)
            );
            let def: ObjectDef = ObjectDef {
                section: Some(Section::PostData),
                ..object(kind, Some(&schema), &name, ddl)
            };
            Ok(Read::new(def, "pg_class", oid))
        },
    )
}

/// One column definition of a `CREATE FOREIGN TABLE`.
fn column_sql(c: &Column) -> String {
    let mut s = format!("{} {}{}", ident(&c.name), c.ty, c.options);
    if let Some(coll) = &c.collation {
        s.push_str(&format!(" COLLATE {coll}"));
    }
    match (&c.default, c.generated) {
        (Some(d), true) => s.push_str(&format!(" GENERATED ALWAYS AS ({d}) STORED")),
        (Some(d), false) => s.push_str(&format!(" DEFAULT {d}")),
        (None, _) => {}
    }
    if c.not_null {
        s.push_str(" NOT NULL");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_quoted_names_and_literals_in_catalog_order() {
        assert_eq!(
            options_clause(
                &["b".into(), "User".into()],
                &["it's".into(), "x\\y".into()]
            ),
            " OPTIONS (\n    b 'it''s',\n    \"User\" 'x\\y'\n)"
        );
        assert_eq!(options_clause(&[], &[]), "");
        assert_eq!(user_mapping_name("public", "S"), "for public server \"S\"");
    }
}
