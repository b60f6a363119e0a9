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
//! Both run hourly, once per hour across all processes, in batches
//! ([`crate::jobs::purge`]).

use std::time::Duration;

use futures_util::FutureExt;

use crate::{
    config::SecretUrl,
    db::{Pool, idempotency, outbox},
    jobs::{Worker, cleanup::SUCCEEDED_RETENTION},
};

pub use crate::db::idempotency::PURGE_IDEMPOTENCY_KEYS;
/// The job that drops the payloads of long-published events.
pub const PURGE_PUBLISHED_EVENTS: &str = "purge_published_events";

/// The worker of the orders database's queue, with both purges (hourly)
/// and the deletion of old succeeded jobs.
pub fn orders_worker(
    pool: Pool,
    database_url: SecretUrl,
    idempotency_retention: Duration,
    outbox_retention: Duration,
) -> Worker {
    Worker::new("orders", pool, database_url)
        .purge_hourly(PURGE_IDEMPOTENCY_KEYS, idempotency_retention, |conn, cutoff, limit| {
            idempotency::purge_before(conn, cutoff, limit).boxed()
        })
        .purge_hourly(PURGE_PUBLISHED_EVENTS, outbox_retention, |conn, cutoff, limit| {
            outbox::purge_published(conn, cutoff, limit).boxed()
        })
        .delete_succeeded_after(SUCCEEDED_RETENTION)
}
