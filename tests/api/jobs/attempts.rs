//! What a worker does with each attempt's result: a retry waits longer each
//! time, a job out of attempts fails with its last error (until an operator
//! retries it), a permanent error or an unknown kind fails at once.

use std::time::Duration;

use orders::jobs::{Backoff, JobError, JobRow, JobState, NewJob, queue};
use serde_json::json;

use super::support::{Calls, JobsDb, MS, Running, enqueue, job, recording, test_worker, wait_for_state};

/// The attempt numbers the handler was called with, in order.
fn attempts_seen(calls: &Calls) -> Vec<i32> {
    calls.lock().unwrap().iter().map(|(job, _)| job.attempt).collect()
}

async fn failed_jobs(db: &JobsDb) -> Vec<JobRow> {
    let mut conn = db.pool.get().await.unwrap();
    queue::list(&mut conn, Some(JobState::Failed), 10).await.unwrap()
}

async fn retry_failed(db: &JobsDb, id: i64) -> bool {
    let mut conn = db.pool.get().await.unwrap();
    queue::retry_failed(&mut conn, id).await.unwrap()
}

#[tokio::test]
async fn a_job_retried_twice_then_succeeding_runs_three_times_with_growing_delays() {
    let db = JobsDb::create().await;
    let calls = Calls::default();
    let flaky = recording(&calls, |n| match n {
        1 | 2 => Err(JobError::Retry(format!("flaky {n}"))),
        _ => Ok(()),
    });
    let mut worker = test_worker(&db).handler("flaky", flaky);
    worker.retry = Backoff::new(100 * MS, Duration::from_secs(10));
    let running = Running::start(worker);
    let id = enqueue(&db, NewJob::new("flaky", json!({}))).await;
    let job = wait_for_state(&db, id, JobState::Succeeded).await;
    running.stop().await;

    assert_eq!((job.attempts, job.last_error.as_deref()), (3, Some("flaky 2")));
    assert_eq!(attempts_seen(&calls), [1, 2, 3]);
    let times: Vec<_> = calls.lock().unwrap().iter().map(|(_, at)| *at).collect();
    let (first_gap, second_gap) = (times[1] - times[0], times[2] - times[1]);
    // The backoff waits 75–100 ms after the first failure, 150–200 ms after the second.
    assert!(first_gap >= 75 * MS, "first retry after {first_gap:?}");
    assert!(
        second_gap >= 150 * MS && second_gap > first_gap,
        "{first_gap:?}, then {second_gap:?}"
    );
}

#[tokio::test]
async fn a_job_out_of_attempts_fails_with_its_last_error_until_an_operator_retries_it() {
    let db = JobsDb::create().await;
    let calls = Calls::default();
    // Fails its first three calls, succeeds from the fourth.
    let fragile = recording(&calls, |n| match n {
        1..=3 => Err(JobError::Retry(format!("boom {n}"))),
        _ => Ok(()),
    });
    let running = Running::start(test_worker(&db).handler("fragile", fragile));
    let id = enqueue(&db, NewJob::new("fragile", json!({})).max_attempts(3)).await;
    wait_for_state(&db, id, JobState::Failed).await;
    let failed = failed_jobs(&db).await;
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0].id, failed[0].attempts), (id, 3));
    assert_eq!(failed[0].last_error.as_deref(), Some("boom 3"));
    assert!(failed[0].finish_time.is_some() && failed[0].locked_until.is_none());

    assert!(retry_failed(&db, id).await);
    let succeeded = wait_for_state(&db, id, JobState::Succeeded).await;
    running.stop().await;
    assert_eq!(succeeded.attempts, 1, "the operator's retry starts the count again");
    assert_eq!(attempts_seen(&calls), [1, 2, 3, 1]);
    assert!(!retry_failed(&db, id).await, "only a failed job can be retried");
    assert!(failed_jobs(&db).await.is_empty());
}

#[tokio::test]
async fn a_permanent_error_fails_the_job_at_its_first_attempt() {
    let db = JobsDb::create().await;
    let calls = Calls::default();
    let refusing = recording(&calls, |_| Err(JobError::Permanent("no such email".into())));
    let running = Running::start(test_worker(&db).handler("refusing", refusing));
    let id = enqueue(&db, NewJob::new("refusing", json!({}))).await;
    let job = wait_for_state(&db, id, JobState::Failed).await;
    running.stop().await;

    assert_eq!((job.attempts, job.last_error.as_deref()), (1, Some("no such email")));
    assert_eq!(attempts_seen(&calls), [1]);
}

#[tokio::test]
async fn a_job_of_a_kind_this_worker_does_not_handle_is_left_to_one_that_does() {
    let db = JobsDb::create().await;
    let (old_calls, new_calls) = (Calls::default(), Calls::default());
    // An old worker of a rolling deploy: it knows "known" only.
    let old = Running::start(test_worker(&db).handler("known", recording(&old_calls, |_| Ok(()))));
    let id = enqueue(&db, NewJob::new("new_kind", json!({}))).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let untouched = job(&db, id).await;
    assert_eq!((untouched.state, untouched.attempts), (JobState::Pending, 0));

    let new = Running::start(test_worker(&db).handler("new_kind", recording(&new_calls, |_| Ok(()))));
    let job = wait_for_state(&db, id, JobState::Succeeded).await;
    old.stop().await;
    new.stop().await;
    assert_eq!(job.attempts, 1);
    assert!(old_calls.lock().unwrap().is_empty());
    assert_eq!(new_calls.lock().unwrap().len(), 1);
}
