//! The objects around the tables that are read the same way, one object
//! per catalog row: schemas, extensions, views and materialized views,
//! rules, triggers, extended statistics, and what bru sees but does not
//! carry yet (listed so the restore reports it as skipped). Text search,
//! foreign data, row-level security, replication and default privileges
//! have modules of their own.

use bru_core::{Error, ObjectDef, ObjectKind, TableName};

use crate::conn::Conn;
use crate::quote::ident;

use super::{each_row, not_extension_member, object, Read, USER_NAMESPACE};

pub(super) fn read_schemas(conn: &Conn) -> Result<Vec<Read>, Error> {
    each_row(
        conn,
        &format!(
            "SELECT n.nspname::text, n.oid FROM pg_catalog.pg_namespace n
             WHERE {USER_NAMESPACE} AND n.nspname <> 'public' AND {}
             ORDER BY n.nspname",
            not_extension_member("pg_namespace", "n.oid")
        ),
        &[],
        "reading schemas",
        |r| {
            let name: String = get!(r, 0);
            let def = object(
                ObjectKind::Schema,
                None,
                &name,
                format!("CREATE SCHEMA IF NOT EXISTS {}", ident(&name)),
            );
            Ok(Read::new(def, "pg_namespace", get!(r, 1)))
        },
    )
}

pub(super) fn read_extensions(conn: &Conn) -> Result<Vec<Read>, Error> {
    each_row(
        conn,
        "SELECT e.extname::text, n.nspname::text, e.oid FROM pg_catalog.pg_extension e
         JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname <> 'plpgsql' ORDER BY e.oid",
        &[],
        "reading extensions",
        |r| {
            let name: String = get!(r, 0);
            let schema: String = get!(r, 1);
            let def = object(
                ObjectKind::Extension,
                None,
                &name,
                format!(
                    "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}",
                    ident(&name),
                    ident(&schema)
                ),
            );
            Ok(Read::new(def, "pg_extension", get!(r, 2)))
        },
    )
}

/// The relations (tables, views, materialized views) view `c` reads, as
/// PostgreSQL resolved them: what its `_RETURN` rewrite rule depends on in
/// `pg_depend`, one row per relation.
const READS: &str = "(SELECT DISTINCT r.oid, r.relname, r.relnamespace
        FROM pg_catalog.pg_rewrite rw
        JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
         AND d.objid = rw.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
        JOIN pg_catalog.pg_class r ON r.oid = d.refobjid
        WHERE rw.ev_class = c.oid AND r.oid <> c.oid) r
        JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace";

/// Views and materialized views (with their columns' statistics targets,
/// storage, compression and options, their indexes, and refreshed when the
/// source's was populated), each with the relations it reads
/// ([`ObjectDef::depends_on`]).
pub(super) fn read_views(conn: &Conn) -> Result<Vec<Read>, Error> {
    let matviews: Vec<u32> = conn
        .query(
            &format!(
                "SELECT c.oid FROM pg_catalog.pg_class c
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind = 'm' AND {USER_NAMESPACE}"
            ),
            &[],
            "reading materialized views",
        )?
        .iter()
        .map(|r| Ok(get!(r, 0)))
        .collect::<Result<_, Error>>()?;
    let mut columns = super::tables::read_columns(conn, &matviews)?;
    each_row(
        conn,
        &format!(
            "SELECT n.nspname::text, c.relname::text, c.oid::pg_catalog.regclass::text, c.relkind::text,
                    pg_catalog.pg_get_viewdef(c.oid), pg_catalog.array_to_string(c.reloptions, ', '),
                    c.relispopulated,
                    ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid) FROM pg_catalog.pg_index i
                          JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                          WHERE i.indrelid = c.oid ORDER BY ic.relname),
                    ARRAY(SELECT rn.nspname::text FROM {READS} ORDER BY r.oid),
                    ARRAY(SELECT r.relname::text FROM {READS} ORDER BY r.oid), c.oid,
                    (SELECT am.amname::text FROM pg_catalog.pg_am am
                      WHERE am.oid = c.relam AND am.amname <> 'heap')
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('v', 'm') AND {USER_NAMESPACE} AND {}
             ORDER BY c.oid",
            not_extension_member("pg_class", "c.oid")
        ),
        &[],
        "reading views",
        |r| {
            let schema: String = get!(r, 0);
            let name: String = get!(r, 1);
            let qname: String = get!(r, 2);
            let kind: String = get!(r, 3);
            let oid: u32 = get!(r, 10);
            let def: String = get!(r, 4);
            let def = def.trim_end().trim_end_matches(';');
            let options: Option<String> = get!(r, 5);
            let read_schemas: Vec<String> = get!(r, 8);
            let read_names: Vec<String> = get!(r, 9);
            let depends_on = Some(
                read_schemas
                    .iter()
                    .zip(&read_names)
                    .map(|(s, n)| TableName::new(Some(s), n))
                    .collect(),
            );
            let with = options
                .filter(|o| !o.is_empty())
                .map(|o| format!(" WITH ({o})"))
                .unwrap_or_default();
            if kind == "v" {
                let view = ObjectDef {
                    depends_on,
                    ..object(
                        ObjectKind::View,
                        Some(&schema),
                        &name,
                        format!("CREATE VIEW {qname}{with} AS\n{def}"),
                    )
                };
                return Ok(Read::new(view, "pg_class", oid));
            }
                let populated: bool = get!(r, 6);
                let indexes: Vec<String> = get!(r, 7);
                // A materialized view keeps its table access method.
                let am: Option<String> = get!(r, 11);
                let using = am
                    .map(|a| format!(" USING {}", ident(&a)))
                    .unwrap_or_default();
                let mut ddl = format!(
                    "CREATE MATERIALIZED VIEW {qname}{using}{with} AS\n{def}\nWITH NO DATA"
                );
                // As pg_dump: what no CREATE MATERIALIZED VIEW can say of
                // a column, by ALTER TABLE ONLY, before the indexes.
                for c in columns.remove(&oid).unwrap_or_default() {
                    for alter in super::build::column_alters(&qname, &c) {
                        ddl.push_str(";\n");
                        ddl.push_str(&alter);
                    }
                }
                for i in indexes {
                    ddl.push_str(";\n");
                    ddl.push_str(&i);
                }
                if populated {
                    ddl.push_str(&format!(";\nREFRESH MATERIALIZED VIEW {qname}"));
                }
            let view = ObjectDef {
                depends_on,
                ..object(ObjectKind::MaterializedView, Some(&schema), &name, ddl)
            };
            Ok(Read::new(view, "pg_class", oid))
        },
    )
}

pub(super) fn read_rules(conn: &Conn) -> Result<Vec<Read>, Error> {
    each_row(
        conn,
        &format!(
            "SELECT n.nspname::text, c.relname::text, r.rulename::text, pg_catalog.pg_get_ruledef(r.oid),
                    r.ev_enabled::text, c.oid::pg_catalog.regclass::text, r.oid
             FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE r.rulename <> '_RETURN' AND {USER_NAMESPACE} AND {}
             ORDER BY r.oid",
            not_extension_member("pg_rewrite", "r.oid")
        ),
        &[],
        "reading rules",
        |r| {
            let schema: String = get!(r, 0);
            let table: String = get!(r, 1);
            let name: String = get!(r, 2);
            let mut ddl: String = get!(r, 3);
            let enabled: String = get!(r, 4);
            let qtable: String = get!(r, 5);
            let state = match enabled.as_str() {
                "D" => Some("DISABLE"),
                "A" => Some("ENABLE ALWAYS"),
                "R" => Some("ENABLE REPLICA"),
                _ => None,
            };
            if let Some(state) = state {
                // pg_get_ruledef ends with `;`.
                let body = ddl.trim_end().trim_end_matches(';').to_owned();
                ddl = format!("{body};\nALTER TABLE {qtable} {state} RULE {}", ident(&name));
            }
            let mut o = object(ObjectKind::Rule, Some(&schema), &name, ddl);
            o.table = Some(TableName::new(Some(&schema), &table));
            Ok(Read::new(o, "pg_rewrite", get!(r, 6)))
        },
    )
}

pub(super) fn read_triggers(conn: &Conn) -> Result<Vec<Read>, Error> {
    // Triggers cloned onto partitions (tgparentid) come with the parent's,
    // and so does the state of a clone that differs from its parent's.
    each_row(
        conn,
        &format!(
            "SELECT n.nspname::text, c.relname::text, t.tgname::text, pg_catalog.pg_get_triggerdef(t.oid),
                    t.tgenabled::text, c.oid::pg_catalog.regclass::text,
                    ARRAY(WITH RECURSIVE clone AS (
                              SELECT ct.oid, ct.tgrelid, ct.tgenabled, t.tgenabled AS above
                              FROM pg_catalog.pg_trigger ct WHERE ct.tgparentid = t.oid
                              UNION ALL
                              SELECT ct.oid, ct.tgrelid, ct.tgenabled, clone.tgenabled
                              FROM pg_catalog.pg_trigger ct JOIN clone ON ct.tgparentid = clone.oid)
                          SELECT clone.tgenabled::text || clone.tgrelid::pg_catalog.regclass::text
                          FROM clone WHERE clone.tgenabled <> clone.above),
                    t.oid
             FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND {USER_NAMESPACE} AND {}
             ORDER BY c.oid, t.tgname",
            not_extension_member("pg_trigger", "t.oid")
        ),
        &[],
        "reading triggers",
        |r| {
            let schema: String = get!(r, 0);
            let table: String = get!(r, 1);
            let name: String = get!(r, 2);
            let mut ddl: String = get!(r, 3);
            let enabled: String = get!(r, 4);
            let qtable: String = get!(r, 5);
            // Its clones on partitions whose state differs from the one
            // above them, each its state's letter then the partition,
            // parents first.
            let clones: Vec<String> = get!(r, 6);
            let state = |enabled: &str| match enabled {
                "D" => Some("DISABLE"),
                "A" => Some("ENABLE ALWAYS"),
                "R" => Some("ENABLE REPLICA"),
                _ => None,
            };
            if let Some(state) = state(&enabled) {
                ddl.push_str(&format!(
                    ";\nALTER TABLE {qtable} {state} TRIGGER {}",
                    ident(&name)
                ));
            }
            for clone in clones {
                let (enabled, partition) = clone.split_at(1.min(clone.len()));
                let how = state(enabled).unwrap_or("ENABLE");
                ddl.push_str(&format!(
                    ";\nALTER TABLE ONLY {partition} {how} TRIGGER {}",
                    ident(&name)
                ));
            }
            let mut o = object(ObjectKind::Trigger, Some(&schema), &name, ddl);
            o.table = Some(TableName::new(Some(&schema), &table));
            Ok(Read::new(o, "pg_trigger", get!(r, 7)))
        },
    )
}

pub(super) fn read_statistics(conn: &Conn) -> Result<Vec<Read>, Error> {
    each_row(
        conn,
        &format!(
            "SELECT n.nspname::text, s.stxname::text, pg_catalog.pg_get_statisticsobjdef(s.oid),
                    CASE WHEN s.stxstattarget >= 0 THEN s.stxstattarget::int4 END, s.oid
             FROM pg_catalog.pg_statistic_ext s JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
             WHERE {USER_NAMESPACE} ORDER BY s.oid"
        ),
        &[],
        "reading extended statistics",
        |r| {
            let schema: String = get!(r, 0);
            let name: String = get!(r, 1);
            let mut ddl: String = get!(r, 2);
            let target: Option<i32> = get!(r, 3);
            if let Some(n) = target {
                ddl.push_str(&format!(
                    ";\nALTER STATISTICS {}.{} SET STATISTICS {n}",
                    ident(&schema),
                    ident(&name)
                ));
            }
            let def = object(ObjectKind::Statistics, Some(&schema), &name, ddl);
            Ok(Read::new(def, "pg_statistic_ext", get!(r, 4)))
        },
    )
}
