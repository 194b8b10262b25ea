//! The COPY loader: streams one table's rows to the server as binary COPY,
//! one transaction per chunk, each value checked against what its column
//! keeps and dates, times and uuids that arrive as text parsed strictly.
//! The first transaction into a table this restore created tries COPY
//! FREEZE; a staged table is copied into a temporary table and inserted
//! with casts, so that a value the server refuses is named with its column.
//! A chunk commits with its restore-journal key.

use std::pin::Pin;

use bru_core::{Error, RowBatch, TableLoader, Value};
use bytes::{Bytes, BytesMut};
use futures_util::SinkExt;
use tokio_postgres::CopyInSink;

use crate::conn::{describe, Conn};
use crate::copy_binary::{write_header, write_trailer, TupleWriter};
use crate::quote::ident;
use crate::text_input;
use crate::values::{encode, encode_field_fast, Wire};

use super::checks::{parsed_from_text, Keeps};
use super::Shared;

/// How much COPY data is buffered before it is handed to the connection.
pub(super) const SEND_THRESHOLD: usize = 1 << 20;

/// How a table with text-carried columns is loaded: COPY into a temporary
/// table where those columns are `text`, then an INSERT that casts them.
pub(super) struct Stage {
    pub(super) create: String,
    pub(super) insert: String,
    /// (column, target type) of the cast columns, to name the one whose
    /// value the server refused.
    pub(super) casts: Vec<(String, String)>,
    /// jsonb columns whose text must come out of the cast unchanged.
    pub(super) verify_jsonb: Vec<String>,
}

/// Streams one table's rows into COPY, one transaction at a time: a
/// transaction starts with the first row after a commit and ends at
/// [`TableLoader::commit_chunk`] or [`TableLoader::finish`]. Nothing is
/// visible to other sessions before it commits.
pub(super) struct PgLoader<'a> {
    pub(super) conn: &'a Conn,
    pub(super) shared: &'a Shared,
    /// The open COPY, while a transaction is open.
    pub(super) sink: Option<Pin<Box<CopyInSink<Bytes>>>>,
    pub(super) table: String,
    pub(super) qualified: String,
    pub(super) columns: Vec<String>,
    pub(super) wires: Vec<Option<Wire>>,
    /// What each column keeps, checked before a value is sent (`None`:
    /// nothing to check).
    pub(super) keeps: Vec<Option<Keeps>>,
    pub(super) fields: usize,
    pub(super) buf: BytesMut,
    /// `COPY ... (FORMAT binary` without its closing parenthesis for a
    /// direct load (FREEZE may be added), complete for a staged one.
    pub(super) copy_sql: String,
    pub(super) stage: Option<Stage>,
    /// The first transaction may try TRUNCATE + COPY FREEZE.
    pub(super) freeze: bool,
    /// User triggers to turn off while loading (name, state).
    pub(super) triggers: Vec<(String, String)>,
    /// Load with session_replication_role = replica.
    pub(super) replica: bool,
    pub(super) context: String,
    /// Rows committed so far.
    pub(super) rows: u64,
    /// A transaction is open (and must be rolled back if the loader is
    /// dropped before it commits).
    pub(super) in_tx: bool,
}

impl PgLoader<'_> {
    fn batch(&self, sql: &str) -> bru_core::Result<()> {
        self.conn.batch(sql, &self.context)
    }

    /// Tries to take the table for a frozen load: its lock without waiting
    /// (another session loading it holds a conflicting one), then checks it
    /// is empty, then TRUNCATEs it. Any failure leaves a fresh transaction
    /// for a plain COPY.
    fn try_freeze(&self) -> bru_core::Result<bool> {
        let q = &self.qualified;
        let taken = self.batch(&format!(
            "LOCK TABLE ONLY {q} IN ACCESS EXCLUSIVE MODE NOWAIT"
        ));
        let empty = taken.is_ok()
            && self
                .conn
                .query(
                    &format!("SELECT NOT EXISTS (SELECT 1 FROM ONLY {q})"),
                    &[],
                    &self.context,
                )
                .ok()
                .and_then(|r| r.first().and_then(|r| r.try_get::<_, bool>(0).ok()))
                .unwrap_or(false);
        if empty && self.batch(&format!("TRUNCATE ONLY {q}")).is_ok() {
            return Ok(true);
        }
        self.batch("ROLLBACK; BEGIN")?;
        Ok(false)
    }

    /// Opens a transaction and its COPY.
    fn begin(&mut self) -> bru_core::Result<()> {
        self.batch("BEGIN")?;
        self.in_tx = true;
        let mut copy_sql = self.copy_sql.clone();
        if self.stage.is_none() {
            let frozen = std::mem::take(&mut self.freeze) && self.try_freeze()?;
            copy_sql.push_str(if frozen { ", FREEZE)" } else { ")" });
        }
        if self.replica {
            self.batch("SET LOCAL session_replication_role = replica")?;
        }
        for (t, _) in &self.triggers {
            self.batch(&format!(
                "ALTER TABLE {} DISABLE TRIGGER {}",
                self.qualified,
                ident(t)
            ))?;
        }
        if let Some(stage) = &self.stage {
            self.batch(&stage.create)?;
        }
        let sink = self
            .conn
            .block_on(self.conn.client.copy_in::<_, Bytes>(copy_sql.as_str()))
            .map_err(|e| self.conn.err(&self.context, &e))?;
        self.sink = Some(Box::pin(sink));
        self.buf.clear();
        write_header(&mut self.buf);
        Ok(())
    }

    fn send(&mut self) -> bru_core::Result<()> {
        let data = self.buf.split().freeze();
        let Some(sink) = self.sink.as_mut() else {
            return Err(Error::engine(&self.context, "the COPY was already closed"));
        };
        self.conn
            .block_on(sink.send(data))
            .map_err(|e| self.conn.err(&self.context, &e))
    }

    /// Ends the COPY, moves staged rows into the table, turns the triggers
    /// back on, records `key` in the journal, and commits.
    fn commit(&mut self, key: Option<&str>) -> bru_core::Result<()> {
        write_trailer(&mut self.buf);
        self.send()?;
        let Some(mut sink) = self.sink.take() else {
            return Err(Error::engine(&self.context, "the COPY was already closed"));
        };
        let copied = self
            .conn
            .block_on(sink.as_mut().finish())
            .map_err(|e| self.conn.err(&self.context, &e))?;
        let rows = match &self.stage {
            Some(stage) => self.insert_staged(stage)?,
            None => copied,
        };
        for (t, state) in &self.triggers {
            let how = match state.as_str() {
                "A" => "ENABLE ALWAYS",
                "R" => "ENABLE REPLICA",
                _ => "ENABLE",
            };
            self.batch(&format!(
                "ALTER TABLE {} {how} TRIGGER {}",
                self.qualified,
                ident(t)
            ))?;
        }
        match key {
            // Inside this transaction: the COPY has ended, so the session
            // may run other statements again.
            Some(key) => self
                .shared
                .journal
                .commit_chunk(self.conn, key, &self.context)?,
            None => self.batch("COMMIT")?,
        }
        self.in_tx = false;
        self.rows += rows;
        Ok(())
    }

    /// Runs the staged INSERT. When the server refuses a value, finds the
    /// column it is in, so the error names table, column and value.
    fn insert_staged(&self, stage: &Stage) -> bru_core::Result<u64> {
        self.batch("SAVEPOINT bru_insert")?;
        let err = match self
            .conn
            .block_on(self.conn.client.execute(stage.insert.as_str(), &[]))
        {
            Ok(n) => {
                // Every staged text cast, so every jsonb one is JSON.
                self.verify_jsonb(stage)?;
                return Ok(n);
            }
            Err(e) => self.conn.err(&self.context, &e),
        };
        self.batch("ROLLBACK TO SAVEPOINT bru_insert")?;
        for (column, ty) in &stage.casts {
            let probe = format!(
                "SELECT pg_catalog.count({c}::{ty}) FROM pg_temp.bru_stage",
                c = ident(column)
            );
            if let Err(e) = self
                .conn
                .block_on(self.conn.client.execute(probe.as_str(), &[]))
            {
                let reason = describe(&e);
                let _ = self.batch("ROLLBACK TO SAVEPOINT bru_insert");
                // The server quotes the value it could not read.
                let value = reason
                    .split_once(": \"")
                    .and_then(|(_, v)| v.rsplit_once('"'))
                    .map(|(v, _)| format!("'{v}'"))
                    .unwrap_or_else(|| "(see the reason)".into());
                return Err(Error::Value {
                    table: self.table.clone(),
                    column: column.clone(),
                    value,
                    reason: self.conn.settings.redact(&reason),
                });
            }
        }
        Err(err)
    }

    /// Refuses the first staged text that jsonb would not keep as written
    /// (it reorders keys, respaces, drops duplicate keys). Runs after the
    /// staged INSERT succeeded, so every such text is valid JSON.
    fn verify_jsonb(&self, stage: &Stage) -> bru_core::Result<()> {
        for column in &stage.verify_jsonb {
            let c = ident(column);
            let probe = format!(
                "SELECT {c}, {c}::pg_catalog.jsonb::text FROM pg_temp.bru_stage \
                 WHERE {c}::pg_catalog.jsonb::text <> {c} LIMIT 1"
            );
            let rows = self
                .conn
                .block_on(self.conn.client.query(probe.as_str(), &[]))
                .map_err(|e| self.conn.err(&self.context, &e))?;
            if let Some(row) = rows.first() {
                let text: String = row.try_get(0).unwrap_or_default();
                let canonical: String = row.try_get(1).unwrap_or_default();
                return Err(Error::Value {
                    table: self.table.clone(),
                    column: column.clone(),
                    value: Value::Text(text).describe(),
                    reason: format!(
                        "jsonb would keep it as {}; load it into a json column, \
                         or store jsonb's own text",
                        Value::Text(canonical).describe()
                    ),
                });
            }
        }
        Ok(())
    }
}

impl TableLoader for PgLoader<'_> {
    fn write_batch(&mut self, batch: &RowBatch) -> bru_core::Result<()> {
        if batch.column_count() != self.wires.len() {
            return Err(Error::engine(
                &self.context,
                format!(
                    "a batch has {} columns where the table has {}",
                    batch.column_count(),
                    self.wires.len()
                ),
            ));
        }
        if batch.row_count() == 0 {
            return Ok(());
        }
        if !self.in_tx {
            self.begin()?;
        }
        for row in batch.rows() {
            let mut t = TupleWriter::begin(&mut self.buf, self.fields);
            for (i, v) in row.iter().enumerate() {
                let Some(wire) = self.wires[i] else { continue };
                if matches!(v, Value::Null) {
                    t.null();
                    continue;
                }
                let keeps = self.keeps[i].as_ref();
                if keeps.is_none() && encode_field_fast(wire, v, t.raw()) {
                    continue;
                }
                t.field(|out| match v {
                    Value::Text(s) if parsed_from_text(wire) => {
                        let precision = keeps.and_then(|k| k.precision);
                        let parsed = text_input::parse(wire, precision, s)?;
                        if let Some(k) = keeps {
                            k.check(&parsed)?;
                        }
                        encode(wire, &parsed, out)
                    }
                    _ => {
                        if let Some(k) = keeps {
                            k.check(v)?;
                        }
                        encode(wire, v, out)
                    }
                })
                .map_err(|reason| Error::Value {
                    table: self.table.clone(),
                    column: self.columns[i].clone(),
                    value: v.describe(),
                    reason,
                })?;
            }
            if self.buf.len() >= SEND_THRESHOLD {
                self.send()?;
            }
        }
        Ok(())
    }

    fn commit_chunk(&mut self, key: &str) -> bru_core::Result<()> {
        if !self.in_tx {
            // No rows since the last commit: the key alone.
            return self.shared.journal.mark(self.conn, key);
        }
        self.commit(Some(key))
    }

    fn finish(mut self: Box<Self>) -> bru_core::Result<u64> {
        if self.in_tx {
            self.commit(None)?;
        }
        Ok(self.rows)
    }
}

impl Drop for PgLoader<'_> {
    fn drop(&mut self) {
        if self.in_tx {
            // Dropping the sink unfinished aborts the COPY; the transaction
            // is then rolled back so the connection is usable again.
            self.sink = None;
            let _ = self.batch("ROLLBACK");
        }
    }
}
