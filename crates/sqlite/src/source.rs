//! SQLite as a backup source: read transactions on one snapshot, rows by
//! storage class.
//!
//! [`SqliteSource::open`] starts a transaction and reads once, which is the
//! moment SQLite takes the snapshot; the transaction stays open for the
//! object's lifetime, so [`Source::catalog`] and every
//! [`Source::read_table`] see the same database state even while other
//! connections write (in WAL mode they keep writing; in rollback-journal
//! mode they wait for the backup to finish).
//!
//! Rows are read in rowid order (primary key order for WITHOUT ROWID
//! tables), so two backups of the same data produce the same chunks, with
//! one exception: the parts of a split table (below) are read at once, so
//! their chunks may reach the archive interleaved, each part's in rowid
//! order.
//!
//! A rowid is data only when a column holds it (`INTEGER PRIMARY KEY`, an
//! R-tree's id, or the rowid column the catalog adds to an FTS table), and
//! then it is read like any column. Tables without such a column are
//! restored in rowid order but get new, dense rowids, as SQLite's own VACUUM
//! may also give them.
//!
//! # Parallel readers
//!
//! A big table with an `INTEGER PRIMARY KEY` column is split into rowid
//! ranges ([`Source::split_table`], see the `rowid_ranges` module), each
//! read in rowid order by a range scan, and [`Source::open_reader`] opens
//! more connections to read parts and tables at once. An extra reader is
//! only useful if it sees *exactly* the snapshot of the first connection,
//! and how SQLite can promise that depends on the journal mode:
//!
//! - **Rollback journal** (DELETE, TRUNCATE, PERSIST, MEMORY, OFF: every
//!   mode but WAL). A read transaction holds a SHARED lock on the file from
//!   its first read until it ends, and the first connection's transaction
//!   lasts from [`SqliteSource::open`] until the source is dropped. A writer
//!   changes the database file only under an EXCLUSIVE lock (to commit, or
//!   to spill its cache), which it cannot get while any SHARED lock exists.
//!   So the file does not change from the moment the first connection opens
//!   its snapshot until it is dropped, and an extra connection that starts
//!   its own read transaction in that interval, which is when
//!   [`Source::open_reader`] runs, reads the very same bytes: the same
//!   snapshot. Its SHARED lock then keeps the file unchanged as long as it
//!   reads, too. (Switching the file to WAL also needs EXCLUSIVE, so the
//!   mode cannot change under us either.)
//!
//!   A writer that is waiting to commit holds PENDING, and while it does,
//!   new SHARED locks are refused with SQLITE_BUSY. Such a writer cannot
//!   succeed before the backup ends, so an extra reader waits only
//!   [`EXTRA_READER_BUSY_TIMEOUT`] for it to give up, then
//!   [`Source::open_reader`] returns `Ok(None)`: the backup goes on with the
//!   readers it has, never hangs for the full busy timeout, never fails for
//!   it. (SQLite's Unix VFS grants a SHARED lock to a connection of a
//!   process that already holds one without asking the OS, so in practice
//!   only a writer in this same process can cause that.)
//!
//!   The argument needs the extra connection to open the *same file*, which
//!   a path does not promise (another file may have been renamed over it).
//!   So each connection takes a stamp of what it opened: the file's device
//!   and inode (on Unix, by `stat` before and after opening, which must
//!   agree), its schema cookie, page count and freelist count. An extra
//!   reader whose stamp differs from the first connection's is dropped and
//!   `Ok(None)` returned. (`PRAGMA data_version` is per connection, so it
//!   cannot be compared across two.) The header's file change counter would
//!   be a finer check, but reading it means opening the file outside
//!   SQLite, and closing that descriptor would release every POSIX lock this
//!   process holds on the file, the first connection's SHARED lock included:
//!   nothing here ever opens the database file except through SQLite.
//! - **WAL.** Readers do not block writers, and a connection that starts a
//!   read transaction later sees every commit made since the first one's
//!   snapshot: an extra reader has to be put on that snapshot explicitly,
//!   with SQLite's snapshot API (the `snapshot` module; it needs SQLite
//!   compiled with `SQLITE_ENABLE_SNAPSHOT`, which the workspace's
//!   `.cargo/config.toml` asks libsqlite3-sys for, and without which the
//!   crate's `build.rs` leaves the calls out and a WAL source is read with
//!   one connection). Every connection first reads once outside a
//!   transaction (the journal mode), so that it knows the file is in WAL
//!   mode, which the API needs (a source whose file changes journal mode
//!   between that read and its transaction gets no extra readers). Then
//!   there are two cases, told apart by `sqlite3_snapshot_get` on the first
//!   connection:
//!
//!   *The WAL holds transactions* (someone wrote since it was created:
//!   typically an application has the database open). [`SqliteSource::open`]
//!   calls `sqlite3_snapshot_get` inside `BEGIN` *before* the first read,
//!   so SQLite opens the read transaction itself, and for that case it
//!   promises that no writer or checkpointer can invalidate the snapshot
//!   until the transaction ends: the connection holds a read lock that keeps
//!   every checkpoint from copying a frame past the snapshot into the
//!   database file and every writer from restarting the WAL over it (a WAL
//!   read mark at the snapshot's last frame; read-lock 0 only if the WAL
//!   has no frame, which blocks checkpoints altogether). The transaction
//!   lasts as long as the source. An extra reader
//!   calls `sqlite3_snapshot_open` inside a fresh `BEGIN`, before its first
//!   read: SQLite starts its read transaction on the snapshot only after
//!   checking, under the checkpointer lock, that the WAL was not restarted
//!   since (same salts) and that no checkpoint was attempted past the
//!   snapshot's last frame; so if it succeeds, the reader reads exactly the
//!   first connection's state, whatever was committed or checkpointed
//!   since, by this process or another. It then holds a read mark of its
//!   own at or below that frame, so its snapshot stays valid after the
//!   first connection is gone. If SQLite refuses (`SQLITE_ERROR_SNAPSHOT`:
//!   the snapshot was overwritten, which the first connection's open
//!   transaction rules out, but it is checked, not assumed; `SQLITE_BUSY`:
//!   a checkpoint held its lock longer than [`EXTRA_READER_BUSY_TIMEOUT`];
//!   `SQLITE_ERROR`), the extra connection is closed and
//!   [`Source::open_reader`] returns `Ok(None)`: the backup goes on with
//!   the readers it has (one, if it was the first extra one). No reader
//!   ever reads from another snapshot.
//!
//!   *No transaction was ever written to the current WAL* (a database no
//!   one is writing: the last connection to close it checkpoints and
//!   deletes the WAL). Then SQLite has no snapshot to hand out
//!   (`sqlite3_snapshot_get` answers `SQLITE_ERROR`: "one or more
//!   transactions must have been written to the current wal file"), and the
//!   first connection reads the database file alone. An extra reader calls
//!   `sqlite3_snapshot_get` in its own fresh `BEGIN`, which opens its read
//!   transaction: if that fails the same way (and the transaction is open,
//!   in WAL mode), its WAL holds no transaction either, so nothing was
//!   committed since the first connection started: a commit writes a
//!   transaction to the WAL, and it stays there for as long as the first
//!   connection reads, since copying it into the database file (a
//!   checkpoint, the only thing that writes the database file in WAL mode,
//!   and which must finish before the WAL can be restarted, truncated or
//!   deleted) needs the read lock that connection holds (read-lock 0, or a
//!   read mark at frame 0). Both connections then read the same, unchanged
//!   database file, and the extra one's own read lock keeps it so. If the
//!   call succeeds instead, a commit came in between: the reader is closed
//!   and [`Source::open_reader`] returns `Ok(None)`.
//!
//!   In both cases the extra reader's stamp (above, read inside its
//!   transaction, so from the snapshot) must also match the first
//!   connection's.

use crate::error::sql_err;
use crate::ENGINE_NAME;
use bru_core::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bru_core::{
    BatchLimits, Catalog, Error, KeyRange, Result, RowBatch, Source, SourceInfo, TableDef,
    TablePart, Value,
};
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionState, MAIN_DB};

use crate::catalog::read_catalog;
use crate::quote::{ident, ident_list};
use crate::rowid_ranges::{rowid_bounds, rowid_is_data, rowid_name, split, RowidRange};
use crate::snapshot::{Got, Snapshot};
use crate::values::from_sqlite;

/// How long the first connection waits for another connection's write lock
/// before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long an extra reader waits for its SHARED lock (rollback journal) or
/// for a checkpoint to let it open the snapshot (WAL). A writer blocking it
/// holds PENDING and cannot commit before the backup ends, and a checkpoint
/// can take long, so waiting longer only delays the backup; the backup then
/// does with fewer readers.
const EXTRA_READER_BUSY_TIMEOUT: Duration = Duration::from_secs(1);

/// Reads one SQLite database inside a read transaction on one snapshot.
pub struct SqliteSource {
    conn: Connection,
    path: PathBuf,
    /// How an extra reader gets onto this connection's snapshot.
    sharing: Sharing,
}

/// How an extra reader gets onto the first connection's snapshot (module
/// docs), and what it must then look like.
#[derive(Clone)]
enum Sharing {
    /// Not at all: the file changed identity while it was being opened (so
    /// which one the connection holds is unknown), the journal mode changed
    /// while it was, or SQLite has no snapshot API.
    None,
    /// Rollback journal: any read transaction started while the first one
    /// holds its SHARED lock reads the same file.
    Lock(Stamp),
    /// WAL holding transactions: extra readers open this snapshot.
    Snapshot(Stamp, Arc<Snapshot>),
    /// WAL to which no transaction was ever written: extra readers whose
    /// WAL still holds none.
    EmptyWal(Stamp),
}

/// What one connection opened, for checking that another connection
/// opened the same database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    /// Device and inode, where the platform has them.
    file: Option<(u64, u64)>,
    wal: bool,
    schema_version: i64,
    page_count: i64,
    freelist_count: i64,
}

/// How the first connection's read transaction started in WAL mode.
enum WalStart {
    /// Not in WAL mode before `BEGIN`, so no snapshot was asked for.
    NotAsked,
    Got(Got),
}

/// The device and inode of the file at `path`, read with `stat`, which opens
/// no descriptor (see the module docs for why that matters); `None` where
/// the platform has no inodes or the file cannot be stat'ed.
#[cfg(unix)]
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_path: &Path) -> Option<(u64, u64)> {
    None
}

impl SqliteSource {
    /// Opens the database at `path` read-only and starts the snapshot.
    /// Fails with [`bru_core::Error::Connect`] if the file is missing or is
    /// not a SQLite database. The file is never created or modified.
    pub fn open(path: &Path) -> bru_core::Result<Self> {
        let connect = |message: String| {
            Error::connect(
                ErrorKind::Other,
                format!("SQLite database {}", path.display()),
                message,
            )
        };
        if path.is_dir() {
            return Err(connect("is a directory, not a database file".into()));
        }
        if !path.exists() {
            return Err(connect("no such file".into()));
        }
        let file = file_id(path);
        let (conn, start) = begin_first(path).map_err(|e| match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => {
                connect("not a SQLite database (the file header is wrong)".into())
            }
            _ => connect(e.to_string()),
        })?;
        let stamp = stamp(&conn, path, file).map_err(|e| connect(e.to_string()))?;
        let sharing = match (stamp, start) {
            (None, _) => Sharing::None,
            // Out of WAL mode whatever happened before: the rollback
            // journal's lock, which the first read took.
            (Some(stamp), _) if !stamp.wal => Sharing::Lock(stamp),
            (Some(stamp), WalStart::Got(Got::Snapshot(snapshot))) => {
                Sharing::Snapshot(stamp, Arc::new(snapshot))
            }
            (Some(stamp), WalStart::Got(Got::NoWalTransaction)) => Sharing::EmptyWal(stamp),
            (Some(_), WalStart::NotAsked | WalStart::Got(Got::Unsupported)) => Sharing::None,
        };
        Ok(SqliteSource {
            conn,
            path: path.to_owned(),
            sharing,
        })
    }

    /// Another connection on this one's snapshot, or `None` when it cannot
    /// be put there within [`EXTRA_READER_BUSY_TIMEOUT`] (a writer's
    /// PENDING lock, a checkpoint), the snapshot cannot be shared (see the
    /// module docs), or it sees a different database.
    fn open_extra(&self) -> rusqlite::Result<Option<SqliteSource>> {
        let expected = match &self.sharing {
            Sharing::None => return Ok(None),
            Sharing::Lock(s) | Sharing::Snapshot(s, _) | Sharing::EmptyWal(s) => *s,
        };
        let file = file_id(&self.path);
        let conn = match self.begin_extra() {
            Ok(Some(conn)) => conn,
            Ok(None) => return Ok(None),
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
                ) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        if stamp(&conn, &self.path, file)? != Some(expected) {
            return Ok(None);
        }
        Ok(Some(SqliteSource {
            conn,
            path: self.path.clone(),
            sharing: self.sharing.clone(),
        }))
    }

    /// A new connection inside a read transaction on this one's snapshot
    /// as [`Sharing`] says to start it, or `None` when it cannot be.
    fn begin_extra(&self) -> rusqlite::Result<Option<Connection>> {
        let (conn, wal) = connect(&self.path, EXTRA_READER_BUSY_TIMEOUT)?;
        match &self.sharing {
            Sharing::None => Ok(None),
            Sharing::Lock(_) => {
                conn.execute_batch("BEGIN")?;
                first_read(&conn)?;
                Ok(Some(conn))
            }
            Sharing::Snapshot(_, snapshot) => {
                if !wal {
                    return Ok(None);
                }
                conn.execute_batch("BEGIN")?;
                if !snapshot.open(&conn)? {
                    return Ok(None);
                }
                Ok(Some(conn))
            }
            Sharing::EmptyWal(_) => {
                if !wal {
                    return Ok(None);
                }
                conn.execute_batch("BEGIN")?;
                // A snapshot here means the WAL now holds a transaction: a
                // commit since the first connection started.
                if !matches!(Snapshot::get(&conn)?, Got::NoWalTransaction) {
                    return Ok(None);
                }
                if conn.transaction_state(Some(MAIN_DB))? != TransactionState::Read {
                    return Ok(None);
                }
                Ok(Some(conn))
            }
        }
    }
}

/// Opens `path` read-only and reads once outside a transaction, which
/// tells whether the file is in WAL mode (then the connection knows it too,
/// which the snapshot API needs).
fn connect(path: &Path, busy_timeout: Duration) -> rusqlite::Result<(Connection, bool)> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(busy_timeout)?;
    let wal = journal_mode_is_wal(&conn)?;
    Ok((conn, wal))
}

/// The first connection: opens `path` read-only and starts the read
/// transaction that holds its snapshot (and, in rollback-journal mode, its
/// SHARED lock) until the connection is dropped; in WAL mode, with the
/// snapshot's handle when SQLite has one.
fn begin_first(path: &Path) -> rusqlite::Result<(Connection, WalStart)> {
    let (conn, wal) = connect(path, BUSY_TIMEOUT)?;
    conn.execute_batch("BEGIN")?;
    // In WAL mode, asked for before the first read, so that SQLite opens
    // the read transaction itself (module docs).
    let start = if wal {
        WalStart::Got(Snapshot::get(&conn)?)
    } else {
        WalStart::NotAsked
    };
    first_read(&conn)?;
    Ok((conn, start))
}

/// The first read inside the transaction, which takes the snapshot unless
/// `sqlite3_snapshot_get` or `_open` already did. It is also the first time
/// SQLite looks at the file's header.
fn first_read(conn: &Connection) -> rusqlite::Result<()> {
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })?;
    Ok(())
}

fn journal_mode_is_wal(conn: &Connection) -> rusqlite::Result<bool> {
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    Ok(mode.eq_ignore_ascii_case("wal"))
}

/// The stamp of what `conn`, inside its read transaction on `path`, opened,
/// given the file's identity `before` it was opened; `None` when the file
/// at `path` changed identity while it was being opened, so which one
/// `conn` holds is unknown.
fn stamp(
    conn: &Connection,
    path: &Path,
    before: Option<(u64, u64)>,
) -> rusqlite::Result<Option<Stamp>> {
    let wal = journal_mode_is_wal(conn)?;
    let file = file_id(path);
    if file != before {
        return Ok(None);
    }
    let pragma = |name: &str| conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0));
    Ok(Some(Stamp {
        file,
        wal,
        schema_version: pragma("schema_version")?,
        page_count: pragma("page_count")?,
        freelist_count: pragma("freelist_count")?,
    }))
}

impl Source for SqliteSource {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            engine: ENGINE_NAME.into(),
            version: rusqlite::version().to_owned(),
            database: self
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| self.path.display().to_string()),
        }
    }

    fn catalog(&mut self) -> Result<Catalog> {
        let mut catalog = read_catalog(&self.conn)?;
        crate::depends::record_dependencies(&mut self.conn, &mut catalog);
        Ok(catalog)
    }

    fn read_table(
        &mut self,
        table: &TableDef,
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> Result<()>,
    ) -> Result<()> {
        self.read_rows(table, None, limits, sink)
    }

    /// `count(*)` in the snapshot (a delta's check of its target).
    fn count_rows(&mut self, table: &TableDef) -> Result<u64> {
        let sql = format!("SELECT count(*) FROM {}", ident(&table.name.name));
        self.conn
            .query_row(&sql, [], |r| r.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
            .map_err(|e| sql_err(format!("counting the rows of table {}", table.name), e))
    }

    /// Another connection on the same snapshot, or `None` when it cannot
    /// be put there: while a writer waits to commit (rollback journal), when
    /// SQLite refuses the snapshot or a commit came in before any snapshot
    /// existed (WAL), or if the file at the path no longer is the one this
    /// source reads (see the module docs). Fails with [`Error::Engine`] if
    /// the file cannot be opened again for another reason.
    fn open_reader(&mut self) -> Result<Option<Box<dyn Source + Send>>> {
        let reader = self.open_extra().map_err(|e| {
            sql_err(
                format!("opening another reader on {}", self.path.display()),
                e,
            )
        })?;
        Ok(reader.map(|r| Box::new(r) as Box<dyn Source + Send>))
    }

    /// Equal rowid ranges (at most `parts`, the first and last open-ended)
    /// for a table with an `INTEGER PRIMARY KEY` column; the whole table for
    /// any other table (see the `rowid_ranges` module for why), one whose
    /// rowid names are all taken by columns, or a table too small to split.
    fn split_table(&mut self, table: &TableDef, parts: usize) -> Result<Vec<TablePart>> {
        let whole = || Ok(vec![TablePart::whole()]);
        if parts < 2 || table.columns.is_empty() || !rowid_is_data(table) {
            return whole();
        }
        let Some(rowid) = rowid_name(table) else {
            return whole();
        };
        let Some((min, max)) = rowid_bounds(&self.conn, table, rowid)? else {
            return whole();
        };
        let ranges = split(min, max, parts);
        if ranges.is_empty() {
            return whole();
        }
        Ok(ranges
            .into_iter()
            .map(|r| TablePart {
                label: r.label(),
                filter: Some(r.filter(rowid)),
            })
            .collect())
    }

    /// Reads one part from [`Source::split_table`], in rowid order. Fails
    /// with [`Error::Unsupported`] for a part this source did not make.
    fn read_table_part(
        &mut self,
        table: &TableDef,
        part: &TablePart,
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> Result<()>,
    ) -> Result<()> {
        let Some(filter) = &part.filter else {
            return self.read_rows(table, None, limits, sink);
        };
        let range = rowid_name(table)
            .and_then(|rowid| RowidRange::parse(filter, rowid))
            .ok_or_else(|| {
                Error::Unsupported(format!(
                    "table {}: part {} was not made by this SQLite source",
                    table.name, part.label
                ))
            })?;
        self.read_rows(table, Some(range), limits, sink)
    }

    /// Reads the rows whose `column` is in `from..to` by a range condition
    /// (which the column's index serves), in rowid order. A row whose
    /// column holds text or a real may be included: SQLite compares those
    /// with integers too, and the caller filters. Fails with
    /// [`Error::Unsupported`] for a column the table does not have.
    fn read_int_range(
        &mut self,
        table: &TableDef,
        column: &str,
        range: KeyRange,
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> Result<()>,
    ) -> Result<()> {
        if table.column_index(column).is_none() {
            return Err(Error::Unsupported(format!(
                "table {} has no column {column}",
                table.name
            )));
        }
        let range = RowidRange::from(range);
        self.read_range_of(table, Some((range, Some(&ident(column)))), limits, sink)
    }
}

impl SqliteSource {
    /// Streams the rows of `table` (those in `range`, when given) to `sink`
    /// in batches within `limits`, in rowid order (primary key order for
    /// WITHOUT ROWID tables).
    fn read_rows(
        &self,
        table: &TableDef,
        range: Option<RowidRange>,
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> Result<()>,
    ) -> Result<()> {
        self.read_range_of(table, range.map(|r| (r, None)), limits, sink)
    }

    /// [`SqliteSource::read_rows`], with the range on the quoted column
    /// given with it rather than on the rowid.
    fn read_range_of(
        &self,
        table: &TableDef,
        range: Option<(RowidRange, Option<&str>)>,
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> Result<()>,
    ) -> Result<()> {
        let (range, on) = match range {
            Some((r, on)) => (Some(r), on),
            None => (None, None),
        };
        let ncols = table.columns.len();
        if ncols == 0 {
            return Ok(());
        }
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        let rowid = rowid_name(table);
        let mut sql = format!("SELECT {}", ident_list(&names));
        if let Some(r) = rowid {
            sql.push_str(&format!(", {r}"));
        }
        sql.push_str(&format!(" FROM {}", ident(&table.name.name)));
        let mut bounds: Vec<i64> = Vec::new();
        if let Some(range) = range {
            // A rowid range is only ever made for a table with a rowid.
            let r = on.or(rowid).ok_or_else(|| {
                Error::Unsupported(format!(
                    "table {} has no rowid to read {} by",
                    table.name,
                    range.label()
                ))
            })?;
            let mut conditions = Vec::new();
            if let Some(from) = range.from {
                conditions.push(format!("{r} >= ?"));
                bounds.push(from);
            }
            if let Some(to) = range.to {
                conditions.push(format!("{r} < ?"));
                bounds.push(to);
            }
            if !conditions.is_empty() {
                sql.push_str(&format!(" WHERE {}", conditions.join(" AND ")));
            }
        }
        match (rowid, &table.primary_key) {
            (Some(r), _) => sql.push_str(&format!(" ORDER BY {r}")),
            (None, Some(pk)) => sql.push_str(&format!(" ORDER BY {}", ident_list(&pk.columns))),
            (None, None) => {}
        }
        let ctx = || match range {
            Some(range) => format!("reading {} of table \"{}\"", range.label(), table.name),
            None => format!("reading table \"{}\"", table.name),
        };
        let mut stmt = self.conn.prepare(&sql).map_err(|e| sql_err(ctx(), e))?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(bounds))
            .map_err(|e| sql_err(ctx(), e))?;

        let max_rows = limits.max_rows.max(1);
        let mut values: Vec<Value> = bru_core::spare_values();
        let mut batch_rows = 0usize;
        let mut batch_bytes = 0usize;
        while let Some(row) = rows.next().map_err(|e| sql_err(ctx(), e))? {
            for (i, name) in names.iter().enumerate() {
                let cell = row.get_ref(i).map_err(|e| sql_err(ctx(), e))?;
                let value = from_sqlite(cell).map_err(|bytes| Error::Value {
                    table: table.name.to_string(),
                    column: (*name).to_owned(),
                    value: Value::Bytes(bytes).describe(),
                    reason: format!(
                        "the text in the row with {} is not valid UTF-8; bru does not alter text, \
                         so fix the value in the source (or store it as a BLOB)",
                        describe_row(table, rowid.map(|_| ncols), row)
                    ),
                })?;
                batch_bytes += value.approx_size();
                values.push(value);
            }
            batch_rows += 1;
            if batch_rows >= max_rows || batch_bytes >= limits.max_bytes {
                // The next batch is likely as long as this one: room for it
                // up front spares growing it by copies from empty (none is
                // made when a recycled vector has it).
                let mut next = bru_core::spare_values();
                next.reserve(values.len());
                sink(RowBatch::from_values(
                    ncols,
                    std::mem::replace(&mut values, next),
                ))?;
                batch_rows = 0;
                batch_bytes = 0;
            }
        }
        if batch_rows > 0 {
            sink(RowBatch::from_values(ncols, values))?;
        }
        Ok(())
    }
}

/// Names a row for an error message: by rowid, or by primary key values.
fn describe_row(table: &TableDef, rowid_at: Option<usize>, row: &rusqlite::Row<'_>) -> String {
    if let Some(at) = rowid_at {
        if let Ok(id) = row.get::<_, i64>(at) {
            return format!("rowid {id}");
        }
    }
    let Some(pk) = &table.primary_key else {
        return "no rowid or primary key".into();
    };
    let parts: Vec<String> = pk
        .columns
        .iter()
        .filter_map(|c| {
            let i = table.column_index(c)?;
            let v = from_sqlite(row.get_ref(i).ok()?).unwrap_or(Value::Null);
            Some(format!("{c} = {}", v.describe()))
        })
        .collect();
    format!("primary key ({})", parts.join(", "))
}
