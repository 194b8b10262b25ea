//! A fuzz target for the chunk decoder and the catalog reader that runs on
//! stable Rust as an ordinary test: real encoded chunks, real catalogs and
//! real archive rows are mutated with a seeded PRNG (bit flips, byte
//! insertions and removals, runs duplicated, length and count fields set to
//! huge values, truncations) and fed to the decoder and the reader, which
//! must return `Ok` or an `Err`, never panic, and never allocate more than
//! the bound that the archive's [`ChunkLimits`] give a decoded chunk. A
//! counting global allocator (per thread) measures the peak of each decode.
//!
//! By default each target runs a few seconds' worth of iterations. For a
//! long run:
//!
//! ```text
//! BRU_FUZZ_ITERS=2000000 cargo test -p bru-format --test fuzz --release -- --nocapture
//! ```
//!
//! `BRU_FUZZ_SEED=<n>` picks another seed (the default is fixed, so a plain
//! `cargo test` is reproducible). A failure names the seed and iteration and
//! writes the input to the temporary directory; a crash found is fixed and
//! its input kept as a regression case in this file. Runs so far (seeds 7
//! and 11: one million mutated chunks and 100 000 mutated archives, 26
//! minutes in a debug build) found none; the chunk limits themselves are
//! tested on the attacks of issue 9 in `tests/hostile_memory.rs`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use bru_core::{
    Catalog, CheckConstraint, Column, ColumnType, Interval, ObjectDef, ObjectKind, RowBatch,
    SourceInfo, TableDef, TableName, Value,
};
use bru_format::codec::{decode_chunk_reusing, encode_body};
use bru_format::{
    encode_chunk, ArchiveReader, ArchiveWriter, ChunkLimits, EncodedChunk, TableTotals,
    WriterOptions,
};
use bru_testsupport::archive::reseal_catalog;
use rusqlite::{params, Connection};

// ---------------------------------------------------------------------------
// A global allocator that counts, per thread, the bytes live and their peak.

struct Counting;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn grew(n: usize) {
    let _ = LIVE.try_with(|l| {
        let now = l.get() + n;
        l.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

fn shrank(n: usize) {
    let _ = LIVE.try_with(|l| l.set(l.get().saturating_sub(n)));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrank(layout.size());
        System.dealloc(ptr, layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size);
        shrank(layout.size());
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result with the most bytes it had allocated at
/// once on this thread (beyond what was live before).
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    (out, PEAK.with(Cell::get) - base)
}

// ---------------------------------------------------------------------------
// The PRNG and the run settings.

/// SplitMix64: small, fast, and the same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.next().is_multiple_of(one_in)
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

/// The iterations of a target: `BRU_FUZZ_ITERS`, or `default`.
fn iterations(default: u64) -> u64 {
    env_u64("BRU_FUZZ_ITERS", default)
}

fn seed() -> u64 {
    env_u64("BRU_FUZZ_SEED", 0x6272_7539)
}

/// Writes a failing input where it can be picked up as a regression case.
fn keep_input(target: &str, iter: u64, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("bru-fuzz-{target}-{}-{iter}.bin", seed()));
    let _ = std::fs::write(&path, bytes);
    path
}

// ---------------------------------------------------------------------------
// Real inputs.

/// A random batch with every value variant, NULLs, uniform and mixed
/// columns, within `max_value` bytes per value.
fn random_batch(rng: &mut Rng, max_value: usize) -> RowBatch {
    let cols = 1 + rng.below(6);
    let rows = rng.below(200);
    let kinds: Vec<usize> = (0..cols).map(|_| rng.below(20)).collect();
    let mut b = RowBatch::new(cols);
    for _ in 0..rows {
        let row: Vec<Value> = kinds
            .iter()
            .map(|&k| {
                // Kind 19 mixes variants in one column, as SQLite allows.
                let k = if k == 19 { rng.below(19) } else { k };
                if rng.chance(4) {
                    return Value::Null;
                }
                let len = rng.below(max_value + 1);
                let text = || "é\0x".repeat(len / 4);
                match k {
                    0 => Value::Bool(rng.chance(2)),
                    1 => Value::Int16(rng.next() as i16),
                    2 => Value::Int32(rng.next() as i32),
                    3 => Value::Int64(rng.next() as i64),
                    4 => Value::Float32(f32::from_bits(rng.next() as u32)),
                    5 => Value::Float64(f64::from_bits(rng.next())),
                    6 => Value::Decimal(format!("{}.{}", rng.next() as i32, rng.below(1000))),
                    7 => Value::Text(text()),
                    8 => Value::Bytes((0..len).map(|i| i as u8).collect()),
                    9 => Value::Date(rng.next() as i32),
                    10 => Value::Time(rng.next() as i64),
                    11 => Value::TimeTz {
                        nanos: rng.next() as i64,
                        offset_secs: rng.next() as i32,
                    },
                    12 => Value::Timestamp {
                        secs: rng.next() as i64,
                        nanos: rng.next() as u32,
                    },
                    13 => Value::TimestampTz {
                        secs: rng.next() as i64,
                        nanos: rng.next() as u32,
                    },
                    14 => Value::Interval(Interval {
                        months: rng.next() as i32,
                        days: rng.next() as i32,
                        micros: rng.next() as i64,
                    }),
                    15 => Value::Uuid((rng.next() as u128 * 3).to_le_bytes()),
                    16 => Value::Json(format!("{{\"k\": {}}}", rng.next())),
                    17 => Value::Native(text()),
                    18 => Value::TimestampOffset {
                        secs: rng.next() as i64,
                        nanos: rng.next() as u32,
                        offset_secs: rng.next() as i32,
                    },
                    _ => Value::Text(String::new()),
                }
            })
            .collect();
        b.push_row(row);
    }
    b
}

/// Values that make a length or count field absurd.
const HUGE: [u64; 9] = [
    u64::MAX,
    u64::MAX / 2,
    1 << 63,
    1 << 40,
    1 << 32,
    u32::MAX as u64,
    1 << 30,
    1 << 25,
    1 << 20,
];

/// Applies one to four random mutations to `bytes`.
fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(4) {
        let len = bytes.len();
        match rng.below(8) {
            0 if len > 0 => {
                let at = rng.below(len);
                bytes[at] ^= 1 << rng.below(8);
            }
            1 => {
                let at = rng.below(len + 1);
                bytes.insert(at, rng.next() as u8);
            }
            2 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below(8.min(len - at));
                bytes.drain(at..at + n);
            }
            3 if len >= 8 => {
                // A u64 LE field (a row count, a segment length) set huge.
                let at = rng.below(len - 7);
                let v = HUGE[rng.below(HUGE.len())];
                bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
            }
            4 if len >= 4 => {
                // A u32 LE field (the column count) set huge.
                let at = rng.below(len - 3);
                let v = HUGE[rng.below(HUGE.len())] as u32;
                bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
            5 => {
                // A varint length prefix set huge.
                let at = rng.below(len + 1);
                let mut v = HUGE[rng.below(HUGE.len())];
                let mut varint = Vec::new();
                while v >= 0x80 {
                    varint.push((v as u8) | 0x80);
                    v >>= 7;
                }
                varint.push(v as u8);
                let end = (at + varint.len()).min(len);
                bytes.splice(at..end, varint);
            }
            6 if len > 0 => {
                bytes.truncate(rng.below(len));
            }
            7 if len > 0 => {
                // A run of bytes repeated (a duplicated value or segment).
                let at = rng.below(len);
                let n = 1 + rng.below(64.min(len - at));
                let run = bytes[at..at + n].to_vec();
                let to = rng.below(len + 1);
                bytes.splice(to..to, run);
            }
            _ => {}
        }
    }
}

/// What a decoded chunk may take, for a table of `columns` columns under
/// `limits`: the decompressed body (grown by doubling, so twice its
/// largest length), one `Value` per cell, the values' own bytes (never more
/// than the body) and a small per-column overhead.
fn decode_bound(limits: ChunkLimits, columns: usize) -> usize {
    let raw = limits.max_raw_len(columns as u64) as usize;
    let cells = limits.max_cells(columns as u64) as usize;
    3 * (raw + 1) + cells * std::mem::size_of::<Value>() + columns * 256 + (64 << 10)
}

// ---------------------------------------------------------------------------
// Target 1: the chunk decoder.

/// One mutated chunk through the decoder; fails the test on a panic or on
/// an allocation above the bound. Returns whether it decoded.
fn decode_one(iter: u64, chunk: &EncodedChunk, columns: usize, limits: ChunkLimits) -> bool {
    let bound = decode_bound(limits, columns);
    let run = catch_unwind(AssertUnwindSafe(|| {
        peak_of(|| decode_chunk_reusing(chunk, columns, limits, Vec::new()).map(|b| b.row_count()))
    }));
    match run {
        Ok((decoded, peak)) if peak <= bound => decoded.is_ok(),
        Ok((_, peak)) => {
            let path = keep_input("chunk", iter, &chunk.data);
            panic!(
                "seed {} iteration {iter}: decoding took {peak} bytes, above the bound of {bound} \
                 ({columns} columns, raw_len {}, rows {}; stored bytes in {})",
                seed(),
                chunk.raw_len,
                chunk.row_count,
                path.display()
            );
        }
        Err(_) => {
            let path = keep_input("chunk", iter, &chunk.data);
            panic!(
                "seed {} iteration {iter}: the decoder panicked ({columns} columns, raw_len {}, \
                 rows {}; stored bytes in {})",
                seed(),
                chunk.raw_len,
                chunk.row_count,
                path.display()
            );
        }
    }
}

#[test]
fn the_chunk_decoder_survives_mutated_chunks_within_its_memory_bound() {
    let mut rng = Rng(seed());
    let iters = iterations(3000);
    let (mut ok, mut refused) = (0u64, 0u64);
    for iter in 0..iters {
        let max_value = [0, 8, 100, 2000][rng.below(4)];
        let batch = random_batch(&mut rng, max_value);
        let columns = batch.column_count();
        let mut chunk = encode_chunk(&batch, 1).unwrap();
        // The limits a writer with 64 KiB chunks records for this chunk.
        let limits = ChunkLimits {
            chunk_bytes: 64 << 10,
            max_value_bytes: chunk.max_value_len,
        };
        match rng.below(4) {
            // The body, mutated and compressed again: most of the decoder
            // is reached only through valid zstd.
            0 | 1 => {
                let mut body = encode_body(&batch).unwrap();
                mutate(&mut rng, &mut body);
                chunk.data = zstd::bulk::compress(&body, 1).unwrap();
                chunk.raw_len = if rng.chance(3) {
                    HUGE[rng.below(HUGE.len())]
                } else {
                    body.len() as u64
                };
            }
            // The stored (compressed) bytes themselves.
            2 => mutate(&mut rng, &mut chunk.data),
            // The declared row count or length.
            _ => {
                if rng.chance(2) {
                    chunk.row_count = HUGE[rng.below(HUGE.len())];
                } else {
                    chunk.raw_len = HUGE[rng.below(HUGE.len())];
                }
            }
        }
        // As an attacker would: a CRC that matches, so the decoder's own
        // checks are what stands in the way.
        chunk.crc32 = crc32fast::hash(&chunk.data);
        if decode_one(iter, &chunk, columns, limits) {
            ok += 1;
        } else {
            refused += 1;
        }
    }
    println!("chunk decoder: {iters} iterations, {ok} decoded, {refused} refused");
    assert!(
        refused > 0,
        "no mutation was refused: the mutator is broken"
    );
}

// ---------------------------------------------------------------------------
// Target 2: the catalog reader (and the metadata and chunk rows around it).

fn rich_table() -> TableDef {
    let mut t = TableDef::new(
        TableName::new(Some("main"), "agents"),
        vec![
            Column::new("id", ColumnType::Int64, "INTEGER").not_null(),
            Column::new(
                "name",
                ColumnType::Text {
                    max_len: Some(80),
                    fixed: false,
                    national: false,
                },
                "VARCHAR(80)",
            )
            .with_default("'x'"),
            Column::new("site", ColumnType::Int32, "INTEGER"),
        ],
    )
    .with_primary_key(&["id"])
    .with_native(
        "sqlite",
        "CREATE TABLE agents (id INTEGER PRIMARY KEY, name VARCHAR(80))",
    );
    t.checks.push(CheckConstraint {
        name: Some("named".into()),
        expr: "length(name) > 0".into(),
    });
    t
}

/// A real archive with two tables of a few chunks, a view and a trigger.
fn base_archive(dir: &Path) -> PathBuf {
    let path = dir.join("base.db");
    let catalog = Catalog {
        tables: vec![rich_table(), bru_testsupport::tables::int_table("sites", 2)],
        objects: vec![
            ObjectDef::new(
                ObjectKind::View,
                TableName::bare("v_agents"),
                "sqlite",
                "CREATE VIEW v_agents AS SELECT * FROM agents",
            ),
            ObjectDef::new(
                ObjectKind::Trigger,
                TableName::bare("t_agents"),
                "sqlite",
                "CREATE TRIGGER t_agents AFTER INSERT ON agents BEGIN SELECT 1; END",
            ),
        ],
    };
    let mut w = ArchiveWriter::create(
        &path,
        &SourceInfo {
            engine: "sqlite".into(),
            version: "3.50.0".into(),
            database: "fuzz.sqlite".into(),
        },
        &WriterOptions {
            force: false,
            compress_level: 3,
            tool_version: "0.1.0-fuzz".into(),
            chunk_bytes: 64 << 10,
        },
    )
    .unwrap();
    let ids = w.write_catalog(&catalog).unwrap();
    for (id, cols) in ids.into_iter().zip([3usize, 2]) {
        let mut totals = TableTotals::default();
        for c in 0..3 {
            let mut b = RowBatch::new(cols);
            for r in 0..50 {
                let mut row = vec![Value::Int64(c * 50 + r)];
                row.extend((1..cols).map(|i| {
                    if i == 1 && cols == 3 {
                        Value::Text(format!("agent {r}"))
                    } else {
                        Value::Int32(r as i32)
                    }
                }));
                b.push_row(row);
            }
            let chunk = encode_chunk(&b, 3).unwrap();
            w.write_chunk(id, &chunk).unwrap();
            totals.rows += chunk.row_count;
            totals.raw_bytes += chunk.raw_len;
            totals.stored_bytes += chunk.data.len() as u64;
            totals.chunks += 1;
        }
        w.finish_table(id, &totals).unwrap();
    }
    w.finish().unwrap();
    path
}

/// Everything a restore or verify reads through the reader: the metadata,
/// the catalog, the tables with totals, every chunk and its decoding.
/// Returns whether all of it was accepted.
fn read_everything(path: &Path) -> bool {
    let Ok(r) = ArchiveReader::open(path) else {
        return false;
    };
    let Ok(tables) = r.tables() else {
        return false;
    };
    let mut whole = true;
    for t in &tables {
        let Ok(chunks) = r.chunks(t.id) else {
            whole = false;
            continue;
        };
        for stored in chunks {
            let (decoded, peak) =
                peak_of(|| stored.map(|s| r.decode(t, &s).map(|b| b.row_count())));
            let bound = decode_bound(r.meta().limits, t.def.columns.len());
            assert!(
                peak <= bound,
                "reading a chunk of {} took {peak} bytes, above {bound}",
                t.def.name
            );
            whole &= matches!(decoded, Ok(Ok(_)));
        }
    }
    whole
}

/// One mutation of the archive at `path`: a catalog definition (with the
/// catalog CRC recomputed, as an attacker would), a metadata value, or a
/// chunk row's counts.
fn mutate_archive(rng: &mut Rng, path: &Path) -> String {
    let conn = Connection::open(path).unwrap();
    // A scratch copy: no fsync per edit.
    conn.execute_batch("PRAGMA synchronous = OFF").unwrap();
    match rng.below(3) {
        0 => {
            let table = if rng.chance(2) {
                "bru_tables"
            } else {
                "bru_objects"
            };
            let n: i64 = conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .unwrap();
            let id = rng.below(n as usize) as i64;
            let def: String = conn
                .query_row(
                    &format!("SELECT def FROM {table} WHERE id = ?1"),
                    [id],
                    |r| r.get(0),
                )
                .unwrap();
            let mut bytes = def.into_bytes();
            mutate(rng, &mut bytes);
            // Definitions are TEXT; a mutation that breaks UTF-8 is stored
            // as the lossy text an attacker's tool would write.
            let def = String::from_utf8_lossy(&bytes).into_owned();
            conn.execute(
                &format!("UPDATE {table} SET def = ?2 WHERE id = ?1"),
                params![id, def],
            )
            .unwrap();
            reseal_catalog(&conn);
            format!("{table} {id}: {def}")
        }
        1 => {
            let keys = [
                "chunk_bytes",
                "max_value_bytes",
                "format_version",
                "compress_level",
                "state",
                "catalog_crc32",
            ];
            let key = keys[rng.below(keys.len())];
            let value = match rng.below(3) {
                0 => HUGE[rng.below(HUGE.len())].to_string(),
                1 => "-1".to_string(),
                _ => String::from_utf8_lossy(&[rng.next() as u8; 3]).into_owned(),
            };
            conn.execute(
                "UPDATE bru_meta SET value = ?2 WHERE key = ?1",
                params![key, value],
            )
            .unwrap();
            format!("bru_meta {key} = {value}")
        }
        _ => {
            let fields = [
                "row_count",
                "raw_len",
                "stored_len",
                "crc32",
                "parts",
                "seq",
            ];
            let field = fields[rng.below(fields.len())];
            let value: i64 = match rng.below(3) {
                0 => HUGE[rng.below(HUGE.len())] as i64,
                1 => -(rng.below(1000) as i64),
                _ => rng.below(100) as i64,
            };
            let id = rng.below(6) as i64 + 1;
            conn.execute(
                &format!("UPDATE OR IGNORE bru_chunks SET {field} = ?2 WHERE id = ?1"),
                params![id, value],
            )
            .unwrap();
            format!("bru_chunks {id} {field} = {value}")
        }
    }
}

#[test]
fn the_catalog_reader_survives_mutated_archives() {
    let mut rng = Rng(seed() ^ 0x00ca_7a10);
    let iters = iterations(3000) / 10;
    let dir = tempfile::tempdir().unwrap();
    let base = base_archive(dir.path());
    assert!(read_everything(&base), "the unmutated archive reads whole");
    let work = dir.path().join("work.db");
    let (mut whole, mut refused) = (0u64, 0u64);
    for iter in 0..iters {
        std::fs::copy(&base, &work).unwrap();
        let mut done = Vec::new();
        for _ in 0..1 + rng.below(2) {
            done.push(mutate_archive(&mut rng, &work));
        }
        match catch_unwind(AssertUnwindSafe(|| read_everything(&work))) {
            Ok(true) => whole += 1,
            Ok(false) => refused += 1,
            Err(_) => {
                let bytes = std::fs::read(&work).unwrap();
                let path = keep_input("archive", iter, &bytes);
                panic!(
                    "seed {} iteration {iter}: reading panicked after {done:?} (archive in {})",
                    seed(),
                    path.display()
                );
            }
        }
    }
    println!("catalog reader: {iters} iterations, {whole} read whole, {refused} refused");
    assert!(
        refused > 0,
        "no mutation was refused: the mutator is broken"
    );
}
