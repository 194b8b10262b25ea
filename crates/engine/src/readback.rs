//! Reading one table back out of an archive: its chunks in order, decoded
//! on the worker pool, each batch handed to the caller in archive order, and
//! at the end everything that was read compared with the table's recorded
//! totals. Restore and verify share this, so an archive that verifies is
//! exactly what a restore loads.

use std::cell::RefCell;
use std::ops::Range;
use std::path::Path;

use bru_core::{RowBatch, TableChecksum, Value};
use bru_format::codec::decode_chunk_reusing;
use bru_format::{ArchiveReader, ChunkLimits, StoredChunk, TableEntry, TableTotals};
use rayon::ThreadPool;

use crate::pipeline::{window, Ordered};
use crate::{Error, Result};

/// One chunk after decoding.
pub(crate) struct DecodedChunk {
    pub seq: u64,
    pub batch: RowBatch,
    /// Row count recorded with the chunk.
    declared_rows: u64,
    /// Uncompressed length, as declared in the archive.
    pub raw_len: u64,
    /// Bytes as stored.
    pub stored_len: u64,
    checksum: TableChecksum,
}

/// What was read back for one table (or a range of its chunks), to compare
/// with its totals.
#[derive(Debug, Default, Clone)]
pub(crate) struct ReadBack {
    pub rows: u64,
    pub chunks: u64,
    pub raw_bytes: u64,
    pub stored_bytes: u64,
    pub checksum: TableChecksum,
}

impl ReadBack {
    /// Adds another range of the same table.
    pub fn merge(&mut self, other: &ReadBack) {
        self.rows += other.rows;
        self.chunks += other.chunks;
        self.raw_bytes += other.raw_bytes;
        self.stored_bytes += other.stored_bytes;
        self.checksum.merge(&other.checksum);
    }

    fn add(&mut self, chunk: &DecodedChunk) {
        self.rows += chunk.batch.row_count() as u64;
        self.chunks += 1;
        self.raw_bytes += chunk.raw_len;
        self.stored_bytes += chunk.stored_len;
        self.checksum.merge(&chunk.checksum);
    }

    /// Fails with [`Error::Mismatch`] on the first figure that differs from
    /// `totals`.
    pub fn compare(&self, archive: &Path, table: &str, totals: &TableTotals) -> Result<()> {
        let mismatch = |what: &str, expected: String, actual: String| Error::Mismatch {
            archive: archive.to_owned(),
            table: table.to_owned(),
            what: what.to_owned(),
            expected,
            actual,
        };
        let counts = [
            ("the chunk count", totals.chunks, self.chunks),
            ("the row count", totals.rows, self.rows),
            ("the uncompressed size", totals.raw_bytes, self.raw_bytes),
            ("the stored size", totals.stored_bytes, self.stored_bytes),
        ];
        for (what, expected, actual) in counts {
            if expected != actual {
                return Err(mismatch(what, expected.to_string(), actual.to_string()));
            }
        }
        if totals.checksum != self.checksum.value() {
            return Err(mismatch(
                "the content checksum",
                format!("{:016x}", totals.checksum),
                self.checksum.to_hex(),
            ));
        }
        Ok(())
    }
}

/// The totals of `entry`, which a complete archive must have.
pub(crate) fn require_totals(archive: &Path, entry: &TableEntry) -> Result<TableTotals> {
    entry.totals.ok_or_else(|| Error::MissingTotals {
        archive: archive.to_owned(),
        table: entry.def.name.to_string(),
    })
}

/// Reads every chunk of `entry` in order, decodes the chunks on `pool` with a
/// bounded number in flight, and passes each decoded chunk to `consume` in
/// archive order. Then checks what was read against `totals`.
///
/// Fails naming the archive, table and chunk when a chunk cannot be read or
/// decoded, when a chunk is missing, or when the counts or the checksum differ
/// from `totals`; an error from `consume` is returned as is.
pub(crate) fn read_table(
    reader: &ArchiveReader,
    archive: &Path,
    pool: &ThreadPool,
    entry: &TableEntry,
    totals: &TableTotals,
    consume: impl FnMut(&DecodedChunk) -> Result<()>,
) -> Result<ReadBack> {
    let read = read_chunks(
        reader,
        archive,
        pool,
        window(pool),
        entry,
        0..u64::MAX,
        consume,
    )?;
    read.compare(archive, &entry.def.name.to_string(), totals)?;
    Ok(read)
}

/// Reads the chunks of `entry` whose sequence numbers are in `range`, in
/// order, decodes them on `pool` with at most `in_flight` at a time, and
/// passes each decoded chunk to `consume` in archive order. Returns what was
/// read, for the caller to merge with the table's other ranges and compare
/// with its totals ([`ReadBack::compare`]).
///
/// Fails as [`read_table`] does, except for the comparison with the totals.
pub(crate) fn read_chunks(
    reader: &ArchiveReader,
    archive: &Path,
    pool: &ThreadPool,
    in_flight: usize,
    entry: &TableEntry,
    range: Range<u64>,
    mut consume: impl FnMut(&DecodedChunk) -> Result<()>,
) -> Result<ReadBack> {
    let table = entry.def.name.to_string();
    let columns = entry.def.columns.len();
    let limits = reader.meta().limits;
    // The reader names the archive, table and chunk in its own errors (a
    // CRC mismatch, a missing chunk); the codec, which runs on the workers
    // without the reader, cannot, so its errors get them here the way
    // `ArchiveReader::decode` would add them.
    let chunk_error = |seq: u64, error: bru_format::Error| match error {
        bru_format::Error::Codec(message) => bru_format::Error::BadChunk {
            path: archive.to_owned(),
            table: table.clone(),
            seq,
            message,
        },
        other => other,
    };
    let mut read = ReadBack::default();
    // Value vectors of consumed chunks, handed to the next decodes: a fresh
    // vector per chunk means tens of megabytes of new pages each time, which
    // cost about as much as the decoding. At most two are kept: a submit
    // takes one as a take returns one, so memory stays as bounded as before.
    let spares: RefCell<Vec<Vec<Value>>> = RefCell::new(Vec::new());
    let mut take = |done: Result<DecodeResult>| -> Result<()> {
        let decoded = done?.map_err(|(seq, e)| chunk_error(seq, e))?;
        if decoded.batch.row_count() as u64 != decoded.declared_rows {
            return Err(Error::Mismatch {
                archive: archive.to_owned(),
                table: table.clone(),
                what: format!("the row count of chunk {}", decoded.seq),
                expected: decoded.declared_rows.to_string(),
                actual: decoded.batch.row_count().to_string(),
            });
        }
        read.add(&decoded);
        consume(&decoded)?;
        let mut spares = spares.borrow_mut();
        if spares.len() < 2 {
            let mut values = decoded.batch.into_values();
            values.clear();
            spares.push(values);
        }
        Ok(())
    };
    pool.in_place_scope(|scope| -> Result<()> {
        let mut work = Ordered::new(scope, in_flight);
        // The reader checks that chunks come in sequence with none missing.
        for stored in reader.chunks_from(entry.id, range.start)? {
            let stored = stored?;
            if stored.seq >= range.end {
                break;
            }
            let spare = spares.borrow_mut().pop().unwrap_or_default();
            if let Some(done) = work.submit(move || decode(stored, columns, limits, spare)) {
                take(done)?;
            }
            while let Some(done) = work.try_oldest() {
                take(done)?;
            }
        }
        while let Some(done) = work.wait_oldest() {
            take(done)?;
        }
        Ok(())
    })?;
    Ok(read)
}

/// A decoded chunk, or the chunk's position and why it could not be decoded.
type DecodeResult = std::result::Result<DecodedChunk, (u64, bru_format::Error)>;

/// Decodes one chunk and computes the checksum of its rows (on a worker).
fn decode(
    stored: StoredChunk,
    columns: usize,
    limits: ChunkLimits,
    spare: Vec<Value>,
) -> DecodeResult {
    let batch =
        decode_chunk_reusing(&stored.chunk, columns, limits, spare).map_err(|e| (stored.seq, e))?;
    let mut checksum = TableChecksum::new();
    for row in batch.rows() {
        checksum.add_row(row);
    }
    Ok(DecodedChunk {
        seq: stored.seq,
        declared_rows: stored.chunk.row_count,
        raw_len: stored.chunk.raw_len,
        stored_len: stored.chunk.data.len() as u64,
        batch,
        checksum,
    })
}
