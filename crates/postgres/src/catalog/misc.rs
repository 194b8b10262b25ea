//! The smaller object kinds, each built from its catalog row as pg_dump
//! builds it: collations (`dumpCollation`), casts (`dumpCast`),
//! conversions (`dumpConversion`), procedural languages (`dumpProcLang`),
//! transforms (`dumpTransform`), access methods (`dumpAccessMethod`) and
//! event triggers (`dumpEventTrigger`).
//!
//! Kinds without a schema (casts, languages, transforms, access methods,
//! event triggers) are only the user's when their oid is past the ones
//! initdb made (`FirstNormalObjectId`, 16384), which is how pg_dump tells a
//! built-in cast from one a user created. An extension's own are left to
//! its CREATE EXTENSION, as everywhere.
//!
//! Everything here is pre-data (tables, columns, indexes and functions use
//! them) except event triggers, which come last of all, with their owner
//! and comment, as pg_dump creates them: once one exists, every DDL
//! statement after it would fire it.
//!
//! Two places where bru writes more than pg_dump: a language is always
//! created with its HANDLER (pg_dump writes a bare `CREATE OR REPLACE
//! LANGUAGE`, which only works for a language an extension provides, when
//! its handler is in `pg_catalog`), and a collation's version is not
//! written (as pg_dump outside binary upgrade: the target's library
//! records its own).

use bru_core::{Error, ObjectDef, ObjectKind, TableName};

use crate::conn::Conn;
use crate::quote::{ident, quote_literal};
use crate::ENGINE_NAME;

use super::aggregates::qualified_proc;
use super::operators::pre_data;
use super::{each_row, not_extension_member, object, Read, USER_NAMESPACE};

/// The oids initdb gives its own objects are below this
/// (`FirstNormalObjectId`).
const FIRST_NORMAL_OID: u32 = 16384;

/// Collations (ICU and libc, deterministic or not), in creation order.
pub(super) fn read_collations(conn: &Conn) -> Result<Vec<Read>, Error> {
    each_row(
        conn,
        &format!(
            "SELECT c.oid, n.nspname::text, c.collname::text, c.collprovider::text,
                    c.collisdeterministic, c.collcollate, c.collctype, c.colliculocale
             FROM pg_catalog.pg_collation c JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
             WHERE {USER_NAMESPACE} AND {}
             ORDER BY c.oid",
            not_extension_member("pg_collation", "c.oid")
        ),
        &[],
        "reading collations",
        |r| {
            let oid: u32 = get!(r, 0);
            let schema: String = get!(r, 1);
            let name: String = get!(r, 2);
            let provider: String = get!(r, 3);
            let deterministic: bool = get!(r, 4);
            let collate: Option<String> = get!(r, 5);
            let ctype: Option<String> = get!(r, 6);
            let icu: Option<String> = get!(r, 7);
            let q = |s: &Option<String>| quote_literal(s.as_deref().unwrap_or(""));
            let mut options = vec![format!(
                "provider = {}",
                match provider.as_str() {
                    "i" => "icu",
                    "c" => "libc",
                    _ => "default",
                }
            )];
            if !deterministic {
                options.push("deterministic = false".into());
            }
            match provider.as_str() {
                "i" => options.push(format!("locale = {}", q(&icu))),
                "c" if collate == ctype => options.push(format!("locale = {}", q(&collate))),
                "c" => {
                    options.push(format!("lc_collate = {}", q(&collate)));
                    options.push(format!("lc_ctype = {}", q(&ctype)));
                }
                _ => {}
            }
            let ddl = format!(
                "CREATE COLLATION {}.{} ({})",
                ident(&schema),
                ident(&name),
                options.join(", ")
            );
            Ok(pre_data(
                object(ObjectKind::Other("collation".into()), Some(&schema), &name, ddl),
                "pg_collation",
                oid,
            ))
        },
    )
}

/// User-defined casts, named `(source AS target)` as pg_dump names them.
pub(super) fn read_casts(conn: &Conn) -> Result<Vec<Read>, Error> {
    each_row(
        conn,
        &format!(
            "SELECT c.oid, pg_catalog.format_type(c.castsource, NULL), pg_catalog.format_type(c.casttarget, NULL),
                    c.castmethod::text, c.castcontext::text,
                    CASE WHEN c.castfunc <> 0 THEN c.castfunc::pg_catalog.regprocedure::text END
             FROM pg_catalog.pg_cast c
             WHERE c.oid >= {FIRST_NORMAL_OID} AND {}
               -- A range's cast to its multirange is CREATE TYPE's (pg_dump
               -- leaves it out the same way).
               AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_range r
                               WHERE r.rngtypid = c.castsource AND r.rngmultitypid = c.casttarget)
             ORDER BY c.oid",
            not_extension_member("pg_cast", "c.oid")
        ),
        &[],
        "reading casts",
        |r| {
            let oid: u32 = get!(r, 0);
            let source: String = get!(r, 1);
            let target: String = get!(r, 2);
            let method: String = get!(r, 3);
            let context: String = get!(r, 4);
            let function: Option<String> = get!(r, 5);
            let name = format!("({source} AS {target})");
            let how = match (method.as_str(), function) {
                ("f", Some(f)) => format!("WITH FUNCTION {f}"),
                ("i", _) => "WITH INOUT".into(),
                _ => "WITHOUT FUNCTION".into(),
            };
            let context = match context.as_str() {
                "a" => " AS ASSIGNMENT",
                "i" => " AS IMPLICIT",
                _ => "",
            };
            let ddl = format!("CREATE CAST {name} {how}{context}");
            Ok(pre_data(
                object(ObjectKind::Other("cast".into()), None, &name, ddl),
                "pg_cast",
                oid,
            ))
        },
    )
}

/// Encoding conversions.
pub(super) fn read_conversions(conn: &Conn) -> Result<Vec<Read>, Error> {
    each_row(
        conn,
        &format!(
            "SELECT c.oid, n.nspname::text, c.conname::text, c.condefault,
                    pg_catalog.pg_encoding_to_char(c.conforencoding)::text,
                    pg_catalog.pg_encoding_to_char(c.contoencoding)::text, {}
             FROM pg_catalog.pg_conversion c JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace
             WHERE {USER_NAMESPACE} AND {}
             ORDER BY c.oid",
            qualified_proc("c.conproc"),
            not_extension_member("pg_conversion", "c.oid")
        ),
        &[],
        "reading conversions",
        |r| {
            let oid: u32 = get!(r, 0);
            let schema: String = get!(r, 1);
            let name: String = get!(r, 2);
            let default: bool = get!(r, 3);
            let from: String = get!(r, 4);
            let to: String = get!(r, 5);
            let function: String = get!(r, 6);
            let ddl = format!(
                "CREATE {}CONVERSION {}.{} FOR {} TO {} FROM {function}",
                if default { "DEFAULT " } else { "" },
                ident(&schema),
                ident(&name),
                quote_literal(&from),
                quote_literal(&to)
            );
            Ok(pre_data(
                object(ObjectKind::Other("conversion".into()), Some(&schema), &name, ddl),
                "pg_conversion",
                oid,
            ))
        },
    )
}

/// Procedural languages (plpgsql is its extension's). The functions they
/// name (handler, inline, validator) come before them by the dependency
/// sort (module `order`).
pub(super) fn read_languages(conn: &Conn) -> Result<Vec<Read>, Error> {
    each_row(
        conn,
        &format!(
            "SELECT l.oid, l.lanname::text, l.lanpltrusted, {}, {}, {}
             FROM pg_catalog.pg_language l
             WHERE l.lanispl AND l.oid >= {FIRST_NORMAL_OID} AND {}
             ORDER BY l.oid",
            qualified_proc("l.lanplcallfoid"),
            qualified_proc("l.laninline"),
            qualified_proc("l.lanvalidator"),
            not_extension_member("pg_language", "l.oid")
        ),
        &[],
        "reading procedural languages",
        |r| {
            let oid: u32 = get!(r, 0);
            let name: String = get!(r, 1);
            let trusted: bool = get!(r, 2);
            let handler: String = get!(r, 3);
            let inline: Option<String> = get!(r, 4);
            let validator: Option<String> = get!(r, 5);
            let mut ddl = format!(
                "CREATE {}PROCEDURAL LANGUAGE {} HANDLER {handler}",
                if trusted { "TRUSTED " } else { "" },
                ident(&name)
            );
            if let Some(f) = inline {
                ddl.push_str(&format!(" INLINE {f}"));
            }
            if let Some(f) = validator {
                ddl.push_str(&format!(" VALIDATOR {f}"));
            }
            Ok(pre_data(
                object(ObjectKind::Other("language".into()), None, &name, ddl),
                "pg_language",
                oid,
            ))
        },
    )
}

/// Transforms, named `FOR <type> LANGUAGE <language>`.
pub(super) fn read_transforms(conn: &Conn) -> Result<Vec<Read>, Error> {
    each_row(
        conn,
        &format!(
            "SELECT t.oid, pg_catalog.format_type(t.trftype, NULL), l.lanname::text,
                    CASE WHEN t.trffromsql <> 0 THEN t.trffromsql::pg_catalog.regprocedure::text END,
                    CASE WHEN t.trftosql <> 0 THEN t.trftosql::pg_catalog.regprocedure::text END,
                    pg_catalog.format('FOR %s LANGUAGE %I', pg_catalog.format_type(t.trftype, NULL), l.lanname)
             FROM pg_catalog.pg_transform t JOIN pg_catalog.pg_language l ON l.oid = t.trflang
             WHERE t.oid >= {FIRST_NORMAL_OID} AND {}
             ORDER BY t.oid",
            not_extension_member("pg_transform", "t.oid")
        ),
        &[],
        "reading transforms",
        |r| {
            let oid: u32 = get!(r, 0);
            let from: Option<String> = get!(r, 3);
            let to: Option<String> = get!(r, 4);
            let name: String = get!(r, 5);
            let mut functions = Vec::new();
            functions.extend(from.map(|f| format!("FROM SQL WITH FUNCTION {f}")));
            functions.extend(to.map(|f| format!("TO SQL WITH FUNCTION {f}")));
            let ddl = format!("CREATE TRANSFORM {name} ({})", functions.join(", "));
            Ok(pre_data(
                object(ObjectKind::Other("transform".into()), None, &name, ddl),
                "pg_transform",
                oid,
            ))
        },
    )
}

/// Access methods (index and table) a user created.
pub(super) fn read_access_methods(conn: &Conn) -> Result<Vec<Read>, Error> {
    each_row(
        conn,
        &format!(
            "SELECT a.oid, a.amname::text, a.amtype::text, {}
             FROM pg_catalog.pg_am a
             WHERE a.oid >= {FIRST_NORMAL_OID} AND {}
             ORDER BY a.oid",
            qualified_proc("a.amhandler"),
            not_extension_member("pg_am", "a.oid")
        ),
        &[],
        "reading access methods",
        |r| {
            let oid: u32 = get!(r, 0);
            let name: String = get!(r, 1);
            let kind: String = get!(r, 2);
            let handler: String = get!(r, 3);
            let ddl = format!(
                "CREATE ACCESS METHOD {} TYPE {} HANDLER {handler}",
                ident(&name),
                if kind == "t" { "TABLE" } else { "INDEX" }
            );
            Ok(pre_data(
                object(ObjectKind::Other("access method".into()), None, &name, ddl),
                "pg_am",
                oid,
            ))
        },
    )
}

/// Event triggers with their enable state, each followed by its owner and
/// its comment: all of them go last, after every other object (see the
/// module's docs).
pub(super) fn read_event_triggers(conn: &Conn) -> Result<Vec<Read>, Error> {
    let rows = each_row(
        conn,
        &format!(
            "SELECT e.oid, e.evtname::text, e.evtevent::text, {},
                    e.evtenabled::text,
                    pg_catalog.array_to_string(ARRAY(SELECT pg_catalog.quote_literal(t)
                                                     FROM pg_catalog.unnest(e.evttags) t), ', '),
                    pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(e.evtowner)::text),
                    (SELECT d.description FROM pg_catalog.pg_description d
                      WHERE d.classoid = 'pg_catalog.pg_event_trigger'::pg_catalog.regclass
                        AND d.objoid = e.oid)
             FROM pg_catalog.pg_event_trigger e
             WHERE {}
             ORDER BY e.oid",
            qualified_proc("e.evtfoid"),
            not_extension_member("pg_event_trigger", "e.oid")
        ),
        &[],
        "reading event triggers",
        |r| {
            let oid: u32 = get!(r, 0);
            let name: String = get!(r, 1);
            let event: String = get!(r, 2);
            let function: String = get!(r, 3);
            let enabled: String = get!(r, 4);
            let tags: Option<String> = get!(r, 5);
            let owner: String = get!(r, 6);
            let comment: Option<String> = get!(r, 7);
            let qname = ident(&name);
            let mut ddl = format!("CREATE EVENT TRIGGER {qname} ON {}", ident(&event));
            if let Some(tags) = tags.filter(|t| !t.is_empty()) {
                ddl.push_str(&format!("\n         WHEN TAG IN ({tags})"));
            }
            ddl.push_str(&format!("\n   EXECUTE FUNCTION {function}()"));
            let state = match enabled.as_str() {
                "D" => Some("DISABLE"),
                "A" => Some("ENABLE ALWAYS"),
                "R" => Some("ENABLE REPLICA"),
                _ => None,
            };
            if let Some(state) = state {
                ddl.push_str(&format!(";\nALTER EVENT TRIGGER {qname} {state}"));
            }
            let named = |kind: ObjectKind, ddl: String| {
                let o = ObjectDef::new(kind, TableName::new(None, &name), ENGINE_NAME, ddl);
                Read::new(o, "pg_event_trigger", oid)
            };
            let mut out = vec![named(ObjectKind::Other("event trigger".into()), ddl)];
            out.push(named(
                ObjectKind::Owner,
                format!("ALTER EVENT TRIGGER {qname} OWNER TO {owner}"),
            ));
            if let Some(c) = comment {
                out.push(named(
                    ObjectKind::Comment,
                    format!("COMMENT ON EVENT TRIGGER {qname} IS {}", quote_literal(&c)),
                ));
            }
            Ok(out)
        },
    )?;
    Ok(rows.into_iter().flatten().collect())
}
