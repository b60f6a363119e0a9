//! Order actions: read, list (a customer's history, the warehouse's pick
//! list), cancel and ship (placing is in [`super::place`]; the payment
//! saga's changes in [`super::saga`]).
//!
//! Locking order, the same everywhere, so that no two transactions can wait
//! on each other in a cycle: an existing order's row first (cancel, ship),
//! then its products in ascending id order. Placing an order locks only
//! products (ascending), and its new order row is invisible to others.
//! Taking the order's lock before any write also keeps its events in
//! commit order ([`crate::db::outbox`]).

use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::{Call, order_lock, to_event, to_proto};
use crate::{
    db::{
        audit::{self, Action, Event},
        order_payments,
        orders::{self, OrderRow, OrderWithLines},
        pick_list,
    },
    domain::{
        order::{Cancellation, ORDER_RESOURCE},
        page::{Listing, OrderCursor, finish_page},
        reads::{HistoryPage, StatePage},
        state::{OrderState, Transition},
    },
    error::{ApiError, PreconditionViolation},
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
            let (order, lines, history, payment) = futures_util::future::try_join4(
                orders::find(conn, id, false),
                orders::lines_of(conn, &[id]),
                audit::order_history(conn, id),
                order_payments::find(conn, id),
            )
            .await?;
            let order = order
                .filter(|order| call.caller.may_see(&order.customer_id))
                .ok_or_else(|| order_not_found(id))?;
            Ok((OrderWithLines { order, lines, payment }, history))
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

/// One page of the orders in one state, oldest first, with their lines.
pub async fn list(call: &Call, page: &StatePage) -> Result<proto::ListOrdersResponse, ApiError> {
    let found = call
        .run(async |conn| Ok(pick_list::state_page(conn, page.state, page.cursor, page.page_size).await?))
        .await?;
    let (found, next_page_token) = finish_page(found, page.page_size, |last| {
        let listing = Listing::OrdersInState {
            state: page.state.as_db(),
        };
        call.state.page_key.seal(listing, &cursor_after(&last.order))
    });
    Ok(proto::ListOrdersResponse {
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

/// Cancels a placed or paid order of `customer_id`: its stock back, its
/// card payment (if any) released or refunded afterwards, once.
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
                let locked = order_lock::lock(conn, id).await?;
                // Someone else's order is reported exactly like a missing one.
                let locked = locked
                    .filter(|o| &o.order.customer_id == customer_id)
                    .ok_or_else(|| order_not_found(id))?;
                match locked.order.state.cancel() {
                    Transition::Apply => Ok((order_lock::cancel(conn, locked, reason, &actor).await?, true)),
                    Transition::AlreadyDone => Ok((locked.to_proto(), false)),
                    Transition::Refused | Transition::Unpaid => {
                        Err(wrong_state(&locked.order, "ORDER_NOT_CANCELLABLE", "cancelled"))
                    }
                }
            })
            .await
        })
        .await?;
    committed(call, changed, "cancelled")
}

/// Ships a paid order, or a placed one paid on delivery.
pub async fn ship(call: &Call, id: Uuid) -> Result<proto::Order, ApiError> {
    let actor = call.actor(None);
    let changed = call
        .run(async |conn| {
            conn.transaction(async |conn| {
                let locked = order_lock::lock(conn, id).await?.ok_or_else(|| order_not_found(id))?;
                match locked.order.state.ship(locked.by_card()) {
                    Transition::Apply => {}
                    Transition::AlreadyDone => return Ok((locked.to_proto(), false)),
                    Transition::Refused => return Err(wrong_state(&locked.order, "ORDER_NOT_SHIPPABLE", "shipped")),
                    Transition::Unpaid => return Err(not_paid(&locked.order)),
                }
                let from = locked.order.state;
                let order = to_proto::order(OrderWithLines {
                    order: orders::mark_shipped(conn, id).await?,
                    lines: locked.lines,
                    payment: locked.payment,
                });
                let change = Event::order(Action::OrderShipped, id, from, OrderState::Shipped, None);
                audit::record(conn, &actor, &change, &to_event::order_shipped(&order, &actor, from)).await?;
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

/// Shipping an order paid by card before its payment came in.
fn not_paid(order: &OrderRow) -> ApiError {
    ApiError::FailedPrecondition {
        reason: "ORDER_NOT_PAID",
        message: format!(
            "order {} is paid by card and its payment has not come in yet; only a paid order can be shipped",
            order.id
        ),
        violations: vec![PreconditionViolation {
            kind: "ORDER_STATE",
            subject: format!("orders/{}", order.id),
            description: "the order is placed and waits for its card payment".to_owned(),
        }],
    }
}

fn wrong_state(order: &OrderRow, reason: &'static str, verb: &str) -> ApiError {
    let state = order.state.in_words();
    ApiError::FailedPrecondition {
        reason,
        message: format!("order {} is {state} and can no longer be {verb}", order.id),
        violations: vec![PreconditionViolation {
            kind: "ORDER_STATE",
            subject: format!("orders/{}", order.id),
            description: format!("the order is {state}; only a placed or paid order can be {verb}"),
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
