//! The chunk codec: rows to column-major bytes, compressed and checksummed.
//!
//! Pure functions with no I/O, so they can run on any thread of the backup's
//! compression pool and be property-tested on plain buffers.
//!
//! The body layout (FORMAT.md, "Chunk body") is column by column: for each
//! column a null bitmap, then the non-null values. A column whose non-null
//! values all have one [`Value`] variant (the usual case) stores one tag for
//! the whole column; a column that mixes variants (which SQLite allows)
//! stores one tag per value. Either way every cell keeps its own variant, so
//! the round trip is exact.
//!
//! Decoding treats its input as hostile: the CRC is checked before anything
//! else; the declared uncompressed length is checked against what a backup
//! with the archive's recorded [`ChunkLimits`] writes before decompression,
//! a zstd frame claiming more than that length is refused, and the
//! decompressor is stopped one byte past it; the declared rows × columns are
//! checked against the same limits and every value's length against the
//! largest value the backup recorded; and every read checks the bytes that
//! remain first. So neither a declared count nor a compression bomb can make
//! the decoder allocate more than a real chunk of that archive would need.

use std::io::Read;

use bru_core::{Interval, RowBatch, Value};

use crate::error::{Error, Result};
pub use crate::meta::{ChunkLimits, MAX_RAW_LEN};

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
    /// The length of the chunk's longest length-prefixed value (text,
    /// bytes, decimal, JSON, native), which the writer records for the
    /// archive's [`ChunkLimits`]; 0 for a chunk read back from an archive.
    pub max_value_len: u64,
}

/// The four bytes every chunk body starts with.
pub const BODY_MAGIC: [u8; 4] = *b"BRUC";

/// The chunk body layout version written in the body header.
pub const BODY_VERSION: u8 = 1;

/// The most cells (rows × columns) one chunk may hold. It bounds the memory
/// a decoded chunk takes, whatever the body claims.
pub const MAX_CELLS: u64 = 1 << 27;

/// Length of the body header: magic, version, column count, row count.
const HEADER_LEN: usize = 4 + 1 + 4 + 8;

/// The most the decompressor reserves up front; beyond it the output grows
/// only as real bytes come out, so a lying `raw_len` costs nothing.
const PREALLOC_CAP: u64 = 64 << 20;

/// Column segment modes.
const MODE_ALL_NULL: u8 = 0;
const MODE_UNIFORM: u8 = 1;
const MODE_MIXED: u8 = 2;

/// Value tags (FORMAT.md, "Value encodings"). NULL has no tag: it lives in
/// the bitmap.
mod tag {
    pub const BOOL: u8 = 0x01;
    pub const INT16: u8 = 0x02;
    pub const INT32: u8 = 0x03;
    pub const INT64: u8 = 0x04;
    pub const FLOAT32: u8 = 0x05;
    pub const FLOAT64: u8 = 0x06;
    pub const DECIMAL: u8 = 0x07;
    pub const TEXT: u8 = 0x08;
    pub const BYTES: u8 = 0x09;
    pub const DATE: u8 = 0x0a;
    pub const TIME: u8 = 0x0b;
    pub const TIMETZ: u8 = 0x0c;
    pub const TIMESTAMP: u8 = 0x0d;
    pub const TIMESTAMPTZ: u8 = 0x0e;
    pub const INTERVAL: u8 = 0x0f;
    pub const UUID: u8 = 0x10;
    pub const JSON: u8 = 0x11;
    pub const NATIVE: u8 = 0x12;
    pub const TIMESTAMPOFFSET: u8 = 0x13;
}

/// Encodes and compresses `batch` at zstd `level`.
///
/// Fails if the level is outside zstd's range, if the batch has more than
/// [`MAX_CELLS`] cells or encodes to more than [`MAX_RAW_LEN`] bytes (a
/// reader would refuse it), or if compression fails.
pub fn encode_chunk(batch: &RowBatch, level: i32) -> Result<EncodedChunk> {
    let range = zstd::compression_level_range();
    if !range.contains(&level) {
        return Err(Error::codec(format!(
            "compression level {level} is outside zstd's range {}..={}",
            range.start(),
            range.end()
        )));
    }
    // Each thread keeps its body buffer and its zstd context from chunk to
    // chunk: a fresh context (several MB of tables at level 3) and fresh
    // buffer pages per chunk cost a noticeable share of a backup. The
    // compressed bytes are the same either way.
    ENCODER.with(|cell| {
        let mut encoder = cell.borrow_mut();
        let Encoder { body, zstd } = &mut *encoder;
        let max_value_len = encode_body_into(batch, body)?;
        let compressor = match zstd {
            Some((l, c)) if *l == level => c,
            slot => {
                let c = zstd::bulk::Compressor::new(level)
                    .map_err(|e| Error::codec(format!("zstd compression failed: {e}")))?;
                &mut slot.insert((level, c)).1
            }
        };
        let data = compressor
            .compress(body)
            .map_err(|e| Error::codec(format!("zstd compression failed: {e}")))?;
        let raw_len = body.len() as u64;
        // A body far above the usual chunk size is not kept around.
        if body.capacity() > KEPT_BODY_CAPACITY {
            *body = Vec::new();
        }
        Ok(EncodedChunk {
            row_count: batch.row_count() as u64,
            raw_len,
            crc32: crc32fast::hash(&data),
            data,
            max_value_len,
        })
    })
}

/// The largest body buffer a thread keeps between chunks.
const KEPT_BODY_CAPACITY: usize = 64 << 20;

/// What one thread reuses from chunk to chunk when encoding.
#[derive(Default)]
struct Encoder {
    body: Vec<u8>,
    /// The zstd context, with the level it was made for.
    zstd: Option<(i32, zstd::bulk::Compressor<'static>)>,
}

thread_local! {
    static ENCODER: std::cell::RefCell<Encoder> = std::cell::RefCell::new(Encoder::default());
}

/// Checks, decompresses and decodes a stored chunk of a table with
/// `column_count` columns, within the default [`ChunkLimits`] (those of an
/// archive that records none).
///
/// Fails with [`Error::Codec`] if the CRC does not match, the declared
/// length is above the limits' [`ChunkLimits::max_raw_len`] or differs from
/// what decompression yields, the body declares more cells or a longer
/// value than the limits allow, the body is malformed in any way, or its row
/// or column count differs from the chunk's or from `column_count`.
pub fn decode_chunk(chunk: &EncodedChunk, column_count: usize) -> Result<RowBatch> {
    decode_chunk_reusing(chunk, column_count, ChunkLimits::default(), Vec::new())
}

/// [`decode_chunk`] within `limits` (an archive's own, from
/// [`crate::ArchiveMeta::limits`]), writing the values into `spare`
/// (emptied first) so that a caller decoding chunk after chunk can hand back
/// the vector of a batch it is done with: tens of megabytes of fresh pages
/// per chunk otherwise cost as much as the decoding. Fails as
/// [`decode_chunk`] does.
pub fn decode_chunk_reusing(
    chunk: &EncodedChunk,
    column_count: usize,
    limits: ChunkLimits,
    spare: Vec<Value>,
) -> Result<RowBatch> {
    let actual = crc32fast::hash(&chunk.data);
    if actual != chunk.crc32 {
        return Err(Error::codec(format!(
            "CRC mismatch (recorded {:08x}, computed {actual:08x})",
            chunk.crc32
        )));
    }
    let max_raw_len = limits.max_raw_len(column_count as u64);
    if chunk.raw_len > max_raw_len {
        return Err(Error::codec(format!(
            "it declares {} uncompressed bytes, more than the {max_raw_len} a backup with \
             {}-byte chunks and values of at most {} bytes writes for {column_count} columns",
            chunk.raw_len,
            limits.capped().chunk_bytes,
            limits.capped().max_value_bytes
        )));
    }
    let body = decompress(&chunk.data, chunk.raw_len)?;
    let batch = decode_body_reusing(&body, column_count, limits, spare)?;
    if batch.row_count() as u64 != chunk.row_count {
        return Err(Error::codec(format!(
            "the chunk records {} rows but its body holds {}",
            chunk.row_count,
            batch.row_count()
        )));
    }
    Ok(batch)
}

/// Decompresses `data`, which must yield exactly `raw_len` bytes.
fn decompress(data: &[u8], raw_len: u64) -> Result<Vec<u8>> {
    if raw_len > MAX_RAW_LEN {
        return Err(Error::codec(format!(
            "declared uncompressed length {raw_len} is above the limit of {MAX_RAW_LEN} bytes"
        )));
    }
    // A frame that says how much it holds is refused before any of it is
    // decompressed when that is more than declared (a compression bomb).
    if let Ok(Some(claimed)) = zstd::zstd_safe::get_frame_content_size(data) {
        if claimed > raw_len {
            return Err(Error::codec(format!(
                "its zstd frame holds {claimed} bytes but the chunk declares {raw_len}"
            )));
        }
    }
    let mut decoder = zstd::stream::read::Decoder::with_buffer(data)
        .map_err(|e| Error::codec(format!("zstd: {e}")))?;
    // The decoder's window is memory too: a frame that does not state its
    // size may ask for 128 MiB whatever it holds. A window larger than the
    // body is of no use to a writer, so none above the body's length (or
    // 8 MiB, what zstd's levels up to 18 use without a known size) is taken.
    let window_log = (64 - raw_len.saturating_sub(1).leading_zeros()).clamp(23, 27);
    decoder
        .window_log_max(window_log)
        .map_err(|e| Error::codec(format!("zstd: {e}")))?;
    let mut out = Vec::with_capacity(raw_len.min(PREALLOC_CAP) as usize);
    // One byte past the declared length is enough to tell "too long" apart.
    decoder
        .take(raw_len + 1)
        .read_to_end(&mut out)
        .map_err(|e| {
            Error::codec(format!(
                "zstd decompression failed: {e} (the frame may ask for a window above \
                 2^{window_log} bytes)"
            ))
        })?;
    if out.len() as u64 != raw_len {
        let got = if out.len() as u64 > raw_len {
            "more".to_string()
        } else {
            out.len().to_string()
        };
        return Err(Error::codec(format!(
            "declared uncompressed length is {raw_len} bytes but decompression yields {got}"
        )));
    }
    Ok(out)
}

/// Encodes `batch` as an uncompressed chunk body (FORMAT.md, "Chunk body").
///
/// Fails if the batch exceeds [`MAX_CELLS`] or [`MAX_RAW_LEN`].
pub fn encode_body(batch: &RowBatch) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_body_into(batch, &mut out)?;
    Ok(out)
}

/// [`encode_body`] into `out`, emptied first, so a thread encoding chunk
/// after chunk keeps one buffer rather than fresh pages each time. Returns
/// the length of the longest length-prefixed value.
fn encode_body_into(batch: &RowBatch, out: &mut Vec<u8>) -> Result<u64> {
    let cols = batch.column_count();
    let rows = batch.row_count();
    let cells = cols as u64 * rows as u64;
    if cells > MAX_CELLS {
        return Err(Error::codec(format!(
            "a chunk of {rows} rows × {cols} columns has more than {MAX_CELLS} cells; use smaller batches"
        )));
    }
    let column_count = u32::try_from(cols)
        .map_err(|_| Error::codec(format!("{cols} columns do not fit in a chunk")))?;
    let bitmap_len = rows.div_ceil(8);
    out.clear();
    out.reserve(HEADER_LEN + batch.approx_size() + cols * (9 + bitmap_len) + cells as usize);
    out.extend_from_slice(&BODY_MAGIC);
    out.push(BODY_VERSION);
    out.extend_from_slice(&column_count.to_le_bytes());
    out.extend_from_slice(&(rows as u64).to_le_bytes());

    let values = batch.values();
    let max_value_len = values.iter().map(value_len).max().unwrap_or(0);
    for c in 0..cols {
        let column = || (0..rows).map(move |r| &values[r * cols + c]);
        let len_at = out.len();
        out.extend_from_slice(&[0; 8]);
        let bitmap_at = out.len();
        out.resize(bitmap_at + bitmap_len, 0);
        let mut first_tag = None;
        let mut uniform = true;
        for (r, v) in column().enumerate() {
            match tag_of(v) {
                None => out[bitmap_at + r / 8] |= 1 << (r % 8),
                Some(t) => match first_tag {
                    None => first_tag = Some(t),
                    Some(f) if f != t => uniform = false,
                    Some(_) => {}
                },
            }
        }
        match first_tag {
            None => out.push(MODE_ALL_NULL),
            Some(t) if uniform => {
                out.push(MODE_UNIFORM);
                out.push(t);
                column().for_each(|v| write_value(out, v));
            }
            Some(_) => {
                out.push(MODE_MIXED);
                for v in column() {
                    if let Some(t) = tag_of(v) {
                        out.push(t);
                        write_value(out, v);
                    }
                }
            }
        }
        let segment_len = (out.len() - bitmap_at) as u64;
        out[len_at..bitmap_at].copy_from_slice(&segment_len.to_le_bytes());
    }
    if out.len() as u64 > MAX_RAW_LEN {
        return Err(Error::codec(format!(
            "the chunk body is {} bytes, above the limit of {MAX_RAW_LEN}; use smaller batches",
            out.len()
        )));
    }
    Ok(max_value_len)
}

/// The length of a length-prefixed value's bytes; 0 for any other.
fn value_len(v: &Value) -> u64 {
    match v {
        Value::Decimal(s) | Value::Text(s) | Value::Json(s) | Value::Native(s) => s.len() as u64,
        Value::Bytes(b) => b.len() as u64,
        _ => 0,
    }
}

/// The tag of a non-null value; `None` for NULL.
fn tag_of(v: &Value) -> Option<u8> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(_) => tag::BOOL,
        Value::Int16(_) => tag::INT16,
        Value::Int32(_) => tag::INT32,
        Value::Int64(_) => tag::INT64,
        Value::Float32(_) => tag::FLOAT32,
        Value::Float64(_) => tag::FLOAT64,
        Value::Decimal(_) => tag::DECIMAL,
        Value::Text(_) => tag::TEXT,
        Value::Bytes(_) => tag::BYTES,
        Value::Date(_) => tag::DATE,
        Value::Time(_) => tag::TIME,
        Value::TimeTz { .. } => tag::TIMETZ,
        Value::Timestamp { .. } => tag::TIMESTAMP,
        Value::TimestampTz { .. } => tag::TIMESTAMPTZ,
        Value::TimestampOffset { .. } => tag::TIMESTAMPOFFSET,
        Value::Interval(_) => tag::INTERVAL,
        Value::Uuid(_) => tag::UUID,
        Value::Json(_) => tag::JSON,
        Value::Native(_) => tag::NATIVE,
    })
}

/// Appends the encoding of a value without its tag; NULL writes nothing.
fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push(u8::from(*b)),
        Value::Int16(i) => out.extend_from_slice(&i.to_le_bytes()),
        Value::Int32(i) | Value::Date(i) => out.extend_from_slice(&i.to_le_bytes()),
        Value::Int64(i) | Value::Time(i) => out.extend_from_slice(&i.to_le_bytes()),
        Value::Float32(f) => out.extend_from_slice(&f.to_bits().to_le_bytes()),
        Value::Float64(f) => out.extend_from_slice(&f.to_bits().to_le_bytes()),
        Value::Decimal(s) | Value::Text(s) | Value::Json(s) | Value::Native(s) => {
            write_bytes(out, s.as_bytes())
        }
        Value::Bytes(b) => write_bytes(out, b),
        Value::TimeTz { nanos, offset_secs } => {
            out.extend_from_slice(&nanos.to_le_bytes());
            out.extend_from_slice(&offset_secs.to_le_bytes());
        }
        Value::Timestamp { secs, nanos } | Value::TimestampTz { secs, nanos } => {
            out.extend_from_slice(&secs.to_le_bytes());
            out.extend_from_slice(&nanos.to_le_bytes());
        }
        Value::TimestampOffset {
            secs,
            nanos,
            offset_secs,
        } => {
            out.extend_from_slice(&secs.to_le_bytes());
            out.extend_from_slice(&nanos.to_le_bytes());
            out.extend_from_slice(&offset_secs.to_le_bytes());
        }
        Value::Interval(iv) => {
            out.extend_from_slice(&iv.months.to_le_bytes());
            out.extend_from_slice(&iv.days.to_le_bytes());
            out.extend_from_slice(&iv.micros.to_le_bytes());
        }
        Value::Uuid(u) => out.extend_from_slice(u),
    }
}

/// A varint length, then the bytes.
fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Unsigned LEB128: seven bits per byte, least significant group first, the
/// high bit set on every byte but the last.
fn write_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Decodes an uncompressed chunk body of a table with `column_count`
/// columns (FORMAT.md, "Chunk body").
///
/// Fails with [`Error::Codec`] on a wrong magic or version, a column count
/// other than `column_count`, any length that runs past the data, an unknown
/// tag or mode, invalid UTF-8, a bool other than 0 or 1, set padding bits, or
/// trailing bytes.
pub fn decode_body(body: &[u8], column_count: usize) -> Result<RowBatch> {
    decode_body_reusing(body, column_count, ChunkLimits::default(), Vec::new())
}

/// [`decode_body`] within `limits` into the emptied `spare` vector (see
/// [`decode_chunk_reusing`]).
fn decode_body_reusing(
    body: &[u8],
    column_count: usize,
    limits: ChunkLimits,
    spare: Vec<Value>,
) -> Result<RowBatch> {
    let mut cur = Cursor::new(body);
    if cur.take(4)? != BODY_MAGIC {
        return Err(Error::codec(
            "the chunk body does not start with the chunk magic",
        ));
    }
    let version = cur.u8()?;
    if version != BODY_VERSION {
        return Err(Error::codec(format!(
            "unknown chunk body version {version} (this bru reads {BODY_VERSION})"
        )));
    }
    let cols = u64::from(cur.u32()?);
    let rows = cur.u64()?;
    if cols != column_count as u64 {
        return Err(Error::codec(format!(
            "the chunk has {cols} columns but the table has {column_count}"
        )));
    }
    if cols == 0 {
        // Rows of a zero-column table take no bytes; they are only counted,
        // but still within the same cap as any chunk.
        if rows > MAX_CELLS {
            return Err(Error::codec(format!(
                "the chunk declares {rows} rows of zero columns, more than {MAX_CELLS}"
            )));
        }
        cur.finish("after the header")?;
        return Ok(RowBatch::of_empty_rows(rows as usize));
    }
    let max_cells = limits.max_cells(cols).min(MAX_CELLS);
    let cells = rows
        .checked_mul(cols)
        .filter(|&n| n <= max_cells)
        .ok_or_else(|| {
            Error::codec(format!(
                "the chunk declares {rows} rows × {cols} columns, more than the {max_cells} \
                 cells a backup with {}-byte chunks writes",
                limits.capped().chunk_bytes
            ))
        })?;
    // Every column needs at least its length, its bitmap and its mode byte:
    // checking that first bounds `rows` by the bytes actually present before
    // anything is allocated from it.
    let bitmap_len = rows.div_ceil(8);
    let least = cols * (8 + bitmap_len + 1);
    if least > cur.remaining() as u64 {
        return Err(Error::codec(format!(
            "the chunk declares {rows} rows × {cols} columns but only {} bytes follow the header",
            cur.remaining()
        )));
    }
    let (rows, cols, bitmap_len) = (rows as usize, cols as usize, bitmap_len as usize);
    let max_value = limits.capped().max_value_bytes;
    let mut columns = Vec::with_capacity(cols);
    for c in 0..cols {
        columns.push(
            ColumnReader::open(&mut cur, rows, bitmap_len, max_value)
                .map_err(|e| in_column(c, e))?,
        );
    }
    cur.finish("after the last column")?;
    // All columns are read in step, row by row, so the row-major values are
    // written once, in order: no NULL-filled array to allocate and then
    // visit once per column at a stride.
    let mut values = spare;
    values.clear();
    values.reserve(cells as usize);
    for r in 0..rows {
        for (c, column) in columns.iter_mut().enumerate() {
            values.push(column.next(r).map_err(|e| in_column(c, e))?);
        }
    }
    for (c, column) in columns.into_iter().enumerate() {
        column
            .seg
            .finish("after the column's values")
            .map_err(|e| in_column(c, e))?;
    }
    Ok(RowBatch::from_values(cols, values))
}

/// One column segment being read: its null bitmap, and either the tag of
/// every value (uniform) or `None` when each value carries its own.
struct ColumnReader<'a> {
    seg: Cursor<'a>,
    bitmap: &'a [u8],
    /// `Some(tag)` for a uniform column, `None` for a mixed one; an
    /// all-NULL column has every bit set and never reads a value.
    tag: Option<u8>,
    /// The longest value the archive's backup recorded.
    max_value: u64,
}

impl<'a> ColumnReader<'a> {
    /// Reads a column segment's length, bitmap and mode from `cur`, and
    /// checks that they agree with each other.
    fn open(cur: &mut Cursor<'a>, rows: usize, bitmap_len: usize, max_value: u64) -> Result<Self> {
        let segment_len = cur.u64()?;
        let mut seg = Cursor::new(cur.take_u64(segment_len)?);
        let bitmap = seg.take(bitmap_len)?;
        let used_bits = rows % 8;
        if used_bits > 0 && bitmap[bitmap_len - 1] >> used_bits != 0 {
            return Err(Error::codec(
                "the null bitmap has bits set past the last row",
            ));
        }
        let nulls: usize = bitmap.iter().map(|b| b.count_ones() as usize).sum();
        let present = rows - nulls;
        let tag = match seg.u8()? {
            MODE_ALL_NULL if present == 0 => None,
            MODE_ALL_NULL => {
                return Err(Error::codec(format!(
                    "mode says all NULL but the bitmap has {present} non-null values"
                )))
            }
            MODE_UNIFORM | MODE_MIXED if present == 0 => {
                return Err(Error::codec("values are declared but every row is NULL"))
            }
            MODE_UNIFORM => Some(seg.u8()?),
            MODE_MIXED => None,
            mode => return Err(Error::codec(format!("unknown column mode {mode}"))),
        };
        Ok(ColumnReader {
            seg,
            bitmap,
            tag,
            max_value,
        })
    }

    /// The value of row `r` (rows are read in order).
    fn next(&mut self, r: usize) -> Result<Value> {
        if self.bitmap[r / 8] & (1 << (r % 8)) != 0 {
            return Ok(Value::Null);
        }
        let t = match self.tag {
            Some(t) => t,
            None => self.seg.u8()?,
        };
        read_value(&mut self.seg, t, self.max_value)
    }
}

/// Reads one value of tag `t`, whose length may be at most `max_value`.
fn read_value(cur: &mut Cursor<'_>, t: u8, max_value: u64) -> Result<Value> {
    Ok(match t {
        tag::BOOL => match cur.u8()? {
            0 => Value::Bool(false),
            1 => Value::Bool(true),
            b => return Err(Error::codec(format!("bool byte {b} is neither 0 nor 1"))),
        },
        tag::INT16 => Value::Int16(i16::from_le_bytes(cur.array()?)),
        tag::INT32 => Value::Int32(i32::from_le_bytes(cur.array()?)),
        tag::INT64 => Value::Int64(cur.i64()?),
        tag::FLOAT32 => Value::Float32(f32::from_bits(cur.u32()?)),
        tag::FLOAT64 => Value::Float64(f64::from_bits(cur.u64()?)),
        tag::DECIMAL => Value::Decimal(cur.string(max_value)?),
        tag::TEXT => Value::Text(cur.string(max_value)?),
        tag::BYTES => Value::Bytes(cur.bytes(max_value)?.to_vec()),
        tag::DATE => Value::Date(i32::from_le_bytes(cur.array()?)),
        tag::TIME => Value::Time(cur.i64()?),
        tag::TIMETZ => Value::TimeTz {
            nanos: cur.i64()?,
            offset_secs: i32::from_le_bytes(cur.array()?),
        },
        tag::TIMESTAMP => Value::Timestamp {
            secs: cur.i64()?,
            nanos: cur.u32()?,
        },
        tag::TIMESTAMPTZ => Value::TimestampTz {
            secs: cur.i64()?,
            nanos: cur.u32()?,
        },
        tag::TIMESTAMPOFFSET => Value::TimestampOffset {
            secs: cur.i64()?,
            nanos: cur.u32()?,
            offset_secs: i32::from_le_bytes(cur.array()?),
        },
        tag::INTERVAL => Value::Interval(Interval {
            months: i32::from_le_bytes(cur.array()?),
            days: i32::from_le_bytes(cur.array()?),
            micros: cur.i64()?,
        }),
        tag::UUID => Value::Uuid(cur.array()?),
        tag::JSON => Value::Json(cur.string(max_value)?),
        tag::NATIVE => Value::Native(cur.string(max_value)?),
        other => return Err(Error::codec(format!("unknown value tag 0x{other:02x}"))),
    })
}

/// Prefixes a codec error with the column it happened in.
fn in_column(c: usize, e: Error) -> Error {
    match e {
        Error::Codec(m) => Error::Codec(format!("column {c}: {m}")),
        other => other,
    }
}

/// A bounds-checked reader over a byte slice: every read checks the bytes
/// that remain before taking any.
struct Cursor<'a> {
    buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Cursor { buf }
    }

    fn remaining(&self) -> usize {
        self.buf.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.buf.len() {
            return Err(Error::codec(format!(
                "data ends early: {n} bytes needed, {} left",
                self.buf.len()
            )));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn take_u64(&mut self, n: u64) -> Result<&'a [u8]> {
        match usize::try_from(n) {
            Ok(n) => self.take(n),
            Err(_) => Err(Error::codec(format!("length {n} is impossibly large"))),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    fn varint(&mut self) -> Result<u64> {
        let mut n: u64 = 0;
        for i in 0..10 {
            let b = self.u8()?;
            let bits = u64::from(b & 0x7f);
            // The tenth byte may only carry the top bit of a u64.
            if i == 9 && (b & 0x80 != 0 || bits > 1) {
                break;
            }
            n |= bits << (7 * i);
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(Error::codec("length varint is longer than 64 bits"))
    }

    /// A length-prefixed value of at most `max` bytes: a longer one is
    /// refused before anything is copied.
    fn bytes(&mut self, max: u64) -> Result<&'a [u8]> {
        let n = self.varint()?;
        if n > max {
            return Err(Error::codec(format!(
                "a value declares {n} bytes, more than the {max} of the longest value the backup wrote"
            )));
        }
        self.take_u64(n)
    }

    fn string(&mut self, max: u64) -> Result<String> {
        let b = self.bytes(max)?;
        std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|e| Error::codec(format!("text is not valid UTF-8: {e}")))
    }

    /// Fails unless every byte was consumed.
    fn finish(&self, where_: &str) -> Result<()> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(Error::codec(format!(
                "{} unexpected trailing bytes {where_}",
                self.buf.len()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trips_at_the_edges() {
        for n in [0, 1, 127, 128, 300, u32::MAX as u64, u64::MAX - 1, u64::MAX] {
            let mut out = Vec::new();
            write_varint(&mut out, n);
            let mut cur = Cursor::new(&out);
            assert_eq!(cur.varint().unwrap(), n);
            assert_eq!(cur.remaining(), 0);
        }
        let too_long = [0xff; 11];
        assert!(Cursor::new(&too_long).varint().is_err());
        let overflow = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(Cursor::new(&overflow).varint().is_err());
    }

    #[test]
    fn timestamp_offset_layout_is_as_documented() {
        let v = Value::TimestampOffset {
            secs: -2,
            nanos: 100,
            offset_secs: -50_400,
        };
        let batch = RowBatch::from_values(1, vec![v.clone()]);
        let body = encode_body(&batch).unwrap();
        let mut value = vec![MODE_UNIFORM, tag::TIMESTAMPOFFSET];
        value.extend_from_slice(&(-2i64).to_le_bytes());
        value.extend_from_slice(&100u32.to_le_bytes());
        value.extend_from_slice(&(-50_400i32).to_le_bytes());
        assert!(body.ends_with(&value), "{body:?}");
        assert_eq!(decode_body(&body, 1).unwrap(), batch);
        for offset_secs in [14 * 3600, -14 * 3600, 0] {
            let b = RowBatch::from_values(
                1,
                vec![Value::TimestampOffset {
                    secs: 253_402_300_799,
                    nanos: 999_999_900,
                    offset_secs,
                }],
            );
            assert_eq!(decode_body(&encode_body(&b).unwrap(), 1).unwrap(), b);
        }
    }

    #[test]
    fn body_layout_of_a_small_batch_is_as_documented() {
        let batch = RowBatch::from_values(
            2,
            vec![
                Value::Int32(7),
                Value::Null,
                Value::Null,
                Value::Text("é".into()),
            ],
        );
        let body = encode_body(&batch).unwrap();
        #[rustfmt::skip]
        let expected: Vec<u8> = vec![
            b'B', b'R', b'U', b'C', 1,
            2, 0, 0, 0,
            2, 0, 0, 0, 0, 0, 0, 0,
            // column 0: segment of 7 bytes, bitmap 0b10, uniform int32 7
            7, 0, 0, 0, 0, 0, 0, 0, 0b10, MODE_UNIFORM, tag::INT32, 7, 0, 0, 0,
            // column 1: segment of 6 bytes, bitmap 0b01, uniform text "é"
            6, 0, 0, 0, 0, 0, 0, 0, 0b01, MODE_UNIFORM, tag::TEXT, 2, 0xc3, 0xa9,
        ];
        assert_eq!(body, expected);
        let back = decode_body(&body, 2).unwrap();
        assert_eq!(back, batch);
    }

    #[test]
    fn huge_declared_raw_len_is_refused_before_decompressing() {
        let batch = RowBatch::from_values(1, vec![Value::Int64(1)]);
        let mut chunk = encode_chunk(&batch, 3).unwrap();
        chunk.raw_len = u64::MAX;
        let err = decode_chunk(&chunk, 1).unwrap_err().to_string();
        assert!(err.contains("more than the 4294967296 a backup"), "{err}");
        // Within the limits of an archive with small chunks and values, a
        // raw length above them is refused before decompressing too.
        let small = ChunkLimits {
            chunk_bytes: 1 << 10,
            max_value_bytes: 8,
        };
        chunk.raw_len = small.max_raw_len(1) + 1;
        let err = decode_chunk_reusing(&chunk, 1, small, Vec::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("1024-byte chunks"), "{err}");
        // A zstd frame that says it holds more than the chunk declares is
        // refused before it is decompressed.
        let body = encode_body(&batch).unwrap();
        chunk.raw_len = body.len() as u64 - 1;
        let err = decode_chunk(&chunk, 1).unwrap_err().to_string();
        assert!(err.contains("its zstd frame holds"), "{err}");
        // A frame without a content size that asks for a 128 MiB window
        // for a body of a few bytes is refused before the window is made.
        let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 17 << 3];
        frame.extend_from_slice(&(((body.len() as u32) << 3) | 1).to_le_bytes()[..3]);
        frame.extend_from_slice(&body);
        chunk.raw_len = body.len() as u64;
        chunk.data = frame;
        chunk.crc32 = crc32fast::hash(&chunk.data);
        let err = decode_chunk(&chunk, 1).unwrap_err().to_string();
        assert!(err.contains("window above 2^23 bytes"), "{err}");
        // The same frame with a window of 2^23 decodes.
        chunk.data[5] = 13 << 3;
        chunk.crc32 = crc32fast::hash(&chunk.data);
        assert_eq!(decode_chunk(&chunk, 1).unwrap(), batch);
        chunk.raw_len = MAX_RAW_LEN;
        let err = decode_chunk(&chunk, 1).unwrap_err().to_string();
        assert!(err.contains("decompression yields"), "{err}");
    }

    #[test]
    fn rows_beyond_the_bytes_present_are_refused_without_allocating() {
        let mut body = Vec::new();
        body.extend_from_slice(&BODY_MAGIC);
        body.push(BODY_VERSION);
        body.extend_from_slice(&1u32.to_le_bytes());
        body.extend_from_slice(&(MAX_CELLS - 1).to_le_bytes());
        let err = decode_body(&body, 1).unwrap_err().to_string();
        assert!(
            err.contains("cells a backup with 4194304-byte chunks"),
            "{err}"
        );
        body[9..17].copy_from_slice(&(1u64 << 20).to_le_bytes());
        let err = decode_body(&body, 1).unwrap_err().to_string();
        assert!(err.contains("only 0 bytes follow"), "{err}");
        body[9..17].copy_from_slice(&u64::MAX.to_le_bytes());
        let err = decode_body(&body, 1).unwrap_err().to_string();
        assert!(err.contains("cells"), "{err}");
    }

    #[test]
    fn column_count_must_match_the_table() {
        let batch = RowBatch::from_values(1, vec![Value::Int64(1)]);
        let chunk = encode_chunk(&batch, 3).unwrap();
        let err = decode_chunk(&chunk, 2).unwrap_err().to_string();
        assert!(err.contains("has 1 columns but the table has 2"), "{err}");
    }

    #[test]
    fn zero_columns_round_trip_with_their_row_count() {
        let chunk = encode_chunk(&RowBatch::new(0), 3).unwrap();
        assert_eq!(chunk.row_count, 0);
        assert_eq!(decode_chunk(&chunk, 0).unwrap().row_count(), 0);
        // A zero-column table still has rows; they must not be lost.
        let chunk = encode_chunk(&RowBatch::of_empty_rows(3), 3).unwrap();
        assert_eq!(chunk.row_count, 3);
        assert_eq!(decode_chunk(&chunk, 0).unwrap().row_count(), 3);
    }
}
