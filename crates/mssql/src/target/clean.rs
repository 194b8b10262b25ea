//! `--clean`: what dropping the archive's tables and objects takes with it
//! in SQL Server, as the server's catalogs say (never by searching SQL
//! text), and dropping all of it in one transaction.
//!
//! SQL Server refuses to drop a table that a foreign key of another table
//! references, or that a schema-bound view or function reads; it drops a
//! table's triggers with it; a view or procedure that reads it by name
//! only (not schema-bound) stays, and fails when next used. So the plan
//! lists, besides the archive's own objects found under their names, the
//! foreign keys of other tables to them (`sys.foreign_keys`), their
//! triggers (`sys.triggers`), and, transitively, every schema-bound
//! object over them (`sys.sql_expression_dependencies`). The drop runs
//! foreign keys first, then modules, then tables, sequences and types.

use std::collections::HashSet;

use bru_core::{Dropped, Error, ObjectDef, ObjectKind, TableDef, TableName};
use tiberius::ColumnData;

use super::quote::{ident, qualified};
use super::session::{cell_int, cell_text, text_param};
use super::MssqlTarget;
use crate::ENGINE_NAME;

/// One object the plan drops.
#[derive(Debug, Clone)]
struct Item {
    /// `sys.objects.object_id`; `None` for a type.
    id: Option<i64>,
    /// `sys.objects.type` (`U`, `V`, `P`, `FN`, `TR`, `SO`…), `TY` for a
    /// type, `F` for a foreign key.
    ty: String,
    schema: String,
    name: String,
    /// For a foreign key: its table.
    on: Option<(String, String)>,
    dropped: Dropped,
}

fn kind_word(ty: &str) -> &'static str {
    match ty {
        "U" => "table",
        "V" => "view",
        "P" | "PC" => "procedure",
        "FN" | "IF" | "TF" | "FS" | "FT" => "function",
        "TR" => "trigger",
        "SO" => "sequence",
        "TY" => "type",
        "F" => "constraint",
        _ => "object",
    }
}

impl Item {
    fn label(&self) -> String {
        match &self.on {
            Some((s, t)) => format!("constraint {} on table {s}.{t}", self.name),
            None => format!("{} {}.{}", kind_word(&self.ty), self.schema, self.name),
        }
    }

    fn drop_sql(&self) -> String {
        let q = qualified(&TableName::new(Some(&self.schema), &self.name));
        match self.ty.as_str() {
            "F" => {
                let (s, t) = self.on.clone().unwrap_or_default();
                format!(
                    "ALTER TABLE {} DROP CONSTRAINT {}",
                    qualified(&TableName::new(Some(&s), &t)),
                    ident(&self.name)
                )
            }
            "TY" => format!("DROP TYPE {q}"),
            t => format!("DROP {} {q}", kind_word(t).to_uppercase()),
        }
    }

    /// The order of the drop: foreign keys, triggers, other modules,
    /// tables, sequences, types.
    fn rank(&self) -> u8 {
        match self.ty.as_str() {
            "F" => 0,
            "TR" => 1,
            "U" => 3,
            "SO" => 4,
            "TY" => 5,
            _ => 2,
        }
    }
}

/// A row's cells.
fn cells(row: tiberius::Row) -> Vec<ColumnData<'static>> {
    row.into_iter().collect()
}

impl MssqlTarget {
    /// The object named `name` in the target: its id, type, schema and
    /// name as the server spells them.
    fn find_object(
        &mut self,
        name: &TableName,
    ) -> bru_core::Result<Option<(i64, String, String, String)>> {
        let rows = self.session.rows(
            "SELECT CAST(o.object_id AS bigint), RTRIM(o.type), s.name, o.name FROM sys.objects o \
               JOIN sys.schemas s ON s.schema_id = o.schema_id WHERE o.object_id = OBJECT_ID(@P1)",
            vec![text_param(&qualified(name))],
            "listing what --clean drops",
        )?;
        Ok(rows.into_iter().next().and_then(|r| {
            let mut c = cells(r).into_iter();
            Some((
                c.next().and_then(cell_int)?,
                c.next().and_then(cell_text)?,
                c.next().and_then(cell_text)?,
                c.next().and_then(cell_text)?,
            ))
        }))
    }

    /// Objects found by a query over one `@P1` object id, as (id, type,
    /// schema, name, table schema, table name).
    fn related(&mut self, sql: &str, id: i64) -> bru_core::Result<Vec<Vec<Option<String>>>> {
        let rows = self.session.rows(
            sql,
            vec![super::values::Param(ColumnData::I64(Some(id)))],
            "listing what --clean drops",
        )?;
        Ok(rows
            .into_iter()
            .map(|r| cells(r).into_iter().map(cell_text).collect())
            .collect())
    }

    /// Everything `--clean` drops, in drop order.
    fn clean_items(
        &mut self,
        tables: &[TableDef],
        objects: &[ObjectDef],
    ) -> bru_core::Result<Vec<Item>> {
        let mut items: Vec<Item> = Vec::new();
        let mut seen: HashSet<i64> = HashSet::new();
        let own = |id: i64, ty: String, schema: String, name: String| {
            let mut it = Item {
                id: Some(id),
                ty,
                schema,
                name,
                on: None,
                dropped: Dropped::own(""),
            };
            it.dropped = Dropped::own(it.label());
            it
        };
        for t in tables {
            if let Some((id, ty, s, n)) = self.find_object(&t.name)? {
                if seen.insert(id) {
                    items.push(own(id, ty, s, n));
                }
            }
        }
        for o in objects
            .iter()
            .filter(|o| o.engine == ENGINE_NAME && o.not_carried.is_none())
        {
            if o.kind == ObjectKind::Type {
                let rows = self.session.rows(
                    "SELECT CAST(TYPE_ID(@P1) AS bigint)",
                    vec![text_param(&qualified(&o.name))],
                    "listing what --clean drops",
                )?;
                let found = rows
                    .into_iter()
                    .next()
                    .and_then(|r| r.into_iter().next())
                    .and_then(cell_int);
                if found.is_some() {
                    let mut it = Item {
                        id: None,
                        ty: "TY".into(),
                        schema: super::quote::schema_of(&o.name).to_owned(),
                        name: o.name.name.clone(),
                        on: None,
                        dropped: Dropped::own(""),
                    };
                    it.dropped = Dropped::own(it.label());
                    items.push(it);
                }
                continue;
            }
            if o.kind == ObjectKind::Schema {
                continue;
            }
            if let Some((id, ty, s, n)) = self.find_object(&o.name)? {
                if seen.insert(id) {
                    items.push(own(id, ty, s, n));
                }
            }
        }
        // What depends on the dropped tables and modules, transitively.
        let mut k = 0;
        while k < items.len() {
            let it = items[k].clone();
            k += 1;
            let Some(id) = it.id else { continue };
            let on = it.label();
            if it.ty == "U" {
                for r in self.related(
                    "SELECT CAST(fk.object_id AS bigint), fk.name, s.name, p.name, \
                            CAST(p.object_id AS bigint) FROM sys.foreign_keys fk \
                       JOIN sys.objects p ON p.object_id = fk.parent_object_id \
                       JOIN sys.schemas s ON s.schema_id = p.schema_id \
                      WHERE fk.referenced_object_id = @P1",
                    id,
                )? {
                    let fk_id: i64 = r[0].as_deref().and_then(|v| v.parse().ok()).unwrap_or(0);
                    let parent: i64 = r[4].as_deref().and_then(|v| v.parse().ok()).unwrap_or(0);
                    // A foreign key of a table dropped anyway goes with it
                    // (it is dropped first, as part of that table).
                    let parent_dropped = items.iter().any(|i| i.id == Some(parent) && i.ty == "U");
                    if !seen.insert(fk_id) {
                        continue;
                    }
                    let mut fk = Item {
                        id: Some(fk_id),
                        ty: "F".into(),
                        schema: r[2].clone().unwrap_or_default(),
                        name: r[1].clone().unwrap_or_default(),
                        on: Some((
                            r[2].clone().unwrap_or_default(),
                            r[3].clone().unwrap_or_default(),
                        )),
                        dropped: Dropped::own(""),
                    };
                    fk.dropped = if parent_dropped || parent == id {
                        Dropped::own(fk.label())
                    } else {
                        Dropped::dependent(fk.label(), on.clone())
                    };
                    items.push(fk);
                }
                for r in self.related(
                    "SELECT CAST(tr.object_id AS bigint), RTRIM(o.type), s.name, tr.name \
                       FROM sys.triggers tr JOIN sys.objects o ON o.object_id = tr.object_id \
                       JOIN sys.schemas s ON s.schema_id = o.schema_id WHERE tr.parent_id = @P1",
                    id,
                )? {
                    self.push_dependent(&mut items, &mut seen, &r, &on);
                }
            }
            for r in self.related(
                "SELECT DISTINCT CAST(o.object_id AS bigint), RTRIM(o.type), s.name, o.name \
                   FROM sys.sql_expression_dependencies d \
                   JOIN sys.objects o ON o.object_id = d.referencing_id \
                   JOIN sys.schemas s ON s.schema_id = o.schema_id \
                  WHERE d.referenced_id = @P1 AND d.is_schema_bound_reference = 1",
                id,
            )? {
                self.push_dependent(&mut items, &mut seen, &r, &on);
            }
        }
        // Foreign keys between dropped tables are the tables' own: listed
        // with no dependency, and not as separate entries of the plan.
        items.sort_by_key(Item::rank);
        Ok(items)
    }

    fn push_dependent(
        &self,
        items: &mut Vec<Item>,
        seen: &mut HashSet<i64>,
        r: &[Option<String>],
        on: &str,
    ) {
        let Some(id) = r[0].as_deref().and_then(|v| v.parse::<i64>().ok()) else {
            return;
        };
        if !seen.insert(id) {
            return;
        }
        let mut it = Item {
            id: Some(id),
            ty: r[1].clone().unwrap_or_default(),
            schema: r[2].clone().unwrap_or_default(),
            name: r[3].clone().unwrap_or_default(),
            on: None,
            dropped: Dropped::own(""),
        };
        it.dropped = Dropped::dependent(it.label(), on);
        items.push(it);
    }

    /// [`bru_core::Target::clean_plan`]. Foreign keys between the
    /// archive's own tables are dropped with them and not listed.
    pub(super) fn clean_list(
        &mut self,
        tables: &[TableDef],
        objects: &[ObjectDef],
    ) -> bru_core::Result<Vec<Dropped>> {
        Ok(self
            .clean_items(tables, objects)?
            .into_iter()
            .filter(|i| !(i.ty == "F" && i.dropped.depends_on.is_none()))
            .map(|i| i.dropped)
            .collect())
    }

    /// [`bru_core::Target::clean`]: drops what the plan listed, in one
    /// transaction, or nothing if the target changed since.
    pub(super) fn clean_drop(
        &mut self,
        tables: &[TableDef],
        objects: &[ObjectDef],
        plan: &[Dropped],
    ) -> bru_core::Result<()> {
        let items = self.clean_items(tables, objects)?;
        let now: HashSet<&Dropped> = items
            .iter()
            .filter(|i| !(i.ty == "F" && i.dropped.depends_on.is_none()))
            .map(|i| &i.dropped)
            .collect();
        let planned: HashSet<&Dropped> = plan.iter().collect();
        if now != planned {
            return Err(Error::engine(
                "dropping for --clean",
                "the target changed since the list of what --clean drops was made; run the restore again",
            ));
        }
        if items.is_empty() {
            return Ok(());
        }
        let statements: Vec<String> = items.iter().map(Item::drop_sql).collect();
        self.session.batch(
            &format!(
                "BEGIN TRANSACTION;\n{};\nCOMMIT TRANSACTION",
                statements.join(";\n")
            ),
            "dropping for --clean",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_are_ordered_and_named() {
        let item = |ty: &str, name: &str| Item {
            id: Some(1),
            ty: ty.into(),
            schema: "dbo".into(),
            name: name.into(),
            on: None,
            dropped: Dropped::own(""),
        };
        let mut items = vec![
            item("U", "t"),
            item("V", "v"),
            item("TR", "tr"),
            item("SO", "s"),
        ];
        let mut fk = item("F", "fk_x");
        fk.on = Some(("hr".into(), "other".into()));
        items.push(fk);
        items.sort_by_key(Item::rank);
        let sql: Vec<String> = items.iter().map(Item::drop_sql).collect();
        assert_eq!(
            sql,
            vec![
                "ALTER TABLE [hr].[other] DROP CONSTRAINT [fk_x]",
                "DROP TRIGGER [dbo].[tr]",
                "DROP VIEW [dbo].[v]",
                "DROP TABLE [dbo].[t]",
                "DROP SEQUENCE [dbo].[s]",
            ]
        );
        assert_eq!(items[0].label(), "constraint fk_x on table hr.other");
        assert_eq!(items[2].label(), "view dbo.v");
    }
}
