//! CapturePayment, CancelPayment and RefundPayment: movements added to an
//! existing payment's ledger, the payment's row locked meanwhile.

use diesel_async::AsyncPgConnection;
use prost::Message;
use uuid::Uuid;

use super::{
    PaymentsState, append, processor_error,
    to_proto::{self, Recording, new_movements},
};
use crate::{
    db::idempotency::IdempotencyKey,
    error::ApiError,
    payments::{
        db::payments::{self, MovementRow, NewMovement, PaymentRow},
        domain::{
            ledger::{Ledger, MovementKind, Step, nanos_in},
            requests::Change,
        },
    },
    proto::payments::v1 as pb,
};

/// Which change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Capture,
    Cancel,
    Refund,
}

/// Makes `change` of `kind`, answering with `respond(payment after it)`
/// (see [`super`] for the shape).
pub async fn change<R: Message + Default + Clone>(
    state: &PaymentsState,
    kind: Kind,
    change: &Change,
    key: &IdempotencyKey,
    respond: fn(pb::Payment) -> R,
) -> Result<R, ApiError> {
    state
        .keyed(key, async |conn| {
            let (payment, existing) = locked(conn, change.payment_id).await?;
            let recorded = record(state, kind, change, &payment, &existing).await?;
            append(conn, &recorded).await?;
            let mut rows = existing;
            rows.extend(recorded.iter().map(|m| m.row.clone()));
            Ok((respond(to_proto::payment(&payment, &rows)), recorded))
        })
        .await
}

/// The movements of `change`, planned from the ledger and made at the
/// processor (with the request's id as its idempotency key).
async fn record(
    state: &PaymentsState,
    kind: Kind,
    change: &Change,
    payment: &PaymentRow,
    existing: &[MovementRow],
) -> Result<Vec<NewMovement>, ApiError> {
    let ledger = to_proto::ledger(existing).ok_or_else(|| ApiError::internal("a payment without movements"))?;
    let steps = plan(&ledger, kind, change, payment)?;
    for &step in &steps {
        at_processor(state, change.request_id, payment.id, step).await?;
    }
    let recording = Recording {
        payment,
        existing,
        request_id: change.request_id,
        failure_code: None,
        reason: &change.reason,
        time: chrono::Utc::now(),
    };
    Ok(new_movements(&recording, &steps))
}

/// The steps `kind` adds to `ledger`, or why it cannot.
fn plan(ledger: &Ledger, kind: Kind, change: &Change, payment: &PaymentRow) -> Result<Vec<Step>, ApiError> {
    let id = payment.id.to_string();
    let amount = nanos_in(&payment.currency_code, change.amount.as_ref())?;
    match kind {
        Kind::Capture => ledger.capture(&id, amount),
        Kind::Cancel => Ok(ledger.cancel(&id)?.into_iter().collect()),
        Kind::Refund => Ok(vec![ledger.refund(&id, amount)?]),
    }
}

async fn at_processor(state: &PaymentsState, key: Uuid, payment: Uuid, (kind, amount): Step) -> Result<(), ApiError> {
    let processor = &state.processor;
    let done = match kind {
        MovementKind::Captured => processor.capture(key, payment, amount).await,
        MovementKind::Released => processor.release(key, payment, amount).await,
        MovementKind::Refunded => processor.refund(key, payment, amount).await,
        MovementKind::Authorized | MovementKind::Failed => {
            return Err(ApiError::internal("an authorization planned on an existing payment"));
        }
    };
    done.map_err(processor_error)
}

/// The payment `id`, locked, with its ledger; NOT_FOUND when there is none.
async fn locked(conn: &mut AsyncPgConnection, id: Uuid) -> Result<(PaymentRow, Vec<MovementRow>), ApiError> {
    let payment = payments::lock(conn, id).await?.ok_or_else(|| not_found(id))?;
    let movements = payments::movements_of(conn, &[id]).await?;
    Ok((payment, movements))
}

/// NOT_FOUND `PAYMENT_NOT_FOUND`: there is no payment `id` (or, for a
/// customer, not one of its own).
pub fn not_found(id: Uuid) -> ApiError {
    ApiError::NotFound {
        reason: "PAYMENT_NOT_FOUND",
        resource_type: "payments.v1.Payment",
        name: id.to_string(),
    }
}
