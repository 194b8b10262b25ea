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
                ColumnType::Date => "::date",
                ColumnType::Time { .. } => "::time",
                ColumnType::Timestamp { tz: false, .. } => "::timestamp",
                ColumnType::Timestamp { tz: true, .. } => "::timestamptz",
                ColumnType::Uuid => "::uuid",
                ColumnType::Bool => "::boolean",
                ColumnType::Decimal { .. } => "::numeric",
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
                        params[n].push(key_text(v).ok_or_else(|| {
                            Error::engine(
                                &context,
                                format!("a key value {} bru cannot send as a key", v.describe()),
                            )
                        })?);
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

/// A key value as PostgreSQL's input text of its type (what the `unnest`
/// above casts), or `None` for a kind no bucket key has (or a time finer
/// than PostgreSQL's microseconds, which no PostgreSQL row holds).
fn key_text(v: &Value) -> Option<String> {
    use bru_core::value::{DATE_NEG_INFINITY, DATE_POS_INFINITY, TS_NEG_INFINITY, TS_POS_INFINITY};
    let date = |days: i64| {
        let (y, m, d) = bru_core::calendar::civil_from_days(days);
        if y <= 0 {
            format!("{:04}-{m:02}-{d:02} BC", 1 - y)
        } else {
            format!("{y:04}-{m:02}-{d:02}")
        }
    };
    let clock = |nanos: i64| -> Option<String> {
        (nanos % 1000 == 0).then(|| {
            let micros = nanos / 1000;
            let s = micros / 1_000_000;
            format!(
                "{:02}:{:02}:{:02}.{:06}",
                s / 3600,
                s / 60 % 60,
                s % 60,
                micros % 1_000_000
            )
        })
    };
    let stamp = |secs: i64, nanos: u32, zone: &str| -> Option<String> {
        match secs {
            TS_POS_INFINITY => return Some("infinity".into()),
            TS_NEG_INFINITY => return Some("-infinity".into()),
            _ => {}
        }
        let day = secs.div_euclid(86_400);
        let time = clock(secs.rem_euclid(86_400) * 1_000_000_000 + i64::from(nanos))?;
        let d = date(day);
        Some(match d.strip_suffix(" BC") {
            Some(d) => format!("{d} {time}{zone} BC"),
            None => format!("{d} {time}{zone}"),
        })
    };
    Some(match v {
        Value::Int16(x) => x.to_string(),
        Value::Int32(x) => x.to_string(),
        Value::Int64(x) => x.to_string(),
        Value::Text(t) | Value::Decimal(t) => t.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Date(DATE_POS_INFINITY) => "infinity".into(),
        Value::Date(DATE_NEG_INFINITY) => "-infinity".into(),
        Value::Date(d) => date(i64::from(*d)),
        Value::Time(n) => clock(*n)?,
        Value::Timestamp { secs, nanos } => stamp(*secs, *nanos, "")?,
        Value::TimestampTz { secs, nanos } => stamp(*secs, *nanos, "+00")?,
        Value::Uuid(b) => {
            let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!(
                "{}-{}-{}-{}-{}",
                &h[..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..]
            )
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::key_text;
    use bru_core::Value;

    #[test]
    fn key_values_are_written_as_postgres_reads_them() {
        assert_eq!(key_text(&Value::Date(0)).unwrap(), "1970-01-01");
        assert_eq!(key_text(&Value::Date(-719_528)).unwrap(), "0001-01-01 BC");
        assert_eq!(
            key_text(&Value::TimestampTz {
                secs: 86_400 + 3_723,
                nanos: 5_000
            })
            .unwrap(),
            "1970-01-02 01:02:03.000005+00"
        );
        assert_eq!(
            key_text(&Value::Timestamp { secs: -1, nanos: 0 }).unwrap(),
            "1969-12-31 23:59:59.000000"
        );
        assert_eq!(key_text(&Value::Time(1)), None);
        assert_eq!(
            key_text(&Value::Uuid([0xab; 16])).unwrap(),
            "abababab-abab-abab-abab-abababababab"
        );
    }
}
