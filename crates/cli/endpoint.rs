//! Picking an engine from an endpoint URL.
//!
//! [`ENGINES`] is the one table of the engines this binary is built with;
//! each engine crate declares its URL schemes and how it opens a source and
//! a target ([`bru_core::Engine`]), and [`bru_core::registry::find`] picks
//! one by scheme. Adding an engine is one line here. A URL is never echoed
//! back with its password: the command line's endpoints are held as
//! [`Endpoint`]s, which show themselves redacted by their engine.

use std::path::{Path, PathBuf};

use anyhow::Result;
use bru_core::{Engine, Source, Target};

/// The engines of this build, by the schemes they declare.
pub static ENGINES: &[&dyn Engine] = &[
    &bru_sqlite::ENGINE,
    &bru_postgres::ENGINE,
    &bru_mssql::ENGINE,
];

/// The engine that handles `url`.
pub fn engine(url: &str) -> Result<&'static dyn Engine> {
    Ok(bru_core::registry::find(ENGINES, url)?)
}

/// An endpoint as given on the command line. The text as written is
/// private: everything that shows an endpoint (its `Display` and `Debug`,
/// hence every error context built with `format!`) shows it redacted by
/// its engine ([`Engine::redact`]), so no message, log line or summary
/// can carry its password; only opening it hands the engine the text.
pub struct Endpoint {
    raw: String,
    shown: String,
}

impl Endpoint {
    /// The endpoint `raw`. One that no engine takes fails when opened, and
    /// is shown with its user-info password masked if it is a URL, or not
    /// at all if it is not (the text may be anything).
    pub fn new(raw: &str) -> Endpoint {
        let shown = match engine(raw) {
            Ok(e) => e.redact(raw),
            Err(_) if raw.contains("://") => bru_core::registry::redact_userinfo(raw),
            Err(_) => "the endpoint".to_owned(),
        };
        Endpoint {
            raw: raw.to_owned(),
            shown,
        }
    }

    /// The engine that handles this endpoint.
    pub fn engine(&self) -> Result<&'static dyn Engine> {
        engine(&self.raw)
    }

    /// Opens the source named by this endpoint.
    pub fn open_source(&self) -> Result<Box<dyn Source>> {
        Ok(self.engine()?.open_source(&self.raw)?)
    }

    /// Opens the target named by this endpoint.
    pub fn open_target(&self) -> Result<Box<dyn Target>> {
        Ok(self.engine()?.open_target(&self.raw)?)
    }

    /// This endpoint with `password` in it ([`crate::password::apply`]),
    /// unless it holds one already.
    pub fn with_password(&self, password: &str) -> Result<Endpoint> {
        Ok(Endpoint::new(&crate::password::apply(&self.raw, password)?))
    }

    /// The files opening this endpoint as a restore target would create
    /// ([`Engine::new_target_files`]).
    pub fn new_target_files(&self) -> Result<Vec<PathBuf>> {
        Ok(self.engine()?.new_target_files(&self.raw)?)
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl Endpoint {
    /// Refuses `archive` when it is this endpoint's database itself (a
    /// SQLite file), before either is opened; `side` says which end of
    /// the job this endpoint is.
    pub fn refuse_archive(&self, archive: &Path, side: bru_engine::Side) -> Result<()> {
        if let Some(file) = self.engine()?.database_file(&self.raw)? {
            bru_engine::refuse_same_file(&file, archive, side)?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Endpoint({:?})", self.shown)
    }
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
        assert!(Endpoint::new("sqlite://").open_target().is_err());
        let err = engine("wfm.sqlite password=hunter2")
            .err()
            .unwrap()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn an_endpoint_shows_itself_without_its_password() {
        for (raw, shown) in [
            (
                "postgres://u:hunter2@db.example/wfm",
                "postgres://u:***@db.example/wfm",
            ),
            (
                "postgresql://u@/wfm?host=/tmp&password=hunter2",
                "postgresql://u@/wfm?host=/tmp&password=***",
            ),
            (
                "host=/tmp password='hunter2 x' dbname=wfm",
                "host=/tmp password=*** dbname=wfm",
            ),
            ("oracle://u:hunter2@h/db", "oracle://u:***@h/db"),
            ("w.sqlite password=hunter2", "the endpoint"),
            ("postgres://u@db/wfm", "postgres://u@db/wfm"),
            ("sqlite:///a/b@c.db", "sqlite:///a/b@c.db"),
        ] {
            let e = Endpoint::new(raw);
            assert_eq!(e.to_string(), shown, "{raw}");
            let debug = format!("{e:?} {:#}", anyhow::anyhow!("x").context(format!("{e}")));
            assert!(!debug.contains("hunter2"), "{debug}");
        }
        assert_eq!(
            Endpoint::new("host=/tmp dbname=wfm")
                .engine()
                .unwrap()
                .name(),
            "postgres"
        );
    }
}
