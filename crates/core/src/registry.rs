//! Engines by URL scheme.
//!
//! Each engine crate declares one [`Engine`]: its name, the URL schemes it
//! handles and how to open a source and a target from a URL (sqlx's drivers
//! declare their `URL_SCHEMES` the same way). The binary lists the engines
//! it is built with in one table and [`find`] picks one for an endpoint, so
//! adding an engine touches no `match` anywhere else.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::schema::{ObjectDef, TableDef, TableName};
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

    /// Called before a restore opens the target `url`: the files that
    /// opening it would create (a new SQLite database and its rollback
    /// journal), which the caller removes again if the restore then fails
    /// without writing anything, so a failed restore leaves nothing behind.
    /// The default, for servers, is none.
    fn new_target_files(&self, url: &str) -> Result<Vec<PathBuf>> {
        let _ = url;
        Ok(Vec::new())
    }

    /// Checks the SQL text of `table` that this engine wrote (its own
    /// CREATE TABLE, its indexes' definitions, and any property a target
    /// splices into SQL) before a restore runs it: every statement must
    /// create exactly the table, or the index on it, that the entry
    /// declares. `relations` are the tables and views the archive creates.
    /// Returns what is wrong, in one line, for the caller to name the entry.
    ///
    /// The archive is data, never code: an engine whose targets run text
    /// from an archive must check it here. The default refuses any text, so
    /// an engine that has no checker runs nothing it has not checked.
    fn check_table_sql(
        &self,
        table: &TableDef,
        relations: &[TableName],
    ) -> std::result::Result<(), String> {
        let _ = relations;
        match &table.native {
            Some(n) if n.engine == self.name() => Err(format!(
                "this build cannot check {} table definitions",
                self.name()
            )),
            _ => Ok(()),
        }
    }

    /// Checks the statements of `object` (and its `data` statement), which
    /// this engine wrote, as [`Engine::check_table_sql`] does for tables:
    /// each must create (or alter, comment, grant, own) the object the
    /// entry declares, of its kind and name, and a trigger, rule or index
    /// must be on one of `relations`. The default refuses.
    fn check_object_sql(
        &self,
        object: &ObjectDef,
        relations: &[TableName],
    ) -> std::result::Result<(), String> {
        let _ = (object, relations);
        Err(format!(
            "this build cannot check {} object definitions",
            self.name()
        ))
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
