//! Progress on stderr: bars on a terminal, plain log lines otherwise.
//!
//! The engine reports through [`bru_engine::Progress`]; this is the only
//! place that draws. On a terminal, each table being worked on gets a bar
//! under one overall bar; bars of finished tables are removed so the screen
//! shows what is running now. A bar counts bytes (MB, MB/s, ETA, rows in
//! the message) where the total size is known (restore: the archive's
//! totals), and rows (rows/s, ETA, MB in the message) where only the row
//! count is (backup: the source's estimates, PostgreSQL's reltuples and
//! SQLite's rowid span or ANALYZE count), so that both have an ETA. An
//! estimate that falls short shows a full bar until the table is done.
//!
//! Sizes are in decimal megabytes (MB, 10^6 bytes) everywhere, as in the
//! summaries.
//!
//! When stderr is not a terminal (a log file, a CI job), a line is written
//! every few seconds with the overall rows, MB, MB/s and ETA, plus a line per
//! table done and per phase. Those lines start only once the first interval
//! has passed, so a short run (or one refused at once) prints nothing but its
//! result or its one error line; `--verbose` starts them at once, and on a
//! terminal prints a line per table done above the bars. Warnings (retries)
//! are always written. `BRU_PROGRESS_INTERVAL` (seconds) changes the
//! interval, default 5. `--quiet` turns both off.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

const MB: f64 = 1_000_000.0;

/// Counts shared with the plain-log ticker.
#[derive(Default)]
struct Tally {
    rows: u64,
    bytes: u64,
    total_rows: Option<u64>,
    total_bytes: Option<u64>,
    /// Rows done per table.
    tables: HashMap<String, (u64, Instant)>,
}

struct Shared {
    tally: Mutex<Tally>,
    started: Instant,
    /// Plain mode: set once the first interval has passed.
    talking: AtomicBool,
}

/// What a bar counts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Bytes,
    Rows,
}

/// A terminal bar and what it counts.
struct Bar {
    bar: ProgressBar,
    unit: Unit,
}

impl Bar {
    /// A bar of `bytes` when known, else of `rows` when known, else a
    /// spinner (counting bytes).
    fn new(rows: Option<u64>, bytes: Option<u64>) -> Bar {
        let (bar, unit) = match (bytes, rows) {
            (Some(total), _) => (
                ProgressBar::new(total).with_style(style(Some(Unit::Bytes))),
                Unit::Bytes,
            ),
            (None, Some(total)) => (
                ProgressBar::new(total).with_style(style(Some(Unit::Rows))),
                Unit::Rows,
            ),
            (None, None) => (
                ProgressBar::new_spinner().with_style(style(None)),
                Unit::Bytes,
            ),
        };
        Bar { bar, unit }
    }

    /// Counts `rows` and `bytes` more; the message says the other count.
    fn advance(&self, rows: u64, bytes: u64, message: String) {
        match self.unit {
            Unit::Bytes => self.bar.inc(bytes),
            Unit::Rows => self.bar.inc(rows),
        }
        self.bar.set_message(message);
    }
}

enum Mode {
    Off,
    Terminal {
        multi: MultiProgress,
        overall: Mutex<Option<Bar>>,
        bars: Mutex<HashMap<String, Bar>>,
        verbose: bool,
    },
    Plain {
        stop: Mutex<Option<Sender<()>>>,
        ticker: Mutex<Option<JoinHandle<()>>>,
    },
}

/// Progress on stderr (see the module docs).
pub struct Bars {
    mode: Mode,
    shared: Arc<Shared>,
}

impl Bars {
    /// Bars when `wanted` and stderr is a terminal, plain log lines when
    /// `wanted` and it is not, nothing otherwise; `verbose` starts the log
    /// lines at once and adds a line per table done to the bars.
    pub fn new(wanted: bool, verbose: bool) -> Self {
        let shared = Arc::new(Shared {
            tally: Mutex::new(Tally::default()),
            started: Instant::now(),
            talking: AtomicBool::new(verbose),
        });
        let mode = if !wanted {
            Mode::Off
        } else if std::io::stderr().is_terminal() {
            Mode::Terminal {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8)),
                overall: Mutex::new(None),
                bars: Mutex::new(HashMap::new()),
                verbose,
            }
        } else {
            let (stop, stopped) = mpsc::channel::<()>();
            let every = interval();
            let ticking = Arc::clone(&shared);
            let ticker = std::thread::spawn(move || loop {
                match stopped.recv_timeout(every) {
                    Err(RecvTimeoutError::Timeout) => {
                        ticking.talking.store(true, Ordering::Relaxed);
                        eprintln!("bru: {}", status_line(&ticking));
                    }
                    _ => return,
                }
            });
            Mode::Plain {
                stop: Mutex::new(Some(stop)),
                ticker: Mutex::new(Some(ticker)),
            }
        };
        Bars { mode, shared }
    }

    /// Removes any bars left on screen and stops the log lines.
    pub fn clear(&self) {
        match &self.mode {
            Mode::Off => {}
            Mode::Terminal { multi, .. } => {
                let _ = multi.clear();
            }
            Mode::Plain { stop, ticker } => {
                if let Ok(mut stop) = stop.lock() {
                    stop.take();
                }
                if let Some(handle) = ticker.lock().ok().and_then(|mut t| t.take()) {
                    let _ = handle.join();
                }
            }
        }
    }

    fn talking(&self) -> bool {
        self.shared.talking.load(Ordering::Relaxed)
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        self.clear();
    }
}

/// The plain-log interval: `BRU_PROGRESS_INTERVAL` seconds, default 5.
fn interval() -> Duration {
    std::env::var("BRU_PROGRESS_INTERVAL")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(Duration::from_secs(5), Duration::from_secs_f64)
}

/// `1234 rows of 5000, 1.2 MB of 4.0 MB (30%), 0.4 MB/s, ETA 7 s`; with
/// only a row estimate (a backup), `1234 rows of about 5000 (25%), 1.2 MB,
/// 0.4 MB/s, ETA 7 s`.
fn status_line(shared: &Shared) -> String {
    let Ok(t) = shared.tally.lock() else {
        return "working".into();
    };
    let seconds = shared.started.elapsed().as_secs_f64().max(1e-3);
    let rate = t.bytes as f64 / seconds;
    let by_rows = t.total_bytes.is_none();
    let mut line = match t.total_rows {
        Some(total) if by_rows && total > 0 => format!(
            "{} rows of about {total} ({:.0}%)",
            t.rows,
            (100.0 * t.rows as f64 / total as f64).min(100.0)
        ),
        Some(total) => format!("{} rows of {total}", t.rows),
        None => format!("{} rows", t.rows),
    };
    line += &format!(", {:.1} MB", t.bytes as f64 / MB);
    if let Some(total) = t.total_bytes.filter(|&b| b > 0) {
        line += &format!(
            " of {:.1} MB ({:.0}%)",
            total as f64 / MB,
            100.0 * t.bytes as f64 / total as f64
        );
    }
    line += &format!(", {:.1} MB/s", rate / MB);
    let eta = match (t.total_bytes, t.total_rows) {
        (Some(total), _) => remaining(t.bytes, total, seconds),
        (None, Some(total)) => remaining(t.rows, total, seconds),
        (None, None) => None,
    };
    if let Some(eta) = eta {
        line += &format!(", ETA {eta:.0} s");
    }
    line
}

/// Seconds left to reach `total` at the rate of `done` in `seconds`, when
/// there is a rate and `total` was not passed (an estimate that fell short
/// gives no ETA rather than a wrong one).
fn remaining(done: u64, total: u64, seconds: f64) -> Option<f64> {
    (done > 0 && total >= done).then(|| (total - done) as f64 * seconds / done as f64)
}

/// A bar's look: with a total in `unit`, or a spinner (`None`).
fn style(unit: Option<Unit>) -> ProgressStyle {
    let template = match unit {
        Some(Unit::Bytes) => "{prefix:>28!} [{bar:30}] {decimal_bytes:>10}/{decimal_total_bytes:<10} {decimal_bytes_per_sec:>12} ETA {eta:>4} {msg}",
        Some(Unit::Rows) => "{prefix:>28!} [{bar:30}] {human_pos:>11}/{human_len:<11} rows {per_sec:>11} ETA {eta:>4} {msg}",
        None => "{prefix:>28!} {spinner} {decimal_bytes:>10} {decimal_bytes_per_sec:>12} {elapsed:>4} {msg}",
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

impl bru_engine::Progress for Bars {
    fn totals(&self, tables: usize, rows: Option<u64>, bytes: Option<u64>) {
        if let Ok(mut t) = self.shared.tally.lock() {
            t.total_rows = rows;
            t.total_bytes = bytes;
        }
        if let Mode::Terminal { multi, overall, .. } = &self.mode {
            let mut bar = Bar::new(rows, bytes);
            bar.bar = multi.insert(0, bar.bar);
            bar.bar.set_prefix(format!("all {tables} tables"));
            bar.bar.enable_steady_tick(Duration::from_millis(250));
            if let Ok(mut o) = overall.lock() {
                *o = Some(bar);
            }
        }
    }

    fn table_started(&self, table: &str, rows: Option<u64>, bytes: Option<u64>) {
        if let Ok(mut t) = self.shared.tally.lock() {
            t.tables.insert(table.to_owned(), (0, Instant::now()));
        }
        let Mode::Terminal { multi, bars, .. } = &self.mode else {
            return;
        };
        let mut bar = Bar::new(rows, bytes);
        bar.bar = multi.add(bar.bar);
        bar.bar.set_prefix(table.to_owned());
        bar.bar.enable_steady_tick(Duration::from_millis(250));
        if let Ok(mut bars) = bars.lock() {
            bars.insert(table.to_owned(), bar);
        }
    }

    fn advance(&self, table: &str, rows: u64, bytes: u64) {
        let (done_rows, all_rows, total_rows, all_bytes) = {
            let Ok(mut t) = self.shared.tally.lock() else {
                return;
            };
            t.rows += rows;
            t.bytes += bytes;
            let done = t.tables.get_mut(table).map_or(0, |(r, _)| {
                *r += rows;
                *r
            });
            (done, t.rows, t.total_rows, t.bytes)
        };
        if let Mode::Terminal { overall, bars, .. } = &self.mode {
            if let Some(bar) = bars.lock().ok().as_ref().and_then(|b| b.get(table)) {
                let message = match bar.unit {
                    Unit::Bytes => format!("{done_rows} rows"),
                    Unit::Rows => String::new(),
                };
                bar.advance(rows, bytes, message);
            }
            if let Some(bar) = overall.lock().ok().as_ref().and_then(|o| o.as_ref()) {
                let message = match (bar.unit, total_rows) {
                    (Unit::Rows, _) => format!("{:.1} MB", all_bytes as f64 / MB),
                    (Unit::Bytes, Some(total)) => format!("{all_rows}/{total} rows"),
                    (Unit::Bytes, None) => format!("{all_rows} rows"),
                };
                bar.advance(rows, bytes, message);
            }
        }
    }

    fn table_finished(&self, table: &str) {
        let finished = self
            .shared
            .tally
            .lock()
            .ok()
            .and_then(|mut t| t.tables.remove(table));
        match &self.mode {
            Mode::Off => {}
            Mode::Terminal {
                multi,
                bars,
                verbose,
                ..
            } => {
                if let Some(bar) = bars.lock().ok().and_then(|mut b| b.remove(table)) {
                    bar.bar.finish_and_clear();
                    multi.remove(&bar.bar);
                }
                if let (true, Some((rows, since))) = (*verbose, finished) {
                    let _ = multi.println(format!(
                        "table {table} done: {rows} rows in {:.1} s",
                        since.elapsed().as_secs_f64()
                    ));
                }
            }
            Mode::Plain { .. } => {
                if let (true, Some((rows, since))) = (self.talking(), finished) {
                    eprintln!(
                        "bru: table {table} done: {rows} rows in {:.1} s",
                        since.elapsed().as_secs_f64()
                    );
                }
            }
        }
    }

    fn message(&self, text: &str) {
        match &self.mode {
            Mode::Off => {}
            Mode::Terminal { multi, .. } => {
                let _ = multi.println(text);
            }
            Mode::Plain { .. } => {
                if self.talking() {
                    eprintln!("bru: {text}");
                }
            }
        }
    }

    fn warning(&self, text: &str) {
        match &self.mode {
            Mode::Off => {}
            Mode::Terminal { multi, .. } => {
                let _ = multi.println(format!("warning: {text}"));
            }
            Mode::Plain { .. } => eprintln!("bru: warning: {text}"),
        }
    }
}
