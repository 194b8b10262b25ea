//! Reading a table's parts from the catalog: the user relations (tables
//! and partitioned tables, parents before their partitions and children,
//! with their options, type, replica identity and tablespace), their
//! columns with any identity sequence and what pg_dump sets on a column
//! after creating it (statistics target, storage, compression, options),
//! their constraints, the indexes that no constraint brings, what the
//! indexes carry (clustering, replica identity, column statistics), and
//! which partition's index is attached to which parent's. Every property
//! pg_dump keeps is read here, so that the restore can reproduce it.

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
    /// The parents it inherits from, in `INHERITS` order (a partition's one
    /// parent is the partitioned table).
    pub(super) parents: Vec<u32>,
    pub(super) is_partition: bool,
    pub(super) options: Option<String>,
    /// Its TOAST table's options, each prefixed with `toast.`.
    pub(super) toast_options: Option<String>,
    /// The composite type of a typed table (`CREATE TABLE … OF type`).
    pub(super) of_type: Option<String>,
    /// `pg_class.relreplident`: `d` default, `n` nothing, `f` full, `i`
    /// an index.
    pub(super) replica_identity: String,
    /// Its tablespace, when not the database's default.
    pub(super) tablespace: Option<String>,
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
                    ARRAY(SELECT i.inhparent FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid
                          ORDER BY i.inhseqno),
                    c.relispartition,
                    pg_catalog.array_to_string(c.reloptions, ', '),
                    c.reltuples::float8,
                    (SELECT pg_catalog.string_agg('toast.' || o, ', ')
                       FROM pg_catalog.unnest(tc.reloptions) o),
                    CASE WHEN c.reloftype <> 0 THEN pg_catalog.format_type(c.reloftype, NULL) END,
                    c.relreplident::text,
                    pg_catalog.quote_ident(ts.spcname),
                    (SELECT am.amname::text FROM pg_catalog.pg_am am
                      WHERE am.oid = c.relam AND am.amname <> 'heap')
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_catalog.pg_class tc ON tc.oid = c.reltoastrelid
             LEFT JOIN pg_catalog.pg_tablespace ts ON ts.oid = c.reltablespace
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
                parents: get!(r, 7),
                is_partition: get!(r, 8),
                options: get!(r, 9),
                toast_options: get!(r, 11),
                of_type: get!(r, 12),
                replica_identity: get!(r, 13),
                tablespace: get!(r, 14),
                estimate: (tuples >= 0.0).then_some(tuples as u64),
                access_method: get!(r, 15),
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
            let ready = r.parents.iter().all(|p| placed.contains(p));
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
#[derive(Clone)]
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
    /// A parent has the column NOT NULL too (so the child's comes from it).
    pub(super) inherited_not_null: bool,
    /// `attstattarget`, when set (`SET STATISTICS`).
    pub(super) statistics: Option<i32>,
    /// `attstorage` by name, when not its type's (`SET STORAGE`).
    pub(super) storage: Option<String>,
    /// `attcompression` by name, when set (`SET COMPRESSION`).
    pub(super) compression: Option<String>,
    /// `attoptions` (`SET (n_distinct = …)`).
    pub(super) options: Option<String>,
    /// A parent has a default for the column (not a generation
    /// expression).
    pub(super) parent_default: bool,
    /// A parent generates the column.
    pub(super) parent_generated: bool,
    /// Its identity sequence is unlogged.
    pub(super) seq_unlogged: bool,
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
                    seq.oid::pg_catalog.regclass::text,
                    EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h
                            JOIN pg_catalog.pg_attribute pa ON pa.attrelid = h.inhparent
                            WHERE h.inhrelid = a.attrelid AND pa.attname = a.attname
                              AND pa.attnotnull AND NOT pa.attisdropped),
                    CASE WHEN a.attstattarget >= 0 THEN a.attstattarget::int4 END,
                    CASE WHEN a.attstorage <> t.typstorage THEN
                         CASE a.attstorage WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL'
                                           WHEN 'm' THEN 'MAIN' WHEN 'x' THEN 'EXTENDED' END END,
                    CASE a.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END,
                    pg_catalog.array_to_string(a.attoptions, ', '),
                    EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h
                            JOIN pg_catalog.pg_attribute pa ON pa.attrelid = h.inhparent
                            JOIN pg_catalog.pg_attrdef pd ON pd.adrelid = pa.attrelid AND pd.adnum = pa.attnum
                            WHERE h.inhrelid = a.attrelid AND pa.attname = a.attname
                              AND pa.attgenerated = '' AND NOT pa.attisdropped),
                    EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h
                            JOIN pg_catalog.pg_attribute pa ON pa.attrelid = h.inhparent
                            WHERE h.inhrelid = a.attrelid AND pa.attname = a.attname
                              AND pa.attgenerated <> '' AND NOT pa.attisdropped),
                    {SEQ_COLUMNS},
                    COALESCE(seq.relpersistence = 'u', false)
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
                Some(name) => Some(SeqInfo::from_row(r, name, 20)?),
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
                inherited_not_null: get!(r, 13),
                statistics: get!(r, 14),
                storage: get!(r, 15),
                compression: get!(r, 16),
                options: get!(r, 17),
                parent_default: get!(r, 18),
                parent_generated: get!(r, 19),
                seq_unlogged: get!(r, 28),
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
    /// How many parents it is inherited from as well (a local CHECK merged
    /// with its parents').
    pub(super) inherited: i16,
    /// It calls a function of the user's, which may be created only after
    /// the tables (one over the table's row type).
    pub(super) needs_function: bool,
}

pub(super) fn read_constraints(conn: &Conn, oids: &[u32]) -> Result<HashMap<u32, Vec<Con>>, Error> {
    // Constraints a partition inherits from its parent (conparentid) or a
    // child from its parent (not conislocal) are made by the parent's;
    // except a partition's key, which has an index of its own (with its own
    // name), attached to the parent's (see `read_index_attachments`).
    by_relation(
        conn,
        "SELECT con.conrelid, con.conname::text, con.contype::text,
                pg_catalog.pg_get_constraintdef(con.oid),
                COALESCE(con.conkey, '{}'), con.confrelid, COALESCE(con.confkey, '{}'),
                con.confupdtype::text, con.confdeltype::text, con.condeferrable, con.condeferred,
                con.coninhcount::int2,
                EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                        JOIN pg_catalog.pg_proc p ON p.oid = d.refobjid
                        JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
                        WHERE d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
                          AND d.objid = con.oid
                          AND d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                          AND pn.nspname NOT IN ('pg_catalog', 'information_schema'))
         FROM pg_catalog.pg_constraint con
         WHERE con.conrelid = ANY($1) AND con.contype IN ('p', 'u', 'c', 'f', 'x')
           AND (con.conparentid = 0 AND con.conislocal
                OR con.conparentid <> 0 AND con.contype IN ('p', 'u', 'x'))
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
                inherited: get!(r, 11),
                needs_function: get!(r, 12),
            })
        },
    )
}

pub(super) fn read_indexes(
    conn: &Conn,
    oids: &[u32],
) -> Result<HashMap<u32, Vec<IndexDef>>, Error> {
    // Indexes behind a constraint come with the constraint. A partitioned
    // table's index is created ON ONLY it, as pg_dump does, and each
    // partition's with its own name, attached to it afterwards.
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
         ORDER BY i.indrelid, ic.relname",
        &[&oids],
        "reading indexes",
        |r| {
            let method: String = get!(r, 4);
            let def: String = get!(r, 2);
            Ok(IndexDef {
                name: get!(r, 1),
                native_ddl: Some(def),
                unique: get!(r, 3),
                predicate: get!(r, 5),
                columns: get!(r, 6),
                method: (method != "btree").then_some(method),
            })
        },
    )
}

/// What an index of a table has besides its definition: the table is
/// clustered on it, or uses it as its replica identity, or it has column
/// statistics targets (`ALTER INDEX … ALTER COLUMN n SET STATISTICS`), or
/// it is in a tablespace of its own (which `pg_get_indexdef` leaves out).
pub(super) struct IndexProps {
    pub(super) name: String,
    pub(super) clustered: bool,
    pub(super) replica_identity: bool,
    /// (column number, target), by column number.
    pub(super) statistics: Vec<(i16, i32)>,
    /// Its tablespace, when not the database's default (and it is not a
    /// partitioned table's, which has no storage).
    pub(super) tablespace: Option<String>,
}

pub(super) fn read_index_properties(
    conn: &Conn,
    oids: &[u32],
) -> Result<HashMap<u32, Vec<IndexProps>>, Error> {
    by_relation(
        conn,
        "SELECT i.indrelid, ic.relname::text, i.indisclustered, i.indisreplident,
                ARRAY(SELECT a.attnum FROM pg_catalog.pg_attribute a
                      WHERE a.attrelid = i.indexrelid AND a.attstattarget >= 0 ORDER BY a.attnum),
                ARRAY(SELECT a.attstattarget::int4 FROM pg_catalog.pg_attribute a
                      WHERE a.attrelid = i.indexrelid AND a.attstattarget >= 0 ORDER BY a.attnum),
                CASE WHEN ic.relkind = 'i' THEN pg_catalog.quote_ident(ts.spcname) END
         FROM pg_catalog.pg_index i
         JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
         LEFT JOIN pg_catalog.pg_tablespace ts ON ts.oid = ic.reltablespace
         WHERE i.indrelid = ANY($1)
           AND (i.indisclustered OR i.indisreplident OR ic.reltablespace <> 0 OR EXISTS (
                SELECT 1 FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = i.indexrelid AND a.attstattarget >= 0))
         ORDER BY i.indrelid, ic.relname",
        &[&oids],
        "reading index properties",
        |r| {
            let nums: Vec<i16> = get!(r, 4);
            let targets: Vec<i32> = get!(r, 5);
            Ok(IndexProps {
                name: get!(r, 1),
                clustered: get!(r, 2),
                replica_identity: get!(r, 3),
                statistics: nums.into_iter().zip(targets).collect(),
                tablespace: get!(r, 6),
            })
        },
    )
}

/// A partition's index (or key's index) attached to its parent's index.
pub(super) struct IndexAttachment {
    /// The partitioned table's oid.
    pub(super) table: u32,
    /// The partitioned table's index, in its schema.
    pub(super) parent: String,
    /// The partition's index, qualified.
    pub(super) index: String,
}

/// The indexes of `oids` attached to the index of a partitioned table of
/// `oids`, by partitioned table and its index's name.
pub(super) fn read_index_attachments(
    conn: &Conn,
    oids: &[u32],
) -> Result<Vec<IndexAttachment>, Error> {
    super::each_row(
        conn,
        "SELECT pi.indrelid, pc.relname::text, h.inhrelid::pg_catalog.regclass::text
         FROM pg_catalog.pg_inherits h
         JOIN pg_catalog.pg_index i ON i.indexrelid = h.inhrelid
         JOIN pg_catalog.pg_index pi ON pi.indexrelid = h.inhparent
         JOIN pg_catalog.pg_class pc ON pc.oid = pi.indexrelid
         WHERE i.indrelid = ANY($1) AND pi.indrelid = ANY($1)
         ORDER BY pi.indrelid, pc.relname, 3",
        &[&oids],
        "reading index attachments",
        |r| {
            Ok(IndexAttachment {
                table: get!(r, 0),
                parent: get!(r, 1),
                index: get!(r, 2),
            })
        },
    )
}
