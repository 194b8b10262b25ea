//! Connection settings resolved the way libpq resolves them, so that bru
//! behaves like `psql` and `pg_dump` for the same user: the URL first, then
//! the `PG*` environment variables, then `~/.pgpass` for the password. The
//! password is kept out of every message: errors name the endpoint as
//! `user@host:port/db`, and [`Settings::redact`] scrubs any text coming back
//! from the driver of the password before it is shown.

use std::str::FromStr;

use bru_core::{Error, ErrorKind};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::Config;

use super::defaults::DEFAULT_SOCKET_DIRS;
use super::{pgpass, spelling};

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
    /// Parses `url` (`postgres://` or `postgresql://`, or a libpq
    /// `key=value` string) and fills what it leaves out from the libpq
    /// environment variables and the password file.
    ///
    /// Fails with [`Error::Connect`] if the URL is not a PostgreSQL URL or
    /// cannot be parsed; the message never repeats the URL, which may hold a
    /// password.
    pub fn resolve(url: &str) -> Result<Settings, Error> {
        let lower = url.to_ascii_lowercase();
        let refuse = |message: &str| Error::Connect {
            kind: ErrorKind::Other,
            what: "postgres endpoint".into(),
            message: message.into(),
        };
        if !(spelling::is_url(url) || spelling::is_conninfo(url)) {
            return Err(refuse(
                "the URL must start with postgres:// or postgresql:// \
                 (or be a key=value connection string)",
            ));
        }
        if let Some(problem) = spelling::ambiguous_at(url) {
            return Err(refuse(&format!("invalid connection URL: {problem}")));
        }
        // The driver matches the scheme case-sensitively and would read
        // `POSTGRES://...` as a `key=value` string.
        let url = match url.split_once("://") {
            Some((scheme, rest)) if spelling::is_url(url) => {
                format!("{}://{rest}", scheme.to_ascii_lowercase())
            }
            _ => url.to_owned(),
        };
        let url = url.as_str();
        let mut config = Config::from_str(url).map_err(|e| {
            // The driver's parse errors name the option, never its value;
            // the option is in the error's cause ("unknown option `x`").
            let cause = std::error::Error::source(&e)
                .map(|c| c.to_string())
                .unwrap_or_else(|| e.to_string());
            let hint = if lower.contains("passfile") {
                "give the password file as PGPASSFILE instead"
            } else {
                "fix or remove that option"
            };
            Error::Connect {
                kind: ErrorKind::Other,
                what: "postgres endpoint".into(),
                message: format!("invalid connection string: {cause}; {hint}"),
            }
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
        // The passwords as written too (percent-encoded, quoted), longest
        // first so that none is left half replaced.
        let mut secrets = spelling::secrets(url);
        if let Some(pw) = config.get_password() {
            let pw = String::from_utf8_lossy(pw).into_owned();
            if !pw.is_empty() {
                secrets.push(pw);
            }
        }
        // A password that is the user's (or the database's, or the host's)
        // name is left alone where that name is shown: every message names
        // the endpoint, so the name says nothing, where a mask over it in
        // `for user "…"` would say what the password is.
        let port_text = port.to_string();
        secrets.retain(|s| ![&user, &db, &host, &port_text].contains(&s));
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let endpoint = format!("postgres {user}@{host}:{port}/{db}");
        Ok(Settings {
            config,
            endpoint,
            secrets,
        })
    }

    /// Removes every secret from `message` and folds it onto one line.
    /// A secret is masked where it stands as a whole word: masking the
    /// letters of a short password inside the words of a known message
    /// (`p********ssword`) would spell the password out.
    pub fn redact(&self, message: &str) -> String {
        let mut out = message.replace(['\n', '\r'], " ");
        for s in &self.secrets {
            out = mask_words(&out, s);
        }
        out
    }
}

/// `text` with each occurrence of `secret` that is not part of a longer
/// word replaced by the mask.
fn mask_words(text: &str, secret: &str) -> String {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let starts_word = word(secret.chars().next());
    let ends_word = word(secret.chars().next_back());
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut before: Option<char> = None;
    while let Some(at) = rest.find(secret) {
        let (head, tail) = rest.split_at(at);
        let prev = head.chars().next_back().or(before);
        let next = tail[secret.len()..].chars().next();
        out.push_str(head);
        if (starts_word && word(prev)) || (ends_word && word(next)) {
            // Inside a longer word: keep one character and look further.
            let c = tail.chars().next().expect("a match is not empty");
            out.push(c);
            before = Some(c);
            rest = &tail[c.len_utf8()..];
        } else {
            out.push_str("********");
            before = secret.chars().next_back();
            rest = &tail[secret.len()..];
        }
    }
    out.push_str(rest);
    out
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
        // A short password is not masked inside words (which would spell
        // it out), and one equal to the user name is not masked where the
        // user is named.
        let s = Settings::resolve("postgresql://ann:a@db.example/sales").unwrap();
        assert_eq!(
            s.redact("password authentication failed: a"),
            "password authentication failed: ********"
        );
        let s = Settings::resolve("postgresql://ann:ann@db.example/sales").unwrap();
        assert_eq!(
            s.redact("password authentication failed for user \"ann\""),
            "password authentication failed for user \"ann\""
        );
        let s = Settings::resolve("postgresql://ann:fail@db.example/sales").unwrap();
        assert_eq!(
            s.redact("failed: fail, fail_x, xfail"),
            "failed: ********, fail_x, xfail"
        );
        let err = Settings::resolve("postgresql://ann:secret@host:notaport/db")
            .err()
            .expect("bad port");
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(Settings::resolve("mysql://ann:secret@host/db").is_err());
    }
}
