//! Pairing the tables and columns of two sides, and comparing their
//! definitions as the neutral model sees them.
//!
//! Tables pair by schema and name; across engines, where one side has no
//! schemas (SQLite's `main`) and the other does (`public`), by name alone,
//! and a name that matches only without regard to case pairs when it is
//! the only such one on each side (SQLite's and SQL Server's names ignore
//! case). Columns pair the same way, so the columns compared are those
//! both sides have, in side A's order.
//!
//! Within one engine everything the model holds is compared: native and
//! neutral types, nullability, defaults, keys, indexes (with predicates and
//! methods) and foreign keys. Across engines, what is written in each
//! engine's own SQL (defaults, index expressions and predicates, native
//! type names) cannot be compared by text and is listed as not compared;
//! neutral types, nullability, key and index columns and foreign keys are.

use bru_core::{ColumnType, TableDef};

use super::normalize::Norm;

/// One table both sides have, with how its rows are compared.
#[derive(Debug, Clone)]
pub(crate) struct Pair {
    pub a: TableDef,
    pub b: TableDef,
    /// Side A's name, for the report.
    pub name: String,
    /// The compared columns' positions in each side's rows, in A's order.
    pub cols_a: Vec<usize>,
    pub cols_b: Vec<usize>,
    /// The compared columns' names (side A's).
    pub names: Vec<String>,
    pub norms: Vec<Norm>,
    /// Whether side A's (B's) rows are hashed as they are: every column,
    /// in order, none normalized, so the checksum is the archive's.
    pub identity_a: bool,
    pub identity_b: bool,
    pub key: Option<Key>,
    /// Why the rows are not narrowed down by key, when they are not.
    pub no_key: Option<String>,
    pub schema: Vec<String>,
}

/// The primary key both sides share.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    /// Positions in the compared columns.
    pub positions: Vec<usize>,
    /// A single integer column on both sides: buckets are key ranges.
    pub int: bool,
    /// The key columns' names on each side.
    pub names_a: Vec<String>,
    pub names_b: Vec<String>,
}

/// The pairing of two sides' tables.
pub(crate) struct Pairing {
    pub pairs: Vec<Pair>,
    pub only_a: Vec<TableDef>,
    pub only_b: Vec<TableDef>,
}

/// Indexes of `a` and `b` paired by `exact` names, then (when `loose`) by
/// `loose_name` where it is unique on both sides among those left.
fn pair_by<T>(
    a: &[T],
    b: &[T],
    exact: impl Fn(&T) -> String,
    loose: Option<&dyn Fn(&T) -> String>,
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut used_b = vec![false; b.len()];
    let mut used_a = vec![false; a.len()];
    for (i, x) in a.iter().enumerate() {
        let name = exact(x);
        if let Some(j) = (0..b.len()).find(|&j| !used_b[j] && exact(&b[j]) == name) {
            used_a[i] = true;
            used_b[j] = true;
            out.push((i, j));
        }
    }
    if let Some(loose) = loose {
        for i in 0..a.len() {
            if used_a[i] {
                continue;
            }
            let name = loose(&a[i]);
            let in_a = (0..a.len()).filter(|&k| !used_a[k] && loose(&a[k]) == name);
            let in_b: Vec<usize> = (0..b.len())
                .filter(|&k| !used_b[k] && loose(&b[k]) == name)
                .collect();
            if in_a.count() == 1 && in_b.len() == 1 {
                used_a[i] = true;
                used_b[in_b[0]] = true;
                out.push((i, in_b[0]));
            }
        }
    }
    out.sort();
    out
}

/// Pairs the tables of `a` and `b` and compares each pair's definition.
pub(crate) fn pair(a: &[TableDef], b: &[TableDef], same_engine: bool) -> Pairing {
    let exact = |t: &TableDef| t.name.to_string();
    let bare = |t: &TableDef| t.name.name.to_lowercase();
    let loose: Option<&dyn Fn(&TableDef) -> String> = if same_engine { None } else { Some(&bare) };
    let pairs = pair_by(a, b, exact, loose);
    let only_a = (0..a.len())
        .filter(|i| !pairs.iter().any(|(x, _)| x == i))
        .map(|i| a[i].clone())
        .collect();
    let only_b = (0..b.len())
        .filter(|j| !pairs.iter().any(|(_, y)| y == j))
        .map(|j| b[j].clone())
        .collect();
    Pairing {
        pairs: pairs
            .into_iter()
            .map(|(i, j)| table_pair(&a[i], &b[j], same_engine))
            .collect(),
        only_a,
        only_b,
    }
}

fn table_pair(a: &TableDef, b: &TableDef, same_engine: bool) -> Pair {
    let lower = |c: &bru_core::Column| c.name.to_lowercase();
    let loose: Option<&dyn Fn(&bru_core::Column) -> String> =
        if same_engine { None } else { Some(&lower) };
    let cols = pair_by(&a.columns, &b.columns, |c| c.name.clone(), loose);
    let mut schema = Vec::new();
    for (i, c) in a.columns.iter().enumerate() {
        if !cols.iter().any(|(x, _)| *x == i) {
            schema.push(format!("column {} missing in target", c.name));
        }
    }
    for (j, c) in b.columns.iter().enumerate() {
        if !cols.iter().any(|(_, y)| *y == j) {
            schema.push(format!("column {} extra in target", c.name));
        }
    }
    let mut norms = Vec::new();
    for &(i, j) in &cols {
        let (ca, cb) = (&a.columns[i], &b.columns[j]);
        norms.push(Norm::for_columns(same_engine, &ca.ty, &cb.ty));
        let (ta, tb) = if same_engine {
            (
                type_text(&ca.ty, &ca.native_type),
                type_text(&cb.ty, &cb.native_type),
            )
        } else {
            (neutral(&ca.ty), neutral(&cb.ty))
        };
        if ta != tb {
            schema.push(format!(
                "column {}: type {ta} in source, {tb} in target",
                ca.name
            ));
        }
        // SQLite lets a key column that is not INTEGER PRIMARY KEY hold
        // NULL (its old quirk) where every other engine makes it NOT NULL,
        // as the restore does: across engines a key column's nullability
        // is not a difference.
        let in_key = |t: &TableDef, c: &str| {
            t.primary_key
                .as_ref()
                .is_some_and(|k| k.columns.iter().any(|k| k == c))
        };
        let key_column = in_key(a, &ca.name) || in_key(b, &cb.name);
        if ca.nullable != cb.nullable && (same_engine || !key_column) {
            let n = |nullable: bool| if nullable { "nullable" } else { "NOT NULL" };
            schema.push(format!(
                "column {}: {} in source, {} in target",
                ca.name,
                n(ca.nullable),
                n(cb.nullable)
            ));
        }
        if same_engine && ca.default != cb.default {
            let d = |d: &Option<String>| d.clone().unwrap_or_else(|| "none".into());
            schema.push(format!(
                "column {}: default {} in source, {} in target",
                ca.name,
                d(&ca.default),
                d(&cb.default)
            ));
        }
    }
    // Column names of B spelt as A's, for comparing keys and indexes.
    let as_a = |name: &str| -> String {
        cols.iter()
            .find(|(_, j)| b.columns[*j].name == name)
            .map_or_else(|| name.to_owned(), |(i, _)| a.columns[*i].name.clone())
    };
    let pk_a = a.primary_key.as_ref().map(|p| p.columns.clone());
    let pk_b = b
        .primary_key
        .as_ref()
        .map(|p| p.columns.iter().map(|c| as_a(c)).collect::<Vec<_>>());
    if pk_a != pk_b {
        let k = |k: &Option<Vec<String>>| {
            k.as_ref()
                .map_or_else(|| "none".into(), |c| format!("({})", c.join(", ")))
        };
        schema.push(format!(
            "primary key {} in source, {} in target",
            k(&pk_a),
            k(&pk_b)
        ));
    }
    let set = |items: Vec<String>| {
        let mut items = items;
        items.sort();
        items
    };
    let uniques = |t: &TableDef, map: &dyn Fn(&str) -> String| {
        set(t
            .uniques
            .iter()
            .map(|u| {
                format!(
                    "unique ({})",
                    u.columns
                        .iter()
                        .map(|c| map(c))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect())
    };
    let same = |c: &str| c.to_owned();
    diff_sets(&mut schema, uniques(a, &same), uniques(b, &as_a));
    let indexes = |t: &TableDef, map: &dyn Fn(&str) -> String| {
        set(t
            .indexes
            .iter()
            .map(|x| {
                let cols: Vec<String> = x.columns.iter().map(|c| map(c)).collect();
                let mut s = format!(
                    "{}index {} ({})",
                    if x.unique { "unique " } else { "" },
                    x.name,
                    cols.join(", ")
                );
                if same_engine {
                    if let Some(p) = &x.predicate {
                        s += &format!(" where {p}");
                    }
                    if let Some(m) = &x.method {
                        s += &format!(" using {m}");
                    }
                }
                s
            })
            .collect())
    };
    diff_sets(&mut schema, indexes(a, &same), indexes(b, &as_a));
    let fks = |t: &TableDef, map: &dyn Fn(&str) -> String| {
        set(t
            .foreign_keys
            .iter()
            .map(|f| {
                let target = if same_engine {
                    f.ref_table.to_string()
                } else {
                    f.ref_table.name.to_lowercase()
                };
                format!(
                    "foreign key ({}) references {target} ({}) on delete {} on update {}",
                    f.columns
                        .iter()
                        .map(|c| map(c))
                        .collect::<Vec<_>>()
                        .join(", "),
                    f.ref_columns.join(", "),
                    f.on_delete.sql(),
                    f.on_update.sql()
                )
            })
            .collect())
    };
    diff_sets(&mut schema, fks(a, &same), fks(b, &as_a));

    let (key, no_key) = key(a, b, &cols, &pk_a, &pk_b);
    let all = |n: usize, pos: &mut dyn Iterator<Item = usize>| pos.eq(0..n);
    let identity = norms.iter().all(|n| *n == Norm::Exact);
    Pair {
        name: a.name.to_string(),
        identity_a: identity && all(a.columns.len(), &mut cols.iter().map(|c| c.0)),
        identity_b: identity && all(b.columns.len(), &mut cols.iter().map(|c| c.1)),
        cols_a: cols.iter().map(|c| c.0).collect(),
        cols_b: cols.iter().map(|c| c.1).collect(),
        names: cols.iter().map(|c| a.columns[c.0].name.clone()).collect(),
        norms,
        key,
        no_key,
        schema,
        a: a.clone(),
        b: b.clone(),
    }
}

/// The key rows are narrowed down by: side A's primary key, when side B
/// has the same one and every key column is compared.
fn key(
    a: &TableDef,
    b: &TableDef,
    cols: &[(usize, usize)],
    pk_a: &Option<Vec<String>>,
    pk_b: &Option<Vec<String>>,
) -> (Option<Key>, Option<String>) {
    let Some(pk) = pk_a else {
        return (
            None,
            Some("no primary key: counts and checksums only".into()),
        );
    };
    if pk_a != pk_b {
        return (
            None,
            Some("the primary keys differ: counts and checksums only".into()),
        );
    }
    let mut positions = Vec::new();
    let mut names_b = Vec::new();
    for name in pk {
        let Some(p) = cols.iter().position(|(i, _)| a.columns[*i].name == *name) else {
            return (
                None,
                Some(format!("key column {name} is not on both sides")),
            );
        };
        positions.push(p);
        names_b.push(b.columns[cols[p].1].name.clone());
    }
    let int = |ty: &ColumnType| {
        matches!(
            ty,
            ColumnType::Int16 | ColumnType::Int32 | ColumnType::Int64
        )
    };
    let single_int = positions.len() == 1
        && int(&a.columns[cols[positions[0]].0].ty)
        && int(&b.columns[cols[positions[0]].1].ty);
    (
        Some(Key {
            positions,
            int: single_int,
            names_a: pk.clone(),
            names_b,
        }),
        None,
    )
}

/// Lines for what one sorted list has and the other has not.
fn diff_sets(out: &mut Vec<String>, a: Vec<String>, b: Vec<String>) {
    for x in a.iter().filter(|x| !b.contains(x)) {
        out.push(format!("{x} missing in target"));
    }
    for x in b.iter().filter(|x| !a.contains(x)) {
        out.push(format!("{x} extra in target"));
    }
}

fn type_text(ty: &ColumnType, native: &str) -> String {
    format!("{native} ({})", ty.display_name())
}

/// The neutral type as it is compared across engines: its kind and sizes
/// (a time's precision and a text's national flag are each engine's).
fn neutral(ty: &ColumnType) -> String {
    ty.display_name()
}
