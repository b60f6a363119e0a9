//! A claimed job is its worker's for the lease only: when the worker dies
//! (here: claims and never answers), another runs the job once the lease has
//! ended, and the dead worker's late answer is refused.

use std::time::Duration;

use orders::jobs::{JobRow, JobState, NewJob, queue};
use serde_json::json;
use tokio::time::Instant;

use super::support::{Calls, JobsDb, MS, Running, enqueue, recording, test_worker, wait_for_state};

/// Claims due jobs (of the kinds these tests use) for `lease`, as a worker
/// about to die would.
async fn claim_and_die(db: &JobsDb, lease: Duration) -> Vec<JobRow> {
    let mut conn = db.pool.get().await.unwrap();
    let kinds = ["resumable".to_owned(), "once".to_owned()];
    queue::claim(&mut conn, &kinds, 10, lease).await.unwrap()
}

#[tokio::test]
async fn a_job_whose_worker_died_is_run_by_another_once_its_lease_ends() {
    let db = JobsDb::create().await;
    let id = enqueue(&db, NewJob::new("resumable", json!({}))).await;
    let (lease, claimed_at) = (300 * MS, Instant::now());
    let claimed = claim_and_die(&db, lease).await;
    let claimed: Vec<_> = claimed.iter().map(|job| (job.id, job.attempts, job.state)).collect();
    assert_eq!(claimed, [(id, 1, JobState::Running)]);
    assert!(claim_and_die(&db, lease).await.is_empty(), "leased: not claimed twice");

    let calls = Calls::default();
    let running = Running::start(test_worker(&db).handler("resumable", recording(&calls, |_| Ok(()))));
    let job = wait_for_state(&db, id, JobState::Succeeded).await;
    running.stop().await;

    let calls = calls.lock().unwrap().clone();
    assert_eq!((calls.len(), calls[0].0.attempt, job.attempts), (1, 2, 2));
    let waited = calls[0].1 - claimed_at;
    assert!(
        waited >= lease,
        "run again {waited:?} after the claim, within the lease"
    );
    let mut conn = db.pool.get().await.unwrap();
    assert!(
        !queue::succeed(&mut conn, id, 1).await.unwrap(),
        "the dead worker's answer"
    );
    assert!(!queue::fail(&mut conn, id, 1, "late").await.unwrap());
    assert_eq!(super::support::job(&db, id).await.state, JobState::Succeeded);
}

#[tokio::test]
async fn a_job_whose_worker_died_in_its_last_attempt_fails_instead_of_running_again() {
    let db = JobsDb::create().await;
    let id = enqueue(&db, NewJob::new("once", json!({})).max_attempts(1)).await;
    assert_eq!(claim_and_die(&db, 50 * MS).await.len(), 1);

    let calls = Calls::default();
    let running = Running::start(test_worker(&db).handler("once", recording(&calls, |_| Ok(()))));
    let job = wait_for_state(&db, id, JobState::Failed).await;
    running.stop().await;

    assert!(calls.lock().unwrap().is_empty(), "not run a second time");
    let error = job.last_error.unwrap();
    assert!(error.contains("the lease ran out"), "{error}");
}
