//! Change capture for a delta ([`bru_core::changes`]): a logical
//! replication slot with the `test_decoding` plugin names the keys of the
//! rows changed since the slot's position, and the delta reads those keys
//! again in its snapshot.
//!
//! Why it works this way:
//! - **test_decoding**, because it ships with PostgreSQL (no extension to
//!   install on the server) and writes each change as one line of text
//!   with the column names, so [`parse_line`] needs no catalog of its own.
//!   Only the keys are kept from its output, which is streamed, so memory
//!   is bounded by the number of changed keys, not by the volume of WAL.
//! - **Peeked, never consumed.** The slot is read with
//!   `pg_logical_slot_peek_changes`, which moves nothing; it moves
//!   ([`advance`]) only once the delta archive that holds the changes is
//!   complete, so a delta that fails leaves them to the next one.
//! - **The slot is created before the snapshot.** [`create_slot`] creates
//!   the slot, and the source then takes its snapshot again, so every change
//!   the snapshot does not see is one the slot names (some it sees are
//!   named too: harmless, a key read twice in two deltas ends the same).
//! - **Up to what the snapshot has, and no further.** [`read_changes`]
//!   takes the snapshot's `pg_current_snapshot()` and the WAL insert
//!   position `U` from inside the snapshot's transaction: every transaction
//!   the snapshot sees committed before `U`, so decoding up to `U` (once the
//!   WAL is flushed that far) names all of them. Transactions committed
//!   after the snapshot may be decoded too; their keys are named as well
//!   (the rows are re-read in the snapshot, which is right either way), but
//!   the slot must not move past them, or the next delta would never name
//!   them: the position it may move to ([`CapturedChanges::upto`]) is the
//!   end of the commit record of the last transaction, in commit order,
//!   before the first one the snapshot does not see. An invisible
//!   transaction is thus named again by the next delta, as is anything
//!   decoded after it.
//! - **Visibility by xid.** test_decoding prints 32-bit xids, the snapshot
//!   64-bit ones; an xid is widened to the 64-bit value nearest the
//!   snapshot's `xmax` (as PostgreSQL's own `FullXidRelativeTo` does:
//!   every xid that can still appear is within 2^31 of it), and is visible
//!   when below `xmin`, or below `xmax` and not in the snapshot's list of
//!   running transactions.
//! - **Keys in text form.** Integer and text keys print as their decimal
//!   number or the text itself, which is the form
//!   [`bru_core::changes::TableChanges::Keys`] holds. A change that names no
//!   key (a TRUNCATE, a DELETE without old tuple data, a table without a
//!   primary key of integer and text columns, a table whose replica
//!   identity is not the primary key or the full row, so that an UPDATE
//!   changing the primary key would not name the old one) makes the table
//!   [`TableChanges::Whole`].
//! - **Reading keys back** ([`key_filters`]) is a `= ANY(array)` (one
//!   column) or `IN (SELECT * FROM unnest(arrays))` (several) condition,
//!   which the primary key's index serves, with the array cast to the
//!   column's base type (`int2`/`int4`/`int8`, `text`, `varchar`, `bpchar`:
//!   the same equality as the declared type, without the length that would
//!   pad or cut the values). The condition is spliced into the COPY query,
//!   so it is built only from array literals whose every element is
//!   double-quoted and backslash-escaped, the whole passed through
//!   [`quote_literal`]; keys go in slices of [`KEYS_PER_QUERY`], so a query's
//!   text stays bounded.
//!
//! The slot's own SQL (create, peek, advance, drop) runs on a connection
//! of its own: the snapshot's transaction is read only, and the slot's
//! functions would otherwise run inside it.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use bru_core::changes::{CapturedChanges, TableChanges};
use bru_core::{ColumnType, Error, TableDef, TableName};
use futures_util::StreamExt;
use tokio_postgres::error::SqlState;

use crate::conn::{Conn, Settings};
use crate::quote::{ident, quote_literal};

/// The output plugin the slots are created with.
pub(crate) const PLUGIN: &str = "test_decoding";

/// How many keys one query reads back.
pub(crate) const KEYS_PER_QUERY: usize = 50_000;

/// How long [`read_changes`] waits for the WAL to be flushed up to the
/// snapshot's position.
const FLUSH_WAIT: Duration = Duration::from_secs(30);

/// Refuses a slot name PostgreSQL would refuse (lower-case letters,
/// digits and underscores, at most 63), before it reaches any SQL.
pub(crate) fn check_slot_name(slot: &str) -> bru_core::Result<()> {
    if slot.is_empty()
        || slot.len() > 63
        || !slot
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
    {
        return Err(Error::Unsupported(format!(
            "{slot:?} is not a valid change slot name: PostgreSQL allows only lower-case letters, \
             digits and underscores, at most 63 of them"
        )));
    }
    Ok(())
}

/// The statement that drops `slot`, for messages.
fn drop_statement(slot: &str) -> String {
    format!("SELECT pg_drop_replication_slot({})", quote_literal(slot))
}

fn first_text(
    rows: &[tokio_postgres::Row],
    col: usize,
    context: &str,
) -> bru_core::Result<Option<String>> {
    match rows.first() {
        None => Ok(None),
        Some(r) => r.try_get(col).map_err(|e| Error::engine(context, e)),
    }
}

/// Creates the logical slot `slot` on a connection of its own with
/// `settings`, and returns its position (`confirmed_flush_lsn`). The caller
/// takes its snapshot again afterwards.
pub(crate) fn create_slot(settings: Settings, slot: &str) -> bru_core::Result<String> {
    check_slot_name(slot)?;
    let context = format!("creating change slot {slot}");
    let conn = Conn::open(settings)?;
    let rows = conn.query(
        "SELECT pg_catalog.current_setting('wal_level')",
        &[],
        &context,
    )?;
    let level = first_text(&rows, 0, &context)?.unwrap_or_default();
    if level != "logical" {
        return Err(Error::Unsupported(format!(
            "wal_level is {level}, not logical: PostgreSQL keeps a change slot only with logical \
             decoding; set wal_level = logical and restart the server to keep a change slot"
        )));
    }
    let exists = |conn: &Conn| -> bru_core::Result<bool> {
        Ok(!conn
            .query(
                "SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name::text = $1",
                &[&slot],
                &context,
            )?
            .is_empty())
    };
    let clash = || {
        Error::Unsupported(format!(
            "a slot named {slot} already exists: drop it with {} or choose another name",
            drop_statement(slot)
        ))
    };
    if exists(&conn)? {
        return Err(clash());
    }
    let created = conn.block_on(conn.client.query(
        "SELECT lsn::text FROM pg_catalog.pg_create_logical_replication_slot($1::text::name, $2::text::name)",
        &[&slot, &PLUGIN],
    ));
    if let Err(e) = created {
        if e.code() == Some(&SqlState::DUPLICATE_OBJECT) {
            return Err(clash());
        }
        return Err(conn.err(&context, &e));
    }
    let rows = conn.query(
        "SELECT confirmed_flush_lsn::text FROM pg_catalog.pg_replication_slots \
         WHERE slot_name::text = $1",
        &[&slot],
        &context,
    )?;
    first_text(&rows, 0, &context)?
        .ok_or_else(|| Error::engine(&context, "the new slot has no position"))
}

/// Moves `slot` to `to`, on a connection of its own.
pub(crate) fn advance(settings: Settings, slot: &str, to: &str) -> bru_core::Result<()> {
    check_slot_name(slot)?;
    let conn = Conn::open(settings)?;
    conn.query(
        "SELECT 1 FROM pg_catalog.pg_replication_slot_advance($1::text::name, $2::text::pg_catalog.pg_lsn)",
        &[&slot, &to],
        &format!("moving change slot {slot} to {to}"),
    )?;
    Ok(())
}

/// Drops `slot` if it exists, on a connection of its own; whether it did.
pub(crate) fn drop_slot(settings: Settings, slot: &str) -> bru_core::Result<bool> {
    check_slot_name(slot)?;
    let context = format!("dropping change slot {slot}");
    let conn = Conn::open(settings)?;
    let rows = conn.query(
        "SELECT active FROM pg_catalog.pg_replication_slots WHERE slot_name::text = $1",
        &[&slot],
        &context,
    )?;
    let Some(row) = rows.first() else {
        return Ok(false);
    };
    let in_use = || {
        Error::Unsupported(format!(
            "change slot {slot} is active (a client is reading it), so it cannot be dropped; \
             stop that client first"
        ))
    };
    let active: bool = row.try_get(0).map_err(|e| Error::engine(&context, e))?;
    if active {
        return Err(in_use());
    }
    match conn.block_on(conn.client.query(
        "SELECT 1 FROM pg_catalog.pg_drop_replication_slot($1::text::name)",
        &[&slot],
    )) {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Some(&SqlState::OBJECT_IN_USE) => Err(in_use()),
        // Dropped by someone else meanwhile.
        Err(e) if e.code() == Some(&SqlState::UNDEFINED_OBJECT) => Ok(false),
        Err(e) => Err(conn.err(&context, &e)),
    }
}

/// The count of `table`'s rows (not its children's, as `read_rows` reads).
pub(crate) fn count(conn: &Conn, table: &TableDef) -> bru_core::Result<u64> {
    let context = format!("counting the rows of {}", table.name);
    let rows = conn.query(
        &format!(
            "SELECT count(*) FROM ONLY {}",
            crate::quote::qualified(&table.name)
        ),
        &[],
        &context,
    )?;
    let n: i64 = rows
        .first()
        .ok_or_else(|| Error::engine(&context, "no row"))?
        .try_get(0)
        .map_err(|e| Error::engine(&context, e))?;
    Ok(n.max(0) as u64)
}

// ---------------------------------------------------------------------
// Reading keys back.

/// The base type a key column's array is cast to, or why it cannot be.
fn key_type(table: &TableDef, i: usize) -> bru_core::Result<&'static str> {
    let c = table.columns.get(i).ok_or_else(|| {
        Error::Unsupported(format!(
            "table {}: key column {i} is not one of its columns",
            table.name
        ))
    })?;
    Ok(match &c.ty {
        ColumnType::Int16 => "pg_catalog.int2",
        ColumnType::Int32 => "pg_catalog.int4",
        ColumnType::Int64 => "pg_catalog.int8",
        ColumnType::Text { fixed: true, .. } => "pg_catalog.bpchar",
        ColumnType::Text { .. } if c.native_type.starts_with("character varying") => {
            "pg_catalog.varchar"
        }
        ColumnType::Text { .. } => "pg_catalog.text",
        other => {
            return Err(Error::Unsupported(format!(
                "table {}: key column {} is of type {}, not an integer or text: its rows cannot \
                 be read by key",
                table.name,
                c.name,
                if c.native_type.is_empty() {
                    format!("{other:?}")
                } else {
                    c.native_type.clone()
                }
            )))
        }
    })
}

/// An array literal of `values`, as SQL: each element double-quoted with
/// `\` and `"` escaped, the whole a string literal, cast to `ty[]`.
fn array_literal<'a>(values: impl Iterator<Item = &'a str>, ty: &str) -> String {
    let mut a = String::from("{");
    for (n, v) in values.enumerate() {
        if n > 0 {
            a.push(',');
        }
        a.push('"');
        for ch in v.chars() {
            if ch == '\\' || ch == '"' {
                a.push('\\');
            }
            a.push(ch);
        }
        a.push('"');
    }
    a.push('}');
    format!("{}::{ty}[]", quote_literal(&a))
}

/// The conditions that read back the rows of `keys` (values of the columns
/// `key` of `table`, in order), one per slice of [`KEYS_PER_QUERY`] keys;
/// a key given twice is in one slice only.
pub(crate) fn key_filters(
    table: &TableDef,
    key: &[usize],
    keys: &[Vec<String>],
) -> bru_core::Result<Vec<String>> {
    if key.is_empty() {
        return Err(Error::Unsupported(format!(
            "table {}: no key columns to read by",
            table.name
        )));
    }
    let types: Vec<&str> = key
        .iter()
        .map(|&i| key_type(table, i))
        .collect::<bru_core::Result<_>>()?;
    let mut seen = HashSet::new();
    let mut unique: Vec<&Vec<String>> = Vec::with_capacity(keys.len());
    for k in keys {
        if k.len() != key.len() {
            return Err(Error::engine(
                format!("reading table {} by key", table.name),
                format!(
                    "a key of {} values for a key of {} columns",
                    k.len(),
                    key.len()
                ),
            ));
        }
        for (v, ty) in k.iter().zip(&types) {
            let integer = ty.ends_with("int2") || ty.ends_with("int4") || ty.ends_with("int8");
            if integer && v.parse::<i64>().is_err() {
                return Err(Error::engine(
                    format!("reading table {} by key", table.name),
                    format!("key value {v:?} of an integer column is not an integer"),
                ));
            }
        }
        if seen.insert(k) {
            unique.push(k);
        }
    }
    let names: Vec<String> = key.iter().map(|&i| ident(&table.columns[i].name)).collect();
    Ok(unique
        .chunks(KEYS_PER_QUERY)
        .map(|slice| {
            if let ([name], [ty]) = (names.as_slice(), types.as_slice()) {
                format!(
                    "{name} = ANY({})",
                    array_literal(slice.iter().map(|k| k[0].as_str()), ty)
                )
            } else {
                let arrays: Vec<String> = types
                    .iter()
                    .enumerate()
                    .map(|(c, ty)| array_literal(slice.iter().map(|k| k[c].as_str()), ty))
                    .collect();
                format!(
                    "({}) IN (SELECT * FROM pg_catalog.unnest({}))",
                    names.join(", "),
                    arrays.join(", ")
                )
            }
        })
        .collect())
}

// ---------------------------------------------------------------------
// Reading the slot.

/// The snapshot as `pg_current_snapshot()` writes it: `xmin:xmax:xip,...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot {
    xmin: u64,
    xmax: u64,
    xip: HashSet<u64>,
}

impl Snapshot {
    pub(crate) fn parse(text: &str) -> Option<Snapshot> {
        let mut parts = text.trim().splitn(3, ':');
        let xmin = parts.next()?.parse().ok()?;
        let xmax = parts.next()?.parse().ok()?;
        let xip = parts
            .next()?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().ok())
            .collect::<Option<_>>()?;
        Some(Snapshot { xmin, xmax, xip })
    }

    /// Whether the transaction of 32-bit xid `xid` is visible (committed
    /// before the snapshot): widened to the 64-bit xid nearest `xmax`.
    pub(crate) fn sees(&self, xid: u32) -> bool {
        let delta = i64::from(xid.wrapping_sub(self.xmax as u32) as i32);
        let Some(full) = (self.xmax as i64).checked_add(delta).filter(|f| *f >= 0) else {
            return false;
        };
        let full = full as u64;
        full < self.xmin || (full < self.xmax && !self.xip.contains(&full))
    }
}

/// How one table takes part in [`read_changes`].
enum Watch {
    /// Its primary key columns, by name.
    Keys(Vec<String>),
    /// Any change makes it whole.
    Whole,
}

/// The tables to watch: those of `tables` keyed by integer and text
/// primary key columns, unless their replica identity is neither the
/// default nor the full row (`odd_identity`).
fn watch_list(
    tables: &[TableDef],
    odd_identity: &HashSet<(String, String)>,
) -> HashMap<(String, String), (usize, Watch)> {
    let mut out = HashMap::new();
    for (n, t) in tables.iter().enumerate() {
        let schema = t.name.schema.clone().unwrap_or_else(|| "public".into());
        let id = (schema, t.name.name.clone());
        let keys = t.primary_key.as_ref().and_then(|pk| {
            (!pk.columns.is_empty()
                && pk.columns.iter().all(|c| {
                    t.column_index(c).is_some_and(|i| {
                        matches!(
                            t.columns[i].ty,
                            ColumnType::Int16
                                | ColumnType::Int32
                                | ColumnType::Int64
                                | ColumnType::Text { .. }
                        )
                    })
                }))
            .then(|| pk.columns.clone())
        });
        let watch = match keys {
            Some(k) if !odd_identity.contains(&id) => Watch::Keys(k),
            _ => Watch::Whole,
        };
        out.insert(id, (n, watch));
    }
    out
}

/// The distinct keys of one table, in the order first named.
#[derive(Default)]
struct KeySet {
    seen: HashSet<Vec<String>>,
    list: Vec<Vec<String>>,
}

/// What the changes collected so far are, per table of the input.
#[derive(Default)]
struct Collected {
    keys: HashMap<usize, KeySet>,
    whole: HashSet<usize>,
}

impl Collected {
    fn add(&mut self, table: usize, key: Vec<String>) {
        if self.whole.contains(&table) {
            return;
        }
        let set = self.keys.entry(table).or_default();
        if set.seen.insert(key.clone()) {
            set.list.push(key);
        }
    }

    fn whole(&mut self, table: usize) {
        self.keys.remove(&table);
        self.whole.insert(table);
    }

    /// Takes one decoded change of the watched tables.
    fn take(&mut self, watch: &HashMap<(String, String), (usize, Watch)>, change: Change) {
        let Change { tables, action } = change;
        for name in &tables {
            let Some((n, w)) = watch.get(&(name.0.clone(), name.1.clone())) else {
                continue;
            };
            let Watch::Keys(cols) = w else {
                self.whole(*n);
                continue;
            };
            let tuples: Vec<&Tuple> = match &action {
                Action::Truncate | Action::NoTupleData => {
                    self.whole(*n);
                    continue;
                }
                Action::Row { old, new } => old.iter().chain(new.iter()).collect(),
            };
            let mut keys = Vec::with_capacity(tuples.len());
            for t in tuples {
                match t.key(cols) {
                    Some(k) => keys.push(k),
                    None => {
                        keys.clear();
                        self.whole(*n);
                        break;
                    }
                }
            }
            for k in keys {
                self.add(*n, k);
            }
        }
    }

    fn into_tables(self, tables: &[TableDef]) -> Vec<(TableName, TableChanges)> {
        let mut out: Vec<(usize, TableChanges)> = self
            .keys
            .into_iter()
            .map(|(n, set)| (n, TableChanges::Keys(set.list)))
            .chain(self.whole.into_iter().map(|n| (n, TableChanges::Whole)))
            .collect();
        out.sort_by_key(|(n, _)| *n);
        out.into_iter()
            .map(|(n, c)| (tables[n].name.clone(), c))
            .collect()
    }
}

/// Names the changes `slot` holds of `tables` (module docs). `snap` is the
/// source's connection, in its snapshot's transaction; the slot is read on
/// a connection of its own.
pub(crate) fn read_changes(
    snap: &Conn,
    slot: &str,
    since: &str,
    tables: &[TableDef],
) -> bru_core::Result<CapturedChanges> {
    check_slot_name(slot)?;
    let context = format!("reading change slot {slot}");
    // a. The snapshot and the WAL position that covers it.
    let rows = snap.query(
        "SELECT pg_catalog.pg_current_snapshot()::text, pg_catalog.pg_current_wal_insert_lsn()::text",
        &[],
        &context,
    )?;
    let row = rows
        .first()
        .ok_or_else(|| Error::engine(&context, "no snapshot"))?;
    let snapshot_text: String = row.try_get(0).map_err(|e| Error::engine(&context, e))?;
    let upto_wal: String = row.try_get(1).map_err(|e| Error::engine(&context, e))?;
    let snapshot = Snapshot::parse(&snapshot_text).ok_or_else(|| {
        Error::engine(
            &context,
            format!("cannot read the snapshot {snapshot_text:?}"),
        )
    })?;
    // Tables whose replica identity does not name their primary key.
    let odd: HashSet<(String, String)> = snap
        .query(
            "SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND c.relreplident NOT IN ('d', 'f')",
            &[],
            &context,
        )?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, tokio_postgres::Error>>()
        .map_err(|e| Error::engine(&context, e))?;

    // b. The slot, outside the snapshot.
    let conn = Conn::open(snap.settings.clone())?;
    let rows = conn.query(
        "SELECT plugin::text, confirmed_flush_lsn::text, \
                confirmed_flush_lsn > $2::text::pg_catalog.pg_lsn \
         FROM pg_catalog.pg_replication_slots WHERE slot_name::text = $1",
        &[&slot, &since],
        &context,
    )?;
    let Some(row) = rows.first() else {
        return Err(Error::Unsupported(format!(
            "change slot {slot} does not exist on the server (it was dropped), so this chain's \
             fast path is gone: take the delta with --generic, or a new full backup"
        )));
    };
    let plugin: Option<String> = row.try_get(0).map_err(|e| Error::engine(&context, e))?;
    let from: Option<String> = row.try_get(1).map_err(|e| Error::engine(&context, e))?;
    let moved: Option<bool> = row.try_get(2).map_err(|e| Error::engine(&context, e))?;
    if plugin.as_deref() != Some(PLUGIN) {
        return Err(Error::Unsupported(format!(
            "slot {slot} is not a change slot of bru (its plugin is {}, not {PLUGIN})",
            plugin.as_deref().unwrap_or("none: a physical slot")
        )));
    }
    let from = from.ok_or_else(|| Error::engine(&context, "the slot has no position"))?;
    if moved == Some(true) {
        return Err(Error::Unsupported(format!(
            "change slot {slot} has moved past the position this chain's latest archive recorded \
             ({since}): its changes before {from} were consumed elsewhere, or a later delta was \
             taken; take this delta --since the chain's latest archive, or with --generic"
        )));
    }

    // c. Everything the snapshot sees is in the WAL up to `upto_wal`,
    // which logical decoding reads only once the server has flushed it.
    // A commit is flushed at once, but other records (a page a reader
    // pruned, a lock) wait for the next commit or a full WAL page, which
    // on a quiet server can mean the next running-transactions record,
    // up to 15 s away. So, when the WAL is not yet flushed that far, a
    // transaction that writes nothing but its own commit record is
    // committed here: the commit flushes the WAL up to it (under
    // synchronous_commit = off the WAL writer does, within
    // wal_writer_delay). It changes no row, and the slot's output skips
    // it as an empty transaction.
    let started = Instant::now();
    let mut nudged = false;
    loop {
        let rows = conn.query(
            "SELECT pg_catalog.pg_current_wal_flush_lsn() >= $1::text::pg_catalog.pg_lsn",
            &[&upto_wal],
            &context,
        )?;
        let flushed: bool = rows
            .first()
            .and_then(|r| r.try_get(0).ok())
            .unwrap_or(false);
        if flushed {
            break;
        }
        if !nudged {
            nudged = true;
            // A server that cannot commit (a standby decoding its primary's
            // WAL) refuses; then the loop waits for its flush as before.
            if conn
                .batch(
                    "BEGIN READ WRITE; SELECT pg_catalog.pg_current_xact_id(); COMMIT",
                    &context,
                )
                .is_err()
            {
                let _ = conn.batch("ROLLBACK", &context);
            }
            continue;
        }
        if started.elapsed() > FLUSH_WAIT {
            return Err(Error::engine(
                &context,
                format!(
                    "the server did not flush its WAL up to {upto_wal} within {} seconds",
                    FLUSH_WAIT.as_secs()
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }

    // d, e, f. Stream the decoded changes, keep the keys.
    let watch = watch_list(tables, &odd);
    let mut collected = Collected::default();
    let mut upto: Option<String> = None;
    let mut blocked = false;
    let mut failure: Option<String> = None;
    let result = conn.block_on(async {
        let stream = conn
            .client
            .query_raw(
                "SELECT lsn::text, xid::text, data FROM pg_catalog.pg_logical_slot_peek_changes(\
                 $1::text::name, $2::text::pg_catalog.pg_lsn, NULL, \
                 'include-xids', '1', 'skip-empty-xacts', '1')",
                [slot, upto_wal.as_str()],
            )
            .await?;
        let mut stream = std::pin::pin!(stream);
        while let Some(row) = stream.next().await {
            let row = row?;
            let lsn: Option<String> = row.try_get(0)?;
            let xid: Option<String> = row.try_get(1)?;
            let data: Option<String> = row.try_get(2)?;
            let Some(data) = data else { continue };
            match parse_line(&data) {
                Ok(Line::Commit) => {
                    if blocked {
                        continue;
                    }
                    let xid = xid.as_deref().and_then(|x| x.parse::<u32>().ok());
                    match (xid, lsn) {
                        (Some(x), Some(lsn)) if snapshot.sees(x) => upto = Some(lsn),
                        _ => blocked = true,
                    }
                }
                Ok(Line::Change(change)) => collected.take(&watch, change),
                Ok(Line::Begin | Line::Other) => {}
                Err(why) => {
                    if failure.is_none() {
                        failure = Some(format!("{why}: {}", excerpt(&data)));
                    }
                }
            }
        }
        Ok::<(), tokio_postgres::Error>(())
    });
    result.map_err(|e| conn.err(&context, &e))?;
    if let Some(why) = failure {
        return Err(Error::engine(
            &context,
            format!("cannot read a line of {PLUGIN}'s output ({why})"),
        ));
    }
    Ok(CapturedChanges {
        from,
        upto,
        tables: collected.into_tables(tables),
    })
}

/// The start of a line, for a message (values may be long).
fn excerpt(line: &str) -> String {
    match line.char_indices().nth(200) {
        Some((i, _)) => format!("{}...", &line[..i]),
        None => line.to_owned(),
    }
}

// ---------------------------------------------------------------------
// test_decoding's lines (contrib/test_decoding/test_decoding.c).

/// One line of test_decoding's output.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    Begin,
    Commit,
    Change(Change),
    /// Anything else (a logical message): not a row change.
    Other,
}

/// A change of one or more tables (several for a TRUNCATE).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Change {
    /// (schema, name).
    pub tables: Vec<(String, String)>,
    pub action: Action,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// An INSERT, UPDATE or DELETE with its tuples: `old` the old key (of
    /// an UPDATE that changed it, or of a DELETE), `new` the new tuple.
    Row {
        old: Option<Tuple>,
        new: Option<Tuple>,
    },
    /// An INSERT, UPDATE or DELETE without tuple data.
    NoTupleData,
    Truncate,
}

/// A column's value in a tuple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Field {
    Value(String),
    Null,
    /// A TOASTed value the UPDATE did not change (not written out).
    UnchangedToast,
}

/// The columns of a tuple, by name, in the order printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Tuple(pub Vec<(String, Field)>);

impl Tuple {
    /// The values of columns `cols`, or `None` if one is missing, null or
    /// not written out.
    fn key(&self, cols: &[String]) -> Option<Vec<String>> {
        cols.iter()
            .map(|c| {
                self.0
                    .iter()
                    .find(|(n, _)| n == c)
                    .and_then(|(_, f)| match f {
                        Field::Value(v) => Some(v.clone()),
                        _ => None,
                    })
            })
            .collect()
    }
}

/// Parses one line of test_decoding's output.
pub(crate) fn parse_line(line: &str) -> Result<Line, String> {
    if line == "BEGIN" || line.starts_with("BEGIN ") {
        return Ok(Line::Begin);
    }
    if line == "COMMIT" || line.starts_with("COMMIT ") {
        return Ok(Line::Commit);
    }
    let Some(mut rest) = line.strip_prefix("table ") else {
        return Ok(Line::Other);
    };
    let mut tables = Vec::new();
    loop {
        let (schema, r) = identifier(rest)?;
        let r = r
            .strip_prefix('.')
            .ok_or("a table name without its schema")?;
        let (name, r) = identifier(r)?;
        tables.push((schema, name));
        if let Some(r) = r.strip_prefix(", ") {
            rest = r;
            continue;
        }
        rest = r.strip_prefix(": ").ok_or("no ':' after the table name")?;
        break;
    }
    let (verb, rest) = rest.split_once(':').ok_or("no action")?;
    let action = match verb {
        "TRUNCATE" => Action::Truncate,
        "INSERT" | "DELETE" | "UPDATE" => {
            if rest == " (no-tuple-data)" {
                Action::NoTupleData
            } else if verb == "UPDATE" {
                if let Some(r) = rest.strip_prefix(" old-key:") {
                    let (old, r) = tuple(r, true)?;
                    let r = r.strip_prefix(" new-tuple:").ok_or("no new tuple")?;
                    let new = if r == " (no-tuple-data)" {
                        None
                    } else {
                        Some(tuple(r, false)?.0)
                    };
                    Action::Row {
                        old: Some(old),
                        new,
                    }
                } else {
                    Action::Row {
                        old: None,
                        new: Some(tuple(rest, false)?.0),
                    }
                }
            } else if verb == "INSERT" {
                Action::Row {
                    old: None,
                    new: Some(tuple(rest, false)?.0),
                }
            } else {
                Action::Row {
                    old: Some(tuple(rest, false)?.0),
                    new: None,
                }
            }
        }
        other => return Err(format!("unknown action {other:?}")),
    };
    Ok(Line::Change(Change { tables, action }))
}

/// An identifier as `quote_identifier` writes it: double-quoted with `""`
/// for `"`, or bare (lower-case letters, digits, `_`, `$`).
fn identifier(s: &str) -> Result<(String, &str), String> {
    if let Some(mut r) = s.strip_prefix('"') {
        let mut out = String::new();
        loop {
            let end = r.find('"').ok_or("an unterminated quoted identifier")?;
            out.push_str(&r[..end]);
            r = &r[end + 1..];
            if let Some(rr) = r.strip_prefix('"') {
                out.push('"');
                r = rr;
            } else {
                return Ok((out, r));
            }
        }
    }
    let end = s
        .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$'))
        .unwrap_or(s.len());
    if end == 0 {
        return Err("an empty identifier".into());
    }
    Ok((s[..end].to_owned(), &s[end..]))
}

/// A tuple: ` name[type]:value` repeated. `in_old_key`: stop before
/// ` new-tuple:`.
fn tuple(mut s: &str, in_old_key: bool) -> Result<(Tuple, &str), String> {
    let mut fields = Vec::new();
    loop {
        if s.is_empty() || (in_old_key && s.starts_with(" new-tuple:")) {
            return Ok((Tuple(fields), s));
        }
        let r = s.strip_prefix(' ').ok_or("no space before a column")?;
        let (name, r) = identifier(r)?;
        let r = r.strip_prefix('[').ok_or("no type after a column name")?;
        let r = skip_type(r)?;
        let (field, r) = value(r)?;
        fields.push((name, field));
        s = r;
    }
}

/// Skips a type name (as `format_type_be` writes it, which may hold
/// quoted identifiers and `[]`) up to and past its closing `]:`.
fn skip_type(s: &str) -> Result<&str, String> {
    let mut quoted = false;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => quoted = !quoted,
            b']' if !quoted && b.get(i + 1) == Some(&b':') => return Ok(&s[i + 2..]),
            _ => {}
        }
        i += 1;
    }
    Err("an unterminated type name".into())
}

/// A value as `print_literal` writes it: single-quoted with `''` for `'`,
/// `B'...'` for bit strings, bare for numbers and booleans, or `null`, or
/// `unchanged-toast-datum`.
fn value(s: &str) -> Result<(Field, &str), String> {
    let quoted = s.strip_prefix('\'').or_else(|| s.strip_prefix("B'"));
    if let Some(mut r) = quoted {
        let mut out = String::new();
        loop {
            let end = r.find('\'').ok_or("an unterminated quoted value")?;
            out.push_str(&r[..end]);
            r = &r[end + 1..];
            if let Some(rr) = r.strip_prefix('\'') {
                out.push('\'');
                r = rr;
            } else {
                return Ok((Field::Value(out), r));
            }
        }
    }
    let end = s.find(' ').unwrap_or(s.len());
    let (word, r) = (&s[..end], &s[end..]);
    Ok((
        match word {
            "null" => Field::Null,
            "unchanged-toast-datum" => Field::UnchangedToast,
            "" => return Err("an empty value".into()),
            w => Field::Value(w.to_owned()),
        },
        r,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bru_core::Column;

    fn v(s: &str) -> Field {
        Field::Value(s.into())
    }

    fn row(cols: &[(&str, Field)]) -> Tuple {
        Tuple(
            cols.iter()
                .map(|(n, f)| ((*n).to_owned(), f.clone()))
                .collect(),
        )
    }

    fn change(line: &str) -> Change {
        match parse_line(line).unwrap() {
            Line::Change(c) => c,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn begin_commit_and_messages() {
        assert_eq!(parse_line("BEGIN 529").unwrap(), Line::Begin);
        assert_eq!(parse_line("COMMIT 529").unwrap(), Line::Commit);
        assert_eq!(
            parse_line("message: transactional: 1 prefix: p, sz: 1 content:x").unwrap(),
            Line::Other
        );
    }

    #[test]
    fn insert_with_quoted_identifiers_and_values() {
        let c = change(
            r#"table "My Schema"."Odd""Table": INSERT: id[integer]:1 "Na me"[text]:'it''s a  b' note[character varying]:null b[boolean]:true"#,
        );
        assert_eq!(
            c.tables,
            vec![("My Schema".to_owned(), "Odd\"Table".to_owned())]
        );
        assert_eq!(
            c.action,
            Action::Row {
                old: None,
                new: Some(row(&[
                    ("id", v("1")),
                    ("Na me", v("it's a  b")),
                    ("note", Field::Null),
                    ("b", v("true")),
                ])),
            }
        );
    }

    #[test]
    fn values_that_look_like_syntax() {
        let c = change(
            r#"table public.t: INSERT: a[text]:' new-tuple: x[int]:1' b[text]:'null' c[integer[]]:'{1,2}' d[bit varying]:B'101' e[text]:unchanged-toast-datum f[text]:''"#,
        );
        assert_eq!(
            c.action,
            Action::Row {
                old: None,
                new: Some(row(&[
                    ("a", v(" new-tuple: x[int]:1")),
                    ("b", v("null")),
                    ("c", v("{1,2}")),
                    ("d", v("101")),
                    ("e", Field::UnchangedToast),
                    ("f", v("")),
                ])),
            }
        );
    }

    #[test]
    fn update_with_old_key_and_composite_keys() {
        let c = change(
            "table public.pairs: UPDATE: old-key: a[integer]:1 b[text]:'x y' new-tuple: a[integer]:2 b[text]:'x y' v[numeric]:1.5",
        );
        let Action::Row { old, new } = &c.action else {
            panic!("{c:?}")
        };
        let cols = ["a".to_owned(), "b".to_owned()];
        assert_eq!(
            old.as_ref().unwrap().key(&cols),
            Some(vec!["1".into(), "x y".into()])
        );
        assert_eq!(
            new.as_ref().unwrap().key(&cols),
            Some(vec!["2".into(), "x y".into()])
        );
        // Without old-key: the key did not change.
        let c = change("table public.t: UPDATE: id[bigint]:7 v[text]:'a'");
        assert_eq!(
            c.action,
            Action::Row {
                old: None,
                new: Some(row(&[("id", v("7")), ("v", v("a"))])),
            }
        );
    }

    #[test]
    fn delete_and_truncate() {
        assert_eq!(
            change("table public.t: DELETE: id[integer]:3").action,
            Action::Row {
                old: Some(row(&[("id", v("3"))])),
                new: None
            }
        );
        assert_eq!(
            change("table public.t: DELETE: (no-tuple-data)").action,
            Action::NoTupleData
        );
        let c = change("table public.a, \"S\".b: TRUNCATE: restart_seqs cascade");
        assert_eq!(c.action, Action::Truncate);
        assert_eq!(
            c.tables,
            vec![
                ("public".to_owned(), "a".to_owned()),
                ("S".to_owned(), "b".to_owned())
            ]
        );
        assert_eq!(
            change("table public.a: TRUNCATE: (no-flags)").action,
            Action::Truncate
        );
        assert!(parse_line("table public.a: INSERT: x[integer").is_err());
    }

    fn int_text_table() -> TableDef {
        TableDef::new(
            TableName::new(Some("public"), "pairs"),
            vec![
                Column::new("a", ColumnType::Int32, "integer"),
                Column::new(
                    "b",
                    ColumnType::Text {
                        max_len: None,
                        fixed: false,
                        national: false,
                    },
                    "text",
                ),
                Column::new("j", ColumnType::Json { binary: true }, "jsonb"),
            ],
        )
        .with_primary_key(&["a", "b"])
    }

    #[test]
    fn collects_keys_and_wholes() {
        let pairs = int_text_table();
        let bare = TableDef::new(
            TableName::new(Some("public"), "bare"),
            vec![Column::new("x", ColumnType::Int32, "integer")],
        );
        let tables = vec![pairs, bare];
        let watch = watch_list(&tables, &HashSet::new());
        let mut c = Collected::default();
        for line in [
            "table public.pairs: INSERT: a[integer]:1 b[text]:'x' j[jsonb]:null",
            "table public.pairs: INSERT: a[integer]:1 b[text]:'x' j[jsonb]:null",
            "table public.pairs: UPDATE: old-key: a[integer]:1 b[text]:'x' new-tuple: a[integer]:2 b[text]:'x' j[jsonb]:null",
            "table public.bare: INSERT: x[integer]:1",
            "table public.other: INSERT: x[integer]:1",
        ] {
            c.take(&watch, change(line));
        }
        let got = c.into_tables(&tables);
        assert_eq!(
            got,
            vec![
                (
                    TableName::new(Some("public"), "pairs"),
                    TableChanges::Keys(vec![
                        vec!["1".into(), "x".into()],
                        vec!["2".into(), "x".into()]
                    ])
                ),
                (TableName::new(Some("public"), "bare"), TableChanges::Whole),
            ]
        );
        // A key column missing from a line, or a TRUNCATE: whole.
        let mut c = Collected::default();
        c.take(&watch, change("table public.pairs: DELETE: a[integer]:1"));
        assert_eq!(c.into_tables(&tables)[0].1, TableChanges::Whole);
        let mut c = Collected::default();
        c.take(
            &watch,
            change("table public.pairs: INSERT: a[integer]:1 b[text]:'x'"),
        );
        c.take(
            &watch,
            change("table public.pairs, public.bare: TRUNCATE: (no-flags)"),
        );
        c.take(
            &watch,
            change("table public.pairs: INSERT: a[integer]:5 b[text]:'x'"),
        );
        assert!(c
            .into_tables(&tables)
            .iter()
            .all(|(_, ch)| *ch == TableChanges::Whole));
        // A replica identity that is not the key: whole.
        let odd = HashSet::from([("public".to_owned(), "pairs".to_owned())]);
        let watch = watch_list(&tables, &odd);
        let mut c = Collected::default();
        c.take(
            &watch,
            change("table public.pairs: INSERT: a[integer]:1 b[text]:'x'"),
        );
        assert_eq!(c.into_tables(&tables)[0].1, TableChanges::Whole);
    }

    #[test]
    fn visibility_by_widened_xid() {
        let s = Snapshot::parse("4294967390:4294967400:4294967391").unwrap();
        // Epoch 1: xids 94 (below xmin), 95 (running), 99 (committed), 100+
        // (after the snapshot); epoch 0's 4294967000 (long committed).
        assert!(s.sees(94));
        assert!(!s.sees(95));
        assert!(s.sees(99));
        assert!(!s.sees(104));
        assert!(!s.sees(105));
        assert!(s.sees(4_294_967_000));
        let s = Snapshot::parse("100:105:").unwrap();
        assert!(s.sees(99) && s.sees(103) && !s.sees(105) && !s.sees(106));
        assert!(Snapshot::parse("nonsense").is_none());
    }

    #[test]
    fn key_filters_escape_and_slice() {
        let t = int_text_table();
        let keys = vec![
            vec!["1".into(), "a\"b\\c'd".into()],
            vec!["2".into(), "".into()],
            vec!["1".into(), "a\"b\\c'd".into()],
        ];
        let f = key_filters(&t, &[0, 1], &keys).unwrap();
        assert_eq!(
            f,
            vec![
                r#"(a, b) IN (SELECT * FROM pg_catalog.unnest('{"1","2"}'::pg_catalog.int4[], '{"a\"b\\c''d",""}'::pg_catalog.text[]))"#
            ]
        );
        let f = key_filters(&t, &[0], &[vec!["7".into()]]).unwrap();
        assert_eq!(f, vec![r#"a = ANY('{"7"}'::pg_catalog.int4[])"#]);
        assert!(key_filters(&t, &[2], &[vec!["{}".into()]]).is_err());
        assert!(key_filters(&t, &[0], &[vec!["1 OR true".into()]]).is_err());
        let many: Vec<Vec<String>> = (0..KEYS_PER_QUERY + 1)
            .map(|i| vec![i.to_string()])
            .collect();
        assert_eq!(key_filters(&t, &[0], &many).unwrap().len(), 2);
    }

    #[test]
    fn slot_names() {
        assert!(check_slot_name("bru_chain_1").is_ok());
        for bad in ["", "Bad", "a-b", "a'b", &"x".repeat(64)] {
            assert!(check_slot_name(bad).is_err(), "{bad}");
        }
    }
}
