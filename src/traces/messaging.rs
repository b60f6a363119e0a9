//! The spans of NATS messages, by OpenTelemetry's messaging conventions:
//! `{subject} publish` (PRODUCER) when the relay publishes an event and
//! `{subject} process` (CONSUMER) when a service handles it, with
//! `messaging.system = nats`, `messaging.destination.name` (the subject),
//! `messaging.operation.type` and `messaging.message.id` (`Nats-Msg-Id`,
//! the event's id).
//!
//! The consumer's span is the publish span's child, not a link: each
//! message starts its own handling (a batch is one transaction, but every
//! message in it gets its own span), so the one parent is unambiguous and a
//! trace viewer shows the order's whole life as one tree.

use std::fmt::Display;

use tracing::{Span, field::Empty};

use super::{
    SPANS,
    propagation::{self, StoredContext},
};

/// The span of publishing the event `message_id` on `subject`, continuing
/// the trace stored with it (a root when none was stored).
pub fn publish_span(subject: &str, message_id: impl Display, stored: Option<StoredContext>) -> Span {
    let span = message_span(subject, Operation::Publish, message_id, None);
    if let Some(stored) = stored.filter(|_| !span.is_disabled()) {
        propagation::set_parent(&span, stored.context());
    }
    span
}

/// The headers that carry `span`'s context in its message (none when the
/// span is disabled).
pub fn headers_of(span: &Span) -> Vec<(String, String)> {
    match span.is_disabled() {
        true => Vec::new(),
        false => propagation::fields_of(span).0,
    }
}

/// The span of `consumer` handling the message `message_id` on `subject`,
/// a child of the span whose context its headers carry.
pub fn process_span(subject: &str, message_id: &str, consumer: &str, headers: Option<&async_nats::HeaderMap>) -> Span {
    let span = message_span(subject, Operation::Process, message_id, Some(consumer));
    if !span.is_disabled() {
        propagation::set_parent(&span, propagation::from_nats(headers));
    }
    span
}

/// What is done with a message: its span's name and kind.
#[derive(Debug, Clone, Copy)]
enum Operation {
    Publish,
    Process,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Operation::Publish => "publish",
            Operation::Process => "process",
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Operation::Publish => "producer",
            Operation::Process => "consumer",
        }
    }
}

/// The span of `operation` on the message `message_id` on `subject`, by
/// `consumer` when it is consumed.
fn message_span(subject: &str, operation: Operation, message_id: impl Display, consumer: Option<&str>) -> Span {
    let name = operation.name();
    tracing::info_span!(
        target: SPANS,
        "nats",
        otel.name = format_args!("{subject} {name}").to_string(),
        otel.kind = operation.kind(),
        otel.status_code = Empty,
        messaging.system = "nats",
        messaging.destination.name = subject,
        messaging.consumer.group.name = consumer,
        messaging.operation.type = name,
        messaging.operation.name = name,
        messaging.message.id = %message_id,
    )
}
