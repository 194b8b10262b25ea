//! PostgreSQL as a backup source: one snapshot, binary COPY out.
//!
//! The first connection opens a REPEATABLE READ, READ ONLY transaction and
//! exports its snapshot; more connections (parallel readers) import it with
//! [`PgSource::open_with_snapshot`], so every table is read as of the same
//! instant however many workers read it. Rows stream through
//! `COPY (SELECT ...) TO STDOUT (FORMAT binary)` and are cut into batches
//! within [`BatchLimits`], so memory is bounded by the batch size, not the
//! table size.
//!
//! A big table is split into ranges of heap pages (`ctid` ranges, which
//! PostgreSQL 14 and later read with a TID range scan), so several readers
//! can read it at once. The page count is taken when the table is split,
//! not at the snapshot, so the last range is open-ended: rows on pages
//! added since then are still read, and every row is read exactly once.
//!
//! A delta's change capture (a logical replication slot that names the
//! keys changed since the previous archive, and reading those keys back)
//! is in module `changes`.

use bru_core::changes::CapturedChanges;
use bru_core::{
    BatchLimits, Catalog, ColumnType, Error, KeyBuckets, KeyRange, RowBatch, ServerDigest, Source,
    SourceInfo, TableDef, TablePart, Value,
};
use futures_util::StreamExt;

use crate::catalog;
use crate::changes;
use crate::conn::{Conn, Settings};
use crate::copy_binary::{CopyReader, Next};
use crate::digest;
use crate::quote::{ident, qualified, quote_literal};
use crate::values::{decode, Wire};
use crate::ENGINE_NAME;

/// Reads one PostgreSQL database inside a single snapshot.
pub struct PgSource {
    conn: Conn,
    snapshot: String,
    info: SourceInfo,
    /// `server_version_num`, which decides how module `digest` hashes.
    version_num: u32,
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
        let snapshot = export_snapshot(&conn)?;
        Self::finish_open(conn, snapshot)
    }

    /// Connects to `url` and joins the snapshot `snapshot_id` exported by
    /// another [`PgSource`] that is still open, so both read the same data.
    ///
    /// Fails with [`Error::Connect`] as [`PgSource::open`] does, and with
    /// [`Error::Engine`] if the snapshot no longer exists (its exporting
    /// source was closed).
    pub fn open_with_snapshot(url: &str, snapshot_id: &str) -> bru_core::Result<PgSource> {
        Self::join_snapshot(Settings::resolve(url)?, snapshot_id)
    }

    fn join_snapshot(settings: Settings, snapshot_id: &str) -> bru_core::Result<PgSource> {
        let conn = Conn::open(settings)?;
        conn.batch(
            &format!(
                "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET TRANSACTION SNAPSHOT {}",
                quote_literal(snapshot_id)
            ),
            "joining the snapshot",
        )?;
        Self::finish_open(conn, snapshot_id.to_owned())
    }

    fn finish_open(conn: Conn, snapshot: String) -> bru_core::Result<PgSource> {
        let rows = conn.query(
            "SELECT pg_catalog.current_setting('server_version'), pg_catalog.current_database()::text, \
             pg_catalog.current_setting('server_version_num')",
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
        let version_num: String = row
            .try_get(2)
            .map_err(|e| Error::engine("reading the server version", e))?;
        Ok(PgSource {
            conn,
            snapshot,
            version_num: version_num.parse().unwrap_or(0),
            info: SourceInfo {
                engine: ENGINE_NAME.into(),
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

/// A table is split only into parts of at least this many pages (8 MiB
/// with the default block size): smaller parts cost more in queries than
/// they gain.
const MIN_PART_PAGES: i64 = 1024;

/// The `ctid` condition for pages `from..to` (`None`: open-ended).
fn ctid_filter(from: i64, to: Option<i64>) -> String {
    match (from, to) {
        (0, Some(to)) => format!("ctid < '({to},0)'::pg_catalog.tid"),
        (from, Some(to)) => {
            format!("ctid >= '({from},0)'::pg_catalog.tid AND ctid < '({to},0)'::pg_catalog.tid")
        }
        (from, None) => format!("ctid >= '({from},0)'::pg_catalog.tid"),
    }
}

/// Whether `filter` is one [`ctid_filter`] made. Parts are spliced into SQL,
/// so anything else is refused.
fn is_ctid_filter(filter: &str) -> bool {
    let mut rest = filter;
    for word in ["ctid >= '(", "ctid < '("] {
        while let Some(r) = rest.strip_prefix(word) {
            let digits = r.bytes().take_while(u8::is_ascii_digit).count();
            let Some(r) = r[digits..].strip_prefix(",0)'::pg_catalog.tid") else {
                return false;
            };
            rest = r.strip_prefix(" AND ").unwrap_or(r);
        }
    }
    rest.is_empty() && filter.len() > 4
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
        self.read_rows(table, None, limits, sink)
    }

    fn open_reader(&mut self) -> bru_core::Result<Option<Box<dyn Source + Send>>> {
        let reader = Self::join_snapshot(self.conn.settings.clone(), &self.snapshot)?;
        Ok(Some(Box::new(reader)))
    }

    fn split_table(&mut self, table: &TableDef, parts: usize) -> bru_core::Result<Vec<TablePart>> {
        if parts < 2
            || table.columns.is_empty()
            || catalog::large_objects::pieces_oids(table).is_some()
            || table.property("postgres.partition_by").is_some()
        {
            return Ok(vec![TablePart::whole()]);
        }
        let context = format!("measuring table {}", table.name);
        let rows = self.conn.query(
            &format!(
                "SELECT pg_catalog.pg_relation_size({q}::pg_catalog.regclass) \
                 / pg_catalog.current_setting('block_size')::bigint, \
                 (SELECT relkind::text FROM pg_catalog.pg_class WHERE oid = {q}::pg_catalog.regclass)",
                q = quote_literal(&qualified(&table.name))
            ),
            &[],
            &context,
        )?;
        let row = rows
            .first()
            .ok_or_else(|| Error::engine(&context, "no row"))?;
        let pages: i64 = row.try_get(0).map_err(|e| Error::engine(&context, e))?;
        let relkind: String = row.try_get(1).map_err(|e| Error::engine(&context, e))?;
        // Only plain tables have a heap to cut into page ranges.
        let parts = (pages / MIN_PART_PAGES).min(parts as i64);
        if relkind != "r" || parts < 2 {
            return Ok(vec![TablePart::whole()]);
        }
        let step = pages / parts;
        Ok((0..parts)
            .map(|i| {
                let from = i * step;
                let to = (i + 1 < parts).then_some((i + 1) * step);
                TablePart {
                    label: match to {
                        Some(to) => format!("pages {from}-{}", to - 1),
                        None => format!("pages {from}-end"),
                    },
                    filter: Some(ctid_filter(from, to)),
                }
            })
            .collect())
    }

    fn read_table_part(
        &mut self,
        table: &TableDef,
        part: &TablePart,
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> bru_core::Result<()>,
    ) -> bru_core::Result<()> {
        match &part.filter {
            None => self.read_rows(table, None, limits, sink),
            Some(f) if is_ctid_filter(f) => self.read_rows(table, Some(f), limits, sink),
            Some(_) => Err(Error::Unsupported(format!(
                "table {}: part {} was not made by this PostgreSQL source",
                table.name, part.label
            ))),
        }
    }

    /// Reads the rows whose integer `column` is in `from..to` by a range
    /// condition, which the key's index serves. Fails with
    /// [`Error::Unsupported`] for a column the table does not have, a
    /// partitioned table or the large objects.
    fn read_int_range(
        &mut self,
        table: &TableDef,
        column: &str,
        range: KeyRange,
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> bru_core::Result<()>,
    ) -> bru_core::Result<()> {
        if table.column_index(column).is_none()
            || table.property("postgres.partition_by").is_some()
            || catalog::large_objects::pieces_oids(table).is_some()
        {
            return Err(Error::Unsupported(format!(
                "table {}: no range of column {column} to read",
                table.name
            )));
        }
        let filter = range
            .condition(&ident(column))
            .unwrap_or_else(|| "true".to_owned());
        self.read_rows(table, Some(&filter), limits, sink)
    }

    /// See module `digest`.
    fn server_digest(
        &mut self,
        table: &TableDef,
        columns: &[String],
    ) -> bru_core::Result<Option<ServerDigest>> {
        digest::digest(&self.conn, self.version_num, table, columns)
    }

    /// See module `digest`.
    fn server_key_buckets(
        &mut self,
        table: &TableDef,
        columns: &[String],
        key: &str,
        max_buckets: usize,
    ) -> bru_core::Result<Option<KeyBuckets>> {
        digest::key_buckets(
            &self.conn,
            self.version_num,
            table,
            columns,
            key,
            max_buckets,
        )
    }

    /// `count(*)` in the snapshot, of the rows [`Source::read_table`] reads
    /// (`ONLY` the table; the large objects' pieces by reading them).
    fn count_rows(&mut self, table: &TableDef) -> bru_core::Result<u64> {
        if catalog::large_objects::pieces_oids(table).is_some()
            || table.property("postgres.partition_by").is_some()
        {
            let mut rows = 0u64;
            self.read_table(table, BatchLimits::default(), &mut |batch| {
                rows += batch.row_count() as u64;
                Ok(())
            })?;
            return Ok(rows);
        }
        changes::count(&self.conn, table)
    }

    /// See module `changes`. Fails with [`Error::Unsupported`] for a key
    /// column that is not an integer or text, and for the large objects.
    fn read_keys(
        &mut self,
        table: &TableDef,
        key: &[usize],
        keys: &[Vec<String>],
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> bru_core::Result<()>,
    ) -> bru_core::Result<()> {
        if catalog::large_objects::pieces_oids(table).is_some() {
            return Err(Error::Unsupported(format!(
                "table {}: the large objects cannot be read by key",
                table.name
            )));
        }
        for filter in changes::key_filters(table, key, keys)? {
            self.read_rows(table, Some(&filter), limits, sink)?;
        }
        Ok(())
    }

    /// See module `changes`: creates the slot on a connection of its own,
    /// then ends this source's snapshot and takes a new one, as
    /// [`PgSource::open`] does.
    fn create_change_slot(&mut self, slot: &str) -> bru_core::Result<String> {
        let position = changes::create_slot(self.conn.settings.clone(), slot)?;
        self.conn.batch(
            "ROLLBACK; BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
            "starting the snapshot again",
        )?;
        self.snapshot = export_snapshot(&self.conn)?;
        Ok(position)
    }

    /// See module `changes`.
    fn read_changes(
        &mut self,
        slot: &str,
        since: &str,
        tables: &[TableDef],
    ) -> bru_core::Result<CapturedChanges> {
        changes::read_changes(&self.conn, slot, since, tables)
    }

    /// See module `changes`.
    fn advance_change_slot(&mut self, slot: &str, to: &str) -> bru_core::Result<()> {
        changes::advance(self.conn.settings.clone(), slot, to)
    }

    /// See module `changes`.
    fn drop_change_slot(&mut self, slot: &str) -> bru_core::Result<bool> {
        changes::drop_slot(self.conn.settings.clone(), slot)
    }
}

/// Exports the snapshot of `conn`'s transaction; its id.
fn export_snapshot(conn: &Conn) -> bru_core::Result<String> {
    let rows = conn.query(
        "SELECT pg_catalog.pg_export_snapshot()",
        &[],
        "exporting the snapshot",
    )?;
    rows.first().and_then(|r| r.try_get(0).ok()).ok_or_else(|| {
        Error::engine(
            "exporting the snapshot",
            "the server returned no snapshot id",
        )
    })
}

impl PgSource {
    /// Streams the pieces of the large objects `oids` (module
    /// `catalog::large_objects`): each object in turn, from offset 0, read
    /// with `lo_get` in the snapshot a piece at a time, so that however
    /// large an object is, a batch holds only the pieces within `limits`.
    /// An empty object has no piece.
    fn read_large_objects(
        &mut self,
        oids: &[u32],
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> bru_core::Result<()>,
    ) -> bru_core::Result<()> {
        use catalog::large_objects::PIECE_BYTES;
        let statement = self
            .conn
            .block_on(self.conn.client.prepare(
                "SELECT pg_catalog.lo_get($1::pg_catalog.oid, $2::pg_catalog.int8, $3::pg_catalog.int4)",
            ))
            .map_err(|e| self.conn.err("reading large objects", &e))?;
        let mut batch = RowBatch::new(3);
        for &oid in oids {
            let context = format!("reading large object {oid}");
            let mut offset: i64 = 0;
            loop {
                let row = self
                    .conn
                    .block_on(
                        self.conn
                            .client
                            .query_one(&statement, &[&oid, &offset, &PIECE_BYTES]),
                    )
                    .map_err(|e| self.conn.err(&context, &e))?;
                let data: Vec<u8> = row.try_get(0).map_err(|e| Error::engine(&context, e))?;
                let len = data.len();
                if len > 0 {
                    batch.push_row([
                        Value::Int64(i64::from(oid)),
                        Value::Int64(offset),
                        Value::Bytes(data),
                    ]);
                    if batch.row_count() >= limits.max_rows.max(1)
                        || batch.approx_size() >= limits.max_bytes
                    {
                        sink(std::mem::replace(&mut batch, RowBatch::new(3)))?;
                    }
                }
                // A short piece is the object's last.
                if len < PIECE_BYTES as usize {
                    break;
                }
                offset += len as i64;
            }
        }
        if !batch.is_empty() {
            sink(batch)?;
        }
        Ok(())
    }

    /// Streams the rows of `table` (those matching `filter`, when given) to
    /// `sink` in batches within `limits`.
    fn read_rows(
        &mut self,
        table: &TableDef,
        filter: Option<&str>,
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> bru_core::Result<()>,
    ) -> bru_core::Result<()> {
        // A partitioned table's rows live in its partitions, read as tables
        // of their own.
        if table.property("postgres.partition_by").is_some() {
            return Ok(());
        }
        if let Some(oids) = catalog::large_objects::pieces_oids(table) {
            let oids = oids.map_err(|e| Error::engine(format!("reading {}", table.name), e))?;
            return self.read_large_objects(&oids, limits, sink);
        }
        let filter = filter.map(|f| format!(" WHERE {f}")).unwrap_or_default();
        if table.columns.is_empty() {
            // A table whose columns were all dropped still has rows, which
            // carry nothing but their number (FORMAT.md: a chunk of zero
            // columns counts its rows).
            let rows = self.conn.query(
                &format!(
                    "SELECT count(*) FROM ONLY {}{filter}",
                    qualified(&table.name)
                ),
                &[],
                &format!("counting the rows of {}", table.name),
            )?;
            let n: i64 = rows
                .first()
                .map(|r| r.try_get(0))
                .transpose()
                .map_err(|e| Error::engine(format!("counting the rows of {}", table.name), e))?
                .unwrap_or(0);
            let mut left = usize::try_from(n).unwrap_or(0);
            let max_rows = limits.max_rows.max(1);
            while left > 0 {
                let take = left.min(max_rows);
                sink(RowBatch::of_empty_rows(take))?;
                left -= take;
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
            "COPY (SELECT {} FROM ONLY {}{filter}) TO STDOUT (FORMAT binary)",
            select.join(", "),
            qualified(&table.name)
        );
        let context = format!("reading table {}", table.name);
        let ncols = wires.len();
        let max_rows = limits.max_rows.max(1);
        let conn = &self.conn;
        // The stream is read inside the runtime one batch at a time (one
        // `block_on` per batch, not per row: entering the runtime for each
        // of millions of rows cost a tenth of the read), and the sink runs
        // outside it, so the sink may itself block on another connection
        // (a target being loaded straight from this source).
        let mut stream = Box::pin(
            conn.block_on(conn.client.copy_out(sql.as_str()))
                .map_err(|e| conn.err(&context, &e))?,
        );
        let mut reader = CopyReader::default();
        let mut values: Vec<Value> = bru_core::spare_values();
        loop {
            let mut rows = 0usize;
            let mut bytes = 0usize;
            let ended = conn.block_on(async {
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
                            Next::Tuple => rows += 1,
                            Next::NeedMore | Next::End => break,
                        }
                    }
                    if rows >= max_rows || bytes >= limits.max_bytes {
                        return Ok::<bool, Error>(false);
                    }
                }
                Ok(true)
            })?;
            if ended {
                break;
            }
            // (Reserving the next batch's vector at this one's size saved a
            // little CPU but raised peak RSS by a third: not done. A
            // recycled vector, whose pages are already in, costs neither.)
            sink(RowBatch::from_values(
                ncols,
                std::mem::replace(&mut values, bru_core::spare_values()),
            ))?;
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ctid_ranges_are_accepted_as_parts() {
        for f in [
            ctid_filter(0, Some(10)),
            ctid_filter(10, Some(20)),
            ctid_filter(20, None),
        ] {
            assert!(is_ctid_filter(&f), "{f}");
        }
        assert!(!is_ctid_filter(""));
        assert!(!is_ctid_filter("true"));
        assert!(!is_ctid_filter(
            "ctid >= '(1,0)'::pg_catalog.tid AND ctid < '(2,0)'::pg_catalog.tid; DROP TABLE x"
        ));
        assert!(!is_ctid_filter("ctid >= '(1 OR 1=1,0)'::pg_catalog.tid"));
    }
}
