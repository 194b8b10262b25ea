//! Running SQL with psql and reading a database back: its tables, rows,
//! sequences and `pg_dump --schema-only`.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::server::{check, TestServer};

static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

impl TestServer {
    /// Starts a server as [`TestServer::start`] does, creates a database
    /// named after `hint` in it and runs `sql` there; returns both.
    pub fn start_with_db(hint: &str, sql: &str) -> Option<(TestServer, String)> {
        let server = TestServer::start()?;
        let db = server.create_db(hint);
        server.psql(&db, sql);
        Some((server, db))
    }

    /// Creates a new empty database with a unique name and returns the name.
    pub fn create_db(&self, hint: &str) -> String {
        let name = format!(
            "bru_{hint}_{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::SeqCst)
        );
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        name
    }

    /// Runs `sql` with psql in `db` and returns its unaligned, tuples-only
    /// output. Panics with psql's message if anything fails.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = check(
            "psql",
            Command::new("psql")
                .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
                .arg(self.url(db))
                .args(["-c", sql])
                .output(),
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `sql` with psql in `db`; returns its output, or psql's error
    /// message when a statement fails (for tests that expect a failure).
    pub fn try_psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let out = Command::new("psql")
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(self.url(db))
            .args(["-c", sql])
            .output()
            .map_err(|e| format!("cannot run psql: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Runs the SQL file `path` with psql in `db`, with `vars` as `-v`
    /// variables (`("scale", "3")`). Panics with psql's message if anything
    /// fails.
    pub fn psql_file(&self, db: &str, path: &Path, vars: &[(&str, &str)]) {
        let mut c = Command::new("psql");
        c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(self.url(db));
        for (k, v) in vars {
            c.arg("-v").arg(format!("{k}={v}"));
        }
        check("psql -f", c.arg("-f").arg(path).output());
    }

    /// Every sequence of `db` with its state (`schema.name|last_value|is_called`),
    /// sorted, for comparisons.
    pub fn sequence_values(&self, db: &str) -> Vec<String> {
        let names = self.psql(
            db,
            "SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences ORDER BY 1",
        );
        names
            .lines()
            .filter(|l| !l.is_empty())
            .map(|s| {
                let v = self.psql(db, &format!("SELECT last_value, is_called FROM {s}"));
                format!("{s}|{}", v.trim())
            })
            .collect()
    }

    /// The user tables of `db` as `schema.name`, quoted for SQL, sorted.
    pub fn tables(&self, db: &str) -> Vec<String> {
        self.psql(
            db,
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
             AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1",
        )
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
    }

    /// `pg_dump --schema-only` of `db`, owners and GRANTs included, without
    /// the random `\restrict` key newer pg_dump versions put at both ends.
    pub fn dump_schema(&self, db: &str) -> String {
        let out = check(
            "pg_dump",
            Command::new("pg_dump")
                .args(["--schema-only", "-d"])
                .arg(self.url(db))
                .output(),
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with("\\restrict ") && !l.starts_with("\\unrestrict "))
            .map(|l| format!("{l}\n"))
            .collect()
    }

    /// Every row of `table` in COPY text form, sorted, for comparisons.
    pub fn sorted_rows(&self, db: &str, table: &str) -> Vec<String> {
        let out = check(
            "psql COPY",
            Command::new("psql")
                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
                .arg(self.url(db))
                .args(["-c", &format!("COPY {table} TO STDOUT")])
                .output(),
        );
        let mut rows: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        rows.sort();
        rows
    }
}
