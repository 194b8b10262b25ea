//! Writing an archive.
//!
//! The file appears at its final path only once it is a valid archive in
//! state `in_progress`: [`ArchiveWriter::create`] builds the schema and the
//! metadata in a temporary file next to it, commits, and renames it into
//! place. From then on chunks are written in large transactions (a commit
//! every [`COMMIT_BYTES`] stored bytes and at the end of every table), and
//! [`ArchiveWriter::finish`] sets the state to `complete` in the final
//! commit. Because SQLite's rollback journal makes each commit atomic, a
//! process killed at any point leaves the last committed state: a valid
//! archive that says `in_progress`.
//!
//! While writing, `synchronous=OFF`: SQLite then skips fsync, which only
//! matters if the operating system itself crashes; a killed process loses
//! nothing that was committed. The final commit runs with `synchronous=FULL`,
//! which flushes the whole file, so a `complete` archive is on disk.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use bru_core::{Catalog, SourceInfo};
use rusqlite::{params, Connection, OpenFlags};

use crate::codec::{EncodedChunk, MAX_RAW_LEN};
use crate::container::{
    catalog_crc32, journal_path, key, sql_error, to_sql_int, APPLICATION_ID, DEFAULT_PART_LEN,
    MAX_CATALOG_BYTES, MAX_CATALOG_ENTRIES, MAX_COLUMNS, MAX_PART_LEN, MAX_STORED_LEN, PAGE_SIZE,
    SCHEMA,
};
use crate::crypt::{ChunkPlace, Sealer};
use crate::error::{Error, Result};
use crate::meta::{
    ArchiveMeta, ArchiveState, ChunkLimits, Encryption, TableId, TableTotals,
    ENCRYPTED_FORMAT_VERSION, FORMAT_VERSION, MAX_CHUNK_BYTES, MAX_VALUE_BYTES,
};
use crate::sealed::{self, Seal, SCOPE_ALL, SCOPE_DATA};

/// Stored bytes written between two commits while a table is in progress.
pub const COMMIT_BYTES: u64 = 64 << 20;

/// Options for [`ArchiveWriter::create`].
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Replace an existing file at the path. Without it, an existing file is
    /// an error and is left untouched.
    pub force: bool,
    /// The zstd level the chunks are compressed with (recorded in metadata).
    pub compress_level: i32,
    /// The bru version writing the archive.
    pub tool_version: String,
    /// The chunk size target the chunks are cut at (`--chunk-size`),
    /// recorded in the metadata: a reader refuses a chunk larger than a
    /// backup with this target writes ([`ChunkLimits`]). At most
    /// [`MAX_CHUNK_BYTES`].
    pub chunk_bytes: usize,
}

/// Writes one archive. Not finished means not complete.
pub struct ArchiveWriter {
    pub(crate) path: PathBuf,
    pub(crate) conn: Connection,
    pub(crate) meta: ArchiveMeta,
    /// Table names in catalog order; `None` until the catalog is written.
    tables: Option<Vec<String>>,
    /// The column count of each table, to check chunks against the limits
    /// a reader will apply.
    columns: Vec<u64>,
    /// The longest value written so far, recorded by [`ArchiveWriter::finish`].
    max_value_len: u64,
    /// The next sequence number of each table.
    next_seq: Vec<u64>,
    finished: HashSet<TableId>,
    in_transaction: bool,
    uncommitted_bytes: u64,
    part_len: usize,
    /// The sealer and scope of an encrypted archive.
    pub(crate) sealed: Option<(Sealer, &'static str)>,
}

impl ArchiveWriter {
    /// Creates the archive file at `path` in state `in_progress` and commits
    /// the metadata, so that even a backup killed right away leaves a file
    /// that `bru list` reports as incomplete.
    ///
    /// Fails with [`Error::Exists`] if `path` exists and `options.force` is
    /// not set (the file is left untouched), and with [`Error::Io`] or
    /// [`Error::DiskFull`] if the file cannot be written. With `force`, a
    /// stale rollback journal next to `path` is removed and the old file is
    /// replaced atomically once the new one is valid.
    pub fn create(path: &Path, source: &SourceInfo, options: &WriterOptions) -> Result<Self> {
        Self::create_sealed(path, source, options, None)
    }

    /// Like [`ArchiveWriter::create`], and with `seal` an encrypted archive
    /// (format version 3, FORMAT.md "Encrypted archives"): a random data key
    /// sealed by `seal.lock` into the clear metadata, every chunk sealed as
    /// it is written, and the catalog kept out of the file until
    /// [`ArchiveWriter::finish`] seals it (module `sealed`).
    ///
    /// Fails as [`ArchiveWriter::create`] does, and with [`Error::Misuse`]
    /// if the data key cannot be sealed (no recipient).
    pub fn create_sealed(
        path: &Path,
        source: &SourceInfo,
        options: &WriterOptions,
        seal: Option<&Seal>,
    ) -> Result<Self> {
        let range = zstd::compression_level_range();
        if !range.contains(&options.compress_level) {
            return Err(Error::Misuse {
                path: path.to_path_buf(),
                message: format!(
                    "compression level {} is outside {}..={}",
                    options.compress_level,
                    range.start(),
                    range.end()
                ),
            });
        }
        let chunk_bytes = options.chunk_bytes as u64;
        if chunk_bytes > MAX_CHUNK_BYTES {
            return Err(Error::Misuse {
                path: path.to_path_buf(),
                message: format!(
                    "chunk size {chunk_bytes} bytes is above the largest an archive may have \
                     ({} MiB); use a smaller --chunk-size",
                    MAX_CHUNK_BYTES >> 20
                ),
            });
        }
        if path.symlink_metadata().is_ok() && !options.force {
            return Err(Error::Exists {
                path: path.to_path_buf(),
            });
        }
        let io = |doing: &'static str| {
            move |e: std::io::Error| {
                match (e.raw_os_error(), e.kind()) {
                (Some(28), _) | (_, std::io::ErrorKind::StorageFull) => Error::DiskFull {
                    path: path.to_path_buf(),
                },
                (_, std::io::ErrorKind::PermissionDenied) => Error::Io {
                    path: path.to_path_buf(),
                    doing,
                    message: "permission denied; write the archive into a directory you may create files in".into(),
                },
                // tempfile's errors end with the temporary file's path, a
                // name the user never gave: the kind alone says it.
                (None, kind) if e.get_ref().is_some() => Error::Io {
                    path: path.to_path_buf(),
                    doing,
                    message: std::io::Error::from(kind).to_string(),
                },
                _ => Error::Io {
                    path: path.to_path_buf(),
                    doing,
                    message: e.to_string(),
                },
            }
            }
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".bru-").suffix(".tmp");
        // Like any file a tool creates: 0666 less the umask, rather than
        // tempfile's private 0600, which would surprise whoever restores.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let temp = builder
            .tempfile_in(dir)
            .map_err(io("creating"))?
            .into_temp_path();

        let mut meta = ArchiveMeta {
            format_version: FORMAT_VERSION,
            tool_version: options.tool_version.clone(),
            created_at: String::new(),
            archive_id: String::new(),
            source: source.clone(),
            state: ArchiveState::InProgress,
            compress_level: options.compress_level,
            limits: ChunkLimits {
                chunk_bytes,
                // Until the backup ends, the largest any chunk may hold.
                max_value_bytes: MAX_VALUE_BYTES,
            },
            delta: None,
            encryption: None,
        };
        let misuse = |message: String| Error::Misuse {
            path: path.to_path_buf(),
            message,
        };
        let lock = match seal {
            None => None,
            Some(seal) => {
                let key = crate::crypt::new_data_key().map_err(misuse)?;
                let envelope = seal.lock.wrap(&key).map_err(misuse)?;
                let scope = if seal.data_only {
                    SCOPE_DATA
                } else {
                    SCOPE_ALL
                };
                meta.format_version = ENCRYPTED_FORMAT_VERSION;
                meta.encryption = Some(Encryption {
                    scope: scope.to_owned(),
                    key_kind: seal.lock.kind().to_owned(),
                    unlocked: true,
                });
                Some((key, envelope, scope))
            }
        };
        let extra: Vec<(&str, String)> = match (&lock, seal) {
            (Some((_, envelope, scope)), Some(seal)) => vec![
                (key::ENCRYPTION, (*scope).to_owned()),
                (key::KEY_KIND, seal.lock.kind().to_owned()),
                (key::KEY_ENVELOPE, hex(envelope)),
            ],
            _ => Vec::new(),
        };
        let scope = lock.as_ref().map(|(_, _, scope)| *scope);
        // The temporary file is an implementation detail: errors name the archive.
        let rows;
        (meta.created_at, meta.archive_id, rows) = init_file(&temp, &meta, extra, scope)
            .map_err(|e| sql_error(path, "creating the archive", e))?;
        let sealed = match lock {
            None => None,
            Some((key, _, scope)) => Some((
                Sealer::new(&key, &meta.archive_id, ENCRYPTED_FORMAT_VERSION).map_err(misuse)?,
                scope,
            )),
        };

        // A journal left by an earlier, killed writer belongs to the old file;
        // SQLite would replay it onto the new one.
        let journal = journal_path(path);
        match std::fs::remove_file(&journal) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("removing the old journal of")(e)),
        }
        if options.force {
            temp.persist(path).map_err(|e| io("replacing")(e.error))?;
        } else {
            temp.persist_noclobber(path).map_err(|e| {
                if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                    Error::Exists {
                        path: path.to_path_buf(),
                    }
                } else {
                    io("creating")(e.error)
                }
            })?;
        }

        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| sql_error(path, "opening the new archive", e))?;
        conn.execute_batch(
            "PRAGMA journal_mode = DELETE; PRAGMA synchronous = OFF; PRAGMA cache_size = -16384;",
        )
        .map_err(|e| sql_error(path, "setting up the archive", e))?;
        // A `bru list` reading the archive meanwhile holds a shared lock for
        // a moment; wait for it rather than fail the backup.
        conn.busy_timeout(std::time::Duration::from_secs(60))
            .map_err(|e| sql_error(path, "setting up the archive", e))?;
        if sealed.is_some() {
            // The catalog and the whole metadata live in TEMP tables until
            // the final commit seals them (module `sealed`).
            let err = |e| sql_error(path, "setting up the archive", e);
            sealed::create_shadows(&conn).map_err(err)?;
            let mut insert = conn
                .prepare("INSERT INTO temp.bru_meta (key, value) VALUES (?1, ?2)")
                .map_err(err)?;
            for (k, v) in &rows {
                insert.execute(params![k, v]).map_err(err)?;
            }
        }
        Ok(ArchiveWriter {
            path: path.to_path_buf(),
            conn,
            meta,
            tables: None,
            columns: Vec::new(),
            max_value_len: 0,
            next_seq: Vec::new(),
            finished: HashSet::new(),
            in_transaction: false,
            uncommitted_bytes: 0,
            part_len: DEFAULT_PART_LEN,
            sealed,
        })
    }

    /// The archive's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sets the largest part a chunk's stored bytes are split into (default
    /// 32 MiB, at most 64 MiB, the most a reader accepts). Smaller parts
    /// exist so tests can exercise splitting without huge chunks.
    pub fn set_part_len(&mut self, bytes: usize) {
        self.part_len = bytes.clamp(1, MAX_PART_LEN as usize);
    }

    /// Stores the catalog; returns the id of each table, in catalog order.
    ///
    /// Fails if a catalog was already written, or on a write error.
    pub fn write_catalog(&mut self, catalog: &Catalog) -> Result<Vec<TableId>> {
        if self.tables.is_some() {
            return Err(self.misuse("the catalog was already written".into()));
        }
        if let Some(t) = catalog
            .tables
            .iter()
            .find(|t| t.columns.len() > MAX_COLUMNS)
        {
            return Err(self.misuse(format!(
                "table {} has {} columns, more than an archive holds ({MAX_COLUMNS})",
                t.name,
                t.columns.len()
            )));
        }
        let json = |v: Result<String, serde_json::Error>| {
            v.map_err(|e| self.misuse(format!("cannot serialise the catalog: {e}")))
        };
        let tables = catalog
            .tables
            .iter()
            .map(|t| json(serde_json::to_string(t)))
            .collect::<Result<Vec<_>>>()?;
        let objects = catalog
            .objects
            .iter()
            .map(|o| json(serde_json::to_string(o)))
            .collect::<Result<Vec<_>>>()?;
        // What a reader refuses to load, it must never be handed.
        let entries = tables.len() + objects.len();
        let bytes: u64 = tables.iter().chain(&objects).map(|d| d.len() as u64).sum();
        if entries > MAX_CATALOG_ENTRIES || bytes > MAX_CATALOG_BYTES {
            return Err(self.misuse(format!(
                "the catalog has {entries} definitions of {bytes} bytes, more than an archive \
                 holds ({MAX_CATALOG_ENTRIES} definitions, {MAX_CATALOG_BYTES} bytes)"
            )));
        }
        let crc = catalog_crc32(&tables, &objects);

        self.begin()?;
        let path = &self.path;
        let err = |e| sql_error(path, "writing the catalog", e);
        {
            let mut insert = self
                .conn
                .prepare("INSERT INTO bru_tables (id, name, def) VALUES (?1, ?2, ?3)")
                .map_err(err)?;
            for (id, (def, t)) in tables.iter().zip(&catalog.tables).enumerate() {
                insert
                    .execute(params![id as i64, t.name.to_string(), def])
                    .map_err(err)?;
            }
            let mut insert = self
                .conn
                .prepare("INSERT INTO bru_objects (id, def) VALUES (?1, ?2)")
                .map_err(err)?;
            for (id, def) in objects.iter().enumerate() {
                insert.execute(params![id as i64, def]).map_err(err)?;
            }
            self.conn
                .execute(
                    "INSERT INTO bru_meta (key, value) VALUES (?1, ?2)",
                    params![key::CATALOG_CRC32, format!("{crc:08x}")],
                )
                .map_err(err)?;
        }
        self.commit()?;
        self.next_seq = vec![0; catalog.tables.len()];
        self.columns = catalog
            .tables
            .iter()
            .map(|t| t.columns.len() as u64)
            .collect();
        self.tables = Some(catalog.tables.iter().map(|t| t.name.to_string()).collect());
        Ok((0..catalog.tables.len() as TableId).collect())
    }

    /// Appends the next chunk of `table`. Chunks are numbered in call order.
    ///
    /// Fails if `table` is not in the catalog or already finished, if the
    /// chunk's CRC does not match its data or its lengths are above the
    /// format's limits, or on a write error.
    pub fn write_chunk(&mut self, table: TableId, chunk: &EncodedChunk) -> Result<()> {
        let name = self.open_table(table)?;
        if crc32fast::hash(&chunk.data) != chunk.crc32 {
            return Err(self.misuse(format!(
                "a chunk of table {name} has a CRC that does not match its data"
            )));
        }
        let stored_len = chunk.data.len() as u64;
        if chunk.raw_len > MAX_RAW_LEN || stored_len > MAX_STORED_LEN {
            return Err(self.misuse(format!(
                "a chunk of table {name} is larger than the format allows ({} raw, {stored_len} stored bytes)",
                chunk.raw_len
            )));
        }
        let seq = self.next_seq[table as usize];
        // A chunk the reader would refuse as too large for this archive's
        // limits fails the backup here rather than the restore later.
        let columns = self.columns[table as usize];
        let limits = ChunkLimits {
            max_value_bytes: chunk.max_value_len,
            ..self.meta.limits
        };
        let cells = chunk.row_count.saturating_mul(columns);
        if chunk.max_value_len > MAX_VALUE_BYTES
            || (columns > 0 && cells > limits.max_cells(columns))
            || chunk.raw_len > limits.max_raw_len(columns)
        {
            return Err(self.misuse(format!(
                "chunk {seq} of table {name} ({} rows, {} bytes, longest value {} bytes) is \
                 larger than a reader accepts for {}-byte chunks",
                chunk.row_count, chunk.raw_len, chunk.max_value_len, self.meta.limits.chunk_bytes
            )));
        }
        let sealed_data;
        let (data, crc) = match &self.sealed {
            None => (&chunk.data, chunk.crc32),
            Some((sealer, _)) => {
                let place = ChunkPlace {
                    table,
                    seq,
                    rows: chunk.row_count,
                    raw_len: chunk.raw_len,
                };
                sealed_data = sealer
                    .seal_chunk(place, &chunk.data)
                    .map_err(|m| self.misuse(m))?;
                (&sealed_data, crc32fast::hash(&sealed_data))
            }
        };
        let stored_len = data.len() as u64;
        let parts = data.chunks(self.part_len);
        let path = &self.path;
        let ints = [
            to_sql_int(path, "sequence number", seq)?,
            to_sql_int(path, "row count", chunk.row_count)?,
            to_sql_int(path, "raw length", chunk.raw_len)?,
            to_sql_int(path, "stored length", stored_len)?,
        ];

        self.begin()?;
        let path = &self.path;
        let err = |e| sql_error(path, &format!("writing chunk {seq} of table {name}"), e);
        self.conn
            .prepare_cached(
                "INSERT INTO bru_chunks (table_id, seq, row_count, raw_len, stored_len, crc32, parts) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    table,
                    ints[0],
                    ints[1],
                    ints[2],
                    ints[3],
                    i64::from(crc),
                    parts.len() as i64
                ])
            })
            .map_err(err)?;
        let chunk_id = self.conn.last_insert_rowid();
        let mut insert = self
            .conn
            .prepare_cached(
                "INSERT INTO bru_chunk_parts (chunk_id, part, data) VALUES (?1, ?2, ?3)",
            )
            .map_err(err)?;
        for (i, part) in parts.enumerate() {
            insert
                .execute(params![chunk_id, i as i64, part])
                .map_err(err)?;
        }
        drop(insert);
        self.next_seq[table as usize] += 1;
        self.max_value_len = self.max_value_len.max(chunk.max_value_len);
        self.uncommitted_bytes += stored_len;
        if self.uncommitted_bytes >= COMMIT_BYTES {
            self.commit()?;
        }
        Ok(())
    }

    /// Records a table's totals once its last chunk is written, and commits.
    ///
    /// Fails if `table` is not in the catalog or already finished, if
    /// `totals.chunks` differs from the number of chunks written for it, or
    /// on a write error.
    pub fn finish_table(&mut self, table: TableId, totals: &TableTotals) -> Result<()> {
        let name = self.open_table(table)?;
        let written = self.next_seq[table as usize];
        if totals.chunks != written {
            return Err(self.misuse(format!(
                "table {name}: totals say {} chunks but {written} were written",
                totals.chunks
            )));
        }
        let path = &self.path;
        let ints = [
            to_sql_int(path, "row count", totals.rows)?,
            to_sql_int(path, "raw bytes", totals.raw_bytes)?,
            to_sql_int(path, "stored bytes", totals.stored_bytes)?,
            to_sql_int(path, "chunk count", totals.chunks)?,
        ];
        self.begin()?;
        let path = &self.path;
        self.conn
            .execute(
                "UPDATE bru_tables SET rows = ?2, raw_bytes = ?3, stored_bytes = ?4, chunks = ?5, \
                 checksum = ?6 WHERE id = ?1",
                params![
                    table,
                    ints[0],
                    ints[1],
                    ints[2],
                    ints[3],
                    format!("{:016x}", totals.checksum)
                ],
            )
            .map_err(|e| sql_error(path, &format!("writing the totals of table {name}"), e))?;
        self.commit()?;
        self.finished.insert(table);
        Ok(())
    }

    /// Marks the archive complete in the final commit and closes it.
    ///
    /// Fails, leaving the archive incomplete, if the catalog was never
    /// written, if a table was not finished with
    /// [`ArchiveWriter::finish_table`], or on a write error.
    pub fn finish(mut self) -> Result<ArchiveMeta> {
        let Some(tables) = &self.tables else {
            return Err(self.misuse("finished before the catalog was written".into()));
        };
        if let Some(id) = (0..tables.len() as TableId).find(|id| !self.finished.contains(id)) {
            let name = tables[id as usize].clone();
            return Err(self.misuse(format!("table {name} was not finished")));
        }
        // Everything before was committed by finish_table. FULL makes this
        // last commit flush the whole file before `complete` is on disk.
        self.commit()?;
        self.conn
            .execute_batch("PRAGMA synchronous = FULL;")
            .map_err(|e| sql_error(&self.path, "marking the archive complete", e))?;
        self.begin()?;
        let path = &self.path;
        let err = |e| sql_error(path, "marking the archive complete", e);
        self.conn
            .execute(
                "UPDATE bru_meta SET value = ?2 WHERE key = ?1",
                params![key::STATE, ArchiveState::Complete.stored()],
            )
            .map_err(err)?;
        // The longest value is known only now; a reader of an archive
        // without it assumes the largest any engine holds.
        self.conn
            .execute(
                "INSERT INTO bru_meta (key, value) VALUES (?1, ?2)",
                params![key::MAX_VALUE_BYTES, self.max_value_len.to_string()],
            )
            .map_err(err)?;
        self.meta.limits.max_value_bytes = self.max_value_len;
        if let Some(crc) = crate::container::states_crc(&self.conn, &self.path)? {
            let path = &self.path;
            self.conn
                .execute(
                    "INSERT OR REPLACE INTO bru_meta (key, value) VALUES (?1, ?2)",
                    params![key::STATES_CRC32, format!("{crc:08x}")],
                )
                .map_err(|e| sql_error(path, "marking the archive complete", e))?;
        }
        if let Some((sealer, scope)) = &self.sealed {
            sealed::seal_catalog(&self.conn, &self.path, sealer, scope)?;
        }
        self.commit()?;
        let ArchiveWriter {
            path,
            conn,
            mut meta,
            ..
        } = self;
        conn.close()
            .map_err(|(_, e)| sql_error(&path, "closing the archive", e))?;
        meta.state = ArchiveState::Complete;
        Ok(meta)
    }

    /// The name of `table`, checking it can still take chunks.
    fn open_table(&self, table: TableId) -> Result<String> {
        let Some(tables) = &self.tables else {
            return Err(self.misuse("a chunk was written before the catalog".into()));
        };
        let Some(name) = usize::try_from(table).ok().and_then(|i| tables.get(i)) else {
            return Err(self.misuse(format!("there is no table with id {table}")));
        };
        if self.finished.contains(&table) {
            return Err(self.misuse(format!("table {name} was already finished")));
        }
        Ok(name.clone())
    }

    fn begin(&mut self) -> Result<()> {
        if !self.in_transaction {
            self.conn
                .execute_batch("BEGIN")
                .map_err(|e| sql_error(&self.path, "starting a transaction", e))?;
            self.in_transaction = true;
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        if self.in_transaction {
            self.conn
                .execute_batch("COMMIT")
                .map_err(|e| sql_error(&self.path, "committing", e))?;
            self.in_transaction = false;
            self.uncommitted_bytes = 0;
        }
        Ok(())
    }

    pub(crate) fn misuse(&self, message: String) -> Error {
        Error::Misuse {
            path: self.path.clone(),
            message,
        }
    }
}

/// Creates the schema and metadata in `temp`; returns the creation time,
/// the archive id and the metadata rows. With `scope` (an encrypted
/// archive), `extra` holds its encryption keys and only the keys it leaves
/// in clear are written to the file (the writer keeps them all in TEMP).
#[allow(clippy::type_complexity)]
fn init_file(
    temp: &Path,
    meta: &ArchiveMeta,
    extra: Vec<(&str, String)>,
    scope: Option<&str>,
) -> rusqlite::Result<(String, String, Vec<(String, String)>)> {
    let conn = Connection::open_with_flags(
        temp,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // The page size must be set before the first table is created.
    conn.execute_batch(&format!(
        "PRAGMA page_size = {PAGE_SIZE};
         PRAGMA journal_mode = DELETE;
         PRAGMA application_id = {APPLICATION_ID};
         PRAGMA user_version = {};",
        meta.format_version
    ))?;
    let created_at: String =
        conn.query_row("SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 'now')", [], |r| {
            r.get(0)
        })?;
    let archive_id: String =
        conn.query_row("SELECT lower(hex(randomblob(16)))", [], |r| r.get(0))?;
    conn.execute_batch("BEGIN")?;
    conn.execute_batch(SCHEMA)?;
    let mut rows: Vec<(String, String)> = [
        (key::FORMAT_VERSION, meta.format_version.to_string()),
        (key::TOOL_VERSION, meta.tool_version.clone()),
        (key::CREATED_AT, created_at.clone()),
        (key::ARCHIVE_ID, archive_id.clone()),
        (key::SOURCE_ENGINE, meta.source.engine.clone()),
        (key::SOURCE_VERSION, meta.source.version.clone()),
        (key::SOURCE_DATABASE, meta.source.database.clone()),
        (key::STATE, ArchiveState::InProgress.stored().into()),
        (key::COMPRESS_LEVEL, meta.compress_level.to_string()),
        (key::CHUNK_BYTES, meta.limits.chunk_bytes.to_string()),
    ]
    .into_iter()
    .chain(extra)
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    rows.shrink_to_fit();
    {
        let mut insert = conn.prepare("INSERT INTO bru_meta (key, value) VALUES (?1, ?2)")?;
        for (k, v) in &rows {
            if scope.is_none_or(|scope| sealed::is_clear(scope, k)) {
                insert.execute(params![k, v])?;
            }
        }
    }
    conn.execute_batch("COMMIT")?;
    conn.close().map_err(|(_, e)| e)?;
    Ok((created_at, archive_id, rows))
}

/// Lowercase hex digits of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
