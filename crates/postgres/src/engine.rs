//! PostgreSQL's entry in the engine registry: `postgres://` and
//! `postgresql://` URLs and libpq's `key=value` strings, handed to the
//! driver whole and read the way libpq reads them (unix sockets, `PG*`
//! variables, `~/.pgpass`, `sslmode`), and shown with every password
//! masked.

use bru_core::{Declared, Engine, ObjectDef, Result, Source, TableDef, Target};

use crate::{PgSource, PgTarget, ENGINE_NAME};

/// PostgreSQL as the registry sees it.
pub struct PgEngine;

/// The one [`PgEngine`], for the binary's engine table.
pub static ENGINE: PgEngine = PgEngine;

impl Engine for PgEngine {
    fn name(&self) -> &'static str {
        ENGINE_NAME
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["postgres", "postgresql"]
    }

    fn example(&self) -> &'static str {
        "postgres://USER@HOST/DB"
    }

    fn redact(&self, url: &str) -> String {
        crate::conn::redact(url)
    }

    fn accepts_without_scheme(&self, endpoint: &str) -> bool {
        crate::conn::is_conninfo(endpoint)
    }

    fn open_source(&self, url: &str) -> Result<Box<dyn Source>> {
        Ok(Box::new(PgSource::open(url)?))
    }

    fn open_target(&self, url: &str) -> Result<Box<dyn Target>> {
        Ok(Box::new(PgTarget::open(url)?))
    }

    /// See [`crate::trust`].
    fn check_table_sql(
        &self,
        table: &TableDef,
        archive: &Declared,
    ) -> std::result::Result<(), String> {
        crate::trust::check_table(table, Some(&archive.relations))?;
        crate::trust::check_large_object_pieces(table, archive)
    }

    /// See [`crate::trust`].
    fn check_object_sql(
        &self,
        object: &ObjectDef,
        archive: &Declared,
    ) -> std::result::Result<(), String> {
        crate::trust::check_object(object, Some(archive))
    }
}
