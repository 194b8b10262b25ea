//! Backup → list → verify → restore of the fixture database, compared cell
//! by cell with the source.

mod common;

use bru_engine::{NoProgress, RestoreMode};
use bru_format::ArchiveState;
use common::*;

#[test]
fn fixture_round_trips_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = fixture(dir.path());
    let archive = dir.path().join("backup.db");
    let restored = dir.path().join("restored.sqlite");

    let backed_up = backup(&source, &archive, &backup_options()).expect("backup");
    let src = open(&source);
    assert_eq!(backed_up.tables.len(), tables(&src).len());
    assert_rows_of_summary(&src, &backed_up);
    assert!(
        backed_up
            .objects
            .iter()
            .any(|o| o.contains("agent_daily_summary")),
        "{:?}",
        backed_up.objects
    );

    let listing = bru_engine::list(&archive).expect("list");
    assert_eq!(listing.meta.state, ArchiveState::Complete);
    assert_eq!(listing.meta.source.engine, "sqlite");
    for t in &listing.tables {
        assert_eq!(
            t.rows,
            Some(row_count(&src, &t.table) as u64),
            "{}",
            t.table
        );
        assert!(t.stored_bytes.is_some() && t.raw_bytes.is_some());
    }

    let report =
        bru_engine::verify(&archive, 2, &[&bru_sqlite::ENGINE], &NoProgress).expect("verify");
    let chunks: u64 = listing.tables.iter().filter_map(|t| t.chunks).sum();
    assert_eq!(report.chunks_checked, chunks);
    assert!(chunks > 0);

    let restored_summary =
        restore(&archive, &restored, &restore_options(RestoreMode::Full)).expect("restore");
    assert_eq!(restored_summary.tables.len(), listing.tables.len());
    // Same engine: every object is created and nothing is left out.
    assert_eq!(restored_summary.objects, listing.objects);
    assert!(
        restored_summary.skipped.is_empty(),
        "{:?}",
        restored_summary.skipped
    );
    assert_same_database(&source, &restored);
}

#[test]
fn table_split_into_many_chunks_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = fixture(dir.path());
    let archive = dir.path().join("small-chunks.db");
    let restored = dir.path().join("restored.sqlite");

    let mut options = backup_options();
    options.chunk_bytes = 2048;
    options.jobs = 3;
    backup(&source, &archive, &options).expect("backup");

    let listing = bru_engine::list(&archive).expect("list");
    let most = listing
        .tables
        .iter()
        .filter_map(|t| t.chunks)
        .max()
        .expect("tables");
    assert!(
        most > 5,
        "expected a table in many chunks, got at most {most}"
    );

    let report =
        bru_engine::verify(&archive, 1, &[&bru_sqlite::ENGINE], &NoProgress).expect("verify");
    assert_eq!(
        report.chunks_checked,
        listing.tables.iter().filter_map(|t| t.chunks).sum::<u64>()
    );
    let mut options = restore_options(RestoreMode::Full);
    options.jobs = 3;
    restore(&archive, &restored, &options).expect("restore");
    assert_same_database(&source, &restored);
}

#[test]
fn existing_archive_is_not_overwritten_without_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = fixture(dir.path());
    let archive = dir.path().join("backup.db");
    std::fs::write(&archive, b"keep me").expect("write");

    let err = backup(&source, &archive, &backup_options()).expect_err("must refuse");
    assert!(err.to_string().contains("--force"), "{err}");
    assert_eq!(std::fs::read(&archive).expect("read"), b"keep me");

    let mut options = backup_options();
    options.force = true;
    backup(&source, &archive, &options).expect("backup with force");
    bru_engine::verify(&archive, 2, &[&bru_sqlite::ENGINE], &NoProgress).expect("verify");
}
