//! Command-line arguments. The shapes here are the public interface that
//! scripts and later checks call, so they change only by addition.

use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand};

/// `--chunk-size`'s default. 2 MiB rather than the 4 MiB archives recorded
/// before (`bru_format::DEFAULT_CHUNK_BYTES`, still what a reader assumes of
/// an archive that records none): at `--jobs 2` on the WFM dataset it cut
/// the peak RSS of a PostgreSQL backup from 173 to 129 MiB and of a restore
/// from 181 to 122 MiB (at `--jobs 4`: 284 to 180 and 318 to 215 MiB), at
/// the same wall time, for an archive 0.3 % larger (BENCHMARKS.md,
/// "Memory (issue 16)"). Smaller chunks compress worse: 1 MiB made it 5 %
/// larger.
pub const DEFAULT_CHUNK_SIZE: &str = "2MiB";
/// [`DEFAULT_CHUNK_SIZE`] in bytes.
pub const DEFAULT_CHUNK_BYTES: usize = 2 << 20;

/// The endpoint forms every engine of this build takes, for the help texts.
pub const ENDPOINTS: &str = "\
Endpoints (SOURCE and TARGET):
  sqlite://PATH                         a SQLite file, e.g. sqlite:///srv/data/wfm.sqlite
                                        or sqlite://./wfm.sqlite (relative)
  postgres://USER@HOST:PORT/DB          PostgreSQL (also postgresql://, or a libpq
                                        key=value string), e.g. postgres://app@db1/wfm;
                                        the password from the URL, PGPASSWORD, ~/.pgpass,
                                        --password-file, or a prompt on a terminal
  mssql://USER@HOST:PORT/DB             SQL Server (also sqlserver://),
                                        e.g. mssql://sa@localhost:1433/wfm
pg_dump/pg_restore habits work: -t/-T, -n/-N, -a/-s, -c, -j, -f, -l/-L, --filter FILE.";

#[derive(Debug, Parser)]
#[command(
    name = "bru",
    version,
    about = "Back up a database into one archive file, verify it, and restore it",
    long_about = None,
    after_help = ENDPOINTS
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// No progress and no summary; errors are still printed.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Print the summary as JSON on stdout, for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    /// Read the database password from the first line of FILE (for an
    /// endpoint that has none), so that it is on no command line.
    #[arg(long, global = true, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Ask for the password on the terminal before connecting (as pg_dump
    /// -W). Without it bru asks only when the server wants a password and
    /// none was given.
    #[arg(
        long = "password",
        short = 'W',
        global = true,
        conflicts_with = "no_password"
    )]
    pub force_password: bool,
    /// Never ask for a password (as pg_dump -w): fail instead.
    #[arg(long, short = 'w', global = true)]
    pub no_password: bool,
    /// Also log each phase and each table done on stderr, from the start.
    #[arg(long, short, global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// An age identity file (AGE-SECRET-KEY-1…, see bru keygen): opens
    /// encrypted archives, and `backup --encrypt` encrypts to it.
    #[arg(long, global = true, value_name = "FILE")]
    pub key_file: Vec<PathBuf>,
    /// An age identity file that opens encrypted archives (repeatable); unlike
    /// --key-file, backup does not encrypt to it.
    #[arg(long, global = true, value_name = "FILE")]
    pub identity: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Back up SOURCE (sqlite://PATH, postgres://USER@HOST/DB,
    /// mssql://USER@HOST/DB) into a new ARCHIVE file.
    #[command(after_help = ENDPOINTS)]
    Backup(BackupArgs),
    /// Restore ARCHIVE into TARGET (sqlite://PATH, postgres://USER@HOST/DB,
    /// mssql://USER@HOST/DB), or list what it holds (-l).
    #[command(after_help = ENDPOINTS)]
    Restore(RestoreArgs),
    /// Check every chunk, row count and table checksum of ARCHIVE; with
    /// --against URL, compare a live database with ARCHIVE instead.
    Verify(VerifyArgs),
    /// Compare two live databases (the source and the target of a
    /// migration, of any engines): tables, definitions and rows, naming the
    /// differing keys. Exit 0: everything matches; 3: differences found;
    /// 1: an error.
    Compare(CompareArgs),
    /// Show what ARCHIVE holds: source, state and per-table sizes.
    List(ListArgs),
    /// Generate a sample SQLite database, then back it up, list, verify and restore it.
    #[cfg(feature = "demo")]
    Demo(DemoArgs),
    /// Write a new age identity file for encrypted archives, and print its
    /// recipient (age1…)
    Keygen(KeygenArgs),
    /// Print a shell completion script: bash, zsh, fish, powershell or elvish.
    Completions(CompletionsArgs),
    /// Print bru's man page (roff), e.g. `bru man > bru.1; man ./bru.1`.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct Filter {
    /// Only tables matching PATTERN; repeatable. Patterns are pg_dump's -t
    /// patterns: `schema.table` or `table` (in any schema; SQLite's tables
    /// are in `main`), `*` and `?` not crossing the dot, unquoted letters
    /// folded to lower case, "double quotes" keeping case (SQLite names
    /// match without regard to case). Each pattern must match a table.
    #[arg(long, short = 't', visible_alias = "table", value_name = "PATTERN")]
    pub include: Vec<String>,
    /// Skip tables matching PATTERN (as --include); repeatable. Views and
    /// other objects over a skipped table are skipped too, and listed.
    #[arg(
        long,
        short = 'T',
        visible_alias = "exclude-table",
        value_name = "PATTERN"
    )]
    pub exclude: Vec<String>,
    /// Only the tables of schemas matching PATTERN (as pg_dump -n; the same
    /// as --include 'PATTERN.*'); repeatable. Other objects follow their
    /// tables as with --include.
    #[arg(long, short = 'n', value_name = "PATTERN")]
    pub schema: Vec<String>,
    /// Skip the tables of schemas matching PATTERN (as pg_dump -N; the same
    /// as --exclude 'PATTERN.*'); repeatable.
    #[arg(long, short = 'N', value_name = "PATTERN")]
    pub exclude_schema: Vec<String>,
    /// Read include/exclude lines from FILE, in pg_dump 17's --filter
    /// format: `include table PATTERN`, `exclude schema PATTERN`, `#`
    /// comments (repeatable). Other object types are refused by name.
    #[arg(long = "filter", value_name = "FILE")]
    pub filter_file: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The database to back up, e.g. sqlite:///srv/data/wfm.sqlite or
    /// postgres://app@db1/wfm (or give it as -d).
    pub source: Option<String>,
    /// The archive file to write (conventionally *.db; or give it as -f).
    pub archive: Option<PathBuf>,
    /// The database to back up, as pg_dump -d (instead of SOURCE).
    #[arg(long, short = 'd', value_name = "SOURCE")]
    pub dbname: Option<String>,
    /// The archive file to write, as pg_dump -f (instead of ARCHIVE).
    #[arg(long, short = 'f', value_name = "ARCHIVE")]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub filter: Filter,
    /// zstd compression level (1-22).
    #[arg(long, short = 'Z', default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=22))]
    pub compress_level: i32,
    /// Worker threads (default: number of cores).
    #[arg(long, short, value_parser = positive)]
    pub jobs: Option<usize>,
    /// Overwrite ARCHIVE if it exists.
    #[arg(long)]
    pub force: bool,
    /// Target chunk size before compression, e.g. 2MiB, 512KiB.
    #[arg(long, default_value = DEFAULT_CHUNK_SIZE)]
    pub chunk_size: ByteSize,
    /// Also write the per-table summary as JSON to FILE (even on failure).
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
    /// Write a delta archive: only what changed in SOURCE since the archive
    /// PREVIOUS (the full archive, or the chain's latest delta). Restore
    /// the full archive, then each delta in order (README, "Two-step
    /// migration").
    #[arg(long, value_name = "PREVIOUS")]
    pub since: Option<PathBuf>,
    /// A full backup of PostgreSQL with wal_level = logical: create the
    /// logical replication slot NAME first, so that the deltas of this
    /// archive read the changed keys from it instead of every table. Drop
    /// it after the migration with --drop-slot.
    #[arg(long, value_name = "NAME", conflicts_with = "since")]
    pub slot: Option<String>,
    /// A delta: compare every table (the generic method) even when the
    /// chain has a change slot.
    #[arg(long, requires = "since")]
    pub generic: bool,
    /// Drop the change slot NAME from SOURCE and write no archive (after
    /// the migration). With --since: this delta is the chain's last; once
    /// it is complete, drop the chain's slot NAME instead of moving it on
    /// (at the cut-over, that saves decoding its changes a second time).
    #[arg(long, value_name = "NAME", conflicts_with = "slot")]
    pub drop_slot: Option<String>,
    /// pg_dump's -s: refused, a bru archive always holds schema and rows
    /// (restore with -s instead).
    #[arg(long, short = 's', hide = true)]
    pub schema_only: bool,
    /// pg_dump's -a: refused, as -s.
    #[arg(long, short = 'a', hide = true)]
    pub data_only: bool,
    /// pg_dump's -c: refused, dropping is the restore's (restore -c).
    #[arg(long, short = 'c', hide = true)]
    pub clean: bool,
    /// Encrypt and authenticate the archive: for --recipient, --key-file, or
    /// else the passphrase in BRU_PASSPHRASE or typed on the terminal.
    #[arg(long)]
    pub encrypt: bool,
    /// Encrypt the rows only: table names, row counts and definitions stay
    /// readable without the key (still authenticated). Implies --encrypt.
    #[arg(long)]
    pub encrypt_data_only: bool,
    /// Encrypt to this age recipient (age1…), a public key: the backup host
    /// then cannot decrypt. Repeatable; implies --encrypt.
    #[arg(long, value_name = "AGE1…")]
    pub recipient: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The archive to restore.
    pub archive: PathBuf,
    /// The database to restore into, e.g. sqlite:///srv/data/restored.sqlite
    /// or postgres://app@db1/wfm (or give it as -d).
    pub target: Option<String>,
    /// The database to restore into, as pg_restore -d (instead of TARGET).
    #[arg(long, short = 'd', value_name = "TARGET", conflicts_with = "target")]
    pub dbname: Option<String>,
    #[command(flatten)]
    pub filter: Filter,
    /// Print the archive's table of contents, one entry a line, and restore
    /// nothing (as pg_restore -l). Edit it and give it back with -L.
    #[arg(long, short = 'l', conflicts_with_all = ["use_list", "dry_run"])]
    pub list: bool,
    /// Restore only the entries of FILE, a table of contents printed by -l
    /// with lines deleted or commented out with `;` (as pg_restore -L).
    /// What depends on a left-out entry is left out too, and listed. The
    /// order of the lines does not matter: bru orders the restore itself.
    #[arg(long, short = 'L', value_name = "FILE")]
    pub use_list: Option<PathBuf>,
    /// Create tables, indexes and objects, but load no rows.
    #[arg(long, short = 's', conflicts_with = "data_only")]
    pub schema_only: bool,
    /// Load rows into tables that already exist.
    #[arg(long, short = 'a')]
    pub data_only: bool,
    /// Drop the archive's tables and objects that the target already holds,
    /// and what the target records as depending on them, listing each drop
    /// (and the journal of an unfinished restore).
    #[arg(long, short = 'c', conflicts_with = "resume")]
    pub clean: bool,
    /// With --clean: drop only what exists, which is what --clean always
    /// does (accepted for pg_restore's habit).
    #[arg(long, requires = "clean")]
    pub if_exists: bool,
    /// pg_restore's -1: refused, since bru commits every chunk with its
    /// journal entry so that an interrupted restore continues (--resume).
    #[arg(long, short = '1')]
    pub single_transaction: bool,
    /// Stop at the first error: what bru always does (accepted for
    /// pg_restore's habit).
    #[arg(long, short = 'e')]
    pub exit_on_error: bool,
    /// Worker threads and target sessions (default: number of cores; unlike
    /// pg_restore's 1, as each session loads its own tables or ranges of a
    /// big table, and every chunk commits on its own, so more sessions only
    /// load faster; use -j 1 to keep the target's load low).
    #[arg(long, short, value_parser = positive)]
    pub jobs: Option<usize>,
    /// Continue a restore into TARGET that stopped before it finished. On a
    /// target whose restore finished (no journal left, every table of the
    /// archive there) it says there is nothing to resume and does nothing.
    #[arg(long)]
    pub resume: bool,
    /// Do not give objects their original owners (PostgreSQL): everything
    /// is owned by the user the restore connects as.
    #[arg(long, short = 'O')]
    pub no_owner: bool,
    /// Do not restore privileges (GRANT/REVOKE) (PostgreSQL).
    #[arg(long, short = 'x', visible_alias = "no-acl")]
    pub no_privileges: bool,
    /// Also apply the archive's grants and revokes on the database system's
    /// own objects (PostgreSQL: schemas public and pg_catalog, pg_catalog's
    /// tables, their columns and its functions, language sql), as
    /// pg_restore does. They change objects the archive does
    /// not create, so without this they are listed as skipped.
    #[arg(long, conflicts_with = "no_privileges")]
    pub system_privileges: bool,
    /// Restore table SCHEMA.NAME as SCHEMA_NAME (its indexes and the foreign
    /// keys to it too), for a target with one namespace (SQLite) that cannot
    /// hold two tables of one name from two schemas. Views and triggers
    /// whose SQL names a renamed table are skipped and listed.
    #[arg(long)]
    pub schema_prefix: bool,
    /// Convert values the target cannot hold as they are, only where asked
    /// (repeatable). RULE is [SCHEMA.]TABLE.COLUMN=timestamptz (create a
    /// timestamp column as timestamp with time zone, so UTC offsets keep
    /// their instant), [SCHEMA.]TABLE.COLUMN:timestamp-offset=utc (store a
    /// timestamp text with a UTC offset as the time in UTC), or
    /// [SCHEMA.]TABLE.COLUMN:float-negative-zero=zero (store -0.0 as 0).
    /// Names are the archive's, as patterns like --include (`*.*`,
    /// `audit_*.at`, "Quoted"). A rule that applies to no column is an
    /// error; the summary counts what each rule converted, and a refused
    /// value names the rule that would accept it.
    #[arg(long, value_name = "RULE")]
    pub cast: Vec<String>,
    /// Read --cast rules from FILE: one rule per line, `#` comments
    /// (repeatable).
    #[arg(long, value_name = "FILE")]
    pub cast_file: Vec<PathBuf>,
    /// Print the restore plan (steps, dependencies, sizes; with --clean, what
    /// would be dropped) and touch nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also write the per-table summary as JSON to FILE (even on failure).
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The archive to check.
    pub archive: PathBuf,
    /// Compare the live database URL with ARCHIVE (its tables, definitions
    /// and rows, by the checksums the archive recorded) instead of checking
    /// the archive's chunks. Exit 0: everything matches; 3: differences
    /// found; 1: an error.
    #[arg(long, value_name = "URL")]
    pub against: Option<String>,
    #[command(flatten)]
    pub filter: Filter,
    /// With --against: the most differing keys named per table.
    #[arg(long, value_name = "N", default_value_t = 20, requires = "against")]
    pub max_diffs: usize,
    /// Worker threads (default: number of cores); with --against, readers
    /// of the database's snapshot.
    #[arg(long, short, value_parser = positive)]
    pub jobs: Option<usize>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Side A, the source of the migration (sqlite://PATH, postgres://..., mssql://...).
    pub a: String,
    /// Side B, its target.
    pub b: String,
    #[command(flatten)]
    pub filter: Filter,
    /// The most differing keys named per table.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_diffs: usize,
    /// Readers of each side's snapshot (default: number of cores).
    #[arg(long, short, value_parser = positive)]
    pub jobs: Option<usize>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The archive to list (`--json` prints the listing as JSON).
    pub archive: PathBuf,
}

#[cfg(feature = "demo")]
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory for the sample database, archive and restored copy.
    #[arg(long, default_value = "bru-demo")]
    pub dir: PathBuf,
    /// Sample size: 1 is about 100k rows.
    #[arg(long, default_value_t = 1)]
    pub scale: u32,
    /// Seed of the sample generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The key file to write (mode 0600); keep it away from the archives
    pub file: PathBuf,
    /// Replace an existing file
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for, e.g. `bru completions bash >
    /// /etc/bash_completion.d/bru`.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The page of one command (bru-backup(1)…) instead of bru(1).
    pub command: Option<String>,
}

/// The most `--jobs` takes: each job is a thread and a database session,
/// and far more of them than cores only waits (`--jobs 100000` never got
/// to its first row).
const MAX_JOBS: usize = 256;

/// `--jobs N`: a whole number of at least 1 (0 would run nothing) and at
/// most [`MAX_JOBS`].
fn positive(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("0 workers would do nothing; use 1 or more (default: one per core)".into()),
        Ok(n) if n > MAX_JOBS => Err(format!(
            "{n} workers are more than bru runs; use at most {MAX_JOBS} (default: one per core)"
        )),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a number of workers; use 1 or more")),
    }
}

/// `--jobs`, defaulting to the number of cores.
pub fn jobs(requested: Option<usize>) -> usize {
    requested
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// A size in bytes written with an optional unit: 4MiB, 512KiB, 1GiB, 65536.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub usize);

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: usize = num
            .parse()
            .map_err(|_| format!("{s:?} is not a size like 4MiB or 65536"))?;
        let mult: usize = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" | "kib" => 1 << 10,
            "m" | "mb" | "mib" => 1 << 20,
            "g" | "gb" | "gib" => 1 << 30,
            other => {
                return Err(format!(
                    "unknown size unit {other:?} in {s:?}; use KiB, MiB or GiB"
                ))
            }
        };
        let bytes = n
            .checked_mul(mult)
            .ok_or_else(|| format!("size {s:?} is too large"))?;
        if bytes < 1024 {
            return Err(format!("chunk size {s:?} is too small; use at least 1KiB"));
        }
        Ok(ByteSize(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes() {
        assert_eq!("4MiB".parse::<ByteSize>().unwrap().0, 4 << 20);
        assert_eq!("512k".parse::<ByteSize>().unwrap().0, 512 << 10);
        assert_eq!("65536".parse::<ByteSize>().unwrap().0, 65536);
        assert!("12".parse::<ByteSize>().is_err());
        assert!("4XB".parse::<ByteSize>().is_err());
        assert!("MiB".parse::<ByteSize>().is_err());
        assert_eq!(
            DEFAULT_CHUNK_SIZE.parse::<ByteSize>().unwrap().0,
            DEFAULT_CHUNK_BYTES
        );
    }

    #[test]
    fn cli_shape_is_valid() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
