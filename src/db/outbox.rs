//! The outbox: the rows whose events the relay ([`crate::relay`]) has
//! still to publish, and its progress through them, for every service that
//! has one ([`Outbox`]: the orders service's, [`ORDERS`], and the payment
//! service's ledger, `crate::payments::db::OUTBOX`).
//!
//! The rows are the service's own records (the orders service's audit
//! trail, [`super::audit`]; the payment ledger): an event is written with
//! its change and cannot exist without it, and the relay never writes to
//! it. Its progress is one watermark ([`Position`], the table
//! `outbox_cursor` of the same database): every event up to there, in
//! (transaction id, row id) order, is published.
//!
//! Why one descriptor and SQL text rather than diesel's query builder: the
//! queries are the same for every outbox but for the relation they read,
//! which diesel's typed tables cannot take as a parameter; each outbox
//! names a relation with the same columns ([`Outbox::events`]).
//!
//! Why that order, and why no event is skipped: each row carries the id of
//! the transaction that wrote it, and [`pending`] returns only rows whose
//! transaction id is below the reading snapshot's `xmin`. Every transaction
//! older than that has ended, so a row that commits later always sorts after
//! the watermark. Changes to one order or product come out in the order they
//! committed because every transaction that changes an existing one locks
//! its row (`SELECT … FOR UPDATE`) before it writes anything, and
//! PostgreSQL gives a transaction its id at its first write or row lock,
//! after any wait for that lock: the later change has the larger id.
//!
//! The price: an event waits until every transaction that began before it
//! on the cluster has ended, so a transaction left open for minutes (on any
//! database of the cluster) holds the events back as long; the same thing
//! holds back VACUUM, and `pg_stat_activity` shows it.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Bytea, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{
    Pool,
    audit::Action,
    schema::{audit_events as events, outbox_cursor},
};

/// One service's outbox: where its events are, what they publish, and how
/// its relay is woken and elected.
#[derive(Debug, Clone, Copy)]
pub struct Outbox {
    /// The service, for logs and the relay's connection name.
    pub service: &'static str,
    /// A relation (table, view or subquery) of the events, with the columns
    /// `id`, `transaction_id`, `kind`, `event_time`, `event_id`,
    /// `event_payload`, `trace_parent`, `trace_state`; rows without a
    /// payload are not events.
    pub events: &'static str,
    /// The channel its relay `LISTEN`s on, `NOTIFY`d when events commit.
    pub channel: &'static str,
    /// The session-level advisory lock the relaying process holds (see
    /// [`crate::relay`]); any fixed number no other code of that database uses.
    pub lock: i64,
    /// What an event of `kind` is: its subject's suffix and its message
    /// type's full name; `None` for a kind that publishes nothing.
    pub topic: fn(&str) -> Option<(&'static str, &'static str)>,
}

/// The orders service's outbox: the audit rows that carry an event.
pub const ORDERS: Outbox = Outbox {
    service: "orders",
    events: "(SELECT id, transaction_id, action AS kind, event_time, event_id, event_payload, \
             trace_parent, trace_state FROM audit_events WHERE event_payload IS NOT NULL)",
    channel: "orders_outbox",
    lock: 0x6f72_6465_7273_7231, // "ordersr1"
    topic: |kind| Action::ALL.iter().find(|a| a.as_db() == kind)?.event(),
};

/// One `NOTIFY`, committed without waiting for its WAL flush: a `NOTIFY`
/// gives its transaction an id, hence a commit record, and the orders whose
/// events it announces have already waited for theirs. Losing it in a crash
/// loses nothing: the relay polls, and starts by reading what is pending.
const RING: &str = "SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, '')";

/// Rung by the actions after each commit that wrote events, so the relay
/// (in this process or another) wakes at once. Why not a `NOTIFY` in the
/// transaction (or a trigger): PostgreSQL serialises the commits of every
/// transaction that notifies, which halved CreateOrder's throughput; a
/// `NOTIFY` of its own, outside, costs one tiny transaction per burst.
#[derive(Debug, Clone)]
pub struct Doorbell {
    rung: Arc<tokio::sync::Notify>,
    /// The channel of the outbox it wakes the relay of.
    channel: &'static str,
    /// At most one `NOTIFY` per interval: the relay's own pace
    /// (`--outbox-relay-interval`), since it would not start a round sooner.
    interval: Duration,
}

impl Doorbell {
    pub fn new(outbox: &Outbox, interval: Duration) -> Doorbell {
        Doorbell {
            rung: Default::default(),
            channel: outbox.channel,
            interval,
        }
    }

    /// Says that events have committed; never blocks.
    pub fn ring(&self) {
        self.rung.notify_one();
    }

    /// Turns rings into `NOTIFY`s, one per burst (at most one per interval);
    /// runs until dropped. A failed `NOTIFY` only delays the events until
    /// the relay's next poll.
    pub async fn forward(self, pool: Pool) {
        loop {
            self.rung.notified().await;
            if let Ok(mut conn) = pool.get().await {
                let notify = diesel::sql_query(RING).bind::<Text, _>(self.channel);
                if let Err(error) = notify.execute(&mut conn).await {
                    tracing::debug!(%error, "could not wake the relay");
                }
            }
            tokio::time::sleep(self.interval).await;
        }
    }
}

/// Where the relay is: the last event published, by (transaction id, row
/// id); everything at or before it is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = outbox_cursor, check_for_backend(diesel::pg::Pg))]
pub struct Position {
    pub transaction_id: i64,
    #[diesel(column_name = row_id)]
    pub id: i64,
}

/// One event waiting to be published.
#[derive(Debug, Clone, QueryableByName)]
pub struct PendingEvent {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub transaction_id: i64,
    /// What it is ([`Outbox::topic`] says what it publishes).
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Timestamptz)]
    pub event_time: chrono::DateTime<chrono::Utc>,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub event_id: Uuid,
    #[diesel(sql_type = Bytea)]
    pub event_payload: Vec<u8>,
    /// The trace context of the change that wrote it ([`super::audit`]).
    #[diesel(sql_type = Nullable<Text>)]
    pub trace_parent: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub trace_state: Option<String>,
}

impl PendingEvent {
    /// The trace context stored with the event, if any (and traces are on).
    pub fn stored_trace(&self) -> Option<crate::traces::propagation::StoredContext> {
        let parent = self.trace_parent.clone().filter(|_| crate::traces::enabled())?;
        Some(crate::traces::propagation::StoredContext {
            parent,
            state: self.trace_state.clone(),
        })
    }

    pub fn position(&self) -> Position {
        Position {
            transaction_id: self.transaction_id,
            id: self.id,
        }
    }
}

/// The relay's position.
pub async fn position(conn: &mut AsyncPgConnection) -> QueryResult<Position> {
    outbox_cursor::table.select(Position::as_select()).first(conn).await
}

/// Moves the relay's position forward to `to` (never back: a relay that
/// lost its lock and finishes a batch late cannot undo a newer one).
///
/// The commit does not wait for its WAL flush (`synchronous_commit = off`),
/// so the relay never queues for the disk with the changes it relays: a
/// crash can lose the last moves (a fraction of a second), and the events
/// after the older position are then published again, as the duplicates
/// that `Nats-Msg-Id` lets JetStream drop.
pub async fn advance(conn: &mut AsyncPgConnection, to: Position) -> QueryResult<()> {
    diesel::sql_query(ADVANCE)
        .bind::<BigInt, _>(to.transaction_id)
        .bind::<BigInt, _>(to.id)
        .execute(conn)
        .await?;
    Ok(())
}

/// [`advance`] in one statement (one round trip instead of `BEGIN`, `SET
/// LOCAL`, `UPDATE`, `COMMIT`): the CTE turns the synchronous commit off for
/// the statement's own transaction, and the row comparison keeps it forward.
const ADVANCE: &str = "WITH quiet AS (SELECT set_config('synchronous_commit', 'off', true)) \
     UPDATE outbox_cursor SET transaction_id = $1, row_id = $2, update_time = now() FROM quiet \
     WHERE (outbox_cursor.transaction_id, outbox_cursor.row_id) < ($1, $2)";

#[derive(QueryableByName)]
pub struct Backlog {
    /// Events after the relay's position.
    #[diesel(sql_type = BigInt)]
    pub events: i64,
    /// The age of the oldest of them, in seconds (0 when none).
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub oldest_age_seconds: f64,
}

/// What waits to be published: every event after the relay's position,
/// including those of transactions still too young to be relayed.
pub async fn backlog(conn: &mut AsyncPgConnection, outbox: &Outbox) -> QueryResult<Backlog> {
    diesel::sql_query(format!(
        "SELECT count(*) AS events, \
         coalesce(extract(epoch FROM now() - min(a.event_time)), 0)::float8 AS oldest_age_seconds \
         FROM {} a, outbox_cursor c WHERE (a.transaction_id, a.id) > (c.transaction_id, c.row_id)",
        outbox.events
    ))
    .get_result(conn)
    .await
}

/// Up to `limit` events of `outbox` after `from`, in the order they are
/// published; only those of transactions older than every one still
/// running (see the module's doc). The condition on `transaction_id` is in
/// a form whose first term the outbox's index serves as a range.
pub async fn pending(
    conn: &mut AsyncPgConnection,
    outbox: &Outbox,
    from: Position,
    limit: i64,
) -> QueryResult<Vec<PendingEvent>> {
    diesel::sql_query(format!(
        "SELECT id, transaction_id, kind, event_time, event_id, event_payload, trace_parent, trace_state \
         FROM {} e WHERE transaction_id >= $1 AND (transaction_id > $1 OR id > $2) \
         AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
         ORDER BY transaction_id, id LIMIT $3",
        outbox.events
    ))
    .bind::<BigInt, _>(from.transaction_id)
    .bind::<BigInt, _>(from.id)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// Drops the payloads of the published events written before `cutoff`,
/// among the `limit` oldest that still have one (the audit rows stay);
/// returns how many. Fewer than `limit` means none older is left, but for
/// rows of transactions that ran across the cutoff, which wait for the next
/// run.
pub async fn purge_published(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>, limit: i64) -> QueryResult<usize> {
    let published = position(conn).await?;
    let oldest: Vec<(i64, DateTime<Utc>)> = events::table
        .filter(events::event_payload.is_not_null())
        .filter(at_or_before(published))
        .order((events::transaction_id, events::id))
        .select((events::id, events::event_time))
        .limit(limit)
        .load(conn)
        .await?;
    let expired: Vec<i64> = oldest
        .into_iter()
        .filter(|(_, time)| *time < cutoff)
        .map(|(id, _)| id)
        .collect();
    diesel::update(events::table)
        .filter(events::id.eq_any(&expired))
        .set(events::event_payload.eq(None::<Vec<u8>>))
        .execute(conn)
        .await
}

/// The events at or before `position`: `(transaction_id, id) <= position`.
#[diesel::dsl::auto_type]
fn at_or_before(position: Position) -> _ {
    let (transaction_id, id): (i64, i64) = (position.transaction_id, position.id);
    events::transaction_id
        .le(transaction_id)
        .and(events::transaction_id.lt(transaction_id).or(events::id.le(id)))
}
