//! The chunk codec: rows to column-major bytes, compressed and checksummed.
//!
//! Pure functions with no I/O, so they can run on any thread of the backup's
//! compression pool and be property-tested on plain buffers.

use bru_core::RowBatch;

use crate::error::Result;

/// A chunk ready to be stored: compressed bytes and the facts recorded next
/// to them in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedChunk {
    pub row_count: u64,
    /// Length of the encoded (uncompressed) chunk body in bytes.
    pub raw_len: u64,
    /// CRC32 (IEEE) of `data`, the stored bytes.
    pub crc32: u32,
    /// The zstd-compressed chunk body.
    pub data: Vec<u8>,
}

/// Encodes and compresses `batch` at zstd `level`.
pub fn encode_chunk(batch: &RowBatch, level: i32) -> Result<EncodedChunk> {
    let _ = (batch, level);
    todo!()
}

/// Checks, decompresses and decodes a stored chunk of a table with
/// `column_count` columns.
pub fn decode_chunk(chunk: &EncodedChunk, column_count: usize) -> Result<RowBatch> {
    let _ = (chunk, column_count);
    todo!()
}
