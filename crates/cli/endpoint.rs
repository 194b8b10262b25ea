//! Picking an engine from an endpoint URL.
//!
//! [`ENGINES`] is the one table of the engines this binary is built with;
//! each engine crate declares its URL schemes and how it opens a source and
//! a target ([`bru_core::Engine`]), and [`bru_core::registry::find`] picks
//! one by scheme. Adding an engine is one line here. A URL is never echoed
//! back with its password.

use std::path::Path;

use anyhow::Result;
use bru_core::{Engine, Source, Target};
use bru_engine::Endpoint;

/// The engines of this build, by the schemes they declare.
pub static ENGINES: &[&dyn Engine] = &[&bru_sqlite::ENGINE, &bru_postgres::ENGINE];

/// The engine that handles `url`.
pub fn engine(url: &str) -> Result<&'static dyn Engine> {
    Ok(bru_core::registry::find(ENGINES, url)?)
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

/// Refuses `archive` when it is the database `url` itself (a SQLite file),
/// before either is opened.
pub fn refuse_archive(url: &str, archive: &Path, endpoint: Endpoint) -> Result<()> {
    if let Some(file) = engine(url)?.database_file(url)? {
        bru_engine::refuse_same_file(&file, archive, endpoint)?;
    }
    Ok(())
}

/// Opens the source named by `url`.
pub fn open_source(url: &str) -> Result<Box<dyn Source>> {
    Ok(engine(url)?.open_source(url)?)
}

/// Opens the target named by `url`.
pub fn open_target(url: &str) -> Result<Box<dyn Target>> {
    Ok(engine(url)?.open_target(url)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scheme_picks_its_engine() {
        assert_eq!(
            engine("sqlite:///srv/data/wfm.sqlite").unwrap().name(),
            "sqlite"
        );
        assert_eq!(engine("sqlite://rel/wfm.sqlite").unwrap().name(), "sqlite");
        assert_eq!(
            engine("postgresql://u@/db?host=/run/postgresql")
                .unwrap()
                .name(),
            "postgres"
        );
        assert_eq!(engine("POSTGRES://u@h/db").unwrap().name(), "postgres");
    }

    #[test]
    fn other_schemes_are_refused_without_echoing_secrets() {
        let err = engine("oracle://u:hunter2@host/db")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("not supported"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(engine("wfm.sqlite").is_err());
        assert!(engine("ftp://x").is_err());
        assert!(open_target("sqlite://").is_err());
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
