//! Picking an engine from an endpoint URL.
//!
//! `sqlite://PATH` takes PATH exactly as written, so `sqlite:///srv/wfm.sqlite`
//! is absolute and `sqlite://wfm.sqlite` is relative to the working
//! directory. `postgres://` and `postgresql://` URLs are handed to
//! bru-postgres whole, which reads them the way libpq does (unix sockets,
//! `PG*` variables, `~/.pgpass`, `sslmode`). SQL Server URLs are recognised
//! so they get a clear answer. A URL is never echoed back with its password.

use std::path::PathBuf;

use anyhow::{bail, Result};
use bru_core::{Source, Target};

/// A parsed endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Sqlite(PathBuf),
    /// The whole URL, parsed by bru-postgres.
    Postgres(String),
}

/// Parses SOURCE or TARGET.
pub fn parse(url: &str) -> Result<Endpoint> {
    let (scheme, rest) = match url.split_once("://") {
        Some(parts) => parts,
        None => bail!(
            "{url:?} is not an endpoint URL; write sqlite://PATH (e.g. sqlite:///srv/data/wfm.sqlite)"
        ),
    };
    match scheme.to_ascii_lowercase().as_str() {
        "sqlite" => {
            if rest.is_empty() {
                bail!("sqlite:// needs a path, e.g. sqlite:///srv/data/wfm.sqlite");
            }
            Ok(Endpoint::Sqlite(PathBuf::from(rest)))
        }
        "postgres" | "postgresql" => Ok(Endpoint::Postgres(url.to_owned())),
        "mssql" | "sqlserver" => bail!(
            "{scheme}:// endpoints are not supported by this build yet; use sqlite:// or postgres://"
        ),
        other => bail!(
            "unknown endpoint scheme {other:?}; use sqlite://PATH or postgres://USER@HOST/DB"
        ),
    }
}

/// `url` with any password replaced by `***`, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // userinfo ends at the last '@' before the path.
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => match authority[..at].split_once(':') {
            Some((user, _password)) => {
                format!("{scheme}://{user}:***@{}", &rest[at + 1..])
            }
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Opens the source named by `url`.
pub fn open_source(url: &str) -> Result<Box<dyn Source>> {
    match parse(url)? {
        Endpoint::Sqlite(path) => Ok(Box::new(bru_sqlite::SqliteSource::open(&path)?)),
        Endpoint::Postgres(url) => Ok(Box::new(bru_postgres::PgSource::open(&url)?)),
    }
}

/// Opens the target named by `url`.
pub fn open_target(url: &str) -> Result<Box<dyn Target>> {
    match parse(url)? {
        Endpoint::Sqlite(path) => Ok(Box::new(bru_sqlite::SqliteTarget::open(&path)?)),
        Endpoint::Postgres(url) => Ok(Box::new(bru_postgres::PgTarget::open(&url)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_are_taken_as_written() {
        assert_eq!(
            parse("sqlite:///srv/data/wfm.sqlite").unwrap(),
            Endpoint::Sqlite("/srv/data/wfm.sqlite".into())
        );
        assert_eq!(
            parse("sqlite://rel/wfm.sqlite").unwrap(),
            Endpoint::Sqlite("rel/wfm.sqlite".into())
        );
    }

    #[test]
    fn postgres_urls_go_to_bru_postgres_whole() {
        assert_eq!(
            parse("postgresql://u@/db?host=/run/postgresql").unwrap(),
            Endpoint::Postgres("postgresql://u@/db?host=/run/postgresql".into())
        );
        assert!(matches!(
            parse("POSTGRES://u@h/db").unwrap(),
            Endpoint::Postgres(_)
        ));
    }

    #[test]
    fn other_schemes_are_refused_without_echoing_secrets() {
        let err = parse("mssql://u:hunter2@host/db").unwrap_err().to_string();
        assert!(err.contains("not supported"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(parse("wfm.sqlite").is_err());
        assert!(parse("ftp://x").is_err());
        assert!(parse("sqlite://").is_err());
    }

    #[test]
    fn redact_hides_passwords_only() {
        assert_eq!(
            redact("postgres://u:hunter2@db.example/wfm"),
            "postgres://u:***@db.example/wfm"
        );
        assert_eq!(redact("postgres://u@db/wfm"), "postgres://u@db/wfm");
        assert_eq!(redact("sqlite:///a/b@c.db"), "sqlite:///a/b@c.db");
    }
}
