//! The live line on a terminal while the load runs: measured calls, calls
//! per second, errors and the p99 latency so far (indicatif, on stderr).
//!
//! Callers keep recording into their own [`super::Recorder`] without locks;
//! for the line, each also feeds [`KindStats`] of its own ([`Feed`]) and
//! folds them into the shared totals about five times a second, so the
//! hot path takes a lock a few times per second per caller, not per call.
//! With `--json`, or when stderr is not a terminal, there is no line and no
//! feed at all.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressStyle};
use tonic::Code;

use super::recorder::KindStats;

/// How often a caller folds what it saw into the totals.
const FOLD_EVERY: Duration = Duration::from_millis(200);
/// How often the line is redrawn.
const REDRAW_EVERY: Duration = Duration::from_millis(250);

/// What all callers measured so far, and the line that shows it.
pub struct Live {
    totals: Mutex<KindStats>,
    bar: ProgressBar,
    measure_from: Instant,
}

impl Live {
    /// A live line, or `None` when it would not be seen (`json`, or stderr
    /// not a terminal).
    pub fn start(json: bool, measure_from: Instant) -> Option<Arc<Live>> {
        let bar = ProgressBar::new_spinner();
        if json || bar.is_hidden() {
            return None;
        }
        let style = ProgressStyle::with_template("{spinner} {elapsed} {wide_msg}").expect("a valid template");
        bar.set_style(style);
        bar.set_message("warming up");
        let live = Arc::new(Live {
            totals: Mutex::new(KindStats::new()),
            bar,
            measure_from,
        });
        tokio::spawn(redraw(Arc::downgrade(&live)));
        Some(live)
    }

    /// Removes the line, before the summary is printed.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn line(&self) -> String {
        let totals = self.totals.lock().expect("no caller panics holding it");
        let calls = totals.latency.len();
        let seconds = self.measure_from.elapsed().as_secs_f64().max(1e-3);
        let p99 = match calls {
            0 => "-".to_owned(),
            _ => format!("{:.2} ms", totals.latency.value_at_quantile(0.99) as f64 / 1000.0),
        };
        format!(
            "{calls} calls, {:.0}/s, {} errors, p99 {p99}",
            calls as f64 / seconds,
            totals.errors()
        )
    }
}

async fn redraw(live: std::sync::Weak<Live>) {
    let mut ticks = tokio::time::interval(REDRAW_EVERY);
    loop {
        ticks.tick().await;
        let Some(live) = live.upgrade() else { return };
        if Instant::now() >= live.measure_from {
            live.bar.set_message(live.line());
        }
        live.bar.tick();
    }
}

/// One caller's share of the line: its calls since it last folded them in.
pub struct Feed {
    live: Arc<Live>,
    stats: KindStats,
    folded_at: Instant,
}

impl Feed {
    pub fn new(live: Arc<Live>) -> Feed {
        Feed {
            live,
            stats: KindStats::new(),
            folded_at: Instant::now(),
        }
    }

    /// One measured call, as [`super::Recorder::record`] got it.
    pub fn record(&mut self, latency: Duration, code: Code) {
        self.stats.record(latency, code);
        if self.folded_at.elapsed() >= FOLD_EVERY {
            self.fold();
        }
    }

    /// Adds what this caller saw to the totals, and starts afresh.
    pub fn fold(&mut self) {
        let folded = std::mem::replace(&mut self.stats, KindStats::new());
        self.live
            .totals
            .lock()
            .expect("no caller panics holding it")
            .merge(&folded);
        self.folded_at = Instant::now();
    }
}
