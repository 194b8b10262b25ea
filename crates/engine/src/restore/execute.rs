//! The plan executor: runs a [`Plan`] on one or more target sessions.
//!
//! Each session (the target the caller opened, plus any workers from
//! [`Target::open_worker`]) runs on its own thread and repeatedly takes the
//! ready step of lowest rank from a shared board, runs it, and marks it done,
//! which makes the steps waiting only for it ready. With a single session the
//! steps run in [`Plan::sequential_order`].
//!
//! A load step reads its range of chunks through the session's own
//! [`ArchiveReader`] (one SQLite read connection each) and decodes them on
//! the shared rayon pool, at most `in_flight` at a time per session, while
//! the session's target writes the previous ones. When the target keeps a
//! journal, each chunk's rows are committed with the chunk's journal key
//! ([`bru_core::TableLoader::commit_chunk`]); chunks the journal already holds
//! are read and checked but not loaded again.
//!
//! A step that fails with a transient error (its engine gave it
//! [`bru_core::ErrorKind::Transient`]) is retried with backoff (module `retry`), each
//! retry reported through [`Progress::warning`]; a load step only on a
//! journaling target, whose committed chunks are then skipped. Any other
//! failure stops the run: the other sessions stop at their next chunk or
//! step, and the first error is returned.
//!
//! The executor is handed everything it reads in a [`Context`]: the plan,
//! the selected tables and objects the plan's positions refer to, the
//! archive, the pool, the journal. It does not know the `RestoreJob` facade
//! that builds that context, so it can be read (and changed) on its own,
//! and the facade stays the only module that decides what a run is.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use bru_core::{ObjectDef, ObjectOutcome, TableDef, Target};
use bru_format::ArchiveReader;
use rayon::ThreadPool;

use super::journal::{self, chunk_key, loaded_key, step_key, Journal, Origin};
use super::plan::{Action, Plan, Rank};
use super::retry::with_retries;
use super::schedule::Schedule;
use super::selection::JobTable;
use crate::casts::BoundCasts;
use crate::readback::{read_chunks, ReadBack};
use crate::{Error, Progress, Result};

/// Everything a run reads, shared by all its sessions.
pub(crate) struct Context<'a> {
    /// The archive, which each session opens its own reader on.
    pub archive: &'a Path,
    /// The selected tables and objects; the plan's actions name them by
    /// position in these lists.
    pub tables: &'a [JobTable],
    pub objects: &'a [ObjectDef],
    pub plan: &'a Plan,
    pub pool: &'a ThreadPool,
    /// Chunks one session may have decoding or waiting at once.
    pub in_flight: usize,
    pub progress: &'a dyn Progress,
    pub journal: &'a Journal,
    /// Resuming an interrupted restore (tables may already exist).
    pub resuming: bool,
    /// The `--cast` conversions of each table's values, and their counts.
    pub casts: &'a BoundCasts,
}

/// What happened to one table during the run.
#[derive(Debug, Default, Clone)]
pub(crate) struct TableState {
    started: Option<Instant>,
    /// Everything read back so far, over the finished ranges.
    pub read: ReadBack,
    /// Rows loaded by this run.
    pub loaded: u64,
    /// Rows the interrupted restore had already loaded.
    pub resumed: u64,
    /// Transient errors met and retried.
    pub errors: u64,
    pub seconds: f64,
    /// Its rows were all loaded (now or before) and checked.
    pub complete: bool,
}

/// The result of a run.
pub(crate) struct Outcome {
    pub tables: Vec<TableState>,
    /// Per object (by position in [`Context::objects`]): created or the
    /// reason it was skipped; `None` when the plan had no step for it.
    pub objects: Vec<Option<ObjectOutcome>>,
    /// What the worker sessions left out ([`Target::take_skipped`]), drained
    /// from each before it is dropped; the main session's are drained by
    /// the caller.
    pub worker_skipped: Vec<String>,
}

/// Runs `cx.plan` on `main` (on the calling thread) and on `workers` (one
/// thread each). Returns what happened per table and object, or the first
/// error of any step.
pub(crate) fn execute(
    cx: &Context,
    main: &mut dyn Target,
    workers: Vec<Box<dyn Target + Send>>,
) -> Result<Outcome> {
    let board = Board::new(cx);
    let worker_skipped = std::thread::scope(|scope| {
        let handles: Vec<_> = workers
            .into_iter()
            .map(|mut worker| {
                let board = &board;
                scope.spawn(move || {
                    session(cx, board, worker.as_mut());
                    worker.take_skipped()
                })
            })
            .collect();
        session(cx, &board, main);
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| Error::WorkerLost))
            .collect::<Result<Vec<_>>>()
    })?;
    let state = board.state.into_inner().map_err(|_| Error::WorkerLost)?;
    if let Some(e) = state.failed {
        return Err(e);
    }
    if !state.schedule.finished() {
        return Err(Error::WorkerLost);
    }
    Ok(Outcome {
        tables: board.tables.into_inner().map_err(|_| Error::WorkerLost)?,
        objects: board.objects.into_inner().map_err(|_| Error::WorkerLost)?,
        worker_skipped: worker_skipped.concat(),
    })
}

struct State {
    /// The steps ready and waiting; one heap for all sessions.
    schedule: Schedule<Rank>,
    /// Steps taken and not yet reported done.
    running: usize,
    failed: Option<Error>,
}

/// The shared scheduling state and results.
struct Board {
    state: Mutex<State>,
    wake: Condvar,
    /// Set on the first failure, so that the other sessions stop early.
    stop: AtomicBool,
    tables: Mutex<Vec<TableState>>,
    objects: Mutex<Vec<Option<ObjectOutcome>>>,
}

impl Board {
    fn new(cx: &Context) -> Board {
        Board {
            state: Mutex::new(State {
                schedule: cx.plan.schedule(),
                running: 0,
                failed: None,
            }),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
            tables: Mutex::new(vec![TableState::default(); cx.tables.len()]),
            objects: Mutex::new(vec![None; cx.objects.len()]),
        }
    }

    fn lock(&self) -> Option<MutexGuard<'_, State>> {
        // A poisoned lock means a session panicked; the scope re-raises the
        // panic, so the others just stop.
        self.state.lock().ok()
    }

    /// The next step to run, waiting until one is ready; `None` when all are
    /// done or the run failed.
    fn next(&self) -> Option<usize> {
        let mut state = self.lock()?;
        loop {
            if state.failed.is_some() || state.schedule.finished() {
                return None;
            }
            if let Some(id) = state.schedule.take() {
                state.running += 1;
                return Some(id);
            }
            if state.running == 0 {
                // Nothing ready, nothing running, steps left: a cycle in the
                // plan, which the planner never builds.
                state.failed = Some(Error::WorkerLost);
                self.wake.notify_all();
                return None;
            }
            state = self.wake.wait(state).ok()?;
        }
    }

    fn done(&self, id: usize, result: Result<()>) {
        let Some(mut state) = self.lock() else { return };
        state.running -= 1;
        match result {
            Ok(()) => state.schedule.done(id),
            Err(e) => {
                self.stop.store(true, Ordering::Relaxed);
                if state.failed.is_none() && !matches!(e, Error::Stopped) {
                    state.failed = Some(e);
                }
            }
        }
        self.wake.notify_all();
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn table<T>(&self, t: usize, f: impl FnOnce(&mut TableState) -> T) -> Option<T> {
        let mut tables = self.tables.lock().ok()?;
        tables.get_mut(t).map(f)
    }
}

/// One session's loop: take a step, run it, report it.
fn session(cx: &Context, board: &Board, target: &mut dyn Target) {
    let mut reader = None;
    while let Some(id) = board.next() {
        let result = if board.stopping() {
            Err(Error::Stopped)
        } else {
            run_step(cx, board, target, &mut reader, id)
        };
        board.done(id, result);
    }
}

/// Runs one step unless the journal says it is done, then journals it.
fn run_step(
    cx: &Context,
    board: &Board,
    target: &mut dyn Target,
    reader: &mut Option<ArchiveReader>,
    id: usize,
) -> Result<()> {
    let step = &cx.plan.steps[id];
    let key = step_key(cx.tables, cx.objects, &step.action);
    let journaled = key.as_deref().is_some_and(|k| cx.journal.contains(k));
    let table_of = |t: usize| cx.tables[t].name.as_str();
    match step.action {
        Action::CreateObject { object } | Action::RestoreObjectData { object } => {
            let o = &cx.objects[object];
            let data_only = matches!(step.action, Action::RestoreObjectData { .. });
            let outcome = if let Some(reason) = &o.not_carried {
                // The source listed it but could not carry it: its DDL is
                // only a comment, which no target is asked to run.
                ObjectOutcome::Skipped(format!("not carried by bru yet: {reason}"))
            } else if journaled {
                ObjectOutcome::Created
            } else {
                retry(cx, board, target, &step.label, None, |t| {
                    Ok(if data_only {
                        t.restore_object_data(o)?
                    } else {
                        t.create_object(o)?
                    })
                })?
            };
            if let Ok(mut objects) = board.objects.lock() {
                objects[object] = Some(outcome);
            }
        }
        Action::CreateTable { table } => {
            if !journaled {
                let def = &cx.tables[table].entry.def;
                retry(cx, board, target, &step.label, Some(table), |t| {
                    // Created by the interrupted restore just before it
                    // could journal it: it is there and empty.
                    if cx.resuming
                        && !t
                            .existing_tables(std::slice::from_ref(&def.name))?
                            .is_empty()
                    {
                        return Ok(());
                    }
                    Ok(t.create_table(def)?)
                })
                .map_err(|e| e.in_table("creating", table_of(table)))?;
            }
        }
        Action::LoadChunks { table, first, end } => {
            if cx.journal.contains(&loaded_key(table_of(table))) {
                return Ok(());
            }
            board.table(table, |s| {
                if s.started.is_none() {
                    s.started = Some(Instant::now());
                    let totals = &cx.tables[table].totals;
                    cx.progress.table_started(
                        table_of(table),
                        Some(totals.rows),
                        Some(totals.raw_bytes),
                    );
                }
            });
            if reader.is_none() {
                *reader = Some(ArchiveReader::open(cx.archive)?);
            }
            let Some(reader) = reader.as_ref() else {
                return Err(Error::WorkerLost);
            };
            // Retrying a load is safe only when committed chunks are known.
            let retriable = cx.journal.enabled;
            let range = if retriable {
                retry(cx, board, target, &step.label, Some(table), |t| {
                    load_range(cx, board, t, reader, table, first, end)
                })
            } else {
                load_range(cx, board, target, reader, table, first, end)
            }
            .map_err(|e| e.in_table("restoring", table_of(table)))?;
            board.table(table, |s| {
                s.read.merge(&range.read);
                s.loaded += range.loaded;
                s.resumed += range.resumed;
            });
        }
        Action::CompleteData { table } => {
            let t = &cx.tables[table];
            if journaled {
                board.table(table, |s| {
                    s.resumed = t.totals.rows;
                    s.read = ReadBack {
                        rows: t.totals.rows,
                        chunks: t.totals.chunks,
                        raw_bytes: t.totals.raw_bytes,
                        stored_bytes: t.totals.stored_bytes,
                        ..ReadBack::default()
                    };
                    s.complete = true;
                });
            } else {
                complete_data(cx, board, target, table, &step.label)
                    .map_err(|e| e.in_table("restoring", table_of(table)))?;
            }
        }
        Action::BuildIndex { table, part } => {
            if !journaled {
                cx.progress.message(&step.label);
                finish_step(cx, board, target, &step.label, table, |t, def| {
                    t.build_index(def, part)
                })?;
            }
        }
        Action::FinishTable { table } => {
            if !journaled {
                cx.progress.message(&step.label);
                finish_step(cx, board, target, &step.label, table, |t, def| {
                    t.finish_table(def)
                })?;
            }
        }
        Action::AddForeignKeys { table } => {
            if !journaled {
                finish_step(cx, board, target, &step.label, table, |t, def| {
                    t.add_foreign_keys(def)
                })?;
            }
        }
    }
    if let (Some(key), false, true) = (key, journaled, cx.journal.enabled) {
        retry(
            cx,
            board,
            target,
            "writing the restore journal",
            None,
            |t| Ok(journal::mark(t, &key)?),
        )?;
        cx.journal.insert(key);
    }
    Ok(())
}

/// A step that changes table `t`'s schema once its rows are in (an index,
/// its constraints, its foreign keys): retried like any step, and a failure
/// named as one while finishing the table.
fn finish_step(
    cx: &Context,
    board: &Board,
    target: &mut dyn Target,
    label: &str,
    t: usize,
    mut body: impl FnMut(&mut dyn Target, &TableDef) -> bru_core::Result<()>,
) -> Result<()> {
    let table = &cx.tables[t];
    retry(cx, board, target, label, Some(t), |target| {
        Ok(body(target, &table.entry.def)?)
    })
    .map_err(|e| e.in_table("finishing", &table.name))
}

/// What one range of a table gave.
#[derive(Default)]
struct RangeResult {
    read: ReadBack,
    loaded: u64,
    resumed: u64,
}

/// Loads chunks `first..end` of table `t` (see the module docs).
fn load_range(
    cx: &Context,
    board: &Board,
    target: &mut dyn Target,
    reader: &ArchiveReader,
    t: usize,
    first: u64,
    end: u64,
) -> Result<RangeResult> {
    let table = &cx.tables[t];
    let name = table.name.as_str();
    let journal = cx.journal;
    let mut result = RangeResult::default();
    let mut given = 0u64;
    let mut uncommitted = Vec::new();
    let mut loader = target.load(&table.entry.def)?;
    let read = read_chunks(
        reader,
        cx.archive,
        cx.pool,
        cx.in_flight,
        &table.entry,
        first..end,
        |chunk| {
            if board.stopping() {
                return Err(Error::Stopped);
            }
            let rows = chunk.batch.row_count() as u64;
            let key = journal.enabled.then(|| chunk_key(name, chunk.seq));
            match key.as_deref().and_then(|k| journal.origin(k)) {
                Some(Origin::Earlier) => {
                    result.resumed += rows;
                    cx.progress.advance(name, rows, chunk.raw_len);
                }
                // Committed by an earlier attempt of this step.
                Some(Origin::ThisRun) => result.loaded += rows,
                None => {
                    let converted = cx.casts.convert(t, &chunk.batch);
                    let batch = converted.batch.as_ref().unwrap_or(&chunk.batch);
                    // A refused value is named with the rule that would
                    // accept it, if one would.
                    let hint = |e| cx.casts.hint(t, &table.entry.def, batch, e);
                    loader.write_batch(batch).map_err(hint)?;
                    if let Some(key) = key {
                        loader.commit_chunk(&key).map_err(hint)?;
                        journal.insert(key);
                    }
                    if journal.enabled {
                        cx.casts.commit(&converted.counts);
                    } else {
                        uncommitted.extend(converted.counts);
                    }
                    given += rows;
                    cx.progress.advance(name, rows, chunk.raw_len);
                }
            }
            Ok(())
        },
    )?;
    let loaded = loader.finish()?;
    // Without a journal the rows commit when the loader finishes.
    cx.casts.commit(&uncommitted);
    if loaded != given {
        return Err(Error::LoadedRows {
            table: name.to_owned(),
            given,
            loaded,
        });
    }
    result.loaded += loaded;
    result.read = read;
    Ok(result)
}

/// Checks the table's rows read back over all its ranges against the
/// archive's totals, then sets its identity counters.
fn complete_data(
    cx: &Context,
    board: &Board,
    target: &mut dyn Target,
    t: usize,
    label: &str,
) -> Result<()> {
    let table = &cx.tables[t];
    let read = board
        .table(t, |s| {
            if s.started.is_none() {
                s.started = Some(Instant::now());
                cx.progress.table_started(&table.name, Some(0), Some(0));
            }
            s.read.clone()
        })
        .ok_or(Error::WorkerLost)?;
    read.compare(cx.archive, &table.name, &table.totals)?;
    // Counters belong with the data (as in pg_restore's data section), so
    // they are set in --data-only restores too.
    retry(cx, board, target, label, Some(t), |target| {
        Ok(target.restore_identity(&table.entry.def)?)
    })?;
    board.table(t, |s| {
        s.complete = true;
        s.seconds = s.started.map_or(0.0, |i| i.elapsed().as_secs_f64());
    });
    cx.progress.table_finished(&table.name);
    Ok(())
}

/// Runs `body`, retrying it with backoff while it fails with an error the
/// target calls transient ([`with_retries`]), unless the run is stopping.
/// Each retry is reported and counted against `table`.
fn retry<T>(
    cx: &Context,
    board: &Board,
    target: &mut dyn Target,
    what: &str,
    table: Option<usize>,
    body: impl FnMut(&mut dyn Target) -> Result<T>,
) -> Result<T> {
    let on_retry = || {
        if let Some(t) = table {
            board.table(t, |s| s.errors += 1);
        }
    };
    with_retries(
        cx.progress,
        &|| board.stopping(),
        target,
        what,
        on_retry,
        body,
    )
}
