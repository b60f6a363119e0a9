//! An existing order under its row lock: where every change of one starts
//! (CancelOrder, ShipOrder, the payment saga's steps), and cancelling, which
//! a customer and the saga both do.
//!
//! The lock serialises every change of one order, and keeps its events in
//! commit order; see [`super::orders`] for the locking order.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::{saga, to_event, to_proto};
use crate::{
    db::{
        audit::{self, Action, Actor, Event},
        order_payments::{self, OrderPaymentRow},
        orders::{self, LineItemRow, OrderRow, OrderWithLines},
        products,
    },
    domain::{product::MAX_STOCK, state::OrderState},
    error::{ApiError, PreconditionViolation, on_constraint},
    jobs::queue,
    proto,
};

/// An order, locked until the transaction ends, with its lines and payment.
#[derive(Debug, Clone)]
pub struct Locked {
    pub order: OrderRow,
    pub lines: Vec<LineItemRow>,
    pub payment: Option<OrderPaymentRow>,
}

impl Locked {
    /// The order as the API shows it.
    pub fn to_proto(self) -> proto::Order {
        let Locked { order, lines, payment } = self;
        to_proto::order(OrderWithLines { order, lines, payment })
    }

    /// Whether it is paid by card (else on delivery).
    pub fn by_card(&self) -> bool {
        self.payment.is_some()
    }
}

/// Locks order `id` and reads its lines and payment; `None` if there is none.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> diesel::QueryResult<Option<Locked>> {
    let Some(order) = orders::find(conn, id, true).await? else {
        return Ok(None);
    };
    let conn: &AsyncPgConnection = conn;
    let (lines, payment) =
        futures_util::future::try_join(orders::lines_of(conn, &[id]), order_payments::find(conn, id)).await?;
    Ok(Some(Locked { order, lines, payment }))
}

/// Cancels a locked, cancellable order with `reason`: puts its stock back,
/// records the change and its `OrderCancelled` event, and, for an order
/// paid by card, enqueues the job that releases or refunds its payment.
pub async fn cancel(
    conn: &mut AsyncPgConnection,
    locked: Locked,
    reason: &str,
    actor: &Actor,
) -> Result<proto::Order, ApiError> {
    let Locked { order, lines, payment } = locked;
    let (id, from) = (order.id, order.state);
    put_stock_back(conn, &lines, id).await?;
    let order = orders::mark_cancelled(conn, id, reason).await?;
    if payment.as_ref().is_some_and(|p| saga::holds_money(p.status)) {
        queue::enqueue(conn, &saga::settle_job(id)).await?;
    }
    let order = to_proto::order(OrderWithLines { order, lines, payment });
    let change = Event::order(Action::OrderCancelled, id, from, OrderState::Cancelled, Some(reason));
    audit::record(conn, actor, &change, &to_event::order_cancelled(&order, actor, from)).await?;
    Ok(order)
}

/// Returns the lines' units to stock, locking the products in ascending id
/// order.
async fn put_stock_back(conn: &mut AsyncPgConnection, lines: &[LineItemRow], order_id: Uuid) -> Result<(), ApiError> {
    let mut returned: Vec<(Uuid, i32)> = lines.iter().map(|l| (l.product_id, l.quantity)).collect();
    returned.sort_unstable();
    let (ids, quantities): (Vec<Uuid>, Vec<i32>) = returned.into_iter().unzip();
    products::lock(conn, &ids).await?;
    products::change_stock(conn, &ids, &quantities)
        .await
        .map(drop)
        .map_err(|e| stock_limit_on_return(e, order_id))
}

/// Putting stock back can only fail when a restock has since filled the
/// product to its limit; that is the caller's precondition, not a bug.
fn stock_limit_on_return(error: diesel::result::Error, order_id: Uuid) -> ApiError {
    on_constraint(error, products::STOCK_RANGE, || ApiError::FailedPrecondition {
        reason: "STOCK_LIMIT_EXCEEDED",
        message: format!(
            "order {order_id} cannot be cancelled: putting its stock back would exceed the limit of {MAX_STOCK} units"
        ),
        violations: vec![PreconditionViolation {
            kind: "STOCK",
            subject: format!("orders/{order_id}"),
            description: "a product of this order is stocked to its limit".to_owned(),
        }],
    })
}
