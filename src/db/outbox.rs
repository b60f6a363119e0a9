//! The outbox: the audit rows whose events are still to be published
//! (`published_time IS NULL`), read and marked by [`crate::relay`].
//!
//! The rows are the audit trail's own ([`super::audit`]): an event is
//! written with its change and cannot exist without it. The relay reads
//! them in id order; changes to one order are serialised by the order's row
//! lock, so its events' ids are in the order they committed.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{Pool, audit::Action, schema::audit_events as events};

/// The session-level advisory lock the relaying process holds (see
/// [`crate::relay`]); any fixed number no other code uses.
pub const RELAY_LOCK: i64 = 0x6f72_6465_7273_7231; // "ordersr1"

/// The channel the relay `LISTEN`s on, `NOTIFY`d when events commit.
pub const CHANNEL: &str = "orders_outbox";

/// The longest a burst of commits waits for its one `NOTIFY`.
const RING_INTERVAL: Duration = Duration::from_millis(5);

/// Rung by the actions after each commit that wrote events, so the relay
/// (in this process or another) wakes at once. Why not a `NOTIFY` in the
/// transaction (or a trigger): PostgreSQL serialises the commits of every
/// transaction that notifies, which halved CreateOrder's throughput; a
/// `NOTIFY` of its own, outside, costs one tiny transaction per burst.
#[derive(Debug, Clone, Default)]
pub struct Doorbell(Arc<tokio::sync::Notify>);

impl Doorbell {
    /// Says that events have committed; never blocks.
    pub fn ring(&self) {
        self.0.notify_one();
    }

    /// Turns rings into `NOTIFY`s, one per burst (at most one every
    /// [`RING_INTERVAL`]); runs until dropped. A failed `NOTIFY` only delays
    /// the events until the relay's next poll.
    pub async fn forward(self, pool: Pool) {
        loop {
            self.0.notified().await;
            if let Ok(mut conn) = pool.get().await {
                let notify = diesel::sql_query("SELECT pg_notify($1, '')").bind::<diesel::sql_types::Text, _>(CHANNEL);
                if let Err(error) = notify.execute(&mut conn).await {
                    tracing::debug!(%error, "could not wake the relay");
                }
            }
            tokio::time::sleep(RING_INTERVAL).await;
        }
    }
}

/// One event waiting to be published.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events, check_for_backend(diesel::pg::Pg))]
pub struct PendingEvent {
    pub id: i64,
    pub action: Action,
    #[diesel(select_expression = events::event_id.assume_not_null())]
    pub event_id: Uuid,
    #[diesel(select_expression = events::event_payload.assume_not_null())]
    pub event_payload: Vec<u8>,
}

/// The oldest `limit` events not yet published, oldest first.
pub async fn pending(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<PendingEvent>> {
    events::table
        .filter(events::published_time.is_null())
        .filter(events::event_payload.is_not_null())
        .order(events::id)
        .limit(limit)
        .select(PendingEvent::as_select())
        .load(conn)
        .await
}

/// Marks the events with these row ids published now; returns how many were
/// still unpublished.
pub async fn mark_published(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<usize> {
    diesel::update(events::table)
        .filter(events::id.eq_any(ids))
        .filter(events::published_time.is_null())
        .set(events::published_time.eq(diesel::dsl::now))
        .execute(conn)
        .await
}

/// Drops the payloads of up to `limit` events published before `cutoff`
/// (the audit rows stay); returns how many.
pub async fn purge_published(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>, limit: i64) -> QueryResult<usize> {
    let expired: Vec<i64> = events::table
        .filter(events::published_time.lt(cutoff))
        .filter(events::event_payload.is_not_null())
        .order(events::published_time)
        .select(events::id)
        .limit(limit)
        .load(conn)
        .await?;
    diesel::update(events::table)
        .filter(events::id.eq_any(&expired))
        .set(events::event_payload.eq(None::<Vec<u8>>))
        .execute(conn)
        .await
}
