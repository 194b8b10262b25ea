//! The sealed catalog of an encrypted archive (FORMAT.md, "Encrypted
//! archives").
//!
//! An encrypted archive keeps its catalog tables (`bru_meta`, `bru_tables`,
//! `bru_objects`, `bru_table_state`, `bru_delta_tables`) out of the file
//! while it is written: the writer creates them as TEMP tables of its
//! connection, which SQLite resolves before the file's own tables of the
//! same names, so every statement of the writer (and of module `state`)
//! writes them unchanged. The final commit snapshots them ([`snapshot`]),
//! compresses, seals the snapshot with the catalog key into `bru_sealed`,
//! and publishes into the file's own tables only what the archive leaves in
//! clear: the metadata keys of [`CLEAR_KEYS`], or everything with
//! `--encrypt-data-only`.
//!
//! A reader with the key does the reverse when it opens the archive: it
//! opens the seal, checks the clear metadata against the sealed copy, and
//! loads the snapshot into TEMP tables of its own (read-only) connection,
//! so every query of the reader reads the authenticated catalog and never
//! the file's clear copy.

use rusqlite::{params, types::ValueRef, Connection};

use crate::container::sql_error;
use crate::crypt::Sealer;
use crate::error::{Error, Result};
use crate::keys::Lock;

/// How a backup encrypts its archive.
#[derive(Debug)]
pub struct Seal {
    /// What the data key is sealed for.
    pub lock: Lock,
    /// Leave the catalog (table names and definitions, row counts, objects,
    /// source) in clear; only the chunks are encrypted
    /// (`--encrypt-data-only`). The catalog is sealed all the same, so it is
    /// authenticated.
    pub data_only: bool,
}

/// `bru_meta.encryption` of an archive whose catalog is encrypted too.
pub const SCOPE_ALL: &str = "all";
/// `bru_meta.encryption` of an archive whose chunks only are encrypted.
pub const SCOPE_DATA: &str = "data";

/// The metadata keys a fully encrypted archive leaves in clear.
pub const CLEAR_KEYS: [&str; 15] = [
    "format_version",
    "tool_version",
    "created_at",
    "archive_id",
    "state",
    "compress_level",
    "chunk_bytes",
    "encryption",
    "key_kind",
    "key_envelope",
    "kind",
    "base_archive_id",
    "chain_root_id",
    "chain_position",
    "max_value_bytes",
];

/// The tables the writer keeps in TEMP and the snapshot holds, with their
/// schema (the file's own, FORMAT.md §2 and §12).
pub const SHADOWED: [(&str, &str); 5] = [
    (
        "bru_meta",
        "(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)",
    ),
    (
        "bru_tables",
        "(id INTEGER PRIMARY KEY, name TEXT NOT NULL, def TEXT NOT NULL, rows INTEGER, \
         raw_bytes INTEGER, stored_bytes INTEGER, chunks INTEGER, checksum TEXT)",
    ),
    ("bru_objects", "(id INTEGER PRIMARY KEY, def TEXT NOT NULL)"),
    (
        "bru_table_state",
        "(table_id INTEGER PRIMARY KEY, state TEXT NOT NULL, sums BLOB)",
    ),
    (
        "bru_delta_tables",
        "(table_id INTEGER PRIMARY KEY, change TEXT NOT NULL, before TEXT NOT NULL, \
         before_sums BLOB, buckets BLOB)",
    ),
];

/// The file's table that holds the sealed catalog.
pub const SEALED_SCHEMA: &str =
    "CREATE TABLE bru_sealed (part INTEGER PRIMARY KEY, data BLOB NOT NULL)";

/// The first bytes of a snapshot, then its version byte (1).
const SNAPSHOT_MAGIC: &[u8; 4] = b"BRUS";

/// The part length of the sealed catalog in `bru_sealed`.
const SEALED_PART: usize = 32 << 20;

/// The most sealed catalog bytes a reader reads, and the most a snapshot
/// decompresses to: the catalog limit (FORMAT.md §10) and the states' bucket
/// sums (up to 32 MiB a table) leave far more than any real schema needs.
pub const MAX_SEALED_BYTES: u64 = 1 << 30;

/// Creates the TEMP tables that hold the catalog while an encrypted archive
/// is written or read.
pub(crate) fn create_shadows(conn: &Connection) -> rusqlite::Result<()> {
    // The catalog in clear never goes to a temporary file.
    conn.execute_batch("PRAGMA temp_store = MEMORY")?;
    for (name, columns) in SHADOWED {
        conn.execute_batch(&format!("CREATE TEMP TABLE {name} {columns}"))?;
    }
    Ok(())
}

/// Whether `key` stays in the file's clear metadata of an archive whose
/// `scope` is [`SCOPE_ALL`] or [`SCOPE_DATA`].
pub(crate) fn is_clear(scope: &str, key: &str) -> bool {
    scope == SCOPE_DATA || CLEAR_KEYS.contains(&key)
}

/// The TEMP catalog tables as one byte string (FORMAT.md, "The sealed
/// catalog"): the magic `BRUS`, version 1, the table count (u32 LE), then
/// each table: its name (u16 LE length, bytes), column count (u16 LE), row
/// count (u64 LE), and each row's values, each a tag (0 NULL, 1 INTEGER as
/// i64 LE, 2 TEXT and 3 BLOB as u64 LE length and bytes).
pub(crate) fn snapshot(conn: &Connection) -> rusqlite::Result<Vec<u8>> {
    let mut out = Vec::new();
    out.extend_from_slice(SNAPSHOT_MAGIC);
    out.push(1);
    out.extend_from_slice(&(SHADOWED.len() as u32).to_le_bytes());
    for (name, _) in SHADOWED {
        let mut stmt = conn.prepare(&format!("SELECT * FROM temp.{name} ORDER BY rowid"))?;
        let columns = stmt.column_count();
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(columns as u16).to_le_bytes());
        let count_at = out.len();
        out.extend_from_slice(&0u64.to_le_bytes());
        let mut rows = stmt.query([])?;
        let mut count = 0u64;
        while let Some(row) = rows.next()? {
            for i in 0..columns {
                match row.get_ref(i)? {
                    ValueRef::Null => out.push(0),
                    ValueRef::Integer(n) => {
                        out.push(1);
                        out.extend_from_slice(&n.to_le_bytes());
                    }
                    ValueRef::Real(_) => {
                        return Err(rusqlite::Error::InvalidColumnType(
                            i,
                            name.into(),
                            rusqlite::types::Type::Real,
                        ))
                    }
                    ValueRef::Text(t) => {
                        out.push(2);
                        out.extend_from_slice(&(t.len() as u64).to_le_bytes());
                        out.extend_from_slice(t);
                    }
                    ValueRef::Blob(b) => {
                        out.push(3);
                        out.extend_from_slice(&(b.len() as u64).to_le_bytes());
                        out.extend_from_slice(b);
                    }
                }
            }
            count += 1;
        }
        out[count_at..count_at + 8].copy_from_slice(&count.to_le_bytes());
    }
    Ok(out)
}

/// Seals the writer's TEMP catalog into `bru_sealed` and publishes its
/// clear part into the file's own tables, in the writer's open transaction.
pub(crate) fn seal_catalog(
    conn: &Connection,
    path: &std::path::Path,
    sealer: &Sealer,
    scope: &str,
) -> Result<()> {
    let err = |e| sql_error(path, "sealing the catalog", e);
    let plain = snapshot(conn).map_err(err)?;
    let compressed = zstd::bulk::compress(&plain, 3).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        doing: "compressing the catalog of",
        message: e.to_string(),
    })?;
    let sealed = sealer
        .seal_catalog(&compressed)
        .map_err(|message| Error::Misuse {
            path: path.to_path_buf(),
            message,
        })?;
    if sealed.len() as u64 > MAX_SEALED_BYTES {
        return Err(Error::Misuse {
            path: path.to_path_buf(),
            message: format!(
                "the sealed catalog takes {} bytes, more than an archive holds ({MAX_SEALED_BYTES})",
                sealed.len()
            ),
        });
    }
    conn.execute_batch(SEALED_SCHEMA).map_err(err)?;
    for (i, part) in sealed.chunks(SEALED_PART).enumerate() {
        conn.execute(
            "INSERT INTO main.bru_sealed (part, data) VALUES (?1, ?2)",
            params![i as i64, part],
        )
        .map_err(err)?;
    }
    let pairs: Vec<(String, String)> = conn
        .prepare("SELECT key, value FROM temp.bru_meta ORDER BY rowid")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()
        })
        .map_err(err)?;
    for (k, v) in pairs.iter().filter(|(k, _)| is_clear(scope, k)) {
        conn.execute(
            "INSERT OR REPLACE INTO main.bru_meta (key, value) VALUES (?1, ?2)",
            params![k, v],
        )
        .map_err(err)?;
    }
    if scope == SCOPE_DATA {
        for (name, columns) in &SHADOWED[1..] {
            conn.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS main.{name} {columns};
                 INSERT INTO main.{name} SELECT * FROM temp.{name} ORDER BY rowid;"
            ))
            .map_err(err)?;
        }
    }
    Ok(())
}

/// Opens the sealed catalog of the archive at `path` (read on `conn`) and
/// loads it into TEMP tables of `conn`, after checking that the file's
/// clear metadata `clear` is exactly the sealed metadata's clear part for
/// `scope`. Returns `false`, loading nothing, when the archive has no
/// sealed catalog (a backup that did not finish).
pub(crate) fn unseal_catalog(
    conn: &Connection,
    path: &std::path::Path,
    sealer: &Sealer,
    scope: &str,
    clear: &[(String, String)],
) -> Result<bool> {
    let err = |e| sql_error(path, "reading the sealed catalog", e);
    let damaged = |message: String| Error::Damaged {
        path: path.to_path_buf(),
        message,
    };
    let exists: i64 = conn
        .query_row(
            "SELECT count(*) FROM main.sqlite_master WHERE type = 'table' AND name = 'bru_sealed'",
            [],
            |r| r.get(0),
        )
        .map_err(err)?;
    if exists == 0 {
        return Ok(false);
    }
    let (parts, total): (i64, Option<i64>) = conn
        .query_row(
            "SELECT count(*), sum(length(data)) FROM main.bru_sealed",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(err)?;
    let total = total.unwrap_or(0);
    if total as u64 > MAX_SEALED_BYTES {
        return Err(damaged(format!(
            "its sealed catalog is {total} bytes, more than any bru writes"
        )));
    }
    let mut sealed = Vec::with_capacity(total as usize);
    {
        let mut stmt = conn
            .prepare("SELECT part, data FROM main.bru_sealed ORDER BY part")
            .map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        let mut i = 0i64;
        while let Some(r) = rows.next().map_err(err)? {
            let part: i64 = r.get(0).map_err(err)?;
            if part != i {
                return Err(unauthentic(path, "the catalog"));
            }
            sealed.extend_from_slice(r.get_ref(1).and_then(|v| Ok(v.as_blob()?)).map_err(err)?);
            i += 1;
        }
        if i != parts {
            return Err(unauthentic(path, "the catalog"));
        }
    }
    let compressed = sealer
        .open_catalog(&sealed)
        .ok_or_else(|| unauthentic(path, "the catalog"))?;
    drop(sealed);
    let mut plain = Vec::new();
    {
        use std::io::Read;
        let decoder = zstd::stream::read::Decoder::new(compressed.as_slice())
            .map_err(|e| damaged(format!("its sealed catalog does not decompress: {e}")))?;
        decoder
            .take(MAX_SEALED_BYTES + 1)
            .read_to_end(&mut plain)
            .map_err(|e| damaged(format!("its sealed catalog does not decompress: {e}")))?;
    }
    if plain.len() as u64 > MAX_SEALED_BYTES {
        return Err(damaged(
            "its sealed catalog is larger than any bru writes".into(),
        ));
    }
    create_shadows(conn).map_err(err)?;
    load(conn, &plain).map_err(|e| match e {
        Load::Sql(e) => err(e),
        Load::Bad(message) => damaged(format!("its sealed catalog: {message}")),
    })?;
    // The clear metadata must be exactly what the backup left in clear.
    let sealed_meta: Vec<(String, String)> = conn
        .prepare("SELECT key, value FROM temp.bru_meta")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()
        })
        .map_err(err)?;
    let mut expected: Vec<&(String, String)> = sealed_meta
        .iter()
        .filter(|(k, _)| is_clear(scope, k))
        .collect();
    let mut found: Vec<&(String, String)> = clear.iter().collect();
    expected.sort();
    found.sort();
    if expected != found {
        return Err(unauthentic(path, "its clear metadata"));
    }
    // The file's own catalog tables are the sealed ones, row for row, with
    // `data`; empty (or absent) with `all`. The reader reads the sealed
    // ones only, so anything else there was put in by someone else.
    for (name, _) in &SHADOWED[1..] {
        let in_main: bool = conn
            .query_row(
                "SELECT count(*) > 0 FROM main.sqlite_master WHERE type = 'table' AND name = ?1",
                [name],
                |r| r.get(0),
            )
            .map_err(err)?;
        let same = match (scope == SCOPE_DATA, in_main) {
            (false, false) => true,
            (true, false) => false,
            (false, true) => conn
                .query_row(&format!("SELECT NOT EXISTS (SELECT 1 FROM main.{name})"), [], |r| {
                    r.get(0)
                })
                .map_err(err)?,
            (true, true) => conn
                .query_row(
                    &format!(
                        "SELECT (SELECT count(*) FROM main.{name}) = (SELECT count(*) FROM temp.{name}) \
                         AND NOT EXISTS (SELECT * FROM main.{name} EXCEPT SELECT * FROM temp.{name})"
                    ),
                    [],
                    |r| r.get(0),
                )
                .unwrap_or(false),
        };
        if !same {
            return Err(unauthentic(path, "its clear catalog"));
        }
    }
    Ok(true)
}

/// The error of a sealed blob whose tag does not match.
pub(crate) fn unauthentic(path: &std::path::Path, what: &str) -> Error {
    Error::Unauthentic {
        path: path.to_path_buf(),
        what: what.to_string(),
    }
}

enum Load {
    Sql(rusqlite::Error),
    Bad(String),
}

impl From<rusqlite::Error> for Load {
    fn from(e: rusqlite::Error) -> Self {
        Load::Sql(e)
    }
}

/// Inserts the rows of snapshot `bytes` into the TEMP tables, checking
/// every length against what remains.
fn load(conn: &Connection, bytes: &[u8]) -> std::result::Result<(), Load> {
    let mut cursor = Cursor { bytes, at: 0 };
    let mut take = |n: usize| cursor.take(n);
    if take(4)? != SNAPSHOT_MAGIC || take(1)? != [1] {
        return Err(Load::Bad("unknown snapshot magic or version".into()));
    }
    let u16_of = |b: &[u8]| u16::from_le_bytes([b[0], b[1]]) as usize;
    let u64_of = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
    let tables = u32::from_le_bytes(take(4)?.try_into().expect("4 bytes"));
    if tables as usize != SHADOWED.len() {
        return Err(Load::Bad(format!("it holds {tables} tables")));
    }
    for (name, _) in SHADOWED {
        let len = u16_of(take(2)?);
        if take(len)? != name.as_bytes() {
            return Err(Load::Bad(format!("table {name} is not where it belongs")));
        }
        let columns = u16_of(take(2)?);
        let expected: usize = conn
            .prepare(&format!("SELECT * FROM temp.{name}"))?
            .column_count();
        if columns != expected {
            return Err(Load::Bad(format!("table {name} has {columns} columns")));
        }
        let rows = u64_of(take(8)?);
        let placeholders = vec!["?"; columns].join(", ");
        let mut insert =
            conn.prepare(&format!("INSERT INTO temp.{name} VALUES ({placeholders})"))?;
        for _ in 0..rows {
            let mut values = Vec::with_capacity(columns);
            for _ in 0..columns {
                let tag = take(1)?[0];
                values.push(match tag {
                    0 => rusqlite::types::Value::Null,
                    1 => rusqlite::types::Value::Integer(i64::from_le_bytes(
                        take(8)?.try_into().expect("8 bytes"),
                    )),
                    2 | 3 => {
                        let n = usize::try_from(u64_of(take(8)?))
                            .map_err(|_| Load::Bad("a value is too long".into()))?;
                        let b = take(n)?;
                        if tag == 2 {
                            rusqlite::types::Value::Text(
                                String::from_utf8(b.to_vec())
                                    .map_err(|_| Load::Bad("a text is not UTF-8".into()))?,
                            )
                        } else {
                            rusqlite::types::Value::Blob(b.to_vec())
                        }
                    }
                    t => return Err(Load::Bad(format!("unknown value tag {t}"))),
                });
            }
            insert.execute(rusqlite::params_from_iter(values))?;
        }
    }
    if cursor.at != bytes.len() {
        return Err(Load::Bad("bytes follow its last table".into()));
    }
    Ok(())
}

/// Reads a snapshot front to back, checking each length against what
/// remains.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], Load> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| Load::Bad("it ends early".into()))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
}
