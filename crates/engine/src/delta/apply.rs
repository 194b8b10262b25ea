//! `bru restore DELTA TARGET`: applying a delta archive to a target that
//! holds the state the delta was taken against.
//!
//! 1. **The chain** ([`DeltaApply::check_chain`]): the target's restore
//!    journal keeps one key, `delta chain ROOT position N archive ID`, for
//!    the last delta applied. A target without it holds the full archive's
//!    state (position 0). A delta applies only at the next position of its
//!    own chain; applied twice, out of order or onto another chain's
//!    target, it is refused, naming the archive the target needs next.
//! 2. **The state** ([`DeltaApply::scan`]): the key columns of each table
//!    the delta changes are read from the target and checked against the
//!    state the delta applies to, before anything is written: the row count
//!    and the sum of the key hashes must be the chain's (a row inserted,
//!    deleted or re-keyed by anyone else is found; a value changed in place
//!    by someone else is not: `bru compare` at the cut-over finds that). A
//!    table without a bucket key is read whole and its row count (and, in
//!    the source's engine, checksum) compared. The same read finds the
//!    target rows of the changed buckets that the delta no longer has
//!    (deleted or re-keyed at the source).
//! 3. **The writes** ([`DeltaApply::write`]): those rows are deleted
//!    (tables that reference others first), then the delta's rows replace
//!    the rows of the same key (`INSERT … ON CONFLICT … DO UPDATE`, parents
//!    first), then identities and sequences take the source's values, and
//!    the journal's chain key moves on.
//!
//! **Resuming.** Every write is idempotent: deleting the rows the delta
//! does not have and writing every row it has gives the same target
//! however often it runs. A key `delta ID verified` records that step 2
//! passed; an apply that stopped after it (killed, a lost connection) runs
//! again from the start, skipping only the state check, which the rows it
//! already wrote would fail.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use bru_core::delta::bucket_of;
use bru_core::{Catalog, Engine, ObjectKind, Source, TableDef, TableName, Target, Value};
use bru_format::{ArchiveReader, Change, DeltaInfo, DeltaTable, TableEntry, TableId};

use crate::{Error, Progress, Result, Summary, TableSummary};

/// A delta archive opened for applying.
pub struct DeltaApply {
    path: PathBuf,
    reader: ArchiveReader,
    info: DeltaInfo,
    archive_id: String,
    source_engine: String,
    entries: Vec<TableEntry>,
    changes: BTreeMap<TableId, DeltaTable>,
    catalog: Catalog,
}

/// Whether the archive at `path` is a delta archive.
pub fn is_delta(path: &Path) -> Result<bool> {
    Ok(ArchiveReader::open(path)?.delta_info().is_some())
}

/// What the chain check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainCheck {
    /// The state check already passed in an earlier, interrupted apply.
    pub verified: bool,
    /// The journal keys this apply replaces at the end.
    pub replaced: Vec<String>,
}

/// What the scan of the target found: per changed table, the keys of the
/// target rows to delete (`None`: every row).
pub struct Scanned {
    deletes: BTreeMap<TableId, Option<Vec<Vec<Value>>>>,
}

fn chain_key(root: &str, position: u64, archive: &str) -> String {
    format!("delta chain {root} position {position} archive {archive}")
}

impl DeltaApply {
    /// Opens the delta archive at `path`, checked like any archive
    /// (complete, catalog SQL of a known engine).
    pub fn open(path: &Path, engines: &[&dyn Engine]) -> Result<DeltaApply> {
        let reader = ArchiveReader::open(path)?;
        reader.require_complete()?;
        let info = reader.delta_info().cloned().ok_or_else(|| {
            Error::Delta(format!("{} is a full archive, not a delta", path.display()))
        })?;
        let catalog = reader.catalog()?;
        crate::trust::check_catalog(&catalog, engines)?;
        let entries = reader.tables()?;
        let changes = reader.delta_tables()?;
        let meta = reader.meta().clone();
        Ok(DeltaApply {
            path: path.to_path_buf(),
            info,
            archive_id: meta.archive_id,
            source_engine: meta.source.engine,
            entries,
            changes,
            catalog,
            reader,
        })
    }

    /// The changed tables with the rows the delta holds for them, for
    /// `--dry-run` and the summary.
    pub fn plan(&self) -> Vec<(String, &'static str, u64)> {
        self.changes
            .iter()
            .filter_map(|(id, change)| {
                let e = self.entries.iter().find(|e| e.id == *id)?;
                Some((
                    e.def.name.to_string(),
                    match change.change {
                        Change::Buckets => "changed rows",
                        Change::Whole => "all rows (no key)",
                        Change::Keys => "changed keys",
                    },
                    e.totals.as_ref().map_or(0, |t| t.rows),
                ))
            })
            .collect()
    }

    /// Where the delta sits in its chain.
    pub fn chain(&self) -> &DeltaInfo {
        &self.info
    }

    /// Checks that the target's journal (`keys`, `None` without one) says
    /// it holds the state this delta applies to.
    pub fn check_chain(&self, keys: Option<&[String]>) -> Result<ChainCheck> {
        let keys = keys.unwrap_or_default();
        let marks: Vec<(&str, u64, &str, &String)> = keys
            .iter()
            .filter_map(|k| {
                let rest = k.strip_prefix("delta chain ")?;
                let mut parts = rest.split(' ');
                let root = parts.next()?;
                parts.next().filter(|p| *p == "position")?;
                let position = parts.next()?.parse().ok()?;
                parts.next().filter(|p| *p == "archive")?;
                Some((root, position, parts.next()?, k))
            })
            .collect();
        let verified = keys.contains(&format!("delta {} verified", self.archive_id));
        let me = &self.info;
        let next = |position: u64| {
            format!(
                "apply the chain's deltas in order: this delta is position {} of the chain that \
                 starts with archive {}, taken against archive {}",
                me.position, me.chain_root_id, me.base_archive_id
            ) + &if position + 1 < me.position {
                format!(" (the target needs position {} next)", position + 1)
            } else {
                String::new()
            }
        };
        match marks.as_slice() {
            [] if me.position == 1 => {}
            [] => {
                return Err(Error::Delta(format!(
                    "the target holds no delta of this chain (the full archive's state, if any); \
                     {}",
                    next(0)
                )))
            }
            [(root, position, archive, _)] => {
                if *root != me.chain_root_id {
                    return Err(Error::Delta(format!(
                        "the target holds the chain that starts with archive {root}, not this \
                         delta's ({}): it is another migration's target",
                        me.chain_root_id
                    )));
                }
                if *position == me.position && *archive == self.archive_id {
                    return Err(Error::Delta(format!(
                        "this delta (position {}, archive {}) is already applied to the target; \
                         apply the next one",
                        me.position, self.archive_id
                    )));
                }
                if *position + 1 != me.position || *archive != me.base_archive_id {
                    return Err(Error::Delta(format!(
                        "the target holds position {position} of the chain (archive {archive}); {}",
                        next(*position)
                    )));
                }
            }
            _ => {
                return Err(Error::Delta(
                    "the target's restore journal holds several chain positions; it was edited: \
                     restore the full archive again with --clean"
                        .into(),
                ))
            }
        }
        let mut replaced: Vec<String> = marks.iter().map(|m| m.3.clone()).collect();
        if verified {
            replaced.push(format!("delta {} verified", self.archive_id));
        }
        Ok(ChainCheck { verified, replaced })
    }

    /// Reads each changed table from the target (`target`, a source opened
    /// on it, of engine `target_engine`), checks its state unless
    /// `verified`, and finds the rows to delete.
    pub fn scan(
        &self,
        target: &mut dyn Source,
        target_engine: &str,
        verified: bool,
    ) -> Result<Scanned> {
        let same_engine = target_engine == self.source_engine;
        // Between SQLite and another engine, the other one (whose dates,
        // uuids and decimals are typed where SQLite's are not).
        let typed_engine = match (self.source_engine.as_str(), target_engine) {
            _ if same_engine => None,
            ("sqlite", other) => Some(other),
            (other, "sqlite") => Some(other),
            _ => None,
        };
        let live = target.catalog()?;
        let mut deletes = BTreeMap::new();
        for (id, change) in &self.changes {
            let def = &self.entry(*id)?.def;
            let name = def.name.to_string();
            let here = find_table(&live.tables, &def.name).ok_or_else(|| {
                Error::Delta(format!(
                    "table {name} is not in the target; restore the full archive of this chain \
                     first"
                ))
            })?;
            // The target's columns in the archive's order.
            let order: Vec<usize> = def
                .columns
                .iter()
                .map(|c| {
                    here.columns
                        .iter()
                        .position(|h| h.name.eq_ignore_ascii_case(&c.name))
                        .ok_or_else(|| {
                            Error::Delta(format!(
                                "table {name} in the target has no column {}; it is not this \
                                 chain's target",
                                c.name
                            ))
                        })
                })
                .collect::<Result<_>>()?;
            let result = match change.change {
                Change::Whole => {
                    let mut rows = 0u64;
                    let mut checksum = bru_core::TableChecksum::new();
                    target.read_table(here, Default::default(), &mut |batch| {
                        for row in batch.rows() {
                            rows += 1;
                            if same_engine {
                                let r: Vec<Value> = order.iter().map(|&i| row[i].clone()).collect();
                                checksum.add_row(&r);
                            }
                        }
                        Ok(())
                    })?;
                    let matches = rows == change.before.rows
                        && (!same_engine
                            || change.before.rows_only
                            || format!("{:016x}", checksum.value()) == change.before.checksum);
                    if !verified && !matches {
                        return Err(self.not_the_state(&name, rows, change));
                    }
                    None
                }
                Change::Keys => {
                    // Only the row count is the chain's (the slot's
                    // deltas record no sums); the keys to delete are the
                    // delta's own.
                    let rows = target.count_rows(here)?;
                    if !verified && rows != change.before.rows {
                        return Err(self.not_the_state(&name, rows, change));
                    }
                    let key = bru_core::delta::key_columns(def).unwrap_or_default();
                    if key.is_empty() || change.deleted.iter().any(|k| k.len() != key.len()) {
                        return Err(Error::Delta(format!(
                            "{} is damaged: table {name}'s deleted keys do not fit its key",
                            self.path.display()
                        )));
                    }
                    Some(change.deleted.clone())
                }
                Change::Buckets => Some(self.scan_buckets(
                    target,
                    *id,
                    here,
                    &order,
                    change,
                    typed_engine,
                    verified,
                )?),
            };
            deletes.insert(*id, result);
        }
        Ok(Scanned { deletes })
    }

    /// A bucket table's scan: only its key columns are read from the
    /// target, summed and checked (row count, sum of key hashes), and the
    /// keys of the changed buckets the delta no longer has are kept.
    #[allow(clippy::too_many_arguments)]
    fn scan_buckets(
        &self,
        target: &mut dyn Source,
        id: TableId,
        here: &TableDef,
        order: &[usize],
        change: &DeltaTable,
        typed_engine: Option<&str>,
        verified: bool,
    ) -> Result<Vec<Vec<Value>>> {
        let entry = self.entry(id)?;
        let def = &entry.def;
        let key = bru_core::delta::key_columns(def).ok_or_else(|| {
            Error::Delta(format!(
                "table {}: the delta's key is not a bucket key",
                def.name
            ))
        })?;
        if let Some(other) = typed_engine.filter(|_| !bru_core::delta::portable_key(def, &key)) {
            return Err(Error::Delta(format!(
                "table {}: its key has a date, time, uuid, boolean or decimal column, which \
                 SQLite stores in another form than {other}: a delta between SQLite and another \
                 engine needs integer or text keys; migrate this database with one full backup \
                 and restore",
                def.name
            )));
        }
        let bits = change.before.bits;
        let mut changed = vec![false; 1usize << bits];
        for &b in &change.buckets {
            changed[b as usize] = true;
        }
        // The keys the delta has rows for.
        let mut kept = HashSet::new();
        let mut buf = Vec::new();
        for stored in self.reader.chunks(id)? {
            let batch = self.reader.decode(entry, &stored?)?;
            for row in batch.rows() {
                kept.insert(bru_core::delta::key_hash(row, &key, &mut buf));
            }
        }
        // The target's key columns, in the key's order.
        let mut keys_only = here.clone();
        keys_only.columns = key
            .iter()
            .map(|&i| here.columns[order[i]].clone())
            .collect();
        let all: Vec<usize> = (0..key.len()).collect();
        let (mut rows, mut key_sum) = (0u64, 0u64);
        let mut deletes = Vec::new();
        target.read_table(&keys_only, Default::default(), &mut |batch| {
            for row in batch.rows() {
                let kh = bru_core::delta::key_hash(row, &all, &mut buf);
                rows += 1;
                key_sum = key_sum.wrapping_add(kh);
                if changed[bucket_of(kh, bits)] && !kept.contains(&kh) {
                    deletes.push(row.to_vec());
                }
            }
            Ok(())
        })?;
        let before = &change.before;
        let matches =
            rows == before.rows && before.key_sum.as_deref() == Some(&format!("{key_sum:016x}"));
        if !verified && !matches {
            return Err(self.not_the_state(&def.name.to_string(), rows, change));
        }
        Ok(deletes)
    }

    fn not_the_state(&self, table: &str, rows: u64, change: &DeltaTable) -> Error {
        Error::Delta(format!(
            "table {table} in the target does not hold the rows this delta applies to (it has \
             {rows} rows, the chain's state before position {} has {}, or their contents \
             differ): it was changed since it was restored, or it is not this chain's target; \
             nothing was written. Restore the full archive again (with --clean) and apply the \
             chain's deltas in order",
            self.info.position, change.before.rows
        ))
    }

    fn entry(&self, id: TableId) -> Result<&TableEntry> {
        self.entries.iter().find(|e| e.id == id).ok_or_else(|| {
            Error::Delta(format!(
                "{} is damaged: its delta names table {id}, which it does not have",
                self.path.display()
            ))
        })
    }

    /// The key of the journal that records the state check passed.
    pub fn verified_key(&self) -> String {
        format!("delta {} verified", self.archive_id)
    }

    /// Writes the delta into `target`: deletes, then rows, then identities
    /// and sequences, then the chain key (replacing `check.replaced`).
    pub fn write(
        &self,
        target: &mut dyn Target,
        scanned: &Scanned,
        check: &ChainCheck,
        progress: &dyn Progress,
    ) -> Result<Summary> {
        let started = Instant::now();
        if let Some(journal) = target.journal() {
            if !check.verified {
                journal.mark(&self.verified_key())?;
            }
        }
        let order = self.dependency_order();
        let mut deleted: BTreeMap<TableId, u64> = BTreeMap::new();
        for id in order.iter().rev() {
            let Some(keys) = scanned.deletes.get(id) else {
                continue;
            };
            let def = &self.entry(*id)?.def;
            let n = match keys {
                None => target.delete_rows(def, &[], &[])?,
                Some(keys) if keys.is_empty() => 0,
                Some(keys) => {
                    let key = bru_core::delta::key_columns(def).unwrap_or_default();
                    target.delete_rows(def, &key, keys)?
                }
            };
            deleted.insert(*id, n);
        }
        progress.totals(
            self.changes.len(),
            Some(
                self.changes
                    .keys()
                    .filter_map(|id| self.entry(*id).ok()?.totals.as_ref().map(|t| t.rows))
                    .sum(),
            ),
            None,
        );
        let mut lines = Vec::new();
        for id in &order {
            let Some(change) = self.changes.get(id) else {
                continue;
            };
            let entry = self.entry(*id)?;
            let def = &entry.def;
            let name = def.name.to_string();
            let table_started = Instant::now();
            progress.table_started(&name, entry.totals.as_ref().map(|t| t.rows), None);
            let key = match change.change {
                Change::Buckets | Change::Keys => {
                    bru_core::delta::key_columns(def).unwrap_or_default()
                }
                Change::Whole => Vec::new(),
            };
            let mut loader = target.upsert(def, &key)?;
            let mut raw = 0;
            for stored in self.reader.chunks(*id)? {
                let stored = stored?;
                raw += stored.chunk.raw_len;
                let batch = self.reader.decode(entry, &stored)?;
                loader.write_batch(&batch)?;
                progress.advance(&name, batch.row_count() as u64, stored.chunk.raw_len);
            }
            let rows = loader.finish()?;
            progress.table_finished(&name);
            lines.push(TableSummary {
                table: name,
                rows: entry.totals.as_ref().map_or(0, |t| t.rows),
                rows_loaded: rows,
                raw_bytes: raw,
                seconds: table_started.elapsed().as_secs_f64(),
                ..TableSummary::default()
            });
        }
        // Identities and sequences take the source's values.
        for entry in &self.entries {
            if entry.def.columns.iter().any(|c| c.identity.is_some()) {
                target.restore_identity(&entry.def)?;
            }
        }
        let mut skipped = Vec::new();
        for object in &self.catalog.objects {
            if object.kind == ObjectKind::Sequence
                && object.data.is_some()
                && object.not_carried.is_none()
            {
                if let bru_core::ObjectOutcome::Skipped(why) = target.restore_object_data(object)? {
                    skipped.push(format!("sequence {}: {why}", object.name));
                }
            }
        }
        for (id, n) in &deleted {
            if let Ok(e) = self.entry(*id) {
                let name = e.def.name.to_string();
                lines
                    .iter_mut()
                    .filter(|l| l.table == name)
                    .for_each(|l| l.rows_deleted = *n);
            }
        }
        if let Some(journal) = target.journal() {
            journal.mark(&chain_key(
                &self.info.chain_root_id,
                self.info.position,
                &self.archive_id,
            ))?;
            let mut forget = check.replaced.clone();
            forget.push(self.verified_key());
            journal.forget(&forget)?;
        }
        target.finish()?;
        Ok(Summary {
            tables: lines,
            skipped,
            seconds: started.elapsed().as_secs_f64(),
            ..Summary::default()
        })
    }

    /// The delta's tables, each after the tables its foreign keys
    /// reference (catalog order where there is no such order).
    fn dependency_order(&self) -> Vec<TableId> {
        let mut done: Vec<TableId> = Vec::new();
        let mut left: Vec<&TableEntry> = self.entries.iter().collect();
        while !left.is_empty() {
            let before = left.len();
            left.retain(|e| {
                let ready = e.def.foreign_keys.iter().all(|fk| {
                    fk.ref_table == e.def.name
                        || !self
                            .entries
                            .iter()
                            .any(|o| same_name(&o.def.name, &fk.ref_table) && !done.contains(&o.id))
                });
                if ready {
                    done.push(e.id);
                }
                !ready
            });
            if left.len() == before {
                // A cycle: the rest in catalog order.
                done.extend(left.iter().map(|e| e.id));
                break;
            }
        }
        done
    }
}

fn same_name(a: &TableName, b: &TableName) -> bool {
    a.name == b.name && (a.schema == b.schema || a.schema.is_none() || b.schema.is_none())
}

/// The target's table for the archive's `name`: the same name, or one
/// that differs only by the schema an engine without schemas has none of.
fn find_table<'a>(tables: &'a [TableDef], name: &TableName) -> Option<&'a TableDef> {
    let default =
        |s: &Option<String>| s.is_none() || matches!(s.as_deref(), Some("public" | "dbo" | "main"));
    tables.iter().find(|t| t.name == *name).or_else(|| {
        tables
            .iter()
            .find(|t| t.name.name == name.name && default(&t.name.schema) && default(&name.schema))
    })
}
