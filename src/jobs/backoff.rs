//! Exponential backoff with jitter: how long a failed job waits before its
//! next attempt, and how long a worker waits after losing the database.
//!
//! The jitter takes up to a quarter off each delay, at random, so that jobs
//! (or workers) that failed together do not all come back at the same
//! instant. Taking off, not adding, keeps every delay within the cap; and a
//! quarter, not more, keeps each delay (while below the cap) longer than
//! the one before it: attempt n waits between ¾·d and d, attempt n+1
//! between 1½·d and 2·d.

use std::time::Duration;

use rand::Rng;

/// Delays of `base`, doubling with each failure, never more than `cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    pub const fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff { base, cap }
    }

    /// The delay after the `failures`th failure in a row (1 for the first):
    /// `base · 2^(failures − 1)`, capped, less up to a quarter at random.
    pub fn delay(&self, failures: i32) -> Duration {
        let full = self.undisturbed(failures);
        full.mul_f64(1.0 - rand::rng().random_range(0.0..=0.25))
    }

    /// The delay before jitter: for waits that need none (one process
    /// retrying alone, [`crate::auth::remote`]), and for the tests.
    pub fn undisturbed(&self, failures: i32) -> Duration {
        let doublings = u32::try_from(failures.saturating_sub(1)).unwrap_or(0);
        let factor = 2u32.checked_pow(doublings).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn delays_double_from_the_base_up_to_the_cap() {
        let backoff = Backoff::new(100 * MS, 1000 * MS);
        let delays: Vec<Duration> = (0..7).map(|n| backoff.undisturbed(n)).collect();
        let expected = [100, 100, 200, 400, 800, 1000, 1000].map(|ms| ms * MS);
        assert_eq!(delays, expected);
        assert_eq!(backoff.undisturbed(i32::MAX), 1000 * MS, "no overflow");
    }

    #[test]
    fn jitter_takes_off_at_most_a_quarter_so_delays_still_grow() {
        let backoff = Backoff::new(100 * MS, Duration::from_secs(60));
        for failures in 1..=8 {
            let full = backoff.undisturbed(failures);
            for _ in 0..100 {
                let delay = backoff.delay(failures);
                assert!(delay <= full && delay >= full.mul_f64(0.75), "{delay:?} of {full:?}");
            }
            let shortest_next = backoff.undisturbed(failures + 1).mul_f64(0.75);
            assert!(shortest_next > full, "attempt {failures}");
        }
    }
}
