//! The end-of-run summary: counts, throughput, latency percentiles and the
//! distribution of status codes, overall and per request kind; printed as
//! text like ghz's ([`text`]) or as one JSON object (`--json`).

pub mod live;
pub mod recorder;
mod text;

use std::time::Instant;

use orders::proto::CODE_NAMES;
use serde::{Serialize, ser::SerializeMap};

pub use recorder::Recorder;
use recorder::{CODES, KindStats};

use crate::workloads::Kind;

/// How the load was generated, echoed at the top of the summary.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub workload: String,
    pub mix: String,
    /// `closed` (callers send back to back) or `open` (fixed rate).
    pub mode: &'static str,
    pub concurrency: u32,
    pub connections: u32,
    pub target_rps: Option<f64>,
}

/// The whole summary, as printed.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    #[serde(flatten)]
    pub run: Run,
    /// Seconds from the end of the warm-up to the end of the last call.
    pub duration_s: f64,
    #[serde(flatten)]
    pub total: Stats,
    /// Per request kind, for kinds that were sent; a JSON object in kind order.
    #[serde(serialize_with = "as_map")]
    pub rpcs: Vec<(&'static str, Stats)>,
}

/// The measured calls of one kind, or of all.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub count: u64,
    pub errors: u64,
    pub rps: f64,
    pub latency_us: Latency,
    pub status: StatusCounts,
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    #[serde(rename = "p99.9")]
    pub p99_9: u64,
    pub max: u64,
    pub mean: f64,
}

/// Calls per status code; serialised as `{"OK": n, ...}` in code order,
/// codes that never occurred left out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatusCounts(pub [u64; CODES]);

impl Summary {
    /// Summarises `recorder`, measured from `measure_from`.
    pub fn new(run: Run, recorder: &Recorder, measure_from: Instant) -> Summary {
        let elapsed = recorder
            .last_end()
            .map(|end| end.saturating_duration_since(measure_from));
        let duration_s = elapsed.map_or(0.0, |elapsed| elapsed.as_secs_f64());
        let rpcs = Kind::ALL
            .into_iter()
            .map(|kind| (kind.name(), Stats::new(recorder.kind(kind), duration_s)))
            .filter(|(_, stats)| stats.count > 0)
            .collect();
        Summary {
            run,
            duration_s,
            total: Stats::new(&recorder.total(), duration_s),
            rpcs,
        }
    }

    /// The summary as text for people.
    pub fn to_text(&self) -> String {
        text::render(self)
    }

    /// The summary as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a summary always serialises")
    }
}

impl Stats {
    fn new(stats: &KindStats, duration_s: f64) -> Stats {
        let count = stats.latency.len();
        let histogram = &stats.latency;
        let latency_us = Latency {
            p50: histogram.value_at_quantile(0.50),
            p90: histogram.value_at_quantile(0.90),
            p99: histogram.value_at_quantile(0.99),
            p99_9: histogram.value_at_quantile(0.999),
            max: histogram.max(),
            mean: histogram.mean(),
        };
        let rps = if duration_s > 0.0 {
            count as f64 / duration_s
        } else {
            0.0
        };
        Stats {
            count,
            errors: stats.errors(),
            rps,
            latency_us,
            status: StatusCounts(stats.codes),
        }
    }
}

impl StatusCounts {
    /// `(name, count)` for each code that occurred, in code order.
    pub fn occurred(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        CODE_NAMES
            .iter()
            .zip(self.0)
            .filter(|&(_, n)| n > 0)
            .map(|(&name, n)| (name, n))
    }
}

impl Serialize for StatusCounts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (name, count) in self.occurred() {
            map.serialize_entry(name, &count)?;
        }
        map.end()
    }
}

fn as_map<S: serde::Serializer>(entries: &[(&'static str, Stats)], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_map(entries.iter().map(|(name, stats)| (name, stats)))
}
