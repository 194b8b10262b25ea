//! Errors of the engine: a failed source or target, a damaged archive, or a
//! check that did not pass.
//!
//! Every message is one line that names the archive, table and chunk where
//! they apply, and says each thing once: no variant both prints another
//! error and returns it as its `source()`, which a printer of the cause
//! chain would print again. Errors from the layers below (a source, a target, the archive
//! container) are wrapped with the table being worked on by
//! [`Error::in_table`], unless they already name it.

use std::path::PathBuf;

use crate::samefile::Side;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The source or target database failed.
    #[error(transparent)]
    Database(#[from] bru_core::Error),

    /// The archive could not be read or written.
    #[error(transparent)]
    Archive(#[from] bru_format::Error),

    /// An `--include` / `--exclude` pattern is not a valid pattern.
    #[error("invalid table pattern {pattern:?}: {message}; fix the --include/--exclude pattern")]
    InvalidPattern { pattern: String, message: String },

    /// A line of a `restore --use-list` file that is not an entry of the
    /// archive's table of contents (module `toc`).
    #[error("{file}, line {line}: {message}; make the list with bru restore --list from this archive and delete lines from it")]
    InvalidList {
        file: String,
        line: usize,
        message: String,
    },

    /// A `--cast` rule (or a line of a `--cast-file`) that is not one of
    /// the grammar's (module `casts`).
    #[error("invalid cast rule {rule:?}: {message}; fix the --cast rule (the rules are in bru restore --help)")]
    InvalidCast { rule: String, message: String },

    /// A `--cast` rule that applies to no column of the restored tables.
    #[error("cast rule {rule:?} {why}; check the table and column names (bru list shows an archive's tables) or leave the --cast rule out")]
    CastMatchesNothing { rule: String, why: String },

    /// The patterns select no table, or an `--include` pattern matches none
    /// (`unmatched`), as pg_dump's "no matching tables were found".
    #[error("no matching tables were found: {}{patterns} {}; check the names (bru list shows an archive's tables) and the pattern rules in --help", if *unmatched { "--include " } else { "" }, if *unmatched { "matches no table" } else { "leave no table selected" })]
    NoTablesSelected { patterns: String, unmatched: bool },

    /// A failure while working on one table; `doing` says what bru was doing
    /// (`backing up`, `restoring`, `verifying`). The failure is part of this
    /// message, not an error [`std::error::Error::source`] chain: a printer
    /// of the whole chain (anyhow's `{:#}`) would say it twice.
    #[error("{doing} table {table}: {error}")]
    Table {
        doing: &'static str,
        table: String,
        error: Box<Error>,
    },

    /// What was read back differs from what the archive recorded (row count,
    /// chunk count, sizes or the content checksum). The data is not to be
    /// trusted, so the operation stops rather than carry on silently.
    #[error("archive {} is damaged: table {table}: {what} read back is {actual}, but the archive records {expected}", archive.display())]
    Mismatch {
        archive: PathBuf,
        table: String,
        /// What differs, e.g. "the row count" or "the content checksum".
        what: String,
        expected: String,
        actual: String,
    },

    /// A database holds other rows in a table than the archive recorded
    /// ([`crate::compare()`]).
    #[error("table {table}: the database has {database_rows} rows (checksum {database_checksum:016x}), the archive has {archive_rows} (checksum {archive_checksum:016x})")]
    Differs {
        table: String,
        database_rows: u64,
        database_checksum: u64,
        archive_rows: u64,
        archive_checksum: u64,
    },

    /// The target reports a different number of loaded rows than it was given.
    #[error("table {table}: the target loaded {loaded} rows but was given {given}; check the target database")]
    LoadedRows {
        table: String,
        given: u64,
        loaded: u64,
    },

    /// A source handed over a batch whose shape does not fit the table.
    #[error("table {table}: the source returned rows of {actual} columns but the table has {expected}; this is a bug in the source engine")]
    BatchShape {
        table: String,
        expected: usize,
        actual: usize,
    },

    /// A complete archive without the totals of one of its tables.
    #[error("archive {} is damaged: table {table} has no recorded totals although the archive is marked complete", archive.display())]
    MissingTotals { archive: PathBuf, table: String },

    /// The archive is the source or target database's own file.
    #[error("{} is the {} database itself; {}", path.display(), match side { Side::Source => "source", Side::Target => "target" }, match side { Side::Source => "write the archive to another file", Side::Target => "restore into another database file" })]
    SameFile { path: PathBuf, side: Side },

    /// Archive tables (or indexes) that would have one name in the target
    /// (`a.staff` and `b.staff` into SQLite, which has one namespace).
    #[error("{} would all be {here} in the {engine} target, which has one namespace for tables and indexes{}; leave all but one out with --exclude (e.g. --exclude '{exclude}'), or restore each table as schema_table with --schema-prefix", items.join(" and "), if *more > 0 { format!(" ({more} more such clash(es))") } else { String::new() })]
    NameClash {
        engine: &'static str,
        here: String,
        /// Each as `table a.staff` or `index a.staff_name`.
        items: Vec<String>,
        /// The table of the last one, for the `--exclude` example.
        exclude: String,
        more: usize,
    },

    /// `--schema-prefix` into a target that keeps schemas.
    #[error("--schema-prefix is for a target with one namespace (SQLite); the {engine} target keeps schemas, restore without it")]
    SchemaPrefixUnneeded { engine: &'static str },

    /// A catalog entry whose SQL text does more than create the object it
    /// declares (module `trust`): the archive was altered, and nothing of
    /// it is run.
    /// At backup: a table whose SQL text is longer than a restore checks.
    #[error("table {table} holds {bytes} bytes of SQL in one statement text, more than the {max} an archive carries (no restore would run it); leave it out with --exclude")]
    SqlTooLong {
        table: String,
        bytes: usize,
        max: usize,
    },

    #[error("the archive's catalog entry {entry} {reason}, so the archive was altered after backup and nothing of it is run; restore an archive you trust")]
    UntrustedSql {
        /// The entry, as kind and name (`view public.v`).
        entry: String,
        reason: String,
    },

    /// The worker thread pool could not be started.
    #[error("cannot start {jobs} worker threads: {message}; try a smaller --jobs")]
    Pool { jobs: usize, message: String },

    /// The target holds the journal of a restore that did not finish.
    #[error("a previous restore into this target did not finish; use --resume to continue it, or --clean to start over")]
    UnfinishedRestore,

    /// `--resume` with an archive other than the one the unfinished restore
    /// came from.
    #[error("cannot resume with {}: the unfinished restore in the target came from another archive ({recorded}), not this one ({expected}); resume with that archive, or restore with --clean", archive.display())]
    OtherArchive {
        archive: PathBuf,
        recorded: String,
        expected: String,
    },

    /// `--resume` in another mode than the unfinished restore.
    #[error("cannot resume: the unfinished restore in the target was a {recorded} restore, not {requested}; resume it with the same options, or restore with --clean")]
    OtherMode { recorded: String, requested: String },

    /// `--resume` with a selection that leaves out a table the unfinished
    /// restore worked on.
    #[error("cannot resume: the unfinished restore in the target also restores table(s) {tables}, which this --include/--exclude leaves out; resume it with the same --include/--exclude, or restore with --clean")]
    OtherSelection { tables: String },

    /// The restore was planned (and its SQL translated) for one engine and
    /// run on a target of another.
    #[error("the restore was planned for a {planned} target, not {target}; open it again for this target")]
    TargetEngine {
        planned: String,
        target: &'static str,
    },

    /// `--resume` on a target that keeps no restore journal.
    #[error("the {engine} target cannot resume a restore; restore with --clean instead")]
    CannotResume { engine: &'static str },

    /// A step stopped because another one failed (never reported: the other
    /// step's error is).
    /// A delta archive that cannot be taken or applied, with what to do.
    #[error("{0}")]
    Delta(String),

    #[error("stopped because another step failed")]
    Stopped,

    /// A worker thread stopped without a result.
    #[error("a worker thread stopped unexpectedly; this is a bug in bru, please report it")]
    WorkerLost,
}

impl Error {
    /// Adds the table being worked on, unless the error already names it
    /// (the reader names the table in its chunk errors and damage reports).
    pub(crate) fn in_table(self, doing: &'static str, table: &str) -> Error {
        match self {
            Error::Database(bru_core::Error::Value { .. })
            | Error::Archive(
                bru_format::Error::CrcMismatch { .. }
                | bru_format::Error::BadChunk { .. }
                | bru_format::Error::Damaged { .. }
                | bru_format::Error::Unauthentic { .. }
                | bru_format::Error::Locked { .. }
                | bru_format::Error::WrongKey { .. },
            )
            | Error::Table { .. }
            | Error::Mismatch { .. }
            | Error::LoadedRows { .. }
            | Error::BatchShape { .. }
            | Error::MissingTotals { .. } => self,
            // The target or source said what it was doing to this very
            // table (`committing a chunk of table "t"`): said once.
            Error::Database(bru_core::Error::Engine { ref context, .. })
                if names_table(context, table) =>
            {
                self
            }
            other => Error::Table {
                doing,
                table: table.to_owned(),
                error: Box::new(other),
            },
        }
    }
}

/// Whether `text` names `table` as a whole name (bare or in double quotes),
/// not as part of a longer one: for an error line, never to decide what an
/// error is.
fn names_table(text: &str, table: &str) -> bool {
    if table.is_empty() {
        return false;
    }
    let part = |c: char| c.is_alphanumeric() || c == '_' || c == '.' || c == '$';
    text.match_indices(table).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + table.len()..].chars().next();
        !before.is_some_and(part) && !after.is_some_and(part)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(context: &str) -> Error {
        Error::Database(bru_core::Error::engine(context, "disk full"))
    }

    #[test]
    fn a_table_is_named_once() {
        let e = engine("committing a chunk of table \"public_big\"")
            .in_table("restoring", "public_big");
        assert_eq!(
            e.to_string(),
            "committing a chunk of table \"public_big\": disk full"
        );
        let e = engine("reading table public.sites").in_table("backing up", "public.sites");
        assert_eq!(e.to_string(), "reading table public.sites: disk full");
        // Another table, or a longer name, is no naming of this one.
        let e = engine("reading table public.sites2").in_table("backing up", "public.sites");
        assert_eq!(
            e.to_string(),
            "backing up table public.sites: reading table public.sites2: disk full"
        );
        let e = engine("committing a chunk").in_table("restoring", "t");
        assert_eq!(
            e.to_string(),
            "restoring table t: committing a chunk: disk full"
        );
    }
}
