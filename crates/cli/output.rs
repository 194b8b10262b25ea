//! What bru prints: summaries, listings and verify reports, as aligned text
//! tables for people or as JSON on stdout for scripts.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use bru_engine::{Listing, Summary, VerifyReport};
use serde::Serialize;

/// Where and how results are printed.
pub struct Output {
    quiet: bool,
    json: bool,
}

const MB: f64 = 1_000_000.0;

impl Output {
    pub fn new(quiet: bool, json: bool) -> Self {
        Output { quiet, json }
    }

    pub fn is_quiet(&self) -> bool {
        self.quiet || self.json
    }

    /// Whether progress should be drawn.
    pub fn show_progress(&self) -> bool {
        !self.quiet
    }

    /// Prints a line of human output (nothing when quiet or JSON).
    pub fn line(&self, text: &str) {
        if !self.quiet && !self.json {
            println!("{text}");
        }
    }

    fn print_json<T: Serialize>(value: &T) -> Result<()> {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, value)?;
        writeln!(out)?;
        Ok(())
    }

    /// The per-table summary of a backup or restore.
    pub fn summary(&self, what: &str, summary: &Summary) -> Result<()> {
        if self.json {
            return Self::print_json(summary);
        }
        if self.quiet {
            return Ok(());
        }
        print!("{}", summary_table(summary));
        let rows: u64 = summary.tables.iter().map(|t| t.rows).sum();
        let rate = if summary.seconds > 0.0 {
            format!(", {:.0} rows/s", rows as f64 / summary.seconds)
        } else {
            String::new()
        };
        println!(
            "{what} complete: {} tables, {rows} rows in {:.2} s{rate}",
            summary.tables.len(),
            summary.seconds
        );
        for s in &summary.skipped {
            println!("skipped: {s}");
        }
        Ok(())
    }

    /// The result of `bru verify`.
    pub fn verified(&self, archive: &Path, report: &VerifyReport) -> Result<()> {
        if self.json {
            return Self::print_json(report);
        }
        if self.quiet {
            return Ok(());
        }
        print!("{}", summary_table(&report.summary));
        let rows: u64 = report.summary.tables.iter().map(|t| t.rows).sum();
        println!(
            "{} is whole: {} tables, {} chunks, {rows} rows, every CRC, count and checksum matches",
            archive.display(),
            report.summary.tables.len(),
            report.chunks_checked,
        );
        Ok(())
    }

    /// The result of `bru list` (printed even with --quiet: it is the output asked for).
    pub fn listing(&self, listing: &Listing) -> Result<()> {
        if self.json {
            return Self::print_json(listing);
        }
        print!("{}", listing_text(listing));
        Ok(())
    }
}

fn ratio(raw: u64, stored: u64) -> String {
    if stored == 0 {
        "-".into()
    } else {
        format!("{:.1}x", raw as f64 / stored as f64)
    }
}

/// The aligned per-table table: rows, raw MB, stored MB, ratio, seconds.
pub fn summary_table(summary: &Summary) -> String {
    let width = summary
        .tables
        .iter()
        .map(|t| t.table.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut s = format!(
        "{:<width$}  {:>12}  {:>10}  {:>10}  {:>6}  {:>8}\n",
        "table", "rows", "raw MB", "stored MB", "ratio", "seconds"
    );
    for t in &summary.tables {
        s += &format!(
            "{:<width$}  {:>12}  {:>10.2}  {:>10.2}  {:>6}  {:>8.2}\n",
            t.table,
            t.rows,
            t.raw_bytes as f64 / MB,
            t.stored_bytes as f64 / MB,
            ratio(t.raw_bytes, t.stored_bytes),
            t.seconds
        );
    }
    s
}

fn listing_text(listing: &Listing) -> String {
    let m = &listing.meta;
    let mut s = String::new();
    s += &format!(
        "source:   {} {} database {}\n",
        m.source.engine, m.source.version, m.source.database
    );
    s += &format!("created:  {} by bru {}\n", m.created_at, m.tool_version);
    s += &format!(
        "format:   version {}, zstd level {}\n",
        m.format_version, m.compress_level
    );
    s += &format!("state:    {}\n", m.state);
    if m.state != bru_format::ArchiveState::Complete {
        s += "          the backup did not finish: restore and verify will refuse this archive\n";
    }
    let width = listing
        .tables
        .iter()
        .map(|t| t.table.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    s += &format!(
        "\n{:<width$}  {:>12}  {:>10}  {:>10}  {:>6}  {:>7}\n",
        "table", "rows", "raw MB", "stored MB", "ratio", "chunks"
    );
    let (mut rows, mut raw, mut stored) = (0u64, 0u64, 0u64);
    for t in &listing.tables {
        match (t.rows, t.raw_bytes, t.stored_bytes, t.chunks) {
            (Some(r), Some(rb), Some(sb), Some(c)) => {
                rows += r;
                raw += rb;
                stored += sb;
                s += &format!(
                    "{:<width$}  {:>12}  {:>10.2}  {:>10.2}  {:>6}  {:>7}\n",
                    t.table,
                    r,
                    rb as f64 / MB,
                    sb as f64 / MB,
                    ratio(rb, sb),
                    c
                );
            }
            _ => s += &format!("{:<width$}  {:>12}\n", t.table, "(unfinished)"),
        }
    }
    s += &format!(
        "{:<width$}  {:>12}  {:>10.2}  {:>10.2}  {:>6}\n",
        "total",
        rows,
        raw as f64 / MB,
        stored as f64 / MB,
        ratio(raw, stored)
    );
    if !listing.objects.is_empty() {
        s += &format!("\nobjects:  {}\n", listing.objects.join(", "));
    }
    s
}
