//! What bru prints: summaries, listings and verify reports, as aligned text
//! tables for people or as JSON on stdout for scripts.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use bru_core::Dropped;
use bru_engine::{CompareReport, Listing, RestoreJob, Summary, TableStatus, VerifyReport};
use serde::Serialize;

/// Where and how results are printed.
pub struct Output {
    quiet: bool,
    json: bool,
    verbose: bool,
}

const MB: f64 = 1_000_000.0;

impl Output {
    pub fn new(quiet: bool, json: bool, verbose: bool) -> Self {
        Output {
            quiet,
            json,
            verbose,
        }
    }

    /// Whether progress should log every phase and table (`--verbose`).
    pub fn verbose(&self) -> bool {
        self.verbose
    }

    /// Whether human output is off (quiet or JSON); only `bru demo` asks.
    #[cfg(feature = "demo")]
    pub fn is_quiet(&self) -> bool {
        self.quiet || self.json
    }

    /// Whether progress should be drawn.
    pub fn show_progress(&self) -> bool {
        !self.quiet
    }

    /// Prints a line of human output (nothing when quiet or JSON); only
    /// `bru demo` prints free lines.
    #[cfg(feature = "demo")]
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

    /// The per-table summary of a backup or restore (`what`); only a
    /// restore's has a column of rows loaded, apart from the rows read.
    pub fn summary(&self, what: &str, summary: &Summary) -> Result<()> {
        if self.json {
            return Self::print_json(summary);
        }
        if self.quiet {
            return Ok(());
        }
        if summary.nothing_to_resume {
            println!(
                "nothing to resume: the target holds no unfinished restore and already has \
                 every table of the archive (a restore that finished); nothing was done"
            );
            return Ok(());
        }
        print!("{}", summary_table(summary, what == "restore"));
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
        for line in &summary.dropped {
            println!("dropped: {line}");
        }
        for c in &summary.casts {
            println!(
                "cast --cast '{}': {} value(s) converted",
                c.rule, c.converted
            );
        }
        for line in &summary.translated {
            println!("translated: {line}");
        }
        for line in skipped_lines(&summary.skipped) {
            println!("{line}");
        }
        Ok(())
    }

    /// The restore plan (`bru restore --dry-run`): every step with what it
    /// waits for and its size, in the order one session would run them.
    /// With `--clean`, `dropped` is what the target would drop, listed
    /// after the steps (in JSON, as `dropped`).
    pub fn plan(
        &self,
        archive: &Path,
        job: &RestoreJob,
        dropped: Option<&[Dropped]>,
    ) -> Result<()> {
        if self.json {
            #[derive(Serialize)]
            struct PlanJson<'a> {
                #[serde(flatten)]
                plan: &'a bru_engine::Plan,
                #[serde(skip_serializing_if = "Option::is_none")]
                dropped: Option<Vec<String>>,
                #[serde(skip_serializing_if = "Vec::is_empty")]
                casts: Vec<bru_engine::CastPlan>,
                #[serde(skip_serializing_if = "<[String]>::is_empty")]
                translated: &'a [String],
                #[serde(skip_serializing_if = "<[String]>::is_empty")]
                left_out: &'a [String],
            }
            return Self::print_json(&PlanJson {
                plan: job.plan(),
                casts: job.casts(),
                translated: job.translated(),
                left_out: job.left_out(),
                dropped: dropped.map(|d| d.iter().map(ToString::to_string).collect()),
            });
        }
        print!("{}", plan_text(archive, job));
        if let Some(dropped) = dropped {
            print!("{}", dropped_text(dropped));
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
        print!("{}", summary_table(&report.summary, false));
        let rows: u64 = report.summary.tables.iter().map(|t| t.rows).sum();
        println!(
            "{} is whole: {} tables, {} chunks, {rows} rows, every CRC, count and checksum matches",
            archive.display(),
            report.summary.tables.len(),
            report.chunks_checked,
        );
        Ok(())
    }

    /// The table of contents of `bru restore --list` (printed even with
    /// --quiet: it is the output asked for).
    pub fn toc(&self, archive: &Path, toc: &bru_engine::Toc) -> Result<()> {
        if self.json {
            return Self::print_json(toc);
        }
        print!("{}", toc.text(archive));
        Ok(())
    }

    /// The result of `bru compare` or `bru verify --against`: the per-table
    /// table, the differing keys and schema lines, what was not compared,
    /// and the verdict.
    pub fn compared(&self, report: &CompareReport) -> Result<()> {
        if self.json {
            #[derive(Serialize)]
            struct Json<'a> {
                verdict: &'a str,
                #[serde(flatten)]
                report: &'a CompareReport,
            }
            return Self::print_json(&Json {
                verdict: if report.matches() { "match" } else { "differs" },
                report,
            });
        }
        if self.quiet {
            return Ok(());
        }
        print!("{}", compare_text(report));
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

/// How many objects skipped for the same reason are listed one per line;
/// more share one line, so that a long list of alike entries (every owner
/// of a PostgreSQL archive restored into SQLite) does not bury the others.
const SKIPPED_APART: usize = 3;

/// The summary's skipped entries (`what: reason`) for people: one line each,
/// except that entries with the same reason, more than [`SKIPPED_APART`] of
/// them, share one line naming the first few (`--json` lists every one).
fn skipped_lines(skipped: &[String]) -> Vec<String> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for entry in skipped {
        let (what, reason) = entry.split_once(": ").unwrap_or((entry.as_str(), ""));
        match groups.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, whats)) => whats.push(what),
            None => groups.push((reason, vec![what])),
        }
    }
    let mut out = Vec::new();
    for (reason, whats) in groups {
        if whats.len() <= SKIPPED_APART || reason.is_empty() {
            out.extend(whats.iter().map(|w| match reason {
                "" => format!("skipped: {w}"),
                r => format!("skipped: {w}: {r}"),
            }));
            continue;
        }
        const NAMED: usize = 6;
        let mut named = whats[..NAMED.min(whats.len())].join(", ");
        if whats.len() > NAMED {
            named += &format!(" and {} more (--json lists each)", whats.len() - NAMED);
        }
        out.push(format!(
            "skipped: {} objects, {reason}: {named}",
            whats.len()
        ));
    }
    out
}

fn ratio(raw: u64, stored: u64) -> String {
    if stored == 0 {
        "-".into()
    } else {
        format!("{:.1}x", raw as f64 / stored as f64)
    }
}

/// `--summary-json FILE`: the summary of a backup or restore, or on failure
/// the error, as JSON for scripts. Nothing when `path` is `None`.
pub fn write_summary_json(
    path: Option<&Path>,
    operation: &str,
    result: &Result<Summary>,
) -> Result<()> {
    #[derive(Serialize)]
    struct Report<'a> {
        operation: &'a str,
        /// `ok` or `failed`.
        status: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        #[serde(flatten, skip_serializing_if = "Option::is_none")]
        summary: Option<&'a Summary>,
    }
    let Some(path) = path else { return Ok(()) };
    let report = match result {
        Ok(summary) => Report {
            operation,
            status: "ok",
            error: None,
            summary: Some(summary),
        },
        Err(e) => Report {
            operation,
            status: "failed",
            error: Some(format!("{e:#}")),
            summary: None,
        },
    };
    let text = serde_json::to_string_pretty(&report)?;
    std::fs::write(path, text + "\n")
        .with_context(|| format!("cannot write the summary to {}", path.display()))
}

fn plan_text(archive: &Path, job: &RestoreJob) -> String {
    let plan = job.plan();
    let m = job.meta();
    let mut s = format!(
        "restore plan for {} ({} database {}, created {}): {} steps for {} session(s)\n",
        archive.display(),
        m.source.engine,
        m.source.database,
        m.created_at,
        plan.steps.len(),
        plan.sessions,
    );
    s += "nothing was done: this is a dry run; a target with fewer sessions gets fewer ranges\n\n";
    s += &format!(
        "{:>5}  {:<16}  {:>12}  {:>10}  {}\n",
        "step", "after", "rows", "raw MB", "what"
    );
    for id in plan.sequential_order() {
        let step = &plan.steps[id];
        let mut after = step
            .deps
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        if after.chars().count() > 16 {
            let shown: String = after.chars().take(12).collect();
            let cut = shown.rfind(',').unwrap_or(shown.len());
            after = format!(
                "{},+{}",
                &shown[..cut],
                step.deps.len() - shown[..cut].split(',').count()
            );
        }
        if after.is_empty() {
            after = "-".into();
        }
        s += &format!(
            "{:>5}  {:<16}  {:>12}  {:>10.2}  {}\n",
            step.id,
            after,
            step.rows,
            step.bytes as f64 / MB,
            step.label
        );
    }
    for translated in job.translated() {
        s += &format!("translated: {translated}\n");
    }
    for skipped in job.left_out() {
        s += &format!("left out: {skipped}\n");
    }
    for cast in job.casts() {
        s += &format!(
            "cast --cast '{}' applies to {}\n",
            cast.rule,
            cast.columns.join(", ")
        );
    }
    s
}

/// `--dry-run --clean`: what the restore would drop first, one line each.
fn dropped_text(dropped: &[Dropped]) -> String {
    if dropped.is_empty() {
        return "\n--clean would drop nothing\n".into();
    }
    let mut s = format!("\n--clean would drop {} object(s) first:\n", dropped.len());
    for d in dropped {
        s += &format!("would drop: {d}\n");
    }
    s
}

/// The width of a column of table names: the longest name, and at least
/// the heading `table`.
fn name_width<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    names.map(|n| n.chars().count()).max().unwrap_or(0).max(5)
}

/// The aligned per-table table: rows read and rows loaded (`with_loaded`,
/// a restore's) or just rows (a backup's, a verify's), raw MB, stored MB,
/// ratio, errors, seconds.
pub fn summary_table(summary: &Summary, with_loaded: bool) -> String {
    let width = name_width(summary.tables.iter().map(|t| t.table.as_str()));
    let resumed = summary.tables.iter().any(|t| t.rows_resumed > 0);
    let loaded_width = if with_loaded { 12 } else { 0 };
    let gap = if with_loaded { "  " } else { "" };
    let mut s = format!(
        "{:<width$}  {:>12}{gap}{:>loaded_width$}  {:>10}  {:>10}  {:>6}  {:>6}  {:>8}\n",
        "table",
        if with_loaded { "rows read" } else { "rows" },
        if with_loaded { "rows loaded" } else { "" },
        "raw MB",
        "stored MB",
        "ratio",
        "errors",
        "seconds"
    );
    for t in &summary.tables {
        let loaded = if !with_loaded {
            String::new()
        } else if resumed {
            format!("{}+{}", t.rows_resumed, t.rows_loaded)
        } else {
            t.rows_loaded.to_string()
        };
        s += &format!(
            "{:<width$}  {:>12}{gap}{:>loaded_width$}  {:>10.2}  {:>10.2}  {:>6}  {:>6}  {:>8.2}\n",
            t.table,
            t.rows,
            loaded,
            t.raw_bytes as f64 / MB,
            t.stored_bytes as f64 / MB,
            ratio(t.raw_bytes, t.stored_bytes),
            t.errors,
            t.seconds
        );
    }
    if resumed {
        s += "(rows loaded: already loaded before the interruption + loaded now)\n";
    }
    s
}

/// `bru compare` / `bru verify --against` for people.
fn compare_text(r: &CompareReport) -> String {
    let mut s = format!(
        "source: {}\ntarget: {}\n(each side was read in one consistent snapshot: a database \
         being written is compared as of one moment)\n\n",
        r.a, r.b
    );
    let width = name_width(r.tables.iter().map(|t| t.table.as_str()));
    let rows = |n: Option<u64>| n.map_or_else(|| "-".to_owned(), |n| n.to_string());
    s += &format!(
        "{:<width$}  {:>12}  {:>12}  {}\n",
        "table", "rows source", "rows target", "status"
    );
    for t in &r.tables {
        s += &format!(
            "{:<width$}  {:>12}  {:>12}  {}\n",
            t.table,
            rows(t.rows_a),
            rows(t.rows_b),
            t.status.label()
        );
    }
    let mut details = String::new();
    for t in r.differing() {
        for line in &t.schema {
            if matches!(
                t.status,
                TableStatus::MissingInTarget | TableStatus::ExtraInTarget
            ) {
                details += &format!("{line}\n");
            } else {
                details += &format!("table {}: {line}\n", t.table);
            }
        }
        if t.status != TableStatus::Differs {
            continue;
        }
        if let Some(why) = &t.not_narrowed {
            details += &format!(
                "table {}: rows differ ({} rows, checksum {} in source; {} rows, checksum {} in target); {why}\n",
                t.table,
                rows(t.rows_a),
                t.checksum_a.as_deref().unwrap_or("-"),
                rows(t.rows_b),
                t.checksum_b.as_deref().unwrap_or("-"),
            );
        }
        for d in &t.diffs {
            details += &format!("table {}: {}: {}", t.table, d.kind.label(), d.key);
            if !d.columns.is_empty() {
                details += &format!(": column(s) {}", d.columns.join(", "));
            }
            details += "\n";
        }
        if t.more_diffs {
            details += &format!(
                "table {}: more rows differ than the {} named (raise --max-diffs to name more)\n",
                t.table,
                t.diffs.len()
            );
        }
    }
    if !details.is_empty() {
        s += "\n";
        s += &details;
    }
    if !r.by_digest.is_empty() {
        s += &format!(
            "compared inside the servers: {} table(s) whose rows both servers digest alike \
             (two 64-bit hashes of each row's text) were not sent\n",
            r.by_digest.len()
        );
    }
    for line in &r.not_compared {
        s += &format!("not compared: {line}\n");
    }
    let differing = r.differing().count();
    if differing == 0 {
        let total: u64 = r.tables.iter().filter_map(|t| t.rows_a).sum();
        s += &format!(
            "MATCH: all {} tables match, {total} rows, in {:.2} s\n",
            r.tables.len(),
            r.seconds
        );
    } else {
        s += &format!(
            "DIFFERS: {differing} of {} tables differ, in {:.2} s\n",
            r.tables.len(),
            r.seconds
        );
    }
    s
}

fn listing_text(listing: &Listing) -> String {
    let m = &listing.meta;
    let mut s = String::new();
    let sealed_catalog = m
        .encryption
        .as_ref()
        .is_some_and(|e| !e.unlocked && e.scope == "all");
    if sealed_catalog {
        s += "source:   (encrypted)\n";
    } else {
        s += &format!(
            "source:   {} {} database {}\n",
            m.source.engine, m.source.version, m.source.database
        );
    }
    s += &format!("created:  {} by bru {}\n", m.created_at, m.tool_version);
    s += &format!(
        "format:   version {}, zstd level {}\n",
        m.format_version, m.compress_level
    );
    s += &format!("state:    {}\n", m.state);
    if let Some(d) = &m.delta {
        s += &format!(
            "delta:    position {} of the chain from archive {}, taken against archive {}; \
             tables list the rows it changes\n",
            d.position, d.chain_root_id, d.base_archive_id
        );
    }
    if m.state != bru_format::ArchiveState::Complete {
        s += "          the backup did not finish: restore and verify will refuse this archive\n";
    }
    if let Some(e) = &m.encryption {
        let what = if e.scope == "all" {
            "catalog and rows"
        } else {
            "rows (the catalog is in clear, and authenticated)"
        };
        s += &format!("encrypted: {what}, key sealed as {}\n", e.key_kind);
        if !e.unlocked {
            s += "          no key given: give --key-file, --identity or BRU_PASSPHRASE to read it\n";
        }
        if sealed_catalog {
            return s;
        }
    }
    let width = name_width(listing.tables.iter().map(|t| t.table.as_str()));
    s += &format!(
        "\n{:<width$}  {:>12}  {:>10}  {:>10}  {:>6}  {:>7}\n",
        "table", "rows", "raw MB", "stored MB", "ratio", "chunks"
    );
    let (mut rows, mut raw, mut stored) = (0u64, 0u64, 0u64);
    for t in &listing.tables {
        match (t.rows, t.raw_bytes, t.stored_bytes, t.chunks) {
            (Some(r), Some(rb), Some(sb), Some(c)) => {
                // A crafted archive's totals may be anything up to 2^63.
                rows = rows.saturating_add(r);
                raw = raw.saturating_add(rb);
                stored = stored.saturating_add(sb);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_entries_with_one_reason_share_a_line_past_a_few() {
        let mut skipped: Vec<String> = (0..8)
            .map(|i| format!("owner public.t{i}: written for postgres"))
            .collect();
        skipped.push("table t, column c: default now() (written for postgres)".into());
        skipped.push("trigger t_audit: written for sqlite".into());
        let lines = skipped_lines(&skipped);
        assert_eq!(
            lines,
            [
                "skipped: 8 objects, written for postgres: owner public.t0, owner public.t1, \
                 owner public.t2, owner public.t3, owner public.t4, owner public.t5 and 2 more \
                 (--json lists each)",
                "skipped: table t, column c: default now() (written for postgres)",
                "skipped: trigger t_audit: written for sqlite",
            ]
        );
        // A few alike entries keep a line each.
        let few = &skipped[..SKIPPED_APART];
        assert_eq!(skipped_lines(few).len(), SKIPPED_APART);
        assert_eq!(skipped_lines(&["no reason".into()]), ["skipped: no reason"]);
    }
}
