//! SQL Server's entry in the engine registry: `mssql://` and
//! `sqlserver://` URLs.

use bru_core::{Declared, Engine, ObjectDef, Result, Source, TableDef, Target};

use crate::{MssqlSource, MssqlTarget, ENGINE_NAME};

/// SQL Server as the registry sees it.
pub struct MssqlEngine;

/// The one [`MssqlEngine`], for the binary's engine table.
pub static ENGINE: MssqlEngine = MssqlEngine;

impl Engine for MssqlEngine {
    fn name(&self) -> &'static str {
        ENGINE_NAME
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["mssql", "sqlserver"]
    }

    fn example(&self) -> &'static str {
        "mssql://USER@HOST:1433/DB"
    }

    fn redact(&self, url: &str) -> String {
        crate::conn::redact(url)
    }

    fn open_source(&self, url: &str) -> Result<Box<dyn Source>> {
        Ok(Box::new(MssqlSource::open(url)?))
    }

    fn open_target(&self, url: &str) -> Result<Box<dyn Target>> {
        Ok(Box::new(MssqlTarget::open(url)?))
    }

    /// See [`crate::trust`].
    fn check_table_sql(
        &self,
        table: &TableDef,
        archive: &Declared,
    ) -> std::result::Result<(), String> {
        crate::trust::check_table(table, archive)
    }

    /// See [`crate::trust`].
    fn check_object_sql(
        &self,
        object: &ObjectDef,
        archive: &Declared,
    ) -> std::result::Result<(), String> {
        crate::trust::check_object(object, archive)
    }
}
