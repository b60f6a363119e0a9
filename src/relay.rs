//! The outbox relay: publishes a service's committed events
//! ([`crate::db::outbox`]) to NATS JetStream in commit order, and moves its
//! watermark past them once JetStream has acked them. One implementation
//! for every outbox (the orders service's audit trail, the payment ledger):
//! what differs is the [`Outbox`] it relays.
//!
//! Guarantees, and how:
//! * **None lost.** The watermark moves only past events JetStream has acked
//!   (the stream has stored them), and never past an event that could still
//!   commit behind it ([`crate::db::outbox::pending`]). A crash before the
//!   move leaves them pending; they are published again after the restart.
//! * **None twice** that JetStream would not drop: every publish carries
//!   `Nats-Msg-Id` = the event id, so a republish within the stream's
//!   duplicate window ([`crate::events::stream::DUPLICATE_WINDOW`]) is
//!   acked as a duplicate and not stored again.
//! * **In order per order**, and **one relay at a time** across processes: the
//!   relaying process holds a session-level advisory lock
//!   ([`Outbox::lock`]) on a connection of its own; the
//!   others stand by and take over when that connection ends (its process
//!   died, or lost the database). Why a lock and not `FOR UPDATE SKIP
//!   LOCKED`: with several relays each taking a batch, two events of one
//!   order could go out in the wrong order; one relay publishes in commit
//!   order, and it keeps up with the service's peak (see BENCHMARKS.md).
//! * **Woken on commit**: the same connection `LISTEN`s on the channel that
//!   every server process `NOTIFY`s after its commits that wrote events
//!   ([`crate::db::outbox::Doorbell`]); a poll every [`POLL`] is the safety
//!   net for a missed notification. Rounds start at most once per
//!   `--outbox-relay-interval`, so a busy outbox goes out in larger batches.
//! * **Backoff**: while NATS (or the database) fails, the relay retries
//!   with exponential backoff up to [`MAX_BACKOFF`]; events wait in the
//!   outbox meanwhile.
//! * **Traced**, with traces on: each publish is a PRODUCER span
//!   `{subject} publish`, a child of the context stored with the event (the
//!   change's commit, [`crate::db::place`]), from the send until JetStream's
//!   ack, and its context goes out in the message's `traceparent` and
//!   `tracestate` headers for the consumers to continue
//!   ([`crate::traces::messaging`]).

use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage};
use futures_util::FutureExt;
use tracing::{debug, info, warn};

use crate::{
    config::{SecretUrl, SubjectPrefix},
    db::{
        Pool,
        listener::Listener,
        outbox::{self, Outbox, PendingEvent, Position},
    },
    events::{self, EVENT_TYPE_HEADER},
    jobs::Backoff,
    monitoring::catalogue::{OUTBOX_LAG_SECONDS, OUTBOX_PUBLISHED},
    traces::{self, messaging},
};

/// The most events read and published in one go.
pub const BATCH: i64 = 500;
/// How often the relay looks for events when no notification came.
pub const POLL: Duration = Duration::from_secs(1);
/// How often a standby process tries to take over.
const STANDBY_POLL: Duration = Duration::from_secs(2);
/// The waits after failures: 100 ms doubling, at most [`MAX_BACKOFF`].
const BACKOFF: Backoff = Backoff::new(Duration::from_millis(100), MAX_BACKOFF);
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Why a round of the relay failed; it is retried after a backoff.
#[derive(Debug, thiserror::Error)]
enum RelayError {
    #[error("database: {0}")]
    Database(String),
    #[error("the listening connection ended: {0}")]
    Listener(String),
    #[error("JetStream: {0}")]
    Publish(String),
}

/// What the relay needs: which outbox, the pool of its database, the URL
/// for its own listening connection, and where to publish.
#[derive(Clone)]
pub struct Relay {
    pub outbox: Outbox,
    pub pool: Pool,
    pub database_url: SecretUrl,
    pub jetstream: jetstream::Context,
    pub prefix: SubjectPrefix,
    /// The shortest time between two rounds (`--outbox-relay-interval`).
    pub interval: Duration,
}

impl Relay {
    /// Relays until `shutdown` completes. Stopping between a publish and the
    /// watermark's move is safe: the event is published again, as a duplicate.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::select! {
            () = shutdown => debug!("outbox relay stopped"),
            () = self.relay_forever() => {}
        }
    }

    async fn relay_forever(&self) {
        for failures in 1.. {
            let Err(error) = self.lead().await;
            let retry_in = BACKOFF.delay(failures);
            warn!(%error, ?retry_in, "outbox relay interrupted");
            tokio::time::sleep(retry_in).await;
        }
    }

    /// Connects, waits to hold the relay lock, then relays until something fails.
    async fn lead(&self) -> Result<std::convert::Infallible, RelayError> {
        let name = format!("{}-relay", self.outbox.service);
        let listener = Listener::connect(&self.database_url, &name, self.outbox.channel);
        let listener = listener.await.map_err(|e| RelayError::Listener(e.to_string()))?;
        let mut lost = listener.lost;
        while !try_lock(&listener.client, self.outbox.lock).await? {
            tokio::select! {
                () = tokio::time::sleep(STANDBY_POLL) => {}
                _ = &mut lost => return Err(RelayError::Listener("closed while standing by".into())),
            }
        }
        events::stream::ensure(&self.jetstream, &self.prefix)
            .await
            .map_err(|e| RelayError::Publish(e.to_string()))?;
        info!(stream = %self.prefix.stream_name(), service = self.outbox.service, "relaying the outbox to JetStream");
        let mut position = None;
        let mut failures = 0;
        loop {
            let paced = tokio::time::sleep(self.interval);
            let wait = match self.publish_pending(&mut position).await {
                Ok(count) if count == BATCH as usize => continue,
                Ok(_) => {
                    failures = 0;
                    let wake = listener.wake.clone();
                    async move { tokio::join!(wake.notified(), paced) }.map(drop).boxed()
                }
                Err(error) => {
                    failures += 1;
                    let retry_in = BACKOFF.delay(failures);
                    warn!(%error, ?retry_in, "publishing events failed; they wait in the outbox");
                    tokio::time::sleep(retry_in).boxed()
                }
            };
            tokio::select! {
                () = wait => {}
                () = tokio::time::sleep(POLL) => {}
                _ = &mut lost => return Err(RelayError::Listener("closed".into())),
            }
        }
    }

    /// Publishes the batch after `position` and moves the watermark past what
    /// JetStream acked. Returns how many events the batch held. The position
    /// is read once per leadership (no other relay moves it meanwhile), and
    /// again after a database failure, which may have lost the last move.
    async fn publish_pending(&self, position: &mut Option<Position>) -> Result<usize, RelayError> {
        let mut conn = self.pool.get().await.map_err(|e| RelayError::Database(e.to_string()))?;
        let from = match position.take() {
            Some(known) => known,
            None => outbox::position(&mut conn).await.map_err(database)?,
        };
        let batch = outbox::pending(&mut conn, &self.outbox, from, BATCH)
            .await
            .map_err(database)?;
        let (acked, failure) = self.publish(&batch).await;
        let reached = acked.last().map_or(from, |last| last.position());
        if reached != from {
            outbox::advance(&mut conn, reached).await.map_err(database)?;
            debug!(published = acked.len(), "events published");
        }
        count_published(&acked);
        *position = Some(reached);
        match failure {
            Some(error) => Err(error),
            None => Ok(batch.len()),
        }
    }

    /// Sends every publish before awaiting any ack (one round trip for the
    /// batch, not one per event); stops at the first failure, so what is
    /// acked is always a prefix of the batch.
    async fn publish<'a>(&self, batch: &'a [PendingEvent]) -> (Vec<&'a PendingEvent>, Option<RelayError>) {
        let mut sent = Vec::with_capacity(batch.len());
        let mut failure = None;
        for event in batch {
            // The schema gives a payload only to actions that publish.
            let Some((suffix, message_type)) = (self.outbox.topic)(&event.kind) else {
                failure = Some(RelayError::Database(format!(
                    "row {} has no event to publish",
                    event.id
                )));
                break;
            };
            let subject = self.prefix.subject(suffix);
            let span = messaging::publish_span(&subject, event.event_id, event.stored_trace());
            let mut message = PublishMessage::build()
                .payload(event.event_payload.clone().into())
                .message_id(event.event_id.to_string())
                .header(EVENT_TYPE_HEADER, message_type);
            for (name, value) in messaging::headers_of(&span) {
                message = message.header(name, value);
            }
            let publish = self.jetstream.send_publish(subject, message);
            match tracing::Instrument::instrument(publish, span.clone()).await {
                Ok(ack) => sent.push((event, ack, span)),
                Err(e) => {
                    failure = Some(RelayError::Publish(e.to_string()));
                    break;
                }
            }
        }
        let mut acked = Vec::with_capacity(sent.len());
        for (event, ack, span) in sent {
            let acked_or_not = ack.await;
            traces::record_result(&span, &acked_or_not);
            match acked_or_not {
                Ok(_) => acked.push(event),
                Err(e) => {
                    failure = Some(RelayError::Publish(e.to_string()));
                    break;
                }
            }
        }
        (acked, failure)
    }
}

/// Counts what JetStream acknowledged, and how long after its time each
/// event got there.
fn count_published(acked: &[&PendingEvent]) {
    let now = chrono::Utc::now();
    metrics::counter!(OUTBOX_PUBLISHED).increment(acked.len() as u64);
    for event in acked {
        let lag = (now - event.event_time).to_std().unwrap_or_default();
        metrics::histogram!(OUTBOX_LAG_SECONDS).record(lag.as_secs_f64());
    }
}

fn database(error: diesel::result::Error) -> RelayError {
    RelayError::Database(error.to_string())
}

async fn try_lock(client: &tokio_postgres::Client, lock: i64) -> Result<bool, RelayError> {
    let row = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&lock])
        .await
        .map_err(|e| RelayError::Listener(e.to_string()))?;
    Ok(row.get(0))
}
