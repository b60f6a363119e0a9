//! The paths of an order paid by card, and of one paid on delivery.

use orders::proto::{OrderState::*, PaymentStatus};
use tonic::Code;

use super::{history, short, spawn_paying_shop};
use crate::{api_calls::stock_of, assertions::assert_error};

#[tokio::test]
async fn a_card_that_works_pays_the_order_which_then_ships() {
    let shop = spawn_paying_shop(|_| {}).await;
    let mug = shop.mug(10).await;
    let placed = shop.place(&mug, 2, "pm_card_visa").await;
    assert_eq!(placed.state(), Placed);
    let payment = placed.payment.clone().expect("a card payment");
    assert_eq!(
        (payment.payment_method.as_str(), payment.status()),
        ("pm_card_visa", PaymentStatus::Pending)
    );

    let paid = shop.wait_for(&placed.order_id, Paid, PaymentStatus::Captured).await;
    let order = paid.order.clone().unwrap();
    let payment = order.payment.clone().unwrap();
    assert!(!payment.payment_id.is_empty());
    assert_eq!(stock_of(&shop.app, &mug).await, 8);
    assert_eq!(
        history(&paid),
        vec![
            (Unspecified, Placed, String::new(), "none".to_owned()),
            (Placed, Placed, "PAYMENT_AUTHORIZED".to_owned(), "system".to_owned()),
            (Placed, Paid, String::new(), "system".to_owned()),
        ]
    );
    // 2 × 12.50 EUR, held and then taken, once.
    assert_eq!(
        shop.ledger(&placed.order_id).await,
        vec![
            ("MOVEMENT_KIND_AUTHORIZED".to_owned(), 25, 0),
            ("MOVEMENT_KIND_CAPTURED".to_owned(), 25, 0)
        ]
    );
    let payments = shop.payments_of(&placed.order_id).await;
    assert_eq!(payments[0].payment_id, payment.payment_id);
    // Paid: its timeout job is gone, and the charge job done.
    let jobs = "SELECT count(*) AS n FROM jobs WHERE kind IN ('charge_order', 'payment_timeout')";
    crate::timing::eventually(10, "the charge job recorded", || async {
        crate::direct_sql::query_n(&shop.app, &format!("{jobs} AND state = 'succeeded'")).await == 1
    })
    .await;
    assert_eq!(
        crate::direct_sql::query_n(&shop.app, jobs).await,
        1,
        "only the charge job is left"
    );

    let shipped = shop.ship(&placed.order_id).await.unwrap();
    assert_eq!(shipped.state(), Shipped);
    assert_eq!(
        shop.order_events(&placed.order_id, 3).await,
        vec!["OrderPlaced", "OrderPaid", "OrderShipped",]
    );
    assert_eq!(
        shop.email_subjects(3).await,
        vec![
            format!("Your order {} is confirmed", short(&placed)),
            format!("We received your payment for order {}", short(&placed)),
            format!("Your order {} is on its way", short(&placed)),
        ]
    );
}

#[tokio::test]
async fn a_declined_card_cancels_the_order_and_puts_its_stock_back_once() {
    let shop = spawn_paying_shop(|_| {}).await;
    let mug = shop.mug(10).await;
    for (method, code) in [
        ("pm_card_chargeDeclined", "card_declined"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ] {
        let placed = shop.place(&mug, 3, method).await;
        let cancelled = shop
            .wait_for(&placed.order_id, Cancelled, PaymentStatus::Declined)
            .await;
        let order = cancelled.order.clone().unwrap();
        assert_eq!(order.cancel_reason, "PAYMENT_DECLINED");
        assert_eq!(order.payment.unwrap().decline_code, code);
        assert_eq!(
            history(&cancelled),
            vec![
                (Unspecified, Placed, String::new(), "none".to_owned()),
                (Placed, Cancelled, "PAYMENT_DECLINED".to_owned(), "system".to_owned()),
            ]
        );
        assert_eq!(
            shop.ledger(&placed.order_id).await,
            vec![("MOVEMENT_KIND_FAILED".to_owned(), 37, 500_000_000)]
        );
        assert_eq!(
            shop.order_events(&placed.order_id, 2).await,
            vec!["OrderPlaced", "OrderCancelled",]
        );
    }
    assert_eq!(stock_of(&shop.app, &mug).await, 10);
    let subjects = shop.email_subjects(4).await;
    assert_eq!(subjects.iter().filter(|s| s.ends_with("was cancelled")).count(), 2);
}

#[tokio::test]
async fn an_order_without_a_payment_method_is_paid_on_delivery_and_ships_from_placed() {
    let shop = spawn_paying_shop(|_| {}).await;
    let mug = shop.mug(10).await;
    let placed = shop.place(&mug, 1, "").await;
    assert_eq!((placed.state(), placed.payment.clone()), (Placed, None));
    let shipped = shop.ship(&placed.order_id).await.unwrap();
    assert_eq!((shipped.state(), shipped.payment), (Shipped, None));
    assert!(shop.payments_of(&placed.order_id).await.is_empty());
    assert_eq!(stock_of(&shop.app, &mug).await, 9);
}

#[tokio::test]
async fn an_order_paid_by_card_does_not_ship_before_its_payment_comes_in() {
    // A slow processor keeps the payment pending long enough to try.
    let shop = spawn_paying_shop(|s| s.payments.payment_processor_delay = std::time::Duration::from_secs(3)).await;
    let mug = shop.mug(10).await;
    let placed = shop.place(&mug, 1, "pm_card_mastercard").await;
    let refused = shop.ship(&placed.order_id).await.unwrap_err();
    assert_error(&refused, Code::FailedPrecondition, "ORDER_NOT_PAID");
    shop.wait_for(&placed.order_id, Paid, PaymentStatus::Captured).await;
    let shipped = shop.ship(&placed.order_id).await.unwrap();
    assert_eq!(shipped.state(), Shipped);
}

#[tokio::test]
async fn a_card_number_is_refused_and_never_stored() {
    let shop = spawn_paying_shop(|_| {}).await;
    let mug = shop.mug(10).await;
    let mut request = crate::requests::order_request("ada", &[(&mug, 1)]);
    request.payment_method = "4242424242424242".to_owned();
    let refused = shop.app.orders.clone().create_order(request).await.unwrap_err();
    let details = assert_error(&refused, Code::InvalidArgument, "CARD_NUMBER_REFUSED");
    assert!(!refused.message().contains("4242") && !format!("{details:?}").contains("4242"));
    assert_eq!(crate::direct_sql::count_rows(&shop.app, "orders").await, 0);
}
