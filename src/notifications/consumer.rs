//! The notifications service's durable JetStream consumer: order events,
//! one at a time and in stream order (so one order's emails go out in the
//! order its changes happened), each acked only after it was handled.
//!
//! The consumer is named `notifications` and filters `<prefix>.order.>`:
//! JetStream keeps its position across restarts, and redelivers a message
//! that was not acked within [`ACK_WAIT`]. A message that cannot be handled
//! now (the database is down) is nak'ed with a delay and comes back; one that
//! can never be handled is parked by [`super::actions::handle`] and acked, so
//! it never blocks the ones behind it.

use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures_util::StreamExt;
use lettre::message::Mailbox;
use tracing::{debug, info, warn};

use super::actions::{self, Incoming};
use crate::{
    config::SubjectPrefix,
    db::Pool,
    events::{self, EVENT_TYPE_HEADER},
    jobs::Backoff,
};

/// The durable consumer's name on the stream.
pub const CONSUMER: &str = "notifications";
/// How long JetStream waits for an ack before it redelivers.
pub const ACK_WAIT: Duration = Duration::from_secs(30);
const NAK_DELAY: Duration = Duration::from_secs(1);
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
    while let Some(message) = messages.next().await {
        let message = message?;
        let sequence = message.info()?.stream_sequence;
        let header = |name: &str| {
            message
                .headers
                .as_ref()
                .and_then(|h| h.get(name))
                .map(|v| v.as_str().to_owned())
        };
        let (event_type, message_id) = (header(EVENT_TYPE_HEADER), header("Nats-Msg-Id"));
        let incoming = Incoming {
            subject: message.subject.as_str(),
            event_type: event_type.as_deref().unwrap_or_default(),
            message_id: message_id.as_deref().unwrap_or_default(),
            stream_sequence: sequence,
            payload: &message.payload,
        };
        match actions::handle(pool, from, &incoming).await {
            Ok(handled) => {
                debug!(sequence, ?handled, "event handled");
                // A lost ack is harmless: the redelivery is a duplicate.
                message.double_ack().await?;
            }
            Err(error) => {
                warn!(%error, sequence, "could not handle an event now; it will be redelivered");
                message.ack_with(AckKind::Nak(Some(NAK_DELAY))).await?;
            }
        }
    }
    Ok(())
}
