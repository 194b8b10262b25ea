//! Restoring over existing tables, `--clean`, `--schema-only` and
//! `--data-only`.

mod common;

use bru_engine::RestoreMode;
use common::*;

#[test]
fn restore_over_existing_tables_is_refused_then_works_with_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (source, archive) = fixture_archive(dir.path(), "backup.db");

    let target = dir.path().join("target.sqlite");
    restore(&archive, &target, &restore_options(RestoreMode::Full)).expect("first restore");
    // Change the target so we can tell whether a refused restore touched it.
    open(&target)
        .execute("DELETE FROM edge_values", [])
        .expect("delete");

    let err = restore(&archive, &target, &restore_options(RestoreMode::Full))
        .expect_err("must refuse existing tables");
    let msg = err.to_string();
    for table in tables(&open(&source)) {
        assert!(msg.contains(&table), "{table} not named in: {msg}");
    }
    assert!(msg.contains("--clean"), "{msg}");
    assert_eq!(
        row_count(&open(&target), "edge_values"),
        0,
        "target was touched"
    );

    let mut options = restore_options(RestoreMode::Full);
    options.clean = true;
    restore(&archive, &target, &options).expect("restore with clean");
    assert_same_database(&source, &target);
}

#[test]
fn schema_only_gives_empty_tables_with_indexes_and_objects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (source, archive) = fixture_archive(dir.path(), "backup.db");

    let target = dir.path().join("schema.sqlite");
    let summary =
        restore(&archive, &target, &restore_options(RestoreMode::SchemaOnly)).expect("restore");
    assert!(summary.tables.iter().all(|t| t.rows == 0));

    let (src, dst) = (open(&source), open(&target));
    assert_eq!(schema(&src), schema(&dst));
    assert!(!indexes(&dst).is_empty());
    assert_eq!(indexes(&src), indexes(&dst));
    for table in tables(&dst) {
        assert_eq!(row_count(&dst, &table), 0, "{table}");
    }
}

#[test]
fn data_only_loads_into_a_pre_created_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (source, archive) = fixture_archive(dir.path(), "backup.db");

    let target = dir.path().join("target.sqlite");
    restore(&archive, &target, &restore_options(RestoreMode::SchemaOnly)).expect("schema");
    let summary =
        restore(&archive, &target, &restore_options(RestoreMode::DataOnly)).expect("data");

    let (src, dst) = (open(&source), open(&target));
    assert_rows_of_summary(&src, &summary);
    assert_same_rows(&src, &dst, &tables(&src));
    assert_eq!(schema(&src), schema(&dst));
}

#[test]
fn data_only_checks_every_table_before_writing_any_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, archive) = fixture_archive(dir.path(), "backup.db");

    let target = dir.path().join("target.sqlite");
    restore(&archive, &target, &restore_options(RestoreMode::SchemaOnly)).expect("schema");
    // The last table in the archive is missing from the target: the check
    // must fail before the first tables get any rows.
    let last = bru_engine::list(&archive)
        .expect("list")
        .tables
        .last()
        .expect("tables")
        .table
        .clone();
    open(&target)
        .execute_batch(&format!("DROP TABLE \"{last}\""))
        .expect("drop");

    let err = restore(&archive, &target, &restore_options(RestoreMode::DataOnly))
        .expect_err("missing table must be refused");
    assert!(err.to_string().contains(&last), "{err}");
    let dst = open(&target);
    for table in tables(&dst) {
        assert_eq!(row_count(&dst, &table), 0, "{table} got rows");
    }
}
