//! The SQLite side of the container: the fixed identifiers, the table
//! definitions, the limits both writer and reader enforce, and how SQLite
//! errors become [`Error`]s.
//!
//! Kept in one place so that the writer and the reader cannot drift apart,
//! and so that FORMAT.md has one file to be checked against.

use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

use crate::error::Error;

/// `PRAGMA application_id` of every bru archive: the ASCII bytes `bru1`.
/// SQLite stores it big-endian at byte offset 68 of the file.
pub const APPLICATION_ID: i32 = 0x6272_7531;

/// The SQLite page size of an archive (the largest SQLite allows), which
/// puts the file size limit at about 281 TB.
pub const PAGE_SIZE: u32 = 65536;

/// The size of the parts a chunk's stored bytes are split into by default.
pub const DEFAULT_PART_LEN: usize = 32 << 20;

/// The largest part a reader accepts, so that no stored BLOB comes near
/// SQLite's 1 GB limit and one row never takes more memory than this.
pub const MAX_PART_LEN: u64 = 64 << 20;

/// The largest stored (compressed) chunk a reader accepts: the largest body
/// plus zstd's worst-case expansion, rounded up.
pub const MAX_STORED_LEN: u64 = crate::codec::MAX_RAW_LEN + (crate::codec::MAX_RAW_LEN >> 7);

/// The largest string or BLOB a reader lets SQLite hand it from an archive:
/// a part, or one catalog definition (SQLite refuses a longer one with
/// "string or blob too big" before allocating it).
pub const MAX_VALUE_READ: u64 = MAX_PART_LEN + (1 << 10);

/// The most bytes of catalog definitions (tables and objects together) a
/// reader loads: far above any real schema's JSON, and a bound on what a
/// crafted catalog can make the reader hold.
pub const MAX_CATALOG_BYTES: u64 = 256 << 20;

/// The most catalog definitions (tables and objects together) an archive
/// holds, which the writer refuses to go beyond: half a million, several
/// times the tables, indexes' objects, owners, grants and comments of the
/// largest real schemas, and a bound on the memory a crafted catalog of
/// tiny definitions takes once parsed (some 700 bytes each).
pub const MAX_CATALOG_ENTRIES: usize = 1 << 19;

/// The most columns a table in an archive may have: SQLite's hard limit
/// (PostgreSQL allows 1600). A chunk's bounds grow with its table's
/// columns, so a crafted definition must not declare millions.
pub const MAX_COLUMNS: usize = 32767;

/// The most metadata rows and the longest metadata value a reader accepts.
pub const MAX_META_ROWS: usize = 1000;
pub const MAX_META_VALUE_LEN: usize = 64 << 10;

/// The five tables of a version 1 archive (FORMAT.md, "Tables").
pub const TABLES: [&str; 5] = [
    "bru_meta",
    "bru_tables",
    "bru_objects",
    "bru_chunks",
    "bru_chunk_parts",
];

/// The metadata keys (FORMAT.md, "bru_meta").
pub mod key {
    pub const FORMAT_VERSION: &str = "format_version";
    pub const TOOL_VERSION: &str = "tool_version";
    pub const CREATED_AT: &str = "created_at";
    pub const ARCHIVE_ID: &str = "archive_id";
    pub const SOURCE_ENGINE: &str = "source_engine";
    pub const SOURCE_VERSION: &str = "source_version";
    pub const SOURCE_DATABASE: &str = "source_database";
    pub const STATE: &str = "state";
    pub const COMPRESS_LEVEL: &str = "compress_level";
    pub const CATALOG_CRC32: &str = "catalog_crc32";
    pub const CHUNK_BYTES: &str = "chunk_bytes";
    pub const MAX_VALUE_BYTES: &str = "max_value_bytes";
    pub const KIND: &str = "kind";
    pub const BASE_ARCHIVE_ID: &str = "base_archive_id";
    pub const CHAIN_ROOT_ID: &str = "chain_root_id";
    pub const CHAIN_POSITION: &str = "chain_position";
    pub const STATES_CRC32: &str = "states_crc32";
    pub const CHANGE_SLOT: &str = "change_slot";
    pub const CHANGE_SLOT_POSITION: &str = "change_slot_position";
    pub const ENCRYPTION: &str = "encryption";
    pub const KEY_KIND: &str = "key_kind";
    pub const KEY_ENVELOPE: &str = "key_envelope";
}

/// The schema of a version 1 archive.
pub const SCHEMA: &str = "
CREATE TABLE bru_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
CREATE TABLE bru_tables (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    def          TEXT NOT NULL,
    rows         INTEGER,
    raw_bytes    INTEGER,
    stored_bytes INTEGER,
    chunks       INTEGER,
    checksum     TEXT
);
CREATE TABLE bru_objects (
    id  INTEGER PRIMARY KEY,
    def TEXT NOT NULL
);
CREATE TABLE bru_chunks (
    id         INTEGER PRIMARY KEY,
    table_id   INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    row_count  INTEGER NOT NULL,
    raw_len    INTEGER NOT NULL,
    stored_len INTEGER NOT NULL,
    crc32      INTEGER NOT NULL,
    parts      INTEGER NOT NULL,
    UNIQUE (table_id, seq)
);
CREATE TABLE bru_chunk_parts (
    chunk_id INTEGER NOT NULL,
    part     INTEGER NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (chunk_id, part)
);
";

/// The CRC32 that guards the catalog: over the table count (u64 LE), each
/// table definition's JSON as a u64 LE length and its bytes, in id order,
/// then the same for the objects.
pub fn catalog_crc32<T: AsRef<[u8]>, O: AsRef<[u8]>>(tables: &[T], objects: &[O]) -> u32 {
    fn list<D: AsRef<[u8]>>(h: &mut crc32fast::Hasher, defs: &[D]) {
        h.update(&(defs.len() as u64).to_le_bytes());
        for def in defs {
            let def = def.as_ref();
            h.update(&(def.len() as u64).to_le_bytes());
            h.update(def);
        }
    }
    let mut h = crc32fast::Hasher::new();
    list(&mut h, tables);
    list(&mut h, objects);
    h.finalize()
}

/// Turns a SQLite error into an [`Error`] naming the archive: a full disk
/// and I/O failures get their own variants, a file that is not a database
/// or is corrupt becomes [`Error::NotAnArchive`] or [`Error::Damaged`], and
/// anything else keeps SQLite's message with `context`.
pub fn sql_error(path: &Path, context: &str, e: rusqlite::Error) -> Error {
    let path = path.to_path_buf();
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => Error::DiskFull { path },
        Some(ErrorCode::SystemIoFailure) => Error::Io {
            path,
            doing: "accessing",
            message: format!("{context}: {e}"),
        },
        Some(ErrorCode::NotADatabase) => Error::NotAnArchive {
            path,
            reason: format!("SQLite says: {e}"),
        },
        Some(ErrorCode::DatabaseCorrupt) => Error::Damaged {
            path,
            message: format!("{context}: {e}"),
        },
        // Only reading meets the length limit: a value larger than any bru
        // writes (MAX_VALUE_READ).
        Some(ErrorCode::TooBig) => Error::Damaged {
            path,
            message: format!("{context}: a stored value is larger than any bru writes"),
        },
        _ => Error::Sqlite {
            path,
            context: context.to_string(),
            message: e.to_string(),
        },
    }
}

/// Converts a stored INTEGER that must not be negative.
pub fn non_negative(path: &Path, what: &str, n: i64) -> Result<u64, Error> {
    u64::try_from(n).map_err(|_| Error::Damaged {
        path: path.to_path_buf(),
        message: format!("{what} is negative ({n})"),
    })
}

/// Converts a length or count for storage in an INTEGER column.
pub fn to_sql_int(path: &Path, what: &str, n: u64) -> Result<i64, Error> {
    i64::try_from(n).map_err(|_| Error::Misuse {
        path: path.to_path_buf(),
        message: format!("{what} {n} is too large to store"),
    })
}

/// SQLite's rollback journal for the database at `path`.
pub(crate) fn journal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-journal");
    PathBuf::from(name)
}

/// The CRC32 over `bru_table_state` and `bru_delta_tables` (FORMAT.md), or
/// `None` when the archive has neither.
pub(crate) fn states_crc(
    conn: &rusqlite::Connection,
    path: &std::path::Path,
) -> Result<Option<u32>, Error> {
    let exists: bool = conn
        .query_row(
            // An encrypted archive's states are TEMP tables (module `sealed`).
            "SELECT count(*) FROM (SELECT type, name FROM sqlite_master UNION ALL \
             SELECT type, name FROM sqlite_temp_master) \
             WHERE type = 'table' AND name = 'bru_table_state'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(|e| sql_error(path, "reading the table states", e))?
        > 0;
    if !exists {
        return Ok(None);
    }
    let mut h = crc32fast::Hasher::new();
    let err = |e| sql_error(path, "reading the table states", e);
    // Each table's rows by id: the id, then each column's bytes, each
    // after its length (u64 LE). The BLOB columns (bucket sums, up to
    // 32 MiB each) are read in pieces through SQLite's incremental BLOB
    // I/O, by rowid, so that checking them holds 64 KiB of them at a time
    // rather than the whole value twice (SQLite's copy and ours).
    let tables: [(&str, &[&str], &[&str]); 2] = [
        ("bru_table_state", &["state"], &["sums"]),
        (
            "bru_delta_tables",
            &["change", "before"],
            &["before_sums", "buckets"],
        ),
    ];
    let mut buf = vec![0u8; 64 << 10];
    for (table, texts, blobs) in tables {
        let mut select = vec!["rowid".to_owned(), "table_id".to_owned()];
        select.extend(texts.iter().map(|c| format!("CAST({c} AS BLOB)")));
        for c in blobs {
            select.push(format!("typeof({c})"));
            select.push(format!("coalesce(length({c}), 0)"));
        }
        let sql = format!(
            "SELECT {} FROM {table} ORDER BY table_id",
            select.join(", ")
        );
        // Where the unqualified name resolves: a TEMP table (an encrypted
        // archive's, module `sealed`) shadows the file's.
        let in_temp: bool = conn
            .query_row(
                "SELECT count(*) FROM sqlite_temp_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get::<_, i64>(0),
            )
            .map_err(err)?
            > 0;
        let schema = if in_temp {
            rusqlite::TEMP_DB
        } else {
            rusqlite::MAIN_DB
        };
        let mut s = conn.prepare(&sql).map_err(err)?;
        let mut rows = s.query([]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let rowid: i64 = r.get(0).map_err(err)?;
            let id: i64 = r.get(1).map_err(err)?;
            h.update(&8u64.to_le_bytes());
            h.update(&id.to_le_bytes());
            for i in 0..texts.len() {
                let bytes: Vec<u8> = r.get(2 + i).map_err(err)?;
                h.update(&(bytes.len() as u64).to_le_bytes());
                h.update(&bytes);
            }
            for (j, column) in blobs.iter().enumerate() {
                let at = 2 + texts.len() + 2 * j;
                let kind: String = r.get(at).map_err(err)?;
                let len: i64 = r.get(at + 1).map_err(err)?;
                match kind.as_str() {
                    "null" => h.update(&0u64.to_le_bytes()),
                    "blob" => {
                        let len = usize::try_from(len).unwrap_or(0);
                        h.update(&(len as u64).to_le_bytes());
                        if len == 0 {
                            continue;
                        }
                        let mut blob = conn
                            .blob_open(schema, table, column, rowid, true)
                            .map_err(err)?;
                        let mut left = len;
                        while left > 0 {
                            let n = left.min(buf.len());
                            blob.read_exact(&mut buf[..n]).map_err(|e| Error::Damaged {
                                path: path.to_path_buf(),
                                message: format!(
                                    "{table}.{column} of table {id} cannot be read: {e}"
                                ),
                            })?;
                            h.update(&buf[..n]);
                            left -= n;
                        }
                    }
                    other => {
                        return Err(Error::Damaged {
                            path: path.to_path_buf(),
                            message: format!(
                                "{table}.{column} of table {id} holds {other}, not a BLOB"
                            ),
                        })
                    }
                }
            }
        }
    }
    Ok(Some(h.finalize()))
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    /// A file with the two state tables, as a version 2 archive has them.
    fn states_db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE bru_table_state (table_id INTEGER PRIMARY KEY, state TEXT NOT NULL, sums BLOB);
             CREATE TABLE bru_delta_tables (table_id INTEGER PRIMARY KEY, change TEXT NOT NULL,
                 before TEXT NOT NULL, before_sums BLOB, buckets BLOB);",
        )
        .unwrap();
        conn
    }

    #[test]
    fn the_states_crc_read_in_pieces_is_the_crc_of_each_value_after_its_length() {
        let conn = states_db();
        // Larger than one 64 KiB piece, and not a multiple of it.
        let sums: Vec<u8> = (0..200_003u32).map(|i| (i * 7 % 251) as u8).collect();
        conn.execute(
            "INSERT INTO bru_table_state VALUES (0, '{}', ?1), (1, '{\"k\":1}', NULL)",
            [&sums],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO bru_delta_tables VALUES (1, 'keys', '{}', NULL, x'0102')",
            [],
        )
        .unwrap();
        // FORMAT.md's definition, value by value.
        let mut h = crc32fast::Hasher::new();
        let mut feed = |b: &[u8]| {
            h.update(&(b.len() as u64).to_le_bytes());
            h.update(b);
        };
        for (id, values) in [
            (0i64, vec![&b"{}"[..], &sums[..]]),
            (1, vec![&b"{\"k\":1}"[..], &b""[..]]),
            (1, vec![&b"keys"[..], &b"{}"[..], &b""[..], &[1u8, 2][..]]),
        ] {
            feed(&id.to_le_bytes());
            for v in values {
                feed(v);
            }
        }
        let want = h.finalize();
        assert_eq!(
            states_crc(&conn, Path::new("/backups/wfm.db")).unwrap(),
            Some(want)
        );
    }

    #[test]
    fn bucket_sums_that_are_not_a_blob_are_damage_naming_the_table() {
        let conn = states_db();
        conn.execute(
            "INSERT INTO bru_table_state VALUES (4, '{}', 'not sums')",
            [],
        )
        .unwrap();
        let e = states_crc(&conn, Path::new("/backups/wfm.db")).unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, Error::Damaged { .. }), "{text}");
        assert!(
            text.contains("bru_table_state.sums of table 4 holds text"),
            "{text}"
        );
    }

    #[test]
    fn a_full_database_is_reported_as_disk_full_naming_the_archive() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA max_page_count = 3; CREATE TABLE t (b BLOB);")
            .unwrap();
        let e = conn
            .execute("INSERT INTO t VALUES (zeroblob(100000))", [])
            .unwrap_err();
        let e = sql_error(
            Path::new("/backups/wfm.db"),
            "writing chunk 0 of table t",
            e,
        );
        assert!(matches!(e, Error::DiskFull { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "disk full writing /backups/wfm.db: free some space and take the backup again"
        );
    }

    #[test]
    fn crc32_is_the_zlib_one() {
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn the_catalog_checksum_separates_tables_from_objects() {
        let a = catalog_crc32(&["x", "y"], &["z"]);
        let b = catalog_crc32(&["x"], &["y", "z"]);
        assert_ne!(a, b);
        assert_eq!(a, catalog_crc32(&["x", "y"], &["z"]));
    }
}
