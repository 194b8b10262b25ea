//! A throwaway PostgreSQL server for tests and benchmarks.
//!
//! Public so that this crate's tests, the `bru` binary's integration tests
//! and anything else that needs a real server share one harness instead of
//! each starting servers its own way. It is test support, not part of a
//! backup or restore: its methods panic with the failing tool's output,
//! which is how a test reports a broken setup.
//!
//! Each [`TestServer`] runs `initdb` and `pg_ctl` from PATH into a temporary
//! directory, listens only on a Unix socket there (no TCP port to collide
//! on), and is stopped and deleted when dropped, including when a test
//! panics. PostgreSQL refuses to run as root, so when the tests run as
//! root the server runs as `nobody`. `BRU_TEST_PG_URL` may name an existing
//! server (a superuser URL) instead; each test then works in databases of
//! its own there.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The superuser the throwaway cluster is created with.
pub const SUPERUSER: &str = "bru";

pub struct TestServer {
    dir: Option<tempfile::TempDir>,
    data: PathBuf,
    /// The directory holding initdb and pg_ctl.
    bin: PathBuf,
    /// The `-o` options the server was started with, for restarts.
    opts: String,
    run_as: Option<String>,
    /// `postgresql://user@/` prefix and `?host=...` suffix for URLs, or the
    /// external server's URL split around the database name.
    url_prefix: String,
    url_suffix: String,
}

static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

fn find_initdb() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("initdb"))
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn check(what: &str, out: std::io::Result<Output>) -> Output {
    let out = out.unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl TestServer {
    /// Starts a server, or returns `None` (after saying so loudly) when
    /// neither `BRU_TEST_PG_URL` nor `initdb` is available.
    pub fn start() -> Option<TestServer> {
        Self::start_with(None)
    }

    /// Starts a local server that also listens on 127.0.0.1 with TLS only
    /// (a throwaway self-signed certificate from `openssl`); returns it and
    /// its TCP port. `None` when initdb or openssl is missing.
    pub fn start_tls() -> Option<(TestServer, u16)> {
        if std::env::var_os("BRU_TEST_PG_URL").is_some() {
            eprintln!("TLS test needs its own server; skipped with BRU_TEST_PG_URL");
            return None;
        }
        if Command::new("openssl").arg("version").output().is_err() {
            eprintln!("\n*** SKIPPED: openssl is not installed, so no test certificate can be made. ***\n");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free local port");
        Self::start_with(Some(port)).map(|s| (s, port))
    }

    fn start_with(tls_port: Option<u16>) -> Option<TestServer> {
        if let Ok(url) = std::env::var("BRU_TEST_PG_URL") {
            let (base, query) = match url.split_once('?') {
                Some((b, q)) => (b.to_owned(), format!("?{q}")),
                None => (url.clone(), String::new()),
            };
            let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
            let prefix = match base[scheme_end..].find('/') {
                Some(i) => base[..scheme_end + i + 1].to_owned(),
                None => format!("{base}/"),
            };
            return Some(TestServer {
                dir: None,
                data: PathBuf::new(),
                bin: PathBuf::new(),
                opts: String::new(),
                run_as: None,
                url_prefix: prefix,
                url_suffix: query,
            });
        }
        let Some(initdb) = find_initdb() else {
            eprintln!(
                "\n*** SKIPPED: initdb is not on PATH, so no PostgreSQL test server can be started. \
                 Install PostgreSQL (Debian: apt-get install -y postgresql, then add \
                 /usr/lib/postgresql/*/bin to PATH) or set BRU_TEST_PG_URL. ***\n"
            );
            return None;
        };
        let bin = initdb.parent().map(Path::to_path_buf).unwrap_or_default();
        let dir = tempfile::Builder::new()
            .prefix("bru-pg-")
            .tempdir()
            .expect("temp dir for the test server");
        let run_as = is_root().then(|| "nobody".to_string());
        if let Some(user) = &run_as {
            check(
                "chown of the test server directory",
                Command::new("chown").arg(user).arg(dir.path()).output(),
            );
        }
        let data = dir.path().join("data");
        let mut server = TestServer {
            data: data.clone(),
            bin: bin.clone(),
            opts: String::new(),
            run_as: run_as.clone(),
            url_prefix: format!("postgresql://{SUPERUSER}@/"),
            url_suffix: format!(
                "?host={}&port={}",
                dir.path().display(),
                tls_port.unwrap_or(5432)
            ),
            dir: Some(dir),
        };
        let sock = server.socket_dir();
        check(
            "initdb",
            server
                .command(&bin.join("initdb"))
                .args(["-D"])
                .arg(&data)
                .args([
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ])
                .output(),
        );
        // The superuser logs in without a password; every other role
        // needs one, which the connection tests use.
        // Over TCP (TLS servers only) the superuser must use TLS.
        std::fs::write(
            data.join("pg_hba.conf"),
            format!(
                "local all {SUPERUSER} trust\nlocal all all scram-sha-256\n\
                 hostssl all {SUPERUSER} 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n"
            ),
        )
        .expect("writing pg_hba.conf");
        let mut opts = format!(
            "-k {} -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=40 -c shared_buffers=32MB",
            sock.display()
        );
        match tls_port {
            None => opts.push_str(" -c listen_addresses='' -p 5432"),
            Some(port) => {
                let (crt, key) = (data.join("server.crt"), data.join("server.key"));
                check(
                    "openssl req",
                    server
                        .command(Path::new("openssl"))
                        .args([
                            "req",
                            "-new",
                            "-x509",
                            "-days",
                            "2",
                            "-nodes",
                            "-subj",
                            "/CN=localhost",
                        ])
                        .args(["-newkey", "rsa:2048", "-keyout"])
                        .arg(&key)
                        .arg("-out")
                        .arg(&crt)
                        .output(),
                );
                opts.push_str(&format!(
                    " -c listen_addresses=127.0.0.1 -p {port} -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                    crt.display(),
                    key.display()
                ));
            }
        }
        server.opts = opts;
        server.pg_ctl_start();
        Some(server)
    }

    fn pg_ctl_start(&self) {
        check(
            "pg_ctl start",
            self.command(&self.bin.join("pg_ctl"))
                .args(["-D"])
                .arg(&self.data)
                .args(["-w", "-s", "-o", &self.opts, "-l"])
                .arg(self.socket_dir().join("server.log"))
                .arg("start")
                .output(),
        );
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`, as a crash
    /// would), without deleting its data: [`TestServer::start_again`]
    /// brings it back. Panics on an external server (`BRU_TEST_PG_URL`),
    /// which a test must not stop.
    pub fn stop(&self) {
        assert!(self.is_local(), "cannot stop an external server");
        check(
            "pg_ctl stop",
            self.command(&self.bin.join("pg_ctl"))
                .args(["-D"])
                .arg(&self.data)
                .args(["-m", "immediate", "-s", "-w", "stop"])
                .output(),
        );
    }

    /// Starts a server stopped by [`TestServer::stop`] again, with the same
    /// settings, and waits until it accepts connections.
    pub fn start_again(&self) {
        assert!(self.is_local(), "cannot start an external server");
        self.pg_ctl_start();
    }

    /// Restarts the server with `pg_ctl restart -m fast`: every open
    /// session is terminated (SQLSTATE 57P01) and new ones are refused until
    /// it is back. Panics on an external server.
    pub fn restart(&self) {
        assert!(self.is_local(), "cannot restart an external server");
        check(
            "pg_ctl restart",
            self.command(&self.bin.join("pg_ctl"))
                .args(["-D"])
                .arg(&self.data)
                .args(["-w", "-s", "-m", "fast", "-o", &self.opts, "-l"])
                .arg(self.socket_dir().join("server.log"))
                .arg("restart")
                .output(),
        );
    }

    /// The PostgreSQL programs directory (initdb, pg_ctl, pg_dump...) of a
    /// local server; empty for an external one.
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    fn command(&self, program: &Path) -> Command {
        let mut c = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        };
        if let Some(d) = &self.dir {
            c.current_dir(d.path());
        }
        c
    }

    /// The directory holding the server's Unix socket.
    pub fn socket_dir(&self) -> PathBuf {
        self.dir
            .as_ref()
            .map(|d| d.path().to_path_buf())
            .unwrap_or_default()
    }

    /// True when the server is one this harness started.
    pub fn is_local(&self) -> bool {
        self.dir.is_some()
    }

    /// A superuser URL for database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("{}{db}{}", self.url_prefix, self.url_suffix)
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

impl Drop for TestServer {
    fn drop(&mut self) {
        if self.dir.is_some() {
            let _ = self
                .command(&self.bin.join("pg_ctl"))
                .args(["-D"])
                .arg(&self.data)
                .args(["-m", "immediate", "-s", "stop"])
                .output();
        }
    }
}

/// A table with a column of every type bru carries and their edge values
/// (NaN, ±Infinity, -0, BC dates, ±infinity timestamps, NULL array elements,
/// several dimensions, enums, domains, composites, ranges, money...), 3006
/// rows in all, for round-trip tests.
pub const TORTURE_SQL: &str = r#"
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy, really');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TYPE pair AS (a integer, b text);
CREATE TABLE torture (
    id integer PRIMARY KEY,
    i2 smallint, i4 integer, i8 bigint,
    n numeric, n2 numeric(12,4), f4 real, f8 double precision,
    t text, vc varchar(10), ch char(5), by bytea, b boolean,
    d date, tm time, ttz timetz, ts timestamp, tstz timestamptz, ts3 timestamp(3),
    iv interval, u uuid, j json, jb jsonb,
    ip inet, net cidr, mac macaddr, m money,
    arr integer[], arr2 text[], tsv tsvector, e mood, dom posint, comp pair,
    tstz_arr timestamptz[], num_arr numeric[], r int4range, "Odd Name" text
);
INSERT INTO torture VALUES
(1, -32768, -2147483648, -9223372036854775808,
 'NaN', -99999999.9999, 'NaN', '-0',
 E'h\u00e9llo \U0001F30D \t tab\nnewline \\ backslash ''quote''', '', 'ab', '\x00ff10', true,
 '4713-01-01 BC', '00:00', '00:00:00+14', '4713-01-01 00:00:00 BC', '-infinity', '1999-12-31 23:59:59.999',
 '-178000000 years', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b" : 1,  "a":[1, 2]}', '{"b": 1, "a": [1, 2.50]}',
 '::1', '10.0.0.0/8', '08:00:2b:01:02:03', '-92233720368547758.08',
 '{1,NULL,3}', '{{a,NULL},{"c d","e\"f"}}', 'a fat cat sat', 'sad', 1, '(1,"x y")',
 '{"2020-01-01 00:00:00+00",NULL,infinity}', '{NaN,1.50,-0.001}', '[1,10)', 'odd'),
(2, 32767, 2147483647, 9223372036854775807,
 'Infinity', 99999999.9999, 'Infinity', 'Infinity',
 'x', '0123456789', 'abcde', '', false,
 '5874897-12-31', '24:00:00', '23:59:59.999999-15:59', '294276-12-31 23:59:59.999999', 'infinity', 'infinity',
 '178000000 years 11 mons 30 days 23:59:59.999999', '00000000-0000-0000-0000-000000000000', '[]', '{}',
 '192.168.1.5/24', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', '92233720368547758.07',
 '{}', '{}', '', 'happy, really', 2147483647, '(,)',
 '{}', '{}', 'empty', ''),
(3, 0, 0, 0,
 '-Infinity', 0, '-Infinity', '-Infinity',
 '', ' ', ' ', '\x', false,
 'infinity', '12:34:56.789012', '12:00:00-03:30', '2000-01-01 00:00:00', '1970-01-01 00:00:00.000001+00', '-infinity',
 '-1 mons +2 days -00:00:00.000001', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'null', '"str"',
 '0.0.0.0/0', '0.0.0.0/0', '00:00:00:00:00:00', '0',
 '{{1,2},{3,NULL}}', '{NULL}', '''a'':1A ''b'':2B,3', 'ok', 5, '(0,"")',
 '{"1900-06-30 12:00:00.5+00"}', '{123456789012345678901234567890.000000000000000000001}', '(,5]', 'Ω'),
(4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(5, 1, 1, 1,
 '123456789012345678901234567890.123456789012345678901234567890', 0.0001, 1.17549435e-38, 5e-324,
 repeat('long ', 20000), 'a', 'a', decode(repeat('ab', 50000), 'hex'), true,
 '0001-01-01', '23:59:59.999999', '00:00:00.000001+00', '0001-01-01 00:00:00', '0001-01-01 00:00:00 BC', '2024-02-29 12:00:00.123',
 '1 day', '12345678-1234-5678-1234-567812345678', '{"k": "\u00e9\u0000x"}', '{"nested": {"arr": [true, false, null]}}',
 '2001:db8::1', '192.168.0.0/16', '01:23:45:67:89:ab', '-0.01',
 '{-2147483648,2147483647}', '{"",NULL,"NULL"}', 'x:1,2,3', NULL, NULL, NULL,
 NULL, '{0.0,-0.0}', 'empty', NULL),
(6, -1, -1, -1, '-0.000', 0, 3.4028235e38, 1.7976931348623157e308, 'z', 'z', 'z', '\x00', NULL,
 '1970-01-01', '00:00:00.000001', '24:00:00+00', '1970-01-01 00:00:00', '1969-12-31 23:59:59.999999+00', NULL,
 '0', NULL, '1.0e10', '1.0e10', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO torture (id, f4, f8) SELECT 100 + g, g::real / 7, g::float8 / 3 FROM generate_series(1, 3000) g;
"#;

/// A schema with most of what PostgreSQL databases hold: schemas with odd
/// names, enums, sequences, functions, identity, serial and generated
/// columns, check, unique, exclusion and deferrable foreign key constraints,
/// partitioned, unlogged, column-less and inheriting tables, partial,
/// expression and GIN indexes, triggers, views, materialized views (one not
/// populated), rules, statistics and comments, with rows.
pub const SCHEMA_SQL: &str = r#"
CREATE SCHEMA hr;
CREATE SCHEMA "Sales Dept";
COMMENT ON SCHEMA hr IS 'human resources';
CREATE TYPE hr.level AS ENUM ('junior', 'senior');
CREATE SEQUENCE hr.badge_seq START 1000 INCREMENT 5;
SELECT nextval('hr.badge_seq'), nextval('hr.badge_seq');
CREATE FUNCTION hr.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated := now(); RETURN NEW; END $$;
CREATE FUNCTION hr.double_it(x integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT x * 2';
COMMENT ON FUNCTION hr.double_it(integer) IS 'twice';
CREATE TABLE hr.site (
    id integer GENERATED ALWAYS AS IDENTITY (START WITH 10 INCREMENT BY 10) PRIMARY KEY,
    name text NOT NULL UNIQUE,
    code varchar(8) CHECK (code = upper(code)),
    area tsrange,
    EXCLUDE USING gist (area WITH &&)
);
CREATE TABLE hr.agent (
    id bigserial PRIMARY KEY,
    site_id integer REFERENCES hr.site (id) ON DELETE CASCADE ON UPDATE RESTRICT DEFERRABLE INITIALLY DEFERRED,
    mentor bigint REFERENCES hr.agent (id) ON DELETE SET NULL,
    badge integer DEFAULT nextval('hr.badge_seq') NOT NULL,
    lvl hr.level DEFAULT 'junior',
    salary numeric(10,2) CONSTRAINT positive_salary CHECK (salary > 0),
    double_badge integer GENERATED ALWAYS AS (badge * 2) STORED,
    profile jsonb,
    updated timestamptz,
    UNIQUE (site_id, badge)
);
COMMENT ON TABLE hr.agent IS 'people who answer';
COMMENT ON COLUMN hr.agent.salary IS 'monthly, in EUR';
CREATE INDEX agent_profile_gin ON hr.agent USING gin (profile);
CREATE INDEX agent_lower_idx ON hr.agent (lower(profile->>'name')) WHERE lvl = 'senior';
CREATE TRIGGER agent_touch BEFORE UPDATE ON hr.agent FOR EACH ROW EXECUTE FUNCTION hr.touch();
CREATE TABLE "Sales Dept".calls (
    site_id integer NOT NULL,
    at timestamptz NOT NULL,
    agent bigint,
    "Duration" interval,
    PRIMARY KEY (site_id, at)
) PARTITION BY RANGE (at);
CREATE TABLE "Sales Dept".calls_2024 PARTITION OF "Sales Dept".calls FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE "Sales Dept".calls_2025 PARTITION OF "Sales Dept".calls FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE INDEX calls_agent_idx ON "Sales Dept".calls (agent);
ALTER TABLE "Sales Dept".calls ADD FOREIGN KEY (agent) REFERENCES hr.agent (id);
CREATE UNLOGGED TABLE public.scratch (k text PRIMARY KEY, v bytea) WITH (fillfactor = 70);
CREATE TABLE public.legacy (id serial PRIMARY KEY, note text);
CREATE TABLE public.no_columns ();
CREATE TABLE hr.child (extra text) INHERITS (public.legacy);
INSERT INTO hr.site (name, code, area) VALUES ('Lyon', 'LY', '[2024-01-01,2024-06-01)'), ('Porto', 'PO', '[2024-06-01,2025-01-01)');
INSERT INTO hr.agent (site_id, badge, lvl, salary, profile) VALUES
  (10, 1, 'senior', 3000.50, '{"name": "Ana"}'), (20, 2, 'junior', 2000, '{"name": "Bo"}');
UPDATE hr.agent SET mentor = 1 WHERE id = 2;
INSERT INTO hr.agent (site_id, lvl, salary) VALUES (10, 'junior', 1500);
INSERT INTO "Sales Dept".calls SELECT 10, timestamptz '2024-03-01' + g * interval '1 day', 1 + g % 2, g * interval '1 minute'
  FROM generate_series(0, 500) g;
INSERT INTO public.scratch VALUES ('a', '\x01');
INSERT INTO public.legacy (note) SELECT 'n' || g FROM generate_series(1, 7) g;
CREATE VIEW hr.senior AS SELECT id, salary FROM hr.agent WHERE lvl = 'senior';
CREATE VIEW hr.senior_rich WITH (security_barrier) AS SELECT * FROM hr.senior WHERE salary > 2500;
CREATE MATERIALIZED VIEW hr.calls_per_agent AS SELECT agent, count(*) AS n FROM "Sales Dept".calls GROUP BY agent;
CREATE UNIQUE INDEX calls_per_agent_idx ON hr.calls_per_agent (agent);
CREATE MATERIALIZED VIEW hr.empty_mv AS SELECT 1 AS x WITH NO DATA;
COMMENT ON VIEW hr.senior IS 'seniors only';
CREATE FUNCTION hr.site_names() RETURNS SETOF hr.site LANGUAGE sql STABLE AS 'SELECT * FROM hr.site';
CREATE RULE legacy_no_delete AS ON DELETE TO public.legacy DO INSTEAD NOTHING;
CREATE STATISTICS hr.agent_stats (dependencies) ON site_id, lvl FROM hr.agent;
"#;
