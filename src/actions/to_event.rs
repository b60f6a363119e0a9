//! Changes → the events they publish (`proto/orders/v1/events.proto`).
//!
//! Each action that changes something builds its event from the API
//! message it answers with, so an event says exactly what the caller was
//! told, and stores it with the audit row in the same transaction
//! ([`crate::db::audit::Outgoing`]). The relay publishes it later, as is.

use prost::Message;
use uuid::Uuid;

use super::to_proto;
use crate::{
    db::audit::{Actor, Outgoing},
    domain::{payment::PAYMENT_REFUNDED, state::OrderState},
    proto,
};

/// The order events have the same fields: the event's id and time, the
/// order after the change, and the history entry the change records (by
/// default at the order's `update_time`, with its `cancel_reason`).
macro_rules! order_event {
    ($message:ident, $order:expr, $actor:expr, $from:expr) => {{
        let order: &proto::Order = $order;
        order_event!($message, order, $actor, $from, order.update_time, &order.cancel_reason)
    }};
    ($message:ident, $order:expr, $actor:expr, $from:expr, $time:expr, $reason:expr) => {{
        let (order, actor): (&proto::Order, &Actor) = ($order, $actor);
        let state_change = Some(state_change(order, actor, $from, $time, $reason));
        encoded(Uuid::now_v7(), |event_id| proto::$message {
            event_id,
            event_time: $time,
            order: Some(order.clone()),
            state_change,
        })
    }};
}

/// `OrderPlaced` for an order as placed.
pub fn order_placed(order: &proto::Order, actor: &Actor) -> Outgoing {
    order_event!(OrderPlaced, order, actor, proto::OrderState::Unspecified)
}

/// `OrderCancelled` for an order just cancelled from state `from`.
pub fn order_cancelled(order: &proto::Order, actor: &Actor, from: OrderState) -> Outgoing {
    order_event!(OrderCancelled, order, actor, from.into())
}

/// `OrderShipped` for an order just shipped from state `from`.
pub fn order_shipped(order: &proto::Order, actor: &Actor, from: OrderState) -> Outgoing {
    order_event!(OrderShipped, order, actor, from.into())
}

/// `OrderPaid` for an order just paid.
pub fn order_paid(order: &proto::Order, actor: &Actor) -> Outgoing {
    order_event!(OrderPaid, order, actor, proto::OrderState::Placed)
}

/// `OrderRefunded` for a cancelled order whose payment was just given back,
/// at the time the refund was recorded.
pub fn order_refunded(order: &proto::Order, actor: &Actor) -> Outgoing {
    let refund_time = order.payment.as_ref().and_then(|p| p.update_time);
    let cancelled = proto::OrderState::Cancelled;
    order_event!(OrderRefunded, order, actor, cancelled, refund_time, PAYMENT_REFUNDED)
}

/// `ProductCreated` for a product as created.
pub fn product_created(product: &proto::Product, actor: &Actor) -> Outgoing {
    let event_time = product.update_time;
    encoded(Uuid::now_v7(), |event_id| proto::ProductCreated {
        event_id,
        event_time,
        product: Some(product.clone()),
        actor: Some(api_actor(actor)),
    })
}

/// `ProductRestocked` for a product after `quantity_added` more units.
pub fn product_restocked(product: &proto::Product, quantity_added: i64, actor: &Actor) -> Outgoing {
    let event_time = product.update_time;
    encoded(Uuid::now_v7(), |event_id| proto::ProductRestocked {
        event_id,
        event_time,
        product: Some(product.clone()),
        quantity_added,
        actor: Some(api_actor(actor)),
    })
}

/// `ProductUpdated`: `product` after the change, `previous` before it,
/// `changed_fields` the paths whose values differ.
pub fn product_updated(
    product: &proto::Product,
    previous: &proto::Product,
    changed_fields: &[&str],
    actor: &Actor,
) -> Outgoing {
    let event_time = product.update_time;
    encoded(Uuid::now_v7(), |event_id| proto::ProductUpdated {
        event_id,
        event_time,
        product: Some(product.clone()),
        previous: Some(previous.clone()),
        changed_fields: Some(prost_types::FieldMask {
            paths: changed_fields.iter().map(|f| (*f).to_owned()).collect(),
        }),
        actor: Some(api_actor(actor)),
    })
}

/// `ProductArchived` or `ProductUnarchived`, by where `product` is now.
pub fn product_archive_changed(product: &proto::Product, actor: &Actor) -> Outgoing {
    let (event_time, product_now, actor) = (product.update_time, Some(product.clone()), Some(api_actor(actor)));
    match product.archive_time {
        Some(_) => encoded(Uuid::now_v7(), |event_id| proto::ProductArchived {
            event_id,
            event_time,
            product: product_now,
            actor,
        }),
        None => encoded(Uuid::now_v7(), |event_id| proto::ProductUnarchived {
            event_id,
            event_time,
            product: product_now,
            actor,
        }),
    }
}

/// The history entry of a change that left `order` as it is, at the time
/// of the change (the order's `update_time`, set by its own transaction).
fn state_change(
    order: &proto::Order,
    actor: &Actor,
    from: proto::OrderState,
    time: Option<prost_types::Timestamp>,
    reason: &str,
) -> proto::OrderStateChange {
    proto::OrderStateChange {
        from_state: from.into(),
        to_state: order.state,
        change_time: time,
        actor: Some(api_actor(actor)),
        reason: reason.to_owned(),
    }
}

fn api_actor(actor: &Actor) -> proto::Actor {
    proto::Actor {
        subject: actor.subject.clone(),
        role: actor.role.to_owned(),
    }
}

fn encoded<M: Message>(event_id: Uuid, message: impl FnOnce(String) -> M) -> Outgoing {
    let payload = message(to_proto::id(event_id)).encode_to_vec();
    Outgoing { event_id, payload }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor() -> Actor {
        Actor {
            subject: "clerk-7".into(),
            role: "warehouse",
            request_id: "r-1".into(),
        }
    }

    fn shipped_order() -> proto::Order {
        let time = Some(prost_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: 5,
        });
        proto::Order {
            order_id: "0190a1b2-0000-7000-8000-000000000001".into(),
            customer_id: "ada".into(),
            state: proto::OrderState::Shipped.into(),
            update_time: time,
            ship_time: time,
            ..Default::default()
        }
    }

    #[test]
    fn an_order_event_carries_the_order_and_its_history_entry() {
        let order = shipped_order();
        let outgoing = order_shipped(&order, &actor(), OrderState::Placed);
        let event = proto::OrderShipped::decode(&outgoing.payload[..]).unwrap();
        assert_eq!(event.event_id, outgoing.event_id.to_string());
        assert_eq!(event.event_time, order.update_time);
        assert_eq!(event.order.as_ref(), Some(&order));
        let change = event.state_change.unwrap();
        assert_eq!(change.from_state(), proto::OrderState::Placed);
        assert_eq!(change.to_state(), proto::OrderState::Shipped);
        assert_eq!(change.change_time, order.update_time);
        let actor = change.actor.unwrap();
        assert_eq!((actor.subject.as_str(), actor.role.as_str()), ("clerk-7", "warehouse"));
    }

    #[test]
    fn every_event_gets_an_id_of_its_own() {
        let order = shipped_order();
        let first = order_shipped(&order, &actor(), OrderState::Placed);
        let second = order_shipped(&order, &actor(), OrderState::Placed);
        assert_ne!(first.event_id, second.event_id);
    }
}
