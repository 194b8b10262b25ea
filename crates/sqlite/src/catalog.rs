//! Reading a SQLite database's catalog into bru's neutral model.
//!
//! Columns, keys, indexes and foreign keys come from SQLite's own PRAGMAs
//! (`table_xinfo`, `index_list`, `index_xinfo`, `foreign_key_list`), which
//! are the authority on what SQLite enforces. What they leave out (CHECK
//! constraints, generated expressions, AUTOINCREMENT, DEFERRABLE, constraint
//! names, WITHOUT ROWID, STRICT) is read from the stored `CREATE` text by
//! [`crate::createsql`]. Each table also keeps that text verbatim in
//! `TableDef::native`, so a SQLite → SQLite restore replays it exactly.
//!
//! What is read and how it is represented:
//! - every table in `sqlite_schema` except SQLite's internal `sqlite_*`
//!   tables (`sqlite_sequence`, `sqlite_stat1`, …; statistics can be rebuilt
//!   with ANALYZE). `sqlite_sequence` values go into the AUTOINCREMENT
//!   column's `Identity::last_value`;
//! - each table's `estimated_rows`, a cheap estimate for planning only
//!   (the rowid span; see the `rowid_ranges` module);
//! - an `INTEGER PRIMARY KEY` column (a rowid alias, which SQLite fills with
//!   max+1 when no value is given) gets identity kind `by_default`; an
//!   AUTOINCREMENT column gets kind `autoincrement`;
//! - generated columns (table_xinfo `hidden` 2 = virtual, 3 = stored) have
//!   `Column::generated` set; they are read like other columns;
//! - indexes SQLite creates itself for PRIMARY KEY and UNIQUE constraints
//!   (`sqlite_autoindex_*`) are not indexes in the model: a UNIQUE one
//!   becomes a `UniqueConstraint`;
//! - views and triggers become [`ObjectDef`]s with their `CREATE` text,
//!   in creation order;
//! - virtual tables: see the `vtab` module for which ones bru can read
//!   back. An FTS5/FTS4/FTS3 table with its own content and an R-tree
//!   become a `TableDef` whose `native` is the `CREATE VIRTUAL TABLE` text,
//!   with the property `sqlite.virtual_module`, so their rows go through the
//!   ordinary pipeline. Their rowid must round-trip (applications join on
//!   it, and an external index may point at it): an R-tree's first column
//!   already is its rowid; an FTS table gets a first column holding the
//!   rowid, named by the property `sqlite.rowid_column`, which the source
//!   selects and the target inserts as the rowid (an FTS4 `languageid=`
//!   column is hidden but data, so it is carried too). That column is the table's
//!   primary key, so another engine gets a plain keyed table. An object
//!   `full-text index` / `R-tree index` follows each one: SQLite checks the
//!   rebuilt index with it, another engine lists it as skipped, so the loss
//!   of the index is never silent.
//!   An FTS table over an external content table (no rows of its own) and a
//!   contentless one (whose index cannot be read back) stay an `ObjectDef`
//!   of kind [`ObjectKind::VirtualTable`] with their DDL, as does any other
//!   module; the first is followed by a `full-text index` object that
//!   rebuilds it from the restored content table, the second is listed as
//!   skipped by the SQLite target. Shadow tables (`<name>_content`, `_data`,
//!   `_idx`, `_docsize`, `_config`, `_segments`, `_segdir`, `_stat`,
//!   `_node`, `_rowid`, `_parent`) are never read: the module recreates
//!   them.

use crate::error::sql_err;
use crate::ENGINE_NAME;
use std::collections::HashMap;

use bru_core::{
    Catalog, Column, Error, FkAction, ForeignKey, Identity, IdentityKind, IndexDef, ObjectDef,
    ObjectKind, PrimaryKey, Result, TableDef, TableName, UniqueConstraint,
};
use rusqlite::{Connection, OptionalExtension};

use crate::createsql::{parse_create_index, parse_create_table, TableSql};
use crate::rowid_ranges::estimate_rows;
use crate::sqltext::tokenize;
use crate::types::column_type;
use crate::vtab::{
    integrity_check_statement, language_id_column, rebuild_statement, FtsContent, VirtualTable,
    MODULE_PROPERTY, ROWID_COLUMN_PROPERTY,
};

/// Suffixes of the shadow tables of SQLite's bundled virtual table modules
/// (FTS3/4, FTS5, R-tree).
const SHADOW_SUFFIXES: [&str; 11] = [
    "content", "data", "idx", "docsize", "config", "segments", "segdir", "stat", "node", "rowid",
    "parent",
];

/// One row of `sqlite_schema`.
struct SchemaEntry {
    kind: String,
    name: String,
    tbl_name: String,
    sql: Option<String>,
}

fn engine_err(context: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> Error {
    let context = context.into();
    move |e| sql_err(context, e)
}

/// Reads the whole catalog. Fails with [`Error::Engine`] if a PRAGMA or
/// schema query fails.
pub fn read_catalog(conn: &Connection) -> Result<Catalog> {
    let entries = schema_entries(conn)?;
    let sequences = sqlite_sequence(conn)?;
    let virtual_tables: Vec<&str> = entries
        .iter()
        .filter(|e| e.kind == "table" && e.sql.as_deref().is_some_and(is_virtual_table_sql))
        .map(|e| e.name.as_str())
        .collect();
    let is_shadow = |name: &str| {
        virtual_tables.iter().any(|vt| {
            name.get(..vt.len())
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case(vt))
                && name
                    .get(vt.len()..)
                    .and_then(|rest| rest.strip_prefix('_'))
                    .is_some_and(|suffix| {
                        SHADOW_SUFFIXES
                            .iter()
                            .any(|s| suffix.eq_ignore_ascii_case(s))
                    })
        })
    };

    let mut catalog = Catalog::default();
    for e in &entries {
        let Some(sql) = e.sql.as_deref() else {
            continue;
        };
        match e.kind.as_str() {
            "table" if is_internal(&e.name) || is_shadow(&e.name) => {}
            "table" if is_virtual_table_sql(sql) => {
                virtual_table(conn, &e.name, sql, &mut catalog)?
            }
            "table" => catalog
                .tables
                .push(table_def(conn, &e.name, sql, &entries, &sequences)?),
            "view" => catalog.objects.push(ObjectDef::new(
                ObjectKind::View,
                TableName::bare(&e.name),
                ENGINE_NAME,
                sql,
            )),
            "trigger" => catalog.objects.push(ObjectDef {
                table: Some(TableName::bare(&e.tbl_name)),
                ..ObjectDef::new(
                    ObjectKind::Trigger,
                    TableName::bare(&e.name),
                    ENGINE_NAME,
                    sql,
                )
            }),
            _ => {}
        }
    }
    Ok(catalog)
}

/// Adds the virtual table `name` to `catalog`: as a table whose rows are
/// carried when bru can read them back (see the `vtab` module), else as a
/// DDL-only object. Either way an object follows that makes the restore
/// check or rebuild the table's index, so a target that cannot build such
/// an index lists it as skipped.
fn virtual_table(conn: &Connection, name: &str, sql: &str, catalog: &mut Catalog) -> Result<()> {
    let parsed = VirtualTable::parse(sql).unwrap_or(VirtualTable::Other);
    let object = |kind: ObjectKind, ddl: String, table: Option<TableName>| ObjectDef {
        table,
        ..ObjectDef::new(kind, TableName::bare(name), ENGINE_NAME, ddl)
    };
    if let Some(module) = parsed.carried_module() {
        if let Some(def) = virtual_table_def(conn, name, sql, module)? {
            catalog.tables.push(def);
            catalog.objects.push(match &parsed {
                VirtualTable::Rtree { .. } => object(
                    ObjectKind::RTreeIndex,
                    format!("SELECT rtreecheck({})", sql_string(name)),
                    Some(TableName::bare(name)),
                ),
                _ => object(
                    ObjectKind::FullTextIndex,
                    integrity_check_statement(name),
                    Some(TableName::bare(name)),
                ),
            });
            return Ok(());
        }
    }
    catalog
        .objects
        .push(object(ObjectKind::VirtualTable, sql.to_owned(), None));
    if let VirtualTable::Fts {
        content: FtsContent::External(content),
        ..
    } = &parsed
    {
        // Objects are created after every table's rows, so the content
        // table is loaded by the time this runs.
        catalog.objects.push(object(
            ObjectKind::FullTextIndex,
            rebuild_statement(name),
            Some(TableName::bare(content)),
        ));
    }
    Ok(())
}

/// `s` as a SQL string literal.
fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The table for a virtual table of `module` whose rows bru reads back:
/// its visible columns (not FTS's hidden ones), and for an FTS table a
/// first column holding the rowid, under the first of `rowid`, `_rowid_`,
/// `oid` that no column takes (an R-tree's first column already is its
/// rowid). `None` when all three names are taken, so the rowid cannot be
/// read as data; the table then stays a DDL-only object.
fn virtual_table_def(
    conn: &Connection,
    name: &str,
    sql: &str,
    module: &str,
) -> Result<Option<TableDef>> {
    // FTS's other hidden columns (the table-named one, `rank`, `docid`)
    // are not data; an FTS4 language id is.
    let language_id = language_id_column(sql);
    let xcols: Vec<XColumn> = table_columns(conn, name)?
        .into_iter()
        .filter(|c| {
            c.hidden == 0
                || language_id
                    .as_deref()
                    .is_some_and(|l| l.eq_ignore_ascii_case(&c.name))
        })
        .collect();
    let mut columns: Vec<Column> = xcols
        .iter()
        .map(|c| Column {
            name: c.name.clone(),
            ty: column_type(&c.declared),
            native_type: c.declared.clone(),
            nullable: true,
            default: None,
            identity: None,
            generated: None,
        })
        .collect();
    let mut properties = std::collections::BTreeMap::new();
    properties.insert(MODULE_PROPERTY.to_owned(), module.to_owned());
    let key = if module.starts_with("rtree") {
        let Some(id) = columns.first_mut() else {
            return Ok(None);
        };
        id.nullable = false;
        id.name.clone()
    } else {
        let free = ["rowid", "_rowid_", "oid"]
            .into_iter()
            .find(|r| !columns.iter().any(|c| c.name.eq_ignore_ascii_case(r)));
        let Some(rowid) = free else {
            return Ok(None);
        };
        columns.insert(
            0,
            Column::new(rowid, bru_core::ColumnType::Int64, "INTEGER").not_null(),
        );
        properties.insert(ROWID_COLUMN_PROPERTY.to_owned(), rowid.to_owned());
        rowid.to_owned()
    };
    let mut def = TableDef {
        primary_key: Some(PrimaryKey {
            name: None,
            columns: vec![key],
        }),
        properties,
        ..TableDef::new(TableName::bare(name), columns).with_native(ENGINE_NAME, sql)
    };
    def.estimated_rows = Some(estimate_rows(conn, &def)?);
    Ok(Some(def))
}

/// SQLite's own tables, which it creates and maintains itself.
pub fn is_internal(name: &str) -> bool {
    name.get(..7)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("sqlite_"))
}

fn is_virtual_table_sql(sql: &str) -> bool {
    let tokens = tokenize(sql);
    tokens.len() >= 3
        && tokens[0].is_word(sql, "CREATE")
        && tokens[1].is_word(sql, "VIRTUAL")
        && tokens[2].is_word(sql, "TABLE")
}

fn schema_entries(conn: &Connection) -> Result<Vec<SchemaEntry>> {
    let ctx = "reading sqlite_schema";
    let mut stmt = conn
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid")
        .map_err(engine_err(ctx))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(SchemaEntry {
                kind: r.get(0)?,
                name: r.get(1)?,
                tbl_name: r.get(2)?,
                sql: r.get(3)?,
            })
        })
        .map_err(engine_err(ctx))?;
    rows.collect::<rusqlite::Result<_>>()
        .map_err(engine_err(ctx))
}

/// `sqlite_sequence` as a map from lowercased table name to its last value;
/// empty if no table uses AUTOINCREMENT.
fn sqlite_sequence(conn: &Connection) -> Result<HashMap<String, i64>> {
    let ctx = "reading sqlite_sequence";
    let exists = conn
        .query_row(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_sequence'",
            [],
            |_| Ok(()),
        )
        .optional()
        .map_err(engine_err(ctx))?
        .is_some();
    if !exists {
        return Ok(HashMap::new());
    }
    let mut stmt = conn
        .prepare("SELECT name, seq FROM sqlite_sequence")
        .map_err(engine_err(ctx))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?.to_lowercase(), r.get::<_, i64>(1)?))
        })
        .map_err(engine_err(ctx))?;
    rows.collect::<rusqlite::Result<_>>()
        .map_err(engine_err(ctx))
}

/// One row of `PRAGMA table_xinfo`.
struct XColumn {
    name: String,
    declared: String,
    notnull: bool,
    default: Option<String>,
    pk: i64,
    hidden: i64,
}

fn table_columns(conn: &Connection, table: &str) -> Result<Vec<XColumn>> {
    let ctx = format!("reading the columns of table \"{table}\"");
    let mut stmt = conn
        .prepare(
            "SELECT name, type, \"notnull\", dflt_value, pk, hidden \
             FROM pragma_table_xinfo(?1) ORDER BY cid",
        )
        .map_err(engine_err(&ctx))?;
    let rows = stmt
        .query_map([table], |r| {
            Ok(XColumn {
                name: r.get(0)?,
                declared: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                notnull: r.get(2)?,
                default: r.get(3)?,
                pk: r.get(4)?,
                hidden: r.get(5)?,
            })
        })
        .map_err(engine_err(&ctx))?;
    rows.collect::<rusqlite::Result<_>>()
        .map_err(engine_err(ctx))
}

fn table_def(
    conn: &Connection,
    name: &str,
    sql: &str,
    entries: &[SchemaEntry],
    sequences: &HashMap<String, i64>,
) -> Result<TableDef> {
    let parsed = parse_create_table(sql);
    let xcols = table_columns(conn, name)?;
    let mut pk: Vec<(i64, String)> = xcols
        .iter()
        .filter(|c| c.pk > 0)
        .map(|c| (c.pk, c.name.clone()))
        .collect();
    pk.sort();
    let pk_columns: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();
    let rowid_alias = (!parsed.without_rowid && pk_columns.len() == 1)
        .then(|| xcols.iter().find(|c| c.name == pk_columns[0]))
        .flatten()
        .filter(|c| {
            c.declared.eq_ignore_ascii_case("INTEGER")
                && !parsed.column(&c.name).is_some_and(|p| p.primary_key_desc)
        })
        .map(|c| c.name.clone());

    let columns = xcols
        .iter()
        .filter(|c| c.hidden != 1)
        .map(|c| {
            let clauses = parsed.column(&c.name);
            let is_alias = rowid_alias.as_deref() == Some(c.name.as_str());
            let identity = if clauses.is_some_and(|p| p.autoincrement) {
                Some(Identity {
                    kind: IdentityKind::Autoincrement,
                    start: None,
                    increment: None,
                    last_value: sequences.get(&name.to_lowercase()).copied(),
                })
            } else if is_alias {
                Some(Identity {
                    kind: IdentityKind::ByDefault,
                    start: None,
                    increment: None,
                    last_value: None,
                })
            } else {
                None
            };
            let generated = if c.hidden == 2 || c.hidden == 3 {
                Some(
                    clauses
                        .and_then(|p| p.generated.clone())
                        .unwrap_or(bru_core::Generated {
                            expr: String::new(),
                            stored: c.hidden == 3,
                        }),
                )
            } else {
                None
            };
            let in_pk_without_rowid = parsed.without_rowid && c.pk > 0;
            Column {
                name: c.name.clone(),
                ty: column_type(&c.declared),
                native_type: c.declared.clone(),
                nullable: !c.notnull && !is_alias && !in_pk_without_rowid,
                default: c.default.clone(),
                identity,
                generated,
            }
        })
        .collect();

    let (uniques, indexes) = indexes(conn, name, &parsed, entries)?;
    let mut properties = std::collections::BTreeMap::new();
    if parsed.without_rowid {
        properties.insert("sqlite.without_rowid".to_owned(), "true".to_owned());
    }
    if parsed.strict {
        properties.insert("sqlite.strict".to_owned(), "true".to_owned());
    }
    let mut def = TableDef {
        primary_key: (!pk_columns.is_empty()).then(|| PrimaryKey {
            name: parsed.primary_key_name.clone(),
            columns: pk_columns,
        }),
        uniques,
        indexes,
        foreign_keys: foreign_keys(conn, name, &parsed)?,
        checks: parsed.checks.clone(),
        properties,
        ..TableDef::new(TableName::bare(name), columns).with_native(ENGINE_NAME, sql)
    };
    def.estimated_rows = Some(estimate_rows(conn, &def)?);
    Ok(def)
}

/// The table's UNIQUE constraints (from SQLite's auto-indexes) and its
/// explicitly created indexes, the latter in creation order.
fn indexes(
    conn: &Connection,
    table: &str,
    parsed: &TableSql,
    entries: &[SchemaEntry],
) -> Result<(Vec<UniqueConstraint>, Vec<IndexDef>)> {
    let ctx = format!("reading the indexes of table \"{table}\"");
    let list: Vec<(String, bool, String, bool)> = {
        let mut stmt = conn
            .prepare("SELECT name, \"unique\", origin, partial FROM pragma_index_list(?1)")
            .map_err(engine_err(&ctx))?;
        let rows = stmt
            .query_map([table], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map_err(engine_err(&ctx))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(engine_err(&ctx))?
    };
    let mut key_stmt = conn
        .prepare("SELECT cid, name FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno")
        .map_err(engine_err(&ctx))?;
    let mut uniques = Vec::new();
    let mut indexes = Vec::new();
    for (index_name, unique, origin, _partial) in list {
        let keys: Vec<(i64, Option<String>)> = key_stmt
            .query_map([&index_name], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(engine_err(&ctx))?
            .collect::<rusqlite::Result<_>>()
            .map_err(engine_err(&ctx))?;
        match origin.as_str() {
            "pk" => {}
            "u" => {
                let columns: Vec<String> = keys.into_iter().filter_map(|(_, n)| n).collect();
                let name = parsed
                    .unique_names
                    .iter()
                    .find(|(cols, _)| same_names(cols, &columns))
                    .map(|(_, n)| n.clone());
                // Auto-indexes are numbered in declaration order.
                let number = index_name
                    .rsplit('_')
                    .next()
                    .and_then(|n| n.parse::<u64>().ok());
                uniques.push((number, UniqueConstraint { name, columns }));
            }
            _ => {
                let position = entries
                    .iter()
                    .position(|e| e.kind == "index" && e.name == index_name);
                let sql = position.and_then(|p| entries[p].sql.clone());
                let parsed_index = sql.as_deref().map(parse_create_index).unwrap_or_default();
                let columns = keys
                    .into_iter()
                    .enumerate()
                    .map(|(i, (_, n))| match n {
                        Some(n) => n,
                        None => parsed_index.entries.get(i).cloned().unwrap_or_default(),
                    })
                    .collect();
                indexes.push((
                    position,
                    IndexDef {
                        name: index_name,
                        columns,
                        unique,
                        predicate: parsed_index.predicate,
                        method: None,
                        native_ddl: sql,
                    },
                ));
            }
        }
    }
    indexes.sort_by_key(|(p, _)| *p);
    uniques.sort_by_key(|(n, _)| *n);
    Ok((
        uniques.into_iter().map(|(_, u)| u).collect(),
        indexes.into_iter().map(|(_, i)| i).collect(),
    ))
}

fn same_names(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

fn fk_action(s: &str) -> FkAction {
    match s.to_ascii_uppercase().as_str() {
        "RESTRICT" => FkAction::Restrict,
        "CASCADE" => FkAction::Cascade,
        "SET NULL" => FkAction::SetNull,
        "SET DEFAULT" => FkAction::SetDefault,
        _ => FkAction::NoAction,
    }
}

fn foreign_keys(conn: &Connection, table: &str, parsed: &TableSql) -> Result<Vec<ForeignKey>> {
    let ctx = format!("reading the foreign keys of table \"{table}\"");
    type FkRow = (i64, String, String, Option<String>, String, String);
    let rows: Vec<FkRow> = {
        let mut stmt = conn
            .prepare(
                "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete \
                 FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
            )
            .map_err(engine_err(&ctx))?;
        let rows = stmt
            .query_map([table], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .map_err(engine_err(&ctx))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(engine_err(&ctx))?
    };
    let mut groups: Vec<Vec<FkRow>> = Vec::new();
    for row in rows {
        match groups.last_mut() {
            Some(g) if g[0].0 == row.0 => g.push(row),
            _ => groups.push(vec![row]),
        }
    }
    let mut used = vec![false; parsed.foreign_keys.len()];
    let mut fks = Vec::new();
    for group in groups {
        let (_, ref_table, _, _, on_update, on_delete) = group[0].clone();
        let columns: Vec<String> = group.iter().map(|r| r.2.clone()).collect();
        let mut ref_columns: Vec<String> = group.iter().filter_map(|r| r.3.clone()).collect();
        if ref_columns.len() != columns.len() {
            // `REFERENCES parent` without columns means the parent's key.
            ref_columns = primary_key_of(conn, &ref_table)?;
        }
        let matched = parsed.foreign_keys.iter().enumerate().position(|(i, f)| {
            !used[i]
                && same_names(&f.columns, &columns)
                && f.ref_table.eq_ignore_ascii_case(&ref_table)
        });
        if let Some(i) = matched {
            used[i] = true;
        }
        let clause = matched.map(|i| &parsed.foreign_keys[i]);
        fks.push((
            matched.unwrap_or(usize::MAX),
            ForeignKey {
                name: clause.and_then(|c| c.name.clone()),
                columns,
                ref_table: TableName::bare(&ref_table),
                ref_columns,
                on_delete: fk_action(&on_delete),
                on_update: fk_action(&on_update),
                deferrable: clause.is_some_and(|c| c.deferrable),
                initially_deferred: clause.is_some_and(|c| c.initially_deferred),
            },
        ));
    }
    // Declaration order, as written in CREATE TABLE.
    fks.sort_by_key(|(i, _)| *i);
    Ok(fks.into_iter().map(|(_, f)| f).collect())
}

fn primary_key_of(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let ctx = format!("reading the primary key of table \"{table}\"");
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")
        .map_err(engine_err(&ctx))?;
    let rows = stmt
        .query_map([table], |r| r.get(0))
        .map_err(engine_err(&ctx))?;
    rows.collect::<rusqlite::Result<_>>()
        .map_err(engine_err(ctx))
}
