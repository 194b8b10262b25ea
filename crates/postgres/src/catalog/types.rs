//! User types, as pg_dump writes them (`dumpEnumType`, `dumpCompositeType`,
//! `dumpDomain`, `dumpRangeType`, `dumpBaseType`, `dumpUndefinedType` in
//! `pg_dump.c`):
//! - enums and composite types (`CREATE TYPE … AS ENUM|(…)`, a column's
//!   collation where it is not its type's);
//! - domains (`CREATE DOMAIN`, with collation, default, NOT NULL and their
//!   validated CHECKs); a CHECK that is NOT VALID is its own entry
//!   ([`ObjectKind::DomainConstraint`], `ALTER DOMAIN … ADD CONSTRAINT …
//!   NOT VALID`) after the data, as pg_dump does, since the rows may break
//!   it and loading them would check it;
//! - range types (`CREATE TYPE … AS RANGE`: subtype, multirange type name,
//!   and the subtype operator class, collation, canonical and subtype_diff
//!   functions where they are not the defaults); the multirange type and
//!   the constructor functions are made by the `CREATE TYPE`, never read;
//! - base types: a shell first ([`ObjectKind::ShellType`], `CREATE TYPE t`),
//!   which the dependency sort ([`super::order`]) puts before the I/O
//!   functions, then `CREATE TYPE t (INPUT = …, …)` with every option
//!   pg_dump writes;
//! - shell types that were never defined, as `CREATE TYPE t`.
//!
//! Array types come with their element type, and row types with their
//! table: neither is read.

use bru_core::{Error, ObjectKind};

use crate::conn::Conn;

use super::{each_row, not_extension_member, object, Read, USER_NAMESPACE};

/// The quoted, schema-qualified name of collation `oid` (an expression).
fn collation(oid: &str) -> String {
    format!(
        "(SELECT pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname)
          FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
          WHERE co.oid = {oid})"
    )
}

/// Every user type, each with its catalog row; a base type as its shell
/// and itself.
pub(super) fn read_types(conn: &Conn) -> Result<Vec<Read>, Error> {
    let rows = each_row(
        conn,
        &format!(
            "SELECT t.oid, n.nspname::text, t.typname::text, t.typtype::text,
                    pg_catalog.format_type(t.oid, NULL),
                    ARRAY(SELECT pg_catalog.quote_literal(e.enumlabel) FROM pg_catalog.pg_enum e
                          WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder),
                    ARRAY(SELECT pg_catalog.quote_ident(a.attname) || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
                                 || CASE WHEN a.attcollation <> at.typcollation
                                         THEN ' COLLATE ' || {} ELSE '' END
                          FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type at ON at.oid = a.atttypid
                          WHERE a.attrelid = t.typrelid AND a.attnum > 0
                          AND NOT a.attisdropped ORDER BY a.attnum),
                    pg_catalog.format_type(t.typbasetype, t.typtypmod), t.typnotnull,
                    COALESCE(pg_catalog.pg_get_expr(t.typdefaultbin, 0), t.typdefault),
                    ARRAY(SELECT 'CONSTRAINT ' || pg_catalog.quote_ident(c.conname) || ' ' || pg_catalog.pg_get_constraintdef(c.oid)
                          FROM pg_catalog.pg_constraint c WHERE c.contypid = t.oid AND c.convalidated
                          ORDER BY c.conname),
                    CASE WHEN t.typtype = 'd' AND t.typcollation <> 0
                          AND t.typcollation <> (SELECT b.typcollation FROM pg_catalog.pg_type b WHERE b.oid = t.typbasetype)
                         THEN {} END
             FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
             WHERE {USER_NAMESPACE} AND {}
               AND (t.typtype IN ('e', 'd', 'r', 'b')
                    OR (t.typtype = 'p' AND NOT t.typisdefined)
                    OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c'))
               AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)
             ORDER BY t.oid",
            collation("a.attcollation"),
            collation("t.typcollation"),
            not_extension_member("pg_type", "t.oid")
        ),
        &[],
        "reading types",
        |r| {
            let oid: u32 = get!(r, 0);
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
                    let checks: Vec<String> = get!(r, 10);
                    let collation: Option<String> = get!(r, 11);
                    let mut d = format!("CREATE DOMAIN {qname} AS {base}");
                    if let Some(c) = collation {
                        d.push_str(&format!(" COLLATE {c}"));
                    }
                    let default: Option<String> = get!(r, 9);
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
                // Filled in below, from their own catalogs.
                "r" | "b" => String::new(),
                _ => format!("CREATE TYPE {qname}"),
            };
            let def = object(ObjectKind::Type, Some(&schema), &name, ddl);
            Ok((kind, qname, Read::new(def, "pg_type", oid)))
        },
    )?;
    let ranges = read_ranges(conn)?;
    let bases = read_base_types(conn)?;
    let not_valid = read_not_valid_checks(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for (kind, qname, mut read) in rows {
        match kind.as_str() {
            "r" => {
                let (options, canonical) = ranges
                    .iter()
                    .find(|(oid, _, _)| *oid == read.oid)
                    .map(|(_, options, canonical)| (options, *canonical))
                    .ok_or_else(|| vanished(&qname))?;
                // A canonical function takes and returns the range: it
                // needs the shell, as a base type's I/O functions do.
                if canonical {
                    out.push(shell(&read, &qname));
                }
                read.def.ddl = format!("CREATE TYPE {qname} AS RANGE ({options})");
            }
            "b" => {
                let options = bases
                    .iter()
                    .find(|(oid, _)| *oid == read.oid)
                    .map(|(_, options)| options.clone())
                    .ok_or_else(|| vanished(&qname))?;
                out.push(shell(&read, &qname));
                read.def.ddl = format!("CREATE TYPE {qname} (\n    {options}\n)");
            }
            _ => {}
        }
        let oid = read.oid;
        let (schema, name) = (read.def.name.schema.clone(), read.def.name.name.clone());
        out.push(read);
        for (con_oid, type_oid, check) in &not_valid {
            if *type_oid == oid {
                let def = object(
                    ObjectKind::DomainConstraint,
                    schema.as_deref(),
                    &name,
                    format!("ALTER DOMAIN {qname} ADD {check}"),
                );
                out.push(Read::new(def, "pg_constraint", *con_oid));
            }
        }
    }
    Ok(out)
}

/// The shell of type `read` (`CREATE TYPE <qname>`), which the functions
/// the type needs can be created with.
fn shell(read: &Read, qname: &str) -> Read {
    let def = object(
        ObjectKind::ShellType,
        read.def.name.schema.as_deref(),
        &read.def.name.name,
        format!("CREATE TYPE {qname}"),
    );
    Read::new(def, "pg_type", read.oid)
}

fn vanished(qname: &str) -> Error {
    Error::engine(
        "reading types",
        format!("type {qname} changed while it was read; run the backup again"),
    )
}

/// The options of every user range type (`subtype = …` onwards), and
/// whether it has a canonical function, by oid.
fn read_ranges(conn: &Conn) -> Result<Vec<(u32, String, bool)>, Error> {
    each_row(
        conn,
        &format!(
            "SELECT r.rngtypid, pg_catalog.format_type(r.rngsubtype, NULL),
                    pg_catalog.format_type(r.rngmultitypid, NULL),
                    CASE WHEN NOT opc.opcdefault
                         THEN pg_catalog.quote_ident(on_.nspname) || '.' || pg_catalog.quote_ident(opc.opcname) END,
                    CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation
                         THEN {} END,
                    CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::pg_catalog.regproc::text END,
                    CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::pg_catalog.regproc::text END
             FROM pg_catalog.pg_range r
             JOIN pg_catalog.pg_type t ON t.oid = r.rngtypid
             JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
             JOIN pg_catalog.pg_type st ON st.oid = r.rngsubtype
             JOIN pg_catalog.pg_opclass opc ON opc.oid = r.rngsubopc
             JOIN pg_catalog.pg_namespace on_ ON on_.oid = opc.opcnamespace
             WHERE {USER_NAMESPACE}",
            collation("r.rngcollation")
        ),
        &[],
        "reading range types",
        |r| {
            let subtype: String = get!(r, 1);
            let multirange: String = get!(r, 2);
            let mut options = format!("\n    subtype = {subtype},\n    multirange_type_name = {multirange}");
            let named = [
                ("subtype_opclass", 3),
                ("collation", 4),
                ("canonical", 5),
                ("subtype_diff", 6),
            ];
            for (option, i) in named {
                let value: Option<String> = get!(r, i);
                if let Some(v) = value {
                    options.push_str(&format!(",\n    {option} = {v}"));
                }
            }
            options.push('\n');
            let canonical: Option<String> = get!(r, 5);
            Ok((get!(r, 0), options, canonical.is_some()))
        },
    )
}

/// The options of every user base type's `CREATE TYPE`, in pg_dump's
/// order, by oid.
fn read_base_types(conn: &Conn) -> Result<Vec<(u32, String)>, Error> {
    each_row(
        conn,
        &format!(
            "SELECT t.oid, t.typlen, t.typinput::text, t.typoutput::text,
                    CASE WHEN t.typreceive <> 0 THEN t.typreceive::text END,
                    CASE WHEN t.typsend <> 0 THEN t.typsend::text END,
                    CASE WHEN t.typmodin <> 0 THEN t.typmodin::text END,
                    CASE WHEN t.typmodout <> 0 THEN t.typmodout::text END,
                    CASE WHEN t.typanalyze <> 0 THEN t.typanalyze::text END,
                    t.typcollation <> 0,
                    COALESCE(pg_catalog.pg_get_expr(t.typdefaultbin, 0), pg_catalog.quote_literal(t.typdefault)),
                    CASE WHEN t.typsubscript <> 0 THEN t.typsubscript::text END,
                    CASE WHEN t.typelem <> 0 THEN pg_catalog.format_type(t.typelem, NULL) END,
                    t.typcategory::text, t.typispreferred, t.typdelim::text, t.typalign::text,
                    t.typstorage::text, t.typbyval
             FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
             WHERE t.typtype = 'b' AND {USER_NAMESPACE}"
        ),
        &[],
        "reading base types",
        |r| {
            let len: i16 = get!(r, 1);
            let mut o = vec![format!(
                "INTERNALLENGTH = {}",
                if len == -1 {
                    "variable".to_owned()
                } else {
                    len.to_string()
                }
            )];
            let input: String = get!(r, 2);
            let output: String = get!(r, 3);
            o.push(format!("INPUT = {input}"));
            o.push(format!("OUTPUT = {output}"));
            for (option, i) in [
                ("RECEIVE", 4),
                ("SEND", 5),
                ("TYPMOD_IN", 6),
                ("TYPMOD_OUT", 7),
                ("ANALYZE", 8),
            ] {
                let f: Option<String> = get!(r, i);
                if let Some(f) = f {
                    o.push(format!("{option} = {f}"));
                }
            }
            let collatable: bool = get!(r, 9);
            if collatable {
                o.push("COLLATABLE = true".into());
            }
            let default: Option<String> = get!(r, 10);
            if let Some(d) = default {
                o.push(format!("DEFAULT = {d}"));
            }
            let subscript: Option<String> = get!(r, 11);
            if let Some(s) = subscript {
                o.push(format!("SUBSCRIPT = {s}"));
            }
            let element: Option<String> = get!(r, 12);
            if let Some(e) = element {
                o.push(format!("ELEMENT = {e}"));
            }
            let category: String = get!(r, 13);
            if category != "U" {
                o.push(format!("CATEGORY = {}", crate::quote::quote_literal(&category)));
            }
            let preferred: bool = get!(r, 14);
            if preferred {
                o.push("PREFERRED = true".into());
            }
            let delim: String = get!(r, 15);
            if delim != "," {
                o.push(format!("DELIMITER = {}", crate::quote::quote_literal(&delim)));
            }
            let align: String = get!(r, 16);
            o.push(format!(
                "ALIGNMENT = {}",
                match align.as_str() {
                    "c" => "char",
                    "s" => "int2",
                    "i" => "int4",
                    _ => "double",
                }
            ));
            let storage: String = get!(r, 17);
            o.push(format!(
                "STORAGE = {}",
                match storage.as_str() {
                    "p" => "plain",
                    "e" => "external",
                    "m" => "main",
                    _ => "extended",
                }
            ));
            let by_value: bool = get!(r, 18);
            if by_value {
                o.push("PASSEDBYVALUE".into());
            }
            Ok((get!(r, 0), o.join(",\n    ")))
        },
    )
}

/// The NOT VALID checks of user domains: (constraint oid, domain oid,
/// `CONSTRAINT <name> CHECK (…) NOT VALID`), by domain then name.
fn read_not_valid_checks(conn: &Conn) -> Result<Vec<(u32, u32, String)>, Error> {
    each_row(
        conn,
        &format!(
            "SELECT c.oid, c.contypid,
                    'CONSTRAINT ' || pg_catalog.quote_ident(c.conname) || ' ' || pg_catalog.pg_get_constraintdef(c.oid)
             FROM pg_catalog.pg_constraint c JOIN pg_catalog.pg_type t ON t.oid = c.contypid
             JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
             WHERE c.contypid <> 0 AND NOT c.convalidated AND {USER_NAMESPACE}
             ORDER BY c.contypid, c.conname"
        ),
        &[],
        "reading domain constraints",
        |r| Ok((get!(r, 0), get!(r, 1), get!(r, 2))),
    )
}
