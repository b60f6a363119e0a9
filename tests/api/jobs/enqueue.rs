//! A job is enqueued inside its caller's transaction: it exists exactly
//! when that transaction committed. A unique key is enqueued once, ever.

use diesel::result::Error::RollbackTransaction;
use diesel_async::AsyncConnection;
use orders::jobs::{JobState, NewJob, queue};
use serde_json::json;

use super::support::{JobsDb, all_jobs, enqueue};

/// Enqueues `job` in a transaction that commits or, unless `commit`, rolls
/// back; returns the id the enqueue returned.
async fn enqueue_in_transaction(db: &JobsDb, job: NewJob, commit: bool) -> Option<i64> {
    let mut conn = db.pool.get().await.unwrap();
    let mut id = None;
    let result = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            id = queue::enqueue(conn, &job).await?;
            if commit { Ok(()) } else { Err(RollbackTransaction) }
        })
        .await;
    assert_eq!(result.is_ok(), commit);
    id
}

#[tokio::test]
async fn a_job_exists_only_if_its_transaction_commits() {
    let db = JobsDb::create().await;
    let rolled_back = enqueue_in_transaction(&db, NewJob::new("rolled_back", json!({})), false).await;
    assert!(rolled_back.is_some(), "the insert itself succeeded");
    let payload = json!({ "email_id": 7 });
    let committed = enqueue_in_transaction(&db, NewJob::new("committed", payload.clone()), true).await;

    let jobs = all_jobs(&db).await;
    assert_eq!(jobs.len(), 1, "only the committed job: {jobs:?}");
    let job = &jobs[0];
    assert_eq!((Some(job.id), job.kind.as_str()), (committed, "committed"));
    assert_eq!(
        (job.payload.clone(), job.state, job.attempts),
        (payload, JobState::Pending, 0)
    );
    assert_eq!((job.max_attempts, job.unique_key.as_deref()), (10, None));
}

#[tokio::test]
async fn a_unique_key_is_enqueued_once() {
    let db = JobsDb::create().await;
    let first = enqueue(
        &db,
        NewJob::new("report", json!({ "n": 1 })).unique_key("report@2026-12-02"),
    )
    .await;
    let mut conn = db.pool.get().await.unwrap();
    let again = NewJob::new("report", json!({ "n": 2 })).unique_key("report@2026-12-02");
    assert_eq!(queue::enqueue(&mut conn, &again).await.unwrap(), None);
    let other_key = NewJob::new("report", json!({ "n": 3 })).unique_key("report@2026-12-03");
    let second = queue::enqueue(&mut conn, &other_key).await.unwrap();

    let jobs = all_jobs(&db).await;
    let stored: Vec<(i64, serde_json::Value)> = jobs.iter().map(|job| (job.id, job.payload.clone())).collect();
    assert_eq!(
        stored,
        [(second.unwrap(), json!({ "n": 3 })), (first, json!({ "n": 1 }))]
    );
}
