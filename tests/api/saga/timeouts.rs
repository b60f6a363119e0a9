//! An order whose payment does not come in time is cancelled; a payment
//! that succeeds after that is given back: money is never kept for an
//! order that will not ship.

use std::time::Duration;

use orders::proto::{OrderState::*, PaymentStatus};

use super::{history, spawn_paying_shop};
use crate::api_calls::stock_of;

#[tokio::test]
async fn an_order_unpaid_after_the_timeout_is_cancelled_and_its_stock_comes_back() {
    let shop = spawn_paying_shop(|s| {
        s.payments.payment_timeout = Duration::from_secs(1);
        s.payments.payment_processor_unavailable = true;
    })
    .await;
    let mug = shop.mug(10).await;
    let placed = shop.place(&mug, 4, "pm_card_visa").await;
    let cancelled = shop
        .wait_for(&placed.order_id, Cancelled, PaymentStatus::Released)
        .await;
    assert_eq!(cancelled.order.clone().unwrap().cancel_reason, "PAYMENT_TIMEOUT");
    assert_eq!(stock_of(&shop.app, &mug).await, 10);
    assert!(shop.ledger(&placed.order_id).await.is_empty(), "nothing was ever held");
    assert_eq!(
        history(&cancelled),
        vec![
            (Unspecified, Placed, String::new(), "none".to_owned()),
            (Placed, Cancelled, "PAYMENT_TIMEOUT".to_owned(), "system".to_owned()),
            (Cancelled, Cancelled, "PAYMENT_RELEASED".to_owned(), "system".to_owned()),
        ]
    );
    assert_eq!(
        shop.order_events(&placed.order_id, 2).await,
        vec!["OrderPlaced", "OrderCancelled",]
    );
}

#[tokio::test]
async fn a_payment_that_succeeds_after_the_timeout_is_refunded_automatically() {
    // Each processor call takes 2 s: the authorization comes at 2 s, the
    // capture at 4 s; the order times out at 3 s, in between, and the
    // release its settling asks for comes after the capture began, so the
    // payment service refuses it: the money is taken, then refunded.
    let shop = spawn_paying_shop(|s| {
        s.payments.payment_timeout = Duration::from_secs(3);
        s.payments.payment_processor_delay = Duration::from_secs(2);
    })
    .await;
    let mug = shop.mug(10).await;
    let placed = shop.place(&mug, 1, "pm_card_visa").await;
    let cancelled = shop
        .wait_for(&placed.order_id, Cancelled, PaymentStatus::Refunded)
        .await;
    assert_eq!(cancelled.order.clone().unwrap().cancel_reason, "PAYMENT_TIMEOUT");
    assert_eq!(stock_of(&shop.app, &mug).await, 10);
    assert_eq!(
        shop.ledger(&placed.order_id).await,
        vec![
            ("MOVEMENT_KIND_AUTHORIZED".to_owned(), 12, 500_000_000),
            ("MOVEMENT_KIND_CAPTURED".to_owned(), 12, 500_000_000),
            ("MOVEMENT_KIND_REFUNDED".to_owned(), 12, 500_000_000),
        ]
    );
    assert_eq!(
        shop.order_events(&placed.order_id, 3).await,
        vec!["OrderPlaced", "OrderCancelled", "OrderRefunded",]
    );
}
