//! Starting, stopping and restarting a throwaway PostgreSQL server.
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

/// Runs a tool; panics with its output unless it succeeded.
pub(super) fn check(what: &str, out: std::io::Result<Output>) -> Output {
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
        Self::start_with(None, "")
    }

    /// Starts a server as [`TestServer::start`] does, with `wal_level =
    /// logical` (for change slots). With `BRU_TEST_PG_URL`, that server as
    /// it is.
    pub fn start_logical() -> Option<TestServer> {
        Self::start_with(None, " -c wal_level=logical -c max_replication_slots=8")
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
        Self::start_with(Some(port), "").map(|s| (s, port))
    }

    fn start_with(tls_port: Option<u16>, extra: &str) -> Option<TestServer> {
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
        opts.push_str(extra);
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
