//! `bru demo`: the whole loop on the embedded default, in one command.
//!
//! Generates a seeded WFM-like SQLite database, backs it up, lists and
//! verifies the archive, restores it into a new file, and then proves the
//! restore by recomputing every table's checksum from the restored database
//! and comparing it with the checksum recorded in the archive
//! ([`bru_engine::compare`]).

use std::path::Path;

use anyhow::{Context, Result};
use bru_engine::{BackupOptions, RestoreMode, RestoreOptions, TableFilter};
use bru_sqlite::{SqliteSource, SqliteTarget};

use crate::args::{jobs, DemoArgs};
use crate::output::Output;
use crate::progress::Bars;

pub fn run(args: &DemoArgs, out: &Output) -> Result<()> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create demo directory {}", args.dir.display()))?;
    let source = args.dir.join("wfm.sqlite");
    let archive = args.dir.join("wfm.db");
    let restored = args.dir.join("restored.sqlite");
    // The demo owns these three files; start from scratch each time.
    for f in [&source, &restored] {
        remove_if_exists(f)?;
    }

    out.line(&format!(
        "1. generating a WFM-like SQLite database at scale {} (seed {}): {}",
        args.scale,
        args.seed,
        source.display()
    ));
    let stats = bru_fixtures::generate(&source, args.scale, args.seed)
        .with_context(|| format!("cannot generate {}", source.display()))?;
    let rows: u64 = stats.tables.iter().map(|(_, n)| n).sum();
    out.line(&format!(
        "   {} tables, {rows} rows, {:.1} MB",
        stats.tables.len(),
        stats.file_bytes as f64 / 1e6
    ));

    out.line(&format!(
        "\n2. bru backup sqlite://{} {}",
        source.display(),
        archive.display()
    ));
    let all = TableFilter::new(&[], &[])?;
    let mut src = SqliteSource::open(&source)?;
    let bars = Bars::new(out.show_progress(), out.verbose());
    let summary = bru_engine::backup(
        &mut src,
        &archive,
        &BackupOptions {
            filter: all.clone(),
            compress_level: bru_format::DEFAULT_COMPRESS_LEVEL,
            jobs: jobs(None),
            force: true,
            chunk_bytes: crate::args::DEFAULT_CHUNK_BYTES,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            slot: None,
            generic: false,
            drop_slot: None,
        },
        &bars,
    )?;
    bars.clear();
    drop(src);
    out.summary("backup", &summary)?;
    let archive_bytes = std::fs::metadata(&archive)?.len();
    out.line(&format!(
        "   archive {:.1} MB for a {:.1} MB database ({:.0}%)",
        archive_bytes as f64 / 1e6,
        stats.file_bytes as f64 / 1e6,
        100.0 * archive_bytes as f64 / stats.file_bytes.max(1) as f64
    ));

    out.line(&format!("\n3. bru list {}", archive.display()));
    let listing = bru_engine::list(&archive)?;
    if !out.is_quiet() {
        out.listing(&listing)?;
    }

    out.line(&format!("\n4. bru verify {}", archive.display()));
    let bars = Bars::new(out.show_progress(), out.verbose());
    let report = bru_engine::verify(&archive, jobs(None), crate::endpoint::ENGINES, &bars)?;
    bars.clear();
    out.verified(&archive, &report)?;

    out.line(&format!(
        "\n5. bru restore {} sqlite://{}",
        archive.display(),
        restored.display()
    ));
    let mut target = SqliteTarget::open(&restored)?;
    let bars = Bars::new(out.show_progress(), out.verbose());
    let summary = bru_engine::restore(
        &archive,
        &mut target,
        &RestoreOptions {
            filter: all,
            mode: RestoreMode::Full,
            clean: false,
            jobs: jobs(None),
            resume: false,
            no_owner: false,
            no_privileges: false,
            system_privileges: false,
            schema_prefix: false,
            casts: Default::default(),
            target_engine: None,
        },
        crate::endpoint::ENGINES,
        &bars,
    )?;
    bars.clear();
    drop(target);
    out.summary("restore", &summary)?;

    out.line("\n6. comparing the restored database with the archive");
    let mut database = SqliteSource::open(&restored)?;
    let tables = bru_engine::compare(&archive, &mut database)?.len();
    out.line(&format!(
        "   all {tables} tables in {} hold exactly the archive's rows (row counts and content checksums match)",
        restored.display()
    ));
    Ok(())
}

fn remove_if_exists(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
}
