//! Periodic jobs: a job of a kind enqueued once per period (every hour,
//! say), however many processes run a worker.
//!
//! Periods are counted from the Unix epoch (floor(now / every)), so every
//! process agrees on when the current one started, and its job's unique
//! key is `kind@<period start, RFC 3339>`: the first process to enqueue it
//! wins, the others' inserts do nothing ([`queue::enqueue`]). A worker
//! tries once per period it sees start, not on every round. Clocks that
//! disagree (by less than a period) only move the moment a period's job is
//! enqueued; no period gets two.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;

use super::queue::{self, NewJob};

/// A job of `kind`, with `payload`, once every `every`.
#[derive(Debug, Clone, PartialEq)]
pub struct Periodic {
    pub kind: String,
    pub every: Duration,
    pub payload: serde_json::Value,
}

impl Periodic {
    /// A job of `kind` every `every`, with an empty payload.
    pub fn new(kind: impl Into<String>, every: Duration) -> Periodic {
        Periodic {
            kind: kind.into(),
            every,
            payload: serde_json::json!({}),
        }
    }

    /// The start of the period `now` is in.
    pub fn period_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let every = self.every_ms();
        let start = now.timestamp_millis().div_euclid(every) * every;
        DateTime::from_timestamp_millis(start).unwrap_or(now)
    }

    /// The unique key of the job of the period `now` is in.
    pub fn unique_key(&self, now: DateTime<Utc>) -> String {
        let start = self.period_start(now).to_rfc3339_opts(SecondsFormat::AutoSi, true);
        format!("{}@{start}", self.kind)
    }

    /// How long from `now` until the next period starts.
    fn next_period_in(&self, now: DateTime<Utc>) -> Duration {
        let next = self.period_start(now).timestamp_millis() + self.every_ms();
        Duration::from_millis(u64::try_from(next - now.timestamp_millis()).unwrap_or(0))
    }

    /// The period in milliseconds; at least 1, so that a zero period is
    /// merely very frequent rather than a division by zero.
    fn every_ms(&self) -> i64 {
        i64::try_from(self.every.as_millis()).unwrap_or(i64::MAX).max(1)
    }
}

/// A worker's periodic jobs, with the period each was last enqueued for
/// (by this process or, as the insert found, another).
#[derive(Debug, Clone, Default)]
pub(super) struct Schedule {
    entries: Vec<(Periodic, Option<DateTime<Utc>>)>,
}

impl Schedule {
    pub fn add(&mut self, periodic: Periodic) {
        self.entries.push((periodic, None));
    }

    /// Enqueues the job of each periodic whose current period this process
    /// has not enqueued yet; returns how many were new.
    pub async fn enqueue_due(&mut self, conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<usize> {
        let mut enqueued = 0;
        for (periodic, done_for) in &mut self.entries {
            let start = periodic.period_start(now);
            if *done_for == Some(start) {
                continue;
            }
            let job = NewJob::new(&periodic.kind, periodic.payload.clone()).unique_key(periodic.unique_key(now));
            if queue::enqueue(conn, &job).await?.is_some() {
                enqueued += 1;
            }
            *done_for = Some(start);
        }
        Ok(enqueued)
    }

    /// How long from `now` until the next period of any of them starts.
    pub fn next_period_in(&self, now: DateTime<Utc>) -> Option<Duration> {
        self.entries
            .iter()
            .map(|(periodic, _)| periodic.next_period_in(now))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn periods_start_at_multiples_of_the_period_since_the_epoch() {
        let hourly = Periodic::new("purge", Duration::from_secs(3600));
        assert_eq!(
            hourly.period_start(at("2026-12-02T10:59:59.999Z")),
            at("2026-12-02T10:00:00Z")
        );
        assert_eq!(
            hourly.period_start(at("2026-12-02T11:00:00Z")),
            at("2026-12-02T11:00:00Z")
        );
        let daily = Periodic::new("report", Duration::from_secs(86_400));
        assert_eq!(
            daily.period_start(at("2026-12-02T23:30:00+02:00")),
            at("2026-12-02T00:00:00Z")
        );
    }

    #[test]
    fn the_unique_key_names_the_kind_and_the_period_start() {
        let hourly = Periodic::new("purge", Duration::from_secs(3600));
        assert_eq!(
            hourly.unique_key(at("2026-12-02T10:42:17.5Z")),
            "purge@2026-12-02T10:00:00Z"
        );
        let fast = Periodic::new("tick", Duration::from_millis(250));
        assert_eq!(
            fast.unique_key(at("2026-12-02T10:42:17.6Z")),
            "tick@2026-12-02T10:42:17.500Z"
        );
    }

    #[test]
    fn the_schedule_waits_for_the_soonest_next_period() {
        let mut schedule = Schedule::default();
        assert_eq!(schedule.next_period_in(at("2026-12-02T10:42:00Z")), None);
        schedule.add(Periodic::new("hourly", Duration::from_secs(3600)));
        schedule.add(Periodic::new("minutely", Duration::from_secs(60)));
        let now = at("2026-12-02T10:42:15Z");
        assert_eq!(schedule.next_period_in(now), Some(Duration::from_secs(45)));
        let zero = Periodic::new("zero", Duration::ZERO);
        assert_eq!(zero.next_period_in(now), Duration::from_millis(1));
    }
}
