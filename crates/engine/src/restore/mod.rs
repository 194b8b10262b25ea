//! Restoring an archive: open and check it, plan, then run the plan.
//!
//! [`RestoreJob::open`] does everything that needs no target: it opens the
//! archive, refuses an incomplete one, a table without totals, or one whose
//! catalog holds SQL that does more than create its own objects (module
//! `trust`), selects the tables, and builds the [`Plan`]. So `--dry-run` prints the plan without
//! touching (or even creating) the target, and a bad archive is refused
//! before the target is opened. (`--dry-run --clean` also lists what would
//! be dropped, [`RestoreJob::clean_plan`], from a target opened only to
//! look.)
//!
//! [`RestoreJob::run`] then, on the target:
//! 0. refuses archive tables that would be one table in the target (module
//!    `names`: two schemas into SQLite), before anything is written;
//! 1. looks for the journal of an unfinished restore: without `resume` it is
//!    refused (or, with `clean`, removed); with `resume` it must come from the
//!    same archive and mode, and its steps and chunks are not repeated,
//!    except for tables the target emptied since (an unlogged table after a
//!    server crash), which are loaded again whole;
//! 2. on a fresh start, refuses existing tables (naming all of them) unless
//!    `clean` drops them, or for `DataOnly` checks that every table can take
//!    the archive's rows, all before anything is written; `clean` drops
//!    exactly what [`RestoreJob::clean_plan`] lists (the archive's own
//!    objects and what the target records as depending on them), and the
//!    summary lists each drop;
//! 3. opens worker sessions ([`Target::open_worker`], up to `jobs` sessions
//!    in all) and runs the plan on them (module `execute`);
//! 4. calls the target's final step and removes the journal, so a finished
//!    restore leaves none.
//!
//! **Memory.** Each session keeps at most `in_flight` chunks decoded or
//! being decoded, with `in_flight = max(1, jobs / sessions)` (rounded up),
//! plus the one chunk its target is writing: the next chunk decodes while
//! the target loads this one. At most about `jobs + sessions` chunks in
//! all, and `sessions ≤ jobs`, so about `2 × jobs × chunk size` (times the
//! in-memory overhead of decoded values) whatever the table sizes. (Twice
//! that window cost 226 MiB against 179 MiB of peak RSS for a `--jobs 2`
//! PostgreSQL restore at scale 3, at the same speed: BENCHMARKS.md,
//! "Memory (issue 16)".)
//!
//! # Modules
//!
//! One concern each, and dependencies pointing one way, from this facade
//! down, never back up:
//!
//! - this file: [`RestoreJob`], which opens and checks the archive, decides
//!   what a run is (journal, preflight, sessions) and builds its summary;
//! - `plan`: building the [`Plan`]: its steps, their dependencies, sizes and
//!   ranks, with `step` (what a step is, its `Phase` and `Rank`), `ranges` (a
//!   table's chunks split for several sessions) and `refs` (the foreign-key
//!   graph between tables) beneath it;
//! - `execute`: runs a plan on the target's sessions, from an explicit
//!   context this facade hands it;
//! - `schedule`: the one ready heap that both the plan's sequential order
//!   and the executor take steps from;
//! - `journal`: the journal keys, and which are done;
//! - `retry`: the transient-error backoff, for plan steps and for the work
//!   around them;
//! - `selection` and `options`: the plain data the others share (the
//!   selected tables with their totals; [`RestoreMode`] and
//!   [`RestoreOptions`]), at the bottom so that nothing below this file has
//!   to reach back into it.

mod execute;
mod journal;
mod names;
mod options;
pub mod plan;
mod ranges;
mod refs;
mod retry;
mod schedule;
mod selection;
mod step;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use bru_core::{Dropped, Engine, ObjectDef, ObjectOutcome, TableDef, TableName, Target};
use bru_format::{ArchiveMeta, ArchiveReader};

use crate::casts::BoundCasts;
use crate::readback::require_totals;
use crate::summary::object_name;
use crate::{pipeline, Error, Progress, Result, Summary, TableSummary};
use execute::{execute, Context};
use journal::{archive_key, mode_key, mode_name, Journal, ARCHIVE_PREFIX, MODE_PREFIX};
pub use options::{RestoreMode, RestoreOptions};
use plan::{Plan, PlanTable};
use retry::retry_outside;
use selection::JobTable;

/// An archive opened and checked for restoring, with its plan.
pub struct RestoreJob {
    archive: PathBuf,
    meta: ArchiveMeta,
    tables: Vec<JobTable>,
    objects: Vec<ObjectDef>,
    options: RestoreOptions,
    jobs: usize,
    plan: Plan,
    /// Objects the filter left out with a table they depend on, listed as
    /// skipped.
    filtered: Vec<String>,
    /// What was translated from the archive's engine into the target's
    /// (module `translate`), one line each.
    translated: Vec<String>,
    /// The `--cast` rules bound to the tables.
    casts: BoundCasts,
    wrote: AtomicBool,
    /// Set by [`RestoreJob::run`] when the target keeps a restore journal.
    resumable: AtomicBool,
}

impl RestoreJob {
    /// Opens `archive`, checks it is complete and that every selected table
    /// has its totals, and builds the plan for `options.jobs` sessions.
    ///
    /// Fails if the archive is missing, not a bru archive, of a newer format,
    /// damaged at the metadata level or incomplete, or if a catalog entry's
    /// SQL does more than create the object it declares (checked by the
    /// engine among `engines` that wrote it, see module `trust`).
    pub fn open(
        archive: &Path,
        options: &RestoreOptions,
        engines: &[&dyn Engine],
    ) -> Result<RestoreJob> {
        let reader = ArchiveReader::open(archive)?;
        reader.require_complete()?;
        let whole = reader.catalog()?;
        crate::trust::check_catalog(&whole, engines)?;
        let selection = options.filter.apply(&whole)?;
        let mut catalog = selection.catalog;
        let tables = reader
            .tables()?
            .into_iter()
            .filter(|e| options.filter.matches(&e.def.name))
            .map(|mut entry| {
                // The definition as the filter left it (without foreign keys
                // to tables it left out).
                if let Some(i) = catalog.tables.iter().position(|t| t.name == entry.def.name) {
                    entry.def = catalog.tables.swap_remove(i);
                }
                Ok(JobTable {
                    totals: require_totals(archive, &entry)?,
                    name: entry.def.name.to_string(),
                    entry,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut filtered = selection.skipped;
        filtered.extend(catalog.objects.iter().filter_map(|o| options.left_out(o)));
        let mut objects: Vec<ObjectDef> = catalog
            .objects
            .into_iter()
            .filter(|o| options.keeps(o))
            .collect();
        let mut tables = tables;
        // Rules name the archive's tables, before any --schema-prefix.
        let casts = options.casts.bind(
            &mut tables
                .iter_mut()
                .map(|t| &mut t.entry.def)
                .collect::<Vec<_>>(),
        )?;
        if options.schema_prefix {
            let skipped;
            (objects, skipped) = names::prefix_job_tables(&mut tables, objects);
            filtered.extend(skipped);
        }
        let mut translated = Vec::new();
        if let (Some(engine), false) = (
            &options.target_engine,
            options.mode == RestoreMode::DataOnly,
        ) {
            let done = crate::translate::translate(
                engine,
                &reader.meta().source.engine,
                &mut tables
                    .iter_mut()
                    .map(|t| &mut t.entry.def)
                    .collect::<Vec<_>>(),
                &mut objects,
            );
            translated = done.translated;
            filtered.extend(done.skipped);
        }
        let jobs = pipeline::pool_size(options.jobs);
        let mut job = RestoreJob {
            archive: archive.to_owned(),
            meta: reader.meta().clone(),
            tables,
            objects,
            options: options.clone(),
            jobs,
            plan: Plan {
                steps: Vec::new(),
                sessions: jobs,
            },
            filtered,
            translated,
            casts,
            wrote: AtomicBool::new(false),
            resumable: AtomicBool::new(false),
        };
        job.plan = job.build_plan(jobs);
        Ok(job)
    }

    /// The plan for `jobs` sessions (what `--dry-run` prints). A target that
    /// offers fewer sessions gets the same plan with fewer ranges.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Each `--cast` rule with the columns it applies to (what `--dry-run`
    /// shows).
    pub fn casts(&self) -> Vec<crate::CastPlan> {
        self.casts.plan(self.tables.iter().map(|t| &t.entry.def))
    }

    /// The objects the filter leaves out because a table or view they
    /// depend on is left out, each with the reason (also in the summary's
    /// `skipped`).
    pub fn left_out(&self) -> &[String] {
        &self.filtered
    }

    /// What was translated from the archive's engine into the target's SQL
    /// (views, CHECKs, defaults, index expressions), one line each with the
    /// translated text; what could not be is in [`RestoreJob::left_out`]
    /// with the construct that stopped it.
    pub fn translated(&self) -> &[String] {
        &self.translated
    }

    /// The archive's metadata.
    pub fn meta(&self) -> &ArchiveMeta {
        &self.meta
    }

    /// Whether [`RestoreJob::run`] got as far as changing the target. A run
    /// that failed before leaves the target as it found it.
    pub fn wrote_to_target(&self) -> bool {
        self.wrote.load(Ordering::Relaxed)
    }

    /// Whether a failed [`RestoreJob::run`] left a target that `--resume`
    /// continues: it changed the target, which keeps a restore journal.
    pub fn can_resume(&self) -> bool {
        self.wrote_to_target() && self.resumable.load(Ordering::Relaxed)
    }

    fn build_plan(&self, sessions: usize) -> Plan {
        let tables: Vec<PlanTable> = self.tables.iter().map(JobTable::plan_table).collect();
        Plan::build(&tables, &self.objects, self.options.mode, sessions)
    }

    /// Restores into `target` (see the module docs) and returns the
    /// per-table summary and the objects created or skipped.
    ///
    /// Fails before writing anything if the target holds an unfinished
    /// restore and neither `resume` nor `clean` is set, if that restore came
    /// from another archive or mode, if tables already exist (without
    /// `clean`), or, in `DataOnly` mode, if a table cannot take the rows.
    /// Fails during the run, naming the table (and chunk), if a chunk is
    /// damaged, the rows read back do not match the recorded count and
    /// checksum, or the target fails other than transiently; what was
    /// committed stays, and `resume` continues from there.
    pub fn run(&self, target: &mut dyn Target, progress: &dyn Progress) -> Result<Summary> {
        let started = Instant::now();
        let options = &self.options;
        let mode = options.mode;
        if let Some(planned) = &options.target_engine {
            if planned != target.engine() {
                return Err(Error::TargetEngine {
                    planned: planned.clone(),
                    target: target.engine(),
                });
            }
        }
        self.refuse_clashes(target)?;
        let resumable = target.journal().is_some();
        self.resumable.store(resumable, Ordering::Relaxed);
        if options.resume && !resumable {
            return Err(Error::CannotResume {
                engine: target.engine(),
            });
        }
        let earlier = if resumable {
            retry_outside(progress, target, "reading the restore journal", |t| {
                Ok(journal::stored_keys(t)?)
            })?
        } else {
            None
        };
        let journal = match earlier {
            Some(keys) if options.resume => {
                let journal = Journal::new(true, keys);
                self.check_journal(&journal)?;
                progress.message("resuming the unfinished restore");
                journal
            }
            Some(_) if !options.clean => return Err(Error::UnfinishedRestore),
            _ => Journal::new(resumable, Vec::new()),
        };
        let resuming = journal.find_prefixed(ARCHIVE_PREFIX).is_some();
        if !resuming && options.resume && self.finished_earlier(target)? {
            return Ok(Summary {
                nothing_to_resume: true,
                seconds: started.elapsed().as_secs_f64(),
                ..Summary::default()
            });
        }
        // What --clean drops is listed before anything is written, so that a
        // target it refuses to clean is left as it was found.
        let mut clean_plan = Vec::new();
        if !resuming {
            self.preflight(target, progress)?;
            if options.clean {
                clean_plan = retry_outside(progress, target, "listing what --clean drops", |t| {
                    self.clean_plan(t)
                })?;
            }
            if options.resume {
                progress
                    .message("no unfinished restore in the target: starting from the beginning");
            }
        }
        self.wrote.store(true, Ordering::Relaxed);
        if resuming {
            self.reload_emptied(target, &journal, progress)?;
        }
        let mut dropped = Vec::new();
        if !resuming {
            if options.clean {
                retry_outside(progress, target, "removing the restore journal", |t| {
                    Ok(journal::clear(t)?)
                })?;
                dropped = self.drop_existing(target, progress, clean_plan)?;
            }
            if resumable {
                for key in [
                    archive_key(&self.meta),
                    mode_key(mode, options.schema_prefix),
                ] {
                    retry_outside(progress, target, "writing the restore journal", |t| {
                        Ok(journal::mark(t, &key)?)
                    })?;
                    journal.insert(key);
                }
            }
        }

        let workers = pipeline::extra_sessions(self.jobs, || Ok(target.open_worker()?))?;
        let sessions = workers.len() + 1;
        let replanned;
        let plan = if sessions == self.plan.sessions {
            &self.plan
        } else {
            replanned = self.build_plan(sessions);
            &replanned
        };
        let pool = pipeline::pool(self.jobs)?;
        let in_flight = self.jobs.div_ceil(sessions).max(1);
        // Saturating: a crafted archive's totals may be anything up to 2^63.
        let rows = (self.tables.iter()).fold(0u64, |n, t| n.saturating_add(t.totals.rows));
        let bytes = (self.tables.iter()).fold(0u64, |n, t| n.saturating_add(t.totals.raw_bytes));
        progress.totals(self.tables.len(), Some(rows), Some(bytes));
        let cx = Context {
            archive: &self.archive,
            tables: &self.tables,
            objects: &self.objects,
            plan,
            pool: &pool,
            in_flight,
            progress,
            journal: &journal,
            resuming,
            casts: &self.casts,
        };
        let outcome = execute(&cx, target, workers)?;

        retry_outside(progress, target, "finishing the restore", |t| {
            Ok(t.finish()?)
        })?;
        let mut summary = Summary {
            dropped: dropped.iter().map(ToString::to_string).collect(),
            skipped: self.filtered.clone(),
            translated: self.translated.clone(),
            casts: self.casts.counts(),
            ..Summary::default()
        };
        for (t, state) in self.tables.iter().zip(&outcome.tables) {
            summary.tables.push(TableSummary {
                table: t.name.clone(),
                rows: state.read.rows,
                rows_loaded: state.loaded,
                rows_resumed: state.resumed,
                raw_bytes: state.read.raw_bytes,
                stored_bytes: state.read.stored_bytes,
                errors: state.errors,
                seconds: state.seconds,
                ..TableSummary::default()
            });
        }
        for (object, outcome) in self.objects.iter().zip(outcome.objects) {
            let what = if self.options.mode == RestoreMode::DataOnly {
                format!("{} (its value)", object_name(object))
            } else {
                object_name(object)
            };
            match outcome {
                Some(ObjectOutcome::Created) => summary.objects.push(what),
                Some(ObjectOutcome::Skipped(reason)) => {
                    summary.skipped.push(format!("{what}: {reason}"))
                }
                None => {}
            }
        }
        // What the target itself left out (a CHECK in another engine's SQL, an
        // index it cannot express...), on every session, is reported with the
        // skipped objects.
        summary.skipped.extend(outcome.worker_skipped);
        summary.skipped.extend(target.take_skipped());
        if resumable {
            retry_outside(progress, target, "removing the restore journal", |t| {
                Ok(journal::clear(t)?)
            })?;
        }
        summary.seconds = started.elapsed().as_secs_f64();
        Ok(summary)
    }

    /// On a resumed restore: the tables with journaled rows that the
    /// target finds emptied since ([`bru_core::RestoreJournal::emptied`])
    /// lose their chunk keys, in the target and in `journal`, so that this
    /// run loads them again from their first chunk; their indexes and
    /// constraints, emptied with them, stay and take the rows again. Each
    /// is named in a progress message.
    fn reload_emptied(
        &self,
        target: &mut dyn Target,
        journal: &Journal,
        progress: &dyn Progress,
    ) -> Result<()> {
        let with_rows: Vec<&JobTable> = self
            .tables
            .iter()
            .filter(|t| t.totals.rows > 0 && !journal.row_keys(&t.name).is_empty())
            .collect();
        if with_rows.is_empty() {
            return Ok(());
        }
        let names: Vec<TableName> = with_rows.iter().map(|t| t.entry.def.name.clone()).collect();
        let emptied = retry_outside(progress, target, "reading the restore journal", |t| {
            Ok(journal::emptied(t, &names)?)
        })?;
        for table in with_rows
            .iter()
            .filter(|t| emptied.contains(&t.entry.def.name))
        {
            let keys = journal.row_keys(&table.name);
            retry_outside(progress, target, "writing the restore journal", |t| {
                Ok(journal::forget(t, &keys)?)
            })?;
            journal.remove(&keys);
            progress.message(&format!(
                "table {} was emptied after its rows were loaded (an unlogged table \
                 after a server crash): loading it again",
                table.name
            ));
        }
        Ok(())
    }

    /// A journal found when resuming must come from this archive and mode,
    /// and this restore must select every table it records work on.
    fn check_journal(&self, journal: &Journal) -> Result<()> {
        let expected = archive_key(&self.meta);
        if let Some(found) = journal.find_prefixed(ARCHIVE_PREFIX) {
            if found != expected {
                return Err(Error::OtherArchive {
                    archive: self.archive.clone(),
                    recorded: found[ARCHIVE_PREFIX.len()..].to_owned(),
                    expected: expected[ARCHIVE_PREFIX.len()..].to_owned(),
                });
            }
        }
        let mode = mode_key(self.options.mode, self.options.schema_prefix);
        if let Some(found) = journal.find_prefixed(MODE_PREFIX) {
            if found != mode {
                return Err(Error::OtherMode {
                    recorded: found[MODE_PREFIX.len()..].to_owned(),
                    requested: mode_name(self.options.mode, self.options.schema_prefix),
                });
            }
        }
        // A table the unfinished restore started and this one leaves out
        // (another --include/--exclude) would stay half loaded, and the
        // journal, cleared at the end, would no longer say so.
        let left_out: Vec<String> = journal
            .tables()
            .into_iter()
            .filter(|t| !self.tables.iter().any(|j| &j.name == t))
            .collect();
        if !left_out.is_empty() {
            return Err(Error::OtherSelection {
                tables: left_out.join(", "),
            });
        }
        Ok(())
    }

    /// Tables that would be one table in `target` (two schemas into
    /// SQLite's one namespace) are refused before anything is written, and
    /// so is `--schema-prefix` into a target that keeps schemas.
    fn refuse_clashes(&self, target: &dyn Target) -> Result<()> {
        let probe = TableName::new(Some("s"), "t");
        if self.options.schema_prefix && target.name_here(&probe).schema.is_some() {
            return Err(Error::SchemaPrefixUnneeded {
                engine: target.engine(),
            });
        }
        let defs: Vec<&TableDef> = self.tables.iter().map(|t| &t.entry.def).collect();
        let clashes = names::clashes(target, &defs);
        if let Some(clash) = clashes.first() {
            return Err(Error::NameClash {
                engine: target.engine(),
                here: clash.here.to_string(),
                items: clash.items.clone(),
                exclude: clash.table.to_string(),
                more: clashes.len() - 1,
            });
        }
        Ok(())
    }

    /// `--resume` without a journal: whether a restore finished earlier. A
    /// finished restore removes its journal, so what tells it from one that
    /// never ran is that every table of the archive is there (in `DataOnly`
    /// mode the tables are there before the restore too, so it cannot be
    /// told, and the restore starts from the beginning as without
    /// `--resume`).
    fn finished_earlier(&self, target: &mut dyn Target) -> Result<bool> {
        if self.options.mode == RestoreMode::DataOnly || self.tables.is_empty() {
            return Ok(false);
        }
        let names = self.names();
        Ok(target.existing_tables(&names)?.len() == names.len())
    }

    /// The checks of a fresh start, before anything is written: existing
    /// tables are refused unless `clean`; in `DataOnly` mode, every table
    /// must take the archive's rows.
    fn preflight(&self, target: &mut dyn Target, progress: &dyn Progress) -> Result<()> {
        if self.options.mode == RestoreMode::DataOnly {
            progress.message("checking the existing tables");
            for t in &self.tables {
                target
                    .check_table(&t.entry.def)
                    .map_err(|e| Error::from(e).in_table("checking", &t.name))?;
            }
            return Ok(());
        }
        let existing = target.existing_tables(&self.names())?;
        if !existing.is_empty() && !self.options.clean {
            let listed = existing.iter().map(ToString::to_string).collect();
            return Err(bru_core::Error::TablesExist(listed).into());
        }
        Ok(())
    }

    /// What `clean` drops in `target` ([`Target::clean_plan`]) and why,
    /// without dropping anything: the archive's selected tables and the
    /// objects the target would create (its own engine's, carried) that
    /// exist there, and what the target records as depending on them.
    /// Nothing in `DataOnly` mode, which drops nothing. `--dry-run` lists it
    /// from a target opened only to look ([`bru_core::Engine::inspect_target`]).
    pub fn clean_plan(&self, target: &mut dyn Target) -> Result<Vec<Dropped>> {
        if self.options.mode == RestoreMode::DataOnly {
            return Ok(Vec::new());
        }
        let (tables, objects) = self.clean_scope(target.engine());
        Ok(target.clean_plan(&tables, &objects)?)
    }

    /// The tables and objects [`RestoreJob::clean_plan`] asks about.
    fn clean_scope(&self, engine: &str) -> (Vec<TableDef>, Vec<ObjectDef>) {
        let tables = self.tables.iter().map(|t| t.entry.def.clone()).collect();
        let objects = self
            .objects
            .iter()
            .filter(|o| o.engine == engine && o.not_carried.is_none())
            .cloned()
            .collect();
        (tables, objects)
    }

    /// `clean`: drops exactly what [`RestoreJob::clean_plan`] listed, `plan`
    /// (the target refuses if that changed in between) and returns the list.
    fn drop_existing(
        &self,
        target: &mut dyn Target,
        progress: &dyn Progress,
        plan: Vec<Dropped>,
    ) -> Result<Vec<Dropped>> {
        if !plan.is_empty() {
            // Named here too, on one line, so that a restore that fails
            // later has still said what it dropped.
            let listed: Vec<String> = plan.iter().map(ToString::to_string).collect();
            progress.message(&format!(
                "dropping {} object(s) (--clean): {}",
                plan.len(),
                listed.join(", ")
            ));
            let (tables, objects) = self.clean_scope(target.engine());
            retry_outside(progress, target, "dropping for --clean", |t| {
                Ok(t.clean(&tables, &objects, &plan)?)
            })?;
        }
        Ok(plan)
    }

    fn names(&self) -> Vec<TableName> {
        self.tables
            .iter()
            .map(|t| t.entry.def.name.clone())
            .collect()
    }
}

/// Restores the tables of `archive` selected by `options.filter`, and their
/// objects, into `target`: [`RestoreJob::open`] then [`RestoreJob::run`].
pub fn restore(
    archive: &Path,
    target: &mut dyn Target,
    options: &RestoreOptions,
    engines: &[&dyn Engine],
    progress: &dyn Progress,
) -> Result<Summary> {
    let options = RestoreOptions {
        target_engine: Some(target.engine().to_owned()),
        ..options.clone()
    };
    RestoreJob::open(archive, &options, engines)?.run(target, progress)
}
