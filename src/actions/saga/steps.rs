//! The saga's changes of orders, each one transaction under the order's
//! row lock ([`order_lock`]): recording an authorization, being paid,
//! declined, timed out, and settled. Each looks at the order as it is now,
//! so whichever of two racing changes comes second sees the first.

use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures_util::{FutureExt, future::BoxFuture};
use uuid::Uuid;

use super::Saga;
use crate::{
    actions::{
        order_lock::{self, Locked},
        to_event, to_proto,
    },
    db::{
        audit::{self, Action, Actor, Event},
        order_payments::{self, Progress},
        orders::{self, OrderWithLines},
    },
    domain::{
        payment::{PAYMENT_AUTHORIZED, PAYMENT_DECLINED, PAYMENT_RELEASED, PAYMENT_TIMEOUT, PaymentStatus},
        state::{OrderState, Transition},
    },
    error::ApiError,
    jobs::worker::JobError,
    monitoring,
};

/// What the charge job does after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The order waits for its money: go on.
    Capture,
    /// The order was cancelled meanwhile: give back what it holds.
    Settle,
    /// Nothing more to do.
    Done,
}

/// How a cancelled order's payment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// Captured money was given back (this payment's).
    Refunded(Uuid),
    /// Nothing was taken; a hold (this payment's, if any) was let go.
    Released(Option<Uuid>),
}

/// A snapshot of the order, unlocked: what the charge job starts from.
pub async fn read(saga: &Saga, order_id: Uuid) -> Result<Option<OrderWithLines>, JobError> {
    let conn = saga.state.pool.get().await.map_err(JobError::retry)?;
    let conn: &AsyncPgConnection = &conn;
    let (order, payment) = futures_util::future::try_join(
        orders::find(conn, order_id, false),
        order_payments::find(conn, order_id),
    )
    .await
    .map_err(JobError::retry)?;
    Ok(order.map(|order| OrderWithLines {
        order,
        lines: Vec::new(),
        payment,
    }))
}

/// Runs `change` on order `order_id` under its lock, in one transaction;
/// rings the outbox's doorbell after a commit that wrote an event.
async fn locked<T: Send>(
    saga: &Saga,
    order_id: Uuid,
    change: impl for<'c> FnOnce(&'c mut AsyncPgConnection, Locked) -> BoxFuture<'c, Result<(T, bool), ApiError>> + Send,
) -> Result<T, JobError> {
    let mut conn = saga.state.pool.get().await.map_err(JobError::retry)?;
    let result = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let locked = order_lock::lock(conn, order_id).await?;
            let locked = locked.ok_or_else(|| crate::actions::orders::order_not_found(order_id))?;
            change(conn, locked).await
        })
        .await;
    let (value, published) = result.map_err(|error| match error {
        ApiError::NotFound { .. } => JobError::Permanent(format!("order {order_id} does not exist")),
        error => JobError::Retry(error.to_string()),
    })?;
    if published {
        saga.state.outbox.ring();
    }
    Ok(value)
}

/// The payment service holds the order's amount: recorded (once), and what
/// comes next.
pub async fn authorized(saga: &Saga, order_id: Uuid, payment_id: Uuid, actor: &Actor) -> Result<Next, JobError> {
    let actor = actor.clone();
    locked(saga, order_id, move |conn, locked| {
        async move {
            let status = locked.payment.as_ref().map(|p| p.status);
            match locked.order.state {
                OrderState::Placed if status == Some(PaymentStatus::Pending) => {
                    let progress = Progress {
                        status: PaymentStatus::Authorized,
                        payment_id: Some(payment_id),
                        decline_code: None,
                    };
                    order_payments::record(conn, order_id, progress).await?;
                    let step = Event::order(
                        Action::OrderPaymentAuthorized,
                        order_id,
                        OrderState::Placed,
                        OrderState::Placed,
                        Some(PAYMENT_AUTHORIZED),
                    );
                    audit::record_unpublished(conn, &actor, &step).await?;
                    Ok((Next::Capture, false))
                }
                OrderState::Placed => Ok((Next::Capture, false)),
                OrderState::Cancelled => Ok((Next::Settle, false)),
                OrderState::Paid | OrderState::Shipped => Ok((Next::Done, false)),
            }
        }
        .boxed()
    })
    .await
}

/// The payment was captured: the order is PAID (with its event), unless it
/// was cancelled meanwhile (then the money goes back).
pub async fn paid(saga: &Saga, order_id: Uuid, payment_id: Uuid, actor: &Actor) -> Result<Next, JobError> {
    let actor = actor.clone();
    locked(saga, order_id, move |conn, locked| {
        async move {
            let transition = locked.order.state.pay();
            if transition != Transition::Apply {
                let next = if transition == Transition::Refused {
                    Next::Settle
                } else {
                    Next::Done
                };
                return Ok((next, false));
            }
            let progress = Progress {
                status: PaymentStatus::Captured,
                payment_id: Some(payment_id),
                decline_code: None,
            };
            let payment = order_payments::record(conn, order_id, progress).await?;
            let order = to_proto::order(OrderWithLines {
                order: orders::mark_paid(conn, order_id).await?,
                lines: locked.lines,
                payment: Some(payment),
            });
            let change = Event::order(Action::OrderPaid, order_id, OrderState::Placed, OrderState::Paid, None);
            audit::record(conn, &actor, &change, &to_event::order_paid(&order, &actor)).await?;
            monitoring::count_order_state("paid");
            Ok((Next::Done, true))
        }
        .boxed()
    })
    .await
}

/// The card was declined: recorded, and a placed order is cancelled
/// (`PAYMENT_DECLINED`, stock back).
pub async fn declined(
    saga: &Saga,
    order_id: Uuid,
    payment_id: Option<Uuid>,
    code: &str,
    actor: &Actor,
) -> Result<(), JobError> {
    let (actor, code) = (actor.clone(), code.to_owned());
    locked(saga, order_id, move |conn, mut locked| {
        async move {
            let progress = Progress {
                status: PaymentStatus::Declined,
                payment_id,
                decline_code: Some(&code),
            };
            locked.payment = Some(order_payments::record(conn, order_id, progress).await?);
            if locked.order.state != OrderState::Placed {
                return Ok(((), false));
            }
            order_lock::cancel(conn, locked, PAYMENT_DECLINED, &actor).await?;
            monitoring::count_order_state("cancelled");
            Ok(((), true))
        }
        .boxed()
    })
    .await
}

/// The timeout came: an order still waiting for its payment is cancelled
/// (`PAYMENT_TIMEOUT`, stock back, its payment settled afterwards).
pub async fn timed_out(saga: &Saga, order_id: Uuid, actor: &Actor) -> Result<(), JobError> {
    let actor = actor.clone();
    locked(saga, order_id, move |conn, locked| {
        async move {
            let waiting = matches!(
                locked.payment.as_ref().map(|p| p.status),
                Some(PaymentStatus::Pending | PaymentStatus::Authorized)
            );
            if locked.order.state != OrderState::Placed || !waiting {
                return Ok(((), false));
            }
            order_lock::cancel(conn, locked, PAYMENT_TIMEOUT, &actor).await?;
            monitoring::count_order_state("cancelled");
            Ok(((), true))
        }
        .boxed()
    })
    .await
}

/// A cancelled order's payment was settled: recorded once, with the
/// `OrderRefunded` event when money went back.
pub async fn settled(saga: &Saga, order_id: Uuid, settlement: Settlement, actor: &Actor) -> Result<(), JobError> {
    let actor = actor.clone();
    locked(saga, order_id, move |conn, mut locked| {
        async move {
            let Some(payment) = locked
                .payment
                .as_ref()
                .filter(|_| locked.order.state == OrderState::Cancelled)
            else {
                return Ok(((), false));
            };
            let (status, payment_id, action) = match settlement {
                Settlement::Refunded(id) => (PaymentStatus::Refunded, Some(id), Action::OrderRefunded),
                // A declined payment held nothing; it stays declined.
                Settlement::Released(_) if payment.status == PaymentStatus::Declined => return Ok(((), false)),
                Settlement::Released(id) => (
                    PaymentStatus::Released,
                    id.or(payment.payment_id),
                    Action::OrderPaymentReleased,
                ),
            };
            if payment.status == status || payment.status == PaymentStatus::Refunded {
                return Ok(((), false));
            }
            let progress = Progress {
                status,
                payment_id,
                decline_code: None,
            };
            locked.payment = Some(order_payments::record(conn, order_id, progress).await?);
            let cancelled = OrderState::Cancelled;
            if action == Action::OrderPaymentReleased {
                let step = Event::order(action, order_id, cancelled, cancelled, Some(PAYMENT_RELEASED));
                audit::record_unpublished(conn, &actor, &step).await?;
                return Ok(((), false));
            }
            let order = locked.to_proto();
            let step = Event::order(
                action,
                order_id,
                cancelled,
                cancelled,
                Some(crate::domain::payment::PAYMENT_REFUNDED),
            );
            audit::record(conn, &actor, &step, &to_event::order_refunded(&order, &actor)).await?;
            Ok(((), true))
        }
        .boxed()
    })
    .await
}
