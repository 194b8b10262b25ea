//! Backup from SQL Server.
//!
//! **Consistency.** Every table is read in one SNAPSHOT-isolation
//! transaction on one connection: [`MssqlSource::open`] checks
//! `sys.databases.snapshot_isolation_state`, starts the transaction and
//! reads a row of one table, because a snapshot transaction's moment is
//! fixed by its first read of data, not by `BEGIN TRAN`. A database that
//! does not allow snapshot isolation is refused with the `ALTER DATABASE`
//! that enables it, unless the URL says `snapshot=off`; then the tables
//! are read one after another at READ COMMITTED and the archive's source
//! version says `NOT CONSISTENT`, which `bru list` shows.
//!
//! **`--jobs`.** SQL Server cannot share a snapshot between sessions (no
//! exported snapshots as PostgreSQL has), and a database snapshot
//! (`CREATE DATABASE … AS SNAPSHOT OF`) needs rights and an edition bru
//! cannot count on, so [`Source::open_reader`] returns `None`: one reader,
//! whatever `--jobs` says. The restore side still runs in parallel.
//!
//! **Rows** stream through tiberius's `QueryStream` one row at a time into
//! batches within [`BatchLimits`], so memory is bounded by the chunk size,
//! not the table size. Columns whose type tiberius cannot decode exactly
//! are read through the CASTs of [`crate::types::Fallback`]. A panic in
//! the driver is caught and reported as an error naming the table.

use std::panic::{catch_unwind, AssertUnwindSafe};

use bru_core::{
    BatchLimits, Catalog, ColumnType, Error, KeyRange, Result, RowBatch, Source, SourceInfo,
    TableDef,
};
use futures_util::TryStreamExt;

use crate::conn::{quote_ident, quote_table, Conn, Settings};
use crate::types::Fallback;
use crate::ENGINE_NAME;

mod catalog;
pub mod values;

use values::{decode, Decode};

/// What the source version says when the backup had no snapshot.
pub const NOT_CONSISTENT: &str = "NOT CONSISTENT: backed up with snapshot=off, each table read at its own moment (READ COMMITTED)";

/// A SQL Server database being backed up.
pub struct MssqlSource {
    conn: Conn,
    info: SourceInfo,
    seeds: catalog::Seeds,
}

impl MssqlSource {
    /// Connects to `url` and opens the snapshot every read then sees.
    pub fn open(url: &str) -> Result<Self> {
        let settings = Settings::from_url(url)?;
        let snapshot_wanted = settings.snapshot;
        let mut conn = Conn::connect(settings)?;
        let rows = catalog::rows(
            &mut conn,
            "the server version",
            "SELECT CAST(@@VERSION AS nvarchar(4000)), CAST(DB_NAME() AS nvarchar(128)), \
             CAST(d.snapshot_isolation_state AS int) \
             FROM sys.databases d WHERE d.name = DB_NAME()",
        )?;
        let row = rows.first().ok_or_else(|| {
            Error::engine(
                "reading the server version",
                "sys.databases has no row for the current database",
            )
        })?;
        let version = row
            .string(0)
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let database = row.string(1);
        let snapshot_on = row.int(2) == Some(1);
        let seeds = catalog::identity_seeds(&mut conn)?;
        let version = if snapshot_on {
            conn.batch(
                "starting the snapshot transaction",
                "SET TRANSACTION ISOLATION LEVEL SNAPSHOT; BEGIN TRANSACTION",
            )?;
            start_snapshot(&mut conn)?;
            version
        } else if snapshot_wanted {
            return Err(Error::Unsupported(format!(
                "database {database} does not allow snapshot isolation, which bru needs to read every table as of one moment; \
                 run ALTER DATABASE {} SET ALLOW_SNAPSHOT_ISOLATION ON (as a user who may alter the database), \
                 or accept a backup that is not consistent by adding snapshot=off to the URL (the archive then says so)",
                quote_ident(&database)
            )));
        } else {
            format!("{version}; {NOT_CONSISTENT}")
        };
        Ok(MssqlSource {
            conn,
            info: SourceInfo {
                engine: ENGINE_NAME.into(),
                version,
                database,
            },
            seeds,
        })
    }
}

/// Fixes the snapshot's moment by reading one row of one user table (the
/// catalog views are not versioned, so reading them would not).
fn start_snapshot(conn: &mut Conn) -> Result<()> {
    let first = catalog::rows(
        conn,
        "a table to start the snapshot on",
        "SELECT TOP (1) s.name, t.name FROM sys.tables t \
         JOIN sys.schemas s ON s.schema_id = t.schema_id \
         WHERE t.is_ms_shipped = 0 AND s.name NOT IN (N'sys', N'INFORMATION_SCHEMA')",
    )?;
    if let Some(r) = first.first() {
        let name = bru_core::TableName::new(Some(&r.string(0)), &r.string(1));
        catalog::rows(
            conn,
            "the first row, to start the snapshot",
            &format!("SELECT TOP (1) 1 FROM {}", quote_table(&name)),
        )?;
    }
    Ok(())
}

/// The select-list entry and decoding of each column of `table`.
fn plan(table: &TableDef) -> Vec<(String, Decode)> {
    table
        .columns
        .iter()
        .map(|c| {
            let quoted = quote_ident(&c.name);
            match Fallback::of(&c.native_type) {
                Some(f) => {
                    let how = match f {
                        Fallback::Money | Fallback::SmallMoney => Decode::Plain,
                        Fallback::Bytes => Decode::NativeHex,
                        Fallback::PathText | Fallback::Variant => Decode::NativeText,
                        Fallback::DecimalText => Decode::DecimalText,
                    };
                    (format!("{} AS {quoted}", f.select_expr(&quoted)), how)
                }
                None if matches!(c.ty, ColumnType::Native { .. }) => (quoted, Decode::NativeText),
                None => (quoted, Decode::Plain),
            }
        })
        .collect()
}

/// Why a read stopped: the server, a value, or the sink.
enum Stop {
    Driver(tiberius::error::Error),
    Bru(Error),
}

impl Source for MssqlSource {
    fn info(&self) -> SourceInfo {
        self.info.clone()
    }

    fn catalog(&mut self) -> Result<Catalog> {
        catalog::read(&mut self.conn, &self.seeds)
    }

    fn read_table(
        &mut self,
        table: &TableDef,
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> Result<()>,
    ) -> Result<()> {
        self.read_rows(table, None, limits, sink)
    }

    /// Reads the rows whose key is in `range` with a `WHERE` on the key
    /// column, which SQL Server answers from the key's index, so a compare
    /// narrowing down a difference reads only that range.
    fn read_int_range(
        &mut self,
        table: &TableDef,
        column: &str,
        range: KeyRange,
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> Result<()>,
    ) -> Result<()> {
        let condition = range.condition(&quote_ident(column));
        self.read_rows(table, condition.as_deref(), limits, sink)
    }
}

impl MssqlSource {
    /// Streams the rows of `table` (those matching `condition`, a T-SQL
    /// search condition, when given) to `sink` in batches within `limits`.
    fn read_rows(
        &mut self,
        table: &TableDef,
        condition: Option<&str>,
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> Result<()>,
    ) -> Result<()> {
        let plan = plan(table);
        let n = plan.len();
        let list: Vec<&str> = plan.iter().map(|(s, _)| s.as_str()).collect();
        let mut sql = format!(
            "SELECT {} FROM {}",
            list.join(", "),
            quote_table(&table.name)
        );
        if let Some(c) = condition {
            sql.push_str(" WHERE ");
            sql.push_str(c);
        }
        let context = format!("reading table {}", table.name);
        let Conn {
            rt,
            client,
            settings,
        } = &mut self.conn;
        let run = async {
            let stream = client
                .query(sql.as_str(), &[])
                .await
                .map_err(Stop::Driver)?;
            let mut rows = stream.into_row_stream();
            let mut batch = RowBatch::new(n);
            let mut bytes = 0usize;
            while let Some(row) = rows.try_next().await.map_err(Stop::Driver)? {
                let mut values = Vec::with_capacity(n);
                for (i, cell) in row.into_iter().enumerate() {
                    let how = plan.get(i).map_or(Decode::Plain, |p| p.1);
                    let v = decode(cell, how).map_err(|reason| {
                        Stop::Bru(Error::Unsupported(format!(
                            "table {}, column {}: cannot read the value exactly: {reason}",
                            table.name,
                            table.columns.get(i).map_or("?", |c| c.name.as_str())
                        )))
                    })?;
                    bytes += v.approx_size();
                    values.push(v);
                }
                if values.len() != n {
                    return Err(Stop::Bru(Error::engine(
                        context.clone(),
                        format!("the server returned {} columns, not {n}", values.len()),
                    )));
                }
                batch.push_row(values);
                if batch.row_count() >= limits.max_rows.max(1) || bytes >= limits.max_bytes {
                    let full = std::mem::replace(&mut batch, RowBatch::new(n));
                    bytes = 0;
                    sink(full).map_err(Stop::Bru)?;
                }
            }
            if !batch.is_empty() {
                sink(batch).map_err(Stop::Bru)?;
            }
            Ok(())
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| rt.block_on(run)));
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(Stop::Bru(e))) => Err(e),
            Ok(Err(Stop::Driver(e))) => Err(crate::conn::engine_error(settings, &context, &e)),
            Err(_) => Err(Error::engine(
                context,
                "the SQL Server driver (tiberius) failed on a value it cannot decode; \
                 report the column types of this table",
            )),
        }
    }
}
