//! The traits that make engines pluggable.
//!
//! A [`Source`] reads one consistent snapshot: its catalog and then each
//! table's rows as bounded [`RowBatch`]es. A [`Target`] is driven through the
//! restore phases in order: pre-data ([`Target::create_table`]), data
//! ([`Target::load`]), post-data ([`Target::finish_table`],
//! [`Target::create_object`], [`Target::finish`]). Neither knows the archive:
//! the engine crate moves batches between them and the container.

use crate::error::Result;
use crate::schema::{Catalog, ObjectDef, SourceInfo, TableDef, TableName};
use crate::value::{RowBatch, Value};

/// How large a batch a source may hand over at once. A batch ends when
/// either limit is reached (but always holds at least one row), which is what
/// bounds memory by chunk size rather than by table size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    pub max_rows: usize,
    /// Approximate bytes, as counted by [`crate::Value::approx_size`].
    pub max_bytes: usize,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_rows: 1_000_000,
            max_bytes: 4 << 20,
        }
    }
}

/// A database being backed up.
///
/// Implementations open their snapshot when they are constructed, so that
/// [`Source::catalog`] and every [`Source::read_table`] see the same data.
pub trait Source {
    /// Engine, version and database name.
    fn info(&self) -> SourceInfo;

    /// All tables and other objects.
    fn catalog(&mut self) -> Result<Catalog>;

    /// Streams every row of `table` to `sink`, in batches within `limits`.
    /// An error returned by `sink` stops the read and is returned as is.
    fn read_table(
        &mut self,
        table: &TableDef,
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> Result<()>,
    ) -> Result<()>;

    /// Opens another reader on the same snapshot, so that tables can be read
    /// concurrently (PostgreSQL: a session importing the exported snapshot).
    /// `None` (the default) means the source takes one reader and tables are
    /// read one after another.
    fn open_reader(&mut self) -> Result<Option<Box<dyn Source + Send>>> {
        Ok(None)
    }

    /// Splits `table` into at most `parts` disjoint parts that together hold
    /// every row exactly once (PostgreSQL: ctid page ranges), so that several
    /// readers can read one big table at once. The default is one part, the
    /// whole table.
    fn split_table(&mut self, table: &TableDef, parts: usize) -> Result<Vec<TablePart>> {
        let _ = (table, parts);
        Ok(vec![TablePart::whole()])
    }

    /// Streams the rows of one part of `table` (from [`Source::split_table`]
    /// of this source or of the source it was opened from) to `sink`. The
    /// default reads the whole table for [`TablePart::whole`] and refuses
    /// any other part.
    fn read_table_part(
        &mut self,
        table: &TableDef,
        part: &TablePart,
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> Result<()>,
    ) -> Result<()> {
        if part.is_whole() {
            self.read_table(table, limits, sink)
        } else {
            Err(crate::Error::Unsupported(format!(
                "this source cannot read part {} of table {}",
                part.label, table.name
            )))
        }
    }

    /// Streams the rows of `table` whose integer column `column` holds a
    /// value in `range`, so that a compare can read back one range of keys
    /// by the table's index rather than the whole table. Rows whose
    /// `column` holds something other than an integer may be left out or
    /// included; the caller filters what it gets. The default refuses with
    /// [`crate::Error::Unsupported`], and the caller reads the whole table
    /// instead.
    fn read_int_range(
        &mut self,
        table: &TableDef,
        column: &str,
        range: KeyRange,
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> Result<()>,
    ) -> Result<()> {
        let _ = (column, range, limits, sink);
        Err(crate::Error::Unsupported(format!(
            "this source cannot read a range of keys of table {}",
            table.name
        )))
    }

    /// A digest of the rows of `table` over `columns` (in that order),
    /// computed by the server itself in this source's snapshot, so that a
    /// compare of two databases of one engine can find equal tables without
    /// sending their rows. Two digests are comparable only when both come
    /// from the same engine over columns of the same types: equal digests
    /// mean equal rows (up to the digest's collisions), different ones only
    /// that the rows must be compared. `None` (the default): not offered,
    /// for this source or this table.
    fn server_digest(
        &mut self,
        table: &TableDef,
        columns: &[String],
    ) -> Result<Option<ServerDigest>> {
        let _ = (table, columns);
        Ok(None)
    }

    /// The rows of `table` summed by ranges of its integer key column
    /// `key`, in the server as [`Source::server_digest`] digests them: each
    /// bucket `(key >> shift)` with its row count and the wrapping sum of
    /// its rows' first 64-bit hash, at the smallest shift that makes at
    /// most `max_buckets` buckets. Comparable, bucket by bucket, with the
    /// same engine's buckets of the same columns, so that a table whose
    /// digests differ can be narrowed down to a few key ranges without
    /// sending its rows. `None` (the default): not offered.
    fn server_key_buckets(
        &mut self,
        table: &TableDef,
        columns: &[String],
        key: &str,
        max_buckets: usize,
    ) -> Result<Option<KeyBuckets>> {
        let _ = (table, columns, key, max_buckets);
        Ok(None)
    }

    /// The number of rows of `table` in this source's snapshot. The default
    /// reads the table.
    fn count_rows(&mut self, table: &TableDef) -> Result<u64> {
        let mut rows = 0u64;
        self.read_table(table, BatchLimits::default(), &mut |batch| {
            rows += batch.row_count() as u64;
            Ok(())
        })?;
        Ok(rows)
    }

    /// Streams the rows of `table` whose primary key columns `key` hold one
    /// of `keys` (each in the text form of
    /// [`crate::changes::TableChanges::Keys`]), by the key's index. Keys
    /// with no row are left out. The default refuses with
    /// [`crate::Error::Unsupported`].
    fn read_keys(
        &mut self,
        table: &TableDef,
        key: &[usize],
        keys: &[Vec<String>],
        limits: BatchLimits,
        sink: &mut dyn FnMut(RowBatch) -> Result<()>,
    ) -> Result<()> {
        let _ = (key, keys, limits, sink);
        Err(crate::Error::Unsupported(format!(
            "this source cannot read rows of table {} by key",
            table.name
        )))
    }

    /// Creates the change slot `slot`, then takes this source's snapshot
    /// again, so that every change committed after the snapshot is named by
    /// the slot (some committed just before it may be named too, which is
    /// harmless: module docs of [`crate::changes`]). Call it before
    /// anything is read. Returns the slot's position. Fails with
    /// [`crate::Error::Unsupported`] when the source cannot keep a slot
    /// (the default; PostgreSQL without `wal_level = logical`).
    fn create_change_slot(&mut self, slot: &str) -> Result<String> {
        let _ = slot;
        Err(crate::Error::Unsupported(
            "this source cannot keep a change slot".into(),
        ))
    }

    /// Names every change of the tables `tables` that the slot `slot` holds
    /// and this source's snapshot sees (and perhaps some it does not yet
    /// see). `since` is the position the previous archive recorded: a slot
    /// that moved past it has lost changes, and is refused. Nothing moves.
    fn read_changes(
        &mut self,
        slot: &str,
        since: &str,
        tables: &[TableDef],
    ) -> Result<crate::changes::CapturedChanges> {
        let _ = (since, tables);
        Err(crate::Error::Unsupported(format!(
            "this source has no change slot {slot}"
        )))
    }

    /// Moves the slot `slot` to `to` (a position from
    /// [`Source::read_changes`]), so that the changes before it are not
    /// named again and the server can free what it kept for them.
    fn advance_change_slot(&mut self, slot: &str, to: &str) -> Result<()> {
        let _ = to;
        Err(crate::Error::Unsupported(format!(
            "this source has no change slot {slot}"
        )))
    }

    /// Drops the change slot `slot`; `false` if there was none.
    fn drop_change_slot(&mut self, slot: &str) -> Result<bool> {
        let _ = slot;
        Ok(false)
    }
}

/// What [`Source::server_key_buckets`] gives: how the rows were hashed
/// (two sides' buckets compare only when it is the same), the shift, and
/// for each bucket that holds rows, `key >> shift`, its row count and its
/// sum.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyBuckets {
    pub method: String,
    pub shift: u32,
    pub cells: Vec<(i64, u64, u64)>,
}

/// What [`Source::server_digest`] gives: the row count and the server's
/// digest of the rows, as text to compare with another side's (naming how
/// it was computed, so that two servers that hash differently never agree
/// by accident).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerDigest {
    pub rows: u64,
    pub digest: String,
}

/// A range of integer keys: `from` included, `to` excluded, `None`
/// unbounded on that side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyRange {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl KeyRange {
    /// The SQL condition for this range on the column spelled `column`
    /// (already quoted as the engine needs), or `None` when the range is
    /// unbounded both ways. Every engine's SQL reads it alike.
    pub fn condition(&self, column: &str) -> Option<String> {
        match (self.from, self.to) {
            (Some(a), Some(b)) => Some(format!("{column} >= {a} AND {column} < {b}")),
            (Some(a), None) => Some(format!("{column} >= {a}")),
            (None, Some(b)) => Some(format!("{column} < {b}")),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::KeyRange;

    #[test]
    fn key_ranges_spell_their_bounds_from_included_to_excluded() {
        let r = |from, to| KeyRange { from, to }.condition("\"id\"");
        assert_eq!(
            r(Some(-5), Some(10)).as_deref(),
            Some("\"id\" >= -5 AND \"id\" < 10")
        );
        assert_eq!(r(Some(3), None).as_deref(), Some("\"id\" >= 3"));
        assert_eq!(
            r(None, Some(i64::MIN)).as_deref(),
            Some(&*format!("\"id\" < {}", i64::MIN))
        );
        assert_eq!(r(None, None), None);
    }
}

/// One part of a table for parallel reading. `filter` is engine-specific
/// (for PostgreSQL a ctid range condition) and opaque to everyone else;
/// `label` is for logs and messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablePart {
    pub label: String,
    /// `None` for the whole table.
    pub filter: Option<String>,
}

impl TablePart {
    /// The whole table.
    pub fn whole() -> Self {
        TablePart {
            label: "whole table".into(),
            filter: None,
        }
    }

    pub fn is_whole(&self) -> bool {
        self.filter.is_none()
    }
}

/// One object `--clean` drops ([`Target::clean_plan`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Dropped {
    /// Its kind and name as the target names it: `table public.sites`,
    /// `view labels`, `constraint fk_site on table public.visits`.
    pub object: String,
    /// `None` for an object the archive holds (dropped by name, and created
    /// again by the restore); otherwise the archive's object it depends on
    /// (`table public.sites`), the reason it is dropped too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<String>,
}

impl Dropped {
    /// One of the archive's own objects.
    pub fn own(object: impl Into<String>) -> Self {
        Dropped {
            object: object.into(),
            depends_on: None,
        }
    }

    /// An object dropped because it depends on `on`.
    pub fn dependent(object: impl Into<String>, on: impl Into<String>) -> Self {
        Dropped {
            object: object.into(),
            depends_on: Some(on.into()),
        }
    }
}

/// `view public.v (depends on table public.sites)`, or the object alone.
impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.depends_on {
            Some(on) => write!(f, "{} (depends on {on})", self.object),
            None => f.write_str(&self.object),
        }
    }
}

/// What became of a non-table object on restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectOutcome {
    Created,
    /// Not created, with the reason (for example, a trigger written for
    /// another engine). Reported in the summary, never dropped silently.
    Skipped(String),
}

/// A database being restored into.
pub trait Target {
    /// The engine name (`sqlite`, `postgres`, `mssql`).
    fn engine(&self) -> &'static str;

    /// Which of `tables` already exist in the target.
    fn existing_tables(&mut self, tables: &[TableName]) -> Result<Vec<TableName>>;

    /// `--clean`, without dropping anything: what dropping the archive's
    /// `tables` and `objects` would drop in this target. That is each of
    /// them that exists here under its declared name (or holds that name
    /// where the engine's kinds share one namespace), listed with no
    /// [`Dropped::depends_on`], and every object the engine itself records
    /// as depending on one of those and so drops with it (a view over a
    /// dropped table in PostgreSQL, a trigger on it in SQLite), naming what
    /// it depends on. Never decided by searching SQL text. `objects` are
    /// only those this target would create (its own engine's, carried).
    ///
    /// The default refuses, since a target that cannot say what a drop
    /// takes with it cannot drop honestly.
    fn clean_plan(&mut self, tables: &[TableDef], objects: &[ObjectDef]) -> Result<Vec<Dropped>> {
        let _ = (tables, objects);
        Err(crate::Error::Unsupported(format!(
            "the {} target cannot list what --clean would drop; drop the tables yourself and restore without --clean",
            self.engine()
        )))
    }

    /// `--clean`: drops what [`Target::clean_plan`] of the same `tables`
    /// and `objects` listed, which the caller passes as `plan`, in one
    /// transaction. Fails without dropping anything if the target would now
    /// drop something else (it changed since the plan was made). The
    /// default refuses, as [`Target::clean_plan`]'s does.
    fn clean(
        &mut self,
        tables: &[TableDef],
        objects: &[ObjectDef],
        plan: &[Dropped],
    ) -> Result<()> {
        let _ = (tables, objects, plan);
        Err(crate::Error::Unsupported(format!(
            "the {} target cannot drop for --clean; drop the tables yourself and restore without --clean",
            self.engine()
        )))
    }

    /// Pre-data: creates the table without its secondary indexes.
    fn create_table(&mut self, table: &TableDef) -> Result<()>;

    /// Checks that an existing table can take the archive's rows
    /// (`--data-only`): every column exists with a compatible type. Fails
    /// before any row is written.
    fn check_table(&mut self, table: &TableDef) -> Result<()>;

    /// Data: a loader for the rows of `table`.
    fn load<'a>(&'a mut self, table: &TableDef) -> Result<Box<dyn TableLoader + 'a>>;

    /// After a table's rows are loaded (also in `--data-only`): sets its
    /// identity / sequence / AUTOINCREMENT counters to the archive's
    /// `Identity::last_value`, so new rows do not collide with restored ones.
    /// The default does nothing, for engines without such counters.
    fn restore_identity(&mut self, table: &TableDef) -> Result<()> {
        let _ = table;
        Ok(())
    }

    /// Post-data for one table: primary key, unique and check constraints,
    /// and indexes. Called as soon as the table's own rows are in, and after
    /// any [`Target::build_index`] of the table; it completes what those
    /// left (attaching constraints to the indexes they built) and creates
    /// what they did not. A table is finished after the tables created
    /// after it (`created_after`: its partitions), whose indexes a
    /// PostgreSQL partitioned table attaches to its own.
    fn finish_table(&mut self, table: &TableDef) -> Result<()>;

    /// Post-data, ahead of [`Target::finish_table`]: builds the index behind
    /// `part` of `table` so that several sessions can build one table's
    /// indexes at the same time. Called with the table's rows in, possibly
    /// while other sessions build other parts of the same table, so it must
    /// only take locks that let them (PostgreSQL: a plain `CREATE INDEX`,
    /// with a key's constraint attached later by `finish_table`). The
    /// default does nothing and leaves the whole job to `finish_table`.
    fn build_index(&mut self, table: &TableDef, part: IndexPart) -> Result<()> {
        let _ = (table, part);
        Ok(())
    }

    /// Post-data: the table's foreign keys. Called once the table and every
    /// table it references are loaded. The default does nothing, for engines
    /// that declare foreign keys in CREATE TABLE (SQLite).
    fn add_foreign_keys(&mut self, table: &TableDef) -> Result<()> {
        let _ = table;
        Ok(())
    }

    /// Opens another session on the same target database, so that tables
    /// (or parts of one table) can be loaded and indexed in parallel.
    /// `None` means the target takes a single writer (SQLite), and the
    /// restore runs every step on this session.
    fn open_worker(&mut self) -> Result<Option<Box<dyn Target + Send>>> {
        Ok(None)
    }

    /// Post-data: a view, trigger or other object. Never called for an
    /// object with [`ObjectDef::not_carried`] set: the engine lists those as
    /// skipped with their reason.
    fn create_object(&mut self, object: &ObjectDef) -> Result<ObjectOutcome>;

    /// `--data-only`: restores the data an existing object holds (a
    /// sequence's value) with its [`ObjectDef::data`] statement. The default
    /// skips it, saying why.
    fn restore_object_data(&mut self, object: &ObjectDef) -> Result<ObjectOutcome> {
        Ok(ObjectOutcome::Skipped(format!(
            "the {} target cannot restore the data of a {} {}",
            self.engine(),
            object.engine,
            object.kind
        )))
    }

    /// Last step, after all tables and objects (for example, checking
    /// foreign keys and committing).
    fn finish(&mut self) -> Result<()>;

    /// What the target left out so far and why (a CHECK written in another
    /// engine's SQL, an index it cannot express, ...), each as one line.
    /// Drained by the caller into the summary, on every session (a worker
    /// from [`Target::open_worker`] before it is dropped), so nothing is
    /// dropped silently. The default has nothing to report.
    fn take_skipped(&mut self) -> Vec<String> {
        Vec::new()
    }

    /// The name `table` has in this target, so that a restore finds, before
    /// it writes anything, archive tables that would be one table here. The
    /// default keeps the name as it is (a target with schemas); a target
    /// with one namespace whose names ignore case (SQLite) returns the bare
    /// name in lower case.
    fn name_here(&self, table: &TableName) -> TableName {
        table.clone()
    }

    /// Applying a delta archive: deletes the rows of `table` (which exists
    /// with the archive's columns) whose key columns (positions `key` in
    /// `table.columns`) hold one of `keys`, each as many values as `key`;
    /// with no `key` columns, every row. Returns the rows deleted. User triggers do not fire where the engine
    /// can turn them off (as for `--data-only`). The default refuses.
    fn delete_rows(&mut self, table: &TableDef, key: &[usize], keys: &[Vec<Value>]) -> Result<u64> {
        let _ = (key, keys);
        Err(crate::Error::Unsupported(format!(
            "the {} target cannot apply a delta archive (table {})",
            self.engine(),
            table.name
        )))
    }

    /// Applying a delta archive: a loader whose rows replace the rows of
    /// `table` with the same key (positions `key`; an empty `key` only
    /// inserts). The default refuses.
    fn upsert<'a>(
        &'a mut self,
        table: &TableDef,
        key: &[usize],
    ) -> Result<Box<dyn TableLoader + 'a>> {
        let _ = key;
        Err(crate::Error::Unsupported(format!(
            "the {} target cannot apply a delta archive (table {})",
            self.engine(),
            table.name
        )))
    }

    /// The target's restore journal, when it keeps one, so that an
    /// interrupted restore can be resumed; `None` (the default) when it does
    /// not. A target that returns one takes on the promise documented on
    /// [`RestoreJournal`].
    fn journal(&mut self) -> Option<&mut dyn RestoreJournal> {
        None
    }
}

/// The restore journal of a resumable target ([`Target::journal`]): a set
/// of opaque text keys kept in the target database, naming the steps and
/// chunks a restore has finished. `bru_core::journal::Journal` implements
/// the logic on a few SQL primitives, so a target's implementation is three
/// one-line methods.
///
/// **The promise.** A target with a journal also commits each chunk of rows
/// together with its key ([`TableLoader::commit_chunk`]), and makes its
/// post-data steps ([`Target::create_object`], [`Target::finish_table`],
/// [`Target::build_index`], [`Target::add_foreign_keys`]) leave alone what
/// already exists: a step may have been done just before the restore
/// stopped and before its key was written, and a resumed restore runs it
/// again.
pub trait RestoreJournal {
    /// The recorded keys, or `None` when the target holds no journal (no
    /// restore ever ran, or the last one finished).
    fn keys(&mut self) -> Result<Option<Vec<String>>>;

    /// Records `key`, creating the journal if there is none, and commits it.
    fn mark(&mut self, key: &str) -> Result<()>;

    /// Removes the journal (at the end of a restore, or to start over with
    /// `--clean`).
    fn clear(&mut self) -> Result<()>;

    /// Removes `keys` from the journal, together (a resumed restore then
    /// does their work again; see [`RestoreJournal::emptied`]).
    fn forget(&mut self, keys: &[String]) -> Result<()>;

    /// On a resumed restore, which of `tables` (each with rows the journal
    /// says were committed) the target finds empty though the journal
    /// still lists their chunks: PostgreSQL empties an `UNLOGGED` table
    /// when it recovers from a crash or an immediate stop, while the
    /// journal, an ordinary table, keeps every entry. The engine forgets
    /// those tables' chunks ([`RestoreJournal::forget`]) and loads them
    /// again whole, so their rows end as the archive's. The default, for a
    /// target that never loses what it committed, is none.
    fn emptied(&mut self, tables: &[TableName]) -> Result<Vec<TableName>> {
        let _ = tables;
        Ok(Vec::new())
    }
}

/// One index of a table, for [`Target::build_index`]: the index of its
/// primary key, of one of its unique constraints (a position in
/// [`TableDef::uniques`]), or one of its secondary indexes (a position in
/// [`TableDef::indexes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(tag = "of", content = "position", rename_all = "snake_case")]
pub enum IndexPart {
    PrimaryKey,
    Unique(usize),
    Index(usize),
}

impl IndexPart {
    /// Every index part of `table`, primary key first.
    pub fn all(table: &TableDef) -> Vec<IndexPart> {
        let pk = table.primary_key.iter().map(|_| IndexPart::PrimaryKey);
        let uniques = (0..table.uniques.len()).map(IndexPart::Unique);
        let indexes = (0..table.indexes.len()).map(IndexPart::Index);
        pk.chain(uniques).chain(indexes).collect()
    }

    /// The part's name in `table` for people and journals: the constraint or
    /// index name when the archive has one, else the key and its columns
    /// (`primary key (id)`, `unique (login)`).
    pub fn name(self, table: &TableDef) -> String {
        let key = |kind: &str, name: &Option<String>, columns: &[String]| {
            name.clone()
                .unwrap_or_else(|| format!("{kind} ({})", columns.join(", ")))
        };
        match self {
            IndexPart::PrimaryKey => table.primary_key.as_ref().map_or_else(
                || "primary key ()".into(),
                |p| key("primary key", &p.name, &p.columns),
            ),
            IndexPart::Unique(i) => table.uniques.get(i).map_or_else(
                || format!("unique ({i})"),
                |u| key("unique", &u.name, &u.columns),
            ),
            IndexPart::Index(i) => table
                .indexes
                .get(i)
                .map_or_else(|| format!("index ({i})"), |x| x.name.clone()),
        }
    }
}

/// Writes the rows of one table.
pub trait TableLoader {
    /// Writes one batch. Batches arrive in archive order.
    fn write_batch(&mut self, batch: &RowBatch) -> Result<()>;

    /// Commits the rows written since the last commit together with the
    /// restore-journal entry `key`, in one transaction, so that after a crash
    /// either both are there or neither is. Only called on a target with a
    /// [`Target::journal`]; the default refuses.
    fn commit_chunk(&mut self, key: &str) -> Result<()> {
        Err(crate::Error::Unsupported(format!(
            "this target keeps no restore journal (cannot commit {key})"
        )))
    }

    /// Commits what was written and returns the number of rows loaded.
    fn finish(self: Box<Self>) -> Result<u64>;
}
