//! The restore executor.

use std::path::Path;

use bru_core::Target;

use crate::{Progress, Result, Summary, TableFilter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreMode {
    /// Schema and data.
    Full,
    /// Tables, indexes, constraints and objects, no rows.
    SchemaOnly,
    /// Rows only, into tables that already exist.
    DataOnly,
}

#[derive(Debug, Clone)]
pub struct RestoreOptions {
    pub filter: TableFilter,
    pub mode: RestoreMode,
    /// Drop tables that already exist in the target instead of refusing.
    pub clean: bool,
    /// Worker threads for decompression and decoding.
    pub jobs: usize,
}

/// Restores `archive` into `target`.
pub fn restore(
    archive: &Path,
    target: &mut dyn Target,
    options: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<Summary> {
    let _ = (archive, target, options, progress);
    todo!()
}
