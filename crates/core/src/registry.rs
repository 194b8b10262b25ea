//! Engines by URL scheme.
//!
//! Each engine crate declares one [`Engine`]: its name, the URL schemes it
//! handles and how to open a source and a target from a URL (sqlx's drivers
//! declare their `URL_SCHEMES` the same way). The binary lists the engines
//! it is built with in one table and [`find`] picks one for an endpoint, so
//! adding an engine touches no `match` anywhere else.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::traits::{Source, Target};

/// One database engine as the command line reaches it.
pub trait Engine: Sync {
    /// The engine's name, as archives record it (`sqlite`, `postgres`).
    fn name(&self) -> &'static str;

    /// The URL schemes the engine handles, lowercase, without `://`.
    fn schemes(&self) -> &'static [&'static str];

    /// An example endpoint, for messages (`sqlite:///srv/data/wfm.sqlite`).
    fn example(&self) -> &'static str;

    /// Opens the source named by `url` (one of [`Engine::schemes`]).
    /// Fails with [`Error::Connect`] naming the endpoint, never its password.
    fn open_source(&self, url: &str) -> Result<Box<dyn Source>>;

    /// Opens the target named by `url` (one of [`Engine::schemes`]).
    fn open_target(&self, url: &str) -> Result<Box<dyn Target>>;

    /// The local file that `url` is, for an engine whose database is one
    /// (SQLite), so that the caller can refuse an archive that is the
    /// database itself. The default, for servers, is none.
    fn database_file(&self, url: &str) -> Result<Option<PathBuf>> {
        let _ = url;
        Ok(None)
    }

    /// Called before a restore opens the target `url`: the files that
    /// opening it would create (a new SQLite database and its rollback
    /// journal), which the caller removes again if the restore then fails
    /// without writing anything, so a failed restore leaves nothing behind.
    /// The default, for servers, is none.
    fn new_target_files(&self, url: &str) -> Result<Vec<PathBuf>> {
        let _ = url;
        Ok(Vec::new())
    }
}

/// The scheme of `url` (before `://`), lowercase.
fn scheme(url: &str) -> Option<String> {
    url.split_once("://")
        .map(|(scheme, _)| scheme.to_ascii_lowercase())
}

/// The engine among `engines` that handles `url`'s scheme. Fails with
/// [`Error::Unsupported`] naming the schemes this build handles; the
/// message never repeats the URL, which may hold a password.
pub fn find<'a>(engines: &[&'a dyn Engine], url: &str) -> Result<&'a dyn Engine> {
    let examples = || {
        engines
            .iter()
            .map(|e| e.example())
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let Some(scheme) = scheme(url) else {
        return Err(Error::Unsupported(format!(
            "{url:?} is not an endpoint URL; write it as {}",
            examples()
        )));
    };
    engines
        .iter()
        .copied()
        .find(|e| e.schemes().contains(&scheme.as_str()))
        .ok_or_else(|| {
            Error::Unsupported(format!(
                "{scheme}:// endpoints are not supported by this build; use {}",
                examples()
            ))
        })
}
