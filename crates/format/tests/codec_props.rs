//! Property tests of the chunk codec: arbitrary batches round-trip exactly,
//! and arbitrary damage to an encoded chunk is an error, never a panic.

use bru_core::{Interval, RowBatch, Value};
use bru_format::codec::{decode_body, encode_body};
use bru_format::{decode_chunk, encode_chunk, EncodedChunk};
use proptest::prelude::*;

/// Text with the awkward cases over-represented: empty, NUL, non-ASCII.
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        Just(String::new()),
        Just("\0".to_string()),
        Just("a\0b\u{e9}\u{1F600}\u{10FFFF}".to_string()),
        any::<String>(),
        "(?s).{0,40}",
    ]
    .boxed()
}

fn bytes() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![Just(Vec::new()), prop::collection::vec(any::<u8>(), 0..64)].boxed()
}

fn f64s() -> BoxedStrategy<f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(-0.0),
        Just(0.0),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MIN_POSITIVE / 2.0),
        any::<u64>().prop_map(f64::from_bits),
    ]
    .boxed()
}

fn f32s() -> BoxedStrategy<f32> {
    prop_oneof![
        Just(f32::NAN),
        Just(-0.0f32),
        Just(f32::INFINITY),
        Just(f32::NEG_INFINITY),
        any::<u32>().prop_map(f32::from_bits),
    ]
    .boxed()
}

fn i64s() -> BoxedStrategy<i64> {
    prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(0), any::<i64>()].boxed()
}

/// The number of non-null variants.
const KINDS: u8 = 19;

/// A non-null value of variant `kind`.
fn value_of_kind(kind: u8) -> BoxedStrategy<Value> {
    match kind {
        0 => any::<bool>().prop_map(Value::Bool).boxed(),
        1 => any::<i16>().prop_map(Value::Int16).boxed(),
        2 => any::<i32>().prop_map(Value::Int32).boxed(),
        3 => i64s().prop_map(Value::Int64).boxed(),
        4 => f32s().prop_map(Value::Float32).boxed(),
        5 => f64s().prop_map(Value::Float64).boxed(),
        6 => prop_oneof![
            Just("0".to_string()),
            Just("-123456789012345678901234567890.000000000000000000001".to_string()),
            Just("NaN".to_string()),
            "-?[0-9]{1,40}(\\.[0-9]{1,20})?",
        ]
        .prop_map(Value::Decimal)
        .boxed(),
        7 => text().prop_map(Value::Text).boxed(),
        8 => bytes().prop_map(Value::Bytes).boxed(),
        9 => prop_oneof![Just(i32::MIN), Just(i32::MAX), any::<i32>()]
            .prop_map(Value::Date)
            .boxed(),
        10 => i64s().prop_map(Value::Time).boxed(),
        11 => (i64s(), any::<i32>())
            .prop_map(|(nanos, offset_secs)| Value::TimeTz { nanos, offset_secs })
            .boxed(),
        12 => (i64s(), any::<u32>())
            .prop_map(|(secs, nanos)| Value::Timestamp { secs, nanos })
            .boxed(),
        13 => (i64s(), any::<u32>())
            .prop_map(|(secs, nanos)| Value::TimestampTz { secs, nanos })
            .boxed(),
        14 => (any::<i32>(), any::<i32>(), i64s())
            .prop_map(|(months, days, micros)| {
                Value::Interval(Interval {
                    months,
                    days,
                    micros,
                })
            })
            .boxed(),
        15 => any::<[u8; 16]>().prop_map(Value::Uuid).boxed(),
        16 => text().prop_map(Value::Json).boxed(),
        17 => (i64s(), any::<u32>(), any::<i32>())
            .prop_map(|(secs, nanos, offset_secs)| Value::TimestampOffset {
                secs,
                nanos,
                offset_secs,
            })
            .boxed(),
        _ => text().prop_map(Value::Native).boxed(),
    }
}

/// A value of any variant, NULL included.
fn any_value() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        6 => (0..KINDS).prop_flat_map(value_of_kind),
    ]
    .boxed()
}

/// One column of `rows` cells: uniform in one variant (with NULLs), all
/// NULL, or mixing variants as SQLite allows.
fn column(rows: usize) -> BoxedStrategy<Vec<Value>> {
    prop_oneof![
        (0..KINDS).prop_flat_map(move |k| {
            prop::collection::vec(
                prop_oneof![1 => Just(Value::Null), 3 => value_of_kind(k)],
                rows,
            )
        }),
        Just(vec![Value::Null; rows]),
        prop::collection::vec(any_value(), rows),
    ]
    .boxed()
}

/// A batch of 1..6 columns and 0..40 rows, built column by column.
fn batch() -> impl Strategy<Value = RowBatch> {
    (1usize..6, 0usize..40).prop_flat_map(|(cols, rows)| {
        prop::collection::vec(column(rows), cols).prop_map(move |columns| {
            let mut values = Vec::with_capacity(rows * cols);
            for r in 0..rows {
                for col in &columns {
                    values.push(col[r].clone());
                }
            }
            RowBatch::from_values(cols, values)
        })
    })
}

fn assert_same(a: &RowBatch, b: &RowBatch) {
    assert_eq!(a.column_count(), b.column_count());
    assert_eq!(a.row_count(), b.row_count());
    for (i, (x, y)) in a.values().iter().zip(b.values()).enumerate() {
        assert!(x.same_as(y), "cell {i}: wrote {x:?}, read {y:?}");
    }
}

/// A chunk whose CRC matches its (possibly damaged) data, so decoding gets
/// past the CRC and exercises decompression and the body decoder.
fn with_fresh_crc(mut chunk: EncodedChunk) -> EncodedChunk {
    chunk.crc32 = crc32fast::hash(&chunk.data);
    chunk
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn chunks_round_trip_exactly(batch in batch(), level in prop_oneof![Just(1), Just(3), Just(-5)]) {
        let chunk = encode_chunk(&batch, level).unwrap();
        prop_assert_eq!(chunk.row_count, batch.row_count() as u64);
        let back = decode_chunk(&chunk, batch.column_count()).unwrap();
        assert_same(&batch, &back);
    }

    #[test]
    fn damaged_stored_bytes_never_panic(
        batch in batch(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let chunk = encode_chunk(&batch, 3).unwrap();
        let cols = batch.column_count();

        let mut flipped = chunk.clone();
        for (at, x) in &flips {
            let i = at.index(flipped.data.len());
            flipped.data[i] ^= x;
        }
        // With the CRC as recorded, damage is always caught.
        prop_assert!(decode_chunk(&flipped, cols).is_err());
        // With a matching CRC it decodes to something or fails; never panics.
        let _ = decode_chunk(&with_fresh_crc(flipped), cols);

        let mut truncated = chunk.clone();
        truncated.data.truncate(cut.index(chunk.data.len()));
        prop_assert!(decode_chunk(&with_fresh_crc(truncated), cols).is_err());

        let mut lying = chunk.clone();
        lying.raw_len += 1;
        prop_assert!(decode_chunk(&lying, cols).is_err());
        lying.raw_len = chunk.raw_len.saturating_sub(1);
        prop_assert!(decode_chunk(&lying, cols).is_err());

        let mut rows = chunk.clone();
        rows.row_count += 1;
        prop_assert!(decode_chunk(&rows, cols).is_err());
    }

    #[test]
    fn damaged_bodies_never_panic(
        batch in batch(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        extra in prop::collection::vec(any::<u8>(), 1..8),
    ) {
        let body = encode_body(&batch).unwrap();
        let cols = batch.column_count();

        let mut damaged = body.clone();
        for (at, b) in &flips {
            let i = at.index(damaged.len());
            damaged[i] = *b;
        }
        if let Ok(decoded) = decode_body(&damaged, cols) {
            prop_assert_eq!(decoded.column_count(), cols);
        }
        // A recompressed damaged body goes through the whole chunk decoder.
        let data = zstd::bulk::compress(&damaged, 1).unwrap();
        let chunk = EncodedChunk {
            row_count: batch.row_count() as u64,
            raw_len: damaged.len() as u64,
            crc32: crc32fast::hash(&data),
            data,
            max_value_len: 0,
        };
        let _ = decode_chunk(&chunk, cols);

        let cut = cut.index(body.len());
        prop_assert!(decode_body(&body[..cut], cols).is_err());

        let mut longer = body.clone();
        longer.extend_from_slice(&extra);
        let err = decode_body(&longer, cols).unwrap_err().to_string();
        prop_assert!(err.contains("trailing"), "{}", err);
    }
}

#[test]
fn nulls_empty_text_and_empty_bytes_stay_distinct() {
    let batch = RowBatch::from_values(
        1,
        vec![
            Value::Null,
            Value::Text(String::new()),
            Value::Bytes(Vec::new()),
            Value::Text("\0".into()),
        ],
    );
    let back = decode_chunk(&encode_chunk(&batch, 3).unwrap(), 1).unwrap();
    assert_same(&batch, &back);
}

#[test]
fn invalid_utf8_unknown_tags_and_bad_bools_are_errors() {
    let one = |v: Value| encode_body(&RowBatch::from_values(1, vec![v])).unwrap();
    // Header 17 bytes, segment length 8, bitmap 1, mode 1, tag 1: the value
    // starts at offset 28.
    let mut text = one(Value::Text("ab".into()));
    text[29] = 0xff;
    let err = decode_body(&text, 1).unwrap_err().to_string();
    assert!(err.contains("UTF-8"), "{err}");

    let mut tag = one(Value::Int64(1));
    tag[27] = 0x7f;
    let err = decode_body(&tag, 1).unwrap_err().to_string();
    assert!(err.contains("unknown value tag 0x7f"), "{err}");

    let mut b = one(Value::Bool(true));
    b[28] = 2;
    let err = decode_body(&b, 1).unwrap_err().to_string();
    assert!(err.contains("neither 0 nor 1"), "{err}");
}

#[test]
fn a_single_huge_value_round_trips() {
    let big = vec![0x5au8; 20 << 20];
    let batch = RowBatch::from_values(2, vec![Value::Int64(1), Value::Bytes(big)]);
    let chunk = encode_chunk(&batch, 1).unwrap();
    assert!(chunk.raw_len > 20 << 20);
    let back = decode_chunk(&chunk, 2).unwrap();
    assert_same(&batch, &back);
}
