//! The engine: moves rows between a [`bru_core::Source`] or
//! [`bru_core::Target`] and an archive, and checks archives.
//!
//! - [`backup()`]: reads one snapshot with one or more reader sessions (tables,
//!   and parts of big tables, concurrently when the source offers more
//!   readers), compresses chunks on a rayon pool of `jobs` threads, and has
//!   one writer thread append them.
//! - [`restore()`]: [`RestoreJob::open`] checks the archive and builds a
//!   [`Plan`] without touching the target (`--dry-run` prints it);
//!   [`RestoreJob::run`] runs it on the target's sessions (module
//!   `restore::execute`):
//!   largest tables first, big tables in ranges of chunks loaded by several
//!   sessions at once, each table's indexes as soon as its rows are in, each
//!   foreign key once both its tables are, decoding overlapped with loading.
//!   Every chunk commits with its entry in the target's restore journal, so an
//!   interrupted restore resumes exactly (module `restore::journal`); transient
//!   errors are retried with backoff (module `restore::retry`).
//! - [`verify()`]: checks every chunk's CRC, decodes it, and checks row counts
//!   and table checksums against the recorded totals.
//! - [`list()`]: the archive's metadata and per-table totals; [`toc()`]: its
//!   table of contents, for `restore --list` / `--use-list`.
//! - [`verify_against()`] and [`compare_databases()`]: a live database
//!   compared with an archive or with another database (of any engine),
//!   table by table, naming the differing keys (module `compare`).
//!
//! Restore and verify take the engines of the build (`&[&dyn Engine]`):
//! every catalog entry's SQL is checked by the engine that wrote it before
//! anything runs (module `trust`).
//!
//! Progress is reported through the injected [`Progress`] trait; the engine
//! never draws anything itself.
//!
//! # Memory
//!
//! Memory is bounded by `jobs` and the chunk size, never by a table's size:
//! rows move one chunk at a time, and every stage holds a bounded number of
//! chunks (the `Ordered` windows of module `pipeline` and bounded channels).
//! - Backup: each reader session has at most `max(1, jobs / readers)`
//!   batches in flight plus the one its source is filling, and the channel to
//!   the writer holds at most `jobs` compressed chunks: about
//!   `(jobs + readers)` chunks plus the compressed ones, with
//!   `readers ≤ jobs`.
//! - Restore: each target session has at most `max(1, jobs / sessions)`
//!   chunks decoding or decoded plus the one it is writing: about
//!   `2 × jobs` chunks, with `sessions ≤ jobs`.
//! - Verify: `2 × jobs` chunks.
//!
//! A chunk costs its uncompressed size (`--chunk-size`, 2 MiB by default)
//! times the in-memory overhead of decoded values (1 to about 4 for narrow
//! columns), plus its compressed bytes. The one exception is a single value
//! larger than the chunk size: a chunk holds at least one whole row.

mod backup;
mod casts;
mod compare;
mod delta;
mod error;
mod filter;
mod list;
mod pipeline;
mod progress;
mod readback;
mod restore;
mod samefile;
mod summary;
mod toc;
mod translate;
mod trust;
mod verify;

pub use backup::{backup, backup_sealed, BackupOptions};
pub use casts::{CastCount, CastPlan, CastRules};
pub use compare::{
    compare, compare_databases, verify_against, CompareOptions, CompareReport, DiffKind, RowDiff,
    TableMatch, TableReport, TableStatus,
};
pub use delta::{backup_delta, backup_delta_sealed, is_delta, ChainCheck, DeltaApply, Scanned};
pub use error::{Error, Result};
pub use filter::{Selection, TableFilter};
pub use list::{list, ListedTable, Listing};
pub use progress::{NoProgress, Progress};
pub use restore::plan::{self, Plan};
pub use restore::{restore, RestoreJob, RestoreMode, RestoreOptions};
pub use samefile::{refuse_same_file, same_file, Side};
pub use summary::{Summary, TableSummary};
pub use toc::{toc, ListSelection, Toc, TocEntry};
pub use verify::{verify, VerifyReport};
