//! `bru`: the command-line front end.
//!
//! Deliberately thin: it parses arguments, picks an engine from the endpoint
//! URL, draws progress, prints summaries, and turns every error into one line
//! on stderr with a non-zero exit. All the work happens in bru-engine.

mod args;
mod demo;
mod endpoint;
mod output;
mod progress;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

use args::{Cli, Command};
use bru_engine::{BackupOptions, RestoreMode, RestoreOptions, TableFilter};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(err) => {
            // One line, the whole cause chain, no backtrace.
            eprintln!("bru: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode> {
    let out = output::Output::new(cli.global.quiet, cli.global.json);
    match &cli.command {
        Command::Backup(a) => {
            let mut source = endpoint::open_source(&a.source)?;
            let options = BackupOptions {
                filter: TableFilter::new(&a.filter.include, &a.filter.exclude)?,
                compress_level: a.compress_level,
                jobs: args::jobs(a.jobs),
                force: a.force,
                chunk_bytes: a.chunk_size.0,
                tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            };
            let progress = progress::Bars::new(out.show_progress());
            let summary = bru_engine::backup(source.as_mut(), &a.archive, &options, &progress)
                .with_context(|| format!("backup of {} failed", endpoint::redact(&a.source)))?;
            progress.clear();
            out.summary("backup", &summary)?;
        }
        Command::Restore(a) => {
            let mut target = endpoint::open_target(&a.target)?;
            let mode = if a.schema_only {
                RestoreMode::SchemaOnly
            } else if a.data_only {
                RestoreMode::DataOnly
            } else {
                RestoreMode::Full
            };
            let options = RestoreOptions {
                filter: TableFilter::new(&a.filter.include, &a.filter.exclude)?,
                mode,
                clean: a.clean,
                jobs: args::jobs(a.jobs),
            };
            let progress = progress::Bars::new(out.show_progress());
            let summary = bru_engine::restore(&a.archive, target.as_mut(), &options, &progress)
                .with_context(|| format!("restore into {} failed", endpoint::redact(&a.target)))?;
            progress.clear();
            out.summary("restore", &summary)?;
        }
        Command::Verify(a) => {
            let progress = progress::Bars::new(out.show_progress());
            let report = bru_engine::verify(&a.archive, args::jobs(a.jobs), &progress)
                .with_context(|| format!("verify of {} failed", a.archive.display()))?;
            progress.clear();
            out.verified(&a.archive, &report)?;
        }
        Command::List(a) => {
            let listing = bru_engine::list(&a.archive)?;
            out.listing(&listing)?;
        }
        Command::Demo(a) => demo::run(a, &out)?,
    }
    Ok(ExitCode::SUCCESS)
}
