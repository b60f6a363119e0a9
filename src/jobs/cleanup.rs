//! The queue's own upkeep: succeeded jobs are deleted once they are older
//! than a retention, by a periodic job of the queue itself, so the table
//! holds the recent past for operators (`list`) and not all of history.
//! Failed jobs stay until an operator retries or deletes them.
//!
//! [`cutoff`] is here too: every job that deletes what is older than a
//! retention computes its cutoff the same way.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use futures_util::FutureExt;
use tracing::debug;

use super::{JobError, Periodic, Worker, queue};
use crate::db::Pool;

/// The kind of the job that deletes old succeeded jobs.
pub const DELETE_SUCCEEDED: &str = "jobs.delete_succeeded";

/// How long every service keeps its succeeded jobs listed (`orders jobs list`).
pub const SUCCEEDED_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

impl Worker {
    /// Deletes succeeded jobs once they are older than `retention`, hourly.
    pub fn delete_succeeded_after(self, retention: Duration) -> Worker {
        let pool = self.pool().clone();
        self.handler(DELETE_SUCCEEDED, move |_| {
            delete_succeeded(pool.clone(), retention).boxed()
        })
        .periodic(Periodic::new(DELETE_SUCCEEDED, Duration::from_secs(3600)))
    }
}

/// The [`DELETE_SUCCEEDED`] job.
async fn delete_succeeded(pool: Pool, retention: Duration) -> Result<(), JobError> {
    let cutoff = cutoff(retention)?;
    let mut conn = pool.get().await.map_err(JobError::retry)?;
    let deleted = queue::delete_finished_before(&mut conn, cutoff)
        .await
        .map_err(JobError::retry)?;
    debug!(deleted, "deleted old succeeded jobs");
    Ok(())
}

/// The time `retention` ago, for jobs that delete what is older; a
/// retention too long to subtract fails the job permanently.
pub fn cutoff(retention: Duration) -> Result<DateTime<Utc>, JobError> {
    TimeDelta::from_std(retention)
        .ok()
        .and_then(|retention| Utc::now().checked_sub_signed(retention))
        .ok_or_else(|| JobError::Permanent(format!("a retention of {retention:?} reaches before the calendar")))
}
