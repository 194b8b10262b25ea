//! The archive's metadata and per-table totals, and the format's constants:
//! what the writer records and the reader checks, in a module of its own so
//! that both depend on it and neither on the crate root or on each other.

use serde::{Deserialize, Serialize};

/// The format version this build writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// Default zstd level (`--compress-level`).
pub const DEFAULT_COMPRESS_LEVEL: i32 = 3;

/// Default target size of a chunk before compression (a few MiB).
pub const DEFAULT_CHUNK_BYTES: usize = 4 << 20;

/// The identifier of a table inside one archive (its position in the catalog).
pub type TableId = i64;

/// Whether a backup ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveState {
    /// The backup has not finished (still running, or killed).
    InProgress,
    /// The final commit happened: every table's chunks and totals are there.
    Complete,
}

impl std::fmt::Display for ArchiveState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ArchiveState::InProgress => "incomplete",
            ArchiveState::Complete => "complete",
        })
    }
}

/// The archive's metadata table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveMeta {
    pub format_version: u32,
    /// The bru version that wrote the archive.
    pub tool_version: String,
    /// Creation time, RFC 3339 in UTC.
    pub created_at: String,
    /// 32 random hex digits chosen at creation: tells two archives apart
    /// even when they were made in the same second from the same database
    /// (a resumed restore must continue with the very same archive). Empty
    /// for an archive written before the key existed.
    #[serde(default)]
    pub archive_id: String,
    /// Source engine, its version, and the database name.
    pub source: bru_core::SourceInfo,
    pub state: ArchiveState,
    pub compress_level: i32,
}

/// Per-table totals, recorded when the table's last chunk is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TableTotals {
    pub rows: u64,
    /// Encoded bytes before compression.
    pub raw_bytes: u64,
    /// Compressed bytes as stored.
    pub stored_bytes: u64,
    pub chunks: u64,
    /// The order-independent content checksum ([`bru_core::TableChecksum`]).
    pub checksum: u64,
}

impl ArchiveState {
    /// The state as the metadata table stores it (FORMAT.md).
    pub(crate) fn stored(self) -> &'static str {
        match self {
            ArchiveState::InProgress => "in_progress",
            ArchiveState::Complete => "complete",
        }
    }
}
