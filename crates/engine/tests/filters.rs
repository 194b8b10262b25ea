//! `--include` / `--exclude` on backup and on restore.

mod common;

use bru_engine::RestoreMode;
use common::*;

fn listed(archive: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = bru_engine::list(archive)
        .expect("list")
        .tables
        .into_iter()
        .map(|t| t.table)
        .collect();
    names.sort();
    names
}

#[test]
fn backup_keeps_only_selected_tables_and_their_objects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = fixture(dir.path());

    let included = dir.path().join("included.db");
    let mut options = backup_options();
    options.filter = filter(&["sites", "agent*"], &[]);
    backup(&source, &included, &options).expect("backup");
    assert_eq!(listed(&included), ["agents", "sites"]);

    let excluded = dir.path().join("excluded.db");
    let mut options = backup_options();
    options.filter = filter(&[], &["agents", "audit_*"]);
    let summary = backup(&source, &excluded, &options).expect("backup");
    assert_eq!(
        listed(&excluded),
        ["edge_values", "interval_stats", "schedules", "sites"]
    );
    // The trigger on agents goes with its table, and so does the view that
    // reads it, listed as skipped with the reason.
    let objects = bru_engine::list(&excluded).expect("list").objects;
    assert!(
        !objects.iter().any(|o| o.contains("agents_audit_update")),
        "{objects:?}"
    );
    assert!(
        !objects.iter().any(|o| o.contains("agent_daily_summary")),
        "{objects:?}"
    );
    // So do the foreign keys to agents (SQLite keeps the REFERENCES clause
    // of a table's own CREATE TABLE text, as it accepts one to a missing
    // table; another engine's target does not create them).
    assert_eq!(
        summary.skipped,
        [
            "foreign key of table schedules: references table agents, left out by --include/--exclude",
            "foreign key of table interval_stats: references table agents, left out by --include/--exclude",
            "view agent_daily_summary: depends on table agents, left out by --include/--exclude",
        ]
    );
    assert_eq!(summary.objects, objects);

    // What was kept restores exactly.
    let restored = dir.path().join("restored.sqlite");
    restore(&excluded, &restored, &restore_options(RestoreMode::Full)).expect("restore");
    let (src, dst) = (open(&source), open(&restored));
    assert_eq!(
        tables(&dst),
        ["edge_values", "interval_stats", "schedules", "sites"]
    );
    assert_same_rows(&src, &dst, &tables(&dst));
}

#[test]
fn restore_selects_tables_from_a_full_archive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (source, archive) = fixture_archive(dir.path(), "full.db");

    let restored = dir.path().join("restored.sqlite");
    let mut options = restore_options(RestoreMode::Full);
    options.filter = filter(&["s*", "*_values"], &["sites"]);
    let summary = restore(&archive, &restored, &options).expect("restore");
    let names: Vec<&str> = summary.tables.iter().map(|t| t.table.as_str()).collect();
    assert_eq!(names, ["schedules", "edge_values"]);

    let (src, dst) = (open(&source), open(&restored));
    assert_eq!(tables(&dst), ["edge_values", "schedules"]);
    assert_same_rows(&src, &dst, &tables(&dst));
}

#[test]
fn invalid_pattern_is_refused_naming_it() {
    let err = bru_engine::TableFilter::new(&["agents".into()], &["[oops".into()])
        .expect_err("invalid glob");
    assert!(err.to_string().contains("[oops"), "{err}");
}
