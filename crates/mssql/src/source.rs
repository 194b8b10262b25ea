//! Backup from SQL Server (skeleton: filled in by the source work).

use bru_core::{BatchLimits, Catalog, Error, Result, RowBatch, Source, SourceInfo, TableDef};

/// A SQL Server database being backed up.
pub struct MssqlSource {
    _private: (),
}

impl MssqlSource {
    /// Opens `url`.
    pub fn open(url: &str) -> Result<Self> {
        let _ = url;
        Err(Error::Unsupported(
            "the SQL Server source is not built yet".into(),
        ))
    }
}

impl Source for MssqlSource {
    fn info(&self) -> SourceInfo {
        unreachable!("never constructed")
    }
    fn catalog(&mut self) -> Result<Catalog> {
        unreachable!("never constructed")
    }
    fn read_table(
        &mut self,
        _table: &TableDef,
        _limits: BatchLimits,
        _sink: &mut dyn FnMut(RowBatch) -> Result<()>,
    ) -> Result<()> {
        unreachable!("never constructed")
    }
}
