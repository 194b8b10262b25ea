//! The engine: moves rows between a [`bru_core::Source`] or
//! [`bru_core::Target`] and an archive, and checks archives.
//!
//! - [`backup`]: reads one snapshot table by table, compresses chunks on a
//!   rayon pool of `jobs` threads, and has one writer append them in order.
//! - [`restore`]: checks the archive is complete, refuses to overwrite
//!   existing tables (unless `clean`), then runs the phases pre-data, data,
//!   post-data; decoding runs on the pool, overlapped with loading.
//! - [`verify`]: checks every chunk's CRC, decodes it, and checks row counts
//!   and table checksums against the recorded totals.
//! - [`list`]: the archive's metadata and per-table totals.
//!
//! Progress is reported through the injected [`Progress`] trait; the engine
//! never draws anything itself.

mod backup;
mod error;
mod execute;
mod filter;
mod journal;
mod list;
mod pipeline;
pub mod plan;
mod progress;
mod readback;
mod restore;
mod summary;
mod verify;

pub use backup::{backup, BackupOptions};
pub use error::{Error, Result};
pub use filter::TableFilter;
pub use list::{list, ListedTable, Listing};
pub use plan::Plan;
pub use progress::{NoProgress, Progress};
pub use restore::{restore, RestoreJob, RestoreMode, RestoreOptions};
pub use summary::{Summary, TableSummary};
pub use verify::{verify, VerifyReport};
