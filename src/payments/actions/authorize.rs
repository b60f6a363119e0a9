//! AuthorizePayment: a new payment for an order, authorized or declined by
//! the processor, with its first ledger entry.

use chrono::Utc;
use uuid::Uuid;

use super::{
    PaymentsState, append, processor_error,
    to_proto::{self, Recording, new_movements},
};
use crate::{
    db::idempotency::IdempotencyKey,
    error::{ApiError, PreconditionViolation},
    payments::{
        db::payments::{self, PaymentRow},
        domain::{ledger::MovementKind, requests::Authorization},
        processor,
    },
    proto::payments::v1 as pb,
};

/// The most payments one order may have: ListPayments answers them all in
/// one response.
pub const MAX_PAYMENTS_PER_ORDER: i64 = 20;

/// Authorizes `request`'s amount (see [`super`] for the shape, and why
/// the processor is asked inside the transaction).
pub async fn authorize(
    state: &PaymentsState,
    request: &Authorization,
    key: &IdempotencyKey,
) -> Result<pb::AuthorizePaymentResponse, ApiError> {
    state
        .keyed(key, async |conn| {
            payments::lock_order(conn, request.order_id).await?;
            let existing = payments::count_for_order(conn, request.order_id).await?;
            if existing >= MAX_PAYMENTS_PER_ORDER {
                return Err(too_many_payments(request.order_id));
            }
            let answer = state
                .processor
                .authorize(request.request_id, &request.payment_method, &request.amount)
                .await
                .map_err(processor_error)?;
            let payment = new_payment(request);
            payments::insert(conn, &payment).await?;
            let amount = payment.amount_nanos;
            let (step, failure_code) = match answer {
                processor::Authorization::Approved => ((MovementKind::Authorized, amount), None),
                processor::Authorization::Declined { code } => ((MovementKind::Failed, amount), Some(code)),
            };
            let recording = Recording {
                payment: &payment,
                existing: &[],
                request_id: request.request_id,
                failure_code,
                reason: "",
                time: payment.create_time,
            };
            let recorded = new_movements(&recording, &[step]);
            append(conn, &recorded).await?;
            let rows: Vec<_> = recorded.iter().map(|m| m.row.clone()).collect();
            let payment = Some(to_proto::payment(&payment, &rows));
            Ok((pb::AuthorizePaymentResponse { payment }, recorded))
        })
        .await
}

/// The row of the payment `request` creates, timed to the microsecond as
/// PostgreSQL stores it (so the response and a later read agree).
fn new_payment(request: &Authorization) -> PaymentRow {
    let now = Utc::now();
    PaymentRow {
        id: Uuid::now_v7(),
        order_id: request.order_id,
        customer_id: request.customer_id.clone(),
        payment_method: request.payment_method.clone(),
        currency_code: request.amount.currency_code().to_owned(),
        // Below 10^18: the request's amount is below 10^9 units.
        amount_nanos: i64::try_from(request.amount.total_nanos()).unwrap_or(i64::MAX),
        create_time: chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now),
    }
}

fn too_many_payments(order_id: Uuid) -> ApiError {
    let description = format!("the order has {MAX_PAYMENTS_PER_ORDER} payments already, the most it may have");
    ApiError::FailedPrecondition {
        reason: "TOO_MANY_PAYMENTS",
        message: format!("order {order_id} cannot get another payment: {description}"),
        violations: vec![PreconditionViolation {
            kind: "PAYMENTS_PER_ORDER",
            subject: format!("orders/{order_id}"),
            description,
        }],
    }
}
