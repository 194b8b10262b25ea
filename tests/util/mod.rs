//! Helpers for the integration tests: run the real `bru` binary in temporary
//! directories and list SQLite schemas (rows are compared with
//! `bru_testsupport::sqlite::dump`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bru_testsupport::sqlite::open_read_only;

/// A temporary directory that holds one test's files.
pub struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Self {
        Dir {
            tmp: tempfile::tempdir().expect("create temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// A seeded fixture database at `scale`.
    pub fn fixture(&self, name: &str, scale: u32) -> PathBuf {
        let path = self.path(name);
        bru_fixtures::generate(&path, scale, 42).expect("generate fixture");
        path
    }
}

/// `sqlite://` URL of a path.
pub fn url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// Runs `bru` with `args` and returns its output.
pub fn bru(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bru"))
        .args(args)
        .output()
        .expect("run bru")
}

/// Runs `bru` and asserts it succeeded.
pub fn bru_ok(args: &[&str]) -> Output {
    let out = bru(args);
    assert!(
        out.status.success(),
        "bru {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `bru`, asserts it failed with exactly one error line that contains
/// every word of `expect`, without a panic, and returns that line.
pub fn bru_fails(args: &[&str], expect: &[&str]) -> String {
    let out = bru(args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "bru {args:?} should fail; stderr: {stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "bru {args:?} panicked: {stderr}"
    );
    assert!(!stderr.contains("RUST_BACKTRACE"), "bru {args:?}: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "bru {args:?} should print one error line, got: {stderr}"
    );
    let line = lines[0].to_owned();
    assert!(line.starts_with("bru: error: "), "{line}");
    for word in expect {
        assert!(
            line.to_lowercase().contains(&word.to_lowercase()),
            "bru {args:?}: error line lacks {word:?}: {line}"
        );
    }
    line
}

/// The schema objects (type, name, sql) of a SQLite database, sorted, plus
/// the sqlite_sequence rows.
pub fn schema(path: &Path) -> Vec<String> {
    let conn = open_read_only(path);
    let mut items: Vec<String> = conn
        .prepare("SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema WHERE name NOT LIKE 'sqlite_autoindex%'")
        .unwrap()
        .query_map([], |r| {
            Ok(format!(
                "{} {} on {}: {}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let has_seq: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_sequence'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
        > 0;
    if has_seq {
        let seqs: Vec<String> = conn
            .prepare("SELECT name, seq FROM sqlite_sequence")
            .unwrap()
            .query_map([], |r| {
                Ok(format!(
                    "seq {}={}",
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        items.extend(seqs);
    }
    items.sort();
    items
}

/// Asserts that the `--summary-json` file at `path` reports a finished
/// restore that kept rows loaded before it was interrupted, with every
/// table's rows = rows_loaded + rows_resumed.
pub fn assert_resumed_summary(path: &Path) {
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("summary file")).expect("json");
    assert_eq!(summary["status"], "ok");
    let tables = summary["tables"].as_array().expect("tables");
    let resumed: u64 = tables
        .iter()
        .map(|t| t["rows_resumed"].as_u64().expect("rows_resumed"))
        .sum();
    assert!(
        resumed > 0,
        "rows loaded before the kills were kept: {summary}"
    );
    for t in tables {
        assert_eq!(
            t["rows"].as_u64().expect("rows"),
            t["rows_loaded"].as_u64().expect("rows_loaded")
                + t["rows_resumed"].as_u64().expect("rows_resumed"),
            "{t}"
        );
    }
}

/// Runs `bru` with `args`, asserting it exits with `code`, without a panic,
/// and returns its standard output.
pub fn bru_exits(args: &[&str], code: i32) -> String {
    let out = bru(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "bru {args:?}: stdout {}\nstderr {stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `bru restore ARGS` with plain progress lines every 10 ms and kills it
/// with SIGKILL at the first stderr line for which `when` is true: that
/// line, or `Err` with what it printed when it ended first.
pub fn kill_restore_when(args: &[&str], when: impl Fn(&str) -> bool) -> Result<String, String> {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_bru"))
        .arg("restore")
        .args(args)
        .env("BRU_PROGRESS_INTERVAL", "0.01")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bru restore");
    let stderr = child.stderr.take().expect("stderr");
    let mut seen = Vec::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("read stderr");
        if when(&line) {
            child.kill().expect("SIGKILL bru"); // SIGKILL on Unix
            child.wait().expect("wait");
            return Ok(line);
        }
        seen.push(line);
    }
    let status = child.wait().expect("wait");
    Err(format!("({status})\n{}", seen.join("\n")))
}
