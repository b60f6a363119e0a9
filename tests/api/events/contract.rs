//! What each event carries, on which subject and with which headers: the
//! contract of `proto/orders/v1/events.proto` as a consumer sees it.

use orders::proto::{self, OrderState};

use crate::{
    api_calls::{cancel, create_product, place_order},
    app::spawn_app_with,
    nats::{Published, TestEvents},
    requests::request_id,
};

#[tokio::test]
async fn placing_cancelling_and_shipping_publish_one_event_each_in_order() {
    let events = TestEvents::new().await;
    let app = spawn_app_with(|s| events.configure(s)).await;
    let mug = create_product(&app, "MUG", (12, 500_000_000, "EUR"), 10).await;
    let cancelled = place_order(&app, "ada", &[(&mug.product_id, 2)]).await;
    let shipped = place_order(&app, "grace", &[(&mug.product_id, 3)]).await;
    cancel(&app, &cancelled.order_id, "ada", "changed my mind")
        .await
        .unwrap();
    let ship = proto::ShipOrderRequest {
        order_id: shipped.order_id.clone(),
    };
    app.orders.clone().ship_order(ship).await.unwrap();

    let published = events.wait_for(5, 10).await;
    let kinds: Vec<(&str, &str)> = published
        .iter()
        .map(|e| (e.subject.as_str(), e.event_type.as_str()))
        .collect();
    let subject = |suffix: &str| format!("{}.{suffix}", events.prefix);
    assert_eq!(
        kinds
            .iter()
            .map(|(s, t)| (s.to_string(), t.to_string()))
            .collect::<Vec<_>>(),
        vec![
            (subject("product.created"), "orders.v1.ProductCreated".to_owned()),
            (subject("order.placed"), "orders.v1.OrderPlaced".to_owned()),
            (subject("order.placed"), "orders.v1.OrderPlaced".to_owned()),
            (subject("order.cancelled"), "orders.v1.OrderCancelled".to_owned()),
            (subject("order.shipped"), "orders.v1.OrderShipped".to_owned()),
        ]
    );
    assert_placed(&published[1], &cancelled);
    assert_cancelled(&published[3], &cancelled.order_id);
    assert_eq!(published[4].order().state(), OrderState::Shipped);
    assert_eq!(published[4].order().order_id, shipped.order_id);
    events.delete().await;
}

/// `OrderPlaced` is the order exactly as CreateOrder answered, with the
/// history entry of its creation and the `Nats-Msg-Id` of its event id.
fn assert_placed(event: &Published, answered: &proto::Order) {
    let placed: proto::OrderPlaced = event.decode();
    assert_eq!(placed.event_id, event.message_id);
    assert!(uuid::Uuid::parse_str(&placed.event_id).is_ok(), "{}", placed.event_id);
    assert_eq!(placed.order.as_ref(), Some(answered));
    assert_eq!(placed.event_time, answered.create_time);
    let change = placed.state_change.expect("the history entry");
    assert_eq!(
        (change.from_state(), change.to_state()),
        (OrderState::Unspecified, OrderState::Placed)
    );
    let actor = change.actor.expect("who placed it");
    assert_eq!((actor.subject.as_str(), actor.role.as_str()), ("anonymous", "none"));
    let order = placed.order.unwrap();
    assert_eq!(order.line_items.len(), 1);
    assert_eq!(order.line_items[0].quantity, 2);
    assert_eq!(order.total.map(|t| (t.units, t.nanos)), Some((25, 0)));
}

fn assert_cancelled(event: &Published, order_id: &str) {
    let cancelled: proto::OrderCancelled = event.decode();
    assert_eq!(cancelled.event_id, event.message_id);
    let order = cancelled.order.expect("the order");
    assert_eq!(
        (order.order_id.as_str(), order.state()),
        (order_id, OrderState::Cancelled)
    );
    assert_eq!(order.cancel_reason, "changed my mind");
    assert_eq!(order.line_items.len(), 1, "the event carries the lines");
    let change = cancelled.state_change.expect("the history entry");
    assert_eq!(
        (change.from_state(), change.to_state()),
        (OrderState::Placed, OrderState::Cancelled)
    );
    assert_eq!(change.reason, "changed my mind");
    assert_eq!(cancelled.event_time, order.cancel_time);
}

#[tokio::test]
async fn product_events_carry_the_product_and_the_units_added() {
    let events = TestEvents::new().await;
    let app = spawn_app_with(|s| events.configure(s)).await;
    let mug = create_product(&app, "MUG", (3, 0, "EUR"), 4).await;
    let restock = proto::RestockProductRequest {
        product_id: mug.product_id.clone(),
        quantity: 6,
        request_id: request_id(),
    };
    app.catalog.clone().restock_product(restock).await.unwrap();

    let published = events.wait_for(2, 10).await;
    let created: proto::ProductCreated = published[0].decode();
    assert_eq!(created.product.as_ref(), Some(&mug));
    let restocked: proto::ProductRestocked = published[1].decode();
    assert_eq!(restocked.quantity_added, 6);
    assert_eq!(restocked.product.map(|p| p.stock), Some(10));
    assert_eq!(published.len(), 2);
    events.delete().await;
}
