//! Writing an archive.

use std::path::Path;

use bru_core::{Catalog, SourceInfo};

use crate::codec::EncodedChunk;
use crate::error::Result;
use crate::{ArchiveMeta, TableId, TableTotals};

/// Options for [`ArchiveWriter::create`].
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Replace an existing file at the path. Without it, an existing file is
    /// an error and is left untouched.
    pub force: bool,
    /// The zstd level the chunks are compressed with (recorded in metadata).
    pub compress_level: i32,
    /// The bru version writing the archive.
    pub tool_version: String,
}

/// Writes one archive. Not finished means not complete.
pub struct ArchiveWriter {
    _private: (),
}

impl ArchiveWriter {
    /// Creates the archive file at `path` in state `in_progress` and commits
    /// the metadata, so that even a backup killed right away leaves a file
    /// that `bru list` reports as incomplete.
    pub fn create(path: &Path, source: &SourceInfo, options: &WriterOptions) -> Result<Self> {
        let _ = (path, source, options);
        todo!()
    }

    /// Stores the catalog; returns the id of each table, in catalog order.
    pub fn write_catalog(&mut self, catalog: &Catalog) -> Result<Vec<TableId>> {
        let _ = catalog;
        todo!()
    }

    /// Appends the next chunk of `table`. Chunks are numbered in call order.
    pub fn write_chunk(&mut self, table: TableId, chunk: &EncodedChunk) -> Result<()> {
        let _ = (table, chunk);
        todo!()
    }

    /// Records a table's totals once its last chunk is written.
    pub fn finish_table(&mut self, table: TableId, totals: &TableTotals) -> Result<()> {
        let _ = (table, totals);
        todo!()
    }

    /// Marks the archive complete in the final commit and closes it.
    pub fn finish(self) -> Result<ArchiveMeta> {
        todo!()
    }
}
