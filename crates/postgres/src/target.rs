//! PostgreSQL as a restore target.
//!
//! Phases follow pg_restore's: tables are created bare (columns, defaults,
//! identity, NOT NULL); rows are loaded with binary COPY; then constraints
//! and indexes, foreign keys once the tables they join are loaded, and only
//! after that triggers, so no trigger fires on restored rows. Into existing
//! tables (`--data-only`), the table's enabled user triggers are disabled
//! inside each load transaction and enabled again before it commits, so
//! they stay off for restored rows and nothing is left disabled by a crash.
//!
//! The first load transaction into a table created by this restore takes
//! the table's lock without waiting, checks that it is still empty, and
//! TRUNCATEs it, so that COPY FREEZE writes the rows already frozen (no
//! later vacuum pass over the whole table). When another session is loading
//! the same table (a big table split between workers), or the table already
//! holds rows, the load falls back to a plain COPY instead of waiting.
//!
//! Restores are resumable: a `public._bru_restore_journal` table records
//! the keys the engine hands to [`Target::journal_mark`] and
//! [`TableLoader::commit_chunk`], the latter in the same transaction as the
//! chunk's rows. Post-data steps look up what already exists (constraints
//! and indexes by name) or accept "already exists" from the server on a
//! resumed restore, so a step done just before a crash is not done twice.
//! A session whose connection was lost reconnects at its next step.
//!
//! Columns of types without a neutral counterpart (arrays, enums,
//! domains...) arrive as canonical text. Their table is loaded through a
//! temporary staging table where those columns are `text`, then inserted
//! with a cast, so the server's own input functions parse them. Text bound
//! for `jsonb` from anything but a PostgreSQL jsonb column takes the same
//! path, and is refused if jsonb would not keep it as written.
//!
//! No value is changed on the way in: dates, times, timestamps, intervals
//! and uuids that arrive as text (from SQLite) are parsed strictly by
//! [`crate::text_input`] rather than by the server's lenient input
//! functions, and values that a column's modifier would round, pad or cut
//! (`timestamp(0)`, `char(n)`, `varchar(n)`) are refused, naming the table,
//! column and value.

use std::collections::{HashMap, HashSet};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bru_core::{
    ColumnType, Error, ErrorKind, IndexPart, Interval, ObjectDef, ObjectKind, ObjectOutcome,
    RowBatch, TableDef, TableLoader, TableName, Target, Value,
};
use bytes::{Bytes, BytesMut};
use futures_util::SinkExt;
use tokio_postgres::error::SqlState;
use tokio_postgres::CopyInSink;

use crate::catalog::{quote_literal, OWNED_SEQUENCE};
use crate::conn::{Conn, Settings};
use crate::copy_binary::{write_header, write_trailer, TupleWriter};
use crate::ddl;
use crate::quote::{ident, qualified, target_name};
use crate::source::wire_of;
use crate::text_input;
use crate::values::{encode, encode_field_fast, Wire};
use crate::ENGINE_NAME;

/// How much COPY data is buffered before it is handed to the connection.
const SEND_THRESHOLD: usize = 1 << 20;

/// The restore journal, in the target database.
const JOURNAL: &str = "public._bru_restore_journal";

/// Writes into one PostgreSQL database. [`Target::open_worker`] opens more
/// sessions on the same database that share this one's state.
pub struct PgTarget {
    conn: Conn,
    shared: Arc<Shared>,
}

/// What the sessions of one restore share.
#[derive(Default)]
struct Shared {
    /// Tables this restore created (their first load may TRUNCATE and
    /// FREEZE).
    created: Mutex<HashSet<TableName>>,
    /// What was left out, for [`Target::take_skipped`].
    skipped: Mutex<Vec<String>>,
    /// A journal from an earlier, interrupted restore was found: objects
    /// that already exist were made by it.
    resuming: AtomicBool,
    /// The journal table is known to exist.
    journal_ready: AtomicBool,
    /// Objects already attempted in this restore: a retry after a lost
    /// connection may find one that was created before the connection
    /// dropped.
    attempted: Mutex<HashSet<String>>,
    /// The restore runs on more than one session (see [`open_session`]).
    several_sessions: AtomicBool,
}

impl Shared {
    fn created(&self, name: &TableName) -> bool {
        self.created
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(name)
    }

    fn skip(&self, line: String) {
        self.skipped
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line);
    }

    /// Whether an "already exists" error for `key` means the step was done
    /// before (resumed restore, or a retry of the same step).
    fn may_exist(&self, key: &str) -> bool {
        let first = self
            .attempted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_owned());
        !first || self.resuming.load(Ordering::Relaxed)
    }
}

/// How long creating a partition or child waits for its parent table.
const PARENT_WAIT: Duration = Duration::from_secs(120);

/// Creates the journal table if it does not exist, inside a transaction.
/// Concurrent sessions serialize on an advisory lock held until their
/// transaction ends, so only one creates it and the others then see it.
fn journal_ddl() -> String {
    format!(
        "SELECT pg_catalog.pg_advisory_xact_lock(7262737); \
         CREATE TABLE IF NOT EXISTS {JOURNAL} (key text PRIMARY KEY, \
         done_at timestamptz NOT NULL DEFAULT pg_catalog.now())"
    )
}

/// Opens a target session: function bodies may name tables that do not
/// exist yet, and notices are not wanted.
///
/// Two settings are for speed. `synchronous_commit = off`: a restore
/// commits once per chunk, and waiting for each WAL flush is pointless
/// because the journal entry commits with the chunk's rows, so a server
/// crash loses both together and `--resume` reloads them. And index builds
/// get at least 256 MB of `maintenance_work_mem` (never less than the
/// server's own setting), so a big table's keys sort in memory.
///
/// With more than one session (`shared.several_sessions`), index builds get
/// no parallel workers (`max_parallel_maintenance_workers = 0`): the plan
/// already builds a table's indexes side by side, one per session, and
/// the server's workers would only compete with them and with the loads.
/// Measured on 2 cores (migration benchmark restore, 4 runs each): 3.10 s
/// with the server's default of 2 workers, 2.80 s without.
fn open_session(settings: Settings, shared: &Shared) -> bru_core::Result<Conn> {
    let conn = Conn::open(settings)?;
    conn.batch(
        "SET check_function_bodies = false; SET client_min_messages = warning; \
         SET synchronous_commit = off; \
         SELECT pg_catalog.set_config('maintenance_work_mem', '262144', false) \
           FROM pg_catalog.pg_settings \
          WHERE name = 'maintenance_work_mem' AND setting::bigint < 262144",
        "configuring the session",
    )?;
    if shared.several_sessions.load(Ordering::Relaxed) {
        no_parallel_index_builds(&conn)?;
    }
    Ok(conn)
}

fn no_parallel_index_builds(conn: &Conn) -> bru_core::Result<()> {
    conn.batch(
        "SET max_parallel_maintenance_workers = 0",
        "configuring the session",
    )
}

impl PgTarget {
    /// Connects to `url` (`postgres://` or `postgresql://`, with libpq's
    /// environment variables and password file as fallbacks).
    ///
    /// Fails with [`Error::Connect`] if the server cannot be reached or
    /// refuses the login.
    pub fn open(url: &str) -> bru_core::Result<PgTarget> {
        let shared = Arc::<Shared>::default();
        Ok(PgTarget {
            conn: open_session(Settings::resolve(url)?, &shared)?,
            shared,
        })
    }

    /// This session's connection, opened again first if it was lost (the
    /// server restarted, the network dropped), so that a step retried after
    /// a transient error runs on a live session.
    fn live(&mut self) -> bru_core::Result<&Conn> {
        if self.conn.client.is_closed() {
            self.conn = open_session(self.conn.settings.clone(), &self.shared)?;
        }
        Ok(&self.conn)
    }

    /// Runs an owner or privileges object (`ALTER ... OWNER TO`, `REVOKE`
    /// and `GRANT`s), which may run again on a resumed restore. Its
    /// statements run as one implicit transaction: a role missing in the
    /// target (42704) leaves the object as it was and comes back as
    /// skipped, naming the role, so the summary lists it; any other failure
    /// is an error.
    fn set_owner_or_privileges(&mut self, object: &ObjectDef) -> bru_core::Result<ObjectOutcome> {
        let context = format!("setting the {} of {}", object.kind, object.name);
        let conn = self.live()?;
        match conn.block_on(conn.client.batch_execute(&object.ddl)) {
            Ok(()) => Ok(ObjectOutcome::Created),
            Err(e) => match e.as_db_error() {
                Some(db)
                    if *db.code() == SqlState::UNDEFINED_OBJECT
                        && db.message().starts_with("role ") =>
                {
                    Ok(ObjectOutcome::Skipped(format!(
                        "{} in the target; create it and restore again, or leave {} out \
                         with --no-owner / --no-privileges",
                        db.message(),
                        if object.kind == ObjectKind::Owner {
                            "owners"
                        } else {
                            "privileges"
                        }
                    )))
                }
                Some(db) if *db.code() == SqlState::INSUFFICIENT_PRIVILEGE => Err(conn.err(
                    &format!(
                        "{context} (restore as a superuser or a member of the roles, \
                         or leave them out with --no-owner / --no-privileges)"
                    ),
                    &e,
                )),
                _ => Err(conn.err(&context, &e)),
            },
        }
    }

    /// Runs `sql` for object `key`; "already exists" counts as done when the
    /// object may have been made by an earlier attempt
    /// ([`Shared::may_exist`]). Returns whether the statement ran.
    fn run_once(&mut self, key: &str, sql: &str, context: &str) -> bru_core::Result<bool> {
        let may_exist = self.shared.may_exist(key);
        match self.live()?.batch(sql, context) {
            Ok(()) => Ok(true),
            Err(e) if may_exist && e.is(ErrorKind::AlreadyExists) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// On a resumed restore, waits until no earlier session still works on
    /// table `q` before post-data steps check what exists. A bru killed
    /// during `CREATE INDEX` leaves its server session building the index
    /// (PostgreSQL notices the dead client only when it next writes to it);
    /// checking before that session ends would miss the index and then
    /// collide with it (23505 on pg_class). `SHARE ROW EXCLUSIVE` conflicts
    /// with the locks CREATE INDEX and ALTER TABLE take, so taking it (and
    /// letting it go at once) waits exactly for them.
    ///
    /// [`Target::build_index`] waits in `SHARE` mode instead, which lets
    /// this run's other index builds on the table go on; it does not wait
    /// for an earlier session's `CREATE INDEX` either, so a build that then
    /// collides with that index counts the collision as done.
    fn settle_earlier_run(&mut self, q: &str, context: &str) -> bru_core::Result<()> {
        self.settle_earlier_run_in(q, "SHARE ROW EXCLUSIVE", context)
    }

    fn settle_earlier_run_in(
        &mut self,
        q: &str,
        mode: &str,
        context: &str,
    ) -> bru_core::Result<()> {
        if !self.shared.resuming.load(Ordering::Relaxed) {
            return Ok(());
        }
        let conn = self.live()?;
        let result = conn.batch(
            &format!("BEGIN; LOCK TABLE {q} IN {mode} MODE; COMMIT"),
            &format!("{context}: waiting for the sessions of the interrupted restore"),
        );
        if result.is_err() {
            // Leave the session usable for a retry.
            let _ = conn.batch("ROLLBACK", context);
        }
        result
    }

    /// The constraints on `table` and the indexes in its schema.
    fn existing_names(&mut self, table: &TableName) -> bru_core::Result<Existing> {
        let t = target_name(table);
        let schema = t.schema.clone().unwrap_or_else(|| "public".into());
        let context = format!("reading the constraints and indexes of {t}");
        let rows = self.live()?.query(
            "SELECT true, con.conname::text FROM pg_catalog.pg_constraint con
               JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relname = $2
             UNION ALL
             SELECT false, c.relname::text FROM pg_catalog.pg_class c
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relkind IN ('i', 'I')",
            &[&schema, &t.name],
            &context,
        )?;
        let mut existing = Existing::default();
        for r in &rows {
            let constraint: bool = r.try_get(0).map_err(|e| Error::engine(&context, e))?;
            let name: String = r.try_get(1).map_err(|e| Error::engine(&context, e))?;
            if constraint {
                existing.constraints.insert(name);
            } else {
                existing.indexes.insert(name);
            }
        }
        Ok(existing)
    }

    /// Creates the journal table unless it is known to exist. Concurrent
    /// sessions serialize on an advisory lock, so only one creates it.
    fn ensure_journal(conn: &Conn, shared: &Shared) -> bru_core::Result<()> {
        if shared.journal_ready.load(Ordering::Relaxed) {
            return Ok(());
        }
        conn.batch(
            &format!("BEGIN; {}; COMMIT", journal_ddl()),
            "creating the restore journal",
        )?;
        shared.journal_ready.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Whether this session's user is a superuser.
    fn is_superuser(&mut self) -> bru_core::Result<bool> {
        let rows = self.live()?.query(
            "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user",
            &[],
            "checking the target user's privileges",
        )?;
        Ok(rows
            .first()
            .and_then(|r| r.try_get(0).ok())
            .unwrap_or(false))
    }

    /// The enabled user triggers of `table` with their state (`O`, `A`,
    /// `R`), which a load turns off while it writes.
    fn enabled_triggers(&mut self, table: &TableName) -> bru_core::Result<Vec<(String, String)>> {
        let t = target_name(table);
        let context = format!("reading the triggers of {t}");
        let rows = self.live()?.query(
            "SELECT t.tgname::text, t.tgenabled::text FROM pg_catalog.pg_trigger t
               JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relname = $2 AND NOT t.tgisinternal AND t.tgenabled <> 'D'
              ORDER BY 1",
            &[
                &t.schema.clone().unwrap_or_else(|| "public".into()),
                &t.name,
            ],
            &context,
        )?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get(0).map_err(|e| Error::engine(&context, e))?,
                    r.try_get(1).map_err(|e| Error::engine(&context, e))?,
                ))
            })
            .collect()
    }

    /// The endpoint as `postgres user@host:port/db` (never the password).
    pub fn endpoint(&self) -> &str {
        &self.conn.settings.endpoint
    }

    /// Whether the target's `table` is partitioned, and its columns.
    /// Fails if the table does not exist.
    fn target_columns(&self, name: &TableName) -> bru_core::Result<(bool, Vec<TargetColumn>)> {
        let t = target_name(name);
        let context = format!("reading the columns of {t}");
        let rows = self.conn.query(
            "SELECT c.relkind::text, a.attname::text, a.atttypid, a.atttypmod,
                    pg_catalog.format_type(a.atttypid, a.atttypmod), a.attgenerated <> ''
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE n.nspname = $1 AND c.relname = $2
             ORDER BY a.attnum",
            &[&t.schema, &t.name],
            &context,
        )?;
        let get_err = |e: tokio_postgres::Error| Error::engine(&context, e);
        let mut partitioned = false;
        let mut out = Vec::new();
        for r in &rows {
            let relkind: String = r.try_get(0).map_err(get_err)?;
            partitioned = relkind == "p";
            let Some(name) = r.try_get::<_, Option<String>>(1).map_err(get_err)? else {
                continue;
            };
            let type_oid: u32 = r.try_get(2).map_err(get_err)?;
            let typmod: i32 = r.try_get(3).map_err(get_err)?;
            let wire = Wire::for_type(type_oid, typmod);
            out.push(TargetColumn {
                name,
                wire,
                keeps: Keeps::of(type_oid, typmod, wire),
                neutral: crate::values::neutral_type(type_oid, typmod),
                type_name: r.try_get(4).map_err(get_err)?,
                generated: r.try_get(5).map_err(get_err)?,
            });
        }
        if rows.is_empty() {
            return Err(Error::engine(
                format!("loading {t}"),
                "the table does not exist in the target",
            ));
        }
        Ok((partitioned, out))
    }
}

struct TargetColumn {
    name: String,
    wire: Wire,
    keeps: Keeps,
    /// The column's neutral type, when it has one.
    neutral: Option<ColumnType>,
    type_name: String,
    generated: bool,
}

/// What a target column's type modifier lets it keep, checked value by
/// value because the server would otherwise round, pad or cut silently:
/// `time(p)` and `timestamp(p)` round fractional seconds, `character(n)`
/// pads short values with spaces, and both `character(n)` and
/// `character varying(n)` cut trailing spaces beyond `n`.
#[derive(Debug, Clone, Copy, Default)]
struct Keeps {
    /// Fractional second digits of a time or timestamp column.
    precision: Option<u8>,
    /// `(n, fixed)` of a `varchar(n)` or `char(n)` column.
    chars: Option<(usize, bool)>,
    /// The type modifier of an `interval` column restricted to some fields
    /// (`interval day`) or fractional digits (`interval(3)`).
    interval: Option<i32>,
}

impl Keeps {
    fn of(type_oid: u32, typmod: i32, wire: Wire) -> Keeps {
        let mut k = Keeps::default();
        match wire {
            Wire::Time | Wire::TimeTz | Wire::Timestamp | Wire::TimestampTz if typmod >= 0 => {
                k.precision = u8::try_from(typmod).ok();
            }
            Wire::Text if typmod >= 4 => {
                let fixed = type_oid == crate::values::oid::BPCHAR;
                k.chars = usize::try_from(typmod - 4).ok().map(|n| (n, fixed));
            }
            Wire::Interval if typmod >= 0 => k.interval = Some(typmod),
            _ => {}
        }
        k
    }

    /// Whether there is anything to check.
    fn any(&self) -> bool {
        self.precision.is_some() || self.chars.is_some() || self.interval.is_some()
    }

    /// Refuses a value the column would change, with the reason.
    fn check(&self, v: &Value) -> Result<(), String> {
        if let (Some((n, fixed)), Value::Text(s) | Value::Native(s)) = (self.chars, v) {
            // Byte length bounds the character count from above.
            if s.len() > n || fixed {
                let count = s.chars().count();
                if count > n {
                    return Err(format!(
                        "{count} characters do not fit the column's {n}; \
                         PostgreSQL would refuse it or cut trailing spaces"
                    ));
                }
                if fixed && count < n {
                    return Err(format!(
                        "{count} characters in a character({n}) column would be padded \
                         with spaces and come back changed"
                    ));
                }
            }
        }
        if let Some(p) = self.precision {
            let frac = match v {
                Value::Time(n) | Value::TimeTz { nanos: n, .. } => n.rem_euclid(1_000_000_000),
                Value::Timestamp { nanos, .. } | Value::TimestampTz { nanos, .. } => {
                    i64::from(*nanos)
                }
                _ => 0,
            };
            let p = u32::from(p.min(6));
            if frac % 10i64.pow(9 - p) != 0 {
                return Err(format!(
                    "the column keeps {p} fractional second digits; the value would be rounded"
                ));
            }
        }
        if let (Some(typmod), Value::Interval(iv)) = (self.interval, v) {
            if interval_kept(*iv, typmod) != Some(*iv) {
                return Err(
                    "the column's interval type keeps fewer fields or fractional digits; \
                     the value would be cut or rounded"
                        .into(),
                );
            }
        }
        Ok(())
    }
}

/// What an `interval` column with type modifier `typmod` makes of `iv`:
/// PostgreSQL's AdjustIntervalForTypmod (src/backend/utils/adt/timestamp.c),
/// which interval_recv applies to every value COPY brings in. `None` for a
/// modifier PostgreSQL would not have made.
fn interval_kept(iv: Interval, typmod: i32) -> Option<Interval> {
    // Field bits of the range (src/include/utils/datetime.h).
    const MONTH: i32 = 1 << 1;
    const YEAR: i32 = 1 << 2;
    const DAY: i32 = 1 << 3;
    const HOUR: i32 = 1 << 10;
    const MINUTE: i32 = 1 << 11;
    const SECOND: i32 = 1 << 12;
    const FULL_RANGE: i32 = 0x7FFF;
    const FULL_PRECISION: i32 = 0xFFFF;
    const USECS_PER_HOUR: i64 = 3_600_000_000;
    const USECS_PER_MINUTE: i64 = 60_000_000;
    let range = (typmod >> 16) & 0x7FFF;
    let precision = typmod & 0xFFFF;
    let mut out = iv;
    let truncate = |t: i64, unit: i64| t / unit * unit;
    match range {
        FULL_RANGE => {}
        YEAR => {
            out.months = iv.months / 12 * 12;
            out.days = 0;
            out.micros = 0;
        }
        r if r == MONTH || r == YEAR | MONTH => {
            out.days = 0;
            out.micros = 0;
        }
        DAY => out.micros = 0,
        HOUR => out.micros = truncate(iv.micros, USECS_PER_HOUR),
        r if r == DAY | HOUR => out.micros = truncate(iv.micros, USECS_PER_HOUR),
        MINUTE => out.micros = truncate(iv.micros, USECS_PER_MINUTE),
        r if r == DAY | HOUR | MINUTE || r == HOUR | MINUTE => {
            out.micros = truncate(iv.micros, USECS_PER_MINUTE)
        }
        SECOND => {}
        r if r == DAY | HOUR | MINUTE | SECOND || r == HOUR | MINUTE | SECOND => {}
        r if r == MINUTE | SECOND => {}
        _ => return None,
    }
    if precision != FULL_PRECISION {
        let scale = 10i64.pow(6u32.checked_sub(u32::try_from(precision).ok()?)?);
        let offset = scale / 2;
        out.micros = if out.micros >= 0 {
            (out.micros + offset) / scale * scale
        } else {
            -((-out.micros + offset) / scale * scale)
        };
    }
    Some(out)
}

/// Types whose values another engine may keep as text (SQLite does),
/// parsed strictly by [`crate::text_input`] rather than by the server.
fn parsed_from_text(wire: Wire) -> bool {
    matches!(
        wire,
        Wire::Date
            | Wire::Time
            | Wire::TimeTz
            | Wire::Timestamp
            | Wire::TimestampTz
            | Wire::Interval
            | Wire::Uuid
    )
}

/// Whether an archive column of type `ty` can be loaded into a target column
/// that travels as `wire` (the `--data-only` check). Values are still
/// checked one by one as they are written.
fn compatible(ty: &ColumnType, wire: Wire) -> bool {
    let from = wire_of(ty);
    if from == wire {
        return true;
    }
    matches!(
        (from, wire),
        (Wire::Int2, Wire::Int4 | Wire::Int8 | Wire::Numeric { .. })
            | (Wire::Int4, Wire::Int8 | Wire::Numeric { .. })
            | (Wire::Int8, Wire::Numeric { .. })
            | (Wire::Float4, Wire::Float8)
            | (Wire::Numeric { .. }, Wire::Numeric { .. })
            | (Wire::Json, Wire::Jsonb)
            | (Wire::Jsonb, Wire::Json)
            | (Wire::Text | Wire::NativeText, Wire::NativeText)
    )
}

impl Target for PgTarget {
    fn engine(&self) -> &'static str {
        ENGINE_NAME
    }

    fn existing_tables(&mut self, tables: &[TableName]) -> bru_core::Result<Vec<TableName>> {
        let rows = self.live()?.query(
            "SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class c
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')",
            &[],
            "listing the target's tables",
        )?;
        let mut existing = HashSet::new();
        for r in &rows {
            let s: String = r
                .try_get(0)
                .map_err(|e| Error::engine("listing tables", e))?;
            let n: String = r
                .try_get(1)
                .map_err(|e| Error::engine("listing tables", e))?;
            existing.insert(TableName::new(Some(&s), &n));
        }
        Ok(tables
            .iter()
            .filter(|t| existing.contains(&target_name(t)))
            .cloned()
            .collect())
    }

    fn drop_tables(&mut self, tables: &[TableName]) -> bru_core::Result<()> {
        if tables.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = tables.iter().map(|t| qualified(&target_name(t))).collect();
        self.live()?.batch(
            &format!("DROP TABLE IF EXISTS {} CASCADE", list.join(", ")),
            "dropping existing tables (--clean)",
        )
    }

    fn create_table(&mut self, table: &TableDef) -> bru_core::Result<()> {
        let name = target_name(&table.name);
        let create = match &table.native {
            Some(n) if n.engine == ENGINE_NAME => n.create.clone(),
            _ => ddl::create_table(table),
        };
        let schema = name.schema.as_deref().unwrap_or("public");
        let sql = format!("CREATE SCHEMA IF NOT EXISTS {};\n{create}", ident(schema));
        let context = format!("creating table {name}");
        // A partition or inheriting child needs its parent, which another
        // session may still be creating: wait for it rather than fail.
        let has_parent = table.property("postgres.partition_of").is_some()
            || table.property("postgres.inherits").is_some();
        let deadline = Instant::now() + PARENT_WAIT;
        // One implicit transaction: the table exists whole or not at all.
        let created = loop {
            match self.run_once(&format!("table {name}"), &sql, &context) {
                Err(e)
                    if has_parent
                        && e.is(ErrorKind::UndefinedObject)
                        && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(50));
                }
                other => break other?,
            }
        };
        if !created {
            return Ok(());
        }
        self.shared
            .created
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.clone());
        if !same_engine(table) {
            for c in &table.columns {
                if let Some(g) = &c.generated {
                    self.shared.skip(format!(
                        "table {name}, column {}: the generated expression `{}` (another \
                         engine's SQL) was not carried; the column holds the source's values",
                        c.name, g.expr
                    ));
                }
            }
        }
        for (column, sql) in ddl::defaults(table) {
            if let Err(e) = self.live()?.batch(&sql, &context) {
                if e.is_transient() {
                    return Err(e);
                }
                self.shared.skip(format!(
                    "table {name}, column {column}: the default was not carried: {e}"
                ));
            }
        }
        Ok(())
    }

    fn check_table(&mut self, table: &TableDef) -> bru_core::Result<()> {
        self.live()?;
        let (_, cols) = self.target_columns(&table.name)?;
        let by_name: HashMap<&str, &TargetColumn> =
            cols.iter().map(|c| (c.name.as_str(), c)).collect();
        let mut problems = Vec::new();
        for c in &table.columns {
            match by_name.get(c.name.as_str()) {
                None => problems.push(format!("column {} is missing", c.name)),
                Some(t) if t.generated => {}
                Some(t) if !compatible(&c.ty, t.wire) => problems.push(format!(
                    "column {} is {} in the target but {} in the archive",
                    c.name,
                    t.type_name,
                    c.ty.display_name()
                )),
                Some(_) => {}
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::engine(
                format!("checking table {}", target_name(&table.name)),
                problems.join("; "),
            ))
        }
    }

    fn load<'a>(&'a mut self, table: &TableDef) -> bru_core::Result<Box<dyn TableLoader + 'a>> {
        let name = target_name(&table.name);
        self.live()?;
        let (partitioned, target_cols) = self.target_columns(&table.name)?;
        let by_name: HashMap<&str, &TargetColumn> =
            target_cols.iter().map(|c| (c.name.as_str(), c)).collect();
        // Per archive column: where it goes, or None for a generated column
        // the target computes itself.
        let mut plan: Vec<Option<Planned>> = Vec::with_capacity(table.columns.len());
        for c in &table.columns {
            let t = by_name.get(c.name.as_str()).ok_or_else(|| {
                Error::engine(
                    format!("loading {name}"),
                    format!("column {} does not exist in the target", c.name),
                )
            })?;
            // jsonb rewrites its text (key order, spacing, duplicate keys):
            // text from anything but a PostgreSQL jsonb column goes through
            // the staging table, where a value jsonb would change is found
            // and refused.
            let from_jsonb = same_engine(table) && c.ty == ColumnType::Json { binary: true };
            let (wire, verify_jsonb) = if t.wire == Wire::Jsonb && !from_jsonb {
                (Wire::NativeText, true)
            } else {
                (t.wire, false)
            };
            plan.push((!t.generated).then(|| Planned {
                name: c.name.clone(),
                wire,
                type_name: t.type_name.clone(),
                // A PostgreSQL column of the very same type and modifier
                // only ever held values that fit: nothing to check. (The
                // neutral interval type has no fields or digits: the
                // PostgreSQL type names must match too.)
                keeps: if same_engine(table)
                    && t.neutral.as_ref() == Some(&c.ty)
                    && (t.wire != Wire::Interval || c.native_type == t.type_name)
                {
                    Keeps::default()
                } else {
                    t.keeps
                },
                verify_jsonb,
            }));
        }
        let loaded: Vec<&Planned> = plan.iter().flatten().collect();
        let names = loaded
            .iter()
            .map(|p| ident(&p.name))
            .collect::<Vec<_>>()
            .join(", ");
        // A table without columns takes COPY's default (empty) list.
        let col_list = if names.is_empty() {
            String::new()
        } else {
            format!("({names})")
        };
        let staged = loaded.iter().any(|p| p.wire.is_text_fallback());
        let q = qualified(&name);
        let mut stage = None;
        let copy_sql;
        if staged {
            let defs: Vec<String> = loaded
                .iter()
                .map(|p| {
                    let ty = if p.wire.is_text_fallback() {
                        "text"
                    } else {
                        p.type_name.as_str()
                    };
                    format!("{} {ty}", ident(&p.name))
                })
                .collect();
            let casts: Vec<(String, String)> = loaded
                .iter()
                .filter(|p| p.wire.is_text_fallback())
                .map(|p| (p.name.clone(), p.type_name.clone()))
                .collect();
            let verify: Vec<String> = loaded
                .iter()
                .filter(|p| p.verify_jsonb)
                .map(|p| p.name.clone())
                .collect();
            let select: Vec<String> = loaded
                .iter()
                .map(|p| {
                    if p.wire.is_text_fallback() {
                        format!("{}::{}", ident(&p.name), p.type_name)
                    } else {
                        ident(&p.name)
                    }
                })
                .collect();
            stage = Some(Stage {
                create: format!(
                    "CREATE TEMPORARY TABLE bru_stage ({}) ON COMMIT DROP",
                    defs.join(", ")
                ),
                insert: format!(
                    "INSERT INTO {q} {col_list} OVERRIDING SYSTEM VALUE SELECT {} FROM pg_temp.bru_stage",
                    select.join(", ")
                ),
                casts,
                verify_jsonb: verify,
            });
            copy_sql = format!("COPY pg_temp.bru_stage {col_list} FROM STDIN (FORMAT binary)");
        } else {
            copy_sql = format!("COPY {q} {col_list} FROM STDIN (FORMAT binary");
        }
        let freeze = !staged && !partitioned && self.shared.created(&name);
        let mut triggers = self.enabled_triggers(&table.name)?;
        // Into an existing table (--data-only), a superuser loads in
        // replica mode, as pg_restore --disable-triggers does: foreign-key
        // checks and ordinary triggers stay off, so tables may be loaded in
        // any order. ALWAYS and REPLICA triggers would still fire there, so
        // they are turned off by name; other users turn off all of them.
        let replica = !self.shared.created(&name) && self.is_superuser()?;
        if replica {
            triggers.retain(|(_, state)| state != "O");
        }
        let mut buf = BytesMut::with_capacity(SEND_THRESHOLD + (64 << 10));
        buf.clear();
        Ok(Box::new(PgLoader {
            conn: &self.conn,
            shared: &self.shared,
            sink: None,
            table: name.to_string(),
            qualified: q,
            columns: table.columns.iter().map(|c| c.name.clone()).collect(),
            wires: plan.iter().map(|p| p.as_ref().map(|p| p.wire)).collect(),
            keeps: plan
                .iter()
                .map(|p| p.as_ref().map(|p| p.keeps).filter(Keeps::any))
                .collect(),
            fields: loaded.len(),
            buf,
            copy_sql,
            stage,
            freeze,
            triggers,
            replica,
            context: format!("loading {name}"),
            rows: 0,
            in_tx: false,
        }))
    }

    fn restore_identity(&mut self, table: &TableDef) -> bru_core::Result<()> {
        let name = target_name(&table.name);
        let q = qualified(&name);
        for c in &table.columns {
            if let Some(last) = c.identity.as_ref().and_then(|i| i.last_value) {
                let seq = match table.property(&format!("postgres.identity_sequence.{}", c.name)) {
                    Some(s) if same_engine(table) => quote_literal(s),
                    _ => format!(
                        "pg_catalog.pg_get_serial_sequence({}, {})",
                        quote_literal(&q),
                        quote_literal(&c.name)
                    ),
                };
                // setval is idempotent: a resumed restore may repeat it.
                self.live()?.batch(
                    &format!("SELECT pg_catalog.setval({seq}, {last}, true)"),
                    &format!("setting the identity counter of {name}.{}", c.name),
                )?;
            }
        }
        if !same_engine(table) {
            return Ok(());
        }
        // Serial sequences the table owns: a full restore also sets them
        // with the sequence object, --data-only only here.
        for (key, last) in &table.properties {
            let Some(seq) = key.strip_prefix(OWNED_SEQUENCE) else {
                continue;
            };
            let last: i64 = last.parse().map_err(|_| {
                Error::engine(
                    format!("setting sequence {seq} of {name}"),
                    format!("the archive's value {last:?} is not a number"),
                )
            })?;
            self.live()?.batch(
                &format!(
                    "SELECT pg_catalog.setval({}, {last}, true)",
                    quote_literal(seq)
                ),
                &format!("setting sequence {seq} of {name}"),
            )?;
        }
        Ok(())
    }

    fn finish_table(&mut self, table: &TableDef) -> bru_core::Result<()> {
        let name = target_name(&table.name);
        let q = qualified(&name);
        let context = format!("adding keys and indexes to {name}");
        self.settle_earlier_run(&q, &context)?;
        let existing = self.existing_names(&table.name)?;
        for step in post_data(table) {
            // Done before an interruption, or by an earlier attempt.
            if existing.constraints.contains(&step.name) {
                continue;
            }
            let sql = match &step.split {
                // The index was built by `build_index`: make it the key.
                Some(split) if existing.indexes.contains(&step.name) => &split.attach,
                Some(_) => &step.sql,
                None if existing.indexes.contains(&step.name) => continue,
                None => &step.sql,
            };
            match self.live()?.batch(sql, &context) {
                Ok(()) => {}
                // Each statement runs on its own, so a failed one leaves
                // nothing behind.
                Err(e) if step.foreign_sql && !e.is_transient() => self
                    .shared
                    .skip(format!("table {name}: `{sql}` was not created: {e}")),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn build_index(&mut self, table: &TableDef, part: IndexPart) -> bru_core::Result<()> {
        // An index in another engine's SQL may fail and be skipped: that is
        // left to finish_table, so it is reported once.
        let Some(step) = post_data(table)
            .into_iter()
            .find(|s| s.part == Some(part) && !s.foreign_sql)
        else {
            return Ok(());
        };
        let name = target_name(&table.name);
        let q = qualified(&name);
        let context = format!("building index {} of {name}", step.name);
        self.settle_earlier_run_in(&q, "SHARE", &context)?;
        let existing = self.existing_names(&table.name)?;
        if existing.constraints.contains(&step.name) || existing.indexes.contains(&step.name) {
            return Ok(());
        }
        let sql = step.split.as_ref().map_or(&step.sql, |s| &s.build);
        match self.live()?.batch(sql, &context) {
            Ok(()) => Ok(()),
            // A session of an interrupted run built it meanwhile (see
            // settle_earlier_run); 23505 is its row in pg_class.
            Err(e)
                if (e.is(ErrorKind::AlreadyExists) || e.is(ErrorKind::UniqueViolation))
                    && self
                        .existing_names(&table.name)?
                        .indexes
                        .contains(&step.name) =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn add_foreign_keys(&mut self, table: &TableDef) -> bru_core::Result<()> {
        if table.foreign_keys.is_empty() {
            return Ok(());
        }
        let owner = target_name(&table.name);
        self.settle_earlier_run(
            &qualified(&owner),
            &format!("adding foreign keys to {owner}"),
        )?;
        let existing = self.existing_names(&table.name)?;
        for fk in &table.foreign_keys {
            let (n, sql) = match fk.name.as_ref().and_then(|n| {
                table
                    .property(&format!("postgres.constraint.{n}"))
                    .map(|d| (n, d))
            }) {
                Some((n, def)) if same_engine(table) => (
                    n.clone(),
                    format!(
                        "ALTER TABLE {} ADD CONSTRAINT {} {def}",
                        qualified(&owner),
                        ident(n)
                    ),
                ),
                _ => ddl::foreign_key(table, fk),
            };
            if existing.constraints.contains(&n) {
                continue;
            }
            self.live()?
                .batch(&sql, &format!("adding foreign key {n} to {owner}"))?;
        }
        Ok(())
    }

    fn open_worker(&mut self) -> bru_core::Result<Option<Box<dyn Target + Send>>> {
        if !self.shared.several_sessions.swap(true, Ordering::Relaxed) {
            no_parallel_index_builds(self.live()?)?;
        }
        Ok(Some(Box::new(PgTarget {
            conn: open_session(self.conn.settings.clone(), &self.shared)?,
            shared: Arc::clone(&self.shared),
        })))
    }

    fn restore_object_data(&mut self, object: &ObjectDef) -> bru_core::Result<ObjectOutcome> {
        let Some(data) = object
            .data
            .as_deref()
            .filter(|_| object.engine == ENGINE_NAME)
        else {
            return Ok(ObjectOutcome::Skipped(format!(
                "its data was written for {}, not PostgreSQL",
                object.engine
            )));
        };
        // setval is idempotent: running it again after an interruption is
        // harmless.
        self.live()?.batch(
            data,
            &format!("setting the value of {} {}", object.kind, object.name),
        )?;
        Ok(ObjectOutcome::Created)
    }

    fn create_object(&mut self, object: &ObjectDef) -> bru_core::Result<ObjectOutcome> {
        if object.engine != ENGINE_NAME {
            return Ok(ObjectOutcome::Skipped(format!(
                "written for {}, not PostgreSQL",
                object.engine
            )));
        }
        if let Some(reason) = &object.not_carried {
            return Ok(ObjectOutcome::Skipped(format!(
                "not carried by bru yet: {reason}"
            )));
        }
        if matches!(object.kind, ObjectKind::Owner | ObjectKind::Privileges) {
            return self.set_owner_or_privileges(object);
        }
        // An object's statements run as one implicit transaction, so
        // "already exists" means all of them were done.
        self.run_once(
            &format!("{} {}", object.kind, object.name),
            &object.ddl,
            &format!("creating {} {}", object.kind, object.name),
        )?;
        Ok(ObjectOutcome::Created)
    }

    fn take_skipped(&mut self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .shared
                .skipped
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    fn resumable(&self) -> bool {
        true
    }

    fn journal_keys(&mut self) -> bru_core::Result<Option<Vec<String>>> {
        let context = "reading the restore journal";
        let conn = self.live()?;
        let found = conn.query(
            &format!("SELECT pg_catalog.to_regclass('{JOURNAL}') IS NOT NULL"),
            &[],
            context,
        )?;
        let exists: bool = found
            .first()
            .and_then(|r| r.try_get(0).ok())
            .unwrap_or(false);
        if !exists {
            return Ok(None);
        }
        let rows = conn.query(&format!("SELECT key FROM {JOURNAL}"), &[], context)?;
        let keys = rows
            .iter()
            .map(|r| r.try_get(0).map_err(|e| Error::engine(context, e)))
            .collect::<bru_core::Result<Vec<String>>>()?;
        self.shared.journal_ready.store(true, Ordering::Relaxed);
        self.shared.resuming.store(true, Ordering::Relaxed);
        Ok(Some(keys))
    }

    fn journal_mark(&mut self, key: &str) -> bru_core::Result<()> {
        let shared = Arc::clone(&self.shared);
        let conn = self.live()?;
        PgTarget::ensure_journal(conn, &shared)?;
        conn.block_on(conn.client.execute(
            &format!("INSERT INTO {JOURNAL} (key) VALUES ($1) ON CONFLICT DO NOTHING"),
            &[&key],
        ))
        .map(|_| ())
        .map_err(|e| conn.err("writing the restore journal", &e))
    }

    fn journal_clear(&mut self) -> bru_core::Result<()> {
        self.live()?.batch(
            &format!("DROP TABLE IF EXISTS {JOURNAL}"),
            "removing the restore journal",
        )?;
        self.shared.journal_ready.store(false, Ordering::Relaxed);
        Ok(())
    }

    fn finish(&mut self) -> bru_core::Result<()> {
        Ok(())
    }
}

/// What [`PgTarget::existing_names`] found.
#[derive(Default)]
struct Existing {
    /// Constraints on the table.
    constraints: HashSet<String>,
    /// Indexes in the table's schema.
    indexes: HashSet<String>,
}

/// The post-data statements of `table` except foreign keys, keys first
/// (foreign keys and some indexes rely on them): from the archive's own
/// PostgreSQL definitions, or built from the neutral model
/// ([`ddl::post_data`]).
///
/// A PostgreSQL key is built in two steps ([`ddl::KeySplit`]) only when its
/// definition is the plain `PRIMARY KEY (…)` or `UNIQUE (…)` of its columns
/// and the table is not partitioned (`USING INDEX` takes no INCLUDE,
/// NULLS NOT DISTINCT, DEFERRABLE or partitioned table here); any other key
/// is added whole by finish_table.
fn post_data(table: &TableDef) -> Vec<ddl::PostData> {
    if !same_engine(table) {
        return ddl::post_data(table);
    }
    let q = qualified(&target_name(&table.name));
    let partitioned = table.property("postgres.partitioned") == Some("true");
    let mut cons: Vec<(u8, &str, &str)> = table
        .properties
        .iter()
        .filter_map(|(k, def)| {
            let n = k.strip_prefix("postgres.constraint.")?;
            let rank = match def.split_whitespace().next()? {
                "PRIMARY" => 0,
                "UNIQUE" => 1,
                "CHECK" => 2,
                _ => return None,
            };
            Some((rank, n, def.as_str()))
        })
        .collect();
    cons.sort();
    let mut out = Vec::new();
    for (_, n, def) in cons {
        let key = match &table.primary_key {
            Some(pk) if pk.name.as_deref() == Some(n) => {
                Some((IndexPart::PrimaryKey, "PRIMARY KEY", &pk.columns))
            }
            _ => table
                .uniques
                .iter()
                .position(|u| u.name.as_deref() == Some(n))
                .map(|i| (IndexPart::Unique(i), "UNIQUE", &table.uniques[i].columns)),
        };
        let (part, split) = match key {
            Some((part, kind, columns)) if !partitioned => {
                let columns = ddl::col_list(columns);
                if def == format!("{kind} ({columns})") {
                    (Some(part), Some(ddl::KeySplit::new(&q, kind, n, &columns)))
                } else {
                    (None, None)
                }
            }
            _ => (None, None),
        };
        out.push(ddl::PostData {
            name: n.to_owned(),
            sql: format!("ALTER TABLE {q} ADD CONSTRAINT {} {def}", ident(n)),
            foreign_sql: false,
            part,
            split,
        });
    }
    for (position, i) in table.indexes.iter().enumerate() {
        if let Some(d) = &i.native_ddl {
            out.push(ddl::PostData {
                name: ddl::stored_name(&i.name),
                sql: d.clone(),
                foreign_sql: false,
                part: Some(IndexPart::Index(position)),
                split: None,
            });
        }
    }
    out
}

fn same_engine(table: &TableDef) -> bool {
    table
        .native
        .as_ref()
        .is_some_and(|n| n.engine == ENGINE_NAME)
}

/// How a table with text-carried columns is loaded: COPY into a temporary
/// table where those columns are `text`, then an INSERT that casts them.
struct Stage {
    create: String,
    insert: String,
    /// (column, target type) of the cast columns, to name the one whose
    /// value the server refused.
    casts: Vec<(String, String)>,
    /// jsonb columns whose text must come out of the cast unchanged.
    verify_jsonb: Vec<String>,
}

/// One archive column's way into the target.
struct Planned {
    name: String,
    wire: Wire,
    type_name: String,
    keeps: Keeps,
    verify_jsonb: bool,
}

/// Streams one table's rows into COPY, one transaction at a time: a
/// transaction starts with the first row after a commit and ends at
/// [`TableLoader::commit_chunk`] or [`TableLoader::finish`]. Nothing is
/// visible to other sessions before it commits.
struct PgLoader<'a> {
    conn: &'a Conn,
    shared: &'a Shared,
    /// The open COPY, while a transaction is open.
    sink: Option<Pin<Box<CopyInSink<Bytes>>>>,
    table: String,
    qualified: String,
    columns: Vec<String>,
    wires: Vec<Option<Wire>>,
    /// What each column keeps, checked before a value is sent (`None`:
    /// nothing to check).
    keeps: Vec<Option<Keeps>>,
    fields: usize,
    buf: BytesMut,
    /// `COPY ... (FORMAT binary` without its closing parenthesis for a
    /// direct load (FREEZE may be added), complete for a staged one.
    copy_sql: String,
    stage: Option<Stage>,
    /// The first transaction may try TRUNCATE + COPY FREEZE.
    freeze: bool,
    /// User triggers to turn off while loading (name, state).
    triggers: Vec<(String, String)>,
    /// Load with session_replication_role = replica.
    replica: bool,
    context: String,
    /// Rows committed so far.
    rows: u64,
    /// A transaction is open (and must be rolled back if the loader is
    /// dropped before it commits).
    in_tx: bool,
}

impl PgLoader<'_> {
    fn batch(&self, sql: &str) -> bru_core::Result<()> {
        self.conn.batch(sql, &self.context)
    }

    /// Tries to take the table for a frozen load: its lock without waiting
    /// (another session loading it holds a conflicting one), then checks it
    /// is empty, then TRUNCATEs it. Any failure leaves a fresh transaction
    /// for a plain COPY.
    fn try_freeze(&self) -> bru_core::Result<bool> {
        let q = &self.qualified;
        let taken = self.batch(&format!(
            "LOCK TABLE ONLY {q} IN ACCESS EXCLUSIVE MODE NOWAIT"
        ));
        let empty = taken.is_ok()
            && self
                .conn
                .query(
                    &format!("SELECT NOT EXISTS (SELECT 1 FROM ONLY {q})"),
                    &[],
                    &self.context,
                )
                .ok()
                .and_then(|r| r.first().and_then(|r| r.try_get::<_, bool>(0).ok()))
                .unwrap_or(false);
        if empty && self.batch(&format!("TRUNCATE ONLY {q}")).is_ok() {
            return Ok(true);
        }
        self.batch("ROLLBACK; BEGIN")?;
        Ok(false)
    }

    /// Opens a transaction and its COPY.
    fn begin(&mut self) -> bru_core::Result<()> {
        self.batch("BEGIN")?;
        self.in_tx = true;
        let mut copy_sql = self.copy_sql.clone();
        if self.stage.is_none() {
            let frozen = std::mem::take(&mut self.freeze) && self.try_freeze()?;
            copy_sql.push_str(if frozen { ", FREEZE)" } else { ")" });
        }
        if self.replica {
            self.batch("SET LOCAL session_replication_role = replica")?;
        }
        for (t, _) in &self.triggers {
            self.batch(&format!(
                "ALTER TABLE {} DISABLE TRIGGER {}",
                self.qualified,
                ident(t)
            ))?;
        }
        if let Some(stage) = &self.stage {
            self.batch(&stage.create)?;
        }
        let sink = self
            .conn
            .block_on(self.conn.client.copy_in::<_, Bytes>(copy_sql.as_str()))
            .map_err(|e| self.conn.err(&self.context, &e))?;
        self.sink = Some(Box::pin(sink));
        self.buf.clear();
        write_header(&mut self.buf);
        Ok(())
    }

    fn send(&mut self) -> bru_core::Result<()> {
        let data = self.buf.split().freeze();
        let Some(sink) = self.sink.as_mut() else {
            return Err(Error::engine(&self.context, "the COPY was already closed"));
        };
        self.conn
            .block_on(sink.send(data))
            .map_err(|e| self.conn.err(&self.context, &e))
    }

    /// Ends the COPY, moves staged rows into the table, turns the triggers
    /// back on, records `key` in the journal, and commits.
    fn commit(&mut self, key: Option<&str>) -> bru_core::Result<()> {
        write_trailer(&mut self.buf);
        self.send()?;
        let Some(mut sink) = self.sink.take() else {
            return Err(Error::engine(&self.context, "the COPY was already closed"));
        };
        let copied = self
            .conn
            .block_on(sink.as_mut().finish())
            .map_err(|e| self.conn.err(&self.context, &e))?;
        let rows = match &self.stage {
            Some(stage) => self.insert_staged(stage)?,
            None => copied,
        };
        for (t, state) in &self.triggers {
            let how = match state.as_str() {
                "A" => "ENABLE ALWAYS",
                "R" => "ENABLE REPLICA",
                _ => "ENABLE",
            };
            self.batch(&format!(
                "ALTER TABLE {} {how} TRIGGER {}",
                self.qualified,
                ident(t)
            ))?;
        }
        if let Some(key) = key {
            // Inside this transaction: the COPY has ended, so the session
            // may run other statements again.
            if !self.shared.journal_ready.load(Ordering::Relaxed) {
                self.batch(&journal_ddl())?;
            }
            self.conn
                .block_on(self.conn.client.execute(
                    &format!("INSERT INTO {JOURNAL} (key) VALUES ($1) ON CONFLICT DO NOTHING"),
                    &[&key],
                ))
                .map_err(|e| self.conn.err(&self.context, &e))?;
        }
        self.batch("COMMIT")?;
        self.in_tx = false;
        if key.is_some() {
            self.shared.journal_ready.store(true, Ordering::Relaxed);
        }
        self.rows += rows;
        Ok(())
    }

    /// Runs the staged INSERT. When the server refuses a value, finds the
    /// column it is in, so the error names table, column and value.
    fn insert_staged(&self, stage: &Stage) -> bru_core::Result<u64> {
        self.batch("SAVEPOINT bru_insert")?;
        let err = match self
            .conn
            .block_on(self.conn.client.execute(stage.insert.as_str(), &[]))
        {
            Ok(n) => {
                // Every staged text cast, so every jsonb one is JSON.
                self.verify_jsonb(stage)?;
                return Ok(n);
            }
            Err(e) => self.conn.err(&self.context, &e),
        };
        self.batch("ROLLBACK TO SAVEPOINT bru_insert")?;
        for (column, ty) in &stage.casts {
            let probe = format!(
                "SELECT pg_catalog.count({c}::{ty}) FROM pg_temp.bru_stage",
                c = ident(column)
            );
            if let Err(e) = self
                .conn
                .block_on(self.conn.client.execute(probe.as_str(), &[]))
            {
                let reason = crate::conn::describe(&e);
                let _ = self.batch("ROLLBACK TO SAVEPOINT bru_insert");
                // The server quotes the value it could not read.
                let value = reason
                    .split_once(": \"")
                    .and_then(|(_, v)| v.rsplit_once('"'))
                    .map(|(v, _)| format!("'{v}'"))
                    .unwrap_or_else(|| "(see the reason)".into());
                return Err(Error::Value {
                    table: self.table.clone(),
                    column: column.clone(),
                    value,
                    reason: self.conn.settings.redact(&reason),
                });
            }
        }
        Err(err)
    }
}

impl PgLoader<'_> {
    /// Refuses the first staged text that jsonb would not keep as written
    /// (it reorders keys, respaces, drops duplicate keys). Runs after the
    /// staged INSERT succeeded, so every such text is valid JSON.
    fn verify_jsonb(&self, stage: &Stage) -> bru_core::Result<()> {
        for column in &stage.verify_jsonb {
            let c = ident(column);
            let probe = format!(
                "SELECT {c}, {c}::pg_catalog.jsonb::text FROM pg_temp.bru_stage \
                 WHERE {c}::pg_catalog.jsonb::text <> {c} LIMIT 1"
            );
            let rows = self
                .conn
                .block_on(self.conn.client.query(probe.as_str(), &[]))
                .map_err(|e| self.conn.err(&self.context, &e))?;
            if let Some(row) = rows.first() {
                let text: String = row.try_get(0).unwrap_or_default();
                let canonical: String = row.try_get(1).unwrap_or_default();
                return Err(Error::Value {
                    table: self.table.clone(),
                    column: column.clone(),
                    value: Value::Text(text).describe(),
                    reason: format!(
                        "jsonb would keep it as {}; load it into a json column, \
                         or store jsonb's own text",
                        Value::Text(canonical).describe()
                    ),
                });
            }
        }
        Ok(())
    }
}

impl TableLoader for PgLoader<'_> {
    fn write_batch(&mut self, batch: &RowBatch) -> bru_core::Result<()> {
        if batch.column_count() != self.wires.len() {
            return Err(Error::engine(
                &self.context,
                format!(
                    "a batch has {} columns where the table has {}",
                    batch.column_count(),
                    self.wires.len()
                ),
            ));
        }
        if batch.row_count() == 0 {
            return Ok(());
        }
        if !self.in_tx {
            self.begin()?;
        }
        for row in batch.rows() {
            let mut t = TupleWriter::begin(&mut self.buf, self.fields);
            for (i, v) in row.iter().enumerate() {
                let Some(wire) = self.wires[i] else { continue };
                if matches!(v, Value::Null) {
                    t.null();
                    continue;
                }
                let keeps = self.keeps[i].as_ref();
                if keeps.is_none() && encode_field_fast(wire, v, t.raw()) {
                    continue;
                }
                t.field(|out| match v {
                    Value::Text(s) if parsed_from_text(wire) => {
                        let precision = keeps.and_then(|k| k.precision);
                        let parsed = text_input::parse(wire, precision, s)?;
                        if let Some(k) = keeps {
                            k.check(&parsed)?;
                        }
                        encode(wire, &parsed, out)
                    }
                    _ => {
                        if let Some(k) = keeps {
                            k.check(v)?;
                        }
                        encode(wire, v, out)
                    }
                })
                .map_err(|reason| Error::Value {
                    table: self.table.clone(),
                    column: self.columns[i].clone(),
                    value: v.describe(),
                    reason,
                })?;
            }
            if self.buf.len() >= SEND_THRESHOLD {
                self.send()?;
            }
        }
        Ok(())
    }

    fn commit_chunk(&mut self, key: &str) -> bru_core::Result<()> {
        if !self.in_tx {
            PgTarget::ensure_journal(self.conn, self.shared)?;
            // No rows since the last commit: the key alone.
            return self
                .conn
                .block_on(self.conn.client.execute(
                    &format!("INSERT INTO {JOURNAL} (key) VALUES ($1) ON CONFLICT DO NOTHING"),
                    &[&key],
                ))
                .map(|_| ())
                .map_err(|e| self.conn.err(&self.context, &e));
        }
        self.commit(Some(key))
    }

    fn finish(mut self: Box<Self>) -> bru_core::Result<u64> {
        if self.in_tx {
            self.commit(None)?;
        }
        Ok(self.rows)
    }
}

impl Drop for PgLoader<'_> {
    fn drop(&mut self) {
        if self.in_tx {
            // Dropping the sink unfinished aborts the COPY; the transaction
            // is then rolled back so the connection is usable again.
            self.sink = None;
            let _ = self.batch("ROLLBACK");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A type modifier as PostgreSQL's intervaltypmodin makes it: the range
    /// (field bits) in the high half, the precision (0xFFFF: none) in the low.
    fn typmod(range: i32, precision: i32) -> i32 {
        (range << 16) | precision
    }

    fn iv(months: i32, days: i32, micros: i64) -> Interval {
        Interval {
            months,
            days,
            micros,
        }
    }

    #[test]
    fn interval_columns_keep_what_postgresql_keeps() {
        let (year, month, day) = (1 << 2, 1 << 1, 1 << 3);
        let (hour, minute, second) = (1 << 10, 1 << 11, 1 << 12);
        let full = 0xFFFF;
        let value = iv(14, 3, 5_400_123_456); // 1 year 2 mons 3 days 01:30:00.123456
        let cases = [
            (typmod(0x7FFF, full), value),
            (typmod(year, full), iv(12, 0, 0)),
            (typmod(month, full), iv(14, 0, 0)),
            (typmod(year | month, full), iv(14, 0, 0)),
            (typmod(day, full), iv(14, 3, 0)),
            (typmod(hour, full), iv(14, 3, 3_600_000_000)),
            (typmod(day | hour, full), iv(14, 3, 3_600_000_000)),
            (typmod(minute, full), iv(14, 3, 5_400_000_000)),
            (typmod(hour | minute, full), iv(14, 3, 5_400_000_000)),
            (typmod(second, full), value),
            (typmod(day | hour | minute | second, full), value),
            (typmod(0x7FFF, 3), iv(14, 3, 5_400_123_000)),
            (typmod(0x7FFF, 0), iv(14, 3, 5_400_000_000)),
            (typmod(minute | second, 2), iv(14, 3, 5_400_120_000)),
        ];
        for (t, kept) in cases {
            assert_eq!(interval_kept(value, t), Some(kept), "typmod {t:#x}");
        }
        // Rounding is half away from zero on both signs, as the server does.
        assert_eq!(
            interval_kept(iv(0, 0, -1_500_000), typmod(0x7FFF, 0)),
            Some(iv(0, 0, -2_000_000))
        );
        assert_eq!(interval_kept(value, typmod(1 << 5, full)), None);
    }

    /// A table as the PostgreSQL catalog reader records it (or, with
    /// `engine` "sqlite", as another engine's), with a plain primary key, a
    /// unique key with INCLUDE and one index.
    fn keyed_table(engine: &str) -> TableDef {
        let mut properties = std::collections::BTreeMap::new();
        properties.insert(
            "postgres.constraint.t_pkey".into(),
            "PRIMARY KEY (id)".into(),
        );
        properties.insert(
            "postgres.constraint.t_code_key".into(),
            "UNIQUE (code) INCLUDE (note)".into(),
        );
        TableDef {
            name: TableName::new(Some("public"), "t"),
            columns: Vec::new(),
            primary_key: Some(bru_core::PrimaryKey {
                name: Some("t_pkey".into()),
                columns: vec!["id".into()],
            }),
            uniques: vec![bru_core::UniqueConstraint {
                name: Some("t_code_key".into()),
                columns: vec!["code".into()],
            }],
            indexes: vec![bru_core::IndexDef {
                name: "t_note_idx".into(),
                columns: vec!["note".into()],
                unique: false,
                predicate: None,
                method: None,
                native_ddl: Some("CREATE INDEX t_note_idx ON public.t USING btree (note)".into()),
            }],
            foreign_keys: Vec::new(),
            checks: Vec::new(),
            native: Some(bru_core::NativeDdl {
                engine: engine.into(),
                create: String::new(),
            }),
            properties,
            estimated_rows: None,
            created_after: Vec::new(),
        }
    }

    #[test]
    fn a_plain_key_is_built_as_an_index_then_attached() {
        let steps = post_data(&keyed_table("postgres"));
        let pk = steps.iter().find(|s| s.name == "t_pkey").unwrap();
        assert_eq!(pk.part, Some(IndexPart::PrimaryKey));
        let split = pk.split.as_ref().expect("a plain primary key is split");
        assert_eq!(split.build, "CREATE UNIQUE INDEX t_pkey ON public.t (id)");
        assert_eq!(
            split.attach,
            "ALTER TABLE public.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey"
        );
        // USING INDEX cannot take INCLUDE: that key is added whole.
        let unique = steps.iter().find(|s| s.name == "t_code_key").unwrap();
        assert!(unique.split.is_none() && unique.part.is_none());
        let index = steps.iter().find(|s| s.name == "t_note_idx").unwrap();
        assert_eq!(index.part, Some(IndexPart::Index(0)));

        // Nor does a partitioned table.
        let mut partitioned = keyed_table("postgres");
        partitioned
            .properties
            .insert("postgres.partitioned".into(), "true".into());
        assert!(post_data(&partitioned).iter().all(|s| s.split.is_none()));

        // From another engine, keys are built from the neutral model, plain.
        let foreign = post_data(&keyed_table("sqlite"));
        assert!(foreign
            .iter()
            .filter(
                |s| s.part == Some(IndexPart::PrimaryKey) || s.part == Some(IndexPart::Unique(0))
            )
            .all(|s| s.split.is_some()));
    }

    #[test]
    fn an_interval_the_column_would_change_is_refused() {
        let keeps = Keeps::of(
            crate::values::oid::INTERVAL,
            typmod(1 << 3, 0xFFFF),
            Wire::Interval,
        );
        assert!(keeps.any());
        assert!(keeps.check(&Value::Interval(iv(0, 2, 0))).is_ok());
        let refused = keeps
            .check(&Value::Interval(iv(0, 1, 10_800_000_000)))
            .unwrap_err();
        assert!(refused.contains("cut or rounded"), "{refused}");
        // A plain interval column keeps everything and checks nothing.
        let plain = Keeps::of(crate::values::oid::INTERVAL, -1, Wire::Interval);
        assert!(!plain.any());
    }
}
