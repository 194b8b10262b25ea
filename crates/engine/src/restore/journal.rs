//! The restore journal as the engine sees it: which steps and chunks are done.
//!
//! The target keeps the journal (as a table in the target database, see
//! [`bru_core::RestoreJournal`]) so that each chunk's rows and its
//! journal entry commit together: after any interruption, a chunk is either
//! loaded and journaled or neither. Keys are plain text chosen here and opaque
//! to the target:
//!
//! - `archive …`: the archive's identity (source engine, version, database,
//!   creation time), written first; resuming with another archive is refused;
//! - `mode …`: full, schema-only or data-only (and `--schema-prefix`),
//!   which must match too; and a resume must select every table the
//!   journal records work on;
//! - `chunk N of table T`: chunk N of table T is loaded;
//! - one key per finished step (`created table T`, `loaded table T`,
//!   `finished table T`, `foreign keys of table T`, `object KIND NAME`).
//!
//! A step whose key is present is not run again; a step that was done but not
//! yet journaled when the restore stopped is run again, which the target
//! makes harmless (it leaves an existing index, view or trigger alone).
//!
//! A table the target emptied after its chunks were journaled (PostgreSQL's
//! unlogged tables after a crash, [`bru_core::RestoreJournal::emptied`])
//! has its chunk keys and its `loaded table` key forgotten, in the target
//! and here, so that a resume loads it again whole.

use std::collections::HashMap;
use std::sync::Mutex;

use bru_core::Target;
use bru_format::ArchiveMeta;

use super::options::RestoreMode;
use super::plan::Action;
use super::selection::JobTable;

/// Where a journal key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Written by the restore that was interrupted.
    Earlier,
    /// Written by this run (by an attempt of a step that was then retried).
    ThisRun,
}

/// The keys done so far. Shared by all sessions.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    /// Whether the target keeps a journal at all.
    pub enabled: bool,
    done: Mutex<HashMap<String, Origin>>,
}

impl Journal {
    pub fn new(enabled: bool, earlier: Vec<String>) -> Self {
        Journal {
            enabled,
            done: Mutex::new(earlier.into_iter().map(|k| (k, Origin::Earlier)).collect()),
        }
    }

    pub fn origin(&self, key: &str) -> Option<Origin> {
        self.done.lock().ok()?.get(key).copied()
    }

    pub fn contains(&self, key: &str) -> bool {
        self.origin(key).is_some()
    }

    pub fn insert(&self, key: String) {
        if let Ok(mut done) = self.done.lock() {
            done.entry(key).or_insert(Origin::ThisRun);
        }
    }

    /// The keys that say rows of `table` are in: its chunks and its
    /// `loaded table` key.
    pub fn row_keys(&self, table: &str) -> Vec<String> {
        let Ok(done) = self.done.lock() else {
            return Vec::new();
        };
        let loaded = loaded_key(table);
        let mut keys: Vec<String> = done
            .keys()
            .filter(|k| **k == loaded || is_chunk_key_of(k, table))
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    /// Forgets `keys`: their work is to be done again.
    pub fn remove(&self, keys: &[String]) {
        if let Ok(mut done) = self.done.lock() {
            for k in keys {
                done.remove(k);
            }
        }
    }

    /// The tables the journal records work on (created, chunks loaded,
    /// loaded), by the names its keys use, sorted.
    pub fn tables(&self) -> Vec<String> {
        let Ok(done) = self.done.lock() else {
            return Vec::new();
        };
        let mut tables: Vec<String> = done
            .keys()
            .filter_map(|k| {
                k.strip_prefix("created table ")
                    .or_else(|| k.strip_prefix("loaded table "))
                    .or_else(|| {
                        let rest = k.strip_prefix("chunk ")?;
                        let (seq, table) = rest.split_once(" of table ")?;
                        (!seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit()))
                            .then_some(table)
                    })
            })
            .map(str::to_owned)
            .collect();
        tables.sort();
        tables.dedup();
        tables
    }

    /// The recorded value of the key that starts with `prefix`, if any.
    pub fn find_prefixed(&self, prefix: &str) -> Option<String> {
        let done = self.done.lock().ok()?;
        done.keys().find(|k| k.starts_with(prefix)).cloned()
    }
}

/// The key naming the archive a restore came from. The random archive id
/// tells apart two backups of one database made in the same second.
pub(crate) fn archive_key(meta: &ArchiveMeta) -> String {
    format!(
        "archive {} {} database {} created {} id {}",
        meta.source.engine,
        meta.source.version,
        meta.source.database,
        meta.created_at,
        meta.archive_id
    )
}

pub(crate) const ARCHIVE_PREFIX: &str = "archive ";
pub(crate) const MODE_PREFIX: &str = "mode ";

/// The key recording the restore's mode, and `--schema-prefix`, which
/// changes every table's name in the target: a resume with other options
/// would restore other tables and leave the unfinished ones as they are.
pub(crate) fn mode_key(mode: RestoreMode, schema_prefix: bool) -> String {
    format!("{MODE_PREFIX}{}", mode_name(mode, schema_prefix))
}

/// The mode as [`mode_key`] records it after its prefix.
pub(crate) fn mode_name(mode: RestoreMode, schema_prefix: bool) -> String {
    if schema_prefix {
        format!("{} (--schema-prefix)", mode.name())
    } else {
        mode.name().to_owned()
    }
}

pub(crate) fn chunk_key(table: &str, seq: u64) -> String {
    format!("chunk {seq} of table {table}")
}

/// Whether `key` is a [`chunk_key`] of `table`.
fn is_chunk_key_of(key: &str, table: &str) -> bool {
    key.strip_prefix("chunk ")
        .and_then(|k| k.strip_suffix(table))
        .and_then(|k| k.strip_suffix(" of table "))
        .is_some_and(|seq| !seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit()))
}

/// The key recording that `table`'s rows are all in and checked.
pub(crate) fn loaded_key(table: &str) -> String {
    format!("loaded table {table}")
}

/// The key a finished step leaves, or `None` for chunk loads (journaled
/// chunk by chunk).
pub(crate) fn step_key(
    tables: &[JobTable],
    objects: &[bru_core::ObjectDef],
    action: &Action,
) -> Option<String> {
    Some(match *action {
        // The object's position in the catalog makes the key unique (two
        // triggers may share a name on different tables, functions may be
        // overloaded); a resume uses the same archive, so positions match.
        Action::CreateObject { object } => {
            let o = &objects[object];
            format!("object {object} ({} {})", o.kind, o.name)
        }
        Action::RestoreObjectData { object } => {
            let o = &objects[object];
            format!("data of object {object} ({} {})", o.kind, o.name)
        }
        Action::CreateTable { table } => format!("created table {}", tables[table].name),
        Action::LoadChunks { .. } => return None,
        Action::CompleteData { table } => loaded_key(&tables[table].name),
        Action::BuildIndex { table, part } => {
            let t = &tables[table];
            format!("index {} of table {}", part.name(&t.entry.def), t.name)
        }
        Action::FinishTable { table } => format!("finished table {}", tables[table].name),
        Action::AddForeignKeys { table } => {
            format!("foreign keys of table {}", tables[table].name)
        }
    })
}

/// The keys in `target`'s journal ([`bru_core::RestoreJournal::keys`]), or
/// `None` when it has none or keeps no journal.
pub(crate) fn stored_keys(target: &mut dyn Target) -> bru_core::Result<Option<Vec<String>>> {
    target.journal().map_or(Ok(None), |j| j.keys())
}

/// Records `key` in `target`'s journal; nothing for a target without one.
pub(crate) fn mark(target: &mut dyn Target, key: &str) -> bru_core::Result<()> {
    target.journal().map_or(Ok(()), |j| j.mark(key))
}

/// Removes `keys` from `target`'s journal; nothing for a target without one.
pub(crate) fn forget(target: &mut dyn Target, keys: &[String]) -> bru_core::Result<()> {
    target.journal().map_or(Ok(()), |j| j.forget(keys))
}

/// The tables among `tables` that `target` finds emptied since its journal
/// listed their chunks ([`bru_core::RestoreJournal::emptied`]).
pub(crate) fn emptied(
    target: &mut dyn Target,
    tables: &[bru_core::TableName],
) -> bru_core::Result<Vec<bru_core::TableName>> {
    target
        .journal()
        .map_or(Ok(Vec::new()), |j| j.emptied(tables))
}

/// Removes `target`'s journal; nothing for a target without one.
pub(crate) fn clear(target: &mut dyn Target) -> bru_core::Result<()> {
    target.journal().map_or(Ok(()), |j| j.clear())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tables_row_keys_are_its_chunks_and_its_loaded_key_only() {
        let journal = Journal::new(
            true,
            [
                chunk_key("wfm.a", 0),
                chunk_key("wfm.a", 12),
                loaded_key("wfm.a"),
                chunk_key("x.wfm.a", 1),
                chunk_key("wfm.ab", 2),
                "created table wfm.a".into(),
                "index wfm_a_pkey of table wfm.a".into(),
            ]
            .into(),
        );
        let keys = journal.row_keys("wfm.a");
        assert_eq!(
            keys,
            [
                "chunk 0 of table wfm.a",
                "chunk 12 of table wfm.a",
                "loaded table wfm.a"
            ]
        );
        assert_eq!(journal.tables(), ["wfm.a", "wfm.ab", "x.wfm.a"]);
        journal.remove(&keys);
        assert!(journal.row_keys("wfm.a").is_empty());
        assert!(journal.contains("created table wfm.a"));
        assert_eq!(journal.row_keys("x.wfm.a"), ["chunk 1 of table x.wfm.a"]);
    }
}
