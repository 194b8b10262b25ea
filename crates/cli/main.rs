//! `bru`: the command-line front end.
//!
//! Deliberately thin: it parses arguments, picks an engine from the endpoint
//! URL, draws progress, prints summaries, and turns every error into one line
//! on stderr with a non-zero exit. All the work happens in bru-engine.

mod args;
#[cfg(feature = "demo")]
mod demo;
mod endpoint;
mod generate;
mod interrupt;
mod keys;
mod output;
mod password;
mod progress;
mod prompt;
mod selection;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

use args::{Cli, Command};
use bru_engine::{
    BackupOptions, CastRules, CompareOptions, CompareReport, RestoreJob, RestoreMode,
    RestoreOptions, Side, TableFilter,
};

/// mimalloc instead of the system allocator: a backup or restore allocates
/// one string per text value on a reader thread and frees it on a worker
/// thread, the pattern glibc's malloc handles worst (about a fifth of bru's
/// CPU went to malloc/free in profiles of the migration benchmark).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's purge delay, in milliseconds, unless `MIMALLOC_PURGE_DELAY`
/// is in the environment: how long freed memory stays mapped for reuse
/// before it goes back to the system. mimalloc's own default (1000) keeps
/// every chunk a second after it is freed, so a backup or restore that
/// frees chunks at hundreds of MB/s holds that many; at 10 (mimalloc v2's
/// default) the peak RSS of a PostgreSQL backup and restore at `--jobs 2`
/// fell from 336 and 296 MiB to 176 and 223 MiB, with wall
/// time the same within noise (BENCHMARKS.md, "Memory (issue 16)").
const PURGE_DELAY_MS: std::ffi::c_long = 10;

/// Sets [`PURGE_DELAY_MS`] unless the user set the delay themselves.
fn set_purge_delay() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: `mi_option_set(option, value)` takes two plain integers and
    // no pointer; it ignores an option outside `0.._mi_option_last` and
    // otherwise writes that option's `long` (options.c), which mimalloc
    // reads without synchronisation. The write cannot race: this runs
    // first in `main`, before bru starts any thread, and the Rust runtime
    // starts none before `main`. The option number is checked against the
    // header's enum below.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
    }
}

/// `mi_option_purge_delay`, which libmimalloc-sys does not name: in the
/// bundled (v3) `mimalloc.h` it is the one just before
/// `mi_option_use_numa_nodes`, which it does.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
const _: () = assert!(MI_OPTION_PURGE_DELAY + 1 == libmimalloc_sys::mi_option_use_numa_nodes);

fn main() -> ExitCode {
    set_purge_delay();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help, --version, and the help that `bru` alone prints.
        Err(e)
            if !e.use_stderr()
                || e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            e.exit()
        }
        Err(e) => {
            eprintln!("bru: error: {}", one_line(&e));
            return ExitCode::from(2);
        }
    };
    interrupt::install();
    match run(&cli) {
        Ok(code) => code,
        Err(err) => {
            // One line, the whole cause chain, no backtrace.
            eprintln!("bru: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// A clap error as one line: clap's first paragraph says what is wrong
/// (the arguments missing, indented below it), and its tip (`a similar
/// argument exists: '--include'`) is kept; the usage it adds after is left
/// to --help.
fn one_line(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let mut lines = rendered.lines().map(str::trim);
    let what: Vec<&str> = lines.by_ref().take_while(|l| !l.is_empty()).collect();
    let what = what.join(" ");
    let what = what.strip_prefix("error: ").unwrap_or(&what);
    let tips: Vec<&str> = lines
        .filter_map(|l| l.strip_prefix("tip: "))
        .filter(|t| !t.contains("'--'"))
        .collect();
    let mut line = what.to_owned();
    for tip in tips {
        line += "; ";
        line += tip;
    }
    line + "; see bru --help"
}

fn run(cli: &Cli) -> Result<ExitCode> {
    let out = output::Output::new(cli.global.quiet, cli.global.json, cli.global.verbose);
    keys::install(&cli.global)?;
    match &cli.command {
        Command::Backup(a) if a.drop_slot.is_some() && a.since.is_none() => {
            let name = a.drop_slot.as_deref().unwrap_or_default();
            let source = a.dbname.as_ref().or(a.source.as_ref()).ok_or_else(|| {
                anyhow::anyhow!(
                    "backup --drop-slot NAME needs the SOURCE database the slot is in, e.g. \
                     bru backup postgres://app@db1/wfm --drop-slot {name}"
                )
            })?;
            if a.archive.is_some() || a.file.is_some() {
                anyhow::bail!(
                    "backup --drop-slot writes no archive; leave out the ARCHIVE argument"
                );
            }
            let source = with_password(source, &cli.global)?;
            let endpoint = endpoint::Endpoint::new(&source);
            let dropped = prompt::opening(&endpoint, &cli.global, |e| e.open_source())
                .and_then(|mut s| Ok(s.drop_change_slot(name)?))
                .with_context(|| format!("dropping change slot {name} of {endpoint} failed"))?;
            if !dropped {
                anyhow::bail!(
                    "{endpoint} has no change slot {name}; nothing was dropped (list the \
                     server's slots with: SELECT slot_name FROM pg_replication_slots)"
                );
            }
            out.line(&format!("dropped change slot {name} of {endpoint}"));
        }
        Command::Backup(a) => {
            let (source, archive) = backup_ends(a)?;
            let options = BackupOptions {
                filter: selection::table_filter(&a.filter)?,
                compress_level: a.compress_level,
                jobs: args::jobs(a.jobs),
                force: a.force,
                chunk_bytes: a.chunk_size.0,
                tool_version: env!("CARGO_PKG_VERSION").to_owned(),
                slot: a.slot.clone(),
                generic: a.generic,
                drop_slot: a.drop_slot.clone(),
            };
            let seal = keys::seal(a, &cli.global)?;
            let source = with_password(&source, &cli.global)?;
            let source_endpoint = endpoint::Endpoint::new(&source);
            interrupt::on_interrupt(format!(
                "{} is unfinished, and restore and verify refuse it; run the backup again \
                 with --force to replace it",
                archive.display()
            ));
            let progress = progress::Bars::new(out.show_progress(), out.verbose());
            let result = source_endpoint
                .refuse_archive(&archive, Side::Source)
                .and_then(|()| prompt::opening(&source_endpoint, &cli.global, |e| e.open_source()))
                .and_then(|mut source| {
                    Ok(match &a.since {
                        Some(since) => {
                            if !a.filter.include.is_empty() || !a.filter.exclude.is_empty() {
                                anyhow::bail!(
                                    "backup --since takes the tables of the archive it follows;                                      leave out --include/--exclude"
                                );
                            }
                            bru_engine::backup_delta_sealed(
                                source.as_mut(),
                                &archive,
                                since,
                                &options,
                                seal.as_ref(),
                                &progress,
                            )?
                        }
                        None => bru_engine::backup_sealed(
                            source.as_mut(),
                            &archive,
                            &options,
                            seal.as_ref(),
                            &progress,
                        )?,
                    })
                });
            progress.clear();
            let result = result.with_context(|| format!("backup of {source_endpoint} failed"));
            output::write_summary_json(a.summary_json.as_deref(), "backup", &result)?;
            let summary = result?;
            out.summary("backup", &summary)?;
            if let (Some(_), Some(name)) = (&a.since, &a.drop_slot) {
                // A slot not dropped is in the summary's skipped lines.
                let prefix = format!("change slot {name}:");
                if !summary.skipped.iter().any(|s| s.starts_with(&prefix)) {
                    out.line(&format!(
                        "dropped change slot {name} of {source_endpoint}: the chain ends with {}",
                        archive.display()
                    ));
                }
            }
        }
        Command::Restore(a) if a.list => {
            let toc = bru_engine::toc(&a.archive)?;
            out.toc(&a.archive, &toc)?;
        }
        Command::Restore(a) => {
            let target = a.target.as_ref().or(a.dbname.as_ref()).ok_or_else(|| {
                anyhow::anyhow!(
                    "restore needs a TARGET database after the archive (or -d TARGET), \
                     e.g. sqlite://restored.sqlite; -l lists the archive instead"
                )
            })?;
            restore(a, &with_password(target, &cli.global)?, &cli.global, &out)?
        }
        Command::Verify(a) if a.against.is_some() => return verify_against(a, cli, &out),
        Command::Compare(a) => return compare(a, cli, &out),
        Command::Verify(a) => {
            if !a.filter.include.is_empty() || !a.filter.exclude.is_empty() {
                anyhow::bail!(
                    "--include and --exclude choose the tables of bru verify --against URL; \
                     bru verify ARCHIVE alone checks every table of the archive"
                );
            }
            let progress = progress::Bars::new(out.show_progress(), out.verbose());
            let report =
                bru_engine::verify(&a.archive, args::jobs(a.jobs), endpoint::ENGINES, &progress)
                    .with_context(|| format!("verify of {} failed", a.archive.display()))?;
            progress.clear();
            out.verified(&a.archive, &report)?;
        }
        Command::List(a) => {
            let listing = bru_engine::list(&a.archive)?;
            out.listing(&listing)?;
        }
        Command::Keygen(a) => {
            let recipient = keys::keygen(a)?;
            out.line(&format!(
                "wrote {}; its recipient (give it to bru backup --recipient): {recipient}",
                a.file.display()
            ));
        }
        #[cfg(feature = "demo")]
        Command::Demo(a) => demo::run(a, &out)?,
        Command::Completions(a) => generate::completions(a.shell),
        Command::Man(a) => generate::man(a.command.as_deref())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The source and the archive of `bru backup`: `-d SOURCE` and `-f ARCHIVE`
/// (pg_dump's), or the positional arguments in that order for what they do
/// not give. Refuses pg_dump's -s, -a and -c, which a bru backup has no
/// use for, saying what to do instead.
fn backup_ends(a: &args::BackupArgs) -> Result<(String, std::path::PathBuf)> {
    if a.schema_only || a.data_only || a.clean {
        let flag = if a.schema_only {
            "-s/--schema-only"
        } else if a.data_only {
            "-a/--data-only"
        } else {
            "-c/--clean"
        };
        anyhow::bail!(
            "backup {flag}: a bru archive always holds the whole schema and every row; \
             back up without {flag} and give it to the restore (bru restore {flag} ARCHIVE TARGET)"
        );
    }
    let mut positional = a
        .source
        .iter()
        .cloned()
        .chain(a.archive.iter().map(|p| p.display().to_string()));
    let source = match &a.dbname {
        Some(d) => d.clone(),
        None => positional.next().ok_or_else(|| {
            anyhow::anyhow!(
                "backup needs <SOURCE> and <ARCHIVE> (or -d SOURCE and -f ARCHIVE), \
                 e.g. bru backup sqlite://wfm.sqlite wfm.db"
            )
        })?,
    };
    let archive = match &a.file {
        Some(f) => f.clone(),
        None => positional.next().map(Into::into).ok_or_else(|| {
            anyhow::anyhow!("backup needs <ARCHIVE>, the file to write, after <SOURCE> (or -f ARCHIVE), e.g. wfm.db")
        })?,
    };
    if let Some(extra) = positional.next() {
        anyhow::bail!(
            "backup takes one SOURCE and one ARCHIVE; {extra:?} is one too many \
             (with -d or -f, leave that one out of the positional arguments)"
        );
    }
    Ok((source, archive))
}

/// The exit code of a compare that found differences (0: everything
/// matches; 1: an error, as for every command; 2: bad arguments).
const EXIT_DIFFERS: u8 = 3;

fn compare_options(
    filter: &args::Filter,
    jobs: Option<usize>,
    max_diffs: usize,
) -> Result<CompareOptions> {
    Ok(CompareOptions {
        filter: TableFilter::new(&filter.include, &filter.exclude)?,
        jobs: args::jobs(jobs),
        max_diffs,
    })
}

/// The exit code for a finished compare.
fn compared(report: &CompareReport, out: &output::Output) -> Result<ExitCode> {
    out.compared(report)?;
    Ok(if report.matches() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_DIFFERS)
    })
}

/// `bru verify ARCHIVE --against URL`.
fn verify_against(a: &args::VerifyArgs, cli: &Cli, out: &output::Output) -> Result<ExitCode> {
    if bru_engine::is_delta(&a.archive)? {
        anyhow::bail!(
            "{} is a delta archive, which holds only the rows that changed: verify --against \
             needs the full archive; after applying the deltas, compare the databases with \
             bru compare SOURCE TARGET",
            a.archive.display()
        );
    }
    let url = with_password(a.against.as_deref().unwrap_or_default(), &cli.global)?;
    let database = endpoint::Endpoint::new(&url);
    let options = compare_options(&a.filter, a.jobs, a.max_diffs)?;
    let progress = progress::Bars::new(out.show_progress(), out.verbose());
    let result = database.open_source().and_then(|source| {
        Ok(bru_engine::verify_against(
            &a.archive,
            source,
            &database.to_string(),
            &options,
            &progress,
        )?)
    });
    progress.clear();
    let report = result.with_context(|| {
        format!(
            "verify of {} against {database} failed",
            a.archive.display()
        )
    })?;
    compared(&report, out)
}

/// `bru compare A B`.
fn compare(a: &args::CompareArgs, cli: &Cli, out: &output::Output) -> Result<ExitCode> {
    let side_a = endpoint::Endpoint::new(&with_password(&a.a, &cli.global)?);
    let side_b = endpoint::Endpoint::new(&with_password(&a.b, &cli.global)?);
    let options = compare_options(&a.filter, a.jobs, a.max_diffs)?;
    let progress = progress::Bars::new(out.show_progress(), out.verbose());
    let result = side_a.open_source().and_then(|source_a| {
        let source_b = side_b.open_source()?;
        Ok(bru_engine::compare_databases(
            source_a,
            &side_a.to_string(),
            source_b,
            &side_b.to_string(),
            &options,
            &progress,
        )?)
    });
    progress.clear();
    let report = result.with_context(|| format!("compare of {side_a} with {side_b} failed"))?;
    compared(&report, out)
}

/// `endpoint` with the password of `--password-file`, if given.
fn with_password(endpoint: &str, global: &args::Global) -> Result<String> {
    match &global.password_file {
        Some(file) => password::apply(endpoint, &password::read(file)?),
        None => Ok(endpoint.to_owned()),
    }
}

/// The `--cast` rules, then those of each `--cast-file`.
fn cast_rules(a: &args::RestoreArgs) -> Result<CastRules> {
    let mut rules = CastRules::new(&a.cast)?;
    for path in &a.cast_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the --cast-file {}", path.display()))?;
        rules.add_file(path, &text)?;
    }
    Ok(rules)
}

/// `bru restore`: the archive is opened, checked and planned before the
/// target is opened, so `--dry-run` and a bad archive leave the target alone
/// (`--dry-run --clean` opens it only to list what would be dropped);
/// the files a new target would create (a new SQLite database) are removed
/// again when the restore failed to write anything into them.
fn restore(
    a: &args::RestoreArgs,
    target_raw: &str,
    global: &args::Global,
    out: &output::Output,
) -> Result<()> {
    if a.single_transaction {
        anyhow::bail!(
            "restore -1/--single-transaction: bru cannot restore in one transaction, since it \
             commits every chunk with its journal entry (with several sessions), so that an \
             interrupted restore continues with --resume instead of starting over; leave -1 \
             out, and use --clean to start over after a failed restore"
        );
    }
    let mut filter = selection::table_filter(&a.filter)?;
    if let Some(file) = &a.use_list {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the --use-list file {}", file.display()))?;
        let toc = bru_engine::toc(&a.archive)?;
        filter = filter.with_list(toc.selection(file, &text)?);
    }
    let mode = if a.schema_only {
        RestoreMode::SchemaOnly
    } else if a.data_only {
        RestoreMode::DataOnly
    } else {
        RestoreMode::Full
    };
    let options = RestoreOptions {
        filter,
        mode,
        clean: a.clean,
        jobs: args::jobs(a.jobs),
        resume: a.resume,
        no_owner: a.no_owner,
        no_privileges: a.no_privileges,
        system_privileges: a.system_privileges,
        schema_prefix: a.schema_prefix,
        casts: cast_rules(a)?,
        // Known from the URL before the target is opened, so that the plan
        // (and --dry-run) has the translations into its SQL.
        target_engine: endpoint::engine(target_raw)
            .ok()
            .map(|e| e.name().to_owned()),
    };
    let target = endpoint::Endpoint::new(target_raw);
    let failed = || format!("restore into {target} failed");
    if bru_engine::is_delta(&a.archive).with_context(failed)? {
        return apply_delta(a, &target, global, out);
    }
    let job = RestoreJob::open(&a.archive, &options, endpoint::ENGINES).with_context(failed)?;
    if a.dry_run {
        // With --clean, what would be dropped, from a target opened only to
        // look (a missing SQLite file is not created: nothing to drop).
        let dropped = if a.clean {
            let inspected = endpoint::engine(target_raw)?
                .inspect_target(target_raw)
                .with_context(failed)?;
            Some(match inspected {
                Some(mut target) => job.clean_plan(target.as_mut()).with_context(failed)?,
                None => Vec::new(),
            })
        } else {
            None
        };
        return out.plan(&a.archive, &job, dropped.as_deref());
    }
    target
        .refuse_archive(&a.archive, Side::Target)
        .with_context(failed)?;
    let new_files = target.new_target_files()?;
    interrupt::on_interrupt(
        "what was restored so far is kept: run the same restore with --resume to continue, \
         or with --clean to start over",
    );
    let progress = progress::Bars::new(out.show_progress(), out.verbose());
    let result = prompt::opening(&target, global, |t| t.open_target()).and_then(|mut target| {
        let summary = job.run(target.as_mut(), &progress)?;
        Ok(summary)
    });
    progress.clear();
    if result.is_err() && !job.wrote_to_target() {
        // Nothing was written: do not leave an empty database behind.
        for leftover in &new_files {
            let _ = std::fs::remove_file(leftover);
        }
    }
    let result = result.with_context(failed).map_err(|e| {
        if job.can_resume() {
            anyhow::anyhow!(
                "{e:#}; what was restored is kept: run the same restore with --resume \
                 to continue, or with --clean to start over"
            )
        } else {
            e
        }
    });
    output::write_summary_json(a.summary_json.as_deref(), "restore", &result)?;
    out.summary("restore", &result?)
}

/// `bru restore DELTA TARGET`: the chain is checked in the target's
/// journal, the changed tables are read from the target (a source opened
/// on it) and checked, then the delta is written (module docs of
/// `bru_engine::DeltaApply`).
fn apply_delta(
    a: &args::RestoreArgs,
    target: &endpoint::Endpoint,
    global: &args::Global,
    out: &output::Output,
) -> Result<()> {
    let failed = || format!("applying delta {} to {target} failed", a.archive.display());
    let refused = [
        (a.clean, "--clean"),
        (a.schema_only, "--schema-only"),
        (a.data_only, "--data-only"),
        (
            !a.filter.include.is_empty() || !a.filter.exclude.is_empty(),
            "--include/--exclude",
        ),
        (a.use_list.is_some(), "--use-list"),
        (!a.cast.is_empty() || !a.cast_file.is_empty(), "--cast"),
        (a.schema_prefix, "--schema-prefix"),
    ];
    if let Some((_, flag)) = refused.iter().find(|(on, _)| *on) {
        anyhow::bail!(
            "{flag} does not apply to a delta archive, which changes the rows of the tables the              full archive restored; leave it out"
        );
    }
    let apply = bru_engine::DeltaApply::open(&a.archive, endpoint::ENGINES).with_context(failed)?;
    if a.dry_run {
        let chain = apply.chain();
        println!(
            "delta {} (position {} of the chain from archive {}, taken against archive {})",
            a.archive.display(),
            chain.position,
            chain.chain_root_id,
            chain.base_archive_id
        );
        for (table, what, rows) in apply.plan() {
            println!("table {table}: {rows} rows ({what})");
        }
        return Ok(());
    }
    target
        .refuse_archive(&a.archive, Side::Target)
        .with_context(failed)?;
    if !target.new_target_files()?.is_empty() {
        anyhow::bail!(
            "{}: the target does not exist; restore the full archive of this chain into it first",
            failed()
        );
    }
    let engine = target.engine()?.name().to_owned();
    if !matches!(engine.as_str(), "sqlite" | "postgres") {
        anyhow::bail!(
            "{}: applying a delta archive into {engine} is not supported yet (SQLite and \
             PostgreSQL targets are); restore a new full backup instead",
            failed()
        );
    }
    interrupt::on_interrupt(
        "the delta is not fully applied: run the same restore again (or with --resume) to          finish it",
    );
    let progress = progress::Bars::new(out.show_progress(), out.verbose());
    // The target is opened twice: to write (and read its journal), and as
    // a source, to read the changed tables, which is closed before anything
    // is written.
    let result = prompt::opening(target, global, |t| Ok((t.open_target()?, t.open_source()?)))
        .and_then(|(mut sink, mut reader)| {
            let keys = match sink.journal() {
                Some(j) => j.keys()?,
                None => None,
            };
            let check = apply.check_chain(keys.as_deref())?;
            let scanned = apply.scan(reader.as_mut(), &engine, check.verified)?;
            drop(reader);
            Ok(apply.write(sink.as_mut(), &scanned, &check, &progress)?)
        });
    progress.clear();
    let result = result.with_context(failed);
    output::write_summary_json(a.summary_json.as_deref(), "restore", &result)?;
    let summary = result?;
    for t in &summary.tables {
        if t.rows_deleted > 0 {
            out.line(&format!(
                "table {}: {} rows deleted or re-keyed at the source",
                t.table, t.rows_deleted
            ));
        }
    }
    out.summary("restore", &summary)
}
