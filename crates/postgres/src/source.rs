//! PostgreSQL as a backup source: one snapshot, binary COPY out.
//!
//! The first connection opens a REPEATABLE READ, READ ONLY transaction and
//! exports its snapshot; more connections (parallel readers) import it with
//! [`PgSource::open_with_snapshot`], so every table is read as of the same
//! instant however many workers read it. Rows stream through
//! `COPY (SELECT ...) TO STDOUT (FORMAT binary)` and are cut into batches
//! within [`BatchLimits`], so memory is bounded by the batch size, not the
//! table size.

use bru_core::{
    BatchLimits, Catalog, ColumnType, Error, RowBatch, Source, SourceInfo, TableDef, Value,
};
use futures_util::StreamExt;

use crate::catalog;
use crate::conn::{Conn, Settings};
use crate::copy_binary::{CopyReader, Next};
use crate::quote::{ident, qualified};
use crate::values::{decode, Wire};

/// Reads one PostgreSQL database inside a single snapshot.
pub struct PgSource {
    conn: Conn,
    snapshot: String,
    info: SourceInfo,
}

impl PgSource {
    /// Connects to `url` (`postgres://` or `postgresql://`, with libpq's
    /// environment variables and password file as fallbacks), starts the
    /// snapshot and exports it.
    ///
    /// Fails with [`Error::Connect`] if the server cannot be reached or
    /// refuses the login, and with [`Error::Engine`] if the snapshot cannot
    /// be started (for example on a standby that does not allow exports).
    pub fn open(url: &str) -> bru_core::Result<PgSource> {
        let conn = Conn::open(Settings::resolve(url)?)?;
        conn.batch(
            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
            "starting the snapshot",
        )?;
        let rows = conn.query(
            "SELECT pg_catalog.pg_export_snapshot()",
            &[],
            "exporting the snapshot",
        )?;
        let snapshot: String = rows
            .first()
            .and_then(|r| r.try_get(0).ok())
            .ok_or_else(|| {
                Error::engine(
                    "exporting the snapshot",
                    "the server returned no snapshot id",
                )
            })?;
        Self::finish_open(conn, snapshot)
    }

    /// Connects to `url` and joins the snapshot `snapshot_id` exported by
    /// another [`PgSource`] that is still open, so both read the same data.
    ///
    /// Fails with [`Error::Connect`] as [`PgSource::open`] does, and with
    /// [`Error::Engine`] if the snapshot no longer exists (its exporting
    /// source was closed).
    pub fn open_with_snapshot(url: &str, snapshot_id: &str) -> bru_core::Result<PgSource> {
        let conn = Conn::open(Settings::resolve(url)?)?;
        conn.batch(
            &format!(
                "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET TRANSACTION SNAPSHOT {}",
                catalog::quote_literal(snapshot_id)
            ),
            "joining the snapshot",
        )?;
        Self::finish_open(conn, snapshot_id.to_owned())
    }

    fn finish_open(conn: Conn, snapshot: String) -> bru_core::Result<PgSource> {
        let rows = conn.query(
            "SELECT pg_catalog.current_setting('server_version'), pg_catalog.current_database()::text",
            &[],
            "reading the server version",
        )?;
        let row = rows
            .first()
            .ok_or_else(|| Error::engine("reading the server version", "no row"))?;
        let version: String = row
            .try_get(0)
            .map_err(|e| Error::engine("reading the server version", e))?;
        let database: String = row
            .try_get(1)
            .map_err(|e| Error::engine("reading the database name", e))?;
        Ok(PgSource {
            conn,
            snapshot,
            info: SourceInfo {
                engine: "postgres".into(),
                version,
                database,
            },
        })
    }

    /// The id of the snapshot this source reads, for
    /// [`PgSource::open_with_snapshot`].
    pub fn snapshot_id(&self) -> &str {
        &self.snapshot
    }

    /// The endpoint as `postgres user@host:port/db` (never the password).
    pub fn endpoint(&self) -> &str {
        &self.conn.settings.endpoint
    }
}

/// How a column of this neutral type travels; types with no neutral
/// counterpart travel as text.
pub(crate) fn wire_of(ty: &ColumnType) -> Wire {
    match ty {
        ColumnType::Bool => Wire::Bool,
        ColumnType::Int16 => Wire::Int2,
        ColumnType::Int32 => Wire::Int4,
        ColumnType::Int64 => Wire::Int8,
        ColumnType::Float32 => Wire::Float4,
        ColumnType::Float64 => Wire::Float8,
        ColumnType::Decimal { scale, .. } => Wire::Numeric { scale: *scale },
        ColumnType::Text { .. } => Wire::Text,
        ColumnType::Binary { .. } => Wire::Bytea,
        ColumnType::Date => Wire::Date,
        ColumnType::Time { tz: false, .. } => Wire::Time,
        ColumnType::Time { tz: true, .. } => Wire::TimeTz,
        ColumnType::Timestamp { tz: false, .. } => Wire::Timestamp,
        ColumnType::Timestamp { tz: true, .. } => Wire::TimestampTz,
        ColumnType::Interval => Wire::Interval,
        ColumnType::Uuid => Wire::Uuid,
        ColumnType::Json { binary: false } => Wire::Json,
        ColumnType::Json { binary: true } => Wire::Jsonb,
        ColumnType::Native { .. } => Wire::NativeText,
    }
}

impl Source for PgSource {
    fn info(&self) -> SourceInfo {
        self.info.clone()
    }

    fn catalog(&mut self) -> bru_core::Result<Catalog> {
        catalog::read(&self.conn)
    }

    fn read_table(
        &mut self,
        table: &TableDef,
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> bru_core::Result<()>,
    ) -> bru_core::Result<()> {
        // A partitioned table's rows live in its partitions, read as tables
        // of their own.
        if table.property("postgres.partition_by").is_some() {
            return Ok(());
        }
        if table.columns.is_empty() {
            // A row batch cannot count rows without columns: refuse rather
            // than drop the rows of a zero-column table.
            let rows = self.conn.query(
                &format!("SELECT count(*) FROM ONLY {}", qualified(&table.name)),
                &[],
                &format!("counting the rows of {}", table.name),
            )?;
            let n: i64 = rows.first().and_then(|r| r.try_get(0).ok()).unwrap_or(0);
            if n > 0 {
                return Err(Error::Unsupported(format!(
                    "table {} has {n} rows but no columns; bru cannot carry such rows",
                    table.name
                )));
            }
            return Ok(());
        }
        let wires: Vec<Wire> = table.columns.iter().map(|c| wire_of(&c.ty)).collect();
        let select: Vec<String> = table
            .columns
            .iter()
            .zip(&wires)
            .map(|(c, w)| {
                if w.is_text_fallback() {
                    format!("{}::text", ident(&c.name))
                } else {
                    ident(&c.name)
                }
            })
            .collect();
        let sql = format!(
            "COPY (SELECT {} FROM ONLY {}) TO STDOUT (FORMAT binary)",
            select.join(", "),
            qualified(&table.name)
        );
        let context = format!("reading table {}", table.name);
        let ncols = wires.len();
        let max_rows = limits.max_rows.max(1);
        let conn = &self.conn;
        conn.block_on(async {
            let stream = conn
                .client
                .copy_out(sql.as_str())
                .await
                .map_err(|e| conn.err(&context, &e))?;
            futures_util::pin_mut!(stream);
            let mut reader = CopyReader::default();
            let mut values: Vec<Value> = Vec::new();
            let mut rows = 0usize;
            let mut bytes = 0usize;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| conn.err(&context, &e))?;
                reader.push(&chunk);
                loop {
                    let next = reader
                        .next_tuple(ncols, |i, field| {
                            let v = match field {
                                None => Value::Null,
                                Some(b) => decode(wires[i], b).map_err(|reason| {
                                    format!("column {}: {reason}", table.columns[i].name)
                                })?,
                            };
                            bytes += v.approx_size();
                            values.push(v);
                            Ok(())
                        })
                        .map_err(|m| Error::engine(&context, m))?;
                    match next {
                        Next::Tuple => {
                            rows += 1;
                            if rows >= max_rows || bytes >= limits.max_bytes {
                                sink(RowBatch::from_values(ncols, std::mem::take(&mut values)))?;
                                rows = 0;
                                bytes = 0;
                            }
                        }
                        Next::NeedMore | Next::End => break,
                    }
                }
            }
            if !reader.is_done() || reader.pending() > 0 {
                return Err(Error::engine(
                    &context,
                    "the COPY stream ended before its trailer",
                ));
            }
            if !values.is_empty() {
                sink(RowBatch::from_values(ncols, values))?;
            }
            Ok(())
        })
    }
}
