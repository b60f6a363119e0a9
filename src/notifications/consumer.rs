//! The notifications service's durable JetStream consumer: order events in
//! stream order (so one order's emails go out in the order its changes
//! happened), each acked only after it was handled. What has arrived is
//! handled as a batch in one transaction (up to [`BATCH`]): one commit per
//! batch instead of one per event.
//!
//! The consumer is named `notifications` and filters `<prefix>.order.>`:
//! JetStream keeps its position across restarts, and redelivers a message
//! that was not acked within [`ACK_WAIT`]. A message that cannot be handled
//! now (the database is down) is nak'ed with a delay and comes back; one that
//! can never be handled is parked by [`super::actions::handle`] and acked, so
//! it never blocks the ones behind it; a batch that fails is retried one
//! event at a time, so only the event that cannot be handled waits.
//!
//! With traces on, each message is handled in a CONSUMER span
//! `{subject} process`, the child of the relay's publish span whose context
//! the message's headers carry ([`crate::traces::messaging`]); the span
//! lasts until the message is acked.

use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures_util::{FutureExt, StreamExt};
use lettre::message::Mailbox;
use tracing::{debug, info, warn};

use super::actions::{self, Incoming};
use crate::{
    config::SubjectPrefix,
    db::Pool,
    events::{self, EVENT_TYPE_HEADER},
    jobs::Backoff,
    monitoring::catalogue::REDELIVERIES,
    traces::messaging,
};

/// The durable consumer's name on the stream.
pub const CONSUMER: &str = "notifications";
/// How long JetStream waits for an ack before it redelivers.
pub const ACK_WAIT: Duration = Duration::from_secs(30);
const NAK_DELAY: Duration = Duration::from_secs(1);
/// The most events handled in one transaction.
const BATCH: usize = 100;
/// The waits before reconnecting: 100 ms doubling, at most 10 s.
const BACKOFF: Backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));

/// Consumes until the future is dropped, reconnecting with backoff.
pub async fn run(jetstream: jetstream::Context, prefix: SubjectPrefix, pool: Pool, from: Mailbox) {
    let mut failures = 0;
    loop {
        let ended = consume(&jetstream, &prefix, &pool, &from).await;
        failures = if ended.is_ok() { 1 } else { failures + 1 };
        let retry_in = BACKOFF.delay(failures);
        if let Err(error) = ended {
            warn!(%error, ?retry_in, "notifications consumer interrupted");
        }
        tokio::time::sleep(retry_in).await;
    }
}

type ConsumeError = Box<dyn std::error::Error + Send + Sync>;

async fn consume(
    js: &jetstream::Context,
    prefix: &SubjectPrefix,
    pool: &Pool,
    from: &Mailbox,
) -> Result<(), ConsumeError> {
    let stream = events::stream::ensure(js, prefix).await?;
    let config = pull::Config {
        durable_name: Some(CONSUMER.to_owned()),
        filter_subject: prefix.subject("order.>"),
        ack_policy: jetstream::consumer::AckPolicy::Explicit,
        ack_wait: ACK_WAIT,
        description: Some("Emails customers about their orders".to_owned()),
        ..Default::default()
    };
    let consumer = stream.get_or_create_consumer(CONSUMER, config).await?;
    info!(stream = %prefix.stream_name(), consumer = CONSUMER, "consuming order events");
    let mut messages = consumer.messages().await?;
    while let Some(first) = messages.next().await {
        let mut batch = vec![first?];
        // What has already arrived joins the batch; nothing waits for more.
        while batch.len() < BATCH {
            match messages.next().now_or_never() {
                Some(Some(message)) => batch.push(message?),
                _ => break,
            }
        }
        handle_batch(pool, from, &batch).await?;
    }
    Ok(())
}

/// Handles a batch in one transaction and acks it; if that fails, each
/// message alone, so one that cannot be handled now holds back only itself.
async fn handle_batch(pool: &Pool, from: &Mailbox, batch: &[jetstream::Message]) -> Result<(), ConsumeError> {
    let arrived: Vec<Arrived<'_>> = batch.iter().map(Arrived::of).collect::<Result<_, _>>()?;
    let incoming: Vec<Incoming<'_>> = arrived.iter().map(Arrived::incoming).collect();
    match actions::handle(pool, from, &incoming).await {
        Ok(handled) => {
            debug!(events = handled.len(), ?handled, "events handled");
            // A lost ack is harmless: the redelivery is a duplicate.
            let acks = batch.iter().map(|message| message.double_ack());
            futures_util::future::try_join_all(acks).await?;
        }
        Err(error) if batch.len() > 1 => {
            debug!(%error, events = batch.len(), "a batch failed; handling its events one by one");
            for message in batch {
                Box::pin(handle_batch(pool, from, std::slice::from_ref(message))).await?;
            }
        }
        Err(error) => {
            let sequence = incoming[0].stream_sequence;
            warn!(%error, sequence, "could not handle an event now; it will be redelivered");
            batch[0].ack_with(AckKind::Nak(Some(NAK_DELAY))).await?;
        }
    }
    Ok(())
}

/// A delivered message's headers and place in the stream, read once.
struct Arrived<'a> {
    message: &'a jetstream::Message,
    event_type: String,
    message_id: String,
    stream_sequence: u64,
    /// The message's `process` span (disabled without traces).
    span: tracing::Span,
}

impl<'a> Arrived<'a> {
    fn of(message: &'a jetstream::Message) -> Result<Self, ConsumeError> {
        // Stored in text columns, which cannot hold a NUL byte: one in a
        // header would fail the event's transaction at every redelivery.
        let header = |name: &str| {
            let value = message.headers.as_ref().and_then(|h| h.get(name));
            value.map(|v| v.as_str().replace('\0', "\u{FFFD}")).unwrap_or_default()
        };
        let info = message.info()?;
        if info.delivered > 1 {
            metrics::counter!(REDELIVERIES, "consumer" => CONSUMER).increment(1);
        }
        let message_id = header("Nats-Msg-Id");
        let headers = message.headers.as_ref();
        let span = messaging::process_span(message.subject.as_str(), &message_id, CONSUMER, headers);
        Ok(Arrived {
            message,
            event_type: header(EVENT_TYPE_HEADER),
            message_id,
            stream_sequence: info.stream_sequence,
            span,
        })
    }

    fn incoming(&self) -> Incoming<'_> {
        Incoming {
            subject: self.message.subject.as_str(),
            event_type: &self.event_type,
            message_id: &self.message_id,
            stream_sequence: self.stream_sequence,
            payload: &self.message.payload,
            span: &self.span,
        }
    }
}
