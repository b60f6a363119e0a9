//! The payment service's own database: its schema (generated), its
//! migrations, the queries on payments and their ledger ([`payments`]), the
//! ledger as an outbox ([`OUTBOX`]) and the idempotency keys of its
//! requests (the shared [`crate::db::idempotency`], on this database's own
//! `idempotency_keys` table, which has the same shape).

pub mod payments;
pub mod schema;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};

use crate::{db::outbox::Outbox, proto::payments::v1 as pb};

/// The payments schema, compiled in (`build.rs` reruns when it changes).
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("src/payments/migrations");

/// The advisory lock of "migrating the payments schema".
pub const MIGRATION_LOCK: i64 = 0x7061_796d_656e_7473; // "payments"

/// Applies pending payments migrations to the database at `url`.
pub async fn migrate(url: &str) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    crate::db::migrations::apply(url, MIGRATIONS, MIGRATION_LOCK).await
}

/// The ledger as the relay reads it: every movement is an event (the view
/// `payment_outbox`), published under the name of what it did.
pub const OUTBOX: Outbox = Outbox {
    service: "payments",
    events: "payment_outbox",
    channel: "payments_outbox",
    lock: 0x7061_796d_7473_7231, // "paymtsr1"
    topic,
};

/// The subject suffix and message type of a movement of `kind`: a release
/// is `cancelled` (whether by CancelPayment or after a smaller capture), a
/// failure `declined`.
fn topic(kind: &str) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        "authorized" => ("payment.authorized", "payments.v1.PaymentAuthorized"),
        "failed" => ("payment.declined", "payments.v1.PaymentDeclined"),
        "captured" => ("payment.captured", "payments.v1.PaymentCaptured"),
        "released" => ("payment.cancelled", "payments.v1.PaymentCancelled"),
        "refunded" => ("payment.refunded", "payments.v1.PaymentRefunded"),
        _ => return None,
    })
}

// The payment RPCs' keys are scoped to the RPC: only the orders service
// (role `service`) makes these calls, with UUIDs.
crate::db::idempotency::scoped_to_the_rpc! {
    pb::AuthorizePaymentRequest => "AuthorizePayment",
    pb::CapturePaymentRequest => "CapturePayment",
    pb::CancelPaymentRequest => "CancelPayment",
    pb::RefundPaymentRequest => "RefundPayment",
}
