//! Applying a delta archive's deletions ([`bru_core::Target::delete_rows`]):
//! one `DELETE … WHERE (k1, …) IN (SELECT … FROM unnest($1::text[], …))`
//! per batch of keys, each key column's values sent as text and cast to
//! bigint or left text (bucket keys are integer or text columns), in one
//! transaction with the table's user triggers off, as a load into an
//! existing table turns them off. No key columns: every row (a table
//! without a bucket key, which a delta carries whole).

use bru_core::{ColumnType, Error, TableDef, Value};

use crate::quote::{ident, qualified, target_name};

use super::PgTarget;

/// Keys deleted by one statement.
const KEYS_PER_DELETE: usize = 10_000;

impl PgTarget {
    pub(super) fn delete_keys(
        &mut self,
        table: &TableDef,
        key: &[usize],
        keys: &[Vec<Value>],
    ) -> bru_core::Result<u64> {
        let name = target_name(&table.name);
        let context = format!("deleting the changed rows of {name}");
        let q = qualified(&name);
        // No key: every row (a table without a bucket key, carried whole).
        let everything = key.is_empty();
        let mut columns = Vec::new();
        let mut arrays = Vec::new();
        let mut selects = Vec::new();
        for (n, &i) in key.iter().enumerate() {
            let c = &table.columns[i];
            columns.push(ident(&c.name));
            arrays.push(format!("${}::text[]", n + 1));
            let cast = match c.ty {
                ColumnType::Int16 | ColumnType::Int32 | ColumnType::Int64 => "::bigint",
                _ => "",
            };
            selects.push(format!("u.c{n}{cast}"));
        }
        let aliases: Vec<String> = (0..key.len()).map(|n| format!("c{n}")).collect();
        let sql = format!(
            "DELETE FROM {q} WHERE ({}) IN (SELECT {} FROM unnest({}) AS u({}))",
            columns.join(", "),
            selects.join(", "),
            arrays.join(", "),
            aliases.join(", ")
        );
        let (triggers, replica) = self.triggers_to_turn_off(&name)?;
        let conn = self.live()?;
        conn.batch("BEGIN", &context)?;
        let result = (|| -> bru_core::Result<u64> {
            if replica {
                conn.batch("SET LOCAL session_replication_role = replica", &context)?;
            }
            for (t, _) in &triggers {
                conn.batch(
                    &format!("ALTER TABLE {q} DISABLE TRIGGER {}", ident(t)),
                    &context,
                )?;
            }
            let mut deleted = 0;
            if everything {
                deleted = conn
                    .block_on(
                        conn.client
                            .execute(format!("DELETE FROM {q}").as_str(), &[]),
                    )
                    .map_err(|e| conn.err(&context, &e))?;
            }
            for batch in keys.chunks(KEYS_PER_DELETE).filter(|_| !everything) {
                let mut params: Vec<Vec<String>> = vec![Vec::with_capacity(batch.len()); key.len()];
                for k in batch {
                    for (n, v) in k.iter().enumerate() {
                        params[n].push(match v {
                            Value::Int16(x) => x.to_string(),
                            Value::Int32(x) => x.to_string(),
                            Value::Int64(x) => x.to_string(),
                            Value::Text(t) => t.clone(),
                            other => {
                                return Err(Error::engine(
                                    &context,
                                    format!(
                                        "a key value {} that is no integer or text",
                                        other.describe()
                                    ),
                                ))
                            }
                        });
                    }
                }
                let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
                    .collect();
                deleted += conn
                    .block_on(conn.client.execute(sql.as_str(), &refs))
                    .map_err(|e| conn.err(&context, &e))?;
            }
            for (t, state) in &triggers {
                let how = match state.as_str() {
                    "A" => "ENABLE ALWAYS",
                    "R" => "ENABLE REPLICA",
                    _ => "ENABLE",
                };
                conn.batch(
                    &format!("ALTER TABLE {q} {how} TRIGGER {}", ident(t)),
                    &context,
                )?;
            }
            Ok(deleted)
        })();
        match result {
            Ok(n) => {
                conn.batch("COMMIT", &context)?;
                Ok(n)
            }
            Err(e) => {
                let _ = conn.batch("ROLLBACK", &context);
                Err(e)
            }
        }
    }
}
