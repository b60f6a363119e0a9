//! What each caller records: a latency histogram and status-code counts per
//! request kind. Every caller owns one [`Recorder`] (no locks, no shared
//! cache lines on the hot path); they are merged once at the end.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use orders::proto::CODE_NAMES;
use tonic::Code;

use crate::workloads::Kind;

/// Latencies are recorded in microseconds with 3 significant digits.
const SIGNIFICANT_DIGITS: u8 = 3;

/// Longer latencies (an hour) are recorded as this, so that one absurd value
/// cannot grow a histogram without bound.
const MAX_MICROS: u64 = 3_600_000_000;

/// Number of gRPC status codes (0 OK to 16 UNAUTHENTICATED).
pub const CODES: usize = CODE_NAMES.len();

/// The calls of one kind.
#[derive(Debug, Clone)]
pub struct KindStats {
    /// Latency in microseconds. Auto-resizing, so it costs memory only for
    /// the range actually seen.
    pub latency: Histogram<u64>,
    /// Calls per status code, indexed by the code's number.
    pub codes: [u64; CODES],
}

impl KindStats {
    pub fn new() -> KindStats {
        let latency = Histogram::new(SIGNIFICANT_DIGITS).expect("3 significant digits are supported");
        KindStats {
            latency,
            codes: [0; CODES],
        }
    }

    /// Calls that did not end OK.
    pub fn errors(&self) -> u64 {
        self.codes[1..].iter().sum()
    }

    /// Records one call of `latency` that ended with `code`.
    pub fn record(&mut self, latency: Duration, code: Code) {
        // Not `saturating_record`: it clamps to the current size instead of growing.
        let micros = (latency.as_micros() as u64).clamp(1, MAX_MICROS);
        self.latency
            .record(micros)
            .expect("auto-resizing histograms grow to any value up to MAX_MICROS");
        self.codes[code as usize] += 1;
    }

    /// Adds `other`'s calls to these.
    pub fn merge(&mut self, other: &KindStats) {
        self.latency
            .add(&other.latency)
            .expect("auto-resizing histograms always add");
        for (mine, theirs) in self.codes.iter_mut().zip(other.codes) {
            *mine += theirs;
        }
    }
}

/// Everything one caller (or, merged, the whole run) measured.
#[derive(Debug, Clone)]
pub struct Recorder {
    kinds: [KindStats; Kind::COUNT],
    last_end: Option<Instant>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            kinds: std::array::from_fn(|_| KindStats::new()),
            last_end: None,
        }
    }
}

impl Recorder {
    /// Records one measured call that ended at `end` after `latency`.
    pub fn record(&mut self, kind: Kind, latency: Duration, code: Code, end: Instant) {
        self.kinds[kind.index()].record(latency, code);
        self.last_end = Some(self.last_end.map_or(end, |last| last.max(end)));
    }

    /// Adds another caller's records to these.
    pub fn merge(&mut self, other: &Recorder) {
        for (mine, theirs) in self.kinds.iter_mut().zip(&other.kinds) {
            mine.merge(theirs);
        }
        self.last_end = match (self.last_end, other.last_end) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    /// The calls of one kind.
    pub fn kind(&self, kind: Kind) -> &KindStats {
        &self.kinds[kind.index()]
    }

    /// All kinds together.
    pub fn total(&self) -> KindStats {
        let mut total = KindStats::new();
        for stats in &self.kinds {
            total.merge(stats);
        }
        total
    }

    /// When the last measured call ended, if any did.
    pub fn last_end(&self) -> Option<Instant> {
        self.last_end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_adds_counts_codes_and_keeps_the_latest_end() {
        let start = Instant::now();
        let mut a = Recorder::default();
        a.record(Kind::Health, Duration::from_micros(100), Code::Ok, start);
        let mut b = Recorder::default();
        b.record(
            Kind::Health,
            Duration::from_secs(3),
            Code::Unavailable,
            start + Duration::from_secs(1),
        );
        b.record(Kind::GetOrder, Duration::from_nanos(10), Code::NotFound, start);
        a.merge(&b);
        let health = a.kind(Kind::Health);
        assert_eq!((health.latency.len(), health.errors()), (2, 1));
        assert!(
            health.latency.equivalent(health.latency.max(), 3_000_000),
            "the histogram grew to 3 s"
        );
        assert_eq!(
            a.kind(Kind::GetOrder).latency.min(),
            1,
            "sub-microsecond calls count as 1 µs"
        );
        let total = a.total();
        assert_eq!((total.latency.len(), total.codes[0], total.errors()), (3, 1, 2));
        assert_eq!(a.last_end(), Some(start + Duration::from_secs(1)));
    }
}
