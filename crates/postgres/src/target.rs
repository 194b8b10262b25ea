//! PostgreSQL as a restore target.
//!
//! Phases follow pg_restore's: tables are created bare (columns, defaults,
//! identity, NOT NULL); rows are loaded with binary COPY, in the same
//! transaction as a TRUNCATE of the freshly created table so that COPY
//! FREEZE can skip later vacuum work; then constraints, indexes, identity
//! values, and only after that triggers, so no trigger fires on restored
//! rows. A foreign key waits until the table it references has its keys.
//!
//! Columns of types without a neutral counterpart (arrays, enums,
//! domains...) arrive as canonical text. Their table is loaded through a
//! temporary staging table where those columns are `text`, then inserted
//! with a cast, so the server's own input functions parse them.

use std::collections::{HashMap, HashSet};
use std::pin::Pin;

use bru_core::{
    ColumnType, Error, ObjectDef, ObjectOutcome, RowBatch, TableDef, TableLoader, TableName,
    Target, Value,
};
use bytes::{Bytes, BytesMut};
use futures_util::SinkExt;
use tokio_postgres::CopyInSink;

use crate::catalog::{quote_literal, NOT_CARRIED};
use crate::conn::{Conn, Settings};
use crate::copy_binary::{write_header, write_trailer, TupleWriter};
use crate::ddl;
use crate::quote::{ident, qualified, target_name};
use crate::source::wire_of;
use crate::values::{encode, Wire};

/// How much COPY data is buffered before it is handed to the connection.
const SEND_THRESHOLD: usize = 1 << 20;

/// Writes into one PostgreSQL database.
pub struct PgTarget {
    conn: Conn,
    /// Tables this session created (their loads may TRUNCATE and FREEZE).
    created: HashSet<TableName>,
    /// Tables whose keys exist, so foreign keys may reference them.
    finished: HashSet<TableName>,
    /// Foreign keys waiting for their referenced table: (referenced, SQL, owner).
    pending_fks: Vec<(TableName, String, TableName)>,
    /// What was left out, for [`Target::take_skipped`].
    skipped: Vec<String>,
}

impl PgTarget {
    /// Connects to `url` (`postgres://` or `postgresql://`, with libpq's
    /// environment variables and password file as fallbacks).
    ///
    /// Fails with [`Error::Connect`] if the server cannot be reached or
    /// refuses the login.
    pub fn open(url: &str) -> bru_core::Result<PgTarget> {
        let conn = Conn::open(Settings::resolve(url)?)?;
        // Function bodies may name tables that do not exist yet.
        conn.batch(
            "SET check_function_bodies = false; SET client_min_messages = warning",
            "configuring the session",
        )?;
        Ok(PgTarget {
            conn,
            created: HashSet::new(),
            finished: HashSet::new(),
            pending_fks: Vec::new(),
            skipped: Vec::new(),
        })
    }

    /// The endpoint as `postgres user@host:port/db` (never the password).
    pub fn endpoint(&self) -> &str {
        &self.conn.settings.endpoint
    }

    fn same_engine(table: &TableDef) -> bool {
        table
            .native
            .as_ref()
            .is_some_and(|n| n.engine == "postgres")
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
            out.push(TargetColumn {
                name,
                wire: Wire::for_type(type_oid, typmod),
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

    fn add_foreign_keys(&mut self, table: &TableDef) -> bru_core::Result<()> {
        let owner = target_name(&table.name);
        for fk in &table.foreign_keys {
            let sql = match fk.name.as_ref().and_then(|n| {
                table
                    .property(&format!("postgres.constraint.{n}"))
                    .map(|d| (n, d))
            }) {
                Some((n, def)) if Self::same_engine(table) => format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} {def}",
                    qualified(&owner),
                    ident(n)
                ),
                _ => ddl::foreign_key(table, fk),
            };
            let mut referenced = fk.ref_table.clone();
            if referenced.schema.is_none() {
                referenced.schema = table.name.schema.clone();
            }
            let referenced = target_name(&referenced);
            if referenced == owner || self.finished.contains(&referenced) {
                self.conn
                    .batch(&sql, &format!("adding a foreign key to {owner}"))?;
            } else {
                self.pending_fks.push((referenced, sql, owner.clone()));
            }
        }
        Ok(())
    }

    fn flush_foreign_keys(&mut self, all: bool) -> bru_core::Result<()> {
        let pending = std::mem::take(&mut self.pending_fks);
        for (referenced, sql, owner) in pending {
            if all || self.finished.contains(&referenced) {
                self.conn
                    .batch(&sql, &format!("adding a foreign key to {owner}"))?;
            } else {
                self.pending_fks.push((referenced, sql, owner));
            }
        }
        Ok(())
    }
}

struct TargetColumn {
    name: String,
    wire: Wire,
    type_name: String,
    generated: bool,
}

/// Types whose SQLite values are text that PostgreSQL parses.
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
        "postgres"
    }

    fn existing_tables(&mut self, tables: &[TableName]) -> bru_core::Result<Vec<TableName>> {
        let rows = self.conn.query(
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
        self.conn.batch(
            &format!("DROP TABLE IF EXISTS {} CASCADE", list.join(", ")),
            "dropping existing tables (--clean)",
        )
    }

    fn create_table(&mut self, table: &TableDef) -> bru_core::Result<()> {
        let name = target_name(&table.name);
        let create = match &table.native {
            Some(n) if n.engine == "postgres" => n.create.clone(),
            _ => ddl::create_table(table),
        };
        let schema = name.schema.as_deref().unwrap_or("public");
        self.conn.batch(
            &format!("CREATE SCHEMA IF NOT EXISTS {};\n{create}", ident(schema)),
            &format!("creating table {name}"),
        )?;
        self.created.insert(name);
        Ok(())
    }

    fn check_table(&mut self, table: &TableDef) -> bru_core::Result<()> {
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
        let (partitioned, target_cols) = self.target_columns(&table.name)?;
        let by_name: HashMap<&str, &TargetColumn> =
            target_cols.iter().map(|c| (c.name.as_str(), c)).collect();
        // Per archive column: where it goes, or None for a generated column
        // the target computes itself.
        let mut plan = Vec::with_capacity(table.columns.len());
        let from_sqlite = table.native.as_ref().is_some_and(|n| n.engine == "sqlite");
        for c in &table.columns {
            let t = by_name.get(c.name.as_str()).ok_or_else(|| {
                Error::engine(
                    format!("loading {name}"),
                    format!("column {} does not exist in the target", c.name),
                )
            })?;
            // SQLite keeps dates, times, intervals and uuids as text: those
            // columns go through the staging table and the server parses
            // them, so a text PostgreSQL cannot read is refused there.
            let wire = if from_sqlite && parsed_from_text(t.wire) {
                Wire::NativeText
            } else {
                t.wire
            };
            plan.push((!t.generated).then(|| (c.name.clone(), wire, t.type_name.clone())));
        }
        let loaded: Vec<&(String, Wire, String)> = plan.iter().flatten().collect();
        let names = loaded
            .iter()
            .map(|(n, _, _)| ident(n))
            .collect::<Vec<_>>()
            .join(", ");
        // A table without columns takes COPY's default (empty) list.
        let col_list = if names.is_empty() {
            String::new()
        } else {
            format!("({names})")
        };
        let staged = loaded.iter().any(|(_, w, _)| w.is_text_fallback());
        let context = format!("loading {name}");
        let q = qualified(&name);
        let fresh = self.created.contains(&name) && !partitioned;
        let mut setup = String::from("BEGIN");
        let copy_sql;
        if staged {
            let defs: Vec<String> = loaded
                .iter()
                .map(|(n, w, ty)| {
                    let ty = if w.is_text_fallback() {
                        "text"
                    } else {
                        ty.as_str()
                    };
                    format!("{} {ty}", ident(n))
                })
                .collect();
            setup.push_str(&format!(
                "; CREATE TEMPORARY TABLE bru_stage ({}) ON COMMIT DROP",
                defs.join(", ")
            ));
            copy_sql = format!("COPY pg_temp.bru_stage {col_list} FROM STDIN (FORMAT binary)");
        } else if fresh {
            setup.push_str(&format!("; TRUNCATE {q}"));
            copy_sql = format!("COPY {q} {col_list} FROM STDIN (FORMAT binary, FREEZE)");
        } else {
            copy_sql = format!("COPY {q} {col_list} FROM STDIN (FORMAT binary)");
        }
        let insert = staged.then(|| {
            let casts: Vec<String> = loaded
                .iter()
                .map(|(n, w, ty)| {
                    if w.is_text_fallback() {
                        format!("{}::{ty}", ident(n))
                    } else {
                        ident(n)
                    }
                })
                .collect();
            format!(
                "INSERT INTO {q} {col_list} OVERRIDING SYSTEM VALUE SELECT {} FROM pg_temp.bru_stage",
                casts.join(", ")
            )
        });
        self.conn.batch(&setup, &context)?;
        let sink = self
            .conn
            .block_on(self.conn.client.copy_in::<_, Bytes>(copy_sql.as_str()));
        let sink = match sink {
            Ok(s) => Box::pin(s),
            Err(e) => {
                let err = self.conn.err(&context, &e);
                let _ = self.conn.batch("ROLLBACK", &context);
                return Err(err);
            }
        };
        let mut buf = BytesMut::with_capacity(SEND_THRESHOLD + (64 << 10));
        write_header(&mut buf);
        Ok(Box::new(PgLoader {
            conn: &self.conn,
            sink: Some(sink),
            table: name.to_string(),
            columns: table.columns.iter().map(|c| c.name.clone()).collect(),
            wires: plan
                .iter()
                .map(|p| p.as_ref().map(|(_, w, _)| *w))
                .collect(),
            fields: loaded.len(),
            buf,
            insert,
            context,
            done: false,
        }))
    }

    fn finish_table(&mut self, table: &TableDef) -> bru_core::Result<()> {
        let name = target_name(&table.name);
        let q = qualified(&name);
        let context = format!("adding keys and indexes to {name}");
        let mut statements = Vec::new();
        if Self::same_engine(table) {
            // Primary keys and uniques first: foreign keys and some indexes
            // rely on them.
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
            for (_, n, def) in cons {
                statements.push(format!("ALTER TABLE {q} ADD CONSTRAINT {} {def}", ident(n)));
            }
            for i in &table.indexes {
                if let Some(d) = &i.native_ddl {
                    statements.push(d.clone());
                }
            }
        } else {
            for p in ddl::post_data(table) {
                if !p.foreign_sql {
                    statements.push(p.sql);
                } else if let Err(e) = self.conn.batch(&p.sql, &context) {
                    // Each statement runs on its own, so a failed one
                    // leaves nothing behind.
                    self.skipped
                        .push(format!("table {name}: `{}` was not created: {e}", p.sql));
                }
            }
        }
        for c in &table.columns {
            if let Some(last) = c.identity.as_ref().and_then(|i| i.last_value) {
                let seq = match table.property(&format!("postgres.identity_sequence.{}", c.name)) {
                    Some(s) if Self::same_engine(table) => quote_literal(s),
                    _ => format!(
                        "pg_catalog.pg_get_serial_sequence({}, {})",
                        quote_literal(&q),
                        quote_literal(&c.name)
                    ),
                };
                statements.push(format!("SELECT pg_catalog.setval({seq}, {last}, true)"));
            }
        }
        for s in statements {
            self.conn.batch(&s, &context)?;
        }
        self.finished.insert(name);
        self.add_foreign_keys(table)?;
        self.flush_foreign_keys(false)
    }

    fn create_object(&mut self, object: &ObjectDef) -> bru_core::Result<ObjectOutcome> {
        if object.engine != "postgres" {
            return Ok(ObjectOutcome::Skipped(format!(
                "written for {}, not PostgreSQL",
                object.engine
            )));
        }
        if let Some(reason) = object.ddl.strip_prefix(NOT_CARRIED) {
            return Ok(ObjectOutcome::Skipped(format!(
                "not carried by bru yet: {reason}"
            )));
        }
        self.conn.batch(
            &object.ddl,
            &format!("creating {} {}", object.kind, object.name),
        )?;
        Ok(ObjectOutcome::Created)
    }

    fn take_skipped(&mut self) -> Vec<String> {
        std::mem::take(&mut self.skipped)
    }

    fn finish(&mut self) -> bru_core::Result<()> {
        // Keys referencing tables that were not restored (already in the
        // target, or filtered out) go last and fail loudly if the table is
        // not there.
        self.flush_foreign_keys(true)
    }
}

/// Streams one table's rows into a COPY; nothing is visible to others until
/// [`TableLoader::finish`] commits.
struct PgLoader<'a> {
    conn: &'a Conn,
    sink: Option<Pin<Box<CopyInSink<Bytes>>>>,
    table: String,
    columns: Vec<String>,
    wires: Vec<Option<Wire>>,
    fields: usize,
    buf: BytesMut,
    insert: Option<String>,
    context: String,
    done: bool,
}

impl PgLoader<'_> {
    fn send(&mut self) -> bru_core::Result<()> {
        let data = self.buf.split().freeze();
        let Some(sink) = self.sink.as_mut() else {
            return Err(Error::engine(&self.context, "the COPY was already closed"));
        };
        self.conn
            .block_on(sink.send(data))
            .map_err(|e| self.conn.err(&self.context, &e))
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
        for row in batch.rows() {
            let mut t = TupleWriter::begin(&mut self.buf, self.fields);
            for (i, v) in row.iter().enumerate() {
                let Some(wire) = self.wires[i] else { continue };
                if matches!(v, Value::Null) {
                    t.null();
                    continue;
                }
                t.field(|out| encode(wire, v, out))
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

    fn finish(mut self: Box<Self>) -> bru_core::Result<u64> {
        write_trailer(&mut self.buf);
        self.send()?;
        let Some(mut sink) = self.sink.take() else {
            return Err(Error::engine(&self.context, "the COPY was already closed"));
        };
        let copied = self
            .conn
            .block_on(sink.as_mut().finish())
            .map_err(|e| self.conn.err(&self.context, &e))?;
        let rows = match &self.insert {
            Some(sql) => self
                .conn
                .block_on(self.conn.client.execute(sql.as_str(), &[]))
                .map_err(|e| self.conn.err(&self.context, &e))?,
            None => copied,
        };
        self.conn.batch("COMMIT", &self.context)?;
        self.done = true;
        Ok(rows)
    }
}

impl Drop for PgLoader<'_> {
    fn drop(&mut self) {
        if !self.done {
            // Dropping the sink unfinished aborts the COPY; the transaction
            // is then rolled back so the connection is usable again.
            self.sink = None;
            let _ = self.conn.batch("ROLLBACK", &self.context);
        }
    }
}
