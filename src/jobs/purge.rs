//! Periodic purges: a job that deletes, batch by batch, what a service
//! keeps only for a while (idempotency keys, published events' payloads).
//! The orders service and the payment service register theirs with
//! [`Worker::purge_hourly`].
//!
//! Each batch is its own statement, so no purge holds locks on, or writes
//! WAL for, a whole backlog at once; a run stops after [`RUN_LIMIT`], well
//! inside any worker's lease (so no other worker takes it over while it
//! runs), and leaves the rest to the next hour's run.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use futures_util::{FutureExt, future::BoxFuture};
use tracing::info;

use super::{JobError, Periodic, Worker, cleanup::cutoff};
use crate::db::Pool;

/// The most rows one statement of a purge deletes.
pub const BATCH: i64 = 10_000;
/// The longest a purge runs before leaving the rest to the next run.
const RUN_LIMIT: Duration = Duration::from_secs(45);
const HOURLY: Duration = Duration::from_secs(3600);

/// One batch of a purge: deletes at most `limit` rows older than `cutoff`
/// and says how many it deleted.
pub type Batch = for<'c> fn(&'c mut AsyncPgConnection, DateTime<Utc>, i64) -> BoxFuture<'c, QueryResult<usize>>;

impl Worker {
    /// Runs the job `kind` hourly (once per hour across all processes): it
    /// deletes, with `batch`, what is older than `retention`.
    pub fn purge_hourly(self, kind: &'static str, retention: Duration, batch: Batch) -> Worker {
        let pool = self.pool().clone();
        self.handler(kind, move |_| purge(pool.clone(), kind, retention, batch).boxed())
            .periodic(Periodic::new(kind, HOURLY))
    }
}

/// Deletes batches until one comes back short: everything older than the
/// retention at the start is gone, and rows that age past it meanwhile
/// wait for the next run.
async fn purge(pool: Pool, kind: &'static str, retention: Duration, batch: Batch) -> Result<(), JobError> {
    let cutoff = cutoff(retention)?;
    let mut conn = pool.get().await.map_err(JobError::retry)?;
    let (started, mut purged) = (Instant::now(), 0);
    loop {
        let deleted = batch(&mut conn, cutoff, BATCH).await.map_err(JobError::retry)?;
        purged += deleted;
        if deleted < BATCH as usize {
            break;
        }
        if started.elapsed() > RUN_LIMIT {
            info!(kind, purged, %cutoff, "purge stopped at its time limit; the next run goes on");
            return Ok(());
        }
    }
    info!(kind, purged, %cutoff, "purge done");
    Ok(())
}
