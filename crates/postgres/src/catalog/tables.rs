//! Reading a table's parts from the catalog: the user relations (tables
//! and partitioned tables, parents before their partitions and children),
//! their columns with any identity sequence, their constraints, and the
//! indexes that no constraint brings.

use std::collections::HashMap;

use bru_core::{Error, IndexDef, TableName};

use crate::conn::Conn;

use super::sequences::{SeqInfo, SEQ_COLUMNS};
use super::{by_relation, each_row, not_extension_member, USER_NAMESPACE};

/// One user table as `pg_class` has it.
pub(super) struct Rel {
    pub(super) oid: u32,
    pub(super) name: TableName,
    pub(super) kind: String,
    pub(super) persistence: String,
    pub(super) bound: Option<String>,
    pub(super) partkey: Option<String>,
    pub(super) parent: Option<u32>,
    pub(super) is_partition: bool,
    pub(super) options: Option<String>,
    pub(super) estimate: Option<u64>,
    /// Its table access method, when not the built-in `heap`.
    pub(super) access_method: Option<String>,
}

/// The user tables and partitioned tables, parents first.
pub(super) fn read_relations(conn: &Conn) -> Result<Vec<Rel>, Error> {
    let rows = each_row(
        conn,
        &format!(
            "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text, c.relpersistence::text,
                    pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                    CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END,
                    (SELECT i.inhparent FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid
                      ORDER BY i.inhseqno LIMIT 1),
                    c.relispartition,
                    pg_catalog.array_to_string(c.reloptions, ', '),
                    c.reltuples::float8,
                    (SELECT am.amname::text FROM pg_catalog.pg_am am
                      WHERE am.oid = c.relam AND am.amname <> 'heap')
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND {USER_NAMESPACE} AND {}
             ORDER BY n.nspname, c.relname",
            not_extension_member("pg_class", "c.oid")
        ),
        &[],
        "reading the PostgreSQL catalog",
        |r| {
            let schema: String = get!(r, 1);
            let name: String = get!(r, 2);
            let tuples: f64 = get!(r, 10);
            Ok(Rel {
                oid: get!(r, 0),
                name: TableName::new(Some(&schema), &name),
                kind: get!(r, 3),
                persistence: get!(r, 4),
                bound: get!(r, 5),
                partkey: get!(r, 6),
                parent: get!(r, 7),
                is_partition: get!(r, 8),
                options: get!(r, 9),
                estimate: (tuples >= 0.0).then_some(tuples as u64),
                access_method: get!(r, 11),
            })
        },
    )?;
    Ok(parents_first(rows))
}

/// Orders tables so that a partition or child comes after its parent.
fn parents_first(mut rels: Vec<Rel>) -> Vec<Rel> {
    let mut out: Vec<Rel> = Vec::with_capacity(rels.len());
    let mut placed = std::collections::HashSet::new();
    while !rels.is_empty() {
        let before = rels.len();
        let mut rest = Vec::new();
        for r in rels {
            let ready = match r.parent {
                None => true,
                Some(p) => placed.contains(&p),
            };
            if ready {
                placed.insert(r.oid);
                out.push(r);
            } else {
                rest.push(r);
            }
        }
        rels = rest;
        if rels.len() == before {
            // Parents outside the selection (an extension's table): keep order.
            out.append(&mut rels);
        }
    }
    out
}

/// One column as `pg_attribute` has it.
pub(super) struct Col {
    pub(super) num: i16,
    pub(super) name: String,
    pub(super) type_oid: u32,
    pub(super) typmod: i32,
    pub(super) type_name: String,
    pub(super) not_null: bool,
    pub(super) default: Option<String>,
    pub(super) identity: String,
    pub(super) generated: String,
    pub(super) local: bool,
    pub(super) collation: Option<String>,
    pub(super) seq: Option<SeqInfo>,
}

pub(super) fn read_columns(conn: &Conn, oids: &[u32]) -> Result<HashMap<u32, Vec<Col>>, Error> {
    by_relation(
        conn,
        &format!(
            "SELECT a.attrelid, a.attnum, a.attname::text, a.atttypid, a.atttypmod,
                    pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
                    pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), a.attidentity::text,
                    a.attgenerated::text, a.attislocal,
                    CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0
                         THEN pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) END,
                    seq.oid::pg_catalog.regclass::text, {SEQ_COLUMNS}
             FROM pg_catalog.pg_attribute a
             JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
             LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
             LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
             LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
             LEFT JOIN pg_catalog.pg_depend dep ON a.attidentity <> '' AND dep.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                  AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum AND dep.deptype = 'i'
                  AND dep.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
             LEFT JOIN pg_catalog.pg_class seq ON seq.oid = dep.objid AND seq.relkind = 'S'
             LEFT JOIN pg_catalog.pg_sequence s ON s.seqrelid = seq.oid
             LEFT JOIN pg_catalog.pg_namespace sn ON sn.oid = seq.relnamespace
             LEFT JOIN pg_catalog.pg_sequences ps ON ps.schemaname = sn.nspname AND ps.sequencename = seq.relname
             WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attrelid, a.attnum"
        ),
        &[&oids],
        "reading columns",
        |r| {
            let seq_name: Option<String> = get!(r, 12);
            let seq = match seq_name {
                Some(name) => Some(SeqInfo::from_row(r, name, 13)?),
                None => None,
            };
            Ok(Col {
                num: get!(r, 1),
                name: get!(r, 2),
                type_oid: get!(r, 3),
                typmod: get!(r, 4),
                type_name: get!(r, 5),
                not_null: get!(r, 6),
                default: get!(r, 7),
                identity: get!(r, 8),
                generated: get!(r, 9),
                local: get!(r, 10),
                collation: get!(r, 11),
                seq,
            })
        },
    )
}

/// One constraint as `pg_constraint` has it.
pub(super) struct Con {
    pub(super) name: String,
    pub(super) kind: String,
    pub(super) def: String,
    pub(super) keys: Vec<i16>,
    pub(super) ref_rel: u32,
    pub(super) ref_keys: Vec<i16>,
    pub(super) on_update: String,
    pub(super) on_delete: String,
    pub(super) deferrable: bool,
    pub(super) deferred: bool,
}

pub(super) fn read_constraints(conn: &Conn, oids: &[u32]) -> Result<HashMap<u32, Vec<Con>>, Error> {
    // Constraints a partition inherits from its parent (conparentid) or a
    // child from its parent (not conislocal) are made by the parent's.
    by_relation(
        conn,
        "SELECT con.conrelid, con.conname::text, con.contype::text,
                pg_catalog.pg_get_constraintdef(con.oid),
                COALESCE(con.conkey, '{}'), con.confrelid, COALESCE(con.confkey, '{}'),
                con.confupdtype::text, con.confdeltype::text, con.condeferrable, con.condeferred
         FROM pg_catalog.pg_constraint con
         WHERE con.conrelid = ANY($1) AND con.contype IN ('p', 'u', 'c', 'f', 'x')
           AND con.conparentid = 0 AND con.conislocal
         ORDER BY con.conrelid, con.contype, con.conname",
        &[&oids],
        "reading constraints",
        |r| {
            Ok(Con {
                name: get!(r, 1),
                kind: get!(r, 2),
                def: get!(r, 3),
                keys: get!(r, 4),
                ref_rel: get!(r, 5),
                ref_keys: get!(r, 6),
                on_update: get!(r, 7),
                on_delete: get!(r, 8),
                deferrable: get!(r, 9),
                deferred: get!(r, 10),
            })
        },
    )
}

pub(super) fn read_indexes(
    conn: &Conn,
    oids: &[u32],
) -> Result<HashMap<u32, Vec<IndexDef>>, Error> {
    // Indexes behind a constraint come with the constraint; indexes of a
    // partition attached to the parent's index come with the parent's.
    by_relation(
        conn,
        "SELECT i.indrelid, ic.relname::text, pg_catalog.pg_get_indexdef(i.indexrelid),
                i.indisunique, am.amname::text, pg_catalog.pg_get_expr(i.indpred, i.indrelid),
                ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k, true)
                      FROM pg_catalog.generate_series(1, i.indnkeyatts) k ORDER BY k)
         FROM pg_catalog.pg_index i
         JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_catalog.pg_am am ON am.oid = ic.relam
         WHERE i.indrelid = ANY($1)
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.conindid = i.indexrelid
                           AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhrelid = i.indexrelid)
         ORDER BY i.indrelid, ic.relname",
        &[&oids],
        "reading indexes",
        |r| {
            let method: String = get!(r, 4);
            let def: String = get!(r, 2);
            Ok(IndexDef {
                name: get!(r, 1),
                // A partitioned table's index is printed ON ONLY; created without
                // ONLY it builds and attaches the partitions' indexes too.
                native_ddl: Some(def.replacen(" ON ONLY ", " ON ", 1)),
                unique: get!(r, 3),
                predicate: get!(r, 5),
                columns: get!(r, 6),
                method: (method != "btree").then_some(method),
            })
        },
    )
}
