//! When each request may start, and when the run is over.
//!
//! Every caller asks the shared [`Plan`] for a [`Ticket`] before each
//! request. In closed loop the ticket is "now". In open loop it is the next
//! slot of a fixed timetable (`start + n / rps`), whether or not a caller was
//! free at that moment: latency is measured from the slot, so a server that
//! stalls is charged for the requests that queued behind the stall instead of
//! hiding them (coordinated omission).

use std::{
    sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    time::{Duration, Instant},
};

use crate::args::Stop;

/// Permission to send one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    /// When the request should start; latency is measured from here.
    pub intended: Instant,
    /// False during the warm-up: the request is sent but not recorded.
    pub measured: bool,
}

/// The shared timetable and stop conditions of one run.
#[derive(Debug)]
pub struct Plan {
    start: Instant,
    measure_from: Instant,
    until: Option<Instant>,
    count: Option<u64>,
    rate: Option<f64>,
    next_slot: AtomicU64,
    issued: AtomicU64,
    stopped: AtomicBool,
}

impl Plan {
    /// A plan starting at `start`: `warmup` unmeasured, then until `stop`;
    /// open loop at `rate` requests per second when given.
    pub fn new(start: Instant, warmup: Duration, stop: Stop, rate: Option<f64>) -> Plan {
        let measure_from = start + warmup;
        let (until, count) = match stop {
            Stop::After(duration) => (Some(measure_from + duration), None),
            Stop::Count(count) => (None, Some(count)),
        };
        Plan {
            start,
            measure_from,
            until,
            count,
            rate,
            next_slot: AtomicU64::new(0),
            issued: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
        }
    }

    /// The next request's ticket, or `None` when the run is over.
    pub fn next(&self, now: Instant) -> Option<Ticket> {
        if self.stopped.load(Relaxed) {
            return None;
        }
        let intended = match self.rate {
            Some(rate) => self.start + slot_offset(self.next_slot.fetch_add(1, Relaxed), rate),
            None => now,
        };
        if intended < self.measure_from {
            return Some(Ticket {
                intended,
                measured: false,
            });
        }
        if self.until.is_some_and(|until| intended >= until) {
            return None;
        }
        if self
            .count
            .is_some_and(|count| self.issued.fetch_add(1, Relaxed) >= count)
        {
            return None;
        }
        Some(Ticket {
            intended,
            measured: true,
        })
    }

    /// When measuring starts (the end of the warm-up).
    pub fn measure_from(&self) -> Instant {
        self.measure_from
    }

    /// Ends the run early (Ctrl-C): callers finish their current request.
    pub fn stop(&self) {
        self.stopped.store(true, Relaxed);
    }
}

/// How long after the start slot `n` begins at `rate` per second. Computed
/// from `n` rather than by adding periods, so rounding never accumulates.
pub fn slot_offset(n: u64, rate: f64) -> Duration {
    Duration::from_secs_f64(n as f64 / rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn slots_are_evenly_spaced_without_drift() {
        assert_eq!(slot_offset(0, 4.0), Duration::ZERO);
        assert_eq!(slot_offset(3, 4.0), Duration::from_millis(750));
        assert_eq!(slot_offset(3_000_000, 1000.0), Duration::from_secs(3000));
        assert_eq!(slot_offset(1, 3.0), Duration::from_nanos(333_333_333));
    }

    #[test]
    fn open_loop_tickets_follow_the_timetable_whatever_the_clock() {
        let start = Instant::now();
        let plan = Plan::new(start, SECOND, Stop::After(SECOND), Some(2.0));
        // Asked late (10 s after the start), tickets still name their slots.
        let late = start + 10 * SECOND;
        let tickets: Vec<_> = std::iter::from_fn(|| plan.next(late)).collect();
        let expected = [(0, false), (500, false), (1000, true), (1500, true)];
        let expected: Vec<_> = expected
            .iter()
            .map(|&(ms, measured)| Ticket {
                intended: start + Duration::from_millis(ms),
                measured,
            })
            .collect();
        assert_eq!(tickets, expected);
    }

    #[test]
    fn closed_loop_measures_after_the_warmup_until_the_duration_ends() {
        let start = Instant::now();
        let plan = Plan::new(start, SECOND, Stop::After(2 * SECOND), None);
        assert_eq!(
            plan.next(start),
            Some(Ticket {
                intended: start,
                measured: false
            })
        );
        let measured = start + SECOND;
        assert_eq!(
            plan.next(measured),
            Some(Ticket {
                intended: measured,
                measured: true
            })
        );
        assert_eq!(plan.next(start + 3 * SECOND), None);
        assert_eq!(plan.measure_from(), measured);
    }

    #[test]
    fn count_mode_hands_out_exactly_count_measured_tickets() {
        let start = Instant::now();
        let plan = Plan::new(start, SECOND, Stop::Count(3), None);
        assert!(
            plan.next(start).is_some_and(|t| !t.measured),
            "warm-up tickets are free"
        );
        let later = start + 100 * SECOND;
        let measured = std::iter::from_fn(|| plan.next(later)).take(10).count();
        assert_eq!(measured, 3);
    }

    #[test]
    fn stop_ends_the_run_at_once() {
        let start = Instant::now();
        let plan = Plan::new(start, Duration::ZERO, Stop::Count(100), None);
        plan.stop();
        assert_eq!(plan.next(start), None);
    }
}
