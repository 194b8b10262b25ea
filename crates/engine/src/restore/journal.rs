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
//! - `mode …`: full, schema-only or data-only, which must match too;
//! - `chunk N of table T`: chunk N of table T is loaded;
//! - one key per finished step (`created table T`, `loaded table T`,
//!   `finished table T`, `foreign keys of table T`, `object KIND NAME`).
//!
//! A step whose key is present is not run again; a step that was done but not
//! yet journaled when the restore stopped is run again, which the target
//! makes harmless (it leaves an existing index, view or trigger alone).

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

pub(crate) fn mode_key(mode: RestoreMode) -> String {
    format!("{MODE_PREFIX}{}", mode.name())
}

pub(crate) fn chunk_key(table: &str, seq: u64) -> String {
    format!("chunk {seq} of table {table}")
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

/// Removes `target`'s journal; nothing for a target without one.
pub(crate) fn clear(target: &mut dyn Target) -> bru_core::Result<()> {
    target.journal().map_or(Ok(()), |j| j.clear())
}
