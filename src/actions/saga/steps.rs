//! The saga's changes of orders, each one transaction under the order's
//! row lock ([`order_lock`]): recording an authorization, being paid,
//! declined, timed out, and settled. Each looks at the order as it is now,
//! so whichever of two racing changes comes second sees the first.

use futures_util::FutureExt;
use uuid::Uuid;

pub use super::transaction::read;
use super::{
    Saga,
    transaction::{Step, locked},
};
use crate::{
    actions::{order_lock, to_event, to_proto},
    db::{
        audit::{self, Action, Actor, Event},
        order_payments::{self, Progress},
        orders::{self, OrderWithLines},
    },
    domain::{
        payment::{
            PAYMENT_AUTHORIZED, PAYMENT_DECLINED, PAYMENT_REFUNDED, PAYMENT_RELEASED, PAYMENT_TIMEOUT, PaymentStatus,
        },
        state::{OrderState, Transition},
    },
    jobs::{queue, worker::JobError},
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
                    Ok((Next::Capture, Step::quiet("authorized")))
                }
                OrderState::Placed => Ok((Next::Capture, None)),
                OrderState::Cancelled => Ok((Next::Settle, None)),
                OrderState::Paid | OrderState::Shipped => Ok((Next::Done, None)),
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
                return Ok((next, None));
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
            queue::cancel_pending(conn, &super::timeout_key(order_id)).await?;
            let change = Event::order(Action::OrderPaid, order_id, OrderState::Placed, OrderState::Paid, None);
            audit::record(conn, &actor, &change, &to_event::order_paid(&order, &actor)).await?;
            Ok((Next::Done, Step::moving("paid", "paid")))
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
                return Ok(((), None));
            }
            order_lock::cancel(conn, locked, PAYMENT_DECLINED, &actor).await?;
            Ok(((), Step::moving("declined", "cancelled")))
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
                return Ok(((), None));
            }
            order_lock::cancel(conn, locked, PAYMENT_TIMEOUT, &actor).await?;
            Ok(((), Step::moving("timed_out", "cancelled")))
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
                return Ok(((), None));
            };
            let (status, payment_id, action) = match settlement {
                Settlement::Refunded(id) => (PaymentStatus::Refunded, Some(id), Action::OrderRefunded),
                // A declined payment held nothing; it stays declined.
                Settlement::Released(_) if payment.status == PaymentStatus::Declined => return Ok(((), None)),
                Settlement::Released(id) => (
                    PaymentStatus::Released,
                    id.or(payment.payment_id),
                    Action::OrderPaymentReleased,
                ),
            };
            if payment.status == status || payment.status == PaymentStatus::Refunded {
                return Ok(((), None));
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
                return Ok(((), Step::quiet("released")));
            }
            let order = locked.to_proto();
            let step = Event::order(action, order_id, cancelled, cancelled, Some(PAYMENT_REFUNDED));
            audit::record(conn, &actor, &step, &to_event::order_refunded(&order, &actor)).await?;
            Ok((
                (),
                Some(Step {
                    name: "refunded",
                    to_state: None,
                    published: true,
                }),
            ))
        }
        .boxed()
    })
    .await
}
