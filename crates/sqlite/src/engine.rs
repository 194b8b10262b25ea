//! SQLite's entry in the engine registry: `sqlite://PATH`, where PATH is
//! taken exactly as written, so `sqlite:///srv/data/wfm.sqlite` is absolute
//! and `sqlite://wfm.sqlite` relative to the working directory.

use std::path::{Path, PathBuf};

use bru_core::{Declared, Engine, Error, ObjectDef, Result, Source, TableDef, Target};

use crate::{SqliteSource, SqliteTarget, ENGINE_NAME};

/// SQLite as the registry sees it.
pub struct SqliteEngine;

/// The one [`SqliteEngine`], for the binary's engine table.
pub static ENGINE: SqliteEngine = SqliteEngine;

impl SqliteEngine {
    /// The database file of a `sqlite://PATH` URL. Fails when PATH is empty.
    pub fn path(url: &str) -> Result<PathBuf> {
        let rest = url.split_once("://").map_or("", |(_, rest)| rest);
        if rest.is_empty() {
            return Err(Error::Unsupported(
                "sqlite:// needs a path, e.g. sqlite:///srv/data/wfm.sqlite".into(),
            ));
        }
        Ok(PathBuf::from(rest))
    }
}

/// The rollback journal SQLite keeps next to `path`.
fn rollback_journal(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-journal");
    name.into()
}

impl Engine for SqliteEngine {
    fn name(&self) -> &'static str {
        ENGINE_NAME
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["sqlite"]
    }

    fn example(&self) -> &'static str {
        "sqlite://PATH (e.g. sqlite:///srv/data/wfm.sqlite)"
    }

    fn open_source(&self, url: &str) -> Result<Box<dyn Source>> {
        Ok(Box::new(SqliteSource::open(&SqliteEngine::path(url)?)?))
    }

    fn open_target(&self, url: &str) -> Result<Box<dyn Target>> {
        Ok(Box::new(SqliteTarget::open(&SqliteEngine::path(url)?)?))
    }

    /// Read-only, and `None` for a file that does not exist yet.
    fn inspect_target(&self, url: &str) -> Result<Option<Box<dyn Target>>> {
        Ok(SqliteTarget::open_read_only(&SqliteEngine::path(url)?)?
            .map(|t| Box::new(t) as Box<dyn Target>))
    }

    fn database_file(&self, url: &str) -> Result<Option<PathBuf>> {
        SqliteEngine::path(url).map(Some)
    }

    /// See [`crate::trust`].
    fn check_table_sql(
        &self,
        table: &TableDef,
        _archive: &Declared,
    ) -> std::result::Result<(), String> {
        crate::trust::check_table(table)
    }

    /// See [`crate::trust`].
    fn check_object_sql(
        &self,
        object: &ObjectDef,
        archive: &Declared,
    ) -> std::result::Result<(), String> {
        crate::trust::check_object(object, Some(&archive.relations))
    }

    /// A file that does not exist yet is created by opening it, with its
    /// rollback journal beside it.
    fn new_target_files(&self, url: &str) -> Result<Vec<PathBuf>> {
        let path = SqliteEngine::path(url)?;
        Ok(if path.exists() {
            Vec::new()
        } else {
            let journal = rollback_journal(&path);
            vec![path, journal]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_taken_as_written() {
        assert_eq!(
            SqliteEngine::path("sqlite:///srv/data/wfm.sqlite").unwrap(),
            PathBuf::from("/srv/data/wfm.sqlite")
        );
        assert_eq!(
            SqliteEngine::path("sqlite://rel/wfm.sqlite").unwrap(),
            PathBuf::from("rel/wfm.sqlite")
        );
        assert!(SqliteEngine::path("sqlite://").is_err());
    }

    #[test]
    fn a_new_file_and_its_journal_are_what_a_target_creates() {
        let dir = std::env::temp_dir().join(format!("bru-engine-test-{}", std::process::id()));
        let file = dir.join("new.sqlite");
        let url = format!("sqlite://{}", file.display());
        assert_eq!(
            ENGINE.new_target_files(&url).unwrap(),
            vec![file.clone(), dir.join("new.sqlite-journal")]
        );
        let here = format!("sqlite://{}/Cargo.toml", env!("CARGO_MANIFEST_DIR"));
        assert!(ENGINE.new_target_files(&here).unwrap().is_empty());
    }
}
