//! The plan executor against a real multi-session target (a shared SQLite
//! target whose workers are further connections to the same file), transient
//! errors (a lock held by another connection), and the restore journal:
//! refusals, and a restore that gave up half-way resumed exactly.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::thread::{self, JoinHandle, ThreadId};
use std::time::Duration;

use bru_core::{RestoreJournal, Target};
use bru_engine::{Error, Progress, RestoreMode, RestoreOptions};
use bru_sqlite::SqliteTarget;
use common::*;

/// A fixture archive with small chunks, so that tables span many chunks and
/// big ones are split into ranges.
fn small_chunk_archive(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let source = dir.join("source.sqlite");
    bru_fixtures::generate(&source, 1, SEED).expect("generate fixture");
    let archive = dir.join("backup.db");
    let options = bru_engine::BackupOptions {
        chunk_bytes: 32 << 10,
        ..backup_options()
    };
    backup(&source, &archive, &options).expect("backup");
    (source, archive)
}

fn options(jobs: usize) -> RestoreOptions {
    RestoreOptions {
        jobs,
        ..restore_options(RestoreMode::Full)
    }
}

/// [`options`] with `resume` set.
fn resume_options(jobs: usize) -> RestoreOptions {
    RestoreOptions {
        resume: true,
        ..options(jobs)
    }
}

/// Leaves in `path` the journal of an unfinished restore, in `mode`, of the
/// archive whose journal key is `archive_key`.
fn unfinished_restore(path: &Path, archive_key: &str, mode: &str) {
    let mut target = SqliteTarget::open(path).unwrap();
    target.mark(archive_key).unwrap();
    target.mark(&format!("mode {mode}")).unwrap();
    target.finish().unwrap();
}

/// Records which threads loaded rows and what warnings were given.
#[derive(Default)]
struct Recorder {
    threads: Mutex<HashSet<ThreadId>>,
    warnings: Mutex<Vec<String>>,
}

impl Progress for Recorder {
    fn advance(&self, _table: &str, _rows: u64, _bytes: u64) {
        self.threads.lock().unwrap().insert(thread::current().id());
    }
    fn warning(&self, text: &str) {
        self.warnings.lock().unwrap().push(text.to_owned());
    }
}

#[test]
fn several_sessions_restore_exactly_what_one_session_restores() {
    let dir = tempfile::tempdir().unwrap();
    let (source, archive) = small_chunk_archive(dir.path());
    let job = bru_engine::RestoreJob::open(&archive, &options(4), &[&bru_sqlite::ENGINE])
        .expect("open job");
    assert!(
        job.plan().steps.iter().any(|s| s.label.contains("chunks")),
        "some table is split into ranges: {:#?}",
        job.plan()
            .steps
            .iter()
            .map(|s| &s.label)
            .collect::<Vec<_>>()
    );

    for jobs in [2, 4] {
        let restored = dir.path().join(format!("parallel-{jobs}.sqlite"));
        let mut target = SqliteTarget::open_shared(&restored).expect("open target");
        let recorder = Recorder::default();
        let summary = bru_engine::restore(
            &archive,
            &mut target,
            &options(jobs),
            &[&bru_sqlite::ENGINE],
            &recorder,
        )
        .expect("parallel restore");
        drop(target);
        assert!(
            recorder.threads.lock().unwrap().len() > 1,
            "--jobs {jobs}: rows were loaded by more than one session"
        );
        for t in &summary.tables {
            assert_eq!(t.rows, t.rows_loaded, "{}", t.table);
            assert_eq!(t.rows_resumed, 0);
        }
        assert_same_database(&source, &restored);
        assert!(
            !has_journal(&restored),
            "a finished restore leaves no journal"
        );
    }

    let single = dir.path().join("single.sqlite");
    restore(&archive, &single, &options(1)).expect("single-session restore");
    assert_same_database(&source, &single);
}

fn has_journal(path: &Path) -> bool {
    tables(&open(path))
        .iter()
        .any(|t| t == "_bru_restore_journal")
}

/// Holds the write lock of `path` from another connection for `hold`, starting
/// at the `at`-th chunk loaded.
struct Locker<'a> {
    path: &'a Path,
    at: u64,
    hold: Duration,
    seen: AtomicU64,
    holder: Mutex<Option<JoinHandle<()>>>,
    warnings: Mutex<Vec<String>>,
}

impl<'a> Locker<'a> {
    fn new(path: &'a Path, at: u64, hold: Duration) -> Self {
        Locker {
            path,
            at,
            hold,
            seen: AtomicU64::new(0),
            holder: Mutex::new(None),
            warnings: Mutex::new(Vec::new()),
        }
    }

    fn release(&self) {
        if let Some(h) = self.holder.lock().unwrap().take() {
            h.join().unwrap();
        }
    }
}

impl Progress for Locker<'_> {
    fn advance(&self, _table: &str, _rows: u64, _bytes: u64) {
        if self.seen.fetch_add(1, Ordering::SeqCst) + 1 != self.at {
            return;
        }
        let conn = rusqlite::Connection::open(self.path).unwrap();
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        let hold = self.hold;
        *self.holder.lock().unwrap() = Some(thread::spawn(move || {
            thread::sleep(hold);
            conn.execute_batch("COMMIT").unwrap();
        }));
    }
    fn warning(&self, text: &str) {
        self.warnings.lock().unwrap().push(text.to_owned());
    }
}

#[test]
fn a_briefly_locked_target_is_retried_and_each_retry_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (source, archive) = small_chunk_archive(dir.path());
    let restored = dir.path().join("restored.sqlite");
    let mut target = SqliteTarget::open_shared(&restored).unwrap();
    target.set_busy_timeout(Duration::from_millis(20)).unwrap();
    let locker = Locker::new(&restored, 3, Duration::from_millis(500));
    let summary = bru_engine::restore(
        &archive,
        &mut target,
        &options(2),
        &[&bru_sqlite::ENGINE],
        &locker,
    )
    .expect("restore");
    locker.release();
    drop(target);
    let warnings = locker.warnings.lock().unwrap().clone();
    assert!(!warnings.is_empty(), "the lock caused retries");
    assert!(
        warnings
            .iter()
            .all(|w| w.contains("retrying") && w.contains("locked")),
        "{warnings:?}"
    );
    assert!(summary.tables.iter().map(|t| t.errors).sum::<u64>() > 0);
    assert_same_database(&source, &restored);
}

#[test]
fn a_restore_that_gave_up_on_a_locked_target_resumes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (source, archive) = small_chunk_archive(dir.path());
    let restored = dir.path().join("restored.sqlite");

    // Locked for longer than all the retries: the restore stops half-way.
    let mut target = SqliteTarget::open_shared(&restored).unwrap();
    target.set_busy_timeout(Duration::from_millis(10)).unwrap();
    let locker = Locker::new(&restored, 12, Duration::from_secs(5));
    let err = bru_engine::restore(
        &archive,
        &mut target,
        &options(1),
        &[&bru_sqlite::ENGINE],
        &locker,
    )
    .unwrap_err();
    locker.release();
    drop(target);
    assert!(err.to_string().contains("locked"), "{err}");
    assert!(has_journal(&restored));

    // Without --resume, the unfinished restore is refused.
    let err = restore(&archive, &restored, &options(1)).unwrap_err();
    assert!(matches!(err, Error::UnfinishedRestore), "{err}");
    assert!(err.to_string().contains("--resume"), "{err}");

    let summary = restore(&archive, &restored, &resume_options(2)).expect("resume");
    let resumed: u64 = summary.tables.iter().map(|t| t.rows_resumed).sum();
    assert!(resumed > 0, "rows loaded before the interruption are kept");
    for t in &summary.tables {
        assert_eq!(t.rows, t.rows_loaded + t.rows_resumed, "{}", t.table);
    }
    assert_same_database(&source, &restored);
    assert!(!has_journal(&restored));
}

#[test]
fn a_journal_from_another_archive_is_refused_and_clean_starts_over() {
    let dir = tempfile::tempdir().unwrap();
    let (source, archive) = small_chunk_archive(dir.path());
    let restored = dir.path().join("restored.sqlite");
    unfinished_restore(
        &restored,
        "archive sqlite 3.0 database other.sqlite created 2001-01-01T00:00:00Z",
        "full",
    );
    let err = restore(&archive, &restored, &resume_options(1)).unwrap_err();
    assert!(matches!(err, Error::OtherArchive { .. }), "{err}");
    assert!(err.to_string().contains("other.sqlite"), "{err}");

    let err = restore(&archive, &restored, &options(1)).unwrap_err();
    assert!(matches!(err, Error::UnfinishedRestore), "{err}");

    let clean = RestoreOptions {
        clean: true,
        ..options(1)
    };
    restore(&archive, &restored, &clean).expect("clean restore");
    assert_same_database(&source, &restored);
    assert!(!has_journal(&restored));
}

#[test]
fn resuming_in_another_mode_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, archive) = small_chunk_archive(dir.path());
    let restored = dir.path().join("restored.sqlite");
    let meta = bru_engine::list(&archive).unwrap().meta;
    // The archive's own journal key (see journal::archive_key).
    let key = format!(
        "archive {} {} database {} created {} id {}",
        meta.source.engine,
        meta.source.version,
        meta.source.database,
        meta.created_at,
        meta.archive_id
    );
    unfinished_restore(&restored, &key, "schema-only");
    let err = restore(&archive, &restored, &resume_options(1)).unwrap_err();
    assert!(matches!(err, Error::OtherMode { .. }), "{err}");
    assert!(err.to_string().contains("schema-only"), "{err}");
}

/// A source whose extra readers are further read-only connections to the
/// same file. The file does not change during the test, so every reader sees
/// the same data, as PostgreSQL readers sharing one snapshot do.
struct ManyReaders {
    inner: bru_sqlite::SqliteSource,
    path: std::path::PathBuf,
    threads: std::sync::Arc<Mutex<HashSet<ThreadId>>>,
}

impl bru_core::Source for ManyReaders {
    fn info(&self) -> bru_core::SourceInfo {
        self.inner.info()
    }
    fn catalog(&mut self) -> bru_core::Result<bru_core::Catalog> {
        self.inner.catalog()
    }
    fn read_table(
        &mut self,
        table: &bru_core::TableDef,
        limits: bru_core::BatchLimits,
        sink: &mut dyn FnMut(bru_core::RowBatch) -> bru_core::Result<()>,
    ) -> bru_core::Result<()> {
        self.threads.lock().unwrap().insert(thread::current().id());
        self.inner.read_table(table, limits, sink)
    }
    fn open_reader(&mut self) -> bru_core::Result<Option<Box<dyn bru_core::Source + Send>>> {
        Ok(Some(Box::new(ManyReaders {
            inner: bru_sqlite::SqliteSource::open(&self.path)?,
            path: self.path.clone(),
            threads: self.threads.clone(),
        })))
    }
}

#[test]
fn a_source_with_several_readers_is_backed_up_concurrently_and_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.sqlite");
    bru_fixtures::generate(&source, 1, SEED).expect("generate fixture");
    let archive = dir.path().join("backup.db");
    let threads = std::sync::Arc::new(Mutex::new(HashSet::new()));
    let mut readers = ManyReaders {
        inner: bru_sqlite::SqliteSource::open(&source).unwrap(),
        path: source.clone(),
        threads: threads.clone(),
    };
    let options = bru_engine::BackupOptions {
        jobs: 3,
        chunk_bytes: 32 << 10,
        ..backup_options()
    };
    let summary =
        bru_engine::backup(&mut readers, &archive, &options, &bru_engine::NoProgress).unwrap();
    assert!(
        threads.lock().unwrap().len() > 1,
        "tables were read by several readers"
    );
    let src = open(&source);
    for t in &summary.tables {
        assert_eq!(t.rows, row_count(&src, &t.table) as u64, "{}", t.table);
    }
    bru_engine::verify(&archive, 2, &[&bru_sqlite::ENGINE], &bru_engine::NoProgress)
        .expect("verify");
    let restored = dir.path().join("restored.sqlite");
    restore(&archive, &restored, &options_for_restore()).expect("restore");
    assert_same_database(&source, &restored);
}

fn options_for_restore() -> RestoreOptions {
    options(2)
}

#[test]
fn a_sqlite_table_read_in_parts_by_two_readers_restores_exactly() {
    // More rows than the backup splits at, keys with a negative, gaps and
    // i64::MAX, so the rowid ranges have uneven and extreme bounds.
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("parts.sqlite");
    let conn = open(&source);
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, b BLOB);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 150000)
         INSERT INTO t SELECT i * 3, 'row ' || i, CASE WHEN i % 7 = 0 THEN randomblob(i % 50) END
           FROM n;
         INSERT INTO t VALUES (-5, 'negative', NULL), (9223372036854775807, 'max', x'00ff');
         CREATE TABLE small (k TEXT PRIMARY KEY, n REAL);
         INSERT INTO small VALUES ('a', 1.5), ('b', -0.0);",
    )
    .unwrap();
    drop(conn);
    let archive = dir.path().join("parts.db");
    let small_chunks = bru_engine::BackupOptions {
        chunk_bytes: 64 << 10,
        ..backup_options()
    };
    let summary = backup(&source, &archive, &small_chunks).expect("backup with two readers");
    let t = summary.tables.iter().find(|t| t.table == "t").unwrap();
    assert_eq!(t.rows, 150_002);
    bru_engine::verify(&archive, 2, &[&bru_sqlite::ENGINE], &bru_engine::NoProgress)
        .expect("verify");
    let restored = dir.path().join("restored.sqlite");
    restore(&archive, &restored, &options(1)).expect("restore");
    assert_same_database(&source, &restored);
}

#[test]
fn steps_outside_the_plan_are_retried_too() {
    // The target is locked when the restore starts: `--clean` first removes
    // any old journal, a write that meets the lock and is retried.
    let dir = tempfile::tempdir().unwrap();
    let (source, archive) = small_chunk_archive(dir.path());
    let restored = dir.path().join("restored.sqlite");
    let holder = open(&restored);
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let release = thread::spawn(move || {
        thread::sleep(Duration::from_millis(1000));
        holder.execute_batch("COMMIT").unwrap();
    });
    let mut target = SqliteTarget::open_shared(&restored).unwrap();
    target.set_busy_timeout(Duration::from_millis(20)).unwrap();
    let recorder = Recorder::default();
    let clean = RestoreOptions {
        clean: true,
        ..options(1)
    };
    bru_engine::restore(
        &archive,
        &mut target,
        &clean,
        &[&bru_sqlite::ENGINE],
        &recorder,
    )
    .expect("restore");
    release.join().unwrap();
    drop(target);
    let warnings = recorder.warnings.lock().unwrap().clone();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("removing the restore journal: transient error, retrying")),
        "{warnings:?}"
    );
    assert_same_database(&source, &restored);
}

/// Tables another engine wrote, each with a default in that engine's SQL:
/// the SQLite target builds them from the neutral model and lists each
/// default as left out. And one object the source could not carry, marked
/// as SQLite's own so that only its `not_carried` keeps it from being run.
struct ForeignTables;

const FOREIGN_TABLES: usize = 8;

impl bru_core::Source for ForeignTables {
    fn info(&self) -> bru_core::SourceInfo {
        bru_core::SourceInfo {
            engine: "another engine".into(),
            version: "1".into(),
            database: "foreign".into(),
        }
    }
    fn catalog(&mut self) -> bru_core::Result<bru_core::Catalog> {
        let tables = (0..FOREIGN_TABLES)
            .map(|i| {
                let mut table = bru_testsupport::tables::int_table(&format!("t{i}"), 2)
                    .with_native("another engine", "");
                table.columns[1] = table.columns[1].clone().with_default("now()");
                table
            })
            .collect();
        Ok(bru_core::Catalog {
            tables,
            objects: vec![bru_core::ObjectDef::not_carried(
                bru_core::ObjectKind::Type,
                bru_core::TableName::bare("money2"),
                "sqlite",
                "base type money2",
            )],
        })
    }
    fn read_table(
        &mut self,
        _table: &bru_core::TableDef,
        _limits: bru_core::BatchLimits,
        sink: &mut dyn FnMut(bru_core::RowBatch) -> bru_core::Result<()>,
    ) -> bru_core::Result<()> {
        let mut batch = bru_core::RowBatch::new(2);
        for i in 0..100 {
            batch.push_row([bru_core::Value::Int64(i), bru_core::Value::Int64(-i)]);
        }
        sink(batch)
    }
}

#[test]
fn what_every_session_leaves_out_is_in_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("foreign.db");
    bru_engine::backup(
        &mut ForeignTables,
        &archive,
        &backup_options(),
        &bru_engine::NoProgress,
    )
    .expect("backup");
    let expected: Vec<String> = bru_format::ArchiveReader::open(&archive)
        .unwrap()
        .tables()
        .unwrap()
        .iter()
        .flat_map(|t| bru_sqlite::ddl::left_out(&t.def))
        .collect();
    assert_eq!(expected.len(), FOREIGN_TABLES, "{expected:?}");

    // Several sessions, so that tables are created on workers too.
    let restored = dir.path().join("restored.sqlite");
    let mut target = SqliteTarget::open_shared(&restored).unwrap();
    let summary = bru_engine::restore(
        &archive,
        &mut target,
        &options(3),
        &[&bru_sqlite::ENGINE],
        &bru_engine::NoProgress,
    )
    .expect("restore");
    for line in &expected {
        assert!(
            summary.skipped.contains(line),
            "{line:?} is missing from the summary: {:?}",
            summary.skipped
        );
    }
    assert_eq!(summary.tables.len(), FOREIGN_TABLES);
    assert!(summary.tables.iter().all(|t| t.rows == 100));
    assert!(
        summary
            .skipped
            .contains(&"type money2: not carried by bru yet: base type money2".to_owned()),
        "{:?}",
        summary.skipped
    );
    assert!(summary.objects.is_empty(), "{:?}", summary.objects);
}
