//! What the notifications service does: turn each order event into at
//! most one stored email (with the job that sends it), and send it.
//!
//! Exactly one email per event: the inbox row, the email and its sending
//! job are written in one transaction, and JetStream's message is acked
//! only after it committed. A redelivery finds its inbox row and changes
//! nothing. The one window left is inside the sending job: the SMTP server
//! has accepted the message and the process dies before the job is marked
//! done; the job then runs again and the customer gets the same message
//! (same `Message-ID`) twice. SMTP has no way to ask "did you get this?",
//! so no design can close that window; it is as short as one database
//! round trip.

use diesel_async::AsyncConnection;
use lettre::{address::Envelope, message::Mailbox};
use prost::Message as _;
use uuid::Uuid;

use super::{
    db::{
        emails::{self, Kind, NewEmail, State},
        inbox::{self, Arrival, Outcome},
    },
    mail::{
        render::{self, Notice},
        transport::{Mailer, SendError},
    },
};
use crate::{
    db::Pool,
    jobs::{
        queue::{self, NewJob},
        worker::JobError,
    },
    monitoring::catalogue::EMAILS,
    proto,
};

/// The job that sends one stored email; its payload is `{"email_id": n}`.
pub const SEND_EMAIL: &str = "send_email";

/// The longest one send may take; then it is retried (see the lease of the
/// sending worker).
pub const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// One message as JetStream delivered it.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    pub subject: &'a str,
    pub event_type: &'a str,
    pub message_id: &'a str,
    pub stream_sequence: u64,
    pub payload: &'a [u8],
    /// The message's `process` span: its handling runs in it.
    pub span: &'a tracing::Span,
}

/// What handling a message came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    Recorded(Outcome),
    /// Seen before: acked again, nothing done.
    Duplicate,
}

/// Why a message could not be handled now; it is redelivered later.
pub type HandleError = Box<dyn std::error::Error + Send + Sync>;

/// Handles delivered messages, in their order, in one transaction: one
/// commit for the batch, so its cost is shared by every event in it. Either
/// all are recorded or, on an error, none (and all come back).
pub async fn handle(pool: &Pool, from: &Mailbox, batch: &[Incoming<'_>]) -> Result<Vec<Handled>, HandleError> {
    let decided: Vec<(Arrival<'_>, Decision)> = batch
        .iter()
        .map(|incoming| {
            let decision = decide(incoming, from);
            let arrival = Arrival {
                event_id: decision.event_id,
                event_type: incoming.event_type,
                subject: incoming.subject,
                stream_sequence: i64::try_from(incoming.stream_sequence)?,
            };
            Ok((arrival, decision))
        })
        .collect::<Result<_, std::num::TryFromIntError>>()?;
    let mut conn = pool.get().await?;
    let handled = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let mut handled = Vec::with_capacity(decided.len());
            for ((arrival, decision), incoming) in decided.iter().zip(batch) {
                let recorded = record(conn, arrival, decision, incoming.payload);
                handled.push(tracing::Instrument::instrument(recorded, incoming.span.clone()).await?);
            }
            Ok(handled)
        })
        .await?;
    Ok(handled)
}

/// Records one event as decided, unless it was handled before.
async fn record(
    conn: &mut diesel_async::AsyncPgConnection,
    arrival: &Arrival<'_>,
    decision: &Decision,
    payload: &[u8],
) -> diesel::QueryResult<Handled> {
    let first = match &decision.outcome {
        Err(reason) => inbox::park(conn, arrival, payload, reason).await?,
        Ok(None) => inbox::record(conn, arrival, Outcome::NoEmail).await?,
        Ok(Some(email)) => store_email(conn, arrival, email).await?,
    };
    Ok(match first {
        true => Handled::Recorded(decision.kind()),
        false => Handled::Duplicate,
    })
}

/// Records the arrival, then stores the email and its job, unless the
/// event was handled before.
async fn store_email(
    conn: &mut diesel_async::AsyncPgConnection,
    arrival: &Arrival<'_>,
    email: &NewEmail,
) -> diesel::QueryResult<bool> {
    if !inbox::record(conn, arrival, Outcome::Emailed).await? {
        return Ok(false);
    }
    let email_id = emails::insert(conn, email).await?;
    // The trace goes on in the job that sends it (`trace`: absent without one).
    let payload = crate::traces::propagation::traced_payload(serde_json::json!({ "email_id": email_id }));
    let job = NewJob::new(SEND_EMAIL, payload);
    queue::enqueue(conn, &job).await?;
    Ok(true)
}

/// The event's id, and what to do: park it (why), nothing, or this email.
struct Decision {
    event_id: Uuid,
    outcome: Result<Option<NewEmail>, String>,
}

impl Decision {
    fn kind(&self) -> Outcome {
        match &self.outcome {
            Err(_) => Outcome::Parked,
            Ok(None) => Outcome::NoEmail,
            Ok(Some(_)) => Outcome::Emailed,
        }
    }
}

fn decide(incoming: &Incoming<'_>, from: &Mailbox) -> Decision {
    match decode(incoming) {
        Ok(event) => Decision {
            event_id: event.event_id,
            outcome: email(&event, from),
        },
        // Keyed by its message id, else its stream sequence, so a redelivered
        // poison message is still recognised.
        Err(reason) => Decision {
            event_id: Uuid::parse_str(incoming.message_id)
                .unwrap_or_else(|_| Uuid::from_u64_pair(0, incoming.stream_sequence)),
            outcome: Err(reason),
        },
    }
}

/// An order event, decoded.
struct OrderEvent {
    event_id: Uuid,
    kind: Kind,
    order: proto::Order,
    /// The state its change started from (its `state_change.from_state`).
    from_state: proto::OrderState,
}

/// The parts every order event has: its id, its order and its state change.
macro_rules! parts {
    ($message:ty, $payload:expr) => {
        <$message>::decode($payload).map(|e| (e.event_id, e.order, e.state_change))
    };
}

fn decode(incoming: &Incoming<'_>) -> Result<OrderEvent, String> {
    let payload = incoming.payload;
    let (kind, decoded) = match incoming.event_type {
        "orders.v1.OrderPlaced" => (Kind::OrderConfirmation, parts!(proto::OrderPlaced, payload)),
        "orders.v1.OrderCancelled" => (Kind::OrderCancelled, parts!(proto::OrderCancelled, payload)),
        "orders.v1.OrderShipped" => (Kind::OrderShipped, parts!(proto::OrderShipped, payload)),
        "orders.v1.OrderPaid" => (Kind::PaymentConfirmation, parts!(proto::OrderPaid, payload)),
        "orders.v1.OrderRefunded" => (Kind::OrderRefunded, parts!(proto::OrderRefunded, payload)),
        other => return Err(format!("unknown event type {other:?} on {}", incoming.subject)),
    };
    let (event_id, order, state_change) =
        decoded.map_err(|e| format!("{} does not decode: {e}", incoming.event_type))?;
    let event_id = Uuid::parse_str(&event_id).map_err(|e| format!("event id {event_id:?}: {e}"))?;
    let order = order.ok_or_else(|| format!("{} carries no order", incoming.event_type))?;
    let from_state = state_change.map(|change| change.from_state()).unwrap_or_default();
    Ok(OrderEvent {
        event_id,
        kind,
        order,
        from_state,
    })
}

fn email(event: &OrderEvent, from: &Mailbox) -> Result<Option<NewEmail>, String> {
    let order = &event.order;
    if order.customer_email.is_empty() {
        return Ok(None);
    }
    let order_id = Uuid::parse_str(&order.order_id).map_err(|e| format!("order id {:?}: {e}", order.order_id))?;
    let notice = Notice {
        kind: event.kind,
        order,
        from_state: event.from_state,
    };
    let message = render::email(&notice, from, event.event_id).map_err(|e| e.to_string())?;
    let message_id = message.headers().get_raw("Message-ID").unwrap_or_default().to_owned();
    Ok(Some(NewEmail {
        event_id: event.event_id,
        order_id,
        kind: event.kind,
        recipient: order.customer_email.clone(),
        message_id,
        message: message.formatted(),
    }))
}

/// The sending job: delivers one stored email, after the earlier emails of
/// its order; once it is sent or refused for good, never again.
pub async fn send_email(pool: &Pool, mailer: &Mailer, from: &Mailbox, email_id: i64) -> Result<(), JobError> {
    let retry = |e: &dyn std::fmt::Display| JobError::Retry(e.to_string());
    let mut conn = pool.get().await.map_err(|e| retry(&e))?;
    let Some(email) = emails::find(&mut conn, email_id).await.map_err(|e| retry(&e))? else {
        return Err(JobError::Permanent(format!("email {email_id} does not exist")));
    };
    tracing::Span::current().record("orders.email.kind", email.kind.as_db());
    if email.state != State::Pending {
        return Ok(());
    }
    let earlier = emails::earlier_one_pending(&mut conn, email_id, email.order_id).await;
    if earlier.map_err(|e| retry(&e))? {
        return Err(JobError::Retry(
            "an earlier email about this order is not sent yet".to_owned(),
        ));
    }
    let to = email
        .recipient
        .parse()
        .map_err(|e| JobError::Permanent(format!("recipient: {e}")))?;
    let envelope = Envelope::new(Some(from.email.clone()), vec![to]).map_err(|e| JobError::Permanent(e.to_string()))?;
    let sent = tokio::time::timeout(SEND_TIMEOUT, mailer.send(&envelope, &email.message)).await;
    let sent = sent.unwrap_or_else(|_| {
        let message = format!("no answer from the mail server within {SEND_TIMEOUT:?}");
        Err(SendError {
            permanent: false,
            message,
        })
    });
    let outcome = match &sent {
        Ok(()) => "sent",
        Err(error) if error.permanent => "failed",
        Err(_) => "deferred",
    };
    metrics::counter!(EMAILS, "outcome" => outcome).increment(1);
    match sent {
        Ok(()) => emails::mark_sent(&mut conn, email_id)
            .await
            .map(drop)
            .map_err(|e| retry(&e)),
        Err(error) => {
            let recorded = emails::record_error(&mut conn, email_id, &error.message, error.permanent).await;
            recorded.map_err(|e| retry(&e))?;
            Err(match error.permanent {
                true => JobError::Permanent(error.message),
                false => JobError::Retry(error.message),
            })
        }
    }
}
