//! Reading an archive.
//!
//! Opening checks, in order, before trusting anything inside the file: that
//! it exists; that its first bytes are an SQLite header carrying bru's
//! application id (so random bytes and plain SQLite files are told apart
//! without handing them to SQLite); that it is not shorter than its header
//! says (a truncated copy); and that its format version is one this build
//! reads. Every chunk is then checked as it is read: its sequence number,
//! its parts' lengths against the declared length (before any buffer is
//! allocated) and its CRC.
//!
//! The archive is data, never code: the connection runs with
//! `trusted_schema=OFF` and SQLite's length limit at [`MAX_VALUE_READ`], and
//! opening refuses a file whose schema holds anything but plain tables and
//! their indexes (a view, a trigger, a virtual or generated column could
//! otherwise run SQL of the archive's choosing while it is read). Every size
//! read from the file is bounded before it is allocated: the metadata, the
//! catalog ([`MAX_CATALOG_BYTES`] in all) and each chunk, whose lengths are
//! checked against the archive's [`ChunkLimits`].
//!
//! The file is opened read-only. The one exception is a file left with a hot
//! rollback journal by a killed writer: SQLite must roll that transaction
//! back before anyone can read the file, which needs write access, so the
//! reader opens it read-write once for SQLite to do so (FORMAT.md, "Crash
//! safety").

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bru_core::{Catalog, ObjectDef, RowBatch, SourceInfo, TableDef};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::codec::{decode_chunk_reusing, EncodedChunk};
use crate::container::{
    journal_path, key, non_negative, sql_error, APPLICATION_ID, MAX_CATALOG_BYTES,
    MAX_CATALOG_ENTRIES, MAX_COLUMNS, MAX_META_ROWS, MAX_META_VALUE_LEN, MAX_PART_LEN,
    MAX_STORED_LEN, MAX_VALUE_READ, TABLES,
};
use crate::crypt::{ChunkPlace, Sealer};
use crate::error::{Error, Result};
use crate::keys::Keys;
use crate::meta::{
    ArchiveMeta, ArchiveState, ChunkLimits, Encryption, TableId, TableTotals,
    ENCRYPTED_FORMAT_VERSION,
};
use crate::sealed::{self, SCOPE_ALL, SCOPE_DATA};

/// The first 16 bytes of every SQLite 3 database.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// SQLITE_READONLY_ROLLBACK: a read-only connection met a hot journal.
const READONLY_ROLLBACK: i32 = 8 | (3 << 8);

/// One table as the archive records it.
#[derive(Debug, Clone)]
pub struct TableEntry {
    pub id: TableId,
    pub def: TableDef,
    /// `None` when the backup stopped before the table was finished.
    pub totals: Option<TableTotals>,
}

/// A chunk as read from the archive, CRC already checked.
#[derive(Debug, Clone)]
pub struct StoredChunk {
    pub table: TableId,
    /// Position of the chunk within its table, from 0.
    pub seq: u64,
    pub chunk: EncodedChunk,
}

/// An open archive.
pub struct ArchiveReader {
    pub(crate) path: PathBuf,
    pub(crate) conn: Connection,
    pub(crate) meta: ArchiveMeta,
    /// `None` when the backup stopped before writing the catalog.
    catalog_crc: Option<u32>,
    /// The sealer of an encrypted archive whose key envelope was opened.
    sealer: Option<Sealer>,
    /// What an encrypted archive whose key envelope was not opened needs.
    locked: Option<&'static str>,
}

impl ArchiveReader {
    /// Opens `path` read-only. Fails if the file is missing
    /// ([`Error::NotFound`]), is not a bru archive ([`Error::NotAnArchive`]),
    /// is truncated or structurally broken ([`Error::Damaged`]), or has a
    /// newer format version than this build reads
    /// ([`Error::UnsupportedVersion`]). An incomplete archive opens (so
    /// `bru list` can show it); see [`ArchiveReader::require_complete`].
    ///
    /// An encrypted archive is opened with the keys this process installed
    /// ([`crate::keys::install`]); see [`ArchiveReader::open_with`].
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, crate::keys::installed())
    }

    /// Opens `path` like [`ArchiveReader::open`], offering `keys` to an
    /// encrypted archive's key envelope. With a key that opens it, the
    /// sealed catalog is authenticated and read (and the clear metadata
    /// checked against it) before this returns; without any key of the
    /// kind it needs, the archive opens to its clear metadata only (for
    /// `bru list`) and everything else fails with [`Error::Locked`].
    ///
    /// Fails as [`ArchiveReader::open`] does, with [`Error::WrongKey`] when
    /// keys of the right kind were given but none opens the envelope, and
    /// with [`Error::Unauthentic`] when the sealed catalog or the clear
    /// metadata fails authentication.
    pub fn open_with(path: &Path, keys: &Keys) -> Result<Self> {
        check_header(path)?;
        // SQLite may refuse a truncated file outright; the length check then
        // says why. A file with a hot journal is checked only once SQLite has
        // rolled it back, since until then its header may be ahead of it.
        let conn = match open_connection(path) {
            Ok(conn) => conn,
            Err(e) => {
                check_length(path)?;
                return Err(e);
            }
        };
        // Under a shared lock no writer can be halfway through writing the
        // file, so its header on disk is a committed one.
        conn.execute_batch("BEGIN; SELECT count(*) FROM sqlite_master;")
            .map_err(|e| sql_error(path, "opening", e))?;
        check_length(path)?;
        conn.execute_batch("COMMIT")
            .map_err(|e| sql_error(path, "opening", e))?;
        let damaged = |message: String| Error::Damaged {
            path: path.to_path_buf(),
            message,
        };
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| sql_error(path, "reading the format version", e))?;
        let version = u32::try_from(version)
            .ok()
            .filter(|&v| v > 0)
            .ok_or_else(|| damaged(format!("invalid format version {version}")))?;
        if version > ENCRYPTED_FORMAT_VERSION {
            return Err(Error::UnsupportedVersion {
                path: path.to_path_buf(),
                found: version,
                supported: ENCRYPTED_FORMAT_VERSION,
            });
        }

        check_schema(&conn, path)?;
        let (meta_rows, longest): (i64, Option<i64>) = conn
            .query_row(
                "SELECT count(*), max(max(length(CAST(key AS BLOB)), length(CAST(value AS BLOB)))) \
                 FROM bru_meta",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| sql_error(path, "reading the metadata", e))?;
        if meta_rows as u64 > MAX_META_ROWS as u64
            || longest.unwrap_or(0) as u64 > MAX_META_VALUE_LEN as u64
        {
            return Err(damaged(format!(
                "its metadata has {meta_rows} rows or a value longer than {MAX_META_VALUE_LEN} \
                 bytes, more than any bru writes"
            )));
        }
        let read_pairs = |conn: &Connection| {
            conn.prepare("SELECT key, value FROM bru_meta")
                .and_then(|mut s| {
                    s.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(|e| sql_error(path, "reading the metadata", e))
        };
        let mut pairs = read_pairs(&conn)?;
        let (mut sealer, mut locked, mut encryption) = (None, None, None);
        let scope = pairs
            .iter()
            .find(|(k, _)| k == key::ENCRYPTION)
            .map(|(_, v)| v.clone());
        if version == ENCRYPTED_FORMAT_VERSION || scope.is_some() {
            let clear = |k: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| damaged(format!("metadata key {k} is missing")))
            };
            let scope = scope
                .filter(|s| {
                    (s == SCOPE_ALL || s == SCOPE_DATA) && version == ENCRYPTED_FORMAT_VERSION
                })
                .ok_or_else(|| {
                    damaged(format!(
                        "format version {version} with encryption {}",
                        clear(key::ENCRYPTION).unwrap_or_else(|_| "(none)".into())
                    ))
                })?;
            let key_kind = clear(key::KEY_KIND)?;
            let envelope = unhex(&clear(key::KEY_ENVELOPE)?)
                .ok_or_else(|| damaged("its key envelope is not hex digits".into()))?;
            match keys.unwrap(path, &envelope) {
                Ok(data_key) => {
                    let s = Sealer::new(&data_key, &clear(key::ARCHIVE_ID)?, version)
                        .map_err(damaged)?;
                    if sealed::unseal_catalog(&conn, path, &s, &scope, &pairs)? {
                        pairs = read_pairs(&conn)?;
                    } else if clear(key::STATE)? != ArchiveState::InProgress.stored() {
                        return Err(damaged(
                            "it is encrypted and says it is complete, but has no sealed catalog"
                                .into(),
                        ));
                    }
                    sealer = Some(s);
                }
                Err(Error::Locked { needs, .. }) => locked = Some(needs),
                Err(e) => return Err(e),
            }
            encryption = Some(Encryption {
                scope,
                key_kind,
                unlocked: sealer.is_some(),
            });
        }
        let get = |k: &str| -> Result<String> {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| damaged(format!("metadata key {k} is missing")))
        };
        // What a locked archive keeps sealed reads as empty.
        let sealed_or = |k: &str| match locked {
            Some(_) => Ok(get(k).unwrap_or_default()),
            None => get(k),
        };
        let meta_version = get(key::FORMAT_VERSION)?;
        if meta_version != version.to_string() {
            return Err(damaged(format!(
                "metadata says format version {meta_version} but the file header says {version}"
            )));
        }
        let state_value = get(key::STATE)?;
        let state = [ArchiveState::InProgress, ArchiveState::Complete]
            .into_iter()
            .find(|s| s.stored() == state_value)
            .ok_or_else(|| damaged(format!("unknown state {state_value:?}")))?;
        let level_text = get(key::COMPRESS_LEVEL)?;
        let compress_level = level_text
            .parse()
            .map_err(|_| damaged(format!("invalid compress_level {level_text:?}")))?;
        let catalog_crc = match pairs.iter().find(|(k, _)| k == key::CATALOG_CRC32) {
            None => None,
            Some((_, v)) => Some(
                u32::from_str_radix(v, 16)
                    .ok()
                    .filter(|_| v.len() == 8)
                    .ok_or_else(|| damaged(format!("invalid catalog_crc32 {v:?}")))?,
            ),
        };
        let defaults = ChunkLimits::default();
        let number = |k: &str, default: u64| -> Result<u64> {
            match pairs.iter().find(|(key, _)| key == k) {
                None => Ok(default),
                Some((_, v)) => v.parse().map_err(|_| damaged(format!("invalid {k} {v:?}"))),
            }
        };
        let limits = ChunkLimits {
            chunk_bytes: number(key::CHUNK_BYTES, defaults.chunk_bytes)?,
            max_value_bytes: number(key::MAX_VALUE_BYTES, defaults.max_value_bytes)?,
        }
        .capped();
        let meta = ArchiveMeta {
            format_version: version,
            tool_version: get(key::TOOL_VERSION)?,
            created_at: get(key::CREATED_AT)?,
            archive_id: pairs
                .iter()
                .find(|(k, _)| k == key::ARCHIVE_ID)
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
            source: SourceInfo {
                engine: sealed_or(key::SOURCE_ENGINE)?,
                version: sealed_or(key::SOURCE_VERSION)?,
                database: sealed_or(key::SOURCE_DATABASE)?,
            },
            state,
            compress_level,
            limits,
            delta: delta_from_meta(version, &pairs).map_err(damaged)?,
            encryption,
        };
        Ok(ArchiveReader {
            path: path.to_path_buf(),
            conn,
            meta,
            catalog_crc,
            sealer,
            locked,
        })
    }

    /// The archive's path, as given to [`ArchiveReader::open`].
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The metadata read when the archive was opened.
    pub fn meta(&self) -> &ArchiveMeta {
        &self.meta
    }

    /// Fails with [`Error::Incomplete`] unless the archive is complete.
    ///
    /// An encrypted archive must also be open ([`Error::Locked`] if no key
    /// opened it), and every chunk of it is authenticated here, before the
    /// caller uses any: a restore writes nothing from an archive with an
    /// edited, moved, replayed or missing chunk. That reads every chunk and
    /// checks its tag, without decompressing it.
    pub fn require_complete(&self) -> Result<()> {
        if let Some(needs) = self.locked {
            return Err(Error::Locked {
                path: self.path.clone(),
                needs,
            });
        }
        match self.meta.state {
            ArchiveState::Complete => {}
            ArchiveState::InProgress => {
                return Err(Error::Incomplete {
                    path: self.path.clone(),
                })
            }
        }
        if self.sealer.is_some() {
            for table in self.tables()? {
                for chunk in self.chunks(table.id)? {
                    chunk?;
                }
            }
        }
        Ok(())
    }

    /// Whether the archive is encrypted and no key opened it: only its
    /// clear metadata (and with `--encrypt-data-only` its catalog) can be
    /// read.
    pub fn is_locked(&self) -> bool {
        self.locked.is_some()
    }

    /// The catalog: table definitions and other objects.
    ///
    /// Fails with [`Error::Damaged`] if the stored definitions do not match
    /// the catalog CRC (they were changed after the backup), are not valid
    /// JSON for this build, or their ids are not 0, 1, 2, ... An archive
    /// whose backup stopped before writing the catalog has an empty one.
    pub fn catalog(&self) -> Result<Catalog> {
        if let (Some(needs), Some(e)) = (self.locked, &self.meta.encryption) {
            if e.scope == SCOPE_ALL {
                return Err(Error::Locked {
                    path: self.path.clone(),
                    needs,
                });
            }
        }
        let count = |table: &str| {
            self.conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
                    r.get::<_, i64>(0)
                })
                .map_err(|e| self.sql("reading the catalog", e))
        };
        let (table_count, object_count) = (count("bru_tables")?, count("bru_objects")?);
        if table_count.saturating_add(object_count) > MAX_CATALOG_ENTRIES as i64 {
            return Err(self.damaged(format!(
                "its catalog has {table_count} table and {object_count} object definitions, \
                 more than the {MAX_CATALOG_ENTRIES} any bru writes"
            )));
        }
        let Some(recorded) = self.catalog_crc else {
            if table_count == 0 && object_count == 0 {
                return Ok(Catalog::default());
            }
            return Err(self.damaged("the catalog has no checksum".into()));
        };
        // One definition in memory at a time, parsed as it is hashed: the
        // text and the parsed catalog are never held together. A definition
        // that does not parse is reported only once the checksum matches
        // (an edited catalog is first of all an edited catalog).
        let mut crc = crc32fast::Hasher::new();
        let mut total = 0u64;
        let mut invalid = None;
        let mut tables = Vec::with_capacity(table_count as usize);
        self.each_def(
            "bru_tables",
            "table",
            table_count,
            &mut crc,
            &mut total,
            |i, def| match self.table_def(i, def) {
                Ok(t) => tables.push(t),
                Err(e) => {
                    invalid.get_or_insert(e);
                }
            },
        )?;
        let mut objects = Vec::with_capacity(object_count as usize);
        self.each_def(
            "bru_objects",
            "object",
            object_count,
            &mut crc,
            &mut total,
            |i, def| match serde_json::from_str::<ObjectDef>(def) {
                Ok(o) => objects.push(o),
                Err(e) => {
                    invalid.get_or_insert_with(|| {
                        self.damaged(format!("the definition of object {i} is invalid: {e}"))
                    });
                }
            },
        )?;
        let actual = crc.finalize();
        if actual != recorded {
            return Err(self.damaged(format!(
                "the catalog does not match its checksum (recorded {recorded:08x}, \
                 computed {actual:08x}): it was changed after the backup"
            )));
        }
        if let Some(e) = invalid {
            return Err(e);
        }
        let mut catalog = Catalog { tables, objects };
        // Archives written before backups marked what hangs on a relation
        // they do not carry (a trigger on a foreign table) read as new ones
        // do: such an object is not carried either, never run.
        catalog.mark_not_carried_dependents();
        Ok(catalog)
    }

    /// Every table with its id and totals, in catalog order.
    ///
    /// Fails like [`ArchiveReader::catalog`], or with [`Error::Damaged`] if
    /// a table's totals are partly missing or malformed.
    pub fn tables(&self) -> Result<Vec<TableEntry>> {
        let catalog = self.catalog()?;
        let totals = self
            .conn
            .prepare(
                "SELECT rows, raw_bytes, stored_bytes, chunks, checksum FROM bru_tables ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok((
                        r.get::<_, Option<i64>>(0)?,
                        r.get::<_, Option<i64>>(1)?,
                        r.get::<_, Option<i64>>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.sql("reading the table totals", e))?;
        catalog
            .tables
            .into_iter()
            .zip(totals)
            .enumerate()
            .map(|(id, (def, t))| {
                let totals = match t {
                    (None, None, None, None, None) => None,
                    (Some(rows), Some(raw), Some(stored), Some(chunks), Some(sum)) => {
                        let n = |what: &str, v| {
                            non_negative(&self.path, &format!("table {}: {what}", def.name), v)
                        };
                        let checksum = u64::from_str_radix(&sum, 16)
                            .ok()
                            .filter(|_| sum.len() == 16)
                            .ok_or_else(|| {
                                self.damaged(format!(
                                    "table {}: invalid checksum {sum:?}",
                                    def.name
                                ))
                            })?;
                        Some(TableTotals {
                            rows: n("rows", rows)?,
                            raw_bytes: n("raw bytes", raw)?,
                            stored_bytes: n("stored bytes", stored)?,
                            chunks: n("chunk count", chunks)?,
                            checksum,
                        })
                    }
                    _ => {
                        return Err(
                            self.damaged(format!("table {}: its totals are incomplete", def.name))
                        )
                    }
                };
                Ok(TableEntry {
                    id: id as TableId,
                    def,
                    totals,
                })
            })
            .collect()
    }

    /// The number of chunks stored for `table` (whatever its totals say).
    pub fn chunk_count(&self, table: TableId) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM bru_chunks WHERE table_id = ?1",
                [table],
                |r| r.get(0),
            )
            .map_err(|e| self.sql("counting chunks", e))?;
        non_negative(&self.path, "chunk count", n)
    }

    /// The chunks of `table` in order, read one at a time (memory is bounded
    /// by one chunk). Each chunk's CRC is checked as it is read.
    ///
    /// Fails if `table` is not in the archive. The iterator yields
    /// [`Error::Damaged`] for a missing or surplus chunk or impossible
    /// lengths, and [`Error::CrcMismatch`] for damaged bytes; it stops after
    /// the first error.
    pub fn chunks(&self, table: TableId) -> Result<ChunkIter<'_>> {
        self.chunks_from(table, 0)
    }

    /// Like [`ArchiveReader::chunks`], starting at chunk `first` (for a
    /// range of a table loaded by one worker, or a resumed restore): the
    /// chunks before it are not read at all. The same checks apply from
    /// `first` on: no gaps, no surplus, none missing at the end.
    pub fn chunks_from(&self, table: TableId, first: u64) -> Result<ChunkIter<'_>> {
        let row = self
            .conn
            .query_row(
                "SELECT def, chunks FROM bru_tables WHERE id = ?1",
                [table],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?)),
            )
            .optional()
            .map_err(|e| self.sql("reading the table list", e))?;
        let Some((def, chunks)) = row else {
            return Err(Error::Misuse {
                path: self.path.clone(),
                message: format!("there is no table with id {table}"),
            });
        };
        let (name, columns) = self
            .table_def(table, &def)
            .map(|d| (d.name.to_string(), d.columns.len() as u64))?;
        let expected = chunks
            .map(|n| non_negative(&self.path, &format!("table {name}: chunk count"), n))
            .transpose()?;
        Ok(ChunkIter {
            reader: self,
            table,
            name,
            columns,
            next: first,
            expected,
            done: false,
        })
    }

    /// Decodes a chunk read from `table` within the archive's
    /// [`ChunkLimits`] (see [`crate::codec::decode_chunk_reusing`]), naming
    /// the archive, table and chunk in any error.
    pub fn decode(&self, table: &TableEntry, stored: &StoredChunk) -> Result<RowBatch> {
        let columns = table.def.columns.len();
        decode_chunk_reusing(&stored.chunk, columns, self.meta.limits, Vec::new()).map_err(|e| {
            match e {
                Error::Codec(message) => Error::BadChunk {
                    path: self.path.clone(),
                    table: table.def.name.to_string(),
                    seq: stored.seq,
                    message,
                },
                other => other,
            }
        })
    }

    /// Parses the definition of table `id`, which may have at most
    /// [`MAX_COLUMNS`] columns.
    fn table_def(&self, id: impl std::fmt::Display, def: &str) -> Result<TableDef> {
        let def = serde_json::from_str::<TableDef>(def)
            .map_err(|e| self.damaged(format!("the definition of table {id} is invalid: {e}")))?;
        if def.columns.len() > MAX_COLUMNS {
            return Err(self.damaged(format!(
                "table {} declares {} columns, more than any database has ({MAX_COLUMNS})",
                def.name,
                def.columns.len()
            )));
        }
        Ok(def)
    }

    /// Hands each `def` of catalog table `table` (`count` rows) to `each`
    /// in id order, hashing it for the catalog checksum (FORMAT.md: the
    /// count, then each definition's length and bytes), checking that ids
    /// run 0, 1, 2... and that the definitions of tables and objects
    /// together (`total`) stay within [`MAX_CATALOG_BYTES`] (each one is
    /// within SQLite's length limit, [`MAX_VALUE_READ`]).
    fn each_def(
        &self,
        table: &str,
        what: &str,
        count: i64,
        crc: &mut crc32fast::Hasher,
        total: &mut u64,
        mut each: impl FnMut(usize, &str),
    ) -> Result<()> {
        crc.update(&(count as u64).to_le_bytes());
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT id, def FROM {table} ORDER BY id"))
            .map_err(|e| self.sql("reading the catalog", e))?;
        let mut rows = stmt
            .query([])
            .map_err(|e| self.sql("reading the catalog", e))?;
        let mut i = 0usize;
        while let Some(r) = rows
            .next()
            .map_err(|e| self.sql("reading the catalog", e))?
        {
            let (id, def) = r
                .get::<_, i64>(0)
                .and_then(|id| Ok((id, r.get::<_, String>(1)?)))
                .map_err(|e| self.sql("reading the catalog", e))?;
            *total += def.len() as u64;
            if *total > MAX_CATALOG_BYTES {
                return Err(self.damaged(format!(
                    "its catalog definitions take more than {MAX_CATALOG_BYTES} bytes, more than \
                     any bru writes"
                )));
            }
            if id != i as i64 {
                return Err(self.damaged(format!("{what} {i} is missing from the catalog")));
            }
            crc.update(&(def.len() as u64).to_le_bytes());
            crc.update(def.as_bytes());
            each(i, &def);
            i += 1;
        }
        Ok(())
    }

    /// Reads the stored bytes of chunk `chunk_id`, which declares
    /// `stored_len` bytes in `parts` parts. The parts' lengths are checked
    /// against the declaration before a buffer is allocated.
    fn read_parts(
        &self,
        chunk_id: i64,
        stored_len: u64,
        parts: u64,
        what: &str,
    ) -> Result<Vec<u8>> {
        let err = |e| self.sql(&format!("reading {what}"), e);
        let lengths = self
            .conn
            .prepare_cached(
                "SELECT part, typeof(data), length(data) FROM bru_chunk_parts \
                 WHERE chunk_id = ?1 ORDER BY part",
            )
            .and_then(|mut s| {
                s.query_map([chunk_id], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(err)?;
        if lengths.len() as u64 != parts {
            return Err(self.damaged(format!(
                "{what} declares {parts} parts but {} are stored",
                lengths.len()
            )));
        }
        let mut total: u64 = 0;
        for (i, (part, kind, len)) in lengths.iter().enumerate() {
            if *part != i as i64 {
                return Err(self.damaged(format!("{what}: part {i} is missing")));
            }
            if kind != "blob" {
                return Err(self.damaged(format!("{what}: part {i} is not a blob")));
            }
            let len = non_negative(&self.path, what, *len)?;
            if len > MAX_PART_LEN {
                return Err(self.damaged(format!(
                    "{what}: part {i} is {len} bytes, above the limit of {MAX_PART_LEN}"
                )));
            }
            total += len;
        }
        if total != stored_len {
            return Err(self.damaged(format!(
                "{what} declares {stored_len} stored bytes but its parts hold {total}"
            )));
        }
        let mut data = Vec::with_capacity(stored_len as usize);
        let mut select = self
            .conn
            .prepare_cached("SELECT data FROM bru_chunk_parts WHERE chunk_id = ?1 AND part = ?2")
            .map_err(err)?;
        for part in 0..parts as i64 {
            select
                .query_row(params![chunk_id, part], |r| {
                    data.extend_from_slice(r.get_ref(0)?.as_blob()?);
                    Ok(())
                })
                .map_err(err)?;
        }
        if data.len() as u64 != stored_len {
            return Err(self.damaged(format!(
                "{what} declares {stored_len} stored bytes but {} were read",
                data.len()
            )));
        }
        Ok(data)
    }

    fn damaged(&self, message: String) -> Error {
        Error::Damaged {
            path: self.path.clone(),
            message,
        }
    }

    fn sql(&self, context: &str, e: rusqlite::Error) -> Error {
        sql_error(&self.path, context, e)
    }
}

/// Iterator over one table's chunks, in sequence order.
pub struct ChunkIter<'a> {
    reader: &'a ArchiveReader,
    table: TableId,
    name: String,
    /// The table's column count, for the limits on its chunks.
    columns: u64,
    next: u64,
    /// The chunk count from the table's totals, when it has them.
    expected: Option<u64>,
    done: bool,
}

impl ChunkIter<'_> {
    fn read_next(&mut self) -> Result<Option<StoredChunk>> {
        let r = self.reader;
        let name = &self.name;
        let seq = self.next;
        let row = r
            .conn
            .prepare_cached(
                "SELECT id, seq, row_count, raw_len, stored_len, crc32, parts FROM bru_chunks \
                 WHERE table_id = ?1 AND seq >= ?2 ORDER BY seq LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![self.table, seq as i64], |row| {
                    Ok([
                        row.get::<_, i64>(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                        row.get(6)?,
                    ])
                })
                .optional()
            })
            .map_err(|e| r.sql(&format!("reading chunk {seq} of table {name}"), e))?;
        let missing = || r.damaged(format!("missing chunk {seq} of table {name}"));
        let Some([id, found, rows, raw_len, stored_len, crc, parts]) = row else {
            return match self.expected {
                Some(n) if seq < n => Err(missing()),
                _ => Ok(None),
            };
        };
        if found != seq as i64 {
            return Err(missing());
        }
        if let Some(n) = self.expected.filter(|&n| seq >= n) {
            return Err(r.damaged(format!(
                "table {name} has more chunks than the {n} its totals record"
            )));
        }
        let what = format!("chunk {seq} of table {name}");
        let n = |field: &str, v| non_negative(&r.path, &format!("{what}: {field}"), v);
        let (rows, raw_len, stored_len, parts) = (
            n("row count", rows)?,
            n("raw length", raw_len)?,
            n("stored length", stored_len)?,
            n("part count", parts)?,
        );
        let crc = u32::try_from(crc)
            .map_err(|_| r.damaged(format!("{what}: invalid CRC value {crc}")))?;
        if stored_len > MAX_STORED_LEN {
            return Err(r.damaged(format!(
                "{what} declares {stored_len} stored bytes, above the limit of {MAX_STORED_LEN}"
            )));
        }
        // Before anything is read: a chunk larger than this archive's backup
        // writes is damaged (or crafted), whatever its CRC says.
        let limits = r.meta.limits;
        let (max_raw, max_stored) = (
            limits.max_raw_len(self.columns),
            limits.max_stored_len(self.columns),
        );
        let too_large = if raw_len > max_raw {
            Some(format!(
                "it declares {raw_len} uncompressed bytes, more than the {max_raw} a backup with \
                 {}-byte chunks and values of at most {} bytes writes for {} columns",
                limits.chunk_bytes, limits.max_value_bytes, self.columns
            ))
        } else if stored_len > max_stored {
            Some(format!(
                "it declares {stored_len} stored bytes, more than the {max_stored} its largest \
                 body compresses to"
            ))
        } else {
            None
        };
        if let Some(message) = too_large {
            return Err(Error::BadChunk {
                path: r.path.clone(),
                table: name.clone(),
                seq,
                message,
            });
        }
        let data = r.read_parts(id, stored_len, parts, &what)?;
        let actual = crc32fast::hash(&data);
        if actual != crc {
            return Err(Error::CrcMismatch {
                path: r.path.clone(),
                table: name.clone(),
                seq,
                expected: crc,
                actual,
            });
        }
        let (data, crc) = match (&r.sealer, r.locked) {
            (_, Some(needs)) => {
                return Err(Error::Locked {
                    path: r.path.clone(),
                    needs,
                })
            }
            (None, None) => (data, crc),
            (Some(sealer), None) => {
                let place = ChunkPlace {
                    table: self.table,
                    seq,
                    rows,
                    raw_len,
                };
                let plain = sealer.open_chunk(place, &data).ok_or_else(|| {
                    sealed::unauthentic(&r.path, &format!("chunk {seq} of table {name}"))
                })?;
                let crc = crc32fast::hash(&plain);
                (plain, crc)
            }
        };
        self.next += 1;
        Ok(Some(StoredChunk {
            table: self.table,
            seq,
            chunk: EncodedChunk {
                row_count: rows,
                raw_len,
                crc32: crc,
                data,
                max_value_len: 0,
            },
        }))
    }
}

impl Iterator for ChunkIter<'_> {
    type Item = Result<StoredChunk>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.read_next().transpose();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}

/// Checks that `path` exists and starts like a bru archive: the SQLite
/// magic and bru's application id.
fn check_header(path: &Path) -> Result<()> {
    let not_archive = |reason: &str| Error::NotAnArchive {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let header = read_header(path)?;
    if header.is_empty() {
        return Err(not_archive("the file is empty"));
    }
    if header.len() < SQLITE_MAGIC.len() || &header[..16] != SQLITE_MAGIC {
        return Err(not_archive("it is not an SQLite database"));
    }
    if header.len() < 100 {
        return Err(Error::Damaged {
            path: path.to_path_buf(),
            message: format!("the file is truncated ({} bytes)", header.len()),
        });
    }
    let app_id = i32::from_be_bytes([header[68], header[69], header[70], header[71]]);
    if app_id != APPLICATION_ID {
        return Err(not_archive(
            "it is an SQLite database without the bru application id",
        ));
    }
    Ok(())
}

/// Fails with [`Error::Damaged`] if the file is shorter than the page count
/// its header declares (a truncated copy).
fn check_length(path: &Path) -> Result<()> {
    let header = read_header(path)?;
    let len = std::fs::metadata(path)
        .map_err(|e| io_error(path, e))?
        .len();
    let be32 = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65536,
        n => u64::from(n),
    };
    // The page count at offset 28 is valid only when the change counter
    // (24) equals the version-valid-for number (92).
    if header.len() >= 100 && be32(24) == be32(92) {
        let declared = page_size * u64::from(be32(28));
        if len < declared {
            return Err(Error::Damaged {
                path: path.to_path_buf(),
                message: format!(
                    "the file is truncated: {len} bytes, but its header says {declared}"
                ),
            });
        }
    }
    Ok(())
}

/// The first 100 bytes of the file (fewer if it is shorter).
fn read_header(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    if meta.is_dir() {
        return Err(Error::NotAnArchive {
            path: path.to_path_buf(),
            reason: "it is a directory".into(),
        });
    }
    let mut header = Vec::with_capacity(100);
    std::fs::File::open(path)
        .and_then(|f| f.take(100).read_to_end(&mut header))
        .map_err(|e| io_error(path, e))?;
    Ok(header)
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::NotFound {
            path: path.to_path_buf(),
        }
    } else {
        Error::Io {
            path: path.to_path_buf(),
            doing: "reading",
            message: e.to_string(),
        }
    }
}

/// Fails with [`Error::Damaged`] unless the schema holds only plain tables
/// and indexes, among them the five of the format as plain tables without
/// generated columns: a view, a trigger, a virtual table or a generated
/// column is SQL that reading the archive would run.
fn check_schema(conn: &Connection, path: &Path) -> Result<()> {
    let damaged = |message: String| Error::Damaged {
        path: path.to_path_buf(),
        message,
    };
    let entries = conn
        .prepare("SELECT type, name, coalesce(sql, '') FROM sqlite_master")
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(|e| sql_error(path, "reading the schema", e))?;
    for (kind, name, sql) in &entries {
        let plain_table = kind == "table"
            && sql
                .trim_start()
                .get(..12)
                .is_some_and(|s| s.eq_ignore_ascii_case("CREATE TABLE"));
        if !(plain_table || kind == "index") {
            return Err(damaged(format!(
                "its schema holds {kind} {name:?}, which no bru archive has; it is not opened \
                 (an archive holds plain tables only)"
            )));
        }
    }
    for table in TABLES {
        if !entries.iter().any(|(k, n, _)| k == "table" && n == table) {
            return Err(damaged(format!("it has no {table} table")));
        }
        let generated: i64 = conn
            .query_row(
                "SELECT count(*) FROM pragma_table_xinfo(?1) WHERE hidden IN (2, 3)",
                [table],
                |r| r.get(0),
            )
            .map_err(|e| sql_error(path, "reading the schema", e))?;
        if generated > 0 {
            return Err(damaged(format!(
                "its table {table} has generated columns, which no bru archive has"
            )));
        }
    }
    Ok(())
}

/// Opens the archive read-only, first letting SQLite roll back the
/// transaction of a killed writer if one left a hot journal.
fn open_connection(path: &Path) -> Result<Connection> {
    let open = |flags: OpenFlags| -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        // The schema is the archive's, not ours: no function it names may
        // have side effects, and no value it holds may exceed what bru
        // writes.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA,
            false,
        )?;
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
        conn.set_limit(
            rusqlite::limits::Limit::SQLITE_LIMIT_LENGTH,
            MAX_VALUE_READ as i32,
        )?;
        // A backup still running holds its lock for a moment at each commit.
        conn.busy_timeout(Duration::from_secs(10))?;
        // Reading the schema takes the shared lock, which is where SQLite
        // looks for a hot journal.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })?;
        Ok(conn)
    };
    match open(OpenFlags::SQLITE_OPEN_READ_ONLY) {
        Ok(conn) => Ok(conn),
        Err(e) if is_hot_journal(&e) && journal_path(path).exists() => {
            let recovered =
                open(OpenFlags::SQLITE_OPEN_READ_WRITE).and_then(|c| c.close().map_err(|(_, e)| e));
            recovered.map_err(|e| {
                sql_error(
                    path,
                    "rolling back the interrupted write of a killed backup (needs write access)",
                    e,
                )
            })?;
            open(OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| sql_error(path, "opening", e))
        }
        Err(e) => Err(sql_error(path, "opening", e)),
    }
}

fn is_hot_journal(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == READONLY_ROLLBACK)
}

/// The delta metadata of an archive of `version` with metadata `pairs`:
/// required for version 2, absent for version 1.
pub(crate) fn delta_from_meta(
    version: u32,
    pairs: &[(String, String)],
) -> std::result::Result<Option<crate::meta::DeltaInfo>, String> {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let kind = get(key::KIND);
    match (version, kind.as_deref()) {
        (1 | ENCRYPTED_FORMAT_VERSION, None | Some("full")) => Ok(None),
        (crate::meta::DELTA_FORMAT_VERSION | ENCRYPTED_FORMAT_VERSION, Some("delta")) => {
            let need = |k: &str| get(k).ok_or_else(|| format!("metadata key {k} is missing"));
            let position = need(key::CHAIN_POSITION)?;
            Ok(Some(crate::meta::DeltaInfo {
                base_archive_id: need(key::BASE_ARCHIVE_ID)?,
                chain_root_id: need(key::CHAIN_ROOT_ID)?,
                position: position
                    .parse()
                    .ok()
                    .filter(|&p| p > 0)
                    .ok_or_else(|| format!("invalid chain_position {position:?}"))?,
            }))
        }
        (v, k) => Err(format!(
            "format version {v} with kind {}",
            k.unwrap_or("(none)")
        )),
    }
}

/// The bytes of lowercase or uppercase hex digits, or `None`.
fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}
