//! PostgreSQL → neutral values → PostgreSQL, driving the Source and Target
//! directly, against a throwaway server.

use bru_core::{BatchLimits, ObjectOutcome, Source, Target};
use bru_postgres::{PgSource, PgTarget};
use bru_testsupport::pg::{TestServer, SCHEMA_SQL as SCHEMA, TORTURE_SQL as TORTURE};

/// Copies everything from `src` to `dst` in the restore's phase order and
/// returns the objects the target skipped.
fn copy_database(src_url: &str, dst_url: &str, limits: BatchLimits) -> Vec<String> {
    let mut src = PgSource::open(src_url).expect("open source");
    let catalog = src.catalog().expect("read catalog");
    let mut dst = PgTarget::open(dst_url).expect("open target");
    let mut skipped = Vec::new();
    let mut create = |dst: &mut PgTarget, o: &bru_core::ObjectDef| match dst
        .create_object(o)
        .unwrap_or_else(|e| panic!("{e}\n{}", o.ddl))
    {
        ObjectOutcome::Created => {}
        ObjectOutcome::Skipped(why) => skipped.push(format!("{} {}: {why}", o.kind, o.name)),
    };
    for o in catalog.objects.iter().filter(|o| o.is_pre_data()) {
        create(&mut dst, o);
    }
    let names: Vec<_> = catalog.tables.iter().map(|t| t.name.clone()).collect();
    assert!(dst.existing_tables(&names).expect("existing").is_empty());
    for t in &catalog.tables {
        dst.create_table(t).unwrap_or_else(|e| {
            panic!(
                "{e}\n{}",
                t.native.as_ref().map(|n| n.create.as_str()).unwrap_or("")
            )
        });
    }
    for t in &catalog.tables {
        let mut loader = dst.load(t).expect("start load");
        let mut given = 0u64;
        src.read_table(t, limits, &mut |batch| {
            assert!(batch.row_count() <= limits.max_rows);
            given += batch.row_count() as u64;
            loader.write_batch(&batch)
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let loaded = loader.finish().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(loaded, given, "rows loaded into {}", t.name);
        dst.restore_identity(t).unwrap_or_else(|e| panic!("{e}"));
    }
    // Partitions before their partitioned table, as a restore plan finishes
    // them: the partitioned table attaches their indexes to its own.
    for t in catalog.tables.iter().rev() {
        dst.finish_table(t).unwrap_or_else(|e| panic!("{e}"));
    }
    for t in &catalog.tables {
        dst.add_foreign_keys(t).unwrap_or_else(|e| panic!("{e}"));
    }
    for o in catalog.objects.iter().filter(|o| !o.is_pre_data()) {
        create(&mut dst, o);
    }
    dst.finish().expect("finish");
    skipped
}

#[test]
fn torture_table_round_trips_exactly() {
    let Some(server) = TestServer::start() else {
        return;
    };
    let src = server.create_db("torture_src");
    let dst = server.create_db("torture_dst");
    server.psql(&src, TORTURE);
    let limits = BatchLimits {
        max_rows: 7,
        max_bytes: 64 << 10,
    };
    let skipped = copy_database(&server.url(&src), &server.url(&dst), limits);
    assert!(skipped.is_empty(), "{skipped:?}");
    let a = server.sorted_rows(&src, "public.torture");
    let b = server.sorted_rows(&dst, "public.torture");
    assert_eq!(a.len(), 3006);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
    assert_eq!(a, b);
    // Exact float bits, not just their text: -0, subnormals.
    let bits = "SELECT string_agg(id || ':' || float8send(f8)::text || float4send(f4)::text, ',' ORDER BY id) FROM public.torture";
    assert_eq!(server.psql(&src, bits), server.psql(&dst, bits));
    server.assert_same_schema(&src, &dst);
}

#[test]
fn full_schema_round_trip_is_identical() {
    let Some(server) = TestServer::start() else {
        return;
    };
    let src = server.create_db("schema_src");
    let dst = server.create_db("schema_dst");
    server.psql(&src, SCHEMA);
    let skipped = copy_database(&server.url(&src), &server.url(&dst), BatchLimits::default());
    assert!(skipped.is_empty(), "{skipped:?}");

    server.assert_same_schema(&src, &dst);
    let seqs =
        "SELECT schemaname || '.' || sequencename || '=' || coalesce(last_value::text, 'unset') \
                FROM pg_sequences ORDER BY 1";
    assert_eq!(server.psql(&src, seqs), server.psql(&dst, seqs));
    for t in [
        "hr.site",
        "hr.agent",
        "\"Sales Dept\".calls",
        "\"Sales Dept\".calls_2024",
        "public.scratch",
        "public.legacy",
        "hr.calls_per_agent",
    ] {
        let q = format!("(SELECT * FROM {t})");
        assert_eq!(
            server.sorted_rows(&src, &q),
            server.sorted_rows(&dst, &q),
            "{t}"
        );
    }
    // The restored rows kept their own `updated` (compared above): the
    // trigger did not fire on them, but it is there for new changes.
    assert_eq!(
        server.psql(
            &dst,
            "UPDATE hr.agent SET salary = salary WHERE id = 3 RETURNING updated IS NOT NULL"
        ),
        "t\n"
    );
    // New rows get the next identity values, as in the source.
    let next = "INSERT INTO hr.site (name) VALUES ('New') RETURNING id";
    assert_eq!(server.psql(&src, next), server.psql(&dst, next));
}
