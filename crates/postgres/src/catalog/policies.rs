//! Row-level security: each table's `ENABLE` / `FORCE ROW LEVEL SECURITY`
//! flags and its policies, as pg_dump's `dumpPolicy` (and the FORCE of
//! `dumpTableSchema`) write them. All post-data, each hanging on its table
//! ([`bru_core::ObjectDef::table`]) so that `--include` / `--exclude` treat
//! it like a trigger: a table left out leaves its policies out.

use bru_core::{Error, ObjectKind, Section, TableName};

use crate::conn::Conn;
use crate::quote::ident;

use super::{each_row, not_extension_member, object, Read, USER_NAMESPACE};

/// The kind names, as the archive spells them.
pub(crate) const POLICY: &str = "policy";
pub(crate) const ROW_SECURITY: &str = "row level security";

/// For every user table with row-level security enabled or forced, an
/// entry that turns it on (named after the table), then every policy in oid
/// order.
pub(super) fn read_policies(conn: &Conn) -> Result<Vec<Read>, Error> {
    let mut out = each_row(
        conn,
        &format!(
            "SELECT c.oid, n.nspname::text, c.relname::text, c.oid::pg_catalog.regclass::text,
                    c.relrowsecurity, c.relforcerowsecurity
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE (c.relrowsecurity OR c.relforcerowsecurity) AND c.relkind IN ('r', 'p')
               AND {USER_NAMESPACE}
             ORDER BY c.oid"
        ),
        &[],
        "reading row level security",
        |r| {
            let schema: String = get!(r, 1);
            let name: String = get!(r, 2);
            let qname: String = get!(r, 3);
            let enabled: bool = get!(r, 4);
            let forced: bool = get!(r, 5);
            let mut statements = Vec::new();
            if enabled {
                statements.push(format!(
                    "ALTER TABLE ONLY {qname} ENABLE ROW LEVEL SECURITY"
                ));
            }
            if forced {
                statements.push(format!("ALTER TABLE ONLY {qname} FORCE ROW LEVEL SECURITY"));
            }
            let mut def = object(
                ObjectKind::Other(ROW_SECURITY.into()),
                Some(&schema),
                &name,
                statements.join(";\n"),
            );
            def.table = Some(TableName::new(Some(&schema), &name));
            def.section = Some(Section::PostData);
            Ok(Read::new(def, "pg_class", get!(r, 0)))
        },
    )?;
    out.extend(each_row(
        conn,
        &format!(
            "SELECT p.oid, n.nspname::text, c.relname::text, p.polname::text,
                    c.oid::pg_catalog.regclass::text, p.polpermissive, p.polcmd::text,
                    CASE WHEN p.polroles = '{{0}}' THEN NULL ELSE
                      ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(r)::text END
                            FROM pg_catalog.unnest(p.polroles) WITH ORDINALITY u(r, i) ORDER BY u.i) END,
                    pg_catalog.pg_get_expr(p.polqual, p.polrelid),
                    pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)
             FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE {USER_NAMESPACE} AND {}
             ORDER BY p.oid",
            not_extension_member("pg_policy", "p.oid")
        ),
        &[],
        "reading policies",
        |r| {
            let schema: String = get!(r, 1);
            let table: String = get!(r, 2);
            let name: String = get!(r, 3);
            let qtable: String = get!(r, 4);
            let permissive: bool = get!(r, 5);
            let cmd: String = get!(r, 6);
            let roles: Option<Vec<String>> = get!(r, 7);
            let using: Option<String> = get!(r, 8);
            let check: Option<String> = get!(r, 9);
            let cmd = match cmd.as_str() {
                "r" => " FOR SELECT",
                "a" => " FOR INSERT",
                "w" => " FOR UPDATE",
                "d" => " FOR DELETE",
                _ => "",
            };
            let mut ddl = format!(
                "CREATE POLICY {} ON {qtable}{}{cmd}",
                ident(&name),
                if permissive { "" } else { " AS RESTRICTIVE" }
            );
            if let Some(roles) = roles {
                let roles: Vec<String> = roles.iter().map(|r| ident(r)).collect();
                ddl.push_str(&format!(" TO {}", roles.join(", ")));
            }
            if let Some(u) = using {
                ddl.push_str(&format!(" USING ({u})"));
            }
            if let Some(c) = check {
                ddl.push_str(&format!(" WITH CHECK ({c})"));
            }
            let mut def = object(ObjectKind::Other(POLICY.into()), Some(&schema), &name, ddl);
            def.table = Some(TableName::new(Some(&schema), &table));
            def.section = Some(Section::PostData);
            Ok(Read::new(def, "pg_policy", get!(r, 0)))
        },
    )?);
    Ok(out)
}
