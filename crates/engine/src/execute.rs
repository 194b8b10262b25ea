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
//! A step that fails with an error the target calls transient
//! ([`Target::is_transient`]) is retried with backoff, each retry reported
//! through [`Progress::message`]; a load step only on a journaling target,
//! whose committed chunks are then skipped. Any other failure stops the run:
//! the other sessions stop at their next chunk or step, and the first error is
//! returned.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bru_core::{ObjectOutcome, Target};
use bru_format::ArchiveReader;
use rayon::ThreadPool;

use crate::journal::{chunk_key, loaded_key, step_key, Journal, Origin};
use crate::plan::{Action, Plan};
use crate::readback::{read_chunks, ReadBack};
use crate::restore::RestoreJob;
use crate::{Error, Progress, Result};

/// How often a step is tried before a transient error is given up on.
pub const ATTEMPTS: u32 = 5;
/// The pause before the first retry; it doubles for each further one.
const FIRST_PAUSE: Duration = Duration::from_millis(200);

/// Everything the sessions share.
pub(crate) struct Run<'a> {
    pub job: &'a RestoreJob,
    pub plan: &'a Plan,
    pub pool: &'a ThreadPool,
    /// Chunks one session may have decoding or waiting at once.
    pub in_flight: usize,
    pub progress: &'a dyn Progress,
    pub journal: &'a Journal,
    /// Resuming an interrupted restore (tables may already exist).
    pub resuming: bool,
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
    /// Per object (by position in the job's object list): created or the
    /// reason it was skipped; `None` when the plan had no step for it.
    pub objects: Vec<Option<ObjectOutcome>>,
}

/// Runs `run.plan` on `main` (on the calling thread) and on `workers` (one
/// thread each). Returns what happened per table and object, or the first
/// error of any step.
pub(crate) fn execute(
    run: &Run,
    main: &mut dyn Target,
    workers: Vec<Box<dyn Target + Send>>,
) -> Result<Outcome> {
    let board = Board::new(run);
    std::thread::scope(|scope| {
        for mut worker in workers {
            let board = &board;
            scope.spawn(move || session(run, board, worker.as_mut()));
        }
        session(run, &board, main);
    });
    let state = board.state.into_inner().map_err(|_| Error::WorkerLost)?;
    if let Some(e) = state.failed {
        return Err(e);
    }
    if state.finished != run.plan.steps.len() {
        return Err(Error::WorkerLost);
    }
    Ok(Outcome {
        tables: board.tables.into_inner().map_err(|_| Error::WorkerLost)?,
        objects: board.objects.into_inner().map_err(|_| Error::WorkerLost)?,
    })
}

type Rank = (u8, Reverse<u64>, usize);

struct State {
    /// Per step, how many of its dependencies are not done yet.
    waiting: Vec<usize>,
    ready: BinaryHeap<Reverse<(Rank, usize)>>,
    running: usize,
    finished: usize,
    failed: Option<Error>,
}

/// The shared scheduling state and results.
struct Board {
    state: Mutex<State>,
    wake: Condvar,
    dependents: Vec<Vec<usize>>,
    ranks: Vec<Rank>,
    /// Set on the first failure, so that the other sessions stop early.
    stop: AtomicBool,
    tables: Mutex<Vec<TableState>>,
    objects: Mutex<Vec<Option<ObjectOutcome>>>,
}

impl Board {
    fn new(run: &Run) -> Board {
        let steps = &run.plan.steps;
        let ready = steps
            .iter()
            .filter(|s| s.deps.is_empty())
            .map(|s| Reverse((s.rank, s.id)))
            .collect();
        Board {
            state: Mutex::new(State {
                waiting: steps.iter().map(|s| s.deps.len()).collect(),
                ready,
                running: 0,
                finished: 0,
                failed: None,
            }),
            wake: Condvar::new(),
            dependents: run.plan.dependents(),
            ranks: steps.iter().map(|s| s.rank).collect(),
            stop: AtomicBool::new(false),
            tables: Mutex::new(vec![TableState::default(); run.job.tables.len()]),
            objects: Mutex::new(vec![None; run.job.objects.len()]),
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
            if state.failed.is_some() || state.finished == state.waiting.len() {
                return None;
            }
            if let Some(Reverse((_, id))) = state.ready.pop() {
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
            Ok(()) => {
                state.finished += 1;
                for &d in &self.dependents[id] {
                    state.waiting[d] -= 1;
                    if state.waiting[d] == 0 {
                        state.ready.push(Reverse((self.ranks[d], d)));
                    }
                }
            }
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
fn session(run: &Run, board: &Board, target: &mut dyn Target) {
    let mut reader = None;
    while let Some(id) = board.next() {
        let result = if board.stopping() {
            Err(Error::Stopped)
        } else {
            run_step(run, board, target, &mut reader, id)
        };
        board.done(id, result);
    }
}

/// Runs one step unless the journal says it is done, then journals it.
fn run_step(
    run: &Run,
    board: &Board,
    target: &mut dyn Target,
    reader: &mut Option<ArchiveReader>,
    id: usize,
) -> Result<()> {
    let job = run.job;
    let step = &run.plan.steps[id];
    let key = step_key(&job.tables, &job.objects, &step.action);
    let journaled = key.as_deref().is_some_and(|k| run.journal.contains(k));
    let table_of = |t: usize| job.tables[t].name.as_str();
    match step.action {
        Action::CreateObject { object } | Action::RestoreObjectData { object } => {
            let o = &job.objects[object];
            let data_only = matches!(step.action, Action::RestoreObjectData { .. });
            let outcome = if journaled {
                ObjectOutcome::Created
            } else {
                retry(run, board, target, &step.label, None, |t| {
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
                let def = &job.tables[table].entry.def;
                retry(run, board, target, &step.label, Some(table), |t| {
                    // Created by the interrupted restore just before it
                    // could journal it: it is there and empty.
                    if run.resuming
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
            if run.journal.contains(&loaded_key(table_of(table))) {
                return Ok(());
            }
            board.table(table, |s| {
                if s.started.is_none() {
                    s.started = Some(Instant::now());
                    let totals = &job.tables[table].totals;
                    run.progress.table_started(
                        table_of(table),
                        Some(totals.rows),
                        Some(totals.raw_bytes),
                    );
                }
            });
            if reader.is_none() {
                *reader = Some(ArchiveReader::open(&job.archive)?);
            }
            let Some(reader) = reader.as_ref() else {
                return Err(Error::WorkerLost);
            };
            // Retrying a load is safe only when committed chunks are known.
            let retriable = run.journal.enabled;
            let range = if retriable {
                retry(run, board, target, &step.label, Some(table), |t| {
                    load_range(run, board, t, reader, table, first, end)
                })
            } else {
                load_range(run, board, target, reader, table, first, end)
            }
            .map_err(|e| e.in_table("restoring", table_of(table)))?;
            board.table(table, |s| {
                s.read.merge(&range.read);
                s.loaded += range.loaded;
                s.resumed += range.resumed;
            });
        }
        Action::CompleteData { table } => {
            let t = &job.tables[table];
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
                complete_data(run, board, target, table, &step.label)
                    .map_err(|e| e.in_table("restoring", table_of(table)))?;
            }
        }
        Action::BuildIndex { table, part } => {
            if !journaled {
                let def = &job.tables[table].entry.def;
                run.progress.message(&step.label);
                retry(run, board, target, &step.label, Some(table), |t| {
                    Ok(t.build_index(def, part)?)
                })
                .map_err(|e| e.in_table("finishing", table_of(table)))?;
            }
        }
        Action::FinishTable { table } => {
            if !journaled {
                let def = &job.tables[table].entry.def;
                run.progress.message(&step.label);
                retry(run, board, target, &step.label, Some(table), |t| {
                    Ok(t.finish_table(def)?)
                })
                .map_err(|e| e.in_table("finishing", table_of(table)))?;
            }
        }
        Action::AddForeignKeys { table } => {
            if !journaled {
                let def = &job.tables[table].entry.def;
                retry(run, board, target, &step.label, Some(table), |t| {
                    Ok(t.add_foreign_keys(def)?)
                })
                .map_err(|e| e.in_table("finishing", table_of(table)))?;
            }
        }
    }
    if let (Some(key), false, true) = (key, journaled, run.journal.enabled) {
        retry(
            run,
            board,
            target,
            "writing the restore journal",
            None,
            |t| Ok(t.journal_mark(&key)?),
        )?;
        run.journal.insert(key);
    }
    Ok(())
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
    run: &Run,
    board: &Board,
    target: &mut dyn Target,
    reader: &ArchiveReader,
    t: usize,
    first: u64,
    end: u64,
) -> Result<RangeResult> {
    let table = &run.job.tables[t];
    let name = table.name.as_str();
    let journal = run.journal;
    let mut result = RangeResult::default();
    let mut given = 0u64;
    let mut loader = target.load(&table.entry.def)?;
    let read = read_chunks(
        reader,
        &run.job.archive,
        run.pool,
        run.in_flight,
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
                    run.progress.advance(name, rows, chunk.raw_len);
                }
                // Committed by an earlier attempt of this step.
                Some(Origin::ThisRun) => result.loaded += rows,
                None => {
                    loader.write_batch(&chunk.batch)?;
                    if let Some(key) = key {
                        loader.commit_chunk(&key)?;
                        journal.insert(key);
                    }
                    given += rows;
                    run.progress.advance(name, rows, chunk.raw_len);
                }
            }
            Ok(())
        },
    )?;
    let loaded = loader.finish()?;
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
    run: &Run,
    board: &Board,
    target: &mut dyn Target,
    t: usize,
    label: &str,
) -> Result<()> {
    let table = &run.job.tables[t];
    let read = board
        .table(t, |s| {
            if s.started.is_none() {
                s.started = Some(Instant::now());
                run.progress.table_started(&table.name, Some(0), Some(0));
            }
            s.read.clone()
        })
        .ok_or(Error::WorkerLost)?;
    read.compare(&run.job.archive, &table.name, &table.totals)?;
    // Counters belong with the data (as in pg_restore's data section), so
    // they are set in --data-only restores too.
    retry(run, board, target, label, Some(t), |target| {
        Ok(target.restore_identity(&table.entry.def)?)
    })?;
    board.table(t, |s| {
        s.complete = true;
        s.seconds = s.started.map_or(0.0, |i| i.elapsed().as_secs_f64());
    });
    run.progress.table_finished(&table.name);
    Ok(())
}

/// Runs `body`, retrying it with backoff while it fails with an error the
/// target calls transient, up to [`ATTEMPTS`] times. Each retry is reported
/// through the progress messages and counted against `table`.
fn retry<T>(
    run: &Run,
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
        run.progress,
        &|| board.stopping(),
        target,
        what,
        on_retry,
        body,
    )
}

/// [`retry`] for work outside the plan (reading and writing the journal,
/// `--clean`'s drops, the target's final step): the same backoff and the
/// same report of each retry.
pub(crate) fn retry_outside<T>(
    progress: &dyn Progress,
    target: &mut dyn Target,
    what: &str,
    body: impl FnMut(&mut dyn Target) -> Result<T>,
) -> Result<T> {
    with_retries(progress, &|| false, target, what, || {}, body)
}

fn with_retries<T>(
    progress: &dyn Progress,
    stopping: &dyn Fn() -> bool,
    target: &mut dyn Target,
    what: &str,
    mut on_retry: impl FnMut(),
    mut body: impl FnMut(&mut dyn Target) -> Result<T>,
) -> Result<T> {
    let mut pause = FIRST_PAUSE;
    let mut attempt = 1;
    loop {
        match body(&mut *target) {
            Ok(value) => return Ok(value),
            Err(e) if attempt < ATTEMPTS && !stopping() && is_transient(target, &e) => {
                on_retry();
                progress.warning(&format!(
                    "{what}: transient error, retrying in {:.1} s (attempt {} of {ATTEMPTS}): {e}",
                    pause.as_secs_f64(),
                    attempt + 1
                ));
                std::thread::sleep(pause);
                pause *= 2;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Whether the target calls the database error inside `e` transient.
fn is_transient(target: &dyn Target, e: &Error) -> bool {
    match e {
        Error::Database(db) => target.is_transient(db),
        Error::Table { source, .. } => is_transient(target, source),
        _ => false,
    }
}
