//! The payment saga, the orders service's side: an order placed with a
//! payment method is paid through the payment service after CreateOrder
//! has answered, by jobs of the orders database's queue, each enqueued in
//! the transaction of the change that needs it.
//!
//! * [`CHARGE`] (enqueued with the order): authorize the order's total,
//!   capture it, and move the order to PAID; a declined card cancels the
//!   order (`PAYMENT_DECLINED`, stock back).
//! * [`TIMEOUT`] (enqueued with the order, due after `--payment-timeout`):
//!   an order still unpaid then is cancelled (`PAYMENT_TIMEOUT`).
//! * [`SETTLE`] (enqueued by every cancellation of an order whose payment
//!   may hold money): release what is authorized, refund what is captured.
//!
//! Why this is safe under retries, crashes and races:
//! * Every call to the payment service has an idempotency key derived from
//!   the order (or payment) and the step ([`client::request_id`]): a retry
//!   after a lost reply, a crash or a lease that ran out gets the first
//!   answer, and moves no money twice. The payment service's ledger is the
//!   truth about money; `order_payments` is what the saga has learnt.
//! * Every change of the order is made under its row lock ([`steps`]):
//!   being paid and being cancelled exclude each other, and whichever comes
//!   second sees the first. A capture that lands on an order cancelled in
//!   the meantime is refunded at once ([`settle`]): money is never kept for
//!   an order that will not ship.
//! * An authorization still in flight when the order is cancelled (the
//!   charge job's call timed out, the payment service went on) is found by
//!   the charge job's next attempt: an attempt after the first asks for the
//!   same authorization again (its idempotency key makes that a replay,
//!   waiting for the first) before it settles, so no hold is left behind.
//! * The jobs retry for as long as the payment service may be away
//!   ([`PATIENT`]), at most 30 s apart.

mod charge;
pub mod client;
mod settle;
mod steps;
mod transaction;

use std::{future::Future, sync::Arc, time::Duration};

use chrono::TimeDelta;
use futures_util::FutureExt;
use tracing::Instrument;
use uuid::Uuid;

pub use client::PaymentsClient;

use super::AppState;
use crate::{
    db::{audit::Actor, orders::OrderWithLines},
    domain::payment::PaymentStatus,
    jobs::{
        queue::NewJob,
        worker::{Job, JobError, Worker},
    },
};

/// The job that pays an order: `{"order_id": …}`.
pub const CHARGE: &str = "charge_order";
/// The job that cancels an order still unpaid after the timeout.
pub const TIMEOUT: &str = "payment_timeout";
/// The job that releases or refunds a cancelled order's payment.
pub const SETTLE: &str = "settle_payment";

/// The attempts of the jobs that need the payment service: at most 30 s
/// apart, 10 000 attempts wait out an outage of more than three days.
const PATIENT: i32 = 10_000;

/// The longest one attempt of a saga job may take (a few calls of at most
/// 10 s each); then it is retried. It bounds how long a job stays claimed,
/// so the orders worker's lease can be short: see [`LEASE`].
const ATTEMPT_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// How long a job of the orders worker is its own: past [`ATTEMPT_LIMIT`],
/// so only a worker that died leaves a job for another, which then takes
/// it over within a minute and a half instead of the queue's default five.
pub const LEASE: std::time::Duration = std::time::Duration::from_secs(90);

/// What the saga's jobs share: the orders service's state (pool, outbox
/// doorbell) and the payment service's client.
pub struct Saga {
    pub state: AppState,
    pub payments: PaymentsClient,
}

/// The jobs of an order just placed: none if it is paid on delivery.
pub fn jobs_of_a_new_order(rows: &OrderWithLines, timeout: Duration) -> Vec<NewJob> {
    if rows.payment.is_none() {
        return Vec::new();
    }
    let id = rows.order.id;
    let due = rows.order.create_time + TimeDelta::from_std(timeout).unwrap_or(TimeDelta::MAX);
    vec![
        NewJob::new(CHARGE, payload(id)).max_attempts(PATIENT),
        NewJob::new(TIMEOUT, payload(id))
            .run_at(due)
            .unique_key(timeout_key(id)),
    ]
}

/// The unique key of order `order_id`'s timeout job: being paid deletes it,
/// so a paid order leaves no job waiting 15 minutes to do nothing.
pub fn timeout_key(order_id: Uuid) -> String {
    format!("{TIMEOUT}:{order_id}")
}

/// The job that settles cancelled order `order_id`'s payment (one per order).
pub fn settle_job(order_id: Uuid) -> NewJob {
    NewJob::new(SETTLE, payload(order_id))
        .max_attempts(PATIENT)
        .unique_key(format!("{SETTLE}:{order_id}"))
}

/// Whether a payment in `status` may hold money (or be about to): a
/// cancelled order's payment then has to be settled.
pub fn holds_money(status: PaymentStatus) -> bool {
    matches!(
        status,
        PaymentStatus::Pending | PaymentStatus::Authorized | PaymentStatus::Captured
    )
}

/// The payload of a saga job: the order, and the trace it continues.
fn payload(order_id: Uuid) -> serde_json::Value {
    crate::traces::propagation::traced_payload(serde_json::json!({ "order_id": order_id.to_string() }))
}

/// Registers the saga's jobs on the orders database's worker.
pub fn register(worker: Worker, saga: Arc<Saga>) -> Worker {
    worker
        .handler(CHARGE, handler(&saga, charge::run))
        .handler(
            TIMEOUT,
            handler(&saga, |saga, job, order_id| async move {
                steps::timed_out(&saga, order_id, &actor(&job)).await
            }),
        )
        .handler(
            SETTLE,
            handler(&saga, |saga, job, order_id| async move {
                settle::run(&saga, order_id, &actor(&job)).await
            }),
        )
}

/// A job handler running `step` for the payload's order, in a span that
/// continues the trace of the change that enqueued the job.
fn handler<F, Fut>(
    saga: &Arc<Saga>,
    step: F,
) -> impl Fn(Job) -> futures_util::future::BoxFuture<'static, Result<(), JobError>> + Send + Sync + 'static
where
    F: Fn(Arc<Saga>, Job, Uuid) -> Fut + Send + Sync + Copy + 'static,
    Fut: Future<Output = Result<(), JobError>> + Send + 'static,
{
    let saga = saga.clone();
    move |job: Job| {
        let saga = saga.clone();
        async move {
            let order_id = job.payload["order_id"].as_str().and_then(|id| Uuid::parse_str(id).ok());
            let order_id = order_id.ok_or_else(|| JobError::Permanent(format!("no order_id in {}", job.payload)))?;
            let span = step_span(&job);
            let attempt = tokio::time::timeout(ATTEMPT_LIMIT, step(saga, job, order_id).instrument(span.clone()));
            let result = attempt.await.unwrap_or_else(|_| {
                Err(JobError::Retry(format!(
                    "the attempt took longer than {ATTEMPT_LIMIT:?}"
                )))
            });
            crate::traces::record_result(&span, &result);
            result
        }
        .boxed()
    }
}

/// The span of one attempt (INTERNAL, `payment saga {kind}`).
fn step_span(job: &Job) -> tracing::Span {
    let span = tracing::info_span!(
        target: crate::traces::SPANS,
        "payment saga",
        otel.name = format!("payment saga {}", job.kind),
        otel.kind = "internal",
        otel.status_code = tracing::field::Empty,
        orders.job.attempt = job.attempt,
    );
    crate::traces::propagation::continue_job(&span, &job.payload);
    span
}

/// Who the saga's changes are by: the orders service itself, under the job.
fn actor(job: &Job) -> Actor {
    Actor {
        subject: "orders".to_owned(),
        role: "system",
        request_id: format!("job-{}", job.id),
    }
}
