//! A periodic job is enqueued once per period, however many workers run:
//! two workers on one database, a period of one second, three and a half
//! seconds: four periods, four jobs, each run once.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use orders::jobs::{JobState, Periodic, Worker};

use super::support::{Calls, JobsDb, MS, Running, all_jobs, recording, test_worker};

/// Sleeps until `ms` milliseconds past the next full second.
async fn sleep_until_past_a_second(ms: u32) {
    let into_second = Utc::now().timestamp_subsec_millis();
    tokio::time::sleep(MS * ((1000 + ms - into_second) % 1000)).await;
}

fn ticking_worker(db: &JobsDb, tick: &Periodic, calls: &Calls) -> Worker {
    let worker = test_worker(db).handler("tick", recording(calls, |_| Ok(())));
    worker.periodic(tick.clone())
}

/// The unique keys of the periods from `start` to `end`, oldest first.
fn keys_of_periods(tick: &Periodic, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<String> {
    let mut keys = Vec::new();
    let mut at = tick.period_start(start);
    while at <= end {
        keys.push(tick.unique_key(at));
        at += TimeDelta::from_std(tick.every).unwrap();
    }
    keys
}

#[tokio::test]
async fn two_workers_enqueue_a_periodic_job_once_per_period() {
    let db = JobsDb::create().await;
    let tick = Periodic::new("tick", Duration::from_secs(1));
    let calls = Calls::default();
    // Start 200 ms into a second and stop 500 ms into the fourth after it,
    // away from the periods' edges.
    sleep_until_past_a_second(200).await;
    let start = Utc::now();
    let first = Running::start(ticking_worker(&db, &tick, &calls));
    let second = Running::start(ticking_worker(&db, &tick, &calls));
    tokio::time::sleep(3300 * MS).await;
    let end = Utc::now();
    first.stop().await;
    second.stop().await;

    let mut jobs = all_jobs(&db).await;
    jobs.reverse();
    let keys: Vec<String> = jobs.iter().filter_map(|job| job.unique_key.clone()).collect();
    let expected = keys_of_periods(&tick, start, end);
    assert_eq!(expected.len(), 4, "from {start} to {end}");
    assert_eq!(keys, expected, "one job per period, each once");
    assert!(
        jobs.iter()
            .all(|job| job.state == JobState::Succeeded && job.attempts == 1)
    );
    assert_eq!(calls.lock().unwrap().len(), 4, "each run once");
}
