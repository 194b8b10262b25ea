//! Operators, operator families and operator classes, built from
//! `pg_operator`, `pg_opfamily`, `pg_opclass`, `pg_amop` and `pg_amproc` as
//! pg_dump's `dumpOpr`, `dumpOpfamily` and `dumpOpclass` build them (the
//! server prints none of them itself).
//!
//! An operator names its COMMUTATOR and NEGATOR as `OPERATOR(schema.op)`:
//! when that operator does not exist yet, the server makes it a shell that
//! its own CREATE OPERATOR fills in later, which is how pg_dump restores
//! a pair that name each other in any order. Shell operators themselves
//! (no function) are not objects of their own, as in pg_dump.
//!
//! A family holds the members that are loose in it (`ALTER OPERATOR FAMILY
//! … ADD`); a class its own (`pg_depend` says which is whose), and names
//! its family, which the family entry creates first. All three are
//! pre-data: indexes, constraints and tables' `ORDER BY`s use them.

use bru_core::{Error, ObjectKind, Section};

use crate::conn::Conn;
use crate::quote::ident;

use super::aggregates::{qualified_operator, qualified_proc};
use super::{each_row, not_extension_member, object, Read, USER_NAMESPACE};

/// The `other` kind names of this module's objects.
pub(super) const OPERATOR: &str = "operator";
pub(super) const OPERATOR_FAMILY: &str = "operator family";
pub(super) const OPERATOR_CLASS: &str = "operator class";

/// An operator `o` (in schema `n`) as its entry names it: `regoperator`'s
/// text without the schema.
pub(super) const UNQUALIFIED_OPERATOR: &str =
    "CASE WHEN pg_catalog.starts_with(o.oid::pg_catalog.regoperator::text, pg_catalog.quote_ident(n.nspname) || '.')
          THEN pg_catalog.substr(o.oid::pg_catalog.regoperator::text, pg_catalog.length(pg_catalog.quote_ident(n.nspname)) + 2)
          ELSE o.oid::pg_catalog.regoperator::text END";

/// Operators with a function, in creation order, named as
/// `regoperator` prints them without the schema (`===(integer,integer)`).
pub(super) fn read_operators(conn: &Conn) -> Result<Vec<Read>, Error> {
    each_row(
        conn,
        &format!(
            "SELECT o.oid, n.nspname::text, o.oprname::text, {UNQUALIFIED_OPERATOR},
                    {code}, CASE WHEN o.oprleft <> 0 THEN o.oprleft::pg_catalog.regtype::text END,
                    CASE WHEN o.oprright <> 0 THEN o.oprright::pg_catalog.regtype::text END,
                    {com}, {neg}, o.oprcanmerge, o.oprcanhash, {rest}, {join}
             FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
             WHERE o.oprcode <> 0 AND {USER_NAMESPACE} AND {member}
             ORDER BY o.oid",
            code = qualified_proc("o.oprcode"),
            com = qualified_operator("o.oprcom"),
            neg = qualified_operator("o.oprnegate"),
            rest = qualified_proc("o.oprrest"),
            join = qualified_proc("o.oprjoin"),
            member = not_extension_member("pg_operator", "o.oid"),
        ),
        &[],
        "reading operators",
        |r| {
            let oid: u32 = get!(r, 0);
            let schema: String = get!(r, 1);
            let op: String = get!(r, 2);
            let name: String = get!(r, 3);
            let function: String = get!(r, 4);
            let left: Option<String> = get!(r, 5);
            let right: Option<String> = get!(r, 6);
            let commutator: Option<String> = get!(r, 7);
            let negator: Option<String> = get!(r, 8);
            let merges: bool = get!(r, 9);
            let hashes: bool = get!(r, 10);
            let restrict: Option<String> = get!(r, 11);
            let join: Option<String> = get!(r, 12);
            let mut clauses = vec![format!("FUNCTION = {function}")];
            clauses.extend(left.map(|t| format!("LEFTARG = {t}")));
            clauses.extend(right.map(|t| format!("RIGHTARG = {t}")));
            clauses.extend(commutator.map(|o| format!("COMMUTATOR = {o}")));
            clauses.extend(negator.map(|o| format!("NEGATOR = {o}")));
            if merges {
                clauses.push("MERGES".into());
            }
            if hashes {
                clauses.push("HASHES".into());
            }
            clauses.extend(restrict.map(|f| format!("RESTRICT = {f}")));
            clauses.extend(join.map(|f| format!("JOIN = {f}")));
            let ddl = format!(
                "CREATE OPERATOR {}.{op} (\n    {}\n)",
                ident(&schema),
                clauses.join(",\n    ")
            );
            Ok(pre_data(
                object(
                    ObjectKind::Other(OPERATOR.into()),
                    Some(&schema),
                    &name,
                    ddl,
                ),
                "pg_operator",
                oid,
            ))
        },
    )
}

/// The `OPERATOR n op(l,r) [FOR ORDER BY fam]` members of a family or
/// class (`refclass`, row `refobjid`) in family `family`, as an array.
fn operator_members(refclass: &str, refobjid: &str, family: &str) -> String {
    format!(
        "ARRAY(SELECT 'OPERATOR ' || ao.amopstrategy || ' ' || ao.amopopr::pg_catalog.regoperator::text ||
                      COALESCE(' FOR ORDER BY ' || pg_catalog.quote_ident(sn.nspname) || '.' ||
                               pg_catalog.quote_ident(sf.opfname), '')
                 FROM pg_catalog.pg_amop ao
                 JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_amop'::pg_catalog.regclass
                  AND d.objid = ao.oid
                 LEFT JOIN pg_catalog.pg_opfamily sf ON sf.oid = ao.amopsortfamily
                 LEFT JOIN pg_catalog.pg_namespace sn ON sn.oid = sf.opfnamespace
                WHERE d.refclassid = 'pg_catalog.{refclass}'::pg_catalog.regclass
                  AND d.refobjid = {refobjid} AND ao.amopfamily = {family}
                ORDER BY ao.amopstrategy)"
    )
}

/// The `FUNCTION n (l, r) f(args)` members of a family or class, as an
/// array.
fn function_members(refclass: &str, refobjid: &str) -> String {
    format!(
        "ARRAY(SELECT 'FUNCTION ' || ap.amprocnum || ' (' || ap.amproclefttype::pg_catalog.regtype::text ||
                      ', ' || ap.amprocrighttype::pg_catalog.regtype::text || ') ' ||
                      ap.amproc::pg_catalog.regprocedure::text
                 FROM pg_catalog.pg_amproc ap
                 JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_amproc'::pg_catalog.regclass
                  AND d.objid = ap.oid
                WHERE d.refclassid = 'pg_catalog.{refclass}'::pg_catalog.regclass
                  AND d.refobjid = {refobjid}
                ORDER BY ap.amprocnum, ap.amproclefttype, ap.amprocrighttype)"
    )
}

/// Operator families, each `CREATE OPERATOR FAMILY` then its loose members
/// (`ALTER OPERATOR FAMILY … ADD`), named `<name> USING <am>`.
pub(super) fn read_operator_families(conn: &Conn) -> Result<Vec<Read>, Error> {
    each_row(
        conn,
        &format!(
            "SELECT f.oid, n.nspname::text, f.opfname::text, am.amname::text, {ops}, {procs},
                    {entry}
             FROM pg_catalog.pg_opfamily f JOIN pg_catalog.pg_namespace n ON n.oid = f.opfnamespace
             JOIN pg_catalog.pg_am am ON am.oid = f.opfmethod
             WHERE {USER_NAMESPACE} AND {member}
             ORDER BY f.oid",
            ops = operator_members("pg_opfamily", "f.oid", "f.oid"),
            entry = using("f.opfname", "am.amname"),
            procs = function_members("pg_opfamily", "f.oid"),
            member = not_extension_member("pg_opfamily", "f.oid"),
        ),
        &[],
        "reading operator families",
        |r| {
            let oid: u32 = get!(r, 0);
            let schema: String = get!(r, 1);
            let name: String = get!(r, 2);
            let am: String = get!(r, 3);
            let mut members: Vec<String> = get!(r, 4);
            let procs: Vec<String> = get!(r, 5);
            let entry: String = get!(r, 6);
            members.extend(procs);
            let qname = format!("{}.{} USING {}", ident(&schema), ident(&name), ident(&am));
            let mut ddl = format!("CREATE OPERATOR FAMILY {qname}");
            if !members.is_empty() {
                ddl.push_str(&format!(
                    ";\nALTER OPERATOR FAMILY {qname} ADD\n    {}",
                    members.join(" ,\n    ")
                ));
            }
            Ok(pre_data(
                object(
                    ObjectKind::Other(OPERATOR_FAMILY.into()),
                    Some(&schema),
                    &entry,
                    ddl,
                ),
                "pg_opfamily",
                oid,
            ))
        },
    )
}

/// Operator classes, each one `CREATE OPERATOR CLASS` with its own members,
/// named `<name> USING <am>`.
pub(super) fn read_operator_classes(conn: &Conn) -> Result<Vec<Read>, Error> {
    each_row(
        conn,
        &format!(
            "SELECT c.oid, n.nspname::text, c.opcname::text, am.amname::text,
                    c.opcintype::pg_catalog.regtype::text,
                    CASE WHEN c.opckeytype <> 0 THEN c.opckeytype::pg_catalog.regtype::text END,
                    c.opcdefault,
                    pg_catalog.quote_ident(fn.nspname) || '.' || pg_catalog.quote_ident(f.opfname),
                    {ops}, {procs}, {entry}
             FROM pg_catalog.pg_opclass c JOIN pg_catalog.pg_namespace n ON n.oid = c.opcnamespace
             JOIN pg_catalog.pg_am am ON am.oid = c.opcmethod
             JOIN pg_catalog.pg_opfamily f ON f.oid = c.opcfamily
             JOIN pg_catalog.pg_namespace fn ON fn.oid = f.opfnamespace
             WHERE {USER_NAMESPACE} AND {member}
             ORDER BY c.oid",
            ops = operator_members("pg_opclass", "c.oid", "c.opcfamily"),
            entry = using("c.opcname", "am.amname"),
            procs = function_members("pg_opclass", "c.oid"),
            member = not_extension_member("pg_opclass", "c.oid"),
        ),
        &[],
        "reading operator classes",
        |r| {
            let oid: u32 = get!(r, 0);
            let schema: String = get!(r, 1);
            let name: String = get!(r, 2);
            let am: String = get!(r, 3);
            let in_type: String = get!(r, 4);
            let key_type: Option<String> = get!(r, 5);
            let default: bool = get!(r, 6);
            let family: String = get!(r, 7);
            let ops: Vec<String> = get!(r, 8);
            let procs: Vec<String> = get!(r, 9);
            let entry: String = get!(r, 10);
            let mut members: Vec<String> = key_type
                .map(|k| format!("STORAGE {k}"))
                .into_iter()
                .collect();
            members.extend(ops);
            members.extend(procs);
            if members.is_empty() {
                members.push(format!("STORAGE {in_type}"));
            }
            let ddl = format!(
                "CREATE OPERATOR CLASS {}.{}\n    {}FOR TYPE {in_type} USING {} FAMILY {family} AS\n    {}",
                ident(&schema),
                ident(&name),
                if default { "DEFAULT " } else { "" },
                ident(&am),
                members.join(" ,\n    ")
            );
            Ok(pre_data(
                object(
                    ObjectKind::Other(OPERATOR_CLASS.into()),
                    Some(&schema),
                    &entry,
                    ddl,
                ),
                "pg_opclass",
                oid,
            ))
        },
    )
}

/// A family's or class's entry name, `<name> USING <am>` with each part
/// as `quote_ident` writes it (as its owner's and comment's entries name
/// it), from the columns `name` and `am`.
pub(super) fn using(name: &str, am: &str) -> String {
    format!("pg_catalog.quote_ident({name}) || ' USING ' || pg_catalog.quote_ident({am})")
}

/// `def`, read from row `oid` of `class`, created before the tables.
pub(super) fn pre_data(mut def: bru_core::ObjectDef, class: &'static str, oid: u32) -> Read {
    def.section = Some(Section::PreData);
    Read::new(def, class, oid)
}
