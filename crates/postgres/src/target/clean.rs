//! `--clean`: what a restore drops first, and dropping exactly that.
//!
//! Dropped by name are the archive's objects that a second CREATE would
//! collide with: its tables (whatever relation holds the name, as the
//! restore's check for existing tables counts them), its views, materialized
//! views and sequences (when of the same kind), its enum, composite,
//! domain, range, base and shell types, its functions, procedures and
//! aggregates (by signature: the restore runs their `CREATE OR REPLACE` as
//! `CREATE`, so that it never replaces one of the target's own), its foreign
//! tables, collations, conversions, text search parsers, templates,
//! dictionaries and configurations, foreign data wrappers, servers,
//! publications, procedural languages, access methods and event triggers
//! (by name, as [`NAMED`] finds them), and its indexes where
//! another table holds the name (the schema's one namespace would make its
//! CREATE INDEX fail; one owned by a constraint of that table is refused).
//! Schemas and extensions are created `IF NOT EXISTS`, so they stay;
//! triggers, rules, policies, statistics and constraints belong
//! to a table and go with it (its indexes too, of which those the archive
//! does not declare are listed).
//!
//! They are dropped with `CASCADE`, which also drops whatever PostgreSQL
//! records (in `pg_depend`) as depending on them: a view over a dropped
//! table, a foreign key from another table, a column of another table of a
//! dropped type. [`DEPENDENTS`] finds all of that first, the way
//! `DROP … CASCADE` walks `pg_depend`, so that `--dry-run` and the summary
//! list each one with what it depends on. Nothing reads SQL text.

use std::collections::HashSet;

use bru_core::{Dropped, Error, ObjectDef, ObjectKind, TableDef, TableName};

use crate::quote::{ident, qualified, target_name};

use super::PgTarget;

/// The archive's relations that exist in the target by name (`$1`
/// schemas, `$2` names, `$3` the relkinds that count, as one string each):
/// `(classid, oid, description, DROP keyword, schema, name)`, by schema and
/// name.
const RELATIONS: &str = "
SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::oid, c.oid,
       pg_catalog.pg_describe_object('pg_catalog.pg_class'::pg_catalog.regclass, c.oid, 0),
       CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                      WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
       n.nspname::text, c.relname::text
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE EXISTS (SELECT 1 FROM unnest($1::text[], $2::text[], $3::text[]) AS a(s, r, k)
                WHERE a.s = n.nspname AND a.r = c.relname
                  AND pg_catalog.strpos(a.k, c.relkind::text) > 0)
 ORDER BY n.nspname, c.relname";

/// The relkinds that hold an archive table's name: whatever
/// [`bru_core::Target::existing_tables`] counts as a table already there.
const TABLE_RELKINDS: &str = "rpvmf";

/// The relkinds [`RELATIONS`] looks at: those it can drop.
const ANY_RELKIND: &str = "rpvmfS";

/// The archive's enum, composite and domain types that exist in the target
/// by name (`$1` schemas, `$2` names), as [`RELATIONS`] gives relations.
const TYPES: &str = "
SELECT 'pg_catalog.pg_type'::pg_catalog.regclass::oid, t.oid,
       pg_catalog.pg_describe_object('pg_catalog.pg_type'::pg_catalog.regclass, t.oid, 0),
       CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
       n.nspname::text, t.typname::text
  FROM pg_catalog.pg_type t
  JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
 WHERE t.typtype IN ('e', 'c', 'd', 'r', 'b', 'p')
   AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c')
   AND (t.typtype <> 'p' OR NOT t.typisdefined)
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)
   AND (n.nspname, t.typname) IN (SELECT * FROM unnest($1::text[], $2::text[]))
 ORDER BY n.nspname, t.typname";

/// The archive's functions and procedures that exist in the target with
/// the same signature (`$1` schemas, `$2` names as the archive names them:
/// `f(integer)`, the `regprocedure` text without its schema), as
/// [`RELATIONS`] gives relations. The session's empty `search_path` makes
/// `regprocedure` print every name qualified, as the backup read them.
const FUNCTIONS: &str = "
SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass::oid, p.oid,
       pg_catalog.pg_describe_object('pg_catalog.pg_proc'::pg_catalog.regclass, p.oid, 0),
       CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
       n.nspname::text, f.name
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  CROSS JOIN LATERAL (SELECT pg_catalog.substr(p.oid::pg_catalog.regprocedure::text,
                             pg_catalog.length(pg_catalog.quote_ident(n.nspname)) + 2) AS name) f
 WHERE (n.nspname, f.name) IN (SELECT * FROM unnest($1::text[], $2::text[]))
 ORDER BY n.nspname, f.name";

/// The archive's objects of the kinds named by their engine's name that
/// `--clean` drops (`$1` kinds, `$2` schemas, '' for none, `$3` names), as
/// [`RELATIONS`] gives relations: collations, conversions, text search
/// objects in their schema; foreign data wrappers, servers, publications,
/// procedural languages, access methods and event triggers by name alone.
const NAMED: &str = "
SELECT x.classid, x.oid, pg_catalog.pg_describe_object(x.classid, x.oid, 0), x.keyword, x.schema, x.name
  FROM (
    SELECT 'pg_catalog.pg_collation'::pg_catalog.regclass::oid AS classid, o.oid, 'collation' AS kind,
           'COLLATION' AS keyword, n.nspname::text AS schema, o.collname::text AS name
      FROM pg_catalog.pg_collation o JOIN pg_catalog.pg_namespace n ON n.oid = o.collnamespace
    UNION ALL
    SELECT 'pg_catalog.pg_conversion'::pg_catalog.regclass::oid, o.oid, 'conversion', 'CONVERSION',
           n.nspname::text, o.conname::text
      FROM pg_catalog.pg_conversion o JOIN pg_catalog.pg_namespace n ON n.oid = o.connamespace
    UNION ALL
    SELECT 'pg_catalog.pg_ts_parser'::pg_catalog.regclass::oid, o.oid, 'text search parser',
           'TEXT SEARCH PARSER', n.nspname::text, o.prsname::text
      FROM pg_catalog.pg_ts_parser o JOIN pg_catalog.pg_namespace n ON n.oid = o.prsnamespace
    UNION ALL
    SELECT 'pg_catalog.pg_ts_template'::pg_catalog.regclass::oid, o.oid, 'text search template',
           'TEXT SEARCH TEMPLATE', n.nspname::text, o.tmplname::text
      FROM pg_catalog.pg_ts_template o JOIN pg_catalog.pg_namespace n ON n.oid = o.tmplnamespace
    UNION ALL
    SELECT 'pg_catalog.pg_ts_dict'::pg_catalog.regclass::oid, o.oid, 'text search dictionary',
           'TEXT SEARCH DICTIONARY', n.nspname::text, o.dictname::text
      FROM pg_catalog.pg_ts_dict o JOIN pg_catalog.pg_namespace n ON n.oid = o.dictnamespace
    UNION ALL
    SELECT 'pg_catalog.pg_ts_config'::pg_catalog.regclass::oid, o.oid, 'text search configuration',
           'TEXT SEARCH CONFIGURATION', n.nspname::text, o.cfgname::text
      FROM pg_catalog.pg_ts_config o JOIN pg_catalog.pg_namespace n ON n.oid = o.cfgnamespace
    UNION ALL
    SELECT 'pg_catalog.pg_foreign_data_wrapper'::pg_catalog.regclass::oid, o.oid,
           'foreign data wrapper', 'FOREIGN DATA WRAPPER', NULL, o.fdwname::text
      FROM pg_catalog.pg_foreign_data_wrapper o
    UNION ALL
    SELECT 'pg_catalog.pg_foreign_server'::pg_catalog.regclass::oid, o.oid, 'server', 'SERVER',
           NULL, o.srvname::text
      FROM pg_catalog.pg_foreign_server o
    UNION ALL
    SELECT 'pg_catalog.pg_publication'::pg_catalog.regclass::oid, o.oid, 'publication',
           'PUBLICATION', NULL, o.pubname::text
      FROM pg_catalog.pg_publication o
    UNION ALL
    SELECT 'pg_catalog.pg_language'::pg_catalog.regclass::oid, o.oid, 'language', 'LANGUAGE',
           NULL, o.lanname::text
      FROM pg_catalog.pg_language o WHERE o.lanispl
    UNION ALL
    SELECT 'pg_catalog.pg_am'::pg_catalog.regclass::oid, o.oid, 'access method', 'ACCESS METHOD',
           NULL, o.amname::text
      FROM pg_catalog.pg_am o
    UNION ALL
    SELECT 'pg_catalog.pg_event_trigger'::pg_catalog.regclass::oid, o.oid, 'event trigger',
           'EVENT TRIGGER', NULL, o.evtname::text
      FROM pg_catalog.pg_event_trigger o
  ) x
 WHERE (x.kind, COALESCE(x.schema, ''), x.name) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))
 ORDER BY x.kind, x.schema, x.name";

/// The kinds [`NAMED`] finds, as the catalog readers name them, and
/// whether their objects are in a schema.
const NAMED_KINDS: [(&str, bool); 12] = [
    ("collation", true),
    ("conversion", true),
    (crate::catalog::textsearch::PARSER, true),
    (crate::catalog::textsearch::TEMPLATE, true),
    (crate::catalog::textsearch::DICTIONARY, true),
    (crate::catalog::textsearch::CONFIGURATION, true),
    (crate::catalog::foreign::WRAPPER, false),
    (crate::catalog::foreign::SERVER, false),
    (crate::catalog::publications::PUBLICATION, false),
    ("language", false),
    ("access method", false),
    ("event trigger", false),
];

/// Whether `--clean` drops an existing object of kind `kind` by name (see
/// the module docs).
pub(super) fn drops_kind(kind: &ObjectKind) -> bool {
    match kind {
        ObjectKind::Function
        | ObjectKind::TableFunction
        | ObjectKind::WindowFunction
        | ObjectKind::Aggregate
        | ObjectKind::View
        | ObjectKind::MaterializedView
        | ObjectKind::Sequence
        | ObjectKind::Type => true,
        ObjectKind::Other(k) => {
            k == crate::catalog::foreign::FOREIGN_TABLE || NAMED_KINDS.iter().any(|(n, _)| n == k)
        }
        _ => false,
    }
}

/// What `DROP … CASCADE` of the objects `($1[i], $2[i])` (catalog, oid)
/// drops besides them, as PostgreSQL walks `pg_depend`: every object that
/// depends on a dropped one (or on a dropped column), and the owner of an
/// object that is internally part of one (a view, for its `_RETURN` rule),
/// closed under both.
///
/// Listed are the objects of their own, not the parts of what is dropped
/// anyway (a dropped table's indexes, keys, row type, owned sequences):
/// other tables and views, anything that no dropped object owns (a foreign
/// key of another table, a column default that uses a dropped sequence, a
/// column of another table of a dropped type, a function taking a dropped
/// row type), and the triggers, rules and policies on a dropped table,
/// which the archive may not hold. Each comes with the first of `$1`/`$2`
/// it was reached from: `(description, what it depends on, its position)`.
const DEPENDENTS: &str = "
WITH RECURSIVE roots(classid, objid, ord) AS (
    SELECT * FROM unnest($1::oid[], $2::oid[]) WITH ORDINALITY
), b(classid, objid, objsubid, root) AS (
    SELECT classid, objid, 0, ord FROM roots
  UNION
    SELECT CASE WHEN d.refclassid = b.classid AND d.refobjid = b.objid THEN d.classid ELSE d.refclassid END,
           CASE WHEN d.refclassid = b.classid AND d.refobjid = b.objid THEN d.objid ELSE d.refobjid END,
           CASE WHEN d.refclassid = b.classid AND d.refobjid = b.objid THEN d.objsubid ELSE 0 END,
           b.root
      FROM b JOIN pg_catalog.pg_depend d
        ON (d.refclassid = b.classid AND d.refobjid = b.objid
            AND (b.objsubid = 0 OR d.refobjsubid = b.objsubid)
            AND d.deptype IN ('n', 'a', 'i', 'P', 'S'))
        OR (d.classid = b.classid AND d.objid = b.objid AND d.objsubid = b.objsubid
            AND d.deptype = 'i' AND d.refobjsubid = 0)
)
SELECT pg_catalog.pg_describe_object(b.classid, b.objid, b.objsubid),
       (SELECT pg_catalog.pg_describe_object(r.classid, r.objid, 0) FROM roots r WHERE r.ord = b.root),
       b.root
  FROM b
 WHERE NOT (b.objsubid = 0 AND EXISTS (
        SELECT 1 FROM roots r WHERE r.classid = b.classid AND r.objid = b.objid))
   AND NOT (b.objsubid <> 0 AND EXISTS (
        SELECT 1 FROM b w WHERE w.classid = b.classid AND w.objid = b.objid AND w.objsubid = 0))
   AND CASE
         WHEN b.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND b.objsubid = 0
              AND (SELECT c.relkind IN ('r', 'p', 'v', 'm', 'f')
                     FROM pg_catalog.pg_class c WHERE c.oid = b.objid) THEN true
         WHEN b.classid = 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN
              (SELECT NOT t.tgisinternal FROM pg_catalog.pg_trigger t WHERE t.oid = b.objid)
         WHEN b.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN
              (SELECT r.rulename <> '_RETURN' FROM pg_catalog.pg_rewrite r WHERE r.oid = b.objid)
         WHEN b.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass THEN true
         ELSE NOT EXISTS (
              SELECT 1 FROM pg_catalog.pg_depend o
                JOIN b w ON w.classid = o.refclassid AND w.objid = o.refobjid AND w.objsubid = 0
               WHERE o.classid = b.classid AND o.objid = b.objid AND o.objsubid = b.objsubid
                 AND o.deptype IN ('a', 'i'))
       END";

/// The indexes of the tables `$1` that no constraint owns and that are not
/// a partition of another index: `(description, its table's description,
/// its name, the table's position in $1)`. They go with their table, and
/// those the archive does not declare are listed, as SQLite's are.
const INDEXES: &str = "
SELECT pg_catalog.pg_describe_object('pg_catalog.pg_class'::pg_catalog.regclass, i.indexrelid, 0),
       pg_catalog.pg_describe_object('pg_catalog.pg_class'::pg_catalog.regclass, i.indrelid, 0),
       c.relname::text, pg_catalog.array_position($1::oid[], i.indrelid)::bigint
  FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = ANY($1::oid[])
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid
                      AND k.conrelid = i.indrelid)
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhrelid = i.indexrelid)";

/// The indexes named `($1[i], $2[i])` (schema, name) that sit on a table
/// other than the tables `$3` (whose indexes go with them), as
/// [`RELATIONS`] gives relations, plus whether a constraint owns the index
/// (then it is not a plain index to drop by name). An index of the
/// archive's name takes the name its CREATE INDEX needs, as
/// `pg_restore --clean`'s `DROP INDEX IF EXISTS` finds it.
const OTHER_INDEXES: &str = "
SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::oid, c.oid,
       pg_catalog.pg_describe_object('pg_catalog.pg_class'::pg_catalog.regclass, c.oid, 0)
         || ' on ' || pg_catalog.pg_describe_object('pg_catalog.pg_class'::pg_catalog.regclass, i.indrelid, 0),
       'INDEX', n.nspname::text, c.relname::text,
       EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = c.oid
                  AND k.conrelid = i.indrelid)
  FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))
   AND NOT (i.indrelid = ANY($3::oid[]))
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhrelid = c.oid)
 ORDER BY n.nspname, c.relname";

/// One of the archive's objects in the target ([`RELATIONS`], [`TYPES`],
/// [`OTHER_INDEXES`]).
pub(super) struct Root {
    classid: u32,
    oid: u32,
    /// `TABLE`, `VIEW`, `DOMAIN`, ... for its DROP statement.
    keyword: String,
    /// Its name, quoted for SQL.
    sql_name: String,
    name: TableName,
}

impl PgTarget {
    /// What `--clean` drops ([`bru_core::Target::clean_plan`]): the
    /// archive's objects that exist by name (see the module docs), listed
    /// first, then what `DROP … CASCADE` takes with them
    /// ([`DEPENDENTS`]), each naming the first of them it depends on.
    pub(super) fn clean_list(
        &mut self,
        tables: &[TableDef],
        objects: &[ObjectDef],
    ) -> bru_core::Result<(Vec<Root>, Vec<Dropped>)> {
        let ctx = "listing what --clean drops";
        // The large objects' pieces are no relation: the large objects
        // themselves are unlinked (module `large_objects`), listed last.
        let tables: Vec<TableDef> = tables
            .iter()
            .filter(|t| !super::large_objects::is_pieces(t))
            .cloned()
            .collect();
        let tables = tables.as_slice();
        // An archive table's name is taken by any relation (the restore
        // refuses them all without --clean); a view's, materialized view's
        // or sequence's only by one of its own kind. A relation of another
        // kind with that name (a table of the user's named like an archive
        // view) is not the archive's: it is refused here, before anything
        // is dropped, rather than dropped or left to fail the CREATE later.
        let (schemas, names) = split_names(tables.iter().map(|t| &t.name));
        let kinds = vec![TABLE_RELKINDS.to_owned(); names.len()];
        let mut found = self
            .live()?
            .query(RELATIONS, &[&schemas, &names, &kinds], ctx)?;
        let relation_objects: Vec<(&ObjectDef, &str)> = objects
            .iter()
            .filter_map(|o| match &o.kind {
                ObjectKind::View => Some((o, "VIEW")),
                ObjectKind::MaterializedView => Some((o, "MATERIALIZED VIEW")),
                ObjectKind::Sequence => Some((o, "SEQUENCE")),
                ObjectKind::Other(k) if k == crate::catalog::foreign::FOREIGN_TABLE => {
                    Some((o, "FOREIGN TABLE"))
                }
                _ => None,
            })
            .collect();
        let (schemas, names) = split_names(relation_objects.iter().map(|(o, _)| &o.name));
        let kinds = vec![ANY_RELKIND.to_owned(); names.len()];
        for r in self
            .live()?
            .query(RELATIONS, &[&schemas, &names, &kinds], ctx)?
        {
            let get = |e| Error::engine(ctx, e);
            let held = TableName::new(
                Some(&r.try_get::<_, String>(4).map_err(get)?),
                &r.try_get::<_, String>(5).map_err(get)?,
            );
            let keyword: String = r.try_get(3).map_err(get)?;
            let clash = relation_objects
                .iter()
                .find(|(o, k)| target_name(&o.name) == held && *k != keyword);
            if let Some((o, _)) = clash {
                let what: String = r.try_get(2).map_err(get)?;
                return Err(Error::engine(
                    ctx,
                    format!(
                        "the target's {what} has the name of the archive's {} {}, and is not \
                         the archive's to drop; rename or drop it, then restore again",
                        o.kind, held
                    ),
                ));
            }
            found.push(r);
        }
        found.sort_by_key(|r| {
            (
                r.try_get::<_, String>(4).unwrap_or_default(),
                r.try_get::<_, String>(5).unwrap_or_default(),
            )
        });
        let types = objects
            .iter()
            .filter(|o| o.kind == ObjectKind::Type)
            .map(|o| &o.name);
        let (schemas, names) = split_names(types);
        let types = self.live()?.query(TYPES, &[&schemas, &names], ctx)?;
        let functions = objects
            .iter()
            .filter(|o| {
                matches!(
                    o.kind,
                    ObjectKind::Function
                        | ObjectKind::TableFunction
                        | ObjectKind::WindowFunction
                        | ObjectKind::Aggregate
                )
            })
            .map(|o| &o.name);
        let (schemas, names) = split_names(functions);
        let functions = self.live()?.query(FUNCTIONS, &[&schemas, &names], ctx)?;
        // The archive's indexes by name, where another table holds one.
        let mut table_oids = Vec::new();
        for r in &found {
            let get = |e| Error::engine(ctx, e);
            if r.try_get::<_, String>(3).map_err(get)? == "TABLE" {
                table_oids.push(r.try_get::<_, u32>(1).map_err(get)?);
            }
        }
        let archive_indexes: Vec<(&TableDef, String)> = tables
            .iter()
            .flat_map(|t| {
                t.indexes
                    .iter()
                    .map(move |i| (t, crate::ddl::stored_name(&i.name)))
            })
            .collect();
        let (schemas, names): (Vec<String>, Vec<String>) = archive_indexes
            .iter()
            .map(|(t, i)| (target_name(&t.name).schema.unwrap_or_default(), i.clone()))
            .unzip();
        let mut indexes = Vec::new();
        for r in self
            .live()?
            .query(OTHER_INDEXES, &[&schemas, &names, &table_oids], ctx)?
        {
            let get = |e| Error::engine(ctx, e);
            if r.try_get::<_, bool>(6).map_err(get)? {
                let what: String = r.try_get(2).map_err(get)?;
                return Err(Error::engine(
                    ctx,
                    format!(
                        "the target's {what} has the name of an index of the archive and \
                         belongs to a constraint of that table, which is not the archive's \
                         to drop; rename it, then restore again"
                    ),
                ));
            }
            indexes.push(r);
        }
        // Collations, text search objects, servers… by kind and name.
        let named: Vec<(&str, String, String)> = objects
            .iter()
            .filter(|o| o.not_carried.is_none())
            .filter_map(|o| match &o.kind {
                ObjectKind::Other(k) => {
                    NAMED_KINDS
                        .iter()
                        .find(|(n, _)| n == k)
                        .map(|(n, in_schema)| {
                            let schema = if *in_schema {
                                target_name(&o.name).schema.unwrap_or_default()
                            } else {
                                String::new()
                            };
                            (*n, schema, o.name.name.clone())
                        })
                }
                _ => None,
            })
            .collect();
        let kinds: Vec<&str> = named.iter().map(|(k, _, _)| *k).collect();
        let schemas: Vec<&str> = named.iter().map(|(_, s, _)| s.as_str()).collect();
        let names: Vec<&str> = named.iter().map(|(_, _, n)| n.as_str()).collect();
        let named = self
            .live()?
            .query(NAMED, &[&kinds, &schemas, &names], ctx)?;
        let mut roots = Vec::new();
        let mut plan = Vec::new();
        for rows in [found, types, functions, named, indexes] {
            for r in rows {
                let get = |e| Error::engine(ctx, e);
                let name = TableName::new(
                    r.try_get::<_, Option<String>>(4).map_err(get)?.as_deref(),
                    &r.try_get::<_, String>(5).map_err(get)?,
                );
                let keyword: String = r.try_get(3).map_err(get)?;
                // A routine's name is its signature, quoted by the server.
                let sql_name = if matches!(keyword.as_str(), "FUNCTION" | "PROCEDURE" | "AGGREGATE")
                {
                    format!(
                        "{}.{}",
                        ident(name.schema.as_deref().unwrap_or("public")),
                        name.name
                    )
                } else {
                    qualified(&name)
                };
                plan.push(Dropped::own(r.try_get::<_, String>(2).map_err(get)?));
                roots.push(Root {
                    classid: r.try_get(0).map_err(get)?,
                    oid: r.try_get(1).map_err(get)?,
                    keyword,
                    sql_name,
                    name,
                });
            }
        }
        if roots.is_empty() {
            plan.extend(
                self.large_objects_to_clean(objects)?
                    .into_iter()
                    .map(super::large_objects::dropped),
            );
            return Ok((roots, plan));
        }
        let classids: Vec<u32> = roots.iter().map(|r| r.classid).collect();
        let oids: Vec<u32> = roots.iter().map(|r| r.oid).collect();
        let mut dependents = Vec::new();
        for r in self.live()?.query(DEPENDENTS, &[&classids, &oids], ctx)? {
            let get = |e| Error::engine(ctx, e);
            let object: String = r.try_get(0).map_err(get)?;
            let on: String = r.try_get(1).map_err(get)?;
            let position: i64 = r.try_get(2).map_err(get)?;
            dependents.push((position, object, on));
        }
        let table_oids: Vec<u32> = roots
            .iter()
            .filter(|r| r.keyword == "TABLE")
            .map(|r| r.oid)
            .collect();
        let table_names: Vec<&TableName> = roots
            .iter()
            .filter(|r| r.keyword == "TABLE")
            .map(|r| &r.name)
            .collect();
        for r in self.live()?.query(INDEXES, &[&table_oids], ctx)? {
            let get = |e| Error::engine(ctx, e);
            let object: String = r.try_get(0).map_err(get)?;
            let on: String = r.try_get(1).map_err(get)?;
            let index: String = r.try_get(2).map_err(get)?;
            let at: i64 = r.try_get(3).map_err(get)?;
            let table = usize::try_from(at - 1)
                .ok()
                .and_then(|i| table_names.get(i));
            let declared = tables.iter().any(|t| {
                Some(&&target_name(&t.name)) == table && t.indexes.iter().any(|i| i.name == index)
            });
            if !declared {
                let position = roots
                    .iter()
                    .position(|r| Some(&&r.name) == table)
                    .map_or(i64::MAX, |p| p as i64 + 1);
                dependents.push((position, object, on));
            }
        }
        // An object reached from several of the roots depends on the first.
        dependents.sort();
        let mut seen = HashSet::new();
        for (_, object, on) in dependents {
            if seen.insert(object.clone()) {
                plan.push(Dropped::dependent(object, on));
            }
        }
        plan.extend(
            self.large_objects_to_clean(objects)?
                .into_iter()
                .map(super::large_objects::dropped),
        );
        Ok((roots, plan))
    }

    /// Drops what [`PgTarget::clean_list`] lists, in one transaction: the
    /// tables are locked first, so that no new dependent can appear, then
    /// the list is made again and must still be `plan`
    /// ([`bru_core::Target::clean`]).
    pub(super) fn clean_drop(
        &mut self,
        tables: &[TableDef],
        objects: &[ObjectDef],
        plan: &[Dropped],
    ) -> bru_core::Result<()> {
        let ctx = "dropping the archive's objects (--clean)";
        self.live()?.batch("BEGIN", ctx)?;
        let result = self.clean_in_transaction(tables, objects, plan, ctx);
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self.live()?.batch(end, ctx);
        result.and(ended)
    }

    fn clean_in_transaction(
        &mut self,
        tables: &[TableDef],
        objects: &[ObjectDef],
        plan: &[Dropped],
        ctx: &str,
    ) -> bru_core::Result<()> {
        let (roots, _) = self.clean_list(tables, objects)?;
        let locked: Vec<&str> = roots
            .iter()
            .filter(|r| r.keyword == "TABLE")
            .map(|r| r.sql_name.as_str())
            .collect();
        if !locked.is_empty() {
            self.live()?.batch(
                &format!("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE", locked.join(", ")),
                ctx,
            )?;
        }
        let (roots, now) = self.clean_list(tables, objects)?;
        if now != plan {
            return Err(Error::engine(
                ctx,
                "the target changed since the drops were listed; run the restore again",
            ));
        }
        let mut sql: Vec<String> = roots
            .iter()
            .map(|r| format!("DROP {} IF EXISTS {} CASCADE", r.keyword, r.sql_name))
            .collect();
        let unlinked = self.large_objects_to_clean(objects)?;
        if !unlinked.is_empty() {
            sql.push(super::large_objects::unlink(&unlinked));
        }
        if sql.is_empty() {
            return Ok(());
        }
        self.live()?.batch(&sql.join(";\n"), ctx)
    }
}

/// `(schemas, names)` of `names` where they land in the target.
fn split_names<'a>(names: impl Iterator<Item = &'a TableName>) -> (Vec<String>, Vec<String>) {
    names
        .map(|n| {
            let t = target_name(n);
            (t.schema.unwrap_or_default(), t.name)
        })
        .unzip()
}
