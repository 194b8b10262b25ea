//! Restore into SQL Server (skeleton: filled in by the target work).

use bru_core::{Error, ObjectDef, ObjectOutcome, Result, TableDef, TableLoader, TableName, Target};

/// A SQL Server database being restored into.
pub struct MssqlTarget {
    _private: (),
}

impl MssqlTarget {
    /// Opens `url`.
    pub fn open(url: &str) -> Result<Self> {
        let _ = url;
        Err(Error::Unsupported(
            "the SQL Server target is not built yet".into(),
        ))
    }
}

impl Target for MssqlTarget {
    fn engine(&self) -> &'static str {
        crate::ENGINE_NAME
    }
    fn existing_tables(&mut self, _tables: &[TableName]) -> Result<Vec<TableName>> {
        unreachable!("never constructed")
    }
    fn create_table(&mut self, _table: &TableDef) -> Result<()> {
        unreachable!("never constructed")
    }
    fn check_table(&mut self, _table: &TableDef) -> Result<()> {
        unreachable!("never constructed")
    }
    fn load<'a>(&'a mut self, _table: &TableDef) -> Result<Box<dyn TableLoader + 'a>> {
        unreachable!("never constructed")
    }
    fn finish_table(&mut self, _table: &TableDef) -> Result<()> {
        unreachable!("never constructed")
    }
    fn create_object(&mut self, _object: &ObjectDef) -> Result<ObjectOutcome> {
        unreachable!("never constructed")
    }
    fn finish(&mut self) -> Result<()> {
        unreachable!("never constructed")
    }
}
