//! Order actions: read, list, cancel and ship (placing is in
//! [`super::place`]).
//!
//! Locking order, the same everywhere, so that no two transactions can wait
//! on each other in a cycle: an existing order's row first (cancel, ship),
//! then its products in ascending id order. Placing an order locks only
//! products (ascending), and its new order row is invisible to others.
//! Taking the order's lock before any write also keeps its events in
//! commit order ([`crate::db::outbox`]).

use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::{Call, to_event, to_proto};
use crate::{
    db::{
        audit::{self, Action, Event},
        orders::{self, OrderRow, OrderWithLines},
        products,
    },
    domain::{
        order::{Cancellation, ORDER_RESOURCE},
        page::{Listing, OrderCursor, finish_page},
        product::MAX_STOCK,
        reads::HistoryPage,
        state::{OrderState, Transition},
    },
    error::{ApiError, PreconditionViolation, on_constraint},
    monitoring, proto,
};

/// One order with its lines and state history; another customer's order
/// is NOT_FOUND to a customer, exactly like a missing one.
pub async fn get_order(call: &Call, id: Uuid) -> Result<proto::GetOrderResponse, ApiError> {
    let (found, history) = call
        .run(async |conn| {
            // One round trip: the three reads need only the id, so they are
            // pipelined, and another customer's lines are read for nothing
            // rather than waited for in turn.
            let conn: &AsyncPgConnection = conn;
            let (order, lines, history) = futures_util::future::try_join3(
                orders::find(conn, id, false),
                orders::lines_of(conn, &[id]),
                audit::order_history(conn, id),
            )
            .await?;
            let order = order
                .filter(|order| call.caller.may_see(&order.customer_id))
                .ok_or_else(|| order_not_found(id))?;
            Ok((OrderWithLines { order, lines }, history))
        })
        .await?;
    Ok(proto::GetOrderResponse {
        order: Some(to_proto::order(found)),
        state_history: history.into_iter().map(to_proto::state_change).collect(),
    })
}

/// One page of a customer's orders, newest first, with their lines.
pub async fn history(call: &Call, page: &HistoryPage) -> Result<proto::GetOrderHistoryResponse, ApiError> {
    let customer_id = page.customer_id.as_str();
    let found = call
        .run(async |conn| Ok(orders::history_page(conn, customer_id, page.cursor, page.page_size).await?))
        .await?;
    let (found, next_page_token) = finish_page(found, page.page_size, |last| {
        let listing = Listing::OrderHistory { customer_id };
        call.state.page_key.seal(listing, &cursor_after(&last.order))
    });
    Ok(proto::GetOrderHistoryResponse {
        orders: found.into_iter().map(to_proto::order).collect(),
        next_page_token,
    })
}

fn cursor_after(row: &OrderRow) -> OrderCursor {
    OrderCursor {
        create_time_micros: row.create_time.timestamp_micros(),
        order_id: row.id,
    }
}

/// Cancels a placed order of `customer_id` and puts its stock back, once.
pub async fn cancel(call: &Call, cancellation: &Cancellation) -> Result<proto::Order, ApiError> {
    let Cancellation {
        order_id: id,
        ref customer_id,
        ref reason,
    } = *cancellation;
    let actor = call.actor(None);
    let changed = call
        .run(async |conn| {
            conn.transaction(async |conn| {
                let order = orders::find(conn, id, true).await?;
                // Someone else's order is reported exactly like a missing one.
                let order = order
                    .filter(|o| &o.customer_id == customer_id)
                    .ok_or_else(|| order_not_found(id))?;
                let lines = orders::lines_of(conn, &[id]).await?;
                match order.state.cancel() {
                    Transition::AlreadyDone => return Ok((to_proto::order(OrderWithLines { order, lines }), false)),
                    Transition::Refused => return Err(wrong_state(&order, "ORDER_NOT_CANCELLABLE", "cancelled")),
                    Transition::Apply => {}
                }
                let mut returned: Vec<(Uuid, i32)> = lines.iter().map(|l| (l.product_id, l.quantity)).collect();
                returned.sort_unstable();
                let (ids, quantities): (Vec<Uuid>, Vec<i32>) = returned.into_iter().unzip();
                products::lock(conn, &ids).await?;
                products::change_stock(conn, &ids, &quantities)
                    .await
                    .map_err(|e| stock_limit_on_return(e, id))?;
                let order = to_proto::order(OrderWithLines {
                    order: orders::mark_cancelled(conn, id, reason).await?,
                    lines,
                });
                let change = Event::order(
                    Action::OrderCancelled,
                    id,
                    OrderState::Placed,
                    OrderState::Cancelled,
                    Some(reason),
                );
                audit::record(conn, &actor, &change, &to_event::order_cancelled(&order, &actor)).await?;
                Ok((order, true))
            })
            .await
        })
        .await?;
    committed(call, changed, "cancelled")
}

/// Ships a placed order.
pub async fn ship(call: &Call, id: Uuid) -> Result<proto::Order, ApiError> {
    let actor = call.actor(None);
    let changed = call
        .run(async |conn| {
            conn.transaction(async |conn| {
                let order = orders::find(conn, id, true).await?.ok_or_else(|| order_not_found(id))?;
                let lines = orders::lines_of(conn, &[id]).await?;
                match order.state.ship() {
                    Transition::AlreadyDone => return Ok((to_proto::order(OrderWithLines { order, lines }), false)),
                    Transition::Refused => return Err(wrong_state(&order, "ORDER_NOT_SHIPPABLE", "shipped")),
                    Transition::Apply => {}
                }
                let order = to_proto::order(OrderWithLines {
                    order: orders::mark_shipped(conn, id).await?,
                    lines,
                });
                let change = Event::order(Action::OrderShipped, id, OrderState::Placed, OrderState::Shipped, None);
                audit::record(conn, &actor, &change, &to_event::order_shipped(&order, &actor)).await?;
                Ok((order, true))
            })
            .await
        })
        .await?;
    committed(call, changed, "shipped")
}

/// After a transition's commit: wakes the relay and counts the order as
/// entering `to_state`, if this call moved it (a repeated one did not).
fn committed(
    call: &Call,
    (order, moved): (proto::Order, bool),
    to_state: &'static str,
) -> Result<proto::Order, ApiError> {
    if moved {
        call.state.outbox.ring();
        monitoring::count_order_state(to_state);
    }
    Ok(order)
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

fn wrong_state(order: &OrderRow, reason: &'static str, verb: &str) -> ApiError {
    let state = order.state.in_words();
    ApiError::FailedPrecondition {
        reason,
        message: format!("order {} is {state} and can no longer be {verb}", order.id),
        violations: vec![PreconditionViolation {
            kind: "ORDER_STATE",
            subject: format!("orders/{}", order.id),
            description: format!("the order is {state}; only a placed order can be {verb}"),
        }],
    }
}

pub fn order_not_found(id: Uuid) -> ApiError {
    ApiError::NotFound {
        reason: "ORDER_NOT_FOUND",
        resource_type: ORDER_RESOURCE,
        name: id.to_string(),
    }
}
