//! Engines by URL scheme.
//!
//! Each engine crate declares one [`Engine`]: its name, the URL schemes it
//! handles and how to open a source and a target from a URL (sqlx's drivers
//! declare their `URL_SCHEMES` the same way). The binary lists the engines
//! it is built with in one table and [`find`] picks one for an endpoint, so
//! adding an engine touches no `match` anywhere else.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::schema::{Declared, ObjectDef, TableDef};
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

    /// Opens the target `url` only to look at it (`restore --dry-run
    /// --clean` lists what would be dropped), changing nothing in it:
    /// `None` when there is nothing there yet (a SQLite file that does not
    /// exist). The default opens it as [`Engine::open_target`] does, which
    /// suits a server, where connecting changes nothing; an engine whose
    /// `open_target` creates or changes files overrides it.
    fn inspect_target(&self, url: &str) -> Result<Option<Box<dyn Target>>> {
        self.open_target(url).map(Some)
    }

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

    /// Checks the SQL text of `table` that this engine wrote (its own
    /// CREATE TABLE, its indexes' definitions, and any property a target
    /// splices into SQL) before a restore runs it: every statement must
    /// create exactly the table, or the index on it, that the entry
    /// declares. `archive` is what the archive creates.
    /// It is called for the tables of every engine: for another engine's
    /// table, it checks whatever this engine's targets splice from it into
    /// their own SQL (a default or CHECK expression) as they build it from
    /// the neutral model.
    /// Returns what is wrong, in one line, for the caller to name the entry.
    ///
    /// The archive is data, never code: an engine whose targets run text
    /// from an archive must check it here. The default refuses any text, so
    /// an engine that has no checker runs nothing it has not checked.
    fn check_table_sql(
        &self,
        table: &TableDef,
        archive: &Declared,
    ) -> std::result::Result<(), String> {
        let _ = archive;
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
    /// must be on one of `archive`'s relations, and whatever an entry
    /// alters, comments, owns or grants must be one of `archive`'s objects.
    /// The default refuses.
    fn check_object_sql(
        &self,
        object: &ObjectDef,
        archive: &Declared,
    ) -> std::result::Result<(), String> {
        let _ = (object, archive);
        Err(format!(
            "this build cannot check {} object definitions",
            self.name()
        ))
    }

    /// `url` as messages, logs and summaries may show it: every password
    /// in it, in each spelling the engine accepts, replaced by `***`. The
    /// default masks a URL's `user:password@`; an engine whose endpoints
    /// hold passwords elsewhere too (PostgreSQL's `?password=` and
    /// `key=value` strings) overrides it.
    fn redact(&self, url: &str) -> String {
        redact_userinfo(url)
    }

    /// Whether the engine takes `endpoint`, which has no `scheme://`, as
    /// one of its own (PostgreSQL's libpq `key=value` strings,
    /// `host=/run/postgresql dbname=app`). The default is no.
    fn accepts_without_scheme(&self, endpoint: &str) -> bool {
        let _ = endpoint;
        false
    }
}

/// `url` with the password of its `scheme://user:password@` replaced by
/// `***` ([`Engine::redact`]'s default).
pub fn redact_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // The userinfo ends at the last '@' before the path.
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    match authority.rfind('@') {
        Some(at) => match authority[..at].split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{}", &rest[at + 1..]),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The scheme of `url` (before `://`), lowercase.
fn scheme(url: &str) -> Option<String> {
    url.split_once("://")
        .map(|(scheme, _)| scheme.to_ascii_lowercase())
}

/// The engine among `engines` that handles `url`'s scheme, or, for an
/// endpoint without one, the engine that accepts it
/// ([`Engine::accepts_without_scheme`]). Fails with [`Error::Unsupported`]
/// naming the schemes this build handles; the message never repeats the
/// URL, which may hold a password.
pub fn find<'a>(engines: &[&'a dyn Engine], url: &str) -> Result<&'a dyn Engine> {
    let examples = || {
        engines
            .iter()
            .map(|e| e.example())
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let Some(scheme) = scheme(url) else {
        return engines
            .iter()
            .copied()
            .find(|e| e.accepts_without_scheme(url))
            .ok_or_else(|| {
                Error::Unsupported(format!(
                    "it is not a URL (scheme://...); write it as {}",
                    examples()
                ))
            });
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
