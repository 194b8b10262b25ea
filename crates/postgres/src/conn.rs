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

use bru_core::{Error, ErrorKind};
use tokio::runtime::Runtime;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::error::SqlState;
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
                kind: ErrorKind::Other,
                what: "postgres endpoint".into(),
                message: "the URL must start with postgres:// or postgresql://".into(),
            });
        }
        let mut config = Config::from_str(url).map_err(|e| Error::Connect {
            kind: ErrorKind::Other,
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
                    kind: ErrorKind::Other,
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
                            kind: ErrorKind::Other,
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
        let connect_err = |kind: ErrorKind, message: String| Error::Connect {
            what: settings.endpoint.clone(),
            message,
            kind,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                connect_err(
                    ErrorKind::Other,
                    format!("cannot start the I/O runtime: {e}"),
                )
            })?;
        let tls =
            tls::connector().map_err(|e| connect_err(ErrorKind::Other, settings.redact(&e)))?;
        let (client, connection) = rt
            .block_on(settings.config.connect(tls))
            .map_err(|e| connect_err(kind_of(&e), settings.redact(&describe(&e))))?;
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

    /// Turns a driver error into [`Error::Engine`] with `context` and the
    /// kind its SQLSTATE or I/O error gives ([`kind_of`]).
    pub fn err(&self, context: &str, e: &tokio_postgres::Error) -> Error {
        Error::Engine {
            context: context.to_owned(),
            message: self.settings.redact(&describe(e)),
            kind: kind_of(e),
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
const TRANSIENT_STATES: [SqlState; 9] = [
    SqlState::T_R_SERIALIZATION_FAILURE,
    SqlState::T_R_DEADLOCK_DETECTED,
    SqlState::ADMIN_SHUTDOWN,
    SqlState::CRASH_SHUTDOWN,
    SqlState::CANNOT_CONNECT_NOW,
    SqlState::CONNECTION_EXCEPTION,
    SqlState::CONNECTION_DOES_NOT_EXIST,
    SqlState::CONNECTION_FAILURE,
    SqlState::SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
];

/// SQLSTATEs of "already exists": relation, object, function, schema.
const ALREADY_EXISTS: [SqlState; 4] = [
    SqlState::DUPLICATE_TABLE,
    SqlState::DUPLICATE_OBJECT,
    SqlState::DUPLICATE_FUNCTION,
    SqlState::DUPLICATE_SCHEMA,
];

/// I/O failures of the same kind as [`TRANSIENT_STATES`]: the connection
/// dropped, or the server is not accepting connections while it restarts
/// (its socket is gone or the port is closed).
const TRANSIENT_IO: [std::io::ErrorKind; 6] = [
    std::io::ErrorKind::ConnectionRefused,
    std::io::ErrorKind::ConnectionReset,
    std::io::ErrorKind::ConnectionAborted,
    std::io::ErrorKind::BrokenPipe,
    std::io::ErrorKind::UnexpectedEof,
    std::io::ErrorKind::NotFound,
];

/// The kind of a driver error, from the server's SQLSTATE or, for a
/// client-side failure, from whether the connection is gone and the I/O
/// error underneath. Set once here, where the driver's error becomes
/// bru's: nobody reads an error's text to decide what it is.
pub(crate) fn kind_of(e: &tokio_postgres::Error) -> ErrorKind {
    if let Some(db) = e.as_db_error() {
        return sqlstate_kind(db.code());
    }
    if e.is_closed() {
        return ErrorKind::Transient;
    }
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            return if TRANSIENT_IO.contains(&io.kind()) {
                ErrorKind::Transient
            } else {
                ErrorKind::Other
            };
        }
        source = inner.source();
    }
    ErrorKind::Other
}

/// The kind of a server error by its SQLSTATE.
pub(crate) fn sqlstate_kind(code: &SqlState) -> ErrorKind {
    if TRANSIENT_STATES.contains(code) {
        ErrorKind::Transient
    } else if ALREADY_EXISTS.contains(code) {
        ErrorKind::AlreadyExists
    } else if *code == SqlState::UNDEFINED_TABLE {
        ErrorKind::UndefinedObject
    } else if *code == SqlState::UNIQUE_VIOLATION {
        ErrorKind::UniqueViolation
    } else {
        ErrorKind::Other
    }
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
        for code in [
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::CONNECTION_FAILURE,
        ] {
            assert_eq!(sqlstate_kind(&code), ErrorKind::Transient, "{code:?}");
        }
        assert_eq!(
            sqlstate_kind(&SqlState::UNIQUE_VIOLATION),
            ErrorKind::UniqueViolation
        );
        assert_eq!(
            sqlstate_kind(&SqlState::DUPLICATE_TABLE),
            ErrorKind::AlreadyExists
        );
        assert_eq!(
            sqlstate_kind(&SqlState::UNDEFINED_TABLE),
            ErrorKind::UndefinedObject
        );
        assert_eq!(sqlstate_kind(&SqlState::SYNTAX_ERROR), ErrorKind::Other);
        // The kind lives in the error, never in its text.
        assert!(!Error::engine("loading t", "connection closed").is_transient());
        assert!(!Error::Unsupported("connection closed".into()).is_transient());
    }

    #[test]
    fn a_refused_connection_is_transient() {
        // Nothing listens on port 1 of the loopback: the kernel refuses the
        // connection at once, as while a server restarts.
        let settings = Settings::resolve("postgresql://ann@127.0.0.1:1/db?sslmode=disable")
            .expect("valid URL");
        let err = Conn::open(settings)
            .err()
            .expect("nothing listens on port 1");
        assert!(matches!(err, Error::Connect { .. }), "{err}");
        assert!(err.is_transient(), "{err}");
    }
}
