//! Table states and delta archives (FORMAT.md, "Table states and delta
//! archives").
//!
//! Every archive records, per table, the state a delta is compared with
//! (`bru_table_state`: [`bru_core::delta::TableState`] as JSON and the
//! bucket sums). A **delta archive** holds only what changed since the
//! archive it names: its metadata says `kind = delta` with the chain's
//! links, `bru_delta_tables` lists each changed table with the state it
//! applies to and the buckets it replaces, and the chunks hold the changed
//! buckets' rows. A delta has format version 2, so that a reader that knows
//! only full archives refuses it rather than restoring a few rows as if
//! they were a whole database.
//!
//! Both tables are covered by one CRC32 in the metadata (`states_crc32`),
//! written in the final commit and checked whenever they are read.

use std::collections::BTreeMap;

use bru_core::delta::{Buckets, TableState};
use rusqlite::{params, OptionalExtension};

use crate::container::{key, sql_error};
use crate::error::{Error, Result};
use crate::meta::{DeltaInfo, TableId, DELTA_FORMAT_VERSION};
use crate::reader::ArchiveReader;
use crate::writer::ArchiveWriter;

/// The most bytes of one state's JSON or bucket sums a reader accepts
/// (2^22 buckets of 8 bytes, and some).
const MAX_STATE_BYTES: usize = (32 << 20) + (64 << 10);

const STATE_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS bru_table_state (
    table_id INTEGER PRIMARY KEY,
    state    TEXT NOT NULL,
    sums     BLOB
);
CREATE TABLE IF NOT EXISTS bru_delta_tables (
    table_id    INTEGER PRIMARY KEY,
    change      TEXT NOT NULL,
    before      TEXT NOT NULL,
    before_sums BLOB,
    buckets     BLOB
);";

/// A table's recorded state and its bucket sums (with a key).
pub type StoredState = (TableState, Option<Vec<u64>>);

/// How a delta changes one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The rows of the changed buckets replace the target's rows in them.
    Buckets,
    /// A table without a bucket key: its rows replace all of the target's.
    Whole,
    /// The keys a change slot named: the delta's rows replace the target's
    /// rows of the same key, and the keys in [`DeltaTable::deleted`] are
    /// deleted.
    Keys,
}

impl Change {
    fn stored(self) -> &'static str {
        match self {
            Change::Buckets => "buckets",
            Change::Whole => "whole",
            Change::Keys => "keys",
        }
    }
}

/// One changed table of a delta.
#[derive(Debug, Clone, PartialEq)]
pub struct DeltaTable {
    pub change: Change,
    /// The table's state the delta applies to.
    pub before: TableState,
    /// That state's bucket sums (for [`Change::Buckets`]).
    pub before_sums: Option<Vec<u64>>,
    /// The buckets the delta replaces, in increasing order (for
    /// [`Change::Buckets`]).
    pub buckets: Vec<u32>,
    /// The keys the delta deletes (for [`Change::Keys`]): integer or text
    /// values of the key columns, in their order.
    pub deleted: Vec<Vec<bru_core::Value>>,
}

/// The JSON of deleted keys: an array of arrays of numbers and strings.
fn keys_json(keys: &[Vec<bru_core::Value>]) -> std::result::Result<Vec<u8>, String> {
    use bru_core::Value;
    let keys: Vec<Vec<serde_json::Value>> = keys
        .iter()
        .map(|k| {
            k.iter()
                .map(|v| match v {
                    Value::Int16(i) => Ok(serde_json::Value::from(*i)),
                    Value::Int32(i) => Ok(serde_json::Value::from(*i)),
                    Value::Int64(i) => Ok(serde_json::Value::from(*i)),
                    Value::Text(t) => Ok(serde_json::Value::from(t.as_str())),
                    other => Err(format!(
                        "a deleted key holds {other:?}, not an integer or text"
                    )),
                })
                .collect()
        })
        .collect::<std::result::Result<_, String>>()?;
    serde_json::to_vec(&keys).map_err(|e| e.to_string())
}

/// Calls `f` with `sums` as [`Buckets::to_bytes`] spells them (u64 LE
/// each), 64 KiB at a time.
fn for_each_piece(sums: &[u64], mut f: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
    let mut buf = Vec::with_capacity(64 << 10);
    for part in sums.chunks(8 << 10) {
        buf.clear();
        buf.extend(part.iter().flat_map(|s| s.to_le_bytes()));
        f(&buf)?;
    }
    Ok(())
}

/// The deleted keys of [`keys_json`], each of `width` values.
fn keys_from_json(
    bytes: &[u8],
    width: usize,
) -> std::result::Result<Vec<Vec<bru_core::Value>>, String> {
    use bru_core::Value;
    let keys: Vec<Vec<serde_json::Value>> =
        serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    keys.into_iter()
        .map(|k| {
            if k.len() != width {
                return Err(format!("a deleted key has {} values, not {width}", k.len()));
            }
            k.into_iter()
                .map(|v| match v {
                    serde_json::Value::Number(n) => n
                        .as_i64()
                        .map(Value::Int64)
                        .ok_or_else(|| format!("deleted key value {n} is not a 64-bit integer")),
                    serde_json::Value::String(t) => Ok(Value::Text(t)),
                    other => Err(format!(
                        "deleted key value {other} is not an integer or text"
                    )),
                })
                .collect()
        })
        .collect()
}

impl ArchiveWriter {
    fn state_schema(&mut self) -> Result<()> {
        if self.sealed.is_some() {
            // Its TEMP tables exist from the start (module `sealed`).
            return Ok(());
        }
        let path = self.path.clone();
        self.conn
            .execute_batch(STATE_SCHEMA)
            .map_err(|e| sql_error(&path, "creating the table states", e))
    }

    /// Records the state of `table` (its bucket sums when it has a key;
    /// the writer sets [`TableState::sums_crc32`]).
    pub fn write_table_state(
        &mut self,
        table: TableId,
        state: &TableState,
        sums: Option<&Buckets>,
    ) -> Result<()> {
        self.state_schema()?;
        // The sums (up to 32 MiB) go into the file in pieces, through a
        // zero-filled BLOB written in place: as one bound value they were
        // copied three times over (the bytes, SQLite's own copy, and the
        // doublings of collecting them), which was most of what a backup's
        // memory grew by from 3 M to 28 M rows.
        let mut state = state.clone();
        state.sums_crc32 = sums.map(|b| {
            let mut h = crc32fast::Hasher::new();
            for_each_piece(&b.sums, |piece| {
                h.update(piece);
                Ok(())
            })
            .unwrap_or(());
            format!("{:08x}", h.finalize())
        });
        let json = serde_json::to_string(&state).map_err(|e| self.misuse(e.to_string()))?;
        let path = self.path.clone();
        let len = sums.map(|b| b.sums.len() as i64 * 8);
        self.conn
            .execute(
                "INSERT OR REPLACE INTO bru_table_state (table_id, state, sums) \
                 VALUES (?1, ?2, CASE WHEN ?3 IS NULL THEN NULL ELSE zeroblob(?3) END)",
                params![table, json, len],
            )
            .map_err(|e| sql_error(&path, "writing a table state", e))?;
        if let Some(b) = sums {
            let err = |e| sql_error(&path, "writing a table state's bucket sums", e);
            let mut blob = self
                .conn
                .blob_open(
                    // A sealed archive's states are TEMP tables (`sealed`).
                    if self.sealed.is_some() {
                        rusqlite::TEMP_DB
                    } else {
                        rusqlite::MAIN_DB
                    },
                    "bru_table_state",
                    "sums",
                    table,
                    false,
                )
                .map_err(err)?;
            for_each_piece(&b.sums, |piece| {
                use std::io::Write;
                blob.write_all(piece).map_err(|e| {
                    // rusqlite's own error inside (a full disk among them)
                    // is named as any other SQLite failure is.
                    let message = e.to_string();
                    match e
                        .into_inner()
                        .map(|inner| inner.downcast::<rusqlite::Error>())
                    {
                        Some(Ok(sqlite)) => err(*sqlite),
                        _ => Error::Io {
                            path: path.clone(),
                            doing: "writing a table state's bucket sums into",
                            message,
                        },
                    }
                })
            })?;
            blob.close().map_err(err)?;
        }
        Ok(())
    }

    /// Makes this archive a delta of the chain `info` says, version 2 (an
    /// encrypted archive stays version 3, whose `kind` says it is a delta).
    pub fn set_delta(&mut self, info: &DeltaInfo) -> Result<()> {
        self.state_schema()?;
        let version = match self.sealed {
            Some(_) => crate::meta::ENCRYPTED_FORMAT_VERSION,
            None => DELTA_FORMAT_VERSION,
        };
        let path = self.path.clone();
        let err = |e| sql_error(&path, "marking the archive a delta", e);
        let pairs = [
            (key::KIND, "delta".to_owned()),
            (key::BASE_ARCHIVE_ID, info.base_archive_id.clone()),
            (key::CHAIN_ROOT_ID, info.chain_root_id.clone()),
            (key::CHAIN_POSITION, info.position.to_string()),
            (key::FORMAT_VERSION, version.to_string()),
        ];
        for (k, v) in pairs {
            self.conn
                .execute(
                    "INSERT OR REPLACE INTO bru_meta (key, value) VALUES (?1, ?2)",
                    params![k, v],
                )
                .map_err(err)?;
        }
        self.conn
            .execute_batch(&format!("PRAGMA user_version = {version}"))
            .map_err(err)?;
        self.meta.format_version = version;
        self.meta.delta = Some(info.clone());
        Ok(())
    }

    /// Records the change slot a delta of this chain reads (`name`) and
    /// where the next delta starts reading it (`position`, the source's
    /// spelling). Checked against the source, not by a checksum: a slot
    /// that moved past it is refused, one behind it only names more keys.
    pub fn set_change_slot(&mut self, name: &str, position: &str) -> Result<()> {
        let path = self.path.clone();
        for (k, v) in [
            (key::CHANGE_SLOT, name),
            (key::CHANGE_SLOT_POSITION, position),
        ] {
            self.conn
                .execute(
                    "INSERT OR REPLACE INTO bru_meta (key, value) VALUES (?1, ?2)",
                    params![k, v],
                )
                .map_err(|e| sql_error(&path, "recording the change slot", e))?;
        }
        Ok(())
    }

    /// Records a changed table of a delta.
    pub fn write_delta_table(&mut self, table: TableId, delta: &DeltaTable) -> Result<()> {
        self.state_schema()?;
        let before =
            serde_json::to_string(&delta.before).map_err(|e| self.misuse(e.to_string()))?;
        let sums: Option<Vec<u8>> = delta
            .before_sums
            .as_ref()
            .map(|s| s.iter().flat_map(|x| x.to_le_bytes()).collect());
        let buckets: Vec<u8> = match delta.change {
            Change::Keys => keys_json(&delta.deleted).map_err(|e| self.misuse(e))?,
            _ => delta.buckets.iter().flat_map(|b| b.to_le_bytes()).collect(),
        };
        if buckets.len() > MAX_STATE_BYTES {
            return Err(self.misuse(format!(
                "table {table}: {} bytes of deleted keys or buckets, more than a delta holds",
                buckets.len()
            )));
        }
        let path = self.path.clone();
        self.conn
            .execute(
                "INSERT OR REPLACE INTO bru_delta_tables (table_id, change, before, before_sums, \
                 buckets) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![table, delta.change.stored(), before, sums, buckets],
            )
            .map_err(|e| sql_error(&path, "writing a delta table", e))?;
        Ok(())
    }
}

impl ArchiveReader {
    fn state_damaged(&self, message: String) -> Error {
        Error::Damaged {
            path: self.path.clone(),
            message,
        }
    }

    /// Checks the states against their CRC, once per call that reads them.
    fn check_states(&self) -> Result<bool> {
        let stored = self.meta_value(key::STATES_CRC32)?;
        let actual = crate::container::states_crc(&self.conn, &self.path)?;
        match (stored, actual) {
            (None, None) => Ok(false),
            (Some(s), Some(a)) if s == format!("{a:08x}") => Ok(true),
            (None, Some(_)) if self.meta.state != crate::ArchiveState::Complete => Ok(true),
            _ => Err(self.state_damaged(
                "its table states do not match their checksum (states_crc32): they were \
                 changed after the backup"
                    .into(),
            )),
        }
    }

    fn meta_value(&self, k: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT value FROM bru_meta WHERE key = ?1", [k], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| sql_error(&self.path, "reading the metadata", e))
    }

    /// The recorded state of every table that has one, by table id, with
    /// its bucket sums; empty for an archive written before states existed.
    pub fn table_states(&self) -> Result<BTreeMap<TableId, StoredState>> {
        let mut out = BTreeMap::new();
        if !self.check_states()? {
            return Ok(out);
        }
        let err = |e| sql_error(&self.path, "reading the table states", e);
        let mut s = self
            .conn
            .prepare(
                "SELECT table_id, state, sums FROM bru_table_state WHERE length(state) <= ?1 \
                 AND coalesce(length(sums), 0) <= ?1 ORDER BY table_id",
            )
            .map_err(err)?;
        let rows = s
            .query_map([MAX_STATE_BYTES as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<Vec<u8>>>(2)?,
                ))
            })
            .map_err(err)?;
        for row in rows {
            let (id, json, sums) = row.map_err(err)?;
            let state: TableState = serde_json::from_str(&json)
                .map_err(|e| self.state_damaged(format!("table state {id}: {e}")))?;
            let sums = match (sums, &state.key) {
                (Some(bytes), Some(_)) => Some(
                    Buckets::sums_from_bytes(&bytes, state.bits)
                        .filter(|_| {
                            state.sums_crc32.as_deref()
                                == Some(&format!("{:08x}", crc32fast::hash(&bytes)))
                        })
                        .ok_or_else(|| {
                            self.state_damaged(format!(
                                "table state {id}: its bucket sums are damaged"
                            ))
                        })?,
                ),
                (None, None) => None,
                (None, Some(_)) if state.rows_only => None,
                _ => {
                    return Err(
                        self.state_damaged(format!("table state {id}: bucket sums without a key"))
                    )
                }
            };
            out.insert(id as TableId, (state, sums));
        }
        Ok(out)
    }

    /// The change slot this archive's chain reads and the position the
    /// next delta starts from ([`ArchiveWriter::set_change_slot`]).
    pub fn change_slot(&self) -> Result<Option<(String, String)>> {
        match (
            self.meta_value(key::CHANGE_SLOT)?,
            self.meta_value(key::CHANGE_SLOT_POSITION)?,
        ) {
            (Some(name), Some(position)) => Ok(Some((name, position))),
            (None, None) => Ok(None),
            _ => Err(self.state_damaged(
                "its change slot is recorded without its position, or the other way round".into(),
            )),
        }
    }

    /// Where this delta sits in its chain; `None` for a full archive.
    pub fn delta_info(&self) -> Option<&DeltaInfo> {
        self.meta.delta.as_ref()
    }

    /// The changed tables of a delta, by table id.
    pub fn delta_tables(&self) -> Result<BTreeMap<TableId, DeltaTable>> {
        let mut out = BTreeMap::new();
        if self.meta.delta.is_none() || !self.check_states()? {
            return Ok(out);
        }
        let err = |e| sql_error(&self.path, "reading the delta tables", e);
        let mut s = self
            .conn
            .prepare(
                "SELECT table_id, change, before, before_sums, buckets FROM bru_delta_tables \
                 WHERE length(before) <= ?1 AND coalesce(length(before_sums), 0) <= ?1 \
                 AND coalesce(length(buckets), 0) <= ?1 ORDER BY table_id",
            )
            .map_err(err)?;
        let rows = s
            .query_map([MAX_STATE_BYTES as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<Vec<u8>>>(3)?,
                    r.get::<_, Option<Vec<u8>>>(4)?,
                ))
            })
            .map_err(err)?;
        for row in rows {
            let (id, change, before, sums, buckets) = row.map_err(err)?;
            let change = match change.as_str() {
                "buckets" => Change::Buckets,
                "whole" => Change::Whole,
                "keys" => Change::Keys,
                other => {
                    return Err(
                        self.state_damaged(format!("delta table {id}: unknown change {other:?}"))
                    )
                }
            };
            let before: TableState = serde_json::from_str(&before)
                .map_err(|e| self.state_damaged(format!("delta table {id}: {e}")))?;
            let before_sums = match sums {
                Some(bytes) => Some(Buckets::sums_from_bytes(&bytes, before.bits).ok_or_else(
                    || self.state_damaged(format!("delta table {id}: its bucket sums are damaged")),
                )?),
                None => None,
            };
            let buckets = buckets.unwrap_or_default();
            if change == Change::Keys {
                let width = before.key.as_ref().map_or(0, Vec::len);
                let deleted = keys_from_json(&buckets, width).map_err(|e| {
                    self.state_damaged(format!("delta table {id}: its deleted keys: {e}"))
                })?;
                if width == 0 {
                    return Err(self.state_damaged(format!(
                        "delta table {id}: keys of a table without a key"
                    )));
                }
                out.insert(
                    id as TableId,
                    DeltaTable {
                        change,
                        before,
                        before_sums,
                        buckets: Vec::new(),
                        deleted,
                    },
                );
                continue;
            }
            if buckets.len() % 4 != 0 {
                return Err(self.state_damaged(format!("delta table {id}: damaged bucket list")));
            }
            let buckets: Vec<u32> = buckets
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            let limit = 1u64 << before.bits;
            if buckets.iter().any(|&b| u64::from(b) >= limit)
                || buckets.windows(2).any(|w| w[0] >= w[1])
            {
                return Err(self.state_damaged(format!("delta table {id}: damaged bucket list")));
            }
            out.insert(
                id as TableId,
                DeltaTable {
                    change,
                    before,
                    before_sums,
                    buckets,
                    deleted: Vec::new(),
                },
            );
        }
        Ok(out)
    }
}
