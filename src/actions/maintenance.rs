//! The orders service's upkeep, as jobs of its own queue ([`crate::jobs`]):
//! what the service keeps only for a while is deleted once it is old.
//!
//! * [`PURGE_IDEMPOTENCY_KEYS`]: keys older than the idempotency retention.
//!   A retry within the retention gets its first response; after it, the
//!   request would be done again.
//! * [`PURGE_PUBLISHED_EVENTS`]: the payloads of published events whose
//!   change is older than the outbox retention (the audit rows stay, see
//!   [`crate::db::outbox::purge_published`]).
//!
//! Both run hourly, once per hour across all processes, and delete in
//! batches of [`BATCH`], each its own statement, so that no purge holds
//! locks on, or writes WAL for, a whole backlog at once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use futures_util::{FutureExt, future::BoxFuture};
use tracing::info;

use crate::{
    config::SecretUrl,
    db::{Pool, idempotency, outbox},
    jobs::{Job, JobError, Periodic, Worker, cleanup::cutoff},
};

/// The job that deletes old idempotency keys.
pub const PURGE_IDEMPOTENCY_KEYS: &str = "purge_idempotency_keys";
/// The job that drops the payloads of long-published events.
pub const PURGE_PUBLISHED_EVENTS: &str = "purge_published_events";
/// The most rows one statement of a purge deletes.
pub const BATCH: i64 = 10_000;

const HOURLY: Duration = Duration::from_secs(3600);
/// How long succeeded jobs stay listed (`orders jobs list`).
const SUCCEEDED_JOBS_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// The worker of the orders database's queue, with both purges (hourly)
/// and the deletion of old succeeded jobs.
pub fn orders_worker(
    pool: Pool,
    database_url: SecretUrl,
    idempotency_retention: Duration,
    outbox_retention: Duration,
) -> Worker {
    let purge_keys = purge_job(pool.clone(), Purge::IdempotencyKeys, idempotency_retention);
    let purge_events = purge_job(pool.clone(), Purge::PublishedEvents, outbox_retention);
    Worker::new("orders", pool, database_url)
        .handler(PURGE_IDEMPOTENCY_KEYS, purge_keys)
        .handler(PURGE_PUBLISHED_EVENTS, purge_events)
        .periodic(Periodic::new(PURGE_IDEMPOTENCY_KEYS, HOURLY))
        .periodic(Periodic::new(PURGE_PUBLISHED_EVENTS, HOURLY))
        .delete_succeeded_after(SUCCEEDED_JOBS_RETENTION)
}

/// What a purge deletes.
#[derive(Debug, Clone, Copy)]
enum Purge {
    IdempotencyKeys,
    PublishedEvents,
}

impl Purge {
    /// Deletes one batch of what is older than `cutoff`; returns how many rows.
    async fn batch(self, conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>) -> QueryResult<usize> {
        match self {
            Purge::IdempotencyKeys => idempotency::purge_before(conn, cutoff, BATCH).await,
            Purge::PublishedEvents => outbox::purge_published(conn, cutoff, BATCH).await,
        }
    }
}

/// The handler of `purge`, keeping what is younger than `retention`.
fn purge_job(
    pool: Pool,
    purge: Purge,
    retention: Duration,
) -> impl Fn(Job) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync + 'static {
    move |_| {
        let pool = pool.clone();
        async move { purge_all(&pool, purge, retention).await }.boxed()
    }
}

/// Deletes batches until one comes back short: everything older than the
/// retention at the start is gone, and rows that age past it meanwhile
/// wait for the next run. A run stops after [`RUN_LIMIT`], well inside the
/// orders worker's lease (so no other worker takes the job over while it
/// runs); a backlog left over goes in the next hour's run.
async fn purge_all(pool: &Pool, purge: Purge, retention: Duration) -> Result<(), JobError> {
    let cutoff = cutoff(retention)?;
    let mut conn = pool.get().await.map_err(JobError::retry)?;
    let (started, mut purged) = (std::time::Instant::now(), 0);
    loop {
        let deleted = purge.batch(&mut conn, cutoff).await.map_err(JobError::retry)?;
        purged += deleted;
        if deleted < BATCH as usize {
            break;
        }
        if started.elapsed() > RUN_LIMIT {
            info!(?purge, purged, %cutoff, "purge stopped at its time limit; the next run goes on");
            return Ok(());
        }
    }
    info!(?purge, purged, %cutoff, "purge done");
    Ok(())
}

/// The longest a purge runs before leaving the rest to the next run.
const RUN_LIMIT: Duration = Duration::from_secs(45);
