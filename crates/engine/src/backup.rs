//! The backup pipeline.

use std::path::Path;

use bru_core::Source;

use crate::{Progress, Result, Summary, TableFilter};

#[derive(Debug, Clone)]
pub struct BackupOptions {
    pub filter: TableFilter,
    /// zstd level.
    pub compress_level: i32,
    /// Worker threads for compression.
    pub jobs: usize,
    /// Overwrite an existing archive.
    pub force: bool,
    /// Target uncompressed chunk size in bytes.
    pub chunk_bytes: usize,
    /// The bru version, recorded in the archive.
    pub tool_version: String,
}

/// Backs up `source` into a new archive at `archive`.
pub fn backup(
    source: &mut dyn Source,
    archive: &Path,
    options: &BackupOptions,
    progress: &dyn Progress,
) -> Result<Summary> {
    let _ = (source, archive, options, progress);
    todo!()
}
