//! The archive's metadata and per-table totals, and the format's constants:
//! what the writer records and the reader checks, in a module of its own so
//! that both depend on it and neither on the crate root or on each other.

use serde::{Deserialize, Serialize};

/// The format version this build writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// Default zstd level (`--compress-level`).
pub const DEFAULT_COMPRESS_LEVEL: i32 = 3;

/// The target size of a chunk before compression that a reader assumes of
/// an archive that records none: bru's default when such archives were
/// written (`bru backup` now defaults to 2 MiB, and records it).
pub const DEFAULT_CHUNK_BYTES: usize = 4 << 20;

/// The largest uncompressed chunk body a reader accepts (4 GiB), whatever
/// an archive's [`ChunkLimits`] say. A reader refuses a larger declared
/// length before decompressing anything.
pub const MAX_RAW_LEN: u64 = 1 << 32;

/// The largest `--chunk-size` a writer accepts and a reader believes
/// (256 MiB): the chunk size an archive records is capped at this, so
/// editing the metadata cannot raise the bound on a decoded chunk further.
pub const MAX_CHUNK_BYTES: u64 = 256 << 20;

/// The largest single value a reader accepts (1 GiB): PostgreSQL's limit on
/// one field, and above SQLite's default limit on a string or BLOB.
pub const MAX_VALUE_BYTES: u64 = 1 << 30;

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
    /// The chunk size the backup wrote with and the largest value it wrote,
    /// which bound what a reader accepts in a chunk ([`ChunkLimits`]).
    #[serde(default)]
    pub limits: ChunkLimits,
    /// Where a delta archive sits in its chain; `None` for a full archive.
    #[serde(default)]
    pub delta: Option<DeltaInfo>,
    /// How the archive is encrypted; `None` for a clear archive.
    #[serde(default)]
    pub encryption: Option<Encryption>,
}

/// The format version of an encrypted archive (full or delta).
pub const ENCRYPTED_FORMAT_VERSION: u32 = 3;

/// How an archive is encrypted (FORMAT.md, "Encrypted archives").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    /// Whether the catalog is encrypted too (`all`) or left in clear
    /// (`data`, `--encrypt-data-only`).
    pub scope: String,
    /// How the data key is sealed: `age-recipients` or
    /// `age-scrypt` (a passphrase).
    pub key_kind: String,
    /// Whether this reader opened the key envelope; without it only the
    /// clear metadata (and with scope `data` the catalog) can be read.
    pub unlocked: bool,
}

/// What a backup recorded about the size of its chunks (FORMAT.md,
/// "Limits"), from which a reader derives the most a chunk of a table with
/// `C` columns may declare before anything is allocated for it.
///
/// A real backup fills a batch until its values count at least
/// `chunk_bytes` ([`bru_core::Value::approx_size`], where every cell counts
/// at least one byte), so a chunk holds at most `chunk_bytes + C` cells (the
/// batch before its last row, then one row), and its body is at most a
/// small multiple of `chunk_bytes` plus one row of the largest values. A
/// chunk declaring more was not written by a backup with these settings and
/// is refused as damaged, whatever its CRC says. Both figures are capped at
/// [`MAX_CHUNK_BYTES`] and [`MAX_VALUE_BYTES`], so metadata edited to claim
/// more cannot raise the bound beyond those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkLimits {
    /// The chunk size target the backup used (`--chunk-size`).
    pub chunk_bytes: u64,
    /// The length of the longest value (text, bytes, decimal, JSON or
    /// native text) in any chunk; a fixed-size value takes at most 16.
    pub max_value_bytes: u64,
}

impl Default for ChunkLimits {
    /// The limits assumed for an archive that records none (written before
    /// they were recorded, or whose backup stopped before its end): the
    /// default chunk size and the largest value any engine holds.
    fn default() -> Self {
        ChunkLimits {
            chunk_bytes: DEFAULT_CHUNK_BYTES as u64,
            max_value_bytes: MAX_VALUE_BYTES,
        }
    }
}

impl ChunkLimits {
    /// How much larger than its budget a chunk body may be: encoding adds a
    /// varint, a tag, a bitmap bit and per-column headers to the values'
    /// counted size, never more than doubling it.
    pub const BODY_MULTIPLE: u64 = 4;

    /// The limits as a reader applies them: each figure at most its cap,
    /// and the chunk size at least 1 KiB (the smallest `--chunk-size`).
    pub fn capped(self) -> ChunkLimits {
        ChunkLimits {
            chunk_bytes: self.chunk_bytes.clamp(1 << 10, MAX_CHUNK_BYTES),
            max_value_bytes: self.max_value_bytes.min(MAX_VALUE_BYTES),
        }
    }

    /// The most cells (rows × columns) a chunk of `columns` columns holds.
    pub fn max_cells(self, columns: u64) -> u64 {
        let l = self.capped();
        l.chunk_bytes + columns
    }

    /// The counted size of the largest chunk a backup writes for a table of
    /// `columns` columns: a full batch, then one row of the largest values.
    fn budget(self, columns: u64) -> u64 {
        let l = self.capped();
        l.chunk_bytes
            .saturating_add(columns.saturating_mul(l.max_value_bytes + 16))
    }

    /// The largest chunk body (`raw_len`) a chunk of `columns` columns may
    /// declare: [`ChunkLimits::BODY_MULTIPLE`] × its budget, plus the header
    /// and 16 bytes per column, and never above [`MAX_RAW_LEN`].
    pub fn max_raw_len(self, columns: u64) -> u64 {
        Self::BODY_MULTIPLE
            .saturating_mul(self.budget(columns))
            .saturating_add(64 + 16 * columns)
            .min(MAX_RAW_LEN)
    }

    /// The largest stored (compressed) chunk for `columns` columns: the
    /// largest body plus zstd's worst-case growth (1/128, and a frame
    /// header).
    pub fn max_stored_len(self, columns: u64) -> u64 {
        let raw = self.max_raw_len(columns);
        raw + (raw >> 7) + (1 << 10)
    }
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

/// The format version of a delta archive.
pub const DELTA_FORMAT_VERSION: u32 = 2;

/// Where a delta archive sits in its chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaInfo {
    /// The archive this delta was taken against (the full archive, or the
    /// previous delta).
    pub base_archive_id: String,
    /// The full archive the chain starts from.
    pub chain_root_id: String,
    /// 1 for the first delta after the full archive, and so on.
    pub position: u64,
}
