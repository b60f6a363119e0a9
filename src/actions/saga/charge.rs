//! The charge job: authorize the order's total on its payment method,
//! capture it, and mark the order PAID; a declined card cancels it. Every
//! call is a replay after the first, so an attempt may start over at any
//! point (see the saga's module doc).

use std::sync::Arc;

use tonic::Code;
use tonic_types::StatusExt;
use uuid::Uuid;

use super::{
    Saga,
    client::{CallError, payment_id},
    settle,
    steps::{self, Next},
};
use crate::{
    db::{audit::Actor, orders::OrderWithLines},
    domain::state::OrderState,
    jobs::worker::{Job, JobError},
    proto::{Money, payments::v1::PaymentState},
};

/// One attempt at paying order `order_id`.
pub async fn run(saga: Arc<Saga>, job: Job, order_id: Uuid) -> Result<(), JobError> {
    let actor = super::actor(&job);
    let snapshot = steps::read(&saga, order_id).await?;
    let snapshot = snapshot.ok_or_else(|| JobError::Permanent(format!("order {order_id} does not exist")))?;
    let Some(payment) = &snapshot.payment else {
        return Ok(()); // paid on delivery
    };
    match snapshot.order.state {
        OrderState::Paid | OrderState::Shipped => return Ok(()),
        // Cancelled before the first attempt asked for anything: no money
        // can be held, and its settle job records that.
        OrderState::Cancelled if job.attempt == 1 => return Ok(()),
        OrderState::Placed | OrderState::Cancelled => {}
    }
    let total = total(&snapshot);
    let method = payment.payment_method.as_str();
    let customer = snapshot.order.customer_id.as_str();
    let authorized = match saga.payments.authorize(order_id, customer, total, method).await {
        Ok(authorized) => authorized,
        Err(CallError::Refused(status)) if status.code() == Code::InvalidArgument => {
            let code = refusal_code(&status);
            return steps::declined(&saga, order_id, None, &code, &actor).await;
        }
        Err(error) => return Err(error.into()),
    };
    let id = payment_id(&authorized)?;
    if authorized.state() == PaymentState::Declined {
        return steps::declined(&saga, order_id, Some(id), &authorized.decline_code, &actor).await;
    }
    match steps::authorized(&saga, order_id, id, &actor).await? {
        Next::Capture => capture(&saga, order_id, id, &actor).await,
        Next::Settle => settle::run(&saga, order_id, &actor).await,
        Next::Done => Ok(()),
    }
}

/// Captures the authorized payment and marks the order paid.
async fn capture(saga: &Saga, order_id: Uuid, payment_id: Uuid, actor: &Actor) -> Result<(), JobError> {
    match saga.payments.capture(payment_id).await {
        Ok(_) => {}
        // Released meanwhile by the settling of a cancelled order.
        Err(CallError::Refused(status)) if status.code() == Code::FailedPrecondition => {
            return settle::run(saga, order_id, actor).await;
        }
        Err(error) => return Err(error.into()),
    }
    match steps::paid(saga, order_id, payment_id, actor).await? {
        Next::Settle => settle::run(saga, order_id, actor).await,
        Next::Capture | Next::Done => Ok(()),
    }
}

/// The order's total, as the payment service takes it.
fn total(snapshot: &OrderWithLines) -> Money {
    Money {
        currency_code: snapshot.order.currency_code.clone(),
        units: snapshot.order.total_units,
        nanos: snapshot.order.total_nanos,
    }
}

/// The decline code of a payment the payment service refused to authorize
/// (an unknown payment method): its `ErrorInfo.reason`, in lower case like
/// the processor's codes.
fn refusal_code(status: &tonic::Status) -> String {
    let reason = status.get_details_error_info().map(|info| info.reason.to_lowercase());
    reason
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "invalid_payment_request".to_owned())
}
