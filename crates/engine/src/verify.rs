//! Verifying an archive without restoring it.

use std::path::Path;

use crate::{Progress, Result, Summary};

/// What verify checked.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct VerifyReport {
    pub summary: Summary,
    pub chunks_checked: u64,
}

/// Checks every chunk's CRC, decodes every chunk, and compares row counts
/// and table checksums with the recorded totals. Fails on the first problem,
/// naming the table and chunk.
pub fn verify(archive: &Path, jobs: usize, progress: &dyn Progress) -> Result<VerifyReport> {
    let _ = (archive, jobs, progress);
    todo!()
}
