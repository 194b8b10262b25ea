//! Reading the schema from `pg_catalog` into bru's neutral model.
//!
//! Everything is read inside the source's snapshot, with `search_path` set
//! to empty so that every name the server prints (`format_type`,
//! `pg_get_expr`, `pg_get_viewdef`...) is schema-qualified and recreates the
//! same object in any session. Each table gets both the structured model
//! (for a restore into another engine) and PostgreSQL's own DDL (for an
//! exact PostgreSQL restore): the CREATE TABLE in [`bru_core::NativeDdl`], and every
//! constraint's `pg_get_constraintdef` text in the table's properties under
//! `postgres.constraint.<name>`.
//!
//! Other objects become [`ObjectDef`]s, each read with its catalog row
//! ([`Read`]) and put in dependency order by `pg_depend`, as pg_dump sorts
//! them ([`order`]). Objects the restore needs before the tables (schemas,
//! extensions, types, sequences, functions) use the kinds that
//! [`ObjectDef::is_pre_data`] recognises; the sort moves one that needs a
//! table to after the tables ([`ObjectDef::section`]). What bru cannot carry yet becomes
//! an object with [`ObjectDef::not_carried`] set to the reason, so the
//! restore lists it as skipped instead of dropping it silently.
//!
//! Owners and privileges come last, as pg_dump records them: an
//! [`ObjectKind::Owner`] object (`ALTER ... OWNER TO`) for every schema, type,
//! table, sequence, view and function bru carries, then an
//! [`ObjectKind::Privileges`] object (`REVOKE ALL`, then the ACL's `GRANT`s)
//! for each one whose ACL or column ACLs are not the default. They are
//! separate objects so that a restore can leave them out (`--no-owner`,
//! `--no-privileges`) and list one whose role the target lacks. The
//! privileges of the system's own objects that pg_dump dumps (schema
//! `public`, `pg_catalog`'s tables and columns, where they differ from
//! `pg_init_privs`) follow as [`ObjectKind::SystemPrivileges`] objects, which
//! a restore applies only with `--system-privileges`.
//!
//! The module is laid out by what is read: [`tables`] reads relations,
//! columns, constraints and indexes, and [`build`] turns them into
//! [`bru_core::TableDef`]s with their native DDL; [`order`] sorts the other
//! objects by their dependencies; [`types`], [`functions`],
//! [`aggregates`], [`operators`] (operators, operator families and
//! classes), [`misc`] (collations, casts, conversions, languages,
//! transforms, access methods, event triggers), [`sequences`] and
//! [`objects`] (schemas, extensions, views, rules, triggers, statistics)
//! read the other objects, as do [`textsearch`], [`foreign`] (wrappers,
//! servers, user mappings, foreign tables), [`policies`] (row-level
//! security), [`publications`] (and subscriptions), [`defaults`] (default
//! privileges) and [`large_objects`] (each an entry, their bytes one table of
//! pieces);
//! [`acl`] owners and privileges; [`comments`] comments. Each `read_*` is a
//! catalog query and a function of one row, run by [`each_row`] (or
//! [`by_relation`], for the rows that belong to a table).

use std::collections::HashMap;

use bru_core::{Catalog, Error, ObjectDef, ObjectKind, TableName};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::conn::Conn;
use crate::ENGINE_NAME;

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

mod acl;
mod aggregates;
mod build;
mod comments;
pub(crate) mod defaults;
pub(crate) mod foreign;
mod functions;
pub(crate) mod large_objects;
mod misc;
mod objects;
mod operators;
mod order;
pub(crate) mod policies;
pub(crate) mod publications;
mod sequences;
mod tables;
pub(crate) mod textsearch;
mod types;

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

/// The table property prefix of a statement a PostgreSQL restore runs once
/// the table's keys and indexes exist (`<prefix><nnn>`, in that order):
/// an index's tablespace and column statistics targets, `CLUSTER ON`,
/// `REPLICA IDENTITY USING INDEX`, and a partitioned table's `ALTER INDEX
/// … ATTACH PARTITION` of its partitions' indexes (it is finished after
/// them).
pub(crate) const AFTER_INDEXES: &str = "postgres.after_indexes.";

/// The property of a partitioned table whose partitions carry their own
/// keys, each attached to the table's ([`AFTER_INDEXES`]): the table's keys
/// are then added `ONLY` to it.
pub(crate) const PARTITIONS_OWN_KEYS: &str = "postgres.partitions_own_keys";

/// The table property prefix of an owned (serial) sequence's value.
pub(crate) const OWNED_SEQUENCE: &str = "postgres.owned_sequence.";

/// Reads every user table and object.
pub(crate) fn read(conn: &Conn) -> Result<Catalog, Error> {
    let rels = tables::read_relations(conn)?;
    let names: HashMap<u32, TableName> = rels.iter().map(|r| (r.oid, r.name.clone())).collect();
    let oids: Vec<u32> = rels.iter().map(|r| r.oid).collect();

    let mut columns = tables::read_columns(conn, &oids)?;
    let mut constraints = tables::read_constraints(conn, &oids)?;
    let mut indexes = tables::read_indexes(conn, &oids)?;
    let mut index_props = tables::read_index_properties(conn, &oids)?;
    let mut attachments: HashMap<u32, Vec<tables::IndexAttachment>> = HashMap::new();
    for a in tables::read_index_attachments(conn, &oids)? {
        attachments.entry(a.table).or_default().push(a);
    }

    let mut catalog = Catalog::default();
    let mut objects_post = Vec::new();
    for rel in &rels {
        let cols = columns.remove(&rel.oid).unwrap_or_default();
        let cons = constraints.remove(&rel.oid).unwrap_or_default();
        let idx = indexes.remove(&rel.oid).unwrap_or_default();
        let props = index_props.remove(&rel.oid).unwrap_or_default();
        let attached = attachments.remove(&rel.oid).unwrap_or_default();
        let (table, extra) = build::build_table(rel, cols, cons, idx, props, attached, &names)?;
        catalog.tables.push(table);
        objects_post.extend(extra);
    }

    // Every object bru carries with its catalog row, in tie order (kind,
    // then oid), then in dependency order.
    let mut reads = Vec::new();
    reads.extend(objects::read_schemas(conn)?);
    reads.extend(objects::read_extensions(conn)?);
    reads.extend(types::read_types(conn)?);
    reads.extend(functions::read_functions(conn)?);
    reads.extend(misc::read_collations(conn)?);
    reads.extend(misc::read_languages(conn)?);
    reads.extend(misc::read_access_methods(conn)?);
    reads.extend(operators::read_operators(conn)?);
    reads.extend(operators::read_operator_families(conn)?);
    reads.extend(operators::read_operator_classes(conn)?);
    reads.extend(misc::read_casts(conn)?);
    reads.extend(misc::read_conversions(conn)?);
    reads.extend(misc::read_transforms(conn)?);
    reads.extend(aggregates::read_aggregates(conn)?);
    reads.extend(textsearch::read_text_search(conn)?);
    reads.extend(foreign::read_foreign_servers(conn)?);
    reads.extend(foreign::read_foreign_tables(conn)?);
    reads.extend(policies::read_policies(conn)?);
    reads.extend(publications::read_publications(conn)?);
    let (sequences, owners, owned) = sequences::read_sequences(conn)?;
    let position: HashMap<u32, usize> = rels.iter().enumerate().map(|(i, r)| (r.oid, i)).collect();
    for o in owned {
        if let Some(&i) = position.get(&o.table_oid) {
            catalog.tables[i].properties.insert(
                format!("{OWNED_SEQUENCE}{}", o.sequence),
                o.last_value.to_string(),
            );
        }
    }
    reads.extend(sequences);
    reads.extend(objects::read_views(conn)?);
    reads.extend(objects::read_rules(conn)?);
    reads.extend(objects::read_triggers(conn)?);
    reads.extend(objects::read_statistics(conn)?);
    let sorted = order::sort(conn, reads, &names)?;

    // Pre-data objects, then what hangs on the tables (their exclusion
    // constraints, sequences' owning columns), then the other post-data
    // objects: the restore keeps this order within each section.
    let (pre, post): (Vec<ObjectDef>, Vec<ObjectDef>) =
        sorted.into_iter().partition(ObjectDef::is_pre_data);
    // CHECKs calling functions come after the functions, which may come
    // after the tables.
    let (late_checks, objects_post): (Vec<ObjectDef>, Vec<ObjectDef>) = objects_post
        .into_iter()
        .partition(|o| o.kind == ObjectKind::CheckConstraint);
    let mut objects = pre;
    objects.extend(objects_post);
    objects.extend(owners);
    objects.extend(post);
    objects.extend(late_checks);
    // Large objects after every other pre-data object (they need none),
    // their bytes the rows of one table of pieces (module `large_objects`).
    let large = large_objects::read_large_objects(conn)?;
    objects.extend(large.objects);
    catalog.tables.extend(large.pieces);
    objects.extend(comments::read_comments(conn)?);
    objects.extend(large.comments);
    // Last, after every object they apply to: owners, then privileges
    // (changing an owner rewrites the ACL, so grants come after it).
    // The owner and grants of an object that needs tables (a function over
    // a table's row type) need them too: a restore leaving the table out
    // leaves them out with the object.
    let mut acl = acl::read_owners_and_privileges(conn)?;
    let needs: HashMap<&TableName, &Vec<TableName>> = objects
        .iter()
        .filter_map(|o| Some((&o.name, o.depends_on.as_ref().filter(|d| !d.is_empty())?)))
        .collect();
    for o in &mut acl {
        if o.table.is_none() && o.depends_on.is_none() {
            o.depends_on = needs.get(&o.name).map(|d| (*d).clone());
        }
    }
    objects.extend(acl);
    // The system's own objects whose privileges were changed (schema
    // public, pg_catalog's tables), which a restore applies only when
    // asked.
    objects.extend(acl::read_system_privileges(conn)?);
    // Default privileges last, as pg_dump: they must not apply to the
    // objects the restore creates.
    objects.extend(defs(defaults::read_default_privileges(conn)?));
    // Event triggers last of all, with their owners and comments: every
    // DDL statement after one would fire it.
    objects.extend(defs(misc::read_event_triggers(conn)?));
    // Views (and their owners and grants) recorded the relations they read
    // from pg_depend, and the other objects the tables they need (the
    // dependency sort). A comment is left to the filter, which reads the
    // relation it names from its statement; every other object hangs on its
    // table (`ObjectDef::table`) or on nothing a filter leaves out.
    for o in &mut objects {
        if o.depends_on.is_none() && o.kind != ObjectKind::Comment {
            o.depends_on = Some(Vec::new());
        }
    }
    catalog.objects = objects;
    Ok(catalog)
}

/// The objects of `reads`, in order, until the dependency sort places
/// them by their catalog rows.
fn defs(reads: Vec<Read>) -> impl Iterator<Item = ObjectDef> {
    reads.into_iter().map(|r| r.def)
}

/// Runs a catalog query and makes one item of each row with `each`, in row
/// order: the shape every `read_*` function shares.
fn each_row<T>(
    conn: &Conn,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    context: &str,
    each: impl FnMut(&Row) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    conn.query(sql, params, context)?.iter().map(each).collect()
}

/// [`each_row`] for a query whose first column is a relation's oid: the
/// items grouped by relation, each group in row order.
fn by_relation<T>(
    conn: &Conn,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    context: &str,
    mut each: impl FnMut(&Row) -> Result<T, Error>,
) -> Result<HashMap<u32, Vec<T>>, Error> {
    let mut out: HashMap<u32, Vec<T>> = HashMap::new();
    for r in &conn.query(sql, params, context)? {
        let rel: u32 = get!(r, 0);
        out.entry(rel).or_default().push(each(r)?);
    }
    Ok(out)
}

/// An object as read from `pg_catalog`, with the catalog row it came from
/// (`class`: the catalog table, as `"pg_proc"`; `oid`: the row's oid), so
/// that the objects can be put in dependency order by `pg_depend`, as
/// pg_dump sorts them. Readers of new object kinds return these.
pub(super) struct Read {
    pub(super) def: ObjectDef,
    pub(super) class: &'static str,
    pub(super) oid: u32,
}

impl Read {
    /// `def`, read from row `oid` of catalog table `class`.
    pub(super) fn new(def: ObjectDef, class: &'static str, oid: u32) -> Read {
        Read { def, class, oid }
    }
}

/// An object of `kind` named `schema.name`, created by `ddl`.
fn object(kind: ObjectKind, schema: Option<&str>, name: &str, ddl: String) -> ObjectDef {
    ObjectDef::new(kind, TableName::new(schema, name), ENGINE_NAME, ddl)
}

/// An object the catalog lists but bru does not carry yet, with the reason,
/// so that the restore lists it as skipped instead of dropping it silently.
fn not_carried(kind: ObjectKind, schema: Option<&str>, name: &str, reason: String) -> ObjectDef {
    ObjectDef::not_carried(kind, TableName::new(schema, name), ENGINE_NAME, reason)
}
