//! Default privileges (`pg_default_acl`), as pg_dump's `dumpDefaultACL`
//! writes them: for each role, schema and object type, `ALTER DEFAULT
//! PRIVILEGES FOR ROLE <role> [IN SCHEMA <schema>] REVOKE … / GRANT …`,
//! turning the built-in default (`acldefault`; none for a schema's own
//! entry, which only adds) into the ACL the source holds. They come last,
//! as in pg_dump, so that they apply to nothing the restore itself creates.

use bru_core::{Error, ObjectKind, Section};

use crate::conn::Conn;
use crate::quote::ident;

use super::{each_row, object, Read};

/// The kind name, as the archive spells it.
pub(crate) const DEFAULT_PRIVILEGES: &str = "default privileges";

/// The object types of `pg_default_acl.defaclobjtype`, as the statement
/// names them.
pub(crate) fn object_type(code: &str) -> Option<&'static str> {
    Some(match code {
        "r" => "TABLES",
        "S" => "SEQUENCES",
        "f" => "FUNCTIONS",
        "T" => "TYPES",
        "n" => "SCHEMAS",
        _ => return None,
    })
}

/// The name of a default privileges entry: `for role <role> on <types>`,
/// the role quoted as SQL names it; the schema, if any, is the entry's.
pub(crate) fn entry_name(role: &str, types: &str) -> String {
    format!("for role {} on {}", ident(role), types.to_ascii_lowercase())
}

pub(super) fn read_default_privileges(conn: &Conn) -> Result<Vec<Read>, Error> {
    let rows =
    // What to revoke: what the starting ACL grants that the source's does
    // not (or grants with a grant option the source's lacks); what to
    // grant: the rest of the source's ACL. The starting ACL is the built-in
    // default for a global entry, nothing for a schema's.
    each_row(
        conn,
        "WITH a AS (
           SELECT d.oid, d.defaclrole, d.defaclnamespace, d.defaclobjtype::text AS objtype, d.defaclacl,
                  CASE WHEN d.defaclnamespace = 0
                    THEN pg_catalog.acldefault(CASE d.defaclobjtype WHEN 'S' THEN 's' ELSE d.defaclobjtype END,
                                               d.defaclrole)
                    ELSE NULL END AS base
           FROM pg_catalog.pg_default_acl d)
         SELECT a.oid, pg_catalog.pg_get_userbyid(a.defaclrole)::text,
                CASE WHEN a.defaclnamespace <> 0 THEN (SELECT n.nspname::text FROM pg_catalog.pg_namespace n
                                                        WHERE n.oid = a.defaclnamespace) END,
                a.objtype,
                ARRAY(SELECT CASE WHEN b.grantee = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(b.grantee)::text END
                             || ' ' || b.privilege_type || ' ' ||
                             CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.aclexplode(a.defaclacl) s
                                               WHERE s.grantee = b.grantee AND s.privilege_type = b.privilege_type)
                               THEN 'option' ELSE 'all' END
                      FROM pg_catalog.aclexplode(a.base) WITH ORDINALITY b(grantor, grantee, privilege_type, is_grantable, i)
                      WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(a.defaclacl) s
                                        WHERE s.grantee = b.grantee AND s.privilege_type = b.privilege_type
                                          AND (s.is_grantable OR NOT b.is_grantable))
                      ORDER BY b.i),
                ARRAY(SELECT CASE WHEN s.grantee = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(s.grantee)::text END
                             || ' ' || s.privilege_type || ' ' || CASE WHEN s.is_grantable THEN 'option' ELSE 'plain' END
                      FROM pg_catalog.aclexplode(a.defaclacl) WITH ORDINALITY s(grantor, grantee, privilege_type, is_grantable, i)
                      WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(a.base) b
                                        WHERE b.grantee = s.grantee AND b.privilege_type = s.privilege_type
                                          AND (b.is_grantable OR NOT s.is_grantable))
                      ORDER BY s.i)
         FROM a ORDER BY a.oid",
        &[],
        "reading default privileges",
        |r| {
            let oid: u32 = get!(r, 0);
            let role: String = get!(r, 1);
            let schema: Option<String> = get!(r, 2);
            let code: String = get!(r, 3);
            let revokes: Vec<String> = get!(r, 4);
            let grants: Vec<String> = get!(r, 5);
            let types = object_type(&code).ok_or_else(|| {
                Error::engine(
                    "reading default privileges",
                    format!("an object type bru does not know: {code:?}"),
                )
            })?;
            let prefix = format!(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {}{}",
                ident(&role),
                schema
                    .as_deref()
                    .map(|s| format!(" IN SCHEMA {}", ident(s)))
                    .unwrap_or_default()
            );
            let mut statements = Vec::new();
            for item in &revokes {
                let (grantee, privilege, what) = split_item(item);
                let option = if what == "option" { "GRANT OPTION FOR " } else { "" };
                statements.push(format!(
                    "{prefix} REVOKE {option}{privilege} ON {types} FROM {grantee}"
                ));
            }
            for item in &grants {
                let (grantee, privilege, what) = split_item(item);
                let option = if what == "option" { " WITH GRANT OPTION" } else { "" };
                statements.push(format!(
                    "{prefix} GRANT {privilege} ON {types} TO {grantee}{option}"
                ));
            }
            let mut def = object(
                ObjectKind::Other(DEFAULT_PRIVILEGES.into()),
                schema.as_deref(),
                &entry_name(&role, types),
                statements.join(";\n"),
            );
            def.section = Some(Section::PostData);
            // An entry that changes nothing (the server keeps none) makes
            // no statement.
            Ok((!statements.is_empty()).then(|| Read::new(def, "pg_default_acl", oid)))
        },
    )?;
    Ok(rows.into_iter().flatten().collect())
}

/// `<role> <PRIVILEGE> <what>` as the query builds it (a role name may
/// hold spaces: the privilege and `what` are the last two words), the role
/// quoted for SQL (`PUBLIC` for everyone).
fn split_item(item: &str) -> (String, &str, &str) {
    let mut words = item.rsplitn(3, ' ');
    let what = words.next().unwrap_or_default();
    let privilege = words.next().unwrap_or_default();
    let role = words.next().unwrap_or_default();
    let grantee = if role == "public" {
        "PUBLIC".to_owned()
    } else {
        ident(role)
    };
    (grantee, privilege, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_splits_at_its_last_two_words() {
        assert_eq!(
            split_item("Big Boss SELECT option"),
            ("\"Big Boss\"".to_owned(), "SELECT", "option")
        );
        assert_eq!(
            split_item("public EXECUTE all"),
            ("PUBLIC".to_owned(), "EXECUTE", "all")
        );
    }
}
