//! Bounded, ordered parallel work: the shape shared by backup (compress
//! chunks), restore and verify (decode chunks).
//!
//! One thread (the caller) produces work items in order, for example batches
//! streamed from a source or chunks read from the archive, and must consume
//! the results in the same order, because chunks are written and rows loaded
//! in archive order by a single writer. The work in between runs on a rayon
//! pool. [`Ordered`] keeps at most `window` items in flight: when the window
//! is full the producer waits for the oldest result before reading more. That
//! is what bounds memory to about `window` chunks whatever the table size.
//!
//! Jobs run inside a rayon scope opened on the calling thread
//! ([`rayon::ThreadPool::in_place_scope`]), so a panic in a job is propagated
//! to the caller instead of aborting the process, and leaving the scope early
//! (on an error) still waits for the jobs already started.

use std::collections::VecDeque;
use std::sync::mpsc;

use rayon::{Scope, ThreadPool, ThreadPoolBuilder};

use crate::{Error, Result};

/// Builds the worker pool: `jobs` threads, or one per core when `jobs` is 0.
pub(crate) fn pool(jobs: usize) -> Result<ThreadPool> {
    ThreadPoolBuilder::new()
        .num_threads(jobs)
        .thread_name(|i| format!("bru-worker-{i}"))
        .build()
        .map_err(|e| Error::Pool {
            jobs,
            message: e.to_string(),
        })
}

/// The number of workers `jobs` asks for: itself, or one per core when 0.
pub(crate) fn pool_size(jobs: usize) -> usize {
    if jobs > 0 {
        jobs
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// The sessions `open` gives beyond the caller's own, up to `jobs` sessions
/// in all: backup's extra readers ([`bru_core::Source::open_reader`]) and
/// restore's workers ([`bru_core::Target::open_worker`]). Stops early when
/// `open` gives `None`: the source or target offers no more sessions, and
/// the work is spread over those it has.
pub(crate) fn extra_sessions<T>(
    jobs: usize,
    mut open: impl FnMut() -> Result<Option<T>>,
) -> Result<Vec<T>> {
    let mut sessions = Vec::new();
    while sessions.len() + 1 < jobs {
        match open()? {
            Some(session) => sessions.push(session),
            None => break,
        }
    }
    Ok(sessions)
}

/// Reader sessions feeding one writer thread, the shape of backup and
/// delta backup: `read` runs on `source` (this thread) and on each of
/// `readers` (a thread each), sending to `write` on a thread of its own
/// through a channel of `capacity` messages. Returns the writer's result,
/// unless a reader failed: the first real failure is a reader's, unless it
/// only saw the writer go away ([`Error::Stopped`]), in which case the
/// writer's own error says why.
pub(crate) fn readers_to_writer<M: Send, W: Send>(
    source: &mut dyn bru_core::Source,
    readers: Vec<Box<dyn bru_core::Source + Send>>,
    capacity: usize,
    read: impl Fn(&mut dyn bru_core::Source, &mpsc::SyncSender<M>) -> Result<()> + Sync,
    write: impl FnOnce(mpsc::Receiver<M>) -> Result<W> + Send,
) -> Result<W> {
    let (to_writer, from_readers) = mpsc::sync_channel::<M>(capacity);
    let (written, read_results) = std::thread::scope(|scope| {
        let read = &read;
        let writer_thread = scope.spawn(move || write(from_readers));
        let reader_threads: Vec<_> = readers
            .into_iter()
            .map(|mut reader| {
                let to_writer = to_writer.clone();
                scope.spawn(move || read(reader.as_mut(), &to_writer))
            })
            .collect();
        let mut results = vec![read(source, &to_writer)];
        drop(to_writer);
        for t in reader_threads {
            results.push(t.join().unwrap_or(Err(Error::WorkerLost)));
        }
        let written = writer_thread.join().unwrap_or(Err(Error::WorkerLost));
        (written, results)
    });
    for result in read_results {
        match result {
            Err(Error::Stopped) | Ok(()) => {}
            Err(e) => return Err(e),
        }
    }
    written
}

/// Joins `handles`, keeping `first` (this thread's own result) unless it is
/// a success and a joined thread failed, whose error it then is.
pub(crate) fn join_first_error<T>(
    first: Result<T>,
    handles: Vec<std::thread::ScopedJoinHandle<'_, Result<T>>>,
) -> Result<T> {
    let mut result = first;
    for h in handles {
        let r = h.join().map_err(|_| Error::WorkerLost)?;
        if result.is_ok() {
            result = r;
        }
    }
    result
}

/// How many items may be in flight on `pool`: two per worker, so that every
/// worker has the next item queued while the caller consumes a result.
pub(crate) fn window(pool: &ThreadPool) -> usize {
    2 * pool.current_num_threads().max(1)
}

/// Results of jobs started in order, handed back in the same order.
pub(crate) struct Ordered<'s, 'scope, R> {
    scope: &'s Scope<'scope>,
    window: usize,
    pending: VecDeque<mpsc::Receiver<R>>,
}

impl<'s, 'scope, R: Send + 'scope> Ordered<'s, 'scope, R> {
    pub(crate) fn new(scope: &'s Scope<'scope>, window: usize) -> Self {
        Ordered {
            scope,
            window: window.max(1),
            pending: VecDeque::new(),
        }
    }

    /// Starts `job` on the pool. If the window is full, first waits for the
    /// oldest job and returns its result, which the caller must consume
    /// before anything returned later.
    pub(crate) fn submit<F>(&mut self, job: F) -> Option<Result<R>>
    where
        F: FnOnce() -> R + Send + 'scope,
    {
        let oldest = if self.pending.len() >= self.window {
            self.wait_oldest()
        } else {
            None
        };
        let (tx, rx) = mpsc::sync_channel(1);
        self.scope.spawn(move |_| {
            // The receiver is gone only when the caller stopped on an error;
            // the result is then not wanted.
            let _ = tx.send(job());
        });
        self.pending.push_back(rx);
        oldest
    }

    /// The oldest result if its job is done, without waiting.
    pub(crate) fn try_oldest(&mut self) -> Option<Result<R>> {
        let front = self.pending.front()?;
        match front.try_recv() {
            Ok(r) => {
                self.pending.pop_front();
                Some(Ok(r))
            }
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => {
                self.pending.pop_front();
                Some(Err(Error::WorkerLost))
            }
        }
    }

    /// The oldest result, waiting for its job; `None` when nothing is in
    /// flight.
    pub(crate) fn wait_oldest(&mut self) -> Option<Result<R>> {
        let front = self.pending.pop_front()?;
        Some(front.recv().map_err(|_| Error::WorkerLost))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_submission_order_within_the_window() {
        let pool = pool(3).expect("pool");
        let mut seen = Vec::new();
        let mut max_in_flight = 0;
        pool.in_place_scope(|scope| {
            let mut work = Ordered::new(scope, 4);
            for i in 0u64..50 {
                // Later jobs finish first, so ordering is really exercised.
                let job = move || {
                    std::thread::sleep(std::time::Duration::from_micros((50 - i) * 20));
                    i
                };
                if let Some(r) = work.submit(job) {
                    seen.push(r.expect("result"));
                }
                max_in_flight = max_in_flight.max(work.pending.len());
                while let Some(r) = work.try_oldest() {
                    seen.push(r.expect("result"));
                }
            }
            while let Some(r) = work.wait_oldest() {
                seen.push(r.expect("result"));
            }
        });
        assert_eq!(seen, (0..50).collect::<Vec<_>>());
        assert!(max_in_flight <= 4, "{max_in_flight} in flight");
    }
}
