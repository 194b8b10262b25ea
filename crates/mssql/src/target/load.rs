//! Loading one table's rows ([`bru_core::Target::load`]): where each
//! archive column goes and how its values are encoded (from the target
//! column's own type, see [`super::values`]), then either TDS bulk load
//! through a stage table ([`super::bulk`], every table without a
//! `sql_variant` column) or batched parameterized INSERTs, each chunk in
//! one transaction that commits with its journal key.
//!
//! Triggers never fire on a restored row: a table this restore created
//! has none yet (they are created after the data); into an existing table
//! (`--data-only`) each chunk's transaction disables the table's enabled
//! triggers first and enables them again before it commits. Both paths
//! write with an `INSERT` (the bulk path's `INSERT … SELECT` from its
//! stage), so checks and foreign keys of an existing table hold for
//! restored rows as for any other.
//!
//! Identity values are kept: the loader turns `IDENTITY_INSERT` on for its
//! table while it writes (one table a session at a time, which is how the
//! restore drives a session) and off when it is done or dropped. Computed
//! columns are left to the server. A `rowversion` column cannot be written
//! (the server sets it): its values are reported as not restored.
//!
//! An INSERT holds at most 1000 rows (SQL Server's limit for a VALUES
//! list) and 2000 parameters (its limit is 2100).

use bru_core::{Error, RowBatch, TableDef, TableLoader};

use super::bulk::Stage;
use super::quote::{ident, qualified};
use super::session::Session;
use super::values::{encode, Enc, Param};
use super::{MssqlTarget, Shared};

const MAX_ROWS: usize = 1000;
const MAX_PARAMS: usize = 2000;

/// Writes the rows of one table.
pub(super) struct MssqlLoader<'a> {
    session: &'a Session,
    shared: &'a Shared,
    table: String,
    /// `INSERT INTO [s].[t] ([a], [b]) VALUES `.
    insert: String,
    /// Per archive column: its encoding and name, or `None` when the
    /// column is not written.
    plan: Vec<Option<(Enc, String)>>,
    rows_per_statement: usize,
    /// The bulk-load stage, when the table's rows go through one.
    stage: Option<Stage>,
    /// `IDENTITY_INSERT` is on for the table.
    identity: Option<String>,
    /// `DISABLE TRIGGER` and `ENABLE TRIGGER` for the table's enabled
    /// triggers (an existing table, `--data-only`), run inside each
    /// chunk's transaction, so no trigger fires on a restored row and a
    /// crash leaves none disabled.
    triggers: Option<(String, String)>,
    in_tx: bool,
    rows: u64,
    context: String,
}

impl MssqlTarget {
    /// A loader for `table`, which must exist in the target.
    pub(super) fn open_loader(&mut self, table: &TableDef) -> bru_core::Result<MssqlLoader<'_>> {
        let columns = self.target_columns(&table.name)?;
        let mut plan = Vec::with_capacity(table.columns.len());
        let mut names = Vec::new();
        let mut identity = false;
        for c in &table.columns {
            let t = columns
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(&c.name))
                .ok_or_else(|| {
                    Error::engine(
                        format!("loading {}", table.name),
                        format!("column {} does not exist in the target", c.name),
                    )
                })?;
            if t.is_computed {
                plan.push(None);
                continue;
            }
            match Enc::of(&t.ty) {
                Ok(enc) => {
                    identity |= t.is_identity;
                    names.push(ident(&t.name));
                    plan.push(Some((enc, c.name.clone())));
                }
                Err(why) => {
                    self.shared.skip(format!(
                        "table {}, column {}: its values were not restored: {why}",
                        table.name, c.name
                    ));
                    plan.push(None);
                }
            }
        }
        let q = qualified(&table.name);
        let width = names.len().max(1);
        let stage = if self.shared.bulk.load(std::sync::atomic::Ordering::Relaxed) {
            let written: Vec<(&super::values::Enc, String)> = plan
                .iter()
                .flatten()
                .zip(&names)
                .map(|((enc, _), name)| (enc, name.clone()))
                .collect();
            Stage::plan(&q, &written)
        } else {
            None
        };
        if let Some(stage) = &stage {
            self.session.batch(
                &stage.create,
                &format!("loading {}: creating its bulk-load stage", table.name),
            )?;
        }
        let triggers = self.enabled_triggers(&table.name)?;
        let triggers = (!triggers.is_empty()).then(|| {
            let statements = |verb: &str| {
                triggers
                    .iter()
                    .map(|t| format!("{verb} TRIGGER {t} ON {q}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            (statements("DISABLE"), statements("ENABLE"))
        });
        let identity = if identity {
            self.session.batch(
                &format!("SET IDENTITY_INSERT {q} ON"),
                &format!("loading {}: keeping its identity values", table.name),
            )?;
            Some(q.clone())
        } else {
            None
        };
        Ok(MssqlLoader {
            session: &self.session,
            shared: &self.shared,
            table: table.name.to_string(),
            insert: format!("INSERT INTO {q} ({}) VALUES ", names.join(", ")),
            plan,
            rows_per_statement: (MAX_PARAMS / width).clamp(1, MAX_ROWS),
            stage,
            identity,
            triggers,
            in_tx: false,
            rows: 0,
            context: format!("loading {}", table.name),
        })
    }
}

impl MssqlLoader<'_> {
    /// One INSERT of `rows` of `batch`.
    fn insert(&self, batch: &RowBatch, rows: std::ops::Range<usize>) -> bru_core::Result<()> {
        let mut sql = self.insert.clone();
        let mut params: Vec<Param> = Vec::new();
        for (k, r) in rows.enumerate() {
            if k > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            let mut first = true;
            for (c, planned) in self.plan.iter().enumerate() {
                let Some((enc, column)) = planned else {
                    continue;
                };
                let value = batch.get(r, c);
                let encoded =
                    encode(enc, value, self.session.babelfish).map_err(|reason| Error::Value {
                        table: self.table.clone(),
                        column: column.clone(),
                        value: value.describe(),
                        reason,
                    })?;
                if !first {
                    sql.push_str(", ");
                }
                first = false;
                let Some(param) = encoded.param else {
                    sql.push_str(encoded.expr.as_deref().unwrap_or("NULL"));
                    continue;
                };
                params.push(param);
                let p = format!("@P{}", params.len());
                match encoded.expr {
                    Some(expr) => sql.push_str(&expr.replacen("@P", &p, 1)),
                    None => sql.push_str(&p),
                }
            }
            sql.push(')');
        }
        self.session.execute(&sql, params, &self.context)?;
        Ok(())
    }
}

impl MssqlLoader<'_> {
    /// Turns the table's triggers back on, before the chunk commits.
    fn enable_triggers(&self) -> bru_core::Result<()> {
        match &self.triggers {
            Some((_, enable)) => self.session.batch(enable, &self.context),
            None => Ok(()),
        }
    }
}

impl MssqlTarget {
    /// The enabled triggers on `table`, as `[schema].[name]`.
    fn enabled_triggers(&mut self, table: &bru_core::TableName) -> bru_core::Result<Vec<String>> {
        let rows = self.session.rows(
            "SELECT s.name, tr.name FROM sys.triggers tr \
               JOIN sys.objects o ON o.object_id = tr.object_id \
               JOIN sys.schemas s ON s.schema_id = o.schema_id \
              WHERE tr.parent_id = OBJECT_ID(@P1) AND tr.is_disabled = 0",
            vec![super::session::text_param(&qualified(table))],
            &format!("reading the triggers of {table}"),
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let mut c = r.into_iter().map(super::session::cell_text);
                let (s, n) = (c.next()??, c.next()??);
                Some(qualified(&bru_core::TableName::new(Some(&s), &n)))
            })
            .collect())
    }
}

impl TableLoader for MssqlLoader<'_> {
    fn write_batch(&mut self, batch: &RowBatch) -> bru_core::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        if batch.column_count() != self.plan.len() {
            return Err(Error::engine(
                &self.context,
                format!(
                    "the archive's rows have {} columns, the table {}",
                    batch.column_count(),
                    self.plan.len()
                ),
            ));
        }
        if !self.in_tx {
            self.session.batch("BEGIN TRANSACTION", &self.context)?;
            self.in_tx = true;
            if let Some((disable, _)) = &self.triggers {
                self.session.batch(disable, &self.context)?;
            }
        }
        let n = batch.row_count();
        let staged_rows = match &self.stage {
            Some(stage) => stage.rows(&self.table, &self.plan, batch, self.session.babelfish)?,
            None => None,
        };
        if let (Some(stage), Some(rows)) = (&self.stage, staged_rows) {
            let staged = self.session.bulk(&stage.name, rows, &self.context)?;
            if staged != n as u64 {
                return Err(Error::engine(
                    &self.context,
                    format!("the server took {staged} of {n} bulk-loaded rows"),
                ));
            }
            self.session.batch(&stage.move_rows, &self.context)?;
        } else {
            let mut start = 0;
            while start < n {
                let end = (start + self.rows_per_statement).min(n);
                self.insert(batch, start..end)?;
                start = end;
            }
        }
        self.rows += n as u64;
        Ok(())
    }

    fn commit_chunk(&mut self, key: &str) -> bru_core::Result<()> {
        if self.in_tx {
            self.enable_triggers()?;
            self.shared
                .journal
                .commit_chunk(self.session, key, &self.context)?;
            self.in_tx = false;
            Ok(())
        } else {
            self.shared.journal.mark(self.session, key)
        }
    }

    fn finish(mut self: Box<Self>) -> bru_core::Result<u64> {
        if self.in_tx {
            self.enable_triggers()?;
            self.session.batch("COMMIT TRANSACTION", &self.context)?;
            self.in_tx = false;
        }
        if let Some(q) = self.identity.take() {
            self.session
                .batch(&format!("SET IDENTITY_INSERT {q} OFF"), &self.context)?;
        }
        if let Some(stage) = self.stage.take() {
            self.session.batch(&stage.drop, &self.context)?;
        }
        Ok(self.rows)
    }
}

impl Drop for MssqlLoader<'_> {
    /// A loader dropped before [`TableLoader::finish`] (an error) rolls
    /// back its open chunk, gives the session's IDENTITY_INSERT back and
    /// drops its stage.
    fn drop(&mut self) {
        if self.in_tx {
            let _ = self
                .session
                .batch("IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION", &self.context);
        }
        if let Some(q) = self.identity.take() {
            let _ = self
                .session
                .batch(&format!("SET IDENTITY_INSERT {q} OFF"), &self.context);
        }
        if let Some(stage) = self.stage.take() {
            let _ = self.session.batch(&stage.drop, &self.context);
        }
    }
}
