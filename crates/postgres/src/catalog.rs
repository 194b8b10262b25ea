//! Reading the schema from `pg_catalog` into bru's neutral model.
//!
//! Everything is read inside the source's snapshot, with `search_path` set
//! to empty so that every name the server prints (`format_type`,
//! `pg_get_expr`, `pg_get_viewdef`...) is schema-qualified and recreates the
//! same object in any session. Each table gets both the structured model
//! (for a restore into another engine) and PostgreSQL's own DDL (for an
//! exact PostgreSQL restore): the CREATE TABLE in [`NativeDdl`], and every
//! constraint's `pg_get_constraintdef` text in the table's properties under
//! `postgres.constraint.<name>`.
//!
//! Other objects become [`ObjectDef`]s in an order that creates
//! dependencies first. Objects the restore needs before the tables (schemas,
//! extensions, types, sequences, functions) use the kinds that
//! [`ObjectDef::is_pre_data`] recognises. What bru cannot carry yet becomes
//! an object with [`ObjectDef::not_carried`] set to the reason, so the
//! restore lists it as skipped instead of dropping it silently.
//!
//! Owners and privileges come last, as pg_dump records them: an
//! [`ObjectKind::Owner`] object (`ALTER ... OWNER TO`) for every schema, type,
//! table, sequence, view and function bru carries, then an
//! [`ObjectKind::Privileges`] object (`REVOKE ALL`, then the ACL's `GRANT`s)
//! for each one whose ACL or column ACLs are not the default. They are
//! separate objects so that a restore can leave them out (`--no-owner`,
//! `--no-privileges`) and list one whose role the target lacks.

use std::collections::{BTreeMap, HashMap};

use bru_core::{
    Catalog, CheckConstraint, Column, ColumnType, Error, FkAction, ForeignKey, Generated, Identity,
    IdentityKind, IndexDef, NativeDdl, ObjectDef, ObjectKind, PrimaryKey, TableDef, TableName,
    UniqueConstraint,
};

use crate::conn::Conn;
use crate::quote::{ident, qualified, quote_literal};
use crate::values::neutral_type;
use crate::ENGINE_NAME;

/// Schemas that belong to the system, never to the user.
const USER_NAMESPACE: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') \
     AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'";

/// Excludes objects that an extension owns (its CREATE EXTENSION makes them).
fn not_extension_member(class: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = '{class}'::pg_catalog.regclass \
         AND d.objid = {oid} AND d.deptype = 'e')"
    )
}

struct Rel {
    oid: u32,
    name: TableName,
    kind: String,
    persistence: String,
    bound: Option<String>,
    partkey: Option<String>,
    parent: Option<u32>,
    is_partition: bool,
    options: Option<String>,
    estimate: Option<u64>,
}

macro_rules! get {
    ($row:expr, $i:expr) => {
        $row.try_get($i).map_err(|e| {
            Error::engine(
                "reading the PostgreSQL catalog",
                format!("column {}: {e}", $i),
            )
        })?
    };
}

/// Reads every user table and object.
/// The table property prefix of an owned (serial) sequence's value.
pub(crate) const OWNED_SEQUENCE: &str = "postgres.owned_sequence.";

pub(crate) fn read(conn: &Conn) -> Result<Catalog, Error> {
    let ctx = "reading the PostgreSQL catalog";
    let rows = conn.query(
        &format!(
            "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text, c.relpersistence::text,
                    pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                    CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END,
                    (SELECT i.inhparent FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid
                      ORDER BY i.inhseqno LIMIT 1),
                    c.relispartition,
                    pg_catalog.array_to_string(c.reloptions, ', '),
                    c.reltuples::float8
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND {USER_NAMESPACE} AND {}
             ORDER BY n.nspname, c.relname",
            not_extension_member("pg_class", "c.oid")
        ),
        &[],
        ctx,
    )?;
    let mut rels = Vec::new();
    for r in &rows {
        let schema: String = get!(r, 1);
        let name: String = get!(r, 2);
        let tuples: f64 = get!(r, 10);
        rels.push(Rel {
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
        });
    }
    let rels = parents_first(rels);
    let names: HashMap<u32, TableName> = rels.iter().map(|r| (r.oid, r.name.clone())).collect();
    let oids: Vec<u32> = rels.iter().map(|r| r.oid).collect();

    let mut columns = read_columns(conn, &oids)?;
    let mut constraints = read_constraints(conn, &oids)?;
    let mut indexes = read_indexes(conn, &oids)?;

    let mut catalog = Catalog::default();
    let mut objects_post = Vec::new();
    for rel in &rels {
        let cols = columns.remove(&rel.oid).unwrap_or_default();
        let cons = constraints.remove(&rel.oid).unwrap_or_default();
        let idx = indexes.remove(&rel.oid).unwrap_or_default();
        let (table, extra) = build_table(rel, cols, cons, idx, &names)?;
        catalog.tables.push(table);
        objects_post.extend(extra);
    }

    let mut objects = Vec::new();
    objects.extend(read_schemas(conn)?);
    objects.extend(read_extensions(conn)?);
    objects.extend(read_types(conn)?);
    let (pre_fns, post_fns) = read_functions(conn)?;
    objects.extend(pre_fns);
    let (sequences, owners, owned) = read_sequences(conn)?;
    let position: HashMap<u32, usize> = rels.iter().enumerate().map(|(i, r)| (r.oid, i)).collect();
    for o in owned {
        if let Some(&i) = position.get(&o.table_oid) {
            catalog.tables[i].properties.insert(
                format!("{OWNED_SEQUENCE}{}", o.sequence),
                o.last_value.to_string(),
            );
        }
    }
    objects.extend(sequences);
    objects.extend(objects_post);
    objects.extend(owners);
    objects.extend(post_fns);
    objects.extend(read_views(conn)?);
    objects.extend(read_rules(conn)?);
    objects.extend(read_triggers(conn)?);
    objects.extend(read_statistics(conn)?);
    objects.extend(read_not_carried(conn)?);
    objects.extend(read_comments(conn)?);
    // Last, after every object they apply to: owners, then privileges
    // (changing an owner rewrites the ACL, so grants come after it).
    objects.extend(read_owners_and_privileges(conn)?);
    catalog.objects = objects;
    Ok(catalog)
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

struct Col {
    num: i16,
    name: String,
    type_oid: u32,
    typmod: i32,
    type_name: String,
    not_null: bool,
    default: Option<String>,
    identity: String,
    generated: String,
    local: bool,
    collation: Option<String>,
    seq: Option<SeqInfo>,
}

#[derive(Clone)]
struct SeqInfo {
    name: String,
    start: i64,
    increment: i64,
    min: i64,
    max: i64,
    cache: i64,
    cycle: bool,
    type_name: String,
    last_value: Option<i64>,
}

impl SeqInfo {
    fn options(&self) -> String {
        format!(
            "START WITH {} INCREMENT BY {} MINVALUE {} MAXVALUE {} CACHE {}{}",
            self.start,
            self.increment,
            self.min,
            self.max,
            self.cache,
            if self.cycle { " CYCLE" } else { "" }
        )
    }
}

const SEQ_COLUMNS: &str =
    "s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle, \
     pg_catalog.format_type(s.seqtypid, NULL), ps.last_value";

fn read_columns(conn: &Conn, oids: &[u32]) -> Result<HashMap<u32, Vec<Col>>, Error> {
    let rows = conn.query(
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
    )?;
    let mut out: HashMap<u32, Vec<Col>> = HashMap::new();
    for r in &rows {
        let seq_name: Option<String> = get!(r, 12);
        let seq = match seq_name {
            Some(name) => Some(SeqInfo {
                name,
                start: get!(r, 13),
                increment: get!(r, 14),
                min: get!(r, 15),
                max: get!(r, 16),
                cache: get!(r, 17),
                cycle: get!(r, 18),
                type_name: get!(r, 19),
                last_value: get!(r, 20),
            }),
            None => None,
        };
        let rel: u32 = get!(r, 0);
        out.entry(rel).or_default().push(Col {
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
        });
    }
    Ok(out)
}

struct Con {
    name: String,
    kind: String,
    def: String,
    keys: Vec<i16>,
    ref_rel: u32,
    ref_keys: Vec<i16>,
    on_update: String,
    on_delete: String,
    deferrable: bool,
    deferred: bool,
}

fn read_constraints(conn: &Conn, oids: &[u32]) -> Result<HashMap<u32, Vec<Con>>, Error> {
    // Constraints a partition inherits from its parent (conparentid) or a
    // child from its parent (not conislocal) are made by the parent's.
    let rows = conn.query(
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
    )?;
    let mut out: HashMap<u32, Vec<Con>> = HashMap::new();
    for r in &rows {
        let rel: u32 = get!(r, 0);
        out.entry(rel).or_default().push(Con {
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
        });
    }
    Ok(out)
}

fn read_indexes(conn: &Conn, oids: &[u32]) -> Result<HashMap<u32, Vec<IndexDef>>, Error> {
    // Indexes behind a constraint come with the constraint; indexes of a
    // partition attached to the parent's index come with the parent's.
    let rows = conn.query(
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
    )?;
    let mut out: HashMap<u32, Vec<IndexDef>> = HashMap::new();
    for r in &rows {
        let rel: u32 = get!(r, 0);
        let method: String = get!(r, 4);
        let def: String = get!(r, 2);
        out.entry(rel).or_default().push(IndexDef {
            name: get!(r, 1),
            // A partitioned table's index is printed ON ONLY; created without
            // ONLY it builds and attaches the partitions' indexes too.
            native_ddl: Some(def.replacen(" ON ONLY ", " ON ", 1)),
            unique: get!(r, 3),
            predicate: get!(r, 5),
            columns: get!(r, 6),
            method: (method != "btree").then_some(method),
        });
    }
    Ok(out)
}

fn fk_action(code: &str) -> FkAction {
    match code {
        "r" => FkAction::Restrict,
        "c" => FkAction::Cascade,
        "n" => FkAction::SetNull,
        "d" => FkAction::SetDefault,
        _ => FkAction::NoAction,
    }
}

type Built = (TableDef, Vec<ObjectDef>);

fn build_table(
    rel: &Rel,
    cols: Vec<Col>,
    cons: Vec<Con>,
    indexes: Vec<IndexDef>,
    names: &HashMap<u32, TableName>,
) -> Result<Built, Error> {
    let qname = qualified(&rel.name);
    let by_num: HashMap<i16, String> = cols.iter().map(|c| (c.num, c.name.clone())).collect();
    let col_names = |keys: &[i16]| -> Vec<String> {
        keys.iter()
            .map(|k| by_num.get(k).cloned().unwrap_or_else(|| format!("#{k}")))
            .collect()
    };
    let mut properties = BTreeMap::new();
    let mut columns = Vec::new();
    let mut col_ddl = Vec::new();
    for c in &cols {
        let neutral = neutral_type(c.type_oid, c.typmod);
        let ty = neutral.unwrap_or_else(|| ColumnType::Native {
            name: c.type_name.clone(),
        });
        let identity = match (c.identity.as_str(), &c.seq) {
            ("a" | "d", Some(seq)) => Some(Identity {
                kind: if c.identity == "a" {
                    IdentityKind::Always
                } else {
                    IdentityKind::ByDefault
                },
                start: Some(seq.start),
                increment: Some(seq.increment),
                last_value: seq.last_value,
            }),
            _ => None,
        };
        let generated = (c.generated == "s").then(|| Generated {
            expr: c.default.clone().unwrap_or_default(),
            stored: true,
        });
        // Columns a partition or child inherits come from its parent.
        if c.local || !rel.is_partition && rel.parent.is_none() {
            let mut d = format!("{} {}", ident(&c.name), c.type_name);
            if let Some(coll) = &c.collation {
                d.push_str(&format!(" COLLATE {coll}"));
            }
            if let Some(g) = &generated {
                d.push_str(&format!(" GENERATED ALWAYS AS ({}) STORED", g.expr));
            } else if let Some(def) = &c.default {
                d.push_str(&format!(" DEFAULT {def}"));
            }
            if let (Some(id), Some(seq)) = (&identity, &c.seq) {
                let how = match id.kind {
                    IdentityKind::Always => "ALWAYS",
                    _ => "BY DEFAULT",
                };
                d.push_str(&format!(
                    " GENERATED {how} AS IDENTITY (SEQUENCE NAME {} {})",
                    seq.name,
                    seq.options()
                ));
                properties.insert(
                    format!("postgres.identity_sequence.{}", c.name),
                    seq.name.clone(),
                );
            }
            if c.not_null {
                d.push_str(" NOT NULL");
            }
            col_ddl.push(d);
        }
        columns.push(Column {
            name: c.name.clone(),
            ty,
            native_type: c.type_name.clone(),
            nullable: !c.not_null,
            default: if generated.is_some() {
                None
            } else {
                c.default.clone()
            },
            identity,
            generated,
        });
    }

    let mut create = String::from("CREATE ");
    if rel.persistence == "u" {
        create.push_str("UNLOGGED ");
    }
    create.push_str("TABLE ");
    create.push_str(&qname);
    let parent = rel.parent.and_then(|p| names.get(&p));
    match (rel.is_partition, parent) {
        (true, Some(parent)) => {
            create.push_str(&format!(" PARTITION OF {}", qualified(parent)));
            if !col_ddl.is_empty() {
                create.push_str(&format!(" (\n    {}\n)", col_ddl.join(",\n    ")));
            }
            create.push_str(&format!(" {}", rel.bound.clone().unwrap_or_default()));
            properties.insert("postgres.partition_of".into(), parent.to_string());
        }
        _ => {
            create.push_str(&format!(" (\n    {}\n)", col_ddl.join(",\n    ")));
            if let Some(parent) = parent {
                create.push_str(&format!(" INHERITS ({})", qualified(parent)));
                properties.insert("postgres.inherits".into(), parent.to_string());
            }
        }
    }
    if let Some(key) = &rel.partkey {
        create.push_str(&format!(" PARTITION BY {key}"));
        properties.insert("postgres.partition_by".into(), key.clone());
    }
    if let Some(opts) = rel.options.as_deref().filter(|o| !o.is_empty()) {
        create.push_str(&format!(" WITH ({opts})"));
    }
    if rel.persistence == "u" {
        properties.insert("postgres.unlogged".into(), "true".into());
    }
    if rel.kind == "p" {
        properties.insert("postgres.partitioned".into(), "true".into());
    }

    let mut table = TableDef {
        name: rel.name.clone(),
        columns,
        primary_key: None,
        uniques: Vec::new(),
        indexes,
        foreign_keys: Vec::new(),
        checks: Vec::new(),
        native: Some(NativeDdl {
            engine: ENGINE_NAME.into(),
            create,
        }),
        properties,
        estimated_rows: rel.estimate,
        created_after: parent.cloned().into_iter().collect(),
    };
    let mut extra = Vec::new();
    for con in cons {
        match con.kind.as_str() {
            "p" => {
                table.primary_key = Some(PrimaryKey {
                    name: Some(con.name.clone()),
                    columns: col_names(&con.keys),
                })
            }
            "u" => table.uniques.push(UniqueConstraint {
                name: Some(con.name.clone()),
                columns: col_names(&con.keys),
            }),
            "c" => table.checks.push(CheckConstraint {
                name: Some(con.name.clone()),
                expr: check_expr(&con.def),
            }),
            "f" => {
                let ref_table = names.get(&con.ref_rel).cloned().ok_or_else(|| {
                    Error::Unsupported(format!(
                        "foreign key {} of table {} references a table outside the user schemas",
                        con.name, rel.name
                    ))
                })?;
                // The referenced table's column names: same numbering query
                // is not at hand here, so they come from the definition.
                table.foreign_keys.push(ForeignKey {
                    name: Some(con.name.clone()),
                    columns: col_names(&con.keys),
                    ref_table,
                    ref_columns: fk_ref_columns(&con.def, con.ref_keys.len()),
                    on_delete: fk_action(&con.on_delete),
                    on_update: fk_action(&con.on_update),
                    deferrable: con.deferrable,
                    initially_deferred: con.deferred,
                })
            }
            _ => {
                // Exclusion constraints have no neutral form: PostgreSQL
                // restores them, other engines list them as skipped.
                let ddl = format!(
                    "ALTER TABLE ONLY {qname} ADD CONSTRAINT {} {}",
                    ident(&con.name),
                    con.def
                );
                extra.push(ObjectDef {
                    table: Some(rel.name.clone()),
                    ..object(
                        ObjectKind::Other("exclusion constraint".into()),
                        rel.name.schema.as_deref(),
                        &con.name,
                        ddl,
                    )
                });
                continue;
            }
        }
        table
            .properties
            .insert(format!("postgres.constraint.{}", con.name), con.def);
    }
    Ok((table, extra))
}

/// The boolean expression of a `CHECK (...)` definition.
fn check_expr(def: &str) -> String {
    let body = def.strip_prefix("CHECK ").unwrap_or(def);
    let body = body.strip_suffix(" NOT VALID").unwrap_or(body);
    body.strip_suffix(" NO INHERIT").unwrap_or(body).to_owned()
}

/// The referenced columns of `FOREIGN KEY (a) REFERENCES t(x, y) ...`.
fn fk_ref_columns(def: &str, expected: usize) -> Vec<String> {
    let after = def.split_once(" REFERENCES ").map(|(_, r)| r).unwrap_or("");
    let inside = after
        .split_once('(')
        .and_then(|(_, r)| r.split_once(')'))
        .map(|(cols, _)| cols)
        .unwrap_or("");
    let cols: Vec<String> = inside
        .split(',')
        .map(|c| {
            let c = c.trim();
            c.strip_prefix('"')
                .and_then(|c| c.strip_suffix('"'))
                .map(|c| c.replace("\"\"", "\""))
                .unwrap_or_else(|| c.to_owned())
        })
        .filter(|c| !c.is_empty())
        .collect();
    if cols.len() == expected {
        cols
    } else {
        Vec::new()
    }
}

fn object(kind: ObjectKind, schema: Option<&str>, name: &str, ddl: String) -> ObjectDef {
    ObjectDef::new(kind, TableName::new(schema, name), ENGINE_NAME, ddl)
}

/// An object the catalog lists but bru does not carry yet, with the reason,
/// so that the restore lists it as skipped instead of dropping it silently.
fn not_carried(kind: ObjectKind, schema: Option<&str>, name: &str, reason: String) -> ObjectDef {
    ObjectDef::not_carried(kind, TableName::new(schema, name), ENGINE_NAME, reason)
}

fn read_schemas(conn: &Conn) -> Result<Vec<ObjectDef>, Error> {
    let rows = conn.query(
        &format!(
            "SELECT n.nspname::text FROM pg_catalog.pg_namespace n
             WHERE {USER_NAMESPACE} AND n.nspname <> 'public' AND {}
             ORDER BY n.nspname",
            not_extension_member("pg_namespace", "n.oid")
        ),
        &[],
        "reading schemas",
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let name: String = get!(r, 0);
        out.push(object(
            ObjectKind::Schema,
            None,
            &name,
            format!("CREATE SCHEMA IF NOT EXISTS {}", ident(&name)),
        ));
    }
    Ok(out)
}

fn read_extensions(conn: &Conn) -> Result<Vec<ObjectDef>, Error> {
    let rows = conn.query(
        "SELECT e.extname::text, n.nspname::text FROM pg_catalog.pg_extension e
         JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname <> 'plpgsql' ORDER BY e.oid",
        &[],
        "reading extensions",
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let name: String = get!(r, 0);
        let schema: String = get!(r, 1);
        out.push(object(
            ObjectKind::Extension,
            None,
            &name,
            format!(
                "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}",
                ident(&name),
                ident(&schema)
            ),
        ));
    }
    Ok(out)
}

fn read_types(conn: &Conn) -> Result<Vec<ObjectDef>, Error> {
    // Enums, composites and domains, in creation order so that a type built
    // on another comes after it.
    let rows = conn.query(
        &format!(
            "SELECT t.oid, n.nspname::text, t.typname::text, t.typtype::text,
                    pg_catalog.format_type(t.oid, NULL),
                    ARRAY(SELECT pg_catalog.quote_literal(e.enumlabel) FROM pg_catalog.pg_enum e
                          WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder),
                    ARRAY(SELECT pg_catalog.quote_ident(a.attname) || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
                          FROM pg_catalog.pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0
                          AND NOT a.attisdropped ORDER BY a.attnum),
                    pg_catalog.format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault,
                    ARRAY(SELECT 'CONSTRAINT ' || pg_catalog.quote_ident(c.conname) || ' ' || pg_catalog.pg_get_constraintdef(c.oid)
                          FROM pg_catalog.pg_constraint c WHERE c.contypid = t.oid ORDER BY c.conname)
             FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
             WHERE {USER_NAMESPACE} AND {}
               AND (t.typtype IN ('e', 'd', 'r', 'b')
                    OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c'))
               AND NOT (t.typtype = 'b' AND t.typelem <> 0 AND t.typlen = -1)
             ORDER BY t.oid",
            not_extension_member("pg_type", "t.oid")
        ),
        &[],
        "reading types",
    )?;
    let mut out = Vec::new();
    for r in &rows {
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
                let default: Option<String> = get!(r, 9);
                let checks: Vec<String> = get!(r, 10);
                let mut d = format!("CREATE DOMAIN {qname} AS {base}");
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
            "r" => {
                let reason = format!("range type {qname}");
                out.push(not_carried(ObjectKind::Type, Some(&schema), &name, reason));
                continue;
            }
            _ => {
                let reason = format!("base type {qname}");
                out.push(not_carried(ObjectKind::Type, Some(&schema), &name, reason));
                continue;
            }
        };
        out.push(object(ObjectKind::Type, Some(&schema), &name, ddl));
    }
    Ok(out)
}

/// Functions and procedures. Those whose signature uses a table's row type
/// need the table first: they come back in the second list with the kind
/// [`ObjectKind::TableFunction`], which the restore creates after the tables.
fn read_functions(conn: &Conn) -> Result<(Vec<ObjectDef>, Vec<ObjectDef>), Error> {
    let rows = conn.query(
        &format!(
            "SELECT n.nspname::text, p.proname::text, p.prokind::text,
                    p.oid::pg_catalog.regprocedure::text,
                    CASE WHEN p.prokind IN ('f', 'p') THEN pg_catalog.pg_get_functiondef(p.oid) END,
                    EXISTS (SELECT 1 FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_type t ON t.oid = d.refobjid
                            JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
                            WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid
                              AND d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass
                              AND c.relkind IN ('r', 'p', 'v', 'm', 'f'))
             FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
             WHERE {USER_NAMESPACE} AND {}
             ORDER BY p.oid",
            not_extension_member("pg_proc", "p.oid")
        ),
        &[],
        "reading functions",
    )?;
    let (mut pre, mut post) = (Vec::new(), Vec::new());
    for r in &rows {
        let schema: String = get!(r, 0);
        let kind: String = get!(r, 2);
        let signature: String = get!(r, 3);
        let def: Option<String> = get!(r, 4);
        let needs_tables: bool = get!(r, 5);
        let name = signature
            .strip_prefix(&format!("{}.", ident(&schema)))
            .unwrap_or(&signature)
            .to_owned();
        match def {
            Some(def) if needs_tables => {
                post.push(object(ObjectKind::TableFunction, Some(&schema), &name, def))
            }
            Some(def) => pre.push(object(ObjectKind::Function, Some(&schema), &name, def)),
            None => {
                let what = if kind == "a" {
                    "aggregate"
                } else {
                    "window function"
                };
                post.push(not_carried(
                    ObjectKind::Other(what.into()),
                    Some(&schema),
                    &name,
                    format!("{what} {signature}"),
                ))
            }
        }
    }
    Ok((pre, post))
}

/// A serial (owned) sequence's value, for its table's
/// `postgres.owned_sequence.<sequence>` property: a `--data-only` restore
/// creates no sequence objects, so the table's restore sets it.
struct OwnedValue {
    table_oid: u32,
    sequence: String,
    last_value: i64,
}

/// Sequence objects, their ownership objects, and owned sequences' values.
type Sequences = (Vec<ObjectDef>, Vec<ObjectDef>, Vec<OwnedValue>);

/// Sequences that are not identity columns' (those come with their
/// table): created before the tables, with their current value, and
/// attached to their owning column afterwards. Also returns the values of
/// the sequences a table owns.
fn read_sequences(conn: &Conn) -> Result<Sequences, Error> {
    let rows = conn.query(
        &format!(
            "SELECT n.nspname::text, c.relname::text, c.oid::pg_catalog.regclass::text, {SEQ_COLUMNS},
                    ps.last_value IS NOT NULL,
                    (SELECT d.refobjid::pg_catalog.regclass::text || '.' || pg_catalog.quote_ident(a.attname)
                       FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_attribute a
                         ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                      WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
                        AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype = 'a'
                      LIMIT 1),
                    (SELECT d.refobjid FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
                        AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype = 'a'
                      LIMIT 1)
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
             LEFT JOIN pg_catalog.pg_sequences ps ON ps.schemaname = n.nspname AND ps.sequencename = c.relname
             WHERE c.relkind = 'S' AND {USER_NAMESPACE} AND {}
               AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                               AND d.objid = c.oid AND d.deptype = 'i')
             ORDER BY c.oid",
            not_extension_member("pg_class", "c.oid")
        ),
        &[],
        "reading sequences",
    )?;
    let (mut seqs, mut owners, mut owned) = (Vec::new(), Vec::new(), Vec::new());
    for r in &rows {
        let schema: String = get!(r, 0);
        let name: String = get!(r, 1);
        let seq = SeqInfo {
            name: get!(r, 2),
            start: get!(r, 3),
            increment: get!(r, 4),
            min: get!(r, 5),
            max: get!(r, 6),
            cache: get!(r, 7),
            cycle: get!(r, 8),
            type_name: get!(r, 9),
            last_value: get!(r, 10),
        };
        let called: bool = get!(r, 11);
        let owner: Option<String> = get!(r, 12);
        let owner_oid: Option<u32> = get!(r, 13);
        if let (Some(table_oid), true, Some(last_value)) = (owner_oid, called, seq.last_value) {
            owned.push(OwnedValue {
                table_oid,
                sequence: seq.name.clone(),
                last_value,
            });
        }
        let mut ddl = format!(
            "CREATE SEQUENCE {} AS {} {}",
            seq.name,
            seq.type_name,
            seq.options()
        );
        // pg_dump's SEQUENCE SET: the last value handed out, or the start
        // value not yet handed out.
        let value = match (called, seq.last_value) {
            (true, Some(last)) => format!("{last}, true"),
            _ => format!("{}, false", seq.start),
        };
        let data = format!(
            "SELECT pg_catalog.setval({}, {value})",
            quote_literal(&seq.name)
        );
        if called {
            ddl.push_str(&format!("; {data}"));
        }
        let mut sequence = object(ObjectKind::Sequence, Some(&schema), &name, ddl);
        sequence.data = Some(data);
        seqs.push(sequence);
        if let Some(col) = owner {
            owners.push(object(
                ObjectKind::Other("sequence ownership".into()),
                Some(&schema),
                &name,
                format!("ALTER SEQUENCE {} OWNED BY {col}", seq.name),
            ));
        }
    }
    Ok((seqs, owners, owned))
}

fn read_views(conn: &Conn) -> Result<Vec<ObjectDef>, Error> {
    let rows = conn.query(
        &format!(
            "SELECT n.nspname::text, c.relname::text, c.oid::pg_catalog.regclass::text, c.relkind::text,
                    pg_catalog.pg_get_viewdef(c.oid), pg_catalog.array_to_string(c.reloptions, ', '),
                    c.relispopulated,
                    ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid) FROM pg_catalog.pg_index i
                          JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                          WHERE i.indrelid = c.oid ORDER BY ic.relname)
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('v', 'm') AND {USER_NAMESPACE} AND {}
             ORDER BY c.oid",
            not_extension_member("pg_class", "c.oid")
        ),
        &[],
        "reading views",
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let schema: String = get!(r, 0);
        let name: String = get!(r, 1);
        let qname: String = get!(r, 2);
        let kind: String = get!(r, 3);
        let def: String = get!(r, 4);
        let def = def.trim_end().trim_end_matches(';');
        let options: Option<String> = get!(r, 5);
        let with = options
            .filter(|o| !o.is_empty())
            .map(|o| format!(" WITH ({o})"))
            .unwrap_or_default();
        if kind == "v" {
            out.push(object(
                ObjectKind::View,
                Some(&schema),
                &name,
                format!("CREATE VIEW {qname}{with} AS\n{def}"),
            ));
        } else {
            let populated: bool = get!(r, 6);
            let indexes: Vec<String> = get!(r, 7);
            let mut ddl = format!("CREATE MATERIALIZED VIEW {qname}{with} AS\n{def}\nWITH NO DATA");
            for i in indexes {
                ddl.push_str(";\n");
                ddl.push_str(&i);
            }
            if populated {
                ddl.push_str(&format!(";\nREFRESH MATERIALIZED VIEW {qname}"));
            }
            out.push(object(
                ObjectKind::MaterializedView,
                Some(&schema),
                &name,
                ddl,
            ));
        }
    }
    Ok(out)
}

fn read_rules(conn: &Conn) -> Result<Vec<ObjectDef>, Error> {
    let rows = conn.query(
        &format!(
            "SELECT n.nspname::text, c.relname::text, r.rulename::text, pg_catalog.pg_get_ruledef(r.oid)
             FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE r.rulename <> '_RETURN' AND {USER_NAMESPACE} AND {}
             ORDER BY r.oid",
            not_extension_member("pg_rewrite", "r.oid")
        ),
        &[],
        "reading rules",
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let schema: String = get!(r, 0);
        let table: String = get!(r, 1);
        let name: String = get!(r, 2);
        let mut o = object(
            ObjectKind::Other("rule".into()),
            Some(&schema),
            &name,
            get!(r, 3),
        );
        o.table = Some(TableName::new(Some(&schema), &table));
        out.push(o);
    }
    Ok(out)
}

fn read_triggers(conn: &Conn) -> Result<Vec<ObjectDef>, Error> {
    // Triggers cloned onto partitions (tgparentid) come with the parent's.
    let rows = conn.query(
        &format!(
            "SELECT n.nspname::text, c.relname::text, t.tgname::text, pg_catalog.pg_get_triggerdef(t.oid),
                    t.tgenabled::text, c.oid::pg_catalog.regclass::text
             FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND {USER_NAMESPACE} AND {}
             ORDER BY c.oid, t.tgname",
            not_extension_member("pg_trigger", "t.oid")
        ),
        &[],
        "reading triggers",
    )?;
    let mut out = Vec::new();
    for r in &rows {
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
            ddl.push_str(&format!(
                ";\nALTER TABLE {qtable} {state} TRIGGER {}",
                ident(&name)
            ));
        }
        let mut o = object(ObjectKind::Trigger, Some(&schema), &name, ddl);
        o.table = Some(TableName::new(Some(&schema), &table));
        out.push(o);
    }
    Ok(out)
}

fn read_statistics(conn: &Conn) -> Result<Vec<ObjectDef>, Error> {
    let rows = conn.query(
        &format!(
            "SELECT n.nspname::text, s.stxname::text, pg_catalog.pg_get_statisticsobjdef(s.oid)
             FROM pg_catalog.pg_statistic_ext s JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
             WHERE {USER_NAMESPACE} ORDER BY s.oid"
        ),
        &[],
        "reading extended statistics",
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let schema: String = get!(r, 0);
        let name: String = get!(r, 1);
        out.push(object(
            ObjectKind::Other("statistics".into()),
            Some(&schema),
            &name,
            get!(r, 2),
        ));
    }
    Ok(out)
}

/// Objects bru sees but does not carry yet, so the summary lists them.
fn read_not_carried(conn: &Conn) -> Result<Vec<ObjectDef>, Error> {
    let rows = conn.query(
        &format!(
            "SELECT 'policy', n.nspname::text, p.polname::text || ' on ' || c.relname::text
               FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE {USER_NAMESPACE}
             UNION ALL
             SELECT 'foreign table', n.nspname::text, c.relname::text
               FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relkind = 'f' AND {USER_NAMESPACE}
             UNION ALL
             SELECT 'row level security', n.nspname::text, c.relname::text
               FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relrowsecurity AND {USER_NAMESPACE}
             UNION ALL
             SELECT 'operator', n.nspname::text, o.oid::pg_catalog.regoperator::text
               FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
              WHERE {USER_NAMESPACE} AND {}
             UNION ALL
             SELECT 'publication', NULL, p.pubname::text FROM pg_catalog.pg_publication p
             UNION ALL
             SELECT 'default privileges', n.nspname::text,
                    'for role ' || pg_catalog.pg_get_userbyid(a.defaclrole)::text || ' on ' ||
                    CASE a.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
                         WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas'
                         ELSE a.defaclobjtype::text END
               FROM pg_catalog.pg_default_acl a
               LEFT JOIN pg_catalog.pg_namespace n ON n.oid = a.defaclnamespace",
            not_extension_member("pg_operator", "o.oid")
        ),
        &[],
        "reading objects bru does not carry",
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let what: String = get!(r, 0);
        let schema: Option<String> = get!(r, 1);
        let name: String = get!(r, 2);
        let reason = format!("{what} {name} (not supported yet)");
        out.push(not_carried(
            ObjectKind::Other(what),
            schema.as_deref(),
            &name,
            reason,
        ));
    }
    Ok(out)
}

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
/// functions. Columns: order, oid, schema, name, ALTER keyword, GRANT
/// keyword, the object as SQL names it, owner.
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
            AND (t.typtype IN ('e', 'd')
                 OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c'))
         UNION ALL
         SELECT CASE c.relkind WHEN 'S' THEN 3 WHEN 'v' THEN 4 WHEN 'm' THEN 4 ELSE 2 END,
                c.oid, n.nspname::text, c.relname::text,
                CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                     WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                c.oid::pg_catalog.regclass::text, c.relowner, c.relacl
           FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND {USER_NAMESPACE} AND {}
         UNION ALL
         SELECT 5, p.oid, n.nspname::text, p.oid::pg_catalog.regprocedure::text,
                CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
                CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
                p.oid::pg_catalog.regprocedure::text, p.proowner, p.proacl
           FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
          WHERE p.prokind IN ('f', 'p') AND {USER_NAMESPACE} AND {}",
        not_extension_member("pg_namespace", "n.oid"),
        not_extension_member("pg_type", "t.oid"),
        not_extension_member("pg_class", "c.oid"),
        not_extension_member("pg_proc", "p.oid"),
    )
}

/// The `ord` of tables, views (the relations that have columns) and
/// functions in [`owned_objects`].
const TABLES: i32 = 2;
const VIEWS: i32 = 4;
const FUNCTIONS: i32 = 5;

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
fn read_owners_and_privileges(conn: &Conn) -> Result<Vec<ObjectDef>, Error> {
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
        let grant_kind: String = get!(r, 5);
        let target: String = get!(r, 6);
        let owner: String = get!(r, 7);
        let has_acl: bool = get!(r, 8);
        let entries = acl_entries!(r, 9);
        // Functions are named by their signature, without the schema.
        let name = match (&schema, ord) {
            (Some(s), FUNCTIONS) => name
                .strip_prefix(&format!("{}.", ident(s)))
                .unwrap_or(&name)
                .to_owned(),
            _ => name,
        };
        // A table's owner and grants go wherever its table goes: a
        // restore with --include/--exclude leaves them out with it.
        let table = (ord == TABLES).then(|| TableName::new(schema.as_deref(), &name));
        let mut owned = object(
            ObjectKind::Owner,
            schema.as_deref(),
            &name,
            format!("ALTER {alter_kind} {target} OWNER TO {owner}"),
        );
        owned.table = table.clone();
        owners.push(owned);
        let on = format!("{grant_kind} {target}");
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
            privileges.push(granted);
        }
    }
    owners.extend(privileges);
    Ok(owners)
}

/// Column ACLs of user relations: table oid → (quoted column, entries), in
/// column order.
type ColumnAcls = HashMap<u32, Vec<(String, Vec<AclEntry>)>>;

fn read_column_privileges(conn: &Conn) -> Result<ColumnAcls, Error> {
    let rows = conn.query(
        &format!(
            "SELECT a.attrelid, pg_catalog.quote_ident(a.attname), {}
             FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped
               AND c.relkind IN ('r', 'p', 'v', 'm') AND {USER_NAMESPACE} AND {}
             ORDER BY a.attrelid, a.attnum",
            exploded("a.attacl"),
            not_extension_member("pg_class", "c.oid")
        ),
        &[],
        "reading column privileges",
    )?;
    let mut out: ColumnAcls = HashMap::new();
    for r in &rows {
        let rel: u32 = get!(r, 0);
        let column: String = get!(r, 1);
        let entries = acl_entries!(r, 2);
        out.entry(rel).or_default().push((column, entries));
    }
    Ok(out)
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

fn read_comments(conn: &Conn) -> Result<Vec<ObjectDef>, Error> {
    let rows = conn.query(
        &format!(
            "SELECT n.nspname::text,
                    c.relname::text || CASE WHEN d.objsubid > 0 THEN '.' || a.attname::text ELSE '' END,
                    pg_catalog.format('COMMENT ON %s %s IS %L',
                      CASE WHEN d.objsubid > 0 THEN 'COLUMN'
                           ELSE CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                WHEN 'S' THEN 'SEQUENCE' WHEN 'i' THEN 'INDEX' WHEN 'I' THEN 'INDEX'
                                ELSE 'TABLE' END END,
                      c.oid::pg_catalog.regclass::text ||
                        CASE WHEN d.objsubid > 0 THEN '.' || pg_catalog.quote_ident(a.attname) ELSE '' END,
                      d.description)
             FROM pg_catalog.pg_description d
             JOIN pg_catalog.pg_class c ON d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND c.oid = d.objoid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
             WHERE {USER_NAMESPACE}
             UNION ALL
             SELECT n.nspname::text, p.oid::pg_catalog.regprocedure::text,
                    pg_catalog.format('COMMENT ON %s %s IS %L', CASE p.prokind WHEN 'p' THEN 'PROCEDURE'
                      WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, p.oid::pg_catalog.regprocedure::text, d.description)
             FROM pg_catalog.pg_description d
             JOIN pg_catalog.pg_proc p ON d.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND p.oid = d.objoid
             JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
             WHERE {USER_NAMESPACE}
             UNION ALL
             SELECT n.nspname::text, t.typname::text,
                    pg_catalog.format('COMMENT ON %s %s IS %L', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
                      pg_catalog.format_type(t.oid, NULL), d.description)
             FROM pg_catalog.pg_description d
             JOIN pg_catalog.pg_type t ON d.classoid = 'pg_catalog.pg_type'::pg_catalog.regclass AND t.oid = d.objoid
             JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
             WHERE {USER_NAMESPACE}
             UNION ALL
             SELECT n.nspname::text, n.nspname::text,
                    pg_catalog.format('COMMENT ON SCHEMA %I IS %L', n.nspname, d.description)
             FROM pg_catalog.pg_description d
             JOIN pg_catalog.pg_namespace n ON d.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND n.oid = d.objoid
             WHERE {USER_NAMESPACE}
             UNION ALL
             SELECT n.nspname::text, con.conname::text,
                    CASE WHEN con.contypid <> 0
                      THEN pg_catalog.format('COMMENT ON CONSTRAINT %I ON DOMAIN %s IS %L', con.conname,
                             pg_catalog.format_type(con.contypid, NULL), d.description)
                      ELSE pg_catalog.format('COMMENT ON CONSTRAINT %I ON %s IS %L', con.conname,
                             con.conrelid::pg_catalog.regclass::text, d.description) END
             FROM pg_catalog.pg_description d
             JOIN pg_catalog.pg_constraint con ON d.classoid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND con.oid = d.objoid
             JOIN pg_catalog.pg_namespace n ON n.oid = con.connamespace
             WHERE {USER_NAMESPACE}
             UNION ALL
             SELECT n.nspname::text, t.tgname::text,
                    pg_catalog.format('COMMENT ON TRIGGER %I ON %s IS %L', t.tgname, c.oid::pg_catalog.regclass::text, d.description)
             FROM pg_catalog.pg_description d
             JOIN pg_catalog.pg_trigger t ON d.classoid = 'pg_catalog.pg_trigger'::pg_catalog.regclass AND t.oid = d.objoid
             JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE {USER_NAMESPACE}
             ORDER BY 1, 2, 3"
        ),
        &[],
        "reading comments",
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let schema: String = get!(r, 0);
        let name: String = get!(r, 1);
        out.push(object(
            ObjectKind::Comment,
            Some(&schema),
            &name,
            get!(r, 2),
        ));
    }
    Ok(out)
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

    #[test]
    fn check_and_fk_parsing() {
        assert_eq!(check_expr("CHECK ((a > 0)) NOT VALID"), "((a > 0))");
        assert_eq!(
            fk_ref_columns(
                "FOREIGN KEY (a, b) REFERENCES s.t(x, \"Y z\") ON DELETE CASCADE",
                2
            ),
            vec!["x".to_string(), "Y z".to_string()]
        );
    }
}
