//! Per-caller rate limiting: a token bucket per [`RateKey`].
//!
//! Each caller may make `rate` calls per second on average and `burst` at
//! once; a call beyond that is refused at once with RESOURCE_EXHAUSTED
//! (reason `RATE_LIMITED`, with `RetryInfo` saying when the next call would
//! be admitted). Refusing instead of queueing is what keeps one noisy caller
//! from slowing the others: no call ever waits here, and callers share
//! nothing but a briefly held lock on one of `SHARDS` maps.
//!
//! Callers without a key (no token, no client certificate) and health and
//! reflection calls are not limited. Buckets of callers that have gone
//! quiet are dropped once a shard grows past `PRUNE_AT`, so memory follows
//! the number of active callers, not of all callers ever seen.

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use tokio::time::Instant;

use super::{
    auth::RateKey,
    check::{Check, CheckLayer},
    is_infrastructure,
};
use crate::error::ApiError;

const SHARDS: usize = 16;
const PRUNE_AT: usize = 4096;

/// The buckets of every caller.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    hasher: RandomState,
    shards: Vec<Mutex<HashMap<Arc<str>, Bucket>>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    /// `rate` calls per second on average, `burst` at most at once.
    pub fn new(rate: f64, burst: u32) -> Self {
        RateLimiter {
            rate,
            burst: f64::from(burst),
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    /// Takes one call from `key`'s bucket, or says how long until it could.
    pub fn check(&self, key: &Arc<str>, now: Instant) -> Result<(), Duration> {
        let shard = &self.shards[self.hasher.hash_one(key) as usize % SHARDS];
        let mut buckets = shard.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= PRUNE_AT && !buckets.contains_key(key) {
            buckets.retain(|_, bucket| self.refilled(*bucket, now) < self.burst);
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let tokens = self.refilled(*bucket, now);
        if tokens < 1.0 {
            return Err(Duration::from_secs_f64((1.0 - tokens) / self.rate));
        }
        *bucket = Bucket {
            tokens: tokens - 1.0,
            updated: now,
        };
        Ok(())
    }

    fn refilled(&self, bucket: Bucket, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        (bucket.tokens + elapsed * self.rate).min(self.burst)
    }

    /// How long until `key` has a call again, without taking one; `None`
    /// when it has one now.
    pub fn exhausted(&self, key: &Arc<str>, now: Instant) -> Option<Duration> {
        let shard = &self.shards[self.hasher.hash_one(key) as usize % SHARDS];
        let buckets = shard.lock().unwrap_or_else(PoisonError::into_inner);
        let tokens = self.refilled(*buckets.get(key)?, now);
        (tokens < 1.0).then(|| Duration::from_secs_f64((1.0 - tokens) / self.rate))
    }

    /// `(rate per second, burst)`, for messages.
    pub fn limits(&self) -> (f64, f64) {
        (self.rate, self.burst)
    }

    fn refusal(&self, key: &RateKey, retry_after: Duration) -> ApiError {
        crate::monitoring::count_refusal(true, "RATE_LIMITED");
        ApiError::RateLimited {
            reason: "RATE_LIMITED",
            message: format!(
                "{} is over its rate limit of {} calls per second (bursts of {}); retry in {} ms",
                key.0,
                self.rate,
                self.burst,
                retry_after.as_millis().max(1)
            ),
            subject: key.0.to_string(),
            quota: "calls per second of one caller",
            retry_after,
        }
    }
}

/// The rate-limit layer; with no limiter, it lets every call through.
pub type RateLimitLayer = CheckLayer<Option<Arc<RateLimiter>>>;

impl Check for Option<Arc<RateLimiter>> {
    fn check<B>(&self, request: &mut http::Request<B>) -> Result<(), tonic::Status> {
        let (Some(limiter), Some(key)) = (self, request.extensions().get::<RateKey>()) else {
            return Ok(());
        };
        if is_infrastructure(request.uri().path()) {
            return Ok(());
        }
        limiter
            .check(&key.0, Instant::now())
            .map_err(|retry_after| limiter.refusal(key, retry_after).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_gets_its_burst_then_its_rate_and_others_are_untouched() {
        let limiter = RateLimiter::new(10.0, 3);
        let (alice, bob): (Arc<str>, Arc<str>) = ("caller/alice".into(), "caller/bob".into());
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check(&alice, start).is_ok());
        }
        let wait = limiter.check(&alice, start).unwrap_err();
        assert_eq!(wait, Duration::from_millis(100));
        assert!(limiter.check(&bob, start).is_ok(), "bob has a bucket of his own");
        // 100 ms later exactly one more call is due, not two.
        let later = start + Duration::from_millis(100);
        assert!(limiter.check(&alice, later).is_ok());
        assert!(limiter.check(&alice, later).is_err());
        // A long pause refills to the burst, never beyond.
        let much_later = later + Duration::from_secs(60);
        for _ in 0..3 {
            assert!(limiter.check(&alice, much_later).is_ok());
        }
        assert!(limiter.check(&alice, much_later).is_err());
    }

    #[test]
    fn quiet_callers_are_forgotten_when_a_shard_fills_up() {
        let limiter = RateLimiter::new(1000.0, 1);
        let start = Instant::now();
        for i in 0..PRUNE_AT * SHARDS * 2 {
            let key: Arc<str> = format!("caller/{i}").into();
            assert!(limiter.check(&key, start + Duration::from_millis(i as u64)).is_ok());
        }
        let held: usize = (limiter.shards.iter()).map(|s| s.lock().unwrap().len()).sum();
        assert!(held <= PRUNE_AT * SHARDS, "{held} buckets kept");
    }
}
