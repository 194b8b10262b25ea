//! Connections: libpq-compatible settings, TLS, and a blocking wrapper.
//!
//! bru's traits are synchronous, while tokio-postgres is async. Each
//! [`Conn`] owns a single-threaded tokio runtime that drives its connection
//! task whenever a call blocks on it, so no thread is spawned per connection
//! and nothing runs in the background between calls.
//!
//! Settings are resolved the way libpq resolves them, so that bru behaves
//! like `psql` and `pg_dump` for the same user: the URL first, then the
//! `PG*` environment variables, then `~/.pgpass` for the password. The
//! password is kept out of every message: errors name the endpoint as
//! `user@host:port/db`, and any text coming back from the driver is scrubbed
//! of the password before it is shown.

use std::future::Future;
use std::str::FromStr;

use bru_core::Error;
use tokio::runtime::Runtime;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, Row};

use crate::pgpass;
use crate::tls;

/// Where the default Unix socket lives when neither the URL nor `PGHOST`
/// names a host: Debian's libpq default, then the upstream one.
const DEFAULT_SOCKET_DIRS: [&str; 2] = ["/var/run/postgresql", "/tmp"];

/// Resolved connection settings, with a printable description that never
/// contains the password.
#[derive(Clone)]
pub(crate) struct Settings {
    pub config: Config,
    /// `user@host:port/db`, for messages.
    pub endpoint: String,
    /// Strings that must never appear in a message (the password).
    secrets: Vec<String>,
}

impl Settings {
    /// Parses `url` (`postgres://` or `postgresql://`) and fills what it
    /// leaves out from the libpq environment variables and the password file.
    ///
    /// Fails with [`Error::Connect`] if the URL is not a PostgreSQL URL or
    /// cannot be parsed; the message never repeats the URL, which may hold a
    /// password.
    pub fn resolve(url: &str) -> Result<Settings, Error> {
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("postgres://") || lower.starts_with("postgresql://")) {
            return Err(Error::Connect {
                what: "postgres endpoint".into(),
                message: "the URL must start with postgres:// or postgresql://".into(),
            });
        }
        let mut config = Config::from_str(url).map_err(|e| Error::Connect {
            what: "postgres endpoint".into(),
            // The driver's parse errors name the option, never its value.
            message: format!("invalid connection URL: {e}"),
        })?;
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());

        if config.get_hosts().is_empty() {
            match env("PGHOST") {
                Some(hosts) => {
                    for h in hosts.split(',') {
                        config.host(h);
                    }
                }
                None => {
                    let dir = DEFAULT_SOCKET_DIRS
                        .iter()
                        .find(|d| std::path::Path::new(d).is_dir())
                        .unwrap_or(&DEFAULT_SOCKET_DIRS[1]);
                    config.host(*dir);
                }
            }
        }
        if config.get_ports().is_empty() {
            if let Some(p) = env("PGPORT") {
                let port = p.parse::<u16>().map_err(|_| Error::Connect {
                    what: "postgres endpoint".into(),
                    message: format!("PGPORT is not a port number: {p:?}"),
                })?;
                config.port(port);
            }
        }
        if config.get_user().is_none() {
            if let Some(u) = env("PGUSER")
                .or_else(|| env("USER"))
                .or_else(|| env("LOGNAME"))
            {
                config.user(u);
            }
        }
        if config.get_dbname().is_none() {
            if let Some(d) = env("PGDATABASE") {
                config.dbname(d);
            } else if let Some(u) = config.get_user().map(str::to_owned) {
                config.dbname(u);
            }
        }
        // The driver defaults to `prefer` whether or not the URL said so;
        // only a URL without sslmode takes PGSSLMODE, as libpq does.
        if !lower.contains("sslmode=") {
            if let Some(mode) = env("PGSSLMODE") {
                let mode = match mode.as_str() {
                    "disable" => SslMode::Disable,
                    "prefer" | "allow" => SslMode::Prefer,
                    "require" => SslMode::Require,
                    other => {
                        return Err(Error::Connect {
                            what: "postgres endpoint".into(),
                            message: format!(
                                "PGSSLMODE={other} is not supported; use disable, prefer or require"
                            ),
                        })
                    }
                };
                config.ssl_mode(mode);
            }
        }

        let (host, port) = first_host_port(&config);
        let user = config.get_user().unwrap_or("").to_owned();
        let db = config.get_dbname().unwrap_or("").to_owned();
        if config.get_password().is_none() {
            if let Some(pw) = env("PGPASSWORD") {
                config.password(pw);
            } else if let Some(pw) = pgpass::lookup(&host, port, &db, &user) {
                config.password(pw);
            }
        }
        if config.get_connect_timeout().is_none() {
            if let Some(secs) = env("PGCONNECT_TIMEOUT").and_then(|s| s.parse::<u64>().ok()) {
                if secs > 0 {
                    config.connect_timeout(std::time::Duration::from_secs(secs.max(2)));
                }
            }
        }
        if config.get_application_name().is_none() {
            config.application_name("bru");
        }
        let mut secrets = Vec::new();
        if let Some(pw) = config.get_password() {
            let pw = String::from_utf8_lossy(pw).into_owned();
            if !pw.is_empty() {
                secrets.push(pw);
            }
        }
        let endpoint = format!("postgres {user}@{host}:{port}/{db}");
        Ok(Settings {
            config,
            endpoint,
            secrets,
        })
    }

    /// Removes every secret from `message` and folds it onto one line.
    pub fn redact(&self, message: &str) -> String {
        let mut out = message.replace(['\n', '\r'], " ");
        for s in &self.secrets {
            out = out.replace(s.as_str(), "********");
        }
        out
    }
}

/// The first host and port, as libpq would try them; Unix socket
/// directories are shown as paths.
fn first_host_port(config: &Config) -> (String, u16) {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    (host, port)
}

/// The default socket directory, where `localhost` entries of the password
/// file also apply (libpq's rule).
pub(crate) fn is_default_socket_dir(host: &str) -> bool {
    DEFAULT_SOCKET_DIRS.contains(&host.trim_end_matches('/'))
}

/// One open connection and the runtime that drives it.
pub(crate) struct Conn {
    rt: Runtime,
    pub client: Client,
    pub settings: Settings,
}

impl Conn {
    /// Connects with `settings`. Fails with [`Error::Connect`] (one line, no
    /// password) if the server cannot be reached or refuses the login.
    pub fn open(settings: Settings) -> Result<Conn, Error> {
        let connect_err = |message: String| Error::Connect {
            what: settings.endpoint.clone(),
            message,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| connect_err(format!("cannot start the I/O runtime: {e}")))?;
        let tls = tls::connector().map_err(|e| connect_err(settings.redact(&e)))?;
        let (client, connection) = rt
            .block_on(settings.config.connect(tls))
            .map_err(|e| connect_err(settings.redact(&describe(&e))))?;
        // The connection task runs whenever a call below blocks on the
        // runtime; its errors reach the caller through the client.
        rt.spawn(async move {
            let _ = connection.await;
        });
        let conn = Conn {
            rt,
            client,
            settings,
        };
        // Canonical text forms for values bru moves as text (arrays, enums,
        // ranges...), identical on the source and the target whatever the
        // server's defaults are; and fully qualified names in every
        // catalog function's output.
        conn.batch(
            "SET search_path = ''; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; \
             SET TimeZone = 'UTC'; SET extra_float_digits = 3; SET bytea_output = 'hex'; \
             SET lc_monetary = 'C'; SET client_encoding = 'UTF8'; \
             SET standard_conforming_strings = on",
            "configuring the session",
        )?;
        Ok(conn)
    }

    /// Runs `f` to completion on this connection's runtime.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Turns a driver error into [`Error::Engine`] with `context`.
    pub fn err(&self, context: &str, e: &tokio_postgres::Error) -> Error {
        Error::Engine {
            context: context.to_owned(),
            message: self.settings.redact(&describe(e)),
        }
    }

    /// Runs one or more statements separated by semicolons.
    pub fn batch(&self, sql: &str, context: &str) -> Result<(), Error> {
        self.block_on(self.client.batch_execute(sql))
            .map_err(|e| self.err(context, &e))
    }

    /// Runs a query with parameters and returns all rows.
    pub fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        context: &str,
    ) -> Result<Vec<Row>, Error> {
        self.block_on(self.client.query(sql, params))
            .map_err(|e| self.err(context, &e))
    }
}

/// The most useful one-line description of a driver error: the server's
/// message with its detail and hint when there is one.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = db.message().to_owned();
        if let Some(d) = db.detail() {
            s.push_str(" (");
            s.push_str(d);
            s.push(')');
        }
        if let Some(h) = db.hint() {
            s.push_str("; hint: ");
            s.push_str(h);
        }
        s.push_str(&format!(" [SQLSTATE {}]", db.code().code()));
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}

/// Server errors after which the same step may succeed when retried: a
/// serialization failure or deadlock (40001, 40P01), a server shutting down,
/// crashed or starting up (57P01, 57P02, 57P03), a lost connection (08xxx).
const TRANSIENT_STATES: [&str; 9] = [
    "[SQLSTATE 40001]",
    "[SQLSTATE 40P01]",
    "[SQLSTATE 57P01]",
    "[SQLSTATE 57P02]",
    "[SQLSTATE 57P03]",
    "[SQLSTATE 08000]",
    "[SQLSTATE 08003]",
    "[SQLSTATE 08006]",
    "[SQLSTATE 08001]",
];

/// Client-side failures of the same kind: the connection dropped, or the
/// server is not accepting connections while it restarts (its socket is
/// gone or the port is closed).
const TRANSIENT_MESSAGES: [&str; 8] = [
    "connection closed",
    "error communicating with the server",
    "Connection refused",
    "Connection reset",
    "Broken pipe",
    "unexpected EOF",
    "No such file or directory",
    "the database system is",
];

/// Whether `error` (from any bru-postgres call) is transient: the step that
/// met it may be retried after a pause, on a new connection.
pub(crate) fn is_transient(error: &Error) -> bool {
    let message = match error {
        Error::Engine { message, .. } | Error::Connect { message, .. } => message,
        _ => return false,
    };
    TRANSIENT_STATES.iter().any(|s| message.contains(s))
        || TRANSIENT_MESSAGES.iter().any(|s| message.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_reaches_a_message() {
        let s = Settings::resolve(
            "postgresql://ann:p%40ss-Word9@db.example:6543/sales?sslmode=disable",
        )
        .expect("valid URL");
        assert_eq!(s.endpoint, "postgres ann@db.example:6543/sales");
        assert_eq!(
            s.redact("FATAL: bad p@ss-Word9\nsecond line"),
            "FATAL: bad ******** second line"
        );
        let err = Settings::resolve("postgresql://ann:secret@host:notaport/db")
            .err()
            .expect("bad port");
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(Settings::resolve("mysql://ann:secret@host/db").is_err());
    }

    #[test]
    fn transient_errors_are_told_apart() {
        let engine = |m: &str| Error::engine("loading t", m);
        assert!(is_transient(&engine(
            "could not serialize access [SQLSTATE 40001]"
        )));
        assert!(is_transient(&engine(
            "terminating connection due to administrator command [SQLSTATE 57P01]"
        )));
        assert!(is_transient(&engine("connection closed")));
        assert!(is_transient(&Error::Connect {
            what: "postgres a@b:5432/c".into(),
            message: "error connecting to server: Connection refused (os error 111)".into(),
        }));
        assert!(!is_transient(&engine(
            "duplicate key value violates unique constraint [SQLSTATE 23505]"
        )));
        assert!(!is_transient(&Error::Unsupported(
            "connection closed".into()
        )));
    }
}
