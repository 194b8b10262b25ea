//! Digests of a table's rows computed by the server itself, in the
//! source's snapshot, so that a compare of two PostgreSQL databases can
//! find equal tables, and the key ranges where unequal ones differ, without
//! sending their rows ([`bru_core::Source::server_digest`] and
//! [`bru_core::Source::server_key_buckets`]).
//!
//! Each row is hashed twice (seeds 0 and 1, 64 bits each) and the hashes
//! are summed with the count. From PostgreSQL 14 the hash is
//! `hash_record_extended` of the row with each column in its own type where
//! that type's hash is exact (equal only for identical values) and as its
//! text otherwise; before, `hashtextextended` of the row's text; before 11,
//! none is offered. Text is written under fixed output settings, so that
//! two databases with their own `DateStyle` or `TimeZone` cannot write two
//! different values alike. They are set inside a savepoint, whose rollback
//! puts the session's own back (and keeps the snapshot's transaction usable
//! should the digest fail).

use bru_core::{Error, KeyBuckets, ServerDigest, TableDef};
use tokio_postgres::Row;

use crate::catalog;
use crate::conn::Conn;
use crate::quote::{ident, qualified, quote_literal};

/// The output settings a digest is computed under: every value written
/// one way (dates ISO, floats exact, times in UTC, bytea in hex).
const SETTINGS: [(&str, &str); 5] = [
    ("DateStyle", "ISO, YMD"),
    ("IntervalStyle", "postgres"),
    ("extra_float_digits", "3"),
    ("TimeZone", "UTC"),
    ("bytea_output", "hex"),
];

/// How the rows of one table are hashed: the row expression and the hash
/// function taking it and a seed.
struct RowHash {
    row: String,
    hash: &'static str,
}

/// The digest of `table` over `columns`, or `None` where none is offered
/// (see the module docs; also the large objects and partitioned tables).
pub(crate) fn digest(
    conn: &Conn,
    version: u32,
    table: &TableDef,
    columns: &[String],
) -> bru_core::Result<Option<ServerDigest>> {
    let context = format!("digesting table {}", table.name);
    let Some(h) = row_hash(version, table, columns) else {
        return Ok(None);
    };
    let (row, hash) = (&h.row, h.hash);
    // OFFSET 0 keeps the row computed once, not once per hash.
    let sql = format!(
        "SELECT count(*)::text, \
         coalesce(sum({hash}(d.t, 0)), 0)::text || '/' || coalesce(sum({hash}(d.t, 1)), 0)::text \
         FROM (SELECT {row} AS t FROM ONLY {} OFFSET 0) AS d",
        qualified(&table.name)
    );
    let rows = under_settings(conn, &sql, &context)?;
    Ok(Some(ServerDigest {
        rows: text(&rows, 0, 0, &context)?.parse().unwrap_or(0),
        digest: format!("{}:{}", h.hash, text(&rows, 0, 1, &context)?),
    }))
}

/// The buckets of `table`'s integer key `key` (see
/// [`bru_core::Source::server_key_buckets`]).
pub(crate) fn key_buckets(
    conn: &Conn,
    version: u32,
    table: &TableDef,
    columns: &[String],
    key: &str,
    max_buckets: usize,
) -> bru_core::Result<Option<KeyBuckets>> {
    let context = format!("digesting the key ranges of table {}", table.name);
    let Some(c) = table.column_index(key).map(|i| &table.columns[i]) else {
        return Ok(None);
    };
    if !matches!(c.native_type.as_str(), "smallint" | "integer" | "bigint") {
        return Ok(None);
    }
    let Some(h) = row_hash(version, table, columns) else {
        return Ok(None);
    };
    let k = format!("{}::bigint", ident(key));
    let bounds = conn.query(
        &format!(
            "SELECT min({k}), max({k}) FROM ONLY {}",
            qualified(&table.name)
        ),
        &[],
        &context,
    )?;
    let bound = |i: usize| -> bru_core::Result<Option<i64>> {
        bounds
            .first()
            .ok_or_else(|| Error::engine(&context, "no row"))?
            .try_get(i)
            .map_err(|e| Error::engine(&context, e))
    };
    let (Some(lo), Some(hi)) = (bound(0)?, bound(1)?) else {
        // An empty table (NULL bounds): no bucket.
        return Ok(Some(KeyBuckets {
            method: h.hash.to_owned(),
            ..KeyBuckets::default()
        }));
    };
    let max = max_buckets.max(1) as i128;
    let shift = (0..64u32)
        .find(|&s| i128::from(hi >> s) - i128::from(lo >> s) < max)
        .unwrap_or(63);
    let (row, hash) = (&h.row, h.hash);
    let sql = format!(
        "SELECT d.k >> {shift}, count(*), coalesce(sum({hash}(d.t, 0)), 0)::text \
         FROM (SELECT {k} AS k, {row} AS t FROM ONLY {} OFFSET 0) AS d \
         WHERE d.k IS NOT NULL GROUP BY 1",
        qualified(&table.name)
    );
    let rows = under_settings(conn, &sql, &context)?;
    let mut cells = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let get_err = |e| Error::engine(&context, e);
        let id: i64 = r.try_get(0).map_err(get_err)?;
        let n: i64 = r.try_get(1).map_err(get_err)?;
        let sum: i128 = text(&rows, i, 2, &context)?
            .parse()
            .map_err(|e| Error::engine(&context, e))?;
        // The wrapping sum, as the compare's buckets add hashes.
        cells.push((id, n.unsigned_abs(), sum as u64));
    }
    Ok(Some(KeyBuckets {
        method: h.hash.to_owned(),
        shift,
        cells,
    }))
}

/// Cell `col` of row `row` as text.
fn text(rows: &[Row], row: usize, col: usize, context: &str) -> bru_core::Result<String> {
    rows.get(row)
        .ok_or_else(|| Error::engine(context, "no row"))?
        .try_get::<_, Option<String>>(col)
        .map_err(|e| Error::engine(context, e))?
        .ok_or_else(|| Error::engine(context, "NULL"))
}

/// How `table`'s rows over `columns` are hashed on a server of
/// `server_version_num` `version`, or `None`.
fn row_hash(version: u32, table: &TableDef, columns: &[String]) -> Option<RowHash> {
    if version < 110_000
        || table.property("postgres.partition_by").is_some()
        || catalog::large_objects::pieces_oids(table).is_some()
        || columns.iter().any(|c| table.column_index(c).is_none())
    {
        return None;
    }
    let by_record = version >= 140_000 && !columns.is_empty();
    let columns: Vec<&bru_core::Column> = columns
        .iter()
        .filter_map(|c| table.column_index(c).map(|i| &table.columns[i]))
        .collect();
    let row = if columns.is_empty() {
        "''".to_owned()
    } else if by_record {
        let list: Vec<String> = columns
            .iter()
            .map(|c| {
                if hash_is_exact(&c.native_type) {
                    ident(&c.name)
                } else {
                    format!("{}::text", ident(&c.name))
                }
            })
            .collect();
        format!("ROW({})", list.join(", "))
    } else {
        let list: Vec<String> = columns.iter().map(|c| ident(&c.name)).collect();
        format!("ROW({})::text", list.join(", "))
    };
    Some(RowHash {
        row,
        hash: if by_record {
            "pg_catalog.hash_record_extended"
        } else {
            "pg_catalog.hashtextextended"
        },
    })
}

/// Runs `sql` under [`SETTINGS`], set in a savepoint whose rollback puts
/// the session's own back, also when `sql` fails.
fn under_settings(conn: &Conn, sql: &str, context: &str) -> bru_core::Result<Vec<Row>> {
    let set: Vec<String> = SETTINGS
        .iter()
        .map(|(n, v)| format!("SET LOCAL {n} = {}", quote_literal(v)))
        .collect();
    conn.batch(
        &format!("SAVEPOINT bru_digest; {};", set.join("; ")),
        context,
    )?;
    let rows = conn.query(sql, &[], context);
    let restored = conn.batch(
        "ROLLBACK TO SAVEPOINT bru_digest; RELEASE SAVEPOINT bru_digest",
        context,
    );
    let rows = rows?;
    restored?;
    Ok(rows)
}

/// Whether PostgreSQL's hash of type `native` (as `format_type` writes it)
/// is equal only for identical values, so that a digest may hash the value
/// itself rather than its text. Not for floats (-0 and 0), numerics without
/// a fixed scale (1.0 and 1.00), `character` without a length (trailing
/// spaces), jsonb, enums (hashed by their OIDs, which differ between
/// databases), domains, arrays or anything else.
fn hash_is_exact(native: &str) -> bool {
    let fixed_numeric = native
        .strip_prefix("numeric(")
        .is_some_and(|rest| rest.contains(','));
    fixed_numeric
        || native.starts_with("character varying")
        || native.starts_with("character(")
        || matches!(
            native,
            "smallint"
                | "integer"
                | "bigint"
                | "boolean"
                | "date"
                | "timestamp without time zone"
                | "timestamp with time zone"
                | "uuid"
                | "bytea"
                | "text"
        )
}

#[cfg(test)]
mod tests {
    use super::hash_is_exact;

    #[test]
    fn only_types_whose_hash_tells_every_value_apart() {
        for t in [
            "integer",
            "numeric(10,2)",
            "character varying(64)",
            "character(4)",
            "text",
        ] {
            assert!(hash_is_exact(t), "{t}");
        }
        for t in [
            "double precision",
            "real",
            "numeric",
            "numeric(10)",
            "character",
            "jsonb",
            "mood",
        ] {
            assert!(!hash_is_exact(t), "{t}");
        }
    }
}
