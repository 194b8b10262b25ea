//! The schema read from the `sys.*` catalog views into the neutral model.
//!
//! One query per kind of fact for the whole database (columns, identity,
//! computed columns, defaults, indexes and keys, foreign keys, checks),
//! grouped by `object_id`, so a database of thousands of tables costs a
//! dozen round trips, not thousands. What the neutral model has no field
//! for goes into [`TableDef::properties`] under the keys of
//! [`crate::props`]. Every text the server gives (defaults, checks,
//! computed columns, filter predicates, module definitions) is kept as the
//! server wrote it; a restore checks it before it runs it.
//!
//! Views, procedures, functions and triggers are their
//! `sys.sql_modules.definition`, in dependency order (from
//! `sys.sql_expression_dependencies`, else creation order). What bru does
//! not carry (synonyms, alias and table types, XML schema collections,
//! partition schemes, full-text catalogs, database triggers, assemblies,
//! encrypted modules, XML/spatial/columnstore indexes, …) is listed by
//! name as not carried, so a restore reports it as skipped.
//!
//! The cells are read by their TDS type, whichever integer width or string
//! type a server returns for a catalog column (SQL Server and Babelfish
//! differ there), so a catalog query never depends on tiberius's typed
//! getters, which panic on a mismatch.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bru_core::{
    Catalog, CheckConstraint, Column, Error, FkAction, ForeignKey, Generated, Identity,
    IdentityKind, IndexDef, ObjectDef, ObjectKind, PrimaryKey, Result, Section, TableDef,
    TableName, UniqueConstraint,
};
use tiberius::{ColumnData, Row};

use crate::conn::{quote_ident, Conn};
use crate::props::{self, key, On};
use crate::types::{from_sys, SysType};
use crate::ENGINE_NAME;

/// Schemas every database has, which a restore never creates.
const BUILTIN_SCHEMAS: &[&str] = &[
    "dbo",
    "guest",
    "sys",
    "INFORMATION_SCHEMA",
    "db_owner",
    "db_accessadmin",
    "db_securityadmin",
    "db_ddladmin",
    "db_backupoperator",
    "db_datareader",
    "db_datawriter",
    "db_denydatareader",
    "db_denydatawriter",
];

/// The user tables of the database.
const USER_TABLES: &str = "SELECT t.object_id FROM sys.tables t \
     JOIN sys.schemas s ON s.schema_id = t.schema_id \
     WHERE t.is_ms_shipped = 0 AND s.name NOT IN (N'sys', N'INFORMATION_SCHEMA')";

/// One catalog row, read by position whatever the cell's TDS type.
pub(crate) struct Cells(Vec<ColumnData<'static>>);

impl Cells {
    fn new(row: Row) -> Cells {
        Cells(row.into_iter().collect())
    }

    /// An integer (any width, bit or decimal with no fraction); `None`
    /// for NULL.
    pub(crate) fn int(&self, i: usize) -> Option<i64> {
        match self.0.get(i)? {
            ColumnData::U8(v) => v.map(i64::from),
            ColumnData::I16(v) => v.map(i64::from),
            ColumnData::I32(v) => v.map(i64::from),
            ColumnData::I64(v) => *v,
            ColumnData::Bit(v) => v.map(i64::from),
            ColumnData::Numeric(v) => v.and_then(|n| {
                (n.scale() == 0)
                    .then(|| i64::try_from(n.value()).ok())
                    .flatten()
            }),
            ColumnData::String(v) => v.as_ref().and_then(|s| s.trim().parse().ok()),
            _ => None,
        }
    }

    pub(crate) fn flag(&self, i: usize) -> bool {
        self.int(i).unwrap_or(0) != 0
    }

    /// A string; `None` for NULL.
    pub(crate) fn text(&self, i: usize) -> Option<String> {
        match self.0.get(i)? {
            ColumnData::String(v) => v.as_ref().map(|s| s.to_string()),
            _ => None,
        }
    }

    pub(crate) fn string(&self, i: usize) -> String {
        self.text(i).unwrap_or_default()
    }
}

/// Runs a catalog query and reads its rows.
pub(crate) fn rows(conn: &mut Conn, what: &str, sql: &str) -> Result<Vec<Cells>> {
    let rows = conn.query(&format!("reading {what}"), sql, &[])?;
    Ok(rows.into_iter().map(Cells::new).collect())
}

/// Like [`rows`], for a catalog view a server may not have (Babelfish
/// lacks some): `None` when the view does not exist there, so there is
/// nothing of that kind to list.
fn rows_if_present(conn: &mut Conn, view: &str, sql: &str) -> Result<Option<Vec<Cells>>> {
    let exists = rows(
        conn,
        "the catalog views",
        &format!(
            "SELECT COUNT(*) FROM sys.all_objects WHERE schema_id = SCHEMA_ID(N'sys') AND name = N'{view}'"
        ),
    )?;
    if exists.first().and_then(|r| r.int(0)).unwrap_or(0) == 0 {
        return Ok(None);
    }
    rows(conn, view, sql).map(Some)
}

/// A table being assembled.
struct Building {
    def: TableDef,
    /// column_id → position in `def.columns`.
    columns: HashMap<i64, usize>,
}

impl Building {
    fn column(&mut self, id: i64) -> Option<&mut Column> {
        let i = *self.columns.get(&id)?;
        self.def.columns.get_mut(i)
    }

    fn column_name(&self, id: i64) -> Option<String> {
        self.columns
            .get(&id)
            .map(|&i| self.def.columns[i].name.clone())
    }

    fn set(&mut self, k: String, v: impl Into<String>) {
        self.def.properties.insert(k, v.into());
    }

    /// Sets `on`'s property `prop` to `true` for each `(cell, prop)` whose
    /// flag is set in `r`.
    fn set_flags(&mut self, r: &Cells, on: On, flags: &[(usize, &str)]) {
        for &(cell, prop) in flags {
            if r.flag(cell) {
                self.set(key(on, prop), "true");
            }
        }
    }
}

/// Reads the whole catalog.
pub fn read(conn: &mut Conn, seeds: &Seeds) -> Result<Catalog> {
    let mut objects = schemas(conn)?;
    let mut tables = tables(conn, &mut objects)?;
    columns(conn, &mut tables)?;
    identities(conn, &mut tables, seeds)?;
    computed(conn, &mut tables)?;
    defaults(conn, &mut tables)?;
    indexes(conn, &mut tables, &mut objects)?;
    foreign_keys(conn, &mut tables)?;
    checks(conn, &mut tables)?;
    estimates(conn, &mut tables)?;
    objects.extend(sequences(conn, &tables)?);
    let table_names: HashMap<i64, TableName> = tables
        .iter()
        .map(|(id, b)| (*id, b.def.name.clone()))
        .collect();
    objects.extend(modules(conn, &table_names)?);
    objects.extend(not_carried(conn)?);
    let mut catalog = Catalog {
        tables: tables.into_values().map(|b| b.def).collect(),
        objects,
    };
    catalog.tables.sort_by(|a, b| a.name.cmp(&b.name));
    catalog.mark_not_carried_dependents();
    Ok(catalog)
}

fn schemas(conn: &mut Conn) -> Result<Vec<ObjectDef>> {
    let rows = rows(
        conn,
        "the schemas",
        "SELECT name FROM sys.schemas ORDER BY name",
    )?;
    Ok(rows
        .iter()
        .map(|r| r.string(0))
        .filter(|n| !BUILTIN_SCHEMAS.iter().any(|b| b.eq_ignore_ascii_case(n)))
        .map(|n| {
            ObjectDef::new(
                ObjectKind::Schema,
                TableName::bare(&n),
                ENGINE_NAME,
                format!("CREATE SCHEMA {}", quote_ident(&n)),
            )
        })
        .collect())
}

fn tables(conn: &mut Conn, options: &mut Vec<ObjectDef>) -> Result<BTreeMap<i64, Building>> {
    // temporal_type (SQL Server 2016) and is_memory_optimized (2014) are
    // read only where sys.tables has them.
    let has = |conn: &mut Conn, column: &str| -> Result<bool> {
        let n = rows(
            conn,
            "the columns of sys.tables",
            &format!(
                "SELECT COUNT(*) FROM sys.all_columns WHERE object_id = OBJECT_ID(N'sys.tables') AND name = N'{column}'"
            ),
        )?;
        Ok(n.first().and_then(|r| r.int(0)).unwrap_or(0) > 0)
    };
    let temporal = if has(conn, "temporal_type")? {
        "CAST(t.temporal_type AS int)"
    } else {
        "0"
    };
    let memory = if has(conn, "is_memory_optimized")? {
        "CAST(t.is_memory_optimized AS int)"
    } else {
        "0"
    };
    let rows = rows(
        conn,
        "the tables",
        &format!(
            "SELECT t.object_id, s.name, t.name, {temporal}, {memory} FROM sys.tables t \
             JOIN sys.schemas s ON s.schema_id = t.schema_id \
             WHERE t.is_ms_shipped = 0 AND s.name NOT IN (N'sys', N'INFORMATION_SCHEMA')"
        ),
    )?;
    let mut out = BTreeMap::new();
    for r in rows {
        let Some(id) = r.int(0) else { continue };
        let name = TableName::new(Some(&r.string(1)), &r.string(2));
        let option = |why: &str| {
            let mut o = ObjectDef::not_carried(
                ObjectKind::Other("table option".into()),
                name.clone(),
                ENGINE_NAME,
                why,
            );
            o.table = Some(name.clone());
            o
        };
        match r.int(3) {
            Some(2) => options.push(option(
                "the table is system-versioned (temporal); the restore creates an ordinary table and its history table as another",
            )),
            Some(1) => options.push(option(
                "the table is the history table of a system-versioned table; the restore creates it as an ordinary table",
            )),
            _ => {}
        }
        if r.flag(4) {
            options.push(option(
                "the table is memory-optimized; the restore creates it on disk",
            ));
        }
        let mut def = TableDef::new(name, Vec::new());
        // What makes the table SQL Server's for the target and the trust
        // checker, whatever else it has (a heap without keys has no other
        // `mssql.` property).
        def.properties
            .insert(props::TABLE_MARKER.into(), "true".into());
        out.insert(
            id,
            Building {
                def,
                columns: HashMap::new(),
            },
        );
    }
    Ok(out)
}

fn columns(conn: &mut Conn, tables: &mut BTreeMap<i64, Building>) -> Result<()> {
    let collation = rows(
        conn,
        "the database collation",
        // sys.databases, not DATABASEPROPERTYEX, which Babelfish answers
        // with a collation its columns do not have.
        "SELECT CAST(collation_name AS nvarchar(128)) FROM sys.databases WHERE name = DB_NAME()",
    )?
    .first()
    .and_then(|r| r.text(0))
    .unwrap_or_default();
    let rows = rows(
        conn,
        "the columns",
        &format!(
            "SELECT c.object_id, c.column_id, c.name, ty.name, ty.is_user_defined, \
             ty.is_table_type, ts.name, bt.name, c.max_length, c.precision, c.scale, \
             c.is_nullable, c.collation_name, c.is_sparse, c.is_rowguidcol, ty.is_assembly_type \
             FROM sys.columns c \
             JOIN sys.types ty ON ty.user_type_id = c.user_type_id \
             LEFT JOIN sys.schemas ts ON ts.schema_id = ty.schema_id \
             LEFT JOIN sys.types bt ON bt.user_type_id = c.system_type_id \
             WHERE c.object_id IN ({USER_TABLES}) \
             ORDER BY c.object_id, c.column_id"
        ),
    )?;
    for r in rows {
        let (Some(id), Some(col_id)) = (r.int(0), r.int(1)) else {
            continue;
        };
        let Some(b) = tables.get_mut(&id) else {
            continue;
        };
        let name = r.string(2);
        let user_defined = r.flag(4) && !r.flag(15);
        let base = if user_defined {
            r.text(7).unwrap_or_else(|| r.string(3))
        } else {
            r.string(3)
        };
        let mapped = from_sys(&SysType {
            name: &base,
            max_length: r.int(8).unwrap_or(0) as i16,
            precision: r.int(9).unwrap_or(0) as u8,
            scale: r.int(10).unwrap_or(0) as u8,
        });
        let mut column = Column::new(&name, mapped.ty, mapped.native_type);
        column.nullable = r.flag(11);
        b.columns.insert(col_id, b.def.columns.len());
        b.def.columns.push(column);
        if user_defined {
            let alias = format!(
                "{}.{}",
                quote_ident(&r.string(6)),
                quote_ident(&r.string(3))
            );
            b.set(key(On::Column(&name), props::COLUMN_ALIAS_TYPE), alias);
        }
        if let Some(c) = r.text(12) {
            if !c.eq_ignore_ascii_case(&collation) {
                b.set(key(On::Column(&name), props::COLUMN_COLLATION), c);
            }
        }
        if r.flag(13) {
            b.set(key(On::Column(&name), props::COLUMN_SPARSE), "true");
        }
        if r.flag(14) {
            b.set(key(On::Column(&name), props::COLUMN_ROWGUIDCOL), "true");
        }
    }
    Ok(())
}

/// An identity's seed, increment or last value as an `i64`.
fn identity_number(
    t: &TableDef,
    column: &str,
    what: &str,
    text: Option<String>,
) -> Result<Option<i64>> {
    let Some(text) = text else { return Ok(None) };
    let digits = text.trim();
    let digits = digits.strip_suffix(".0").unwrap_or(digits);
    digits.parse::<i64>().map(Some).map_err(|_| {
        Error::Unsupported(format!(
            "table {}, column {column}: the identity {what} {text} does not fit a 64-bit integer, which bru's archive holds",
            t.name
        ))
    })
}

/// Each identity column's seed and increment by `(object_id, column_id)`,
/// from `IDENT_SEED` and `IDENT_INCR`: Babelfish leaves
/// `sys.identity_columns.seed_value` and `increment_value` NULL, and its
/// `IDENT_SEED` answers wrongly inside a snapshot transaction, so
/// [`MssqlSource::open`](super::MssqlSource::open) reads these before it
/// starts one (seeds and increments change only with DDL).
pub(crate) type Seeds = HashMap<(i64, i64), (Option<String>, Option<String>)>;

pub(crate) fn identity_seeds(conn: &mut Conn) -> Result<Seeds> {
    let table = "QUOTENAME(s.name) + N'.' + QUOTENAME(t.name)";
    let rows = rows(
        conn,
        "the identity seeds",
        &format!(
            "SELECT ic.object_id, ic.column_id, CAST(IDENT_SEED({table}) AS nvarchar(60)), \
             CAST(IDENT_INCR({table}) AS nvarchar(60)) \
             FROM sys.identity_columns ic \
             JOIN sys.tables t ON t.object_id = ic.object_id \
             JOIN sys.schemas s ON s.schema_id = t.schema_id \
             WHERE ic.object_id IN ({USER_TABLES})"
        ),
    )?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Some(((r.int(0)?, r.int(1)?), (r.text(2), r.text(3)))))
        .collect())
}

fn identities(conn: &mut Conn, tables: &mut BTreeMap<i64, Building>, seeds: &Seeds) -> Result<()> {
    let rows = rows(
        conn,
        "the identity columns",
        &format!(
            "SELECT object_id, column_id, CAST(seed_value AS nvarchar(60)), \
             CAST(increment_value AS nvarchar(60)), CAST(last_value AS nvarchar(60)), \
             is_not_for_replication \
             FROM sys.identity_columns WHERE object_id IN ({USER_TABLES})"
        ),
    )?;
    for r in rows {
        let (Some(id), Some(col_id)) = (r.int(0), r.int(1)) else {
            continue;
        };
        let Some(b) = tables.get_mut(&id) else {
            continue;
        };
        let Some(name) = b.column_name(col_id) else {
            continue;
        };
        let (seed, incr) = seeds.get(&(id, col_id)).cloned().unwrap_or_default();
        let start = identity_number(&b.def, &name, "seed", r.text(2).or(seed))?;
        let increment = identity_number(&b.def, &name, "increment", r.text(3).or(incr))?;
        let last_value = identity_number(&b.def, &name, "last value", r.text(4))?;
        if r.flag(5) {
            b.set(
                key(On::Column(&name), props::COLUMN_NOT_FOR_REPLICATION),
                "true",
            );
        }
        if let Some(c) = b.column(col_id) {
            c.identity = Some(Identity {
                kind: IdentityKind::ByDefault,
                start,
                increment,
                last_value,
            });
        }
    }
    Ok(())
}

fn computed(conn: &mut Conn, tables: &mut BTreeMap<i64, Building>) -> Result<()> {
    let rows = rows(
        conn,
        "the computed columns",
        &format!(
            "SELECT object_id, column_id, definition, is_persisted FROM sys.computed_columns \
             WHERE object_id IN ({USER_TABLES})"
        ),
    )?;
    for r in rows {
        let (Some(id), Some(col_id)) = (r.int(0), r.int(1)) else {
            continue;
        };
        if let Some(c) = tables.get_mut(&id).and_then(|b| b.column(col_id)) {
            c.generated = Some(Generated {
                expr: r.string(2),
                stored: r.flag(3),
            });
        }
    }
    Ok(())
}

fn defaults(conn: &mut Conn, tables: &mut BTreeMap<i64, Building>) -> Result<()> {
    let rows = rows(
        conn,
        "the default constraints",
        &format!(
            "SELECT parent_object_id, parent_column_id, name, definition, is_system_named \
             FROM sys.default_constraints WHERE parent_object_id IN ({USER_TABLES})"
        ),
    )?;
    for r in rows {
        let (Some(id), Some(col_id)) = (r.int(0), r.int(1)) else {
            continue;
        };
        let Some(b) = tables.get_mut(&id) else {
            continue;
        };
        let Some(name) = b.column_name(col_id) else {
            continue;
        };
        if !r.flag(4) {
            b.set(
                key(On::Column(&name), props::COLUMN_DEFAULT_NAME),
                r.string(2),
            );
        }
        if let Some(c) = b.column(col_id) {
            c.default = Some(r.string(3));
        }
    }
    Ok(())
}

/// The key and included columns of one index.
#[derive(Default)]
struct IndexColumns {
    keys: Vec<String>,
    descending: Vec<String>,
    include: Vec<String>,
}

fn indexes(
    conn: &mut Conn,
    tables: &mut BTreeMap<i64, Building>,
    objects: &mut Vec<ObjectDef>,
) -> Result<()> {
    let cols = rows(
        conn,
        "the index columns",
        &format!(
            "SELECT ic.object_id, ic.index_id, c.name, ic.is_descending_key, ic.is_included_column \
             FROM sys.index_columns ic \
             JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id \
             WHERE ic.object_id IN ({USER_TABLES}) \
             AND (ic.key_ordinal > 0 OR ic.is_included_column = 1) \
             ORDER BY ic.object_id, ic.index_id, ic.is_included_column, ic.key_ordinal, ic.index_column_id"
        ),
    )?;
    let mut by_index: HashMap<(i64, i64), IndexColumns> = HashMap::new();
    for r in cols {
        let (Some(id), Some(ix)) = (r.int(0), r.int(1)) else {
            continue;
        };
        let e = by_index.entry((id, ix)).or_default();
        let name = r.string(2);
        if r.flag(4) {
            e.include.push(name);
        } else {
            if r.flag(3) {
                e.descending.push(name.clone());
            }
            e.keys.push(name);
        }
    }
    let rows = rows(
        conn,
        "the indexes",
        &format!(
            "SELECT object_id, index_id, name, type, is_unique, is_primary_key, \
             is_unique_constraint, has_filter, filter_definition, is_disabled, type_desc \
             FROM sys.indexes WHERE type > 0 AND object_id IN ({USER_TABLES}) \
             ORDER BY object_id, index_id"
        ),
    )?;
    for r in rows {
        let (Some(id), Some(ix)) = (r.int(0), r.int(1)) else {
            continue;
        };
        let Some(b) = tables.get_mut(&id) else {
            continue;
        };
        let name = r.string(2);
        let kind = r.int(3).unwrap_or(0);
        let c = by_index.remove(&(id, ix)).unwrap_or_default();
        if kind != 1 && kind != 2 {
            let mut o = ObjectDef::not_carried(
                ObjectKind::Other("index".into()),
                TableName::new(b.def.name.schema.as_deref(), &name),
                ENGINE_NAME,
                format!(
                    "a {} index, which bru does not carry (it carries clustered and nonclustered rowstore indexes)",
                    r.string(10).to_lowercase()
                ),
            );
            o.table = Some(b.def.name.clone());
            objects.push(o);
            continue;
        }
        let on = if r.flag(5) {
            b.def.primary_key = Some(PrimaryKey {
                name: Some(name.clone()),
                columns: c.keys.clone(),
            });
            On::PrimaryKey
        } else if r.flag(6) {
            b.def.uniques.push(UniqueConstraint {
                name: Some(name.clone()),
                columns: c.keys.clone(),
            });
            On::Unique(&name)
        } else {
            b.def.indexes.push(IndexDef {
                name: name.clone(),
                columns: c.keys.clone(),
                unique: r.flag(4),
                predicate: if r.flag(7) { r.text(8) } else { None },
                method: None,
                native_ddl: None,
            });
            On::Index(&name)
        };
        if kind == 1 {
            b.set(key(on, props::CLUSTERED), "true");
        }
        if !c.descending.is_empty() {
            b.set(
                key(on, props::DESCENDING),
                props::names_value(&c.descending),
            );
        }
        if !c.include.is_empty() {
            b.set(key(on, props::INCLUDE), props::names_value(&c.include));
        }
        if r.flag(9) {
            b.set(key(on, props::DISABLED), "true");
        }
    }
    Ok(())
}

fn action(code: Option<i64>) -> FkAction {
    match code {
        Some(1) => FkAction::Cascade,
        Some(2) => FkAction::SetNull,
        Some(3) => FkAction::SetDefault,
        _ => FkAction::NoAction,
    }
}

fn foreign_keys(conn: &mut Conn, tables: &mut BTreeMap<i64, Building>) -> Result<()> {
    let cols = rows(
        conn,
        "the foreign key columns",
        &format!(
            "SELECT fkc.constraint_object_id, pc.name, rc.name FROM sys.foreign_key_columns fkc \
             JOIN sys.columns pc ON pc.object_id = fkc.parent_object_id AND pc.column_id = fkc.parent_column_id \
             JOIN sys.columns rc ON rc.object_id = fkc.referenced_object_id AND rc.column_id = fkc.referenced_column_id \
             WHERE fkc.parent_object_id IN ({USER_TABLES}) \
             ORDER BY fkc.constraint_object_id, fkc.constraint_column_id"
        ),
    )?;
    let mut by_fk: HashMap<i64, (Vec<String>, Vec<String>)> = HashMap::new();
    for r in cols {
        let Some(id) = r.int(0) else { continue };
        let e = by_fk.entry(id).or_default();
        e.0.push(r.string(1));
        e.1.push(r.string(2));
    }
    let rows = rows(
        conn,
        "the foreign keys",
        &format!(
            "SELECT fk.object_id, fk.parent_object_id, fk.name, rs.name, rt.name, \
             fk.delete_referential_action, fk.update_referential_action, fk.is_disabled, \
             fk.is_not_trusted, fk.is_not_for_replication \
             FROM sys.foreign_keys fk \
             JOIN sys.objects rt ON rt.object_id = fk.referenced_object_id \
             JOIN sys.schemas rs ON rs.schema_id = rt.schema_id \
             WHERE fk.parent_object_id IN ({USER_TABLES}) ORDER BY fk.parent_object_id, fk.name"
        ),
    )?;
    for r in rows {
        let (Some(id), Some(parent)) = (r.int(0), r.int(1)) else {
            continue;
        };
        let Some(b) = tables.get_mut(&parent) else {
            continue;
        };
        let name = r.string(2);
        let (columns, ref_columns) = by_fk.remove(&id).unwrap_or_default();
        b.def.foreign_keys.push(ForeignKey {
            name: Some(name.clone()),
            columns,
            ref_table: TableName::new(Some(&r.string(3)), &r.string(4)),
            ref_columns,
            on_delete: action(r.int(5)),
            on_update: action(r.int(6)),
            deferrable: false,
            initially_deferred: false,
        });
        let on = On::ForeignKey(&name);
        b.set_flags(
            &r,
            on,
            &[
                (7, props::DISABLED),
                (8, props::NOT_TRUSTED),
                (9, props::NOT_FOR_REPLICATION),
            ],
        );
    }
    Ok(())
}

fn checks(conn: &mut Conn, tables: &mut BTreeMap<i64, Building>) -> Result<()> {
    let rows = rows(
        conn,
        "the check constraints",
        &format!(
            "SELECT parent_object_id, name, definition, is_disabled, is_not_for_replication, \
             is_not_trusted FROM sys.check_constraints \
             WHERE parent_object_id IN ({USER_TABLES}) ORDER BY parent_object_id, name"
        ),
    )?;
    for r in rows {
        let Some(b) = r.int(0).and_then(|id| tables.get_mut(&id)) else {
            continue;
        };
        let name = r.string(1);
        b.def.checks.push(CheckConstraint {
            name: Some(name.clone()),
            expr: r.string(2),
        });
        let on = On::Check(&name);
        b.set_flags(
            &r,
            on,
            &[
                (3, props::DISABLED),
                (4, props::NOT_FOR_REPLICATION),
                (5, props::NOT_TRUSTED),
            ],
        );
    }
    Ok(())
}

fn estimates(conn: &mut Conn, tables: &mut BTreeMap<i64, Building>) -> Result<()> {
    let rows = rows(
        conn,
        "the row estimates",
        &format!(
            "SELECT object_id, CAST(SUM(rows) AS bigint) FROM sys.partitions \
             WHERE index_id IN (0, 1) AND object_id IN ({USER_TABLES}) GROUP BY object_id"
        ),
    )?;
    for r in rows {
        if let (Some(b), Some(n)) = (r.int(0).and_then(|id| tables.get_mut(&id)), r.int(1)) {
            b.def.estimated_rows = u64::try_from(n).ok();
        }
    }
    Ok(())
}

/// A number from the catalog spliced into a CREATE SEQUENCE: digits only.
fn number(text: Option<String>) -> Option<String> {
    let t = text?.trim().to_owned();
    let digits = t.strip_prefix('-').unwrap_or(&t);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(t)
}

/// The sequences of a server without `sys.sequences` (Babelfish), listed
/// as not carried, leaving out those that back identity columns
/// (`<table>_<column>_seq`, which Babelfish shows as sequences too).
fn sequences_not_readable(
    conn: &mut Conn,
    tables: &BTreeMap<i64, Building>,
) -> Result<Vec<ObjectDef>> {
    let identity: BTreeSet<(Option<String>, String)> = tables
        .values()
        .flat_map(|b| {
            b.def
                .columns
                .iter()
                .filter(|c| c.identity.is_some())
                .map(|c| {
                    (
                        b.def.name.schema.clone(),
                        format!("{}_{}_seq", b.def.name.name, c.name),
                    )
                })
        })
        .collect();
    let rows = rows(
        conn,
        "the sequences",
        "SELECT s.name, o.name FROM sys.objects o JOIN sys.schemas s ON s.schema_id = o.schema_id \
         WHERE o.type = 'SO' ORDER BY s.name, o.name",
    )?;
    Ok(rows
        .iter()
        .filter(|r| !identity.contains(&(r.text(0), r.string(1))))
        .map(|r| {
            ObjectDef::not_carried(
                ObjectKind::Sequence,
                TableName::new(r.text(0).as_deref(), &r.string(1)),
                ENGINE_NAME,
                "this server has no sys.sequences view (Babelfish), so bru cannot read the sequence's definition and current value",
            )
        })
        .collect())
}

fn sequences(conn: &mut Conn, tables: &BTreeMap<i64, Building>) -> Result<Vec<ObjectDef>> {
    let Some(rows) = rows_if_present(
        conn,
        "sequences",
        "SELECT sc.name, s.name, ty.name, s.precision, CAST(s.start_value AS nvarchar(60)), \
         CAST(s.increment AS nvarchar(60)), CAST(s.minimum_value AS nvarchar(60)), \
         CAST(s.maximum_value AS nvarchar(60)), s.is_cycling, s.is_cached, s.cache_size, \
         CAST(s.current_value AS nvarchar(60)) \
         FROM sys.sequences s JOIN sys.schemas sc ON sc.schema_id = s.schema_id \
         JOIN sys.types ty ON ty.user_type_id = s.system_type_id \
         WHERE s.is_ms_shipped = 0 ORDER BY sc.name, s.name",
    )?
    else {
        return sequences_not_readable(conn, tables);
    };
    let mut out = Vec::new();
    for r in rows {
        let name = TableName::new(Some(&r.string(0)), &r.string(1));
        let quoted = format!(
            "{}.{}",
            quote_ident(&r.string(0)),
            quote_ident(&r.string(1))
        );
        let ty = match r.string(2).to_ascii_lowercase().as_str() {
            t @ ("tinyint" | "smallint" | "int" | "bigint") => t.to_owned(),
            t @ ("decimal" | "numeric") => format!("{t}({},0)", r.int(3).unwrap_or(18)),
            other => {
                out.push(ObjectDef::not_carried(
                    ObjectKind::Sequence,
                    name,
                    ENGINE_NAME,
                    format!("a sequence of type {other}, which bru does not recognise"),
                ));
                continue;
            }
        };
        let nums: Option<Vec<String>> = [4, 5, 6, 7, 11]
            .iter()
            .map(|&i| number(r.text(i)))
            .collect();
        let Some(n) = nums else {
            out.push(ObjectDef::not_carried(
                ObjectKind::Sequence,
                name,
                ENGINE_NAME,
                "the server reported a start, increment, bound or current value that is not an integer",
            ));
            continue;
        };
        let (start, increment, min, max, current) = (&n[0], &n[1], &n[2], &n[3], &n[4]);
        let cycle = if r.flag(8) { "CYCLE" } else { "NO CYCLE" };
        let cache = match (r.flag(9), r.int(10)) {
            (false, _) => "NO CACHE".to_owned(),
            (true, Some(n)) => format!("CACHE {n}"),
            (true, None) => "CACHE".to_owned(),
        };
        let ddl = format!(
            "CREATE SEQUENCE {quoted} AS {ty} START WITH {start} INCREMENT BY {increment} \
             MINVALUE {min} MAXVALUE {max} {cycle} {cache}"
        );
        let mut o = ObjectDef::new(ObjectKind::Sequence, name, ENGINE_NAME, ddl);
        // current_value is the last value handed out, or the start value
        // before the first; restarting there and handing it out again
        // would repeat it, so restart one increment on, unless the
        // sequence was never used.
        let next = next_value(current, start, increment, min, max, r.flag(8));
        o.data = next.map(|v| format!("ALTER SEQUENCE {quoted} RESTART WITH {v}"));
        out.push(o);
    }
    Ok(out)
}

/// The value a restored sequence hands out next, given the source's
/// `current_value`; `None` when it is still at its start (never used, as
/// far as the catalog tells: a sequence used once and back at its start
/// after cycling restarts there too, which hands out the same next value).
fn next_value(
    current: &str,
    start: &str,
    increment: &str,
    min: &str,
    max: &str,
    cycle: bool,
) -> Option<String> {
    let p = |s: &str| s.parse::<i128>().ok();
    let (c, s, i, lo, hi) = (p(current)?, p(start)?, p(increment)?, p(min)?, p(max)?);
    if c == s {
        return None;
    }
    let next = c + i;
    Some(if next > hi || next < lo {
        if cycle {
            if i > 0 { lo } else { hi }.to_string()
        } else {
            // Exhausted: restarting at the bound hands it out once more,
            // which the source would refuse; keep the source's state by
            // restarting at the current value (the next call fails as the
            // source's would only after one more value).
            c.to_string()
        }
    } else {
        next.to_string()
    })
}

/// One module from `sys.sql_modules`.
struct Module {
    id: i64,
    object: ObjectDef,
}

fn modules(conn: &mut Conn, tables: &HashMap<i64, TableName>) -> Result<Vec<ObjectDef>> {
    let rows = rows(
        conn,
        "the views, procedures, functions and triggers",
        "SELECT o.object_id, s.name, o.name, o.type, m.definition, m.uses_ansi_nulls, \
         m.uses_quoted_identifier, o.parent_object_id, o.type_desc, CAST(tr.is_disabled AS int) \
         FROM sys.sql_modules m JOIN sys.objects o ON o.object_id = m.object_id \
         JOIN sys.schemas s ON s.schema_id = o.schema_id \
         LEFT JOIN sys.triggers tr ON tr.object_id = o.object_id \
         WHERE o.is_ms_shipped = 0 ORDER BY o.object_id",
    )?;
    let mut mods = Vec::new();
    let mut extra = Vec::new();
    let mut names: HashMap<i64, TableName> = tables.clone();
    for r in &rows {
        let Some(id) = r.int(0) else { continue };
        let name = TableName::new(Some(&r.string(1)), &r.string(2));
        names.insert(id, name.clone());
        let kind = match r.string(3).trim() {
            "V" => ObjectKind::View,
            "P" => ObjectKind::Other("procedure".into()),
            "FN" | "IF" | "TF" => ObjectKind::Function,
            "TR" => ObjectKind::Trigger,
            _ => ObjectKind::Other(r.string(8).to_lowercase().replace('_', " ")),
        };
        let reason = match (r.text(4), r.flag(5), r.flag(6)) {
            _ if matches!(kind, ObjectKind::Other(ref k) if k != "procedure") => Some(format!(
                "a {}, which bru does not carry",
                kind.name()
            )),
            (None, _, _) => Some("its definition is encrypted (WITH ENCRYPTION), so the server does not show it".into()),
            (Some(_), false, _) => Some("it was created with SET ANSI_NULLS OFF, which a restore does not reproduce (it creates modules with ANSI_NULLS and QUOTED_IDENTIFIER on)".into()),
            (Some(_), _, false) => Some("it was created with SET QUOTED_IDENTIFIER OFF, which a restore does not reproduce (it creates modules with ANSI_NULLS and QUOTED_IDENTIFIER on)".into()),
            _ => None,
        };
        let mut object = match reason {
            Some(why) => ObjectDef::not_carried(kind.clone(), name, ENGINE_NAME, why),
            None => ObjectDef::new(kind.clone(), name, ENGINE_NAME, r.string(4)),
        };
        if kind == ObjectKind::Trigger {
            object.table = r.int(7).and_then(|p| tables.get(&p).cloned());
        }
        if kind == ObjectKind::Trigger && object.not_carried.is_none() && r.flag(9) {
            // The trigger itself is carried; that it is disabled is not
            // (a restore creates it enabled), which the summary says.
            let mut state = ObjectDef::not_carried(
                ObjectKind::Other("trigger state".into()),
                object.name.clone(),
                ENGINE_NAME,
                "the trigger is disabled in the source; the restore creates it enabled (run DISABLE TRIGGER after the restore to match)",
            );
            state.table = object.table.clone();
            extra.push(state);
        }
        // Modules come after the tables; a function a table needs (in a
        // computed column, default or check) is moved before them below.
        object.section = Some(Section::PostData);
        mods.push(Module { id, object });
    }
    // An INSTEAD OF trigger on a view: its parent is a module read above.
    let parents: HashMap<i64, i64> = rows
        .iter()
        .filter_map(|r| Some((r.int(0)?, r.int(7)?)))
        .collect();
    for m in &mut mods {
        if m.object.kind == ObjectKind::Trigger && m.object.table.is_none() {
            m.object.table = parents.get(&m.id).and_then(|p| names.get(p).cloned());
        }
    }
    let deps = dependencies(conn)?;
    // Functions that a table's computed column, default or check uses.
    if let Some(deps) = &deps {
        let needed: BTreeSet<i64> = deps
            .iter()
            .filter(|(from, _)| tables.contains_key(from))
            .map(|(_, to)| *to)
            .collect();
        for m in &mut mods {
            if m.object.kind == ObjectKind::Function && needed.contains(&m.id) {
                m.object.section = Some(Section::PreData);
            }
        }
    }
    let mut out = order(mods, deps.as_deref(), &names);
    out.extend(extra);
    Ok(out)
}

/// `(referencing object, referenced object)` pairs, with constraints
/// folded into their tables; `None` when the server cannot say.
fn dependencies(conn: &mut Conn) -> Result<Option<Vec<(i64, i64)>>> {
    let Some(rows) = rows_if_present(
        conn,
        "sql_expression_dependencies",
        "SELECT CASE WHEN o.parent_object_id <> 0 AND o.type IN ('C', 'D') \
         THEN o.parent_object_id ELSE d.referencing_id END, d.referenced_id \
         FROM sys.sql_expression_dependencies d \
         JOIN sys.objects o ON o.object_id = d.referencing_id \
         WHERE d.referenced_id IS NOT NULL AND d.referenced_id <> d.referencing_id",
    )?
    else {
        return Ok(None);
    };
    Ok(Some(
        rows.iter()
            .filter_map(|r| Some((r.int(0)?, r.int(1)?)))
            .collect(),
    ))
}

/// The modules in dependency order (each after what it references, ties
/// in creation order), with `depends_on` set to the tables, views and
/// modules each references.
fn order(
    mods: Vec<Module>,
    deps: Option<&[(i64, i64)]>,
    names: &HashMap<i64, TableName>,
) -> Vec<ObjectDef> {
    let Some(deps) = deps else {
        return mods.into_iter().map(|m| m.object).collect();
    };
    let ids: BTreeSet<i64> = mods.iter().map(|m| m.id).collect();
    let mut before: HashMap<i64, BTreeSet<i64>> = HashMap::new();
    let mut mods: Vec<Module> = mods;
    for m in &mut mods {
        let refs: BTreeSet<i64> = deps
            .iter()
            .filter(|(from, _)| *from == m.id)
            .map(|(_, to)| *to)
            .collect();
        let mut on: Vec<TableName> = refs.iter().filter_map(|r| names.get(r).cloned()).collect();
        on.sort();
        on.dedup();
        m.object.depends_on = Some(on);
        before.insert(m.id, refs.into_iter().filter(|r| ids.contains(r)).collect());
    }
    // Kahn's algorithm, always taking the earliest-created ready module;
    // a cycle (which SQL Server allows between procedures through deferred
    // name resolution) is broken in creation order.
    let mut done: BTreeSet<i64> = BTreeSet::new();
    let mut pending: Vec<Module> = mods;
    let mut out = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let pos = pending
            .iter()
            .position(|m| before[&m.id].iter().all(|d| done.contains(d)))
            .unwrap_or(0);
        let m = pending.remove(pos);
        done.insert(m.id);
        out.push(m.object);
    }
    out
}

/// Everything else the database holds that bru does not carry, by name.
fn not_carried(conn: &mut Conn) -> Result<Vec<ObjectDef>> {
    let mut out = Vec::new();
    let mut list = |rows: Option<Vec<Cells>>, kind: &str, why: &str| {
        for r in rows.into_iter().flatten() {
            let schema = r.text(0);
            out.push(ObjectDef::not_carried(
                ObjectKind::Other(kind.into()),
                TableName::new(schema.as_deref(), &r.string(1)),
                ENGINE_NAME,
                why,
            ));
        }
    };
    list(
        rows_if_present(
            conn,
            "synonyms",
            "SELECT s.name, o.name FROM sys.synonyms o JOIN sys.schemas s ON s.schema_id = o.schema_id",
        )?,
        "synonym",
        "bru does not carry synonyms",
    );
    let types = rows(
        conn,
        "the user-defined types",
        "SELECT s.name, t.name, t.is_table_type, t.is_assembly_type FROM sys.types t \
         JOIN sys.schemas s ON s.schema_id = t.schema_id WHERE CAST(t.is_user_defined AS int) = 1",
    )?;
    let (mut alias, mut other) = (Vec::new(), Vec::new());
    for r in types {
        if r.flag(2) || r.flag(3) {
            other.push(r);
        } else {
            alias.push(r);
        }
    }
    list(
        Some(alias),
        "type",
        "an alias type: bru restores its columns as the base type (the alias is recorded in the column's mssql.column.*.alias_type property)",
    );
    list(
        Some(other),
        "type",
        "bru does not carry table types or CLR types",
    );
    list(
        rows_if_present(
            conn,
            "xml_schema_collections",
            "SELECT s.name, x.name FROM sys.xml_schema_collections x \
             JOIN sys.schemas s ON s.schema_id = x.schema_id WHERE s.name <> N'sys'",
        )?,
        "xml schema collection",
        "bru does not carry XML schema collections (typed xml columns are restored as untyped xml)",
    );
    list(
        rows_if_present(
            conn,
            "partition_schemes",
            "SELECT NULL, name FROM sys.partition_schemes",
        )?,
        "partition scheme",
        "bru does not carry partition schemes (tables are restored unpartitioned)",
    );
    list(
        rows_if_present(
            conn,
            "partition_functions",
            "SELECT NULL, name FROM sys.partition_functions",
        )?,
        "partition function",
        "bru does not carry partition functions",
    );
    list(
        rows_if_present(
            conn,
            "fulltext_catalogs",
            "SELECT NULL, name FROM sys.fulltext_catalogs",
        )?,
        "full-text catalog",
        "bru does not carry full-text catalogs and indexes",
    );
    list(
        rows_if_present(
            conn,
            "triggers",
            "SELECT NULL, name FROM sys.triggers WHERE parent_class = 0",
        )?,
        "database trigger",
        "bru does not carry database-level (DDL) triggers",
    );
    list(
        rows_if_present(
            conn,
            "assemblies",
            "SELECT NULL, name FROM sys.assemblies WHERE CAST(is_user_defined AS int) = 1",
        )?,
        "assembly",
        "bru does not carry CLR assemblies",
    );
    // Settings and objects around the carried tables that the model has no
    // place for: each listed by name, so the operator knows to redo it.
    let on_user_tables = "JOIN sys.tables t ON t.object_id = i.object_id \
         JOIN sys.schemas s ON s.schema_id = t.schema_id \
         WHERE t.is_ms_shipped = 0 AND s.name NOT IN (N'sys', N'INFORMATION_SCHEMA')";
    list(
        Some(rows(
            conn,
            "the indexes that ignore duplicate keys",
            &format!(
                "SELECT s.name, t.name + N'.' + i.name FROM sys.indexes i {on_user_tables} \
                 AND CAST(i.ignore_dup_key AS int) = 1"
            ),
        )?),
        "index option",
        "IGNORE_DUP_KEY is not carried: the restored index refuses a duplicate key instead of ignoring it",
    );
    list(
        Some(rows(
            conn,
            "the indexes' fill factors",
            &format!(
                "SELECT s.name, t.name + N'.' + i.name FROM sys.indexes i {on_user_tables} \
                 AND i.fill_factor NOT IN (0, 100) AND i.name IS NOT NULL"
            ),
        )?),
        "index option",
        "FILLFACTOR is not carried: the restored index is built with the server's default fill factor",
    );
    list(
        Some(rows(
            conn,
            "the compressed tables and indexes",
            &format!(
                "SELECT DISTINCT s.name, t.name + ISNULL(N'.' + i.name, N'') FROM sys.partitions p \
                 JOIN sys.indexes i ON i.object_id = p.object_id AND i.index_id = p.index_id \
                 {on_user_tables} AND CAST(p.data_compression AS int) <> 0"
            ),
        )?),
        "data compression",
        "data compression is not carried: the restored table or index is uncompressed",
    );
    list(
        rows_if_present(
            conn,
            "masked_columns",
            "SELECT s.name, t.name + N'.' + i.name FROM sys.masked_columns i \
             JOIN sys.tables t ON t.object_id = i.object_id \
             JOIN sys.schemas s ON s.schema_id = t.schema_id \
             WHERE CAST(i.is_masked AS int) = 1",
        )?,
        "column mask",
        "the dynamic data mask is not carried: the restored column is unmasked",
    );
    list(
        Some(rows(
            conn,
            "the columns with special settings",
            &format!(
                "SELECT s.name, t.name + N'.' + c.name FROM sys.columns c \
                 JOIN sys.types ty ON ty.user_type_id = c.user_type_id \
                 JOIN sys.tables t ON t.object_id = c.object_id \
                 JOIN sys.schemas s ON s.schema_id = t.schema_id \
                 WHERE c.object_id IN ({USER_TABLES}) AND (CAST(c.is_column_set AS int) = 1 \
                 OR (CAST(c.is_ansi_padded AS int) = 0 AND ty.name IN (N'char', N'varchar', N'binary', N'varbinary')))"
            ),
        )?),
        "column setting",
        "a column set, or a column created with ANSI_PADDING OFF, which bru does not carry (the restored column is an ordinary one)",
    );
    list(
        Some(rows(
            conn,
            "the extended properties",
            "SELECT s.name, o.name + ISNULL(N'.' + c.name, N'') + N' ' + ep.name \
             FROM sys.extended_properties ep \
             JOIN sys.objects o ON o.object_id = ep.major_id \
             JOIN sys.schemas s ON s.schema_id = o.schema_id \
             LEFT JOIN sys.columns c ON ep.minor_id > 0 AND c.object_id = ep.major_id AND c.column_id = ep.minor_id \
             WHERE ep.class = 1 AND o.is_ms_shipped = 0 \
             UNION ALL SELECT NULL, CAST(ep.class_desc AS nvarchar(128)) + N' ' + ep.name \
             FROM sys.extended_properties ep WHERE ep.class <> 1",
        )?),
        "extended property",
        "bru does not carry extended properties",
    );
    list(
        Some(rows(
            conn,
            "the permissions on objects and schemas",
            "SELECT s.name, p.state_desc + N' ' + p.permission_name + N' ON ' + o.name + N' TO ' + pr.name \
             FROM sys.database_permissions p \
             JOIN sys.objects o ON o.object_id = p.major_id \
             JOIN sys.schemas s ON s.schema_id = o.schema_id \
             JOIN sys.database_principals pr ON pr.principal_id = p.grantee_principal_id \
             WHERE p.class = 1 AND o.is_ms_shipped = 0 \
             UNION ALL SELECT NULL, p.state_desc + N' ' + p.permission_name + N' ON SCHEMA ' + s.name + N' TO ' + pr.name \
             FROM sys.database_permissions p \
             JOIN sys.schemas s ON s.schema_id = p.major_id \
             JOIN sys.database_principals pr ON pr.principal_id = p.grantee_principal_id \
             WHERE p.class = 3",
        )?),
        "permission",
        "bru does not carry permissions; grant them again on the target",
    );
    list(
        Some(rows(
            conn,
            "the database users and roles",
            // The fixed roles and built-in principals by name: Babelfish
            // reports is_fixed_role = 1 for roles users create.
            "SELECT NULL, name FROM sys.database_principals \
             WHERE name NOT IN (N'dbo', N'guest', N'public', N'sys', N'INFORMATION_SCHEMA', \
             N'db_owner', N'db_accessadmin', N'db_securityadmin', N'db_ddladmin', \
             N'db_backupoperator', N'db_datareader', N'db_datawriter', N'db_denydatareader', \
             N'db_denydatawriter') \
             AND type IN ('S', 'U', 'G', 'R', 'E', 'X', 'C', 'K')",
        )?),
        "database user or role",
        "bru does not carry database users and roles; create them on the target",
    );
    // Any other kind of schema object, by the server's own name for it.
    let rest = rows(
        conn,
        "the other schema objects",
        "SELECT s.name, o.name, o.type_desc FROM sys.objects o \
         JOIN sys.schemas s ON s.schema_id = o.schema_id \
         WHERE o.is_ms_shipped = 0 AND s.name NOT IN (N'sys', N'INFORMATION_SCHEMA') \
         AND o.type NOT IN ('U', 'V', 'P', 'FN', 'IF', 'TF', 'TR', 'PK', 'UQ', 'F', 'C', 'D', \
         'SO', 'SN', 'IT', 'S', 'TT', 'R') \
         ORDER BY s.name, o.name",
    )?;
    for r in rest {
        let kind = r.string(2).to_lowercase().replace('_', " ");
        out.push(ObjectDef::not_carried(
            ObjectKind::Other(kind.clone()),
            TableName::new(Some(&r.string(0)), &r.string(1)),
            ENGINE_NAME,
            format!("bru does not carry a {kind}"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_restart_points() {
        // Never used: no restart.
        assert_eq!(next_value("1", "1", "1", "1", "100", false), None);
        assert_eq!(
            next_value("5", "1", "1", "1", "100", false).as_deref(),
            Some("6")
        );
        assert_eq!(
            next_value("-5", "-1", "-2", "-100", "-1", false).as_deref(),
            Some("-7")
        );
        assert_eq!(
            next_value("100", "1", "1", "1", "100", true).as_deref(),
            Some("1")
        );
        assert_eq!(
            next_value("100", "1", "1", "1", "100", false).as_deref(),
            Some("100")
        );
    }

    #[test]
    fn sequence_numbers_are_digits_only() {
        assert_eq!(number(Some("-42".into())).as_deref(), Some("-42"));
        assert_eq!(number(Some("1; DROP TABLE x".into())), None);
        assert_eq!(number(Some("".into())), None);
        assert_eq!(number(None), None);
    }

    fn module(id: i64, name: &str) -> Module {
        Module {
            id,
            object: ObjectDef::new(
                ObjectKind::View,
                TableName::new(Some("dbo"), name),
                ENGINE_NAME,
                format!("CREATE VIEW {name} AS SELECT 1 AS x"),
            ),
        }
    }

    #[test]
    fn modules_follow_their_dependencies() {
        let mut names = HashMap::new();
        names.insert(1, TableName::new(Some("dbo"), "t"));
        for (id, n) in [(10, "a"), (11, "b"), (12, "c")] {
            names.insert(id, TableName::new(Some("dbo"), n));
        }
        // a reads c, c reads b and the table t.
        let deps = [(10, 12), (12, 11), (12, 1)];
        let out = order(
            vec![module(10, "a"), module(11, "b"), module(12, "c")],
            Some(&deps),
            &names,
        );
        let got: Vec<&str> = out.iter().map(|o| o.name.name.as_str()).collect();
        assert_eq!(got, ["b", "c", "a"]);
        assert_eq!(
            out[1].depends_on.as_deref(),
            Some(
                &[
                    TableName::new(Some("dbo"), "b"),
                    TableName::new(Some("dbo"), "t")
                ][..]
            )
        );
        // A cycle is broken, not looped on.
        let out = order(
            vec![module(10, "a"), module(12, "c")],
            Some(&[(10, 12), (12, 10)]),
            &names,
        );
        assert_eq!(out.len(), 2);
    }
}
