//! Planning one table's load ([`bru_core::Target::load`]) in named steps:
//! where each archive column goes and what is checked on its way
//! ([`plan_columns`]), whether the table goes through a staging table
//! ([`stage_for`]), whether it may be loaded frozen, and which triggers to
//! turn off ([`PgTarget::triggers_to_turn_off`]). The loader it returns,
//! [`PgLoader`], streams the rows.

use std::collections::HashMap;

use bru_core::{ColumnType, Error, TableDef, TableName};
use bytes::BytesMut;

use crate::quote::{ident, qualified, target_name};
use crate::values::Wire;

use super::checks::{Keeps, TargetColumn};
use super::copy::{PgLoader, Stage, SEND_THRESHOLD};
use super::{same_engine, PgTarget};

/// One archive column's way into the target.
struct Planned {
    name: String,
    wire: Wire,
    type_name: String,
    keeps: Keeps,
    verify_jsonb: bool,
}

impl PgTarget {
    /// A loader for the rows of `table`, which must exist in the target.
    pub(super) fn open_loader(&mut self, table: &TableDef) -> bru_core::Result<PgLoader<'_>> {
        self.open_writer(table, None)
    }

    /// A loader whose rows replace the rows with the same values in the
    /// key columns `key` (positions in `table.columns`), for a delta
    /// archive: staged, then `INSERT … ON CONFLICT (key) DO UPDATE`, which
    /// updates a row in place (no delete, so no ON DELETE action runs).
    pub(super) fn open_upserter(
        &mut self,
        table: &TableDef,
        key: &[usize],
    ) -> bru_core::Result<PgLoader<'_>> {
        self.open_writer(table, Some(key))
    }

    fn open_writer(
        &mut self,
        table: &TableDef,
        key: Option<&[usize]>,
    ) -> bru_core::Result<PgLoader<'_>> {
        let name = target_name(&table.name);
        self.live()?;
        let (partitioned, target_cols) = self.target_columns(&table.name)?;
        let plan = plan_columns(table, &name, &target_cols)?;
        let loaded: Vec<&Planned> = plan.iter().flatten().collect();
        let q = qualified(&name);
        let col_list = column_list(&loaded);
        let conflict = key.filter(|k| !k.is_empty()).map(|key| {
            let keys: Vec<&str> = key
                .iter()
                .map(|&i| table.columns[i].name.as_str())
                .collect();
            let set: Vec<String> = loaded
                .iter()
                .filter(|p| !keys.contains(&p.name.as_str()))
                .map(|p| format!("{0} = EXCLUDED.{0}", ident(&p.name)))
                .collect();
            let keys: Vec<String> = keys.iter().map(|k| ident(k)).collect();
            if set.is_empty() {
                format!(" ON CONFLICT ({}) DO NOTHING", keys.join(", "))
            } else {
                format!(
                    " ON CONFLICT ({}) DO UPDATE SET {}",
                    keys.join(", "),
                    set.join(", ")
                )
            }
        });
        let stage = match conflict {
            Some(c) => Some(build_stage(&q, &col_list, &loaded, &c)),
            None => stage_for(&q, &col_list, &loaded),
        };
        let copy_sql = match &stage {
            Some(_) => format!("COPY pg_temp.bru_stage {col_list} FROM STDIN (FORMAT binary)"),
            None => format!("COPY {q} {col_list} FROM STDIN (FORMAT binary"),
        };
        let freeze = stage.is_none() && !partitioned && self.shared.created(&name);
        let (triggers, replica) = self.triggers_to_turn_off(&name)?;
        let mut buf = BytesMut::with_capacity(SEND_THRESHOLD + (64 << 10));
        buf.clear();
        Ok(PgLoader {
            conn: &self.conn,
            shared: &self.shared,
            sink: None,
            table: name.to_string(),
            qualified: q,
            columns: table.columns.iter().map(|c| c.name.clone()).collect(),
            wires: plan.iter().map(|p| p.as_ref().map(|p| p.wire)).collect(),
            keeps: plan
                .iter()
                .map(|p| p.as_ref().map(|p| p.keeps).filter(Keeps::any))
                .collect(),
            fields: loaded.len(),
            buf,
            copy_sql,
            stage,
            freeze,
            triggers,
            replica,
            context: format!("loading {name}"),
            rows: 0,
            in_tx: false,
        })
    }

    /// The user triggers a load into `name` turns off, and whether it loads
    /// in replica mode. Into an existing table (--data-only), a superuser
    /// loads in replica mode, as pg_restore --disable-triggers does:
    /// foreign-key checks and ordinary triggers stay off, so tables may be
    /// loaded in any order. ALWAYS and REPLICA triggers would still fire
    /// there, so they are turned off by name; other users turn off all of
    /// them.
    pub(super) fn triggers_to_turn_off(
        &mut self,
        name: &TableName,
    ) -> bru_core::Result<(Vec<(String, String)>, bool)> {
        let mut triggers = self.enabled_triggers(name)?;
        let replica = !self.shared.created(name) && self.is_superuser()?;
        if replica {
            triggers.retain(|(_, state)| state != "O");
        }
        Ok((triggers, replica))
    }

    /// Whether this session's user is a superuser.
    fn is_superuser(&mut self) -> bru_core::Result<bool> {
        let rows = self.live()?.query(
            "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user",
            &[],
            "checking the target user's privileges",
        )?;
        Ok(rows
            .first()
            .and_then(|r| r.try_get(0).ok())
            .unwrap_or(false))
    }

    /// The enabled user triggers of `table` with their state (`O`, `A`,
    /// `R`), which a load turns off while it writes.
    fn enabled_triggers(&mut self, table: &TableName) -> bru_core::Result<Vec<(String, String)>> {
        let t = target_name(table);
        let context = format!("reading the triggers of {t}");
        let rows = self.live()?.query(
            "SELECT t.tgname::text, t.tgenabled::text FROM pg_catalog.pg_trigger t
               JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relname = $2 AND NOT t.tgisinternal AND t.tgenabled <> 'D'
              ORDER BY 1",
            &[
                &t.schema.clone().unwrap_or_else(|| "public".into()),
                &t.name,
            ],
            &context,
        )?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get(0).map_err(|e| Error::engine(&context, e))?,
                    r.try_get(1).map_err(|e| Error::engine(&context, e))?,
                ))
            })
            .collect()
    }
}

/// Per archive column of `table`: where it goes, or `None` for a generated
/// column the target computes itself. Fails if a column is missing in the
/// target table `name`.
fn plan_columns(
    table: &TableDef,
    name: &TableName,
    target_cols: &[TargetColumn],
) -> bru_core::Result<Vec<Option<Planned>>> {
    let by_name: HashMap<&str, &TargetColumn> =
        target_cols.iter().map(|c| (c.name.as_str(), c)).collect();
    let mut plan = Vec::with_capacity(table.columns.len());
    for c in &table.columns {
        let t = by_name.get(c.name.as_str()).ok_or_else(|| {
            Error::engine(
                format!("loading {name}"),
                format!("column {} does not exist in the target", c.name),
            )
        })?;
        // jsonb rewrites its text (key order, spacing, duplicate keys):
        // text from anything but a PostgreSQL jsonb column goes through
        // the staging table, where a value jsonb would change is found
        // and refused.
        let from_jsonb = same_engine(table) && c.ty == ColumnType::Json { binary: true };
        let (wire, verify_jsonb) = if t.wire == Wire::Jsonb && !from_jsonb {
            (Wire::NativeText, true)
        } else {
            (t.wire, false)
        };
        plan.push((!t.generated).then(|| Planned {
            name: c.name.clone(),
            wire,
            type_name: t.type_name.clone(),
            // A PostgreSQL column of the very same type and modifier
            // only ever held values that fit: nothing to check. (The
            // neutral interval type has no fields or digits: the
            // PostgreSQL type names must match too.)
            keeps: if same_engine(table)
                && t.neutral.as_ref() == Some(&c.ty)
                && (t.wire != Wire::Interval || c.native_type == t.type_name)
            {
                Keeps::default()
            } else {
                t.keeps
            },
            verify_jsonb,
        }));
    }
    Ok(plan)
}

/// The column list of COPY and INSERT, `(a, b)`; a table without columns
/// takes COPY's default (empty) list.
fn column_list(loaded: &[&Planned]) -> String {
    let names = loaded
        .iter()
        .map(|p| ident(&p.name))
        .collect::<Vec<_>>()
        .join(", ");
    if names.is_empty() {
        String::new()
    } else {
        format!("({names})")
    }
}

/// The staging table for a load into `q` when any column is carried as
/// text ([`Stage`]), else `None`.
fn stage_for(q: &str, col_list: &str, loaded: &[&Planned]) -> Option<Stage> {
    if !loaded.iter().any(|p| p.wire.is_text_fallback()) {
        return None;
    }
    Some(build_stage(q, col_list, loaded, ""))
}

/// The staging table for a load into `q`, its INSERT ending in `conflict`
/// (an `ON CONFLICT` clause, or nothing).
fn build_stage(q: &str, col_list: &str, loaded: &[&Planned], conflict: &str) -> Stage {
    let defs: Vec<String> = loaded
        .iter()
        .map(|p| {
            let ty = if p.wire.is_text_fallback() {
                "text"
            } else {
                p.type_name.as_str()
            };
            format!("{} {ty}", ident(&p.name))
        })
        .collect();
    let casts: Vec<(String, String)> = loaded
        .iter()
        .filter(|p| p.wire.is_text_fallback())
        .map(|p| (p.name.clone(), p.type_name.clone()))
        .collect();
    let verify: Vec<String> = loaded
        .iter()
        .filter(|p| p.verify_jsonb)
        .map(|p| p.name.clone())
        .collect();
    let select: Vec<String> = loaded
        .iter()
        .map(|p| {
            if p.wire.is_text_fallback() {
                format!("{}::{}", ident(&p.name), p.type_name)
            } else {
                ident(&p.name)
            }
        })
        .collect();
    Stage {
        create: format!(
            "CREATE TEMPORARY TABLE bru_stage ({}) ON COMMIT DROP",
            defs.join(", ")
        ),
        insert: format!(
            "INSERT INTO {q} {col_list} OVERRIDING SYSTEM VALUE SELECT {} FROM pg_temp.bru_stage{conflict}",
            select.join(", ")
        ),
        casts,
        verify_jsonb: verify,
    }
}
