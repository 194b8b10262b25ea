//! Building one [`TableDef`] from what [`super::tables`] read, in named
//! steps, the way pg_dump's `dumpTableSchema` writes a table: each column's
//! neutral model and its CREATE TABLE line ([`neutral_column`],
//! [`column_ddl`]), the CREATE TABLE statement with its type, inheritance,
//! partitioning and storage options ([`create_statement`]), then the
//! `ALTER TABLE ONLY` statements no CREATE TABLE can say (column
//! properties, [`column_alters`]; an inherited column's own NOT NULL or
//! default; replica identity; a partition's ATTACH, since a partition is
//! created with its own columns in its own order), what the indexes need
//! once they exist ([`after_indexes`]), and the constraints
//! ([`add_constraints`]): keys and checks into the model, every
//! definition's own text into the table's properties, and what has no
//! neutral form or must wait for other objects (exclusion constraints,
//! CHECKs calling the user's functions, index attachments) as objects of
//! their own. Statements go into the archive only in shapes that
//! `crate::trust` checks.

use std::collections::{BTreeMap, HashMap};

use bru_core::{
    CheckConstraint, Column, ColumnType, Error, FkAction, ForeignKey, Generated, Identity,
    IdentityKind, IndexDef, NativeDdl, ObjectDef, ObjectKind, PrimaryKey, TableDef, TableName,
    UniqueConstraint,
};

use crate::quote::{ident, qualified};
use crate::values::neutral_type;
use crate::ENGINE_NAME;

use super::object;
use super::tables::{Col, Con, IndexAttachment, IndexProps, Rel};
use super::Read;
use super::{AFTER_INDEXES, PARTITIONS_OWN_KEYS};

/// A table and the objects it brings that are not part of it (exclusion
/// constraints).
type Built = (TableDef, Vec<ObjectDef>);

/// The table `rel` with its columns `cols`, constraints `cons` and
/// `indexes`; `names` maps the oid of every user table to its name (for
/// parents and referenced tables).
pub(super) fn build_table(
    rel: &Rel,
    cols: Vec<Col>,
    cons: Vec<Con>,
    indexes: Vec<IndexDef>,
    index_props: Vec<IndexProps>,
    names: &HashMap<u32, TableName>,
) -> Result<Built, Error> {
    let mut properties = BTreeMap::new();
    for (i, sql) in after_indexes(rel, &index_props).into_iter().enumerate() {
        properties.insert(format!("{AFTER_INDEXES}{i:03}"), sql);
    }
    let mut columns = Vec::new();
    let mut col_ddl = Vec::new();
    let mut alters = Vec::new();
    let q = qualified(&rel.name);
    for c in &cols {
        let column = neutral_column(c);
        // As pg_dump: a partition has all its columns of its own, in its
        // own order (it is attached afterwards); a child only those it
        // defines locally, the others come from its parents.
        if c.local || rel.is_partition {
            if let Some(line) = column_ddl(rel, c, &column, &mut properties) {
                col_ddl.push(line);
            }
        } else {
            // An inherited column's own NOT NULL and default, which no
            // column line carries.
            let col = ident(&c.name);
            if c.not_null && !c.inherited_not_null {
                alters.push(format!(
                    "ALTER TABLE ONLY {q} ALTER COLUMN {col} SET NOT NULL"
                ));
            }
            if let (Some(def), None) = (&c.default, &column.generated) {
                alters.push(format!(
                    "ALTER TABLE ONLY {q} ALTER COLUMN {col} SET DEFAULT {def}"
                ));
            }
        }
        alters.extend(column_alters(&q, c));
        columns.push(column);
    }
    // A local CHECK that its parents have too is created with the table,
    // as pg_dump does: added after them, it would be taken for theirs and
    // stay inherited only.
    let (inline, cons): (Vec<Con>, Vec<Con>) = cons.into_iter().partition(|c| {
        c.kind == "c" && c.inherited > 0 && !c.needs_function && !c.def.ends_with(" NOT VALID")
    });
    for con in &inline {
        col_ddl.push(format!("CONSTRAINT {} {}", ident(&con.name), con.def));
    }
    let parents: Vec<&TableName> = rel.parents.iter().filter_map(|p| names.get(p)).collect();
    let mut create = create_statement(rel, &parents, &col_ddl, &mut properties);
    match rel.replica_identity.as_str() {
        "n" => alters.push(format!("ALTER TABLE ONLY {q} REPLICA IDENTITY NOTHING")),
        "f" => alters.push(format!("ALTER TABLE ONLY {q} REPLICA IDENTITY FULL")),
        _ => {}
    }
    if let (true, Some(parent)) = (rel.is_partition, parents.first()) {
        alters.push(format!(
            "ALTER TABLE ONLY {} ATTACH PARTITION {q} {}",
            qualified(parent),
            rel.bound.clone().unwrap_or_default()
        ));
    }
    for a in alters {
        create.push_str(";\n");
        create.push_str(&a);
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
        created_after: parents.iter().map(|p| (*p).clone()).collect(),
    };
    let by_num: HashMap<i16, String> = cols.iter().map(|c| (c.num, c.name.clone())).collect();
    table
        .checks
        .extend(inline.into_iter().map(|con| CheckConstraint {
            name: Some(con.name),
            expr: check_expr(&con.def),
        }));
    let extra = add_constraints(&mut table, rel, cons, &by_num, names)?;
    Ok((table, extra))
}

/// `ALTER INDEX <parent's> ATTACH PARTITION <partition's>` for each of
/// `attachments` (`names`: the user tables by oid), hanging on the
/// partition.
pub(super) fn index_attachments(
    attachments: &[IndexAttachment],
    names: &HashMap<u32, TableName>,
) -> Vec<Read> {
    attachments
        .iter()
        .filter_map(|a| {
            let table = names.get(&a.table)?;
            let index = TableName::new(table.schema.as_deref(), &a.index);
            let ddl = format!(
                "ALTER INDEX {} ATTACH PARTITION {}",
                a.parent,
                qualified(&index)
            );
            let mut def = object(
                ObjectKind::IndexAttachment,
                table.schema.as_deref(),
                &a.index,
                ddl,
            );
            def.table = Some(table.clone());
            Some(Read::new(def, "pg_class", a.oid))
        })
        .collect()
}

/// What `rel`'s indexes `props` need once they exist, as pg_dump writes
/// it: their tablespace (pg_dump's `SET default_tablespace`), index column
/// statistics targets, `CLUSTER ON` and `REPLICA IDENTITY USING INDEX`.
fn after_indexes(rel: &Rel, props: &[IndexProps]) -> Vec<String> {
    let q = qualified(&rel.name);
    let mut out = Vec::new();
    for p in props {
        let index = ident(&p.name);
        let qualified_index = match &rel.name.schema {
            Some(s) => format!("{}.{index}", ident(s)),
            None => index.clone(),
        };
        if let Some(space) = &p.tablespace {
            out.push(format!(
                "ALTER INDEX {qualified_index} SET TABLESPACE {space}"
            ));
        }
        for (column, target) in &p.statistics {
            out.push(format!(
                "ALTER INDEX {qualified_index} ALTER COLUMN {column} SET STATISTICS {target}"
            ));
        }
        if p.clustered {
            out.push(format!("ALTER TABLE ONLY {q} CLUSTER ON {index}"));
        }
        if p.replica_identity {
            out.push(format!(
                "ALTER TABLE ONLY {q} REPLICA IDENTITY USING INDEX {index}"
            ));
        }
    }
    out
}

/// The neutral model of column `c`: its type (native when it has no
/// neutral counterpart), identity with its sequence, and generated
/// expression.
fn neutral_column(c: &Col) -> Column {
    let ty = neutral_type(c.type_oid, c.typmod).unwrap_or_else(|| ColumnType::Native {
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
    Column {
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
    }
}

/// Column `c`'s line in CREATE TABLE, from its catalog entry and its
/// neutral model `column` (`None` for a column of a typed table that adds
/// nothing to its type's). An identity column's sequence name goes into
/// `properties` (`postgres.identity_sequence.<column>`).
fn column_ddl(
    rel: &Rel,
    c: &Col,
    column: &Column,
    properties: &mut BTreeMap<String, String>,
) -> Option<String> {
    if rel.of_type.is_some() {
        // A typed table's columns are its type's; a line only adds options.
        let mut d = format!("{} WITH OPTIONS", ident(&c.name));
        if let Some(def) = c.default.as_ref().filter(|_| column.generated.is_none()) {
            d.push_str(&format!(" DEFAULT {def}"));
        } else if !c.not_null {
            return None;
        }
        if c.not_null {
            d.push_str(" NOT NULL");
        }
        return Some(d);
    }
    let mut d = format!("{} {}", ident(&c.name), c.type_name);
    if let Some(coll) = &c.collation {
        d.push_str(&format!(" COLLATE {coll}"));
    }
    if let Some(g) = &column.generated {
        d.push_str(&format!(" GENERATED ALWAYS AS ({}) STORED", g.expr));
    } else if let Some(def) = &c.default {
        d.push_str(&format!(" DEFAULT {def}"));
    }
    if let (Some(id), Some(seq)) = (&column.identity, &c.seq) {
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
    Some(d)
}

/// The `ALTER TABLE ONLY <q> ALTER COLUMN …` statements that give column
/// `c` what no column line can: its statistics target, storage,
/// compression and options, as pg_dump writes them.
fn column_alters(q: &str, c: &Col) -> Vec<String> {
    let at = format!("ALTER TABLE ONLY {q} ALTER COLUMN {}", ident(&c.name));
    let mut out = Vec::new();
    if let Some(n) = c.statistics {
        out.push(format!("{at} SET STATISTICS {n}"));
    }
    if let Some(storage) = &c.storage {
        out.push(format!("{at} SET STORAGE {storage}"));
    }
    if let Some(method) = &c.compression {
        out.push(format!("{at} SET COMPRESSION {method}"));
    }
    if let Some(opts) = c.options.as_deref().filter(|o| !o.is_empty()) {
        out.push(format!("{at} SET ({opts})"));
    }
    out
}

/// The CREATE TABLE of `rel` with the column lines `col_ddl`: UNLOGGED,
/// OF its type, INHERITS its `parents` (a partition is created on its own
/// and attached after, as pg_dump does), PARTITION BY, WITH options and
/// TABLESPACE. What a restore needs to know of them goes into `properties`
/// too.
fn create_statement(
    rel: &Rel,
    parents: &[&TableName],
    col_ddl: &[String],
    properties: &mut BTreeMap<String, String>,
) -> String {
    let mut create = String::from("CREATE ");
    if rel.persistence == "u" {
        create.push_str("UNLOGGED ");
    }
    create.push_str("TABLE ");
    create.push_str(&qualified(&rel.name));
    if let Some(ty) = &rel.of_type {
        create.push_str(&format!(" OF {ty}"));
    }
    if !col_ddl.is_empty() || rel.of_type.is_none() {
        create.push_str(&format!(" (\n    {}\n)", col_ddl.join(",\n    ")));
    }
    match (rel.is_partition, parents.first()) {
        (true, Some(parent)) => {
            properties.insert("postgres.partition_of".into(), parent.to_string());
        }
        (false, Some(first)) => {
            let list: Vec<String> = parents.iter().map(|p| qualified(p)).collect();
            create.push_str(&format!(" INHERITS ({})", list.join(", ")));
            properties.insert("postgres.inherits".into(), first.to_string());
        }
        _ => {}
    }
    if let Some(key) = &rel.partkey {
        create.push_str(&format!(" PARTITION BY {key}"));
        properties.insert("postgres.partition_by".into(), key.clone());
    }
    let options: Vec<&str> = [rel.options.as_deref(), rel.toast_options.as_deref()]
        .into_iter()
        .flatten()
        .filter(|o| !o.is_empty())
        .collect();
    if !options.is_empty() {
        create.push_str(&format!(" WITH ({})", options.join(", ")));
    }
    if let Some(space) = &rel.tablespace {
        create.push_str(&format!(" TABLESPACE {space}"));
    }
    if rel.persistence == "u" {
        properties.insert("postgres.unlogged".into(), "true".into());
    }
    if rel.kind == "p" {
        properties.insert("postgres.partitioned".into(), "true".into());
        // Its partitions carry their keys themselves, attached to its own
        // (archives before this built them from the partitioned table's).
        properties.insert(PARTITIONS_OWN_KEYS.into(), "true".into());
    }
    create
}

/// Adds the constraints `cons` of `rel` to `table`: primary key, unique and
/// check constraints and foreign keys into the model (`by_num` names the
/// columns by number, `names` the referenced tables), each definition's own
/// text into the properties (`postgres.constraint.<name>`). Returns the
/// exclusion constraints as objects. Fails on a foreign key to a table
/// outside the user schemas.
fn add_constraints(
    table: &mut TableDef,
    rel: &Rel,
    cons: Vec<Con>,
    by_num: &HashMap<i16, String>,
    names: &HashMap<u32, TableName>,
) -> Result<Vec<ObjectDef>, Error> {
    let mut extra = Vec::new();
    for con in cons {
        match con.kind.as_str() {
            "p" => {
                table.primary_key = Some(PrimaryKey {
                    name: Some(con.name.clone()),
                    columns: col_names(by_num, &con.keys),
                })
            }
            "u" => table.uniques.push(UniqueConstraint {
                name: Some(con.name.clone()),
                columns: col_names(by_num, &con.keys),
            }),
            "c" if con.needs_function => {
                // Added once the functions it calls exist (they may need
                // the table's row type, so come after the tables): an
                // object of its own, which other engines list as skipped.
                let ddl = format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} {}",
                    qualified(&rel.name),
                    ident(&con.name),
                    con.def
                );
                extra.push(ObjectDef {
                    table: Some(rel.name.clone()),
                    ..object(
                        ObjectKind::CheckConstraint,
                        rel.name.schema.as_deref(),
                        &con.name,
                        ddl,
                    )
                });
                continue;
            }
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
                    columns: col_names(by_num, &con.keys),
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
                    "ALTER TABLE ONLY {} ADD CONSTRAINT {} {}",
                    qualified(&rel.name),
                    ident(&con.name),
                    con.def
                );
                extra.push(ObjectDef {
                    table: Some(rel.name.clone()),
                    ..object(
                        ObjectKind::ExclusionConstraint,
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
    Ok(extra)
}

/// The names of the columns numbered `keys` (`#n` for one not found).
fn col_names(by_num: &HashMap<i16, String>, keys: &[i16]) -> Vec<String> {
    keys.iter()
        .map(|k| by_num.get(k).cloned().unwrap_or_else(|| format!("#{k}")))
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

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
