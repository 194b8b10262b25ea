//! SQLite virtual tables through a backup and a restore into SQLite: the
//! rows and rowids of FTS5, FTS4 and R-tree tables come back, the full-text
//! index answers MATCH queries as the source did, an external content FTS
//! table is rebuilt from its restored content table, and a contentless one
//! (whose index cannot be read back) is reported as skipped.

mod common;

use std::path::{Path, PathBuf};

use bru_engine::{NoProgress, RestoreMode};
use bru_testsupport::sqlite::{cell, table_rows};
use common::{backup, backup_options, open, restore, restore_options};
use rusqlite::Connection;

const SCHEMA: &str = "
CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT, body TEXT);
CREATE VIRTUAL TABLE notes USING fts5 (title, body, tokenize = 'unicode61');
CREATE VIRTUAL TABLE old_notes USING fts4 (subject, text);
CREATE VIRTUAL TABLE words USING fts4 (word, languageid=\"lang\");
CREATE VIRTUAL TABLE boxes USING rtree (id, min_x, max_x, min_y, max_y);
CREATE VIRTUAL TABLE article_index USING fts5 (title, body, content = 'articles', content_rowid = 'id');
CREATE VIRTUAL TABLE blind USING fts5 (word, content = '');
";

fn build_source(path: &Path) {
    let conn = open(path);
    conn.execute_batch(SCHEMA).expect("create schema");
    conn.execute_batch(
        "INSERT INTO notes (rowid, title, body) VALUES
             (3, 'Crème brûlée', 'caramel custard dessert'),
             (17, 'Ελληνικά', NULL),
             (18, 'Tokyo 東京', 'ramen and sushi dessert'),
             (1000000, 'last', 'caramel again');
         INSERT INTO old_notes (docid, subject, text) VALUES
             (5, 'hello', 'wide world'),
             (9, 'naïve café', 'world peace');
         INSERT INTO words (docid, word, lang) VALUES (1, 'chat', 0), (2, 'chat', 1);
         INSERT INTO boxes VALUES
             (1, 0.5, 1.5, -2.0, 2.0),
             (42, 10.0, 20.25, 3.0, 4.0);
         INSERT INTO articles (id, title, body) VALUES
             (2, 'first', 'sunny weather'),
             (7, 'second', 'rainy weather tomorrow');
         INSERT INTO article_index (article_index) VALUES ('rebuild');
         INSERT INTO blind (rowid, word) VALUES (1, 'ghost'), (2, 'spirit');",
    )
    .expect("fill source");
}

/// The source built in `dir` and backed up: `(source, archive, restored)`,
/// the last not created yet.
fn backed_up_source(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let source = dir.join("source.sqlite");
    let archive = dir.join("backup.bru");
    let restored = dir.join("restored.sqlite");
    build_source(&source);
    backup(&source, &archive, &backup_options()).expect("backup");
    (source, archive, restored)
}

/// The rowids of `table` matching the full-text query `query`.
fn matches(conn: &Connection, table: &str, query: &str) -> Vec<i64> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT rowid FROM {table} WHERE {table} MATCH ?1 ORDER BY rowid"
        ))
        .expect("prepare MATCH");
    let out = stmt.query_map([query], |r| r.get(0)).expect("MATCH");
    out.collect::<Result<_, _>>().expect("read MATCH")
}

/// The rowids of the R-tree entries overlapping the point (x, y).
fn boxes_at(conn: &Connection, x: f64, y: f64) -> Vec<i64> {
    let mut stmt = conn
        .prepare(
            "SELECT id FROM boxes WHERE min_x <= ?1 AND max_x >= ?1 \
             AND min_y <= ?2 AND max_y >= ?2 ORDER BY id",
        )
        .expect("prepare R-tree query");
    let out = stmt.query_map([x, y], |r| r.get(0)).expect("R-tree query");
    out.collect::<Result<_, _>>().expect("read R-tree query")
}

#[test]
fn virtual_tables_keep_their_rows_rowids_and_indexes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (source, archive, restored) = backed_up_source(dir.path());
    let report =
        bru_engine::verify(&archive, 2, &[&bru_sqlite::ENGINE], &NoProgress).expect("verify");
    let carried: Vec<&str> = report
        .summary
        .tables
        .iter()
        .map(|t| t.table.as_str())
        .collect();
    for table in ["notes", "old_notes", "words", "boxes", "articles"] {
        assert!(
            carried.iter().any(|c| c.ends_with(table)),
            "{table} is carried as a table: {carried:?}"
        );
    }
    for not_carried in ["article_index", "blind"] {
        assert!(
            !carried.iter().any(|c| c.ends_with(not_carried)),
            "{not_carried} has no rows of its own to carry: {carried:?}"
        );
    }

    let summary =
        restore(&archive, &restored, &restore_options(RestoreMode::Full)).expect("restore");
    let skipped = summary.skipped.join("\n");
    assert!(
        summary
            .skipped
            .iter()
            .any(|s| s.contains("blind") && s.contains("contentless FTS table")),
        "the contentless table is listed as skipped: {skipped}"
    );
    assert_eq!(
        summary.skipped.len(),
        1,
        "nothing else is skipped: {skipped}"
    );

    let (a, b) = (open(&source), open(&restored));
    for table in ["notes", "old_notes", "boxes", "articles", "article_index"] {
        let (left, right) = (table_rows(&a, table), table_rows(&b, table));
        assert!(!left.is_empty(), "{table} has rows in the source");
        assert_eq!(left, right, "rows and rowids of {table}");
    }
    assert_eq!(
        table_rows(&b, "notes")[1],
        ["integer:17".to_owned(), cell("Ελληνικά"), "null".to_owned()]
    );
    for query in [
        "caramel",
        "dessert",
        "東京",
        "brûlée",
        "caramel NOT custard",
    ] {
        assert_eq!(
            matches(&a, "notes", query),
            matches(&b, "notes", query),
            "notes MATCH {query}"
        );
    }
    assert_eq!(matches(&b, "notes", "dessert"), [3, 18]);
    for query in ["world", "café", "hello"] {
        assert_eq!(
            matches(&a, "old_notes", query),
            matches(&b, "old_notes", query),
            "old_notes MATCH {query}"
        );
    }
    assert_eq!(matches(&b, "old_notes", "world"), [5, 9]);
    // An FTS4 language id is a hidden column, carried as data.
    let words = |conn: &Connection, lang: i64| -> Vec<String> {
        let mut stmt = conn
            .prepare(
                "SELECT rowid || ' ' || word || ' ' || lang FROM words \
                 WHERE words MATCH 'chat' AND lang = ?1",
            )
            .expect("prepare words");
        let out = stmt.query_map([lang], |r| r.get(0)).expect("words");
        out.collect::<Result<_, _>>().expect("read words")
    };
    assert_eq!(words(&b, 1), ["2 chat 1"]);
    assert_eq!(words(&a, 0), words(&b, 0));
    assert_eq!(matches(&b, "article_index", "weather"), [2, 7]);
    assert_eq!(
        matches(&a, "article_index", "rainy"),
        matches(&b, "article_index", "rainy")
    );
    assert_eq!(boxes_at(&b, 1.0, 0.0), [1]);
    assert_eq!(boxes_at(&a, 15.0, 3.5), boxes_at(&b, 15.0, 3.5));
    // The contentless table exists but is empty: its index was not carried.
    assert_eq!(matches(&a, "blind", "ghost"), [1]);
    assert!(matches(&b, "blind", "ghost").is_empty());

    // The restored indexes agree with their rows.
    for fts in ["notes", "old_notes", "words", "article_index"] {
        b.execute_batch(&format!(
            "INSERT INTO {fts}({fts}) VALUES('integrity-check')"
        ))
        .unwrap_or_else(|e| panic!("integrity-check of {fts}: {e}"));
    }
    let check: String = b
        .query_row("SELECT rtreecheck('boxes')", [], |r| r.get(0))
        .expect("rtreecheck");
    assert_eq!(check, "ok");
    // No shadow table was restored as a table of its own: each one is the
    // module's, created with its virtual table.
    let shadows = |conn: &Connection| -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .expect("list tables");
        let names = stmt.query_map([], |r| r.get(0)).expect("list tables");
        names.collect::<Result<_, _>>().expect("read tables")
    };
    assert_eq!(
        shadows(&a),
        shadows(&b),
        "same tables, shadow tables included"
    );
}

#[test]
fn a_data_only_restore_fills_an_existing_virtual_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (source, archive, restored) = backed_up_source(dir.path());
    open(&restored)
        .execute_batch(SCHEMA)
        .expect("create schema");

    restore(&archive, &restored, &restore_options(RestoreMode::DataOnly))
        .expect("data-only restore");
    let (a, b) = (open(&source), open(&restored));
    for table in ["notes", "old_notes", "boxes"] {
        assert_eq!(
            table_rows(&a, table),
            table_rows(&b, table),
            "rows of {table}"
        );
    }
    assert_eq!(matches(&b, "notes", "caramel"), [3, 1_000_000]);
}
