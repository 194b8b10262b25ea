//! Reading an archive.

use std::path::Path;

use bru_core::{Catalog, TableDef};

use crate::codec::EncodedChunk;
use crate::error::Result;
use crate::{ArchiveMeta, TableId, TableTotals};

/// One table as the archive records it.
#[derive(Debug, Clone)]
pub struct TableEntry {
    pub id: TableId,
    pub def: TableDef,
    /// `None` when the backup stopped before the table was finished.
    pub totals: Option<TableTotals>,
}

/// A chunk as read from the archive, CRC already checked.
#[derive(Debug, Clone)]
pub struct StoredChunk {
    pub table: TableId,
    /// Position of the chunk within its table, from 0.
    pub seq: u64,
    pub chunk: EncodedChunk,
}

/// An open archive.
pub struct ArchiveReader {
    _private: (),
}

impl ArchiveReader {
    /// Opens `path` read-only. Fails if the file is missing, is not a bru
    /// archive, or has a newer format version than this build reads. An
    /// incomplete archive opens (so `bru list` can show it); see
    /// [`ArchiveReader::require_complete`].
    pub fn open(path: &Path) -> Result<Self> {
        let _ = path;
        todo!()
    }

    pub fn meta(&self) -> &ArchiveMeta {
        todo!()
    }

    /// Fails with a clear message unless the archive is complete.
    pub fn require_complete(&self) -> Result<()> {
        todo!()
    }

    /// The catalog: table definitions and other objects.
    pub fn catalog(&self) -> Result<Catalog> {
        todo!()
    }

    /// Every table with its id and totals, in catalog order.
    pub fn tables(&self) -> Result<Vec<TableEntry>> {
        todo!()
    }

    /// The chunks of `table` in order, read one at a time (memory is bounded
    /// by one chunk). Each chunk's CRC is checked as it is read.
    pub fn chunks(&self, table: TableId) -> Result<ChunkIter<'_>> {
        let _ = table;
        todo!()
    }
}

/// Iterator over one table's chunks.
pub struct ChunkIter<'a> {
    _reader: &'a ArchiveReader,
}

impl Iterator for ChunkIter<'_> {
    type Item = Result<StoredChunk>;
    fn next(&mut self) -> Option<Self::Item> {
        todo!()
    }
}
