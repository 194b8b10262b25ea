//! Checks of the T-SQL an archive holds (skeleton: filled in by the trust
//! work). Until then every SQL Server text is refused.

use bru_core::{Declared, ObjectDef, TableDef};

/// Checks a table entry's T-SQL.
pub fn check_table(table: &TableDef, archive: &Declared) -> Result<(), String> {
    let _ = archive;
    match &table.native {
        Some(n) if n.engine == crate::ENGINE_NAME => {
            Err("this build cannot check mssql table definitions yet".into())
        }
        _ => Ok(()),
    }
}

/// Checks an object entry's T-SQL.
pub fn check_object(object: &ObjectDef, archive: &Declared) -> Result<(), String> {
    let _ = (object, archive);
    Err("this build cannot check mssql object definitions yet".into())
}
