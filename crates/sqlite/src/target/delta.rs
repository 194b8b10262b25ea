//! Applying a delta archive's deletions ([`bru_core::Target::delete_rows`]):
//! one prepared `DELETE … WHERE k1 = ?1 AND …` per key, in the write
//! transaction the delta's rows then join (committed by the upsert's
//! loader, or here when the table gets no rows).

use bru_core::{Error, Result, TableDef, Value};

use crate::error::sql_err;
use crate::quote::ident;
use crate::values::to_sqlite;

use super::transaction::begin;
use super::SqliteTarget;

impl SqliteTarget {
    pub(super) fn delete_keys(
        &mut self,
        table: &TableDef,
        key: &[usize],
        keys: &[Vec<Value>],
    ) -> Result<u64> {
        let context = format!("deleting the changed rows of table \"{}\"", table.name);
        if key.is_empty() {
            // Every row: a table without a bucket key, carried whole.
            begin(&self.conn, &context)?;
            let n = self
                .conn
                .execute(&format!("DELETE FROM {}", ident(&table.name.name)), [])
                .map_err(|e| sql_err(&context, e))?;
            self.commit(&context)?;
            return Ok(n as u64);
        }
        let condition: Vec<String> = key
            .iter()
            .enumerate()
            .map(|(n, &i)| format!("{} = ?{}", ident(&table.columns[i].name), n + 1))
            .collect();
        let sql = format!(
            "DELETE FROM {} WHERE {}",
            ident(&table.name.name),
            condition.join(" AND ")
        );
        begin(&self.conn, &context)?;
        let result = (|| -> Result<u64> {
            let mut stmt = self.conn.prepare(&sql).map_err(|e| sql_err(&context, e))?;
            let mut deleted = 0u64;
            for values in keys {
                if values.len() != key.len() {
                    return Err(Error::engine(&context, "a key of the wrong length"));
                }
                for (n, v) in values.iter().enumerate() {
                    let out = to_sqlite(v).map_err(|e| Error::engine(&context, e))?;
                    stmt.raw_bind_parameter(n + 1, out)
                        .map_err(|e| sql_err(&context, e))?;
                }
                deleted += stmt.raw_execute().map_err(|e| sql_err(&context, e))? as u64;
            }
            Ok(deleted)
        })();
        match result {
            Ok(n) => {
                self.commit(&context)?;
                Ok(n)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}
