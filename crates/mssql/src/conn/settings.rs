//! What a `mssql://` / `sqlserver://` URL asks for.
//!
//! `mssql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?PARAM=VALUE&…]`, parsed
//! with the `url` crate (user and password percent-decoded). The port
//! defaults to 1433. The password, when the URL has none, comes from
//! `SQLCMDPASSWORD`, as sqlcmd takes it (bru's `--password-file` puts it
//! into the URL before the engine sees it).
//!
//! **The database is required.** A backup or restore is of one database;
//! without a name the server would pick the login's default database
//! (often `master`), which the URL does not show and which differs from
//! login to login, so bru could back up or restore into the wrong database
//! without saying so.
//!
//! Parameters (names as SQL Server's own drivers spell them, matched
//! without regard to case):
//! - `encrypt=mandatory` (the default, also `true`/`yes`): everything is
//!   encrypted, or the connection fails. `optional` (also `false`/`no`):
//!   only the login is encrypted, unless the server asks for more. `off`:
//!   nothing is encrypted, for servers without TLS (the password then
//!   crosses the network in the clear). `strict` (TDS 8.0, TLS before the
//!   first TDS packet) is refused: tiberius 0.12 cannot do it.
//! - `trustServerCertificate=true|false` (default false): accept the
//!   server's certificate without checking it.
//! - `snapshot=off` (backup only): read without a SNAPSHOT transaction on
//!   a database that does not allow snapshot isolation. The archive then
//!   records that the backup is not consistent (see `source`).
//!
//! Anything else in the query is refused by name, so that a misspelt
//! parameter is not silently ignored.

use bru_core::{Error, ErrorKind};
use tiberius::{AuthMethod, Config, EncryptionLevel};
use url::Url;

/// The default TCP port of SQL Server.
pub const DEFAULT_PORT: u16 = 1433;

/// The environment variable sqlcmd reads the password from.
pub const PASSWORD_ENV: &str = "SQLCMDPASSWORD";

/// `encrypt=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encrypt {
    Mandatory,
    Optional,
    Off,
}

/// Connection settings resolved from a URL (and the environment).
#[derive(Clone)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    password: String,
    pub encrypt: Encrypt,
    pub trust_cert: bool,
    /// False with `snapshot=off`.
    pub snapshot: bool,
    /// The URL with its password masked, for messages.
    pub endpoint: String,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("user", &self.user)
            .field("password", &"***")
            .field("encrypt", &self.encrypt)
            .field("trust_cert", &self.trust_cert)
            .field("snapshot", &self.snapshot)
            .finish()
    }
}

/// `url` with its password masked (also a password in the query, which
/// bru itself never reads but a user may have typed).
pub fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            let pairs: Vec<(String, String)> = u
                .query_pairs()
                .map(|(k, v)| {
                    let secret =
                        k.eq_ignore_ascii_case("password") || k.eq_ignore_ascii_case("pwd");
                    (
                        k.into_owned(),
                        if secret { "***".into() } else { v.into_owned() },
                    )
                })
                .collect();
            if !pairs.is_empty() {
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
            u.to_string()
        }
        Err(_) => bru_core::registry::redact_userinfo(url),
    }
}

impl Settings {
    /// Parses `url`, taking the password from `SQLCMDPASSWORD` when the URL
    /// has none.
    pub fn from_url(url: &str) -> Result<Settings, Error> {
        let env = std::env::var(PASSWORD_ENV).ok();
        Settings::parse(url, env.as_deref())
    }

    /// Parses `url` with `env_password` standing for `SQLCMDPASSWORD`.
    pub fn parse(url: &str, env_password: Option<&str>) -> Result<Settings, Error> {
        let endpoint = redact(url);
        let bad = |message: String| Error::connect(ErrorKind::Other, endpoint.clone(), message);
        let example = "write it as mssql://USER:PASSWORD@HOST:1433/DATABASE";
        let u = Url::parse(url).map_err(|e| bad(format!("not a valid URL ({e}); {example}")))?;
        if !matches!(
            u.scheme().to_ascii_lowercase().as_str(),
            "mssql" | "sqlserver"
        ) {
            return Err(bad(format!(
                "not a mssql:// or sqlserver:// URL; {example}"
            )));
        }
        let host = match u.host_str() {
            Some(h) if !h.is_empty() => h.trim_start_matches('[').trim_end_matches(']').to_owned(),
            _ => return Err(bad(format!("the URL names no host; {example}"))),
        };
        let port = u.port().unwrap_or(DEFAULT_PORT);
        let decode = |s: &str, what: &str| {
            percent_decode(s).map_err(|_| {
                bad(format!(
                    "the {what} in the URL is not valid UTF-8 once percent-decoded"
                ))
            })
        };
        let user = decode(u.username(), "user name")?;
        if user.is_empty() {
            return Err(bad(format!(
                "the URL names no user (bru logs in with SQL Server authentication); {example}"
            )));
        }
        let password = match u.password() {
            Some(p) => decode(p, "password")?,
            None => match env_password {
                Some(p) => p.to_owned(),
                None => {
                    return Err(bad(format!(
                        "no password: put it in the URL, in the {PASSWORD_ENV} environment variable, or in a file given with --password-file"
                    )))
                }
            },
        };
        let path = u.path().trim_start_matches('/');
        if path.is_empty() || path.contains('/') {
            return Err(bad(format!(
                "the URL must name exactly one database after the host (bru does not fall back to the login's default database); {example}"
            )));
        }
        let database = decode(path, "database name")?;
        let mut settings = Settings {
            host,
            port,
            database,
            user,
            password,
            encrypt: Encrypt::Mandatory,
            trust_cert: false,
            snapshot: true,
            endpoint: endpoint.clone(),
        };
        for (key, value) in u.query_pairs() {
            let v = value.to_ascii_lowercase();
            let flag = |what: &str| match v.as_str() {
                "true" | "yes" => Ok(true),
                "false" | "no" => Ok(false),
                _ => Err(bad(format!("{what}={value} is neither true nor false"))),
            };
            match key.to_ascii_lowercase().as_str() {
                "encrypt" => {
                    settings.encrypt = match v.as_str() {
                        "mandatory" | "true" | "yes" => Encrypt::Mandatory,
                        "optional" | "false" | "no" => Encrypt::Optional,
                        "off" => Encrypt::Off,
                        "strict" => {
                            return Err(bad(
                                "encrypt=strict (TDS 8.0) is not supported by this build's SQL Server driver (tiberius); use encrypt=mandatory, which encrypts everything after the TDS pre-login".into(),
                            ))
                        }
                        _ => {
                            return Err(bad(format!(
                                "encrypt={value} is not one of mandatory, optional, off"
                            )))
                        }
                    }
                }
                "trustservercertificate" => settings.trust_cert = flag("trustServerCertificate")?,
                "snapshot" => {
                    settings.snapshot = match v.as_str() {
                        "on" | "true" | "yes" => true,
                        "off" | "false" | "no" => false,
                        _ => return Err(bad(format!("snapshot={value} is neither on nor off"))),
                    }
                }
                "password" | "pwd" => {
                    return Err(bad(
                        "a password in the URL's query is not read; put it after the user name (mssql://USER:PASSWORD@HOST/DB), in SQLCMDPASSWORD, or in --password-file".into(),
                    ))
                }
                other => {
                    return Err(bad(format!(
                        "unknown URL parameter {other:?}; bru takes encrypt, trustServerCertificate and snapshot"
                    )))
                }
            }
        }
        Ok(settings)
    }

    /// The tiberius configuration.
    pub fn config(&self) -> Config {
        let mut c = Config::new();
        c.host(&self.host);
        c.port(self.port);
        c.database(&self.database);
        c.application_name("bru");
        c.authentication(AuthMethod::sql_server(&self.user, &self.password));
        c.encryption(match self.encrypt {
            Encrypt::Mandatory => EncryptionLevel::Required,
            Encrypt::Optional => EncryptionLevel::Off,
            Encrypt::Off => EncryptionLevel::NotSupported,
        });
        if self.trust_cert {
            c.trust_cert();
        }
        c
    }

    /// `text` with the password masked wherever it appears (a driver
    /// message could quote it).
    pub fn scrub(&self, text: &str) -> String {
        if self.password.is_empty() {
            text.to_owned()
        } else {
            text.replace(&self.password, "***")
        }
    }
}

fn percent_decode(s: &str) -> Result<String, std::str::Utf8Error> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) -> Settings {
        Settings::parse(url, None).unwrap()
    }

    fn err(url: &str) -> String {
        Settings::parse(url, None).unwrap_err().to_string()
    }

    #[test]
    fn parses_the_parts() {
        let s = ok("mssql://sa:p%40ss%3Aw%2Fd@db.example.com/wfm");
        assert_eq!(s.host, "db.example.com");
        assert_eq!(s.port, 1433);
        assert_eq!(s.database, "wfm");
        assert_eq!(s.user, "sa");
        assert_eq!(s.password, "p@ss:w/d");
        assert_eq!(s.encrypt, Encrypt::Mandatory);
        assert!(!s.trust_cert);
        assert!(s.snapshot);
        let s = ok("sqlserver://u%20x:pw@127.0.0.1:14330/my%20db?encrypt=off&TrustServerCertificate=true&snapshot=off");
        assert_eq!((s.user.as_str(), s.port), ("u x", 14330));
        assert_eq!(s.database, "my db");
        assert_eq!(s.encrypt, Encrypt::Off);
        assert!(s.trust_cert && !s.snapshot);
        assert_eq!(
            ok("mssql://u:p@h/d?encrypt=optional").encrypt,
            Encrypt::Optional
        );
        assert_eq!(
            ok("mssql://u:p@h/d?encrypt=true").encrypt,
            Encrypt::Mandatory
        );
        assert_eq!(ok("mssql://u:p@[::1]:1500/d").host, "::1");
    }

    #[test]
    fn password_from_the_environment_only_when_the_url_has_none() {
        let s = Settings::parse("mssql://u@h/d", Some("envpw")).unwrap();
        assert_eq!(s.password, "envpw");
        let s = Settings::parse("mssql://u:urlpw@h/d", Some("envpw")).unwrap();
        assert_eq!(s.password, "urlpw");
        assert!(err("mssql://u@h/d").contains("SQLCMDPASSWORD"));
    }

    #[test]
    fn refusals_say_what_to_do_and_never_show_the_password() {
        for (url, says) in [
            ("mssql://u:secret@h", "exactly one database"),
            ("mssql://u:secret@h/", "exactly one database"),
            ("mssql://:secret@h/d", "no user"),
            ("mssql://u:secret@h/d?encrypt=strict", "encrypt=mandatory"),
            (
                "mssql://u:secret@h/d?encrypt=maybe",
                "mandatory, optional, off",
            ),
            (
                "mssql://u:secret@h/d?trustServerCertificate=1",
                "neither true nor false",
            ),
            ("mssql://u:secret@h/d?encrpyt=off", "unknown URL parameter"),
            ("mssql://u:secret@h/d?password=x", "not read"),
            ("postgres://u:secret@h/d", "not a mssql://"),
        ] {
            let e = err(url);
            assert!(e.contains(says), "{url}: {e}");
            assert!(!e.contains("secret"), "{url}: {e}");
        }
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact("mssql://sa:s3cr%40t@h:1433/db?encrypt=off"),
            "mssql://sa:***@h:1433/db?encrypt=off"
        );
        assert_eq!(redact("mssql://sa@h/db"), "mssql://sa@h/db");
        assert!(!redact("mssql://sa@h/db?password=zz").contains("zz"));
        assert!(!redact("mssql://sa:zz@h:notaport/db").contains("zz"));
        let s = ok("mssql://sa:hunter2@h/db");
        assert_eq!(s.scrub("login hunter2 failed"), "login *** failed");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!s.endpoint.contains("hunter2"));
    }
}
