//! The order lifecycle: CancelOrder (stock back exactly once, idempotent,
//! owner only, refused once shipped) and ShipOrder (idempotent, refused once
//! cancelled). Races between them are in [`crate::concurrency`].

use orders::proto::{self, OrderState};
use tonic::Code;

use crate::{
    api_calls::{cancel, get_order, place_order, product_id, stock_of, try_restock},
    app::{TestApp, spawn_app},
    assertions::{assert_error, assert_invalid_fields, assert_not_found, precondition_violations, time},
};

const ORDER: &str = "orders.v1.Order";

async fn ship(app: &TestApp, order_id: &str) -> Result<proto::Order, tonic::Status> {
    let request = proto::ShipOrderRequest {
        order_id: order_id.to_owned(),
    };
    Ok(app
        .orders
        .clone()
        .ship_order(request)
        .await?
        .into_inner()
        .order
        .unwrap())
}

/// Two products (stock 10 and 5) and alice's order of 3 and 2 of them.
async fn setup(app: &TestApp) -> (String, String, proto::Order) {
    let a = product_id(app, "A", 10).await;
    let b = product_id(app, "B", 5).await;
    let order = place_order(app, "alice", &[(&a, 3), (&b, 2)]).await;
    assert_eq!((stock_of(app, &a).await, stock_of(app, &b).await), (7, 3));
    (a, b, order)
}

#[tokio::test]
async fn cancelling_puts_the_stock_back_and_records_the_reason() {
    let app = spawn_app().await;
    let (a, b, order) = setup(&app).await;
    let cancelled = cancel(&app, &order.order_id, "alice", "  changed my mind ")
        .await
        .unwrap();
    assert_eq!(cancelled.state(), OrderState::Cancelled);
    assert_eq!(cancelled.cancel_reason, "changed my mind");
    assert!(cancelled.cancel_time.is_some() && cancelled.ship_time.is_none());
    assert_eq!(cancelled.update_time, cancelled.cancel_time);
    assert!(time(cancelled.update_time) > time(order.create_time));
    assert_eq!(
        (cancelled.line_items.clone(), cancelled.total.clone()),
        (order.line_items, order.total)
    );
    assert_eq!((stock_of(&app, &a).await, stock_of(&app, &b).await), (10, 5));
    assert_eq!(get_order(&app, &order.order_id).await, cancelled);

    // Again: unchanged, and the stock is not put back twice.
    let again = cancel(&app, &order.order_id, "alice", "another reason").await.unwrap();
    assert_eq!(again, cancelled);
    assert_eq!((stock_of(&app, &a).await, stock_of(&app, &b).await), (10, 5));
}

#[tokio::test]
async fn only_the_owner_can_cancel_and_unknown_orders_are_not_found() {
    let app = spawn_app().await;
    let (a, _, order) = setup(&app).await;
    let status = cancel(&app, &order.order_id, "mallory", "").await.unwrap_err();
    assert_not_found(&status, "ORDER_NOT_FOUND", ORDER, &order.order_id);
    assert_eq!(get_order(&app, &order.order_id).await.state(), OrderState::Placed);
    assert_eq!(stock_of(&app, &a).await, 7);
    let unknown = uuid::Uuid::new_v4().to_string();
    let status = cancel(&app, &unknown, "alice", "").await.unwrap_err();
    assert_not_found(&status, "ORDER_NOT_FOUND", ORDER, &unknown);
    assert_invalid_fields(&cancel(&app, "nope", "alice", "").await.unwrap_err(), &["order_id"]);
    assert_invalid_fields(
        &cancel(&app, &order.order_id, "", "").await.unwrap_err(),
        &["customer_id"],
    );
}

#[tokio::test]
async fn the_reason_is_bounded_by_characters() {
    let app = spawn_app().await;
    let (_, _, order) = setup(&app).await;
    let status = cancel(&app, &order.order_id, "alice", &"x".repeat(501))
        .await
        .unwrap_err();
    assert_invalid_fields(&status, &["reason"]);
    assert_eq!(get_order(&app, &order.order_id).await.state(), OrderState::Placed);
    let longest = "é".repeat(500);
    let cancelled = cancel(&app, &order.order_id, "alice", &longest).await.unwrap();
    assert_eq!(cancelled.cancel_reason, longest);
}

#[tokio::test]
async fn a_shipped_order_cannot_be_cancelled() {
    let app = spawn_app().await;
    let (a, _, order) = setup(&app).await;
    let shipped = ship(&app, &order.order_id).await.unwrap();
    let status = cancel(&app, &order.order_id, "alice", "too late").await.unwrap_err();
    let details = assert_error(&status, Code::FailedPrecondition, "ORDER_NOT_CANCELLABLE");
    assert_eq!(
        precondition_violations(&details),
        [format!("ORDER_STATE orders/{}", order.order_id)]
    );
    assert_eq!(get_order(&app, &order.order_id).await, shipped);
    assert_eq!(stock_of(&app, &a).await, 7);
    // Someone else's shipped order is still just "not found".
    let status = cancel(&app, &order.order_id, "mallory", "").await.unwrap_err();
    assert_error(&status, Code::NotFound, "ORDER_NOT_FOUND");
}

#[tokio::test]
async fn shipping_is_idempotent_and_leaves_the_stock_alone() {
    let app = spawn_app().await;
    let (a, b, order) = setup(&app).await;
    let shipped = ship(&app, &order.order_id).await.unwrap();
    assert_eq!(shipped.state(), OrderState::Shipped);
    assert!(shipped.ship_time.is_some() && shipped.cancel_time.is_none());
    assert_eq!(shipped.update_time, shipped.ship_time);
    assert_eq!(shipped.line_items, order.line_items);
    assert_eq!(ship(&app, &order.order_id).await.unwrap(), shipped, "again: unchanged");
    assert_eq!(get_order(&app, &order.order_id).await, shipped);
    assert_eq!((stock_of(&app, &a).await, stock_of(&app, &b).await), (7, 3));
}

#[tokio::test]
async fn a_cancelled_or_unknown_order_cannot_be_shipped() {
    let app = spawn_app().await;
    let (_, _, order) = setup(&app).await;
    let cancelled = cancel(&app, &order.order_id, "alice", "").await.unwrap();
    let status = ship(&app, &order.order_id).await.unwrap_err();
    let details = assert_error(&status, Code::FailedPrecondition, "ORDER_NOT_SHIPPABLE");
    assert_eq!(
        precondition_violations(&details),
        [format!("ORDER_STATE orders/{}", order.order_id)]
    );
    assert_eq!(get_order(&app, &order.order_id).await, cancelled);
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_not_found(
        &ship(&app, &unknown).await.unwrap_err(),
        "ORDER_NOT_FOUND",
        ORDER,
        &unknown,
    );
    assert_invalid_fields(&ship(&app, "42").await.unwrap_err(), &["order_id"]);
}

#[tokio::test]
async fn cancelling_when_the_stock_is_at_its_limit_is_a_failed_precondition() {
    let app = spawn_app().await;
    let a = product_id(&app, "A", 10).await;
    let order = place_order(&app, "alice", &[(&a, 5)]).await;
    try_restock(&app, &a, 999_999_995, "").await.unwrap();
    assert_eq!(stock_of(&app, &a).await, 1_000_000_000);
    let status = cancel(&app, &order.order_id, "alice", "").await.unwrap_err();
    let details = assert_error(&status, Code::FailedPrecondition, "STOCK_LIMIT_EXCEEDED");
    assert_eq!(
        precondition_violations(&details),
        [format!("STOCK orders/{}", order.order_id)]
    );
    assert_eq!(get_order(&app, &order.order_id).await, order, "still placed, unchanged");
    assert_eq!(stock_of(&app, &a).await, 1_000_000_000);
}
