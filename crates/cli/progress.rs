//! Progress bars on stderr, drawn only when stderr is a terminal.
//!
//! The engine reports through [`bru_engine::Progress`]; this is the only
//! place that draws. Each table gets a bar (bytes done, MB/s, ETA, rows in
//! the message); bars of finished tables are removed so the screen shows what
//! is running now.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Per-table progress bars, or nothing when disabled.
pub struct Bars {
    multi: Option<MultiProgress>,
    bars: Mutex<HashMap<String, (ProgressBar, u64)>>,
}

impl Bars {
    /// Bars on stderr when `wanted` and stderr is a terminal; silent otherwise.
    pub fn new(wanted: bool) -> Self {
        let multi = (wanted && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8)));
        Bars {
            multi,
            bars: Mutex::new(HashMap::new()),
        }
    }

    /// Removes any bars left on screen.
    pub fn clear(&self) {
        if let Some(m) = &self.multi {
            let _ = m.clear();
        }
    }
}

fn style(known_total: bool) -> ProgressStyle {
    let template = if known_total {
        "{prefix:>28!} [{bar:30}] {bytes:>10}/{total_bytes:<10} {binary_bytes_per_sec:>12} ETA {eta:>4} {msg}"
    } else {
        "{prefix:>28!} {spinner} {bytes:>10} {binary_bytes_per_sec:>12} {elapsed:>4} {msg}"
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

impl bru_engine::Progress for Bars {
    fn table_started(&self, table: &str, _rows: Option<u64>, bytes: Option<u64>) {
        let Some(multi) = &self.multi else { return };
        let bar = match bytes {
            Some(total) => ProgressBar::new(total).with_style(style(true)),
            None => ProgressBar::new_spinner().with_style(style(false)),
        };
        let bar = multi.add(bar);
        bar.set_prefix(table.to_owned());
        bar.enable_steady_tick(Duration::from_millis(250));
        if let Ok(mut bars) = self.bars.lock() {
            bars.insert(table.to_owned(), (bar, 0));
        }
    }

    fn advance(&self, table: &str, rows: u64, bytes: u64) {
        let Ok(mut bars) = self.bars.lock() else {
            return;
        };
        if let Some((bar, done_rows)) = bars.get_mut(table) {
            *done_rows += rows;
            bar.inc(bytes);
            bar.set_message(format!("{} rows", done_rows));
        }
    }

    fn table_finished(&self, table: &str) {
        let Ok(mut bars) = self.bars.lock() else {
            return;
        };
        if let Some((bar, _)) = bars.remove(table) {
            bar.finish_and_clear();
            if let Some(m) = &self.multi {
                m.remove(&bar);
            }
        }
    }

    fn message(&self, text: &str) {
        if let Some(m) = &self.multi {
            let _ = m.println(text);
        }
    }
}
